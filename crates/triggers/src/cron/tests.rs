//! Parsing and next-fire tests through the public `Schedule` API. Expected instants were checked
//! against a calendar; DST cases use America/New_York's 2024 transitions (10 March 02:00 EST
//! jumps to 03:00 EDT, 3 November 02:00 EDT falls back to 01:00 EST).

use super::*;

fn schedule(expression: &str) -> Schedule {
    expression.parse().expect("valid expression")
}

fn error(expression: &str) -> String {
    expression.parse::<Schedule>().expect_err("invalid expression").to_string()
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("valid RFC 3339 instant")
}

/// The next `count` fire times after `start`, each computed from the previous one.
fn fires(expression: &str, start: &str, count: usize) -> Vec<String> {
    let schedule = schedule(expression);
    let mut now = at(start);
    (0..count)
        .map(|_| {
            now = schedule.next_after(now).expect("schedule fires");
            now.to_rfc3339()
        })
        .collect()
}

#[test]
fn error_message_quotes_expression_and_field() {
    assert_eq!(error("0 61 * * * *"), "invalid cron expression '0 61 * * * *': minute value 61 out of range 0-59");
    assert_eq!(error("60 * * * * *"), "invalid cron expression '60 * * * * *': second value 60 out of range 0-59");
    assert_eq!(error("0 0 24 * * *"), "invalid cron expression '0 0 24 * * *': hour value 24 out of range 0-23");
    assert_eq!(
        error("0 0 0 32 * *"),
        "invalid cron expression '0 0 0 32 * *': day-of-month value 32 out of range 1-31"
    );
    assert_eq!(error("0 0 0 * 13 *"), "invalid cron expression '0 0 0 * 13 *': month value 13 out of range 1-12");
    assert_eq!(error("0 0 0 * * 8"), "invalid cron expression '0 0 0 * * 8': day-of-week value 8 out of range 0-7");
    assert_eq!(
        error("0 0 12 * FOO *"),
        "invalid cron expression '0 0 12 * FOO *': month value 'FOO' is not a number or month \
         name (JAN-DEC)"
    );
}

#[test]
fn error_kind_is_matchable() {
    let err = "0 0 0 * * 1-9".parse::<Schedule>().expect_err("invalid");
    assert_eq!(err.expression, "0 0 0 * * 1-9");
    assert_eq!(err.kind, ScheduleErrorKind::OutOfRange { field: Field::DayOfWeek, value: 9 });
}

#[test]
fn wrong_field_counts() {
    assert_eq!(
        error("*/5 * * * *"),
        "invalid cron expression '*/5 * * * *': FC cron expressions have six fields with seconds \
         first (seconds minutes hours day-of-month month day-of-week), found five; did you mean \
         '0 */5 * * * *'?"
    );
    assert!(error("TZ=Asia/Tokyo 30 8 * * MON-FRI").ends_with("did you mean 'TZ=Asia/Tokyo 0 30 8 * * MON-FRI'?"));
    assert_eq!(
        error("0 0 0 * * * 2024"),
        "invalid cron expression '0 0 0 * * * 2024': expected six fields (seconds minutes hours \
         day-of-month month day-of-week), found 7"
    );
    assert_eq!(error("   "), "invalid cron expression '': expression is empty");
}

#[test]
fn whitespace_between_fields_is_flexible() {
    let schedule = schedule("  0\t0   12 * *  *  ");
    assert_eq!(schedule.as_str(), "0\t0   12 * *  *");
    assert_eq!(schedule.next_after(at("2024-01-01T00:00:00Z")), Some(at("2024-01-01T12:00:00Z")));
}

#[test]
fn descriptors() {
    let after = "2024-06-15T13:00:00Z";
    assert_eq!(fires("@yearly", after, 1), ["2025-01-01T00:00:00+00:00"]);
    assert_eq!(fires("@annually", after, 1), ["2025-01-01T00:00:00+00:00"]);
    assert_eq!(fires("@monthly", after, 1), ["2024-07-01T00:00:00+00:00"]);
    assert_eq!(fires("@weekly", after, 1), ["2024-06-16T00:00:00+00:00"]);
    assert_eq!(fires("@daily", after, 1), ["2024-06-16T00:00:00+00:00"]);
    assert_eq!(fires("@MIDNIGHT", after, 1), ["2024-06-16T00:00:00+00:00"]);
    assert_eq!(
        fires("@hourly", "2024-06-15T13:59:59.900Z", 2),
        ["2024-06-15T14:00:00+00:00", "2024-06-15T15:00:00+00:00"]
    );
    assert_eq!(
        error("@fortnightly"),
        "invalid cron expression '@fortnightly': unknown descriptor '@fortnightly'; expected \
         @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>"
    );
    assert!(error("@daily 5").contains("unknown descriptor '@daily 5'"));
}

#[test]
fn every_adds_a_constant_delay() {
    assert_eq!(
        fires("@every 90s", "2024-01-01T00:00:00.500Z", 3),
        ["2024-01-01T00:01:30+00:00", "2024-01-01T00:03:00+00:00", "2024-01-01T00:04:30+00:00",]
    );
    assert_eq!(fires("@every 1h30m", "2024-01-01T23:00:00Z", 1), ["2024-01-02T00:30:00+00:00"]);
    // Rounded down to whole seconds, as robfig/cron does.
    assert_eq!(
        fires("@every 1.5s", "2024-01-01T00:00:00Z", 2),
        ["2024-01-01T00:00:01+00:00", "2024-01-01T00:00:02+00:00"]
    );
    assert_eq!(schedule("@every 5m").time_zone(), None);
}

#[test]
fn every_rejects_bad_durations() {
    assert_eq!(
        error("@every 500ms"),
        "invalid cron expression '@every 500ms': @every duration '500ms' is shorter than the 1s \
         minimum"
    );
    assert!(error("@every -5m").ends_with("@every duration '-5m' is shorter than the 1s minimum"));
    assert!(error("@every 0").ends_with("is shorter than the 1s minimum"));
    assert_eq!(error("@every"), "invalid cron expression '@every': @every needs a duration, e.g. '@every 5m'");
    assert_eq!(
        error("@every 5x"),
        "invalid cron expression '@every 5x': @every duration '5x' has unknown unit 'x' \
         (expected ns, us, ms, s, m or h)"
    );
    assert!(error("@every 10").ends_with("@every duration '10' is missing a unit (ns, us, ms, s, m or h)"));
}

#[test]
fn strictly_after_and_subsecond_inputs() {
    assert_eq!(
        fires("* * * * * *", "2024-01-01T10:00:00Z", 2),
        ["2024-01-01T10:00:01+00:00", "2024-01-01T10:00:02+00:00"]
    );
    assert_eq!(fires("* * * * * *", "2024-01-01T10:00:00.999Z", 1), ["2024-01-01T10:00:01+00:00"]);
}

#[test]
fn minute_steps() {
    assert_eq!(
        fires("0 0/5 * * * *", "2024-01-01T10:02:30Z", 3),
        ["2024-01-01T10:05:00+00:00", "2024-01-01T10:10:00+00:00", "2024-01-01T10:15:00+00:00",]
    );
    assert_eq!(fires("0 0/5 * * * *", "2024-12-31T23:55:00Z", 1), ["2025-01-01T00:00:00+00:00"]);
    assert_eq!(
        fires("15,45 */20 9-17/4 * * *", "2024-01-01T09:59:00Z", 3),
        ["2024-01-01T13:00:15+00:00", "2024-01-01T13:00:45+00:00", "2024-01-01T13:20:15+00:00",]
    );
}

#[test]
fn day_of_month_or_day_of_week_when_both_restricted() {
    assert_eq!(
        fires("0 0 0 13 * FRI", "2024-09-01T00:00:00Z", 8),
        [
            "2024-09-06T00:00:00+00:00",
            "2024-09-13T00:00:00+00:00",
            "2024-09-20T00:00:00+00:00",
            "2024-09-27T00:00:00+00:00",
            "2024-10-04T00:00:00+00:00",
            "2024-10-11T00:00:00+00:00",
            "2024-10-13T00:00:00+00:00",
            "2024-10-18T00:00:00+00:00",
        ]
    );
    // A stepped `*/10` is restricted (robfig drops the star bit for steps above 1).
    assert_eq!(
        fires("0 0 0 */10 * MON", "2024-06-01T00:00:00Z", 6),
        [
            "2024-06-03T00:00:00+00:00",
            "2024-06-10T00:00:00+00:00",
            "2024-06-11T00:00:00+00:00",
            "2024-06-17T00:00:00+00:00",
            "2024-06-21T00:00:00+00:00",
            "2024-06-24T00:00:00+00:00",
        ]
    );
}

#[test]
fn day_fields_and_when_one_is_unrestricted() {
    assert_eq!(
        fires("0 0 0 ? * MON-FRI", "2024-06-14T12:00:00Z", 2),
        ["2024-06-17T00:00:00+00:00", "2024-06-18T00:00:00+00:00"]
    );
    assert_eq!(
        fires("0 0 0 1 * ?", "2024-06-14T12:00:00Z", 2),
        ["2024-07-01T00:00:00+00:00", "2024-08-01T00:00:00+00:00"]
    );
}

#[test]
fn sunday_is_zero() {
    // 2024-06-15 is a Saturday.
    assert_eq!(
        fires("0 0 12 * * 0", "2024-06-15T13:00:00Z", 2),
        ["2024-06-16T12:00:00+00:00", "2024-06-23T12:00:00+00:00"]
    );
    assert_eq!(fires("0 0 12 * * sun", "2024-06-15T13:00:00Z", 1), ["2024-06-16T12:00:00+00:00"]);
    // FC documents day-of-week as 1~7 or MON~SUN: 7 is Sunday too.
    assert_eq!(fires("0 0 12 ? * 7", "2024-06-15T13:00:00Z", 1), ["2024-06-16T12:00:00+00:00"]);
    assert_eq!(
        fires("0 0 12 ? * SAT-SUN", "2024-06-14T13:00:00Z", 3),
        ["2024-06-15T12:00:00+00:00", "2024-06-16T12:00:00+00:00", "2024-06-22T12:00:00+00:00"]
    );
}

#[test]
fn month_names_and_ranges() {
    assert_eq!(
        fires("0 0 0 1 jun-AUG *", "2024-07-15T00:00:00Z", 2),
        ["2024-08-01T00:00:00+00:00", "2025-06-01T00:00:00+00:00"]
    );
}

#[test]
fn leap_day() {
    assert_eq!(
        fires("0 0 0 29 2 *", "2025-01-01T00:00:00Z", 2),
        ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"]
    );
}

#[test]
fn impossible_dates_never_fire() {
    let after = at("2024-01-01T00:00:00Z");
    assert_eq!(schedule("0 0 0 30 2 *").next_after(after), None);
    assert_eq!(schedule("0 0 0 31 4,6,9,11 *").next_after(after), None);
}

#[test]
fn time_zone_prefix_shifts_fields() {
    // Asia/Shanghai is UTC+8 all year.
    assert_eq!(fires("CRON_TZ=Asia/Shanghai 0 0 9 * * *", "2024-01-01T00:00:00Z", 1), ["2024-01-01T01:00:00+00:00"]);
    assert_eq!(fires("0 0 9 * * *", "2024-01-01T00:00:00Z", 1), ["2024-01-01T09:00:00+00:00"]);
    assert_eq!(fires("TZ=Asia/Shanghai @daily", "2024-01-01T00:00:00Z", 1), ["2024-01-01T16:00:00+00:00"]);
    // Day fields are read in the zone too: Monday 00:30 in Shanghai is Sunday 16:30 UTC.
    assert_eq!(fires("CRON_TZ=Asia/Shanghai 0 30 0 * * MON", "2024-06-10T00:00:00Z", 1), ["2024-06-16T16:30:00+00:00"]);
    assert_eq!(schedule("CRON_TZ=Asia/Shanghai 0 0 9 * * *").time_zone(), Some(Tz::Asia__Shanghai));
    assert_eq!(schedule("0 0 9 * * *").time_zone(), Some(Tz::UTC));
}

#[test]
fn time_zone_prefix_errors() {
    assert_eq!(
        error("CRON_TZ=Mars/Olympus 0 0 9 * * *"),
        "invalid cron expression 'CRON_TZ=Mars/Olympus 0 0 9 * * *': unknown time zone \
         'Mars/Olympus' (expected an IANA name such as Asia/Shanghai)"
    );
    assert_eq!(
        error("TZ=Asia/Shanghai"),
        "invalid cron expression 'TZ=Asia/Shanghai': nothing follows the time zone prefix \
         'TZ=Asia/Shanghai'"
    );
    assert!(error("CRON_TZ=Asia/Shanghai 0 61 * * * *").ends_with("minute value 61 out of range 0-59"));
}

#[test]
fn dst_gap_skips_nonexistent_local_times() {
    let ny = "CRON_TZ=America/New_York";
    // 02:30 does not exist on 10 March 2024, so that day is skipped.
    assert_eq!(
        fires(&format!("{ny} 0 30 2 * * *"), "2024-03-09T08:00:00Z", 2),
        ["2024-03-11T06:30:00+00:00", "2024-03-12T06:30:00+00:00"]
    );
    // Hourly keeps firing every real hour; 02:00 local is simply absent.
    assert_eq!(
        fires(&format!("{ny} 0 0 * * * *"), "2024-03-10T05:30:00Z", 3),
        ["2024-03-10T06:00:00+00:00", "2024-03-10T07:00:00+00:00", "2024-03-10T08:00:00+00:00",]
    );
    // Noon local moves from 17:00 UTC (EST) to 16:00 UTC (EDT).
    assert_eq!(
        fires(&format!("{ny} 0 0 12 * * *"), "2024-03-09T00:00:00Z", 2),
        ["2024-03-09T17:00:00+00:00", "2024-03-10T16:00:00+00:00"]
    );
}

#[test]
fn dst_overlap_fires_once() {
    let ny = "CRON_TZ=America/New_York";
    // 01:30 happens twice on 3 November 2024 (05:30 and 06:30 UTC); fire only at the first.
    assert_eq!(
        fires(&format!("{ny} 0 30 1 * * *"), "2024-11-03T04:00:00Z", 2),
        ["2024-11-03T05:30:00+00:00", "2024-11-04T06:30:00+00:00"]
    );
    // Starting inside the repeated hour still finds the occurrence that is ahead.
    assert_eq!(fires(&format!("{ny} 0 30 1 * * *"), "2024-11-03T06:10:00Z", 1), ["2024-11-03T06:30:00+00:00"]);
    // Every-30-minutes: the repeated 01:00-01:59 hour is not walked a second time.
    assert_eq!(
        fires(&format!("{ny} 0 */30 * * * *"), "2024-11-03T05:10:00Z", 3),
        ["2024-11-03T05:30:00+00:00", "2024-11-03T07:00:00+00:00", "2024-11-03T07:30:00+00:00",]
    );
}

#[test]
fn sparse_schedules_are_cheap() {
    // Searching five years for an impossible date, many times over, must stay fast: the search
    // jumps by field rather than by second.
    let schedule = schedule("59 59 23 31 2 *");
    let after = at("2024-01-01T00:00:00Z");
    for _ in 0..200 {
        assert_eq!(schedule.next_after(after), None);
    }
}
