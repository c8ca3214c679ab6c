//! The pool's job queue: a `crossbeam-channel` for the common case, a priority heap beside it.
//!
//! A job of priority 0 (the default) goes straight into the channel: submitting is one send, taking
//! is one receive, and nothing else on that path is shared between the JS thread and the workers.
//! A job with another priority goes into the heap, and a `Wake` message goes into the channel in its
//! place, so a blocked worker wakes up for it. Workers look at the heap first while it holds jobs of
//! positive priority (`urgent`), so those overtake everything in the channel; a job of negative
//! priority is taken only when no priority-0 job waits in the channel (otherwise its `Wake` goes
//! round again). Within one priority, jobs run in submission order.
//!
//! Closing drops the sender: the workers drain what was accepted, then see the disconnection, which is
//! how they learn to stop.

use std::collections::BinaryHeap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::job::Job;
use super::ranked::Ranked;
// Loom's in a `--cfg loom` build, so that tests/loom.rs interleaves the script queue's operations
// with the consumer protocol around them (`sync.rs`); std's and crossbeam's otherwise.
use super::sync::channel::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use super::sync::{lock, AtomicUsize, Mutex};

enum Msg {
    Job(Job),
    /// A job waits in the heap.
    Wake,
}

/// A job in the heap, ranked by its priority (the higher on top), then by arrival.
type Entry = Ranked<i32, Job>;

#[derive(Default)]
struct Heap {
    entries: BinaryHeap<Entry>,
    next_seq: u64,
}

pub(crate) struct JobQueue {
    /// `None` once closed. Only submitters (JS threads) lock it, never the workers' hot path.
    sender: Mutex<Option<Sender<Msg>>>,
    receiver: Receiver<Msg>,
    heap: Mutex<Heap>,
    /// Jobs of positive priority in the heap: workers check the heap first while this is not 0.
    urgent: AtomicUsize,
    /// `Wake` messages in the channel (so the channel's priority-0 jobs can be counted).
    wakes: AtomicUsize,
    /// Withdrawn jobs not yet dequeued (so `len` does not count them).
    withdrawn: AtomicUsize,
}

/// How long `take` may block.
#[derive(Clone, Copy)]
pub(crate) enum Wait {
    No,
    For(Duration),
    Forever,
}

/// What `take` found.
pub(crate) enum Taken {
    Job(Job),
    /// Nothing waited (with `Wait::No`), or the timeout passed.
    Nothing,
    /// Closed and drained: the worker should stop.
    Closed,
}

impl JobQueue {
    pub(crate) fn new() -> JobQueue {
        let (tx, rx) = channel::unbounded();
        JobQueue {
            sender: Mutex::new(Some(tx)),
            receiver: rx,
            heap: Mutex::new(Heap::default()),
            urgent: AtomicUsize::new(0),
            wakes: AtomicUsize::new(0),
            withdrawn: AtomicUsize::new(0),
        }
    }

    /// Queues a job. Gives it back if the queue is closed.
    pub(crate) fn push(&self, job: Job) -> Result<(), Job> {
        let sender = lock(&self.sender);
        let Some(tx) = sender.as_ref() else { return Err(job) };
        let priority = job.options.priority;
        if priority == 0 {
            // Cannot fail: the receiver lives as long as this queue.
            let _ = tx.send(Msg::Job(job));
            return Ok(());
        }
        {
            let mut heap = lock(&self.heap);
            let seq = heap.next_seq;
            heap.next_seq += 1;
            heap.entries.push(Entry { key: priority, seq, item: job });
            if priority > 0 {
                self.urgent.fetch_add(1, Ordering::AcqRel);
            }
        }
        self.wakes.fetch_add(1, Ordering::AcqRel);
        let _ = tx.send(Msg::Wake);
        Ok(())
    }

    /// Takes the next job in priority order, blocking as `wait` allows.
    pub(crate) fn take(&self, wait: Wait) -> Taken {
        loop {
            if self.urgent.load(Ordering::Acquire) > 0 {
                if let Some(job) = self.pop_heap(true) {
                    return Taken::Job(job);
                }
            }
            let got = match wait {
                Wait::No => self.receiver.try_recv().map_err(|e| match e {
                    TryRecvError::Empty => RecvTimeoutError::Timeout,
                    TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
                }),
                Wait::For(t) => self.receiver.recv_timeout(t),
                Wait::Forever => self.receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match got {
                Ok(Msg::Job(job)) => return Taken::Job(job),
                Ok(Msg::Wake) => {
                    self.wakes.fetch_sub(1, Ordering::AcqRel);
                    if let Some(job) = self.take_woken() {
                        return Taken::Job(job);
                    }
                }
                Err(RecvTimeoutError::Timeout) => return Taken::Nothing,
                Err(RecvTimeoutError::Disconnected) => {
                    // Closed and the channel drained; a job of negative priority whose wake went
                    // round may still be in the heap.
                    return match self.pop_heap(false) {
                        Some(job) => Taken::Job(job),
                        None => Taken::Closed,
                    };
                }
            }
        }
    }

    /// After a `Wake`: the heap's best job, unless it has a negative priority and priority-0 jobs
    /// still wait in the channel; then the wake is sent round again and `None` returned.
    fn take_woken(&self) -> Option<Job> {
        let mut heap = lock(&self.heap);
        let best = heap.entries.peek()?.key;
        if best < 0 && self.channel_jobs() > 0 {
            drop(heap);
            if let Some(tx) = lock(&self.sender).as_ref() {
                self.wakes.fetch_add(1, Ordering::AcqRel);
                let _ = tx.send(Msg::Wake);
                return None;
            }
            // Closed: nothing can be sent round; take it now rather than lose it.
            heap = lock(&self.heap);
        }
        let entry = heap.entries.pop()?;
        if entry.key > 0 {
            self.urgent.fetch_sub(1, Ordering::AcqRel);
        }
        Some(entry.item)
    }

    /// Pops the heap's best job; with `positive_only`, only if its priority is above 0.
    fn pop_heap(&self, positive_only: bool) -> Option<Job> {
        let mut heap = lock(&self.heap);
        if positive_only && heap.entries.peek()?.key <= 0 {
            return None;
        }
        let entry = heap.entries.pop()?;
        if entry.key > 0 {
            self.urgent.fetch_sub(1, Ordering::AcqRel);
        }
        Some(entry.item)
    }

    /// Priority-0 jobs in the channel.
    fn channel_jobs(&self) -> usize {
        self.receiver.len().saturating_sub(self.wakes.load(Ordering::Acquire))
    }

    /// Jobs waiting (withdrawn ones excluded).
    pub(crate) fn len(&self) -> usize {
        let heap = lock(&self.heap).entries.len();
        (self.channel_jobs() + heap).saturating_sub(self.withdrawn.load(Ordering::Acquire))
    }

    /// Whether nothing at all is queued (not even a stale wake).
    pub(crate) fn is_empty(&self) -> bool {
        self.receiver.is_empty() && lock(&self.heap).entries.is_empty()
    }

    /// A queued job was withdrawn: it stays in the queue until dequeued, uncounted.
    pub(crate) fn note_withdrawn(&self) {
        self.withdrawn.fetch_add(1, Ordering::AcqRel);
    }

    /// A withdrawn job was dequeued.
    pub(crate) fn note_withdrawn_dequeued(&self) {
        let _ = self.withdrawn.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.sender).is_none()
    }

    /// Stops accepting jobs; the workers stop once the queue is drained.
    pub(crate) fn close(&self) {
        lock(&self.sender).take();
    }

    /// Takes every queued job out (for `destroy`). Call after `close`.
    pub(crate) fn take_all(&self) -> Vec<Job> {
        let mut jobs: Vec<Job> = self
            .receiver
            .try_iter()
            .filter_map(|m| match m {
                Msg::Job(job) => Some(job),
                Msg::Wake => None,
            })
            .collect();
        let mut heap = lock(&self.heap);
        jobs.extend(std::mem::take(&mut heap.entries).into_iter().map(|e| e.item));
        self.urgent.store(0, Ordering::Release);
        self.wakes.store(0, Ordering::Release);
        jobs
    }
}
