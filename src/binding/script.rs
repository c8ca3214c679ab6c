//! JS tasks: the owner's side (a pool offers its script queue to Workers, `submitScript` queues a
//! call) and the Worker's side (a Worker attaches as a script consumer, takes calls, runs them in JS
//! and reports their outcomes). The protocol is written up in SCRIPTS.md beside this file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use napi::sys;

use super::convert::{self, Kept, Rejection};
use super::env::{EnvSink, Event, StateCell};
use super::js::{self, Env, Val};
use crate::engine::error::{CancelReason, TaskError};
use crate::engine::job::ScriptCall;
use crate::engine::pool::{ScriptConsumer, ScriptHooks, ScriptTake, StartedScript, ThreadPool};
use crate::engine::value::Value;

/// `Pending::task` of a script job: this bit set, and the function's index below it.
pub(crate) const SCRIPT_TASK: u32 = 1 << 31;

/// Flags `deliver(flags)` receives in a Worker: a job may be waiting, and/or the running one was
/// cancelled.
const DELIVER_READY: u32 = 1;
const DELIVER_ABORT: u32 = 2;

/// A pool whose script queue Workers may attach to, by the key passed in their `workerData`.
struct Offered {
    pool: Weak<ThreadPool>,
    /// The owner's environment, which terminates a Worker when the engine asks.
    owner: Weak<EnvSink>,
    /// The pool's id in its owner's environment.
    owner_pool: u32,
}

fn offered() -> &'static Mutex<HashMap<u64, Offered>> {
    static OFFERED: OnceLock<Mutex<HashMap<u64, Offered>>> = OnceLock::new();
    OFFERED.get_or_init(|| Mutex::new(HashMap::new()))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Offers `pool`'s script queue to Workers; returns the key they attach with. Keys are never reused,
/// so a stale key finds nothing rather than another pool.
pub(crate) fn offer(pool: &Arc<ThreadPool>, owner: &Arc<EnvSink>, owner_pool: u32) -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let key = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // A growing pool asks its owner for Workers when jobs wait with none free.
    let sink = Arc::downgrade(owner);
    pool.set_consumer_starter(Arc::new(move || {
        if let Some(sink) = sink.upgrade() {
            sink.push(Event::WantWorkers { pool: owner_pool });
        }
    }));
    let mut map = lock(offered());
    map.retain(|_, o| o.pool.strong_count() > 0);
    map.insert(key, Offered { pool: Arc::downgrade(pool), owner: Arc::downgrade(owner), owner_pool });
    key
}

/// A Worker's side: its consumer, the job it runs, and the Buffers lent to that job.
pub(crate) struct ScriptSide {
    consumer: ScriptConsumer,
    current: Option<StartedScript>,
    /// The Worker's `deliver(flags)`.
    deliver: sys::napi_ref,
    /// Buffers over the caller's memory given to the running job: detached when it finishes.
    lent: Vec<sys::napi_ref>,
    /// Where `take` writes the taken job's function and id (`Meta`).
    meta: Meta,
    /// The owner's environment, its id for the pool, and this Worker's slot: where a retirement is
    /// reported.
    owner: Weak<EnvSink>,
    owner_pool: u32,
    slot: u32,
}

/// The Worker's `Float64Array(2)` that `take` fills in: `[function, id]` of the job it returns, or
/// `[-1, 0]` when it returns none. Writing two numbers into memory the Worker reads directly saves
/// building an array per job (an array and four elements set through Node-API, each job).
struct Meta {
    /// Keeps the array alive (strong) for as long as this side is attached.
    array: sys::napi_ref,
    data: *mut f64,
}

impl Meta {
    fn new(env: Env, array: Val) -> js::JsResult<Option<Meta>> {
        let Some((data, len)) = js::float64_view(env, array)? else { return Ok(None) };
        if len < 2 {
            return Ok(None);
        }
        Ok(Some(Meta { array: js::new_ref(env, array)?, data }))
    }

    fn set(&self, function: f64, id: f64) {
        // SAFETY: `data` points at the two first elements of a Float64Array that `array` keeps
        // alive; lib/worker.js creates it, never hands it out and never detaches it, and only this
        // environment's JS thread (the one calling here) reads or writes it.
        unsafe {
            self.data.write(function);
            self.data.add(1).write(id);
        }
    }
}

/// Attaches this environment (a pool's Worker) to the pool offered under `key`. `slot` is the
/// Worker's number in its pool, sent back with a request to terminate it. False if the pool is gone.
pub(crate) fn attach(env: Env, cell: &StateCell, key: u64, slot: u32, deliver: Val, meta: Val) -> js::JsResult<bool> {
    let (pool, owner, owner_pool) = {
        let map = lock(offered());
        let Some(o) = map.get(&key) else { return Ok(false) };
        let (Some(pool), Some(owner)) = (o.pool.upgrade(), o.owner.upgrade()) else { return Ok(false) };
        (pool, owner, o.owner_pool)
    };
    let Some(meta) = Meta::new(env, meta)? else { return Ok(false) };
    let me = cell.borrow().sink.clone();
    let (ready, abort) = (me.clone(), me);
    let owner = Arc::downgrade(&owner);
    let side_owner = owner.clone();
    let hooks = ScriptHooks {
        wake: Arc::new(move || ready.push(Event::ScriptReady)),
        abort: Arc::new(move || abort.push(Event::ScriptAbort)),
        terminate: Arc::new(move || {
            if let Some(owner) = owner.upgrade() {
                owner.push(Event::TerminateWorker { pool: owner_pool, slot });
            }
        }),
    };
    let deliver = js::new_ref(env, deliver)?;
    let consumer = pool.attach_script_consumer(hooks);
    let mut st = cell.borrow_mut();
    let side = ScriptSide { consumer, current: None, deliver, lent: Vec::new(), meta, owner: side_owner, owner_pool, slot };
    if let Some(old) = st.script.replace(side) {
        drop(st);
        end_side(env, old, "the Worker attached again");
        st = cell.borrow_mut();
    }
    // An attached Worker waits for wake-ups: its event loop must stay alive (the pool unrefs the
    // Worker itself, so it never keeps the owner's process alive).
    st.keep_alive(true);
    Ok(true)
}

/// (A Worker of a growing pool, idle for its idle timeout.) Detaches the Worker if the pool can do
/// without it (`ScriptConsumer::retire`: idle, nothing queued, more Workers than the minimum) and
/// asks the owner to end it, naming it by `thread` (its threadId) as well as its slot: the owner
/// ends only that Worker. Its event loop stays alive until then: a Worker that exited by itself
/// first would look dead to the owner, which would start a replacement in the slot. False if it
/// must stay.
pub(crate) fn retire_idle(env: Env, cell: &StateCell, thread: u32) -> bool {
    let Some(side) = cell.borrow_mut().script.take() else { return false };
    if side.current.is_some() {
        cell.borrow_mut().script = Some(side);
        return false;
    }
    let ScriptSide { consumer, current, deliver, lent, meta, owner, owner_pool, slot } = side;
    match consumer.retire() {
        Err(consumer) => {
            cell.borrow_mut().script = Some(ScriptSide { consumer, current, deliver, lent, meta, owner, owner_pool, slot });
            false
        }
        Ok(()) => {
            for r in lent.into_iter().chain([deliver, meta.array]) {
                js::delete_ref(env, r);
            }
            if let Some(owner) = owner.upgrade() {
                owner.push(Event::RetiredWorker { pool: owner_pool, slot, thread });
            }
            true
        }
    }
}

/// Ends a Worker's side: its running job (if any) fails, its consumer detaches.
fn end_side(env: Env, side: ScriptSide, why: &str) {
    let ScriptSide { consumer, current, deliver, lent, meta, .. } = side;
    for r in lent.into_iter().chain([deliver, meta.array]) {
        js::delete_ref(env, r);
    }
    if let Some(job) = current {
        job.finish(Err(TaskError::failed(why)));
    }
    drop(consumer);
}

/// At the Worker's teardown (its `process.exit()`, an uncaught exception, running out of memory, or
/// `terminate()`): the job it ran is reported (as its cancellation if it was cancelled, else as a
/// failure), the consumer detaches, and its references are deleted. The lent Buffers are not
/// detached: no JS runs in this environment again.
pub(crate) fn teardown(cell: &StateCell) {
    let env = cell.borrow().env;
    let side = cell.borrow_mut().script.take();
    if let Some(ScriptSide { consumer, current, deliver, lent, meta, .. }) = side {
        if let Some(job) = current {
            job.finish(Err(TaskError::failed(
                "the Worker running the task exited (process.exit(), an uncaught exception, out of memory, or terminated)",
            )));
        }
        drop(consumer);
        for r in lent.into_iter().chain([deliver, meta.array]) {
            js::delete_ref(env, r);
        }
    }
}

/// Takes the next job: returns its argument, with its function and id in the Worker's meta array;
/// or sets the function there to -1 when none waits (the Worker's `deliver` is called with
/// DELIVER_READY when one comes).
pub(crate) fn take(env: Env, cell: &StateCell) -> js::JsResult<Val> {
    let taken = {
        let st = cell.borrow();
        match &st.script {
            Some(side) => {
                side.meta.set(-1.0, 0.0);
                if side.current.is_none() {
                    side.consumer.take()
                } else {
                    ScriptTake::Nothing
                }
            }
            None => ScriptTake::Nothing,
        }
    };
    let ScriptTake::Job(mut job) = taken else { return js::undefined(env) };
    let ScriptCall { function, id, args } = std::mem::replace(&mut job.call, ScriptCall { function: 0, id: 0, args: Value::Undefined });
    let mut lent = Vec::new();
    let converted = convert::to_js_with(env, args, &Kept::default(), &mut |bytes| {
        let buffer = js::buffer_over(env, bytes)?;
        lent.push(js::new_ref(env, buffer)?);
        Ok(buffer)
    });
    let out = match converted {
        Ok(out) => out,
        Err(e) => {
            // Detached before the failure is reported: the caller frees the memory after that.
            detach_all(env, lent);
            job.finish(Err(TaskError::failed("the task's argument could not be made in the Worker")));
            return Err(e);
        }
    };
    let mut st = cell.borrow_mut();
    if let Some(side) = st.script.as_mut() {
        side.meta.set(f64::from(function), id as f64);
        side.current = Some(job);
        side.lent = lent;
    }
    Ok(out)
}

fn detach_all(env: Env, lent: Vec<sys::napi_ref>) {
    for r in lent {
        if let Ok(buffer) = js::ref_value(env, r) {
            if !buffer.is_null() {
                let _ = js::detach(env, buffer);
            }
        }
        js::delete_ref(env, r);
    }
}

/// Reports the running job's outcome: `ok` with the task's result, or what it threw. The result is
/// copied out of the Worker (binary data once); then the inputs lent to the task are detached, and
/// only then is the outcome reported, after which the caller may free them. Returns the next job, as
/// `take` does: one call into the addon per task on a busy Worker instead of two.
pub(crate) fn complete(env: Env, cell: &StateCell, ok: bool, value: Val) -> js::JsResult<Val> {
    finish_current(env, cell, ok, value);
    take(env, cell)
}

fn finish_current(env: Env, cell: &StateCell, ok: bool, value: Val) {
    let outcome = if ok {
        convert::transport_from_js(env, value, "result", true, &mut Kept::default()).map_err(result_error)
    } else {
        Err(thrown(env, value))
    };
    let (job, lent) = {
        let mut st = cell.borrow_mut();
        let Some(side) = st.script.as_mut() else { return };
        (side.current.take(), std::mem::take(&mut side.lent))
    };
    detach_all(env, lent);
    if let Some(job) = job {
        job.finish(outcome);
    }
}

/// A result that cannot cross: the task failed to give one, as far as its caller can tell.
fn result_error(r: Rejection) -> TaskError {
    match r.error {
        TaskError::InvalidArg { field, message } => {
            TaskError::failed(format!("the task's {field} cannot be returned to the caller: it {message}"))
        }
        other => other,
    }
}

/// What a task threw, as its name, message and stack.
fn thrown(env: Env, v: Val) -> TaskError {
    let text = |v: Val| -> Option<String> {
        match js::type_of(env, v).ok()? {
            sys::ValueType::napi_string => js::get_string(env, v).ok(),
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => None,
            sys::ValueType::napi_object | sys::ValueType::napi_function | sys::ValueType::napi_symbol => None,
            _ => js::coerce_to_string(env, v).ok(),
        }
    };
    let is_object = matches!(js::type_of(env, v), Ok(sys::ValueType::napi_object | sys::ValueType::napi_function));
    if !is_object {
        let message = text(v).unwrap_or_else(|| "a value that is not an Error was thrown".into());
        return TaskError::ScriptFailed { name: "Error".into(), message, stack: None };
    }
    // A getter of the thrown object's that throws leaves that field out (`napi_call!` takes it).
    let field = |key: &str| js::get_named(env, v, key).ok().and_then(text);
    TaskError::ScriptFailed {
        name: field("name").unwrap_or_else(|| "Error".into()),
        message: field("message").unwrap_or_default(),
        stack: field("stack"),
    }
}

/// Posts a message for the running job (ignored when none runs).
pub(crate) fn post(env: Env, cell: &StateCell, value: Val) -> Result<(), Rejection> {
    let st = cell.borrow();
    let Some(job) = st.script.as_ref().and_then(|s| s.current.as_ref()) else { return Ok(()) };
    if !job.wants_messages() {
        return Ok(());
    }
    let message = convert::transport_from_js(env, value, "message", true, &mut Kept::default())?;
    job.post(message);
    Ok(())
}

/// Why the running job should stop: 0 it should not, then 1 + the `CancelReason` (aborted, timed
/// out, destroyed, orphaned).
pub(crate) fn cancel_reason(cell: &StateCell) -> u32 {
    let st = cell.borrow();
    match st.script.as_ref().and_then(|s| s.current.as_ref()).and_then(|j| j.cancel_reason()) {
        None => 0,
        Some(CancelReason::Aborted) => 1,
        Some(CancelReason::TimedOut) => 2,
        Some(CancelReason::Destroyed) => 3,
        Some(CancelReason::Orphaned) => 4,
    }
}

/// In a Worker's `on_batch`: tells its JS that a job may wait and/or the running one was cancelled.
pub(crate) fn deliver(env: Env, cell: &StateCell, ready: bool, abort: bool) -> Result<(), Val> {
    let f = {
        let st = cell.borrow();
        let Some(side) = st.script.as_ref() else { return Ok(()) };
        match js::ref_value(env, side.deliver) {
            Ok(f) if !f.is_null() => f,
            _ => return Ok(()),
        }
    };
    let mut flags = 0;
    if ready {
        flags |= DELIVER_READY;
    }
    if abort {
        flags |= DELIVER_ABORT;
    }
    let Ok(arg) = js::number(env, flags as f64) else { return Ok(()) };
    js::call(env, f, &[arg]).map(drop)
}

/// The cause of a caller's `ERR_TASK_FAILED` for a JS task that threw: an Error with the thrown
/// error's name, message and stack.
pub(crate) fn failure_cause(env: Env, e: &TaskError) -> Option<Val> {
    let TaskError::ScriptFailed { name, message, stack } = e else { return None };
    let cause = js::error(env, message).ok()?;
    let _ = js::string(env, name).and_then(|n| js::set_named(env, cause, "name", n));
    if let Some(stack) = stack {
        let _ = js::string(env, stack).and_then(|s| js::set_named(env, cause, "stack", s));
    }
    Some(cause)
}
