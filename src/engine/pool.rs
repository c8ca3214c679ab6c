//! The thread pool: its threads, how they start and retire, where a job runs (`run_job`), and how the
//! pool closes (finish what was accepted) or is destroyed (reject what waits, cancel what runs).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::context::{Claim, JobControl, TaskContext};
use super::error::{CancelReason, TaskError};
use super::job::Job;
use super::queue::{JobQueue, Taken, Wait};
use super::stats::{bump, PoolStats, WorkerStats};
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
    /// Record run and wait times (histograms, utilization). Off, a job costs two clock reads less;
    /// the counters are kept either way.
    pub record_timing: bool,
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
            record_timing: true,
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

/// The default `PoolConfig::nice`. At +5 a thread weighs a third of the JS thread (335 against 1024
/// in Linux's scheduler), so the event loop still wins a contested CPU; at +10 (110) it also gave
/// busy processes of the same cgroup nine tenths of a CPU, halving the pool's throughput beside them
/// for no measurable gain in the loop's latency (`benchmark/server.js`).
pub const DEFAULT_NICE: u8 = 5;

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
    observer: Arc<dyn PoolObserver>,
    /// Accepted and not finished (queued + running), counted only when `max_queue` bounds it, so that
    /// an unbounded pool has no counter shared between the JS thread and the workers.
    in_flight: Option<AtomicUsize>,
    /// Workers blocked waiting for a job.
    idle: AtomicUsize,
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
            in_flight: config.max_queue.map(|_| AtomicUsize::new(0)),
            config,
            queue: JobQueue::new(),
            observer,
            idle: AtomicUsize::new(0),
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
            if in_flight.load(Ordering::Acquire) >= shared.config.max_threads + max_queue {
                return Err(SubmitError { job, error: TaskError::QueueFull { max_queue } });
            }
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
            self.shared.queue.note_withdrawn();
            self.shared.finished_one();
            lock(&self.shared.workers).retired.cancelled.fetch_add(1, Ordering::Relaxed);
        }
        withdrawn
    }

    /// Stops accepting jobs. The jobs already accepted still run; then the threads stop.
    /// Returns at once; `join` waits for the threads.
    pub fn close(&self) {
        self.shared.queue.close();
    }

    /// Stops accepting jobs, rejects every queued job with `ERR_POOL_CLOSED` and cancels the running
    /// ones. Returns at once; `join` waits for the threads.
    pub fn destroy(&self) {
        self.shared.destroyed.store(true, Ordering::Release);
        self.shared.queue.close();
        for job in self.shared.queue.take_all() {
            if self.withdraw(&job.control) {
                job.sink.complete(job.ticket, Err(TaskError::Cancelled(CancelReason::Destroyed)));
            }
            self.shared.queue.note_withdrawn_dequeued();
        }
        for (_, slot, _) in &lock(&self.shared.workers).slots {
            if let Some(control) = lock(&slot.current).as_ref() {
                control.cancel(CancelReason::Destroyed);
            }
        }
    }

    /// Whether `close` or `destroy` was called.
    pub fn is_closed(&self) -> bool {
        self.shared.queue.is_closed()
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
        let total = WorkerStats::default();
        total.absorb(&workers.retired);
        let now = Instant::now();
        let mut alive_ns = workers.retired_alive_ns;
        let mut running = 0;
        for (_, slot, started) in &workers.slots {
            total.absorb(&slot.stats);
            alive_ns += now.duration_since(*started).as_nanos();
            running += usize::from(lock(&slot.current).is_some());
        }
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        PoolStats {
            threads: workers.live,
            idle: self.shared.idle.load(Ordering::Acquire).min(workers.live),
            running,
            queued: self.shared.queue.len(),
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
    /// A job left the pool (finished, withdrawn or skipped).
    fn finished_one(&self) {
        if let Some(in_flight) = &self.in_flight {
            in_flight.fetch_sub(1, Ordering::AcqRel);
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
    let start = Instant::now();
    loop {
        // The clock is read once per 32 polls: a poll is a few atomic loads.
        for _ in 0..32 {
            match queue.take(Wait::No) {
                Taken::Nothing => std::hint::spin_loop(),
                taken => return taken,
            }
        }
        if start.elapsed() >= IDLE_SPIN {
            return Taken::Nothing;
        }
    }
}

/// Where a task runs: one dequeued job, from the orphan check to the reported outcome.
fn run_job(shared: &Shared, slot: &WorkerSlot, job: Job) {
    let Job { ticket, work, control, sink, options, queued_at } = job;
    let skip = if !sink.is_alive() {
        Some(CancelReason::Orphaned) // its JS environment is gone: nobody waits for it
    } else if shared.destroyed.load(Ordering::Acquire) {
        Some(CancelReason::Destroyed) // dequeued just as `destroy` emptied the queue
    } else {
        None
    };
    // Exactly one side reports the outcome: this worker (run or skipped) or whoever withdrew it.
    match control.claim(skip) {
        Claim::Run => {}
        Claim::Skipped(reason) => {
            shared.finished_one();
            bump(&slot.stats.cancelled, 1);
            sink.complete(ticket, Err(TaskError::Cancelled(reason)));
            return;
        }
        Claim::Taken => {
            // Withdrawn while queued: whoever withdrew it reports the outcome.
            shared.queue.note_withdrawn_dequeued();
            return;
        }
    }
    *lock(&slot.current) = Some(control.clone());
    let timed = shared.config.record_timing || options.timeout.is_some();
    let started = timed.then(Instant::now);
    if let (Some(queued), Some(started)) = (queued_at, started) {
        slot.stats.wait_time.record(started.duration_since(queued));
    }

    let deadline = options.timeout.zip(started).and_then(|(t, started)| started.checked_add(t));
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

    *lock(&slot.current) = None;
    let stats = &slot.stats;
    if let (true, Some(started)) = (shared.config.record_timing, started) {
        let elapsed = started.elapsed();
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
    shared.finished_one();
    sink.complete(ticket, outcome);
}
