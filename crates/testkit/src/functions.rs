//! What the runtime suites (`custom_runtime`, `java_runtime`, `php_runtime`, ...) do to every function
//! they test: create a service holding one function `f` from a zip, invoke it with headers, read its
//! answer as text or JSON, decode its Tail log, and wait for a stateful async invocation to settle.

use std::time::Duration;

use base64::Engine;
use ferric_client::Response;
use reqwest::Method;
use serde_json::{json, Value};

use crate::{unique, TestServer};

/// Standard base64, as `code.zipFile` and `x-fc-log-result` carry it.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Creates a service named after `prefix` (with `service` merged into its body) holding function `f`
/// of `runtime` and `handler` from `zip`, `function` merged into the function's body over the defaults.
/// Returns the service's name.
pub async fn create_function(
    server: &TestServer,
    prefix: &str,
    service: Value,
    runtime: &str,
    handler: &str,
    zip: &[u8],
    function: Value,
) -> String {
    let client = server.client();
    let svc = unique(prefix);
    let mut service_body = json!({"serviceName": svc});
    merge(&mut service_body, service);
    client.create_service(&service_body).await.expect("create service");
    let mut body = json!({
        "functionName": "f", "runtime": runtime, "handler": handler, "code": {"zipFile": b64(zip)},
    });
    merge(&mut body, function);
    let created = client.call(Method::POST, &format!("/services/{svc}/functions"), &[], Some(&body)).await;
    assert!(created.is_ok(), "create function: {created:?}");
    svc
}

fn merge(body: &mut Value, extra: Value) {
    if let (Some(map), Value::Object(more)) = (body.as_object_mut(), extra) {
        map.extend(more);
    }
}

/// `POST /services/<svc>/functions/f/invocations` with `event` as the body.
pub async fn invoke(server: &TestServer, svc: &str, event: impl Into<Vec<u8>>, headers: &[(&str, &str)]) -> Response {
    server
        .client()
        .send(Method::POST, &format!("/services/{svc}/functions/f/invocations"), &[], headers, Some(event.into()))
        .await
        .expect("invoke")
}

/// The body as (lossy) UTF-8.
pub fn text(r: &Response) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// The body as JSON; panics with the body when it is not.
pub fn json_of(r: &Response) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {}", text(r)))
}

/// The decoded `x-fc-log-result` (asked for with `x-fc-log-type: Tail`).
pub fn tail(r: &Response) -> String {
    let encoded = r.header("x-fc-log-result").expect("x-fc-log-result");
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64");
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Polls stateful async invocation `id` of `svc/f` (every 20 ms, 6 s at most) until it leaves
/// Enqueued/Running; returns its last status document.
pub async fn settled_async(server: &TestServer, svc: &str, id: &str) -> Value {
    let path = format!("/services/{svc}/functions/f/stateful-async-invocations/{id}");
    let mut status = Value::Null;
    for _ in 0..300 {
        status = server.client().call(Method::GET, &path, &[], None).await.expect("get").json().expect("json");
        if !matches!(status["status"].as_str(), Some("Enqueued") | Some("Running")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    status
}

/// Invokes `svc/f` asynchronously with `event` and asserts the invocation ends `Succeeded`.
pub async fn async_invocation_succeeds(server: &TestServer, svc: &str, event: &str) {
    let id = unique("job");
    let headers = [("x-fc-invocation-type", "Async"), ("x-fc-stateful-async-invocation-id", id.as_str())];
    let accepted = invoke(server, svc, event, &headers).await;
    assert_eq!(accepted.status, 202, "{}", text(&accepted));
    let status = settled_async(server, svc, &id).await;
    assert_eq!(status["status"], "Succeeded", "{status}");
}

/// Adds an anonymous HTTP trigger `web` (GET and POST) to `svc/f`.
pub async fn add_http_trigger(server: &TestServer, svc: &str) {
    let trigger = json!({"triggerName": "web", "triggerType": "http",
                         "triggerConfig": {"authType": "anonymous", "methods": ["GET", "POST"]}});
    server
        .client()
        .call(Method::POST, &format!("/services/{svc}/functions/f/triggers"), &[], Some(&trigger))
        .await
        .expect("create trigger");
}
