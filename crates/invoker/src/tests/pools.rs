//! Pools: warm reuse, `instanceConcurrency`, the per-function cap, bounded waiting then throttling, the
//! memory budget and its LRU eviction, versions, idle reaping.

use std::time::Duration;

use tokio::time::Instant;

use super::*;

#[tokio::test(start_paused = true)]
async fn a_warm_instance_is_reused() {
    let h = harness(config());
    let f = function("f", "c1", |_| {});
    assert_eq!(text(&h.answer(&f, "echo one").await), "one");
    assert_eq!(text(&h.answer(&f, "echo two").await), "two");
    let third = h.answer(&f, "whoami").await;
    assert_eq!(text(&third), "0");
    assert!(log(&third).contains("FC Invoke Start RequestId: "), "{}", log(&third));

    {
        let record = h.fake.record();
        assert_eq!(record.spawns.len(), 1);
        assert_eq!(record.types(0), ["init", "invoke", "invoke", "invoke"]);
        assert!(record.killed.is_empty());
    }
    assert_eq!(h.invoker.instance_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn instance_concurrency_bounds_the_requests_an_instance_runs_at_once() {
    let h = harness(config());
    let f = function("f", "c1", |s| s.instance_concurrency = 2);
    // A slow function: waiting for a slot would take longer than starting an instance.
    h.answer(&f, "sleep 100").await;

    // Two fit on the warm instance; a third needs a second one.
    let (a, b, c) = tokio::join!(h.answer(&f, "sleep 100"), h.answer(&f, "sleep 100"), h.answer(&f, "sleep 100"));
    assert!([a, b, c].iter().all(|r| r.error.is_none() && text(r) == "slept"));
    let record = h.fake.record();
    assert_eq!(record.spawns.len(), 2);
    assert_eq!(record.max_in_flight.get(&0), Some(&2));
    assert_eq!(record.max_in_flight.get(&1), Some(&1));
}

#[tokio::test(start_paused = true)]
async fn a_request_waits_briefly_for_a_busy_instance() {
    let mut config = config();
    config.max_instances_per_function = 1;
    let h = harness(config);
    let f = function("f", "c1", |_| {});
    h.answer(&f, "ok").await;

    // The second request waits for the first (1 s, under the 3 s queue timeout) and reuses its instance.
    let started = Instant::now();
    let (a, b) = tokio::join!(h.answer(&f, "sleep 1000"), h.answer(&f, "echo second"));
    assert_eq!((text(&a).as_str(), text(&b).as_str()), ("slept", "second"));
    assert_eq!(started.elapsed(), Duration::from_millis(1000));
    assert_eq!(h.fake.record().spawns.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_request_is_throttled_after_the_bounded_wait() {
    let mut config = config();
    config.max_instances_per_function = 1;
    let h = harness(config);
    let f = function("f", "c1", |_| {});
    h.answer(&f, "ok").await;

    let started = Instant::now();
    let busy = h.invoke(&f, "sleep 10000");
    let throttled = async {
        let outcome = h.invoke(&f, "ok").await;
        (outcome, started.elapsed())
    };
    let (busy, (throttled, waited)) = tokio::join!(busy, throttled);
    assert_eq!(text(&busy.expect("the busy request finishes")), "slept");
    match throttled {
        Err(InvokeError::Throttled(message)) => {
            assert!(message.contains("function 'f' has no free instance: all 1 are busy"), "{message}")
        }
        other => panic!("not throttled: {other:?}"),
    }
    assert_eq!(waited, Duration::from_secs(3), "the queue timeout, no more, no less");
    assert_eq!(h.fake.record().spawns.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_function_larger_than_the_whole_budget_is_throttled_at_once() {
    let mut config = config();
    config.memory_budget_mb = 256;
    let h = harness(config);
    let f = function("big", "c1", |s| s.memory_size = 512);
    let started = Instant::now();
    match h.invoke(&f, "ok").await {
        Err(InvokeError::Throttled(message)) => assert!(message.contains("needs 512 MB"), "{message}"),
        other => panic!("not throttled: {other:?}"),
    }
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert!(h.fake.record().spawns.is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_memory_budget_evicts_the_least_recently_used_idle_instance() {
    let mut config = config();
    config.memory_budget_mb = 256;
    let h = harness(config);
    let (a, b, c) = (function("a", "c1", |_| {}), function("b", "c1", |_| {}), function("c", "c1", |_| {}));
    h.answer(&a, "ok").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    h.answer(&b, "ok").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // `a` is used again, so `b` is now the one unused the longest.
    h.answer(&a, "ok").await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // The budget holds two 128 MB instances: `c` gets the room of `b`.
    assert_eq!(text(&h.answer(&c, "whoami").await), "2");
    settle().await;
    {
        let record = h.fake.record();
        assert_eq!(record.spawns.len(), 3);
        assert_eq!(record.killed, [1].into());
    }
    assert_eq!(h.invoker.instance_count(), 2);
    assert_eq!(text(&h.answer(&a, "whoami").await), "0", "a is still warm");
}

#[tokio::test(start_paused = true)]
async fn a_budget_full_of_busy_instances_throttles() {
    let mut config = config();
    config.memory_budget_mb = 128;
    let h = harness(config);
    let (a, b) = (function("a", "c1", |_| {}), function("b", "c1", |_| {}));
    let busy = h.invoke(&a, "sleep 5000");
    let throttled = async {
        // Let `a` take the budget first.
        tokio::time::sleep(Duration::from_millis(10)).await;
        h.invoke(&b, "ok").await
    };
    let (busy, throttled) = tokio::join!(busy, throttled);
    assert_eq!(text(&busy.expect("a finishes")), "slept");
    match throttled {
        Err(InvokeError::Throttled(message)) => assert!(message.contains("memory budget of 128 MB"), "{message}"),
        other => panic!("not throttled: {other:?}"),
    }
    assert!(h.fake.record().killed.is_empty(), "a busy instance is never evicted");
}

#[tokio::test(start_paused = true)]
async fn a_new_code_version_gets_a_new_pool_and_the_old_one_drains() {
    let h = harness(config());
    let v1 = function("f", "c1", |_| {});
    let v2 = function("f", "c2", |_| {});
    h.answer(&v1, "ok").await;

    // A request still running on v1 finishes there; v2 starts an instance of its own.
    let slow = h.invoke(&v1, "sleep 1000");
    let fresh = async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        h.invoke(&v2, "whoami").await
    };
    let (slow, fresh) = tokio::join!(slow, fresh);
    assert_eq!(text(&slow.expect("v1 answers")), "slept");
    assert_eq!(text(&fresh.expect("v2 answers")), "1");
    settle().await;

    {
        let record = h.fake.record();
        assert_eq!(record.spawns.len(), 2);
        assert_eq!(record.killed, [0].into(), "v1's instance goes once its request ended");
        assert_eq!(record.spawns[1].code_dir, std::path::Path::new("/code/c2"));
    }
    assert_eq!(h.invoker.instance_count(), 1);
    assert_eq!(text(&h.answer(&v2, "whoami").await), "1");
}

#[tokio::test(start_paused = true)]
async fn a_configuration_change_is_a_new_version_too() {
    let h = harness(config());
    h.answer(&function("f", "c1", |_| {}), "ok").await;
    h.answer(&function("f", "c1", |s| drop(s.environment_variables.insert("A".into(), "b".into()))), "ok").await;
    settle().await;
    assert_eq!(h.fake.record().spawns.len(), 2);
    assert_eq!(h.fake.record().killed, [0].into());
    // The same version, resolved again (a fresh value with equal content), shares the pool.
    h.answer(&function("f", "c1", |s| drop(s.environment_variables.insert("A".into(), "b".into()))), "ok").await;
    assert_eq!(h.fake.record().spawns.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn retiring_a_function_stops_its_idle_instances() {
    let h = harness(config());
    let f = function("f", "c1", |_| {});
    h.answer(&f, "ok").await;
    h.invoker.retire("1234567890123456", "svc", "f");
    settle().await;
    assert_eq!(h.fake.record().killed, [0].into());
    assert_eq!(h.invoker.instance_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn idle_instances_are_reaped_after_the_idle_timeout() {
    let mut config = config();
    config.idle_timeout = Duration::from_secs(60);
    let h = harness(config);
    let f = function("f", "c1", |_| {});
    h.answer(&f, "ok").await;

    tokio::time::sleep(Duration::from_secs(59)).await;
    assert_eq!(h.invoker.instance_count(), 1, "not idle long enough");
    assert!(h.fake.record().killed.is_empty());
    // The reaper looks every 5 s (a quarter of the timeout, at most 5 s).
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(h.invoker.instance_count(), 0);
    settle().await;
    let record = h.fake.record();
    assert_eq!(record.killed, [0].into());
    assert_eq!(record.exited, [0].into());
}

#[tokio::test(start_paused = true)]
async fn use_keeps_an_instance_from_being_reaped() {
    let mut config = config();
    config.idle_timeout = Duration::from_secs(60);
    let h = harness(config);
    let f = function("f", "c1", |_| {});
    for _ in 0..5 {
        h.answer(&f, "ok").await;
        tokio::time::sleep(Duration::from_secs(50)).await;
    }
    assert_eq!(text(&h.answer(&f, "whoami").await), "0");
    assert!(h.fake.record().killed.is_empty());
}
