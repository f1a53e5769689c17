//! Aliases against the real server: CRUD in FC's shape with ETags, unknown versions refused, and
//! weighted routing chosen per request and reported in `x-fc-invocation-service-version`.

use base64::Engine;
use ferric_client::{Client, ClientError};
use ferric_testkit::{unique, zip_of, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

fn zip(text: &str) -> String {
    let code = format!("exports.handler = (e, c, cb) => cb(null, '{text}');");
    base64::engine::general_purpose::STANDARD.encode(zip_of(&[("index.js", &code)]))
}

async fn call(
    client: &Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<(Value, String), ClientError> {
    let r = client.call(method, path, &[], body.as_ref()).await?;
    let etag = r.header("etag").unwrap_or("").to_string();
    Ok((if r.body.is_empty() { Value::Null } else { r.json()? }, etag))
}

/// A service whose function answers "one" in version 1 and "two" in version 2.
async fn two_versions(server: &TestServer) -> (Client, String) {
    let client = server.client();
    let svc = unique("alias");
    client.create_service(&json!({"serviceName": svc})).await.expect("service");
    let body = json!({"functionName": "f", "runtime": "nodejs20", "handler": "index.handler", "code": {"zipFile": zip("one")}});
    call(&client, Method::POST, &format!("/services/{svc}/functions"), Some(body)).await.expect("function");
    call(&client, Method::POST, &format!("/services/{svc}/versions"), Some(json!({}))).await.expect("v1");
    let body = json!({"code": {"zipFile": zip("two")}});
    call(&client, Method::PUT, &format!("/services/{svc}/functions/f"), Some(body)).await.expect("update");
    call(&client, Method::POST, &format!("/services/{svc}/versions"), Some(json!({}))).await.expect("v2");
    (client, svc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_in_fcs_shape() {
    let server = TestServer::start().await;
    let (client, svc) = two_versions(&server).await;
    let path = format!("/services/{svc}/aliases");
    let (created, etag) =
        call(&client, Method::POST, &path, Some(json!({"aliasName": "prod", "versionId": "1", "description": "d"})))
            .await
            .expect("create");
    assert_eq!(created["aliasName"], "prod");
    assert_eq!(created["versionId"], "1");
    assert_eq!(created["description"], "d");
    assert_eq!(created["additionalVersionWeight"], json!({}));
    assert!(!etag.is_empty());
    let err = call(&client, Method::POST, &path, Some(json!({"aliasName": "prod", "versionId": "1"}))).await;
    assert!(matches!(err, Err(ClientError::Api { status: 409, ref code, .. }) if code == "AliasAlreadyExists"));
    let err = call(&client, Method::POST, &path, Some(json!({"aliasName": "x", "versionId": "9"}))).await;
    assert!(matches!(err, Err(ClientError::Api { status: 404, ref code, .. }) if code == "VersionNotFound"));

    let one = format!("{path}/prod");
    let body = json!({"additionalVersionWeight": {"2": 0.3}, "description": ""});
    let (updated, new_etag) = call(&client, Method::PUT, &one, Some(body)).await.expect("update");
    assert_eq!(updated["versionId"], "1");
    assert_eq!(updated["description"], "");
    assert_eq!(updated["additionalVersionWeight"], json!({"2": 0.3}));
    assert_ne!(etag, new_etag);
    let stale = client
        .send(Method::PUT, &one, &[], &[("if-match", &etag)], Some(json!({"versionId": "2"}).to_string().into_bytes()))
        .await
        .expect("send");
    assert_eq!(stale.status, 412);

    let (listed, _) = call(&client, Method::GET, &path, None).await.expect("list");
    assert_eq!(listed["aliases"][0]["additionalVersionWeight"], json!({"2": 0.3}));
    call(&client, Method::DELETE, &one, None).await.expect("delete");
    let err = call(&client, Method::GET, &one, None).await;
    assert!(matches!(err, Err(ClientError::Api { status: 404, ref code, .. }) if code == "AliasNotFound"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weighted_routing_splits_per_request() {
    let server = TestServer::start().await;
    let (client, svc) = two_versions(&server).await;
    let body = json!({"aliasName": "canary", "versionId": "1", "additionalVersionWeight": {"2": 0.3}});
    call(&client, Method::POST, &format!("/services/{svc}/aliases"), Some(body)).await.expect("alias");

    let path = format!("/services/{svc}.canary/functions/f/invocations");
    let mut on_two = 0;
    for _ in 0..1000 {
        let r = client.send(Method::POST, &path, &[], &[], Some(b"{}".to_vec())).await.expect("invoke");
        assert_eq!(r.status, 200);
        let version = r.header("x-fc-invocation-service-version").unwrap_or("").to_string();
        let body = String::from_utf8_lossy(&r.body).into_owned();
        match version.as_str() {
            "1" => assert_eq!(body, "one"),
            "2" => {
                assert_eq!(body, "two");
                on_two += 1;
            }
            other => panic!("unexpected version {other}"),
        }
    }
    assert!((240..=360).contains(&on_two), "{on_two} of 1000 calls on the 0.3-weighted version");

    // Moving the alias changes routing at once.
    let body = json!({"versionId": "2", "additionalVersionWeight": {}});
    call(&client, Method::PUT, &format!("/services/{svc}/aliases/canary"), Some(body)).await.expect("move");
    let r = client.send(Method::POST, &path, &[], &[], Some(b"{}".to_vec())).await.expect("invoke");
    assert_eq!(r.header("x-fc-invocation-service-version"), Some("2"));
}
