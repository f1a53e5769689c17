//! The Java runtime (`java8`, `java11`) through the real server and sandbox, with handlers compiled here
//! by javac against FC's interfaces and uploaded as classes (and as a jar under `lib/`): stream, POJO and
//! HTTP handlers, the initializer once per instance, reuse, errors in FC's shape, timeouts, crashes, the
//! memory limit, async invocations and logs with Tail.

use std::path::Path;

use ferric_testkit::functions::{add_http_trigger, async_invocation_succeeds, b64, invoke, json_of, tail, text};
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

async fn function(server: &TestServer, runtime: &str, handler: &str, zip: &[u8], extra: Value) -> String {
    let mut function = json!({"timeout": 5, "memorySize": 256});
    if let (Some(map), Value::Object(more)) = (function.as_object_mut(), extra) {
        map.extend(more);
    }
    ferric_testkit::functions::create_function(server, "java", json!({}), runtime, handler, zip, function).await
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

    async_invocation_succeeds(&server, &svc, "queued").await;
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
    add_http_trigger(&server, &web).await;
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
async fn jvms_map_the_runtime_s_trained_class_data_sharing_archive() {
    if jdk_missing() {
        return;
    }
    let server = TestServer::start().await;
    let zip = classes_zip(&compiled_handlers());
    let svc = function(&server, "java11", "example.Probe::handleRequest", &zip, json!({})).await;
    let r = invoke(&server, &svc, "maps", &[]).await;
    assert_eq!(r.status, 200, "{}", text(&r));
    let archives: Vec<_> = std::fs::read_dir(server.data_dir().join("runtimes/java"))
        .expect("runtimes/java")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsa"))
        .collect();
    assert_eq!(archives.len(), 1, "one archive trained: {archives:?}");
    let size = std::fs::metadata(&archives[0]).expect("stat").len();
    assert!(size > 1 << 20, "a real archive: {size} bytes");
    let name = archives[0].file_name().expect("name").to_string_lossy().into_owned();
    let mapped = text(&r);
    assert!(mapped.lines().any(|l| l.ends_with(&format!("/java/{name}"))), "the JVM mapped {name}: {mapped:?}");

    // A second function's JVM maps the same archive, trained once.
    let modified = std::fs::metadata(&archives[0]).expect("stat").modified().expect("mtime");
    let other = function(&server, "java8", "example.Probe::handleRequest", &zip, json!({})).await;
    assert!(text(&invoke(&server, &other, "maps", &[]).await).contains(&name));
    assert_eq!(std::fs::metadata(&archives[0]).expect("stat").modified().expect("mtime"), modified, "not retrained");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_in_one_jvm_keep_their_own_logs() {
    if jdk_missing() {
        return;
    }
    let server = TestServer::start().await;
    let zip = classes_zip(&compiled_handlers());
    let svc =
        function(&server, "java11", "example.Probe::handleRequest", &zip, json!({"instanceConcurrency": 4})).await;
    let warm = text(&invoke(&server, &svc, "log warm", &[]).await);
    let jvm = warm.split(' ').nth(1).expect("jvm id").to_string();

    let tags = ["a", "b", "c", "d"];
    let call = |tag: &str| invoke(&server, &svc, format!("log {tag}"), &[("x-fc-log-type", "Tail")]);
    let (a, b, c, d) = tokio::join!(call("a"), call("b"), call("c"), call("d"));
    let answers = [a, b, c, d];
    for (tag, r) in tags.iter().zip(&answers) {
        assert_eq!(text(r), format!("{tag} {jvm}"), "all four ran at once in the warm JVM");
        let rid = r.header("x-fc-request-id").expect("rid");
        let log = tail(r);
        for i in 0..5 {
            assert!(log.contains(&format!(" {rid} [INFO] logger {tag} {i}\n")), "{tag}/{i} in {log}");
            for line in [format!("stdout {tag} {i}"), format!("stderr {tag} part {i}"), format!("thread {tag} {i}")] {
                assert!(log.lines().any(|l| l == line), "{line:?} whole on its own line in {log}");
            }
        }
        for other in tags.iter().filter(|t| *t != tag) {
            for word in ["logger", "stdout", "stderr", "thread"] {
                assert!(!log.contains(&format!("{word} {other} ")), "{other}'s output in {tag}'s log: {log}");
            }
        }
        for line in log.lines().filter(|l| l.contains(" [INFO] ")) {
            assert!(line.contains(&format!(" {rid} [INFO] ")), "FC's line with its own request id: {line}");
        }
    }
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
