//! The text forms of time values, shared by every side of the ABI.
//!
//! - JSON (events, inputs, outputs, effects): times in RFC 3339 UTC (`2026-03-02T09:00:00Z`), dates as
//!   `2026-03-02`, durations in Proc's own form (`4h`, `1h30m`, `2d`).
//! - Text interpolation inside a module (`"due {c.promised}"`): times in the compact form Proc source uses
//!   (`2026-03-02T09:00Z`), dates and durations as above. The module's own formatting code must agree with
//!   [`format_time_compact`], [`format_date`] and [`format_duration`]; a test compares them.
//!
//! Times are milliseconds since 1970-01-01T00:00Z, dates days since 1970-01-01, durations milliseconds.

const MS_PER_SECOND: i64 = 1000;
const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// Whether a character would make what people read differ from what was written: a control character (a NUL, an
/// escape sequence) or a mark that reverses the direction of text. Refused in people's ids by the runtime, and in a
/// test's ids by the checker.
pub fn is_hidden_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Days since 1970-01-01 of a proleptic Gregorian date (any month/day values; no validation).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The `(year, month, day)` of a day number (days since 1970-01-01).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2026-03-02`.
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn split_time(ms: i64) -> (i64, i64, i64, i64, i64) {
    let days = ms.div_euclid(MS_PER_DAY);
    let in_day = ms.rem_euclid(MS_PER_DAY);
    (
        days,
        in_day / MS_PER_HOUR,
        in_day % MS_PER_HOUR / MS_PER_MINUTE,
        in_day % MS_PER_MINUTE / MS_PER_SECOND,
        in_day % MS_PER_SECOND,
    )
}

/// `2026-03-02T09:00:00Z` (with `.250` when there are milliseconds).
pub fn format_time_rfc3339(ms: i64) -> String {
    let (days, h, m, s, milli) = split_time(ms);
    let date = format_date(days);
    if milli == 0 {
        format!("{date}T{h:02}:{m:02}:{s:02}Z")
    } else {
        format!("{date}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
    }
}

/// `2026-03-02T09:00Z`, with seconds (and milliseconds) only when they are not zero.
pub fn format_time_compact(ms: i64) -> String {
    let (days, h, m, s, milli) = split_time(ms);
    let date = format_date(days);
    if milli != 0 {
        format!("{date}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
    } else if s != 0 {
        format!("{date}T{h:02}:{m:02}:{s:02}Z")
    } else {
        format!("{date}T{h:02}:{m:02}Z")
    }
}

/// `4h`, `1h30m`, `2d`, `-15m`, `0s`: days, hours, minutes, seconds and milliseconds that are not zero.
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    let mut rest = ms.unsigned_abs();
    for (unit, size) in [
        ("d", MS_PER_DAY),
        ("h", MS_PER_HOUR),
        ("m", MS_PER_MINUTE),
        ("s", MS_PER_SECOND),
        ("ms", 1),
    ] {
        let size = size.unsigned_abs();
        let count = rest / size;
        rest %= size;
        if count > 0 {
            out.push_str(&count.to_string());
            out.push_str(unit);
        }
    }
    out
}

/// Parses `4h`, `1h30m`, `2d`, `1w`, `90s`, `250ms`, `-15m`: units from the largest to the smallest, each at
/// most once. Returns milliseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if rest.is_empty() {
        return None;
    }
    let units: [(&str, i64); 6] = [
        ("w", 7 * MS_PER_DAY),
        ("d", MS_PER_DAY),
        ("h", MS_PER_HOUR),
        ("ms", 1),
        ("m", MS_PER_MINUTE),
        ("s", MS_PER_SECOND),
    ];
    // Order in which units may appear (ms is checked before m when reading, but comes last in order).
    let rank = |unit: &str| match unit {
        "w" => 0,
        "d" => 1,
        "h" => 2,
        "m" => 3,
        "s" => 4,
        _ => 5,
    };
    let mut total: i64 = 0;
    let mut last_rank = -1;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let (number, after) = rest.split_at(digits);
        let value: i64 = number.parse().ok()?;
        let (unit, size) = units.iter().find(|(u, _)| after.starts_with(u))?;
        let unit_rank = rank(unit);
        if unit_rank <= last_rank {
            return None;
        }
        last_rank = unit_rank;
        total = total.checked_add(value.checked_mul(*size)?)?;
        rest = after.get(unit.len()..)?;
    }
    Some(if negative { -total } else { total })
}

fn number(text: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = text.get(range)?;
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// Parses `2026-03-02`; checks that the date exists. Returns days since 1970-01-01.
pub fn parse_date(text: &str) -> Option<i64> {
    if text.len() != 10 || text.get(4..5) != Some("-") || text.get(7..8) != Some("-") {
        return None;
    }
    let (y, m, d) = (
        number(text, 0..4)?,
        number(text, 5..7)?,
        number(text, 8..10)?,
    );
    let days = days_from_civil(y, m, d);
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

/// Parses an RFC 3339 time (`2026-03-02T09:00:00Z`, `2026-03-02T10:00:00+01:00`, fractions of a second) and
/// the compact form `2026-03-02T09:00Z`. Returns milliseconds since 1970-01-01T00:00Z.
pub fn parse_time(text: &str) -> Option<i64> {
    let days = parse_date(text.get(0..10)?)?;
    if !matches!(text.get(10..11), Some("T" | "t" | " ")) || text.get(13..14) != Some(":") {
        return None;
    }
    let (hour, minute) = (number(text, 11..13)?, number(text, 14..16)?);
    let mut rest = text.get(16..)?;
    let mut second = 0;
    let mut milli = 0;
    if let Some(after) = rest.strip_prefix(':') {
        second = number(after, 0..2)?;
        rest = after.get(2..)?;
        if let Some(after) = rest.strip_prefix('.') {
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let fraction = after.get(..digits)?;
            let padded: String = fraction.chars().chain("000".chars()).take(3).collect();
            milli = padded.parse().ok()?;
            rest = after.get(digits..)?;
        }
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.get(3..4) != Some(":") {
                return None;
            }
            let (oh, om) = (number(rest, 1..3)?, number(rest, 4..6)?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 60 + om)
        }
    };
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(
        days * MS_PER_DAY
            + hour * MS_PER_HOUR
            + minute * MS_PER_MINUTE
            + second * MS_PER_SECOND
            + milli
            - offset_minutes * MS_PER_MINUTE,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for days in [-800_000, -1, 0, 1, 20_514, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(parse_date("2026-03-02"), Some(20_514));
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-3-02"), None);
    }

    #[test]
    fn times() {
        let t = parse_time("2026-03-02T09:00:00Z").unwrap();
        assert_eq!(format_time_rfc3339(t), "2026-03-02T09:00:00Z");
        assert_eq!(format_time_compact(t), "2026-03-02T09:00Z");
        assert_eq!(parse_time("2026-03-02T10:00:00+01:00"), Some(t));
        assert_eq!(parse_time("2026-03-02T09:00Z"), Some(t));
        assert_eq!(parse_time("2026-03-02T09:00:00.5Z"), Some(t + 500));
        assert_eq!(format_time_compact(t + 5_250), "2026-03-02T09:00:05.250Z");
        assert_eq!(parse_time("2026-03-02T25:00Z"), None);
        assert_eq!(parse_time("2026-03-02"), None);
        assert_eq!(format_time_rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("4h"), Some(4 * MS_PER_HOUR));
        assert_eq!(parse_duration("1h30m"), Some(90 * MS_PER_MINUTE));
        assert_eq!(parse_duration("1w"), Some(7 * MS_PER_DAY));
        assert_eq!(parse_duration("250ms"), Some(250));
        assert_eq!(parse_duration("1m250ms"), Some(60_250));
        assert_eq!(parse_duration("-15m"), Some(-15 * MS_PER_MINUTE));
        assert_eq!(parse_duration("30m1h"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(format_duration(90 * MS_PER_MINUTE), "1h30m");
        assert_eq!(format_duration(2 * MS_PER_DAY), "2d");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(-15 * MS_PER_MINUTE), "-15m");
        assert_eq!(format_duration(MS_PER_DAY + 1), "1d1ms");
        for ms in [1, 999, 61_000, 3 * MS_PER_DAY + 7] {
            assert_eq!(parse_duration(&format_duration(ms)), Some(ms));
        }
    }
}
