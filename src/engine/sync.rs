//! The synchronisation primitives of the engine's hand-made protocols (the job state machine in
//! `context.rs`, the completion inbox in `inbox.rs`, and the script-consumer protocol of `pool.rs`:
//! the script queue of `queue.rs`, the consumers' lock and the `script_polling` / `start_requested`
//! atomics): std's in every build, loom's when the crate is built with `--cfg loom`, so that
//! `tests/loom.rs` model-checks the production code, not a copy.
//!
//! Only what those protocols use is here; the rest of the engine uses std directly (loom's types work
//! only inside `loom::model`, and nothing else needs checking). A std lock must never be held across
//! an operation of these in a model: loom runs its threads on one OS thread and may switch at that
//! operation to another that then blocks on the std lock for good (`destroy` and `stats` take the
//! consumers' lock under the workers' std lock; no model calls them while another thread runs).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard, RwLock};
#[cfg(loom)]
pub(crate) use loom::thread::{current as current_thread, yield_now, Thread};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard, RwLock};
#[cfg(not(loom))]
pub(crate) use std::thread::{current as current_thread, yield_now, Thread};

/// Locks `m`. No user code runs under these locks, but a poisoned lock must not take the pool down
/// either (loom's locks never poison).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The job queues' channel: crossbeam-channel's in every build but the loom one.
#[cfg(not(loom))]
pub(crate) mod channel {
    pub(crate) use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender, TryRecvError};
}

/// The job queues' channel in a loom build: crossbeam-channel's atomics are std's, which loom neither
/// sees nor interleaves (it would take a push and a take for independent steps and skip orders of
/// them). This stand-in has the subset of crossbeam's API the queue uses, over a deque under a loom
/// lock: each operation is one step of the model, atomic and ordered (release/acquire) with the
/// others. So the models check the protocol over a linearizable queue, not crossbeam's own memory
/// orderings; the stand-in is the stronger where a take finds the channel empty (under its lock, that
/// take is ordered before the next push; crossbeam's empty `try_recv` releases nothing).
#[cfg(loom)]
pub(crate) mod channel {
    use std::collections::VecDeque;
    use std::sync::Arc;
    use std::time::Duration;

    use loom::sync::{Condvar, Mutex};

    pub(crate) use crossbeam_channel::{RecvError, RecvTimeoutError, SendError, TryRecvError};

    struct Chan<T> {
        state: Mutex<State<T>>,
        ready: Condvar,
    }

    struct State<T> {
        items: VecDeque<T>,
        /// False once the sender is dropped (the queue has one, never cloned).
        connected: bool,
    }

    pub(crate) struct Sender<T>(Arc<Chan<T>>);
    pub(crate) struct Receiver<T>(Arc<Chan<T>>);

    pub(crate) fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
        let state = Mutex::new(State { items: VecDeque::new(), connected: true });
        let chan = Arc::new(Chan { state, ready: Condvar::new() });
        (Sender(chan.clone()), Receiver(chan))
    }

    impl<T> Chan<T> {
        fn state(&self) -> loom::sync::MutexGuard<'_, State<T>> {
            self.state.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    impl<T> Sender<T> {
        pub(crate) fn send(&self, item: T) -> Result<(), SendError<T>> {
            self.0.state().items.push_back(item);
            self.0.ready.notify_one();
            Ok(())
        }
    }

    impl<T> Drop for Sender<T> {
        fn drop(&mut self) {
            self.0.state().connected = false;
            self.0.ready.notify_all();
        }
    }

    impl<T> Receiver<T> {
        pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
            let mut state = self.0.state();
            match state.items.pop_front() {
                Some(item) => Ok(item),
                None if state.connected => Err(TryRecvError::Empty),
                None => Err(TryRecvError::Disconnected),
            }
        }

        pub(crate) fn recv(&self) -> Result<T, RecvError> {
            let mut state = self.0.state();
            loop {
                if let Some(item) = state.items.pop_front() {
                    return Ok(item);
                }
                if !state.connected {
                    return Err(RecvError);
                }
                state = self.0.ready.wait(state).unwrap_or_else(|e| e.into_inner());
            }
        }

        /// A model has no clock, and a timed wait may end at any moment: this one ends at once.
        pub(crate) fn recv_timeout(&self, _timeout: Duration) -> Result<T, RecvTimeoutError> {
            self.try_recv().map_err(|e| match e {
                TryRecvError::Empty => RecvTimeoutError::Timeout,
                TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
            })
        }

        pub(crate) fn len(&self) -> usize {
            self.0.state().items.len()
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.0.state().items.is_empty()
        }

        pub(crate) fn try_iter(&self) -> impl Iterator<Item = T> + '_ {
            std::iter::from_fn(move || self.try_recv().ok())
        }
    }
}
