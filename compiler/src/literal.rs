//! Validation and values of literals: numbers, durations, dates, instants and clock times.
//!
//! The lexer only recognises the shape of a literal; the values (and errors like `2026-02-30`) come from here.

/// Seconds in each duration unit.
fn unit_seconds(unit: char) -> Option<i64> {
    match unit {
        's' => Some(1),
        'm' => Some(60),
        'h' => Some(3600),
        'd' => Some(86_400),
        'w' => Some(604_800),
        _ => None,
    }
}

/// A duration literal (`4h`, `1h30m`) in seconds. Spaces are skipped: `1h 30m`, reported by the lexer, reads as
/// `1h30m` so that nothing else is reported about it.
pub fn duration_seconds(text: &str) -> Result<i64, String> {
    let mut total: i64 = 0;
    let mut number: i64 = 0;
    let mut digits = 0;
    let mut last_unit: Option<i64> = None;
    for ch in text.chars().filter(|c| !matches!(c, ' ' | '\t')) {
        if let Some(digit) = ch.to_digit(10) {
            number = number
                .checked_mul(10)
                .and_then(|n| n.checked_add(i64::from(digit)))
                .ok_or_else(|| format!("duration `{text}` is too large"))?;
            digits += 1;
        } else {
            let unit = unit_seconds(ch).ok_or_else(|| format!("unknown duration unit `{ch}`"))?;
            if digits == 0 {
                return Err(format!("duration `{text}` has a unit without a number"));
            }
            if last_unit.is_some_and(|last| unit >= last) {
                return Err(format!(
                    "units in duration `{text}` must go from largest to smallest, each once"
                ));
            }
            last_unit = Some(unit);
            total = number
                .checked_mul(unit)
                .and_then(|part| total.checked_add(part))
                .ok_or_else(|| format!("duration `{text}` is too large"))?;
            number = 0;
            digits = 0;
        }
    }
    // Durations are kept in milliseconds: the longest is about 292 million years.
    if total.checked_mul(1000).is_none() {
        return Err(format!(
            "duration `{text}` is too large (the limit is {}s)",
            i64::MAX / 1000
        ));
    }
    Ok(total)
}

/// An integer literal.
pub fn int_value(text: &str) -> Result<i64, String> {
    text.parse::<i64>()
        .map_err(|_| format!("number `{text}` is too large (the limit is {})", i64::MAX))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

fn number(text: &str, what: &str) -> Result<i64, String> {
    text.parse::<i64>()
        .map_err(|_| format!("invalid {what} `{text}`"))
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// A date literal (`2026-12-25`) as days since 1970-01-01.
pub fn date_days(text: &str) -> Result<i64, String> {
    let mut parts = text.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("invalid date `{text}`"));
    };
    let (year, month, day) = (number(y, "year")?, number(m, "month")?, number(d, "day")?);
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} does not exist in `{text}`"));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(format!(
            "day {day} does not exist in month {month} of {year}"
        ));
    }
    Ok(days_from_civil(year, month, day))
}

/// A clock time (`09:00`) in minutes after midnight; `24:00` is allowed as the end of a day.
pub fn clock_minutes(text: &str) -> Result<i64, String> {
    let (h, m) = text
        .split_once(':')
        .ok_or_else(|| format!("invalid clock time `{text}`"))?;
    let (hour, minute) = (number(h, "hour")?, number(m, "minute")?);
    if minute > 59 || hour > 24 || (hour == 24 && minute != 0) {
        return Err(format!("clock time `{text}` does not exist"));
    }
    Ok(hour * 60 + minute)
}

/// An instant literal (`2026-12-25T09:00Z`, `2026-12-25T09:00:00+01:00`) as seconds since the Unix epoch (UTC).
pub fn instant_seconds(text: &str) -> Result<i64, String> {
    let (date, rest) = text
        .split_once('T')
        .ok_or_else(|| format!("invalid time `{text}`"))?;
    let days = date_days(date)?;
    let (clock, offset_seconds) = if let Some(clock) = rest.strip_suffix('Z') {
        (clock, 0)
    } else {
        let split = rest
            .rfind(['+', '-'])
            .ok_or_else(|| format!("time `{text}` needs a zone offset such as `Z` or `+01:00`"))?;
        let (clock, offset) = rest.split_at(split);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let offset_minutes = clock_minutes(offset.get(1..).unwrap_or(""))
            .map_err(|_| format!("invalid zone offset in `{text}`"))?;
        (clock, sign * offset_minutes * 60)
    };
    let mut pieces = clock.split(':');
    let hour = number(pieces.next().unwrap_or(""), "hour")?;
    let minute = number(pieces.next().unwrap_or(""), "minute")?;
    let second = match pieces.next() {
        Some(s) => number(s, "second")?,
        None => 0,
    };
    if hour > 23 || minute > 59 || second > 59 {
        return Err(format!("time of day in `{text}` does not exist"));
    }
    Ok(days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds)
}

/// A duration in words for people: `4h`, `1d 2h`, `90m` → "1 hour 30 minutes".
pub fn describe_duration(seconds: i64) -> String {
    let mut rest = seconds.abs();
    let mut parts = Vec::new();
    for (size, one, many) in [
        (604_800, "week", "weeks"),
        (86_400, "day", "days"),
        (3600, "hour", "hours"),
        (60, "minute", "minutes"),
        (1, "second", "seconds"),
    ] {
        let count = rest / size;
        if count > 0 {
            parts.push(format!("{count} {}", if count == 1 { one } else { many }));
            rest -= count * size;
        }
    }
    if parts.is_empty() {
        "0 seconds".to_string()
    } else {
        parts.join(" ")
    }
}

/// A business-time duration in words. Business time is counted in working hours (`1d` on a calendar is 24
/// working hours, not one working day), so it is described in hours and minutes only.
pub fn describe_business_duration(seconds: i64) -> String {
    let minutes_total = seconds.abs() / 60;
    let (hours, minutes) = (minutes_total / 60, minutes_total % 60);
    let mut parts = Vec::new();
    if hours > 0 {
        parts.push(format!(
            "{hours} business hour{}",
            if hours == 1 { "" } else { "s" }
        ));
    }
    if minutes > 0 || hours == 0 {
        parts.push(format!(
            "{minutes} business minute{}",
            if minutes == 1 { "" } else { "s" }
        ));
    }
    parts.join(" ")
}

/// The unit letter of a unit's name or abbreviation (`hours`, `hrs`, `h` → `h`).
pub fn unit_of(word: &str) -> Option<char> {
    match word.to_ascii_lowercase().as_str() {
        "d" | "day" | "days" => Some('d'),
        "h" | "hr" | "hrs" | "hour" | "hours" => Some('h'),
        "m" | "min" | "mins" | "minute" | "minutes" => Some('m'),
        "s" | "sec" | "secs" | "second" | "seconds" => Some('s'),
        "w" | "wk" | "wks" | "week" | "weeks" => Some('w'),
        _ => None,
    }
}

/// A duration written with unit words or abbreviations from elsewhere (`90min`, `2days`, `4hrs`, `1h30` for
/// `1h30m`) as a Proc duration, if every part names a unit.
pub fn duration_from_words(written: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = written;
    let mut last_unit = None;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return None;
        }
        let (number, after) = rest.split_at(digits);
        let letters = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let (word, after) = after.split_at(letters);
        let unit = match unit_of(word) {
            Some(unit) => unit,
            // `1h30`: the next smaller unit.
            None if word.is_empty() && after.is_empty() => match last_unit? {
                'w' => 'd',
                'd' => 'h',
                'h' => 'm',
                'm' => 's',
                _ => return None,
            },
            None => return None,
        };
        out.push_str(number);
        out.push(unit);
        last_unit = Some(unit);
        rest = after;
    }
    Some(out)
}

/// `1.5h` as the literal of whole units it means (`1h30m`), if it is a whole number of seconds.
pub fn whole_units(fractional: &str) -> Option<String> {
    let unit = fractional.chars().last()?;
    let unit_s = unit_seconds(unit)?;
    let number = fractional.get(..fractional.len() - unit.len_utf8())?;
    let (whole, fraction) = number.split_once('.')?;
    let scale = 10_i64.checked_pow(u32::try_from(fraction.len()).ok()?)?;
    let scaled = whole
        .parse::<i64>()
        .ok()?
        .checked_mul(scale)?
        .checked_add(fraction.parse::<i64>().ok()?)?;
    let total = scaled.checked_mul(unit_s)?;
    if total % scale != 0 {
        return None;
    }
    let mut seconds = total / scale;
    if seconds == 0 {
        return None;
    }
    let mut out = String::new();
    for (name, size) in [
        ('w', 604_800),
        ('d', 86_400),
        ('h', 3600),
        ('m', 60),
        ('s', 1),
    ] {
        if seconds >= size {
            out.push_str(&format!("{}{name}", seconds / size));
            seconds %= size;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_seconds("4h"), Ok(4 * 3600));
        assert_eq!(duration_seconds("1h30m"), Ok(5400));
        assert_eq!(duration_seconds("2w"), Ok(2 * 604_800));
        assert!(duration_seconds("30m1h").is_err());
        assert!(duration_seconds("99999999999999999999h").is_err());
    }

    #[test]
    fn dates_and_instants() {
        assert_eq!(date_days("1970-01-01"), Ok(0));
        assert_eq!(date_days("2024-02-29"), Ok(19_782));
        assert!(date_days("2026-02-29").is_err());
        assert!(date_days("2026-13-01").is_err());
        assert_eq!(instant_seconds("1970-01-01T01:00Z"), Ok(3600));
        assert_eq!(instant_seconds("1970-01-01T01:00+01:00"), Ok(0));
        assert!(instant_seconds("2026-01-01T25:00Z").is_err());
    }

    #[test]
    fn clocks_and_words() {
        assert_eq!(clock_minutes("09:30"), Ok(570));
        assert_eq!(clock_minutes("24:00"), Ok(1440));
        assert!(clock_minutes("17:60").is_err());
        assert_eq!(describe_duration(5400), "1 hour 30 minutes");
        assert_eq!(describe_business_duration(86_400), "24 business hours");
        assert_eq!(
            describe_business_duration(4 * 3600 + 60),
            "4 business hours 1 business minute"
        );
    }
}

#[cfg(test)]
mod fraction_tests {
    use super::*;

    #[test]
    fn fractions_become_whole_units() {
        assert_eq!(whole_units("1.5h").as_deref(), Some("1h30m"));
        assert_eq!(whole_units("0.25d").as_deref(), Some("6h"));
        assert_eq!(whole_units("2.5m").as_deref(), Some("2m30s"));
        assert_eq!(whole_units("0.001s"), None);
        assert_eq!(duration_seconds("1h 30m"), Ok(5400));
    }
}
