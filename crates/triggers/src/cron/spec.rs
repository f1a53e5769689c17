//! Next-fire computation for six-field schedules.
//!
//! The search runs on the zone's wall clock (a `NaiveDateTime`), jumping straight to the next
//! allowed value of the coarsest field that does not match, so a yearly schedule costs a handful
//! of steps rather than millions of one-second probes. Each wall-clock candidate is then mapped
//! back to an instant: local times skipped by a DST gap do not fire, and a local time repeated by
//! a DST overlap fires once (at the first occurrence that is still in the future).

use chrono::{DateTime, Datelike, MappedLocalTime, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use super::field::FieldSet;

/// How far ahead to look before concluding a schedule never fires (e.g. `0 0 0 30 2 *`); the
/// same horizon robfig/cron uses.
const SEARCH_YEARS: i32 = 5;

/// A parsed six-field expression and the zone its fields are read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SpecSchedule {
    pub(crate) second: FieldSet,
    pub(crate) minute: FieldSet,
    pub(crate) hour: FieldSet,
    pub(crate) day_of_month: FieldSet,
    pub(crate) month: FieldSet,
    pub(crate) day_of_week: FieldSet,
    pub(crate) zone: Tz,
}

impl SpecSchedule {
    /// The first instant strictly after `after` whose wall-clock time in `self.zone` matches.
    pub(crate) fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.zone).naive_local();
        let mut from = local.with_nanosecond(0)?.checked_add_signed(TimeDelta::seconds(1))?;
        let year_limit = from.year().checked_add(SEARCH_YEARS)?;
        loop {
            let candidate = self.next_local(from, year_limit)?;
            let fired = match self.zone.from_local_datetime(&candidate) {
                MappedLocalTime::Single(at) => Some(at).filter(|at| *at > after),
                MappedLocalTime::Ambiguous(first, second) => [first, second].into_iter().find(|at| *at > after),
                MappedLocalTime::None => None,
            };
            if let Some(at) = fired {
                return Some(at.with_timezone(&Utc));
            }
            from = candidate.checked_add_signed(TimeDelta::seconds(1))?;
        }
    }

    /// The first wall-clock time `>= from` that matches every field, or `None` once the search
    /// passes the end of `year_limit`.
    fn next_local(&self, mut t: NaiveDateTime, year_limit: i32) -> Option<NaiveDateTime> {
        loop {
            if t.year() > year_limit {
                return None;
            }
            let date = t.date();
            match self.month.next_from(date.month()) {
                Some(month) if month == date.month() => {}
                Some(month) => {
                    t = midnight(date.year(), month, 1)?;
                    continue;
                }
                None => {
                    t = midnight(date.year().checked_add(1)?, 1, 1)?;
                    continue;
                }
            }
            if !self.day_matches(date) {
                t = date.succ_opt()?.and_hms_opt(0, 0, 0)?;
                continue;
            }
            match self.hour.next_from(t.hour()) {
                Some(hour) if hour == t.hour() => {}
                Some(hour) => {
                    t = date.and_hms_opt(hour, 0, 0)?;
                    continue;
                }
                None => {
                    t = date.succ_opt()?.and_hms_opt(0, 0, 0)?;
                    continue;
                }
            }
            match self.minute.next_from(t.minute()) {
                Some(minute) if minute == t.minute() => {}
                Some(minute) => {
                    t = date.and_hms_opt(t.hour(), minute, 0)?;
                    continue;
                }
                None => {
                    t = date.and_hms_opt(t.hour(), 0, 0)?.checked_add_signed(TimeDelta::hours(1))?;
                    continue;
                }
            }
            match self.second.next_from(t.second()) {
                Some(second) if second == t.second() => return Some(t),
                Some(second) => return date.and_hms_opt(t.hour(), t.minute(), second),
                None => {
                    t = date.and_hms_opt(t.hour(), t.minute(), 0)?.checked_add_signed(TimeDelta::minutes(1))?;
                }
            }
        }
    }

    /// Vixie cron's rule, as robfig/cron implements it: when either day field is unrestricted
    /// (`*` or `?`) both must match; when both are restricted, matching either is enough. So
    /// `0 0 0 13 * FRI` fires on every 13th and on every Friday.
    fn day_matches(&self, date: NaiveDate) -> bool {
        let dom = self.day_of_month.contains(date.day());
        let dow = self.day_of_week.contains(date.weekday().num_days_from_sunday());
        if self.day_of_month.unrestricted || self.day_of_week.unrestricted {
            dom && dow
        } else {
            dom || dow
        }
    }
}

fn midnight(year: i32, month: u32, day: u32) -> Option<NaiveDateTime> {
    NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(0, 0, 0)
}
