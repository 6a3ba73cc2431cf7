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

    /// Takes out the earliest live entry due by `now` (dropping the stale entries above it), or `None` when
    /// nothing is due. The caller handles it; an entry it puts back, or an instance's new wake-up, is taken out in
    /// its turn. Equal live entries (an instance pushed twice at one time) come out once: the instance's wake-up
    /// moves when it is handled, which leaves the other stale.
    pub(crate) fn pop_due(
        &mut self,
        now: i64,
        wake: impl Fn(u64) -> Option<i64>,
    ) -> Option<(i64, u64)> {
        while let Some(&Reverse((time, instance))) = self.heap.peek() {
            if time > now {
                return None;
            }
            self.heap.pop();
            if wake(instance) == Some(time) {
                return Some((time, instance));
            }
        }
        None
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

    /// Takes out what is due by `now`, as `advance` does, each instance's wake-up ending when it is handled.
    fn handle_due(
        timers: &mut Timers,
        wakes: &mut BTreeMap<u64, i64>,
        now: i64,
    ) -> Vec<(i64, u64)> {
        let mut due = Vec::new();
        while let Some((time, id)) = timers.pop_due(now, |id| wakes.get(&id).copied()) {
            due.push((time, id));
            wakes.remove(&id);
        }
        due
    }

    #[test]
    fn a_wakeup_handled_by_now_comes_out_again_at_its_next_time() {
        let mut timers = Timers::default();
        let mut wakes = BTreeMap::from([(1, 10), (2, 20)]);
        timers.push(10, 1);
        timers.push(20, 2);
        assert_eq!(
            timers.pop_due(100, |id| wakes.get(&id).copied()),
            Some((10, 1))
        );
        // Instance 1, handled at 10, next wakes at 30: it comes out after instance 2, and 40 is not due.
        wakes.insert(1, 30);
        timers.push(30, 1);
        assert_eq!(
            timers.pop_due(100, |id| wakes.get(&id).copied()),
            Some((20, 2))
        );
        wakes.remove(&2);
        assert_eq!(
            timers.pop_due(100, |id| wakes.get(&id).copied()),
            Some((30, 1))
        );
        wakes.insert(1, 140);
        timers.push(140, 1);
        assert_eq!(timers.pop_due(100, |id| wakes.get(&id).copied()), None);
        assert_eq!(timers.earliest(), Some(140));
    }

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
        assert_eq!(handle_due(&mut timers, &mut wakes, 100), [(50, 1), (70, 2)]);
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
        assert_eq!(handle_due(&mut timers, &mut wakes, 100), [(5, 0), (20, 1)]);
    }
}
