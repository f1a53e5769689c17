//! Triggers through the FC API: timer and http configs validated and echoed verbatim, other types refused.

use ferric_client::ClientError;
use ferric_testkit::{unique, zip_of, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

async fn function(server: &TestServer) -> String {
    let svc = unique("svc");
    let client = server.client();
    client.create_service(&json!({"serviceName": svc})).await.expect("service");
    client.create_function(&svc, "f", "nodejs20", "index.handler", &zip_of(&[("index.js", "x")])).await.expect("fn");
    format!("/services/{svc}/functions/f/triggers")
}

async fn create(server: &TestServer, path: &str, body: Value) -> Result<Value, ClientError> {
    server.client().call(Method::POST, path, &[], Some(&body)).await?.json()
}

fn error_code(result: Result<Value, ClientError>) -> (u16, String, String) {
    match result {
        Err(ClientError::Api { status, code, message, .. }) => (status, code, message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn timer_and_http_configs_round_trip_verbatim() {
    let server = TestServer::start().await;
    let path = function(&server).await;
    let timer_config = json!({"payload": "{\"a\":1}", "cronExpression": "0 0/5 * * * *", "enable": true});
    let timer = create(
        &server,
        &path,
        json!({"triggerName": "tick", "triggerType": "timer", "triggerConfig": timer_config,
               "sourceArn": null, "invocationRole": null, "qualifier": null, "description": ""}),
    )
    .await
    .expect("timer");
    assert_eq!(timer["triggerConfig"], timer_config);
    assert_eq!(timer["triggerType"], "timer");
    assert_eq!(timer["invocationRole"], "");
    assert_eq!(timer["triggerId"].as_str().map(str::len), Some(36));

    let http_config = json!({"authType": "anonymous", "methods": ["GET", "POST"]});
    let http = create(
        &server,
        &path,
        json!({"triggerName": "web", "triggerType": "http", "triggerConfig": http_config, "sourceArn": "dummy_arn"}),
    )
    .await
    .expect("http");
    assert_eq!(http["triggerConfig"], http_config);
    assert_eq!(http["sourceArn"], Value::Null, "http triggers have no event source");

    let got = server.client().call(Method::GET, &format!("{path}/tick"), &[], None).await.expect("get");
    assert!(got.header("etag").is_some());
    assert_eq!(got.json().expect("json")["triggerConfig"], timer_config);

    let every = json!({"cronExpression": "@every 90s", "enable": false});
    let updated = server
        .client()
        .call(Method::PUT, &format!("{path}/tick"), &[], Some(&json!({"triggerConfig": every})))
        .await
        .expect("update")
        .json()
        .expect("json");
    assert_eq!(updated["triggerConfig"], every);

    let listed =
        server.client().call(Method::GET, &path, &[("limit", "1")], None).await.expect("list").json().expect("json");
    assert_eq!(listed["triggers"][0]["triggerName"], "tick");
    assert_eq!(listed["nextToken"], "web");
}

#[tokio::test]
async fn invalid_triggers_are_refused_with_reasons() {
    let server = TestServer::start().await;
    let path = function(&server).await;
    let cases = [
        (json!({"triggerName": "t", "triggerType": "oss", "triggerConfig": {}}), "supported types: timer, http"),
        (
            json!({"triggerName": "t", "triggerType": "timer", "triggerConfig": {"cronExpression": "0 61 * * * *"}}),
            "minute",
        ),
        (
            json!({"triggerName": "t", "triggerType": "timer", "triggerConfig": {"cronExpression": "*/5 * * * *"}}),
            "six fields",
        ),
        (json!({"triggerName": "t", "triggerType": "timer", "triggerConfig": {}}), "cronExpression"),
        (
            json!({"triggerName": "t", "triggerType": "http", "triggerConfig": {"authType": "nobody", "methods": ["GET"]}}),
            "nobody",
        ),
        (
            json!({"triggerName": "t", "triggerType": "http", "triggerConfig": {"authType": "function", "methods": ["FOO"]}}),
            "FOO",
        ),
        (json!({"triggerName": "t", "triggerType": "http", "triggerConfig": "not an object"}), "object"),
        (json!({"triggerType": "http", "triggerConfig": {}}), "triggerName"),
    ];
    for (body, needle) in cases {
        let (status, code, message) = error_code(create(&server, &path, body.clone()).await);
        assert_eq!((status, code.as_str()), (400, "InvalidArgument"), "{body}");
        assert!(message.contains(needle), "{body}: {message}");
    }
}

#[tokio::test]
async fn day_of_week_follows_fc_numbering() {
    let server = TestServer::start().await;
    let path = function(&server).await;
    for (name, cron) in
        [("sun7", "0 0 0 ? * 7"), ("sun0", "0 0 0 ? * 0"), ("week", "0 0 0 ? * MON-SUN"), ("end", "0 0 8 * * 5-7")]
    {
        let body = json!({"triggerName": name, "triggerType": "timer", "triggerConfig": {"cronExpression": cron}});
        create(&server, &path, body).await.unwrap_or_else(|e| panic!("{cron}: {e}"));
    }
    let bad = json!({"triggerName": "t8", "triggerType": "timer", "triggerConfig": {"cronExpression": "0 0 0 ? * 8"}});
    assert_eq!(error_code(create(&server, &path, bad).await).0, 400);
}

#[tokio::test]
async fn a_function_has_at_most_one_http_trigger() {
    let server = TestServer::start().await;
    let path = function(&server).await;
    let http = |name: &str| json!({"triggerName": name, "triggerType": "http", "triggerConfig": {"authType": "anonymous", "methods": ["GET"]}});
    create(&server, &path, http("web")).await.expect("first http trigger");
    let (status, code, message) = error_code(create(&server, &path, http("web2")).await);
    assert_eq!((status, code.as_str()), (400, "InvalidArgument"));
    assert!(message.contains("already has the HTTP trigger 'web'"), "{message}");
    let timer =
        json!({"triggerName": "tick", "triggerType": "timer", "triggerConfig": {"cronExpression": "@every 1m"}});
    create(&server, &path, timer).await.expect("timers are not limited");
}

#[tokio::test]
async fn trigger_errors_follow_fc() {
    let server = TestServer::start().await;
    let path = function(&server).await;
    let body = json!({"triggerName": "t", "triggerType": "http", "triggerConfig": {"authType": "function", "methods": ["GET"]}});
    create(&server, &path, body.clone()).await.expect("create");
    let (status, code, _) = error_code(create(&server, &path, body).await);
    assert_eq!((status, code.as_str()), (409, "TriggerAlreadyExists"));
    let (status, code, message) =
        error_code(server.client().call(Method::GET, &format!("{path}/ghost"), &[], None).await.and_then(|r| r.json()));
    assert_eq!((status, code.as_str()), (404, "TriggerNotFound"));
    assert_eq!(message, "trigger 'ghost' does not exist in function 'f'");
    let change_type = json!({"triggerType": "timer"});
    let (status, _, _) = error_code(
        server.client().call(Method::PUT, &format!("{path}/t"), &[], Some(&change_type)).await.and_then(|r| r.json()),
    );
    assert_eq!(status, 400);
    let missing_fn = path.replace("/functions/f/", "/functions/nope/");
    let (status, code, _) =
        error_code(server.client().call(Method::GET, &missing_fn, &[], None).await.and_then(|r| r.json()));
    assert_eq!((status, code.as_str()), (404, "FunctionNotFound"));
}

/// Issue 11's qualifier gap: a trigger on an alias or version that does not exist was accepted and then
/// fired into nothing.
#[tokio::test]
async fn a_trigger_names_a_qualifier_that_exists() {
    let server = TestServer::start().await;
    let path = function(&server).await;
    let svc = path.split('/').nth(2).expect("service").to_string();
    let timer = |name: &str, qualifier: &str| {
        json!({"triggerName": name, "triggerType": "timer", "qualifier": qualifier,
               "triggerConfig": {"cronExpression": "@every 1m"}})
    };
    let (status, code, _) = error_code(create(&server, &path, timer("a", "prod")).await);
    assert_eq!((status, code.as_str()), (404, "AliasNotFound"));
    let (status, code, _) = error_code(create(&server, &path, timer("v", "7")).await);
    assert_eq!((status, code.as_str()), (404, "VersionNotFound"));

    let client = server.client();
    client.call(Method::POST, &format!("/services/{svc}/versions"), &[], Some(&json!({}))).await.expect("v1");
    let alias = json!({"aliasName": "prod", "versionId": "1"});
    client.call(Method::POST, &format!("/services/{svc}/aliases"), &[], Some(&alias)).await.expect("alias");
    let created = create(&server, &path, timer("a", "prod")).await.expect("an existing alias");
    assert_eq!(created["qualifier"], "prod");
    create(&server, &path, timer("v", "1")).await.expect("an existing version");
    create(&server, &path, timer("l", "LATEST")).await.expect("LATEST");

    let moved = json!({"qualifier": "staging"});
    let (status, code, _) =
        error_code(client.call(Method::PUT, &format!("{path}/a"), &[], Some(&moved)).await.and_then(|r| r.json()));
    assert_eq!((status, code.as_str()), (404, "AliasNotFound"));
}
