//! `GET /metrics` after known traffic: each counter's exact value, through the real server and a real
//! Node.js runtime (sync calls, a throttle, a timeout, an async retry ending in a dead letter, a timer).

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use ferric_testkit::{unique, zip_of, TestServer, ACCOUNT};
use reqwest::Method;
use serde_json::json;

const CODE: &str = r#"
exports.handler = (event, context, callback) => {
  const what = event.toString();
  if (what === 'text') return callback('a handled error');
  if (what === 'throw') throw new Error('thrown');
  if (what === 'late') return setTimeout(() => callback(null, 'too late'), 5000);
  if (what === 'busy') return setTimeout(() => callback(null, 'done'), 700);
  callback(null, 'fine');
};"#;

/// The scrape as `name{labels}` → value.
async fn scrape(server: &TestServer) -> HashMap<String, f64> {
    let response = reqwest::get(format!("{}/metrics", server.endpoint)).await.expect("metrics");
    assert_eq!(response.status(), 200);
    let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let text = response.text().await.expect("text");
    assert!(text.ends_with("# EOF\n"));
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(k, v)| Some((k.to_string(), v.parse().ok()?))))
        .collect()
}

fn series(name: &str, svc: &str, function: &str, extra: &str) -> String {
    format!("{name}{{account=\"{ACCOUNT}\",service=\"{svc}\",function=\"{function}\",qualifier=\"LATEST\"{extra}}}")
}

fn get(values: &HashMap<String, f64>, key: &str) -> f64 {
    values.get(key).copied().unwrap_or_else(|| panic!("no {key} in the scrape"))
}

async fn invoke(server: &TestServer, svc: &str, f: &str, event: &str, headers: &[(&str, &str)]) -> u16 {
    let path = format!("/services/{svc}/functions/{f}/invocations");
    let r = server.client().send(Method::POST, &path, &[], headers, Some(event.as_bytes().to_vec())).await;
    r.expect("invoke").status
}

async fn deploy(server: &TestServer, svc: &str, name: &str) {
    let zip = base64::engine::general_purpose::STANDARD.encode(zip_of(&[("index.js", CODE)]));
    let body = json!({"functionName": name, "runtime": "nodejs20", "handler": "index.handler", "timeout": 1,
                      "memorySize": 128, "code": {"zipFile": zip}});
    server
        .client()
        .call(Method::POST, &format!("/services/{svc}/functions"), &[], Some(&body))
        .await
        .expect("function");
}

/// Polls the scrape until `done` holds, for work the queue and the timers do in the background.
async fn until(server: &TestServer, what: &str, done: impl Fn(&HashMap<String, f64>) -> bool) -> HashMap<String, f64> {
    for _ in 0..300 {
        let values = scrape(server).await;
        if done(&values) {
            return values;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counters_match_the_traffic_exactly() {
    let server = TestServer::start_with(|c| {
        c.invoker.max_instances_per_function = 1;
        c.invoker.queue_timeout = Duration::from_millis(300);
        c.queue.backoff = Duration::from_millis(50);
        c.queue.poll = Duration::from_millis(20);
    })
    .await;
    let svc = unique("metrics");
    server.client().create_service(&json!({"serviceName": svc})).await.expect("service");
    deploy(&server, &svc, "f").await;

    for _ in 0..3 {
        assert_eq!(invoke(&server, &svc, "f", "ok", &[]).await, 200);
    }
    assert_eq!(invoke(&server, &svc, "f", "text", &[]).await, 200);
    assert_eq!(invoke(&server, &svc, "f", "throw", &[]).await, 200);
    // One instance at most: a call while it is busy (700 ms) waits 300 ms, then is
    // throttled.
    let (busy, throttled) = tokio::join!(invoke(&server, &svc, "f", "busy", &[]), async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        invoke(&server, &svc, "f", "ok", &[]).await
    });
    assert_eq!((busy, throttled), (200, 429));
    // A timeout stops the instance, so the async runs below start a new one.
    assert_eq!(invoke(&server, &svc, "f", "late", &[]).await, 200);

    // An async event that always fails, with one retry: two runs, one retry, one dead letter.
    let config = json!({"maxAsyncRetryAttempts": 1});
    let path = format!("/services/{svc}/functions/f/async-invoke-config");
    server.client().call(Method::PUT, &path, &[], Some(&config)).await.expect("config");
    assert_eq!(invoke(&server, &svc, "f", "throw", &[("x-fc-invocation-type", "Async")]).await, 202);
    let dead = series("ferric_async_dead_letters_total", &svc, "f", ",reason=\"failed\"");
    let values = until(&server, "the dead letter", |v| v.contains_key(&dead)).await;

    let result = |r: &str| get(&values, &series("ferric_invocations_total", &svc, "f", &format!(",result=\"{r}\"")));
    assert_eq!(result("success"), 4.0, "three ok and the busy one");
    assert_eq!(result("handled"), 1.0);
    assert_eq!(result("unhandled"), 3.0, "the sync throw and both async runs");
    assert_eq!(result("timeout"), 1.0);
    assert_eq!(result("throttled"), 1.0);
    assert_eq!(get(&values, &series("ferric_invocation_duration_seconds_count", &svc, "f", "")), 9.0);
    assert_eq!(
        get(&values, &series("ferric_cold_starts_total", &svc, "f", "")),
        2.0,
        "the first call, after the timeout"
    );
    assert_eq!(get(&values, &series("ferric_init_duration_seconds_count", &svc, "f", "")), 2.0);
    assert_eq!(get(&values, &series("ferric_async_retries_total", &svc, "f", "")), 1.0);
    assert_eq!(get(&values, &dead), 1.0);

    let http = |status: &str| {
        let route = "/2016-08-15/services/{service}/functions/{function}/invocations";
        values
            .get(&format!("ferric_http_requests_total{{route=\"{route}\",method=\"POST\",status=\"{status}\"}}"))
            .copied()
    };
    assert_eq!((http("200"), http("429"), http("202")), (Some(7.0), Some(1.0), Some(1.0)));
    assert!(values.keys().all(|k| !k.contains(&format!("route=\"/2016-08-15/services/{svc}"))), "no raw paths");

    let values = until(&server, "the instance going idle", |v| {
        v.get(&series("ferric_instances", &svc, "f", ",state=\"busy\"")) == Some(&0.0)
    })
    .await;
    assert_eq!(get(&values, &series("ferric_instances", &svc, "f", ",state=\"idle\"")), 1.0);
    assert_eq!(get(&values, &series("ferric_memory_reserved_bytes", &svc, "f", "")), 128.0 * 1024.0 * 1024.0);
    // The sandbox's features are still reported.
    assert!(values.keys().any(|k| k.starts_with("ferric_sandbox_mode{")));
    assert!(values.contains_key("ferric_http_connections_closed_total{limit=\"idle\"}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timer_firings_are_counted_and_each_one_runs() {
    let server = TestServer::start_with(|c| c.queue.poll = Duration::from_millis(20)).await;
    let svc = unique("metrics");
    server.client().create_service(&json!({"serviceName": svc})).await.expect("service");
    deploy(&server, &svc, "tick").await;
    let trigger = json!({"triggerName": "every-second", "triggerType": "timer",
                         "triggerConfig": {"cronExpression": "@every 1s", "enable": true, "payload": "ok"}});
    server.client().create_trigger(&svc, "tick", &trigger).await.expect("trigger");
    let fired = series("ferric_timer_firings_total", &svc, "tick", "");
    until(&server, "a timer firing", |v| v.contains_key(&fired)).await;
    server.client().delete_trigger(&svc, "tick", "every-second").await.expect("delete trigger");

    let ran = series("ferric_invocations_total", &svc, "tick", ",result=\"success\"");
    let values = until(&server, "every firing's run", |v| v.get(&ran).is_some() && v.get(&ran) == v.get(&fired)).await;
    assert!(get(&values, &fired) >= 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_token_is_required_from_every_caller_once_set() {
    let server = TestServer::start_with(|c| c.metrics_token = Some("scrape-me".into())).await;
    let url = format!("{}/metrics", server.endpoint);
    let refused = reqwest::get(&url).await.expect("metrics");
    assert_eq!(refused.status(), 403, "loopback without the token");
    let body: serde_json::Value = refused.json().await.expect("json");
    assert_eq!(body["ErrorCode"], "AccessDenied");
    let wrong = reqwest::Client::new().get(&url).bearer_auth("nope").send().await.expect("metrics");
    assert_eq!(wrong.status(), 403);
    let right = reqwest::Client::new().get(&url).bearer_auth("scrape-me").send().await.expect("metrics");
    assert_eq!(right.status(), 200);
    let text = right.text().await.expect("text");
    assert!(text.contains("ferric_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"403\"} 2"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_depth_counts_waiting_and_running_invocations() {
    let server = TestServer::start_with(|c| {
        c.queue.workers = 1;
        c.queue.poll = Duration::from_millis(20);
    })
    .await;
    let svc = unique("metrics");
    server.client().create_service(&json!({"serviceName": svc})).await.expect("service");
    deploy(&server, &svc, "slow").await;
    let async_call = [("x-fc-invocation-type", "Async")];
    assert_eq!(invoke(&server, &svc, "slow", "busy", &async_call).await, 202);
    assert_eq!(invoke(&server, &svc, "slow", "busy", &async_call).await, 202);
    // One worker: while the first runs (700 ms) the second waits; the first scrape reads the store.
    let values = scrape(&server).await;
    let depth = |state: &str| values.get(&series("ferric_async_queue_depth", &svc, "slow", state)).copied();
    let (enqueued, running) = (depth(",state=\"enqueued\""), depth(",state=\"running\""));
    assert_eq!(enqueued.unwrap_or(0.0) + running.unwrap_or(0.0), 2.0, "{enqueued:?} {running:?}");
    assert!(running.unwrap_or(0.0) <= 1.0);
}
