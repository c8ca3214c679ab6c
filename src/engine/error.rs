//! The one error type of the engine. Every failure a caller can see is a `TaskError`; the binding maps
//! each variant to a stable JS `err.code` in one place (`TaskError::code`).

use std::fmt;

/// Why a task was stopped before it finished on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// `AbortSignal` or `TaskHandle.cancel()`.
    Aborted,
    /// The run's `timeout` elapsed after the task started.
    TimedOut,
    /// `pool.destroy()`.
    Destroyed,
    /// The JS environment that submitted it is gone (a terminated Worker): nobody waits for the result.
    Orphaned,
}

/// A failure, as the caller sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskError {
    /// An argument or option is missing, of the wrong type or out of range. `field` names it
    /// (`"iterations"`, `"args"`, `"options.priority"`).
    InvalidArg { field: String, message: String },
    /// No task of this name is registered.
    UnknownTask { name: String },
    /// The pool is closed (or closing, or destroyed) and accepts no more work.
    PoolClosed,
    /// The pool's queue holds `max_queue` jobs already.
    QueueFull { max_queue: usize },
    /// The task ran and reported a failure.
    Failed { message: String },
    /// A JS task threw or rejected: the thrown error's name, message and stack, rebuilt as the
    /// `cause` of the caller's `ERR_TASK_FAILED`.
    ScriptFailed { name: String, message: String, stack: Option<String> },
    /// The task panicked; the panic was caught and the thread keeps serving.
    Panicked { message: String },
    /// The task was stopped: aborted, timed out, destroyed or orphaned.
    Cancelled(CancelReason),
}

impl TaskError {
    /// A bad argument: `field` is named in the message.
    pub fn invalid_arg(field: impl Into<String>, message: impl Into<String>) -> TaskError {
        TaskError::InvalidArg { field: field.into(), message: message.into() }
    }

    /// The task's own failure.
    pub fn failed(message: impl Into<String>) -> TaskError {
        TaskError::Failed { message: message.into() }
    }

    /// The stable JS `err.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            TaskError::InvalidArg { .. } => "ERR_INVALID_ARG",
            TaskError::UnknownTask { .. } => "ERR_UNKNOWN_TASK",
            TaskError::PoolClosed | TaskError::Cancelled(CancelReason::Destroyed) => "ERR_POOL_CLOSED",
            TaskError::QueueFull { .. } => "ERR_QUEUE_FULL",
            TaskError::Failed { .. } | TaskError::ScriptFailed { .. } | TaskError::Cancelled(CancelReason::Orphaned) => {
                "ERR_TASK_FAILED"
            }
            TaskError::Panicked { .. } => "ERR_TASK_PANICKED",
            TaskError::Cancelled(CancelReason::TimedOut) => "ERR_TASK_TIMEOUT",
            TaskError::Cancelled(CancelReason::Aborted) => "ABORT_ERR",
        }
    }

    /// The JS constructor the error should be made with.
    pub fn js_kind(&self) -> ErrorKind {
        match self {
            TaskError::InvalidArg { .. } | TaskError::UnknownTask { .. } => ErrorKind::TypeError,
            _ => ErrorKind::Error,
        }
    }
}

/// The JS class of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Error,
    TypeError,
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::InvalidArg { field, message } => write!(f, "invalid \"{field}\": {message}"),
            TaskError::UnknownTask { name } => write!(f, "unknown task \"{name}\""),
            TaskError::PoolClosed => f.write_str("the pool is closed"),
            TaskError::QueueFull { max_queue } => {
                write!(f, "the task queue is full ({max_queue} waiting)")
            }
            TaskError::Failed { message } => f.write_str(message),
            TaskError::ScriptFailed { name, message, .. } => write!(f, "the task threw {name}: {message}"),
            TaskError::Panicked { message } => write!(f, "the task panicked: {message}"),
            TaskError::Cancelled(CancelReason::Aborted) => f.write_str("the task was aborted"),
            TaskError::Cancelled(CancelReason::TimedOut) => f.write_str("the task timed out"),
            TaskError::Cancelled(CancelReason::Destroyed) => {
                f.write_str("the pool was destroyed before the task finished")
            }
            TaskError::Cancelled(CancelReason::Orphaned) => {
                f.write_str("the JS environment that submitted the task is gone")
            }
        }
    }
}

impl std::error::Error for TaskError {}
