//! Business calendars: weekly working hours in a time zone, holidays, daylight-saving changes.
//!
//! Compiled modules ask the host for business-time arithmetic through the `calendar_*` imports (see
//! `docs/abi.md`), so the time-zone rules live here, in jiff's tz database compiled into the runtime, and a
//! module stays small and independent of any tz database. Every computation works day by day in the
//! calendar's zone: a day's opening hours are turned into UTC instants with that day's offset, so a deadline
//! that spans a daylight-saving change counts the working hours people actually work.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use proc_abi::CalendarMeta;
use std::collections::HashSet;

/// More than ten years without a single working hour means "never".
const MAX_DAYS: usize = 3700;

/// The furthest a deadline may lie ahead: a hundred years of days, so 600 working hours on a calendar that is
/// open one hour a week (eleven and a half years) are found. Further is [`proc_abi::NO_TIME`], which the module
/// turns into a run-time error of the instance.
const MAX_SPAN_DAYS: usize = 36_600;

/// A calendar ready for arithmetic.
#[derive(Clone, Debug)]
pub struct Calendar {
    name: String,
    zone: TimeZone,
    /// Working hours per weekday (0 = Monday), as minutes after local midnight.
    week: [Vec<(u32, u32)>; 7],
    holidays: HashSet<Date>,
}

impl Calendar {
    /// Builds a calendar from a module's metadata; fails on an unknown time zone or a malformed holiday.
    pub fn new(meta: &CalendarMeta) -> Result<Calendar, String> {
        let zone = TimeZone::get(&meta.zone).map_err(|e| {
            format!(
                "calendar `{}` uses time zone `{}`, which this runtime does not know: {e}",
                meta.name, meta.zone
            )
        })?;
        let mut week: [Vec<(u32, u32)>; 7] = Default::default();
        for hours in &meta.hours {
            for &day in &hours.days {
                if let Some(list) = week.get_mut(usize::from(day)) {
                    list.push((hours.from_minute.min(1440), hours.to_minute.min(1440)));
                }
            }
        }
        // Hours are a set of open times: overlapping or repeated lines (a calendar that includes another and
        // states its hours again) count once, not twice.
        for list in &mut week {
            list.sort_unstable();
            let mut merged: Vec<(u32, u32)> = Vec::with_capacity(list.len());
            for &(from, to) in list.iter().filter(|(from, to)| from < to) {
                match merged.last_mut() {
                    Some(last) if from <= last.1 => last.1 = last.1.max(to),
                    _ => merged.push((from, to)),
                }
            }
            *list = merged;
        }
        let mut holidays = HashSet::new();
        for holiday in &meta.holidays {
            let date: Date = holiday.parse().map_err(|e| {
                format!(
                    "calendar `{}` has a holiday `{holiday}` that is not a date: {e}",
                    meta.name
                )
            })?;
            holidays.insert(date);
        }
        Ok(Calendar {
            name: meta.name.clone(),
            zone,
            week,
            holidays,
        })
    }

    /// The calendar's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The calendar's time zone.
    pub(crate) fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// Whether a local date has any working time.
    pub(crate) fn is_working_day(&self, date: Date) -> bool {
        !self.intervals(date).is_empty()
    }

    pub(crate) fn local_date(&self, at: i64) -> Option<Date> {
        let ts = Timestamp::from_millisecond(at).ok()?;
        Some(ts.to_zoned(self.zone.clone()).date())
    }

    pub(crate) fn instant(&self, date: Date, minute: u32) -> Option<i64> {
        let (date, minute) = if minute >= 1440 {
            (date.tomorrow().ok()?, 0)
        } else {
            (date, minute)
        };
        let hour = i8::try_from(minute / 60).ok()?;
        let min = i8::try_from(minute % 60).ok()?;
        let local: DateTime = date.at(hour, min, 0, 0);
        self.zone
            .to_timestamp(local)
            .ok()
            .map(Timestamp::as_millisecond)
    }

    /// A day's working intervals as UTC instants, in order.
    fn intervals(&self, date: Date) -> Vec<(i64, i64)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        let weekday = usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0);
        let Some(hours) = self.week.get(weekday) else {
            return Vec::new();
        };
        hours
            .iter()
            .filter_map(|&(from, to)| {
                let a = self.instant(date, from)?;
                let b = self.instant(date, to)?;
                (b > a).then_some((a, b))
            })
            .collect()
    }

    /// The instant when `duration` milliseconds of working time have passed after `start`.
    ///
    /// ```
    /// # use proc_runtime::calendar::Calendar;
    /// # use proc_runtime::proc_abi::{CalendarMeta, Hours};
    /// let berlin = Calendar::new(&CalendarMeta {
    ///     name: "Support".into(),
    ///     zone: "Europe/Berlin".into(),
    ///     hours: vec![Hours { days: vec![0, 1, 2, 3, 4], from_minute: 9 * 60, to_minute: 17 * 60 }],
    ///     holidays: vec![],
    /// }).unwrap();
    /// // Friday 2026-03-06 16:00 in Berlin (15:00Z) plus 4 working hours is Monday 12:00 (11:00Z).
    /// let friday = proc_runtime::proc_abi::text::parse_time("2026-03-06T15:00:00Z").unwrap();
    /// let due = berlin.add(friday, 4 * 3_600_000);
    /// assert_eq!(proc_runtime::proc_abi::text::format_time_rfc3339(due), "2026-03-09T11:00:00Z");
    /// ```
    pub fn add(&self, start: i64, duration: i64) -> i64 {
        if duration <= 0 {
            return start;
        }
        let mut remaining = duration;
        let Some(mut date) = self.local_date(start) else {
            return start.saturating_add(duration);
        };
        let mut closed_days = 0;
        for _ in 0..MAX_SPAN_DAYS {
            let intervals = self.intervals(date);
            if intervals.is_empty() {
                closed_days += 1;
                if closed_days > MAX_DAYS {
                    break;
                }
            } else {
                closed_days = 0;
            }
            for (a, b) in intervals {
                if b <= start {
                    continue;
                }
                let from = a.max(start);
                let available = b - from;
                if available >= remaining {
                    return from + remaining;
                }
                remaining -= available;
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        proc_abi::NO_TIME
    }

    /// Working time between two instants (0 if `to` is not after `from`).
    pub fn between(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        let Some(mut date) = self.local_date(from) else {
            return 0;
        };
        let mut total: i64 = 0;
        for _ in 0..MAX_SPAN_DAYS {
            match self.instant(date, 0) {
                Some(midnight) if midnight >= to => break,
                None => break,
                _ => {}
            }
            for (a, b) in self.intervals(date) {
                let overlap = b.min(to) - a.max(from);
                if overlap > 0 {
                    total = total.saturating_add(overlap);
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        total
    }

    /// Whether the calendar is open at the instant.
    pub fn is_open(&self, at: i64) -> bool {
        self.local_date(at)
            .is_some_and(|date| self.intervals(date).iter().any(|&(a, b)| a <= at && at < b))
    }

    /// The first instant at or after `at` when the calendar is open.
    pub fn next_open(&self, at: i64) -> i64 {
        let Some(mut date) = self.local_date(at) else {
            return i64::MAX;
        };
        for _ in 0..MAX_DAYS {
            for (a, b) in self.intervals(date) {
                if at < b {
                    return a.max(at);
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        i64::MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_abi::Hours;
    use proc_abi::text::{format_time_rfc3339 as show, parse_time};

    fn t(text: &str) -> i64 {
        parse_time(text).unwrap()
    }

    fn calendar(zone: &str, holidays: &[&str]) -> Calendar {
        Calendar::new(&CalendarMeta {
            name: "Office".into(),
            zone: zone.into(),
            hours: vec![Hours {
                days: vec![0, 1, 2, 3, 4],
                from_minute: 9 * 60,
                to_minute: 17 * 60,
            }],
            holidays: holidays.iter().map(|h| (*h).to_string()).collect(),
        })
        .unwrap()
    }

    const H: i64 = 3_600_000;

    #[test]
    fn weekends_are_skipped() {
        let c = calendar("UTC", &[]);
        assert_eq!(
            show(c.add(t("2026-03-06T16:00:00Z"), 4 * H)),
            "2026-03-09T12:00:00Z"
        );
        // A deadline may end exactly at closing time.
        assert_eq!(
            show(c.add(t("2026-03-02T09:00:00Z"), 40 * H)),
            "2026-03-06T17:00:00Z"
        );
        // Starting at night counts from the next opening.
        assert_eq!(
            show(c.add(t("2026-03-02T22:00:00Z"), H)),
            "2026-03-03T10:00:00Z"
        );
    }

    /// Hours stated twice (a calendar that includes another and repeats its hours) or overlapping count once:
    /// counted twice, nine working hours from Monday 09:00 came out Monday 10:00.
    #[test]
    fn repeated_and_overlapping_hours_count_once() {
        let hours = |days: Vec<u8>, from: u32, to: u32| Hours {
            days,
            from_minute: from * 60,
            to_minute: to * 60,
        };
        let c = Calendar::new(&CalendarMeta {
            name: "Twice".into(),
            zone: "UTC".into(),
            hours: vec![
                hours(vec![0, 1, 2, 3, 4], 9, 17),
                hours(vec![0], 9, 17),
                hours(vec![0], 12, 18),
                hours(vec![1], 17, 19),
            ],
            holidays: Vec::new(),
        })
        .unwrap();
        let monday = t("2026-03-02T09:00:00Z");
        // Monday 09:00–18:00 (9 hours), Tuesday 09:00–19:00 (10 hours, the two lines meet at 17:00).
        assert_eq!(show(c.add(monday, 9 * H)), "2026-03-02T18:00:00Z");
        assert_eq!(show(c.add(monday, 10 * H)), "2026-03-03T10:00:00Z");
        assert_eq!(show(c.add(monday, 19 * H)), "2026-03-03T19:00:00Z");
        assert_eq!(c.between(monday, t("2026-03-03T19:00:00Z")), 19 * H);
    }

    #[test]
    fn holidays_have_no_working_time() {
        let c = calendar("Europe/London", &["2026-04-03", "2026-04-06"]);
        // Thursday 16:00 London (BST, 15:00Z) + 2h: one hour on Thursday, Good Friday and Easter Monday off.
        assert_eq!(
            show(c.add(t("2026-04-02T15:00:00Z"), 2 * H)),
            "2026-04-07T09:00:00Z"
        );
    }

    #[test]
    fn daylight_saving_changes_shift_the_hours_in_utc() {
        let c = calendar("Europe/Berlin", &[]);
        // Friday 2026-03-27 16:00 CET (15:00Z); clocks go forward on Sunday 29th; Monday 09:00 CEST is 07:00Z.
        assert_eq!(
            show(c.add(t("2026-03-27T15:00:00Z"), 2 * H)),
            "2026-03-30T08:00:00Z"
        );
        // In autumn, Monday 2026-10-26 09:00 CET is 08:00Z.
        assert_eq!(
            show(c.next_open(t("2026-10-24T12:00:00Z"))),
            "2026-10-26T08:00:00Z"
        );
    }

    #[test]
    fn between_open_and_next_open() {
        let c = calendar("Europe/Berlin", &["2026-12-25"]);
        assert_eq!(
            c.between(t("2026-03-02T10:00:00Z"), t("2026-03-02T11:00:00Z")),
            H
        );
        assert_eq!(
            c.between(t("2026-03-06T15:00:00Z"), t("2026-03-09T10:00:00Z")),
            3 * H
        );
        assert_eq!(
            c.between(t("2026-03-09T10:00:00Z"), t("2026-03-06T15:00:00Z")),
            0
        );
        assert!(c.is_open(t("2026-03-02T10:00:00Z")));
        assert!(!c.is_open(t("2026-03-02T22:00:00Z")));
        assert!(!c.is_open(t("2026-12-25T10:00:00Z")));
        assert_eq!(
            show(c.next_open(t("2026-03-02T10:00:00Z"))),
            "2026-03-02T10:00:00Z"
        );
        for start in [
            "2026-03-02T07:00:00Z",
            "2026-03-05T16:30:00Z",
            "2026-03-07T12:00:00Z",
        ] {
            for hours in [1, 3, 8, 13, 40] {
                let s = t(start);
                let due = c.add(s, hours * H);
                assert_eq!(c.between(s, due), hours * H, "{start} + {hours}h");
            }
        }
    }

    #[test]
    fn unknown_zones_are_refused() {
        let error = Calendar::new(&CalendarMeta {
            name: "Mars".into(),
            zone: "Mars/Olympus".into(),
            ..CalendarMeta::default()
        })
        .unwrap_err();
        assert!(error.contains("Mars/Olympus"), "{error}");
    }
}
