//! Why a schedule was rejected. Messages are shown to API users verbatim, so each one names the
//! field and the value that was wrong rather than just "parse error".

use std::fmt;

use thiserror::Error;

use super::duration::DurationError;

/// A schedule expression that could not be parsed. The message always quotes the whole
/// expression first, because users usually paste it from a template and need to see which one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid cron expression '{expression}': {kind}")]
pub struct ScheduleError {
    /// The expression as given (surrounding whitespace trimmed).
    pub expression: String,
    /// What was wrong with it.
    pub kind: ScheduleErrorKind,
}

/// The specific reason a [`ScheduleError`] was raised.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScheduleErrorKind {
    #[error("expression is empty")]
    Empty,
    /// Kept apart from [`Self::FieldCount`] because a classic crontab line is by far the most
    /// common mistake, and the fix (prepend a seconds field) can be spelled out.
    #[error(
        "FC cron expressions have six fields with seconds first \
         (seconds minutes hours day-of-month month day-of-week), found five; did you mean '{suggestion}'?"
    )]
    FiveFields { suggestion: String },
    #[error("expected six fields (seconds minutes hours day-of-month month day-of-week), found {found}")]
    FieldCount { found: usize },
    #[error("{field} field has an empty list entry")]
    EmptyTerm { field: Field },
    #[error("{field} value '{value}' is not {}", field.expected_value())]
    InvalidValue { field: Field, value: String },
    #[error("{field} value {value} out of range {}-{}", field.min(), field.max_explicit())]
    OutOfRange { field: Field, value: u64 },
    #[error("{field} range {start}-{end} starts after it ends")]
    ReversedRange { field: Field, start: u32, end: u32 },
    #[error("{field} step '{step}' is not a positive number")]
    InvalidStep { field: Field, step: String },
    #[error("{field} term '{term}' has more than one '{separator}'")]
    MalformedTerm { field: Field, term: String, separator: char },
    #[error(
        "unknown descriptor '{descriptor}'; expected @yearly, @annually, @monthly, @weekly, \
         @daily, @midnight, @hourly or @every <duration>"
    )]
    UnknownDescriptor { descriptor: String },
    #[error("@every needs a duration, e.g. '@every 5m'")]
    MissingDuration,
    #[error("@every duration '{duration}' {reason}")]
    InvalidDuration { duration: String, reason: DurationError },
    /// robfig/cron silently rounds these up to one second; rejecting them tells the user that
    /// the timer will not fire as often as they asked.
    #[error("@every duration '{duration}' is shorter than the 1s minimum")]
    DurationTooShort { duration: String },
    #[error("unknown time zone '{zone}' (expected an IANA name such as Asia/Shanghai)")]
    UnknownTimeZone { zone: String },
    #[error("nothing follows the time zone prefix '{prefix}'")]
    MissingSpecAfterZone { prefix: String },
}

/// The six positional fields of a cron expression, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl Field {
    /// All fields in expression order.
    pub const ALL: [Field; 6] =
        [Field::Second, Field::Minute, Field::Hour, Field::DayOfMonth, Field::Month, Field::DayOfWeek];

    /// The name used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Field::Second => "second",
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        }
    }

    /// Smallest accepted value.
    pub fn min(self) -> u32 {
        match self {
            Field::DayOfMonth | Field::Month => 1,
            _ => 0,
        }
    }

    /// Largest accepted value.
    pub fn max(self) -> u32 {
        match self {
            Field::Second | Field::Minute => 59,
            Field::Hour => 23,
            Field::DayOfMonth => 31,
            Field::Month => 12,
            Field::DayOfWeek => 6,
        }
    }

    /// Largest value that may be written: day-of-week also takes 7 (Sunday, as FC documents it).
    pub fn max_explicit(self) -> u32 {
        match self {
            Field::DayOfWeek => 7,
            other => other.max(),
        }
    }

    fn expected_value(self) -> &'static str {
        match self {
            Field::Month => "a number or month name (JAN-DEC)",
            Field::DayOfWeek => "a number or weekday name (SUN-SAT; 0 and 7 are Sunday)",
            _ => "a number",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
