//! InvokeFunction with real Node.js and Python processes: results, FC's errors, initializers, timeouts,
//! crashes, logs, updates, payload limits and throttling.

use base64::Engine;
use ferric_client::Response;
use ferric_testkit::{unique, zip_of, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

async fn function(server: &TestServer, runtime: &str, files: &[(&str, &str)], extra: Value) -> (String, String) {
    let client = server.client();
    let svc = unique("svc");
    client.create_service(&json!({"serviceName": svc})).await.expect("service");
    let mut body = json!({
        "functionName": "f",
        "runtime": runtime,
        "handler": "index.handler",
        "code": {"zipFile": base64::engine::general_purpose::STANDARD.encode(zip_of(files))},
    });
    if let (Some(map), Value::Object(more)) = (body.as_object_mut(), extra) {
        map.extend(more);
    }
    client.call(Method::POST, &format!("/services/{svc}/functions"), &[], Some(&body)).await.expect("create function");
    (svc, "f".to_string())
}

async fn invoke(server: &TestServer, svc: &str, f: &str, event: &[u8], headers: &[(&str, &str)]) -> Response {
    server
        .client()
        .send(Method::POST, &format!("/services/{svc}/functions/{f}/invocations"), &[], headers, Some(event.to_vec()))
        .await
        .expect("invoke")
}

fn text(r: &Response) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

const NODE_ECHO: &str = r#"
exports.handler = (event, context, callback) => {
  console.log('got', event.length, 'bytes');
  callback(null, JSON.stringify({ event: event.toString(), requestId: context.requestId, fn: context.function.name }));
};
"#;

const PY_ECHO: &str = r#"
import json, logging
def handler(event, context):
    logging.getLogger().info('got %d bytes', len(event))
    return json.dumps({'event': event.decode(), 'requestId': context.request_id, 'fn': context.function.name})
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_and_python_answer_with_fc_headers() {
    let server = TestServer::start().await;
    for (runtime, file, code) in [("nodejs20", "index.js", NODE_ECHO), ("python3.10", "index.py", PY_ECHO)] {
        let (svc, f) = function(&server, runtime, &[(file, code)], json!({})).await;
        let r = invoke(&server, &svc, &f, b"hello", &[("x-fc-log-type", "Tail")]).await;
        assert_eq!(r.status, 200, "{runtime}: {}", text(&r));
        let body: Value = serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{runtime}: {e}: {}", text(&r)));
        assert_eq!(body["event"], "hello");
        assert_eq!(body["fn"], "f");
        assert_eq!(body["requestId"].as_str(), r.header("x-fc-request-id"), "context.requestId is the request id");
        assert_ne!(r.header("content-type"), Some("application/json"));
        assert!(r.header("x-fc-error-type").is_none());
        for h in [
            "x-fc-code-checksum",
            "x-fc-invocation-duration",
            "x-fc-max-memory-usage",
            "x-fc-invocation-service-version",
        ] {
            assert!(r.header(h).is_some(), "{runtime}: {h} missing");
        }
        assert!(r.header("x-fc-max-memory-usage").and_then(|m| m.parse::<u64>().ok()).is_some_and(|m| m > 0));
        let log =
            base64::engine::general_purpose::STANDARD.decode(r.header("x-fc-log-result").expect("tail")).expect("b64");
        let log = String::from_utf8_lossy(&log);
        let rid = r.header("x-fc-request-id").expect("rid");
        assert!(log.contains(&format!("FC Invoke Start RequestId: {rid}")), "{log}");
        assert!(log.contains(&format!("FC Invoke End RequestId: {rid}")), "{log}");
        assert!(log.contains("got 5 bytes") && log.contains(rid), "{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_errors_are_200_with_the_error_type() {
    let server = TestServer::start().await;
    let node = r#"
exports.handler = (event, context, callback) => {
  const what = event.toString();
  if (what === 'text') return callback('This is a handled error');
  if (what === 'error') return callback(new Error('boom'));
  if (what === 'throw') throw new Error('thrown');
  if (what === 'exit') process.exit(3);
  callback(null, 'fine');
};"#;
    let (svc, f) = function(&server, "nodejs18", &[("index.js", node)], json!({})).await;
    let r = invoke(&server, &svc, &f, b"text", &[]).await;
    assert_eq!((r.status, r.header("x-fc-error-type")), (200, Some("HandledInvocationError")));
    assert_eq!(text(&r), r#"{"errorMessage":"This is a handled error"}"#);
    let r = invoke(&server, &svc, &f, b"error", &[]).await;
    let body: Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!((body["errorMessage"].as_str(), body["errorType"].as_str()), (Some("boom"), Some("Error")));
    assert!(body["stackTrace"].is_array());
    let r = invoke(&server, &svc, &f, b"throw", &[]).await;
    assert_eq!(r.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    let r = invoke(&server, &svc, &f, b"exit", &[]).await;
    assert_eq!(r.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    assert!(text(&r).contains("Process exited unexpectedly before completing request (duration: "), "{}", text(&r));
    let r = invoke(&server, &svc, &f, b"ok", &[]).await;
    assert_eq!((r.status, text(&r).as_str()), (200, "fine"), "a fresh instance after the crash");

    let py = "def handler(event, context):\n    raise Exception('py boom')\n";
    let (svc, f) = function(&server, "python3.9", &[("index.py", py)], json!({})).await;
    let r = invoke(&server, &svc, &f, b"", &[]).await;
    assert_eq!(r.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    let body: Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!((body["errorMessage"].as_str(), body["errorType"].as_str()), (Some("py boom"), Some("Exception")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initializer_runs_once_per_instance_and_state_survives() {
    let server = TestServer::start().await;
    let node =
        "var counter = 0;\nexports.initializer = (context, callback) => { counter += 1; callback(null, ''); };\n\
                exports.handler = (event, context, callback) => { counter += 1; callback(null, String(counter)); };\n";
    let py = "counter = 0\ndef initializer(context):\n    global counter\n    counter += 1\n\
              def handler(event, context):\n    global counter\n    counter += 1\n    return str(counter)\n";
    for (runtime, file, code) in [("nodejs16", "index.js", node), ("python3", "index.py", py)] {
        let (svc, f) = function(&server, runtime, &[(file, code)], json!({"initializer": "index.initializer"})).await;
        let first = invoke(&server, &svc, &f, b"", &[("x-fc-log-type", "Tail")]).await;
        assert_eq!(text(&first), "2", "{runtime}");
        let log = base64::engine::general_purpose::STANDARD
            .decode(first.header("x-fc-log-result").expect("tail"))
            .expect("b64");
        assert!(String::from_utf8_lossy(&log).contains("FC Initialize Start RequestId:"), "{runtime}");
        assert_eq!(text(&invoke(&server, &svc, &f, b"", &[]).await), "3", "{runtime}");
    }
    let failing = "exports.initializer = (context, callback) => callback(new Error('init failed'));\n\
                   exports.handler = (e, c, cb) => cb(null, 'never');\n";
    let (svc, f) =
        function(&server, "nodejs20", &[("index.js", failing)], json!({"initializer": "index.initializer"})).await;
    let r = invoke(&server, &svc, &f, b"", &[]).await;
    assert_eq!(r.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    assert!(text(&r).contains("init failed"), "{}", text(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_kill_the_instance_and_updates_take_effect() {
    let server = TestServer::start().await;
    let slow = "var n = 0;\nexports.handler = (event, context, callback) => { n += 1;\n\
                if (event.toString() === 'hang') return; callback(null, 'v1:' + n); };\n";
    let (svc, f) = function(&server, "nodejs20", &[("index.js", slow)], json!({"timeout": 1})).await;
    assert_eq!(text(&invoke(&server, &svc, &f, b"", &[]).await), "v1:1");
    let started = std::time::Instant::now();
    let r = invoke(&server, &svc, &f, b"hang", &[]).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(r.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    assert!(text(&r).contains("Function timed out after 1 seconds"), "{}", text(&r));
    assert_eq!(text(&invoke(&server, &svc, &f, b"", &[]).await), "v1:1", "the timed-out instance is gone");

    let v2 = "exports.handler = (e, c, cb) => cb(null, 'v2');\n";
    let body =
        json!({"code": {"zipFile": base64::engine::general_purpose::STANDARD.encode(zip_of(&[("index.js", v2)]))}});
    server
        .client()
        .call(Method::PUT, &format!("/services/{svc}/functions/{f}"), &[], Some(&body))
        .await
        .expect("update");
    assert_eq!(text(&invoke(&server, &svc, &f, b"", &[]).await), "v2", "the next call runs the new code");
}

/// `python3.<minor>` of the installed CPython, as `python3` reports it.
fn installed_python_minor() -> u32 {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.version_info[1])"])
        .output()
        .expect("python3 runs");
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("a minor version")
}

/// Issue 9: `python3.11` (the installed Python) was refused while `python3.12` silently ran on 3.11.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_installed_python_is_offered_and_newer_ones_are_not_run_on_it() {
    let server = TestServer::start().await;
    let minor = installed_python_minor();
    let installed = format!("python3.{minor}");
    let code = "def handler(event, context):\n    return 'ran'\n";
    let (svc, f) = function(&server, &installed, &[("index.py", code)], json!({})).await;
    let r = invoke(&server, &svc, &f, b"", &[]).await;
    assert_eq!((r.status, text(&r).as_str()), (200, "ran"), "{installed}");

    // A newer Python FC documents is accepted (templates name it) but refused when invoked, with the list.
    let (svc, f) = function(&server, "python3.12", &[("index.py", code)], json!({})).await;
    let r = invoke(&server, &svc, &f, b"", &[]).await;
    if minor < 12 {
        assert_eq!(r.status, 400, "{}", text(&r));
        let body: Value = serde_json::from_slice(&r.body).expect("json");
        let message = body["ErrorMessage"].as_str().expect("message");
        assert!(message.contains("python3.12") && message.contains(&installed), "{message}");
    }
    // A version neither FC nor this server offers is refused at create, with the list.
    let body = json!({"functionName": "g", "runtime": "python3.99", "handler": "index.handler",
                      "code": {"zipFile": base64::engine::general_purpose::STANDARD.encode(zip_of(&[("index.py", code)]))}});
    let err = server.client().call(Method::POST, &format!("/services/{svc}/functions"), &[], Some(&body)).await;
    match err {
        Err(ferric_client::ClientError::Api { status, message, .. }) => {
            assert_eq!(status, 400);
            assert!(message.contains("python3.99") && message.contains(&installed), "{message}");
        }
        other => panic!("python3.99 must be refused: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_runtimes_name_what_the_server_offers() {
    let server = TestServer::start().await;
    let (svc, f) = function(&server, "dotnetcore3.1", &[("Main.cs", "class Main {}")], json!({})).await;
    let r = invoke(&server, &svc, &f, b"", &[]).await;
    assert_eq!(r.status, 400);
    let body: Value = serde_json::from_slice(&r.body).expect("json");
    let message = body["ErrorMessage"].as_str().expect("message");
    assert!(
        message.contains("dotnetcore3.1") && message.contains("nodejs20") && message.contains("python3"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_kept_and_readable_by_request_id() {
    let server = TestServer::start().await;
    let (svc, f) = function(&server, "nodejs20", &[("index.js", NODE_ECHO)], json!({})).await;
    let r = invoke(&server, &svc, &f, b"abc", &[]).await;
    let rid = r.header("x-fc-request-id").expect("rid").to_string();
    let mut found = Value::Null;
    for _ in 0..50 {
        found = server
            .client()
            .send_to(Method::GET, "/ferric/v1/logs", &[("requestId", rid.as_str())], &[], None)
            .await
            .map(|r| r.json().unwrap_or(Value::Null))
            .unwrap_or(Value::Null);
        if found["logs"].as_array().is_some_and(|l| !l.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let entry = &found["logs"][0];
    assert_eq!(entry["requestId"], rid.as_str());
    assert_eq!(entry["functionName"], "f");
    assert!(entry["content"].as_str().expect("content").contains("got 3 bytes"), "{found}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_invocations_answer_202_with_an_empty_body() {
    let server = TestServer::start().await;
    let (svc, f) = function(&server, "nodejs20", &[("index.js", NODE_ECHO)], json!({})).await;
    let r = invoke(&server, &svc, &f, b"later", &[("x-fc-invocation-type", "Async")]).await;
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
    assert!(r.header("x-fc-request-id").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_limits_and_throttling() {
    let server = TestServer::start_with(|c| {
        c.max_sync_payload_bytes = 1024;
        c.invoker.max_instances_per_function = 1;
        c.invoker.queue_timeout = std::time::Duration::from_millis(200);
    })
    .await;
    let slow = "exports.handler = (e, c, cb) => setTimeout(() => cb(null, 'done'), 1500);\n";
    let (svc, f) = function(&server, "nodejs20", &[("index.js", slow)], json!({})).await;
    let big = vec![b'x'; 2048];
    let r = invoke(&server, &svc, &f, &big, &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json().expect("json")["ErrorCode"], "EntityTooLarge");
    let (a, b) = tokio::join!(invoke(&server, &svc, &f, b"", &[]), async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        invoke(&server, &svc, &f, b"", &[]).await
    });
    assert_eq!(text(&a), "done");
    assert_eq!(b.status, 429, "{}", text(&b));
    assert_eq!(b.json().expect("json")["ErrorCode"], "ResourceExhausted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn megabytes_of_output_stay_bounded() {
    let server = TestServer::start().await;
    let loud = "exports.handler = (e, c, cb) => {\n  const line = 'x'.repeat(1000);\n\
                for (let i = 0; i < 5000; i++) console.log(line);\n  process.stdout.write('LAST LINE\\n');\n  cb(null, 'ok');\n};\n";
    let (svc, f) = function(&server, "nodejs20", &[("index.js", loud)], json!({})).await;
    let r = invoke(&server, &svc, &f, b"", &[("x-fc-log-type", "Tail")]).await;
    assert_eq!(text(&r), "ok");
    let tail =
        base64::engine::general_purpose::STANDARD.decode(r.header("x-fc-log-result").expect("tail")).expect("b64");
    assert!(tail.len() <= 4096);
    assert!(String::from_utf8_lossy(&tail).contains("LAST LINE"), "the tail is the end of the log");
    let rid = r.header("x-fc-request-id").expect("rid").to_string();
    let mut stored = 0;
    for _ in 0..50 {
        let found = server
            .client()
            .send_to(Method::GET, "/ferric/v1/logs", &[("requestId", rid.as_str())], &[], None)
            .await
            .expect("logs");
        let logs = found.json().expect("json");
        if let Some(content) = logs["logs"][0]["content"].as_str() {
            stored = content.len();
            assert!(content.contains("bytes of log output dropped here"), "the middle of a huge log is dropped");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(stored > 0 && stored < 300 * 1024, "stored log of {stored} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_can_be_followed_live() {
    use ferric_types::signature::{self, SignedParts};
    let server = TestServer::start().await;
    let (svc, f) = function(&server, "nodejs20", &[("index.js", NODE_ECHO)], json!({})).await;
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let to_sign = signature::string_to_sign(&SignedParts {
        method: "GET",
        content_md5: "",
        content_type: "",
        date: &date,
        canonical_headers: "",
        resource: "/ferric/v1/logs/follow",
    });
    let auth = format!("FC {}:{}", ferric_testkit::KEY_ID, signature::sign(ferric_testkit::KEY_SECRET, &to_sign));
    let mut stream = reqwest::Client::new()
        .get(format!("{}/ferric/v1/logs/follow?serviceName={svc}&functionName={f}", server.endpoint))
        .header("date", date)
        .header("authorization", auth)
        .send()
        .await
        .expect("follow");
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    assert_eq!(stream.headers()["x-fc-request-id"].len(), 36);
    let r = invoke(&server, &svc, &f, b"live", &[]).await;
    let rid = r.header("x-fc-request-id").expect("rid").to_string();
    let mut seen = String::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(chunk) = stream.chunk().await.expect("chunk") {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains(&rid) {
                return;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no event for {rid} in: {seen}");
    assert!(seen.contains("event: log") && seen.contains("got 4 bytes"), "{seen}");
    // Each `log` event's data is one `LogEntry` of api/openapi.yaml: every required key, as a string.
    let event = seen.split("\n\n").find(|e| e.contains(&rid)).expect("the event");
    let mut lines = event.lines().filter(|l| !l.starts_with(':'));
    assert_eq!(lines.next(), Some("event: log"), "{event}");
    let data = lines.next().and_then(|l| l.strip_prefix("data: ")).expect("one data line");
    let entry: Value = serde_json::from_str(data).expect("data is JSON");
    for key in ["requestId", "serviceName", "functionName", "time", "content"] {
        assert!(entry[key].is_string(), "LogEntry.{key} in {entry}");
    }
    assert_eq!(entry["requestId"], rid.as_str());
    let time = entry["time"].as_str().unwrap_or_default();
    assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "time {time}");
    assert_eq!(lines.next(), None, "{event}");
    server.stop().await;
}

/// Reads the stored log of one request (the writer batches, so it may take a moment).
async fn stored_log(server: &TestServer, rid: &str) -> String {
    for _ in 0..100 {
        let found = server
            .client()
            .send_to(Method::GET, "/ferric/v1/logs", &[("requestId", rid)], &[], None)
            .await
            .expect("logs");
        if let Some(content) = found.json().expect("json")["logs"][0]["content"].as_str() {
            return content.to_string();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no stored log for {rid}");
}

/// Functions that print megabytes as fast as they can (Node faster than the invoker reads, so its
/// runtime drops too): the kept log is its beginning, one marker line with the exact count of bytes
/// dropped there, and the real end of the output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_log_is_marked_and_ends_with_the_last_lines() {
    const LINES: usize = 24_000;
    const WIDTH: usize = 1000; // bytes per line, newline included: 24 MB in all
    let node = format!(
        "exports.handler = (e, c, cb) => {{\n  process.stdout.write('BEGIN\\n');\n  const pad = 'n'.repeat({pad});\n\
         for (let i = 0; i < {LINES}; i++) process.stdout.write(String(i).padStart(8, '0') + pad + '\\n');\n\
         process.stdout.write('LAST LINE\\n');\n  cb(null, 'ok');\n}};\n",
        pad = WIDTH - 9
    );
    let python = [
        "import sys",
        "def handler(event, context):",
        "    sys.stdout.write('BEGIN\\n')",
        &format!("    pad = 'p' * {}", WIDTH - 9),
        &format!("    for i in range({LINES}):"),
        "        sys.stdout.write('%08d%s\\n' % (i, pad))",
        "    sys.stdout.write('LAST LINE\\n')",
        "    return 'ok'\n",
    ]
    .join("\n");
    let output = |pad: char| {
        let pad = pad.to_string().repeat(WIDTH - 9);
        let mut text = String::from("BEGIN\n");
        for i in 0..LINES {
            text.push_str(&format!("{i:08}{pad}\n"));
        }
        text + "LAST LINE\n"
    };
    let server = TestServer::start().await;
    for (runtime, file, code, pad) in [("nodejs20", "index.js", node, 'n'), ("python3.10", "index.py", python, 'p')] {
        let (svc, f) = function(&server, runtime, &[(file, &code)], json!({"timeout": 60})).await;
        let r = invoke(&server, &svc, &f, b"", &[]).await;
        assert_eq!(text(&r), "ok", "{runtime}");
        let rid = r.header("x-fc-request-id").expect("rid").to_string();
        let log = stored_log(&server, &rid).await;
        let shown = &log[log.len().saturating_sub(300)..];
        // The first call started the instance: the cold-start line follows `FC Invoke End`.
        let end_at = log.rfind(&format!("FC Invoke End RequestId: {rid}\n")).expect("FC Invoke End");
        let end = log[end_at..].to_string();
        let cold = format!("FC Invoke End RequestId: {rid}\nFC Cold Start RequestId: {rid}, Init Duration: ");
        assert!(end.starts_with(&cold) && end.ends_with(" ms\n"), "{runtime}: {shown}");
        let last = format!("{:08}{}\nLAST LINE\n{end}", LINES - 1, pad.to_string().repeat(WIDTH - 9));
        assert!(log.ends_with(&last), "{runtime}: the log ends with the function's last lines: {shown}");
        let markers: Vec<&str> = log.lines().filter(|l| l.starts_with("[ferric] ...")).collect();
        assert_eq!(markers.len(), 1, "{runtime}: one cut, one marker: {markers:?}");
        let dropped: usize = markers[0]
            .split_whitespace()
            .nth(2)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{runtime}: a count in {:?}", markers[0]));
        // Everything is accounted for: kept head + count + kept tail is the whole log it was cut from.
        let (head, tail) = log.split_once(&format!("{}\n", markers[0])).expect("marker");
        let begin = head.find("BEGIN\n").expect("the head has the beginning");
        let whole = format!("{}{}{end}", &head[..begin], output(pad));
        // The marker line starts a line of its own: it may have added the newline ending the head.
        let head = if whole.as_bytes()[head.len() - 1] == b'\n' { head } else { &head[..head.len() - 1] };
        assert!(whole.starts_with(head) && whole.ends_with(tail), "{runtime}: head and tail are the log's");
        assert_eq!(head.len() + dropped + tail.len(), whole.len(), "{runtime}: the count is exact");
    }
}
