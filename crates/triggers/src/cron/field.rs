//! One cron field (`*/5`, `MON-FRI`, `1,15`) parsed into a bitmask, following robfig/cron v3's
//! `getField`/`getRange` rules so that expressions mean here what they mean on FC.
//!
//! Day-of-week is the one place FC departs from robfig: FC documents `1~7 or MON~SUN` (Monday 1,
//! Sunday 7), while robfig numbers `0-6` from Sunday. The two agree on 1-6, so both `0` and `7`
//! mean Sunday here, and a range may end on Sunday (`MON-SUN`, `5-7`).

use super::error::{Field, ScheduleErrorKind};

/// The values a field allows, as bit `v` set for value `v` (every field fits in 64 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldSet {
    pub(crate) bits: u64,
    /// Set when the field was written as `*` or `?` (with no step above 1). Only the day fields
    /// care: it decides whether day-of-month and day-of-week combine with AND or OR.
    pub(crate) unrestricted: bool,
}

impl FieldSet {
    /// The smallest allowed value that is `>= from`, if any.
    pub(crate) fn next_from(self, from: u32) -> Option<u32> {
        if from >= 64 {
            return None;
        }
        let masked = self.bits & (u64::MAX << from);
        (masked != 0).then(|| masked.trailing_zeros())
    }

    pub(crate) fn contains(self, value: u32) -> bool {
        value < 64 && self.bits & (1 << value) != 0
    }
}

const MONTH_NAMES: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAY_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Parses a comma-separated list of terms for `field`.
pub(crate) fn parse_field(field: Field, text: &str) -> Result<FieldSet, ScheduleErrorKind> {
    let mut set = FieldSet { bits: 0, unrestricted: false };
    for term in text.split(',') {
        if term.is_empty() {
            return Err(ScheduleErrorKind::EmptyTerm { field });
        }
        let parsed = parse_term(field, term)?;
        set.bits |= parsed.bits;
        set.unrestricted |= parsed.unrestricted;
    }
    Ok(set)
}

/// One term: `*`, `?`, `a`, `a-b`, each optionally followed by `/step`. A bare `a/step` means
/// `a-max/step`, as in robfig/cron.
fn parse_term(field: Field, term: &str) -> Result<FieldSet, ScheduleErrorKind> {
    let malformed = |separator| ScheduleErrorKind::MalformedTerm { field, term: term.to_owned(), separator };
    let mut slash = term.split('/');
    let range = slash.next().unwrap_or_default();
    let step_text = slash.next();
    if slash.next().is_some() {
        return Err(malformed('/'));
    }

    let (start, end, mut unrestricted) = if range == "*" || range == "?" {
        (field.min(), field.max(), true)
    } else {
        let mut dash = range.split('-');
        let low = parse_value(field, dash.next().unwrap_or_default())?;
        let high = match dash.next() {
            // `SUN` (0) closing a weekday range is the Sunday at its end: `MON-SUN` is 1-7.
            Some(text) => match parse_value(field, text)? {
                0 if field == Field::DayOfWeek && low > 0 => 7,
                high => high,
            },
            None if step_text.is_some() => field.max(),
            None => low,
        };
        if dash.next().is_some() {
            return Err(malformed('-'));
        }
        (low, high, false)
    };

    let step = match step_text {
        None => 1,
        Some(text) => parse_step(field, text)?,
    };
    if step > 1 {
        unrestricted = false;
    }
    if start > end {
        return Err(ScheduleErrorKind::ReversedRange { field, start, end });
    }

    let mut bits = (start..=end).step_by(step).fold(0u64, |bits, value| bits | (1 << value));
    if field == Field::DayOfWeek && bits & (1 << 7) != 0 {
        bits = (bits & !(1 << 7)) | 1;
    }
    Ok(FieldSet { bits, unrestricted })
}

/// A number or (for month and day-of-week) a three-letter English name, range-checked.
fn parse_value(field: Field, text: &str) -> Result<u32, ScheduleErrorKind> {
    let invalid = || ScheduleErrorKind::InvalidValue { field, value: text.to_owned() };
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let value: u64 = text.parse().map_err(|_| invalid())?;
        return match u32::try_from(value) {
            Ok(v) if (field.min()..=field.max_explicit()).contains(&v) => Ok(v),
            _ => Err(ScheduleErrorKind::OutOfRange { field, value }),
        };
    }
    let (names, first): (&[&str], u32) = match field {
        Field::Month => (&MONTH_NAMES, 1),
        Field::DayOfWeek => (&WEEKDAY_NAMES, 0),
        _ => return Err(invalid()),
    };
    names
        .iter()
        .zip(first..)
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, value)| value)
        .ok_or_else(invalid)
}

fn parse_step(field: Field, text: &str) -> Result<usize, ScheduleErrorKind> {
    let valid = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<usize>() {
        Ok(step) if valid && step > 0 => Ok(step),
        _ => Err(ScheduleErrorKind::InvalidStep { field, step: text.to_owned() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(field: Field, text: &str) -> Vec<u32> {
        let set = parse_field(field, text).expect("valid field");
        (0..64).filter(|v| set.contains(*v)).collect()
    }

    fn error(field: Field, text: &str) -> String {
        parse_field(field, text).expect_err("invalid field").to_string()
    }

    #[test]
    fn star_and_question_mark_cover_the_whole_range() {
        assert_eq!(values(Field::Hour, "*"), (0..=23).collect::<Vec<_>>());
        assert_eq!(values(Field::DayOfMonth, "?"), (1..=31).collect::<Vec<_>>());
        assert!(parse_field(Field::DayOfWeek, "?").expect("valid").unrestricted);
        assert!(parse_field(Field::DayOfWeek, "*/1").expect("valid").unrestricted);
        assert!(!parse_field(Field::DayOfWeek, "*/2").expect("valid").unrestricted);
        assert!(!parse_field(Field::DayOfWeek, "0-6").expect("valid").unrestricted);
    }

    #[test]
    fn lists_ranges_and_steps() {
        assert_eq!(values(Field::Minute, "1,5,7"), vec![1, 5, 7]);
        assert_eq!(values(Field::Minute, "10-13"), vec![10, 11, 12, 13]);
        assert_eq!(values(Field::Minute, "*/15"), vec![0, 15, 30, 45]);
        assert_eq!(values(Field::Minute, "0/20"), vec![0, 20, 40]);
        assert_eq!(values(Field::Minute, "50/3"), vec![50, 53, 56, 59]);
        assert_eq!(values(Field::Hour, "1-10/4,23"), vec![1, 5, 9, 23]);
        assert_eq!(values(Field::DayOfMonth, "*/10"), vec![1, 11, 21, 31]);
        assert_eq!(values(Field::Second, "*/100"), vec![0]);
    }

    #[test]
    fn names_are_case_insensitive() {
        assert_eq!(values(Field::DayOfWeek, "mon-FRI"), vec![1, 2, 3, 4, 5]);
        assert_eq!(values(Field::DayOfWeek, "Sun,sat"), vec![0, 6]);
        assert_eq!(values(Field::Month, "jan,Jun-AUG"), vec![1, 6, 7, 8]);
        assert_eq!(values(Field::Month, "DEC"), vec![12]);
    }

    #[test]
    fn out_of_range_values_name_the_field_and_bounds() {
        assert_eq!(error(Field::Second, "60"), "second value 60 out of range 0-59");
        assert_eq!(error(Field::Minute, "61"), "minute value 61 out of range 0-59");
        assert_eq!(error(Field::Hour, "0-24"), "hour value 24 out of range 0-23");
        assert_eq!(error(Field::DayOfMonth, "0"), "day-of-month value 0 out of range 1-31");
        assert_eq!(error(Field::DayOfMonth, "32"), "day-of-month value 32 out of range 1-31");
        assert_eq!(error(Field::Month, "13"), "month value 13 out of range 1-12");
        assert_eq!(error(Field::Month, "0"), "month value 0 out of range 1-12");
        assert_eq!(
            error(Field::Minute, "99999999999999999999999"),
            "minute value '99999999999999999999999' is not a number"
        );
    }

    #[test]
    fn sunday_is_zero_or_seven() {
        assert_eq!(values(Field::DayOfWeek, "7"), vec![0]);
        assert_eq!(values(Field::DayOfWeek, "1-7"), vec![0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(values(Field::DayOfWeek, "MON-SUN"), vec![0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(values(Field::DayOfWeek, "fri-sun"), vec![0, 5, 6]);
        assert_eq!(values(Field::DayOfWeek, "SUN-TUE"), vec![0, 1, 2]);
        assert_eq!(values(Field::DayOfWeek, "*"), vec![0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(error(Field::DayOfWeek, "8"), "day-of-week value 8 out of range 0-7");
    }

    #[test]
    fn malformed_terms() {
        assert_eq!(error(Field::Hour, "MON"), "hour value 'MON' is not a number");
        assert_eq!(
            error(Field::DayOfWeek, "monday"),
            "day-of-week value 'monday' is not a number or weekday name (SUN-SAT; 0 and 7 are Sunday)"
        );
        assert_eq!(error(Field::Month, "Foo"), "month value 'Foo' is not a number or month name (JAN-DEC)");
        assert_eq!(error(Field::Minute, "-5"), "minute value '' is not a number");
        assert_eq!(error(Field::Minute, "+5"), "minute value '+5' is not a number");
        assert_eq!(error(Field::Minute, "1,,2"), "minute field has an empty list entry");
        assert_eq!(error(Field::Minute, "30-10"), "minute range 30-10 starts after it ends");
        assert_eq!(error(Field::Minute, "*/0"), "minute step '0' is not a positive number");
        assert_eq!(error(Field::Minute, "*/x"), "minute step 'x' is not a positive number");
        assert_eq!(error(Field::Minute, "*/"), "minute step '' is not a positive number");
        assert_eq!(error(Field::Minute, "1-2-3"), "minute term '1-2-3' has more than one '-'");
        assert_eq!(error(Field::Minute, "*/2/3"), "minute term '*/2/3' has more than one '/'");
    }

    #[test]
    fn next_from_finds_the_following_value() {
        let set = parse_field(Field::Minute, "5,30").expect("valid");
        assert_eq!(set.next_from(0), Some(5));
        assert_eq!(set.next_from(5), Some(5));
        assert_eq!(set.next_from(6), Some(30));
        assert_eq!(set.next_from(31), None);
        assert_eq!(set.next_from(64), None);
    }
}
