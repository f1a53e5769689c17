//! Instances: what one is started with, timeouts, crashes, the OOM flag, initializers, start failures,
//! function errors and logs.

use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::FunctionError;

#[tokio::test(start_paused = true)]
async fn an_instance_starts_with_fc_s_environment_limits_and_init_message() {
    let h = harness(config());
    let f = function("f", "c1", |s| {
        s.environment_variables.insert("FC_FUNCTION_NAME".into(), "spoofed".into());
        s.environment_variables.insert("MINE".into(), "1".into());
    });
    h.answer(&f, "ok").await;
    let record = h.fake.record();
    let spec = &record.spawns[0];
    assert_eq!(spec.program, std::path::Path::new("/fake/bin/node"));
    let args: Vec<String> = spec.args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    assert_eq!(args, ["--max-old-space-size=96", "/opt/ferric/runtime/node/bootstrap.js"]);
    let env: std::collections::BTreeMap<String, String> =
        spec.env.iter().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned())).collect();
    assert_eq!(env["FC_FUNCTION_NAME"], "f", "user variables never override FC's");
    assert_eq!(env["MINE"], "1");
    assert_eq!(env["FC_FUNC_CODE_PATH"], "/code");
    assert_eq!(env["FERRIC_CONTROL_FD"], "3");
    assert_eq!(env["NODE_PATH"], "/opt/ferric/runtime/node/node_modules");
    assert_eq!(spec.limits.memory_mb, 128);
    assert_eq!(spec.network, ferric_sandbox::Network::Host);

    let init = &record.received[0].1;
    assert_eq!(init["type"], "init");
    assert_eq!(init["function"]["name"], "f");
    assert_eq!(init["function"]["initializer"], serde_json::Value::Null);
    assert_eq!(init["instanceConcurrency"], 1);
    assert_eq!(init["region"], "local");
    let invoke = &record.received[1].1;
    assert_eq!(invoke["id"], 1);
    assert_eq!(invoke["http"], serde_json::Value::Null);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_kills_the_instance_and_answers_fc_s_error() {
    let h = harness(config());
    let f = function("f", "c1", |s| s.timeout = 2);
    h.answer(&f, "ok").await;

    let started = Instant::now();
    let timed_out = h.answer(&f, "hang").await;
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert_eq!(timed_out.error, Some(FunctionError::Unhandled));
    assert_eq!(text(&timed_out), r#"{"errorMessage":"Function timed out after 2 seconds (maxMemoryUsage: 10MB)"}"#);
    assert!(log(&timed_out).contains(", Error: Unhandled function error"), "{}", log(&timed_out));
    settle().await;
    assert_eq!(h.fake.record().killed, [0].into());
    assert_eq!(h.fake.record().exited, [0].into());
    assert_eq!(h.invoker.instance_count(), 0);

    // The next request gets a fresh instance.
    assert_eq!(text(&h.answer(&f, "whoami").await), "1");
}

#[tokio::test(start_paused = true)]
async fn a_timeout_fails_the_other_requests_of_its_instance_as_a_crash() {
    // With instanceConcurrency 2 a timeout kills the instance under a second request too: that request
    // fails as FC's runtimes fail it, "Process exited unexpectedly".
    let h = harness(config());
    let f = function("f", "c1", |s| {
        s.timeout = 1;
        s.instance_concurrency = 2;
    });
    h.answer(&f, "ok").await;
    let (hung, other) = tokio::join!(h.answer(&f, "hang"), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        h.answer(&f, "sleep 5000").await
    });
    assert!(text(&hung).contains("Function timed out after 1 seconds"), "{}", text(&hung));
    assert_eq!(other.error, Some(FunctionError::Unhandled));
    assert!(text(&other).contains("Process exited unexpectedly"), "{}", text(&other));
}

#[tokio::test(start_paused = true)]
async fn a_crash_answers_process_exited_unexpectedly() {
    let h = harness(config());
    let f = function("f", "c1", |_| {});
    h.answer(&f, "ok").await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let crashed = h.answer(&f, "exit").await;
    assert_eq!(crashed.error, Some(FunctionError::Unhandled));
    assert_eq!(
        text(&crashed),
        r#"{"errorMessage":"Process exited unexpectedly before completing request (duration: 0ms, maxMemoryUsage: 10MB)"}"#
    );
    settle().await;
    assert_eq!(h.invoker.instance_count(), 0);
    assert_eq!(text(&h.answer(&f, "whoami").await), "1", "a crashed instance is not reused");
}

#[tokio::test(start_paused = true)]
async fn an_oom_kill_says_memory_limit_exceeded() {
    let h = harness(config());
    let f = function("f", "c1", |_| {});
    let ended = h.answer(&f, "oom").await;
    assert_eq!(ended.error, Some(FunctionError::Unhandled));
    let body: serde_json::Value = serde_json::from_slice(&ended.body).expect("json");
    assert_eq!(body["errorType"], crate::OUT_OF_MEMORY);
    assert!(body["errorMessage"].as_str().is_some_and(|m| m.starts_with("Process exited unexpectedly")));
}

#[tokio::test(start_paused = true)]
async fn the_initializer_runs_once_per_instance() {
    let h = harness(config());
    let f = function("f", "c1", |s| s.initializer = Some("index.init".into()));
    let first = h.answer(&f, "ok").await;
    let second = h.answer(&f, "ok").await;
    assert!(log(&first).starts_with("FC Initialize Start RequestId: "), "{}", log(&first));
    assert!(log(&first).contains("FC Invoke Start RequestId: "));
    assert!(!log(&second).contains("FC Initialize"), "{}", log(&second));
    assert_eq!(h.fake.record().types(0), ["init", "initialize", "invoke", "invoke"]);
    assert_eq!(h.fake.record().received[0].1["function"]["initializer"], "index.init");
}

#[tokio::test(start_paused = true)]
async fn a_failed_start_answers_an_unhandled_error() {
    let h = harness(config());
    h.fake.fail_spawns.store(true, std::sync::atomic::Ordering::Relaxed);
    let f = function("f", "c1", |_| {});
    let failed = h.answer(&f, "ok").await;
    assert_eq!(failed.error, Some(FunctionError::Unhandled));
    assert!(text(&failed).contains("the function instance could not start: cannot start /fake/bin/node"));
    assert!(log(&failed).contains("FC Invoke End RequestId: "), "{}", log(&failed));
    assert_eq!(h.invoker.instance_count(), 0);

    // Its share of the budget came back: the next start is not throttled.
    h.fake.fail_spawns.store(false, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(text(&h.answer(&f, "echo up").await), "up");
}

#[tokio::test(start_paused = true)]
async fn function_errors_and_logs_come_back_with_the_answer() {
    let h = harness(config());
    let f = function("f", "c1", |_| {});
    let failed = h.answer(&f, "fail nope").await;
    assert_eq!(failed.error, Some(FunctionError::Handled));
    assert_eq!(text(&failed), r#"{"errorMessage":"nope"}"#);
    // The first call started the instance: its cold-start line follows `FC Invoke End`.
    let lines: Vec<String> = log(&failed).lines().map(str::to_string).collect();
    assert!(lines[lines.len() - 2].ends_with(", Error: Handled function error"), "{lines:?}");
    assert!(lines[lines.len() - 1].starts_with("FC Cold Start RequestId: "), "{lines:?}");

    let logged = h.answer(&f, "log hello there").await;
    assert_eq!(logged.error, None);
    let lines: Vec<&str> = std::str::from_utf8(&logged.log).expect("utf-8").lines().collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("FC Invoke Start RequestId: "));
    assert_eq!(lines[1], "hello there");
    assert!(lines[2].starts_with("FC Invoke End RequestId: "));
    assert_eq!(logged.max_memory_mb, 10);
    assert_eq!(h.fake.record().spawns.len(), 1, "a function error keeps the instance");
}

#[tokio::test(start_paused = true)]
async fn an_unavailable_runtime_is_refused() {
    let h = harness(config());
    let f = function("f", "c1", |s| s.runtime = "python3.12".into());
    match h.invoke(&f, "ok").await {
        Err(InvokeError::RuntimeUnavailable { runtime, .. }) => assert_eq!(runtime, "python3.12"),
        other => panic!("{other:?}"),
    }
}
