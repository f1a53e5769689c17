//! Timer trigger schedules with FC's semantics. FC evaluates `cronExpression` with Go's
//! robfig/cron v3 in its six-field form (seconds first), so this module follows that parser's
//! grammar and its day-matching rules, with FC's documented day-of-week numbering on top (`1~7`
//! or `MON~SUN`: 0 and 7 are both Sunday). Where robfig silently does something surprising
//! (sub-second `@every`) we reject with an explanation instead.
//!
//! Layout:
//! - `error.rs`: [`ScheduleError`], its [`ScheduleErrorKind`] and the [`Field`] names.
//! - `field.rs`: one field (`*/5`, `MON-FRI`, `1,15`) to a bitmask.
//! - `duration.rs`: Go duration strings for `@every`.
//! - `spec.rs`: next-fire search for six-field schedules, including time zones and DST.

mod duration;
mod error;
mod field;
mod spec;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

pub use duration::DurationError;
pub use error::{Field, ScheduleError, ScheduleErrorKind};

use field::parse_field;
use spec::SpecSchedule;

/// A parsed timer schedule: six cron fields (optionally prefixed by `CRON_TZ=<zone>` or
/// `TZ=<zone>`), a descriptor such as `@daily`, or `@every <duration>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    expression: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Spec(Box<SpecSchedule>),
    /// robfig/cron's `ConstantDelaySchedule`: fires a fixed delay after the previous reference
    /// time, regardless of the wall clock.
    Every(TimeDelta),
}

impl Schedule {
    /// The first fire time strictly after `after`, or `None` if the schedule does not fire
    /// within about five years (for example `0 0 0 30 2 *`).
    ///
    /// `@every d` schedules return `after` rounded down to the second plus `d`, so the caller
    /// passes the previous fire time (or the trigger's creation time) to get a steady cadence.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.kind {
            Kind::Spec(spec) => spec.next_after(after),
            Kind::Every(delay) => {
                let whole = DateTime::from_timestamp(after.timestamp(), 0)?;
                whole.checked_add_signed(*delay)
            }
        }
    }

    /// The expression this schedule was parsed from (surrounding whitespace trimmed).
    pub fn as_str(&self) -> &str {
        &self.expression
    }

    /// The zone the fields are evaluated in; `None` for `@every`, which ignores the wall clock.
    pub fn time_zone(&self) -> Option<Tz> {
        match &self.kind {
            Kind::Spec(spec) => Some(spec.zone),
            Kind::Every(_) => None,
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expression)
    }
}

impl FromStr for Schedule {
    type Err = ScheduleError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let expression = input.trim();
        parse(expression)
            .map(|kind| Schedule { expression: expression.to_owned(), kind })
            .map_err(|kind| ScheduleError { expression: expression.to_owned(), kind })
    }
}

fn parse(expression: &str) -> Result<Kind, ScheduleErrorKind> {
    if expression.is_empty() {
        return Err(ScheduleErrorKind::Empty);
    }
    let (zone, spec) = split_zone(expression)?;
    if spec.starts_with('@') {
        return parse_descriptor(spec, zone);
    }
    parse_fields(spec, zone).map_err(|kind| match kind {
        ScheduleErrorKind::FiveFields { suggestion } => {
            // Keep the zone prefix in the suggested fix so it can be pasted back as is.
            let prefix = &expression[..expression.len() - spec.len()];
            ScheduleErrorKind::FiveFields { suggestion: format!("{prefix}{suggestion}") }
        }
        other => other,
    })
}

fn parse_fields(spec: &str, zone: Tz) -> Result<Kind, ScheduleErrorKind> {
    let fields: Vec<&str> = spec.split_whitespace().collect();
    let [second, minute, hour, day_of_month, month, day_of_week] = fields[..] else {
        return Err(match fields.len() {
            5 => ScheduleErrorKind::FiveFields { suggestion: format!("0 {}", fields.join(" ")) },
            found => ScheduleErrorKind::FieldCount { found },
        });
    };
    Ok(Kind::Spec(Box::new(SpecSchedule {
        second: parse_field(Field::Second, second)?,
        minute: parse_field(Field::Minute, minute)?,
        hour: parse_field(Field::Hour, hour)?,
        day_of_month: parse_field(Field::DayOfMonth, day_of_month)?,
        month: parse_field(Field::Month, month)?,
        day_of_week: parse_field(Field::DayOfWeek, day_of_week)?,
        zone,
    })))
}

/// Splits off a leading `CRON_TZ=<zone> ` or `TZ=<zone> ` (robfig/cron accepts both spellings,
/// case-sensitively). Without one, fields are read in UTC, as on FC.
fn split_zone(expression: &str) -> Result<(Tz, &str), ScheduleErrorKind> {
    let Some(assignment) = ["CRON_TZ=", "TZ="].into_iter().find_map(|prefix| expression.strip_prefix(prefix)) else {
        return Ok((Tz::UTC, expression));
    };
    let (zone, spec) = assignment.split_once(char::is_whitespace).unwrap_or((assignment, ""));
    let spec = spec.trim_start();
    let tz = zone.parse::<Tz>().map_err(|_| ScheduleErrorKind::UnknownTimeZone { zone: zone.to_owned() })?;
    if spec.is_empty() {
        let prefix_len = expression.len() - assignment.len() + zone.len();
        return Err(ScheduleErrorKind::MissingSpecAfterZone { prefix: expression[..prefix_len].to_owned() });
    }
    Ok((tz, spec))
}

/// `@yearly` and friends expand to fixed six-field schedules; `@every` becomes a constant delay.
fn parse_descriptor(descriptor: &str, zone: Tz) -> Result<Kind, ScheduleErrorKind> {
    let (name, argument) =
        descriptor.split_once(char::is_whitespace).map_or((descriptor, ""), |(name, rest)| (name, rest.trim()));
    let name = name.to_ascii_lowercase();
    if name == "@every" {
        return parse_every(argument);
    }
    let fields = match name.as_str() {
        _ if !argument.is_empty() => None,
        "@yearly" | "@annually" => Some("0 0 0 1 1 *"),
        "@monthly" => Some("0 0 0 1 * *"),
        "@weekly" => Some("0 0 0 * * 0"),
        "@daily" | "@midnight" => Some("0 0 0 * * *"),
        "@hourly" => Some("0 0 * * * *"),
        _ => None,
    };
    let Some(fields) = fields else {
        return Err(ScheduleErrorKind::UnknownDescriptor { descriptor: descriptor.to_owned() });
    };
    parse_fields(fields, zone)
}

fn parse_every(duration: &str) -> Result<Kind, ScheduleErrorKind> {
    if duration.is_empty() {
        return Err(ScheduleErrorKind::MissingDuration);
    }
    let nanos = duration::parse_go_duration(duration)
        .map_err(|reason| ScheduleErrorKind::InvalidDuration { duration: duration.to_owned(), reason })?;
    let too_short = || ScheduleErrorKind::DurationTooShort { duration: duration.to_owned() };
    let seconds = duration::whole_seconds(nanos);
    if seconds < 1 {
        return Err(too_short());
    }
    let seconds = i64::try_from(seconds).map_err(|_| too_short())?;
    TimeDelta::try_seconds(seconds)
        .map(Kind::Every)
        .ok_or(ScheduleErrorKind::InvalidDuration { duration: duration.to_owned(), reason: DurationError::Overflow })
}

#[cfg(test)]
mod tests;
