//! The synchronisation primitives of the engine's hand-made protocols (the job state machine in
//! `context.rs`, the completion inbox in `inbox.rs`): std's in every build, loom's when the crate is
//! built with `--cfg loom`, so that `tests/loom.rs` model-checks the production code, not a copy.
//!
//! Only what those protocols use is here; the rest of the engine uses std directly (loom's types work
//! only inside `loom::model`, and nothing else needs checking).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, RwLock};
#[cfg(loom)]
pub(crate) use loom::thread::{current as current_thread, Thread};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, RwLock};
#[cfg(not(loom))]
pub(crate) use std::thread::{current as current_thread, Thread};
