//! The built-in tasks through `TaskRegistry::builtin().prepare(...)` and a real pool: results against
//! independent references, progress messages, and validation errors that name the field.

mod common;

use std::sync::Arc;

use common::*;
use native_pool::{
    CancelReason, FieldType, JobOptions, NoObserver, PoolConfig, TaskError, TaskRegistry, ThreadPool, Value,
    MAX_SAFE_INTEGER,
};

fn pool() -> ThreadPool {
    ThreadPool::new(PoolConfig::fixed(2), Arc::new(NoObserver))
}

fn obj(key: &str, v: Value) -> Value {
    Value::object([(key, v)])
}

fn num(n: f64) -> Value {
    Value::Number(n)
}

/// Runs `task` with `args` to completion and returns its outcome (messages ignored).
fn run(task: &str, args: Value) -> Result<Value, TaskError> {
    let pool = pool();
    let (sink, rx) = ChannelSink::new();
    let work = TaskRegistry::builtin().prepare(task, args)?;
    submit(&pool, &sink, 1, work);
    next_done(&rx).1
}

/// Runs `task` wanting messages; returns the messages and the outcome.
fn run_with_messages(task: &str, args: Value) -> (Vec<Value>, Result<Value, TaskError>) {
    let pool = pool();
    let (sink, rx) = ChannelSink::new();
    let work = TaskRegistry::builtin().prepare(task, args).expect("valid args");
    let control =
        submit_with(&pool, &sink, 1, JobOptions { wants_messages: true, ..Default::default() }, work);
    let mut messages = Vec::new();
    loop {
        match rx.recv_timeout(PATIENCE).expect("the task should report") {
            Report::Message(1, m) => {
                messages.push(m);
                control.message_delivered();
            }
            Report::Done(1, outcome) => return (messages, outcome),
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// The field an `ERR_INVALID_ARG` names.
fn invalid_field(task: &str, args: Value) -> String {
    match TaskRegistry::builtin().prepare(task, args) {
        Err(TaskError::InvalidArg { field, message }) => {
            assert!(!message.is_empty());
            field
        }
        Err(other) => panic!("{task}: expected InvalidArg, got {other:?}"),
        Ok(_) => panic!("{task}: bad args were accepted"),
    }
}

#[test]
fn sum_matches_the_loop_and_the_closed_form() {
    for n in [0u64, 1, 2, 3, 10, 99, 100, 101, 1000, 12_345] {
        let by_loop: u64 = (0..n).sum();
        assert_eq!(run("sum", obj("iterations", num(n as f64))), Ok(num(by_loop as f64)), "sum({n})");
    }
    let n: u64 = 1 << 24;
    assert_eq!(run("sum", obj("iterations", num(n as f64))), Ok(num((n * (n - 1) / 2) as f64)));
}

#[test]
fn sum_is_an_exact_bigint_past_max_safe_integer() {
    // The largest n whose sum is still a safe number, and the first one past it.
    let last_safe: u64 = 134_217_728; // n(n-1)/2 = 2^53 - 2^26 <= 2^53 - 1
    let first_big: u64 = last_safe + 1; // n(n-1)/2 = 2^53: BigInt
    let closed = |n: u64| n as u128 * (n as u128 - 1) / 2;
    assert!(closed(last_safe) <= MAX_SAFE_INTEGER as u128);
    assert!(closed(first_big) > MAX_SAFE_INTEGER as u128);
    assert_eq!(run("sum", obj("iterations", num(first_big as f64))), Ok(Value::BigInt(closed(first_big) as i128)));
}

#[test]
fn sum_posts_exactly_one_hundred_progress_messages_in_order() {
    for n in [100u64, 101, 150, 1000, 123_457] {
        let (messages, outcome) = run_with_messages("sum", obj("iterations", num(n as f64)));
        assert!(outcome.is_ok());
        let expected: Vec<Value> = (1..=100).map(|k| obj("progress", num(k as f64 / 100.0))).collect();
        assert_eq!(messages, expected, "sum({n})");
    }
    for n in [0u64, 1, 99] {
        let (messages, _) = run_with_messages("sum", obj("iterations", num(n as f64)));
        assert!(messages.is_empty(), "sum({n}) posted {messages:?}");
    }
}

#[test]
fn fib_matches_known_fibonacci_numbers() {
    let known: [(u32, u64); 10] =
        [(0, 0), (1, 1), (2, 1), (3, 2), (10, 55), (20, 6765), (25, 75025), (30, 832_040), (12, 144), (5, 5)];
    for (n, f) in known {
        assert_eq!(run("fib", obj("n", num(n as f64))), Ok(num(f as f64)), "fib({n})");
    }
}

#[test]
fn fib_progress_ends_at_one() {
    let (messages, outcome) = run_with_messages("fib", obj("n", num(25.0)));
    assert_eq!(outcome, Ok(num(75025.0)));
    let fractions: Vec<f64> = messages
        .iter()
        .map(|m| match m.get("progress") {
            Some(Value::Number(p)) => *p,
            other => panic!("not a progress message: {other:?}"),
        })
        .collect();
    assert!(fractions.windows(2).all(|w| w[0] < w[1]), "increasing: {fractions:?}");
    assert!(fractions.len() <= 100);
    if let Some(last) = fractions.last() {
        assert_eq!(*last, 1.0);
    }
}

#[test]
fn primes_matches_prime_counting_function() {
    // primes({ limit }) counts the primes strictly below limit.
    let cases: [(u64, f64); 13] = [
        (0, 0.0),
        (1, 0.0),
        (2, 0.0),
        (3, 1.0),
        (4, 2.0),
        (10, 4.0),
        (11, 4.0),
        (12, 5.0),
        (100, 25.0),
        (1_000, 168.0),
        (10_000, 1229.0),
        (100_000, 9592.0),
        (1_000_000, 78_498.0),
    ];
    for (limit, count) in cases {
        assert_eq!(run("primes", obj("limit", num(limit as f64))), Ok(num(count)), "primes below {limit}");
    }
    assert_eq!(run("primes", obj("limit", num(10_000_001.0))), Ok(num(664_579.0)));
}

#[test]
fn primes_agrees_with_trial_division_around_segment_edges() {
    let is_prime = |n: u64| n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| !n.is_multiple_of(d));
    // 2^19 odd numbers past a segment of 2^18 flags: limits just around 2 * 2^18.
    for limit in [524_285u64, 524_286, 524_287, 524_288, 524_289, 524_290, 524_291] {
        let want = (0..limit).filter(|&n| is_prime(n)).count() as f64;
        assert_eq!(run("primes", obj("limit", num(limit as f64))), Ok(num(want)), "primes below {limit}");
    }
}

#[test]
fn sleep_and_echo() {
    assert_eq!(run("sleep", obj("ms", num(1.0))), Ok(Value::Undefined));
    assert_eq!(run("sleep", obj("ms", num(0.5))), Ok(Value::Undefined));
    let v = Value::Array(vec![Value::Null, Value::Bool(true), Value::String("x".into()), Value::BigInt(-5)]);
    assert_eq!(run("echo", v.clone()), Ok(v));
    assert_eq!(run("echo", Value::Undefined), Ok(Value::Undefined));
}

#[test]
fn long_tasks_stop_when_cancelled() {
    let pool = pool();
    let (sink, rx) = ChannelSink::new();
    let registry = TaskRegistry::builtin();
    let jobs = [
        ("sum", obj("iterations", num(MAX_SAFE_INTEGER as f64))),
        ("fib", obj("n", num(90.0))),
        ("primes", obj("limit", num(MAX_SAFE_INTEGER as f64))),
        ("sleep", obj("ms", num(1e12))),
    ];
    for (t, (task, args)) in jobs.into_iter().enumerate() {
        let control = submit(&pool, &sink, t as u64, registry.prepare(task, args).unwrap());
        eventually("the task runs", || pool.stats().running >= 1);
        control.cancel(CancelReason::Aborted);
        assert_eq!(next_done(&rx), (t as u64, Err(TaskError::Cancelled(CancelReason::Aborted))), "{task}");
    }
}

#[test]
fn validation_names_the_bad_field() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("sum", Value::object::<&str>([]), "iterations"),
        ("sum", obj("iterations", Value::Undefined), "iterations"),
        ("sum", obj("iterations", num(-1.0)), "iterations"),
        ("sum", obj("iterations", num(1.5)), "iterations"),
        ("sum", obj("iterations", num(f64::NAN)), "iterations"),
        ("sum", obj("iterations", num(f64::INFINITY)), "iterations"),
        ("sum", obj("iterations", num(MAX_SAFE_INTEGER as f64 + 2.0)), "iterations"),
        ("sum", obj("iterations", Value::String("10".into())), "iterations"),
        ("sum", obj("iterations", Value::BigInt(10)), "iterations"),
        ("sum", obj("iterations", Value::Null), "iterations"),
        ("sum", Value::object([("iterations", num(1.0)), ("extra", num(1.0))]), "extra"),
        ("sum", Value::Null, "args"),
        ("sum", num(5.0), "args"),
        ("sum", Value::Array(vec![num(1.0)]), "args"),
        ("sum", Value::String("x".into()), "args"),
        ("sum", Value::Undefined, "args"),
        ("fib", obj("n", num(94.0)), "n"),
        ("fib", obj("n", num(-1.0)), "n"),
        ("fib", Value::object::<&str>([]), "n"),
        ("primes", obj("limit", num(-0.5)), "limit"),
        ("primes", obj("limit", Value::Bool(true)), "limit"),
        ("sleep", obj("ms", num(-1.0)), "ms"),
        ("sleep", obj("ms", num(f64::NAN)), "ms"),
        ("sleep", obj("ms", num(f64::INFINITY)), "ms"),
        ("sleep", obj("ms", Value::String("1".into())), "ms"),
    ];
    for (task, args, field) in cases {
        assert_eq!(invalid_field(task, args.clone()), field, "{task}({args:?})");
    }
}

#[test]
fn unknown_tasks_are_named() {
    match TaskRegistry::builtin().prepare("nope", Value::Null) {
        Err(e @ TaskError::UnknownTask { .. }) => {
            assert_eq!(e.code(), "ERR_UNKNOWN_TASK");
            assert!(e.to_string().contains("nope"));
        }
        Err(other) => panic!("expected UnknownTask, got {other:?}"),
        Ok(_) => panic!("an unknown task was prepared"),
    }
    // The test-only tasks exist only in the test registry.
    assert!(TaskRegistry::builtin().get("__panic").is_none());
    assert!(TaskRegistry::with_test_tasks().get("__panic").is_some());
}

#[test]
fn registry_lists_the_seed_tasks_sorted_with_documented_fields() {
    let registry = TaskRegistry::builtin();
    let names: Vec<_> = registry.list().iter().map(|t| t.name()).collect();
    for seed in ["echo", "fib", "primes", "sleep", "sum"] {
        assert!(names.contains(&seed), "{seed} is registered");
    }
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "listed by name");
    assert!(names.iter().all(|n| !n.starts_with("__")), "no test task in the builtin registry");
    for t in registry.list() {
        assert!(!t.description().is_empty(), "{} has a description", t.name());
        assert!(!t.result().is_empty());
    }
    assert_eq!(FieldType::SAFE_UINT.describe(), format!("integer 0..={MAX_SAFE_INTEGER}"));
}

#[test]
fn error_codes_are_stable() {
    let cases = [
        (TaskError::invalid_arg("x", "bad"), "ERR_INVALID_ARG"),
        (TaskError::UnknownTask { name: "x".into() }, "ERR_UNKNOWN_TASK"),
        (TaskError::PoolClosed, "ERR_POOL_CLOSED"),
        (TaskError::QueueFull { max_queue: 1 }, "ERR_QUEUE_FULL"),
        (TaskError::failed("x"), "ERR_TASK_FAILED"),
        (TaskError::Panicked { message: "x".into() }, "ERR_TASK_PANICKED"),
        (TaskError::Cancelled(CancelReason::TimedOut), "ERR_TASK_TIMEOUT"),
        (TaskError::Cancelled(CancelReason::Aborted), "ABORT_ERR"),
        (TaskError::Cancelled(CancelReason::Destroyed), "ERR_POOL_CLOSED"),
    ];
    for (e, code) in cases {
        assert_eq!(e.code(), code, "{e:?}");
    }
    assert!(TaskError::invalid_arg("iterations", "bad").to_string().contains("iterations"));
}
