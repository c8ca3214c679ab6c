//! `echo`: resolves with its argument unchanged. For tests, demos and measuring the pool's own cost.

use crate::engine::error::TaskError;
use crate::engine::job::Work;
use crate::engine::schema::ArgsSchema;
use crate::engine::value::Value;
use crate::tasks::Task;

pub struct Echo;

impl Task for Echo {
    fn name(&self) -> &'static str {
        "echo"
    }
    fn description(&self) -> &'static str {
        "Resolves with its argument unchanged (objects come back as the very same object)"
    }
    fn args(&self) -> ArgsSchema {
        ArgsSchema::Any
    }
    fn result(&self) -> &'static str {
        "the argument"
    }
    fn prepare(&self, args: Value) -> Result<Work, TaskError> {
        Ok(Box::new(move |_ctx| Ok(args)))
    }
}
