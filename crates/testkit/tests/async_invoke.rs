//! Async invocations: durable acceptance, retries with backoff, event age, destinations, stateful
//! invocation records and the async-invoke-config routes.

use base64::Engine;
use ferric_testkit::{unique, zip_of, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

async fn server() -> TestServer {
    TestServer::start_with(|c| {
        c.queue.backoff = std::time::Duration::from_millis(50);
        c.queue.poll = std::time::Duration::from_millis(20);
    })
    .await
}

async fn deploy(server: &TestServer, svc: &str, name: &str, code: &str) {
    let body = json!({
        "functionName": name, "runtime": "nodejs20", "handler": "index.handler",
        "code": {"zipFile": base64::engine::general_purpose::STANDARD.encode(zip_of(&[("index.js", code)]))},
    });
    server
        .client()
        .call(Method::POST, &format!("/services/{svc}/functions"), &[], Some(&body))
        .await
        .expect("function");
}

async fn service(server: &TestServer) -> String {
    let svc = unique("async");
    server.client().create_service(&json!({"serviceName": svc})).await.expect("service");
    svc
}

async fn invoke_async(server: &TestServer, svc: &str, f: &str, payload: &str, id: Option<&str>) -> String {
    let mut headers = vec![("x-fc-invocation-type", "Async")];
    if let Some(id) = id {
        headers.push(("x-fc-stateful-async-invocation-id", id));
    }
    let r = server
        .client()
        .send(
            Method::POST,
            &format!("/services/{svc}/functions/{f}/invocations"),
            &[],
            &headers,
            Some(payload.as_bytes().to_vec()),
        )
        .await
        .expect("invoke");
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.body.is_empty());
    id.map(str::to_string).unwrap_or_else(|| r.header("x-fc-request-id").expect("rid").to_string())
}

/// Polls a stateful invocation until it leaves Enqueued/Running.
async fn settled(server: &TestServer, svc: &str, f: &str, id: &str) -> Value {
    for _ in 0..300 {
        let r = server
            .client()
            .call(Method::GET, &format!("/services/{svc}/functions/{f}/stateful-async-invocations/{id}"), &[], None)
            .await
            .expect("get invocation")
            .json()
            .expect("json");
        if !matches!(r["status"].as_str(), Some("Enqueued") | Some("Running")) {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("invocation {id} did not finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_events_run_and_are_recorded() {
    let server = server().await;
    let svc = service(&server).await;
    deploy(&server, &svc, "f", "exports.handler = (e, c, cb) => cb(null, 'done:' + e);").await;
    let id = invoke_async(&server, &svc, "f", "one", None).await;
    let record = settled(&server, &svc, "f", &id).await;
    assert_eq!(record["status"], "Succeeded");
    assert_eq!(record["invocationPayload"], "one");
    assert_eq!(record["alreadyRetriedTimes"], 0);
    // A success destination receives FC's destination event with the response.
    deploy(&server, &svc, "sink", "exports.handler = (e, c, cb) => cb(null, 'seen');").await;
    let config =
        json!({"destinationConfig": {"onSuccess": {"destination": format!("acs:fc:::services/{svc}/functions/sink")}}});
    server
        .client()
        .call(Method::PUT, &format!("/services/{svc}/functions/f/async-invoke-config"), &[], Some(&config))
        .await
        .expect("config");
    let sent = invoke_async(&server, &svc, "f", "three", None).await;
    assert_eq!(settled(&server, &svc, "f", &sent).await["status"], "Succeeded");
    let mut event = Value::Null;
    for _ in 0..200 {
        let list = invocations(&server, &svc, "sink").await;
        if let Some(payload) = list.first().and_then(|i| i["invocationPayload"].as_str()) {
            event = serde_json::from_str(payload).expect("event");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(event["requestContext"]["condition"], "Success", "{event}");
    assert_eq!(event["responsePayload"], "done:three");

    let named = invoke_async(&server, &svc, "f", "two", Some("my-invocation-1")).await;
    assert_eq!(settled(&server, &svc, "f", &named).await["status"], "Succeeded");
    let list = server
        .client()
        .call(Method::GET, &format!("/services/{svc}/functions/f/stateful-async-invocations"), &[("limit", "1")], None)
        .await
        .expect("list")
        .json()
        .expect("json");
    assert_eq!(list["invocations"].as_array().map(Vec::len), Some(1));
    assert!(list["nextToken"].is_string());
    let missing = server
        .client()
        .call(Method::GET, &format!("/services/{svc}/functions/f/stateful-async-invocations/nope"), &[], None)
        .await;
    assert!(matches!(missing, Err(ferric_client::ClientError::Api { status: 404, .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_retry_then_fail_and_reach_their_destination() {
    let server = server().await;
    let svc = service(&server).await;
    deploy(&server, &svc, "bad", "exports.handler = (e, c, cb) => cb(new Error('always'));").await;
    deploy(&server, &svc, "sink", "exports.handler = (e, c, cb) => cb(null, 'seen');").await;
    let config = json!({
        "maxAsyncRetryAttempts": 2,
        "destinationConfig": {
            "onFailure": {"destination": format!("acs:fc:local:1234567890123456:services/{svc}/functions/sink")},
        },
    });
    let put = server
        .client()
        .call(Method::PUT, &format!("/services/{svc}/functions/bad/async-invoke-config"), &[], Some(&config))
        .await
        .expect("put config")
        .json()
        .expect("json");
    assert_eq!(put["maxAsyncRetryAttempts"], 2);
    assert_eq!(put["function"], "bad");
    let id = invoke_async(&server, &svc, "bad", "x", None).await;
    let record = settled(&server, &svc, "bad", &id).await;
    assert_eq!(record["status"], "Failed");
    assert_eq!(record["alreadyRetriedTimes"], 2, "{record}");
    assert!(record["invocationErrorMessage"].as_str().expect("message").contains("always"));

    // The failure destination received FC's destination event as a new async invocation.
    let mut delivered = Value::Null;
    for _ in 0..200 {
        delivered = server
            .client()
            .call(Method::GET, &format!("/services/{svc}/functions/sink/stateful-async-invocations"), &[], None)
            .await
            .expect("list")
            .json()
            .expect("json");
        if delivered["invocations"][0]["status"] == "Succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let event: Value =
        serde_json::from_str(delivered["invocations"][0]["invocationPayload"].as_str().expect("payload"))
            .expect("event json");
    assert_eq!(event["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(event["requestContext"]["requestId"], id.as_str());
    assert_eq!(event["requestPayload"], "x");

    // A dead letter can be re-driven: it runs again from scratch (and fails again here).
    let redriven = server
        .client()
        .send_to(
            Method::POST,
            &format!("/ferric/v1/services/{svc}/functions/bad/stateful-async-invocations/{id}/redrive"),
            &[],
            &[],
            None,
        )
        .await
        .expect("redrive");
    assert_eq!(redriven.status, 200, "{}", String::from_utf8_lossy(&redriven.body));
    let again = settled(&server, &svc, "bad", &id).await;
    assert_eq!(again["status"], "Failed");
    assert_eq!(again["alreadyRetriedTimes"], 2);

    let bad_config = json!({"maxAsyncRetryAttempts": 99});
    let refused = server
        .client()
        .call(Method::PUT, &format!("/services/{svc}/functions/bad/async-invoke-config"), &[], Some(&bad_config))
        .await;
    assert!(matches!(refused, Err(ferric_client::ClientError::Api { status: 400, .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_older_than_their_max_age_expire() {
    let server = TestServer::start_with(|c| {
        c.queue.backoff = std::time::Duration::from_millis(1500);
        c.queue.poll = std::time::Duration::from_millis(20);
    })
    .await;
    let svc = service(&server).await;
    deploy(&server, &svc, "f", "exports.handler = (e, c, cb) => cb(new Error('not yet'));").await;
    let config = json!({"maxAsyncEventAgeInSeconds": 1, "maxAsyncRetryAttempts": 3});
    server
        .client()
        .call(Method::PUT, &format!("/services/{svc}/functions/f/async-invoke-config"), &[], Some(&config))
        .await
        .expect("config");
    let id = invoke_async(&server, &svc, "f", "old", None).await;
    let record = settled(&server, &svc, "f", &id).await;
    assert_eq!(record["status"], "Expired", "{record}");
    assert!(record["invocationErrorMessage"].as_str().expect("message").contains("expired"));

    let get =
        server.client().call(Method::GET, &format!("/services/{svc}/functions/f/async-invoke-config"), &[], None).await;
    let got = get.expect("get").json().expect("json");
    assert_eq!(got["maxAsyncEventAgeInSeconds"], 1);
    // Fields never set are left out, not `null` (the spec types them as integers, objects, booleans).
    let fields = got.as_object().expect("object");
    assert!(fields.values().all(|v| !v.is_null()), "{got}");
    assert!(!fields.contains_key("destinationConfig") && !fields.contains_key("statefulInvocation"), "{got}");
    let list = server
        .client()
        .call(Method::GET, &format!("/services/{svc}/functions/f/async-invoke-configs"), &[], None)
        .await;
    let list = list.expect("list").json().expect("json");
    assert_eq!(list["nextToken"], "", "{list}");
    assert_eq!(list["configs"][0], got);
    server
        .client()
        .call(Method::DELETE, &format!("/services/{svc}/functions/f/async-invoke-config"), &[], None)
        .await
        .expect("delete");
    let gone =
        server.client().call(Method::GET, &format!("/services/{svc}/functions/f/async-invoke-config"), &[], None).await;
    assert!(matches!(gone, Err(ferric_client::ClientError::Api { status: 404, .. })));
}

async fn invocations(server: &TestServer, svc: &str, f: &str) -> Vec<Value> {
    server
        .client()
        .call(
            Method::GET,
            &format!("/services/{svc}/functions/{f}/stateful-async-invocations"),
            &[("limit", "100")],
            None,
        )
        .await
        .expect("list")
        .json()
        .expect("json")["invocations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timer_triggers_fire_on_schedule_with_fc_events() {
    let server = server().await;
    let svc = service(&server).await;
    deploy(&server, &svc, "f", "exports.handler = (e, c, cb) => cb(null, 'ok');").await;
    deploy(&server, &svc, "quiet", "exports.handler = (e, c, cb) => cb(null, 'ok');").await;
    let timer = |name: &str, cron: &str, enable: bool| {
        json!({"triggerName": name, "triggerType": "timer",
               "triggerConfig": {"cronExpression": cron, "payload": "tick", "enable": enable}})
    };
    let path = format!("/services/{svc}/functions/f/triggers");
    server
        .client()
        .call(Method::POST, &path, &[], Some(&timer("every-second", "*/1 * * * * *", true)))
        .await
        .expect("timer");
    let quiet = format!("/services/{svc}/functions/quiet/triggers");
    server.client().call(Method::POST, &quiet, &[], Some(&timer("off", "*/1 * * * * *", false))).await.expect("timer");

    tokio::time::sleep(std::time::Duration::from_millis(3300)).await;
    let fired = invocations(&server, &svc, "f").await;
    assert!(fired.len() >= 2, "a seconds-field cron fires every second: {fired:?}");
    let event: Value = serde_json::from_str(fired[0]["invocationPayload"].as_str().expect("payload")).expect("event");
    assert_eq!(event["triggerName"], "every-second");
    assert_eq!(event["payload"], "tick");
    assert!(event["triggerTime"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(invocations(&server, &svc, "quiet").await.is_empty(), "a disabled timer never fires");

    // Disabling applies at once.
    let off = json!({"triggerConfig": {"cronExpression": "*/1 * * * * *", "payload": "tick", "enable": false}});
    server.client().call(Method::PUT, &format!("{path}/every-second"), &[], Some(&off)).await.expect("disable");
    let before = invocations(&server, &svc, "f").await.len();
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let after = invocations(&server, &svc, "f").await.len();
    assert!(after <= before + 1, "no firing after disable ({before} -> {after})");

    // Enabling again applies at once too.
    let on = json!({"triggerConfig": {"cronExpression": "*/1 * * * * *", "payload": "tick", "enable": true}});
    server.client().call(Method::PUT, &format!("{path}/every-second"), &[], Some(&on)).await.expect("enable");
    tokio::time::sleep(std::time::Duration::from_millis(2300)).await;
    let resumed = invocations(&server, &svc, "f").await.len();
    assert!(resumed > after, "firing resumes after enable ({after} -> {resumed})");
}

/// Issue 11 item 8 and its qualifier gap: a stateful invocation reported its stateful id as its request id,
/// and its list and get ignored the path's qualifier.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateful_invocations_keep_the_request_id_and_honour_the_qualifier() {
    let server = server().await;
    let svc = service(&server).await;
    deploy(&server, &svc, "f", "exports.handler = (e, c, cb) => cb(null, c.requestId);").await;
    let client = server.client();
    client.call(Method::POST, &format!("/services/{svc}/versions"), &[], Some(&json!({}))).await.expect("v1");
    let alias = json!({"aliasName": "prod", "versionId": "1"});
    client.call(Method::POST, &format!("/services/{svc}/aliases"), &[], Some(&alias)).await.expect("alias");

    let accepted = client
        .send(
            Method::POST,
            &format!("/services/{svc}.prod/functions/f/invocations"),
            &[],
            &[("x-fc-invocation-type", "Async"), ("x-fc-stateful-async-invocation-id", "on-prod")],
            Some(b"p".to_vec()),
        )
        .await
        .expect("invoke");
    assert_eq!(accepted.status, 202);
    let request_id = accepted.header("x-fc-request-id").expect("request id").to_string();
    assert_ne!(request_id, "on-prod");
    invoke_async(&server, &svc, "f", "l", Some("on-latest")).await;

    let record = settled(&server, &svc, "f", "on-prod").await;
    assert_eq!(record["invocationId"], "on-prod");
    assert_eq!(record["requestId"], request_id.as_str(), "the request id of the call that enqueued it");
    assert_eq!(record["qualifier"], "prod");
    settled(&server, &svc, "f", "on-latest").await;

    let listed = |path: String| {
        let client = server.client();
        async move {
            let list: Value = client.call(Method::GET, &path, &[], None).await.expect("list").json().expect("json");
            let mut ids: Vec<String> = list["invocations"]
                .as_array()
                .expect("invocations")
                .iter()
                .map(|i| i["invocationId"].as_str().expect("id").to_string())
                .collect();
            ids.sort();
            ids
        }
    };
    let path = |q: &str| format!("/services/{svc}{q}/functions/f/stateful-async-invocations");
    assert_eq!(listed(path(".prod")).await, ["on-prod"]);
    assert_eq!(listed(path(".LATEST")).await, ["on-latest"]);
    assert_eq!(listed(path("")).await, ["on-latest", "on-prod"], "a bare service names every qualifier");

    let got = client.call(Method::GET, &format!("{}/on-prod", path(".prod")), &[], None).await.expect("get");
    assert_eq!(got.json().expect("json")["invocationId"], "on-prod");
    let other = client.call(Method::GET, &format!("{}/on-prod", path(".LATEST")), &[], None).await;
    assert!(
        matches!(other, Err(ferric_client::ClientError::Api { status: 404, ref code, .. }) if code == "StatefulAsyncInvocationNotFound"),
        "{other:?}"
    );
}

/// A timer on an alias deleted later: its firings are not lost silently, each records why it could not run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_on_a_deleted_alias_records_why_it_did_not_run() {
    let server = server().await;
    let svc = service(&server).await;
    deploy(&server, &svc, "f", "exports.handler = (e, c, cb) => cb(null, 'ok');").await;
    let client = server.client();
    client.call(Method::POST, &format!("/services/{svc}/versions"), &[], Some(&json!({}))).await.expect("v1");
    let alias = json!({"aliasName": "prod", "versionId": "1"});
    client.call(Method::POST, &format!("/services/{svc}/aliases"), &[], Some(&alias)).await.expect("alias");
    let timer = json!({"triggerName": "tick", "triggerType": "timer", "qualifier": "prod",
                       "triggerConfig": {"cronExpression": "*/1 * * * * *", "enable": true}});
    client
        .call(Method::POST, &format!("/services/{svc}/functions/f/triggers"), &[], Some(&timer))
        .await
        .expect("timer");
    client.call(Method::DELETE, &format!("/services/{svc}/aliases/prod"), &[], None).await.expect("delete alias");

    let mut failed = Value::Null;
    for _ in 0..150 {
        let list = invocations(&server, &svc, "f").await;
        if let Some(done) = list.iter().find(|i| i["status"] == "Failed") {
            failed = done.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(failed["qualifier"], "prod", "a firing is recorded: {failed}");
    let message = failed["invocationErrorMessage"].as_str().expect("message");
    assert!(message.starts_with("AliasNotFound: "), "{message}");
    assert!(message.contains("qualifier 'prod'") && message.contains("no longer exists"), "{message}");
}
