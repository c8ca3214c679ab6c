//! Deadlines for script jobs, which cannot check their own: a JS task in an infinite loop never reads
//! its cancel flag. One process-wide thread, started by the first deadline, sleeps until the earliest
//! one and then runs its action (a timeout cancels the job; a grace expiry terminates its consumer).
//! Actions are cheap and never block: they flip atomics and push events.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use super::ranked::Ranked;

/// What to do when a deadline passes. It must check itself whether it is still wanted (the job it was
/// set for may have finished long ago): the watchdog never cancels entries.
pub(crate) type Action = Box<dyn FnOnce() + Send>;

/// An action in the heap, ranked so that the top is the earliest deadline (then the first scheduled).
type Entry = Ranked<Reverse<Instant>, Action>;

#[derive(Default)]
struct Deadlines {
    heap: BinaryHeap<Entry>,
    next_seq: u64,
    started: bool,
}

struct Watchdog {
    deadlines: Mutex<Deadlines>,
    changed: Condvar,
}

fn lock(m: &Mutex<Deadlines>) -> MutexGuard<'_, Deadlines> {
    // Actions run outside the lock; a poisoned lock still holds valid deadlines.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn watchdog() -> &'static Watchdog {
    static WATCHDOG: OnceLock<Watchdog> = OnceLock::new();
    WATCHDOG.get_or_init(|| Watchdog { deadlines: Mutex::new(Deadlines::default()), changed: Condvar::new() })
}

/// Runs `action` on the watchdog thread once `due` has passed.
pub(crate) fn schedule(due: Instant, action: Action) {
    let dog = watchdog();
    let mut d = lock(&dog.deadlines);
    let seq = d.next_seq;
    d.next_seq += 1;
    let earliest = d.heap.peek().is_none_or(|top| due < top.key.0);
    d.heap.push(Entry { key: Reverse(due), seq, item: action });
    if !d.started {
        // If the OS refuses the thread, the next `schedule` tries again; meanwhile deadlines wait.
        d.started = std::thread::Builder::new().name("native-pool-watchdog".into()).spawn(run).is_ok();
    } else if earliest {
        dog.changed.notify_one();
    }
}

fn run() {
    let dog = watchdog();
    let mut d = lock(&dog.deadlines);
    loop {
        let now = Instant::now();
        match d.heap.peek().map(|top| top.key.0) {
            None => d = dog.changed.wait(d).unwrap_or_else(|e| e.into_inner()),
            Some(due) if due > now => {
                d = dog.changed.wait_timeout(d, due - now).unwrap_or_else(|e| e.into_inner()).0;
            }
            Some(_) => {
                let Some(entry) = d.heap.pop() else { continue };
                drop(d);
                // An action may schedule another deadline (a timeout starts the grace period).
                (entry.item)();
                d = lock(&dog.deadlines);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn actions_run_in_deadline_order() {
        let (tx, rx) = mpsc::channel();
        let now = Instant::now();
        // Deadlines far apart compared with the time the three calls take, even under valgrind.
        for (i, ms) in [(0u32, 900u64), (1, 300), (2, 600)] {
            let tx = tx.clone();
            schedule(now + Duration::from_millis(ms), Box::new(move || tx.send(i).unwrap()));
        }
        let order: Vec<u32> = (0..3).map(|_| rx.recv_timeout(Duration::from_secs(20)).unwrap()).collect();
        assert_eq!(order, [1, 2, 0]);
    }

    #[test]
    fn an_action_can_schedule_another() {
        let (tx, rx) = mpsc::channel();
        schedule(
            Instant::now(),
            Box::new(move || {
                schedule(Instant::now(), Box::new(move || tx.send("second").unwrap()));
            }),
        );
        assert_eq!(rx.recv_timeout(Duration::from_secs(20)).unwrap(), "second");
    }
}
