//! When schedules fire: `every 6 months at 09:00 on Office` and the like, computed in the calendar's time zone
//! (UTC without one). A host keeps the next occurrence of each schedule and starts an instance of its process
//! when its clock passes it ([`crate::Runtime::next_occurrence`]).
//!
//! - `every N minutes|hours [at T]`: at `T` (default 00:00) and every N minutes or hours after it, each day;
//!   with a calendar, only while it is open.
//! - `every N days|weeks|months|years [at T]`: days counted from 1970-01-01, weeks from Monday 1970-01-05,
//!   months from January (so `every 6 months` is January and July, on the 1st), years from year 0 (on
//!   January 1st); with a calendar, an occurrence on a day without working time moves to the next working day.
//! - `every monday` …: each such day, moved like the above.
//! - `every first|last business day of month`: the first or last day of each month with working time.

use crate::calendar::Calendar;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use proc_abi::ScheduleMeta;

/// Ten years: a schedule that does not fire within them never does.
const MAX_DAYS: usize = 3700;

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name {
        "monday" => Weekday::Monday,
        "tuesday" => Weekday::Tuesday,
        "wednesday" => Weekday::Wednesday,
        "thursday" => Weekday::Thursday,
        "friday" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

fn days_since_epoch(date: Date) -> i64 {
    proc_abi::text::days_from_civil(
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    )
}

struct Place<'a> {
    calendar: Option<&'a Calendar>,
    utc: TimeZone,
}

impl Place<'_> {
    fn zone(&self) -> &TimeZone {
        self.calendar.map_or(&self.utc, Calendar::zone)
    }

    fn date_of(&self, at: i64) -> Option<Date> {
        let ts = jiff::Timestamp::from_millisecond(at).ok()?;
        Some(ts.to_zoned(self.zone().clone()).date())
    }

    fn instant(&self, date: Date, minute: u32) -> Option<i64> {
        let (date, minute) = if minute >= 1440 {
            (date.tomorrow().ok()?, minute - 1440)
        } else {
            (date, minute)
        };
        let local = date.at(
            i8::try_from(minute / 60).ok()?,
            i8::try_from(minute % 60).ok()?,
            0,
            0,
        );
        self.zone()
            .to_timestamp(local)
            .ok()
            .map(jiff::Timestamp::as_millisecond)
    }

    fn working(&self, date: Date) -> bool {
        self.calendar.is_none_or(|c| c.is_working_day(date))
    }

    fn open(&self, at: i64) -> bool {
        self.calendar.is_none_or(|c| c.is_open(at))
    }

    /// The first working day on or after `date`.
    fn next_working(&self, mut date: Date) -> Option<Date> {
        for _ in 0..MAX_DAYS {
            if self.working(date) {
                return Some(date);
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

/// Whether `date` is an occurrence day of a day-grained schedule (before moving to a working day).
fn anchor(meta: &ScheduleMeta, place: &Place<'_>, date: Date) -> Option<bool> {
    let count = i64::from(meta.count.max(1));
    Some(match meta.unit.as_str() {
        "day" => days_since_epoch(date).rem_euclid(count) == 0,
        "week" => {
            date.weekday() == Weekday::Monday
                && (days_since_epoch(date) - 4).div_euclid(7).rem_euclid(count) == 0
        }
        "month" => {
            date.day() == 1
                && (i64::from(date.year()) * 12 + i64::from(date.month()) - 1).rem_euclid(count)
                    == 0
        }
        "year" => {
            date.month() == 1 && date.day() == 1 && i64::from(date.year()).rem_euclid(count) == 0
        }
        "first_business_day" => {
            let first = date.first_of_month();
            place.working(date) && place.next_working(first) == Some(date)
        }
        "last_business_day" => {
            if !place.working(date) {
                return Some(false);
            }
            let mut later = date.tomorrow().ok()?;
            while later.month() == date.month() {
                if place.working(later) {
                    return Some(false);
                }
                later = later.tomorrow().ok()?;
            }
            true
        }
        other => date.weekday() == weekday(other)?,
    })
}

/// The first occurrence strictly after `after`, or `None` if it never fires (within ten years).
pub(crate) fn next_occurrence(
    meta: &ScheduleMeta,
    calendar: Option<&Calendar>,
    after: i64,
) -> Option<i64> {
    let place = Place {
        calendar,
        utc: TimeZone::UTC,
    };
    let start = place.date_of(after)?;
    let business = matches!(
        meta.unit.as_str(),
        "first_business_day" | "last_business_day"
    );
    match meta.unit.as_str() {
        "minute" | "hour" => {
            let step = meta.count.max(1) * if meta.unit == "hour" { 60 } else { 1 };
            let mut date = start.yesterday().ok()?;
            for _ in 0..MAX_DAYS {
                let mut minute = meta.at_minute;
                while minute < 1440 {
                    let at = place.instant(date, minute)?;
                    if at > after && place.open(at) {
                        return Some(at);
                    }
                    minute += step;
                }
                date = date.tomorrow().ok()?;
            }
            None
        }
        _ => {
            // Look back far enough that an anchor moved forward past non-working days is not missed.
            let mut date = start.checked_sub(jiff::Span::new().days(31)).ok()?;
            for _ in 0..MAX_DAYS {
                if anchor(meta, &place, date)? {
                    let day = if business {
                        Some(date)
                    } else {
                        place.next_working(date)
                    };
                    if let Some(day) = day {
                        let at = place.instant(day, meta.at_minute)?;
                        if at > after {
                            return Some(at);
                        }
                    }
                }
                date = date.tomorrow().ok()?;
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_abi::text::{format_time_rfc3339 as show, parse_time};
    use proc_abi::{CalendarMeta, Hours};

    fn schedule(unit: &str, count: u32, at_minute: u32) -> ScheduleMeta {
        ScheduleMeta {
            name: "s".into(),
            every: String::new(),
            unit: unit.into(),
            count,
            at: None,
            at_minute,
            calendar: None,
            process: "p".into(),
        }
    }

    fn office() -> Calendar {
        Calendar::new(&CalendarMeta {
            name: "Office".into(),
            zone: "Europe/London".into(),
            hours: vec![Hours {
                days: vec![0, 1, 2, 3, 4],
                from_minute: 9 * 60,
                to_minute: 17 * 60,
            }],
            holidays: vec!["2026-01-01".into(), "2026-06-01".into()],
        })
        .unwrap()
    }

    fn next(meta: &ScheduleMeta, calendar: Option<&Calendar>, after: &str) -> String {
        next_occurrence(meta, calendar, parse_time(after).unwrap()).map_or("never".into(), show)
    }

    #[test]
    fn twice_a_year_on_a_working_morning() {
        let office = office();
        let s = schedule("month", 6, 9 * 60);
        // 2026-01-01 is a holiday (Thursday): the occurrence moves to Friday the 2nd, 09:00 GMT.
        assert_eq!(
            next(&s, Some(&office), "2025-12-01T00:00:00Z"),
            "2026-01-02T09:00:00Z"
        );
        // 2026-07-01 is a Wednesday, in British Summer Time.
        assert_eq!(
            next(&s, Some(&office), "2026-01-02T09:00:00Z"),
            "2026-07-01T08:00:00Z"
        );
        // Without a calendar: UTC, no moving.
        assert_eq!(
            next(&s, None, "2025-12-01T00:00:00Z"),
            "2026-01-01T09:00:00Z"
        );
    }

    #[test]
    fn weekdays_and_business_days() {
        let office = office();
        assert_eq!(
            next(&schedule("monday", 1, 9 * 60), None, "2026-03-02T09:00:00Z"),
            "2026-03-09T09:00:00Z"
        );
        assert_eq!(
            next(&schedule("monday", 1, 9 * 60), None, "2026-03-02T08:59:00Z"),
            "2026-03-02T09:00:00Z"
        );
        // June 2026: the 1st is a holiday (Monday), so the first business day is Tuesday the 2nd.
        let first = schedule("first_business_day", 1, 9 * 60);
        assert_eq!(
            next(&first, Some(&office), "2026-05-20T00:00:00Z"),
            "2026-06-02T08:00:00Z"
        );
        // The last business day of February 2026 is Friday the 27th.
        let last = schedule("last_business_day", 1, 16 * 60);
        assert_eq!(
            next(&last, Some(&office), "2026-02-01T00:00:00Z"),
            "2026-02-27T16:00:00Z"
        );
    }

    #[test]
    fn minutes_hours_days_weeks_and_years() {
        let office = office();
        let quarter = schedule("minute", 15, 0);
        assert_eq!(
            next(&quarter, None, "2026-03-02T09:07:00Z"),
            "2026-03-02T09:15:00Z"
        );
        // With a calendar, only while it is open: Saturday night waits for Monday 09:00.
        assert_eq!(
            next(&quarter, Some(&office), "2026-03-07T22:00:00Z"),
            "2026-03-09T09:00:00Z"
        );
        assert_eq!(
            next(&schedule("hour", 4, 8 * 60), None, "2026-03-02T13:00:00Z"),
            "2026-03-02T16:00:00Z"
        );
        assert_eq!(
            next(&schedule("day", 1, 0), None, "2026-03-02T13:00:00Z"),
            "2026-03-03T00:00:00Z"
        );
        assert_eq!(
            next(&schedule("week", 2, 0), None, "2026-03-02T13:00:00Z"),
            "2026-03-16T00:00:00Z"
        );
        assert_eq!(
            next(&schedule("year", 1, 0), None, "2026-03-02T13:00:00Z"),
            "2027-01-01T00:00:00Z"
        );
    }
}
