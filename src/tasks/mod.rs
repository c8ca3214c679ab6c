//! The task registry and the built-in tasks, one file each. A task is a name, a documented argument
//! schema, and a `prepare` step that validates the arguments on the caller's thread and returns the
//! work to run on a pool thread. Every built-in task is declared with `#[task]` (the crate API, as a
//! user's are); `sum.rs` is the one to read first.

use std::collections::HashMap;
use std::sync::Arc;

use crate::engine::error::TaskError;
use crate::engine::job::Work;
use crate::engine::schema::ArgsSchema;
use crate::engine::value::Value;

#[cfg(feature = "catalogue")]
mod catalogue;
mod echo;
mod fib;
mod primes;
mod sleep;
mod sum;
mod testing;

/// A named native task. `#[task]` implements it for a function; implement it by hand only for a task
/// whose name or schema is chosen at run time.
///
/// ```
/// use native_pool::prelude::*;
/// use native_pool::{ArgsSchema, Work};
///
/// /// Resolves with the length of its argument string.
/// struct Len;
/// impl Task for Len {
///     fn name(&self) -> &'static str { "len" }
///     fn description(&self) -> &'static str { "The length of a string" }
///     fn args(&self) -> ArgsSchema { ArgsSchema::Any }
///     fn result(&self) -> &'static str { "number" }
///     fn prepare(&self, args: Value) -> Result<Work, TaskError> {
///         let Value::String(s) = args else { return Err(TaskError::invalid_arg("args", "expected a string")) };
///         Ok(Box::new(move |_ctx| Ok(Value::Number(s.len() as f64))))
///     }
/// }
/// assert!(Len.prepare(Value::Null).is_err());
/// ```
pub trait Task: Send + Sync + 'static {
    /// The name `pool.run(name, args)` uses.
    fn name(&self) -> &'static str;
    /// One line for `Pool.tasks()` and the README.
    fn description(&self) -> &'static str;
    /// The argument it accepts.
    fn args(&self) -> ArgsSchema;
    /// What it resolves with, as a TypeScript type.
    fn result(&self) -> &'static str;
    /// What it posts (`'message'` events), as a TypeScript type; `unknown` unless declared.
    fn message(&self) -> &'static str {
        "unknown"
    }
    /// Validates `args` (on the caller's thread) and returns the work to run on a pool thread.
    fn prepare(&self, args: Value) -> Result<Work, TaskError>;
}

/// The tasks a pool can run, by name.
///
/// ```
/// use native_pool::{TaskRegistry, Value};
///
/// let tasks = TaskRegistry::builtin();
/// assert!(tasks.list().iter().any(|t| t.name() == "sum"));
/// assert!(tasks.prepare("sum", Value::object([("iterations", Value::Number(10.0))])).is_ok());
/// assert_eq!(tasks.prepare("nope", Value::Null).err().unwrap().code(), "ERR_UNKNOWN_TASK");
/// ```
#[derive(Clone, Default)]
pub struct TaskRegistry {
    tasks: HashMap<&'static str, Arc<dyn Task>>,
}

impl TaskRegistry {
    /// An empty registry.
    pub fn new() -> TaskRegistry {
        TaskRegistry::default()
    }

    /// Every built-in task (the catalogue's with the feature `catalogue`).
    pub fn builtin() -> TaskRegistry {
        let mut r = TaskRegistry::new();
        r.register(Arc::new(echo::Echo));
        r.register(Arc::new(sleep::Sleep));
        r.register(Arc::new(sum::Sum));
        r.register(Arc::new(fib::Fib));
        r.register(Arc::new(primes::Primes));
        #[cfg(feature = "catalogue")]
        catalogue::register(&mut r);
        r
    }

    /// The built-in tasks plus the ones that exist to test the pool itself (`__panic`, `__fail`,
    /// `__flood`, `__spin`): the addon adds them when `NATIVE_POOL_TEST_TASKS=1` is set at load.
    pub fn with_test_tasks() -> TaskRegistry {
        let mut r = TaskRegistry::builtin();
        testing::register(&mut r);
        r
    }

    /// Adds a task, replacing any task of the same name.
    pub fn register(&mut self, task: Arc<dyn Task>) {
        self.tasks.insert(task.name(), task);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Task>> {
        self.tasks.get(name)
    }

    /// Looks a task up and prepares it: `ERR_UNKNOWN_TASK` or the task's own `ERR_INVALID_ARG`.
    pub fn prepare(&self, name: &str, args: Value) -> Result<Work, TaskError> {
        match self.tasks.get(name) {
            Some(task) => task.prepare(args),
            None => Err(TaskError::UnknownTask { name: name.to_owned() }),
        }
    }

    /// Every task, sorted by name.
    pub fn list(&self) -> Vec<&Arc<dyn Task>> {
        let mut all: Vec<_> = self.tasks.values().collect();
        all.sort_by_key(|t| t.name());
        all
    }
}
