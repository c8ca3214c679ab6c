//! One JS environment (the main thread, or one `worker_threads` Worker): where a promise is settled.
//!
//! `EnvSink` is the half pool threads touch: they push events (messages, outcomes, thread starts and
//! stops) under one lock and, if no wake-up is already on its way, make one threadsafe-function call.
//! `EnvState` is the half only the JS thread touches: the pending jobs with their deferreds, the pools,
//! and the keep-alive count. `on_batch` drains the events on the JS thread, settles every promise
//! first, then hands the rest to the JS dispatcher in a single call. See README.md beside this file.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use napi::sys;
use slab::Slab;

use super::convert::{self, Kept, Rejection};
use super::js::{self, napi_call, Env, Val};
use crate::engine::context::JobControl;
use crate::engine::error::{CancelReason, TaskError};
use crate::engine::inbox::Inbox;
use crate::engine::job::JobSink;
use crate::engine::pool::{PoolObserver, ThreadPool};
use crate::engine::value::Value;

/// Event kinds as the JS dispatcher sees them (`lib/dispatch.js` mirrors these numbers).
pub(crate) const EVENT_MESSAGE: u32 = 1;
pub(crate) const EVENT_ONLINE: u32 = 2;
pub(crate) const EVENT_EXIT: u32 = 3;
pub(crate) const EVENT_DRAIN: u32 = 4;
/// A JS-task Worker of the pool must be terminated (its job ignored its cancellation too long).
pub(crate) const EVENT_TERMINATE: u32 = 5;
/// A JS-task Worker of a growing pool retired (idle for `idleTimeout`): end it, without a successor.
pub(crate) const EVENT_RETIRED: u32 = 6;
/// A growing pool's JS tasks wait with no Worker free: start Workers for that many.
pub(crate) const EVENT_WANT_WORKERS: u32 = 7;

/// What pool threads report to an environment.
pub(crate) enum Event {
    Message { ticket: u64, message: Value },
    Done { ticket: u64, outcome: Result<Value, TaskError> },
    ThreadOnline { pool: u32, thread: u32 },
    ThreadExit { pool: u32, thread: u32, code: i32 },
    /// Every thread of an owned pool has been joined after `close` or `destroy`.
    PoolJoined { pool: u32 },
    /// (In a pool's Worker) a script job may be waiting: take it.
    ScriptReady,
    /// (In a pool's Worker) the script job it runs was cancelled.
    ScriptAbort,
    /// (In a pool's owner) terminate the pool's Worker number `slot`.
    TerminateWorker { pool: u32, slot: u32 },
    /// (In a pool's owner) the Worker number `slot`, thread id `thread`, retired (idle in a growing
    /// pool): end it, without a successor.
    RetiredWorker { pool: u32, slot: u32, thread: u32 },
    /// (In a pool's owner) a script job of a growing pool found no consumer free.
    WantWorkers { pool: u32 },
}

/// The thread-safe half of an environment.
pub(crate) struct EnvSink {
    /// The events for the JS thread; its wake-up is one call of `tsfn` (protocol: `engine::inbox`).
    /// Closed when the environment is torn down: nothing is pushed and `tsfn` is never called again
    /// (it is released right after).
    inbox: Inbox<Event>,
    /// False once the inbox is closed, for the cheap check at dequeue.
    alive: AtomicBool,
    tsfn: Tsfn,
    /// Jobs submitted from this environment whose outcome no pool thread has reported yet.
    unfinished: AtomicUsize,
    all_finished: Condvar,
    finished_lock: Mutex<()>,
}

/// The threadsafe function that wakes the JS thread.
struct Tsfn(sys::napi_threadsafe_function);
// SAFETY: Node-API threadsafe functions are made to be called from any thread; it is only called
// by the inbox's wake-up, which never runs once the inbox is closed, and it is released after that.
unsafe impl Send for Tsfn {}
// SAFETY: as above.
unsafe impl Sync for Tsfn {}

impl EnvSink {
    pub(crate) fn push(&self, event: Event) {
        self.inbox.push(event, || {
            // Non-blocking with an unbounded queue: only fails once the function is closing, and then
            // nobody is left to tell.
            // SAFETY: the inbox calls this only while open (never once `close` has returned); it is
            // closed before the function is released.
            unsafe {
                sys::napi_call_threadsafe_function(
                    self.tsfn.0,
                    ptr::null_mut(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                )
            };
        });
    }

    /// Swaps the inbox with `batch` (see `Inbox::take`).
    fn take_events(&self, batch: &mut Vec<Event>) {
        self.inbox.take(batch);
    }

    fn finish_one(&self) {
        if self.unfinished.fetch_sub(1, Ordering::AcqRel) == 1 && !self.alive.load(Ordering::Acquire) {
            let _guard = self.finished_lock.lock().unwrap_or_else(|e| e.into_inner());
            self.all_finished.notify_all();
        }
    }
}

impl JobSink for EnvSink {
    fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    fn message(&self, ticket: u64, message: Value) {
        self.push(Event::Message { ticket, message });
    }

    fn complete(&self, ticket: u64, outcome: Result<Value, TaskError>) {
        self.push(Event::Done { ticket, outcome });
        self.finish_one();
    }
}

/// Reports an owned pool's thread starts and stops to its environment.
pub(crate) struct ThreadEvents {
    pub(crate) sink: Arc<EnvSink>,
    pub(crate) pool: u32,
}

impl PoolObserver for ThreadEvents {
    fn thread_started(&self, thread: u32) {
        self.sink.push(Event::ThreadOnline { pool: self.pool, thread });
    }
    fn thread_stopped(&self, thread: u32, code: i32) {
        self.sink.push(Event::ThreadExit { pool: self.pool, thread, code });
    }
}

/// A job submitted from this environment and not yet settled.
pub(crate) struct Pending {
    pub(crate) deferred: sys::napi_deferred,
    pub(crate) control: Arc<JobControl>,
    pub(crate) pool: u32,
    pub(crate) job_id: f64,
    pub(crate) task: u32,
    pub(crate) kept: Kept,
    pub(crate) cancellable: bool,
}

/// A pool as this environment sees it: one it created, or its handle on the process-wide shared pool.
pub(crate) struct PoolEntry {
    pub(crate) pool: Arc<ThreadPool>,
    /// False for the shared pool: closing this handle never stops its threads.
    pub(crate) owned: bool,
    /// Jobs submitted through this entry and not yet settled.
    pub(crate) pending: usize,
    /// More jobs pending than the pool has threads: some wait. 'drain' is emitted when none waits.
    pub(crate) backlogged: bool,
    /// Whether pending jobs keep the process alive (`ref()` / `unref()`).
    pub(crate) refd: bool,
    /// `close()` or `destroy()` was called: no more jobs through this entry.
    pub(crate) closed: bool,
    /// Closing finished (threads joined, or this handle's jobs settled): later calls resolve at once.
    pub(crate) done: bool,
    /// Threads started with the pool whose 'online' event has not been delivered yet. Until it is 0
    /// the pool keeps the process alive, so that a script awaiting 'online' is not cut short.
    pub(crate) awaiting_online: usize,
    /// Promises of `close()` / `destroy()` calls, resolved once the pool is done.
    pub(crate) close_waiters: Vec<sys::napi_deferred>,
    /// The JS pool's `dispatch(events)`: receives its messages and thread events in batches. Deleted
    /// once the pool is done, so a closed pool can be collected.
    pub(crate) dispatch: Option<sys::napi_ref>,
    /// `makeError(code, message, isTypeError, field, hasCause, cause)`: builds the errors its promises
    /// are rejected with, in the caller's realm (so `instanceof Error` holds under jest too).
    /// Deleted, like `dispatch`, once the pool is done (`lib/pool.js` rejects runs of a closed pool
    /// itself) or its environment is torn down.
    pub(crate) make_error: Option<sys::napi_ref>,
    /// Whether `dispatch` and `make_error` are strong references. They are only while the pool is
    /// busy (see `EnvState::hold`): an idle pool holds nothing of its caller's alive, so a handle the
    /// caller dropped, and everything its realm holds (a whole jest test file's context, when jest
    /// runs files in-band and each loads the package again), can be collected.
    pub(crate) held: bool,
}

/// The JS-thread half of an environment, stored as its Node-API instance data.
pub(crate) struct EnvState {
    pub(crate) env: Env,
    pub(crate) sink: Arc<EnvSink>,
    pub(crate) pending: Slab<Pending>,
    /// (pool, job id) → ticket, for jobs that can be cancelled by id.
    pub(crate) cancellable: HashMap<(u32, u64), usize>,
    pub(crate) pools: Slab<PoolEntry>,
    /// Pending jobs and closes of ref'd pools: the threadsafe function is ref'd while this is > 0.
    keepalive: usize,
    /// The inbox's other buffer (see `EnvSink::take_events`).
    spare: Vec<Event>,
    /// Jobs settled so far (wrapping): how `lib/wait.js` sees that results arrived while it polls.
    pub(crate) settled: u32,
    /// In a pool's Worker: its script consumer and the JS task it runs (`script.rs`).
    pub(crate) script: Option<super::script::ScriptSide>,
}

pub(crate) type StateCell = RefCell<EnvState>;

/// This environment's state, if `init` ran in it.
pub(crate) fn state(env: Env) -> Option<&'static StateCell> {
    let mut data: *mut c_void = ptr::null_mut();
    napi_call!(env, sys::napi_get_instance_data(env, &mut data)).ok()?;
    // SAFETY: the only instance data this addon sets is a leaked `Box<StateCell>` (in `init`), freed
    // by Node's finalizer only when the environment is gone, after its last call into the addon.
    (!data.is_null()).then(|| unsafe { &*(data as *const StateCell) })
}

/// Sets up the environment once: the threadsafe function and the cleanup hook.
pub(crate) fn init(env: Env) -> js::JsResult<()> {
    if state(env).is_some() {
        return Ok(());
    }
    let mut tsfn = ptr::null_mut();
    let name = js::string(env, "native-pool")?;
    let resource = async_resource(env)?;
    napi_call!(env, sys::napi_create_threadsafe_function(
        env,
        ptr::null_mut(),
        resource,
        name,
        0,
        1,
        ptr::null_mut(),
        None,
        ptr::null_mut(),
        Some(on_batch),
        &mut tsfn
    ))?;
    // Idle until a job is pending: an idle pool never keeps the process alive.
    napi_call!(env, sys::napi_unref_threadsafe_function(env, tsfn))?;
    let sink = Arc::new(EnvSink {
        inbox: Inbox::new(),
        alive: AtomicBool::new(true),
        tsfn: Tsfn(tsfn),
        unfinished: AtomicUsize::new(0),
        all_finished: Condvar::new(),
        finished_lock: Mutex::new(()),
    });
    let st = Box::new(RefCell::new(EnvState {
        env,
        sink,
        pending: Slab::new(),
        cancellable: HashMap::new(),
        pools: Slab::new(),
        keepalive: 0,
        spare: Vec::new(),
        settled: 0,
        script: None,
    }));
    let raw = Box::into_raw(st);
    unsafe extern "C" fn free_state(_env: Env, data: *mut c_void, _hint: *mut c_void) {
        // SAFETY: `data` is the box leaked in `init`; Node calls this once, at environment teardown.
        drop(unsafe { Box::from_raw(data as *mut StateCell) });
    }
    napi_call!(env, sys::napi_set_instance_data(env, raw.cast(), Some(free_state), ptr::null_mut()))?;
    // Registered after the threadsafe function so that it runs first (hooks run last-in first-out).
    napi_call!(env, sys::napi_add_env_cleanup_hook(env, Some(on_teardown), raw.cast()))?;
    Ok(())
}

/// The threadsafe function's async resource: the object `async_hooks` sees for it. Its `hasRef()`
/// says whether the function keeps the event loop alive now, as timers' and sockets' objects do, so
/// tools that look for open handles (`jest --detectOpenHandles`) pass over an idle pool, whose
/// function is un-ref'd, instead of reporting the addon's load.
fn async_resource(env: Env) -> js::JsResult<Val> {
    unsafe extern "C" fn has_ref(env: Env, _info: sys::napi_callback_info) -> Val {
        let refd = state(env).and_then(|cell| cell.try_borrow().ok().map(|st| st.keepalive > 0)).unwrap_or(false);
        js::boolean(env, refd).unwrap_or(ptr::null_mut())
    }
    let resource = js::object(env)?;
    let mut f = ptr::null_mut();
    napi_call!(env, sys::napi_create_function(env, c"hasRef".as_ptr(), 6, Some(has_ref), ptr::null_mut(), &mut f))?;
    js::set_named(env, resource, "hasRef", f)?;
    Ok(resource)
}

impl EnvState {
    /// Counts a job about to be submitted as unfinished (see `on_teardown`).
    pub(crate) fn sink_submitted(&self) {
        self.sink.unfinished.fetch_add(1, Ordering::AcqRel);
    }

    /// Takes back `sink_submitted` for a job the pool refused.
    pub(crate) fn sink_unsubmitted(&self) {
        self.sink.unfinished.fetch_sub(1, Ordering::AcqRel);
    }

    /// Counts one more (or one less) thing that must keep the process alive.
    pub(crate) fn keep_alive(&mut self, more: bool) {
        let before = self.keepalive;
        self.keepalive = if more { before + 1 } else { before.saturating_sub(1) };
        let tsfn = self.sink.tsfn.0;
        match (before, self.keepalive) {
            (0, 1) => {
                let _ = napi_call!(self.env, sys::napi_ref_threadsafe_function(self.env, tsfn));
            }
            (1, 0) => {
                let _ = napi_call!(self.env, sys::napi_unref_threadsafe_function(self.env, tsfn));
            }
            _ => {}
        }
    }

    /// Adds a pending job to its pool's count (and to the keep-alive count if the pool is ref'd).
    pub(crate) fn job_added(&mut self, pool: u32) {
        let refd = self.pools.get_mut(pool as usize).map(|p| {
            p.pending += 1;
            if p.pending > runners(&p.pool) {
                p.backlogged = true;
            }
            p.refd
        });
        if refd == Some(true) {
            self.keep_alive(true);
        }
        self.hold(pool);
    }

    /// Makes a pool's references to its JS objects strong while it is busy (a job pending, a first
    /// thread not online yet, a close waiting), weak otherwise. Called after each of those changes.
    pub(crate) fn hold(&mut self, pool: u32) {
        let env = self.env;
        let Some(p) = self.pools.get_mut(pool as usize) else { return };
        let busy = p.pending > 0 || p.awaiting_online > 0 || !p.close_waiters.is_empty();
        if busy == p.held {
            return;
        }
        p.held = busy;
        for r in p.dispatch.iter().chain(p.make_error.iter()) {
            js::set_strong(env, *r, busy);
        }
    }

    /// A pool's thread reported it is online; the last of its first threads ends the start-up keep-alive.
    fn thread_online(&mut self, pool: u32) {
        let Some(p) = self.pools.get_mut(pool as usize) else { return };
        if p.awaiting_online == 0 {
            return;
        }
        p.awaiting_online -= 1;
        if p.awaiting_online == 0 && p.refd {
            self.keep_alive(false);
        }
        self.hold(pool);
    }

    /// Switches a pool between keeping the process alive while it has pending jobs, or not.
    pub(crate) fn set_ref(&mut self, pool: u32, refd: bool) {
        let Some(p) = self.pools.get_mut(pool as usize) else { return };
        if p.refd == refd {
            return;
        }
        p.refd = refd;
        let n = p.pending + usize::from(!p.close_waiters.is_empty()) + usize::from(p.awaiting_online > 0);
        for _ in 0..n {
            self.keep_alive(refd);
        }
    }
}

/// How many jobs a pool runs at once: its threads and its JS-task Workers. More pending than that,
/// and some wait.
fn runners(pool: &ThreadPool) -> usize {
    pool.config().max_threads + pool.config().script_workers
}

/// Creates the JS error for `e` through the JS factory (so it belongs to the caller's realm), falling
/// back to a plain Node-API error. `cause`, when given, is what the caller's own code threw while we
/// read its value: it becomes the error's `cause`.
pub(crate) fn error_value(env: Env, make_error: Option<Val>, e: &TaskError, cause: Option<Val>) -> Val {
    let message = e.to_string();
    let field = match e {
        TaskError::InvalidArg { field, .. } => Some(field.as_str()),
        _ => None,
    };
    let type_error = e.js_kind() == crate::engine::error::ErrorKind::TypeError;
    let cause = cause.or_else(|| super::script::failure_cause(env, e));
    if let Some(f) = make_error {
        let args = [
            js::string(env, e.code()),
            js::string(env, &message),
            js::boolean(env, type_error),
            field.map_or_else(|| js::undefined(env), |f| js::string(env, f)),
            js::boolean(env, cause.is_some()),
            cause.map_or_else(|| js::undefined(env), Ok),
        ];
        if let [Ok(a), Ok(b), Ok(c), Ok(d), Ok(has_cause), Ok(cause)] = args {
            if let Ok(err) = js::call(env, f, &[a, b, c, d, has_cause, cause]) {
                return err;
            }
        }
    }
    js::plain_error(env, e.code(), &message, type_error)
}

/// The JS error factory of a pool.
pub(crate) fn make_error_fn(st: &StateCell, pool: u32) -> Option<Val> {
    let st = st.borrow();
    let entry = st.pools.get(pool as usize)?;
    // A weak reference whose function was collected gives null: use the fallback error then.
    js::ref_value(st.env, entry.make_error?).ok().filter(|f| !f.is_null())
}

/// Rejects `deferred` with the error for `e` (see `error_value` for `cause`).
pub(crate) fn reject_with(env: Env, make_error: Option<Val>, deferred: sys::napi_deferred, e: &TaskError, cause: Option<Val>) {
    let err = error_value(env, make_error, e, cause);
    let _ = js::reject(env, deferred, err);
}

/// The threadsafe function's callback, on the JS thread: settles every outcome in the batch, then
/// dispatches the other events to JS in one call.
unsafe extern "C" fn on_batch(env: Env, _js_cb: Val, _context: *mut c_void, _data: *mut c_void) {
    if env.is_null() {
        return; // the environment is being torn down
    }
    let Some(cell) = state(env) else { return };
    let mut events = std::mem::take(&mut cell.borrow_mut().spare);
    cell.borrow().sink.take_events(&mut events);
    if events.is_empty() {
        cell.borrow_mut().spare = events;
        return;
    }
    // Events for JS, grouped by pool (a batch rarely spans more than one).
    let mut to_dispatch: Vec<(u32, Vec<Val>)> = Vec::new();
    let mut add = |pool: u32, vals: &[js::JsResult<Val>]| {
        if vals.iter().all(Result::is_ok) {
            let vals = vals.iter().map(|v| v.unwrap_or(ptr::null_mut()));
            match to_dispatch.iter_mut().find(|(p, _)| *p == pool) {
                Some((_, list)) => list.extend(vals),
                None => to_dispatch.push((pool, vals.collect())),
            }
        }
    };
    let num = |n: f64| js::number(env, n);
    // Pools whose close()/destroy() can resolve: done after the dispatch, so that every thread's 'exit'
    // (and every message) of this batch reaches JS first.
    let mut finished_pools = Vec::new();
    let (mut script_ready, mut script_abort) = (false, false);
    for event in events.drain(..) {
        match event {
            Event::Done { ticket, outcome } => {
                let settled = settle(env, cell, ticket as usize, outcome);
                if let Some(pool) = settled.drained {
                    add(pool, &[num(EVENT_DRAIN as f64)]);
                }
                finished_pools.extend(settled.handle_done);
            }
            Event::Message { ticket, message } => {
                let st = cell.borrow();
                let Some(p) = st.pending.get(ticket as usize) else { continue };
                p.control.message_delivered();
                let data = convert::to_js(env, message, &p.kept);
                add(p.pool, &[num(EVENT_MESSAGE as f64), num(p.job_id), num(p.task as f64), data]);
            }
            Event::ThreadOnline { pool, thread } => {
                cell.borrow_mut().thread_online(pool);
                add(pool, &[num(EVENT_ONLINE as f64), num(thread as f64)])
            }
            Event::ThreadExit { pool, thread, code } => {
                add(pool, &[num(EVENT_EXIT as f64), num(thread as f64), num(code as f64)])
            }
            Event::PoolJoined { pool } => finished_pools.push(pool),
            Event::ScriptReady => script_ready = true,
            Event::ScriptAbort => script_abort = true,
            Event::TerminateWorker { pool, slot } => add(pool, &[num(EVENT_TERMINATE as f64), num(slot as f64)]),
            Event::RetiredWorker { pool, slot, thread } => {
                add(pool, &[num(EVENT_RETIRED as f64), num(slot as f64), num(thread as f64)])
            }
            Event::WantWorkers { pool } => {
                // Answered now, so that the next job that finds no Worker free asks again; the
                // backlog read now covers every job queued until this point.
                let backlog = cell.borrow().pools.get(pool as usize).map(|e| {
                    e.pool.consumer_start_handled();
                    e.pool.script_wanted()
                });
                if let Some(backlog) = backlog {
                    add(pool, &[num(EVENT_WANT_WORKERS as f64), num(backlog as f64)])
                }
            }
        }
    }
    cell.borrow_mut().spare = events;
    let mut escaped = None;
    for (pool, vals) in to_dispatch {
        let dispatch = {
            let st = cell.borrow();
            st.pools.get(pool as usize).and_then(|e| e.dispatch).and_then(|r| js::ref_value(env, r).ok())
        };
        // Null when the pool's JS object was collected while idle: nobody is left to tell.
        let dispatch = dispatch.filter(|f| !f.is_null());
        let (Some(f), Ok(array)) = (dispatch, js::array(env, vals.len())) else { continue };
        for (i, v) in vals.into_iter().enumerate() {
            let _ = js::set_element(env, array, i as u32, v);
        }
        // The dispatcher catches listener exceptions itself and rethrows them asynchronously; anything
        // that still escapes is rethrown below as an uncaught exception, after everything was delivered.
        if let Err(e) = js::call(env, f, &[array]) {
            escaped.get_or_insert(e);
        }
    }
    for pool in finished_pools {
        pool_done(env, cell, pool);
    }
    if script_ready || script_abort {
        if let Err(e) = super::script::deliver(env, cell, script_ready, script_abort) {
            escaped.get_or_insert(e);
        }
    }
    if let Some(e) = escaped {
        js::fatal_exception(env, e);
    }
}

/// What settling a job changed for its pool.
struct Settled {
    /// The pool's last waiting job started: time for 'drain'.
    drained: Option<u32>,
    /// A closed handle on the shared pool has no pending job left: its close() can resolve.
    handle_done: Option<u32>,
}

/// Settles one job's promise and forgets the job.
fn settle(env: Env, cell: &StateCell, ticket: usize, outcome: Result<Value, TaskError>) -> Settled {
    let mut settled = Settled { drained: None, handle_done: None };
    let p = {
        let mut st = cell.borrow_mut();
        let Some(p) = st.pending.try_remove(ticket) else { return settled };
        st.settled = st.settled.wrapping_add(1);
        if st.pending.is_empty() {
            // Nothing pending here: the large blocks kept for the next results can go.
            super::release_kept_blocks();
        }
        if p.cancellable {
            st.cancellable.remove(&(p.pool, p.job_id as u64));
        }
        let mut refd = false;
        if let Some(entry) = st.pools.get_mut(p.pool as usize) {
            entry.pending -= 1;
            refd = entry.refd;
            if entry.backlogged && entry.pending <= runners(&entry.pool) {
                entry.backlogged = false;
                settled.drained = Some(p.pool);
            }
            if entry.pending == 0 && entry.closed && !entry.owned {
                settled.handle_done = Some(p.pool);
            }
        }
        if refd {
            st.keep_alive(false);
        }
        st.hold(p.pool);
        p
    };
    let resolution = outcome.map_err(Rejection::from).and_then(|v| {
        let is_callers = matches!(v, Value::Handle(_));
        let js_value = convert::to_js(env, v, &p.kept)
            .map_err(|_| TaskError::failed("the task's result could not be converted to a JS value"))?;
        if is_callers {
            check_thenable(env, js_value)?;
        }
        Ok(js_value)
    });
    match resolution {
        // Resolving with a thenable reads its `then` again; if that read throws now, V8 rejects the
        // promise with what it threw (as the language does) and `napi_call!` clears the exception.
        Ok(v) => drop(js::resolve(env, p.deferred, v)),
        Err(r) => drop(js::reject(env, p.deferred, error_value(env, make_error_fn(cell, p.pool), &r.error, r.cause))),
    }
    p.kept.release(env);
    settled
}

/// A result that is the caller's own object (`echo`'s): resolving a promise with it reads its `then`,
/// so that read is made here first, where a getter or Proxy trap that throws becomes an
/// `ERR_INVALID_ARG` with what it threw as the cause, instead of a bare rejection.
fn check_thenable(env: Env, v: Val) -> Result<(), Rejection> {
    let ty = js::type_of(env, v).map_err(|e| convert::unreadable("args", e))?;
    if ty == sys::ValueType::napi_object || ty == sys::ValueType::napi_function {
        js::get_named(env, v, "then").map_err(|e| convert::unreadable("args", e))?;
    }
    Ok(())
}

/// Resolves the `close()` / `destroy()` promises of a pool that is done.
pub(crate) fn pool_done(env: Env, cell: &StateCell, pool: u32) {
    let waiters = {
        let mut st = cell.borrow_mut();
        let Some(entry) = st.pools.get_mut(pool as usize) else { return };
        entry.done = true;
        let waiters = std::mem::take(&mut entry.close_waiters);
        for r in [entry.dispatch.take(), entry.make_error.take()].into_iter().flatten() {
            js::delete_ref(env, r);
        }
        let refd = entry.refd;
        if refd && !waiters.is_empty() {
            st.keep_alive(false);
        }
        st.hold(pool);
        waiters
    };
    let Ok(undef) = js::undefined(env) else { return };
    for d in waiters {
        let _ = js::resolve(env, d, undef);
    }
}

/// Starts closing (or destroying) a pool; the returned promise resolves when it is done.
pub(crate) fn close_pool(env: Env, cell: &StateCell, pool: u32, destroy: bool) -> js::JsResult<Val> {
    let (deferred, promise) = js::promise(env)?;
    let mut st = cell.borrow_mut();
    let sink = st.sink.clone();
    let entry = match st.pools.get_mut(pool as usize) {
        Some(entry) if !entry.done => entry,
        _ => {
            // Unknown, or already closed and done: nothing left to wait for.
            drop(st);
            js::resolve(env, deferred, js::undefined(env)?)?;
            return Ok(promise);
        }
    };
    let first = !entry.closed;
    entry.closed = true;
    entry.close_waiters.push(deferred);
    let (owned, refd, idle) = (entry.owned, entry.refd, entry.pending == 0);
    let threads = entry.pool.clone();
    if refd && entry.close_waiters.len() == 1 {
        st.keep_alive(true);
    }
    st.hold(pool);
    if destroy {
        let mine: Vec<(usize, Arc<JobControl>)> =
            st.pending.iter().filter(|(_, p)| p.pool == pool).map(|(t, p)| (t, p.control.clone())).collect();
        drop(st);
        if owned {
            threads.destroy();
        } else {
            for (ticket, control) in mine {
                if threads.withdraw(&control) {
                    // Reported like any outcome: settled in the next batch.
                    sink.complete(ticket as u64, Err(TaskError::Cancelled(CancelReason::Destroyed)));
                } else {
                    control.cancel(CancelReason::Destroyed);
                }
            }
        }
    } else {
        drop(st);
        if owned {
            threads.close();
        }
    }
    if owned && first {
        // Joining blocks, so it happens on a thread of its own; the event arrives after every
        // thread's exit event, since each thread reports its exit before it ends.
        let sink = sink.clone();
        let spawned = std::thread::Builder::new().name("native-pool-join".into()).spawn(move || {
            threads.join();
            // JS tasks run on the pool's Workers, which go on serving until this resolves.
            threads.join_scripts();
            sink.push(Event::PoolJoined { pool });
        });
        if spawned.is_err() {
            pool_done(env, cell, pool);
        }
    } else if !owned && idle {
        pool_done(env, cell, pool);
    }
    Ok(promise)
}

/// Environment teardown (a Worker terminated, or the process exiting): orphan this environment's jobs,
/// skip the queued ones, wait for the running ones to stop, stop its pools, release the wake-up.
unsafe extern "C" fn on_teardown(data: *mut c_void) {
    // SAFETY: `data` is the state box, still alive: Node frees instance data after cleanup hooks.
    let cell = unsafe { &*(data as *const StateCell) };
    // A pool's Worker first reports the JS task it ran (its caller's memory is then released by the
    // owner, while nothing here runs JS any more) and detaches from the pool.
    super::script::teardown(cell);
    let st = cell.borrow();
    let sink = st.sink.clone();
    sink.inbox.close();
    sink.alive.store(false, Ordering::Release);
    for (_, p) in st.pending.iter() {
        p.control.cancel(CancelReason::Orphaned);
        if let Some(entry) = st.pools.get(p.pool as usize) {
            if entry.pool.withdraw(&p.control) {
                sink.finish_one();
            }
        }
    }
    // Running tasks notice the cancellation within milliseconds; the borrowed argument memory they
    // read must outlive them, so the environment waits.
    let mut guard = sink.finished_lock.lock().unwrap_or_else(|e| e.into_inner());
    while sink.unfinished.load(Ordering::Acquire) > 0 {
        guard = sink
            .all_finished
            .wait_timeout(guard, Duration::from_millis(10))
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    drop(guard);
    for (_, entry) in st.pools.iter() {
        if entry.owned {
            entry.pool.destroy();
            entry.pool.join();
        }
    }
    drop(st);
    release_handles(&mut cell.borrow_mut());
    // SAFETY: `alive` is false, so no pool thread calls the function any more.
    unsafe { sys::napi_release_threadsafe_function(sink.tsfn.0, sys::ThreadsafeFunctionReleaseMode::abort) };
}

/// Frees the Node-API references the environment still holds at teardown: each pool's, and each
/// unsettled job's (the arguments it kept alive). An unsettled job's `napi_deferred` cannot be freed:
/// Node-API frees one only when it is settled, and refuses to settle during teardown (documented in
/// scripts/valgrind/napi-limits.supp, where memcheck's report of it is matched).
fn release_handles(st: &mut EnvState) {
    let env = st.env;
    for (_, entry) in st.pools.iter_mut() {
        for r in [entry.dispatch.take(), entry.make_error.take()].into_iter().flatten() {
            js::delete_ref(env, r);
        }
    }
    for p in st.pending.drain() {
        p.kept.release(env);
    }
}
