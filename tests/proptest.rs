//! Property-based tests of the engine without Node (proptest): argument validation against an
//! independent model of each built-in schema, `prepare` never panicking on any value, and jobs with
//! random priorities, timeouts, cancellations and withdrawals each reporting exactly one outcome of
//! the kind their task and controls allow. Case counts are fixed and small so `cargo test` stays quick.

mod common;

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use native_pool::{
    ArgsSchema, Bytes, CancelReason, Field, FieldType, JobOptions, NoObserver, PoolConfig, TaskError, TaskRegistry,
    ThreadPool, Value,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, TestRng, TestRunner};

/// A runner with a fixed seed (so CI sees the same cases every run) and no failure file.
fn runner(cases: u32, seed: u8) -> TestRunner {
    let config = Config { cases, failure_persistence: Some(Box::new(FileFailurePersistence::Off)), ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]))
}

/// Every documented `err.code`.
const CODES: &[&str] = &[
    "ERR_INVALID_ARG",
    "ERR_UNKNOWN_TASK",
    "ERR_POOL_CLOSED",
    "ERR_QUEUE_FULL",
    "ERR_TASK_FAILED",
    "ERR_TASK_PANICKED",
    "ERR_TASK_TIMEOUT",
    "ABORT_ERR",
];

/// The tasks whose argument is an object, with their fields.
fn object_schemas() -> Vec<(&'static str, &'static [Field])> {
    TaskRegistry::with_test_tasks()
        .list()
        .into_iter()
        .filter_map(|t| match t.args() {
            ArgsSchema::Object(fields) => Some((t.name(), fields)),
            ArgsSchema::Any => None,
        })
        .collect()
}

/// Any value at all, nested a few levels: every primitive, odd numbers, long strings, bytes.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Undefined),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-0.0),
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
            Just(9007199254740992.0),
            -1e3f64..1e3,
            any::<f64>(),
            any::<i64>().prop_map(|n| n as f64),
        ]
        .prop_map(Value::Number),
        any::<i128>().prop_map(Value::BigInt),
        ".{0,12}".prop_map(Value::String),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|v| Value::Bytes(Bytes::from(v))),
        any::<u32>().prop_map(Value::Handle),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(("[a-z]{1,8}", inner), 0..6).prop_map(Value::Object),
        ]
    })
}

/// The model: whether `value` is a valid `ty`, written from the documented types, not from the engine.
fn fits(ty: &FieldType, value: &Value) -> bool {
    match (ty, value) {
        (FieldType::Any, _) => true,
        (FieldType::Integer { min, max }, Value::Number(n)) => {
            n.is_finite() && n.trunc() == *n && *n >= *min as f64 && *n <= *max as f64
        }
        (FieldType::Number { min, max }, Value::Number(n)) => !n.is_nan() && *n >= *min && *n <= *max,
        (FieldType::String { one_of }, Value::String(s)) => one_of.is_empty() || one_of.contains(&s.as_str()),
        (FieldType::Bool, Value::Bool(_)) => true,
        (FieldType::Bytes, Value::Bytes(_)) => true,
        (FieldType::BytesOrString, Value::Bytes(_) | Value::String(_)) => true,
        _ => false,
    }
}

/// A valid value of `ty`, edges included.
fn valid_of(ty: FieldType) -> BoxedStrategy<Value> {
    match ty {
        FieldType::Integer { min, max } => {
            prop_oneof![Just(min), Just(max), min..=max].prop_map(|n| Value::Number(n as f64)).boxed()
        }
        FieldType::Number { min, max } => {
            let lo = if min.is_finite() { min } else { -1e300 };
            let hi = if max.is_finite() { max } else { 1e300 };
            prop_oneof![Just(min), Just(max), lo..=hi].prop_map(Value::Number).boxed()
        }
        FieldType::String { one_of: [] } => ".{0,16}".prop_map(Value::String).boxed(),
        FieldType::String { one_of } => proptest::sample::select(one_of).prop_map(|s| Value::String(s.into())).boxed(),
        FieldType::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        FieldType::Bytes => bytes().boxed(),
        FieldType::BytesOrString => prop_oneof![bytes(), ".{0,16}".prop_map(Value::String)].boxed(),
        FieldType::Any => any_value().boxed(),
    }
}

fn bytes() -> impl Strategy<Value = Value> {
    proptest::collection::vec(any::<u8>(), 0..64).prop_map(|v| Value::Bytes(Bytes::from(v)))
}

/// What one field of a generated argument object is.
#[derive(Debug, Clone)]
enum Slot {
    Absent,
    Undefined,
    Valid(Value),
    Other(Value),
}

/// An argument object for `fields`: each field absent, `undefined`, valid, or any other value, and
/// maybe an unknown extra field (last); the schema's fields in shuffled key order.
fn object_for(fields: &'static [Field]) -> impl Strategy<Value = (Vec<(String, Slot)>, Option<Value>)> {
    let slots: Vec<_> = fields
        .iter()
        .map(|f| {
            let name = f.name.to_owned();
            prop_oneof![
                1 => Just(Slot::Absent),
                1 => Just(Slot::Undefined),
                6 => valid_of(f.ty).prop_map(Slot::Valid),
                2 => any_value().prop_map(Slot::Other),
            ]
            .prop_map(move |s| (name.clone(), s))
        })
        .collect();
    (slots.prop_shuffle(), proptest::option::weighted(0.15, any_value()))
}

fn build(slots: &[(String, Slot)], extra: &Option<Value>) -> Value {
    let mut fields: Vec<(String, Value)> = slots
        .iter()
        .filter_map(|(k, s)| match s {
            Slot::Absent => None,
            Slot::Undefined => Some((k.clone(), Value::Undefined)),
            Slot::Valid(v) | Slot::Other(v) => Some((k.clone(), v.clone())),
        })
        .collect();
    if let Some(v) = extra {
        fields.push(("__unknown_field".into(), v.clone()));
    }
    Value::Object(fields)
}

/// The model's verdict: `None` if the object is valid, else every field that is wrong.
fn expected_bad_fields(fields: &[Field], args: &Value) -> Option<HashSet<String>> {
    let Value::Object(given) = args else { return Some(["args".to_owned()].into()) };
    let mut bad = HashSet::new();
    for (k, v) in given {
        match fields.iter().find(|f| f.name == k) {
            None => {
                bad.insert(k.clone());
            }
            Some(f) if *v == Value::Undefined => {
                if f.required {
                    bad.insert(k.clone());
                }
            }
            Some(f) if !fits(&f.ty, v) => {
                bad.insert(k.clone());
            }
            Some(_) => {}
        }
    }
    for f in fields.iter().filter(|f| f.required) {
        if !given.iter().any(|(k, v)| k == f.name && *v != Value::Undefined) {
            bad.insert(f.name.to_owned());
        }
    }
    (!bad.is_empty()).then_some(bad)
}

#[test]
fn validate_agrees_with_the_model_of_every_schema() {
    let mut total = 0;
    for (seed, (name, fields)) in object_schemas().into_iter().enumerate() {
        let schema = ArgsSchema::Object(fields);
        let mut runner = runner(256, seed as u8);
        runner
            .run(&object_for(fields), |(slots, extra)| {
                let args = build(&slots, &extra);
                let verdict = catch_unwind(AssertUnwindSafe(|| schema.validate(&args)));
                let verdict = verdict.map_err(|_| TestCaseError::fail(format!("{name}: validate panicked on {args:?}")))?;
                match (expected_bad_fields(fields, &args), verdict) {
                    (None, Ok(())) => {}
                    (Some(bad), Err(TaskError::InvalidArg { field, .. })) => {
                        prop_assert!(bad.contains(&field), "{name}: field {field:?} is not one of {bad:?} for {args:?}");
                    }
                    (expected, got) => {
                        prop_assert!(false, "{name}: expected bad fields {expected:?}, got {got:?} for {args:?}");
                    }
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        total += 256;
    }
    println!("validate: {total} generated cases over every object schema");
}

#[test]
fn validate_rejects_every_non_object_as_args() {
    let mut runner = runner(512, 101);
    runner
        .run(&any_value().prop_filter("not an object", |v| !matches!(v, Value::Object(_))), |v| {
            for (name, fields) in object_schemas() {
                match ArgsSchema::Object(fields).validate(&v) {
                    Err(TaskError::InvalidArg { field, .. }) => prop_assert_eq!(field, "args", "{}", name),
                    other => prop_assert!(false, "{name}: {other:?} for {v:?}"),
                }
            }
            prop_assert_eq!(ArgsSchema::Any.validate(&v), Ok(()));
            Ok(())
        })
        .unwrap();
    println!("validate: 512 non-object arguments against every schema");
}

#[test]
fn prepare_never_panics_and_rejects_what_validate_rejects() {
    let registry = TaskRegistry::with_test_tasks();
    let mut total = 0;
    for (seed, (name, fields)) in object_schemas().into_iter().enumerate() {
        let schema = ArgsSchema::Object(fields);
        // Half schema-directed (mostly valid, so prepare's own checks run), half anything at all.
        let strategy = prop_oneof![object_for(fields).prop_map(|(s, e)| build(&s, &e)), any_value()];
        let mut runner = runner(128, 200u8.wrapping_add(seed as u8));
        runner
            .run(&strategy, |args| {
                let validated = schema.validate(&args);
                let prepared = catch_unwind(AssertUnwindSafe(|| registry.prepare(name, args.clone())))
                    .map_err(|_| TestCaseError::fail(format!("{name}: prepare panicked on {args:?}")))?;
                match (validated, prepared) {
                    (Err(v), Err(p)) => {
                        prop_assert_eq!(p.code(), "ERR_INVALID_ARG", "{}: {:?}", name, p);
                        prop_assert_eq!(v, p, "{}: prepare reports what validate found", name);
                    }
                    (Err(v), Ok(_)) => prop_assert!(false, "{name}: prepare accepted what validate rejected: {v:?}"),
                    (Ok(()), Err(p)) => {
                        // A task's own constraint beyond the schema (scrypt's maxmem, a malformed hash).
                        prop_assert_eq!(p.code(), "ERR_INVALID_ARG", "{}: {:?}", name, p);
                    }
                    (Ok(()), Ok(_work)) => {}
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        total += 128;
    }
    // `echo` (any value) and the unknown task.
    let mut runner = runner(256, 77);
    runner
        .run(&any_value(), |args| {
            let echoed = catch_unwind(AssertUnwindSafe(|| registry.prepare("echo", args.clone())));
            prop_assert!(matches!(echoed, Ok(Ok(_))), "echo accepts anything");
            let unknown = registry.prepare("no such task", args);
            prop_assert!(matches!(unknown, Err(TaskError::UnknownTask { .. })), "unknown task: {:?}", unknown.err());
            Ok(())
        })
        .unwrap();
    println!("prepare: {} generated cases", total + 256);
}

/// One job of a generated batch.
#[derive(Debug, Clone)]
struct JobPlan {
    kind: Kind,
    priority: i32,
    timeout_ms: Option<u64>,
    control: Control,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Panic,
    Fail,
    Spin,
    Sleep(u8),
    Echo,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Control {
    None,
    Cancel,
    Withdraw,
    WithdrawThenCancel,
}

fn job_plan() -> impl Strategy<Value = JobPlan> {
    let kind = prop_oneof![
        Just(Kind::Panic),
        Just(Kind::Fail),
        Just(Kind::Spin),
        (0u8..4).prop_map(Kind::Sleep),
        Just(Kind::Echo),
    ];
    let control = prop_oneof![
        3 => Just(Control::None),
        2 => Just(Control::Cancel),
        2 => Just(Control::Withdraw),
        1 => Just(Control::WithdrawThenCancel),
    ];
    (kind, any::<i32>(), proptest::option::of(1u64..8), control).prop_map(|(kind, priority, timeout_ms, mut control)| {
        // A spinning job ends only when stopped: give it a way to stop.
        if kind == Kind::Spin && timeout_ms.is_none() && control == Control::None {
            control = Control::Cancel;
        }
        JobPlan { kind, priority, timeout_ms, control }
    })
}

fn work_for(registry: &TaskRegistry, kind: Kind) -> native_pool::Work {
    let (name, args) = match kind {
        Kind::Panic => ("__panic", Value::object([("message", Value::String("fuzz".into()))])),
        Kind::Fail => ("__fail", Value::object([("message", Value::String("fuzz".into()))])),
        Kind::Spin => ("__spin", Value::Null),
        Kind::Sleep(ms) => ("sleep", Value::object([("ms", Value::Number(ms as f64))])),
        Kind::Echo => ("echo", Value::Number(7.0)),
    };
    registry.prepare(name, args).expect("the plan's arguments are valid")
}

/// Whether `outcome` is one that `plan` allows, given whether a cancel was sent.
fn allowed(plan: &JobPlan, cancelled: bool, outcome: &Result<Value, TaskError>) -> bool {
    match outcome {
        Err(TaskError::Cancelled(CancelReason::Aborted)) => cancelled,
        Err(TaskError::Cancelled(CancelReason::TimedOut)) => plan.timeout_ms.is_some(),
        Err(TaskError::Panicked { message }) => plan.kind == Kind::Panic && message == "fuzz",
        Err(TaskError::Failed { message }) => plan.kind == Kind::Fail && message == "fuzz",
        Ok(Value::Undefined) => matches!(plan.kind, Kind::Sleep(_)),
        Ok(Value::Number(n)) => plan.kind == Kind::Echo && *n == 7.0,
        _ => false,
    }
}

#[test]
fn every_job_reports_exactly_one_outcome_of_an_allowed_kind() {
    let registry = TaskRegistry::with_test_tasks();
    let mut runner = runner(48, 42);
    let jobs_run = AtomicUsize::new(0);
    let strategy = (1usize..4, proptest::collection::vec(job_plan(), 1..24));
    runner
        .run(&strategy, |(threads, plans)| {
            let pool = ThreadPool::new(PoolConfig::fixed(threads), Arc::new(NoObserver));
            let (sink, rx) = ChannelSink::new();
            let mut withdrawn = HashSet::new();
            let mut cancelled = HashSet::new();
            for (t, plan) in plans.iter().enumerate() {
                let t = t as u64;
                let options = JobOptions {
                    priority: plan.priority,
                    timeout: plan.timeout_ms.map(Duration::from_millis),
                    wants_messages: t % 2 == 0,
                };
                let control = submit_with(&pool, &sink, t, options, work_for(&registry, plan.kind));
                match plan.control {
                    Control::None => {}
                    Control::Cancel => {
                        control.cancel(CancelReason::Aborted);
                        cancelled.insert(t);
                    }
                    Control::Withdraw | Control::WithdrawThenCancel => {
                        if pool.withdraw(&control) {
                            withdrawn.insert(t);
                        } else {
                            // Already running: the only way to stop it is to cancel it, as the binding does.
                            control.cancel(CancelReason::Aborted);
                            cancelled.insert(t);
                        }
                        if plan.control == Control::WithdrawThenCancel {
                            control.cancel(CancelReason::Aborted);
                            cancelled.insert(t);
                        }
                    }
                }
            }
            let expected = plans.len() - withdrawn.len();
            let mut seen: HashMap<u64, Result<Value, TaskError>> = HashMap::new();
            for (t, outcome) in collect_done(&rx, expected) {
                prop_assert!(!withdrawn.contains(&t), "job {t} was withdrawn but reported {outcome:?}");
                prop_assert!(seen.insert(t, outcome).is_none(), "job {t} reported twice");
            }
            pool.close();
            pool.join();
            // Every thread has stopped: nothing more can arrive.
            let late: Vec<_> = rx.try_iter().filter(|r| matches!(r, Report::Done(..))).collect();
            prop_assert!(late.is_empty(), "outcomes after all were counted: {late:?}");
            for (t, plan) in plans.iter().enumerate() {
                let t = t as u64;
                if withdrawn.contains(&t) {
                    continue;
                }
                let outcome = &seen[&t];
                prop_assert!(allowed(plan, cancelled.contains(&t), outcome), "job {t} {plan:?}: {outcome:?}");
                if let Err(e) = outcome {
                    prop_assert!(CODES.contains(&e.code()));
                }
            }
            let s = pool.stats();
            prop_assert_eq!(s.completed + s.failed + s.cancelled + s.timed_out, plans.len() as u64);
            jobs_run.fetch_add(plans.len(), Ordering::Relaxed);
            Ok(())
        })
        .unwrap();
    println!("pool: 48 generated batches, {} jobs", jobs_run.load(Ordering::Relaxed));
}
