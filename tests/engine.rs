//! The engine without Node: a `ThreadPool` driven by jobs whose messages and outcomes come back over
//! channels. Every wait is on a channel or a gate, never a sleep.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use native_pool::{
    CancelReason, Job, JobControl, JobOptions, JobSink, NoObserver, PoolConfig, ScriptCall, ScriptConsumer, ScriptHooks,
    ScriptTake, StartedScript, TaskContext, TaskError, ThreadPool, Value, DEFAULT_GRACE_TIME, MESSAGE_BACKLOG,
};

fn fixed(threads: usize) -> ThreadPool {
    ThreadPool::new(PoolConfig::fixed(threads), Arc::new(NoObserver))
}

#[test]
fn jobs_resolve_with_their_values() {
    let pool = fixed(2);
    let (sink, rx) = ChannelSink::new();
    for t in 0..100 {
        submit(&pool, &sink, t, value_job(t as f64 * 2.0));
    }
    let mut done = collect_done(&rx, 100);
    done.sort_by_key(|(t, _)| *t);
    for (t, outcome) in done {
        assert_eq!(outcome, Ok(Value::Number(t as f64 * 2.0)));
    }
    assert!(rx.try_recv().is_err(), "each job reports exactly one outcome");
}

#[test]
fn panic_is_reported_and_thread_keeps_serving() {
    let pool = fixed(1);
    let (sink, rx) = ChannelSink::new();
    submit(&pool, &sink, 1, Box::new(|_: &TaskContext| panic!("boom {}", 7)));
    assert_eq!(next_done(&rx), (1, Err(TaskError::Panicked { message: "boom 7".into() })));
    // The only thread survived the panic and serves the next job.
    submit(&pool, &sink, 2, value_job(42.0));
    assert_eq!(next_done(&rx), (2, Ok(Value::Number(42.0))));
    // A panic with a non-string payload is reported too.
    submit(&pool, &sink, 3, Box::new(|_: &TaskContext| std::panic::panic_any(17u32)));
    let (t, outcome) = next_done(&rx);
    assert_eq!(t, 3);
    assert!(matches!(outcome, Err(TaskError::Panicked { .. })), "{outcome:?}");
    submit(&pool, &sink, 4, value_job(4.0));
    assert_eq!(next_done(&rx), (4, Ok(Value::Number(4.0))));
    assert_eq!(pool.stats().threads, 1);
    assert_eq!(pool.stats().failed, 2);
}

#[test]
fn workers_stop_on_close_and_join() {
    let (observer, events) = ChannelObserver::new();
    let pool = ThreadPool::new(PoolConfig::fixed(3), observer);
    let mut started: Vec<u32> = (0..3)
        .map(|_| match events.recv_timeout(PATIENCE).unwrap() {
            ThreadEvent::Started(id) => id,
            other => panic!("expected a start, got {other:?}"),
        })
        .collect();
    started.sort_unstable();
    started.dedup();
    assert_eq!(started.len(), 3, "three distinct threads started");
    assert!(!pool.is_closed());
    pool.close();
    assert!(pool.is_closed());
    pool.join();
    // join() returned: every thread has already reported its stop.
    let mut stopped: Vec<(u32, i32)> = events
        .try_iter()
        .map(|e| match e {
            ThreadEvent::Stopped(id, code) => (id, code),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    stopped.sort_unstable();
    assert_eq!(stopped, started.iter().map(|&id| (id, 0)).collect::<Vec<_>>());
    assert_eq!(pool.stats().threads, 0);

    // A closed pool refuses work and hands the job back.
    let (sink, _rx) = ChannelSink::new();
    let sink: Arc<dyn JobSink> = sink;
    let refused = pool.submit(native_pool::Job::new(value_job(1.0), sink, 9, JobControl::new(), JobOptions::default()));
    match refused {
        Err(e) => assert_eq!(e.error, TaskError::PoolClosed),
        Ok(()) => panic!("a closed pool accepted a job"),
    }
}

#[test]
fn queued_jobs_run_before_close_completes() {
    let pool = fixed(1);
    let (sink, rx) = ChannelSink::new();
    let gate = Gate::new();
    submit(&pool, &sink, 0, gate.job());
    gate.wait_started();
    for t in 1..=10 {
        submit(&pool, &sink, t, value_job(t as f64));
    }
    pool.close();
    gate.open();
    pool.join();
    // Everything accepted before close() ran, and reported before join() returned.
    let mut done: Vec<_> = rx
        .try_iter()
        .map(|r| match r {
            Report::Done(t, o) => (t, o),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(done.len(), 11);
    done.sort_by_key(|(t, _)| *t);
    assert_eq!(done[0], (0, Ok(Value::String("gate".into()))));
    for (t, o) in &done[1..] {
        assert_eq!(*o, Ok(Value::Number(*t as f64)));
    }
}

#[test]
fn dropping_the_pool_lets_accepted_jobs_finish() {
    let (sink, rx) = ChannelSink::new();
    {
        let pool = fixed(1);
        for t in 0..5 {
            submit(&pool, &sink, t, value_job(t as f64));
        }
    }
    assert_eq!(collect_done(&rx, 5).len(), 5);
}

#[test]
fn priority_order_with_one_thread() {
    let pool = fixed(1);
    let (sink, rx) = ChannelSink::new();
    let gate = Gate::new();
    submit(&pool, &sink, 0, gate.job());
    gate.wait_started();
    // (ticket, priority): higher first, first-come first-served within one priority.
    let jobs = [(1, 0), (2, 5), (3, -1), (4, 5), (5, 10), (6, 0), (7, i32::MIN), (8, i32::MAX)];
    for (t, priority) in jobs {
        submit_with(&pool, &sink, t, JobOptions { priority, ..Default::default() }, value_job(t as f64));
    }
    gate.open();
    let order: Vec<u64> = collect_done(&rx, 9).into_iter().map(|(t, _)| t).collect();
    assert_eq!(order, vec![0, 8, 5, 2, 4, 1, 6, 3, 7]);
}

#[test]
fn withdraw_before_start_skips_job() {
    let pool = fixed(1);
    let (sink, rx) = ChannelSink::new();
    let gate = Gate::new();
    submit(&pool, &sink, 0, gate.job());
    gate.wait_started();
    let ran = Arc::new(AtomicUsize::new(0));
    let ran2 = ran.clone();
    let control = submit(
        &pool,
        &sink,
        1,
        Box::new(move |_: &TaskContext| {
            ran2.fetch_add(1, Ordering::SeqCst);
            Ok(Value::Null)
        }),
    );
    assert_eq!(pool.stats().queued, 1);
    assert!(pool.withdraw(&control), "a queued job can be withdrawn");
    assert!(control.is_withdrawn());
    assert!(!pool.withdraw(&control), "only once");
    assert_eq!(pool.stats().queued, 0);
    gate.open();
    submit(&pool, &sink, 2, value_job(2.0));
    // FIFO on one thread: once 2 is done, 1 was dequeued (and skipped).
    let done: Vec<u64> = collect_done(&rx, 2).into_iter().map(|(t, _)| t).collect();
    assert_eq!(done, vec![0, 2], "the withdrawn job reports nothing: its withdrawer owns the outcome");
    assert_eq!(ran.load(Ordering::SeqCst), 0, "the withdrawn job never ran");
    let s = pool.stats();
    assert_eq!((s.completed, s.cancelled, s.queued, s.running), (2, 1, 0, 0));

    // A running job cannot be withdrawn.
    let gate = Gate::new();
    let control = submit(&pool, &sink, 3, gate.job());
    gate.wait_started();
    assert!(!pool.withdraw(&control));
    gate.open();
    assert_eq!(next_done(&rx).0, 3);
}

#[test]
fn cancel_running_job_reports_abort_and_thread_serves_next() {
    let pool = fixed(1);
    let (sink, rx) = ChannelSink::new();
    let gate = Gate::new();
    let control = submit(&pool, &sink, 1, gate.job());
    gate.wait_started();
    assert!(control.cancel(CancelReason::Aborted));
    assert!(!control.cancel(CancelReason::TimedOut), "the first reason wins");
    assert_eq!(next_done(&rx), (1, Err(TaskError::Cancelled(CancelReason::Aborted))));
    submit(&pool, &sink, 2, value_job(2.0));
    assert_eq!(next_done(&rx), (2, Ok(Value::Number(2.0))));
}

#[test]
fn a_result_after_cancellation_still_reports_the_cancellation() {
    let pool = fixed(1);
    let (sink, rx) = ChannelSink::new();
    let (go_tx, go_rx) = crossbeam_channel::unbounded::<()>();
    let control = submit(
        &pool,
        &sink,
        1,
        Box::new(move |_: &TaskContext| {
            // Ignores its cancel flag on purpose.
            go_rx.recv_timeout(PATIENCE).unwrap();
            Ok(Value::Number(1.0))
        }),
    );
    common::eventually("the job is running", || pool.stats().running == 1);
    control.cancel(CancelReason::Aborted);
    go_tx.send(()).unwrap();
    assert_eq!(next_done(&rx), (1, Err(TaskError::Cancelled(CancelReason::Aborted))));
}

#[test]
fn sleep_wakes_at_once_when_cancelled() {
    let pool = fixed(1);
    let (sink, rx) = ChannelSink::new();
    let (started_tx, started_rx) = crossbeam_channel::unbounded();
    let control = submit(
        &pool,
        &sink,
        1,
        Box::new(move |ctx: &TaskContext| {
            started_tx.send(()).unwrap();
            ctx.sleep(Duration::from_secs(3600))?;
            Ok(Value::Null)
        }),
    );
    started_rx.recv_timeout(PATIENCE).unwrap();
    control.cancel(CancelReason::Aborted);
    assert_eq!(next_done(&rx), (1, Err(TaskError::Cancelled(CancelReason::Aborted))));
}

#[test]
fn destroy_rejects_queued_and_cancels_running() {
    let pool = fixed(1);
    let (sink, rx) = ChannelSink::new();
    let gate = Gate::new();
    submit(&pool, &sink, 0, gate.job());
    gate.wait_started();
    let ran = Arc::new(AtomicUsize::new(0));
    for t in 1..=3 {
        submit(&pool, &sink, t, counting_job(&ran));
    }
    pool.destroy();
    assert!(pool.is_closed());
    let mut done = collect_done(&rx, 4);
    done.sort_by_key(|(t, _)| *t);
    for (t, outcome) in &done {
        assert_eq!(*outcome, Err(TaskError::Cancelled(CancelReason::Destroyed)), "job {t}");
        assert_eq!(outcome.as_ref().unwrap_err().code(), "ERR_POOL_CLOSED");
    }
    pool.join();
    assert_eq!(ran.load(Ordering::SeqCst), 0, "queued jobs never ran");
    assert!(rx.try_recv().is_err(), "one outcome per job");
    let s = pool.stats();
    assert_eq!((s.threads, s.cancelled, s.queued, s.running), (0, 4, 0, 0));
}

#[test]
fn orphaned_jobs_are_skipped() {
    let pool = fixed(1);
    let (alive_sink, alive_rx) = ChannelSink::new();
    let (dead_sink, dead_rx) = ChannelSink::new();
    let gate = Gate::new();
    submit(&pool, &alive_sink, 0, gate.job());
    gate.wait_started();
    let ran = Arc::new(AtomicUsize::new(0));
    for t in 1..=5 {
        submit(&pool, &dead_sink, t, counting_job(&ran));
    }
    dead_sink.alive.store(false, Ordering::Release);
    gate.open();
    submit(&pool, &alive_sink, 6, value_job(6.0));
    let done: Vec<u64> = collect_done(&alive_rx, 2).into_iter().map(|(t, _)| t).collect();
    assert_eq!(done, vec![0, 6]);
    assert_eq!(ran.load(Ordering::SeqCst), 0, "jobs of a dead sink are skipped, not run");
    // Whatever a dead sink is told, it is never a result.
    for r in dead_rx.try_iter() {
        match r {
            Report::Done(_, Err(TaskError::Cancelled(CancelReason::Orphaned))) => {}
            other => panic!("unexpected report to a dead sink: {other:?}"),
        }
    }
    let s = pool.stats();
    assert_eq!((s.completed, s.cancelled, s.queued, s.running), (2, 5, 0, 0));
}

#[test]
fn timeout_counts_from_start() {
    let pool = fixed(1);
    let (sink, rx) = ChannelSink::new();
    // The first job blocks the only thread until its own 300 ms timeout stops it; the second waits
    // in the queue all that time, longer than its 100 ms timeout, and must still succeed.
    let gate = Gate::new();
    let blocker = JobOptions { timeout: Some(Duration::from_millis(300)), ..Default::default() };
    submit_with(&pool, &sink, 1, blocker, gate.job());
    let short = JobOptions { timeout: Some(Duration::from_secs(5)), ..Default::default() };
    let quick = JobOptions { timeout: Some(Duration::from_millis(100)), ..Default::default() };
    submit_with(&pool, &sink, 2, quick, value_job(2.0));
    // A long task with a short timeout is stopped.
    submit_with(
        &pool,
        &sink,
        3,
        JobOptions { timeout: Some(Duration::from_millis(50)), ..Default::default() },
        Box::new(|ctx: &TaskContext| {
            ctx.sleep(Duration::from_secs(3600))?;
            Ok(Value::Null)
        }),
    );
    // A busy task that checks its flag is stopped too.
    submit_with(
        &pool,
        &sink,
        4,
        JobOptions { timeout: Some(Duration::from_millis(50)), ..Default::default() },
        Box::new(|ctx: &TaskContext| loop {
            ctx.check()?;
        }),
    );
    submit_with(&pool, &sink, 5, short, value_job(5.0));
    let done = collect_done(&rx, 5);
    assert_eq!(
        done,
        vec![
            (1, Err(TaskError::Cancelled(CancelReason::TimedOut))),
            (2, Ok(Value::Number(2.0))),
            (3, Err(TaskError::Cancelled(CancelReason::TimedOut))),
            (4, Err(TaskError::Cancelled(CancelReason::TimedOut))),
            (5, Ok(Value::Number(5.0))),
        ]
    );
    assert_eq!(done[0].1.as_ref().unwrap_err().code(), "ERR_TASK_TIMEOUT");
    let s = pool.stats();
    assert_eq!((s.completed, s.timed_out), (2, 3));
}

#[test]
fn dynamic_threads_grow_and_retire() {
    let (observer, events) = ChannelObserver::new();
    let config = PoolConfig {
        min_threads: 0,
        max_threads: 2,
        idle_timeout: Duration::from_millis(30),
        max_queue: None,
        thread_name: "grow-test".into(),
        ..PoolConfig::fixed(2)
    };
    let pool = ThreadPool::new(config, observer);
    assert_eq!(pool.stats().threads, 0, "no thread starts before there is work");
    let (sink, rx) = ChannelSink::new();
    let (g1, g2) = (Gate::new(), Gate::new());
    submit(&pool, &sink, 1, g1.job());
    submit(&pool, &sink, 2, g2.job());
    // Both gates run at once: two threads started on demand.
    g1.wait_started();
    g2.wait_started();
    assert_eq!(pool.stats().threads, 2);
    // A third job waits: the maximum is 2.
    submit(&pool, &sink, 3, value_job(3.0));
    assert_eq!(pool.stats().threads, 2);
    g1.open();
    g2.open();
    assert_eq!(collect_done(&rx, 3).len(), 3);
    let mut started = 0;
    let mut stopped = 0;
    while stopped < 2 {
        match events.recv_timeout(PATIENCE).expect("idle threads should retire") {
            ThreadEvent::Started(_) => started += 1,
            ThreadEvent::Stopped(_, code) => {
                assert_eq!(code, 0);
                stopped += 1
            }
        }
    }
    assert_eq!(started, 2, "never more than max_threads");
    assert_eq!(pool.stats().threads, 0);
    // Work again: a thread starts again.
    submit(&pool, &sink, 4, value_job(4.0));
    assert_eq!(next_done(&rx), (4, Ok(Value::Number(4.0))));
    assert!(matches!(events.recv_timeout(PATIENCE).unwrap(), ThreadEvent::Started(_)));
    assert_eq!(pool.stats().completed, 4, "counters of retired threads are kept");
    pool.close();
    pool.join();
}

#[test]
fn min_threads_stay_when_idle() {
    let (observer, events) = ChannelObserver::new();
    let config = PoolConfig {
        min_threads: 1,
        max_threads: 2,
        idle_timeout: Duration::from_millis(20),
        max_queue: None,
        thread_name: "min-test".into(),
        ..PoolConfig::fixed(2)
    };
    let pool = ThreadPool::new(config, observer);
    assert!(matches!(events.recv_timeout(PATIENCE).unwrap(), ThreadEvent::Started(_)));
    let (sink, rx) = ChannelSink::new();
    let (g1, g2) = (Gate::new(), Gate::new());
    submit(&pool, &sink, 1, g1.job());
    submit(&pool, &sink, 2, g2.job());
    g1.wait_started();
    g2.wait_started();
    g1.open();
    g2.open();
    collect_done(&rx, 2);
    // One of the two retires; the minimum stays.
    while let ThreadEvent::Started(_) = events.recv_timeout(PATIENCE).expect("the extra thread should retire") {}
    assert_eq!(pool.stats().threads, 1);
    pool.close();
    pool.join();
    assert_eq!(pool.stats().threads, 0);
}

#[test]
fn stats_add_up() {
    let pool = fixed(2);
    let (sink, rx) = ChannelSink::new();
    // One thread held by a gate, so that one job stays queued and can be withdrawn.
    let gate = Gate::new();
    submit(&pool, &sink, 0, gate.job());
    gate.wait_started();
    let runner = Gate::new();
    let running = submit(&pool, &sink, 1, runner.job());
    runner.wait_started();
    let queued = submit(&pool, &sink, 2, value_job(2.0));
    let s = pool.stats();
    assert_eq!((s.threads, s.idle, s.running, s.queued), (2, 0, 2, 1));
    assert!(pool.withdraw(&queued));
    running.cancel(CancelReason::Aborted);
    assert_eq!(next_done(&rx).0, 1);
    gate.open();
    assert_eq!(next_done(&rx).0, 0);

    for t in 10..15 {
        submit(&pool, &sink, t, value_job(t as f64));
    }
    for t in 20..22 {
        submit(&pool, &sink, t, Box::new(|_: &TaskContext| Err(TaskError::failed("nope"))));
    }
    submit(&pool, &sink, 30, Box::new(|_: &TaskContext| panic!("oops")));
    submit_with(
        &pool,
        &sink,
        40,
        JobOptions { timeout: Some(Duration::from_millis(10)), ..Default::default() },
        Box::new(|ctx: &TaskContext| {
            ctx.sleep(Duration::from_secs(3600))?;
            Ok(Value::Null)
        }),
    );
    collect_done(&rx, 9);
    let s = pool.stats();
    assert_eq!(s.completed, 6, "gate + 5 values");
    assert_eq!(s.failed, 3, "2 failures + 1 panic");
    assert_eq!(s.cancelled, 2, "1 withdrawn + 1 cancelled while running");
    assert_eq!(s.timed_out, 1);
    assert_eq!((s.queued, s.running), (0, 0));
    // Every job that ran (all but the withdrawn one) was timed.
    assert_eq!(s.run_time.count, 11);
    assert_eq!(s.wait_time.count, 11);
    assert!(s.run_time.min_ns <= s.run_time.p50_ns && s.run_time.p50_ns <= s.run_time.p90_ns);
    assert!(s.run_time.p90_ns <= s.run_time.p99_ns && s.run_time.p99_ns <= s.run_time.max_ns);
    assert!((0.0..=1.0).contains(&s.utilization));
}

/// A sink that holds messages (never tells the job they were delivered) until the test says so.
#[test]
fn message_backlog_blocks_and_resumes() {
    let pool = fixed(1);
    let (sink, rx) = ChannelSink::new();
    let extra = 10;
    let posted = Arc::new(AtomicUsize::new(0));
    let posted2 = posted.clone();
    let control = submit_with(
        &pool,
        &sink,
        1,
        JobOptions { wants_messages: true, ..Default::default() },
        Box::new(move |ctx: &TaskContext| {
            for i in 0..MESSAGE_BACKLOG + extra {
                ctx.post(Value::Number(i as f64));
                posted2.fetch_add(1, Ordering::SeqCst);
            }
            Ok(Value::Number((MESSAGE_BACKLOG + extra) as f64))
        }),
    );
    let mut got = Vec::new();
    for _ in 0..MESSAGE_BACKLOG {
        match rx.recv_timeout(PATIENCE).unwrap() {
            Report::Message(1, Value::Number(n)) => got.push(n as usize),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, (0..MESSAGE_BACKLOG).collect::<Vec<_>>());
    // The task is now blocked: no message beyond the backlog until one is delivered.
    assert!(rx.recv_timeout(Duration::from_millis(100)).is_err(), "the backlog bound was not enforced");
    assert_eq!(posted.load(Ordering::SeqCst), MESSAGE_BACKLOG);
    // Deliver them all: the task resumes and finishes, nothing lost.
    for _ in 0..MESSAGE_BACKLOG {
        control.message_delivered();
    }
    let mut rest = Vec::new();
    loop {
        match rx.recv_timeout(PATIENCE).unwrap() {
            Report::Message(1, Value::Number(n)) => {
                rest.push(n as usize);
                control.message_delivered();
            }
            Report::Done(1, outcome) => {
                assert_eq!(outcome, Ok(Value::Number((MESSAGE_BACKLOG + extra) as f64)));
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(rest, (MESSAGE_BACKLOG..MESSAGE_BACKLOG + extra).collect::<Vec<_>>());
}

#[test]
fn a_task_blocked_on_its_backlog_can_be_cancelled() {
    let pool = fixed(1);
    let (sink, rx) = ChannelSink::new();
    let control = submit_with(
        &pool,
        &sink,
        1,
        JobOptions { wants_messages: true, ..Default::default() },
        Box::new(|ctx: &TaskContext| loop {
            ctx.check()?;
            ctx.post(Value::Null);
        }),
    );
    for _ in 0..MESSAGE_BACKLOG {
        assert!(matches!(rx.recv_timeout(PATIENCE).unwrap(), Report::Message(1, _)));
    }
    control.cancel(CancelReason::Aborted);
    assert_eq!(next_done(&rx), (1, Err(TaskError::Cancelled(CancelReason::Aborted))));
}

#[test]
fn messages_are_dropped_when_nobody_wants_them() {
    let pool = fixed(1);
    let (sink, rx) = ChannelSink::new();
    submit(
        &pool,
        &sink,
        1,
        Box::new(|ctx: &TaskContext| {
            assert!(!ctx.wants_messages());
            for _ in 0..10 * MESSAGE_BACKLOG {
                ctx.post(Value::Null);
            }
            Ok(Value::Null)
        }),
    );
    match rx.recv_timeout(PATIENCE).unwrap() {
        Report::Done(1, Ok(Value::Null)) => {}
        other => panic!("expected only the outcome, got {other:?}"),
    }
}

#[test]
fn max_queue_rejects() {
    let mut config = PoolConfig::fixed(1);
    config.max_queue = Some(2);
    let pool = ThreadPool::new(config, Arc::new(NoObserver));
    let (sink, rx) = ChannelSink::new();
    let gate = Gate::new();
    submit(&pool, &sink, 0, gate.job());
    gate.wait_started();
    submit(&pool, &sink, 1, value_job(1.0));
    submit(&pool, &sink, 2, value_job(2.0));
    let dyn_sink: Arc<dyn JobSink> = sink.clone();
    match pool.submit(native_pool::Job::new(value_job(3.0), dyn_sink.clone(), 3, JobControl::new(), JobOptions::default())) {
        Err(e) => {
            assert_eq!(e.error, TaskError::QueueFull { max_queue: 2 });
            assert_eq!(e.error.code(), "ERR_QUEUE_FULL");
        }
        Ok(()) => panic!("a full queue accepted a job"),
    }
    gate.open();
    assert_eq!(collect_done(&rx, 3).len(), 3);
    // Room again once the queue drained.
    submit(&pool, &sink, 4, value_job(4.0));
    assert_eq!(next_done(&rx), (4, Ok(Value::Number(4.0))));
}

#[test]
fn many_jobs_from_many_threads_each_settle_once() {
    let pool = Arc::new(fixed(2));
    let (sink, rx) = ChannelSink::new();
    let submitters: Vec<_> = (0..4u64)
        .map(|s| {
            let pool = pool.clone();
            let sink = sink.clone();
            std::thread::spawn(move || {
                for i in 0..2_500u64 {
                    let t = s * 10_000 + i;
                    submit(&pool, &sink, t, value_job(t as f64));
                }
            })
        })
        .collect();
    for s in submitters {
        s.join().unwrap();
    }
    let mut seen = std::collections::HashSet::new();
    for (t, o) in collect_done(&rx, 10_000) {
        assert_eq!(o, Ok(Value::Number(t as f64)));
        assert!(seen.insert(t), "ticket {t} settled twice");
    }
    assert_eq!(pool.stats().completed, 10_000);
}

// Script jobs (JS tasks): a consumer driven from the test thread, or from plain threads, stands in
// for a Worker. Its hooks report over a channel.

/// What a script consumer's hooks were called for.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Hook {
    Wake,
    Abort,
    Terminate,
}

fn hooks() -> (ScriptHooks, crossbeam_channel::Receiver<Hook>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let send = |h: Hook| {
        let tx = tx.clone();
        Arc::new(move || {
            let _ = tx.send(h);
        }) as Arc<dyn Fn() + Send + Sync>
    };
    (ScriptHooks { wake: send(Hook::Wake), abort: send(Hook::Abort), terminate: send(Hook::Terminate) }, rx)
}

fn scripted(grace: Duration) -> ThreadPool {
    ThreadPool::new(PoolConfig { grace_time: grace, script_workers: 1, ..PoolConfig::fixed(1) }, Arc::new(NoObserver))
}

fn submit_script(pool: &ThreadPool, sink: &Arc<ChannelSink>, ticket: u64, function: u32, options: JobOptions) -> Arc<JobControl> {
    let control = JobControl::new();
    let sink: Arc<dyn JobSink> = sink.clone();
    let call = ScriptCall { function, id: ticket, args: Value::Number(ticket as f64) };
    if pool.submit(Job::script(call, sink, ticket, control.clone(), options)).is_err() {
        panic!("script job {ticket} was refused");
    }
    control
}

fn take_job(consumer: &ScriptConsumer) -> StartedScript {
    match consumer.take() {
        ScriptTake::Job(job) => job,
        ScriptTake::Nothing => panic!("expected a script job, found nothing"),
        ScriptTake::Closed => panic!("expected a script job, found the pool closed"),
    }
}

fn next_hook(rx: &crossbeam_channel::Receiver<Hook>) -> Hook {
    rx.recv_timeout(PATIENCE).expect("a hook should have been called")
}

#[test]
fn script_jobs_go_to_the_consumer_in_priority_order() {
    let pool = scripted(DEFAULT_GRACE_TIME);
    let (hooks, hook_rx) = hooks();
    let consumer = pool.attach_script_consumer(hooks);
    let (sink, rx) = ChannelSink::new();
    assert!(matches!(consumer.take(), ScriptTake::Nothing), "nothing queued yet: the consumer goes idle");
    for (ticket, priority) in [(0u64, 0), (1, 5), (2, -1), (3, 5), (4, 1), (5, 0)] {
        submit_script(&pool, &sink, ticket, ticket as u32, JobOptions { priority, ..JobOptions::default() });
    }
    // Only the first job found the consumer idle; it has not taken anything since.
    assert_eq!(next_hook(&hook_rx), Hook::Wake);
    assert!(hook_rx.try_recv().is_err(), "one wake-up for an idle consumer, not one per job");
    let mut order = Vec::new();
    while let ScriptTake::Job(job) = consumer.take() {
        order.push(job.call.function);
        let args = job.call.args.clone();
        job.finish(Ok(args));
    }
    assert_eq!(order, [1, 3, 4, 0, 5, 2]);
    let mut done = collect_done(&rx, 6);
    done.sort_by_key(|(t, _)| *t);
    for (t, outcome) in done {
        assert_eq!(outcome, Ok(Value::Number(t as f64)));
    }
    // No native thread ran any of them.
    assert_eq!(pool.stats().completed, 6);
}

#[test]
fn a_script_job_withdrawn_while_queued_is_never_taken() {
    let pool = scripted(DEFAULT_GRACE_TIME);
    let (hooks, _hook_rx) = hooks();
    let consumer = pool.attach_script_consumer(hooks);
    let (sink, rx) = ChannelSink::new();
    let first = submit_script(&pool, &sink, 1, 1, JobOptions::default());
    submit_script(&pool, &sink, 2, 2, JobOptions::default());
    assert_eq!(pool.stats().queued, 2);
    assert!(pool.withdraw(&first), "a queued script job can be withdrawn");
    assert!(!pool.withdraw(&first), "only once");
    assert_eq!(pool.stats().queued, 1, "the withdrawn job is not counted as queued");
    let job = take_job(&consumer);
    assert_eq!(job.call.function, 2);
    job.finish(Ok(Value::Null));
    assert_eq!(next_done(&rx), (2, Ok(Value::Null)));
    assert!(matches!(consumer.take(), ScriptTake::Nothing));
    let s = pool.stats();
    assert_eq!((s.queued, s.completed, s.cancelled), (0, 1, 1));
}

#[test]
fn cancelling_a_running_script_job_calls_the_abort_hook() {
    let pool = scripted(Duration::from_secs(3600));
    let (hooks, hook_rx) = hooks();
    let consumer = pool.attach_script_consumer(hooks);
    let (sink, rx) = ChannelSink::new();
    let control = submit_script(&pool, &sink, 7, 0, JobOptions::default());
    let job = take_job(&consumer);
    assert!(!job.is_cancelled());
    assert!(matches!(consumer.take(), ScriptTake::Nothing), "one job at a time per consumer");
    assert!(!pool.withdraw(&control), "a running job cannot be withdrawn");
    assert!(control.cancel(CancelReason::Aborted));
    assert_eq!(next_hook(&hook_rx), Hook::Abort);
    assert!(job.is_cancelled());
    assert_eq!(job.cancel_reason(), Some(CancelReason::Aborted));
    // The task stops by throwing (the signal's reason, typically): the caller sees the cancellation.
    job.finish(Err(TaskError::ScriptFailed { name: "AbortError".into(), message: "aborted".into(), stack: None }));
    assert_eq!(next_done(&rx), (7, Err(TaskError::Cancelled(CancelReason::Aborted))));
    let s = pool.stats();
    assert_eq!((s.cancelled, s.running), (1, 0));
}

#[test]
fn a_script_timeout_fires_from_the_watchdog() {
    let pool = scripted(Duration::from_secs(3600));
    let (hooks, hook_rx) = hooks();
    let consumer = pool.attach_script_consumer(hooks);
    let (sink, rx) = ChannelSink::new();
    let options = JobOptions { timeout: Some(Duration::from_millis(20)), ..JobOptions::default() };
    submit_script(&pool, &sink, 3, 0, options);
    let job = take_job(&consumer);
    // The task never checks anything (an infinite loop would not): the watchdog cancels it.
    assert_eq!(next_hook(&hook_rx), Hook::Abort);
    assert_eq!(job.cancel_reason(), Some(CancelReason::TimedOut));
    job.finish(Ok(Value::Number(1.0)));
    assert_eq!(next_done(&rx), (3, Err(TaskError::Cancelled(CancelReason::TimedOut))));
    assert_eq!(pool.stats().timed_out, 1);
}

#[test]
fn grace_expiry_calls_terminate_only_for_a_job_still_running() {
    let pool = scripted(Duration::from_millis(10));
    let (hooks, hook_rx) = hooks();
    let consumer = pool.attach_script_consumer(hooks);
    let (sink, rx) = ChannelSink::new();

    // A cancelled job that stops at once: its grace expiry must do nothing.
    let a = submit_script(&pool, &sink, 1, 0, JobOptions::default());
    let job = take_job(&consumer);
    a.cancel(CancelReason::Aborted);
    assert_eq!(next_hook(&hook_rx), Hook::Abort);
    job.finish(Err(TaskError::failed("stopped")));
    assert_eq!(next_done(&rx), (1, Err(TaskError::Cancelled(CancelReason::Aborted))));

    // A job whose timeout falls after the first job's grace expiry: the watchdog runs deadlines in
    // order, so when this one's abort arrives, the first expiry has been handled (and was ignored).
    let options = JobOptions { timeout: Some(Duration::from_millis(60)), ..JobOptions::default() };
    submit_script(&pool, &sink, 2, 0, options);
    let job = take_job(&consumer);
    assert_eq!(next_hook(&hook_rx), Hook::Abort, "no terminate for the job that had stopped");
    // This one ignores its cancellation: its consumer is terminated after the grace period.
    assert_eq!(next_hook(&hook_rx), Hook::Terminate);
    // The consumer's owner reports the job when the Worker is gone.
    job.finish(Err(TaskError::failed("the Worker running the task exited")));
    assert_eq!(next_done(&rx), (2, Err(TaskError::Cancelled(CancelReason::TimedOut))));
}

#[test]
fn destroy_rejects_queued_script_jobs_and_cancels_the_running_one() {
    let pool = scripted(Duration::from_secs(3600));
    let (hooks, hook_rx) = hooks();
    let consumer = pool.attach_script_consumer(hooks);
    let (sink, rx) = ChannelSink::new();
    for t in 0..4 {
        submit_script(&pool, &sink, t, 0, JobOptions::default());
    }
    let job = take_job(&consumer);
    pool.destroy();
    let mut rejected: Vec<_> = collect_done(&rx, 3);
    rejected.sort_by_key(|(t, _)| *t);
    assert_eq!(rejected, (1..4).map(|t| (t, Err(TaskError::Cancelled(CancelReason::Destroyed)))).collect::<Vec<_>>());
    assert_eq!(next_hook(&hook_rx), Hook::Abort);
    job.finish(Ok(Value::Null));
    assert_eq!(next_done(&rx), (0, Err(TaskError::Cancelled(CancelReason::Destroyed))));
    assert!(matches!(consumer.take(), ScriptTake::Closed));
    pool.join();
    pool.join_scripts();
    let s = pool.stats();
    assert_eq!((s.queued, s.cancelled, s.completed), (0, 4, 0));
}

#[test]
fn close_lets_queued_script_jobs_finish_then_consumers_see_it_closed() {
    let pool = scripted(DEFAULT_GRACE_TIME);
    let (hooks, hook_rx) = hooks();
    let consumer = pool.attach_script_consumer(hooks);
    let (sink, rx) = ChannelSink::new();
    assert!(matches!(consumer.take(), ScriptTake::Nothing));
    submit_script(&pool, &sink, 1, 0, JobOptions::default());
    assert_eq!(next_hook(&hook_rx), Hook::Wake);
    pool.close();
    let job = take_job(&consumer);
    job.finish(Ok(Value::Bool(true)));
    assert_eq!(next_done(&rx), (1, Ok(Value::Bool(true))));
    assert!(matches!(consumer.take(), ScriptTake::Closed));
    pool.join();
    pool.join_scripts();
    // An idle consumer is woken by close, so it learns the pool is closed.
    let (hooks2, hook_rx2) = self::hooks();
    let pool2 = scripted(DEFAULT_GRACE_TIME);
    let idle = pool2.attach_script_consumer(hooks2);
    assert!(matches!(idle.take(), ScriptTake::Nothing));
    pool2.close();
    assert_eq!(next_hook(&hook_rx2), Hook::Wake);
    assert!(matches!(idle.take(), ScriptTake::Closed));
}

#[test]
fn script_jobs_count_in_stats_and_max_queue() {
    let config = PoolConfig { max_queue: Some(1), script_workers: 1, ..PoolConfig::fixed(1) };
    let pool = ThreadPool::new(config, Arc::new(NoObserver));
    let (hooks, _hook_rx) = hooks();
    let consumer = pool.attach_script_consumer(hooks);
    let (sink, rx) = ChannelSink::new();
    assert_eq!(pool.stats().script_workers, 1);
    // One native thread + one consumer + a queue of one: three in flight, the fourth is refused.
    for t in 0..3 {
        submit_script(&pool, &sink, t, 0, JobOptions::default());
    }
    let sink_dyn: Arc<dyn JobSink> = sink.clone();
    let call = ScriptCall { function: 0, id: 9, args: Value::Null };
    match pool.submit(Job::script(call, sink_dyn, 9, JobControl::new(), JobOptions::default())) {
        Err(e) => assert_eq!(e.error, TaskError::QueueFull { max_queue: 1 }),
        Ok(()) => panic!("the fourth job was accepted past maxQueue"),
    }
    let ok = take_job(&consumer);
    let s = pool.stats();
    assert_eq!((s.running, s.queued), (1, 2));
    ok.finish(Ok(Value::Null));
    take_job(&consumer).finish(Err(TaskError::ScriptFailed { name: "Error".into(), message: "x".into(), stack: None }));
    drop(take_job(&consumer)); // dropped without an outcome: reported as a failure
    let done = collect_done(&rx, 3);
    assert_eq!(done[0], (0, Ok(Value::Null)));
    assert!(matches!(done[1], (1, Err(TaskError::ScriptFailed { .. }))));
    assert!(matches!(&done[2], (2, Err(TaskError::Failed { .. }))));
    let s = pool.stats();
    assert_eq!((s.completed, s.failed, s.running, s.queued), (1, 2, 0, 0));
    assert_eq!(s.run_time.count, 3);
    drop(consumer);
    let s = pool.stats();
    assert_eq!((s.script_workers, s.completed, s.failed), (0, 1, 2), "a detached consumer's counters stay");
}

#[test]
fn script_jobs_post_messages_and_orphans_are_skipped() {
    let pool = scripted(DEFAULT_GRACE_TIME);
    let (hooks, _hook_rx) = hooks();
    let consumer = pool.attach_script_consumer(hooks);
    let (sink, rx) = ChannelSink::new();
    submit_script(&pool, &sink, 1, 0, JobOptions { wants_messages: true, ..JobOptions::default() });
    let job = take_job(&consumer);
    assert!(job.wants_messages());
    job.post(Value::String("hello".into()));
    job.finish(Ok(Value::Null));
    match rx.recv_timeout(PATIENCE).unwrap() {
        Report::Message(1, Value::String(s)) => assert_eq!(s, "hello"),
        other => panic!("expected the message first, got {other:?}"),
    }
    assert_eq!(next_done(&rx), (1, Ok(Value::Null)));

    let (dead, dead_rx) = ChannelSink::new();
    submit_script(&pool, &dead, 2, 0, JobOptions::default());
    dead.alive.store(false, Ordering::Release);
    assert!(matches!(consumer.take(), ScriptTake::Nothing), "the orphan is skipped, not started");
    assert_eq!(next_done(&dead_rx), (2, Err(TaskError::Cancelled(CancelReason::Orphaned))));
}

#[test]
fn many_script_jobs_on_consumer_threads_each_settle_once() {
    const JOBS: u64 = 20_000;
    let pool = Arc::new(ThreadPool::new(PoolConfig { script_workers: 2, ..PoolConfig::fixed(1) }, Arc::new(NoObserver)));
    let (sink, rx) = ChannelSink::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let (hooks, wakes) = hooks();
            let consumer = pool.attach_script_consumer(hooks);
            let ran = ran.clone();
            std::thread::spawn(move || loop {
                match consumer.take() {
                    ScriptTake::Job(job) => {
                        ran.fetch_add(1, Ordering::Relaxed);
                        let args = job.call.args.clone();
                        job.finish(Ok(args));
                    }
                    // An idle consumer waits for its wake-up: a lost one would fail this test.
                    ScriptTake::Nothing => assert!(wakes.recv_timeout(PATIENCE).is_ok(), "a wake-up was lost"),
                    ScriptTake::Closed => break,
                }
            })
        })
        .collect();
    for t in 0..JOBS {
        submit_script(&pool, &sink, t, 0, JobOptions::default());
    }
    let mut seen = vec![false; JOBS as usize];
    for (t, outcome) in collect_done(&rx, JOBS as usize) {
        assert_eq!(outcome, Ok(Value::Number(t as f64)));
        assert!(!std::mem::replace(&mut seen[t as usize], true), "job {t} settled twice");
    }
    pool.close();
    for c in consumers {
        c.join().unwrap();
    }
    pool.join_scripts();
    assert_eq!(ran.load(Ordering::Relaxed), JOBS as usize);
    assert!(rx.try_recv().is_err());
}

fn growing(min: usize, max: usize) -> ThreadPool {
    let config = PoolConfig { script_workers: max, min_script_workers: min, ..PoolConfig::fixed(1) };
    ThreadPool::new(config, Arc::new(NoObserver))
}

#[test]
fn a_growing_pool_asks_for_a_consumer_once_per_answer_while_jobs_wait() {
    let pool = growing(0, 3);
    let asks = Arc::new(AtomicUsize::new(0));
    let counted = asks.clone();
    pool.set_consumer_starter(Arc::new(move || {
        counted.fetch_add(1, Ordering::SeqCst);
    }));
    let (sink, _rx) = ChannelSink::new();
    for ticket in 0..5 {
        submit_script(&pool, &sink, ticket, 0, JobOptions::default());
    }
    assert_eq!(asks.load(Ordering::SeqCst), 1, "a burst asks once, until the owner answers");
    assert_eq!(pool.script_backlog(), 5, "no consumer: every queued job waits");
    pool.consumer_start_handled();
    submit_script(&pool, &sink, 5, 0, JobOptions::default());
    assert_eq!(asks.load(Ordering::SeqCst), 2, "after the answer, the next waiting job asks again");
    // A consumer that takes a job with more waiting behind it asks too (once, until answered).
    pool.consumer_start_handled();
    let (hooks, hook_rx) = hooks();
    let consumer = pool.attach_script_consumer(hooks);
    while let ScriptTake::Job(job) = consumer.take() {
        job.finish(Ok(Value::Null));
    }
    assert_eq!(asks.load(Ordering::SeqCst), 3, "jobs waited behind the first one taken");
    // An idle consumer takes the wake-up instead: no request.
    pool.consumer_start_handled();
    submit_script(&pool, &sink, 6, 0, JobOptions::default());
    assert_eq!(next_hook(&hook_rx), Hook::Wake);
    let job = take_job(&consumer);
    job.finish(Ok(Value::Null));
    assert_eq!(asks.load(Ordering::SeqCst), 3, "a job that finds an idle consumer asks for none, nor does its taking");
}

#[test]
fn a_consumer_retires_only_idle_with_nothing_queued_and_above_the_minimum() {
    let pool = growing(1, 3);
    let (sink, _rx) = ChannelSink::new();
    let (hooks_a, _ra) = hooks();
    let (hooks_b, _rb) = hooks();
    let a = pool.attach_script_consumer(hooks_a);
    let b = pool.attach_script_consumer(hooks_b);
    // Not idle yet (never looked for work): it stays.
    let a = a.retire().expect_err("a consumer that is not idle stays");
    assert!(matches!(a.take(), ScriptTake::Nothing));
    assert!(matches!(b.take(), ScriptTake::Nothing));
    // Idle, but a job is queued (the submit woke one of them): both stay.
    submit_script(&pool, &sink, 1, 0, JobOptions::default());
    let a = a.retire().expect_err("a job waits: stays");
    let b = b.retire().expect_err("a job waits: stays");
    let job = match a.take() {
        ScriptTake::Job(job) => job,
        _ => match b.take() {
            ScriptTake::Job(job) => job,
            _ => panic!("one of them takes the job"),
        },
    };
    job.finish(Ok(Value::Null));
    assert!(matches!(a.take(), ScriptTake::Nothing));
    assert!(matches!(b.take(), ScriptTake::Nothing));
    assert_eq!(pool.stats().script_workers, 2);
    a.retire().unwrap_or_else(|_| panic!("idle, nothing queued, 2 > 1: retires"));
    assert_eq!(pool.stats().script_workers, 1);
    let b = b.retire().expect_err("at the minimum: stays");
    assert_eq!(pool.stats().script_workers, 1);
    // A retired consumer's counters stay in the pool's totals.
    assert_eq!(pool.stats().completed, 1);
    drop(b);
    assert_eq!(pool.stats().script_workers, 0);
}
