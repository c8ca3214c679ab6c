//! The task registry and the built-in tasks, one file each. A task is a name, a documented argument
//! schema, and a `prepare` step that validates the arguments on the caller's thread and returns the
//! work to run on a pool thread. Other crates add tasks with `TaskRegistry::register`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::engine::error::TaskError;
use crate::engine::job::Work;
use crate::engine::schema::ArgsSchema;
use crate::engine::value::Value;

mod catalogue;
mod echo;
mod fib;
mod primes;
mod sleep;
mod sum;
mod testing;

/// A named native task.
pub trait Task: Send + Sync + 'static {
    /// The name `pool.run(name, args)` uses.
    fn name(&self) -> &'static str;
    /// One line for `Pool.tasks()` and the README.
    fn description(&self) -> &'static str;
    /// The argument it accepts.
    fn args(&self) -> ArgsSchema;
    /// What it resolves with, as a TypeScript type.
    fn result(&self) -> &'static str;
    /// Validates `args` (on the caller's thread) and returns the work to run on a pool thread.
    fn prepare(&self, args: Value) -> Result<Work, TaskError>;
}

/// The tasks a pool can run, by name.
#[derive(Clone, Default)]
pub struct TaskRegistry {
    tasks: HashMap<&'static str, Arc<dyn Task>>,
}

impl TaskRegistry {
    /// An empty registry.
    pub fn new() -> TaskRegistry {
        TaskRegistry::default()
    }

    /// Every built-in task.
    pub fn builtin() -> TaskRegistry {
        let mut r = TaskRegistry::new();
        r.register(Arc::new(echo::Echo));
        r.register(Arc::new(sleep::Sleep));
        r.register(Arc::new(sum::Sum));
        r.register(Arc::new(fib::Fib));
        r.register(Arc::new(primes::Primes));
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
