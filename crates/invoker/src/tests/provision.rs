//! Provisioned instances and on-demand caps: started off the request path, never reaped, replaced when
//! they die, serving requests before any cold start, following the version their line runs, and the
//! on-demand cap bounding what requests may start.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::*;
use crate::provision::{ConfigLine, VersionResolver, CHECK, TICK};

/// A resolver over a map the test changes, as the server's catalog would after a write.
#[derive(Default)]
struct MapResolver(Mutex<HashMap<ConfigLine, Arc<FunctionVersion>>>);

#[async_trait]
impl VersionResolver for MapResolver {
    async fn resolve(&self, line: &ConfigLine) -> Result<Option<Arc<FunctionVersion>>, String> {
        Ok(self.0.lock().expect("resolver map").get(line).cloned())
    }
}

fn line(function: &str) -> ConfigLine {
    ConfigLine {
        account_id: "1234567890123456".into(),
        service: "svc".into(),
        qualifier: "prod".into(),
        function: function.into(),
    }
}

/// A harness whose invoker resolves `line(name)` to `version`.
fn provisioned_harness(config: InvokerConfig, version: &Arc<FunctionVersion>) -> (Harness, Arc<MapResolver>) {
    let h = harness(config);
    let resolver = Arc::new(MapResolver::default());
    resolver.0.lock().expect("resolver map").insert(line(&version.function), version.clone());
    h.invoker.set_version_resolver(resolver.clone());
    (h, resolver)
}

/// Lets the keeper look and the starts it spawned finish.
async fn keeper_runs() {
    settle().await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    settle().await;
}

#[tokio::test(start_paused = true)]
async fn provisioned_instances_start_without_a_request_and_are_never_reaped() {
    let f = function("f", "c1", |_| {});
    let (h, _resolver) = provisioned_harness(config(), &f);
    h.invoker.provision(line("f"), 2);
    keeper_runs().await;
    assert_eq!(h.fake.record().spawns.len(), 2);
    assert_eq!(h.invoker.provisioned(&line("f")), (2, None));
    assert_eq!(h.invoker.instances("1234567890123456", "svc", "f").len(), 2);

    // Far past --idle-timeout (300 s): provisioned instances stay.
    tokio::time::sleep(Duration::from_secs(900)).await;
    assert!(h.fake.record().killed.is_empty());
    assert_eq!(h.invoker.instance_count(), 2);
}

#[tokio::test(start_paused = true)]
async fn requests_take_provisioned_instances_before_any_cold_start() {
    let f = function("f", "c1", |_| {});
    let (h, _resolver) = provisioned_harness(config(), &f);
    h.invoker.provision(line("f"), 2);
    keeper_runs().await;
    let (a, b) = tokio::join!(h.answer(&f, "sleep 50"), h.answer(&f, "sleep 50"));
    assert!(a.init_duration.is_none() && b.init_duration.is_none());
    assert_eq!(text(&a), "slept");
    assert_eq!(h.fake.record().spawns.len(), 2, "no cold start: both ran on provisioned instances");
}

#[tokio::test(start_paused = true)]
async fn a_provisioned_instance_that_dies_is_replaced_within_a_check() {
    let f = function("f", "c1", |_| {});
    let (h, _resolver) = provisioned_harness(config(), &f);
    h.invoker.provision(line("f"), 2);
    keeper_runs().await;
    let before = h.invoker.instances("1234567890123456", "svc", "f");

    // The instance that takes this request exits with it.
    let crashed = h.answer(&f, "exit").await;
    assert!(text(&crashed).contains("Process exited unexpectedly"), "{}", text(&crashed));
    settle().await;
    assert_eq!(h.invoker.provisioned(&line("f")).0, 1);

    // Noticed at the next check, well before the next full look.
    tokio::time::sleep(CHECK).await;
    keeper_runs().await;
    assert_eq!(h.fake.record().spawns.len(), 3);
    assert_eq!(h.invoker.provisioned(&line("f")).0, 2);
    let after = h.invoker.instances("1234567890123456", "svc", "f");
    assert_eq!(after.len(), 2);
    assert_eq!(after.iter().filter(|i| before.contains(i)).count(), 1, "one survivor, one new instance");
}

#[tokio::test(start_paused = true)]
async fn target_zero_stops_provisioning_and_the_instances_idle_out() {
    let f = function("f", "c1", |_| {});
    let (h, _resolver) = provisioned_harness(config(), &f);
    h.invoker.provision(line("f"), 2);
    keeper_runs().await;
    h.invoker.provision(line("f"), 0);
    keeper_runs().await;
    assert_eq!(h.invoker.provisioned(&line("f")).0, 0);

    // The reaper looks every 5 s at most.
    tokio::time::sleep(Duration::from_secs(306)).await;
    settle().await;
    assert_eq!(h.invoker.instance_count(), 0, "ordinary idle instances now: reaped after the keep-alive");
    assert_eq!(h.fake.record().spawns.len(), 2, "and not replaced");
}

#[tokio::test(start_paused = true)]
async fn the_reserve_follows_the_version_its_line_runs() {
    let v1 = function("f", "c1", |_| {});
    let (h, resolver) = provisioned_harness(config(), &v1);
    h.invoker.provision(line("f"), 1);
    keeper_runs().await;
    assert_eq!(h.fake.record().spawns.len(), 1);

    // The function is updated (or the alias moved): the next look provisions the new code.
    let v2 = function("f", "c2", |_| {});
    resolver.0.lock().expect("resolver map").insert(line("f"), v2.clone());
    tokio::time::sleep(TICK).await;
    keeper_runs().await;
    let record = h.fake.record();
    assert_eq!(record.spawns.len(), 2);
    assert!(record.spawns[1].code_dir.ends_with("c2"), "{:?}", record.spawns[1].code_dir);
    assert!(record.killed.contains(&0), "the old version's idle instance stops");
    drop(record);
    assert_eq!(h.invoker.provisioned(&line("f")).0, 1);
}

#[tokio::test(start_paused = true)]
async fn a_gone_line_drops_its_reserve() {
    let f = function("f", "c1", |_| {});
    let (h, resolver) = provisioned_harness(config(), &f);
    h.invoker.provision(line("f"), 1);
    keeper_runs().await;
    resolver.0.lock().expect("resolver map").clear();
    tokio::time::sleep(TICK).await;
    keeper_runs().await;
    // The reaper looks every 5 s at most.
    tokio::time::sleep(Duration::from_secs(306)).await;
    settle().await;
    assert_eq!(h.invoker.instance_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_on_demand_cap_bounds_instances_started_by_requests() {
    let f = function("f", "c1", |_| {});
    let (h, _resolver) = provisioned_harness(config(), &f);
    h.invoker.cap_on_demand(line("f"), Some(1));
    keeper_runs().await;

    // A slow first call: the second request would scale out, but the cap holds it to one instance; it
    // waits the queue timeout (3 s) and is throttled.
    let (a, b) = tokio::join!(h.answer(&f, "sleep 10000"), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        h.invoke(&f, "echo second").await
    });
    assert_eq!(text(&a), "slept");
    match b {
        Err(InvokeError::Throttled(message)) => {
            assert!(message.contains("on-demand config allows no more than 1"), "{message}")
        }
        other => panic!("expected a throttle, got {other:?}"),
    }
    assert_eq!(h.fake.record().spawns.len(), 1);

    // Lifted: the same load scales out.
    h.invoker.cap_on_demand(line("f"), None);
    keeper_runs().await;
    let (a, b) = tokio::join!(h.answer(&f, "sleep 10000"), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        h.answer(&f, "echo second").await
    });
    assert_eq!((text(&a).as_str(), text(&b).as_str()), ("slept", "second"));
    assert_eq!(h.fake.record().spawns.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn provisioned_instances_do_not_count_against_the_on_demand_cap() {
    let f = function("f", "c1", |_| {});
    let (h, _resolver) = provisioned_harness(config(), &f);
    h.invoker.provision(line("f"), 1);
    h.invoker.cap_on_demand(line("f"), Some(1));
    keeper_runs().await;
    let pool = h.invoker.inner.pools().pop().expect("a pool");
    assert_eq!(pool.capacity(), crate::pool::Capacity { reserve: 1, on_demand_cap: Some(1) });

    // One provisioned plus one on demand run at once; a third waits and is throttled.
    let late = |ms| {
        let h = &h;
        let f = &f;
        async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            h.invoke(f, "sleep 10000").await
        }
    };
    let (a, b, c) = tokio::join!(h.invoke(&f, "sleep 10000"), late(500), late(1000));
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    assert!(matches!(c, Err(InvokeError::Throttled(_))), "{c:?}");
    assert_eq!(h.fake.record().spawns.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn provisioned_instances_hold_memory_and_are_not_evicted_for_others() {
    let mut config = config();
    config.memory_budget_mb = 256;
    let f = function("f", "c1", |_| {});
    let (h, _resolver) = provisioned_harness(config, &f);
    h.invoker.provision(line("f"), 2);
    keeper_runs().await;
    assert_eq!(h.invoker.instance_count(), 2);

    // The budget is all provisioned: another function cannot evict them, so it is throttled.
    let g = function("g", "c9", |_| {});
    assert!(matches!(h.invoke(&g, "ok").await, Err(InvokeError::Throttled(_))));
    assert!(h.fake.record().killed.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_start_failure_is_reported_and_retried_later() {
    let f = function("f", "c1", |_| {});
    let (h, _resolver) = provisioned_harness(config(), &f);
    h.fake.fail_spawns.store(true, std::sync::atomic::Ordering::Relaxed);
    h.invoker.provision(line("f"), 1);
    keeper_runs().await;
    let (current, error) = h.invoker.provisioned(&line("f"));
    assert_eq!(current, 0);
    assert!(error.is_some_and(|e| !e.is_empty()));

    h.fake.fail_spawns.store(false, std::sync::atomic::Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(6)).await;
    keeper_runs().await;
    assert_eq!(h.invoker.provisioned(&line("f")), (1, None));
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_provisioned_instances_for_good() {
    let f = function("f", "c1", |_| {});
    let (h, _resolver) = provisioned_harness(config(), &f);
    h.invoker.provision(line("f"), 2);
    keeper_runs().await;
    h.invoker.shutdown();
    settle().await;
    assert_eq!(h.invoker.instance_count(), 0);
    h.invoker.provision(line("f"), 2);
    tokio::time::sleep(TICK * 3).await;
    keeper_runs().await;
    assert_eq!(h.fake.record().spawns.len(), 2, "nothing starts after a shutdown");
}

#[tokio::test(start_paused = true)]
async fn an_update_of_latest_moves_the_reserve_without_waiting_for_a_tick() {
    let mut v1 = (*function("f", "c1", |_| {})).clone();
    v1.qualifier = "LATEST".into();
    let v1 = Arc::new(v1);
    let (h, resolver) = provisioned_harness(config(), &v1);
    h.invoker.provision(line("f"), 1);
    keeper_runs().await;
    let v2 = function("f", "c2", |_| {});
    resolver.0.lock().expect("resolver map").insert(line("f"), v2.clone());
    h.invoker.retire("1234567890123456", "svc", "f");
    keeper_runs().await;
    let record = h.fake.record();
    assert_eq!(record.spawns.len(), 2, "the new configuration's instance started within 10 ms, not a tick");
    assert!(record.spawns[1].code_dir.ends_with("c2"));
}
