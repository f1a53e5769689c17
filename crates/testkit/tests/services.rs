//! Services through the FC API over real HTTP: CRUD, defaults, ETags, pagination, errors, isolation.

use ferric_client::ClientError;
use ferric_testkit::{unique, TestServer};
use reqwest::Method;
use serde_json::json;

fn api_error(result: Result<impl std::fmt::Debug, ClientError>) -> (u16, String, String) {
    match result {
        Err(ClientError::Api { status, code, message, request_id }) => {
            assert_eq!(request_id.len(), 36, "request id is a UUID");
            (status, code, message)
        }
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn create_get_update_delete_with_fc_defaults() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("svc");
    let created = client.create_service(&json!({"serviceName": name, "description": null})).await.expect("create");
    assert_eq!(created["serviceName"], name.as_str());
    assert_eq!(created["description"], "");
    assert_eq!(created["role"], "");
    assert!(created["logConfig"].is_object());
    // FC's value for "no rule", never the empty string the spec's enum refuses.
    assert_eq!(created["logConfig"]["logBeginRule"], "None");
    assert_eq!(created["internetAccess"], true);
    assert_eq!(created["serviceId"].as_str().map(str::len), Some(36));
    assert!(created["createdTime"].as_str().expect("time").ends_with('Z'));

    let got = client.call(Method::GET, &format!("/services/{name}.LATEST"), &[], None).await.expect("get");
    let etag = got.header("etag").expect("etag").to_string();
    assert!(!etag.is_empty());
    assert_eq!(got.json().expect("json")["serviceName"], name.as_str());

    // Case-insensitive keys, unknown keys ignored, null = unchanged.
    let updated = client
        .call(
            Method::PUT,
            &format!("/services/{name}"),
            &[],
            Some(
                &json!({"Description": "d2", "LogConfig": {"Project": "p", "logStore": "s"}, "bogus": 1, "role": null}),
            ),
        )
        .await
        .expect("update");
    let new_etag = updated.header("etag").expect("etag").to_string();
    assert_ne!(new_etag, etag, "ETag changes on update");
    let body = updated.json().expect("json");
    assert_eq!(body["description"], "d2");
    assert_eq!(body["logConfig"]["project"], "p");
    assert_eq!(body["logConfig"]["logstore"], "s");

    // A stale If-Match is refused; the current one is accepted.
    let stale = client
        .send(Method::PUT, &format!("/services/{name}"), &[], &[("if-match", &etag)], Some(b"{}".to_vec()))
        .await
        .expect("send");
    assert_eq!(stale.status, 412);
    assert_eq!(stale.json().expect("json")["ErrorCode"], "PreconditionFailed");
    let fresh = client
        .send(Method::DELETE, &format!("/services/{name}"), &[], &[("if-match", &new_etag)], None)
        .await
        .expect("send");
    assert_eq!(fresh.status, 204);
    let (status, code, message) = api_error(client.get_service(&name).await);
    assert_eq!((status, code.as_str()), (404, "ServiceNotFound"));
    assert_eq!(message, format!("service '{name}' does not exist"));
}

#[tokio::test]
async fn conflicts_and_invalid_names() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("svc");
    client.create_service(&json!({"serviceName": name})).await.expect("create");
    let (status, code, _) = api_error(client.create_service(&json!({"serviceName": name})).await);
    assert_eq!((status, code.as_str()), (409, "ServiceAlreadyExists"));
    for bad in ["1abc", "-x", "a.b", "", "ünïcode"] {
        let (status, code, _) = api_error(client.create_service(&json!({"serviceName": bad})).await);
        assert_eq!((status, code.as_str()), (400, "InvalidArgument"), "{bad}");
    }
    let (status, code, _) = api_error(client.create_service(&json!({"serviceName": "a".repeat(129)})).await);
    assert_eq!((status, code.as_str()), (400, "InvalidArgument"));
    let (status, _, _) = api_error(client.create_service(&json!({"description": "no name"})).await);
    assert_eq!(status, 400);
    let (status, code, _) =
        api_error(client.call(Method::POST, "/services", &[], Some(&json!({"serviceName": 5}))).await);
    assert_eq!((status, code.as_str()), (400, "InvalidArgument"));
    let garbage = client.send(Method::POST, "/services", &[], &[], Some(b"{not json".to_vec())).await.expect("send");
    assert_eq!(garbage.status, 400);
    assert_eq!(garbage.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn pagination_follows_fc_rules() {
    let server = TestServer::start().await;
    let client = server.client();
    for name in ["pa", "pb", "pc", "pd", "pe", "qa", "qb"] {
        client.create_service(&json!({"serviceName": name})).await.expect("create");
    }
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["services"]
            .as_array()
            .expect("array")
            .iter()
            .map(|s| s["serviceName"].as_str().expect("name").to_string())
            .collect()
    };
    let first =
        client.call(Method::GET, "/services", &[("limit", "3")], None).await.expect("list").json().expect("json");
    assert_eq!(names(&first), ["pa", "pb", "pc"]);
    let token = first["nextToken"].as_str().expect("nextToken").to_string();
    let second = client
        .call(Method::GET, "/services", &[("limit", "3"), ("nextToken", &token), ("startKey", "zz")], None)
        .await
        .expect("list")
        .json()
        .expect("json");
    assert_eq!(names(&second), ["pd", "pe", "qa"], "startKey is ignored once nextToken is given");
    let prefixed = client
        .call(Method::GET, "/services", &[("prefix", "p"), ("startKey", "pc")], None)
        .await
        .expect("list")
        .json()
        .expect("json");
    assert_eq!(names(&prefixed), ["pc", "pd", "pe"], "startKey is inclusive and prefix applies");
    assert!(prefixed.get("nextToken").is_none(), "nextToken is omitted on the last page");
    let all = client.call(Method::GET, "/services", &[], None).await.expect("list").json().expect("json");
    assert_eq!(names(&all).len(), 7);
    for bad in ["0", "101", "x"] {
        let err = client.call(Method::GET, "/services", &[("limit", bad)], None).await;
        assert_eq!(api_error(err).0, 400, "limit={bad}");
    }
}

#[tokio::test]
async fn accounts_are_isolated() {
    let server = TestServer::start().await;
    let (mine, theirs) = (server.client(), server.other_client());
    mine.create_service(&json!({"serviceName": "shared-name", "description": "mine"})).await.expect("create");
    let (status, code, _) = api_error(theirs.get_service("shared-name").await);
    assert_eq!((status, code.as_str()), (404, "ServiceNotFound"));
    assert_eq!(api_error(theirs.delete_service("shared-name").await).0, 404);
    theirs.create_service(&json!({"serviceName": "shared-name", "description": "theirs"})).await.expect("create");
    assert_eq!(mine.get_service("shared-name").await.expect("get")["description"], "mine");
    let listed = theirs.call(Method::GET, "/services", &[], None).await.expect("list").json().expect("json");
    assert_eq!(listed["services"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_unknown_paths_are_fc_errors() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    for path in ["/healthz", "/nope", "/2016-08-15/services", "/2016-08-15/unknown"] {
        let response = http.get(format!("{}{path}", server.endpoint)).send().await.expect("send");
        let id = response.headers().get("x-fc-request-id").expect("request id").to_str().expect("text");
        assert!(uuid_like(id), "{path}: {id}");
        if response.status() != 200 {
            assert_eq!(response.headers()["content-type"], "application/json");
            let body: serde_json::Value = response.json().await.expect("json error body");
            assert!(body["ErrorCode"].is_string() && body["ErrorMessage"].is_string());
        }
    }
    let response = http.get(format!("{}/nope", server.endpoint)).send().await.expect("send");
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["ErrorCode"], "PathNotSupported");
    assert_eq!(body["ErrorMessage"], "'GET' against '/nope' is not supported");
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4
}

/// Issue 9: `?limit=`, `?startTime=`, `?endTime=` and an empty PUT body were read as "absent".
#[tokio::test]
async fn empty_values_the_spec_refuses_are_refused() {
    let server = TestServer::start().await;
    let client = server.client();
    let svc = unique("svc");
    client.create_service(&json!({"serviceName": svc})).await.expect("service");
    client
        .create_function(&svc, "f", "nodejs20", "index.handler", &ferric_testkit::zip_of(&[("index.js", "x")]))
        .await
        .expect("function");
    let triggers = format!("/services/{svc}/functions/f/triggers");
    let trigger = json!({"triggerName": "t", "triggerType": "http",
                         "triggerConfig": {"authType": "anonymous", "methods": ["GET"]}});
    client.call(Method::POST, &triggers, &[], Some(&trigger)).await.expect("trigger");

    // What the Go SDK sends stays fine: empty nextToken, prefix and startKey mean absent.
    let listed = client.call(Method::GET, "/services", &[("nextToken", ""), ("prefix", ""), ("startKey", "")], None);
    assert_eq!(listed.await.expect("list").status, 200);
    for path in ["/services".to_string(), format!("/services/{svc}/functions"), triggers.clone()] {
        let (status, code, message) = api_error(client.call(Method::GET, &path, &[("limit", "")], None).await);
        assert_eq!((status, code.as_str()), (400, "InvalidArgument"), "{path}?limit=");
        assert!(message.contains("limit"), "{message}");
    }
    let stateful = format!("/services/{svc}/functions/f/stateful-async-invocations");
    assert_eq!(api_error(client.call(Method::GET, &stateful, &[("limit", "")], None).await).0, 400);
    for key in ["startTime", "endTime", "limit"] {
        let response = client.send_to(Method::GET, "/ferric/v1/logs", &[(key, "")], &[], None).await.expect("send");
        assert_eq!(response.status, 400, "logs?{key}=");
        assert_eq!(response.json().expect("json")["ErrorCode"], "InvalidArgument");
    }

    // An empty PUT body is refused; `{}` (what the Python SDK sends when nothing changes) is not.
    for path in [format!("/services/{svc}"), format!("/services/{svc}/functions/f"), format!("{triggers}/t")] {
        let response = client.send(Method::PUT, &path, &[], &[], Some(Vec::new())).await.expect("send");
        assert_eq!(response.status, 400, "empty PUT {path}");
        let body = response.json().expect("json");
        assert_eq!(body["ErrorCode"], "InvalidArgument", "{path}: {body}");
        let response = client.send(Method::PUT, &path, &[], &[], Some(b"{}".to_vec())).await.expect("send");
        assert_eq!(response.status, 200, "PUT {{}} {path}");
    }
}
