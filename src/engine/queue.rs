//! The pool's job queue: a priority heap for the order, a `crossbeam-channel` for the waiting.
//!
//! Every accepted job is pushed onto the heap and one token is sent on the channel, under one lock, so
//! tokens never outnumber the heap's entries. A worker blocks on the channel (with a timeout when it may
//! retire), then pops the best job: highest priority first, first-come first-served within a priority.
//! Closing drops the sender; the workers drain the tokens left and then see the disconnection, which is
//! how they learn to stop. Thread accounting (how many live, how many idle) shares the lock, so a
//! thread never retires while a job it should have taken is waiting.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use super::job::Job;

struct Entry {
    priority: i32,
    seq: u64,
    job: Job,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Max-heap order: the higher priority is greater; within a priority the earlier `seq` is greater.
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority.cmp(&other.priority).then_with(|| other.seq.cmp(&self.seq))
    }
}

pub(crate) struct QueueState {
    heap: BinaryHeap<Entry>,
    next_seq: u64,
    /// `None` once the queue is closed: no more jobs are accepted.
    wake: Option<Sender<()>>,
    /// Worker threads alive (started and not retired).
    pub(crate) live: usize,
    /// Workers waiting for a token.
    pub(crate) idle: usize,
}

pub(crate) struct JobQueue {
    state: Mutex<QueueState>,
    tokens: Receiver<()>,
}

/// What a worker got from `JobQueue::wait`.
pub(crate) enum Wake {
    /// A job to run (it may have been withdrawn meanwhile: the worker checks).
    Job(Job),
    /// A token whose job is gone (taken out by `destroy`).
    Nothing,
    /// The idle timeout passed with no work.
    TimedOut,
    /// The queue is closed and empty: the worker should stop.
    Closed,
}

impl JobQueue {
    pub(crate) fn new() -> JobQueue {
        let (tx, rx) = crossbeam_channel::unbounded();
        JobQueue {
            state: Mutex::new(QueueState { heap: BinaryHeap::new(), next_seq: 0, wake: Some(tx), live: 0, idle: 0 }),
            tokens: rx,
        }
    }

    /// The shared state, for accounting that must be atomic with the queue's contents.
    pub(crate) fn lock(&self) -> MutexGuard<'_, QueueState> {
        // A panic never happens while this lock is held (no user code runs under it), but a poisoned
        // lock must not take the whole pool down with it either.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next thing for a worker: a token already waiting is taken without blocking (the hot path:
    /// one lock per job); otherwise the worker counts itself idle and blocks for at most
    /// `idle_timeout(state)`. Returns with the lock held, so the caller can retire atomically.
    pub(crate) fn next(&self, idle_timeout: impl FnOnce(&QueueState) -> Option<Duration>) -> (Wake, MutexGuard<'_, QueueState>) {
        let got = match self.tokens.try_recv() {
            Ok(()) => Ok(()),
            Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) => {
                let timeout = {
                    let mut q = self.lock();
                    q.idle += 1;
                    idle_timeout(&q)
                };
                let got = match timeout {
                    Some(t) => self.tokens.recv_timeout(t),
                    None => self.tokens.recv().map_err(|_| RecvTimeoutError::Disconnected),
                };
                let mut q = self.lock();
                q.idle -= 1;
                return (Self::wake_from(got, &mut q), q);
            }
        };
        let mut q = self.lock();
        (Self::wake_from(got, &mut q), q)
    }

    fn wake_from(got: Result<(), RecvTimeoutError>, q: &mut QueueState) -> Wake {
        match got {
            Ok(()) => match q.heap.pop() {
                Some(entry) => Wake::Job(entry.job),
                None => Wake::Nothing,
            },
            Err(RecvTimeoutError::Timeout) => Wake::TimedOut,
            Err(RecvTimeoutError::Disconnected) => Wake::Closed,
        }
    }
}

impl QueueState {
    /// Queues a job. Gives it back if the queue is closed.
    pub(crate) fn push(&mut self, job: Job) -> Result<(), Job> {
        let Some(wake) = &self.wake else { return Err(job) };
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { priority: job.options.priority, seq, job });
        // Cannot fail: the receiver lives in the same `JobQueue` as this sender.
        let _ = wake.send(());
        Ok(())
    }

    /// Jobs on the heap, including withdrawn ones not yet popped.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.wake.is_none()
    }

    /// Stops accepting jobs; the workers stop once the tokens already sent are consumed.
    pub(crate) fn close(&mut self) {
        self.wake = None;
    }

    /// Takes every queued job out, in no particular order (for `destroy`).
    pub(crate) fn take_all(&mut self) -> Vec<Job> {
        std::mem::take(&mut self.heap).into_iter().map(|e| e.job).collect()
    }
}
