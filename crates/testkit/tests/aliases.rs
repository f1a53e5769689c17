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

/// Issue 11 item 8 and the qualifier gap: a handler's `context.service.qualifier` held the resolved
/// version, and `context.tracing` was always empty. Now it holds what the caller named (an alias stays
/// its name, `versionId` the version it resolved to) and the caller's span with the service's Jaeger
/// endpoint, in Node, Python and PHP alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_context_names_the_callers_qualifier_and_tracing() {
    let server = TestServer::start().await;
    let client = server.client();
    let svc = unique("ctx");
    let endpoint = "http://jaeger.example.test:14268/api/traces";
    let tracing_config = json!({"type": "Jaeger", "params": {"endpoint": endpoint}});
    client.create_service(&json!({"serviceName": svc, "tracingConfig": tracing_config})).await.expect("service");
    let node = "exports.handler = (e, c, cb) => cb(null, JSON.stringify({s: c.service, t: c.tracing}));";
    let python = "import json\ndef handler(e, c):\n    s, t = c.service, c.tracing\n    return json.dumps({'s': {'qualifier': s.qualifier, 'versionId': s.version_id}, 't': t.to_dict()})\n";
    let php = "<?php\nfunction handler($e, $c) { return json_encode(['s' => $c['service'], 't' => $c['tracing']]); }\n";
    let functions = [
        ("node", "nodejs20", "index.handler", "index.js", node),
        ("py", "python3.10", "index.handler", "index.py", python),
        ("php", "php7.2", "index.handler", "index.php", php),
    ];
    for (name, runtime, handler, file, code) in functions {
        let zip = base64::engine::general_purpose::STANDARD.encode(zip_of(&[(file, code)]));
        let body = json!({"functionName": name, "runtime": runtime, "handler": handler, "code": {"zipFile": zip}});
        call(&client, Method::POST, &format!("/services/{svc}/functions"), Some(body)).await.expect("function");
    }
    call(&client, Method::POST, &format!("/services/{svc}/versions"), Some(json!({}))).await.expect("v1");
    let alias = json!({"aliasName": "prod", "versionId": "1"});
    call(&client, Method::POST, &format!("/services/{svc}/aliases"), Some(alias)).await.expect("alias");

    let baggages = base64::engine::general_purpose::STANDARD.encode(br#"{"tenant":"t1"}"#);
    for (name, ..) in functions {
        let headers = [
            ("x-fc-tracing-opentracing-span-context", "5e2f:6a1b:0:1"),
            ("x-fc-tracing-opentracing-span-baggages", baggages.as_str()),
        ];
        let path = format!("/services/{svc}.prod/functions/{name}/invocations");
        let r = client.send(Method::POST, &path, &[], &headers, Some(b"{}".to_vec())).await.expect("invoke");
        assert_eq!(r.status, 200, "{name}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.header("x-fc-invocation-service-version"), Some("1"), "{name}: the version still reported");
        let seen: Value = serde_json::from_slice(&r.body).unwrap_or_else(|_| panic!("{name}: {:?}", r.body));
        assert_eq!(seen["s"]["qualifier"], "prod", "{name}: {seen}");
        assert_eq!(seen["s"]["versionId"], "1", "{name}: {seen}");
        assert_eq!(
            seen["t"],
            json!({"openTracingSpanContext": "5e2f:6a1b:0:1", "openTracingSpanBaggages": {"tenant": "t1"},
                   "jaegerEndpoint": endpoint}),
            "{name}"
        );

        // A call by version id names the version; with no span the endpoint still shows.
        let path = format!("/services/{svc}.1/functions/{name}/invocations");
        let r = client.send(Method::POST, &path, &[], &[], Some(b"{}".to_vec())).await.expect("invoke");
        let seen: Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(seen["s"]["qualifier"], "1", "{name}: {seen}");
        assert_eq!(seen["t"]["jaegerEndpoint"], endpoint, "{name}: {seen}");
        assert_eq!(seen["t"]["openTracingSpanContext"], "", "{name}: {seen}");
    }

    let bad = [("x-fc-tracing-opentracing-span-baggages", "%%%")];
    let path = format!("/services/{svc}/functions/node/invocations");
    let r = client.send(Method::POST, &path, &[], &bad, Some(b"{}".to_vec())).await;
    assert!(
        matches!(r, Err(ClientError::Api { status: 400, .. })) || r.as_ref().is_ok_and(|r| r.status == 400),
        "{r:?}"
    );
}
