//! Provisioned and on-demand instances through the real server with real Node.js instances: FC's shapes
//! and errors, provisioned instances started without a request, serving warm, replaced after `kill -9`,
//! started again after a restart, and an on-demand cap that really throttles.

use std::time::{Duration, Instant};

use base64::Engine;
use ferric_client::{Client, ClientError};
use ferric_testkit::{instance_alive, instance_pids, unique, zip_of, TestServer, ACCOUNT};
use reqwest::Method;
use serde_json::{json, Value};

/// Answers with the instance's id after the event's number of milliseconds.
const INSTANCE_ID: &str = "exports.handler = (e, c, cb) => {\n  const ms = Number(e.toString() || 0);\n\
                           setTimeout(() => cb(null, process.env.FC_INSTANCE_ID), ms);\n};\n";

async fn call(client: &Client, method: Method, path: &str, body: Option<Value>) -> Result<Value, ClientError> {
    let r = client.call(method, path, &[], body.as_ref()).await?;
    Ok(if r.body.is_empty() { Value::Null } else { r.json()? })
}

async fn get_list(client: &Client, path: &str, query: &[(&str, &str)]) -> Result<Value, ClientError> {
    client.call(Method::GET, path, query, None).await?.json()
}

fn api_error(result: Result<Value, ClientError>) -> (u16, String) {
    match result {
        Err(ClientError::Api { status, code, .. }) => (status, code),
        other => panic!("expected an FC error, got {other:?}"),
    }
}

/// A service with function `f` published as version 1 behind alias `prod`.
async fn deploy(client: &Client) -> String {
    let svc = unique("prov");
    client.create_service(&json!({"serviceName": svc})).await.expect("service");
    let zip = base64::engine::general_purpose::STANDARD.encode(zip_of(&[("index.js", INSTANCE_ID)]));
    let body =
        json!({"functionName": "f", "runtime": "nodejs20", "handler": "index.handler", "code": {"zipFile": zip}});
    call(client, Method::POST, &format!("/services/{svc}/functions"), Some(body)).await.expect("function");
    call(client, Method::POST, &format!("/services/{svc}/versions"), Some(json!({}))).await.expect("v1");
    let alias = json!({"aliasName": "prod", "versionId": "1"});
    call(client, Method::POST, &format!("/services/{svc}/aliases"), Some(alias)).await.expect("alias");
    svc
}

/// Polls the provision config until `current` reaches `want` (starts take a real Node.js each).
async fn wait_current(client: &Client, svc: &str, want: u64) -> Value {
    let path = format!("/services/{svc}.prod/functions/f/provision-config");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let config = call(client, Method::GET, &path, None).await.expect("get provision config");
        if config["current"] == want {
            return config;
        }
        assert!(Instant::now() < deadline, "current never reached {want}: {config}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn instance_ids(client: &Client, svc: &str, qualifier: &str) -> Vec<String> {
    let list = call(client, Method::GET, &format!("/services/{svc}.{qualifier}/functions/f/instances"), None)
        .await
        .expect("list instances");
    let instances = list["instances"].as_array().expect("instances").clone();
    for i in &instances {
        assert_eq!(i["versionId"], if qualifier == "LATEST" { "LATEST" } else { "1" }, "{i}");
    }
    instances.iter().map(|i| i["instanceId"].as_str().expect("id").to_string()).collect()
}

async fn invoke(client: &Client, path_service: &str, event: &str) -> ferric_client::Response {
    client
        .send(
            Method::POST,
            &format!("/services/{path_service}/functions/f/invocations"),
            &[],
            &[],
            Some(event.as_bytes().to_vec()),
        )
        .await
        .expect("invoke")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioned_instances_start_serve_survive_a_kill_and_a_restart() {
    let server = TestServer::start().await;
    let client = server.client();
    let svc = deploy(&client).await;
    let path = format!("/services/{svc}.prod/functions/f/provision-config");
    let put = call(&client, Method::PUT, &path, Some(json!({"target": 2}))).await.expect("put");
    assert_eq!(put["resource"], format!("{ACCOUNT}#{svc}#prod#f"));
    assert_eq!(put["target"], 2);
    assert_eq!(put["scheduledActions"], json!([]));
    assert_eq!(put["targetTrackingPolicies"], json!([]));
    wait_current(&client, &svc, 2).await;
    let ids = instance_ids(&client, &svc, "prod").await;
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(instance_ids(&client, &svc, "LATEST").await.is_empty(), "LATEST has a line of its own");

    // A request on the alias runs on a provisioned instance: no cold start.
    let r = invoke(&client, &format!("{svc}.prod"), "").await;
    assert_eq!(r.status, 200);
    assert!(ids.contains(&String::from_utf8_lossy(&r.body).into_owned()), "{:?}", r.body);
    assert!(r.header("x-fc-init-duration").is_none(), "served warm");

    // kill -9 one instance's processes: a new one replaces it.
    let victim = ids[0].clone();
    let pids = instance_pids(&victim);
    assert!(!pids.is_empty(), "the processes of {victim} are visible in /proc");
    for pid in pids {
        let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let replaced = loop {
        let now = instance_ids(&client, &svc, "prod").await;
        if now.len() == 2 && !now.contains(&victim) {
            break now;
        }
        assert!(Instant::now() < deadline, "{victim} was not replaced: {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(replaced.contains(&ids[1]), "the survivor stays: {replaced:?}");
    wait_current(&client, &svc, 2).await;

    // A restart: the config is in the store, and the new server starts the instances again.
    let server = server.restart_with(|_| {}).await;
    let client = server.client();
    wait_current(&client, &svc, 2).await;
    let after = instance_ids(&client, &svc, "prod").await;
    assert_eq!(after.len(), 2);
    assert!(after.iter().all(|id| !replaced.contains(id)), "new processes after the restart");
    for old in &replaced {
        assert!(!instance_alive(old), "{old} of the stopped server still runs");
    }

    // Target 0: no longer provisioned, and a config of 0 reads as none.
    let put = call(&client, Method::PUT, &path, Some(json!({"target": 0}))).await.expect("put 0");
    assert_eq!((put["target"].clone(), put["current"].clone()), (json!(0), json!(0)));
    let list = call(&client, Method::GET, "/provision-configs", None).await.expect("list");
    assert!(list.get("provisionConfigs").is_none(), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configs_have_fcs_shapes_lists_and_errors() {
    let server = TestServer::start().await;
    let client = server.client();
    let svc = deploy(&client).await;
    let prov = |q: &str| format!("/services/{svc}.{q}/functions/f/provision-config");
    let demand = |q: &str| format!("/services/{svc}.{q}/functions/f/on-demand-config");

    // Provision configs go on an alias or LATEST, of a function that exists.
    assert_eq!(api_error(call(&client, Method::PUT, &prov("1"), Some(json!({"target": 1}))).await).0, 400);
    let missing = api_error(call(&client, Method::PUT, &prov("nope"), Some(json!({"target": 1}))).await);
    assert_eq!(missing, (404, "AliasNotFound".to_string()));
    let path = format!("/services/{svc}.prod/functions/g/provision-config");
    assert_eq!(api_error(call(&client, Method::GET, &path, None).await), (404, "FunctionNotFound".to_string()));
    for bad in [json!({}), json!({"target": -1}), json!({"target": "2"}), json!({"target": 1, "scheduledActions": [3]})]
    {
        assert_eq!(api_error(call(&client, Method::PUT, &prov("prod"), Some(bad.clone())).await).0, 400, "{bad}");
    }
    let too_many = api_error(call(&client, Method::PUT, &prov("prod"), Some(json!({"target": 17}))).await);
    assert_eq!(too_many, (400, "LimitExceeded".to_string()));
    let unset = call(&client, Method::GET, &prov("prod"), None).await.expect("get unset");
    assert_eq!((unset["target"].clone(), unset["current"].clone()), (json!(0), json!(0)));

    let actions = json!([{"name": "morning", "target": 1, "scheduleExpression": "cron(0 0 8 * * *)"}]);
    let body = json!({"target": 1, "scheduledActions": actions, "alwaysAllocateCPU": false});
    let put = call(&client, Method::PUT, &prov("LATEST"), Some(body)).await.expect("put LATEST");
    assert_eq!(put["scheduledActions"], actions);
    assert_eq!(put["alwaysAllocateCPU"], false);
    call(&client, Method::PUT, &prov("prod"), Some(json!({"target": 1}))).await.expect("put prod");
    let page = get_list(&client, "/provision-configs", &[("serviceName", &svc), ("limit", "1")]).await;
    let page = page.expect("list");
    assert_eq!(page["provisionConfigs"].as_array().map(Vec::len), Some(1));
    let token = page["nextToken"].as_str().expect("a next page").to_string();
    let rest = get_list(&client, "/provision-configs", &[("serviceName", &svc), ("nextToken", &token)]).await;
    let rest = rest.expect("list rest");
    assert_eq!(rest["provisionConfigs"].as_array().map(Vec::len), Some(1));
    assert!(rest.get("nextToken").is_none());
    let prod_only = get_list(&client, "/provision-configs", &[("serviceName", &svc), ("qualifier", "prod")]).await;
    let prod_only = prod_only.expect("filtered");
    assert_eq!(prod_only["provisionConfigs"][0]["resource"], format!("{ACCOUNT}#{svc}#prod#f"));
    assert_eq!(api_error(get_list(&client, "/provision-configs", &[("qualifier", "prod")]).await).0, 400);

    // On-demand configs: put, get, list by resource, delete, and FC's not-found.
    assert_eq!(
        api_error(call(&client, Method::GET, &demand("prod"), None).await),
        (404, "OnDemandConfigNotFound".to_string())
    );
    let put = call(&client, Method::PUT, &demand("prod"), Some(json!({"maximumInstanceCount": 3}))).await;
    assert_eq!(
        put.expect("put"),
        json!({"resource": format!("services/{svc}.prod/functions/f"), "maximumInstanceCount": 3})
    );
    call(&client, Method::PUT, &demand("LATEST"), Some(json!({"maximumInstanceCount": 0}))).await.expect("put 0");
    let bad = call(&client, Method::PUT, &demand("prod"), Some(json!({"maximumInstanceCount": -1}))).await;
    assert_eq!(api_error(bad).0, 400);
    let got = call(&client, Method::GET, &demand("prod"), None).await.expect("get");
    assert_eq!(got["maximumInstanceCount"], 3);
    let prefix = format!("services/{svc}.p");
    let list = get_list(&client, "/on-demand-configs", &[("prefix", &prefix)]).await.expect("list");
    assert_eq!(list["configs"].as_array().map(Vec::len), Some(1), "{list}");
    let list = get_list(&client, "/on-demand-configs", &[("limit", "1")]).await.expect("page");
    assert!(list["nextToken"].is_string());
    call(&client, Method::DELETE, &demand("prod"), None).await.expect("delete");
    assert_eq!(api_error(call(&client, Method::DELETE, &demand("prod"), None).await).0, 404);

    // Another account sees none of them.
    let other = server.other_client();
    let list = call(&other, Method::GET, "/on-demand-configs", None).await.expect("other's list");
    assert!(list.get("configs").is_none(), "{list}");

    // Deleting the function takes its configs with it, provisioned ones included.
    client.delete_function(&svc, "f").await.expect("delete function");
    let list = call(&client, Method::GET, "/on-demand-configs", None).await.expect("list");
    assert!(list.get("configs").is_none(), "{list}");
    let list = call(&client, Method::GET, "/provision-configs", None).await.expect("list");
    assert!(list.get("provisionConfigs").is_none(), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_on_demand_cap_throttles_beyond_it() {
    let server = TestServer::start_with(|c| c.invoker.queue_timeout = Duration::from_millis(400)).await;
    let client = server.client();
    let svc = deploy(&client).await;
    let demand = format!("/services/{svc}.LATEST/functions/f/on-demand-config");
    call(&client, Method::PUT, &demand, Some(json!({"maximumInstanceCount": 1}))).await.expect("cap");
    // Let the invoker's keeper apply the cap (it looks at once on a write).
    tokio::time::sleep(Duration::from_millis(200)).await;
    invoke(&client, &svc, "").await;

    // A slow call holds the one instance; a second one waits the queue timeout and is throttled.
    let (slow, second) = tokio::join!(invoke(&client, &svc, "2000"), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        invoke(&client, &svc, "").await
    });
    assert_eq!(slow.status, 200);
    assert_eq!(second.status, 429, "{}", String::from_utf8_lossy(&second.body));
    let error: Value = serde_json::from_slice(&second.body).expect("FC error");
    assert_eq!(error["ErrorCode"], "ResourceExhausted");
    assert!(error["ErrorMessage"].as_str().is_some_and(|m| m.contains("on-demand config")), "{error}");
    assert_eq!(instance_ids(&client, &svc, "LATEST").await.len(), 1);

    // Without the cap the same load scales out.
    call(&client, Method::DELETE, &demand, None).await.expect("uncap");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (slow, second) = tokio::join!(invoke(&client, &svc, "2000"), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        invoke(&client, &svc, "").await
    });
    assert_eq!((slow.status, second.status), (200, 200));
    assert_eq!(instance_ids(&client, &svc, "LATEST").await.len(), 2);
}
