//! Tasks that exist to test the pool itself, not to be used: the addon registers them only when
//! `NATIVE_POOL_TEST_TASKS=1` is set when it loads.

use std::sync::Arc;

use crate::prelude::*;
use crate::tasks::TaskRegistry;

pub(crate) fn register(registry: &mut TaskRegistry) {
    registry.register(Arc::new(Panic));
    registry.register(Arc::new(Fail));
    registry.register(Arc::new(Flood));
    registry.register(Arc::new(Spin));
}

#[derive(TaskArgs)]
struct MessageArgs {
    /// the text
    message: Option<String>,
}

/// Test only: panics with `message`
#[task(name = "__panic", result = "never", type_name = "Panic")]
fn panic_task(args: MessageArgs, _ctx: &TaskContext) -> Result<(), TaskError> {
    panic!("{}", args.message.as_deref().unwrap_or("test panic"))
}

/// Test only: posts { before: 'failing' }, then fails with `message`
#[task(name = "__fail", result = "never", type_name = "Fail")]
fn fail(args: MessageArgs, ctx: &TaskContext) -> Result<(), TaskError> {
    ctx.post(Value::object([("before", Value::String("failing".into()))]));
    Err(TaskError::failed(args.message.unwrap_or_else(|| "test failure".into())))
}

#[derive(TaskArgs)]
struct CountArgs {
    /// how many messages
    count: u64,
}

/// Test only: posts `count` messages { i, backlog } as fast as it can; resolves with the count posted
///
/// `backlog`: its messages still undelivered just before posting this one.
#[task(name = "__flood", type_name = "Flood")]
fn flood(args: CountArgs, ctx: &TaskContext) -> Result<f64, TaskError> {
    for i in 0..args.count {
        ctx.check()?;
        let backlog = Value::Number(ctx.undelivered_messages() as f64);
        ctx.post(Value::object([("i", Value::Number(i as f64)), ("backlog", backlog)]));
    }
    Ok(args.count as f64)
}

/// Test only: burns CPU until cancelled; posts { spinning: true } once it has started
///
/// It checks its flag every iteration: the fastest possible canceller.
#[task(name = "__spin", result = "never", type_name = "Spin")]
fn spin(_args: Value, ctx: &TaskContext) -> Result<(), TaskError> {
    ctx.post(Value::object([("spinning", Value::Bool(true))]));
    loop {
        ctx.check()?;
        std::hint::spin_loop();
    }
}
