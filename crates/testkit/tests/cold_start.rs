//! A cold start is visible: the invocation that started an instance carries `X-Fc-Init-Duration` and an
//! `FC Cold Start` line after `FC Invoke End`; a warm one carries neither, over InvokeFunction and over an
//! HTTP trigger, with a real Node.js runtime.

use base64::Engine;
use ferric_testkit::{unique, zip_of, TestServer};
use reqwest::Method;
use serde_json::json;

async fn deploy(server: &TestServer, code: &str, http_trigger: bool) -> String {
    let client = server.client();
    let svc = unique("cold");
    client.create_service(&json!({"serviceName": svc})).await.expect("service");
    let body = json!({
        "functionName": "f", "runtime": "nodejs20", "handler": "index.handler",
        "code": {"zipFile": base64::engine::general_purpose::STANDARD.encode(zip_of(&[("index.js", code)]))},
    });
    client.call(Method::POST, &format!("/services/{svc}/functions"), &[], Some(&body)).await.expect("function");
    if http_trigger {
        let trigger = json!({"triggerName": "web", "triggerType": "http",
                             "triggerConfig": {"authType": "anonymous", "methods": ["GET"]}});
        client
            .call(Method::POST, &format!("/services/{svc}/functions/f/triggers"), &[], Some(&trigger))
            .await
            .expect("trigger");
    }
    svc
}

/// The whole milliseconds of `X-Fc-Init-Duration`, if present (and then well-formed).
fn init_ms(value: Option<&str>) -> Option<u64> {
    value.map(|v| v.parse::<u64>().unwrap_or_else(|_| panic!("x-fc-init-duration {v:?}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_function_reports_the_cold_start_once() {
    let server = TestServer::start().await;
    let svc = deploy(&server, "exports.handler = (e, c, cb) => cb(null, 'ok');\n", false).await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let r = server
            .client()
            .send(
                Method::POST,
                &format!("/services/{svc}/functions/f/invocations"),
                &[],
                &[("x-fc-log-type", "Tail")],
                Some(Vec::new()),
            )
            .await
            .expect("invoke");
        assert_eq!(r.status, 200);
        let rid = r.header("x-fc-request-id").expect("rid").to_string();
        let tail = base64::engine::general_purpose::STANDARD
            .decode(r.header("x-fc-log-result").expect("log tail"))
            .expect("base64");
        let log = String::from_utf8(tail).expect("utf-8");
        seen.push((init_ms(r.header("x-fc-init-duration")), log, rid));
    }
    let (cold, cold_log, cold_rid) = &seen[0];
    assert!(cold.is_some_and(|ms| ms >= 1), "the first call started the instance: {cold:?}");
    let lines: Vec<&str> = cold_log.lines().collect();
    let end = lines.iter().position(|l| l.starts_with(&format!("FC Invoke End RequestId: {cold_rid}"))).expect("end");
    let report = lines.get(end + 1).expect("a line after FC Invoke End");
    assert!(report.starts_with(&format!("FC Cold Start RequestId: {cold_rid}, Init Duration: ")), "{cold_log}");
    assert!(report.ends_with(" ms"), "{report}");

    let (warm, warm_log, _) = &seen[1];
    assert_eq!(*warm, None, "a warm call has no init duration");
    assert!(!warm_log.contains("FC Cold Start"), "{warm_log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_triggers_report_the_cold_start_once_and_drop_a_functions_own_header() {
    let server = TestServer::start().await;
    // The function tries to set the header itself: only Ferric's value, on a cold call, may come out.
    let code =
        "exports.handler = (req, resp, ctx) => { resp.setHeader('x-fc-init-duration', 'fake'); resp.send('hi'); };\n";
    let svc = deploy(&server, code, true).await;
    let http = reqwest::Client::new();
    let url = format!("{}/2016-08-15/proxy/{svc}/f/", server.endpoint);
    let mut values = Vec::new();
    for _ in 0..2 {
        let r = http.get(&url).send().await.expect("send");
        assert_eq!(r.status(), 200);
        values.push(init_ms(r.headers().get("x-fc-init-duration").map(|v| v.to_str().expect("ascii"))));
        assert_eq!(r.text().await.expect("body"), "hi");
    }
    assert!(values[0].is_some_and(|ms| ms >= 1), "{values:?}");
    assert_eq!(values[1], None);
}
