//! FC's custom runtime through the real server and sandbox: the package's own HTTP server (a shell
//! bootstrap running Python's http.server, a Go program and a std-only Rust program, both built here)
//! answering events, the initializer, HTTP triggers, async invocations; reuse, timeouts, crashes, errors,
//! logs with Tail; and a runtime that pulls its work from FC's runtime API.

use ferric_testkit::functions::{add_http_trigger, async_invocation_succeeds, invoke, json_of, tail, text};
use ferric_testkit::{repo_root, zip_with_modes, TestServer};
use serde_json::{json, Value};

const SERVER_PY: &str = include_str!("custom/server.py");
const PULL_PY: &str = include_str!("custom/pull.py");
const MAIN_GO: &str = include_str!("custom/main.go");
const SHELL_BOOTSTRAP: &str = "#!/bin/bash\nexec python3 server.py\n";

async fn function(server: &TestServer, files: &[(&str, &[u8], u32)], extra: Value) -> String {
    let defaults = json!({"timeout": 2});
    let mut function = defaults;
    if let (Some(map), Value::Object(more)) = (function.as_object_mut(), extra) {
        map.extend(more);
    }
    let zip = zip_with_modes(files);
    let service = json!({"internetAccess": true});
    ferric_testkit::functions::create_function(
        server,
        "custom",
        service,
        "custom.debian10",
        "index.handler",
        &zip,
        function,
    )
    .await
}

fn python_server() -> Vec<(&'static str, &'static [u8], u32)> {
    vec![("bootstrap", SHELL_BOOTSTRAP.as_bytes(), 0o755), ("server.py", SERVER_PY.as_bytes(), 0o644)]
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

    async_invocation_succeeds(&server, &svc, "queued").await;
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
    add_http_trigger(&server, &svc).await;
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

/// `examples/custom-runtime-rust/main.rs` built with `rustc -O` (std only, so it builds offline).
fn rust_bootstrap() -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = repo_root().join("examples/custom-runtime-rust/main.rs");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let built = std::process::Command::new(rustc)
        .args(["-O", "--edition", "2021", "-C", "strip=symbols", "-o"])
        .arg(dir.path().join("bootstrap"))
        .arg(&source)
        .status()
        .expect("run rustc");
    assert!(built.success(), "rustc failed on {}", source.display());
    std::fs::read(dir.path().join("bootstrap")).expect("the binary")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rust_binary_is_a_custom_runtime() {
    let binary = rust_bootstrap();
    let server = TestServer::start().await;
    let svc = function(&server, &[("bootstrap", &binary, 0o755)], json!({"initializer": "index.init"})).await;

    let first = invoke(&server, &svc, "ferris", &[("x-fc-log-type", "Tail")]).await;
    assert_eq!(first.status, 200, "{}", text(&first));
    let rid = first.header("x-fc-request-id").expect("rid").to_string();
    assert_eq!(
        json_of(&first),
        json!({"runtime": "rust", "event": "ferris", "rid": rid, "function": "f", "initialized": 1, "invokes": 1})
    );
    let log = tail(&first);
    for line in ["rust server listening on 9000", "rust initializing ", "rust got 6 bytes", "rust stderr line"] {
        assert!(log.contains(line), "{line:?} in {log}");
    }
    let second = json_of(&invoke(&server, &svc, "again", &[]).await);
    assert_eq!((second["initialized"].as_u64(), second["invokes"].as_u64()), (Some(1), Some(2)), "reused: {second}");

    let failed = invoke(&server, &svc, "fail", &[]).await;
    assert_eq!(failed.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    assert_eq!(json_of(&failed), json!({"errorMessage": "rust failed"}));
    let crashed = invoke(&server, &svc, "crash", &[]).await;
    assert!(text(&crashed).contains("Process exited unexpectedly before completing request"), "{}", text(&crashed));
    let fresh = json_of(&invoke(&server, &svc, "back", &[]).await);
    assert_eq!(
        (fresh["initialized"].as_u64(), fresh["invokes"].as_u64()),
        (Some(1), Some(1)),
        "a new instance: {fresh}"
    );

    add_http_trigger(&server, &svc).await;
    let url = format!("{}/2016-08-15/proxy/{svc}/f/web/path?q=1", server.endpoint);
    let r = reqwest::Client::new().post(&url).header("x-custom", "crab").body("posted").send().await.expect("post");
    assert_eq!(r.status(), 202);
    assert_eq!(r.headers()["x-rust"], "yes");
    let body = r.text().await.expect("body");
    assert_eq!(body, format!("rust http POST /2016-08-15/proxy/{svc}/f/web/path?q=1 custom=crab body=posted"));
    async_invocation_succeeds(&server, &svc, "queued").await;
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
