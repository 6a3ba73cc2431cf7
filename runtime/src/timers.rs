//! The instances' wake-up times, earliest first, for [`crate::Runtime::advance`] and
//! [`crate::Runtime::next_wakeup`].
//!
//! A binary heap of `(time, instance)` entries with lazy deletion: when an instance's wake-up moves, a new entry
//! is pushed and the old one is left behind, stale. An entry is live while its instance still wakes at its time
//! (the runtime's cases are the truth; this only orders them). Most events move the wake-up of the instance they
//! touch, so this costs one push instead of finding and removing the old entry in an ordered set. Stale entries
//! are dropped when they reach the top (so the earliest time can be read without changing anything), and the heap
//! is rebuilt from the instances when it holds more than twice as many entries as there are instances.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(i64, u64)>>,
}

impl Timers {
    /// Records that `instance` wakes at `time`. Its earlier entries go stale on their own.
    pub(crate) fn push(&mut self, time: i64, instance: u64) {
        self.heap.push(Reverse((time, instance)));
    }

    /// The earliest wake-up, once [`Timers::settle`] has run after the last change.
    pub(crate) fn earliest(&self) -> Option<i64> {
        self.heap.peek().map(|Reverse((time, _))| *time)
    }

    /// Drops stale entries from the top; when the heap holds more than twice as many entries as there are
    /// instances, rebuilds it from `live` (every instance's wake-up, once: an instance whose wake-up went back to
    /// an earlier value has several live entries), keeping its allocation. `wake` gives an instance's wake-up
    /// (`None` if it is gone).
    pub(crate) fn settle<L>(
        &mut self,
        instances: usize,
        wake: impl Fn(u64) -> Option<i64>,
        live: impl FnOnce() -> L,
    ) where
        L: Iterator<Item = (i64, u64)>,
    {
        if self.heap.len() > 2 * instances + 64 {
            let mut entries = std::mem::take(&mut self.heap).into_vec();
            entries.clear();
            entries.extend(live().map(Reverse));
            self.heap = BinaryHeap::from(entries);
            return;
        }
        while let Some(&Reverse((time, instance))) = self.heap.peek() {
            if wake(instance) == Some(time) {
                break;
            }
            self.heap.pop();
        }
    }

    /// Takes out the live entries due by `now`, in time order (then by instance), each instance once. The caller
    /// pushes back those whose instance still wakes at the same time after it has handled them.
    pub(crate) fn take_due(
        &mut self,
        now: i64,
        wake: impl Fn(u64) -> Option<i64>,
    ) -> Vec<(i64, u64)> {
        let mut due: Vec<(i64, u64)> = Vec::new();
        while let Some(&Reverse((time, instance))) = self.heap.peek() {
            if time > now {
                break;
            }
            self.heap.pop();
            if wake(instance) == Some(time) && due.last() != Some(&(time, instance)) {
                due.push((time, instance));
            }
        }
        due
    }

    /// Number of entries, live and stale.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Timers;
    use std::collections::BTreeMap;

    /// The timers settled against `wakes` (instance → wake-up).
    fn settle(timers: &mut Timers, wakes: &BTreeMap<u64, i64>) {
        timers.settle(
            wakes.len(),
            |id| wakes.get(&id).copied(),
            || wakes.iter().map(|(id, t)| (*t, *id)),
        );
    }

    #[test]
    fn the_earliest_live_wakeup_is_on_top_and_moved_ones_are_skipped() {
        let mut timers = Timers::default();
        let mut wakes = BTreeMap::new();
        for (id, t) in [(1, 50), (2, 20), (3, 30)] {
            wakes.insert(id, t);
            timers.push(t, id);
        }
        settle(&mut timers, &wakes);
        assert_eq!(timers.earliest(), Some(20));
        // Instance 2 moves later and instance 3 is removed: 50 (instance 1) is now the earliest.
        wakes.insert(2, 70);
        timers.push(70, 2);
        wakes.remove(&3);
        settle(&mut timers, &wakes);
        assert_eq!(timers.earliest(), Some(50));
        // Due by 100: each live instance once, in time order; stale and duplicate entries are left out.
        timers.push(50, 1);
        assert_eq!(
            timers.take_due(100, |id| wakes.get(&id).copied()),
            [(50, 1), (70, 2)]
        );
        settle(&mut timers, &wakes);
        assert_eq!(timers.earliest(), None);
    }

    #[test]
    fn stale_entries_are_dropped_when_they_outnumber_live_ones() {
        let mut timers = Timers::default();
        let mut wakes = BTreeMap::new();
        wakes.insert(7, 0);
        for t in 0..1000 {
            // The one instance's wake-up moves earlier with every event: the stale entries stay below the top.
            wakes.insert(7, 1000 - t);
            timers.push(1000 - t, 7);
            settle(&mut timers, &wakes);
            assert!(
                timers.len() <= 2 + 64,
                "{} entries for one instance",
                timers.len()
            );
            assert_eq!(timers.earliest(), Some(1000 - t));
        }
    }

    #[test]
    fn a_wakeup_that_goes_back_and_forth_keeps_the_heap_small() {
        let mut timers = Timers::default();
        let mut wakes = BTreeMap::new();
        // Instance 0 keeps the top, so instance 1's old entries are never dropped from there.
        wakes.insert(0, 5);
        timers.push(5, 0);
        for round in 0..1000 {
            // Between two times: every old entry of the current one is live again.
            let t = if round % 2 == 0 { 10 } else { 20 };
            wakes.insert(1, t);
            timers.push(t, 1);
            settle(&mut timers, &wakes);
            assert!(
                timers.len() <= 4 + 64,
                "{} entries for two instances",
                timers.len()
            );
            assert_eq!(timers.earliest(), Some(5));
        }
        let due = timers.take_due(100, |id| wakes.get(&id).copied());
        assert_eq!(due, [(5, 0), (20, 1)]);
    }
}
