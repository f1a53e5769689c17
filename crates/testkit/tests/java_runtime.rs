//! The Java runtime (`java8`, `java11`) through the real server and sandbox, with handlers compiled here
//! by javac against FC's interfaces and uploaded as classes (and as a jar under `lib/`): stream, POJO and
//! HTTP handlers, the initializer once per instance, reuse, errors in FC's shape, timeouts, crashes, the
//! memory limit, async invocations and logs with Tail.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use ferric_client::Response;
use ferric_testkit::{repo_root, unique, zip_with_modes, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

/// `example/*.class` compiled from `tests/java`, the FC interfaces taken from the runtime's sources
/// (as a user's build takes them from fc-java-core) and left out of the package.
fn compiled_handlers() -> Vec<(String, Vec<u8>)> {
    let out = tempfile::tempdir().expect("tempdir");
    let root = repo_root();
    let sources = root.join("crates/testkit/tests/java/example");
    let mut files: Vec<_> = std::fs::read_dir(&sources).expect("sources").flatten().map(|e| e.path()).collect();
    files.sort();
    let status = std::process::Command::new("javac")
        .args(["--release", "11", "-nowarn", "-sourcepath"])
        .arg(root.join("runtimes/java/src"))
        .arg("-d")
        .arg(out.path())
        .args(&files)
        .status()
        .expect("javac is installed (scripts/setup-sdks)");
    assert!(status.success(), "javac failed");
    let mut classes = Vec::new();
    for entry in std::fs::read_dir(out.path().join("example")).expect("classes").flatten() {
        let name = format!("example/{}", entry.file_name().to_string_lossy());
        classes.push((name, std::fs::read(entry.path()).expect("class")));
    }
    classes
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn function(server: &TestServer, runtime: &str, handler: &str, zip: &[u8], extra: Value) -> String {
    let client = server.client();
    let svc = unique("java");
    client.create_service(&json!({"serviceName": svc})).await.expect("service");
    let mut body = json!({
        "functionName": "f", "runtime": runtime, "handler": handler, "timeout": 5, "memorySize": 256,
        "code": {"zipFile": b64(zip)},
    });
    if let (Some(map), Value::Object(more)) = (body.as_object_mut(), extra) {
        map.extend(more);
    }
    let created = client.call(Method::POST, &format!("/services/{svc}/functions"), &[], Some(&body)).await;
    assert!(created.is_ok(), "create function: {created:?}");
    svc
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

fn classes_zip(classes: &[(String, Vec<u8>)]) -> Vec<u8> {
    let files: Vec<(&str, &[u8], u32)> = classes.iter().map(|(n, b)| (n.as_str(), b.as_slice(), 0o644)).collect();
    zip_with_modes(&files)
}

fn jdk_missing() -> bool {
    let missing = !Path::new("/usr/bin/javac").exists();
    assert!(!(missing && std::env::var_os("CI").is_some()), "no JDK: scripts/setup-sdks installs it");
    missing
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_handlers_initialize_once_reuse_log_and_fail_in_fc_shape() {
    if jdk_missing() {
        return;
    }
    let server = TestServer::start().await;
    let zip = classes_zip(&compiled_handlers());
    let svc = function(
        &server,
        "java8",
        "example.Hello::handleRequest",
        &zip,
        json!({"initializer": "example.Hello::initialize"}),
    )
    .await;

    let baggages = b64(br#"{"a":"1","b":"2"}"#);
    let span = [
        ("x-fc-log-type", "Tail"),
        ("x-fc-tracing-opentracing-span-context", "aa:bb:0:1"),
        ("x-fc-tracing-opentracing-span-baggages", baggages.as_str()),
    ];
    let first = invoke(&server, &svc, "hello", &span).await;
    assert_eq!(first.status, 200, "{}", text(&first));
    let rid = first.header("x-fc-request-id").expect("rid").to_string();
    let body = json_of(&first);
    assert_eq!(body["event"], "hello");
    assert_eq!(body["initialized"], 1);
    assert_eq!(body["requestId"], rid.as_str());
    assert_eq!(body["function"], "f");
    assert_eq!(body["memory"], 256);
    assert_eq!(body["service"], svc.as_str());
    assert_eq!(
        (&body["qualifier"], &body["span"], &body["baggages"]),
        (&json!("LATEST"), &json!("aa:bb:0:1"), &json!(2))
    );
    let log = tail(&first);
    assert!(log.contains("FC Initialize Start RequestId: "), "{log}");
    assert!(log.contains("[INFO] initializing"), "{log}");
    assert!(log.contains(&format!("FC Invoke Start RequestId: {rid}")), "{log}");
    assert!(log.contains("event hello\n"), "{log}");
    assert!(log.contains(&format!(" {rid} [INFO] info line")), "FC's logger format: {log}");
    assert!(!log.contains("debug line hidden"), "INFO is the default level: {log}");

    let second = invoke(&server, &svc, "again", &[("x-fc-log-type", "Tail")]).await;
    let again = json_of(&second);
    assert_eq!(again["pid"], body["pid"], "the JVM is reused");
    assert_eq!(again["initialized"], 1, "the initializer runs once per instance");
    assert_eq!(again["invokes"], 2);
    assert!(!tail(&second).contains("initializing"), "each request gets its own log");

    let failed = invoke(&server, &svc, "fail", &[("x-fc-log-type", "Tail")]).await;
    assert_eq!(failed.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    let error = json_of(&failed);
    assert_eq!(error["errorMessage"], "oops");
    assert_eq!(error["errorType"], "java.io.IOException");
    assert_eq!(error["errorCause"], "oops");
    let trace = error["stackTrace"].as_array().expect("stackTrace");
    assert!(trace[0].as_str().unwrap_or_default().starts_with("example.Hello.handleRequest(Hello.java:"), "{error}");
    assert!(!trace.iter().any(|f| f.as_str().unwrap_or_default().contains("ferric.runtime")), "{error}");
    assert!(tail(&failed).contains("[ERROR] {\"errorMessage\":\"oops\""), "{}", tail(&failed));
    assert_eq!(json_of(&invoke(&server, &svc, "x", &[]).await)["pid"], body["pid"], "errors keep the JVM");

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
async fn timeouts_crashes_and_the_memory_limit_end_the_jvm() {
    if jdk_missing() {
        return;
    }
    let server = TestServer::start().await;
    let zip = classes_zip(&compiled_handlers());
    let svc =
        function(&server, "java11", "example.Hello::handleRequest", &zip, json!({"timeout": 2, "memorySize": 128}))
            .await;
    assert_eq!(json_of(&invoke(&server, &svc, "warm", &[]).await)["invokes"], 1);
    assert_eq!(json_of(&invoke(&server, &svc, "warm", &[]).await)["invokes"], 2);

    let timed_out = invoke(&server, &svc, "sleep", &[]).await;
    assert_eq!(timed_out.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    assert!(json_of(&timed_out)["errorMessage"]
        .as_str()
        .unwrap_or_default()
        .starts_with("Function timed out after 2 seconds"));
    let after = json_of(&invoke(&server, &svc, "x", &[]).await);
    assert_eq!(after["invokes"], 1, "a timed-out JVM is replaced (pids repeat across pid namespaces)");

    let exited = invoke(&server, &svc, "exit", &[]).await;
    let message = json_of(&exited)["errorMessage"].as_str().unwrap_or_default().to_string();
    assert!(message.starts_with("Process exited unexpectedly before completing request"), "{message}");

    let eaten = invoke(&server, &svc, "eat", &[]).await;
    assert_eq!(eaten.header("x-fc-error-type"), Some("UnhandledInvocationError"), "{}", text(&eaten));
    assert_eq!(invoke(&server, &svc, "fine", &[]).await.status, 200, "a new JVM serves after the memory failure");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pojo_handlers_from_a_jar_and_http_handlers_through_a_trigger() {
    if jdk_missing() {
        return;
    }
    let server = TestServer::start().await;
    let classes = compiled_handlers();
    // The same classes as a jar under lib/, as a zip of jars is uploaded.
    let jar = classes_zip(&classes);
    let zip = zip_with_modes(&[("lib/handlers.jar", jar.as_slice(), 0o644)]);
    let svc = function(&server, "java8", "example.Pojo::handleRequest", &zip, json!({})).await;
    let answered = invoke(&server, &svc, r#"{"name":"fc","numbers":[1,2,3],"ignored":true}"#, &[]).await;
    assert_eq!(answered.status, 200, "{}", text(&answered));
    assert_eq!(json_of(&answered), json!({"greeting": "hello fc", "sum": 6}));
    let bad = invoke(&server, &svc, "{not json", &[]).await;
    assert_eq!(bad.header("x-fc-error-type"), Some("UnhandledInvocationError"));
    assert!(json_of(&bad)["errorMessage"].as_str().unwrap_or_default().contains("invalid JSON"), "{}", text(&bad));

    let missing = function(&server, "java8", "example.Nope::handleRequest", &zip, json!({})).await;
    let error = json_of(&invoke(&server, &missing, "{}", &[]).await);
    assert_eq!(error["errorMessage"], "Class not found: example.Nope");

    let web = function(&server, "java8", "example.Web::handleRequest", &classes_zip(&classes), json!({})).await;
    let trigger = json!({"triggerName": "web", "triggerType": "http",
                         "triggerConfig": {"authType": "anonymous", "methods": ["GET", "POST"]}});
    server
        .client()
        .call(Method::POST, &format!("/services/{web}/functions/f/triggers"), &[], Some(&trigger))
        .await
        .expect("trigger");
    let url = format!("{}/2016-08-15/proxy/{web}/f/sub/path?q=1", server.endpoint);
    let response =
        reqwest::Client::new().post(&url).header("x-custom", "yes").body("payload").send().await.expect("post");
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.headers()["x-seen-method"], "POST");
    let multi: Vec<_> =
        response.headers().get_all("x-multi").iter().map(|v| v.to_str().unwrap_or_default().to_string()).collect();
    assert_eq!(multi, ["a", "b"]);
    assert_eq!(response.text().await.expect("body"), "path=/sub/path q=1 h=yes body=payload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_load_from_a_layers_java_lib() {
    if jdk_missing() {
        return;
    }
    let server = TestServer::start().await;
    let client = server.client();
    let jar = classes_zip(&compiled_handlers());
    let name = unique("jarlayer");
    let layer = zip_with_modes(&[("java/lib/handlers.jar", jar.as_slice(), 0o644)]);
    let published = client
        .call(
            Method::POST,
            &format!("/layers/{name}/versions"),
            &[],
            Some(&json!({"code": {"zipFile": b64(&layer)}, "compatibleRuntime": ["java8", "java11"]})),
        )
        .await
        .expect("publish")
        .json()
        .expect("json");
    // The function's own package holds no class: the handler comes from the layer.
    let zip = zip_with_modes(&[("README", b"handlers are in the layer".as_slice(), 0o644)]);
    let svc =
        function(&server, "java8", "example.Pojo::handleRequest", &zip, json!({"layers": [published["arnV2"]]})).await;
    let answered = invoke(&server, &svc, r#"{"name":"layer","numbers":[2,3]}"#, &[]).await;
    assert_eq!(answered.status, 200, "{}", text(&answered));
    assert_eq!(json_of(&answered), json!({"greeting": "hello layer", "sum": 5}), "{}", text(&answered));
    server.stop().await;
}
