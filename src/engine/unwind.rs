//! How a task's panic becomes an error for its caller instead of a dead thread or an aborted process,
//! and why nothing is printed: the panic is the caller's to see, as `ERR_TASK_PANICKED`.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use super::error::TaskError;

thread_local! {
    /// Set while a task runs on this thread: its panics are reported through its promise.
    static IN_TASK: Cell<bool> = const { Cell::new(false) };
}

static QUIET_HOOK: Once = Once::new();

/// The environment variable that makes caught task panics print the usual message (and backtrace, with
/// `RUST_BACKTRACE`) to stderr, for debugging a task.
pub const LOG_PANICS_VAR: &str = "NATIVE_POOL_LOG_PANICS";

/// Runs `f`, turning a panic into `TaskError::Panicked` with the panic's message.
pub(crate) fn catch_task_panic<T>(f: impl FnOnce() -> Result<T, TaskError>) -> Result<T, TaskError> {
    install_quiet_hook();
    IN_TASK.with(|flag| flag.set(true));
    // AssertUnwindSafe: the closure owns the task's state, which is dropped with the panic; the only
    // shared state it touches (JobControl, the sink) is made of atomics and poison-tolerant mutexes.
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    IN_TASK.with(|flag| flag.set(false));
    result.unwrap_or_else(|payload| Err(TaskError::Panicked { message: panic_message(&*payload) }))
}

/// Wraps the process's panic hook once so that panics inside tasks stay silent (unless
/// `NATIVE_POOL_LOG_PANICS` is set); every other panic still reaches the previous hook.
fn install_quiet_hook() {
    QUIET_HOOK.call_once(|| {
        let log_all = std::env::var_os(LOG_PANICS_VAR).is_some_and(|v| !v.is_empty() && v != "0");
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if log_all || !IN_TASK.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_becomes_task_error_with_its_message() {
        let r: Result<(), TaskError> = catch_task_panic(|| panic!("boom {}", 42));
        assert_eq!(r, Err(TaskError::Panicked { message: "boom 42".into() }));
    }

    #[test]
    fn ordinary_results_pass_through() {
        assert_eq!(catch_task_panic(|| Ok::<_, TaskError>(7)), Ok(7));
    }
}
