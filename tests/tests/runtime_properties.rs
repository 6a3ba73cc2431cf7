//! Properties of the runtime under random use:
//!
//! - random sequences of events (valid or not, by the right people or not, at random times) never panic, and
//!   every refused event leaves the instance's snapshot byte for byte unchanged;
//! - snapshot → restore → continue gives exactly the effects and state of continuing directly;
//! - effects read in place (`complete_view`, `advance_each`) say what the owned effects say, field by field;
//! - with many instances in one runtime, its next wake-up is always the earliest of theirs, and never due;
//! - instances that share a runtime behave exactly as each does alone;
//! - moving the clock in steps fires the same timers as one move to the same time;
//! - the module formats numbers, durations, times and dates in texts exactly as `proc_abi::text` does.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use proc_runtime::{
    Actor, Effect, EffectKind, EffectRef, Effects, Error, InstanceId, MINUTE, Module, Performer,
    Runtime, TaskRef, Time,
};
use proc_tests::repo_root;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::OnceLock;

fn build(name: &str, text: String) -> Module {
    proc_tests::load_module(name, "example", text).unwrap()
}

fn example(name: &str) -> Module {
    let text = std::fs::read_to_string(repo_root().join("examples").join(name)).expect("example");
    build(name, text)
}

fn complaint() -> &'static Module {
    static MODULE: OnceLock<Module> = OnceLock::new();
    MODULE.get_or_init(|| example("complaint.proc"))
}

fn refund() -> &'static Module {
    static MODULE: OnceLock<Module> = OnceLock::new();
    MODULE.get_or_init(|| example("refund.proc"))
}

/// Signals that pause a business-hours deadline and answer an `await … within`.
fn inquiry() -> &'static Module {
    static MODULE: OnceLock<Module> = OnceLock::new();
    MODULE.get_or_init(|| example("inquiry.proc"))
}

#[derive(Clone, Debug)]
enum Op {
    Complete {
        pick: usize,
        actor: usize,
        outputs: u8,
    },
    Advance(u32),
    Claim {
        pick: usize,
        actor: usize,
    },
    Release {
        pick: usize,
        actor: usize,
    },
    Suspend {
        pick: usize,
        actor: usize,
    },
    Resume {
        pick: usize,
        actor: usize,
    },
    Skip {
        pick: usize,
        actor: usize,
    },
    Reassign {
        pick: usize,
        actor: usize,
        role: usize,
    },
    Delegate {
        pick: usize,
        actor: usize,
        to: usize,
    },
    UnknownTask {
        actor: usize,
    },
    /// One of the module's signals, with a payload of its type or (`valid` false) one that is not.
    Signal {
        which: usize,
        valid: bool,
    },
    /// Redo one of the module's steps.
    Redo {
        step: usize,
        actor: usize,
    },
    Cancel,
    Query,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(op(), 1..40)
}

fn op() -> impl Strategy<Value = Op> {
    let pick = 0usize..4;
    let actor = 0usize..ACTORS.len();
    prop_oneof![
        6 => (pick.clone(), actor.clone(), 0u8..4).prop_map(|(pick, actor, outputs)| Op::Complete { pick, actor, outputs }),
        4 => (0u32..3000).prop_map(Op::Advance),
        1 => (pick.clone(), actor.clone()).prop_map(|(pick, actor)| Op::Claim { pick, actor }),
        1 => (pick.clone(), actor.clone()).prop_map(|(pick, actor)| Op::Release { pick, actor }),
        1 => (pick.clone(), actor.clone()).prop_map(|(pick, actor)| Op::Suspend { pick, actor }),
        1 => (pick.clone(), actor.clone()).prop_map(|(pick, actor)| Op::Resume { pick, actor }),
        1 => (pick.clone(), actor.clone()).prop_map(|(pick, actor)| Op::Skip { pick, actor }),
        1 => (pick.clone(), actor.clone(), 0usize..ROLES.len()).prop_map(|(pick, actor, role)| Op::Reassign { pick, actor, role }),
        1 => (pick.clone(), actor.clone(), actor.clone()).prop_map(|(pick, actor, to)| Op::Delegate { pick, actor, to }),
        1 => actor.clone().prop_map(|actor| Op::UnknownTask { actor }),
        2 => (0usize..4, proptest::bool::weighted(0.9)).prop_map(|(which, valid)| Op::Signal { which, valid }),
        1 => (0usize..16, actor).prop_map(|(step, actor)| Op::Redo { step, actor }),
        1 => Just(Op::Cancel),
        1 => Just(Op::Query),
    ]
}

const ACTORS: &[(&str, &[&str])] = &[
    ("ann", &["Agent"]),
    ("bob", &["Agent"]),
    ("sue", &["Supervisor"]),
    ("max", &["Manager"]),
    ("mel", &["Manager", "Agent"]),
    ("mo", &["Manager"]),
    ("zed", &[]),
];
const ROLES: &[&str] = &["Agent", "Supervisor", "Manager", "Director"];

fn actor(index: usize) -> Actor {
    let (id, roles) = ACTORS[index % ACTORS.len()];
    Actor::new(id, roles)
}

fn outputs(step: &str, kind: u8) -> Value {
    match (step, kind) {
        (_, 3) => json!({"nonsense": 1}),
        ("assess", k) => {
            let urgency = ["low", "normal", "high"][usize::from(k % 3)];
            json!({ "urgency": urgency })
        }
        ("approve", k) => json!({"approved": k != 1, "note": null}),
        ("manager_approval", k) => json!({"approved": k != 1}),
        _ => json!({}),
    }
}

/// What the accessors of an effect read in place must say, taken from the owned effect.
#[derive(Debug, PartialEq)]
struct Fields {
    kind: EffectKind,
    instance: InstanceId,
    task: Option<TaskRef>,
    step: Option<String>,
    role: Option<String>,
    by: Option<String>,
    due: Option<Time>,
    text: Option<String>,
}

fn expected(module: &Module, effect: &Effect) -> Fields {
    let mut f = Fields {
        kind: EffectKind::NextWakeup,
        instance: effect.instance(),
        task: None,
        step: None,
        role: None,
        by: None,
        due: None,
        text: None,
    };
    let name = |s: &str| Some(s.to_string());
    match effect {
        Effect::TaskOpened(o) => {
            f.kind = EffectKind::TaskOpened;
            (f.task, f.step, f.due, f.text) =
                (Some(o.task), name(&o.step), o.due, name(&o.instruction));
            f.role = match &o.performer {
                Performer::Role { role, .. } | Performer::DynamicRole(role) => name(role),
                _ => None,
            };
        }
        Effect::TaskCompleted { task, step, by, .. } => {
            f.kind = EffectKind::TaskCompleted;
            (f.task, f.step, f.by) = (Some(*task), name(step), name(by));
        }
        Effect::TaskCancelled { task, step, .. } => {
            f.kind = EffectKind::TaskCancelled;
            (f.task, f.step) = (Some(*task), name(step));
        }
        Effect::TaskBreached { task, step, due } => {
            f.kind = EffectKind::TaskBreached;
            (f.task, f.step, f.due) = (Some(*task), name(step), Some(*due));
        }
        Effect::TaskReassigned {
            task,
            step,
            role,
            by,
        } => {
            f.kind = EffectKind::TaskReassigned;
            (f.task, f.step, f.role, f.by) = (Some(*task), name(step), name(role), by.clone());
        }
        Effect::Notified { role, message, .. } => {
            f.kind = EffectKind::Notified;
            (f.role, f.text) = (name(role), name(message));
        }
        Effect::Flagged { message, .. } => (f.kind, f.text) = (EffectKind::Flagged, name(message)),
        Effect::ActionRequested { .. } => f.kind = EffectKind::ActionRequested,
        Effect::Completed { .. } => f.kind = EffectKind::Completed,
        Effect::Failed { reason, .. } => (f.kind, f.text) = (EffectKind::Failed, name(reason)),
        Effect::Cancelled { reason, .. } => {
            (f.kind, f.text) = (EffectKind::Cancelled, name(reason))
        }
        Effect::TaskClaimed { task, by } => {
            (f.kind, f.task, f.by) = (EffectKind::TaskClaimed, Some(*task), name(by));
        }
        Effect::TaskReleased { task, by } => {
            (f.kind, f.task, f.by) = (EffectKind::TaskReleased, Some(*task), name(by));
        }
        Effect::TaskDelegated { task, by, .. } => {
            (f.kind, f.task, f.by) = (EffectKind::TaskDelegated, Some(*task), name(by));
        }
        Effect::TaskSuspended { task, by } => {
            (f.kind, f.task, f.by) = (EffectKind::TaskSuspended, Some(*task), name(by));
        }
        Effect::TaskResumed { task, by, due } => {
            (f.kind, f.task, f.by, f.due) = (EffectKind::TaskResumed, Some(*task), name(by), *due);
        }
        Effect::TaskSkipped { task, step, by } => {
            (f.kind, f.task, f.step, f.by) =
                (EffectKind::TaskSkipped, Some(*task), name(step), name(by));
        }
        Effect::StepRedone { step, by, .. } => {
            (f.kind, f.step, f.by) = (EffectKind::StepRedone, name(step), name(by));
        }
        Effect::DeadlinePaused { task } => {
            (f.kind, f.task) = (EffectKind::DeadlinePaused, Some(*task))
        }
        Effect::DeadlineResumed { task, due } => {
            (f.kind, f.task, f.due) = (EffectKind::DeadlineResumed, Some(*task), *due);
        }
        Effect::ProcessBreached { due, .. } => {
            (f.kind, f.due) = (EffectKind::ProcessBreached, Some(*due))
        }
        Effect::NextWakeup { .. } => {}
    }
    // A view names the step of every effect about a task, also where the owned form carries only the task.
    if let (None, Some(task)) = (&f.step, f.task) {
        f.step = module
            .metadata()
            .steps
            .get(task.step as usize)
            .map(|s| s.name.clone());
    }
    f
}

fn read(effect: &EffectRef<'_>) -> Fields {
    Fields {
        kind: effect.kind(),
        instance: effect.instance(),
        task: effect.task(),
        step: effect.step().map(str::to_string),
        role: effect.role().map(str::to_string),
        by: effect.by().map(str::to_string),
        due: effect.due(),
        text: effect.text().map(str::to_string),
    }
}

/// The owned effects of a view, after checking that every accessor agrees with them.
fn checked(module: &Module, effects: &Effects<'_>) -> Vec<Effect> {
    let owned = effects.to_vec();
    assert_eq!(effects.len(), owned.len());
    for (view, effect) in effects.iter().zip(&owned) {
        assert_eq!(read(&view), expected(module, effect), "{effect:?}");
        assert_eq!(&view.to_effect(), effect);
    }
    owned
}

/// Applies one op; returns the effects (empty when refused) after checking a refusal changed nothing.
fn apply(runtime: &mut Runtime, id: InstanceId, op: &Op) -> Vec<Effect> {
    let module = runtime.module().clone();
    let tasks = runtime.open_tasks(id).unwrap_or_default();
    let task = |pick: usize| tasks.get(pick % tasks.len().max(1)).map(|t| t.task);
    let before = runtime.snapshot(id).expect("snapshot");
    let result: Result<Vec<Effect>, Error> = match op {
        Op::Advance(minutes) => {
            let to = runtime.now().plus(i64::from(*minutes) * MINUTE);
            let mut effects = Vec::new();
            runtime
                .advance_each(to, |view| effects.extend(checked(&module, &view)))
                .map(|()| effects)
        }
        Op::Query => runtime.status(id).map(|_| Vec::new()),
        Op::Signal { which, valid } => {
            let signals = &module.metadata().signals;
            match signals.get(which % signals.len().max(1)) {
                Some(signal) => {
                    let payload = if *valid {
                        let fields = signal
                            .fields
                            .iter()
                            .map(|f| (f.name.clone(), json!("from the customer")));
                        Value::Object(fields.collect())
                    } else {
                        json!({"nonsense": 1})
                    };
                    runtime
                        .signal_view(id, &signal.name, &payload)
                        .map(|view| checked(&module, &view))
                }
                None => Ok(Vec::new()),
            }
        }
        Op::Redo { step, actor: a } => {
            let steps = &module.metadata().steps;
            match steps.get(step % steps.len().max(1)) {
                Some(s) => runtime.redo(id, &s.name, &actor(*a)),
                None => Ok(Vec::new()),
            }
        }
        Op::Cancel => runtime.cancel(id, "random"),
        Op::UnknownTask { actor: a } => match tasks.first() {
            Some(t) => {
                let mut unknown = t.task;
                unknown.task += 1000;
                runtime.complete(unknown, &actor(*a), &json!({}))
            }
            None => Ok(Vec::new()),
        },
        Op::Complete {
            pick,
            actor: a,
            outputs: kind,
        } => match task(*pick) {
            Some(t) => {
                let step = tasks
                    .iter()
                    .find(|i| i.task == t)
                    .map(|i| i.step.to_string())
                    .unwrap_or_default();
                runtime
                    .complete_view(t, &actor(*a), &outputs(&step, *kind))
                    .map(|view| checked(&module, &view))
            }
            None => Ok(Vec::new()),
        },
        Op::Claim { pick, actor: a } => {
            task(*pick).map_or(Ok(Vec::new()), |t| runtime.claim(t, &actor(*a)))
        }
        Op::Release { pick, actor: a } => {
            task(*pick).map_or(Ok(Vec::new()), |t| runtime.release(t, &actor(*a)))
        }
        Op::Suspend { pick, actor: a } => {
            task(*pick).map_or(Ok(Vec::new()), |t| runtime.suspend(t, &actor(*a)))
        }
        Op::Resume { pick, actor: a } => {
            task(*pick).map_or(Ok(Vec::new()), |t| runtime.resume(t, &actor(*a)))
        }
        Op::Skip { pick, actor: a } => {
            task(*pick).map_or(Ok(Vec::new()), |t| runtime.skip(t, &actor(*a)))
        }
        Op::Reassign {
            pick,
            actor: a,
            role,
        } => task(*pick).map_or(Ok(Vec::new()), |t| {
            runtime.reassign(t, &actor(*a), ROLES[role % ROLES.len()])
        }),
        Op::Delegate { pick, actor: a, to } => task(*pick).map_or(Ok(Vec::new()), |t| {
            runtime.delegate(t, &actor(*a), &actor(*to))
        }),
    };
    match result {
        Ok(effects) => effects,
        Err(error) => {
            assert!(
                matches!(
                    error,
                    Error::Rejected(_) | Error::InvalidValue { .. } | Error::UnknownName { .. }
                ),
                "unexpected error for {op:?}: {error}"
            );
            let after = runtime.snapshot(id).expect("snapshot");
            assert!(
                before == after,
                "refused {op:?} changed the instance: {error}"
            );
            Vec::new()
        }
    }
}

fn start(module: &Module, process: &str, input: &Value) -> (Runtime, InstanceId) {
    let mut runtime = Runtime::new(module).unwrap();
    runtime
        .advance("2026-03-02T09:00:00Z".parse::<Time>().unwrap())
        .unwrap();
    let (id, _) = runtime.start(process, input).unwrap();
    (runtime, id)
}

fn json_of(effects: &[Effect]) -> Vec<Value> {
    effects.iter().map(Effect::to_json).collect()
}

fn check_split(module: &Module, process: &str, input: &Value, ops: &[Op], split: usize) {
    let split = split % (ops.len() + 1);
    let (mut direct, id) = start(module, process, input);
    for op in &ops[..split] {
        apply(&mut direct, id, op);
    }
    let snapshot = direct.snapshot(id).unwrap();
    let mut restored = Runtime::new(module).unwrap();
    restored.advance(direct.now()).unwrap();
    let copy = restored.restore(&snapshot).unwrap();
    assert_eq!(copy, id, "a restored instance keeps its id");
    for op in &ops[split..] {
        let a = apply(&mut direct, id, op);
        let b = apply(&mut restored, copy, op);
        assert_eq!(json_of(&a), json_of(&b), "after {op:?}");
    }
    assert!(direct.snapshot(id).unwrap() == restored.snapshot(copy).unwrap());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn random_complaint_events_never_panic_and_restore_equals_continue(ops in ops(), split in 0usize..40) {
        let input = json!({"c": {"customer": "Ada", "summary": "charged twice"}});
        check_split(complaint(), "complaint", &input, &ops, split);
    }

    #[test]
    fn random_inquiry_events_never_panic_and_restore_equals_continue(ops in ops(), split in 0usize..40, urgent in proptest::bool::weighted(0.2)) {
        let input = json!({"q": {"customer": "Grace", "question": "Where is my order?", "urgent": urgent}});
        check_split(inquiry(), "inquiry", &input, &ops, split);
    }

    #[test]
    fn random_refund_events_never_panic_and_restore_equals_continue(ops in ops(), split in 0usize..40, big in any::<bool>()) {
        let input = json!({"r": {"customer": "Acme", "amount": if big { 25_000 } else { 800 },
            "reason": "outage", "approvers": ["max", "mel", "mo"]}});
        check_split(refund(), "refund", &input, &ops, split);
    }
}

/// What happens to one of several instances in a runtime.
#[derive(Clone, Debug)]
enum Many {
    Start,
    Remove(usize),
    On(usize, Op),
}

/// The runtime's next wake-up is the earliest of its instances' (each asked through a query), and later than now:
/// whatever was due has fired.
fn check_wakeups(runtime: &mut Runtime, live: &[InstanceId], after: &Many) {
    let mut earliest: Option<Time> = None;
    for &id in live {
        let wake = runtime.status(id).unwrap().next_wakeup;
        earliest = match (earliest, wake) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    assert_eq!(runtime.next_wakeup(), earliest, "after {after:?}");
    if let Some(t) = earliest {
        assert!(
            t > runtime.now(),
            "{t} is due at {} after {after:?}",
            runtime.now()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn the_next_wakeup_is_the_earliest_of_many_instances(
        steps in proptest::collection::vec(prop_oneof![
            2 => Just(Many::Start),
            1 => (0usize..8).prop_map(Many::Remove),
            8 => (0usize..8, op()).prop_map(|(i, op)| Many::On(i, op)),
        ], 1..60)
    ) {
        let input = json!({"c": {"customer": "Ada", "summary": "charged twice"}});
        let (mut runtime, first) = start(complaint(), "complaint", &input);
        let mut live = vec![first];
        for step in &steps {
            match step {
                Many::Start => live.push(runtime.start("complaint", &input).unwrap().0),
                Many::Remove(i) if !live.is_empty() => {
                    let id = live.remove(i % live.len());
                    runtime.remove(id).unwrap();
                }
                Many::On(i, op) if !live.is_empty() => {
                    let id = live[i % live.len()];
                    apply(&mut runtime, id, op);
                }
                _ => {}
            }
            check_wakeups(&mut runtime, &live, step);
        }
    }
}

/// An effect as JSON without its instance id (the same instance has different ids in different runtimes).
fn anonymous(effects: &[Effect]) -> Vec<Value> {
    effects
        .iter()
        .map(|e| {
            let mut json = e.to_json();
            if let Some(object) = json.as_object_mut() {
                object.remove("instance");
            }
            json
        })
        .collect()
}

/// Three instances share a runtime (one wasm instance, with queries of the others between their events) and each
/// behaves exactly as it does alone in a runtime of its own: the same effects for the same events, and the same
/// state at the end, byte for byte. Then a copy of one, restored into that runtime, goes on as the original.
fn check_isolation(module: &Module, process: &str, input: &Value, steps: &[(usize, Op)]) {
    let (mut shared, first) = start(module, process, input);
    let mut ids = vec![first];
    for _ in 1..3 {
        ids.push(shared.start(process, input).unwrap().0);
    }
    let mut alone: Vec<(Runtime, InstanceId)> =
        (0..3).map(|_| start(module, process, input)).collect();
    for (i, op) in steps {
        if let Op::Advance(_) = op {
            // Time passes for everyone: each instance's share of the shared runtime's effects is what it does
            // alone.
            let all = apply(&mut shared, ids[*i], op);
            for (k, (runtime, id)) in alone.iter_mut().enumerate() {
                let own: Vec<Effect> = all
                    .iter()
                    .filter(|e| e.instance() == ids[k])
                    .cloned()
                    .collect();
                assert_eq!(
                    anonymous(&own),
                    anonymous(&apply(runtime, *id, op)),
                    "{op:?}"
                );
            }
        } else {
            let (runtime, id) = &mut alone[*i];
            let together = apply(&mut shared, ids[*i], op);
            assert_eq!(
                anonymous(&together),
                anonymous(&apply(runtime, *id, op)),
                "{op:?}"
            );
        }
        shared.status(ids[(i + 1) % 3]).unwrap();
    }
    for (k, (runtime, id)) in alone.iter().enumerate() {
        assert!(
            proc_tests::case_state(&shared.snapshot(ids[k]).unwrap())
                == proc_tests::case_state(&runtime.snapshot(*id).unwrap()),
            "instance {k} differs from the same instance alone"
        );
    }
    // Restored into the same, used runtime, a copy goes on exactly as its original.
    let copy = shared
        .restore_copy(&shared.snapshot(ids[0]).unwrap())
        .unwrap();
    for (_, op) in steps.iter().filter(|(_, op)| !matches!(op, Op::Advance(_))) {
        let original = apply(&mut shared, ids[0], op);
        assert_eq!(
            anonymous(&original),
            anonymous(&apply(&mut shared, copy, op)),
            "{op:?}"
        );
    }
    assert!(
        proc_tests::case_state(&shared.snapshot(ids[0]).unwrap())
            == proc_tests::case_state(&shared.snapshot(copy).unwrap())
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn complaints_sharing_a_runtime_behave_as_they_do_alone(
        steps in proptest::collection::vec((0usize..3, op()), 1..50)
    ) {
        let input = json!({"c": {"customer": "Ada", "summary": "charged twice"}});
        check_isolation(complaint(), "complaint", &input, &steps);
    }

    #[test]
    fn refunds_sharing_a_runtime_behave_as_they_do_alone(
        steps in proptest::collection::vec((0usize..3, op()), 1..50), big in any::<bool>()
    ) {
        let input = json!({"r": {"customer": "Acme", "amount": if big { 25_000 } else { 800 },
            "reason": "outage", "approvers": ["max", "mel", "mo"]}});
        check_isolation(refund(), "refund", &input, &steps);
    }
}

/// Effects without the next wake-ups (which an advance in steps reports at every step).
fn without_wakeups(effects: &[Effect]) -> Vec<Value> {
    let kept: Vec<Effect> = effects
        .iter()
        .filter(|e| !matches!(e, Effect::NextWakeup { .. }))
        .cloned()
        .collect();
    json_of(&kept)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Moving the clock in several steps fires the same timers, with the same effects, as one move to the same
    /// time (each timer fires at its own time either way), measures the same KPIs, and the instance goes on the
    /// same way after.
    #[test]
    fn advancing_in_steps_equals_advancing_at_once(
        before in proptest::collection::vec(op(), 0..15),
        steps in proptest::collection::vec(1u32..600, 1..6),
        after in proptest::collection::vec(op(), 0..15),
        which in 0usize..3,
    ) {
        let (module, process, input) = match which {
            0 => (refund(), "refund", json!({"r": {"customer": "Acme", "amount": 25_000, "reason": "outage",
                "approvers": ["max", "mel", "mo"]}})),
            1 => (inquiry(), "inquiry", json!({"q": {"customer": "Grace", "question": "Where?", "urgent": false}})),
            _ => (complaint(), "complaint", json!({"c": {"customer": "Ada", "summary": "charged twice"}})),
        };
        let (mut stepped, a) = start(module, process, &input);
        let (mut direct, b) = start(module, process, &input);
        for op in &before {
            apply(&mut stepped, a, op);
            apply(&mut direct, b, op);
        }
        let mut in_steps = Vec::new();
        for minutes in &steps {
            in_steps.extend(apply(&mut stepped, a, &Op::Advance(*minutes)));
        }
        let total: u32 = steps.iter().sum();
        let at_once = apply(&mut direct, b, &Op::Advance(total));
        prop_assert_eq!(without_wakeups(&in_steps), without_wakeups(&at_once));
        prop_assert_eq!(stepped.next_wakeup(), direct.next_wakeup());
        prop_assert_eq!(stepped.kpis(a).ok(), direct.kpis(b).ok());
        for op in &after {
            prop_assert_eq!(json_of(&apply(&mut stepped, a, op)), json_of(&apply(&mut direct, b, op)), "{:?}", op);
        }
        prop_assert_eq!(stepped.kpis(a).ok(), direct.kpis(b).ok());
    }
}

fn formats() -> &'static Module {
    static MODULE: OnceLock<Module> = OnceLock::new();
    MODULE.get_or_init(|| {
        build(
            "formats.proc",
            r#"
/// Agents.
role Agent
/// Values to show.
record Values { n: Int, d: Duration, t: Time, day: Date }
/// Shows values in a text.
process show(v: Values) { notify Agent "{v.n}|{v.d}|{v.t}|{v.day}" }
"#
            .to_string(),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn texts_show_values_as_the_abi_formats_them(
        n in any::<i64>(),
        d in -10_000_000_000_000i64..10_000_000_000_000,
        t in -2_000_000_000_000i64..250_000_000_000_000,
        day in -700_000i64..2_900_000,
    ) {
        use proc_abi::text::{format_date, format_duration, format_time_compact, format_time_rfc3339};
        let mut runtime = Runtime::new(formats()).unwrap();
        let input = json!({"v": {"n": n, "d": format_duration(d), "t": format_time_rfc3339(t), "day": format_date(day)}});
        let (_, effects) = runtime.start("show", &input).unwrap();
        let Some(Effect::Notified { message, .. }) = effects.first() else {
            panic!("no notification: {effects:?}");
        };
        let expected = format!("{n}|{}|{}|{}", format_duration(d), format_time_compact(t), format_date(day));
        prop_assert_eq!(message, &expected);
    }
}
