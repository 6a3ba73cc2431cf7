//! The runtime, event by event: each test compiles a small `.proc` package and drives it through
//! `proc_runtime::Runtime`. Every refusal is checked to leave the instance's snapshot byte for byte unchanged.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use proc_runtime::{
    Actor, CancelReason, DAY, Effect, EffectKind, Error, HOUR, InstanceId, InstanceStatus, Limits,
    MINUTE, Module, Options, Performer, Runtime, StaticDirectory, TaskRef, Time, Waiting,
};
use serde_json::{Value, json};
use std::sync::Arc;

fn module(source: &str) -> Module {
    proc_tests::load_module("test.proc", "test", source).unwrap()
}

/// A runtime for `module` with `limits`.
fn limited(module: &Module, limits: Limits) -> Runtime {
    Runtime::with_options(
        module,
        Options {
            limits,
            ..Options::default()
        },
    )
    .unwrap()
}

fn runtime_at(source: &str, start: &str) -> Runtime {
    let mut runtime = Runtime::new(&module(source)).unwrap();
    runtime.advance(t(start)).unwrap();
    runtime
}

fn t(text: &str) -> Time {
    text.parse().unwrap()
}

fn opened(effects: &[Effect], step: &str) -> TaskRef {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::TaskOpened(o) if &*o.step == step => Some(o.task),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no task for `{step}` opened in {}", lines(effects)))
}

fn lines(effects: &[Effect]) -> String {
    effects
        .iter()
        .map(|e| format!("\n  {e}"))
        .collect::<String>()
}

fn has(effects: &[Effect], text: &str) -> bool {
    effects.iter().any(|e| e.to_string().contains(text))
}

/// Asserts a call is refused with `code` and leaves the instance unchanged.
fn refused(
    runtime: &mut Runtime,
    instance: InstanceId,
    code: u32,
    call: impl FnOnce(&mut Runtime) -> Result<Vec<Effect>, Error>,
) -> String {
    let before = runtime.snapshot(instance).unwrap();
    let error = call(runtime).expect_err("the call should be refused");
    let after = runtime.snapshot(instance).unwrap();
    assert_eq!(
        before, after,
        "a refused call changed the instance ({error})"
    );
    match &error {
        Error::Rejected(r) => assert_eq!(r.code, code, "{error}"),
        other => assert_eq!(code, 0, "expected rejection {code}, got {other}"),
    }
    error.to_string()
}

fn agent(id: &str) -> Actor {
    Actor::new(id, &["Agent"])
}

const TRIAGE: &str = r#"
/// Answers.
role Agent
/// Leads.
role Supervisor
/// Owns.
role Manager
/// How urgent.
enum Urgency { low, normal, high }
/// A case.
record Case { customer: Text, amount: Int, note: Text? }

/// Triage.
process triage(c: Case) -> Urgency within 3d {
  step intake "Log the case of {c.customer} ({c.amount} EUR)" {
    by Agent
    within 1h
    on breach {
      notify Supervisor "Intake for {c.customer} is late"
      after 2h reassign to Supervisor
      after 4h flag "intake very late"
    }
  }
  step assess "Assess {c.customer}" -> (urgency: Urgency, comment: Text?) {
    by Agent other than intake
    within 2h
  }
  complete assess.urgency
}
"#;

fn triage() -> (Runtime, InstanceId, TaskRef) {
    let mut runtime = runtime_at(TRIAGE, "2026-03-02T09:00:00Z");
    let (id, effects) = runtime
        .start("triage", &json!({"c": {"customer": "Ada", "amount": 120}}))
        .unwrap();
    let task = opened(&effects, "intake");
    (runtime, id, task)
}

#[test]
fn start_checks_its_input_and_creates_nothing_when_it_is_wrong() {
    let mut runtime = runtime_at(TRIAGE, "2026-03-02T09:00:00Z");
    let cases = [
        (
            json!({"c": {"customer": 7, "amount": 1}}),
            "`c.customer` should be a text",
        ),
        (json!({"c": {"customer": "A"}}), "`c.amount` is missing"),
        (
            json!({"c": {"customer": "A", "amount": 1, "x": 2}}),
            "`c.x` is not expected",
        ),
        (json!({"d": {}}), "`d` is not expected"),
        (json!("text"), "should be an object"),
        // The record given without its parameter: the error says how to wrap it.
        (
            json!({"customer": "A", "amount": 1}),
            "invalid input for process `triage`: `amount` is not expected here; the fields are `c` (the input has \
             a field per parameter of the process: {\"c\": …})",
        ),
    ];
    for (input, message) in cases {
        let error = runtime.start("triage", &input).unwrap_err();
        assert!(error.to_string().contains(message), "{error}");
    }
    let error = runtime.start("triag", &json!({})).unwrap_err();
    assert!(matches!(error, Error::UnknownProcess { .. }), "{error}");
    assert!(error.to_string().contains("`triage`"));
    assert_eq!(runtime.instance_count(), 0);
}

#[test]
fn a_task_opens_with_its_instruction_due_time_and_performer() {
    let (_, _, _) = triage();
    let mut runtime = runtime_at(TRIAGE, "2026-03-02T09:00:00Z");
    let (_, effects) = runtime
        .start(
            "triage",
            &json!({"c": {"customer": "Ada", "amount": 120, "note": null}}),
        )
        .unwrap();
    let Effect::TaskOpened(task) = &effects[0] else {
        panic!("{}", lines(&effects))
    };
    assert_eq!(task.instruction, "Log the case of Ada (120 EUR)");
    assert_eq!(task.due, Some(t("2026-03-02T10:00:00Z")));
    assert_eq!(
        task.performer,
        Performer::Role {
            role: "Agent".into(),
            skills: vec![]
        }
    );
    assert_eq!(runtime.next_wakeup(), Some(t("2026-03-02T10:00:00Z")));
}

/// Every text length through the module's copies: short ones (byte, word and overlapping 8- and 16-byte moves),
/// up to 64 bytes without a loop, longer ones 16 bytes at a time, and beyond 512 bytes with `memory.copy`.
#[test]
fn texts_of_every_length_are_copied_whole() {
    let mut runtime = runtime_at(TRIAGE, "2026-03-02T09:00:00Z");
    let agent = agent("ann");
    for n in 0..=600usize {
        // A different byte at every position (and a multi-byte character now and then), so a shifted or
        // repeated chunk shows.
        let customer: String = (0..n)
            .map(|i| match i % 37 {
                36 => 'é',
                k => char::from(b'a' + u8::try_from(k % 26).unwrap()),
            })
            .take(n)
            .collect();
        let (_, effects) = runtime
            .start(
                "triage",
                &json!({"c": {"customer": customer, "amount": n, "note": null}}),
            )
            .unwrap();
        let Effect::TaskOpened(task) = &effects[0] else {
            panic!("{}", lines(&effects))
        };
        assert_eq!(
            task.instruction,
            format!("Log the case of {customer} ({n} EUR)")
        );
        let task = task.task;
        let effects = runtime.complete(task, &agent, &json!({})).unwrap();
        let done_by = effects.iter().find_map(|e| match e {
            Effect::TaskCompleted { by, .. } => Some(by.clone()),
            _ => None,
        });
        assert_eq!(done_by.as_deref(), Some("ann"));
    }
}

#[test]
fn completions_are_checked_before_they_change_anything() {
    let (mut runtime, id, intake) = triage();
    let wrong_role = refused(&mut runtime, id, proc_abi::reject::NOT_IN_ROLE, |r| {
        r.complete(intake, &Actor::new("sue", &["Supervisor"]), &json!({}))
    });
    assert!(
        wrong_role.contains("it is for role `Agent`"),
        "{wrong_role}"
    );
    refused(&mut runtime, id, proc_abi::reject::UNKNOWN_TASK, |r| {
        r.complete(TaskRef { task: 99, ..intake }, &agent("ann"), &json!({}))
    });
    let effects = runtime.complete(intake, &agent("ann"), &json!({})).unwrap();
    let assess = opened(&effects, "assess");
    // The same task cannot be completed twice.
    refused(&mut runtime, id, proc_abi::reject::UNKNOWN_TASK, |r| {
        r.complete(intake, &agent("ann"), &json!({}))
    });
    // Four eyes: not the person who did the intake.
    let four_eyes = refused(&mut runtime, id, proc_abi::reject::FOUR_EYES, |r| {
        r.complete(assess, &agent("ann"), &json!({"urgency": "high"}))
    });
    assert!(four_eyes.contains("four eyes"), "{four_eyes}");
    // Outputs are checked against their types; nothing changes when they are wrong.
    for (outputs, message) in [
        (
            json!({"urgency": "urgent"}),
            "should be one of `low`, `normal`, `high`",
        ),
        (json!({}), "`urgency` is missing"),
        (
            json!({"urgency": "low", "comment": 3}),
            "`comment` should be a text",
        ),
        (
            json!({"urgency": "low", "extra": true}),
            "`extra` is not expected",
        ),
    ] {
        let before = runtime.snapshot(id).unwrap();
        let error = runtime
            .complete(assess, &agent("bob"), &outputs)
            .unwrap_err();
        assert!(error.to_string().contains(message), "{error}");
        assert_eq!(before, runtime.snapshot(id).unwrap());
    }
    let effects = runtime
        .complete(
            assess,
            &agent("bob"),
            &json!({"urgency": "high", "comment": "angry"}),
        )
        .unwrap();
    assert!(
        matches!(effects.last(), Some(Effect::Completed { result: Some(v), .. }) if v == "high")
    );
    assert_eq!(
        runtime.instance_status(id).unwrap(),
        InstanceStatus::Completed
    );
    // After the end, every event is refused.
    refused(&mut runtime, id, proc_abi::reject::INSTANCE_ENDED, |r| {
        r.complete(assess, &agent("bob"), &json!({"urgency": "low"}))
    });
    refused(&mut runtime, id, proc_abi::reject::INSTANCE_ENDED, |r| {
        r.cancel(id, "late")
    });
}

#[test]
fn deadlines_breach_and_ladders_climb_at_their_own_times() {
    let (mut runtime, id, intake) = triage();
    // Nothing happens before the deadline.
    assert!(
        runtime
            .advance(t("2026-03-02T09:59:00Z"))
            .unwrap()
            .is_empty()
    );
    let effects = runtime.advance(t("2026-03-02T15:30:00Z")).unwrap();
    let texts: Vec<String> = effects.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        [
            "task 1 missed its deadline 2026-03-02T10:00:00Z: intake",
            "notify Supervisor: \"Intake for Ada is late\"",
            "task 1 escalated to Supervisor: intake",
            "flagged: \"intake very late\"",
            "next wake-up 2026-03-05T09:00:00Z",
        ]
    );
    // Escalated: now the supervisor may do it, an agent no longer.
    refused(&mut runtime, id, proc_abi::reject::NOT_IN_ROLE, |r| {
        r.complete(intake, &agent("ann"), &json!({}))
    });
    let info = runtime.status(id).unwrap();
    assert_eq!(info.tasks[0].role.as_deref(), Some("Supervisor"));
    assert!(
        info.steps
            .iter()
            .any(|s| &*s.step == "intake" && s.breached && !s.done)
    );
    runtime
        .complete(intake, &Actor::new("sue", &["Supervisor"]), &json!({}))
        .unwrap();
    // The process's own deadline (3 days) passes too.
    let effects = runtime.advance(t("2026-03-05T09:00:00Z")).unwrap();
    assert!(
        has(&effects, "missed its deadline 2026-03-02T17:30:00Z: assess"),
        "{}",
        lines(&effects)
    );
    assert!(
        has(
            &effects,
            "the case missed its overall deadline 2026-03-05T09:00:00Z"
        ),
        "{}",
        lines(&effects)
    );
}

#[test]
fn stages_at_the_same_time_fire_together_in_the_order_written() {
    let source = r#"
/// Answers.
role Agent
/// Leads.
role Supervisor
/// Greets.
process greet() {
  step hello "Say hello" {
    by Agent
    within 1h
    on breach {
      notify Supervisor "hello is late"
      reassign to Supervisor
      after 2h notify Supervisor "still late"
      after 2h flag "two hours late"
    }
  }
}
"#;
    let mut runtime = runtime_at(source, "2026-03-02T09:00:00Z");
    let (_, effects) = runtime.start("greet", &json!({})).unwrap();
    let hello = opened(&effects, "hello");
    let position = |effects: &[Effect], text: &str| {
        effects
            .iter()
            .position(|e| e.to_string().contains(text))
            .unwrap_or_else(|| panic!("no `{text}` in {}", lines(effects)))
    };
    let effects = runtime.advance(t("2026-03-02T10:00:00Z")).unwrap();
    let breach = position(&effects, "missed its deadline 2026-03-02T10:00:00Z");
    let notify = position(&effects, "notify Supervisor: \"hello is late\"");
    let reassign = position(&effects, "task 1 escalated to Supervisor");
    assert!(breach < notify && notify < reassign, "{}", lines(&effects));
    let effects = runtime.advance(t("2026-03-02T12:00:00Z")).unwrap();
    let notify = position(&effects, "notify Supervisor: \"still late\"");
    let flag = position(&effects, "flagged: \"two hours late\"");
    assert!(notify < flag, "{}", lines(&effects));
    runtime
        .complete(hello, &Actor::new("sue", &["Supervisor"]), &json!({}))
        .unwrap();
}

#[test]
fn time_never_runs_backwards() {
    let (mut runtime, _, _) = triage();
    runtime.advance(t("2026-03-02T09:30:00Z")).unwrap();
    runtime.advance(t("2026-03-01T00:00:00Z")).unwrap();
    assert_eq!(runtime.now(), t("2026-03-02T09:30:00Z"));
}

const PEOPLE: &str = r#"
/// Agents.
role Agent
/// Trainers.
role Trainer
/// Leads.
role Lead

/// Someone new.
record Hire { name: Text, mentor: Text }

/// Several ways to choose who does a step.
process people(h: Hire) {
  step intake "Register {h.name}" { by Agent }
  step again "Check {h.name} again" { by same person as intake }
  step mentor "Mentor {h.name}" { by person h.mentor }
  step train "Teach billing" {
    by Trainer with skill billing
    within 1d
    on breach { after 1h reassign to Lead }
  }
  step review "Review the work of {intake.done_by}" { by manager of intake }
  step wrap "Wrap up after a day" { by Agent after 1d since intake within 2d since intake }
}
"#;

#[test]
fn performers_persons_skills_managers_and_lags() {
    let mut runtime = runtime_at(PEOPLE, "2026-03-02T09:00:00Z");
    let directory = StaticDirectory::default().with("ann", &["Agent"], &[], Some("mo"));
    runtime.set_directory(Arc::new(directory));
    let (id, effects) = runtime
        .start("people", &json!({"h": {"name": "Lin", "mentor": "mara"}}))
        .unwrap();
    let intake = opened(&effects, "intake");
    // Read in place, a task for a person (here: the same person as before) names no role.
    let view = runtime
        .complete_view(intake, &agent("ann"), &json!({}))
        .unwrap();
    let again_view = view
        .iter()
        .find(|e| e.kind() == EffectKind::TaskOpened)
        .expect("a task opens");
    assert_eq!(
        (again_view.step(), again_view.role()),
        (Some("again"), None)
    );
    let effects = view.to_vec();
    let again = opened(&effects, "again");
    let not_ann = refused(&mut runtime, id, proc_abi::reject::NOT_THE_PERSON, |r| {
        r.complete(again, &agent("bob"), &json!({}))
    });
    assert!(not_ann.contains("for ann only"), "{not_ann}");
    let effects = runtime
        .complete(again, &Actor::new("ann", &[]), &json!({}))
        .unwrap();
    let mentor = opened(&effects, "mentor");
    refused(&mut runtime, id, proc_abi::reject::NOT_THE_PERSON, |r| {
        r.complete(mentor, &agent("ann"), &json!({}))
    });
    let effects = runtime
        .complete(mentor, &Actor::new("mara", &[]), &json!({}))
        .unwrap();
    let train = opened(&effects, "train");
    let skill = refused(&mut runtime, id, proc_abi::reject::MISSING_SKILL, |r| {
        r.complete(train, &Actor::new("tia", &["Trainer"]), &json!({}))
    });
    assert!(skill.contains("needs the skill `billing`"), "{skill}");
    // Once reassigned by its ladder, the skill is no longer required.
    runtime.advance(t("2026-03-03T10:00:00Z")).unwrap();
    let view = runtime
        .complete_view(train, &Actor::new("lee", &["Lead"]), &json!({}))
        .unwrap();
    let review_view = view
        .iter()
        .find(|e| e.kind() == EffectKind::TaskOpened)
        .expect("a task opens");
    assert_eq!(
        review_view.role(),
        None,
        "a task for a manager names no role"
    );
    assert_eq!(review_view.text(), Some("Review the work of ann"));
    let effects = view.to_vec();
    // The manager comes from the host's directory.
    let Some(Effect::TaskOpened(review)) =
        effects.iter().find(|e| matches!(e, Effect::TaskOpened(_)))
    else {
        panic!("{}", lines(&effects))
    };
    assert_eq!(
        review.performer,
        Performer::ManagerOf {
            of: "ann".into(),
            manager: Some("mo".into())
        }
    );
    assert_eq!(review.instruction, "Review the work of ann");
    refused(&mut runtime, id, proc_abi::reject::NOT_THE_PERSON, |r| {
        r.complete(review.task, &agent("ann"), &json!({}))
    });
    let effects = runtime
        .complete(review.task, &Actor::new("mo", &[]), &json!({}))
        .unwrap();
    // `after 1d since intake`: intake was done at 09:00 on the 2nd; it is now 10:00 on the 3rd, so it may be done.
    let wrap = opened(&effects, "wrap");
    let effects = runtime.complete(wrap, &agent("bob"), &json!({})).unwrap();
    assert!(matches!(effects.last(), Some(Effect::Completed { .. })));
}

#[test]
fn an_after_lag_refuses_early_completions() {
    let mut runtime = runtime_at(PEOPLE, "2026-03-02T09:00:00Z");
    let (id, effects) = runtime
        .start("people", &json!({"h": {"name": "Lin", "mentor": "mara"}}))
        .unwrap();
    let intake = opened(&effects, "intake");
    let effects = runtime.complete(intake, &agent("ann"), &json!({})).unwrap();
    let again = opened(&effects, "again");
    let effects = runtime.complete(again, &agent("ann"), &json!({})).unwrap();
    let mentor = opened(&effects, "mentor");
    let effects = runtime
        .complete(mentor, &Actor::new("mara", &[]), &json!({}))
        .unwrap();
    let train = opened(&effects, "train");
    let effects = runtime
        .complete(
            train,
            &Actor::new("tia", &["Trainer"]).with_skills(&["billing"]),
            &json!({}),
        )
        .unwrap();
    // Nobody's manager is known: the task is for nobody until a manager of the step reassigns it.
    let Some(Effect::TaskOpened(review)) =
        effects.iter().find(|e| matches!(e, Effect::TaskOpened(_)))
    else {
        panic!("{}", lines(&effects))
    };
    assert_eq!(
        review.performer,
        Performer::ManagerOf {
            of: "ann".into(),
            manager: None
        }
    );
    // Nobody may do it: not even someone without an id.
    let error = runtime
        .complete(review.task, &Actor::new("", &[]), &json!({}))
        .unwrap_err();
    assert!(error.to_string().contains("needs an id"), "{error}");
    // Nor with an id that would show people something else than what happened.
    let before = runtime.snapshot(id).unwrap();
    for who in ["ann\u{0}", "ann\u{1b}[2J", "ann\u{202e}nn", "\u{2066}ann"] {
        let error = runtime
            .complete(review.task, &Actor::new(who, &["Agent"]), &json!({}))
            .unwrap_err();
        assert!(error.to_string().contains("control characters"), "{error}");
    }
    assert_eq!(runtime.snapshot(id).unwrap(), before);
    refused(&mut runtime, id, proc_abi::reject::NOT_THE_PERSON, |r| {
        r.complete(review.task, &agent("ann"), &json!({}))
    });
}

/// A completion refused for its `after` lag says from when it is accepted; at that very time it is.
#[test]
fn a_completion_before_its_lag_says_from_when() {
    let source = "/// A.\nrole Agent\n/// P.\nprocess p() {\n  step s \"Wait a bit\" { by Agent after 2h }\n}\n";
    let mut runtime = runtime_at(source, "2026-03-02T09:00:00Z");
    let (id, effects) = runtime.start("p", &json!({})).unwrap();
    let task = opened(&effects, "s");
    let before = runtime.snapshot(id).unwrap();
    let error = runtime
        .complete(task, &agent("ann"), &json!({}))
        .unwrap_err();
    assert!(
        error.to_string().contains("not before 2026-03-02T11:00"),
        "{error}"
    );
    assert_eq!(runtime.snapshot(id).unwrap(), before);
    runtime.advance_before(t("2026-03-02T11:00:00Z")).unwrap();
    runtime.complete(task, &agent("ann"), &json!({})).unwrap();
}

const WAITING: &str = r#"
/// Agents.
role Agent
/// Leads.
role Lead
/// The desk's hours.
calendar Desk {
  zone "Europe/Berlin"
  hours mon-fri 09:00-17:00
  holiday 2026-04-03
}
/// We asked the customer.
signal Asked
/// The customer answered.
signal Replied { text: Text }

/// Waits for the customer.
process waiting() {
  step answer "Answer" {
    by Agent
    within 4h on Desk
    paused from Asked until Replied
  }
  let reply = await Replied within 2d
  if reply == none {
    fail "no reply"
  }
  let text = (reply ?? Replied { text: "" }).text
  notify Lead "Replied: {text}"
}
"#;

#[test]
fn business_time_and_paused_deadlines() {
    let mut runtime = runtime_at(WAITING, "2026-03-27T14:00:00Z");
    // Friday 15:00 in Berlin: 2 hours today, 2 on Monday, which is already summer time (UTC+2).
    let (id, effects) = runtime.start("waiting", &json!({})).unwrap();
    let Effect::TaskOpened(answer) = &effects[0] else {
        panic!()
    };
    assert_eq!(answer.due, Some(t("2026-03-30T09:00:00Z")));
    // Paused on Friday at 16:00 Berlin (1 working hour used); resumed on Monday at 10:00 Berlin (08:00Z).
    runtime.advance(t("2026-03-27T15:00:00Z")).unwrap();
    let effects = runtime.signal(id, "Asked", &json!({})).unwrap();
    assert!(has(&effects, "deadline paused"), "{}", lines(&effects));
    assert_eq!(runtime.next_wakeup(), None);
    // Asking again while paused is taken, and changes nothing.
    let before = runtime.snapshot(id).unwrap();
    let effects = runtime.signal(id, "Asked", &json!({})).unwrap();
    assert!(effects.is_empty(), "{}", lines(&effects));
    assert_eq!(runtime.snapshot(id).unwrap(), before);
    runtime.advance(t("2026-03-30T08:00:00Z")).unwrap();
    let effects = runtime
        .signal(id, "Replied", &json!({"text": "here"}))
        .unwrap();
    assert!(
        has(&effects, "deadline runs again, due 2026-03-30T11:00:00Z"),
        "{}",
        lines(&effects)
    );
    // Replied is not awaited by the flow yet (the task is still open): the signal only resumed the deadline.
    let effects = runtime
        .complete(answer.task, &agent("ann"), &json!({}))
        .unwrap();
    assert!(
        effects
            .iter()
            .all(|e| !matches!(e, Effect::Notified { .. }))
    );
    let effects = runtime
        .signal(id, "Replied", &json!({"text": "thanks"}))
        .unwrap();
    assert!(
        has(&effects, "notify Lead: \"Replied: thanks\""),
        "{}",
        lines(&effects)
    );
    // While the step is open, its pause signals are taken also when there is nothing to pause or resume: a
    // reply that nobody asked for, a question asked after the deadline passed.
    let mut other = runtime_at(WAITING, "2026-03-27T14:00:00Z");
    let (id, effects) = other.start("waiting", &json!({})).unwrap();
    let answer = opened(&effects, "answer");
    let before = other.snapshot(id).unwrap();
    let effects = other
        .signal(id, "Replied", &json!({"text": "early"}))
        .unwrap();
    assert!(effects.is_empty(), "{}", lines(&effects));
    assert_eq!(other.snapshot(id).unwrap(), before);
    let effects = other.advance(t("2026-03-30T10:00:00Z")).unwrap();
    assert!(has(&effects, "missed its deadline"), "{}", lines(&effects));
    // (The case's own time moves on to the signal's; its tasks and timers stay as they were.)
    let before = (other.open_tasks(id).unwrap(), other.next_wakeup());
    let effects = other.signal(id, "Asked", &json!({})).unwrap();
    assert!(effects.is_empty(), "{}", lines(&effects));
    assert_eq!((other.open_tasks(id).unwrap(), other.next_wakeup()), before);
    // A signal nothing waits for is refused: once the step is done, only the flow's `await` takes `Replied`.
    other.complete(answer, &agent("ann"), &json!({})).unwrap();
    let message = refused(&mut other, id, proc_abi::reject::SIGNAL_NOT_AWAITED, |r| {
        r.signal(id, "Asked", &json!({}))
    });
    assert!(message.contains("waiting for signal `Asked`"), "{message}");
    let error = other.signal(id, "Answered", &json!({})).unwrap_err();
    assert!(
        error.to_string().contains("no signal `Answered`"),
        "{error}"
    );
    let error = other.signal(id, "Asked", &json!({"x": 1})).unwrap_err();
    assert!(error.to_string().contains("`x` is not expected"), "{error}");
}

#[test]
fn an_await_times_out_with_none() {
    let mut runtime = runtime_at(WAITING, "2026-03-02T09:00:00Z");
    let (id, effects) = runtime.start("waiting", &json!({})).unwrap();
    let answer = opened(&effects, "answer");
    runtime.complete(answer, &agent("ann"), &json!({})).unwrap();
    let effects = runtime.advance(t("2026-03-04T09:00:00Z")).unwrap();
    assert_eq!(lines(&effects), "\n  failed: \"no reply\"");
    assert_eq!(runtime.instance_status(id).unwrap(), InstanceStatus::Failed);
}

const FLOWS: &str = r#"
/// Agents.
role Agent
/// Managers.
role Manager
/// On call.
role OnCall
/// A request.
record Request { items: [Text], approvers: [Text], needed: Int }
/// The customer answered.
signal Answered

/// Adds one.
procedure plus_one(n: Int) -> Int {
  return n + 1
}

/// Returns as soon as one branch is done.
procedure fastest(label: Text) -> Text {
  parallel any {
    branch { step quick "Quick {label}" { by Agent } return "quick" }
    branch { step slow "Slow {label}" { by Agent } return "slow" }
  }
  return "none"
}

/// Many shapes of flow.
process flows(r: Request) {
  for each item in r.items {
    step check "Check {item}" { by Agent }
  }
  let n = plus_one(plus_one(r.needed))
  notify Manager "n is {n}"
  for each approver in r.approvers parallel 2 of {
    step approve "Approve for {approver}" -> ok: Bool { by person approver }
  }
  let which = fastest("x")
  notify Manager "fastest was {which}"
  first {
    branch { await Answered }
    branch {
      every 15m max 3 { notify OnCall "still waiting" }
      step chase "Chase the customer" { by Agent }
    }
  }
  parallel {
    branch side { step long "Long work" { by Agent } }
    branch { cancel side }
  }
  complete
}
"#;

/// A branch that cancels its sibling in a `first` (or `parallel any`): the cancelled branch counts as finished, so
/// the join is satisfied and cancels the rest, the branch that cancelled included.
const CANCEL_SIBLING: &str = r#"
/// Answers.
role Agent
/// The customer confirmed.
signal Go

/// Cancels the timer's branch from the signal's.
process first_of() {
  first {
    branch a {
      await Go
      cancel b
      step after_go "After go" { by Agent }
    }
    branch b { wait 2d }
  }
  step next "Next" { by Agent }
}

/// The same with `parallel any`, the cancel one branch deeper.
process any_of() {
  parallel any {
    branch a {
      await Go
      parallel {
        branch { cancel b }
      }
      step after_go "After go" { by Agent }
    }
    branch b { wait 2d }
  }
  step next "Next" { by Agent }
}

/// A branch that cancels itself stops there.
process itself() {
  parallel {
    branch a {
      cancel a
      step never "Never" { by Agent }
    }
    branch { step other "Other" { by Agent } }
  }
  step next "Next" { by Agent }
}
"#;

#[test]
fn a_branch_cancelled_by_its_own_join_stops() {
    for process in ["first_of", "any_of"] {
        let mut runtime = runtime_at(CANCEL_SIBLING, "2026-03-02T09:00:00Z");
        let (id, _) = runtime.start(process, &json!({})).unwrap();
        let effects = runtime.signal(id, "Go", &json!({})).unwrap();
        assert!(!has(&effects, "after_go"), "{process}: {}", lines(&effects));
        let next = opened(&effects, "next");
        let tasks = runtime.open_tasks(id).unwrap();
        assert_eq!(tasks.len(), 1, "{process}: {}", lines(&effects));
        let effects = runtime.complete(next, &agent("ann"), &json!({})).unwrap();
        assert!(has(&effects, "completed"), "{process}: {}", lines(&effects));
    }
    let mut runtime = runtime_at(CANCEL_SIBLING, "2026-03-02T09:00:00Z");
    let (id, effects) = runtime.start("itself", &json!({})).unwrap();
    assert!(!has(&effects, "never"), "{}", lines(&effects));
    let other = opened(&effects, "other");
    let effects = runtime.complete(other, &agent("ann"), &json!({})).unwrap();
    opened(&effects, "next");
    assert_eq!(runtime.open_tasks(id).unwrap().len(), 1);
}

#[test]
fn loops_procedures_joins_first_of_and_cancel() {
    let mut runtime = runtime_at(FLOWS, "2026-03-02T09:00:00Z");
    let input = json!({"r": {"items": ["a", "b"], "approvers": ["max", "mel", "mo"], "needed": 1}});
    let (id, effects) = runtime.start("flows", &input).unwrap();
    let check = opened(&effects, "check");
    assert!(has(&effects, "\"Check a\""));
    let effects = runtime.complete(check, &agent("ann"), &json!({})).unwrap();
    let check = opened(&effects, "check");
    assert!(has(&effects, "\"Check b\""));
    let effects = runtime.complete(check, &agent("ann"), &json!({})).unwrap();
    assert!(
        has(&effects, "notify Manager: \"n is 3\""),
        "{}",
        lines(&effects)
    );
    let approvals: Vec<TaskRef> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::TaskOpened(o) if &*o.step == "approve" => Some(o.task),
            _ => None,
        })
        .collect();
    assert_eq!(approvals.len(), 3);
    runtime
        .complete(approvals[0], &Actor::new("max", &[]), &json!({"ok": true}))
        .unwrap();
    refused(&mut runtime, id, proc_abi::reject::NOT_THE_PERSON, |r| {
        r.complete(approvals[1], &Actor::new("max", &[]), &json!({"ok": true}))
    });
    let effects = runtime
        .complete(approvals[1], &Actor::new("mel", &[]), &json!({"ok": false}))
        .unwrap();
    // Two of three: the third approval is withdrawn, and the procedure's two branches open.
    assert!(
        has(&effects, "task 5 no longer needed: approve"),
        "{}",
        lines(&effects)
    );
    let quick = opened(&effects, "quick");
    let effects = runtime.complete(quick, &agent("ann"), &json!({})).unwrap();
    assert!(
        has(&effects, "no longer needed: slow"),
        "{}",
        lines(&effects)
    );
    assert!(
        has(&effects, "notify Manager: \"fastest was quick\""),
        "{}",
        lines(&effects)
    );
    // `every 15m max 3`: one notification per round, each at its own time, then the chase step.
    let effects = runtime.advance(t("2026-03-02T10:00:00Z")).unwrap();
    let times: Vec<String> = effects
        .iter()
        .filter(|e| matches!(e, Effect::Notified { .. }))
        .map(ToString::to_string)
        .collect();
    assert_eq!(times.len(), 3, "{}", lines(&effects));
    let chase = opened(&effects, "chase");
    let info = runtime.status(id).unwrap();
    assert_eq!(info.tasks.len(), 1);
    assert_eq!(info.tasks[0].opened, t("2026-03-02T09:45:00Z"));
    // The customer answers first: the chase is withdrawn; then `cancel side` ends the other branch.
    let effects = runtime.signal(id, "Answered", &json!({})).unwrap();
    assert!(
        has(
            &effects,
            &format!("task {} no longer needed: chase", chase.task)
        ),
        "{}",
        lines(&effects)
    );
    assert!(
        has(&effects, "no longer needed: long"),
        "{}",
        lines(&effects)
    );
    assert!(
        matches!(effects.last(), Some(Effect::Completed { .. })),
        "{}",
        lines(&effects)
    );
}

const OPS: &str = r#"
/// Agents.
role Agent
/// Supervisors.
role Supervisor
/// Checks what is sent.
action send(to: Text) -> Bool

/// Work-item operations.
process ops() {
  step one "First" { by Agent }
  step two "Second" {
    by Agent
    within 4h
    on breach { notify Supervisor }
    skippable
  }
  let ok = send("customer@example.com")
  if not ok { fail "not sent" }
  step three "Third" { by Agent on breach { notify Supervisor } }
}
"#;

#[test]
fn claim_release_delegate_reassign_suspend_resume_skip_and_redo() {
    let mut runtime = runtime_at(OPS, "2026-03-02T09:00:00Z");
    let (id, effects) = runtime.start("ops", &json!({})).unwrap();
    let first = opened(&effects, "one");
    runtime.claim(first, &agent("ann")).unwrap();
    let claimed = refused(&mut runtime, id, proc_abi::reject::CLAIMED_BY_OTHER, |r| {
        r.complete(first, &agent("bob"), &json!({}))
    });
    assert!(claimed.contains("claimed by ann"), "{claimed}");
    refused(&mut runtime, id, proc_abi::reject::CLAIMED_BY_OTHER, |r| {
        r.release(first, &agent("bob"))
    });
    // A second claim by the claimant is refused (it would record the claim twice); so is a delegation by
    // someone else while ann holds it, for that reason, and a delegation to oneself.
    let again = refused(&mut runtime, id, proc_abi::reject::ALREADY_CLAIMED, |r| {
        r.claim(first, &agent("ann"))
    });
    assert!(again.contains("already claimed by ann"), "{again}");
    let theirs = refused(&mut runtime, id, proc_abi::reject::CLAIMED_BY_OTHER, |r| {
        r.delegate(first, &agent("bob"), &agent("cy"))
    });
    assert!(theirs.contains("claimed by ann"), "{theirs}");
    let own = refused(&mut runtime, id, proc_abi::reject::DELEGATE_TO_SELF, |r| {
        r.delegate(first, &agent("ann"), &agent("ann"))
    });
    assert!(own.contains("cannot delegate task"), "{own}");
    runtime
        .delegate(first, &agent("ann"), &agent("bob"))
        .unwrap();
    let message = refused(
        &mut runtime,
        id,
        proc_abi::reject::DELEGATE_NOT_ELIGIBLE,
        |r| r.delegate(first, &agent("bob"), &Actor::new("sue", &["Supervisor"])),
    );
    assert!(
        message.contains("they do not hold its role or skill"),
        "{message}"
    );
    runtime.release(first, &agent("bob")).unwrap();
    refused(&mut runtime, id, proc_abi::reject::NOT_CLAIMED, |r| {
        r.release(first, &agent("bob"))
    });
    let effects = runtime.complete(first, &agent("cy"), &json!({})).unwrap();
    let second = opened(&effects, "two");
    // Managing needs a role of the step's ladder (Supervisor) — or an admin role.
    refused(&mut runtime, id, proc_abi::reject::NOT_A_MANAGER, |r| {
        r.suspend(second, &agent("ann"))
    });
    let sue = Actor::new("sue", &["Supervisor"]);
    runtime.suspend(second, &sue).unwrap();
    refused(&mut runtime, id, proc_abi::reject::TASK_SUSPENDED, |r| {
        r.complete(second, &agent("ann"), &json!({}))
    });
    // Suspended for two hours: the deadline moves by two hours.
    runtime.advance(t("2026-03-02T11:00:00Z")).unwrap();
    let effects = runtime.resume(second, &sue).unwrap();
    assert!(
        has(&effects, "due 2026-03-02T15:00:00Z"),
        "{}",
        lines(&effects)
    );
    refused(&mut runtime, id, proc_abi::reject::NOT_SUSPENDED, |r| {
        r.resume(second, &sue)
    });
    // A manager's delegation to the person who already holds the claim changes nothing, so it is refused.
    runtime.claim(second, &agent("ann")).unwrap();
    refused(&mut runtime, id, proc_abi::reject::ALREADY_CLAIMED, |r| {
        r.delegate(second, &sue, &agent("ann"))
    });
    runtime.reassign(second, &sue, "Supervisor").unwrap();
    refused(&mut runtime, id, proc_abi::reject::NOT_IN_ROLE, |r| {
        r.complete(second, &agent("ann"), &json!({}))
    });
    let effects = runtime.skip(second, &sue).unwrap();
    assert!(has(&effects, "skipped by sue: two"), "{}", lines(&effects));
    let Some(Effect::ActionRequested { request, args, .. }) = effects
        .iter()
        .find(|e| matches!(e, Effect::ActionRequested { .. }))
    else {
        panic!("{}", lines(&effects))
    };
    assert_eq!(args, &json!({"to": "customer@example.com"}));
    let error = runtime
        .action_result(*request, Ok(&json!("yes")))
        .unwrap_err();
    assert!(
        error.to_string().contains("should be `true` or `false`"),
        "{error}"
    );
    let effects = runtime.action_result(*request, Ok(&json!(true))).unwrap();
    let third = opened(&effects, "three");
    refused(&mut runtime, id, proc_abi::reject::UNKNOWN_REQUEST, |r| {
        r.action_result(*request, Ok(&json!(true)))
    });
    // Redo: back to `third` after it ran is not possible while it is open; back to `first` cannot be done by an
    // agent, and `first`'s ladder has no roles, so only an admin may.
    let message = refused(&mut runtime, id, proc_abi::reject::NOT_A_MANAGER, |r| {
        r.redo(id, "one", &sue)
    });
    assert!(
        message.contains("sue may not manage step `one`"),
        "{message}"
    );
    let mut admin_runtime = Runtime::with_options(
        runtime.module(),
        Options {
            admin_roles: vec!["Supervisor".into()],
            ..Options::default()
        },
    )
    .unwrap();
    let restored = admin_runtime
        .restore(&runtime.snapshot(id).unwrap())
        .unwrap();
    let effects = admin_runtime.redo(restored, "one", &sue).unwrap();
    assert!(
        has(
            &effects,
            &format!(
                "task {} cancelled to redo an earlier step: three",
                third.task
            )
        ),
        "{}",
        lines(&effects)
    );
    assert!(
        has(&effects, "back to step one, by sue"),
        "{}",
        lines(&effects)
    );
    assert!(
        has(&effects, "opened: one for Agent"),
        "{}",
        lines(&effects)
    );
    refused(
        &mut admin_runtime,
        restored,
        proc_abi::reject::NOT_SKIPPABLE,
        |r| {
            let first = r.open_tasks(restored).unwrap()[0].task;
            r.skip(first, &sue)
        },
    );
}

#[test]
fn a_failed_action_fails_the_instance() {
    let mut runtime = runtime_at(OPS, "2026-03-02T09:00:00Z");
    let (id, effects) = runtime.start("ops", &json!({})).unwrap();
    let first = opened(&effects, "one");
    let effects = runtime.complete(first, &agent("ann"), &json!({})).unwrap();
    let effects = runtime
        .complete(opened(&effects, "two"), &agent("ann"), &json!({}))
        .unwrap();
    let Some(Effect::ActionRequested { request, .. }) = effects
        .iter()
        .find(|e| matches!(e, Effect::ActionRequested { .. }))
    else {
        panic!()
    };
    let effects = runtime
        .action_result(*request, Err("mail server down"))
        .unwrap();
    assert_eq!(lines(&effects), "\n  failed: \"mail server down\"");
    assert_eq!(runtime.instance_status(id).unwrap(), InstanceStatus::Failed);
}

#[test]
fn cancelling_an_instance_closes_its_tasks() {
    let (mut runtime, id, _) = triage();
    let effects = runtime.cancel(id, "duplicate case").unwrap();
    assert_eq!(
        lines(&effects),
        "\n  task 1 closed because the case ended: intake\n  cancelled: \"duplicate case\""
    );
    assert_eq!(runtime.next_wakeup(), None);
}

#[test]
fn queries_show_status_input_tasks_and_steps() {
    let (mut runtime, id, intake) = triage();
    runtime.complete(intake, &agent("ann"), &json!({})).unwrap();
    let info = runtime.status(id).unwrap();
    assert_eq!(info.process, "triage");
    assert_eq!(info.status, InstanceStatus::Running);
    assert_eq!(
        info.input,
        json!({"c": {"customer": "Ada", "amount": 120, "note": null}})
    );
    assert_eq!(info.tasks.len(), 1);
    assert_eq!(&*info.tasks[0].step, "assess");
    assert_eq!(info.tasks[0].due, Some(t("2026-03-02T11:00:00Z")));
    let intake = info.steps.iter().find(|s| &*s.step == "intake").unwrap();
    assert!(intake.done);
    assert_eq!(intake.done_by.as_deref(), Some("ann"));
    assert_eq!(intake.outputs, Some(json!({})));
    assert_eq!(info.next_wakeup, Some(t("2026-03-02T11:00:00Z")));
}

#[test]
fn a_snapshot_continues_exactly_like_the_original() {
    let (mut original, id, intake) = triage();
    original
        .complete(intake, &agent("ann"), &json!({}))
        .unwrap();
    let snapshot = original.snapshot(id).unwrap();
    let mut copy = Runtime::new(original.module()).unwrap();
    copy.advance(original.now()).unwrap();
    let restored = copy.restore(&snapshot).unwrap();
    assert_eq!(copy.snapshot(restored).unwrap(), snapshot);
    let a = original.advance(t("2026-03-02T12:00:00Z")).unwrap();
    let b = copy.advance(t("2026-03-02T12:00:00Z")).unwrap();
    let json = |e: &[Effect]| e.iter().map(Effect::to_json).collect::<Vec<Value>>();
    assert_eq!(json(&a), json(&b));
    assert!(!a.is_empty());
    assert_eq!(
        original.snapshot(id).unwrap(),
        copy.snapshot(restored).unwrap()
    );
    // Damaged or foreign snapshots are refused.
    let error = copy.restore(&snapshot[..20]).unwrap_err();
    assert!(matches!(error, Error::BadSnapshot(_)), "{error}");
    let other = runtime_at(OPS, "2026-03-02T09:00:00Z");
    let mut other = other;
    let error = other.restore(&snapshot).unwrap_err();
    assert!(error.to_string().contains("different build"), "{error}");
    // The same source in another build (as another compiler would lay it out: here, a custom section more):
    // its source hash is the same, but the case may not continue there.
    let mut bytes = proc_tests::compile_module("test.proc", "test", TRIAGE).unwrap();
    assert_eq!(
        Module::from_bytes(&bytes).unwrap().metadata().source_hash,
        original.module().metadata().source_hash
    );
    bytes.extend_from_slice(&[0, 5, 4, b'n', b'o', b't', b'e']);
    let rebuilt_module = Module::from_bytes(&bytes).unwrap();
    assert_eq!(
        Runtime::snapshot_build_id(&snapshot),
        Some(original.module().build_id())
    );
    assert_ne!(rebuilt_module.build_id(), original.module().build_id());
    assert_eq!(Runtime::snapshot_build_id(&snapshot[..20]), None);
    let mut rebuilt = Runtime::new(&rebuilt_module).unwrap();
    let error = rebuilt.restore(&snapshot).unwrap_err();
    assert!(error.to_string().contains("different build"), "{error}");
    assert_eq!(rebuilt.instance_count(), 0);
}

/// Bytes damaged in storage are refused by the snapshot's checksum, wherever the damage is: none is restored to
/// run on as a wrong case.
#[test]
fn a_snapshot_damaged_anywhere_is_refused() {
    let (mut runtime, id, intake) = triage();
    runtime.complete(intake, &agent("ann"), &json!({})).unwrap();
    let snapshot = runtime.snapshot(id).unwrap();
    let count = runtime.instance_count();
    for at in 0..snapshot.len() {
        for flip in [0x01, 0x80] {
            let mut damaged = snapshot.clone();
            damaged[at] ^= flip;
            let error = runtime.restore(&damaged).unwrap_err();
            assert!(matches!(error, Error::BadSnapshot(_)), "byte {at}: {error}");
        }
    }
    let error = runtime
        .restore(&snapshot[..snapshot.len() - 1])
        .unwrap_err();
    assert!(error.to_string().contains("checksum"), "{error}");
    assert_eq!(runtime.instance_count(), count);
    runtime.restore_copy(&snapshot).unwrap();
}

/// A restored instance keeps its id, so the task references a host kept still name it; restoring a case that is
/// still here is refused instead of making two of it, and ids given out later never collide with restored ones.
#[test]
fn a_restored_instance_keeps_its_id_and_is_never_duplicated() {
    let (mut runtime, id, intake) = triage();
    let (second, _) = runtime
        .start("triage", &json!({"c": {"customer": "Bo", "amount": 5}}))
        .unwrap();
    let snapshot = runtime.snapshot(second).unwrap();
    let error = runtime.restore(&snapshot).unwrap_err();
    assert_eq!(error, Error::InstanceExists(second));
    assert!(error.to_string().contains("restore_copy"), "{error}");
    assert_eq!(runtime.instance_count(), 2);
    // After a restart: the same ids, and a task reference from before still works.
    let mut restarted = Runtime::new(runtime.module()).unwrap();
    restarted.advance(runtime.now()).unwrap();
    assert_eq!(restarted.restore(&snapshot).unwrap(), second);
    let (third, _) = restarted
        .start("triage", &json!({"c": {"customer": "Cy", "amount": 7}}))
        .unwrap();
    assert!(third.0 > second.0, "{third} after {second}");
    assert_eq!(
        restarted.restore(&runtime.snapshot(id).unwrap()).unwrap(),
        id
    );
    restarted
        .complete(intake, &agent("ann"), &json!({}))
        .unwrap();
    // Going back to a snapshot: remove, then restore.
    restarted.remove(id).unwrap();
    assert_eq!(
        restarted.restore(&runtime.snapshot(id).unwrap()).unwrap(),
        id
    );
    assert_eq!(
        restarted.snapshot(id).unwrap(),
        runtime.snapshot(id).unwrap()
    );
}

/// `restore` takes the instance's status and next wake-up from the case itself (the module's reading of it), not
/// from what the snapshot's header says: a header that disagrees (written by another tool, then given a
/// checksum) cannot make an ended case look running and stop `advance` for every instance.
#[test]
fn restore_takes_the_status_from_the_case_not_the_header() {
    use sha2::{Digest, Sha256};
    let (mut runtime, id, intake) = triage();
    runtime.complete(intake, &agent("ann"), &json!({})).unwrap();
    runtime.cancel(id, "test").unwrap();
    let mut snapshot = runtime.snapshot(id).unwrap();
    // The header: magic, ABI version, hash length and hash, wake-up (i64), status (u8), instance id (u64).
    let hash_len = u32::from_le_bytes(snapshot[12..16].try_into().unwrap()) as usize;
    let wake = 16 + hash_len;
    snapshot[wake..wake + 8].copy_from_slice(&t("2026-03-02T10:00:00Z").0.to_le_bytes());
    snapshot[wake + 8] = 0;
    let body = snapshot.len() - 32;
    let digest = Sha256::digest(&snapshot[..body]);
    snapshot[body..].copy_from_slice(&digest);
    let copy = runtime.restore_copy(&snapshot).unwrap();
    assert_eq!(
        runtime.instance_status(copy).unwrap(),
        InstanceStatus::Cancelled
    );
    // The other instances' timers still fire.
    let (other, _) = runtime
        .start("triage", &json!({"c": {"customer": "Bo", "amount": 5}}))
        .unwrap();
    let effects = runtime.advance(t("2026-03-03T09:00:00Z")).unwrap();
    assert!(
        effects.iter().any(|e| e.instance() == other),
        "{}",
        lines(&effects)
    );
}

/// Options a host gets wrong are refused when the runtime is made, not found out later: a misspelt admin role
/// would make nobody an administrator. The clock can start at the host's time.
#[test]
fn runtime_options_are_checked_and_the_clock_can_start_at_the_hosts_time() {
    let module = module(TRIAGE);
    let error = Runtime::with_options(
        &module,
        Options {
            admin_roles: vec!["Agnet".into()],
            ..Options::default()
        },
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("there is no role `Agnet` (the module has `Agent`"),
        "{error}"
    );
    let mut runtime = Runtime::with_options(
        &module,
        Options {
            start_time: Some(t("2026-03-02T09:00:00Z")),
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(runtime.now(), t("2026-03-02T09:00:00Z"));
    let (id, _) = runtime
        .start("triage", &json!({"c": {"customer": "Ada", "amount": 120}}))
        .unwrap();
    assert_eq!(
        runtime.status(id).unwrap().started,
        t("2026-03-02T09:00:00Z")
    );
}

/// A task reference whose step is not the task's, or a task that is not open: the refusal says what is open,
/// so a host can see its mistake.
#[test]
fn a_refused_task_reference_says_what_is_open() {
    let (mut runtime, id, intake) = triage();
    let steps = &runtime.module().metadata().steps;
    let assess = u32::try_from(steps.iter().position(|s| s.name == "assess").unwrap()).unwrap();
    let wrong = TaskRef {
        step: assess,
        ..intake
    };
    let outputs = json!({"urgency": "low", "comment": null});
    let error = runtime
        .complete(wrong, &agent("ann"), &outputs)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("instance {id} has no open task 1 for step `assess`: task 1 is for step `intake`")
    );
    let missing = TaskRef { task: 7, ..intake };
    let error = runtime
        .complete(missing, &agent("ann"), &json!({}))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("instance {id} has no open task 7 (open: task 1 `intake`)")
    );
    // A role name the module does not have is pointed out.
    let error = runtime
        .complete(intake, &Actor::new("ann", &["agent"]), &json!({}))
        .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("(`agent` is not a role of this module; did you mean `Agent`?)"),
        "{error}"
    );
    // A misspelling gets the nearest role too.
    let error = runtime
        .complete(intake, &Actor::new("ann", &["Agnt"]), &json!({}))
        .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("(`Agnt` is not a role of this module; did you mean `Agent`?)"),
        "{error}"
    );
    // Asking changed nothing.
    runtime.complete(intake, &agent("ann"), &json!({})).unwrap();
}

#[test]
fn the_same_events_give_the_same_bytes() {
    let run = || {
        let (mut runtime, id, intake) = triage();
        let mut all = Vec::new();
        all.extend(runtime.complete(intake, &agent("ann"), &json!({})).unwrap());
        all.extend(runtime.advance(t("2026-03-03T00:00:00Z")).unwrap());
        (
            all.iter().map(Effect::to_json).collect::<Vec<_>>(),
            runtime.snapshot(id).unwrap(),
        )
    };
    assert_eq!(run(), run());
}

const FAULTS: &str = r#"
/// Agents.
role Agent
/// Input.
record Numbers { a: Int, b: Int, skip: Bool }

/// Run-time errors end the instance as failed, with the reason.
process faults(n: Numbers) {
  if not n.skip {
    step maybe "Maybe" -> value: Int { by Agent }
  }
  let q = n.a / n.b
  step show "Show {q}" { by Agent }
  notify Agent "{maybe.value}"
}
"#;

#[test]
fn run_time_errors_fail_the_instance_with_a_reason() {
    let mut runtime = runtime_at(FAULTS, "2026-03-02T09:00:00Z");
    let (id, effects) = runtime
        .start("faults", &json!({"n": {"a": 1, "b": 0, "skip": true}}))
        .unwrap();
    assert_eq!(
        lines(&effects),
        "\n  failed: \"run-time error: division by zero\""
    );
    assert_eq!(runtime.instance_status(id).unwrap(), InstanceStatus::Failed);
    let (_, effects) = runtime
        .start("faults", &json!({"n": {"a": 6, "b": 3, "skip": true}}))
        .unwrap();
    let show = opened(&effects, "show");
    assert!(has(&effects, "\"Show 2\""));
    // The error happens after the completion is accepted: the whole event becomes "the instance failed" (a
    // partial event is never kept), so the task closes with the case.
    let effects = runtime.complete(show, &agent("ann"), &json!({})).unwrap();
    assert_eq!(
        lines(&effects),
        "\n  task 1 closed because the case ended: show\n  failed: \"run-time error: step `maybe` has not been completed, so its output `value` is not known\""
    );
}

#[test]
fn values_are_formatted_in_texts_as_people_write_them() {
    let source = r#"
/// Agents.
role Agent
/// Kinds.
enum Kind { refund, repair }
/// Data.
record Data { n: Int, d: Duration, at: Time, day: Date, yes: Bool, kind: Kind, who: Role, maybe: Text?, tags: [Text] }
/// Shows values.
process show(x: Data) {
  notify Agent "{x.n}|{x.d}|{x.at}|{x.day}|{x.yes}|{x.kind}|{x.who}|{x.maybe}|{x.tags}"
}
"#;
    let mut runtime = runtime_at(source, "2026-03-02T09:00:00Z");
    let input = json!({"x": {"n": -42, "d": "1h30m", "at": "2026-03-02T09:00:05.250Z", "day": "2026-12-25",
        "yes": true, "kind": "repair", "who": "Agent", "maybe": null, "tags": ["a", "b"]}});
    let (_, effects) = runtime.start("show", &input).unwrap();
    assert_eq!(
        lines(&effects[..1]),
        "\n  notify Agent: \"-42|1h30m|2026-03-02T09:00:05.250Z|2026-12-25|true|repair|Agent|none|a, b\""
    );
}

#[test]
fn modules_with_foreign_imports_are_refused() {
    let wasm = wat::parse_str(
        r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
           (memory (export "memory") 1))"#,
    )
    .unwrap();
    let error = Module::from_bytes(&wasm).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("imports `wasi_snapshot_preview1.fd_write`"),
        "{message}"
    );
    assert!(message.contains("no WASI"), "{message}");
    let error = Module::from_bytes(b"not wasm at all").unwrap_err();
    assert!(
        error.to_string().contains(
            "not a WebAssembly module (the file is text; build a module with `procc build`)"
        ),
        "{error}"
    );
    let error = Module::from_bytes(b"\0asm\x02\0\0\0").unwrap_err();
    assert!(
        error.to_string().contains("not a valid WebAssembly module"),
        "{error}"
    );
}

fn handwritten(handle_body: &str, abi: u32) -> Vec<u8> {
    let metadata = json!({"abi_version": abi, "compiler_version": "hand", "source_hash": "h", "package": "p",
        "roles": [], "skills": [], "records": [], "enums": [], "steps": [], "signals": [], "actions": [],
        "calendars": [], "schedules": [],
        "processes": [{"name": "p", "params": [], "input_schema": {}, "output_schema": null, "steps": []}]});
    let escaped: String = metadata
        .to_string()
        .bytes()
        .map(|b| format!("\\{b:02x}"))
        .collect();
    wat::parse_str(format!(
        r#"(module
             (memory (export "memory") 2)
             (func (export "proc_abi_version") (result i32) i32.const {abi})
             (func (export "proc_case_base") (result i32) i32.const 65536)
             (func (export "proc_abort_area") (result i32) i32.const 16)
             (func (export "proc_handle") (param i32 i32 i32 i32 i32 i32 i64) (result i32) {handle_body})
             (@custom "proc.metadata" "{escaped}"))"#
    ))
    .unwrap()
}

#[test]
fn a_module_that_loops_forever_is_stopped_and_the_runtime_goes_on() {
    let wasm = handwritten(
        "(loop $again (br $again)) i32.const 0",
        proc_abi::ABI_VERSION,
    );
    let module = Module::from_bytes(&wasm).unwrap();
    let mut runtime = limited(
        &module,
        Limits {
            time_per_event: std::time::Duration::from_millis(50),
            ..Limits::default()
        },
    );
    for _ in 0..2 {
        let error = runtime.start("p", &json!({})).unwrap_err();
        assert!(matches!(error, Error::Limit(_)), "{error}");
        assert!(
            error.to_string().contains("did not finish the event"),
            "{error}"
        );
    }
    assert_eq!(runtime.instance_count(), 0);
}

#[test]
fn limits_no_event_could_meet_are_refused_when_the_runtime_is_made() {
    let module = module(OPS);
    for (limits, words) in [
        (
            Limits {
                time_per_event: std::time::Duration::ZERO,
                ..Limits::default()
            },
            "`limits.time_per_event` is 0ns; it must be at least 10ms",
        ),
        (
            Limits {
                max_instance_bytes: 0,
                ..Limits::default()
            },
            "`limits.max_instance_bytes` is 0",
        ),
    ] {
        let options = Options {
            limits,
            ..Options::default()
        };
        let Err(error) = Runtime::with_options(&module, options) else {
            panic!("{limits:?} was accepted")
        };
        assert!(matches!(error, Error::InvalidOptions(_)), "{error}");
        assert!(error.to_string().contains(words), "{error}");
    }
    let tick = Options {
        limits: Limits {
            time_per_event: std::time::Duration::from_millis(10),
            ..Limits::default()
        },
        ..Options::default()
    };
    assert!(Runtime::with_options(&module, tick).is_ok());
}

/// A case that failed while starting (a run-time error before its first wait) keeps its input: it answers
/// queries, refuses events as ended, and its snapshot restores (the module once read a frame it never had).
#[test]
fn a_case_that_failed_while_starting_answers_queries() {
    let source = r#"
role Agent
record Ticket { customer: Text, parts: Int }
process p(t: Ticket) {
  let share = 100 / t.parts
  step s "Do {share} for {t.customer}" -> ok: Bool { by Agent within 1h }
}
"#;
    let mut runtime = runtime_at(source, "2026-03-02T09:00:00Z");
    let input = json!({"t": {"customer": "Ada", "parts": 0}});
    let (id, effects) = runtime.start("p", &input).unwrap();
    assert!(has(&effects, "run-time error"), "{}", lines(&effects));
    let info = runtime.status(id).unwrap();
    assert_eq!(info.status, InstanceStatus::Failed);
    assert_eq!(info.input, input);
    assert!(info.tasks.is_empty() && info.steps.is_empty(), "{info:?}");
    assert!(runtime.open_tasks(id).unwrap().is_empty());
    let task = TaskRef {
        instance: id,
        task: 1,
        step: 0,
    };
    refused(&mut runtime, id, proc_abi::reject::INSTANCE_ENDED, |r| {
        r.complete(task, &agent("ann"), &json!({"ok": true}))
    });
    let mut copy = Runtime::new(runtime.module()).unwrap();
    assert_eq!(copy.restore(&runtime.snapshot(id).unwrap()).unwrap(), id);
    assert_eq!(copy.status(id).unwrap().input, info.input);
}

#[test]
fn modules_for_another_abi_version_are_refused() {
    let error = Module::from_bytes(&handwritten("i32.const 0", 7)).unwrap_err();
    assert!(error.to_string().contains("ABI version 7"), "{error}");
}

#[test]
fn an_instance_cannot_outgrow_its_memory_cap() {
    let source = r#"
/// Agents.
role Agent
/// Items.
record Items { list: [Text] }
/// Copies the list into a text.
process grow(i: Items) {
  step look "Look at {i.list}" { by Agent }
}
"#;
    let module = module(source);
    let mut runtime = limited(
        &module,
        Limits {
            max_instance_bytes: 64 << 10,
            ..Limits::default()
        },
    );
    let small = json!({"i": {"list": ["a", "b"]}});
    let (_, effects) = runtime.start("grow", &small).unwrap();
    assert!(has(&effects, "\"Look at a, b\""));
    let big: Vec<String> = (0..20_000).map(|i| format!("item number {i}")).collect();
    let error = runtime
        .start("grow", &json!({"i": {"list": big}}))
        .unwrap_err();
    assert!(matches!(error, Error::Limit(_)), "{error}");
    assert_eq!(runtime.instance_count(), 1);
    let _ = (DAY, HOUR, MINUTE);
}

/// The cap holds for what a case keeps across events, not only for what one event uses: each completion keeps its
/// text output, and the one that would take the case past its cap is refused, the case unchanged.
#[test]
fn a_case_cannot_grow_past_its_cap_event_by_event() {
    let source = r#"
/// Agents.
role Agent
/// Notes a line, again and again.
process log() {
  repeat max 1000 {
    step note "Write a note" -> line: Text { by Agent }
  }
}
"#;
    let module = module(source);
    let mut runtime = limited(
        &module,
        Limits {
            max_instance_bytes: 64 << 10,
            ..Limits::default()
        },
    );
    let (id, effects) = runtime.start("log", &json!({})).unwrap();
    let mut task = opened(&effects, "note");
    let line = "x".repeat(10_000);
    let mut refused = None;
    for round in 0..20 {
        let before = runtime.snapshot(id).unwrap();
        match runtime.complete(task, &agent("ann"), &json!({"line": line})) {
            Ok(effects) => task = opened(&effects, "note"),
            Err(error) => {
                assert!(matches!(error, Error::Limit(_)), "{error}");
                assert!(error.to_string().contains("more than its limit"), "{error}");
                assert_eq!(runtime.snapshot(id).unwrap(), before);
                refused = Some(round);
                break;
            }
        }
    }
    let round = refused.expect("a completion was refused");
    assert!((3..=7).contains(&round), "refused at round {round}");
    assert!(runtime.snapshot(id).unwrap().len() <= 64 << 10);
}

#[test]
fn each_process_completes_with_a_value_of_its_own_result_type() {
    let source = r#"
/// Agents.
role Agent
/// Says yes.
process one() -> Bool {
  step a "A" { by Agent }
  complete true
}
/// Counts.
process second() -> Int {
  step b "B" { by Agent }
  complete 258
}
"#;
    let mut runtime = runtime_at(source, "2026-03-02T09:00:00Z");
    let (id, effects) = runtime.start("second", &json!({})).unwrap();
    let effects = runtime
        .complete(opened(&effects, "b"), &agent("ann"), &json!({}))
        .unwrap();
    assert!(
        matches!(effects.last(), Some(Effect::Completed { result: Some(v), .. }) if v == 258),
        "{}",
        lines(&effects)
    );
    // Also after a restore.
    let (other, effects) = runtime.start("second", &json!({})).unwrap();
    let task = opened(&effects, "b");
    let mut copy = Runtime::new(runtime.module()).unwrap();
    copy.advance(runtime.now()).unwrap();
    let restored = copy.restore(&runtime.snapshot(other).unwrap()).unwrap();
    let task = TaskRef {
        instance: restored,
        ..task
    };
    let effects = copy.complete(task, &agent("ann"), &json!({})).unwrap();
    assert!(
        matches!(effects.last(), Some(Effect::Completed { result: Some(v), .. }) if v == 258),
        "{}",
        lines(&effects)
    );
    let _ = id;
}

#[test]
fn effects_print_as_json_with_sorted_members() {
    let (mut runtime, _, intake) = triage();
    let mut effects = runtime.complete(intake, &agent("ann"), &json!({})).unwrap();
    effects.extend(runtime.advance(t("2026-03-03T09:00:00Z")).unwrap());
    for effect in &effects {
        let text = effect.to_json().to_string();
        let Value::Object(map) = serde_json::from_str::<Value>(&text).unwrap() else {
            panic!("{text}")
        };
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort();
        let order: Vec<usize> = keys
            .iter()
            .map(|k| text.find(&format!("\"{k}\":")).unwrap())
            .collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(order, sorted, "members of {text} are not in sorted order");
    }
}

#[test]
fn schedules_fire_in_their_calendars_zone_on_working_days() {
    let text =
        std::fs::read_to_string(proc_tests::repo_root().join("examples/procedure_review.proc"))
            .unwrap();
    let module = module(&text);
    let runtime = Runtime::new(&module).unwrap();
    let schedule = &module.metadata().schedules[0];
    assert_eq!(
        (schedule.unit.as_str(), schedule.count, schedule.at_minute),
        ("month", 6, 9 * 60)
    );
    // July 1st, 2026 is a Wednesday; 09:00 in London is 08:00 UTC in summer.
    let next = runtime
        .next_occurrence("twice_a_year", t("2026-03-02T09:00:00Z"))
        .unwrap();
    assert_eq!(next, Some(t("2026-07-01T08:00:00Z")));
    // January 1st, 2027 is a Friday and not a holiday of this calendar.
    let after = runtime
        .next_occurrence("twice_a_year", next.unwrap())
        .unwrap();
    assert_eq!(after, Some(t("2027-01-01T09:00:00Z")));
    let error = runtime
        .next_occurrence("daily", t("2026-03-02T09:00:00Z"))
        .unwrap_err();
    assert!(error.to_string().contains("no schedule `daily`"), "{error}");
}

const DUE: &str = r#"
/// Agents.
role Agent
/// Leads.
role Lead
/// When things are promised.
record Promise { by_time: Time, by_day: Date, maybe: Time? }
/// The customer confirmed.
signal Confirmed

/// Absolute deadlines, and a choice between a signal and a timeout.
process promises(p: Promise) {
  step exact "Deliver by the promised time" { by Agent due p.by_time on breach { notify Lead } }
  step daily "Deliver on the promised day" { by Agent due p.by_day }
  step open_ended "Whenever" { by Agent due p.maybe }
  first {
    branch { await Confirmed notify Lead "confirmed" }
    branch { wait 2h notify Lead "no confirmation" }
  }
}
"#;

#[test]
fn absolute_deadlines_and_a_signal_racing_a_timeout() {
    let mut runtime = runtime_at(DUE, "2026-03-02T09:00:00Z");
    let input = json!({"p": {"by_time": "2026-03-02T17:30:00+01:00", "by_day": "2026-03-04"}});
    let (id, effects) = runtime.start("promises", &input).unwrap();
    let Effect::TaskOpened(exact) = &effects[0] else {
        panic!()
    };
    assert_eq!(exact.due, Some(t("2026-03-02T16:30:00Z")));
    let effects = runtime.advance(t("2026-03-02T16:31:00Z")).unwrap();
    assert!(has(&effects, "notify Lead"), "{}", lines(&effects));
    let effects = runtime
        .complete(exact.task, &agent("ann"), &json!({}))
        .unwrap();
    // A date means the end of that day (UTC).
    let Some(Effect::TaskOpened(daily)) =
        effects.iter().find(|e| matches!(e, Effect::TaskOpened(_)))
    else {
        panic!()
    };
    assert_eq!(daily.due, Some(t("2026-03-05T00:00:00Z")));
    let effects = runtime
        .complete(daily.task, &agent("ann"), &json!({}))
        .unwrap();
    // An empty optional time means no deadline.
    let Some(Effect::TaskOpened(open_ended)) =
        effects.iter().find(|e| matches!(e, Effect::TaskOpened(_)))
    else {
        panic!()
    };
    assert_eq!(open_ended.due, None);
    runtime
        .complete(open_ended.task, &agent("ann"), &json!({}))
        .unwrap();
    // The signal comes first: the timeout branch is cancelled.
    let mut other = Runtime::new(runtime.module()).unwrap();
    other.restore(&runtime.snapshot(id).unwrap()).unwrap();
    let effects = runtime.signal(id, "Confirmed", &json!({})).unwrap();
    assert!(
        has(&effects, "notify Lead: \"confirmed\""),
        "{}",
        lines(&effects)
    );
    assert!(
        runtime
            .advance(t("2026-03-03T09:00:00Z"))
            .unwrap()
            .is_empty()
    );
    // The timeout comes first: the signal is no longer awaited.
    other.advance(runtime.now()).unwrap();
    let restored = InstanceId(1);
    let effects = other.advance(t("2026-03-04T09:00:00Z")).unwrap();
    let _ = effects;
    let message = refused(
        &mut other,
        restored,
        proc_abi::reject::INSTANCE_ENDED,
        |r| r.signal(restored, "Confirmed", &json!({})),
    );
    assert!(
        message.ends_with("has already ended (completed)"),
        "{message}"
    );
}

#[test]
fn task_opened_effects_carry_the_form_to_fill_in() {
    let (mut runtime, _, intake) = triage();
    let effects = runtime.complete(intake, &agent("ann"), &json!({})).unwrap();
    let Some(Effect::TaskOpened(assess)) =
        effects.iter().find(|e| matches!(e, Effect::TaskOpened(_)))
    else {
        panic!()
    };
    let form: Vec<(String, String)> = assess
        .form
        .iter()
        .map(|f| (f.name.clone(), f.type_name.clone()))
        .collect();
    assert_eq!(
        form,
        [
            ("urgency".to_string(), "Urgency".to_string()),
            ("comment".to_string(), "Text?".to_string())
        ]
    );
    let json = Effect::TaskOpened(assess.clone()).to_json();
    assert_eq!(
        json["form"],
        json!({"urgency": "Urgency", "comment": "Text?"})
    );
    // The open tasks a query gives carry the same form, also after a restore.
    let instance = assess.task.instance;
    let open = runtime.open_tasks(instance).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].form, assess.form);
    let mut restarted = Runtime::new(runtime.module()).unwrap();
    restarted
        .restore(&runtime.snapshot(instance).unwrap())
        .unwrap();
    assert_eq!(
        restarted.status(instance).unwrap().tasks[0].form,
        assess.form
    );
}

// ---------------------------------------------------------------------------------------------------------------
// KPIs

const KPI_SOURCE: &str = r#"
role Agent
role Supervisor
role Manager
record Case { customer: Text }
signal Rated { score: Int, comment: Text? }
process handle(c: Case) {
  step triage "Triage the case of {c.customer}" -> priority: Int { by Agent }
  step answer "Answer {c.customer}" {
    by Agent
    within 1h
    on breach { after 30m reassign to Supervisor }
  }
  let rating = await Rated within 7d
}
kpi reply_by_agent for handle { measure time from start to first completion by Agent  target < 30m }
kpi reply_by_supervisor for handle { measure time from start to first completion by Supervisor }
kpi answered for handle { measure time from triage to answer }
kpi priority for handle { measure value triage.priority  target <= 2 }
kpi rating for handle { measure value Rated.score  target >= 4 }
kpi answer_escalations for handle { measure count escalations of answer  target == 0 }
kpi breaches for handle { measure count breaches }
kpi whole_case for handle { measure time from start to end }
kpi backwards for handle { measure time from answer to triage  target < 1h }
kpi to_answer for handle { measure time from start to answer  target < 30m }
"#;

fn kpi(runtime: &Runtime, instance: InstanceId, name: &str) -> proc_runtime::KpiValue {
    runtime
        .kpis(instance)
        .unwrap()
        .into_iter()
        .find(|k| &*k.name == name)
        .unwrap_or_else(|| panic!("no KPI {name}"))
}

#[test]
fn kpis_are_measured_from_events() {
    let mut runtime = runtime_at(KPI_SOURCE, "2026-03-02T09:00:00Z");
    let (case, effects) = runtime
        .start("handle", &json!({"c": {"customer": "Ada"}}))
        .unwrap();
    assert_eq!(kpi(&runtime, case, "reply_by_agent").value, None);
    assert_eq!(kpi(&runtime, case, "breaches").value, Some(0));
    assert!(
        !kpi(&runtime, case, "breaches").fixed,
        "a count is not final while the case runs"
    );
    let triage = opened(&effects, "triage");
    // A completion by someone holding both roles counts for both "first completion by" KPIs.
    runtime.advance(t("2026-03-02T09:20:00Z")).unwrap();
    let both = Actor::new("ann", &["Agent", "Supervisor"]);
    let effects = runtime
        .complete(triage, &both, &json!({"priority": 3}))
        .unwrap();
    let reply = kpi(&runtime, case, "reply_by_agent");
    assert_eq!((reply.value, reply.met), (Some(20 * MINUTE), Some(true)));
    assert!(!reply.missed);
    assert_eq!(
        kpi(&runtime, case, "reply_by_supervisor").value,
        Some(20 * MINUTE)
    );
    let priority = kpi(&runtime, case, "priority");
    assert_eq!((priority.value, priority.met), (Some(3), Some(false)));
    // `answer` misses its hour at 10:20 and is reassigned to a supervisor at 10:50: one breach, one escalation.
    let answer = opened(&effects, "answer");
    runtime.advance(t("2026-03-02T11:00:00Z")).unwrap();
    assert_eq!(kpi(&runtime, case, "breaches").value, Some(1));
    let escalations = kpi(&runtime, case, "answer_escalations");
    assert_eq!(escalations.value, Some(1));
    // Not final while the case runs, but a count past `== 0` cannot come back.
    assert_eq!((escalations.met, escalations.missed), (None, true));
    // A refused completion measures nothing.
    refused(&mut runtime, case, proc_abi::reject::NOT_IN_ROLE, |r| {
        r.complete(answer, &Actor::new("bob", &["Agent"]), &json!({}))
    });
    runtime
        .complete(answer, &Actor::new("sue", &["Supervisor"]), &json!({}))
        .unwrap();
    assert_eq!(
        kpi(&runtime, case, "answered").value,
        Some(HOUR + 40 * MINUTE)
    );
    // A snapshot carries the measurements: the restored case goes on measuring where the original was.
    let copy = runtime
        .restore_copy(&runtime.snapshot(case).unwrap())
        .unwrap();
    assert_eq!(runtime.kpis(copy).unwrap(), runtime.kpis(case).unwrap());
    runtime.advance(t("2026-03-03T09:00:00Z")).unwrap();
    for instance in [case, copy] {
        runtime
            .signal(instance, "Rated", &json!({"score": 5, "comment": null}))
            .unwrap();
        let rating = kpi(&runtime, instance, "rating");
        assert_eq!((rating.value, rating.met), (Some(5), Some(true)));
        let whole = kpi(&runtime, instance, "whole_case");
        assert_eq!(whole.value, Some(DAY));
        let breaches = kpi(&runtime, instance, "breaches");
        assert_eq!((breaches.value, breaches.fixed), (Some(1), true));
        let escalations = kpi(&runtime, instance, "answer_escalations");
        assert_eq!(escalations.met, Some(false));
        // `triage` came before `answer`: a time to a moment before its start is never known (it was negative,
        // and met every `<` target).
        let backwards = kpi(&runtime, instance, "backwards");
        assert_eq!(
            (backwards.value, backwards.fixed, backwards.met),
            (None, true, None)
        );
    }
}

/// A time still running is compared with its target as of the host's clock: a first response still missing after
/// the target's 30 minutes already misses it, though the value is not known yet.
#[test]
fn a_running_time_past_its_target_is_already_missed() {
    let mut runtime = runtime_at(KPI_SOURCE, "2026-03-02T09:00:00Z");
    let (case, _) = runtime
        .start("handle", &json!({"c": {"customer": "Ada"}}))
        .unwrap();
    runtime.advance(t("2026-03-02T09:29:00Z")).unwrap();
    let reply = kpi(&runtime, case, "reply_by_agent");
    assert_eq!(
        (reply.value, reply.missed),
        (None, false),
        "< 30m still possible"
    );
    // At 30 minutes, a reply can no longer come in under 30 minutes.
    runtime.advance(t("2026-03-02T09:30:00Z")).unwrap();
    let reply = kpi(&runtime, case, "reply_by_agent");
    assert_eq!((reply.value, reply.met, reply.missed), (None, None, true));
    assert_eq!(
        reply.to_string(),
        "reply_by_agent: not yet known, and already past the target"
    );
    // Without a target nothing is missed.
    assert!(!kpi(&runtime, case, "reply_by_supervisor").missed);
    // A time to a step is past its target only once the step's task is open: until then the case may never
    // reach the step (another `match` arm), and would never have the value.
    assert!(!kpi(&runtime, case, "to_answer").missed);
    // Likewise a count of one step's escalations has no value before the case reaches the step (a case on another
    // path would otherwise count as a perfect 0), and 0 from then on.
    assert_eq!(kpi(&runtime, case, "answer_escalations").value, None);
    let triage = runtime.open_tasks(case).unwrap()[0].task;
    runtime
        .complete(triage, &agent("ann"), &json!({"priority": 1}))
        .unwrap();
    assert!(kpi(&runtime, case, "to_answer").missed);
    assert_eq!(kpi(&runtime, case, "answer_escalations").value, Some(0));
    // The mark survives a snapshot, and a value once known replaces it.
    let copy = runtime
        .restore_copy(&runtime.snapshot(case).unwrap())
        .unwrap();
    assert!(kpi(&runtime, copy, "to_answer").missed);
    let answer = runtime.open_tasks(copy).unwrap()[0].task;
    runtime.complete(answer, &agent("bob"), &json!({})).unwrap();
    let done = kpi(&runtime, copy, "to_answer");
    assert_eq!(
        (done.value, done.met, done.missed),
        (Some(30 * MINUTE), Some(false), true)
    );
}

/// A case restored into a runtime whose clock is behind the case goes on at the case's own time, and so do its
/// KPIs (they once took the runtime's clock: a negative time, which met every `<` target). A person who holds a
/// role through the directory counts for "first completion by" that role, as their completion was authorised.
#[test]
fn kpis_take_the_cases_time_and_the_directorys_roles() {
    let mut runtime = runtime_at(KPI_SOURCE, "2026-03-02T09:00:00Z");
    let (case, effects) = runtime
        .start("handle", &json!({"c": {"customer": "Ada"}}))
        .unwrap();
    let triage = opened(&effects, "triage");
    let mut fresh = Runtime::new(runtime.module()).unwrap();
    let directory = StaticDirectory::default().with("ann", &["Agent"], &[], None);
    fresh.set_directory(Arc::new(directory));
    assert_eq!(fresh.now(), Time(0));
    let copy = fresh.restore(&runtime.snapshot(case).unwrap()).unwrap();
    let triage = TaskRef {
        instance: copy,
        ..triage
    };
    let effects = fresh
        .complete(triage, &Actor::new("ann", &[]), &json!({"priority": 1}))
        .unwrap();
    let answer = opened(&effects, "answer");
    let reply = kpi(&fresh, copy, "reply_by_agent");
    assert_eq!((reply.value, reply.met), (Some(0), Some(true)));
    // Its next task is due an hour after the case's time, not the runtime's.
    let info = fresh.status(copy).unwrap();
    assert_eq!(info.tasks[0].due, Some(t("2026-03-02T10:00:00Z")));
    fresh.complete(answer, &agent("bob"), &json!({})).unwrap();
    assert_eq!(kpi(&fresh, copy, "answered").value, Some(0));
    fresh.cancel(copy, "test").unwrap();
    let whole = kpi(&fresh, copy, "whole_case");
    assert_eq!((whole.value, whole.fixed), (Some(0), true));
}

/// A case cancelled before a moment or value was reached: its time and value KPIs are final and empty, not
/// "not yet known" for ever.
#[test]
fn a_case_that_ended_without_a_value_has_a_final_empty_one() {
    let mut runtime = runtime_at(KPI_SOURCE, "2026-03-02T09:00:00Z");
    let (case, _) = runtime
        .start("handle", &json!({"c": {"customer": "Ada"}}))
        .unwrap();
    let waiting = kpi(&runtime, case, "answered");
    assert_eq!((waiting.value, waiting.fixed), (None, false));
    assert_eq!(waiting.to_string(), "answered: not yet known");
    runtime.cancel(case, "the customer withdrew").unwrap();
    for name in ["answered", "rating", "priority"] {
        let ended = kpi(&runtime, case, name);
        assert_eq!(
            (ended.value, ended.fixed, ended.met),
            (None, true, None),
            "{name}"
        );
    }
    assert_eq!(
        kpi(&runtime, case, "answered").to_string(),
        "answered: never known (the case ended without it)"
    );
    assert_eq!(
        kpi(&runtime, case, "answered").to_json()["final"],
        json!(true)
    );
    // The time to the end is known: the cancellation ended it.
    assert_eq!(kpi(&runtime, case, "whole_case").value, Some(0));
}

#[test]
fn a_kpi_measures_a_timer_at_its_own_time_not_at_the_clock_that_fired_it() {
    // `await Rated within 7d` ends the case a week after `answer`, whenever the host moves its clock past that.
    let measured = |steps: &[&str]| {
        let mut runtime = runtime_at(KPI_SOURCE, "2026-03-02T09:00:00Z");
        let (case, effects) = runtime
            .start("handle", &json!({"c": {"customer": "Ada"}}))
            .unwrap();
        let ann = Actor::new("ann", &["Agent"]);
        let effects = runtime
            .complete(opened(&effects, "triage"), &ann, &json!({"priority": 1}))
            .unwrap();
        runtime.advance(t("2026-03-02T09:30:00Z")).unwrap();
        runtime
            .complete(opened(&effects, "answer"), &ann, &json!({}))
            .unwrap();
        for &step in steps {
            runtime.advance(t(step)).unwrap();
        }
        assert_eq!(
            runtime.status(case).unwrap().status,
            InstanceStatus::Completed,
            "the wait timed out"
        );
        kpi(&runtime, case, "whole_case").value
    };
    let week = Some(7 * DAY + 30 * MINUTE);
    assert_eq!(measured(&["2026-03-09T09:30:00Z"]), week);
    assert_eq!(measured(&["2026-04-01T00:00:00Z"]), week, "a month later");
    assert_eq!(
        measured(&["2026-03-05T00:00:00Z", "2026-03-20T00:00:00Z"]),
        week
    );
}

#[test]
fn advance_fires_the_wakeups_of_all_instances_in_time_order() {
    let source = r#"
role Agent
role Lead
process p() {
  step answer "Answer" {
    by Agent
    within 1h
    on breach {
      notify Lead "late"
      after 2h notify Lead "very late"
    }
  }
}
"#;
    let mut runtime = runtime_at(source, "2026-03-02T09:00:00Z");
    let (a, _) = runtime.start("p", &json!({})).unwrap();
    runtime.advance(t("2026-03-02T09:30:00Z")).unwrap();
    let (b, _) = runtime.start("p", &json!({})).unwrap();
    let mut seen = Vec::new();
    runtime
        .advance_each(t("2026-03-02T13:00:00Z"), |effects| {
            let texts: Vec<String> = effects
                .iter()
                .filter_map(|e| e.text().map(str::to_string))
                .collect();
            seen.push((
                effects.at().to_string(),
                effects.instance(),
                texts.join(","),
            ));
        })
        .unwrap();
    let at = |time: &str| format!("2026-03-02T{time}:00Z");
    assert_eq!(
        seen,
        [
            (at("10:00"), a, "late".to_string()),
            (at("10:30"), b, "late".to_string()),
            (at("12:00"), a, "very late".to_string()),
            (at("12:30"), b, "very late".to_string()),
        ]
    );
}

#[test]
fn a_reminder_loop_keeps_its_case_the_same_size() {
    // Every round builds two messages, one from a text built once before the loop: each is given back after it is
    // written out (they grew the case by 32 bytes a round before), and the text they were built from stays.
    let source = r#"
role Agent
record Case { customer: Text }
process remind(c: Case) {
  let fixed = "Still waiting: {c.customer}"
  every 15m max 1000 {
    notify Agent "Reminder: {c.customer} is waiting"
    notify Agent "{fixed}"
  }
}
"#;
    let mut runtime = runtime_at(source, "2026-03-02T09:00:00Z");
    let (case, _) = runtime
        .start("remind", &json!({"c": {"customer": "Ada"}}))
        .unwrap();
    runtime.advance(t("2026-03-02T09:15:00Z")).unwrap();
    let size = runtime.snapshot(case).unwrap().len();
    let effects = runtime.advance(t("2026-03-03T09:00:00Z")).unwrap();
    let messages: Vec<&str> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notified { message, .. } => Some(message.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(messages.len(), 2 * 95);
    assert!(
        messages
            .chunks(2)
            .all(|m| m == ["Reminder: Ada is waiting", "Still waiting: Ada"]),
        "{messages:?}"
    );
    assert_eq!(runtime.snapshot(case).unwrap().len(), size);
}

#[test]
fn a_step_opened_again_gives_back_its_earlier_record() {
    // A step record (who completed it, when, its outputs) is 64 bytes of heap; a loop's next round used to keep
    // the last round's as well (96 bytes a round with its texts). Now only the texts stay (who completed it and
    // the note, 32 bytes): other values may hold them.
    let source = r#"
role Agent
process again() {
  repeat max 1000 {
    step again "Do it again" -> note: Text { by Agent }
  } until again.note == "stop"
}
"#;
    let mut runtime = runtime_at(source, "2026-03-02T09:00:00Z");
    let (case, effects) = runtime.start("again", &json!({})).unwrap();
    let ann = Actor::new("ann", &["Agent"]);
    let mut task = opened(&effects, "again");
    let mut sizes = Vec::new();
    for round in 0..101 {
        let note = if round == 100 { "stop" } else { "again" };
        let effects = runtime
            .complete(task, &ann, &json!({"note": note}))
            .unwrap();
        sizes.push(runtime.snapshot(case).unwrap().len());
        if round < 100 {
            task = opened(&effects, "again");
        }
    }
    assert_eq!(
        runtime.status(case).unwrap().status,
        InstanceStatus::Completed
    );
    let growth = (sizes[99] - sizes[0]) / 99;
    assert!(growth <= 32, "{growth} bytes a round: {sizes:?}");
}

/// A KPI measured `on` a calendar counts only its working time: a case opened on Friday at 16:00 (London) and
/// answered on Monday at 09:30 took 1h30 of working time, not 2d 17h30.
#[test]
fn a_kpi_on_a_calendar_measures_working_time() {
    let source = r#"
role Agent
calendar Office {
  zone "Europe/London"
  hours mon-fri 09:00-17:00
}
process ticket() {
  step reply "Reply" { by Agent within 4h on Office }
}
kpi first_reply for ticket { measure time from start to reply on Office  target < 4h }
kpi first_reply_clock for ticket { measure time from start to reply }
"#;
    let mut runtime = runtime_at(source, "2026-03-06T16:00:00Z");
    let (case, effects) = runtime.start("ticket", &json!({})).unwrap();
    let reply = opened(&effects, "reply");
    runtime.advance(t("2026-03-09T09:30:00Z")).unwrap();
    runtime.complete(reply, &agent("ann"), &json!({})).unwrap();
    let working = kpi(&runtime, case, "first_reply");
    assert_eq!(
        (working.value, working.met),
        (Some(HOUR + 30 * MINUTE), Some(true))
    );
    // Shown in hours of working time (a day of it is not a day), the clock's in days.
    assert_eq!(
        working.to_string(),
        "first_reply: 1h 30m of working time (meets the target)"
    );
    let clock = kpi(&runtime, case, "first_reply_clock");
    assert_eq!(clock.value, Some(2 * DAY + 17 * HOUR + 30 * MINUTE));
    assert_eq!(clock.to_string(), "first_reply_clock: 2d 17h 30m");
}

/// `count breaches` counts the process's own deadline with the steps'; `count breaches of step` only that step's.
#[test]
fn a_missed_process_deadline_counts_as_a_breach() {
    let source = r#"
role Agent
process ticket() within 1d {
  step reply "Reply" { by Agent within 2h }
}
kpi breaches for ticket { measure count breaches }
kpi reply_breaches for ticket { measure count breaches of reply }
"#;
    let mut runtime = runtime_at(source, "2026-03-02T09:00:00Z");
    let (case, _) = runtime.start("ticket", &json!({})).unwrap();
    runtime.advance(t("2026-03-03T10:00:00Z")).unwrap();
    assert_eq!(kpi(&runtime, case, "breaches").value, Some(2));
    assert_eq!(kpi(&runtime, case, "reply_breaches").value, Some(1));
}

#[test]
fn kpi_summaries_use_nearest_rank_percentiles() {
    let meta = proc_abi::meta::KpiMeta {
        name: "first_response".to_string(),
        measure: proc_abi::meta::MeasureMeta::Time {
            from: proc_abi::meta::PointMeta::Start,
            to: proc_abi::meta::PointMeta::End,
            calendar: None,
        },
        target: Some(proc_abi::meta::TargetMeta {
            op: "<".to_string(),
            value: 4 * HOUR,
        }),
        ..proc_abi::meta::KpiMeta::default()
    };
    // 1h..10h: mean 5.5h, p50 = 5th = 5h, p90 = 9th = 9h, under 4h: 3 of 10.
    let values: Vec<i64> = (1..=10).rev().map(|h| h * HOUR).collect();
    let summary = proc_runtime::kpi::Summary::of(&meta, &values);
    assert_eq!(summary.count, 10);
    assert_eq!(summary.mean, Some(5.5 * 3_600_000.0));
    assert_eq!((summary.p50, summary.p90), (Some(5 * HOUR), Some(9 * HOUR)));
    assert_eq!(summary.met, Some(3));
    assert_eq!(
        summary.to_string(),
        "first_response: 10 instances, mean 5h 30m, p50 5h, p90 9h, 3 of 10 (30.0%) meet the target < 4h"
    );
    // Open instances already past the target, and instances that ended without a value, are counted apart.
    let value = |value: Option<i64>, fixed: bool, missed: bool| proc_runtime::KpiValue {
        index: 0,
        name: "first_response".into(),
        unit: proc_runtime::kpi::KpiUnit::Milliseconds,
        value,
        fixed,
        met: None,
        missed,
    };
    let instances = [
        value(Some(HOUR), true, false),
        value(None, false, true),
        value(None, false, false),
        value(None, true, false),
    ];
    let summary = proc_runtime::kpi::Summary::of_instances(&meta, &instances);
    assert_eq!(
        (summary.count, summary.open_missed, summary.never_known),
        (1, 1, 1)
    );
    assert_eq!(
        summary.to_string(),
        "first_response: 1 instance, mean 1h, p50 1h, p90 1h, 1 of 1 (100.0%) meet the target < 4h; 1 open instance \
         already misses it; 1 ended without a value"
    );
    let empty = proc_runtime::kpi::Summary::of(&meta, &[]);
    assert_eq!(
        (empty.count, empty.mean, empty.p50, empty.met_percent()),
        (0, None, None, None)
    );
}

#[test]
fn std_holiday_calendars_skip_public_holidays() {
    // Christmas Eve 2026 is a Thursday; 25 December (Friday) and 28 December (Monday, for Boxing Day) are bank
    // holidays in England, so eight working hours from 16:00 on the 24th end at 16:00 on Tuesday the 29th.
    let source = r#"
use std.calendar.{EnglandWorkingDays, UsFederalWorkingDays}
role Agent
process p() {
  step england "Answer" { by Agent  within 8h on EnglandWorkingDays }
  step us "Answer" { by Agent  within 8h on UsFederalWorkingDays }
}
"#;
    // Eight working hours on each calendar from `start`: (England, US).
    let dues = |start: &str| {
        let mut runtime = runtime_at(source, start);
        let (_, effects) = runtime.start("p", &json!({})).unwrap();
        let due = |effects: &[Effect]| {
            effects
                .iter()
                .find_map(|e| match e {
                    Effect::TaskOpened(o) => o.due,
                    _ => None,
                })
                .unwrap()
        };
        let england = due(&effects);
        let task = opened(&effects, "england");
        let effects = runtime
            .complete(task, &Actor::new("ann", &["Agent"]), &json!({}))
            .unwrap();
        (england, due(&effects))
    };
    // In New York (UTC-5 in winter) it is 11:00 on the 24th when the task opens; the 25th is a federal holiday:
    // 6 hours on the 24th, then 2 hours on Monday the 28th, so due 11:00 New York time, 16:00 UTC.
    assert_eq!(
        dues("2026-12-24T16:00:00Z"),
        (t("2026-12-29T16:00:00Z"), t("2026-12-28T16:00:00Z"))
    );
    // New Year's Day 2028 is a Saturday: the federal holiday is Friday 31 December 2027.
    assert_eq!(dues("2027-12-30T16:00:00Z").1, t("2028-01-03T16:00:00Z"));
    // Easter 2030 (London on summer time, UTC+1): one hour on Thursday, Good Friday and Easter Monday off, seven
    // hours on Tuesday. New York (UTC-4) works on Good Friday.
    assert_eq!(
        dues("2030-04-18T15:00:00Z"),
        (t("2030-04-23T15:00:00Z"), t("2030-04-19T15:00:00Z"))
    );
    // Thanksgiving 2035, the last year listed.
    assert_eq!(dues("2035-11-21T16:00:00Z").1, t("2035-11-23T16:00:00Z"));
}

#[test]
fn a_calendar_includes_another_and_adds_its_own_days_off() {
    // `Support` takes London's hours, zone and bank holidays from std and adds Christmas Eve as a company day off.
    let source = r#"
use std.calendar.EnglandWorkingDays
role Agent
calendar Support {
  include EnglandWorkingDays
  holiday 2026-12-24
}
process p() {
  step answer "Answer" { by Agent  within 8h on Support }
}
"#;
    // 23 December, 16:00: one working hour that day; the 24th (company), 25th and 28th (bank holidays) and the
    // weekend are closed, so the other seven hours run on the 29th from 09:00.
    let mut runtime = runtime_at(source, "2026-12-23T16:00:00Z");
    let (_, effects) = runtime.start("p", &json!({})).unwrap();
    let due = effects.iter().find_map(|e| match e {
        Effect::TaskOpened(o) => o.due,
        _ => None,
    });
    assert_eq!(due, Some(t("2026-12-29T16:00:00Z")), "{}", lines(&effects));
    // In summer the included zone applies (British Summer Time): Friday 28 August 2026, 15:00 UTC is 16:00 in
    // London; Monday the 31st is a bank holiday, so seven hours from 09:00 BST (08:00 UTC) on 1 September.
    let mut runtime = runtime_at(source, "2026-08-28T15:00:00Z");
    let (_, effects) = runtime.start("p", &json!({})).unwrap();
    let due = effects.iter().find_map(|e| match e {
        Effect::TaskOpened(o) => o.due,
        _ => None,
    });
    assert_eq!(due, Some(t("2026-09-01T15:00:00Z")), "{}", lines(&effects));
}

const TWO_STEPS: &str = r#"
role Agent
process two() {
  step greet "Greet" { by Agent within 1h }
  step answer "Answer" { by Agent within 3h }
  complete
}
"#;

/// The runtime's earliest wake-up follows the instances as their deadlines move, as they are removed, and as
/// `advance` fires what is due (each instance once, in time order).
#[test]
fn the_next_wakeup_follows_moved_and_removed_deadlines() {
    let mut runtime = runtime_at(TWO_STEPS, "2026-03-02T09:00:00Z");
    let mut started = Vec::new();
    for at in [
        "2026-03-02T09:00:00Z",
        "2026-03-02T09:10:00Z",
        "2026-03-02T09:20:00Z",
    ] {
        runtime.advance(t(at)).unwrap();
        let (id, effects) = runtime.start("two", &json!({})).unwrap();
        started.push((id, opened(&effects, "greet")));
    }
    let [(a, a_greet), (b, _), (c, _)] = started[..] else {
        unreachable!()
    };
    assert_eq!(runtime.next_wakeup(), Some(t("2026-03-02T10:00:00Z")));
    // A moves on: its next deadline is 12:30, so B's 10:10 is the earliest.
    runtime.advance(t("2026-03-02T09:30:00Z")).unwrap();
    runtime
        .complete(a_greet, &agent("ann"), &json!({}))
        .unwrap();
    assert_eq!(runtime.next_wakeup(), Some(t("2026-03-02T10:10:00Z")));
    runtime.remove(b).unwrap();
    assert_eq!(runtime.next_wakeup(), Some(t("2026-03-02T10:20:00Z")));
    // Only C is due by 11:00; its breached task keeps no deadline, so A's is next.
    let effects = runtime.advance(t("2026-03-02T11:00:00Z")).unwrap();
    assert!(
        effects.iter().all(|e| e.instance() == c),
        "{}",
        lines(&effects)
    );
    assert!(has(&effects, "missed its deadline"), "{}", lines(&effects));
    assert_eq!(runtime.next_wakeup(), Some(t("2026-03-02T12:30:00Z")));
    runtime.remove(a).unwrap();
    assert_eq!(runtime.next_wakeup(), None);
    assert!(
        runtime
            .advance(t("2026-03-03T00:00:00Z"))
            .unwrap()
            .is_empty()
    );
}

/// A query of another instance between two events of the same instance: the second event must run on its own
/// instance's state, not on the state the query put in the module's memory (the worker skips copying in a blob
/// that is still there from the instance's previous event).
#[test]
fn a_query_between_two_events_does_not_lend_another_instance_its_state() {
    let mut runtime = runtime_at(TWO_STEPS, "2026-03-02T09:00:00Z");
    let (a, effects) = runtime.start("two", &json!({})).unwrap();
    let a_greet = opened(&effects, "greet");
    let (b, effects) = runtime.start("two", &json!({})).unwrap();
    let b_greet = opened(&effects, "greet");
    runtime
        .complete(b_greet, &agent("bob"), &json!({}))
        .unwrap();
    let effects = runtime
        .complete(a_greet, &agent("ann"), &json!({}))
        .unwrap();
    let a_answer = opened(&effects, "answer");
    // The query puts B's state in the module's memory.
    let b_status = runtime.status(b).unwrap();
    assert_eq!(b_status.steps[0].done_by.as_deref(), Some("bob"));
    let effects = runtime
        .complete(a_answer, &agent("ann"), &json!({}))
        .unwrap();
    assert!(has(&effects, "completed"), "{}", lines(&effects));
    let a_status = runtime.status(a).unwrap();
    let done_by: Vec<_> = a_status
        .steps
        .iter()
        .map(|s| s.done_by.as_deref())
        .collect();
    assert_eq!(done_by, [Some("ann"), Some("ann")]);
    assert_eq!(runtime.instance_status(b).unwrap(), InstanceStatus::Running);
}

const HELLO: &str = r#"
role Agent
process hello(who: Text) {
  step greet "Greet {who} by name" { by Agent }
  step answer "Answer {who}" { by Agent }
  complete
}
"#;

/// A case's state holds nothing of the cases the module ran before it: the bytes past a text's end up to its
/// block's end (texts of every length, built or copied) are zeroed, not left as an earlier case wrote them. So a
/// case's snapshot is the same whether its runtime is fresh or has run other cases, and leaks none of their data.
#[test]
fn a_case_state_holds_nothing_of_earlier_cases() {
    let mut used = runtime_at(HELLO, "2026-03-02T09:00:00Z");
    // Long texts everywhere in the module's memory.
    for _ in 0..3 {
        let (id, effects) = used
            .start("hello", &json!({"who": "x".repeat(700)}))
            .unwrap();
        let greet = opened(&effects, "greet");
        let effects = used
            .complete(greet, &agent(&"z".repeat(300)), &json!({}))
            .unwrap();
        used.status(id).unwrap();
        let _ = opened(&effects, "answer");
        used.remove(id).unwrap();
    }
    for len in 0..40 {
        let who = "y".repeat(len);
        let by = agent(&format!("a{}", "b".repeat(len)));
        let mut fresh = runtime_at(HELLO, "2026-03-02T09:00:00Z");
        let mut snapshots = Vec::new();
        for runtime in [&mut used, &mut fresh] {
            let (id, effects) = runtime.start("hello", &json!({ "who": who })).unwrap();
            let effects = runtime
                .complete(opened(&effects, "greet"), &by, &json!({}))
                .unwrap();
            let _ = opened(&effects, "answer");
            snapshots.push(proc_tests::case_state(&runtime.snapshot(id).unwrap()));
            runtime.remove(id).unwrap();
        }
        assert!(
            snapshots[0] == snapshots[1],
            "texts of {len} bytes: the state differs after other cases ran"
        );
    }
}

/// A timer whose handling exceeds a limit fails its own instance (the module is deterministic: it would fail the
/// same way at every `advance`) and does not stop the other instances' timers, or hide their effects.
#[test]
fn a_timer_that_exceeds_a_limit_fails_its_instance_and_the_others_go_on() {
    let source = r#"
/// Agents.
role Agent
/// Items.
record Items { list: [Text] }
/// Waits, then shows the list four times.
process grow(i: Items) {
  wait 1h
  step look "Look at {i.list}, {i.list}, {i.list} and {i.list}" { by Agent }
}
"#;
    let mut runtime = limited(
        &module(source),
        Limits {
            max_instance_bytes: 64 << 10,
            ..Limits::default()
        },
    );
    runtime.advance(t("2026-03-02T09:00:00Z")).unwrap();
    // Fits in the cap at the start; four copies of it in a text do not.
    let big: Vec<String> = (0..1_200).map(|i| format!("item number {i}")).collect();
    let (bad, _) = runtime.start("grow", &json!({"i": {"list": big}})).unwrap();
    let (good, _) = runtime
        .start("grow", &json!({"i": {"list": ["a", "b"]}}))
        .unwrap();
    let effects = runtime.advance(t("2026-03-02T10:00:00Z")).unwrap();
    let failed: Vec<&Effect> = effects
        .iter()
        .filter(|e| matches!(e, Effect::Failed { .. }))
        .collect();
    assert_eq!(failed.len(), 1, "{}", lines(&effects));
    assert_eq!(failed[0].instance(), bad);
    assert!(
        has(&effects, "a deadline or timer could not be handled")
            && has(&effects, "more than 65536 bytes"),
        "{}",
        lines(&effects)
    );
    assert!(
        has(&effects, "Look at a, b, a, b, a, b and a, b"),
        "{}",
        lines(&effects)
    );
    assert_eq!(
        runtime.instance_status(bad).unwrap(),
        InstanceStatus::Failed
    );
    assert_eq!(
        runtime.instance_status(good).unwrap(),
        InstanceStatus::Running
    );
    assert_eq!(runtime.next_wakeup(), None);
}

/// `proc_handle` writing an accepted event's result header: an empty blob and no effects.
fn accepted(status: u32, wake: &str) -> String {
    format!(
        "(i32.store (local.get 4) (i32.const 0)) (i32.store offset=4 (local.get 4) (i32.const 0))
         (i64.store offset=8 (local.get 4) {wake}) (i32.store offset=16 (local.get 4) (i32.const {status}))
         (i32.store offset=20 (local.get 4) (i32.const 0)) (return (i32.const 0))"
    )
}

/// A hand-written module whose starts wake a second later, whose `ADVANCE` runs `on_advance`, and whose `FAULT`
/// ends the instance as failed; in a runtime with a 30 ms time limit, its clock at 09:00.
fn timer_runtime(on_advance: &str) -> Runtime {
    let body = format!(
        "(if (i32.eq (i32.load (local.get 2)) (i32.const 4)) (then {on_advance}))
         (if (i32.eq (i32.load (local.get 2)) (i32.const 15)) (then {}))
         {}",
        accepted(2, "(i64.const 9223372036854775807)"),
        accepted(0, "(i64.add (local.get 6) (i64.const 1000))")
    );
    let module = Module::from_bytes(&handwritten(&body, proc_abi::ABI_VERSION)).unwrap();
    let mut runtime = limited(
        &module,
        Limits {
            time_per_event: std::time::Duration::from_millis(30),
            ..Limits::default()
        },
    );
    runtime.advance(t("2026-03-02T09:00:00Z")).unwrap();
    runtime
}

/// A timer that runs past the time limit (twice: the limit is wall-clock time) fails its instance, and `advance`
/// goes on with the other instances instead of stopping at it every time.
#[test]
fn a_timer_that_loops_forever_fails_its_instance() {
    let mut runtime = timer_runtime("(loop $again (br $again))");
    let (a, _) = runtime.start("p", &json!({})).unwrap();
    let (b, _) = runtime.start("p", &json!({})).unwrap();
    assert_eq!(runtime.next_wakeup(), Some(t("2026-03-02T09:00:01Z")));
    runtime.advance(t("2026-03-02T09:00:05Z")).unwrap();
    for instance in [a, b] {
        assert_eq!(
            runtime.instance_status(instance).unwrap(),
            InstanceStatus::Failed
        );
    }
    assert_eq!(runtime.next_wakeup(), None);
}

/// A module that asks to be woken again at the very time it was given (a module from this compiler never does)
/// does not make `advance` loop: it is given that time once more, then left due until the next `advance`.
#[test]
fn a_module_that_never_moves_its_wakeup_does_not_hold_up_advance() {
    let mut runtime = timer_runtime(&accepted(0, "(local.get 6)"));
    let (a, _) = runtime.start("p", &json!({})).unwrap();
    let (b, _) = runtime.start("p", &json!({})).unwrap();
    for _ in 0..2 {
        runtime.advance(t("2026-03-02T09:00:05Z")).unwrap();
        assert_eq!(runtime.next_wakeup(), Some(t("2026-03-02T09:00:01Z")));
        for instance in [a, b] {
            assert_eq!(
                runtime.instance_status(instance).unwrap(),
                InstanceStatus::Running
            );
        }
    }
}

/// A timer cut short by the time limit once (as a paused host could make it) is tried again, not failed.
#[test]
fn a_timer_stopped_by_the_time_limit_once_is_tried_again() {
    // Every other `ADVANCE` loops (a counter in the module's own memory); the others end the timers.
    let mut runtime = timer_runtime(&format!(
        "(i32.store (i32.const 1024) (i32.add (i32.load (i32.const 1024)) (i32.const 1)))
         (if (i32.and (i32.load (i32.const 1024)) (i32.const 1)) (then (loop $again (br $again))))
         {}",
        accepted(0, "(i64.const 9223372036854775807)")
    ));
    let (a, _) = runtime.start("p", &json!({})).unwrap();
    runtime.advance(t("2026-03-02T09:00:05Z")).unwrap();
    assert_eq!(runtime.instance_status(a).unwrap(), InstanceStatus::Running);
    assert_eq!(runtime.next_wakeup(), None);
}

const REMINDERS: &str = r#"
/// Agents.
role Agent
/// Asks the host whether the customer has paid.
action paid() -> Bool

/// Reminds every 15 minutes until somebody acknowledges; the reminder loop names the step of the next branch.
process remind(customer: Text) {
  parallel {
    branch {
      every 15m max 8 {
        notify Agent "Please acknowledge the case of {customer}"
      } until acknowledge.done
    }
    branch {
      step acknowledge "Acknowledge the case of {customer}" { by Agent }
    }
  }
  repeat max 2 {
    if chase.done {
      notify Agent "Chased {customer} once already"
    }
    step chase "Chase {customer} for the payment" { by Agent }
  }
  every 1h max 3 {
    notify Agent "Waiting for the payment of {customer}"
  } until paid()
  complete
}
"#;

fn notifications(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Notified { .. }))
        .map(ToString::to_string)
        .collect()
}

/// `every … until acknowledge.done`, with `acknowledge` declared after the loop (in the next branch): the
/// step can be named before it is declared, and once it is done the loop ends at once (the branches join and the
/// case goes on with the same event, not at the loop's next round), so no further reminder goes out.
#[test]
fn a_reminder_loop_ends_as_soon_as_the_step_it_names_is_done() {
    let mut runtime = runtime_at(REMINDERS, "2026-03-02T09:00:00Z");
    let (_, effects) = runtime
        .start("remind", &json!({"customer": "Ada"}))
        .unwrap();
    let acknowledge = opened(&effects, "acknowledge");
    let effects = runtime.advance(t("2026-03-02T09:40:00Z")).unwrap();
    assert_eq!(notifications(&effects).len(), 2, "{}", lines(&effects));
    let effects = runtime
        .complete(acknowledge, &agent("ann"), &json!({}))
        .unwrap();
    // The completion at 09:40 ends the loop: `chase` opens with it, and no round comes at 09:45.
    assert_eq!(notifications(&effects), Vec::<String>::new());
    let chase = opened(&effects, "chase");
    let effects = runtime.advance(t("2026-03-02T09:45:00Z")).unwrap();
    assert!(effects.is_empty(), "{}", lines(&effects));
    // A step named before its declaration in the same loop body: not done in the first round, done in the second.
    let effects = runtime.complete(chase, &agent("ann"), &json!({})).unwrap();
    assert_eq!(
        notifications(&effects),
        ["notify Agent: \"Chased Ada once already\""],
        "{}",
        lines(&effects)
    );
    let chase = opened(&effects, "chase");
    runtime.complete(chase, &agent("ann"), &json!({})).unwrap();
    // A condition that asks the host is asked once a round, after it: one reminder, then the question.
    let effects = runtime.advance(t("2026-03-02T10:45:00Z")).unwrap();
    let asked = effects
        .iter()
        .filter(|e| matches!(e, Effect::ActionRequested { .. }))
        .count();
    assert_eq!(
        (notifications(&effects).len(), asked),
        (1, 1),
        "{}",
        lines(&effects)
    );
}

const TWO_STEPS_AND_A_REMINDER: &str = r#"
/// Agents.
role Agent
/// Reminds every 15 minutes until `send` is done; `draft` changes nothing for the loop.
process p() {
  parallel {
    branch {
      every 15m max 8 {
        notify Agent "Reminder"
      } until send.done
    }
    branch {
      step draft "Draft" { by Agent }
      step send "Send" { by Agent }
    }
  }
  complete "done"
}
"#;

/// Woken by an event that does not settle its condition, a reminder loop sleeps on: its rounds keep their times
/// and nothing else happens; the event that settles it ends the loop and, here, the case.
#[test]
fn a_reminder_loop_woken_by_an_unrelated_event_keeps_its_rounds() {
    let mut runtime = runtime_at(TWO_STEPS_AND_A_REMINDER, "2026-03-02T09:00:00Z");
    let (_, effects) = runtime.start("p", &json!({})).unwrap();
    let draft = opened(&effects, "draft");
    runtime.advance(t("2026-03-02T09:20:00Z")).unwrap();
    let effects = runtime.complete(draft, &agent("ann"), &json!({})).unwrap();
    let send = opened(&effects, "send");
    assert_eq!(notifications(&effects), Vec::<String>::new());
    assert_eq!(
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::NextWakeup { at, .. } => Some(*at),
                _ => None,
            })
            .collect::<Vec<_>>(),
        Vec::<Option<proc_runtime::Time>>::new(),
        "the wake-up stays 09:30: {}",
        lines(&effects)
    );
    assert_eq!(runtime.next_wakeup(), Some(t("2026-03-02T09:30:00Z")));
    let effects = runtime.advance(t("2026-03-02T09:35:00Z")).unwrap();
    assert_eq!(notifications(&effects), ["notify Agent: \"Reminder\""]);
    let effects = runtime.complete(send, &agent("ann"), &json!({})).unwrap();
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Completed { .. })),
        "{}",
        lines(&effects)
    );
}

const NARROWING: &str = r#"
/// Agents.
role Agent
/// The customer called back.
signal CalledBack { note: Text, minutes: Int }
/// Waits for a callback, then reads it without a default: the checks make it known to hold a value.
process p(limit: Int?) {
  let reply = await CalledBack within 2d
  if reply == none {
    complete "no callback"
  }
  notify Agent "Callback: {reply.note}"
  // A default written anyway (as before the check made it certain) is never used.
  let again = (reply ?? CalledBack { note: "never", minutes: 0 }).note
  notify Agent "Again: {again}"
  // Checked again: never `none` here.
  if reply != none and not (reply == none) {
    notify Agent "Checked again"
  }
  let minutes = reply.minutes + 1
  if limit != none {
    if minutes > limit {
      notify Agent "Too long: {minutes} minutes, the limit is {limit}"
    }
  } else {
    notify Agent "No limit"
  }
  complete "called back"
}
"#;

/// `if x == none { … complete }` and `if x != none { … }`: afterwards (inside) `x` is read as its value.
#[test]
fn an_optional_checked_against_none_is_read_as_its_value() {
    let run = |limit: Value| {
        let mut runtime = runtime_at(NARROWING, "2026-03-02T09:00:00Z");
        let (id, _) = runtime.start("p", &json!({ "limit": limit })).unwrap();
        let effects = runtime
            .signal(
                id,
                "CalledBack",
                &json!({"note": "all good", "minutes": 15}),
            )
            .unwrap();
        lines(&effects)
    };
    let limited = run(json!(10));
    assert!(
        limited.contains("notify Agent: \"Callback: all good\""),
        "{limited}"
    );
    assert!(
        limited.contains("notify Agent: \"Again: all good\""),
        "{limited}"
    );
    assert!(
        limited.contains("notify Agent: \"Checked again\""),
        "{limited}"
    );
    assert!(
        limited.contains("notify Agent: \"Too long: 16 minutes, the limit is 10\""),
        "{limited}"
    );
    let unlimited = run(Value::Null);
    assert!(
        unlimited.contains("notify Agent: \"No limit\""),
        "{unlimited}"
    );
    assert!(
        unlimited.contains("completed: \"called back\""),
        "{unlimited}"
    );
    // Without a callback the flow ends before `reply` is read.
    let mut runtime = runtime_at(NARROWING, "2026-03-02T09:00:00Z");
    let (id, _) = runtime.start("p", &json!({ "limit": 10 })).unwrap();
    let effects = runtime.advance(t("2026-03-05T09:00:00Z")).unwrap();
    assert!(
        has(&effects, "completed: \"no callback\""),
        "{}",
        lines(&effects)
    );
    assert_eq!(
        runtime.instance_status(id).unwrap(),
        InstanceStatus::Completed
    );
}

const WAITS: &str = r#"
/// Agents.
role Agent
/// The customer answered.
signal Answered
/// Sends the survey.
action send_survey(to: Text) -> Bool

/// Waits for the customer, for the help desk, and for a time.
process waits() {
  parallel {
    branch { await Answered within 2d }
    branch { let sent = send_survey("ada@example.com") }
    branch { wait 3h }
    branch { step note "Take a note" { by Agent } }
  }
  complete
}
"#;

#[test]
fn status_shows_what_a_case_waits_for_besides_its_tasks() {
    let mut runtime = runtime_at(WAITS, "2026-03-02T09:00:00Z");
    let (id, effects) = runtime.start("waits", &json!({})).unwrap();
    let Some(Effect::ActionRequested { request, .. }) = effects
        .iter()
        .find(|e| matches!(e, Effect::ActionRequested { .. }))
    else {
        panic!("no action requested: {effects:?}")
    };
    let info = runtime.status(id).unwrap();
    assert_eq!(info.tasks.len(), 1);
    assert_eq!(
        info.waiting,
        [
            Waiting::Signal {
                signal: "Answered".into(),
                until: Some(t("2026-03-04T09:00:00Z")),
            },
            Waiting::Action {
                request: *request,
                action: "send_survey".into(),
            },
            Waiting::Time {
                until: t("2026-03-02T12:00:00Z"),
            },
        ]
    );
    // Each wait leaves the list when it ends; an ended case waits for nothing.
    runtime.action_result(*request, Ok(&json!(true))).unwrap();
    runtime.signal(id, "Answered", &json!({})).unwrap();
    let info = runtime.status(id).unwrap();
    assert_eq!(
        info.waiting,
        [Waiting::Time {
            until: t("2026-03-02T12:00:00Z")
        }]
    );
    runtime.advance(t("2026-03-02T12:00:00Z")).unwrap();
    assert_eq!(runtime.status(id).unwrap().waiting, []);
    let note = runtime.status(id).unwrap().tasks[0].task;
    runtime.complete(note, &agent("ann"), &json!({})).unwrap();
    let info = runtime.status(id).unwrap();
    assert_eq!(info.status, InstanceStatus::Completed);
    assert_eq!(info.waiting, []);
    // A case cancelled, or failed by an action, while it waits: its waits end with it.
    let (id, effects) = runtime.start("waits", &json!({})).unwrap();
    runtime.cancel(id, "duplicate").unwrap();
    assert_eq!(runtime.status(id).unwrap().waiting, []);
    let (id, effects2) = runtime.start("waits", &json!({})).unwrap();
    let Some(Effect::ActionRequested { request, .. }) = effects2
        .iter()
        .find(|e| matches!(e, Effect::ActionRequested { .. }))
    else {
        panic!("no action requested: {effects:?}")
    };
    runtime.action_result(*request, Err("SMTP 550")).unwrap();
    let info = runtime.status(id).unwrap();
    assert_eq!(info.status, InstanceStatus::Failed);
    assert_eq!(info.waiting, []);
}

const SCORES: &str = r#"
/// Agents.
role Agent
/// The customer answered the survey.
signal Answered { nps: Int from 0 to 10 }

/// A CSAT score from the agent's call, an NPS score from the customer.
process scores(expected: Int from 1 to 5) {
  step call "Call the customer" -> csat: Int from 1 to 5 { by Agent }
  let answer = await Answered
  notify Agent "CSAT {call.csat}, NPS {answer.nps}"
}
"#;

/// `Int from … to …`: values out of range are refused where they come in (input, outputs, payloads), the case
/// unchanged; the metadata gives the bounds and the JSON Schema `minimum` and `maximum`.
#[test]
fn ranged_whole_numbers_are_checked_where_they_come_in() {
    let mut runtime = runtime_at(SCORES, "2026-03-02T09:00:00Z");
    let error = runtime
        .start("scores", &json!({"expected": 7}))
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("should be a whole number from 1 to 5, but it is the number 7"),
        "{error}"
    );
    let (id, effects) = runtime.start("scores", &json!({"expected": 4})).unwrap();
    let call = opened(&effects, "call");
    for bad in [json!(0), json!(6), json!(2.5), json!("5")] {
        let message = refused(&mut runtime, id, 0, |r| {
            r.complete(call, &agent("ann"), &json!({ "csat": bad }))
        });
        assert!(message.contains("a whole number from 1 to 5"), "{message}");
    }
    runtime
        .complete(call, &agent("ann"), &json!({"csat": 5}))
        .unwrap();
    let message = refused(&mut runtime, id, 0, |r| {
        r.signal(id, "Answered", &json!({"nps": 11}))
    });
    assert!(message.contains("a whole number from 0 to 10"), "{message}");
    let effects = runtime.signal(id, "Answered", &json!({"nps": 0})).unwrap();
    assert!(has(&effects, "\"CSAT 5, NPS 0\""), "{}", lines(&effects));
    let meta = runtime.module().metadata();
    let step = meta.steps.iter().find(|s| s.name == "call").unwrap();
    assert_eq!(
        step.outputs[0].ty,
        proc_abi::TypeDesc::IntIn { min: 1, max: 5 }
    );
    assert_eq!(
        step.outputs_schema["properties"]["csat"],
        json!({"type": "integer", "minimum": 1, "maximum": 5})
    );
}

const COMPUTED_SCORES: &str = r#"
/// Agents.
role Agent
/// An answer.
record Answer {
  /// 1 to 5.
  score: Int from 1 to 5
}

/// Gives a computed score to a bounded field.
process tripled(n: Int) -> Answer {
  step ask "Ask" { by Agent }
  complete Answer { score: n * 3 }
}
"#;

/// A computed value given to an `Int from … to …` is checked when it is given: outside the range, the case fails
/// with a run-time error (as for a division by zero) instead of holding a value its type rules out.
#[test]
fn a_computed_value_outside_its_range_fails_the_case() {
    let mut runtime = runtime_at(COMPUTED_SCORES, "2026-03-02T09:00:00Z");
    let (id, effects) = runtime.start("tripled", &json!({"n": 1})).unwrap();
    let effects = runtime
        .complete(opened(&effects, "ask"), &agent("ann"), &json!({}))
        .unwrap();
    assert!(has(&effects, "{\"score\":3}"), "{}", lines(&effects));
    assert_eq!(
        runtime.instance_status(id).unwrap(),
        InstanceStatus::Completed
    );
    let (id, effects) = runtime.start("tripled", &json!({"n": 2})).unwrap();
    let effects = runtime
        .complete(opened(&effects, "ask"), &agent("ann"), &json!({}))
        .unwrap();
    assert!(
        has(&effects, "a computed value is outside `Int from 1 to 5`"),
        "{}",
        lines(&effects)
    );
    assert_eq!(runtime.instance_status(id).unwrap(), InstanceStatus::Failed);
}

const BUSINESS_WAITS: &str = r#"
use std.calendar.LondonWeekdays

/// Agents.
role Agent
/// The customer replied.
signal Replied

/// Waits for the customer two working days, then one more.
process chase() {
  step ask "Ask the customer" { by Agent }
  let reply = await Replied within 16h on LondonWeekdays
  if reply == none {
    wait 8h on LondonWeekdays
    notify Agent "no reply"
  }
}
"#;

/// `await … within D on Calendar` and `wait D on Calendar` count the calendar's working time: from Friday 15:00
/// in London (Monday to Friday, 09:00 to 17:00), 16 working hours end on Tuesday at 15:00, and 8 more on
/// Wednesday at 15:00.
#[test]
fn waits_can_count_working_time() {
    let mut runtime = runtime_at(BUSINESS_WAITS, "2026-03-06T09:00:00Z");
    let (id, effects) = runtime.start("chase", &json!({})).unwrap();
    runtime.advance(t("2026-03-06T15:00:00Z")).unwrap();
    runtime
        .complete(opened(&effects, "ask"), &agent("ann"), &json!({}))
        .unwrap();
    assert_eq!(
        runtime.status(id).unwrap().waiting,
        [Waiting::Signal {
            signal: "Replied".into(),
            until: Some(t("2026-03-10T15:00:00Z")),
        }]
    );
    runtime.advance(t("2026-03-10T15:00:00Z")).unwrap();
    assert_eq!(
        runtime.status(id).unwrap().waiting,
        [Waiting::Time {
            until: t("2026-03-11T15:00:00Z")
        }]
    );
    let effects = runtime.advance(t("2026-03-11T15:00:00Z")).unwrap();
    assert!(
        has(&effects, "notify Agent: \"no reply\""),
        "{}",
        lines(&effects)
    );
}

#[test]
fn a_task_that_expires_is_withdrawn_without_a_breach() {
    // `expires after` withdraws the task when nobody did it in time: no breach (the team's deadline KPI stays at
    // 0), the flow goes on with `expired` true, and the task opened says when it expires. Its `within` deadline
    // and ladder still fire before that.
    let source = r#"
use std.kpi.deadline_breaches
role Supervisor
process survey(email: Text) -> Int {
  step answer "Rate us" -> score: Int from 1 to 5 {
    by person email
    within 2d
    expires after 7d
    on breach { notify Supervisor "No answer after two days" }
  }
  if answer.expired {
    complete 0
  }
  complete answer.score
}
"#;
    let mut runtime = runtime_at(source, "2026-03-02T09:00:00Z");
    let (case, effects) = runtime
        .start("survey", &json!({"email": "ada@example.com"}))
        .unwrap();
    let task = opened(&effects, "answer");
    let Some(Effect::TaskOpened(o)) = effects.iter().find(|e| matches!(e, Effect::TaskOpened(_)))
    else {
        panic!("no task opened");
    };
    assert_eq!(o.due, Some(t("2026-03-04T09:00:00Z")));
    assert_eq!(o.expires, Some(t("2026-03-09T09:00:00Z")));
    assert_eq!(runtime.next_wakeup(), Some(t("2026-03-04T09:00:00Z")));
    // The deadline passes: breached, the ladder runs, the task stays open.
    let effects = runtime.advance(t("2026-03-05T09:00:00Z")).unwrap();
    assert!(has(&effects, "missed its deadline"), "{}", lines(&effects));
    assert!(
        has(&effects, "No answer after two days"),
        "{}",
        lines(&effects)
    );
    assert_eq!(runtime.next_wakeup(), Some(t("2026-03-09T09:00:00Z")));
    // A copy restored from a snapshot goes on as the original does.
    let snapshot = runtime.snapshot(case).unwrap();
    let copy = runtime.restore_copy(&snapshot).unwrap();
    // A second before the expiry the task is still there; at it, it is withdrawn as expired and the case ends.
    let effects = runtime.advance(t("2026-03-09T08:59:59Z")).unwrap();
    assert!(effects.is_empty(), "{}", lines(&effects));
    let effects = runtime.advance(t("2026-03-09T09:00:00Z")).unwrap();
    let expired: Vec<&Effect> = effects
        .iter()
        .filter(|e| matches!(e, Effect::TaskCancelled { .. }))
        .collect();
    assert_eq!(expired.len(), 2, "{}", lines(&effects));
    for (id, reason) in [(case, CancelReason::Expired), (copy, CancelReason::Expired)] {
        assert!(
            expired.iter().any(|e| matches!(e, Effect::TaskCancelled { task, reason: r, .. } if task.instance == id && *r == reason)),
            "{}",
            lines(&effects)
        );
    }
    assert!(
        has(&effects, "expired before anyone did it: answer"),
        "{}",
        lines(&effects)
    );
    assert!(!has(&effects, "missed its deadline"), "{}", lines(&effects));
    for id in [case, copy] {
        assert!(
            effects.iter().any(|e| matches!(e, Effect::Completed { instance, result: Some(r), .. } if *instance == id && *r == json!(0))),
            "{}",
            lines(&effects)
        );
        // One breach (the two-day deadline), not two: the expiry is no breach.
        let kpi = runtime.kpis(id).unwrap();
        let breaches = kpi
            .iter()
            .find(|k| &*k.name == "deadline_breaches")
            .unwrap();
        assert_eq!(breaches.value, Some(1));
    }
    // The withdrawn task is gone: completing it now is refused.
    let error = runtime
        .complete(
            task,
            &Actor::new("ada@example.com", &[]),
            &json!({"score": 5}),
        )
        .unwrap_err();
    assert!(error.to_string().contains("ended"), "{error}");
    // Done before the expiry, the step's output is there.
    let (case, effects) = runtime
        .start("survey", &json!({"email": "bo@example.com"}))
        .unwrap();
    let task = opened(&effects, "answer");
    runtime.advance(t("2026-03-12T09:00:00Z")).unwrap();
    let effects = runtime
        .complete(
            task,
            &Actor::new("bo@example.com", &[]),
            &json!({"score": 4}),
        )
        .unwrap();
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Completed { instance, result: Some(r), .. } if *instance == case && *r == json!(4))),
        "{}",
        lines(&effects)
    );
}

#[test]
fn redo_reaches_a_step_of_the_process_from_inside_procedures() {
    // The flow is two procedure calls deep (waiting on `c` in `inner`, called by `outer`) when a lead sends it back
    // to the process's step `a`: the procedures are left, their task withdrawn, and the flow runs from `a` again,
    // through both calls, to the end.
    let source = r#"
role Agent
role Lead
procedure inner() {
  step c "c" { by Agent within 1h on breach { notify Lead } }
}
procedure outer() {
  step b "b" { by Agent }
  inner()
}
process p() {
  step a "a" { by Agent within 1h on breach { notify Lead } }
  outer()
  step d "d" { by Agent }
}
"#;
    let mut runtime = runtime_at(source, "2026-03-02T09:00:00Z");
    let (case, effects) = runtime.start("p", &json!({})).unwrap();
    let ann = agent("ann");
    let lead = Actor::new("tom", &["Lead"]);
    let effects = runtime
        .complete(opened(&effects, "a"), &ann, &json!({}))
        .unwrap();
    let effects = runtime
        .complete(opened(&effects, "b"), &ann, &json!({}))
        .unwrap();
    let c = opened(&effects, "c");
    // A refused redo (not a manager) changes nothing.
    refused(&mut runtime, case, 13, |r| r.redo(case, "a", &ann));
    let effects = runtime.redo(case, "a", &lead).unwrap();
    assert!(
        has(&effects, "cancelled to redo an earlier step: c"),
        "{}",
        lines(&effects)
    );
    let a = opened(&effects, "a");
    assert!(runtime.complete(c, &ann, &json!({})).is_err());
    let effects = runtime.complete(a, &ann, &json!({})).unwrap();
    let effects = runtime
        .complete(opened(&effects, "b"), &ann, &json!({}))
        .unwrap();
    let effects = runtime
        .complete(opened(&effects, "c"), &ann, &json!({}))
        .unwrap();
    let effects = runtime
        .complete(opened(&effects, "d"), &ann, &json!({}))
        .unwrap();
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Completed { instance, .. } if *instance == case)),
        "{}",
        lines(&effects)
    );
}

#[test]
fn a_late_task_on_hold_keeps_its_missed_deadline_and_its_ladder_waits() {
    // Due 10:00 and missed; on hold from 10:30 to 13:00 (two and a half hours). The resumption keeps the missed
    // due time (not a fresh one at 13:00), and the ladder's stages come as much later as the task was on hold:
    // the reassignment due at 12:00 comes at 14:30, the flag due at 14:00 at 16:30.
    let source = r#"
role Agent
role Lead
process p() {
  step work "Work" {
    by Agent
    within 1h
    on breach {
      notify Lead "late"
      after 2h reassign to Lead
      after 4h flag "very late"
    }
  }
}
"#;
    let mut runtime = runtime_at(source, "2026-03-02T09:00:00Z");
    let (_, effects) = runtime.start("p", &json!({})).unwrap();
    let work = opened(&effects, "work");
    let lead = Actor::new("tom", &["Lead"]);
    let effects = runtime.advance(t("2026-03-02T10:30:00Z")).unwrap();
    assert!(has(&effects, "missed its deadline"), "{}", lines(&effects));
    runtime.suspend(work, &lead).unwrap();
    let effects = runtime.advance(t("2026-03-02T13:00:00Z")).unwrap();
    assert!(effects.is_empty(), "{}", lines(&effects));
    let effects = runtime.resume(work, &lead).unwrap();
    assert!(
        effects.iter().any(|e| matches!(e, Effect::TaskResumed { due, .. } if *due == Some(t("2026-03-02T10:00:00Z")))),
        "{}",
        lines(&effects)
    );
    assert_eq!(runtime.next_wakeup(), Some(t("2026-03-02T14:30:00Z")));
    let effects = runtime.advance(t("2026-03-02T14:29:59Z")).unwrap();
    assert!(effects.is_empty(), "{}", lines(&effects));
    let effects = runtime.advance(t("2026-03-02T14:30:00Z")).unwrap();
    assert!(has(&effects, "Lead"), "{}", lines(&effects));
    assert_eq!(runtime.next_wakeup(), Some(t("2026-03-02T16:30:00Z")));
}

#[test]
fn an_expiry_also_withdraws_a_task_on_hold_and_comes_before_a_deadline_at_the_same_time() {
    let source = r#"
role Agent
role Lead
process p() {
  step offer "Accept the offer" {
    by Agent
    within 2h
    expires after 2h
    on breach { notify Lead "late" }
  }
}
"#;
    let mut runtime = runtime_at(source, "2026-03-02T09:00:00Z");
    let lead = Actor::new("tom", &["Lead"]);
    // Withdrawn at 11:00 exactly: no breach, no stage, although the deadline is due then too.
    let (_, effects) = runtime.start("p", &json!({})).unwrap();
    let first = opened(&effects, "offer");
    let effects = runtime.advance(t("2026-03-02T11:00:00Z")).unwrap();
    assert!(
        has(&effects, "expired before anyone did it"),
        "{}",
        lines(&effects)
    );
    assert!(!has(&effects, "missed its deadline"), "{}", lines(&effects));
    assert!(!has(&effects, "late"), "{}", lines(&effects));
    let _ = first;
    // On hold, it still expires at its time.
    let (_, effects) = runtime.start("p", &json!({})).unwrap();
    let second = opened(&effects, "offer");
    runtime.suspend(second, &lead).unwrap();
    assert_eq!(runtime.next_wakeup(), Some(t("2026-03-02T13:00:00Z")));
    let effects = runtime.advance(t("2026-03-02T13:00:00Z")).unwrap();
    assert!(
        has(&effects, "expired before anyone did it"),
        "{}",
        lines(&effects)
    );
    assert!(runtime.resume(second, &lead).is_err());
}

#[test]
fn a_ladder_in_working_time_waits_by_the_working_time_on_hold() {
    // Missed Friday 16:00; `after 2h on Office` was due Monday 10:00. On hold from Friday 16:30 to Monday 09:30,
    // which is one working hour, the stage comes at Monday 11:00 (not 65 clock hours later).
    let source = r#"
role Agent
role Lead
calendar Office {
  zone "Europe/London"
  hours mon-fri 09:00-17:00
}
process p() {
  step work "Work" {
    by Agent
    within 1h
    on breach {
      after 2h on Office notify Lead "two working hours late"
    }
  }
}
"#;
    let mut runtime = runtime_at(source, "2026-03-06T15:00:00Z");
    let (_, effects) = runtime.start("p", &json!({})).unwrap();
    let work = opened(&effects, "work");
    let lead = Actor::new("tom", &["Lead"]);
    runtime.advance(t("2026-03-06T16:30:00Z")).unwrap();
    assert_eq!(runtime.next_wakeup(), Some(t("2026-03-09T10:00:00Z")));
    runtime.suspend(work, &lead).unwrap();
    runtime.advance(t("2026-03-09T09:30:00Z")).unwrap();
    runtime.resume(work, &lead).unwrap();
    assert_eq!(runtime.next_wakeup(), Some(t("2026-03-09T11:00:00Z")));
    let effects = runtime.advance(t("2026-03-09T11:00:00Z")).unwrap();
    assert!(
        has(&effects, "two working hours late"),
        "{}",
        lines(&effects)
    );
}
