//! native-pool: a pool of native threads for Node.js that runs named Rust tasks off the event loop.
//!
//! To add your own task, `use native_pool::prelude::*;`, declare its arguments with
//! `#[derive(TaskArgs)]` and the task with `#[task]`, and list it in `native_pool::addon!` in a
//! `cdylib` crate: its `.node` serves the pool, the catalogue and your tasks (README, "Write your own
//! task"; `src/tasks/sum.rs` is a complete example).
//!
//! - `api`: the crate API for task authors (typed arguments and results, `#[task]`, `addon!`).
//! - `engine`: the pool, its queue, jobs, the task context, errors, values (plain Rust, no Node).
//! - `tasks`: the task registry and the built-in tasks, one file each.
//! - `binding` (feature `binding`): the napi layer that Node loads; see `src/binding/README.md` for
//!   how a completion travels from a pool thread back to a promise.

// The macros name this crate `::native_pool`, in here as in a user's crate.
extern crate self as native_pool;

pub mod api;
pub mod engine;
pub mod tasks;

#[cfg(feature = "binding")]
mod binding;

pub use api::args::{ArgField, ArgsReader, TaskArgs};
#[doc(hidden)]
pub use api::__private;
pub use api::prelude;
pub use api::result::IntoValue;
pub use engine::context::{JobControl, Progress, TaskContext, MESSAGE_BACKLOG};
pub use engine::error::{CancelReason, TaskError};
pub use engine::job::{Job, JobOptions, JobSink, ScriptCall, Work};
pub use engine::pool::{
    NoObserver, PoolConfig, PoolObserver, ScriptConsumer, ScriptHooks, ScriptTake, StartedScript, SubmitError, ThreadPool,
    DEFAULT_GRACE_TIME,
};
pub use engine::schema::{ArgsSchema, Field, FieldType};
pub use engine::stats::{LatencySummary, PoolStats};
pub use engine::value::{Bytes, Value, MAX_SAFE_INTEGER};
pub use native_pool_macros::{task, IntoValue, TaskArgs};
pub use tasks::{Task, TaskRegistry};
