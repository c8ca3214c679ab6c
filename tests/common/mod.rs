//! Helpers shared by the engine's integration tests: a `JobSink` that reports over a channel, an
//! observer that reports thread starts and stops, and jobs that block on a gate until released.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{unbounded, Receiver, Sender};
use native_pool::{Job, JobControl, JobOptions, JobSink, PoolObserver, TaskContext, TaskError, ThreadPool, Value, Work};

/// A safety net for waits that should end quickly: a test that hits it fails instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// What a `ChannelSink` saw.
#[derive(Debug)]
pub enum Report {
    Message(u64, Value),
    Done(u64, Result<Value, TaskError>),
}

/// A sink that sends every message and outcome over a channel. `alive` can be switched off to
/// simulate a terminated JS environment.
pub struct ChannelSink {
    tx: Sender<Report>,
    pub alive: AtomicBool,
}

impl ChannelSink {
    pub fn new() -> (Arc<ChannelSink>, Receiver<Report>) {
        let (tx, rx) = unbounded();
        (Arc::new(ChannelSink { tx, alive: AtomicBool::new(true) }), rx)
    }
}

impl JobSink for ChannelSink {
    fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }
    fn message(&self, ticket: u64, message: Value) {
        let _ = self.tx.send(Report::Message(ticket, message));
    }
    fn complete(&self, ticket: u64, outcome: Result<Value, TaskError>) {
        let _ = self.tx.send(Report::Done(ticket, outcome));
    }
}

/// Thread starts and stops, as an observer saw them.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum ThreadEvent {
    Started(u32),
    Stopped(u32, i32),
}

pub struct ChannelObserver(Sender<ThreadEvent>);

impl ChannelObserver {
    pub fn new() -> (Arc<ChannelObserver>, Receiver<ThreadEvent>) {
        let (tx, rx) = unbounded();
        (Arc::new(ChannelObserver(tx)), rx)
    }
}

impl PoolObserver for ChannelObserver {
    fn thread_started(&self, id: u32) {
        let _ = self.0.send(ThreadEvent::Started(id));
    }
    fn thread_stopped(&self, id: u32, code: i32) {
        let _ = self.0.send(ThreadEvent::Stopped(id, code));
    }
}

/// Submits `work` to `pool` with `options`; returns the job's control.
pub fn submit_with(
    pool: &ThreadPool,
    sink: &Arc<ChannelSink>,
    ticket: u64,
    options: JobOptions,
    work: Work,
) -> Arc<JobControl> {
    let control = JobControl::new();
    let sink: Arc<dyn JobSink> = sink.clone();
    if pool.submit(Job::new(work, sink, ticket, control.clone(), options)).is_err() {
        panic!("job {ticket} was refused");
    }
    control
}

pub fn submit(pool: &ThreadPool, sink: &Arc<ChannelSink>, ticket: u64, work: Work) -> Arc<JobControl> {
    submit_with(pool, sink, ticket, JobOptions::default(), work)
}

/// Work that resolves with `ticket` as a number.
pub fn value_job(v: f64) -> Work {
    Box::new(move |_ctx: &TaskContext| Ok(Value::Number(v)))
}

/// Work that counts its runs in `ran` and resolves with null: proves whether a job ran at all.
pub fn counting_job(ran: &Arc<AtomicUsize>) -> Work {
    let ran = ran.clone();
    Box::new(move |_ctx: &TaskContext| {
        ran.fetch_add(1, Ordering::SeqCst);
        Ok(Value::Null)
    })
}

/// A gate: a job that tells `started` when it runs, then waits until `open` is called (or it is
/// cancelled, which it reports as the task's cancellation).
pub struct Gate {
    started_rx: Receiver<()>,
    release_tx: Sender<()>,
    started_tx: Sender<()>,
    release_rx: Receiver<()>,
}

impl Gate {
    pub fn new() -> Gate {
        let (started_tx, started_rx) = unbounded();
        let (release_tx, release_rx) = unbounded();
        Gate { started_rx, release_tx, started_tx, release_rx }
    }

    /// A job that blocks until the gate opens (or it is cancelled / times out).
    pub fn job(&self) -> Work {
        let started = self.started_tx.clone();
        let release = self.release_rx.clone();
        Box::new(move |ctx: &TaskContext| {
            let _ = started.send(());
            loop {
                ctx.check()?;
                if release.recv_timeout(Duration::from_millis(1)).is_ok() {
                    return Ok(Value::String("gate".into()));
                }
            }
        })
    }

    /// Waits until one gate job has started.
    pub fn wait_started(&self) {
        self.started_rx.recv_timeout(PATIENCE).expect("a gate job should have started");
    }

    /// Lets one gate job finish.
    pub fn open(&self) {
        self.release_tx.send(()).unwrap();
    }
}

/// Receives the next outcome (skipping messages), failing after `PATIENCE`.
pub fn next_done(rx: &Receiver<Report>) -> (u64, Result<Value, TaskError>) {
    loop {
        match rx.recv_timeout(PATIENCE).expect("an outcome should have arrived") {
            Report::Done(t, o) => return (t, o),
            Report::Message(..) => continue,
        }
    }
}

/// Receives outcomes until `n` have arrived; returns them in arrival order.
pub fn collect_done(rx: &Receiver<Report>, n: usize) -> Vec<(u64, Result<Value, TaskError>)> {
    (0..n).map(|_| next_done(rx)).collect()
}

/// Waits until `cond` holds, polling; fails after `PATIENCE`.
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for: {what}");
        std::thread::yield_now();
        std::thread::sleep(Duration::from_micros(200));
    }
}
