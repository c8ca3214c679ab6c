//! `sleep`: waits `ms` milliseconds on a pool thread, waking at once when cancelled.

use std::time::Duration;

use crate::engine::value::MAX_SAFE_INTEGER;
use crate::prelude::*;

#[derive(TaskArgs)]
pub struct SleepArgs {
    /// milliseconds to wait (fractions allowed)
    #[arg(min = 0, max = MAX_SAFE_INTEGER)]
    pub ms: f64,
}

/// Occupies a pool thread for `ms` milliseconds without using CPU; cancellable
#[task(name = "sleep")]
pub fn sleep(args: SleepArgs, ctx: &TaskContext) -> Result<(), TaskError> {
    ctx.sleep(Duration::try_from_secs_f64(args.ms / 1000.0).unwrap_or(Duration::MAX))
}
