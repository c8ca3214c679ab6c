//! native-pool: a pool of native threads for Node.js that runs named Rust tasks off the event loop.
//!
//! - `engine`: the pool, its queue, jobs, the task context, errors, values (plain Rust, no Node).
//! - `tasks`: the task registry and the built-in tasks, one file each.
//! - `binding` (feature `binding`): the napi layer that Node loads; see `src/binding/README.md` for
//!   how a completion travels from a pool thread back to a promise.

pub mod engine;
pub mod tasks;

#[cfg(feature = "binding")]
mod binding;

pub use engine::context::{JobControl, Progress, TaskContext, MESSAGE_BACKLOG};
pub use engine::error::{CancelReason, TaskError};
pub use engine::job::{Job, JobOptions, JobSink, ScriptCall, Work};
pub use engine::pool::{
    NoObserver, PoolConfig, DEFAULT_GRACE_TIME, PoolObserver, ScriptConsumer, ScriptHooks, ScriptTake, StartedScript, SubmitError, ThreadPool,
};
pub use engine::schema::{Args, ArgsSchema, Field, FieldType};
pub use engine::stats::{LatencySummary, PoolStats};
pub use engine::value::{Bytes, Value, MAX_SAFE_INTEGER};
pub use tasks::{Task, TaskRegistry};
