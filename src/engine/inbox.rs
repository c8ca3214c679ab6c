//! The completion inbox: pool threads push events for one JS thread, which drains them in batches, and
//! a thousand pushes cost one wake-up. The binding's `EnvSink` is one of these plus a threadsafe
//! function as its wake-up (`src/binding/README.md`); `tests/loom.rs` model-checks it.
//!
//! The protocol, with `scheduled` meaning "a wake-up is on its way and its drain has not begun":
//! - `push` appends under the lock and, if `scheduled` was false, sets it; then, *after* the lock, it
//!   wakes the consumer. A pusher that set the flag always wakes, so an event pushed while the flag is
//!   set has a wake-up on its way (or one already made, whose drain has not begun and will take it).
//!   If the consumer drains between the unlock and the wake-up, that wake-up finds nothing: harmless.
//!   The wake-up is outside the lock because it is slow (the binding's is a threadsafe-function call,
//!   an eventfd write that wakes the JS thread): under the lock, the thread it woke found the lock
//!   still held when it came to drain, and both paid a futex sleep and wake-up per batch (the
//!   contended lock was a tenth of the JS thread's samples on one-at-a-time JS tasks).
//! - `waking` lets `close` know no wake-up is under way: pushers hold it shared while they wake,
//!   `close` takes it exclusively and marks it closed, so once `close` returns none is running and
//!   none will start.
//! - `take` (the woken consumer) clears `scheduled` *before* it takes the events, under the same lock.
//!   An event pushed after the take finds the flag clear and wakes again; one pushed before is in this
//!   batch. At worst a wake-up finds nothing. Clearing after the take would let an event pushed
//!   between the two sit in the inbox with no wake-up on its way. (With the clear just before the lock,
//!   as the binding had it, loom reports an execution that leaves an event with no wake-up on its
//!   way; under the lock the flag and the events change together, and the lock is taken anyway.)
//! - `close` (teardown) refuses every later push and drops what is queued; the waker is never called
//!   after it returns.

use std::sync::atomic::Ordering;

use super::sync::{AtomicBool, Mutex, RwLock};

/// Events waiting for their consumer, and whether a wake-up is on its way.
#[derive(Debug)]
pub struct Inbox<E> {
    state: Mutex<State<E>>,
    /// A wake-up is on its way and its `take` has not begun: a push need not make another.
    scheduled: AtomicBool,
    /// False once closed: held shared by a pusher while it calls the waker (module doc).
    waking: RwLock<bool>,
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
        Inbox {
            state: Mutex::new(State { events: Vec::new(), open: true }),
            scheduled: AtomicBool::new(false),
            waking: RwLock::new(true),
        }
    }

    /// Appends `event` and, unless a wake-up is already on its way, calls `wake` (after the inbox's
    /// lock, never after `close` has returned; it must not block or push). Returns false, dropping
    /// the event, once the inbox is closed.
    pub fn push(&self, event: E, wake: impl FnOnce()) -> bool {
        let must_wake = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if !state.open {
                return false;
            }
            state.events.push(event);
            !self.scheduled.swap(true, Ordering::AcqRel)
        };
        if must_wake {
            let open = self.waking.read().unwrap_or_else(|e| e.into_inner());
            if *open {
                wake();
            }
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
        // Waits for a wake-up under way; none starts after this.
        *self.waking.write().unwrap_or_else(|e| e.into_inner()) = false;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.open = false;
        state.events.clear();
    }
}
