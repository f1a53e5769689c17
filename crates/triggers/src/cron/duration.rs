//! Go's `time.ParseDuration` grammar, which FC's `@every <duration>` uses: a sequence of decimal
//! numbers, each with an optional fraction and a required unit (`1h30m`, `1.5h`, `90s`, `500ms`).

use thiserror::Error;

/// Why a duration string was rejected; rendered after the quoted duration, so the messages read
/// as a predicate ("'5x' has unknown unit 'x'").
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DurationError {
    #[error("is not a valid duration (expected e.g. 90s, 5m, 1h30m)")]
    Malformed,
    #[error("is missing a unit (ns, us, ms, s, m or h)")]
    MissingUnit,
    #[error("has unknown unit '{unit}' (expected ns, us, ms, s, m or h)")]
    UnknownUnit { unit: String },
    #[error("is too large")]
    Overflow,
}

const NANOS_PER_SECOND: u128 = 1_000_000_000;
/// Go durations are signed 64-bit nanosecond counts.
const MAX_NANOS: u128 = i64::MAX as u128;

/// Parses `text` and returns its length in nanoseconds; negative durations come back as
/// negative numbers so the caller can report them as too short.
pub(crate) fn parse_go_duration(text: &str) -> Result<i128, DurationError> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(DurationError::Malformed);
    }

    let mut total: u128 = 0;
    while !rest.is_empty() {
        let (whole, after_whole) = split_digits(rest);
        let (fraction, after_fraction) = match after_whole.strip_prefix('.') {
            Some(tail) => split_digits(tail),
            None => ("", after_whole),
        };
        if whole.is_empty() && fraction.is_empty() {
            return Err(DurationError::Malformed);
        }
        let unit_len = after_fraction.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(after_fraction.len());
        if unit_len == 0 {
            return Err(DurationError::MissingUnit);
        }
        let (unit, tail) = after_fraction.split_at(unit_len);
        rest = tail;

        let scale = unit_nanos(unit).ok_or_else(|| DurationError::UnknownUnit { unit: unit.to_owned() })?;
        total = total
            .checked_add(component_nanos(whole, fraction, scale)?)
            .filter(|total| *total <= MAX_NANOS)
            .ok_or(DurationError::Overflow)?;
    }

    let total = i128::try_from(total).map_err(|_| DurationError::Overflow)?;
    Ok(if negative { -total } else { total })
}

/// Whole seconds in a duration of `nanos` nanoseconds, rounded down as robfig/cron's
/// `ConstantDelaySchedule` does.
pub(crate) fn whole_seconds(nanos: i128) -> i128 {
    nanos.div_euclid(NANOS_PER_SECOND as i128)
}

/// `whole.fraction` units of `scale` nanoseconds each. Fraction digits beyond what a u128 can
/// hold cannot change a nanosecond count, so they are dropped, as Go does.
fn component_nanos(whole: &str, fraction: &str, scale: u128) -> Result<u128, DurationError> {
    let whole_value = if whole.is_empty() { 0 } else { whole.parse::<u128>().map_err(|_| DurationError::Overflow)? };
    let mut value = whole_value.checked_mul(scale).filter(|v| *v <= MAX_NANOS).ok_or(DurationError::Overflow)?;
    let digits = &fraction[..fraction.len().min(18)];
    if !digits.is_empty() {
        let numerator: u128 = digits.parse().map_err(|_| DurationError::Malformed)?;
        let denominator = 10u128.pow(u32::try_from(digits.len()).unwrap_or(18));
        value += numerator * scale / denominator;
    }
    Ok(value)
}

fn split_digits(text: &str) -> (&str, &str) {
    let end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    text.split_at(end)
}

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        // Go accepts the ASCII spelling and both the micro sign and the Greek mu.
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => NANOS_PER_SECOND,
        "m" => 60 * NANOS_PER_SECOND,
        "h" => 3_600 * NANOS_PER_SECOND,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i128 = NANOS_PER_SECOND as i128;

    fn parse(text: &str) -> Result<i128, DurationError> {
        parse_go_duration(text)
    }

    #[test]
    fn accepts_go_durations() {
        assert_eq!(parse("10s"), Ok(10 * SECOND));
        assert_eq!(parse("5m"), Ok(300 * SECOND));
        assert_eq!(parse("1h30m"), Ok(5_400 * SECOND));
        assert_eq!(parse("1.5h"), Ok(5_400 * SECOND));
        assert_eq!(parse(".5m"), Ok(30 * SECOND));
        assert_eq!(parse("2.m"), Ok(120 * SECOND));
        assert_eq!(parse("500ms"), Ok(SECOND / 2));
        assert_eq!(parse("1h0m0s"), Ok(3_600 * SECOND));
        assert_eq!(parse("+90s"), Ok(90 * SECOND));
        assert_eq!(parse("-1m"), Ok(-60 * SECOND));
        assert_eq!(parse("0"), Ok(0));
        assert_eq!(parse("1us"), Ok(1_000));
        assert_eq!(parse("1\u{b5}s"), Ok(1_000));
        assert_eq!(parse("3ns"), Ok(3));
    }

    #[test]
    fn rejects_malformed_durations() {
        assert_eq!(parse(""), Err(DurationError::Malformed));
        assert_eq!(parse("-"), Err(DurationError::Malformed));
        assert_eq!(parse("."), Err(DurationError::Malformed));
        assert_eq!(parse("h"), Err(DurationError::Malformed));
        assert_eq!(parse("10"), Err(DurationError::MissingUnit));
        assert_eq!(parse("1h30"), Err(DurationError::MissingUnit));
        assert_eq!(parse("5d"), Err(DurationError::UnknownUnit { unit: "d".into() }));
        assert_eq!(parse("1h 30m"), Err(DurationError::UnknownUnit { unit: "h ".into() }));
        assert_eq!(parse("9999999999h"), Err(DurationError::Overflow));
        assert_eq!(parse("2562047h48m"), Err(DurationError::Overflow));
    }

    #[test]
    fn whole_seconds_rounds_down() {
        assert_eq!(whole_seconds(parse("1.9s").expect("valid")), 1);
        assert_eq!(whole_seconds(parse("90s").expect("valid")), 90);
    }
}
