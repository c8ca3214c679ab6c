//! Micro-benchmark of the engine alone, without Node: how fast `ThreadPool` moves empty jobs from
//! `submit` through its queue to a `JobSink`. Judges engine changes on their own, apart from the napi
//! completion path that `benchmark/run.js` measures end to end.
//!
//! Run: `cargo bench --no-default-features --bench engine` (add `-- --quick` for a smoke run).
//! Plain `std::time`, no benchmark crate: every figure is a median of several repetitions, with the
//! smallest and largest repetition beside it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use native_pool::{Job, JobControl, JobOptions, JobSink, NoObserver, PoolConfig, TaskError, TaskRegistry, ThreadPool, Value};

/// Counts completions and wakes the waiting benchmark thread when the count reaches its target.
/// Counts failures apart so that a job that did not run cannot pass for a fast one.
#[derive(Default)]
struct CountingSink {
    completed: AtomicU64,
    failed: AtomicU64,
    /// The count the benchmark waits for; the completion that reaches it notifies.
    target: AtomicU64,
    reached: Mutex<bool>,
    cv: Condvar,
}

impl CountingSink {
    fn expect(&self, target: u64) {
        *self.reached.lock().unwrap() = false;
        self.target.store(target, Ordering::SeqCst);
        // A completion that ran before the target was set may have passed it already.
        if self.done() >= target {
            *self.reached.lock().unwrap() = true;
        }
    }

    fn done(&self) -> u64 {
        self.completed.load(Ordering::SeqCst) + self.failed.load(Ordering::SeqCst)
    }

    fn wait(&self) {
        let mut reached = self.reached.lock().unwrap();
        while !*reached {
            reached = self.cv.wait(reached).unwrap();
        }
    }
}

impl JobSink for CountingSink {
    fn message(&self, _ticket: u64, _message: Value) {}

    fn complete(&self, _ticket: u64, outcome: Result<Value, TaskError>) {
        let counter = match outcome {
            Ok(Value::Undefined) | Ok(Value::Number(_)) => &self.completed,
            _ => &self.failed,
        };
        counter.fetch_add(1, Ordering::SeqCst);
        if self.done() >= self.target.load(Ordering::SeqCst) {
            let mut reached = self.reached.lock().unwrap();
            if !*reached {
                *reached = true;
                self.cv.notify_all();
            }
        }
    }
}

fn empty_job(sink: &Arc<CountingSink>, ticket: u64) -> Job {
    let sink: Arc<dyn JobSink> = sink.clone();
    Job::new(Box::new(|_ctx| Ok(Value::Undefined)), sink, ticket, JobControl::new(), JobOptions::default())
}

fn submit(pool: &ThreadPool, job: Job) {
    if pool.submit(job).is_err() {
        panic!("the pool refused a job");
    }
}

struct Summary {
    median: f64,
    min: f64,
    max: f64,
}

fn summarize(mut xs: Vec<f64>) -> Summary {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mid = xs.len() / 2;
    let median = if xs.len() % 2 == 1 { xs[mid] } else { (xs[mid - 1] + xs[mid]) / 2.0 };
    Summary { median, min: xs[0], max: xs[xs.len() - 1] }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i]
}

/// `jobs` empty jobs submitted from this thread as fast as it can, all in flight at once, timed until
/// the last completion. Returns jobs per second.
fn throughput(pool: &ThreadPool, sink: &Arc<CountingSink>, jobs: u64, make: &dyn Fn(&Arc<CountingSink>, u64) -> Job) -> f64 {
    let base = sink.done();
    let failed_before = sink.failed.load(Ordering::SeqCst);
    sink.expect(base + jobs);
    let t = Instant::now();
    for i in 0..jobs {
        submit(pool, make(sink, i));
    }
    sink.wait();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(sink.failed.load(Ordering::SeqCst), failed_before, "a job failed: the figure would be meaningless");
    assert_eq!(sink.done(), base + jobs, "every job must complete exactly once");
    jobs as f64 / secs
}

/// One job at a time: submit, wait for its completion, repeat. Returns each round trip in µs.
fn round_trips(pool: &ThreadPool, sink: &Arc<CountingSink>, count: u64) -> Vec<f64> {
    let mut out = Vec::with_capacity(count as usize);
    for i in 0..count {
        let base = sink.done();
        sink.expect(base + 1);
        let t = Instant::now();
        submit(pool, empty_job(sink, i));
        sink.wait();
        out.push(t.elapsed().as_secs_f64() * 1e6);
    }
    out
}

/// A sink that keeps the last outcome, for the kernel comparison below.
#[derive(Default)]
struct LastOutcome {
    value: Mutex<Option<Result<Value, TaskError>>>,
    cv: Condvar,
}

impl JobSink for LastOutcome {
    fn message(&self, _ticket: u64, _message: Value) {}
    fn complete(&self, _ticket: u64, outcome: Result<Value, TaskError>) {
        *self.value.lock().unwrap() = Some(outcome);
        self.cv.notify_all();
    }
}

/// Runs a registered task once on `pool` and waits for it: (wall time in ms, its value).
fn run_task(pool: &ThreadPool, registry: &TaskRegistry, sink: &Arc<LastOutcome>, name: &str, args: Value) -> (f64, Value) {
    *sink.value.lock().unwrap() = None;
    let work = registry.prepare(name, args).expect("valid task and arguments");
    let s: Arc<dyn JobSink> = sink.clone();
    let t = Instant::now();
    submit(pool, Job::new(work, s, 0, JobControl::new(), JobOptions::default()));
    let mut got = sink.value.lock().unwrap();
    while got.is_none() {
        got = sink.cv.wait(got).unwrap();
    }
    let ms = t.elapsed().as_secs_f64() * 1e3;
    (ms, got.take().unwrap().expect("the task succeeds"))
}

fn plain_fib(n: u32) -> u64 {
    if n < 2 {
        n as u64
    } else {
        plain_fib(n - 1) + plain_fib(n - 2)
    }
}

/// The CPU workloads' task bodies against the same computation written plainly, one at a time on a
/// one-thread pool: what the tasks' cancellation checks and progress accounting cost.
fn kernels(registry: &TaskRegistry, reps: usize) {
    let pool = ThreadPool::new(PoolConfig::fixed(1), Arc::new(NoObserver));
    let sink = Arc::new(LastOutcome::default());
    let fib_args = || Value::object([("n", Value::Number(30.0))]);
    let sum_args = || Value::object([("iterations", Value::Number(1e7))]);
    run_task(&pool, registry, &sink, "fib", fib_args());
    let task_fib = summarize((0..reps).map(|_| {
        let (ms, v) = run_task(&pool, registry, &sink, "fib", fib_args());
        assert_eq!(v, Value::Number(832040.0), "fib(30)");
        ms
    }).collect());
    let plain = summarize((0..reps).map(|_| {
        let t = Instant::now();
        let f = plain_fib(std::hint::black_box(30));
        assert_eq!(f, 832040);
        t.elapsed().as_secs_f64() * 1e3
    }).collect());
    println!("kernel  fib(30): task {:.2} ms [{:.2} … {:.2}], plain recursion {:.2} ms [{:.2} … {:.2}]", task_fib.median, task_fib.min, task_fib.max, plain.median, plain.min, plain.max);
    let task_sum = summarize((0..reps).map(|_| {
        let (ms, v) = run_task(&pool, registry, &sink, "sum", sum_args());
        assert_eq!(v, Value::Number(49_999_995_000_000.0), "sum(1e7)");
        ms
    }).collect());
    let plain = summarize((0..reps).map(|_| {
        let t = Instant::now();
        let mut total: u128 = 0;
        for k in 0..std::hint::black_box(10_000_000u64) {
            total += std::hint::black_box(k) as u128;
        }
        assert_eq!(total, 49_999_995_000_000);
        t.elapsed().as_secs_f64() * 1e3
    }).collect());
    println!("kernel  sum(1e7): task {:.2} ms [{:.2} … {:.2}], plain loop {:.2} ms [{:.2} … {:.2}]", task_sum.median, task_sum.min, task_sum.max, plain.median, plain.min, plain.max);
    pool.close();
    pool.join();
}

fn fmt_rate(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else {
        format!("{:.0}k", x / 1e3)
    }
}

fn main() {
    // `cargo bench` passes `--bench`; ignore what we don't know.
    let quick = std::env::args().any(|a| a == "--quick");
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let (jobs, reps, trips) = if quick { (20_000u64, 3, 2_000u64) } else { (500_000u64, 7, 20_000u64) };
    let registry = TaskRegistry::builtin();

    println!("engine micro-benchmark: {cpus} CPUs, {jobs} jobs per repetition, {reps} repetitions{}", if quick { " (quick)" } else { "" });
    println!("figures: median [min … max] over the repetitions; pool threads at nice +{} (PoolConfig default)", PoolConfig::fixed(1).nice);
    println!();

    for threads in 1..=cpus.max(1) {
        let sink = Arc::new(CountingSink::default());
        let pool = ThreadPool::new(PoolConfig::fixed(threads), Arc::new(NoObserver));

        // Warm-up: threads started, allocator and caches primed.
        throughput(&pool, &sink, jobs / 10, &empty_job);

        let raw = summarize((0..reps).map(|_| throughput(&pool, &sink, jobs, &empty_job)).collect());
        println!(
            "{threads} thread(s)  empty jobs, all in flight        {:>8} jobs/s  [{} … {}]",
            fmt_rate(raw.median),
            fmt_rate(raw.min),
            fmt_rate(raw.max)
        );

        // The same through the task registry's `echo` (argument validation and boxing included), the
        // way the binding prepares a job.
        let via_echo = |sink: &Arc<CountingSink>, ticket: u64| {
            let work = registry.prepare("echo", Value::Number(ticket as f64)).expect("echo is built in");
            let s: Arc<dyn JobSink> = sink.clone();
            Job::new(work, s, ticket, JobControl::new(), JobOptions::default())
        };
        throughput(&pool, &sink, jobs / 10, &via_echo);
        let echo = summarize((0..reps).map(|_| throughput(&pool, &sink, jobs, &via_echo)).collect());
        println!(
            "{threads} thread(s)  registry 'echo', all in flight   {:>8} jobs/s  [{} … {}]",
            fmt_rate(echo.median),
            fmt_rate(echo.min),
            fmt_rate(echo.max)
        );

        round_trips(&pool, &sink, trips / 10);
        let mut rt = round_trips(&pool, &sink, trips);
        rt.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{threads} thread(s)  one at a time, round trip        p50 {:.1} µs  p99 {:.1} µs  ({} trips)",
            percentile(&rt, 50.0),
            percentile(&rt, 99.0),
            rt.len()
        );

        pool.close();
        pool.join();
        let stats = pool.stats();
        let expected = (jobs / 10 + jobs * reps as u64) * 2 + trips + trips / 10;
        assert_eq!(stats.completed, expected, "the pool's own count must match the jobs submitted");
        println!();
    }
    kernels(&registry, if quick { 3 } else { 9 });
}
