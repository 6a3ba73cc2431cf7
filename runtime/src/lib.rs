//! The Proc runtime that host applications embed to run compiled workflows (issue 3 adds the wasmtime engine).
//!
//! Today it holds the time model every later part relies on: a compiled workflow sees time only through the
//! host's [`Clock`]; tests and replays use a [`ManualClock`] that moves only when told to. Nothing in the
//! toolchain reads the system clock except [`SystemClock`], the one place allowed to.

use std::cell::Cell;

/// An instant: whole seconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(pub i64);

impl Instant {
    /// This instant moved forward by `seconds` (saturating).
    pub fn plus_seconds(self, seconds: i64) -> Instant {
        Instant(self.0.saturating_add(seconds))
    }
}

/// The only source of the current time for workflows.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Instant;
}

/// A clock that moves only when the host (or a test) moves it.
///
/// ```
/// use proc_runtime::{Clock, Instant, ManualClock};
/// let clock = ManualClock::new(Instant(1_000));
/// clock.advance(60);
/// assert_eq!(clock.now(), Instant(1_060));
/// ```
#[derive(Debug, Default)]
pub struct ManualClock {
    now: Cell<Instant>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Instant) -> Self {
        ManualClock {
            now: Cell::new(start),
        }
    }

    /// Moves the clock forward by `seconds`; a negative amount is ignored, because time never runs backwards.
    pub fn advance(&self, seconds: i64) {
        if seconds > 0 {
            self.now.set(self.now.get().plus_seconds(seconds));
        }
    }

    /// Moves the clock to `to`, if that is not in its past. Returns false (and leaves the clock) otherwise.
    pub fn set(&self, to: Instant) -> bool {
        if to < self.now.get() {
            return false;
        }
        self.now.set(to);
        true
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
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
    fn now(&self) -> Instant {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        Instant(i64::try_from(seconds).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_never_runs_backwards() {
        let clock = ManualClock::new(Instant(100));
        clock.advance(-50);
        assert_eq!(clock.now(), Instant(100));
        assert!(!clock.set(Instant(99)));
        assert!(clock.set(Instant(200)));
        assert_eq!(clock.now(), Instant(200));
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now() > Instant(1_577_836_800));
    }
}
