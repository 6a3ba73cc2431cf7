//! Points in time and spans of time, as the runtime's API uses them: milliseconds, UTC.

use std::fmt;
use std::str::FromStr;

/// An instant: milliseconds since 1970-01-01T00:00Z.
///
/// ```
/// use proc_runtime::Time;
/// let t: Time = "2026-03-02T09:00:00Z".parse().unwrap();
/// assert_eq!(t.plus(proc_runtime::HOUR).to_string(), "2026-03-02T10:00:00Z");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time(pub i64);

/// One second, in milliseconds.
pub const SECOND: i64 = 1000;
/// One minute, in milliseconds.
pub const MINUTE: i64 = 60 * SECOND;
/// One hour, in milliseconds.
pub const HOUR: i64 = 60 * MINUTE;
/// One day (24 hours), in milliseconds.
pub const DAY: i64 = 24 * HOUR;

impl Time {
    /// This time moved by `ms` milliseconds (saturating).
    pub fn plus(self, ms: i64) -> Time {
        Time(self.0.saturating_add(ms))
    }

    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Time {
    /// RFC 3339 in UTC, e.g. `2026-03-02T09:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&proc_abi::text::format_time_rfc3339(self.0))
    }
}

/// A text that is not an RFC 3339 time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadTime(pub String);

impl fmt::Display for BadTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a time; write it as in 2026-03-02T09:00:00Z (RFC 3339)",
            self.0
        )
    }
}

impl std::error::Error for BadTime {}

impl FromStr for Time {
    type Err = BadTime;

    fn from_str(text: &str) -> Result<Time, BadTime> {
        proc_abi::text::parse_time(text)
            .map(Time)
            .ok_or_else(|| BadTime(text.to_string()))
    }
}
