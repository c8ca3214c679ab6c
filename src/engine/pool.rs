//! The thread pool: its threads, how they start and retire, where a job runs (`run_job`), and how the
//! pool closes (finish what was accepted) or is destroyed (reject what waits, cancel what runs).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::context::{JobControl, TaskContext};
use super::error::{CancelReason, TaskError};
use super::job::Job;
use super::queue::{JobQueue, Wake};
use super::stats::{PoolStats, WorkerStats};
use super::unwind::catch_task_panic;

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
    /// How much lower than the process the threads' CPU priority is (Linux nice increment, 0 to 19).
    /// With as many threads as CPUs, a positive value lets the JS thread win the CPU as soon as it
    /// has work, so the event loop stays responsive while the pool is saturated.
    pub nice: u8,
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
            nice: DEFAULT_NICE,
        }
    }
}

impl Default for PoolConfig {
    /// One thread per CPU.
    fn default() -> PoolConfig {
        PoolConfig::fixed(num_cpus::get())
    }
}

/// The default `PoolConfig::nice`.
pub const DEFAULT_NICE: u8 = 10;

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

/// What a worker shares with the pool: the job it runs now (for `destroy`) and its counters.
#[derive(Default)]
struct WorkerSlot {
    current: Mutex<Option<Arc<JobControl>>>,
    stats: WorkerStats,
}

struct Shared {
    config: PoolConfig,
    queue: JobQueue,
    observer: Arc<dyn PoolObserver>,
    /// Accepted and not finished (queued + running); bounds the queue.
    in_flight: AtomicUsize,
    /// Accepted and withdrawn-or-started subtracted: what `stats().queued` reports.
    waiting: AtomicUsize,
    running: AtomicUsize,
    workers: Mutex<Workers>,
    created: Instant,
}

#[derive(Default)]
struct Workers {
    handles: Vec<JoinHandle<()>>,
    slots: Vec<(u32, Arc<WorkerSlot>)>,
    next_id: u32,
    /// Counters of workers that retired.
    retired: WorkerStats,
    /// Busy time lost to nothing: thread-seconds alive, for utilization.
    retired_alive_ns: u128,
    started_at: Vec<(u32, Instant)>,
}

/// A pool of native threads running `Job`s.
pub struct ThreadPool {
    shared: Arc<Shared>,
}

impl ThreadPool {
    /// Starts a pool with `config.min_threads` threads.
    pub fn new(config: PoolConfig, observer: Arc<dyn PoolObserver>) -> ThreadPool {
        assert!(config.max_threads >= 1 && config.min_threads <= config.max_threads, "invalid thread counts");
        let min = config.min_threads;
        let shared = Arc::new(Shared {
            config,
            queue: JobQueue::new(),
            observer,
            in_flight: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            workers: Mutex::new(Workers::default()),
            created: Instant::now(),
        });
        shared.queue.lock().live = min;
        for _ in 0..min {
            spawn_worker(&shared);
        }
        ThreadPool { shared }
    }

    pub fn config(&self) -> &PoolConfig {
        &self.shared.config
    }

    /// Queues a job. Fails, handing the job back, if the pool is closed or its queue is full.
    pub fn submit(&self, job: Job) -> Result<(), SubmitError> {
        let shared = &self.shared;
        if let Some(max_queue) = shared.config.max_queue {
            if shared.in_flight.load(Ordering::Acquire) >= shared.config.max_threads + max_queue {
                return Err(SubmitError { job, error: TaskError::QueueFull { max_queue } });
            }
        }
        let spawn = {
            let mut q = shared.queue.lock();
            if let Err(job) = q.push(job) {
                return Err(SubmitError { job, error: TaskError::PoolClosed });
            }
            shared.in_flight.fetch_add(1, Ordering::AcqRel);
            shared.waiting.fetch_add(1, Ordering::AcqRel);
            // More waiting jobs than idle threads: start one more thread if allowed.
            let spawn = q.len() > q.idle && q.live < shared.config.max_threads;
            if spawn {
                q.live += 1;
            }
            spawn
        };
        if spawn {
            spawn_worker(shared);
        }
        Ok(())
    }

    /// Takes a job out of the queue before it starts. Returns true if it was still queued: the caller
    /// then owns its outcome. False if a worker took it first (it will report its outcome itself).
    pub fn withdraw(&self, control: &JobControl) -> bool {
        let withdrawn = control.withdraw();
        if withdrawn {
            self.shared.waiting.fetch_sub(1, Ordering::AcqRel);
            self.shared.in_flight.fetch_sub(1, Ordering::AcqRel);
            self.shared.workers.lock().unwrap_or_else(|e| e.into_inner()).retired.cancelled.fetch_add(1, Ordering::Relaxed);
        }
        withdrawn
    }

    /// Stops accepting jobs. The jobs already accepted still run; then the threads stop.
    /// Returns at once; `join` waits for the threads.
    pub fn close(&self) {
        self.shared.queue.lock().close();
    }

    /// Stops accepting jobs, rejects every queued job with `ERR_POOL_CLOSED` and cancels the running
    /// ones. Returns at once; `join` waits for the threads.
    pub fn destroy(&self) {
        let queued = {
            let mut q = self.shared.queue.lock();
            q.close();
            q.take_all()
        };
        for job in queued {
            if self.withdraw(&job.control) {
                job.sink.complete(job.ticket, Err(TaskError::Cancelled(CancelReason::Destroyed)));
            }
        }
        let workers = self.shared.workers.lock().unwrap_or_else(|e| e.into_inner());
        for (_, slot) in &workers.slots {
            if let Some(control) = slot.current.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                control.cancel(CancelReason::Destroyed);
            }
        }
    }

    /// Whether `close` or `destroy` was called.
    pub fn is_closed(&self) -> bool {
        self.shared.queue.lock().is_closed()
    }

    /// Waits until every thread has stopped. Call after `close` or `destroy`, never from a pool thread.
    pub fn join(&self) {
        loop {
            let handles = std::mem::take(&mut self.shared.workers.lock().unwrap_or_else(|e| e.into_inner()).handles);
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
        let (threads, idle) = {
            let q = self.shared.queue.lock();
            (q.live, q.idle)
        };
        let workers = self.shared.workers.lock().unwrap_or_else(|e| e.into_inner());
        let total = WorkerStats::default();
        total.absorb(&workers.retired);
        let now = Instant::now();
        let mut alive_ns = workers.retired_alive_ns;
        for (id, slot) in &workers.slots {
            total.absorb(&slot.stats);
            if let Some((_, t)) = workers.started_at.iter().find(|(i, _)| i == id) {
                alive_ns += now.duration_since(*t).as_nanos();
            }
        }
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        PoolStats {
            threads,
            idle,
            running: self.shared.running.load(Ordering::Acquire),
            queued: self.shared.waiting.load(Ordering::Acquire),
            completed: load(&total.completed),
            failed: load(&total.failed),
            cancelled: load(&total.cancelled),
            timed_out: load(&total.timed_out),
            run_time: total.run_time.summary(),
            wait_time: total.wait_time.summary(),
            utilization: if alive_ns == 0 { 0.0 } else { (load(&total.busy_ns) as f64 / alive_ns as f64).min(1.0) },
        }
    }

    /// How long ago the pool was created.
    pub fn age(&self) -> Duration {
        self.shared.created.elapsed()
    }
}

impl Drop for ThreadPool {
    /// Dropping a pool closes it; its threads finish the accepted jobs and stop on their own.
    fn drop(&mut self) {
        self.close();
    }
}

fn spawn_worker(shared: &Arc<Shared>) {
    let slot = Arc::new(WorkerSlot::default());
    let mut workers = shared.workers.lock().unwrap_or_else(|e| e.into_inner());
    let id = workers.next_id;
    workers.next_id += 1;
    workers.slots.push((id, slot.clone()));
    workers.started_at.push((id, Instant::now()));
    let thread_shared = shared.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("{}-{id}", shared.config.thread_name))
        .spawn(move || worker_loop(thread_shared, slot, id));
    match spawned {
        Ok(handle) => workers.handles.push(handle),
        Err(_) => {
            // The OS refused a thread: carry on with the ones we have.
            workers.slots.retain(|(i, _)| *i != id);
            workers.started_at.retain(|(i, _)| *i != id);
            shared.queue.lock().live -= 1;
        }
    }
}

fn worker_loop(shared: Arc<Shared>, slot: Arc<WorkerSlot>, id: u32) {
    lower_priority(shared.config.nice);
    shared.observer.thread_started(id);
    loop {
        let min = shared.config.min_threads;
        let idle_timeout = shared.config.idle_timeout;
        let (wake, mut q) = shared.queue.next(|q| (q.live > min).then_some(idle_timeout));
        match wake {
            Wake::Job(job) => {
                drop(q);
                run_job(&shared, &slot, job);
            }
            Wake::Nothing => {}
            Wake::TimedOut => {
                // Retire only if nothing waits and we are above the minimum; both under the lock, so a
                // job pushed meanwhile either sees this thread gone (and starts another) or is seen here.
                if q.len() == 0 && q.live > min {
                    q.live -= 1;
                    break;
                }
            }
            Wake::Closed => {
                q.live -= 1;
                break;
            }
        }
    }
    {
        let mut workers = shared.workers.lock().unwrap_or_else(|e| e.into_inner());
        workers.retired.absorb(&slot.stats);
        workers.slots.retain(|(i, _)| *i != id);
        if let Some(pos) = workers.started_at.iter().position(|(i, _)| *i == id) {
            let (_, t) = workers.started_at.swap_remove(pos);
            workers.retired_alive_ns += t.elapsed().as_nanos();
        }
    }
    shared.observer.thread_stopped(id, 0);
}

/// Where a task runs: one dequeued job, from the orphan check to the reported outcome.
fn run_job(shared: &Shared, slot: &WorkerSlot, job: Job) {
    let Job { ticket, work, control, sink, options, queued_at } = job;
    if !sink.is_alive() {
        // Its JS environment is gone: skip it. Withdrawing keeps the "one outcome per job" rule for
        // anyone else racing to withdraw it.
        if control.withdraw() {
            control.cancel(CancelReason::Orphaned);
            shared.waiting.fetch_sub(1, Ordering::AcqRel);
            shared.in_flight.fetch_sub(1, Ordering::AcqRel);
            slot.stats.cancelled.fetch_add(1, Ordering::Relaxed);
            sink.complete(ticket, Err(TaskError::Cancelled(CancelReason::Orphaned)));
        }
        return;
    }
    if !control.start() {
        return; // withdrawn while queued: whoever withdrew it reports the outcome
    }
    shared.waiting.fetch_sub(1, Ordering::AcqRel);
    shared.running.fetch_add(1, Ordering::AcqRel);
    *slot.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(control.clone());
    let started = Instant::now();
    slot.stats.wait_time.record(started.duration_since(queued_at));

    let deadline = options.timeout.and_then(|t| started.checked_add(t));
    let outcome = {
        let ctx = TaskContext::new(&control, &*sink, ticket, options.wants_messages, deadline);
        catch_task_panic(|| {
            // A cancellation that arrived between dequeue and start is honoured before any work.
            ctx.check()?;
            work(&ctx)
        })
    };
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

    let elapsed = started.elapsed();
    *slot.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
    let stats = &slot.stats;
    stats.run_time.record(elapsed);
    stats.busy_ns.fetch_add(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    match &outcome {
        Ok(_) => &stats.completed,
        Err(TaskError::Cancelled(CancelReason::TimedOut)) => &stats.timed_out,
        Err(TaskError::Cancelled(_)) => &stats.cancelled,
        Err(_) => &stats.failed,
    }
    .fetch_add(1, Ordering::Relaxed);
    shared.running.fetch_sub(1, Ordering::AcqRel);
    shared.in_flight.fetch_sub(1, Ordering::AcqRel);
    sink.complete(ticket, outcome);
}
