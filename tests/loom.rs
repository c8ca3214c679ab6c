//! Model checks of the engine's hand-made protocols, under every interleaving loom can reach: the
//! job state machine (`JobControl`: queued → running or withdrawn, first cancel reason wins, the
//! worker's skip of an orphaned or destroyed job), the completion inbox's `scheduled` flag
//! (`engine::inbox`), and the growing script-consumer protocol of `engine::pool` (a script job is
//! taken, wakes an idle consumer, or asks the owner for one more: none is stranded). The production
//! code is what runs here: in a `--cfg loom` build its atomics and locks, and the script queue's
//! channel, are loom's (`src/engine/sync.rs`). The threads play the roles the pool and the binding
//! play; what each role does around the checked calls mirrors `pool.rs::run_job`, `binding/` and
//! `src/binding/SCRIPTS.md`.
//!
//! `npm run test:loom` (`scripts/loom.js`): `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test
//! --no-default-features --test loom`, with its own `CARGO_TARGET_DIR`.
#![cfg(loom)]

use std::sync::atomic::Ordering;
use std::sync::Arc;

use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::sync::Mutex;
use loom::thread;
use native_pool::engine::context::{Claim, JobControl};
use native_pool::engine::inbox::Inbox;
use native_pool::{
    CancelReason, Job, JobOptions, JobSink, NoObserver, PoolConfig, ScriptCall, ScriptConsumer, ScriptHooks, ScriptTake,
    StartedScript, TaskError, ThreadPool, Value,
};

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

// The growing script-consumer protocol (src/binding/SCRIPTS.md, "A growing set of Workers" and
// "Taking a job"), on a pool without native threads (`min_threads` 0, and a script job never starts
// one) whose consumers grow from 0 to `script_workers` 2. Threads play submitters (`submit`), Workers
// (`take`: first look, poll (one poll in a loom build: `pool.rs::take_polling`), idle mark, last
// look; `retire` on the idle timer) and the owner (answering a request: `consumer_start_handled`,
// then as many new Workers as `script_wanted` says).
// When they have joined, `settle` plays the event loops' later turns: each wake-up and request left
// on its way is handled as the binding handles it, until none is left. What each model proves is
// that this reaches every job: no script job is stranded, queued with nothing on its way to it.

/// A growing pool: no script consumer kept when idle, at most `script_workers`.
fn growing(script_workers: usize) -> ThreadPool {
    let config = PoolConfig {
        min_threads: 0,
        max_threads: 1,
        script_workers,
        min_script_workers: 0,
        // No clock in a model: nothing checked here depends on times.
        record_timing: false,
        ..PoolConfig::fixed(1)
    };
    ThreadPool::new(config, Arc::new(NoObserver))
}

/// The jobs' sink: every outcome reported, with its ticket.
#[derive(Default)]
struct Outcomes(Mutex<Vec<(u64, Result<Value, TaskError>)>>);

impl JobSink for Outcomes {
    fn message(&self, ticket: u64, _message: Value) {
        panic!("job {ticket} posted a message: no model's job does");
    }

    fn complete(&self, ticket: u64, outcome: Result<Value, TaskError>) {
        self.0.lock().unwrap().push((ticket, outcome));
    }
}

impl Outcomes {
    /// Each of `tickets` reported exactly once, with the value its Worker finished it with.
    fn assert_each_once(&self, tickets: &[u64]) {
        let mut outcomes = std::mem::take(&mut *self.0.lock().unwrap());
        outcomes.sort_by_key(|(ticket, _)| *ticket);
        let expected: Vec<_> = tickets.iter().map(|&t| (t, Ok(Value::Number(t as f64)))).collect();
        assert_eq!(outcomes, expected);
    }
}

/// `binding::submitScript`: a script job of no priority, timeout or messages (so the watchdog, which
/// starts a real thread, stays out of the model).
fn submit(pool: &ThreadPool, sink: &Arc<Outcomes>, ticket: u64) {
    let call = ScriptCall { function: 0, id: ticket, args: Value::Null };
    let job = Job::script(call, sink.clone(), ticket, JobControl::new(), JobOptions::default());
    if pool.submit(job).is_err() {
        panic!("script job {ticket} was refused");
    }
}

/// `submit` on a thread of its own: a submitter running beside the model's other roles.
fn submit_on_thread(pool: &Arc<ThreadPool>, sink: &Arc<Outcomes>, ticket: u64) -> thread::JoinHandle<()> {
    let (pool, sink) = (pool.clone(), sink.clone());
    thread::spawn(move || submit(&pool, &sink, ticket))
}

/// A Worker: its consumer, the `wake` calls it has not handled yet (each a `ScriptReady` event in its
/// inbox), and the job it runs.
struct Worker {
    consumer: ScriptConsumer,
    wakes: Arc<AtomicUsize>,
    /// A job taken and not finished. In the models that hold jobs, each is a rendezvous task that
    /// runs until the others have started: its Worker is busy meanwhile, and every other job needs a
    /// Worker of its own.
    running: Option<StartedScript>,
}

impl Worker {
    fn attach(pool: &ThreadPool) -> Worker {
        let wakes = Arc::new(AtomicUsize::new(0));
        let counted = wakes.clone();
        let hooks = ScriptHooks {
            wake: Arc::new(move || {
                counted.fetch_add(1, Ordering::AcqRel);
            }),
            abort: Arc::new(|| panic!("no model cancels a job")),
            terminate: Arc::new(|| panic!("no model cancels a job")),
        };
        Worker { consumer: pool.attach_script_consumer(hooks), wakes, running: None }
    }

    /// `takeScript`: one `take`. A job taken is held if `hold`, else finished at once with its ticket.
    /// Whether it found a job.
    fn take(&mut self, hold: bool) -> bool {
        match self.consumer.take() {
            ScriptTake::Job(job) if hold => {
                assert!(self.running.is_none(), "a second job on a busy consumer");
                self.running = Some(job);
                true
            }
            ScriptTake::Job(job) => {
                let ticket = job.ticket();
                job.finish(Ok(Value::Number(ticket as f64)));
                true
            }
            ScriptTake::Nothing => false,
            ScriptTake::Closed => panic!("no model closes the pool"),
        }
    }

    /// `pump` (a wake-up delivered, or a new Worker's first look): takes until it finds nothing, or
    /// until it holds a job.
    fn pump(&mut self, hold: bool) {
        while self.take(hold) && !hold {}
    }

    /// `retire` on the idle timer: the Worker back if the pool keeps it.
    fn retire(self) -> Option<Worker> {
        let Worker { consumer, wakes, running } = self;
        consumer.retire().err().map(|consumer| Worker { consumer, wakes, running })
    }
}

/// Every job of `tickets` runs at once, each on a Worker of its own (none waits in the queue); then
/// they finish, and each outcome reaches the sink once.
fn assert_all_running(workers: &mut [Worker], sink: &Outcomes, tickets: &[u64]) {
    let mut running: Vec<u64> = workers.iter().filter_map(|w| w.running.as_ref().map(|job| job.ticket())).collect();
    running.sort_unstable();
    assert_eq!(running, tickets, "jobs running on {} Workers", workers.len());
    for worker in workers.iter_mut() {
        if let Some(job) = worker.running.take() {
            let ticket = job.ticket();
            job.finish(Ok(Value::Number(ticket as f64)));
        }
    }
    sink.assert_each_once(tickets);
}

/// The owner's side of a growing pool: the starter hook's calls (`WantWorkers` events) and how many
/// it has answered.
struct Owner {
    requests: Arc<AtomicUsize>,
    answered: usize,
    script_workers: usize,
}

impl Owner {
    fn new(pool: &ThreadPool) -> Owner {
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        pool.set_consumer_starter(Arc::new(move || {
            counted.fetch_add(1, Ordering::AcqRel);
        }));
        Owner { requests, answered: 0, script_workers: pool.config().script_workers }
    }

    /// `on_batch` of one `WantWorkers`, if one is unanswered: clears the request, then starts as many
    /// Workers as `script_wanted` says, in the room `script_workers` leaves beside the `attached` ones
    /// it knows of; each new Worker pumps at once. Exactly that many, not `lib/pool.js`'s "at least
    /// one": the model checks that the engine's count is enough by itself. Whether it answered one.
    fn answer(&mut self, pool: &ThreadPool, attached: usize, started: &mut Vec<Worker>, hold: bool) -> bool {
        if self.requests.load(Ordering::Acquire) == self.answered {
            return false;
        }
        self.answered += 1;
        pool.consumer_start_handled();
        let wanted = pool.script_wanted();
        for _ in 0..wanted.min(self.script_workers - attached) {
            let mut worker = Worker::attach(pool);
            worker.pump(hold);
            started.push(worker);
        }
        true
    }
}

/// The owner's one turn on a thread of its own (`Owner::answer`, knowing of `attached` Workers):
/// gives the owner back with the Workers it started and whether it answered a request.
fn answer_on_thread(
    pool: &Arc<ThreadPool>,
    mut owner: Owner,
    attached: usize,
    hold: bool,
) -> thread::JoinHandle<(Owner, Vec<Worker>, bool)> {
    let pool = pool.clone();
    thread::spawn(move || {
        let mut started = Vec::new();
        let answered = owner.answer(&pool, attached, &mut started, hold);
        (owner, started, answered)
    })
}

/// The event loops' later turns, once the model's threads have joined: each Worker handles its
/// wake-ups and the owner each request, until nothing is left on its way.
fn settle(pool: &ThreadPool, owner: &mut Owner, workers: &mut Vec<Worker>, hold: bool) {
    loop {
        let mut acted = false;
        for worker in workers.iter_mut() {
            while worker.wakes.load(Ordering::Acquire) > 0 {
                worker.wakes.fetch_sub(1, Ordering::AcqRel);
                worker.pump(hold);
                acted = true;
            }
        }
        let mut started = Vec::new();
        acted |= owner.answer(pool, workers.len(), &mut started, hold);
        workers.extend(started);
        if !acted {
            return;
        }
    }
}

#[test]
fn a_job_submitted_while_the_only_consumer_goes_idle_and_retires_is_taken_once() {
    loom::model(|| {
        let pool = Arc::new(growing(2));
        let mut owner = Owner::new(&pool);
        let sink = Arc::new(Outcomes::default());
        let worker = Worker::attach(&pool);
        // A submitter queues one job.
        let submitter = submit_on_thread(&pool, &sink, 1);
        // The only Worker looks for work; finding none (it is then idle), its idle timer fires and
        // it retires if the pool lets it. A job it takes it finishes; what it does next is not this
        // model's question.
        let consumer = thread::spawn(move || {
            let mut worker = worker;
            if worker.take(false) {
                Some(worker)
            } else {
                worker.retire()
            }
        });
        submitter.join().unwrap();
        let mut workers: Vec<Worker> = consumer.join().unwrap().into_iter().collect();
        // Taken; or the Worker stayed and its wake-up is on its way; or it retired and the submit
        // asked for a Worker: whichever way, the job runs, once.
        settle(&pool, &mut owner, &mut workers, false);
        sink.assert_each_once(&[1]);
    });
}

#[test]
fn two_jobs_submitted_while_a_consumer_takes_each_get_a_consumer_of_their_own() {
    loom::model(|| {
        let pool = Arc::new(growing(2));
        let mut owner = Owner::new(&pool);
        let sink = Arc::new(Outcomes::default());
        let worker = Worker::attach(&pool);
        // The Worker looks for work once; a job it takes it holds (rendezvous tasks, see `Worker`).
        let consumer = thread::spawn(move || {
            let mut worker = worker;
            worker.take(true);
            worker
        });
        // Two submitters, another thread and this one. The later job may find the first request
        // unanswered (`start_requested`: it asks not), or the Worker still counted as polling though
        // it has just taken the earlier job (`script_backlog` 0: it asks not, and the Worker must).
        let submitter = submit_on_thread(&pool, &sink, 2);
        submit(&pool, &sink, 1);
        submitter.join().unwrap();
        let mut workers = vec![consumer.join().unwrap()];
        settle(&pool, &mut owner, &mut workers, true);
        assert_all_running(&mut workers, &sink, &[1, 2]);
    });
}

#[test]
fn a_job_submitted_while_the_owner_answers_a_request_is_counted_or_asks_again() {
    loom::model(|| {
        let pool = Arc::new(growing(2));
        let owner = Owner::new(&pool);
        let sink = Arc::new(Outcomes::default());
        // No Worker yet: the first job asks for one, and no job asks again until the owner answers.
        submit(&pool, &sink, 1);
        assert_eq!(owner.requests.load(Ordering::Acquire), 1);
        // The owner answers meanwhile, and its new Workers take (and hold) a job each at once.
        let answering = answer_on_thread(&pool, owner, 0, true);
        // This thread submits a second job: counted by the answer, or it asks again.
        submit(&pool, &sink, 2);
        let (mut owner, mut workers, answered) = answering.join().unwrap();
        assert!(answered, "the owner's turn came after the first request");
        settle(&pool, &mut owner, &mut workers, true);
        assert_all_running(&mut workers, &sink, &[1, 2]);
    });
}

#[test]
fn a_consumer_retiring_while_the_owner_answers_and_a_job_comes_leaves_the_job_a_consumer() {
    loom::model(|| {
        let pool = Arc::new(growing(2));
        let owner = Owner::new(&pool);
        let sink = Arc::new(Outcomes::default());
        // Before the threads: a job with no Worker asks for one; a Worker (the one the binding starts
        // with the pool) takes it, finishes it, finds nothing more and is idle.
        submit(&pool, &sink, 1);
        let mut worker = Worker::attach(&pool);
        worker.pump(false);
        // Its idle timer fires: it retires if the pool lets it.
        let consumer = thread::spawn(move || worker.retire());
        // The owner answers the request meanwhile, counting idle Workers as free; it knows of the one
        // Worker, retiring or not.
        let answering = answer_on_thread(&pool, owner, 1, false);
        // And this thread submits a second job: it wakes the idle Worker, or finds it gone and asks.
        submit(&pool, &sink, 2);
        let (mut owner, mut workers, answered) = answering.join().unwrap();
        assert!(answered, "the owner's turn came after the first request");
        workers.extend(consumer.join().unwrap());
        settle(&pool, &mut owner, &mut workers, false);
        sink.assert_each_once(&[1, 2]);
    });
}

#[test]
fn two_submitters_a_taking_consumer_and_the_answering_owner_leave_no_job_without_a_consumer() {
    loom::model(|| {
        let pool = Arc::new(growing(2));
        let owner = Owner::new(&pool);
        let sink = Arc::new(Outcomes::default());
        let worker = Worker::attach(&pool);
        // All of the above at once (four threads; the largest model here). The Worker looks for work
        // once and holds what it takes.
        let consumer = thread::spawn(move || {
            let mut worker = worker;
            worker.take(true);
            worker
        });
        // The owner has one turn meanwhile: it answers a request if one was made by then.
        let answering = answer_on_thread(&pool, owner, 1, true);
        // Two submitters, another thread and this one.
        let submitter = submit_on_thread(&pool, &sink, 2);
        submit(&pool, &sink, 1);
        submitter.join().unwrap();
        let (mut owner, mut workers, _) = answering.join().unwrap();
        workers.push(consumer.join().unwrap());
        settle(&pool, &mut owner, &mut workers, true);
        assert_all_running(&mut workers, &sink, &[1, 2]);
    });
}
