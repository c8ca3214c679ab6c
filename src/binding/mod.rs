//! The napi layer: the functions `lib/` calls. Thin on purpose: option validation and the
//! EventEmitter surface live in JS (`lib/pool.js`), the work in the engine. Every function here settles
//! failures through the promise it returns; none throws for anything a caller of `Pool` can pass.
// napi-rs compiles the exported functions out of `cargo test` builds, leaving their helpers unused.
#![cfg_attr(test, allow(dead_code))]

#[cfg(feature = "mimalloc")]
mod alloc;
mod convert;
mod env;
pub(crate) mod js;
mod script;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use self::convert::{Kept, Rejection};
use self::env::{EnvState, Pending, PoolEntry, ThreadEvents};
use crate::engine::context::JobControl;
use crate::engine::error::{CancelReason, TaskError};
use crate::engine::job::{Job, JobOptions, JobSink, ScriptCall};
use crate::engine::pool::{NoObserver, PoolConfig, ThreadPool};
use crate::engine::schema::{ArgsSchema, FieldType};
use crate::engine::value::Value;
use crate::tasks::Task;

// mimalloc, with large blocks left to the system allocator (alloc.rs says why).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: alloc::Allocator = alloc::Allocator;

/// The environment variable that adds the test-only tasks when the addon loads.
const TEST_TASKS_VAR: &str = "NATIVE_POOL_TEST_TASKS";

/// Set by `enableTestTasks()` (jest's setup file: jest hides `process.env` changes from the addon).
static TEST_TASKS: AtomicBool = AtomicBool::new(false);

/// Adds the test-only tasks, if called before the task list is first read (before `lib/` loads).
#[napi(js_name = "enableTestTasks")]
pub fn enable_test_tasks() {
    TEST_TASKS.store(true, Ordering::Release);
}

/// Gives the freed large blocks the allocator keeps for reuse back to the system (an environment has
/// no job pending: `alloc.rs`).
pub(crate) fn release_kept_blocks() {
    #[cfg(feature = "mimalloc")]
    alloc::release_kept();
}

/// How many freed large blocks the allocator keeps for reuse now (for tests; 0 without mimalloc).
#[napi(js_name = "keptLargeBlocks")]
pub fn kept_large_blocks() -> u32 {
    #[cfg(feature = "mimalloc")]
    let kept = alloc::kept_blocks() as u32;
    #[cfg(not(feature = "mimalloc"))]
    let kept = 0;
    kept
}

/// Every task, sorted by name; JS refers to a task by its index here.
fn tasks() -> &'static [Arc<dyn Task>] {
    static TASKS: OnceLock<Vec<Arc<dyn Task>>> = OnceLock::new();
    TASKS.get_or_init(|| {
        let test_tasks = TEST_TASKS.load(Ordering::Acquire) || std::env::var_os(TEST_TASKS_VAR).is_some_and(|v| v == "1");
        // The built-in tasks, and the user's when this is their addon (`native_pool::addon!`).
        crate::api::addon::registry(test_tasks).list().into_iter().cloned().collect()
    })
}

/// The process-wide pool behind `Pool.shared()`: one per process, shared by every environment.
fn shared_pool() -> &'static Arc<ThreadPool> {
    static SHARED: OnceLock<Arc<ThreadPool>> = OnceLock::new();
    SHARED.get_or_init(|| {
        let config = PoolConfig { thread_name: "native-pool-shared".into(), ..PoolConfig::default() };
        Arc::new(ThreadPool::new(config, Arc::new(NoObserver)))
    })
}

fn state_of(env: sys::napi_env) -> Result<&'static std::cell::RefCell<EnvState>> {
    env::state(env).ok_or_else(|| Error::from_reason("native-pool: init() was not called in this environment"))
}

fn napi_failed(_: js::NapiError) -> Error {
    Error::from_reason("native-pool: a Node-API call failed")
}

/// Sets up this JS environment (once; later calls do nothing).
#[napi(js_name = "init")]
pub fn init(env: Env) -> Result<()> {
    env::init(env.raw()).map_err(napi_failed)
}

/// The registered tasks' names, in the order `run` indexes them: all `lib/native.js` needs when it
/// loads, without building `taskList`'s descriptions (a quarter of a megabyte of JS garbage).
#[napi(js_name = "taskNames")]
pub fn task_names() -> Vec<String> {
    tasks().iter().map(|t| t.name().to_owned()).collect()
}

/// The TypeScript declaration of this addon's own tasks (`native_pool::addon!`), merged into
/// `TaskMap`: what `native-pool-types` writes.
#[napi(js_name = "taskDeclarations")]
pub fn task_declarations() -> String {
    crate::api::addon::declarations()
}

/// The registered tasks: `[{ name, description, args, result }]`, sorted by name.
#[napi(js_name = "taskList")]
pub fn task_list(env: Env) -> Result<sys::napi_value> {
    let list = Value::Array(
        tasks()
            .iter()
            .map(|t| {
                let args = match t.args() {
                    ArgsSchema::Any => Value::String("any".into()),
                    ArgsSchema::Object(fields) => Value::Array(
                        fields
                            .iter()
                            .map(|f| {
                                let mut o = vec![
                                    ("name", Value::String(f.name.into())),
                                    ("type", Value::String(f.ty.describe())),
                                    ("required", Value::Bool(f.required)),
                                    ("description", Value::String(f.doc.into())),
                                ];
                                if let FieldType::String { one_of } = f.ty {
                                    if !one_of.is_empty() {
                                        o.push(("oneOf", Value::Array(one_of.iter().map(|s| Value::String((*s).into())).collect())));
                                    }
                                }
                                Value::object(o)
                            })
                            .collect(),
                    ),
                };
                Value::object([
                    ("name", Value::String(t.name().into())),
                    ("description", Value::String(t.description().into())),
                    ("args", args),
                    ("result", Value::String(t.result().into())),
                ])
            })
            .collect(),
    );
    convert::to_js(env.raw(), list, &Kept::default()).map_err(napi_failed)
}

/// Creates a pool and returns its id. `shared` attaches to the process-wide pool instead (the thread
/// options are then ignored). `maxQueue` < 0 means no limit. `scriptWorkers` is how many JS-task
/// Workers the pool will run at most (0 for none), `minScriptWorkers` how many it keeps when idle
/// (fewer: it grows and shrinks them), `graceTimeMs` how long a cancelled JS task may go on
/// before its Worker is terminated. `dispatch(events)` receives the pool's
/// messages and thread events in batches; `makeError(code, message, isTypeError, field)` builds the
/// errors its promises reject with.
#[napi(js_name = "createPool")]
#[allow(clippy::too_many_arguments)]
pub fn create_pool(
    env: Env,
    min_threads: u32,
    max_threads: u32,
    idle_timeout_ms: f64,
    max_queue: f64,
    nice_increment: u32,
    record_timing: bool,
    shared: bool,
    dispatch: Unknown<'_>,
    make_error: Unknown<'_>,
    script_workers: u32,
    grace_time_ms: f64,
    min_script_workers: u32,
) -> Result<u32> {
    let cell = state_of(env.raw())?;
    let dispatch = js::new_ref(env.raw(), dispatch.raw()).map_err(napi_failed)?;
    let make_error = js::new_ref(env.raw(), make_error.raw()).map_err(napi_failed)?;
    let mut st = cell.borrow_mut();
    let sink = st.sink.clone();
    let slot = st.pools.vacant_entry();
    let id = slot.key() as u32;
    let (pool, owned) = if shared {
        (shared_pool().clone(), false)
    } else {
        let config = PoolConfig {
            min_threads: min_threads as usize,
            max_threads: max_threads.max(1) as usize,
            idle_timeout: Duration::try_from_secs_f64(idle_timeout_ms / 1000.0).unwrap_or(Duration::MAX),
            max_queue: (max_queue >= 0.0).then_some(max_queue as usize),
            thread_name: "native-pool".into(),
            nice: nice_increment.min(19) as u8,
            record_timing,
            script_workers: script_workers as usize,
            min_script_workers: min_script_workers.min(script_workers) as usize,
            grace_time: Duration::try_from_secs_f64(grace_time_ms / 1000.0).unwrap_or(Duration::MAX),
        };
        (Arc::new(ThreadPool::new(config, Arc::new(ThreadEvents { sink, pool: id }))), true)
    };
    // An owned pool's first threads are starting: keep the process alive until each said so.
    let awaiting_online = if owned { pool.stats().threads } else { 0 };
    slot.insert(PoolEntry {
        pool,
        owned,
        awaiting_online,
        pending: 0,
        backlogged: false,
        refd: true,
        closed: false,
        done: false,
        close_waiters: Vec::new(),
        dispatch: Some(dispatch),
        make_error: Some(make_error),
        held: true,
    });
    if awaiting_online > 0 {
        st.keep_alive(true);
    }
    st.hold(id);
    Ok(id)
}

/// Exports `run` and `runScript`, the hot paths of `pool.run(task, args)` for a native task and for
/// a JS task, as plain Node-API callbacks: they skip the per-call bookkeeping of napi-rs's generated
/// wrappers (argument conversions, borrow scopes), which measurably costs on a path that runs
/// hundreds of thousands of times a second (a twentieth of the JS thread's samples on streamed empty
/// JS tasks, `perf record`).
#[napi(module_exports)]
pub fn raw_exports(exports: Object<'_>, env: Env) -> Result<()> {
    let raw: [(&std::ffi::CStr, unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value); 2] =
        [(c"run", run), (c"runScript", run_script)];
    for (name, callback) in raw {
        let mut f = std::ptr::null_mut();
        js::napi_call!(env.raw(), sys::napi_create_function(env.raw(), name.as_ptr(), name.count_bytes() as isize, Some(callback), std::ptr::null_mut(), &mut f))
            .map_err(napi_failed)?;
        js::napi_call!(env.raw(), sys::napi_set_named_property(env.raw(), exports.raw(), name.as_ptr(), f)).map_err(napi_failed)?;
    }
    Ok(())
}

/// `run(pool, task, args, jobId, flags)`: submits a native task with default options and returns its
/// promise. `flags`: 1 = deliver messages. Never throws for a bad task or argument: the promise rejects.
unsafe extern "C" fn run(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    submit_raw(env, info, submit_job)
}

/// `runScript(pool, function, args, jobId, flags)`: `run` for JS task `function` (its index in the
/// pool's JS task table), as `submitScript` with default options.
unsafe extern "C" fn run_script(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    submit_raw(env, info, submit_script_job)
}

/// The body of `run` and `runScript`: reads `(pool, task, args, jobId, flags)` and submits with
/// default options through `submit`.
fn submit_raw(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    submit: impl FnOnce(sys::napi_env, u32, u32, sys::napi_value, f64, JobOptions, bool) -> Result<sys::napi_value>,
) -> sys::napi_value {
    let mut argc = 5;
    let mut argv = [std::ptr::null_mut(); 5];
    let read = js::napi_call!(env, sys::napi_get_cb_info(
        env,
        info,
        &mut argc,
        argv.as_mut_ptr(),
        std::ptr::null_mut(),
        std::ptr::null_mut()
    ));
    let u32_at = |i: usize| {
        let mut n = 0u32;
        let _ = js::napi_call!(env, sys::napi_get_value_uint32(env, argv[i], &mut n));
        n
    };
    let (pool, task, args, flags) = (u32_at(0), u32_at(1), argv[2], u32_at(4));
    let mut job_id = 0.0;
    let _ = js::napi_call!(env, sys::napi_get_value_double(env, argv[3], &mut job_id));
    let options = JobOptions { priority: 0, timeout: None, wants_messages: flags & FLAG_MESSAGES != 0 };
    match read.map_err(napi_failed).and_then(|()| submit(env, pool, task, args, job_id, options, false)) {
        Ok(promise) => promise,
        Err(e) => {
            let _ = js::napi_call!(env, sys::napi_throw_error(env, std::ptr::null(), c"native-pool: run() failed".as_ptr()));
            drop(e);
            std::ptr::null_mut()
        }
    }
}

/// Submits a task; returns its promise. Never throws: every failure rejects the promise.
/// `flags`: 1 = deliver messages, 2 = cancellable by `cancel(pool, jobId)`. `timeoutMs` <= 0: none.
#[napi(js_name = "submit")]
#[allow(clippy::too_many_arguments)]
pub fn submit(
    env: Env,
    pool: u32,
    task: u32,
    args: Unknown<'_>,
    job_id: f64,
    priority: i32,
    timeout_ms: f64,
    flags: u32,
) -> Result<sys::napi_value> {
    let options = job_options(priority, timeout_ms, flags);
    submit_job(env.raw(), pool, task, args.raw(), job_id, options, flags & FLAG_CANCELLABLE != 0)
}

/// The engine's options of a job from `submit`'s / `submitScript`'s arguments.
fn job_options(priority: i32, timeout_ms: f64, flags: u32) -> JobOptions {
    JobOptions {
        priority,
        timeout: if timeout_ms > 0.0 { Duration::try_from_secs_f64(timeout_ms / 1000.0).ok() } else { None },
        wants_messages: flags & FLAG_MESSAGES != 0,
    }
}

/// The pool `pool` of this environment, unless it is unknown or closed.
fn open_pool(cell: &std::cell::RefCell<EnvState>, pool: u32) -> Option<Arc<ThreadPool>> {
    cell.borrow().pools.get(pool as usize).filter(|entry| !entry.closed).map(|entry| entry.pool.clone())
}

const FLAG_MESSAGES: u32 = 1;
const FLAG_CANCELLABLE: u32 = 2;

fn submit_job(
    raw: sys::napi_env,
    pool: u32,
    task: u32,
    args: sys::napi_value,
    job_id: f64,
    options: JobOptions,
    cancellable: bool,
) -> Result<sys::napi_value> {
    let cell = state_of(raw)?;
    let (deferred, promise) = js::promise(raw).map_err(napi_failed)?;
    let reject = |r: Rejection| env::reject_with(raw, env::make_error_fn(cell, pool), deferred, &r.error, r.cause);

    let Some(task_impl) = tasks().get(task as usize) else {
        reject(TaskError::UnknownTask { name: format!("#{task}") }.into());
        return Ok(promise);
    };
    let Some(threads) = open_pool(cell, pool) else {
        reject(TaskError::PoolClosed.into());
        return Ok(promise);
    };
    let mut kept = Kept::default();
    let prepared = convert::args_from_js(raw, args, matches!(task_impl.args(), ArgsSchema::Any), &mut kept)
        .and_then(|value| task_impl.prepare(value).map_err(Rejection::from));
    let work = match prepared {
        Ok(work) => work,
        Err(e) => {
            kept.release(raw);
            reject(e);
            return Ok(promise);
        }
    };

    let pending = Pending { deferred, control: JobControl::new(), pool, job_id, task, kept, cancellable };
    enqueue(raw, cell, &threads, pending, |sink, ticket, control| Job::new(work, sink, ticket, control, options));
    Ok(promise)
}

/// Registers a job whose arguments are read as pending in this environment and submits it to
/// `threads`; a job the pool refuses (closed, queue full) is rejected at once. `make_job` builds the
/// job from the environment's sink, the job's ticket and its control.
fn enqueue(
    raw: sys::napi_env,
    cell: &std::cell::RefCell<EnvState>,
    threads: &ThreadPool,
    pending: Pending,
    make_job: impl FnOnce(Arc<dyn JobSink>, u64, Arc<JobControl>) -> Job,
) {
    let (pool, job_id, cancellable, control) = (pending.pool, pending.job_id, pending.cancellable, pending.control.clone());
    let mut st = cell.borrow_mut();
    let ticket = st.pending.insert(pending);
    let sink: Arc<dyn JobSink> = st.sink.clone();
    st.sink_submitted();
    match threads.submit(make_job(sink, ticket as u64, control)) {
        Ok(()) => {
            if cancellable {
                st.cancellable.insert((pool, job_id as u64), ticket);
            }
            st.job_added(pool);
        }
        Err(refused) => {
            st.sink_unsubmitted();
            let p = st.pending.remove(ticket);
            drop(st);
            p.kept.release(raw);
            env::reject_with(raw, env::make_error_fn(cell, pool), p.deferred, &refused.error, None);
        }
    }
}

/// Offers a pool's script queue to its Workers; returns the key they attach with (`attachScripts`).
#[napi(js_name = "offerScripts")]
pub fn offer_scripts(env: Env, pool: u32) -> Result<f64> {
    let st = state_of(env.raw())?.borrow();
    let Some(entry) = st.pools.get(pool as usize) else { return Err(Error::from_reason("native-pool: no such pool")) };
    Ok(script::offer(&entry.pool, &st.sink, pool) as f64)
}

/// Queues a call of JS task `function` (its index in the pool's JS task table) with `args`, read
/// here on the caller's thread (transport rules: `convert::Mode::Transport`); returns its promise.
/// Same flags and options as `submit`. Never throws: every failure rejects the promise.
#[napi(js_name = "submitScript")]
#[allow(clippy::too_many_arguments)]
pub fn submit_script(
    env: Env,
    pool: u32,
    function: u32,
    args: Unknown<'_>,
    job_id: f64,
    priority: i32,
    timeout_ms: f64,
    flags: u32,
) -> Result<sys::napi_value> {
    let options = job_options(priority, timeout_ms, flags);
    submit_script_job(env.raw(), pool, function, args.raw(), job_id, options, flags & FLAG_CANCELLABLE != 0)
}

fn submit_script_job(
    raw: sys::napi_env,
    pool: u32,
    function: u32,
    args: sys::napi_value,
    job_id: f64,
    options: JobOptions,
    cancellable: bool,
) -> Result<sys::napi_value> {
    let cell = state_of(raw)?;
    let (deferred, promise) = js::promise(raw).map_err(napi_failed)?;
    let reject = |r: Rejection| env::reject_with(raw, env::make_error_fn(cell, pool), deferred, &r.error, r.cause);
    let Some(threads) = open_pool(cell, pool) else {
        reject(TaskError::PoolClosed.into());
        return Ok(promise);
    };
    let mut kept = Kept::default();
    let args = match convert::transport_from_js(raw, args, "args", false, &mut kept) {
        Ok(v) => v,
        Err(e) => {
            kept.release(raw);
            reject(e);
            return Ok(promise);
        }
    };
    let task = script::SCRIPT_TASK | function;
    let pending = Pending { deferred, control: JobControl::new(), pool, job_id, task, kept, cancellable };
    let call = ScriptCall { function, id: job_id as u64, args };
    enqueue(raw, cell, &threads, pending, |sink, ticket, control| Job::script(call, sink, ticket, control, options));
    Ok(promise)
}

/// (In a pool's Worker) attaches this environment to the pool offered under `key` as its Worker
/// number `slot`; `deliver(flags)` is called when a job may wait (1) or the running one was
/// cancelled (2); `meta`, a Float64Array(2), receives each taken job's function and id. False if
/// that pool is gone (or `meta` is not a Float64Array of 2).
#[napi(js_name = "attachScripts")]
pub fn attach_scripts(env: Env, key: f64, slot: u32, deliver: Unknown<'_>, meta: Unknown<'_>) -> Result<bool> {
    script::attach(env.raw(), state_of(env.raw())?, key as u64, slot, deliver.raw(), meta.raw()).map_err(napi_failed)
}

/// (In a Worker of a growing pool, idle for the idle timeout) detaches it if the pool can do without
/// it; the owner then ends it (`threadId`: this Worker's, so that the owner ends only this one).
/// False if it must stay (a job came, or the pool is at its minimum).
#[napi(js_name = "retireScript")]
pub fn retire_script(env: Env, thread_id: u32) -> Result<bool> {
    Ok(script::retire_idle(env.raw(), state_of(env.raw())?, thread_id))
}

/// (In a pool's Worker) the next job's argument, its function and id in `meta` (function -1: none).
#[napi(js_name = "takeScript")]
pub fn take_script(env: Env) -> Result<sys::napi_value> {
    script::take(env.raw(), state_of(env.raw())?).map_err(napi_failed)
}

/// (In a pool's Worker) reports the running job's result (`ok`) or what it threw, and takes the
/// next job (as `takeScript`).
#[napi(js_name = "completeScript")]
pub fn complete_script(env: Env, ok: bool, value: Unknown<'_>) -> Result<sys::napi_value> {
    script::complete(env.raw(), state_of(env.raw())?, ok, value.raw()).map_err(napi_failed)
}

/// (In a pool's Worker) posts a message for the running job. A value that cannot cross throws
/// ERR_INVALID_ARG (field `message`) to the task, which called `ctx.post`.
#[napi(js_name = "postScript")]
pub fn post_script(env: Env, value: Unknown<'_>) -> Result<()> {
    let raw = env.raw();
    match script::post(raw, state_of(raw)?, value.raw()) {
        Ok(()) => Ok(()),
        Err(r) => Err(Error::new(Status::InvalidArg, r.error.to_string())),
    }
}

/// (In a pool's Worker) why the running job should stop: 0 not, 1 aborted, 2 timed out, 3 destroyed,
/// 4 orphaned.
#[napi(js_name = "scriptCancelReason")]
pub fn script_cancel_reason(env: Env) -> Result<u32> {
    Ok(script::cancel_reason(state_of(env.raw())?))
}

/// Cancels a job submitted as cancellable: a queued job is taken out of the queue and rejected at once,
/// a running one is asked to stop; it rejects with ABORT_ERR. Returns false if the job is
/// unknown or already settled.
#[napi(js_name = "cancel")]
pub fn cancel(env: Env, pool: u32, job_id: f64) -> Result<bool> {
    let cell = state_of(env.raw())?;
    let st = cell.borrow();
    let Some(&ticket) = st.cancellable.get(&(pool, job_id as u64)) else { return Ok(false) };
    let Some(p) = st.pending.get(ticket) else { return Ok(false) };
    let reason = CancelReason::Aborted;
    if !p.control.cancel(reason) {
        return Ok(false); // already cancelled: its outcome is on its way
    }
    if let Some(entry) = st.pools.get(p.pool as usize) {
        if entry.pool.withdraw(&p.control) {
            // Settled in the next batch, through the same path as every other outcome.
            st.sink.complete(ticket as u64, Err(TaskError::Cancelled(reason)));
        }
    }
    Ok(true)
}

/// Closes a pool: no new jobs; resolves when the accepted ones are done and (for an owned pool) every
/// thread has stopped and reported its exit.
#[napi(js_name = "closePool")]
pub fn close_pool(env: Env, pool: u32) -> Result<sys::napi_value> {
    env::close_pool(env.raw(), state_of(env.raw())?, pool, false).map_err(napi_failed)
}

/// Destroys a pool: queued jobs are rejected with `ERR_POOL_CLOSED`, running ones cancelled; resolves
/// when every thread has stopped.
#[napi(js_name = "destroyPool")]
pub fn destroy_pool(env: Env, pool: u32) -> Result<sys::napi_value> {
    env::close_pool(env.raw(), state_of(env.raw())?, pool, true).map_err(napi_failed)
}

/// Whether this pool's pending jobs keep the process alive.
#[napi(js_name = "setRef")]
pub fn set_ref(env: Env, pool: u32, refd: bool) -> Result<()> {
    state_of(env.raw())?.borrow_mut().set_ref(pool, refd);
    Ok(())
}

/// Jobs submitted through this pool (from this environment) and not yet settled.
#[napi(js_name = "poolPending")]
pub fn pool_pending(env: Env, pool: u32) -> Result<u32> {
    Ok(state_of(env.raw())?.borrow().pools.get(pool as usize).map_or(0, |e| e.pending as u32))
}

/// The pool's counters and latency summaries (nanoseconds), as a plain object.
#[napi(js_name = "poolStats")]
pub fn pool_stats(env: Env, pool: u32) -> Result<sys::napi_value> {
    let threads = {
        let st = state_of(env.raw())?.borrow();
        match st.pools.get(pool as usize) {
            Some(entry) => entry.pool.clone(),
            None => return Err(Error::from_reason("native-pool: no such pool")),
        }
    };
    let s = threads.stats();
    let latency = |l: crate::engine::stats::LatencySummary| {
        Value::object([
            ("count", Value::Number(l.count as f64)),
            ("min", Value::Number(l.min_ns as f64 / 1e6)),
            ("max", Value::Number(l.max_ns as f64 / 1e6)),
            ("mean", Value::Number(l.mean_ns / 1e6)),
            ("p50", Value::Number(l.p50_ns as f64 / 1e6)),
            ("p90", Value::Number(l.p90_ns as f64 / 1e6)),
            ("p99", Value::Number(l.p99_ns as f64 / 1e6)),
        ])
    };
    let v = Value::object([
        ("threads", Value::Number(s.threads as f64)),
        ("idle", Value::Number(s.idle as f64)),
        ("workers", Value::Number(s.script_workers as f64)),
        ("running", Value::Number(s.running as f64)),
        ("queued", Value::Number(s.queued as f64)),
        ("completed", Value::Number(s.completed as f64)),
        ("failed", Value::Number(s.failed as f64)),
        ("cancelled", Value::Number(s.cancelled as f64)),
        ("timedOut", Value::Number(s.timed_out as f64)),
        ("runTime", latency(s.run_time)),
        ("waitTime", latency(s.wait_time)),
        ("utilization", Value::Number(s.utilization)),
    ]);
    convert::to_js(env.raw(), v, &Kept::default()).map_err(napi_failed)
}

/// For `lib/wait.js`, polling while results are due: the number of jobs this environment has settled
/// (wrapping at 2^32), or that number negated minus one when none is pending.
#[napi(js_name = "waitState")]
pub fn wait_state(env: Env) -> Result<f64> {
    let st = state_of(env.raw())?.borrow();
    let settled = f64::from(st.settled);
    Ok(if st.pending.is_empty() { -settled - 1.0 } else { settled })
}

/// The number of CPUs, as the engine counts them (the default thread count).
#[napi(js_name = "cpuCount")]
pub fn cpu_count() -> u32 {
    num_cpus::get() as u32
}
