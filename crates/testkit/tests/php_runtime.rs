//! The `php7.2` runtime through the real server, on Debian's PHP CLI (`scripts/setup-sdks` installs it):
//! sync and async invokes, the context and `fcLogger` with Tail logs, the initializer once per instance,
//! instance reuse, FC's errors, timeouts, crashes, PHP's memory limit and HTTP triggers.

use ferric_testkit::functions::{add_http_trigger, async_invocation_succeeds, invoke, tail, text};
use ferric_testkit::{zip_of, TestServer};
use serde_json::{json, Value};

async fn php_function(server: &TestServer, code: &str, extra: Value) -> String {
    let zip = zip_of(&[("index.php", code)]);
    ferric_testkit::functions::create_function(server, "php", json!({}), "php7.2", "index.handler", &zip, extra).await
}

const ECHO: &str = r#"<?php
$GLOBALS['loads'] = ($GLOBALS['loads'] ?? 0) + 1;
$GLOBALS['instance'] = bin2hex(random_bytes(8));
function initializer($context) {
    $GLOBALS['inits'] = ($GLOBALS['inits'] ?? 0) + 1;
    $GLOBALS['fcLogger']->info('initializing ' . $context['function']['name']);
}
function handler($event, $context) {
    static $calls = 0;
    $calls++;
    $GLOBALS['fcLogger']->info('got ' . strlen($event) . ' bytes');
    echo "echoed\n";
    return json_encode(['event' => $event, 'requestId' => $context['requestId'], 'fn' => $context['function']['name'],
        'service' => $context['service']['name'], 'calls' => $calls, 'inits' => $GLOBALS['inits'] ?? 0,
        'loads' => $GLOBALS['loads'], 'pid' => $GLOBALS['instance'], 'ak' => $context['credentials']['accessKeyId'] ?? null]);
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn php_answers_with_context_logs_and_one_initializer_per_reused_instance() {
    let server = TestServer::start().await;
    let svc = php_function(&server, ECHO, json!({"initializer": "index.initializer"})).await;
    let first = invoke(&server, &svc, b"hello", &[("x-fc-log-type", "Tail")]).await;
    assert_eq!(first.status, 200, "{}", text(&first));
    assert!(first.header("x-fc-error-type").is_none(), "{}", text(&first));
    let body: Value = serde_json::from_slice(&first.body).unwrap_or_else(|e| panic!("{e}: {}", text(&first)));
    let rid = first.header("x-fc-request-id").expect("rid");
    assert_eq!((body["event"].as_str(), body["requestId"].as_str()), (Some("hello"), Some(rid)));
    assert_eq!((body["fn"].as_str(), body["service"].as_str()), (Some("f"), Some(svc.as_str())));
    assert!(body["ak"].is_string());
    let log = tail(&first);
    assert!(log.contains(&format!("FC Initialize Start RequestId: {rid}")), "{log}");
    assert!(log.contains(&format!("{rid} [INFO] got 5 bytes")), "{log}");
    assert!(log.contains("[INFO] initializing f") && log.contains("echoed\n"), "{log}");
    assert!(log.contains(&format!("FC Invoke End RequestId: {rid}")), "{log}");

    let second = invoke(&server, &svc, b"again", &[]).await;
    let again: Value = serde_json::from_slice(&second.body).expect("json");
    assert_eq!(again["pid"], body["pid"], "the instance's PHP process is reused");
    assert_eq!(
        (again["calls"].as_u64(), again["inits"].as_u64(), again["loads"].as_u64()),
        (Some(2), Some(1), Some(1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn php_errors_timeouts_crashes_and_the_memory_limit() {
    let server = TestServer::start().await;
    // PIDs repeat across instances (each has its own PID namespace): a random id tells instances apart.
    let code = r#"<?php
$GLOBALS['instance'] = bin2hex(random_bytes(8));
function handler($event, $context) {
    switch ($event) {
        case 'throw': throw new RuntimeException('php boom');
        case 'exit': exit(3);
        case 'sleep': sleep(5); return 'late';
        case 'memory': $a = []; while (true) { $a[] = str_repeat('x', 1 << 20); }
        default: return 'fine:' . $GLOBALS['instance'];
    }
}
"#;
    let svc = php_function(&server, code, json!({"timeout": 1, "memorySize": 128})).await;
    let r = invoke(&server, &svc, b"throw", &[("x-fc-log-type", "Tail")]).await;
    assert_eq!((r.status, r.header("x-fc-error-type")), (200, Some("UnhandledInvocationError")));
    let error: Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(
        (error["errorMessage"].as_str(), error["errorType"].as_str()),
        (Some("php boom"), Some("RuntimeException"))
    );
    assert!(error["stackTrace"].as_array().is_some_and(|t| !t.is_empty()), "{error}");
    assert!(tail(&r).contains("[ERROR] {\"errorMessage\":\"php boom\""), "{}", tail(&r));
    let fine = text(&invoke(&server, &svc, b"ok", &[]).await);
    assert!(fine.starts_with("fine:"), "{fine}");

    let r = invoke(&server, &svc, b"exit", &[]).await;
    assert_eq!(r.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    assert!(text(&r).contains("Process exited unexpectedly before completing request"), "{}", text(&r));
    let after = text(&invoke(&server, &svc, b"ok", &[]).await);
    assert!(after.starts_with("fine:") && after != fine, "a fresh instance after the crash: {after} vs {fine}");

    let r = invoke(&server, &svc, b"sleep", &[]).await;
    assert!(text(&r).contains("Function timed out after 1 seconds"), "{}", text(&r));

    let r = invoke(&server, &svc, b"memory", &[("x-fc-log-type", "Tail")]).await;
    assert_eq!(r.header("x-fc-error-type"), Some("UnhandledInvocationError"), "{}", text(&r));
    assert!(text(&r).contains("Process exited unexpectedly"), "{}", text(&r));
    assert!(tail(&r).contains("PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted"), "{}", tail(&r));
    assert!(text(&invoke(&server, &svc, b"ok", &[]).await).starts_with("fine:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn php_async_invocations_run() {
    let server = TestServer::start().await;
    let svc = php_function(&server, ECHO, json!({})).await;
    async_invocation_succeeds(&server, &svc, "later").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn php_http_functions_get_a_psr7_request_and_answer_with_a_response() {
    let server = TestServer::start().await;
    let code = r#"<?php
use RingCentral\Psr7\Response;
function handler($request, $context) {
    $body = json_encode(['method' => $request->getMethod(), 'path' => $request->getAttribute('path'),
        'queries' => $request->getQueryParams(), 'body' => $request->getBody()->getContents(),
        'custom' => $request->getHeaderLine('X-Custom'), 'requestId' => $context['requestId']]);
    return new Response(202, ['Content-Type' => 'application/json', 'X-Echo' => 'yes'], $body);
}
"#;
    let svc = php_function(&server, code, json!({})).await;
    add_http_trigger(&server, &svc).await;
    let r = reqwest::Client::new()
        .post(format!("{}/2016-08-15/proxy/{svc}/f/a%20b/c?x=1&y=2", server.endpoint))
        .header("x-custom", "hi")
        .body("posted")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 202);
    assert_eq!(r.headers().get("x-echo").and_then(|v| v.to_str().ok()), Some("yes"));
    let rid = r.headers().get("x-fc-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["method"], "POST");
    assert_eq!(body["path"], "/a b/c");
    assert_eq!(body["queries"], json!({"x": "1", "y": "2"}));
    assert_eq!((body["body"].as_str(), body["custom"].as_str()), (Some("posted"), Some("hi")));
    assert_eq!(body["requestId"].as_str(), rid.as_deref());
}

/// A PHP function is confined like the others: no host secrets, no data directory, a read-only code
/// directory, a writable `/tmp` only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn php_functions_are_sandboxed() {
    let server = TestServer::start().await;
    let code = r#"<?php
function handler($event, $context) {
    return json_encode([
        'shadow' => @file_get_contents('/etc/shadow') !== false,
        'data' => file_exists($event),
        'code' => @file_put_contents(getcwd() . '/x', 'y') !== false,
        'usr' => @file_put_contents('/usr/x', 'y') !== false,
        'tmp' => file_put_contents('/tmp/x', 'y') === 1,
    ]);
}
"#;
    let svc = php_function(&server, code, json!({})).await;
    let data_dir = server.data_dir().display().to_string();
    let r = invoke(&server, &svc, data_dir.as_bytes(), &[]).await;
    let got: Value = serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {}", text(&r)));
    assert_eq!(got, json!({"shadow": false, "data": false, "code": false, "usr": false, "tmp": true}));
}
