//! Your own addon: `addon!` makes the `cdylib` crate it is written in a Node addon with the pool, the
//! catalogue (cargo feature `catalogue`) and that crate's tasks, in one build.
//!
//! How the pieces meet without an ABI of our own: the napi functions of `src/binding/` are registered
//! by napi-rs's static constructors, which the linker keeps even though they live in this rlib
//! (rustc keeps every `#[used]` static of an upstream crate). `addon!` adds one more static
//! constructor, in the user's crate, that records the function listing their tasks; the binding calls
//! it when it first builds its task list, which is after every constructor has run.

use std::sync::{Arc, OnceLock};

use crate::tasks::{Task, TaskRegistry};

static USER_TASKS: OnceLock<fn() -> Vec<Arc<dyn Task>>> = OnceLock::new();

/// Records the user's tasks (what `addon!` expands to). Only the first call counts: an addon has
/// one list.
#[doc(hidden)]
pub fn set_user_tasks(tasks: fn() -> Vec<Arc<dyn Task>>) {
    let _ = USER_TASKS.set(tasks);
}

/// The tasks this addon serves: the built-in ones (the catalogue with the feature `catalogue`), the
/// test-only ones when asked for, then the user's, which replace a built-in task of the same name.
pub(crate) fn registry(test_tasks: bool) -> TaskRegistry {
    let mut registry = if test_tasks { TaskRegistry::with_test_tasks() } else { TaskRegistry::builtin() };
    if let Some(tasks) = USER_TASKS.get() {
        for task in tasks() {
            registry.register(task);
        }
    }
    registry
}

/// The TypeScript declaration of the user's tasks (not the built-in ones, which `index.d.ts`
/// declares), for `native-pool-types`.
pub(crate) fn declarations() -> String {
    let tasks = USER_TASKS.get().map(|tasks| tasks()).unwrap_or_default();
    super::types::task_map_declaration(&tasks)
}

/// Makes this `cdylib` crate a Node addon that serves the pool, the built-in tasks and the tasks
/// listed here; its `.node` is loaded with `require('native-pool').withAddon(path)`. Write it once,
/// at the top level of the crate, with each task's type (the unit struct `#[task]` made for it).
///
/// ```
/// use native_pool::prelude::*;
///
/// #[derive(TaskArgs)]
/// struct GreetArgs {
///     /// who to greet
///     name: String,
/// }
///
/// /// Says hello.
/// #[task]
/// fn greet(args: GreetArgs, _ctx: &TaskContext) -> Result<String, TaskError> {
///     Ok(format!("hello, {}", args.name))
/// }
///
/// native_pool::addon!(Greet);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! addon {
    ($($task:expr),* $(,)?) => {
        const _: () = {
            fn __native_pool_user_tasks() -> ::std::vec::Vec<::std::sync::Arc<dyn $crate::Task>> {
                ::std::vec![$(::std::sync::Arc::new($task) as ::std::sync::Arc<dyn $crate::Task>),*]
            }
            $crate::__private::ctor::declarative::ctor! {
                #[ctor(unsafe)]
                fn __native_pool_addon() {
                    $crate::__private::set_user_tasks(__native_pool_user_tasks);
                }
            }
        };
    };
}
