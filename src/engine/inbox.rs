//! The completion inbox: pool threads push events for one JS thread, which drains them in batches, and
//! a thousand pushes cost one wake-up. The binding's `EnvSink` is one of these plus a threadsafe
//! function as its wake-up (`src/binding/README.md`); `tests/loom.rs` model-checks it.
//!
//! The protocol, with `scheduled` meaning "a wake-up is on its way and its drain has not begun":
//! - `push` appends under the lock and, if `scheduled` was false, sets it and wakes the consumer, still
//!   under the lock (so `close` can tell the waker that no wake-up will ever follow it).
//! - `take` (the woken consumer) clears `scheduled` *before* it takes the events, under the same lock.
//!   An event pushed after the take finds the flag clear and wakes again; one pushed before is in this
//!   batch. At worst a wake-up finds nothing. Clearing after the take would let an event pushed
//!   between the two sit in the inbox with no wake-up on its way. (With the clear just before the lock,
//!   as the binding had it, loom reports an execution that leaves an event with no wake-up on its
//!   way; under the lock the flag and the events change together, and the lock is taken anyway.)
//! - `close` (teardown) refuses every later push and drops what is queued; the waker is never called
//!   after it returns.

use std::sync::atomic::Ordering;

use super::sync::{AtomicBool, Mutex};

/// Events waiting for their consumer, and whether a wake-up is on its way.
#[derive(Debug)]
pub struct Inbox<E> {
    state: Mutex<State<E>>,
    /// A wake-up is on its way and its `take` has not begun: a push need not make another.
    scheduled: AtomicBool,
}

#[derive(Debug)]
struct State<E> {
    events: Vec<E>,
    /// False after `close`: nothing is pushed and the waker is never called again.
    open: bool,
}

impl<E> Default for Inbox<E> {
    fn default() -> Self {
        Inbox::new()
    }
}

impl<E> Inbox<E> {
    pub fn new() -> Inbox<E> {
        Inbox { state: Mutex::new(State { events: Vec::new(), open: true }), scheduled: AtomicBool::new(false) }
    }

    /// Appends `event` and, unless a wake-up is already on its way, calls `wake` (under the inbox's
    /// lock; it must not block or push). Returns false, dropping the event, once the inbox is closed.
    pub fn push(&self, event: E, wake: impl FnOnce()) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !state.open {
            return false;
        }
        state.events.push(event);
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            wake();
        }
        true
    }

    /// Swaps the inbox's events with `batch` (empty, but with room: the two buffers take turns, so
    /// pushes rarely allocate). Called by the consumer each time it is woken.
    pub fn take(&self, batch: &mut Vec<E>) {
        // Before the take, and under the lock like every other change of the flag (module doc).
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.scheduled.store(false, Ordering::Release);
        std::mem::swap(&mut state.events, batch);
    }

    /// Refuses every later push and drops the queued events. Once it returns, `wake` is never called
    /// again, so whatever it calls may be released.
    pub fn close(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.open = false;
        state.events.clear();
    }
}
