//! What a unit of work is: its body (a prepared native task, `Work`, or a call of a JS function,
//! `ScriptCall`), how it is run (`JobOptions`), who can cancel it (`JobControl`) and where its messages
//! and outcome go (`JobSink`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::context::{JobControl, TaskContext};
use super::error::TaskError;
use super::value::Value;

/// A task with its arguments already validated, ready to run on a pool thread.
pub type Work = Box<dyn FnOnce(&TaskContext) -> Result<Value, TaskError> + Send>;

/// Where a job's messages and its one outcome go. The binding implements it once per JS environment;
/// tests implement it with a channel. Called from pool threads.
pub trait JobSink: Send + Sync {
    /// False once nobody can receive the outcome any more (a terminated Worker): queued jobs of a dead
    /// sink are skipped, not run.
    fn is_alive(&self) -> bool {
        true
    }

    /// A message the task posted. Only called for jobs submitted with `wants_messages`.
    fn message(&self, ticket: u64, message: Value);

    /// The job's outcome. Called exactly once per job that was submitted, unless the sink is dead.
    fn complete(&self, ticket: u64, outcome: Result<Value, TaskError>);
}

/// How to run a job.
#[derive(Debug, Clone, Copy, Default)]
pub struct JobOptions {
    /// Higher runs first; equal priorities run in submission order.
    pub priority: i32,
    /// Stop the task this long after it starts running (not after it was queued).
    pub timeout: Option<Duration>,
    /// Deliver the task's messages to the sink. Without it, `TaskContext::post` drops them at once.
    pub wants_messages: bool,
}

/// A call of a script function (a JS task): run by a script consumer (a worker_threads Worker that
/// attached to the pool), not by a native thread. The engine never looks inside it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptCall {
    /// Which function, as an index the pool's owner and its consumers agree on.
    pub function: u32,
    /// The caller's id for the task (a JS task sees it as `ctx.id`).
    pub id: u64,
    /// Its argument.
    pub args: Value,
}

/// What a job runs. A script call is boxed so that a native job stays as small as it was: jobs are
/// moved through the queue's channel by value.
pub(crate) enum Body {
    Native(Work),
    Script(Box<ScriptCall>),
}

/// A unit of work for the pool.
pub struct Job {
    pub(crate) ticket: u64,
    pub(crate) body: Body,
    pub(crate) control: Arc<JobControl>,
    pub(crate) sink: Arc<dyn JobSink>,
    pub(crate) options: JobOptions,
    /// When it was queued, if the pool records timings (set by `ThreadPool::submit`).
    pub(crate) queued_at: Option<Instant>,
}

impl Job {
    /// A job whose outcome goes to `sink`, tagged with `ticket` (opaque to the engine).
    pub fn new(
        work: Work,
        sink: Arc<dyn JobSink>,
        ticket: u64,
        control: Arc<JobControl>,
        options: JobOptions,
    ) -> Job {
        Job { ticket, body: Body::Native(work), control, sink, options, queued_at: None }
    }

    /// A job that calls a script function: it waits in the pool's script queue for a script consumer
    /// (`ThreadPool::attach_script_consumer`), under the same priorities, limits and cancellation.
    pub fn script(
        call: ScriptCall,
        sink: Arc<dyn JobSink>,
        ticket: u64,
        control: Arc<JobControl>,
        options: JobOptions,
    ) -> Job {
        Job { ticket, body: Body::Script(Box::new(call)), control, sink, options, queued_at: None }
    }

    /// Whether this job runs on a script consumer.
    pub fn is_script(&self) -> bool {
        matches!(self.body, Body::Script(_))
    }
}
