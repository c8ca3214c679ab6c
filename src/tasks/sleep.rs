//! `sleep`: waits `ms` milliseconds on a pool thread, waking at once when cancelled.

use std::time::Duration;

use crate::engine::error::TaskError;
use crate::engine::job::Work;
use crate::engine::schema::{Args, ArgsSchema, Field, FieldType};
use crate::engine::value::{Value, MAX_SAFE_INTEGER};
use crate::tasks::Task;

const FIELDS: &[Field] = &[Field::required(
    "ms",
    FieldType::Number { min: 0.0, max: MAX_SAFE_INTEGER as f64 },
    "milliseconds to wait (fractions allowed)",
)];

pub struct Sleep;

impl Task for Sleep {
    fn name(&self) -> &'static str {
        "sleep"
    }
    fn description(&self) -> &'static str {
        "Occupies a pool thread for `ms` milliseconds without using CPU; cancellable"
    }
    fn args(&self) -> ArgsSchema {
        ArgsSchema::Object(FIELDS)
    }
    fn result(&self) -> &'static str {
        "undefined"
    }
    fn prepare(&self, args: Value) -> Result<Work, TaskError> {
        let args = Args::parse(&self.args(), args)?;
        let ms = args.opt_f64("ms")?.unwrap_or(0.0);
        let duration = Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(Duration::MAX);
        Ok(Box::new(move |ctx| {
            ctx.sleep(duration)?;
            Ok(Value::Undefined)
        }))
    }
}
