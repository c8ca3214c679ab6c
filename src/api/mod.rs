//! The crate API for task authors: typed arguments (`TaskArgs`, `ArgField`), typed results
//! (`IntoValue`), the `#[task]` declaration that turns a function into a `Task`, and `addon!`, which
//! makes the crate it is written in a Node addon with the pool, the catalogue and its own tasks.
//! `native_pool::prelude` brings in everything a task file needs.

pub mod args;
pub mod result;
pub mod types;

#[cfg(feature = "binding")]
pub mod addon;

/// Everything a task file needs: `use native_pool::prelude::*;`.
///
/// ```
/// use native_pool::prelude::*;
///
/// #[derive(TaskArgs)]
/// struct CountArgs {
///     /// how far to count
///     #[arg(max = 1_000_000)]
///     to: u64,
/// }
///
/// /// Counts from 0 up, posting { progress }; stops when cancelled.
/// #[task(name = "count")]
/// fn count(args: CountArgs, ctx: &TaskContext) -> Result<u64, TaskError> {
///     let mut progress = ctx.progress(args.to);
///     for i in 0..args.to {
///         progress.update(i + 1);
///         ctx.check()?;
///     }
///     Ok(args.to)
/// }
///
/// assert_eq!(Count.name(), "count");
/// assert_eq!(Count.result(), "number | bigint");
/// ```
pub mod prelude {
    pub use crate::api::args::{ArgField, TaskArgs};
    pub use crate::api::result::IntoValue;
    pub use crate::engine::context::TaskContext;
    pub use crate::engine::error::TaskError;
    pub use crate::engine::value::{Bytes, Value};
    pub use crate::tasks::Task;
    pub use native_pool_macros::{task, IntoValue, TaskArgs};
}

/// What the macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    use super::args::TaskArgs;
    use super::result::IntoValue;
    use crate::engine::context::TaskContext;
    use crate::engine::error::TaskError;
    use crate::engine::job::Work;
    use crate::engine::schema::ArgsSchema;
    use crate::engine::value::Value;

    #[cfg(feature = "binding")]
    pub use super::addon::set_user_tasks;
    #[cfg(feature = "binding")]
    pub use napi::ctor;

    /// A task function's signature.
    pub type TaskFn<A, R> = fn(A, &TaskContext<'_>) -> Result<R, TaskError>;

    pub fn schema_of<A: TaskArgs, R>(_: TaskFn<A, R>) -> ArgsSchema {
        A::schema()
    }

    pub fn result_ts<A, R: IntoValue>(_: TaskFn<A, R>) -> String {
        R::ts_type()
    }

    /// Reads the arguments on the caller's thread; the function runs on a pool thread.
    pub fn prepare<A: TaskArgs, R: IntoValue + 'static>(f: TaskFn<A, R>, args: Value) -> Result<Work, TaskError> {
        let args = A::from_value(args)?;
        Ok(Box::new(move |ctx| f(args, ctx).map(IntoValue::into_value)))
    }

    pub fn schema_of_prepare<A: TaskArgs, P>(_: fn(A) -> Result<P, TaskError>) -> ArgsSchema {
        A::schema()
    }

    /// As `prepare`, with a step that checks and transforms the arguments on the caller's thread.
    pub fn prepare_with<A: TaskArgs, P: Send + 'static, R: IntoValue + 'static>(
        check: fn(A) -> Result<P, TaskError>,
        f: TaskFn<P, R>,
        args: Value,
    ) -> Result<Work, TaskError> {
        let prepared = check(A::from_value(args)?)?;
        Ok(Box::new(move |ctx| f(prepared, ctx).map(IntoValue::into_value)))
    }
}
