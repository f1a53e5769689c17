//! FC's custom runtime through the real server and sandbox: the package's own HTTP server (a shell
//! bootstrap running Python's http.server, and a Go program built here) answering events, the
//! initializer, HTTP triggers, async invocations; reuse, timeouts, crashes, errors, logs with Tail; and a
//! runtime that pulls its work from FC's runtime API.

use std::time::Duration;

use base64::Engine;
use ferric_client::Response;
use ferric_testkit::{unique, zip_with_modes, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

const SERVER_PY: &str = include_str!("custom/server.py");
const PULL_PY: &str = include_str!("custom/pull.py");
const MAIN_GO: &str = include_str!("custom/main.go");
const SHELL_BOOTSTRAP: &str = "#!/bin/bash\nexec python3 server.py\n";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn function(server: &TestServer, files: &[(&str, &[u8], u32)], extra: Value) -> String {
    let client = server.client();
    let svc = unique("custom");
    client.create_service(&json!({"serviceName": svc, "internetAccess": true})).await.expect("service");
    let mut body = json!({
        "functionName": "f", "runtime": "custom.debian10", "handler": "index.handler", "timeout": 2,
        "code": {"zipFile": b64(&zip_with_modes(files))},
    });
    if let (Some(map), Value::Object(more)) = (body.as_object_mut(), extra) {
        map.extend(more);
    }
    client.call(Method::POST, &format!("/services/{svc}/functions"), &[], Some(&body)).await.expect("create function");
    svc
}

fn python_server() -> Vec<(&'static str, &'static [u8], u32)> {
    vec![("bootstrap", SHELL_BOOTSTRAP.as_bytes(), 0o755), ("server.py", SERVER_PY.as_bytes(), 0o644)]
}

async fn invoke(server: &TestServer, svc: &str, event: &str, headers: &[(&str, &str)]) -> Response {
    server
        .client()
        .send(Method::POST, &format!("/services/{svc}/functions/f/invocations"), &[], headers, Some(event.into()))
        .await
        .expect("invoke")
}

fn text(r: &Response) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

fn json_of(r: &Response) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {}", text(r)))
}

fn tail(r: &Response) -> String {
    let encoded = r.header("x-fc-log-result").expect("x-fc-log-result");
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64")).expect("utf-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_answers_events_once_initialized_reused_and_logged() {
    let server = TestServer::start().await;
    let svc = function(&server, &python_server(), json!({"initializer": "index.init", "memorySize": 256})).await;

    let first = invoke(&server, &svc, "hello", &[("x-fc-log-type", "Tail")]).await;
    assert_eq!(first.status, 200, "{}", text(&first));
    let rid = first.header("x-fc-request-id").expect("rid").to_string();
    let body = json_of(&first);
    assert_eq!(body["event"], "hello");
    assert_eq!(body["initialized"], 1);
    assert_eq!(body["contentType"], "application/octet-stream");
    let headers = &body["headers"];
    for (name, value) in [
        ("x-fc-request-id", rid.as_str()),
        ("x-fc-function-name", "f"),
        ("x-fc-service-name", svc.as_str()),
        ("x-fc-function-handler", "index.handler"),
        ("x-fc-function-memory", "256"),
        ("x-fc-function-timeout", "2"),
        ("x-fc-function-initializer", "index.init"),
        ("x-fc-initialization-timeout", "3"),
        ("x-fc-region", "local"),
        ("x-fc-qualifier", "LATEST"),
        ("x-fc-control-path", "/invoke"),
    ] {
        assert_eq!(headers[name], value, "{name}: {headers}");
    }
    for name in ["x-fc-account-id", "x-fc-access-key-id", "x-fc-access-key-secret", "x-fc-security-token"] {
        assert!(headers.get(name).is_some(), "{name}: {headers}");
    }
    let log = tail(&first);
    for line in [
        "FC Initialize Start RequestId: ",
        "server starting on 9000",
        "initializing",
        &format!("FC Invoke Start RequestId: {rid}"),
        "event hello",
        &format!("FC Invoke End RequestId: {rid}"),
    ] {
        assert!(log.contains(line), "{line:?} in {log}");
    }

    let second = invoke(&server, &svc, "again", &[("x-fc-log-type", "Tail")]).await;
    let again = json_of(&second);
    assert_eq!(again["pid"], body["pid"], "the instance is reused");
    assert_eq!(again["initialized"], 1, "the initializer runs once per instance");
    assert_eq!(again["invokes"], 2);
    assert!(!tail(&second).contains("server starting"), "each request gets its own log");

    let failed = invoke(&server, &svc, "fail", &[]).await;
    assert_eq!(failed.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    assert_eq!(json_of(&failed), json!({"errorMessage": "it failed"}));
    let plain = invoke(&server, &svc, "text-fail", &[]).await;
    assert_eq!(plain.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    assert_eq!(json_of(&plain), json!({"errorMessage": "plain failure"}));
    assert_eq!(json_of(&invoke(&server, &svc, "x", &[]).await)["pid"], body["pid"], "errors keep the instance");

    let id = unique("job");
    let accepted = invoke(
        &server,
        &svc,
        "queued",
        &[("x-fc-invocation-type", "Async"), ("x-fc-stateful-async-invocation-id", &id)],
    )
    .await;
    assert_eq!(accepted.status, 202, "{}", text(&accepted));
    let mut status = Value::Null;
    for _ in 0..300 {
        let path = format!("/services/{svc}/functions/f/stateful-async-invocations/{id}");
        status = server.client().call(Method::GET, &path, &[], None).await.expect("get").json().expect("json");
        if !matches!(status["status"].as_str(), Some("Enqueued") | Some("Running")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status["status"], "Succeeded", "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_and_crashes_answer_fc_s_errors_and_replace_the_instance() {
    let server = TestServer::start().await;
    let svc = function(&server, &python_server(), json!({})).await;
    let pid = json_of(&invoke(&server, &svc, "x", &[]).await)["pid"].clone();

    let slow = invoke(&server, &svc, "sleep 5", &[]).await;
    assert_eq!(slow.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    assert!(text(&slow).contains("Function timed out after 2 seconds"), "{}", text(&slow));

    let crash = invoke(&server, &svc, "crash", &[("x-fc-log-type", "Tail")]).await;
    assert_eq!(crash.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    assert!(text(&crash).contains("Process exited unexpectedly before completing request"), "{}", text(&crash));
    assert!(tail(&crash).contains("event crash"), "{}", tail(&crash));

    let fresh = json_of(&invoke(&server, &svc, "x", &[]).await);
    assert_eq!(fresh["event"], "x");
    let _ = pid; // pids are per namespace: a new instance may reuse the number, so only the answer counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_trigger_passes_the_request_through_to_the_server() {
    let server = TestServer::start().await;
    let svc = function(&server, &python_server(), json!({})).await;
    let trigger = json!({"triggerName": "web", "triggerType": "http",
                         "triggerConfig": {"authType": "anonymous", "methods": ["GET", "POST"]}});
    server
        .client()
        .call(Method::POST, &format!("/services/{svc}/functions/f/triggers"), &[], Some(&trigger))
        .await
        .expect("trigger");
    let url = format!("{}/2016-08-15/proxy/{svc}/f/a/b?x=1", server.endpoint);
    let r = reqwest::Client::new().post(&url).header("x-custom", "hi").body("payload").send().await.expect("send");
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["x-echo"], "yes");
    assert_eq!(r.headers().get_all("set-cookie").iter().count(), 2);
    let rid = r.headers()["x-fc-request-id"].to_str().expect("rid").to_string();
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["method"], "POST");
    assert_eq!(body["path"], format!("/2016-08-15/proxy/{svc}/f/a/b?x=1"), "FC passes the whole path");
    assert_eq!(body["basePath"], format!("/2016-08-15/proxy/{svc}/f"));
    assert_eq!(body["control"], "/http-invoke");
    assert_eq!(body["custom"], "hi");
    assert_eq!(body["body"], "payload");
    assert_eq!(body["rid"], rid.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_go_program_is_a_custom_runtime() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.go"), MAIN_GO).expect("write main.go");
    let go = ["/usr/bin/go", "/usr/lib/go/bin/go", "/usr/local/go/bin/go"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("go is installed (scripts/setup-sdks installs golang-go)");
    let built = std::process::Command::new(go)
        .args(["build", "-o", "bootstrap", "main.go"])
        .current_dir(dir.path())
        .env("CGO_ENABLED", "0")
        .env("GO111MODULE", "off")
        .status()
        .expect("run go build");
    assert!(built.success());
    let binary = std::fs::read(dir.path().join("bootstrap")).expect("the binary");
    let server = TestServer::start().await;
    let svc = function(&server, &[("bootstrap", &binary, 0o755)], json!({})).await;
    let r = invoke(&server, &svc, "gopher", &[("x-fc-log-type", "Tail")]).await;
    let rid = r.header("x-fc-request-id").expect("rid").to_string();
    assert_eq!(text(&r), format!("go:gopher:{rid}"));
    assert!(tail(&r).contains("go got 6 bytes"), "{}", tail(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_can_pull_its_work_from_the_runtime_api() {
    let server = TestServer::start().await;
    let svc = function(&server, &[("bootstrap", PULL_PY.as_bytes(), 0o755)], json!({})).await;
    let r = invoke(&server, &svc, "pulled", &[("x-fc-log-type", "Tail")]).await;
    let rid = r.header("x-fc-request-id").expect("rid").to_string();
    assert_eq!(json_of(&r), json!({"event": "pulled", "rid": rid, "fn": "f"}));
    assert!(tail(&r).contains(&format!("pulled {rid}")), "{}", tail(&r));
    let failed = invoke(&server, &svc, "fail", &[]).await;
    assert_eq!(failed.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    assert_eq!(json_of(&failed)["errorMessage"], "pulled and failed");

    let broken =
        function(&server, &[("bootstrap", PULL_PY.as_bytes(), 0o755), ("broken", b"", 0o644)], json!({})).await;
    let r = invoke(&server, &broken, "x", &[]).await;
    assert_eq!(r.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    assert_eq!(json_of(&r), json!({"errorMessage": "cannot init"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_without_a_server_says_why_it_could_not_start() {
    let server = TestServer::start().await;
    let missing = function(&server, &[("readme", b"no bootstrap", 0o644)], json!({})).await;
    let r = invoke(&server, &missing, "x", &[]).await;
    assert_eq!(r.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    assert!(text(&r).contains("cannot start [\\\"/code/bootstrap\\\"]"), "{}", text(&r));
    let silent =
        function(&server, &[("bootstrap", b"#!/bin/sh\nexec sleep 30\n", 0o755)], json!({"initializationTimeout": 1}))
            .await;
    let r = invoke(&server, &silent, "x", &[]).await;
    assert!(text(&r).contains("did not accept connections on port 9000 within 1 s"), "{}", text(&r));
}
