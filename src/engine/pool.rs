//! The thread pool: its threads, how they start and retire, where a job runs (`begin`, then the work,
//! then `finish`), and how the pool closes (finish what was accepted) or is destroyed (reject what
//! waits, cancel what runs). Script jobs (JS tasks) wait in a second queue for script consumers,
//! Workers that attach to the pool (`attach_script_consumer`) and go through the same `begin` and
//! `finish`, so limits, cancellation, counters and outcomes are written once for both kinds.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use super::context::{Claim, JobControl, Runner, TaskContext};
use super::error::{CancelReason, TaskError};
use super::job::{Body, Job, JobOptions, JobSink, ScriptCall};
use super::queue::{JobQueue, Taken, Wait};
use super::stats::{bump, PoolStats, WorkerStats};
use super::sync::{self, current_thread};
use super::unwind::catch_task_panic;
use super::value::Value;
use super::watchdog;

/// How many threads a pool runs and when it accepts work.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Threads kept alive even when idle; started when the pool is created.
    pub min_threads: usize,
    /// Threads at most; those above `min_threads` start on demand and retire after `idle_timeout`.
    pub max_threads: usize,
    /// How long a thread above `min_threads` waits for work before it stops.
    pub idle_timeout: Duration,
    /// Jobs that may wait for a thread; `None` for no limit. Jobs beyond `max_threads + max_queue`
    /// in flight are rejected with `ERR_QUEUE_FULL`.
    pub max_queue: Option<usize>,
    /// Prefix of the threads' names (`native-pool-3`).
    pub thread_name: String,
    /// Record run and wait times (histograms, utilization). Off, a job costs two clock reads less;
    /// the counters are kept either way.
    pub record_timing: bool,
    /// How much lower than the process the threads' CPU priority is (Linux nice increment, 0 to 19).
    /// With as many threads as CPUs, a positive value lets the JS thread win a contested CPU sooner,
    /// and also yields CPU to every other busy process of the same cgroup.
    pub nice: u8,
    /// Script consumers the owner means to attach at most (its Workers): they run jobs too, so the
    /// `max_queue` limit counts them beside `max_threads`. 0 for a pool without script jobs.
    pub script_workers: usize,
    /// Script consumers kept attached when idle. Below `script_workers`, the pool grows: a script
    /// job that finds no consumer free calls the starter hook (`set_consumer_starter`), and a
    /// consumer idle for `idle_timeout` may `retire` while more than this many are attached.
    pub min_script_workers: usize,
    /// How long a cancelled script job may go on running before its consumer's `terminate` hook is
    /// called: a JS task cannot be stopped from outside, only its Worker can.
    pub grace_time: Duration,
}

impl PoolConfig {
    /// A pool of exactly `threads` threads.
    pub fn fixed(threads: usize) -> PoolConfig {
        PoolConfig {
            min_threads: threads,
            max_threads: threads,
            idle_timeout: Duration::from_secs(30),
            max_queue: None,
            thread_name: "native-pool".into(),
            record_timing: true,
            nice: DEFAULT_NICE,
            script_workers: 0,
            min_script_workers: 0,
            grace_time: DEFAULT_GRACE_TIME,
        }
    }
}

impl Default for PoolConfig {
    /// One thread per CPU.
    fn default() -> PoolConfig {
        PoolConfig::fixed(num_cpus::get())
    }
}

/// The default `PoolConfig::nice`: none. Measured with `benchmark/server.js` on a quiet 2-core
/// machine (README "Thread priority"): beside two busy processes of the same session, +5 and +10 cut
/// the pool's password throughput to 47% and 21% of nice 0's with no lower event-loop latency; on
/// a quiet machine they gained 1.4–2.1 ms of p99 latency at the same throughput.
pub const DEFAULT_NICE: u8 = 0;

/// The default `PoolConfig::grace_time`: long enough for a task that checks its signal between
/// chunks of work, short enough that a stuck Worker is replaced before anyone waits on it for long.
pub const DEFAULT_GRACE_TIME: Duration = Duration::from_secs(1);

/// Lowers the calling thread's CPU priority by `nice` (Linux gives each thread its own nice value).
#[cfg(target_os = "linux")]
fn lower_priority(nice: u8) {
    if nice == 0 {
        return;
    }
    // SAFETY: plain syscalls on the calling thread; failure (e.g. a sandbox forbidding it) leaves the
    // priority as it was, which is harmless.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        let current = libc::getpriority(libc::PRIO_PROCESS, tid);
        libc::setpriority(libc::PRIO_PROCESS, tid, (current + nice as i32).min(19));
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority(_nice: u8) {}

/// Told when a pool's threads start and stop. Called on the thread concerned.
pub trait PoolObserver: Send + Sync {
    fn thread_started(&self, _thread_id: u32) {}
    /// `code` is 0 for a normal stop.
    fn thread_stopped(&self, _thread_id: u32, _code: i32) {}
}

/// An observer that ignores everything.
pub struct NoObserver;
impl PoolObserver for NoObserver {}

/// Why `submit` refused a job. The job is handed back so its owner can report the failure.
pub struct SubmitError {
    pub job: Job,
    pub error: TaskError,
}

/// What a worker shares with the pool: the job it runs now (for `destroy` and `stats`) and its
/// counters. Only its own worker writes to it on the hot path.
#[derive(Default)]
struct WorkerSlot {
    current: Mutex<Option<Arc<JobControl>>>,
    stats: WorkerStats,
}

struct Shared {
    config: PoolConfig,
    queue: JobQueue,
    /// Script jobs, waiting for a script consumer.
    script_queue: JobQueue,
    /// Loom's in a `--cfg loom` build, with `script_polling` and `start_requested` (and the script
    /// queue's insides): the consumer protocol that `tests/loom.rs` model-checks (`sync.rs`).
    consumers: CachePadded<sync::Mutex<Consumers>>,
    /// Script jobs accepted and not finished, for `join_scripts`.
    scripts_unfinished: CachePadded<AtomicUsize>,
    scripts_lock: Mutex<()>,
    scripts_done: Condvar,
    observer: Arc<dyn PoolObserver>,
    /// Accepted and not finished (queued + running), counted only when `max_queue` bounds it, so that
    /// an unbounded pool has no counter shared between the JS thread and the workers.
    in_flight: Option<CachePadded<AtomicUsize>>,
    /// Workers blocked waiting for a job.
    idle: CachePadded<AtomicUsize>,
    /// Script consumers polling the script queue before they go idle (`take_yielding`).
    script_polling: CachePadded<sync::AtomicUsize>,
    /// Asks the owner for one more script consumer (a growing pool: `set_consumer_starter`).
    starter: Mutex<Option<Arc<dyn Fn() + Send + Sync>>>,
    /// The starter was called and the owner has not yet answered (`consumer_start_handled`): one
    /// request at a time, so a burst of submits asks once, and the owner starts what the backlog needs.
    start_requested: sync::AtomicBool,
    /// Set by `destroy`: a job dequeued afterwards is rejected, not run.
    destroyed: AtomicBool,
    workers: Mutex<Workers>,
}

#[derive(Default)]
struct Workers {
    /// Worker threads alive (started and not retired). Changed only under this lock, together with
    /// the queue check that justifies it (see `submit` and `worker_loop`).
    live: usize,
    handles: Vec<JoinHandle<()>>,
    slots: Vec<(u32, Arc<WorkerSlot>, Instant)>,
    next_id: u32,
    /// Counters of workers that retired, and of jobs withdrawn before they ran.
    retired: WorkerStats,
    /// Thread-nanoseconds lived by retired workers, for utilization.
    retired_alive_ns: u128,
}

/// The script consumers attached now.
#[derive(Default)]
struct Consumers {
    slots: Vec<(Arc<ConsumerCore>, Instant)>,
    /// Consumers that found the script queue empty: `submit` wakes one per script job.
    idle: Vec<Arc<ConsumerCore>>,
    next_id: u32,
}

/// A pool of native threads running `Job`s.
pub struct ThreadPool {
    shared: Arc<Shared>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // No user code runs under these locks, but a poisoned lock must not take the pool down either.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ThreadPool {
    /// Starts a pool with `config.min_threads` threads.
    pub fn new(config: PoolConfig, observer: Arc<dyn PoolObserver>) -> ThreadPool {
        assert!(config.max_threads >= 1 && config.min_threads <= config.max_threads, "invalid thread counts");
        let min = config.min_threads;
        let shared = Arc::new(Shared {
            in_flight: config.max_queue.map(|_| CachePadded::new(AtomicUsize::new(0))),
            config,
            queue: JobQueue::new(),
            script_queue: JobQueue::new(),
            consumers: CachePadded::new(sync::Mutex::new(Consumers::default())),
            scripts_unfinished: CachePadded::new(AtomicUsize::new(0)),
            scripts_lock: Mutex::new(()),
            scripts_done: Condvar::new(),
            observer,
            idle: CachePadded::new(AtomicUsize::new(0)),
            script_polling: CachePadded::new(sync::AtomicUsize::new(0)),
            starter: Mutex::new(None),
            start_requested: sync::AtomicBool::new(false),
            destroyed: AtomicBool::new(false),
            workers: Mutex::new(Workers::default()),
        });
        {
            let mut workers = lock(&shared.workers);
            for _ in 0..min {
                spawn_worker(&shared, &mut workers);
            }
        }
        ThreadPool { shared }
    }

    pub fn config(&self) -> &PoolConfig {
        &self.shared.config
    }

    /// Queues a job. Fails, handing the job back, if the pool is closed or its queue is full.
    // The error is large because it carries the job back; boxing it would allocate on every refusal
    // to save copying on a path that moves the job anyway.
    #[allow(clippy::result_large_err)]
    pub fn submit(&self, mut job: Job) -> Result<(), SubmitError> {
        let shared = &self.shared;
        if shared.config.record_timing {
            job.queued_at = Some(Instant::now());
        }
        if let (Some(in_flight), Some(max_queue)) = (&shared.in_flight, shared.config.max_queue) {
            if in_flight.load(Ordering::Acquire) >= shared.config.max_threads + shared.config.script_workers + max_queue {
                return Err(SubmitError { job, error: TaskError::QueueFull { max_queue } });
            }
        }
        if job.is_script() {
            job.control.set_script();
            shared.scripts_unfinished.fetch_add(1, Ordering::AcqRel);
            if let Err(job) = shared.script_queue.push(job) {
                shared.script_finished();
                return Err(SubmitError { job, error: TaskError::PoolClosed });
            }
            if let Some(in_flight) = &shared.in_flight {
                in_flight.fetch_add(1, Ordering::AcqRel);
            }
            // One idle consumer per job; the others stay asleep. A consumer that finds the job gone
            // (another took it) marks itself idle again.
            let idle = shared.consumers().idle.pop();
            match idle {
                Some(consumer) => (consumer.hooks.wake)(),
                // No consumer free for it: a growing pool asks for another.
                None => shared.request_consumer(),
            }
            return Ok(());
        }
        if shared.config.min_threads == shared.config.max_threads {
            // A fixed pool: no thread to start, so nothing to decide under the workers' lock.
            shared.queue.push(job).map_err(|job| SubmitError { job, error: TaskError::PoolClosed })?;
        } else {
            let mut workers = lock(&shared.workers);
            shared.queue.push(job).map_err(|job| SubmitError { job, error: TaskError::PoolClosed })?;
            // More waiting jobs than idle threads: start one more thread if allowed.
            if shared.queue.len() > shared.idle.load(Ordering::Acquire) && workers.live < shared.config.max_threads {
                spawn_worker(shared, &mut workers);
            }
        }
        if let Some(in_flight) = &shared.in_flight {
            in_flight.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Takes a job out of the queue before it starts. Returns true if it was still queued: the caller
    /// then owns its outcome. False if a worker took it first (it will report its outcome itself).
    pub fn withdraw(&self, control: &JobControl) -> bool {
        let withdrawn = control.withdraw();
        if withdrawn {
            let script = control.is_script();
            self.shared.queue_of(script).note_withdrawn();
            self.shared.left(script);
            lock(&self.shared.workers).retired.cancelled.fetch_add(1, Ordering::Relaxed);
        }
        withdrawn
    }

    /// Stops accepting jobs. The jobs already accepted still run; then the threads stop.
    /// Returns at once; `join` waits for the threads.
    pub fn close(&self) {
        self.shared.queue.close();
        self.shared.script_queue.close();
        self.shared.wake_idle_consumers();
    }

    /// Stops accepting jobs, rejects every queued job with `ERR_POOL_CLOSED` and cancels the running
    /// ones. Returns at once; `join` waits for the threads.
    pub fn destroy(&self) {
        self.shared.destroyed.store(true, Ordering::Release);
        self.shared.queue.close();
        self.shared.script_queue.close();
        for queue in [&self.shared.queue, &self.shared.script_queue] {
            for job in queue.take_all() {
                if self.withdraw(&job.control) {
                    job.sink.complete(job.ticket, Err(TaskError::Cancelled(CancelReason::Destroyed)));
                }
                queue.note_withdrawn_dequeued();
            }
        }
        let running: Vec<Arc<JobControl>> = {
            let workers = lock(&self.shared.workers);
            let consumers = self.shared.consumers();
            let slots = workers.slots.iter().map(|(_, slot, _)| slot).chain(consumers.slots.iter().map(|(c, _)| &c.slot));
            slots.filter_map(|slot| lock(&slot.current).clone()).collect()
        };
        // Outside the locks: cancelling a script job calls its consumer's hooks.
        for control in running {
            control.cancel(CancelReason::Destroyed);
        }
        self.shared.wake_idle_consumers();
    }

    /// Whether `close` or `destroy` was called.
    pub fn is_closed(&self) -> bool {
        self.shared.queue.is_closed()
    }

    /// Waits until every script job accepted has finished (after `close` or `destroy`). The script
    /// consumers must go on taking jobs meanwhile, or have them completed as they detach.
    pub fn join_scripts(&self) {
        let shared = &self.shared;
        let mut guard = lock(&shared.scripts_lock);
        while shared.scripts_unfinished.load(Ordering::Acquire) > 0 {
            guard = shared.scripts_done.wait_timeout(guard, Duration::from_millis(50)).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Sets how a growing pool asks its owner for one more script consumer. The hook is called from
    /// `submit` (the submitter's thread, no pool lock held) and must return at once.
    pub fn set_consumer_starter(&self, start: Arc<dyn Fn() + Send + Sync>) {
        *lock(&self.shared.starter) = Some(start);
    }

    /// The owner has acted on the starter's request: the next script job that finds no consumer free
    /// may ask again.
    pub fn consumer_start_handled(&self) {
        // A swap, not a plain store, for the same effect: every write of this flag is then a
        // read-modify-write, which loom orders as the memory model does. Its model lets a plain store
        // slip between a concurrent swap's read and its write (tokio-rs/loom#254): with a store here,
        // tests/loom.rs reports a request lost that no real execution can lose. One atomic exchange
        // per answer.
        self.shared.start_requested.swap(false, Ordering::AcqRel);
    }

    /// Script jobs waiting with no consumer free for them (queued, less those idle or polling).
    pub fn script_backlog(&self) -> usize {
        self.shared.script_backlog()
    }

    /// Script jobs queued, less the consumers idle in the list: what an owner answering a request
    /// for consumers should start for. Unlike `script_backlog` it counts no polling consumer as
    /// free: one that has just taken a job is still counted as polling for a moment, and an answer
    /// read then would start one consumer too few (a polling one that was really free costs at
    /// most one consumer too many, which retires when idle).
    pub fn script_wanted(&self) -> usize {
        let idle = self.shared.consumers().idle.len();
        self.shared.script_queue.len().saturating_sub(idle)
    }

    /// Attaches a script consumer: from now on it can `take` script jobs, and `hooks.wake` is called
    /// when one is queued while it is idle. It counts in `stats()` as a script worker until dropped.
    pub fn attach_script_consumer(&self, hooks: ScriptHooks) -> ScriptConsumer {
        let mut consumers = self.shared.consumers();
        let id = consumers.next_id;
        consumers.next_id += 1;
        let core = Arc::new(ConsumerCore { id, slot: Arc::new(WorkerSlot::default()), hooks, generation: AtomicU64::new(0) });
        consumers.slots.push((core.clone(), Instant::now()));
        ScriptConsumer { shared: self.shared.clone(), core, detached: false }
    }

    /// Waits until every thread has stopped. Call after `close` or `destroy`, never from a pool thread.
    pub fn join(&self) {
        loop {
            let handles = std::mem::take(&mut lock(&self.shared.workers).handles);
            if handles.is_empty() {
                return;
            }
            for h in handles {
                let _ = h.join();
            }
        }
    }

    /// A snapshot of the pool's counters and latency histograms.
    pub fn stats(&self) -> PoolStats {
        let workers = lock(&self.shared.workers);
        let consumers = self.shared.consumers();
        let total = WorkerStats::default();
        total.absorb(&workers.retired);
        let now = Instant::now();
        let mut alive_ns = workers.retired_alive_ns;
        let mut running = 0;
        let slots = workers.slots.iter().map(|(_, slot, started)| (slot, started));
        for (slot, started) in slots.chain(consumers.slots.iter().map(|(c, started)| (&c.slot, started))) {
            total.absorb(&slot.stats);
            alive_ns += now.duration_since(*started).as_nanos();
            running += usize::from(lock(&slot.current).is_some());
        }
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        PoolStats {
            threads: workers.live,
            idle: self.shared.idle.load(Ordering::Acquire).min(workers.live),
            script_workers: consumers.slots.len(),
            running,
            queued: self.shared.queue.len() + self.shared.script_queue.len(),
            completed: load(&total.completed),
            failed: load(&total.failed),
            cancelled: load(&total.cancelled),
            timed_out: load(&total.timed_out),
            run_time: total.run_time.summary(),
            wait_time: total.wait_time.summary(),
            utilization: if alive_ns == 0 { 0.0 } else { (load(&total.busy_ns) as f64 / alive_ns as f64).min(1.0) },
        }
    }
}

impl Shared {
    fn consumers(&self) -> sync::MutexGuard<'_, Consumers> {
        sync::lock(&self.consumers)
    }

    /// Whether script consumers come and go with the work (`min_script_workers` < `script_workers`).
    fn script_growable(&self) -> bool {
        self.config.min_script_workers < self.config.script_workers
    }

    fn script_backlog(&self) -> usize {
        let free = self.consumers().idle.len() + self.script_polling.load(Ordering::Acquire);
        self.script_queue.len().saturating_sub(free)
    }

    /// A growing pool below `script_workers` with script jobs that no consumer is free for asks its
    /// owner for another consumer: the owner decides how many from `script_backlog` and answers with
    /// `consumer_start_handled`; until then nobody asks again. Called by a submitter that found no
    /// idle consumer, and by a consumer that just took a job (the backlog counts polling consumers as
    /// free, and one that has just taken an earlier job is still counted so for a moment: the job
    /// behind it would have no Worker coming for it). No pool lock may be held.
    fn request_consumer(&self) {
        if !self.script_growable() || self.consumers().slots.len() >= self.config.script_workers {
            return;
        }
        if self.script_backlog() == 0 || self.start_requested.swap(true, Ordering::AcqRel) {
            return;
        }
        let starter = lock(&self.starter).clone();
        match starter {
            Some(start) => start(),
            // A swap, as in `consumer_start_handled`.
            None => {
                self.start_requested.swap(false, Ordering::AcqRel);
            }
        }
    }

    /// A job left the pool (finished, withdrawn or skipped).
    fn finished_one(&self) {
        if let Some(in_flight) = &self.in_flight {
            in_flight.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// A script job finished, was withdrawn or skipped.
    fn script_finished(&self) {
        if self.scripts_unfinished.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _guard = lock(&self.scripts_lock);
            self.scripts_done.notify_all();
        }
    }

    /// A job of either queue left the pool.
    fn left(&self, script: bool) {
        self.finished_one();
        if script {
            self.script_finished();
        }
    }

    fn queue_of(&self, script: bool) -> &JobQueue {
        if script {
            &self.script_queue
        } else {
            &self.queue
        }
    }

    /// Wakes every idle consumer (after `close`/`destroy`: they learn that the queue is closed).
    fn wake_idle_consumers(&self) {
        let idle = std::mem::take(&mut self.consumers().idle);
        for consumer in idle {
            (consumer.hooks.wake)();
        }
    }
}

impl Drop for ThreadPool {
    /// Dropping a pool closes it; its threads finish the accepted jobs and stop on their own.
    fn drop(&mut self) {
        self.close();
    }
}

/// Starts a worker thread; the caller holds the workers' lock.
fn spawn_worker(shared: &Arc<Shared>, workers: &mut Workers) {
    let slot = Arc::new(WorkerSlot::default());
    let id = workers.next_id;
    workers.next_id += 1;
    let thread_shared = shared.clone();
    let thread_slot = slot.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("{}-{id}", shared.config.thread_name))
        .spawn(move || worker_loop(thread_shared, thread_slot, id));
    // If the OS refuses a thread, the pool carries on with the ones it has.
    if let Ok(handle) = spawned {
        workers.live += 1;
        workers.handles.push(handle);
        workers.slots.push((id, slot, Instant::now()));
    }
}

fn worker_loop(shared: Arc<Shared>, slot: Arc<WorkerSlot>, id: u32) {
    lower_priority(shared.config.nice);
    shared.observer.thread_started(id);
    let fixed = shared.config.min_threads == shared.config.max_threads;
    loop {
        let taken = match shared.queue.take(Wait::No) {
            Taken::Nothing => {
                // Nothing waits: poll for a moment, then block, as an idle thread, until a job
                // comes (or, above the minimum, until the idle timeout passes).
                shared.idle.fetch_add(1, Ordering::AcqRel);
                let mut taken = take_spinning(&shared.queue);
                if let Taken::Nothing = taken {
                    let wait = if fixed || lock(&shared.workers).live <= shared.config.min_threads {
                        Wait::Forever
                    } else {
                        Wait::For(shared.config.idle_timeout)
                    };
                    taken = shared.queue.take(wait);
                }
                shared.idle.fetch_sub(1, Ordering::AcqRel);
                taken
            }
            taken => taken,
        };
        match taken {
            Taken::Job(job) => run_job(&shared, &slot, job),
            Taken::Nothing => {
                // Timed out. Retire only if nothing is queued and we are above the minimum, both
                // checked under the lock `submit` holds while it queues and decides to start threads:
                // a job queued meanwhile is either seen here or sees this thread gone.
                let mut workers = lock(&shared.workers);
                if shared.queue.is_empty() && workers.live > shared.config.min_threads {
                    workers.live -= 1;
                    break;
                }
            }
            Taken::Closed => {
                lock(&shared.workers).live -= 1;
                break;
            }
        }
    }
    {
        let mut workers = lock(&shared.workers);
        workers.retired.absorb(&slot.stats);
        if let Some(pos) = workers.slots.iter().position(|(i, _, _)| *i == id) {
            let (_, _, started) = workers.slots.swap_remove(pos);
            workers.retired_alive_ns += started.elapsed().as_nanos();
        }
    }
    shared.observer.thread_stopped(id, 0);
}

/// How long a thread that runs out of work polls the queue before it blocks. A thread woken from a
/// blocking wait costs the next job a futex wake-up, and on a VM often a sleeping vCPU's wake-up:
/// one-at-a-time empty round trips through `pool.run` took 75–90 µs (p50) without polling and
/// 3–5 µs with 50 µs of it, on this project's 2-vCPU machine. The price is at most this much CPU,
/// at the threads' lowered priority, each time a thread finds the queue empty.
const IDLE_SPIN: Duration = Duration::from_micros(50);

/// Polls the queue for up to `IDLE_SPIN`; `Taken::Nothing` if no job (and no close) came meanwhile.
fn take_spinning(queue: &JobQueue) -> Taken {
    // The clock is read once per 32 polls: a poll is a few atomic loads.
    take_polling(queue, IDLE_SPIN, 32, std::hint::spin_loop)
}

/// Polls `queue` for up to `time`, calling `pause` after each empty poll and reading the clock once
/// per `batch` polls; `Taken::Nothing` if no job (and no close) came meanwhile.
#[cfg(not(loom))]
fn take_polling(queue: &JobQueue, time: Duration, batch: usize, pause: fn()) -> Taken {
    let start = Instant::now();
    loop {
        for _ in 0..batch {
            match queue.take(Wait::No) {
                Taken::Nothing => pause(),
                taken => return taken,
            }
        }
        if start.elapsed() >= time {
            return Taken::Nothing;
        }
    }
}

/// `take_polling` in a loom model, which has no clock (a poll's length in time means nothing there)
/// and must see every loop end: one poll, then `pause`. One is enough for the protocol: more polls
/// only repeat the point, already there with one, at which a job pushed meanwhile is found while the
/// consumer counts as polling (`ScriptConsumer::take_next`, `script_backlog`).
#[cfg(loom)]
fn take_polling(queue: &JobQueue, _time: Duration, _batch: usize, pause: fn()) -> Taken {
    match queue.take(Wait::No) {
        Taken::Nothing => {
            pause();
            Taken::Nothing
        }
        taken => taken,
    }
}

/// How long a script consumer that runs out of work polls the script queue before it goes idle.
/// One-at-a-time empty JS tasks took 28-45 µs (p50) when every job woke its Worker's event loop;
/// a Worker polling catches the next job of a caller that answers within this time. It polls on
/// its own JS thread, which has nothing else to do then (no task of its is running).
const SCRIPT_IDLE_SPIN: Duration = Duration::from_micros(50);

/// Polls `queue` for up to `SCRIPT_IDLE_SPIN`, yielding the CPU between polls: a consumer's thread is
/// a JS thread, and on a machine with fewer cores than busy threads its polling must not take the
/// CPU from the thread that would submit the job.
fn take_yielding(queue: &JobQueue) -> Taken {
    // Loom's yield in a loom build: the model lets the submitter run meanwhile.
    take_polling(queue, SCRIPT_IDLE_SPIN, 8, sync::yield_now)
}

/// A job that `begin` let start: what `finish` needs to report it.
struct Started {
    ticket: u64,
    control: Arc<JobControl>,
    sink: Arc<dyn JobSink>,
    options: JobOptions,
    script: bool,
    /// When it started, if the pool records timings or the job has a timeout.
    at: Option<Instant>,
    deadline: Option<Instant>,
}

impl Started {
    fn context(&self) -> TaskContext<'_> {
        TaskContext::new(&self.control, &*self.sink, self.ticket, self.options.wants_messages, self.deadline)
    }
}

/// Starts one dequeued job on `slot`: skips it if its environment is gone, the pool was destroyed or
/// it was withdrawn (reporting it when that is ours to do), else marks it running as `runner` and
/// starts its clock. `None` when it must not run.
fn begin(shared: &Shared, slot: &WorkerSlot, job: Job, runner: impl FnOnce() -> Runner) -> Option<(Started, Body)> {
    let Job { ticket, body, control, sink, options, queued_at } = job;
    let script = matches!(body, Body::Script(_));
    let skip = if !sink.is_alive() {
        Some(CancelReason::Orphaned) // its JS environment is gone: nobody waits for it
    } else if shared.destroyed.load(Ordering::Acquire) {
        Some(CancelReason::Destroyed) // dequeued just as `destroy` emptied the queue
    } else {
        None
    };
    // Exactly one side reports the outcome: this worker (run or skipped) or whoever withdrew it.
    match control.claim_as(skip, runner) {
        Claim::Run => {}
        Claim::Skipped(reason) => {
            shared.left(script);
            bump(&slot.stats.cancelled, 1);
            sink.complete(ticket, Err(TaskError::Cancelled(reason)));
            return None;
        }
        Claim::Taken => {
            // Withdrawn while queued: whoever withdrew it reports the outcome.
            shared.queue_of(script).note_withdrawn_dequeued();
            return None;
        }
    }
    *lock(&slot.current) = Some(control.clone());
    let timed = shared.config.record_timing || options.timeout.is_some();
    let at = timed.then(Instant::now);
    if let (Some(queued), Some(at)) = (queued_at, at) {
        slot.stats.wait_time.record(at.duration_since(queued));
    }
    let deadline = options.timeout.zip(at).and_then(|(t, at)| at.checked_add(t));
    Some((Started { ticket, control, sink, options, script, at, deadline }, body))
}

/// Reports a started job's outcome: maps a late result of a cancelled or timed-out job to its
/// cancellation, records its run time and counter, and hands the outcome to its sink.
fn finish(shared: &Shared, slot: &WorkerSlot, started: Started, outcome: Result<Value, TaskError>) {
    let Started { ticket, control, sink, script, at, deadline, .. } = started;
    // A task that finished with a result after it was cancelled (it did not check in time) still
    // reports the cancellation: its caller was promised that outcome.
    let outcome = match (outcome, control.cancel_reason()) {
        (Ok(_), Some(reason)) => Err(TaskError::Cancelled(reason)),
        (Ok(v), None) if deadline.is_some_and(|d| Instant::now() >= d) => {
            drop(v);
            control.cancel(CancelReason::TimedOut);
            Err(TaskError::Cancelled(CancelReason::TimedOut))
        }
        (other, _) => other,
    };

    *lock(&slot.current) = None;
    let stats = &slot.stats;
    if let (true, Some(at)) = (shared.config.record_timing, at) {
        let elapsed = at.elapsed();
        stats.run_time.record(elapsed);
        bump(&stats.busy_ns, u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX));
    }
    let counter = match &outcome {
        Ok(_) => &stats.completed,
        Err(TaskError::Cancelled(CancelReason::TimedOut)) => &stats.timed_out,
        Err(TaskError::Cancelled(_)) => &stats.cancelled,
        Err(_) => &stats.failed,
    };
    bump(counter, 1);
    shared.left(script);
    sink.complete(ticket, outcome);
}

/// Where a native task runs: one dequeued job, from the orphan check to the reported outcome.
fn run_job(shared: &Shared, slot: &WorkerSlot, job: Job) {
    let Some((started, body)) = begin(shared, slot, job, || Runner::Thread(current_thread())) else { return };
    let outcome = match body {
        Body::Native(work) => {
            let ctx = started.context();
            catch_task_panic(|| {
                // A cancellation that arrived between dequeue and start is honoured before any work.
                ctx.check()?;
                work(&ctx)
            })
        }
        // `submit` routes script jobs to the script queue, which native threads never read.
        Body::Script(_) => Err(TaskError::failed("a script job reached a native thread")),
    };
    finish(shared, slot, started, outcome);
}

/// How a script consumer's owner hears from the pool. Each hook is called from whatever thread causes
/// the event (a submitter, a canceller, the watchdog), never while a pool lock is held; each must
/// return at once (push an event to the consumer's JS thread, say).
#[derive(Clone)]
pub struct ScriptHooks {
    /// A script job was queued while this consumer was idle: it should `take` again. Spurious calls
    /// happen (another consumer took the job first) and are harmless.
    pub wake: Arc<dyn Fn() + Send + Sync>,
    /// The job this consumer runs was cancelled (abort, timeout, destroy, orphaned): its task should
    /// stop cooperatively.
    pub abort: Arc<dyn Fn() + Send + Sync>,
    /// The cancelled job is still running `grace_time` after its cancellation: stop the consumer by
    /// force (terminate its Worker). Its job is reported when the consumer reports it dead.
    pub terminate: Arc<dyn Fn() + Send + Sync>,
}

/// A consumer as the pool keeps it.
struct ConsumerCore {
    id: u32,
    slot: Arc<WorkerSlot>,
    hooks: ScriptHooks,
    /// Bumped when a job finishes: a deadline or cancel hook set for an earlier job sees a different
    /// number and does nothing.
    generation: AtomicU64,
}

impl ConsumerCore {
    fn runs(&self, generation: u64) -> bool {
        self.generation.load(Ordering::Acquire) == generation
    }
}

/// One script consumer attached to a pool (a Worker): takes script jobs one at a time, runs them its
/// own way, and reports each outcome through `StartedScript::finish`. Dropping it detaches it.
pub struct ScriptConsumer {
    shared: Arc<Shared>,
    core: Arc<ConsumerCore>,
    /// Set by `retire`, which detached it already.
    detached: bool,
}

/// What `ScriptConsumer::take` found.
pub enum ScriptTake {
    /// A job, started: run it and `finish` it.
    Job(StartedScript),
    /// Nothing waits (or a job is still running on this consumer); `wake` is called when a job comes.
    Nothing,
    /// The pool is closed and its script queue drained: no job will come.
    Closed,
}

impl ScriptConsumer {
    /// Takes the next script job in priority order. It never waits for a job, beyond polling the
    /// queue for `SCRIPT_IDLE_SPIN` before it marks the consumer idle. One job at a time: while the
    /// previous one is unfinished this gives `Nothing`.
    pub fn take(&self) -> ScriptTake {
        let taken = self.take_next();
        if let ScriptTake::Job(_) = taken {
            // More may wait behind this one with nobody coming for them (`request_consumer`).
            self.shared.request_consumer();
        }
        taken
    }

    fn take_next(&self) -> ScriptTake {
        if lock(&self.core.slot.current).is_some() {
            return ScriptTake::Nothing;
        }
        let mut marked_idle = false;
        loop {
            match self.shared.script_queue.take(Wait::No) {
                Taken::Job(job) => {
                    if marked_idle {
                        self.set_idle(false);
                        marked_idle = false;
                    }
                    if let Some(started) = self.start(job) {
                        return ScriptTake::Job(started);
                    }
                }
                Taken::Closed => {
                    self.set_idle(false);
                    return ScriptTake::Closed;
                }
                Taken::Nothing if marked_idle => return ScriptTake::Nothing,
                Taken::Nothing => {
                    // Before going idle, poll for a moment: a job that comes meanwhile is taken
                    // without the wake-up through the consumer's event loop, which costs the
                    // submitter a thread wake (an eventfd write) and the job tens of microseconds.
                    self.shared.script_polling.fetch_add(1, Ordering::AcqRel);
                    let polled = take_yielding(&self.shared.script_queue);
                    self.shared.script_polling.fetch_sub(1, Ordering::AcqRel);
                    match polled {
                        Taken::Nothing => {}
                        Taken::Job(job) => {
                            if let Some(started) = self.start(job) {
                                return ScriptTake::Job(started);
                            }
                            continue;
                        }
                        Taken::Closed => return ScriptTake::Closed,
                    }
                    // Marked idle first, then looked once more: a job queued before the mark is
                    // seen by that look, one queued after it finds this consumer in the idle list.
                    self.set_idle(true);
                    marked_idle = true;
                }
            }
        }
    }

    fn set_idle(&self, idle: bool) {
        let mut consumers = self.shared.consumers();
        let listed = consumers.idle.iter().position(|c| Arc::ptr_eq(c, &self.core));
        match (idle, listed) {
            (true, None) => consumers.idle.push(self.core.clone()),
            (false, Some(i)) => {
                consumers.idle.swap_remove(i);
            }
            _ => {}
        }
    }

    fn start(&self, job: Job) -> Option<StartedScript> {
        let core = &self.core;
        let generation = core.generation.load(Ordering::Acquire);
        let grace = self.shared.config.grace_time;
        let hook_core = core.clone();
        let on_cancel: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
            if !hook_core.runs(generation) {
                return; // cancelled after it finished: the consumer has moved on
            }
            (hook_core.hooks.abort)();
            let core = hook_core.clone();
            let due = Instant::now().checked_add(grace).unwrap_or_else(far_future);
            watchdog::schedule(
                due,
                Box::new(move || {
                    if core.runs(generation) {
                        (core.hooks.terminate)();
                    }
                }),
            );
        });
        let runner = || Runner::Script { thread: current_thread(), on_cancel };
        let (started, body) = begin(&self.shared, &core.slot, job, runner)?;
        let Body::Script(call) = body else {
            finish(&self.shared, &core.slot, started, Err(TaskError::failed("a native job reached a script consumer")));
            return None;
        };
        if let Some(deadline) = started.deadline {
            // A JS task cannot check its own deadline while it loops: the watchdog does.
            let (core, control) = (core.clone(), started.control.clone());
            watchdog::schedule(
                deadline,
                Box::new(move || {
                    if core.runs(generation) {
                        control.cancel(CancelReason::TimedOut);
                    }
                }),
            );
        }
        Some(StartedScript {
            call: *call,
            run: Some(ScriptRun { shared: self.shared.clone(), core: core.clone(), started }),
        })
    }

    /// This consumer's id within its pool (0, 1, … in order of attachment).
    pub fn id(&self) -> u32 {
        self.core.id
    }

    /// Detaches this consumer if the pool can do without it: it is idle, no script job waits, and
    /// more than `min_script_workers` consumers are attached. Checked and done under the consumers'
    /// lock, which `submit` holds when it looks for an idle consumer: a job queued before is seen here
    /// (no retirement), one queued after finds this consumer gone (and asks for a new one). Gives the
    /// consumer back if it must stay.
    #[allow(clippy::result_large_err)]
    pub fn retire(mut self) -> Result<(), ScriptConsumer> {
        let started = {
            let mut consumers = self.shared.consumers();
            let idle = consumers.idle.iter().any(|c| Arc::ptr_eq(c, &self.core));
            let surplus = consumers.slots.len() > self.shared.config.min_script_workers;
            (idle && surplus && self.shared.script_queue.is_empty()).then(|| self.unlist(&mut consumers))
        };
        let Some(started) = started else { return Err(self) };
        self.retire_counters(started);
        self.detached = true;
        Ok(())
    }

    /// Takes this consumer out of the pool's lists; gives when it was attached.
    fn unlist(&self, consumers: &mut Consumers) -> Option<Instant> {
        consumers.idle.retain(|c| !Arc::ptr_eq(c, &self.core));
        let pos = consumers.slots.iter().position(|(c, _)| Arc::ptr_eq(c, &self.core));
        pos.map(|i| consumers.slots.swap_remove(i).1)
    }

    /// Its counters join the pool's retired ones. Taken after the consumers' lock is released:
    /// `stats` and `destroy` take the workers' lock first.
    fn retire_counters(&self, attached: Option<Instant>) {
        let mut workers = lock(&self.shared.workers);
        workers.retired.absorb(&self.core.slot.stats);
        if let Some(attached) = attached {
            workers.retired_alive_ns += attached.elapsed().as_nanos();
        }
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86400 * 365)
}

impl Drop for ScriptConsumer {
    /// Detaches (unless `retire` did): no more wake-ups; its counters join the pool's retired ones.
    fn drop(&mut self) {
        if !self.detached {
            let attached = self.unlist(&mut self.shared.consumers());
            self.retire_counters(attached);
        }
    }
}

/// A script job a consumer took: its call, its cancel state, its messages, and its one outcome.
/// Dropped without `finish`, it reports a failure, so no job is left without an outcome.
pub struct StartedScript {
    /// Which function to call with which argument.
    pub call: ScriptCall,
    run: Option<ScriptRun>,
}

struct ScriptRun {
    shared: Arc<Shared>,
    core: Arc<ConsumerCore>,
    started: Started,
}

impl StartedScript {
    fn run(&self) -> &ScriptRun {
        // `run` is only taken by `finish`/`drop`, which consume the value.
        self.run.as_ref().expect("a started script job has its run until it finishes")
    }

    /// The ticket the job was submitted with.
    pub fn ticket(&self) -> u64 {
        self.run().started.ticket
    }

    /// The job's control (its cancel flag).
    pub fn control(&self) -> &Arc<JobControl> {
        &self.run().started.control
    }

    /// True once the job should stop: cancelled, timed out, destroyed or orphaned.
    pub fn is_cancelled(&self) -> bool {
        self.run().started.context().is_cancelled()
    }

    /// Why the job should stop, if it should.
    pub fn cancel_reason(&self) -> Option<CancelReason> {
        let _ = self.is_cancelled(); // notices a passed deadline
        self.control().cancel_reason()
    }

    /// Whether anyone listens to the job's messages.
    pub fn wants_messages(&self) -> bool {
        self.run().started.options.wants_messages
    }

    /// Posts a message, as `TaskContext::post` (and bounded the same way).
    pub fn post(&self, message: Value) {
        self.run().started.context().post(message);
    }

    /// Reports the job's outcome. A job that was cancelled reports its cancellation whatever the
    /// task returned or threw: a JS task that stops on its signal usually throws the signal's reason,
    /// and its caller was promised the cancellation.
    pub fn finish(mut self, outcome: Result<Value, TaskError>) {
        if let Some(run) = self.run.take() {
            run.finish(outcome);
        }
    }
}

impl ScriptRun {
    fn finish(self, outcome: Result<Value, TaskError>) {
        let ScriptRun { shared, core, started } = self;
        let outcome = match (outcome, started.control.cancel_reason()) {
            (Err(_), Some(reason)) => Err(TaskError::Cancelled(reason)),
            (other, _) => other,
        };
        // From here on, late hooks of this job see another generation and do nothing.
        core.generation.fetch_add(1, Ordering::AcqRel);
        started.control.clear_runner();
        finish(&shared, &core.slot, started, outcome);
    }
}

impl Drop for StartedScript {
    fn drop(&mut self) {
        if let Some(run) = self.run.take() {
            run.finish(Err(TaskError::failed("the script job was dropped before it reported an outcome")));
        }
    }
}
