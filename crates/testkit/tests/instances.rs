//! Instance management seen from outside: environment, warm reuse and concurrency, idle reaping, the
//! memory budget, and the memory limit.

use base64::Engine;
use ferric_testkit::{instance_alive, unique, zip_of, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

async fn deploy(server: &TestServer, runtime: &str, file: &str, code: &str, extra: Value) -> String {
    let client = server.client();
    let svc = unique("inst");
    client.create_service(&json!({"serviceName": svc})).await.expect("service");
    let mut body = json!({
        "functionName": "f", "runtime": runtime, "handler": "index.handler",
        "code": {"zipFile": base64::engine::general_purpose::STANDARD.encode(zip_of(&[(file, code)]))},
    });
    if let (Some(map), Value::Object(more)) = (body.as_object_mut(), extra) {
        map.extend(more);
    }
    client.call(Method::POST, &format!("/services/{svc}/functions"), &[], Some(&body)).await.expect("function");
    svc
}

async fn call(server: &TestServer, svc: &str, event: &str) -> (u16, String, Option<String>) {
    let r = server
        .client()
        .send(
            Method::POST,
            &format!("/services/{svc}/functions/f/invocations"),
            &[],
            &[],
            Some(event.as_bytes().to_vec()),
        )
        .await
        .expect("invoke");
    (r.status, String::from_utf8_lossy(&r.body).into_owned(), r.header("x-fc-error-type").map(str::to_string))
}

/// Answers with the instance's id (pids say nothing: every sandboxed runtime is pid 2 of its namespace).
const PID: &str = "exports.handler = (e, c, cb) => {\n  const ms = Number(e.toString() || 0);\n\
                   setTimeout(() => cb(null, process.env.FC_INSTANCE_ID), ms);\n};\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_is_cleared_and_carries_fc_variables() {
    let server = TestServer::start().await;
    let code = "exports.handler = (e, c, cb) => cb(null, process.env);\n";
    let svc = deploy(&server, "nodejs20", "index.js", code, json!({"environmentVariables": {"GREETING": "hi"}})).await;
    let (status, body, _) = call(&server, &svc, "").await;
    assert_eq!(status, 200, "{body}");
    let env: Value = serde_json::from_str(&body).expect("json env");
    assert_eq!(env["GREETING"], "hi");
    assert_eq!(env["FC_FUNCTION_NAME"], "f");
    assert_eq!(env["FC_SERVICE_NAME"], svc.as_str());
    assert_eq!(env["FC_FUNCTION_MEMORY_SIZE"], "128");
    assert_eq!(env["FC_RUNTIME_VERSION"], "nodejs20");
    assert!(env["FC_FUNC_CODE_PATH"].as_str().is_some_and(|p| p.starts_with('/')));
    for leaked in ["CARGO", "CARGO_PKG_NAME", "RUST_BACKTRACE", "FERRIC_CONTROL_FD", "FC_ACCESS_KEY_SECRET"] {
        assert!(env.get(leaked).is_none(), "{leaked} leaked into the function");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_are_reused_and_concurrency_is_honoured() {
    let server = TestServer::start().await;
    let one = deploy(&server, "nodejs20", "index.js", PID, json!({})).await;
    let (_, first, _) = call(&server, &one, "").await;
    let (_, second, _) = call(&server, &one, "").await;
    assert_eq!(first, second, "a warm instance serves the next call");
    let (a, b) = tokio::join!(call(&server, &one, "300"), call(&server, &one, "300"));
    assert_ne!(a.1, b.1, "instanceConcurrency 1: two overlapping calls need two instances");

    let shared = deploy(&server, "nodejs20", "index.js", PID, json!({"instanceConcurrency": 4})).await;
    call(&server, &shared, "").await;
    let (a, b) = tokio::join!(call(&server, &shared, "300"), call(&server, &shared, "300"));
    assert_eq!(a.1, b.1, "instanceConcurrency 4: overlapping calls share one instance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_instances_are_reaped() {
    let server = TestServer::start_with(|c| c.invoker.idle_timeout = std::time::Duration::from_millis(300)).await;
    let svc = deploy(&server, "nodejs20", "index.js", PID, json!({})).await;
    let (_, first, _) = call(&server, &svc, "").await;
    assert!(instance_alive(&first), "the instance {first} runs after its first call");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert!(!instance_alive(&first), "the idle instance {first} was stopped");
    let (_, second, _) = call(&server, &svc, "").await;
    assert_ne!(first, second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_budget_evicts_idle_instances_and_throttles_when_full() {
    let server = TestServer::start_with(|c| {
        c.invoker.memory_budget_mb = 512;
        c.invoker.queue_timeout = std::time::Duration::from_millis(300);
    })
    .await;
    let a = deploy(&server, "nodejs20", "index.js", PID, json!({"memorySize": 512})).await;
    let b = deploy(&server, "nodejs20", "index.js", PID, json!({"memorySize": 512})).await;
    let (_, pid_a, _) = call(&server, &a, "").await;
    // b needs the whole budget: a's idle instance makes room.
    let (status, _, _) = call(&server, &b, "").await;
    assert_eq!(status, 200);
    assert!(!instance_alive(&pid_a), "a's idle instance was evicted");
    // While b is busy, a cannot get memory: it waits briefly, then is throttled.
    let (busy, throttled) = tokio::join!(call(&server, &b, "1000"), async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        call(&server, &a, "").await
    });
    assert_eq!(busy.0, 200);
    assert_eq!(throttled.0, 429, "{}", throttled.1);
    assert!(throttled.1.contains("ResourceExhausted"));

    // A function larger than the whole budget is refused at once, not after a wait.
    let huge = deploy(&server, "nodejs20", "index.js", PID, json!({"memorySize": 1024})).await;
    let started = std::time::Instant::now();
    let (status, body, _) = call(&server, &huge, "").await;
    assert_eq!(status, 429);
    assert!(body.contains("memory budget"), "{body}");
    assert!(started.elapsed() < std::time::Duration::from_millis(250));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allocating_past_memory_size_ends_the_instance() {
    let server = TestServer::start().await;
    let hog = "const keep = [];\nexports.handler = (e, c, cb) => {\n\
               if (e.toString() === 'hog') { for (;;) keep.push('x'.repeat(1 << 20) + Math.random()); }\n\
               cb(null, 'fine');\n};\n";
    let svc = deploy(&server, "nodejs20", "index.js", hog, json!({"memorySize": 128, "timeout": 30})).await;
    let (status, body, error) = call(&server, &svc, "hog").await;
    assert_eq!((status, error.as_deref()), (200, Some("UnhandledInvocationError")), "{body}");
    assert!(body.contains("Process exited unexpectedly"), "{body}");
    assert_eq!(call(&server, &svc, "").await.1, "fine", "a fresh instance follows");

    let py_hog = "keep = []\ndef handler(event, context):\n    while True:\n        keep.append(bytearray(1 << 20))\n";
    let svc = deploy(&server, "python3.10", "index.py", py_hog, json!({"memorySize": 128, "timeout": 30})).await;
    let (status, body, error) = call(&server, &svc, "").await;
    assert_eq!((status, error.as_deref()), (200, Some("UnhandledInvocationError")), "{body}");
}
