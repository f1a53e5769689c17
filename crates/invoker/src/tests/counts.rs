//! What metrics read from the invoker: a response's cold start and timeout, and the instance snapshot.

use std::time::Duration;

use super::*;

#[tokio::test(start_paused = true)]
async fn only_the_invocation_that_started_an_instance_reports_its_start() {
    let h = harness(config());
    let f = function("f", "c1", |_| {});
    let cold = h.answer(&f, "ok").await;
    assert!(cold.init_duration.is_some(), "the first invocation started the instance");
    let warm = h.answer(&f, "ok").await;
    assert_eq!(warm.init_duration, None, "the second reused it");
    assert!(!cold.timed_out && !warm.timed_out);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_is_told_apart_from_other_unhandled_errors() {
    let h = harness(config());
    let f = function("f", "c1", |s| s.timeout = 1);
    let late = h.answer(&f, "sleep 5000").await;
    assert!(late.timed_out);
    assert_eq!(late.error, Some(crate::FunctionError::Unhandled));
    let thrown = h.answer(&f, "fail").await;
    assert!(!thrown.timed_out, "{}", text(&thrown));
}

#[tokio::test(start_paused = true)]
async fn the_snapshot_counts_live_and_idle_instances_and_their_memory_per_line() {
    let h = harness(config());
    let f = function("f", "c1", |s| s.memory_size = 256);
    let g = function("g", "c2", |_| {});
    assert!(h.invoker.snapshot().is_empty());
    h.answer(&f, "ok").await;
    h.answer(&g, "ok").await;

    // One of f's two instances busy, the other idle; g's only instance idle.
    let busy = h.invoke(&f, "sleep 1000");
    let check = async {
        settle().await;
        let second = h.answer(&f, "ok").await;
        assert!(second.init_duration.is_some(), "the busy instance made this a cold start");
        let mut lines = h.invoker.snapshot();
        lines.sort_by(|a, b| a.function.cmp(&b.function));
        let counts: Vec<_> = lines.iter().map(|l| (l.function.as_str(), l.live, l.reserved_memory_mb)).collect();
        assert_eq!(counts, [("f", 2, 512), ("g", 1, 128)]);
        assert_eq!(lines[0].idle, 1, "the second instance of f is idle again");
        assert_eq!(lines[1].idle, 1);
        assert_eq!((lines[0].account.as_str(), lines[0].service.as_str()), ("1234567890123456", "svc"));
        assert_eq!(lines[0].qualifier, "LATEST");
    };
    let (done, ()) = tokio::join!(busy, check);
    assert!(done.is_ok());
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert!(h.invoker.snapshot().iter().all(|l| l.idle == l.live));
}
