//! Tasks that exist to test the pool itself, not to be used: the addon registers them only when
//! `NATIVE_POOL_TEST_TASKS=1` is set when it loads.

use std::sync::Arc;

use crate::engine::error::TaskError;
use crate::engine::job::Work;
use crate::engine::schema::{Args, ArgsSchema, Field, FieldType};
use crate::engine::value::Value;
use crate::tasks::{Task, TaskRegistry};

pub(crate) fn register(registry: &mut TaskRegistry) {
    registry.register(Arc::new(Panic));
    registry.register(Arc::new(Fail));
    registry.register(Arc::new(Flood));
    registry.register(Arc::new(Spin));
}

const MESSAGE: &[Field] = &[Field::optional("message", FieldType::String { one_of: &[] }, "the text")];

/// Panics with `message`.
struct Panic;
impl Task for Panic {
    fn name(&self) -> &'static str {
        "__panic"
    }
    fn description(&self) -> &'static str {
        "Test only: panics with `message`"
    }
    fn args(&self) -> ArgsSchema {
        ArgsSchema::Object(MESSAGE)
    }
    fn result(&self) -> &'static str {
        "never"
    }
    fn prepare(&self, args: Value) -> Result<Work, TaskError> {
        let message = Args::parse(&self.args(), args)?.opt_str("message")?.unwrap_or("test panic").to_owned();
        Ok(Box::new(move |_| panic!("{message}")))
    }
}

/// Fails with `message`, after posting one message.
struct Fail;
impl Task for Fail {
    fn name(&self) -> &'static str {
        "__fail"
    }
    fn description(&self) -> &'static str {
        "Test only: posts { before: 'failing' }, then fails with `message`"
    }
    fn args(&self) -> ArgsSchema {
        ArgsSchema::Object(MESSAGE)
    }
    fn result(&self) -> &'static str {
        "never"
    }
    fn prepare(&self, args: Value) -> Result<Work, TaskError> {
        let message = Args::parse(&self.args(), args)?.opt_str("message")?.unwrap_or("test failure").to_owned();
        Ok(Box::new(move |ctx| {
            ctx.post(Value::object([("before", Value::String("failing".into()))]));
            Err(TaskError::failed(message))
        }))
    }
}

const COUNT: &[Field] = &[Field::required("count", FieldType::SAFE_UINT, "how many messages")];

/// Posts `count` messages `{ i, backlog }` as fast as it can (`backlog`: its messages still undelivered
/// just before posting this one), then resolves with how many it posted.
struct Flood;
impl Task for Flood {
    fn name(&self) -> &'static str {
        "__flood"
    }
    fn description(&self) -> &'static str {
        "Test only: posts `count` messages { i, backlog } as fast as it can; resolves with the count posted"
    }
    fn args(&self) -> ArgsSchema {
        ArgsSchema::Object(COUNT)
    }
    fn result(&self) -> &'static str {
        "number"
    }
    fn prepare(&self, args: Value) -> Result<Work, TaskError> {
        let count = Args::parse(&self.args(), args)?.u64("count")?;
        Ok(Box::new(move |ctx| {
            for i in 0..count {
                ctx.check()?;
                let backlog = Value::Number(ctx.undelivered_messages() as f64);
                ctx.post(Value::object([("i", Value::Number(i as f64)), ("backlog", backlog)]));
            }
            Ok(Value::Number(count as f64))
        }))
    }
}

/// Busy-loops until cancelled, checking its flag every iteration: the fastest possible canceller.
struct Spin;
impl Task for Spin {
    fn name(&self) -> &'static str {
        "__spin"
    }
    fn description(&self) -> &'static str {
        "Test only: burns CPU until cancelled; posts { spinning: true } once it has started"
    }
    fn args(&self) -> ArgsSchema {
        ArgsSchema::Any
    }
    fn result(&self) -> &'static str {
        "never"
    }
    fn prepare(&self, _args: Value) -> Result<Work, TaskError> {
        Ok(Box::new(move |ctx| {
            ctx.post(Value::object([("spinning", Value::Bool(true))]));
            loop {
                ctx.check()?;
                std::hint::spin_loop();
            }
        }))
    }
}
