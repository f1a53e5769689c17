//! Versions against the real server: publish snapshots, refuse an unchanged publish, page both ways,
//! never reuse an id, keep a version's code and configuration when LATEST moves on, and refuse deleting
//! a version an alias routes to (or a service that still has versions).

use base64::Engine;
use ferric_client::{Client, ClientError};
use ferric_testkit::{unique, zip_of, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

fn zip(text: &str) -> String {
    let code = format!("exports.handler = (e, c, cb) => cb(null, '{text}');");
    base64::engine::general_purpose::STANDARD.encode(zip_of(&[("index.js", &code)]))
}

async fn call(client: &Client, method: Method, path: &str, query: &[(&str, &str)], body: Option<Value>) -> Value {
    let r = client.call(method, path, query, body.as_ref()).await.unwrap_or_else(|e| panic!("{path}: {e}"));
    if r.body.is_empty() {
        Value::Null
    } else {
        r.json().expect("json")
    }
}

fn code_of(e: ClientError) -> (u16, String) {
    match e {
        ClientError::Api { status, code, .. } => (status, code),
        other => panic!("not an API error: {other}"),
    }
}

async fn publish(client: &Client, svc: &str, description: &str) -> Result<Value, ClientError> {
    let body = json!({"description": description});
    client
        .call(Method::POST, &format!("/services/{svc}/versions"), &[], Some(&body))
        .await
        .map(|r| r.json().expect("json"))
}

async fn setup(server: &TestServer) -> (Client, String) {
    let client = server.client();
    let svc = unique("ver");
    client.create_service(&json!({"serviceName": svc})).await.expect("service");
    let body = json!({"functionName": "f", "runtime": "nodejs20", "handler": "index.handler", "code": {"zipFile": zip("one")}});
    call(&client, Method::POST, &format!("/services/{svc}/functions"), &[], Some(body)).await;
    (client, svc)
}

async fn invoke(client: &Client, target: &str) -> (String, String) {
    let r = client
        .send(Method::POST, &format!("/services/{target}/functions/f/invocations"), &[], &[], Some(b"{}".to_vec()))
        .await
        .expect("invoke");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let version = r.header("x-fc-invocation-service-version").unwrap_or("").to_string();
    (String::from_utf8_lossy(&r.body).into_owned(), version)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_list_and_delete_like_fc() {
    let server = TestServer::start().await;
    let (client, svc) = setup(&server).await;
    let v1 = publish(&client, &svc, "first").await.expect("publish");
    assert_eq!(v1["versionId"], "1");
    assert_eq!(v1["description"], "first");
    assert!(v1["createdTime"].is_string() && v1["lastModifiedTime"].is_string());

    let (status, code) = code_of(publish(&client, &svc, "again").await.expect_err("nothing changed"));
    assert_eq!((status, code.as_str()), (400, "InvalidArgument"));
    let (status, code) = code_of(client.delete_service(&svc).await.expect_err("has a version"));
    assert_eq!((status, code.as_str()), (409, "ServiceNotEmpty"));

    for i in 2..=6 {
        let body = json!({"description": format!("d{i}")});
        call(&client, Method::PUT, &format!("/services/{svc}"), &[], Some(body)).await;
        assert_eq!(publish(&client, &svc, &format!("v{i}")).await.expect("publish")["versionId"], i.to_string());
    }
    let path = format!("/services/{svc}/versions");
    let page = call(&client, Method::GET, &path, &[("limit", "2")], None).await;
    let ids: Vec<&str> =
        page["versions"].as_array().expect("list").iter().filter_map(|v| v["versionId"].as_str()).collect();
    assert_eq!(ids, ["6", "5"], "BACKWARD is newest first");
    assert_eq!(page["nextToken"], "4");
    let next = call(&client, Method::GET, &path, &[("limit", "2"), ("nextToken", "4")], None).await;
    assert_eq!(next["versions"][0]["versionId"], "4");
    let forward =
        call(&client, Method::GET, &path, &[("direction", "FORWARD"), ("startKey", "2"), ("limit", "10")], None).await;
    let ids: Vec<&str> =
        forward["versions"].as_array().expect("list").iter().filter_map(|v| v["versionId"].as_str()).collect();
    assert_eq!(ids, ["2", "3", "4", "5", "6"]);
    assert!(forward.get("nextToken").is_none(), "the last page has no nextToken");

    call(&client, Method::DELETE, &format!("{path}/6"), &[], None).await;
    let body = json!({"description": "d7"});
    call(&client, Method::PUT, &format!("/services/{svc}"), &[], Some(body)).await;
    assert_eq!(publish(&client, &svc, "v7").await.expect("publish")["versionId"], "7", "ids are never reused");
    let err = client.call(Method::DELETE, &format!("{path}/6"), &[], None).await.expect_err("gone");
    assert_eq!(code_of(err), (404, "VersionNotFound".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_keeps_its_code_and_configuration() {
    let server = TestServer::start().await;
    let (client, svc) = setup(&server).await;
    publish(&client, &svc, "one").await.expect("v1");
    let v1_checksum = client.get_function(&svc, "f").await.expect("f")["codeChecksum"].clone();
    let body = json!({"description": "second", "code": {"zipFile": zip("two")}});
    call(&client, Method::PUT, &format!("/services/{svc}/functions/f"), &[], Some(body)).await;

    assert_eq!(invoke(&client, &svc).await, ("two".to_string(), "LATEST".to_string()));
    assert_eq!(invoke(&client, &format!("{svc}.1")).await, ("one".to_string(), "1".to_string()));
    assert_eq!(invoke(&client, &format!("{svc}.LATEST")).await.0, "two");

    let old = call(&client, Method::GET, &format!("/services/{svc}.1/functions/f"), &[], None).await;
    assert_eq!(old["description"], "");
    assert_eq!(old["codeChecksum"], v1_checksum);
    let code = call(&client, Method::GET, &format!("/services/{svc}.1/functions/f/code"), &[], None).await;
    assert_eq!(code["checksum"], v1_checksum);
    let download = reqwest::get(code["url"].as_str().expect("url")).await.expect("download");
    assert_eq!(download.status(), 200, "the version's package survived the update");

    let err = client.call(Method::GET, &format!("/services/{svc}.9/functions/f"), &[], None).await.expect_err("none");
    assert_eq!(code_of(err), (404, "VersionNotFound".to_string()));
    let listed = call(&client, Method::GET, &format!("/services/{svc}.1/functions"), &[], None).await;
    assert_eq!(listed["functions"].as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_an_alias_uses_cannot_be_deleted() {
    let server = TestServer::start().await;
    let (client, svc) = setup(&server).await;
    publish(&client, &svc, "one").await.expect("v1");
    let body = json!({"aliasName": "prod", "versionId": "1"});
    call(&client, Method::POST, &format!("/services/{svc}/aliases"), &[], Some(body)).await;
    let err = client.call(Method::DELETE, &format!("/services/{svc}/versions/1"), &[], None).await.expect_err("used");
    assert_eq!(code_of(err).0, 400);
    call(&client, Method::DELETE, &format!("/services/{svc}/aliases/prod"), &[], None).await;
    call(&client, Method::DELETE, &format!("/services/{svc}/versions/1"), &[], None).await;
}
