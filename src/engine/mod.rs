//! The engine: a pool of native threads that runs prepared jobs and reports their messages and
//! outcomes to a `JobSink`, and a second queue of script jobs that consumers outside the engine (JS
//! Workers) take from. Plain Rust: nothing here knows about Node.

pub mod context;
mod copy;
pub mod error;
pub mod inbox;
pub mod job;
pub mod pool;
mod queue;
mod ranked;
pub mod schema;
pub mod stats;
mod sync;
mod unwind;
pub mod value;
mod watchdog;

pub use unwind::LOG_PANICS_VAR;
