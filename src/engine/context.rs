//! What a running task can see and do: post messages, check whether it should stop, sleep so that a
//! cancellation wakes it, and report progress. `JobControl` is the state a task shares with whoever
//! may cancel it.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::{CancelReason, TaskError};
use super::job::JobSink;
use super::sync::{current_thread, AtomicBool, AtomicU8, AtomicUsize, Mutex, Thread};
use super::value::Value;

/// How many posted messages of one task may wait for JS to deliver them. A task that posts faster than
/// JS drains blocks in `post` until JS catches up (or the task is cancelled): memory stays bounded and
/// no message is lost.
pub const MESSAGE_BACKLOG: usize = 1024;

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const WITHDRAWN: u8 = 2;

/// The state of one job that its task, its worker thread and its canceller share.
#[derive(Debug)]
pub struct JobControl {
    /// 0 while nobody asked to stop; else `1 + CancelReason as u8`. The first reason wins.
    cancel: AtomicU8,
    /// `QUEUED` → `RUNNING` (a worker took it) or `QUEUED` → `WITHDRAWN` (cancelled before it ran).
    /// Exactly one of the two transitions happens, so exactly one side reports the outcome.
    state: AtomicU8,
    /// Messages posted and not yet delivered to JS (see `MESSAGE_BACKLOG`).
    backlog: AtomicUsize,
    /// Who runs the task, so that a cancellation or a delivered message can wake it.
    runner: Mutex<Option<Runner>>,
    /// Queued in the pool's script queue (a JS task), not the native one: `withdraw` must uncount it
    /// from the queue it is in.
    script: AtomicBool,
}

/// Who runs a started job, and how to tell it that it was cancelled.
#[derive(Clone)]
pub(crate) enum Runner {
    /// A native pool thread: unparked, it sees the cancel flag at its next check.
    Thread(Thread),
    /// A script consumer's JS thread, which cannot be unparked out of JS code: `on_cancel` tells it
    /// (the binding sends the Worker an abort event) and starts the grace period. The thread is still
    /// unparked, for a consumer blocked in `post` on a full backlog.
    Script { thread: Thread, on_cancel: Arc<dyn Fn() + Send + Sync> },
}

impl Runner {
    fn thread(&self) -> &Thread {
        match self {
            Runner::Thread(t) | Runner::Script { thread: t, .. } => t,
        }
    }
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Runner::Thread(t) => f.debug_tuple("Thread").field(&t.id()).finish(),
            Runner::Script { thread, .. } => f.debug_struct("Script").field("thread", &thread.id()).finish(),
        }
    }
}

impl Default for JobControl {
    fn default() -> Self {
        JobControl {
            cancel: AtomicU8::new(0),
            state: AtomicU8::new(QUEUED),
            backlog: AtomicUsize::new(0),
            runner: Mutex::new(None),
            script: AtomicBool::new(false),
        }
    }
}

impl JobControl {
    pub fn new() -> Arc<JobControl> {
        Arc::new(JobControl::default())
    }

    /// Asks the task to stop. Returns false if a reason was already set (the first one wins).
    /// Wakes the task if it sleeps or waits for its messages to drain.
    pub fn cancel(&self, reason: CancelReason) -> bool {
        let set = self
            .cancel
            .compare_exchange(0, 1 + reason as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if set {
            let runner = self.runner.lock().unwrap_or_else(|e| e.into_inner()).clone();
            match runner {
                Some(Runner::Thread(t)) => t.unpark(),
                Some(Runner::Script { thread, on_cancel }) => {
                    thread.unpark();
                    // Outside the lock: the hook pushes into another environment's inbox and into the
                    // watchdog, neither of which may wait on this job.
                    on_cancel();
                }
                None => {}
            }
        }
        set
    }

    /// Why the task was asked to stop, if it was.
    pub fn cancel_reason(&self) -> Option<CancelReason> {
        match self.cancel.load(Ordering::Acquire) {
            0 => None,
            1 => Some(CancelReason::Aborted),
            2 => Some(CancelReason::TimedOut),
            3 => Some(CancelReason::Destroyed),
            _ => Some(CancelReason::Orphaned),
        }
    }

    /// Takes a queued job out of the running: true if it had not started (the caller now owns its
    /// outcome), false if a worker already took it.
    pub fn withdraw(&self) -> bool {
        self.state
            .compare_exchange(QUEUED, WITHDRAWN, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Whether the job was withdrawn before any worker took it.
    pub fn is_withdrawn(&self) -> bool {
        self.state.load(Ordering::Acquire) == WITHDRAWN
    }

    /// Called by whoever dequeued the job (a native thread or a script consumer), recording who runs
    /// it: true if it may run it.
    pub(crate) fn start_as(&self, runner: Runner) -> bool {
        let started = self
            .state
            .compare_exchange(QUEUED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if started {
            *self.runner.lock().unwrap_or_else(|e| e.into_inner()) = Some(runner);
        }
        started
    }

    /// The worker's side of the state machine, for a job it has just dequeued, on a native pool
    /// thread (the one that runs it). `skip` is why the job must not run (its environment is gone,
    /// its pool destroyed), if it must not.
    ///
    /// A skipped job is withdrawn, not just dropped, so that exactly one side reports its outcome even
    /// when a canceller races to withdraw it; the reason reported is the first one set (`cancel` keeps
    /// an earlier reason, e.g. an abort that arrived before the pool was destroyed).
    ///
    /// Public only so that `tests/loom.rs` can model-check it; the pool's workers are its one caller.
    #[doc(hidden)]
    pub fn claim(&self, skip: Option<CancelReason>) -> Claim {
        self.claim_as(skip, || Runner::Thread(current_thread()))
    }

    /// `claim`, for whoever dequeued the job (a native thread or a script consumer): `runner` says who
    /// runs it, if it runs.
    pub(crate) fn claim_as(&self, skip: Option<CancelReason>, runner: impl FnOnce() -> Runner) -> Claim {
        if let Some(reason) = skip {
            if self.withdraw() {
                self.cancel(reason);
                return Claim::Skipped(self.cancel_reason().unwrap_or(reason));
            }
            return Claim::Taken;
        }
        if self.start_as(runner()) {
            Claim::Run
        } else {
            Claim::Taken
        }
    }

    /// Forgets the runner once the job has finished, so that a late cancel calls no hook of a
    /// consumer that has moved on to another job.
    pub(crate) fn clear_runner(&self) {
        self.runner.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// Marks the job as one for the script queue (set by `ThreadPool::submit`).
    pub(crate) fn set_script(&self) {
        self.script.store(true, Ordering::Release);
    }

    /// Whether the job was queued in the script queue.
    pub(crate) fn is_script(&self) -> bool {
        self.script.load(Ordering::Acquire)
    }

    /// Called when JS has delivered one of this job's messages: frees a place in its backlog and wakes
    /// the task if it was waiting for one.
    pub fn message_delivered(&self) {
        if self.backlog.fetch_sub(1, Ordering::AcqRel) == MESSAGE_BACKLOG {
            self.wake();
        }
    }

    fn wake(&self) {
        if let Some(r) = self.runner.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            r.thread().unpark();
        }
    }
}

/// What the worker that dequeued a job does with it (`JobControl::claim`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// It is this worker's to run; it reports the outcome when the task returns.
    Run,
    /// Withdrawn by this worker without running: it reports `Cancelled(reason)` at once.
    Skipped(CancelReason),
    /// Someone else withdrew it first and reports (or, for a dead environment, drops) its outcome.
    Taken,
}

/// Handed to a running task: its window onto the pool.
pub struct TaskContext<'a> {
    control: &'a JobControl,
    sink: &'a dyn JobSink,
    ticket: u64,
    wants_messages: bool,
    deadline: Option<Instant>,
}

impl<'a> TaskContext<'a> {
    pub(crate) fn new(
        control: &'a JobControl,
        sink: &'a dyn JobSink,
        ticket: u64,
        wants_messages: bool,
        deadline: Option<Instant>,
    ) -> TaskContext<'a> {
        TaskContext { control, sink, ticket, wants_messages, deadline }
    }

    /// Whether anyone listens to this task's messages. A task may skip building messages when not.
    pub fn wants_messages(&self) -> bool {
        self.wants_messages
    }

    /// Posts a message to the task's listeners (`'message'` on its handle and on the pool). If
    /// `MESSAGE_BACKLOG` messages are still undelivered, waits until JS delivers one or the task is
    /// cancelled (then the message is dropped: nobody will read it).
    pub fn post(&self, message: Value) {
        if !self.wants_messages {
            return;
        }
        while self.control.backlog.load(Ordering::Acquire) >= MESSAGE_BACKLOG {
            if self.is_cancelled() {
                return;
            }
            std::thread::park_timeout(self.park_limit(Duration::from_millis(50)));
        }
        self.control.backlog.fetch_add(1, Ordering::AcqRel);
        self.sink.message(self.ticket, message);
    }

    /// How many of this task's messages are posted and not yet delivered to JS (at most
    /// `MESSAGE_BACKLOG`).
    pub fn undelivered_messages(&self) -> usize {
        self.control.backlog.load(Ordering::Acquire)
    }

    /// True once the task should stop: cancelled, timed out, its pool destroyed or its caller gone.
    /// Cheap (an atomic load, and a clock read when a timeout is set): call it every millisecond or so.
    pub fn is_cancelled(&self) -> bool {
        if self.control.cancel_reason().is_some() {
            return true;
        }
        match self.deadline {
            Some(d) if Instant::now() >= d => {
                self.control.cancel(CancelReason::TimedOut);
                true
            }
            _ => false,
        }
    }

    /// `Err(Cancelled)` once the task should stop, for use with `?`.
    pub fn check(&self) -> Result<(), TaskError> {
        if self.is_cancelled() {
            Err(TaskError::Cancelled(self.control.cancel_reason().unwrap_or(CancelReason::Aborted)))
        } else {
            Ok(())
        }
    }

    /// Sleeps for `duration`, waking at once if the task is cancelled.
    pub fn sleep(&self, duration: Duration) -> Result<(), TaskError> {
        let Some(end) = Instant::now().checked_add(duration) else {
            // Longer than the clock can count: sleep until cancelled.
            loop {
                self.check()?;
                std::thread::park_timeout(self.park_limit(Duration::from_secs(3600)));
            }
        };
        loop {
            self.check()?;
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            std::thread::park_timeout(self.park_limit(end - now));
        }
    }

    /// Reports progress as `{ progress }` messages, a fraction from 0 to 1, at every whole percent of
    /// `total` units of work (when there are at least 100 units; fewer report nothing).
    pub fn progress(&self, total: u64) -> Progress<'_, 'a> {
        let next = if self.wants_messages && total >= 100 { whole_percent(total, 1) } else { u64::MAX };
        Progress { ctx: self, total, percent: 0, next }
    }

    /// The longest a wait may park: never past the deadline, so a timeout is noticed on time.
    fn park_limit(&self, wanted: Duration) -> Duration {
        match self.deadline {
            Some(d) => wanted.min(d.saturating_duration_since(Instant::now())),
            None => wanted,
        }
    }
}

/// Posts `{ progress }` at each whole percent; see `TaskContext::progress`.
pub struct Progress<'c, 'a> {
    ctx: &'c TaskContext<'a>,
    total: u64,
    percent: u32,
    /// The amount of work done at which the next whole percent is reached; `u64::MAX` when done.
    next: u64,
}

impl Progress<'_, '_> {
    /// Records that `done` units of the total are finished, posting every whole percent passed.
    pub fn update(&mut self, done: u64) {
        while self.percent < 100 && done >= self.next {
            self.percent += 1;
            let fraction = self.percent as f64 / 100.0;
            self.ctx.post(Value::object([("progress", Value::Number(fraction))]));
            self.next = if self.percent == 100 { u64::MAX } else { whole_percent(self.total, self.percent + 1) };
        }
    }

    /// The amount of work done at which the next message is due (`u64::MAX` when none is).
    /// Tasks use it to size their chunks of work.
    pub fn next_due(&self) -> u64 {
        self.next
    }
}

/// The smallest amount of work done at which `percent`% of `total` is reached: ceil(total * p / 100).
fn whole_percent(total: u64, percent: u32) -> u64 {
    let exact = total as u128 * percent as u128;
    exact.div_ceil(100) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_percent_rounds_up_to_the_first_unit_at_or_past_it() {
        assert_eq!(whole_percent(100, 1), 1);
        assert_eq!(whole_percent(150, 1), 2);
        assert_eq!(whole_percent(150, 100), 150);
        assert_eq!(whole_percent(u64::MAX, 100), u64::MAX);
    }

    #[test]
    fn first_cancel_reason_wins() {
        let c = JobControl::default();
        assert!(c.cancel(CancelReason::TimedOut));
        assert!(!c.cancel(CancelReason::Aborted));
        assert_eq!(c.cancel_reason(), Some(CancelReason::TimedOut));
    }

    #[test]
    fn withdraw_and_start_exclude_each_other() {
        let c = JobControl::default();
        assert!(c.withdraw());
        let me = || Runner::Thread(std::thread::current());
        assert!(!c.start_as(me()));
        let d = JobControl::default();
        assert!(d.start_as(me()));
        assert!(!d.withdraw());
    }
}
