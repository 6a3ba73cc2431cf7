//! The only sources of the current time: a compiled workflow sees time through the host's [`Clock`]; tests
//! and replays use a [`ManualClock`] that moves only when told to. Nothing in the toolchain reads the system
//! clock except [`SystemClock`].

use crate::Time;
use std::cell::Cell;

/// The only source of the current time for workflows.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Time;
}

/// A clock that moves only when the host (or a test) moves it.
///
/// ```
/// use proc_runtime::{Clock, ManualClock, Time, MINUTE};
/// let clock = ManualClock::new(Time(1_000));
/// clock.advance(MINUTE);
/// assert_eq!(clock.now(), Time(61_000));
/// ```
#[derive(Debug, Default)]
pub struct ManualClock {
    now: Cell<Time>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Time) -> Self {
        ManualClock {
            now: Cell::new(start),
        }
    }

    /// Moves the clock forward by `ms` milliseconds; a negative amount is ignored (time never runs backwards).
    pub fn advance(&self, ms: i64) {
        if ms > 0 {
            self.now.set(self.now.get().plus(ms));
        }
    }

    /// Moves the clock to `to`, if that is not in its past. Returns false (and leaves the clock) otherwise.
    pub fn set(&self, to: Time) -> bool {
        if to < self.now.get() {
            return false;
        }
        self.now.set(to);
        true
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Time {
        self.now.get()
    }
}

/// The host's real clock: the single place in the toolchain that reads the system time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(
        clippy::disallowed_methods,
        reason = "this is the one sanctioned reading of the system clock"
    )]
    fn now(&self) -> Time {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis());
        Time(i64::try_from(ms).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_never_runs_backwards() {
        let clock = ManualClock::new(Time(100));
        clock.advance(-50);
        assert_eq!(clock.now(), Time(100));
        assert!(!clock.set(Time(99)));
        assert!(clock.set(Time(200)));
        assert_eq!(clock.now(), Time(200));
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now() > Time(1_577_836_800_000));
    }
}
