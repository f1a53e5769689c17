//! The cardinality cap and the history, with tokio's clock paused.

use std::time::Duration;

use super::*;

fn line(function: &str) -> FunctionLabels {
    FunctionLabels::new("acct", "svc", function, "LATEST")
}

fn ok(metrics: &Metrics, function: &str) {
    metrics.invocation(line(function), InvocationResult::Success, Duration::from_millis(2), None);
}

async fn scrape(metrics: &Metrics) -> String {
    metrics.render(|_| {}).await
}

fn value(text: &str, series: &str) -> Option<String> {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).map(str::to_string))
}

fn invocations(function: &str, result: &str) -> String {
    format!(
        "ferric_invocations_total{{account=\"acct\",service=\"svc\",function=\"{function}\",qualifier=\"LATEST\",\
         result=\"{result}\"}}"
    )
}

const OVERFLOWED: &str = "ferric_invocations_total{account=\"_overflow\",service=\"_overflow\",\
                          function=\"_overflow\",qualifier=\"_overflow\",result=\"success\"}";

#[tokio::test(start_paused = true)]
async fn past_the_cap_new_lines_share_the_overflow_series() {
    let metrics = Metrics::new(2);
    ok(&metrics, "a");
    ok(&metrics, "b");
    ok(&metrics, "c");
    ok(&metrics, "d");
    ok(&metrics, "a");
    let text = scrape(&metrics).await;
    assert_eq!(value(&text, &invocations("a", "success")).as_deref(), Some("2"), "{text}");
    assert_eq!(value(&text, &invocations("b", "success")).as_deref(), Some("1"));
    assert_eq!(value(&text, &invocations("c", "success")), None, "c was past the cap");
    assert_eq!(value(&text, OVERFLOWED).as_deref(), Some("2"), "c and d are counted together");
    assert_eq!(value(&text, "ferric_metrics_function_lines").as_deref(), Some("2"));
    assert!(text.ends_with("# EOF\n"), "{text}");
    let c = metrics.history("acct", "svc", "c", None);
    assert_eq!(c.buckets.iter().map(|b| b.invocations).sum::<u64>(), 0, "a line past the cap has no history");
}

#[tokio::test(start_paused = true)]
async fn a_line_idle_for_an_hour_gives_its_place_to_a_new_one() {
    let metrics = Metrics::new(2);
    ok(&metrics, "a");
    ok(&metrics, "b");
    tokio::time::advance(Duration::from_secs(30 * 60)).await;
    ok(&metrics, "b");
    tokio::time::advance(Duration::from_secs(31 * 60)).await;
    // a has been idle for over an hour, b for 31 minutes: c takes a's place.
    ok(&metrics, "c");
    let text = scrape(&metrics).await;
    assert_eq!(value(&text, &invocations("a", "success")), None, "a's series are gone: {text}");
    assert_eq!(value(&text, &invocations("b", "success")).as_deref(), Some("2"));
    assert_eq!(value(&text, &invocations("c", "success")).as_deref(), Some("1"));
    assert_eq!(value(&text, OVERFLOWED), None);
    ok(&metrics, "d");
    assert_eq!(value(&scrape(&metrics).await, OVERFLOWED).as_deref(), Some("1"), "b is not idle long enough");
}

#[tokio::test(start_paused = true)]
async fn the_history_follows_the_clock_minute_by_minute() {
    let metrics = Metrics::new(10);
    let cold = Some(Duration::from_millis(300));
    metrics.invocation(line("f"), InvocationResult::Success, Duration::from_millis(4), cold);
    metrics.invocation(line("f"), InvocationResult::Handled, Duration::from_millis(8), None);
    metrics.invocation(line("f"), InvocationResult::Throttled, Duration::ZERO, None);
    let mut other = line("f");
    other.qualifier = "1".into();
    metrics.invocation(other, InvocationResult::Timeout, Duration::from_secs(1), None);
    tokio::time::advance(Duration::from_secs(60)).await;
    ok(&metrics, "f");

    let all = metrics.history("acct", "svc", "f", None);
    assert_eq!(all.bucket_seconds, 60);
    assert_eq!(all.buckets.len(), 60);
    let (previous, current) = (&all.buckets[58], &all.buckets[59]);
    assert_eq!(current.start_ms - previous.start_ms, 60_000);
    assert_eq!((previous.invocations, previous.errors, previous.throttles, previous.cold_starts), (3, 2, 1, 1));
    assert_eq!(previous.duration_p99_ms, Some(1000.0));
    assert_eq!((current.invocations, current.errors), (1, 0));
    assert!(all.buckets[..58].iter().all(|b| b.invocations == 0 && b.duration_p50_ms.is_none()));

    let latest = metrics.history("acct", "svc", "f", Some("LATEST"));
    assert_eq!((latest.buckets[58].invocations, latest.buckets[58].errors), (2, 1), "one qualifier only");
    assert_eq!(latest.buckets[58].duration_p99_ms, Some(8.0));

    let text = scrape(&metrics).await;
    assert_eq!(value(&text, &invocations("f", "throttled")).as_deref(), Some("1"));
    let cold_starts = "ferric_cold_starts_total{account=\"acct\",service=\"svc\",function=\"f\",qualifier=\"LATEST\"}";
    assert_eq!(value(&text, cold_starts).as_deref(), Some("1"), "{text}");
    let duration_count =
        "ferric_invocation_duration_seconds_count{account=\"acct\",service=\"svc\",function=\"f\",qualifier=\"LATEST\"}";
    assert_eq!(value(&text, duration_count).as_deref(), Some("3"), "throttles have no duration: {text}");
}
