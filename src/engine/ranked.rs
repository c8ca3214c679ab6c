//! A heap entry ranked by a key, ties broken by arrival: the priority queue's jobs (`queue.rs`) and
//! the watchdog's deadlines (`watchdog.rs`) are both kept in a `BinaryHeap` of these.

use std::cmp::Ordering;

/// `item`, ranked in a (max-)`BinaryHeap` by `key`: the greatest key is on top and, among equal
/// keys, the earliest `seq`. A heap of earliest-first keys uses a `std::cmp::Reverse` key.
pub(crate) struct Ranked<K, T> {
    pub(crate) key: K,
    pub(crate) seq: u64,
    pub(crate) item: T,
}

impl<K: Ord, T> PartialEq for Ranked<K, T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<K: Ord, T> Eq for Ranked<K, T> {}
impl<K: Ord, T> PartialOrd for Ranked<K, T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<K: Ord, T> Ord for Ranked<K, T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key).then_with(|| other.seq.cmp(&self.seq))
    }
}
