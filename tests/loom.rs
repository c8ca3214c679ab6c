//! Model checks of the engine's two hand-made protocols, under every interleaving loom can reach: the
//! job state machine (`JobControl`: queued → running or withdrawn, first cancel reason wins, the
//! worker's skip of an orphaned or destroyed job) and the completion inbox's `scheduled` flag
//! (`engine::inbox`). The production code is what runs here: in a `--cfg loom` build its atomics and
//! locks are loom's (`src/engine/sync.rs`). The threads play the roles the pool and the binding play;
//! what each role does around the checked calls mirrors `pool.rs::run_job` and `binding/`.
//!
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --no-default-features --release --test loom`
//! with its own `CARGO_TARGET_DIR` (`scripts/loom.sh` does all of it).
#![cfg(loom)]

use std::sync::atomic::Ordering;
use std::sync::Arc;

use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::sync::Mutex;
use loom::thread;
use native_pool::engine::context::{Claim, JobControl};
use native_pool::engine::inbox::Inbox;
use native_pool::CancelReason;

/// Who reported a job's outcome, and which: `None` for a result, `Some(reason)` for a cancellation.
type Report = (&'static str, Option<CancelReason>);

fn report(reports: &Mutex<Vec<Report>>, who: &'static str, outcome: Option<CancelReason>) {
    reports.lock().unwrap().push((who, outcome));
}

/// The worker that dequeued the job: `run_job` from the claim to the reported outcome. `times_out`
/// plays a task whose timeout elapses while it runs (`TaskContext::is_cancelled` sets `TimedOut`).
/// Returns whether its own `cancel` call set the reason.
fn worker(control: &JobControl, skip: Option<CancelReason>, times_out: bool, reports: &Mutex<Vec<Report>>) -> bool {
    match control.claim(skip) {
        Claim::Run => {
            let set = times_out && control.cancel(CancelReason::TimedOut);
            // run_job: a task that finished after it was cancelled reports the cancellation.
            report(reports, "worker", control.cancel_reason());
            set
        }
        Claim::Skipped(reason) => {
            report(reports, "worker", Some(reason));
            false
        }
        Claim::Taken => false,
    }
}

/// `binding::cancel` (an AbortSignal or `handle.cancel()`): set the reason, then take the job out of
/// the queue if it is still there and report it at once. Returns whether its `cancel` set the reason.
fn abort(control: &JobControl, reports: &Mutex<Vec<Report>>) -> bool {
    if !control.cancel(CancelReason::Aborted) {
        return false;
    }
    if control.withdraw() {
        report(reports, "canceller", Some(CancelReason::Aborted));
    }
    true
}

#[test]
fn an_abort_racing_the_start_and_the_timeout_is_reported_once_with_the_first_reason() {
    loom::model(|| {
        let control = JobControl::new();
        let reports = Arc::new(Mutex::new(Vec::new()));
        let w = {
            let (control, reports) = (control.clone(), reports.clone());
            thread::spawn(move || worker(&control, None, true, &reports))
        };
        let aborted = abort(&control, &reports);
        let timed_out = w.join().unwrap();

        let reports = reports.lock().unwrap();
        assert_eq!(reports.len(), 1, "exactly one side reports: {reports:?}");
        // The first reason wins: exactly one `cancel` set it (the abort always calls it; the worker
        // only when it ran), and that is the reason reported, whoever reports.
        let reason = control.cancel_reason();
        assert!(reason.is_some());
        assert_eq!(usize::from(aborted) + usize::from(timed_out), 1);
        let expected = if aborted { CancelReason::Aborted } else { CancelReason::TimedOut };
        assert_eq!(reason, Some(expected));
        assert_eq!(reports[0].1, Some(expected), "{reports:?}");
        // Withdrawn and run exclude each other.
        assert_eq!(control.is_withdrawn(), reports[0].0 == "canceller");
    });
}

#[test]
fn a_job_dequeued_after_destroy_reports_once_and_an_earlier_abort_keeps_its_reason() {
    loom::model(|| {
        let control = JobControl::new();
        let reports = Arc::new(Mutex::new(Vec::new()));
        // The worker dequeued it after `destroy` set the pool's flag: it must skip it.
        let w = {
            let (control, reports) = (control.clone(), reports.clone());
            thread::spawn(move || worker(&control, Some(CancelReason::Destroyed), false, &reports))
        };
        abort(&control, &reports);
        w.join().unwrap();

        let reports = reports.lock().unwrap();
        assert_eq!(reports.len(), 1, "exactly one side reports: {reports:?}");
        assert!(control.is_withdrawn(), "a skipped job never runs");
        // Whichever side withdrew it, the caller learns the reason that was set first.
        assert_eq!(reports[0].1, control.cancel_reason(), "{reports:?}");
    });
}

#[test]
fn a_terminated_environment_and_the_worker_finish_an_orphan_exactly_once() {
    loom::model(|| {
        let control = JobControl::new();
        let reports = Arc::new(Mutex::new(Vec::new()));
        // EnvSink::alive and EnvSink::unfinished of the job's environment.
        let alive = Arc::new(AtomicBool::new(true));
        let unfinished = Arc::new(AtomicUsize::new(1));
        let w = {
            let (control, reports, alive, unfinished) =
                (control.clone(), reports.clone(), alive.clone(), unfinished.clone());
            thread::spawn(move || {
                // run_job: the orphan check, then the claim; `complete` counts the job finished.
                let skip = (!alive.load(Ordering::Acquire)).then_some(CancelReason::Orphaned);
                let before = reports.lock().unwrap().len();
                worker(&control, skip, false, &reports);
                if reports.lock().unwrap().len() > before {
                    assert!(unfinished.fetch_sub(1, Ordering::AcqRel) >= 1);
                }
            })
        };
        // env.rs::on_teardown: close the sink, then orphan and withdraw every pending job; a job
        // withdrawn here is finished by teardown itself (its outcome has nobody to go to).
        alive.store(false, Ordering::Release);
        control.cancel(CancelReason::Orphaned);
        let withdrawn = control.withdraw();
        if withdrawn {
            assert!(unfinished.fetch_sub(1, Ordering::AcqRel) >= 1);
        }
        w.join().unwrap();

        // Teardown waits for `unfinished` to reach 0: exactly once, never below.
        assert_eq!(unfinished.load(Ordering::Acquire), 0);
        let reports = reports.lock().unwrap();
        assert_eq!(usize::from(withdrawn) + reports.len(), 1, "{reports:?}");
        if let Some((_, outcome)) = reports.first() {
            // A job the worker skipped reports the orphaning; one it ran may have finished first.
            assert!(matches!(outcome, None | Some(CancelReason::Orphaned)), "{outcome:?}");
        }
    });
}

/// Stands in for the threadsafe function: counts wake-ups made and not yet begun by the consumer.
struct Waker {
    on_their_way: AtomicUsize,
    made: AtomicUsize,
}

impl Waker {
    fn wake(&self) {
        // A wake-up is made only when none is on its way: a thousand pushes cost one.
        assert_eq!(self.on_their_way.fetch_add(1, Ordering::AcqRel), 0, "a second wake-up on its way");
        self.made.fetch_add(1, Ordering::Relaxed);
    }

    /// The consumer begins one wake-up, if one is on its way.
    fn begin(&self) -> bool {
        // At most one is on its way (asserted in `wake`): a compare-exchange reads the latest count.
        self.on_their_way.compare_exchange(1, 0, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }
}

#[test]
fn events_pushed_while_the_consumer_drains_are_all_delivered_and_none_waits_without_a_wake_up() {
    loom::model(|| {
        let inbox: Arc<Inbox<(usize, usize)>> = Arc::new(Inbox::new());
        let waker = Arc::new(Waker { on_their_way: AtomicUsize::new(0), made: AtomicUsize::new(0) });
        // Two pool threads; the first pushes two events (a message, then the outcome).
        let producers: Vec<_> = [2, 1]
            .into_iter()
            .enumerate()
            .map(|(p, n)| {
                let (inbox, waker) = (inbox.clone(), waker.clone());
                thread::spawn(move || {
                    for seq in 0..n {
                        assert!(inbox.push((p, seq), || waker.wake()));
                    }
                })
            })
            .collect();
        // The JS thread handles wake-ups as they come, meanwhile (on_batch).
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let consumer = {
            let (inbox, waker, delivered) = (inbox.clone(), waker.clone(), delivered.clone());
            thread::spawn(move || {
                for _ in 0..2 {
                    if waker.begin() {
                        let mut batch = Vec::new();
                        inbox.take(&mut batch);
                        delivered.lock().unwrap().extend(batch);
                    }
                }
            })
        };
        for p in producers {
            p.join().unwrap();
        }
        consumer.join().unwrap();
        // Later turns of the event loop: every wake-up still on its way is handled.
        let mut delivered = std::mem::take(&mut *delivered.lock().unwrap());
        while waker.begin() {
            let mut batch = Vec::new();
            inbox.take(&mut batch);
            delivered.extend(batch);
        }
        // Nothing is left behind with no wake-up coming for it, and nothing is lost or reordered.
        let mut left = Vec::new();
        inbox.take(&mut left);
        assert!(left.is_empty(), "events with no wake-up on its way: {left:?} (delivered {delivered:?}, {} wake-ups)", waker.made.load(Ordering::Relaxed));
        let of = |p: usize| delivered.iter().filter(|e| e.0 == p).map(|e| e.1).collect::<Vec<_>>();
        assert_eq!((of(0), of(1), delivered.len()), (vec![0, 1], vec![0], 3));
        let made = waker.made.load(Ordering::Relaxed);
        assert!((1..=3).contains(&made));
    });
}

#[test]
fn no_wake_up_is_made_once_the_inbox_is_closed() {
    loom::model(|| {
        let inbox: Arc<Inbox<usize>> = Arc::new(Inbox::new());
        // Set once teardown has released the threadsafe function.
        let released = Arc::new(AtomicBool::new(false));
        let pushed = Arc::new(AtomicUsize::new(0));
        let producer = {
            let (inbox, released, pushed) = (inbox.clone(), released.clone(), pushed.clone());
            thread::spawn(move || {
                for seq in 0..2 {
                    let accepted = inbox.push(seq, || {
                        assert!(!released.load(Ordering::Acquire), "woke through a released function");
                    });
                    if accepted {
                        pushed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        };
        // env.rs::on_teardown: close, then release the function.
        inbox.close();
        released.store(true, Ordering::Release);
        producer.join().unwrap();
        // What was pushed before the close was dropped with it; nothing got in after.
        let mut left = Vec::new();
        inbox.take(&mut left);
        assert!(left.is_empty(), "{left:?} after close");
        assert!(pushed.load(Ordering::Relaxed) <= 2);
    });
}
