//! Scale-out by cost and keep-alive by demand, through the real pool: a burst of short requests queues on
//! the warm instance instead of starting one per request, a slow function still scales out, the most
//! recently used instance takes the next request, an idle pool's keep-alive follows its gaps, and a cold
//! start says so in the response and the log.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::*;

const MS: Duration = Duration::from_millis(1);

/// A harness whose fake runtimes take `start_ms` to say `ready`.
fn slow_starting(config: InvokerConfig, start_ms: u64) -> Harness {
    let h = harness(config);
    h.fake.start_delay_ms.store(start_ms, Ordering::Relaxed);
    h
}

async fn burst(h: &Harness, f: &Arc<FunctionVersion>, event: &str, n: usize) -> Vec<Response> {
    let calls = (0..n).map(|_| h.answer(f, event));
    futures_util::future::join_all(calls).await
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_short_requests_queues_on_the_warm_instance() {
    let h = slow_starting(config(), 50);
    let f = function("f", "c1", |_| {});
    h.answer(&f, "sleep 1").await;

    // 16 at once, 1 ms each: the last waits ~16 ms, far less than a 50 ms start.
    let started = tokio::time::Instant::now();
    let answers = burst(&h, &f, "sleep 1", 16).await;
    assert!(answers.iter().all(|r| text(r) == "slept" && r.init_duration.is_none()));
    assert_eq!(h.fake.record().spawns.len(), 1, "no instance started for the burst");
    assert!(started.elapsed() <= 20 * MS, "{:?}", started.elapsed());
}

#[tokio::test(start_paused = true)]
async fn the_first_burst_waits_for_the_instance_being_started() {
    let h = slow_starting(config(), 50);
    let f = function("f", "c1", |_| {});
    let answers = burst(&h, &f, "sleep 1", 16).await;
    assert!(answers.iter().all(|r| text(r) == "slept"));
    assert_eq!(h.fake.record().spawns.len(), 1);
    assert_eq!(answers.iter().filter(|r| r.init_duration.is_some()).count(), 1, "one request paid the start");
}

#[tokio::test(start_paused = true)]
async fn a_slow_function_scales_out_when_waiting_costs_more_than_a_start() {
    let h = slow_starting(config(), 10);
    let f = function("f", "c1", |_| {});
    h.answer(&f, "sleep 200").await;

    let started = tokio::time::Instant::now();
    let answers = burst(&h, &f, "sleep 200", 4).await;
    assert!(answers.iter().all(|r| text(r) == "slept"));
    assert_eq!(h.fake.record().spawns.len(), 4, "each waiter would have waited ≥ 50 ms against a 10 ms start");
    assert_eq!(started.elapsed(), 210 * MS, "nobody queued behind another");
}

#[tokio::test(start_paused = true)]
async fn an_unmeasured_slow_request_still_lets_waiters_scale_out() {
    // Nothing measured yet; the first request runs long: once it has run longer than a start would take
    // (the 100 ms prior, then the measured 10 ms), the waiter starts its own instance.
    let h = slow_starting(config(), 10);
    let f = function("f", "c1", |_| {});
    let first = h.invoke(&f, "sleep 5000");
    let second = async {
        tokio::time::sleep(20 * MS).await;
        let started = tokio::time::Instant::now();
        let r = h.answer(&f, "echo second").await;
        (r, started.elapsed())
    };
    let (first, (second, waited)) = tokio::join!(first, second);
    assert_eq!(text(&first.expect("first answers")), "slept");
    assert_eq!(text(&second), "second");
    assert!(second.init_duration.is_some(), "the waiter started an instance");
    assert!(waited < 100 * MS, "waited {waited:?}, not the 5 s of the first request");
    assert_eq!(h.fake.record().spawns.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_most_recently_used_instance_takes_the_next_request() {
    let h = slow_starting(config(), 10);
    let f = function("f", "c1", |_| {});
    h.answer(&f, "sleep 200").await;
    // Two instances: 0 is freed at 100 ms, 1 at 300 ms, so 1 is the most recently used.
    let (a, b) = tokio::join!(h.answer(&f, "sleep 100"), async {
        tokio::time::sleep(MS).await;
        h.answer(&f, "sleep 300").await
    });
    assert!(a.init_duration.is_none() && b.init_duration.is_some());
    for _ in 0..5 {
        assert_eq!(text(&h.answer(&f, "whoami").await), "1");
    }
    assert_eq!(h.invoker.instance_count(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_keep_alive_follows_the_gaps_between_calls() {
    let mut config = config();
    config.idle_timeout = Duration::from_secs(300);
    let h = harness(config);
    let f = function("f", "c1", |_| {});
    // Called every 2 s: gaps fall in the first 5 s bin, so the learned keep-alive is 5.5 s, not 300 s.
    for _ in 0..12 {
        h.answer(&f, "ok").await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert_eq!(h.invoker.instance_count(), 1, "kept between the calls");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(h.invoker.instance_count(), 0, "reaped after the learned keep-alive");
    settle().await;
    assert_eq!(h.fake.record().killed, [0].into());
}

#[tokio::test(start_paused = true)]
async fn a_cold_start_is_reported_once() {
    let h = slow_starting(config(), 40);
    let f = function("f", "c1", |_| {});
    let cold = h.answer(&f, "ok").await;
    assert_eq!(cold.init_duration, Some(40 * MS));
    let lines: Vec<String> = log(&cold).lines().map(str::to_string).collect();
    assert!(lines[lines.len() - 2].starts_with("FC Invoke End RequestId: "), "{lines:?}");
    assert!(lines[lines.len() - 1].ends_with(", Init Duration: 40.00 ms"), "{lines:?}");

    let warm = h.answer(&f, "ok").await;
    assert_eq!(warm.init_duration, None);
    assert!(!log(&warm).contains("FC Cold Start"), "{}", log(&warm));
}

#[tokio::test]
async fn every_slot_taken_is_freed_on_a_running_clock() {
    // On a moving clock (not paused), the instant a slot is booked under must be the one it is freed
    // under, or the pool believes old requests still run and scales out for nothing.
    let h = harness(config());
    let f = function("f", "c1", |_| {});
    for _ in 0..20 {
        h.answer(&f, "ok").await;
    }
    let _ = burst(&h, &f, "ok", 8).await;
    let in_flight: usize = h.invoker.inner.pools().iter().map(|p| p.in_flight()).sum();
    assert_eq!(in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn waiting_by_choice_evicts_nothing() {
    // Another function's idle instance stays while this one's burst queues (memory is not short).
    let h = slow_starting(config(), 50);
    let (f, g) = (function("f", "c1", |_| {}), function("g", "c2", |_| {}));
    h.answer(&g, "ok").await;
    h.answer(&f, "sleep 1").await;
    let _ = burst(&h, &f, "sleep 1", 16).await;
    assert!(h.fake.record().killed.is_empty(), "{:?}", h.fake.record().killed);
    assert_eq!(h.invoker.instance_count(), 2);
}
