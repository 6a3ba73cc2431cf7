//! `proc-bench`: the runtime benchmark. The "complaint" process (`examples/complaint.proc`) runs through the Proc
//! runtime and, in the same run, through a hand-written native Rust state machine of the same process.
//!
//! ```text
//! proc-bench throughput N [--peer proc|native]   drive N complaints to the end, one after another
//! proc-bench idle N [--peer proc|native]         start N complaints and leave them waiting on `acknowledge`
//! proc-bench events N                            start and complete N one-step instances: the cost of an event
//! ```
//!
//! Without `--peer`, each peer runs in its own child process (so memory figures are separate) and a comparison
//! line follows. Each peer prints one JSON line, e.g.
//! `{"peer":"proc","mode":"throughput","instances":N,"escalations":E,"supervisor":S,"seconds":s,
//! "instances_per_s":x,"peak_rss_mb":m}` — after checking that every instance completed with the expected counts.
//!
//! The workload: start; `acknowledge` (Agent, within 4h; on breach it is withdrawn and `escalate` opens for the
//! Supervisor); `assess` (Agent) gives `urgency` [low, normal, high][i % 3]; `high` → `resolve_by_supervisor`,
//! otherwise `resolve_by_agent`; `send_survey` and `log_case` in parallel; `close`. The driver completes whatever
//! task is open until the instance ends; for every i % 10 == 0 the clock first moves 4h + 1min so the escalation
//! runs. Build with `cargo build --release -p proc-tests --bin proc-bench`.
#![expect(
    clippy::print_stderr,
    clippy::disallowed_methods,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark reports on stderr, measures wall-clock time and stops on broken setup"
)]

use proc_runtime::{Actor, EffectKind, Effects, HOUR, MINUTE, Module, Runtime, TaskRef, Time};
use serde_json::{Value, json};
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const COMPLAINT: &str = include_str!("../../../examples/complaint.proc");
const START: &str = "2026-03-02T09:00:00Z";

/// The least work an event can carry: an instance of `once` opens one task when it starts and ends when it is
/// completed.
const ONCE: &str = r#"
/// Does the task.
role Agent
/// One task.
process once() {
  step once "Do it" { by Agent }
}
"#;

fn rss_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn mb(kb: u64) -> f64 {
    (kb as f64 / 1024.0 * 10.0).round() / 10.0
}

/// What one run must produce: the numbers of escalations and of supervisor resolutions.
fn expected_counts(n: usize) -> (usize, usize) {
    (
        (0..n).filter(|i| i % 10 == 0).count(),
        (0..n).filter(|i| i % 3 == 2).count(),
    )
}

fn report(peer: &str, n: usize, escalations: usize, supervisor: usize, seconds: f64) {
    let (want_escalations, want_supervisor) = expected_counts(n);
    if escalations != want_escalations || supervisor != want_supervisor {
        eprintln!(
            "error: {peer}: expected {want_escalations} escalations and {want_supervisor} supervisor resolutions, \
             counted {escalations} and {supervisor}"
        );
        std::process::exit(1);
    }
    let line = json!({
        "peer": peer, "mode": "throughput", "instances": n, "escalations": escalations, "supervisor": supervisor,
        "seconds": (seconds * 1e6).round() / 1e6, "instances_per_s": (n as f64 / seconds).round(),
        "peak_rss_mb": mb(rss_kb("VmHWM:")),
    });
    emit(&line.to_string());
}

// -------------------------------------------------------------------------------------------------------------
// The Proc runtime

fn complaint_module() -> Module {
    proc_tests::load_module("complaint.proc", "complaint", COMPLAINT)
        .expect("complaint.proc builds")
}

struct Driver {
    agent: Actor,
    supervisor: Actor,
    manager: Actor,
    urgency: [Value; 3],
    empty: Value,
}

/// Who the driver completes a task as.
#[derive(Clone, Copy)]
enum Who {
    Agent,
    Supervisor,
    Manager,
}

impl Driver {
    fn actor(&self, who: Who) -> &Actor {
        match who {
            Who::Agent => &self.agent,
            Who::Supervisor => &self.supervisor,
            Who::Manager => &self.manager,
        }
    }
}

/// What the driver learns from the effects: the open tasks (the task, who does it, and whether it is `assess`,
/// which needs the urgency), whether the instance ended, and the counts every run checks.
#[derive(Default)]
struct Tally {
    open: Vec<(TaskRef, Who, bool)>,
    done: bool,
    escalations: usize,
    supervisor: usize,
}

impl Tally {
    fn opened(&mut self, task: TaskRef, step: &str, role: Option<&str>) {
        match step {
            "escalate" => self.escalations += 1,
            "resolve_by_supervisor" => self.supervisor += 1,
            _ => {}
        }
        let who = match role {
            Some("Supervisor") => Who::Supervisor,
            Some("Manager") => Who::Manager,
            _ => Who::Agent,
        };
        self.open.push((task, who, step == "assess"));
    }

    /// Reads the effects of one event, in place.
    fn read(&mut self, effects: &Effects<'_>) {
        for effect in effects {
            match effect.kind() {
                EffectKind::TaskOpened => {
                    let (Some(task), Some(step)) = (effect.task(), effect.step()) else {
                        panic!("a task opened without a task or step");
                    };
                    self.opened(task, step, effect.role());
                }
                EffectKind::TaskCompleted | EffectKind::TaskCancelled => {
                    let task = effect.task();
                    self.open.retain(|(t, _, _)| Some(*t) != task);
                }
                EffectKind::Completed => self.done = true,
                _ => {}
            }
        }
    }
}

fn proc_throughput(n: usize) {
    let module = complaint_module();
    let mut runtime = Runtime::new(&module).unwrap();
    runtime.advance(START.parse::<Time>().unwrap()).unwrap();
    let input = json!({"c": {"customer": "Ada Lovelace", "summary": "I was charged twice"}});
    let driver = Driver {
        agent: Actor::new("ann", &["Agent"]),
        supervisor: Actor::new("sue", &["Supervisor"]),
        manager: Actor::new("max", &["Manager"]),
        urgency: [
            json!({"urgency": "low"}),
            json!({"urgency": "normal"}),
            json!({"urgency": "high"}),
        ],
        empty: json!({}),
    };
    let mut tally = Tally::default();
    let started = Instant::now();
    for i in 0..n {
        tally.open.clear();
        tally.done = false;
        let effects = runtime.start_view("complaint", &input).unwrap();
        let id = effects.instance();
        tally.read(&effects);
        if i % 10 == 0 {
            let later = runtime.now().plus(4 * HOUR + MINUTE);
            runtime
                .advance_each(later, |effects| tally.read(&effects))
                .unwrap();
        }
        while !tally.done {
            let Some(&(task, actor, is_assess)) = tally.open.first() else {
                panic!("instance {i} is stuck with no open task");
            };
            let outputs = if is_assess {
                &driver.urgency[i % 3]
            } else {
                &driver.empty
            };
            let effects = runtime
                .complete_view(task, driver.actor(actor), outputs)
                .unwrap();
            tally.read(&effects);
        }
        runtime.remove(id).unwrap();
    }
    let Tally {
        escalations,
        supervisor,
        ..
    } = tally;
    let seconds = started.elapsed().as_secs_f64();
    report("proc", n, escalations, supervisor, seconds);
}

fn proc_idle(n: usize) {
    let module = complaint_module();
    let mut runtime = Runtime::new(&module).unwrap();
    runtime.advance(START.parse::<Time>().unwrap()).unwrap();
    let input = json!({"c": {"customer": "Ada Lovelace", "summary": "I was charged twice"}});
    // Warm up the worker's memory, then measure the baseline.
    let (warm, _) = runtime.start("complaint", &input).unwrap();
    runtime.remove(warm).unwrap();
    let baseline = rss_kb("VmRSS:");
    let started = Instant::now();
    for _ in 0..n {
        runtime.start("complaint", &input).unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(runtime.instance_count(), n);
    idle_report("proc", n, seconds, baseline, runtime.state_bytes());
}

/// `events N`: N instances of `once`, each started (opening its task) and completed (ending it): 2N events.
fn proc_events(n: usize) {
    let module = proc_tests::load_module("once.proc", "once", ONCE).expect("once.proc builds");
    let mut runtime = Runtime::new(&module).unwrap();
    let agent = Actor::new("ann", &["Agent"]);
    let (input, empty) = (json!({}), json!({}));
    let started = Instant::now();
    for _ in 0..n {
        let effects = runtime.start_view("once", &input).unwrap();
        let instance = effects.instance();
        let task = effects
            .into_iter()
            .find(|e| e.kind() == EffectKind::TaskOpened)
            .and_then(|e| e.task())
            .expect("a task opens");
        let effects = runtime.complete_view(task, &agent, &empty).unwrap();
        assert!(
            effects
                .into_iter()
                .any(|e| e.kind() == EffectKind::Completed)
        );
        runtime.remove(instance).unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    let events = 2 * n;
    let line = json!({
        "peer": "proc", "mode": "events", "instances": n, "events": events,
        "seconds": (seconds * 1e6).round() / 1e6, "events_per_s": (events as f64 / seconds).round(),
        "ns_per_event": (seconds * 1e9 / events as f64).round(),
    });
    emit(&line.to_string());
}

fn idle_report(peer: &str, n: usize, seconds: f64, baseline_kb: u64, state_bytes: usize) {
    let rss = rss_kb("VmRSS:");
    let line = json!({
        "peer": peer, "mode": "idle", "instances": n, "start_seconds": (seconds * 1e6).round() / 1e6,
        "rss_mb": mb(rss), "baseline_rss_mb": mb(baseline_kb),
        "bytes_per_instance": ((rss.saturating_sub(baseline_kb)) as f64 * 1024.0 / n as f64).round(),
        "state_bytes_per_instance": (state_bytes as f64 / n as f64).round(),
    });
    emit(&line.to_string());
}

// -------------------------------------------------------------------------------------------------------------
// The native baseline: the same process as a hand-written state machine

mod native {
    use std::collections::BTreeSet;

    pub const HOUR: i64 = 3_600_000;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Role {
        Agent,
        Supervisor,
        Manager,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Step {
        Acknowledge,
        Escalate,
        Assess,
        ResolveBySupervisor,
        ResolveByAgent,
        SendSurvey,
        LogCase,
        Close,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Urgency {
        Low,
        Normal,
        High,
    }

    #[derive(Debug)]
    #[expect(
        dead_code,
        reason = "effects are produced in full, as a host would receive them; the driver reads what it needs"
    )]
    pub enum Effect {
        TaskOpened {
            task: u32,
            step: Step,
            role: Role,
            due: i64,
            instruction: String,
        },
        TaskCompleted {
            task: u32,
            step: Step,
            by: String,
        },
        TaskCancelled {
            task: u32,
            step: Step,
        },
        TaskBreached {
            task: u32,
            step: Step,
        },
        TaskReassigned {
            task: u32,
            role: Role,
        },
        Notified {
            role: Role,
            message: String,
        },
        Flagged {
            message: String,
        },
        ProcessBreached,
        Completed,
    }

    #[derive(Debug)]
    struct Task {
        id: u32,
        step: Step,
        role: Role,
        due: i64,
        breached_at: i64,
        stage: u8,
        stage_at: i64,
    }

    #[derive(Debug, PartialEq, Eq)]
    enum Phase {
        Acknowledge,
        Escalate,
        Assess,
        Resolve,
        Parallel,
        Close,
        Done,
    }

    #[derive(Debug)]
    struct Case {
        customer: String,
        summary: String,
        deadline: i64,
        tasks: Vec<Task>,
        next_task: u32,
        phase: Phase,
        urgency: Urgency,
        done_by: Vec<(Step, String)>,
        branches_left: u8,
        wake: i64,
    }

    #[derive(Default)]
    pub struct Runtime {
        pub now: i64,
        cases: Vec<Option<Case>>,
        /// Slots of removed cases, used again by the next starts (as the Proc runtime frees a removed case).
        free: Vec<usize>,
        wakeups: BTreeSet<(i64, usize)>,
    }

    impl Case {
        fn open(&mut self, step: Step, role: Role, within: i64, now: i64, out: &mut Vec<Effect>) {
            self.next_task += 1;
            let instruction = match step {
                Step::Acknowledge => format!(
                    "Greet {} by name and confirm that we are working on the complaint",
                    self.customer
                ),
                Step::Escalate => format!(
                    "Acknowledge the complaint from {} and apologise: nobody answered within 4 hours",
                    self.customer
                ),
                Step::Assess => format!("Read the complaint and set its urgency: {}", self.summary),
                Step::ResolveBySupervisor => {
                    format!("Resolve the urgent complaint from {}", self.customer)
                }
                Step::ResolveByAgent => format!("Resolve the complaint from {}", self.customer),
                Step::SendSurvey => format!("Send {} the satisfaction survey", self.customer),
                Step::LogCase => {
                    "Record the cause and the resolution in the complaint log".to_string()
                }
                Step::Close => format!("Close the complaint from {}", self.customer),
            };
            let due = now + within;
            self.tasks.push(Task {
                id: self.next_task,
                step,
                role,
                due,
                breached_at: i64::MAX,
                stage: 0,
                stage_at: i64::MAX,
            });
            out.push(Effect::TaskOpened {
                task: self.next_task,
                step,
                role,
                due,
                instruction,
            });
        }

        /// Moves the flow on after a step ended (completed, or withdrawn after a breach).
        fn continue_after(&mut self, step: Step, breached: bool, now: i64, out: &mut Vec<Effect>) {
            match step {
                Step::Acknowledge if breached => {
                    self.phase = Phase::Escalate;
                    self.open(Step::Escalate, Role::Supervisor, HOUR, now, out);
                }
                Step::Acknowledge | Step::Escalate => {
                    self.phase = Phase::Assess;
                    self.open(Step::Assess, Role::Agent, 2 * HOUR, now, out);
                }
                Step::Assess => {
                    self.phase = Phase::Resolve;
                    if self.urgency == Urgency::High {
                        self.open(
                            Step::ResolveBySupervisor,
                            Role::Supervisor,
                            8 * HOUR,
                            now,
                            out,
                        );
                    } else {
                        self.open(Step::ResolveByAgent, Role::Agent, 48 * HOUR, now, out);
                    }
                }
                Step::ResolveBySupervisor | Step::ResolveByAgent => {
                    self.phase = Phase::Parallel;
                    self.branches_left = 2;
                    self.open(Step::SendSurvey, Role::Agent, 24 * HOUR, now, out);
                    self.open(Step::LogCase, Role::Agent, 24 * HOUR, now, out);
                }
                Step::SendSurvey | Step::LogCase => {
                    self.branches_left -= 1;
                    if self.branches_left == 0 {
                        self.phase = Phase::Close;
                        self.open(Step::Close, Role::Agent, 4 * HOUR, now, out);
                    }
                }
                Step::Close => {
                    self.phase = Phase::Done;
                    out.push(Effect::Completed);
                }
            }
        }

        fn next_wake(&self) -> i64 {
            if self.phase == Phase::Done {
                return i64::MAX;
            }
            self.tasks
                .iter()
                .flat_map(|t| {
                    [
                        if t.breached_at == i64::MAX {
                            t.due
                        } else {
                            i64::MAX
                        },
                        t.stage_at,
                    ]
                })
                .chain([self.deadline])
                .min()
                .unwrap_or(i64::MAX)
        }

        /// Fires the earliest timer due by `target`; false when none is.
        fn fire_one(&mut self, target: i64, out: &mut Vec<Effect>) -> bool {
            let mut best: Option<(i64, usize, bool)> = None;
            for (index, task) in self.tasks.iter().enumerate() {
                if task.breached_at == i64::MAX && best.is_none_or(|b| task.due < b.0) {
                    best = Some((task.due, index, true));
                }
                if best.is_none_or(|b| task.stage_at < b.0) {
                    best = Some((task.stage_at, index, false));
                }
            }
            if self.deadline <= target && best.is_none_or(|b| self.deadline < b.0) {
                self.deadline = i64::MAX;
                out.push(Effect::ProcessBreached);
                return true;
            }
            let Some((at, index, is_breach)) = best.filter(|b| b.0 <= target) else {
                return false;
            };
            let task = &mut self.tasks[index];
            if is_breach {
                task.breached_at = at;
                out.push(Effect::TaskBreached {
                    task: task.id,
                    step: task.step,
                });
                task.stage_at = at;
                return true;
            }
            let (id, step, stage) = (task.id, task.step, task.stage);
            task.stage += 1;
            match (step, stage) {
                (Step::Acknowledge, 0) => {
                    let task = self.tasks.remove(index);
                    out.push(Effect::TaskCancelled {
                        task: task.id,
                        step: task.step,
                    });
                    self.continue_after(Step::Acknowledge, true, at, out);
                }
                (Step::Escalate, 0) => {
                    out.push(Effect::Notified {
                        role: Role::Supervisor,
                        message: format!(
                            "The escalated complaint from {} is still unacknowledged",
                            self.customer
                        ),
                    });
                    self.tasks[index].stage_at = self.tasks[index].breached_at + 2 * HOUR;
                }
                (Step::Escalate, 1) => {
                    self.tasks[index].role = Role::Manager;
                    self.tasks[index].stage_at = i64::MAX;
                    out.push(Effect::TaskReassigned {
                        task: id,
                        role: Role::Manager,
                    });
                }
                (Step::ResolveBySupervisor, 0) => {
                    self.tasks[index].stage_at = i64::MAX;
                    out.push(Effect::Flagged {
                        message: "urgent complaint not resolved within 8 hours".to_string(),
                    });
                }
                (Step::ResolveByAgent, 0) => {
                    out.push(Effect::Notified {
                        role: Role::Supervisor,
                        message: format!(
                            "The complaint from {} is past its 48-hour resolution time",
                            self.customer
                        ),
                    });
                    self.tasks[index].stage_at = self.tasks[index].breached_at + 4 * HOUR;
                }
                (Step::ResolveByAgent, 1) => {
                    self.tasks[index].role = Role::Supervisor;
                    out.push(Effect::TaskReassigned {
                        task: id,
                        role: Role::Supervisor,
                    });
                    self.tasks[index].stage_at = self.tasks[index].breached_at + 24 * HOUR;
                }
                (Step::ResolveByAgent, 2) => {
                    self.tasks[index].stage_at = i64::MAX;
                    out.push(Effect::Notified {
                        role: Role::Manager,
                        message: format!(
                            "The complaint from {} is a day past its resolution time",
                            self.customer
                        ),
                    });
                }
                _ => self.tasks[index].stage_at = i64::MAX,
            }
            true
        }
    }

    impl Runtime {
        /// A runtime whose clock stands at `now`.
        pub fn at(now: i64) -> Runtime {
            Runtime {
                now,
                ..Runtime::default()
            }
        }

        fn reindex(&mut self, id: usize) {
            let Some(Some(case)) = self.cases.get_mut(id) else {
                return;
            };
            let wake = case.next_wake();
            if wake != case.wake {
                self.wakeups.remove(&(case.wake, id));
                if wake != i64::MAX {
                    self.wakeups.insert((wake, id));
                }
                case.wake = wake;
            }
        }

        pub fn start(&mut self, customer: &str, summary: &str) -> (usize, Vec<Effect>) {
            let mut case = Case {
                customer: customer.to_string(),
                summary: summary.to_string(),
                deadline: self.now + 5 * 24 * HOUR,
                tasks: Vec::with_capacity(2),
                next_task: 0,
                phase: Phase::Acknowledge,
                urgency: Urgency::Low,
                done_by: Vec::new(),
                branches_left: 0,
                wake: i64::MAX,
            };
            let mut out = Vec::with_capacity(2);
            case.open(Step::Acknowledge, Role::Agent, 4 * HOUR, self.now, &mut out);
            let id = match self.free.pop() {
                Some(id) => {
                    self.cases[id] = Some(case);
                    id
                }
                None => {
                    self.cases.push(Some(case));
                    self.cases.len() - 1
                }
            };
            self.reindex(id);
            (id, out)
        }

        pub fn complete(
            &mut self,
            id: usize,
            task: u32,
            actor: &str,
            roles: &[Role],
            urgency: Option<Urgency>,
        ) -> Result<Vec<Effect>, &'static str> {
            let now = self.now;
            let case = self
                .cases
                .get_mut(id)
                .and_then(Option::as_mut)
                .ok_or("unknown instance")?;
            let index = case
                .tasks
                .iter()
                .position(|t| t.id == task)
                .ok_or("unknown task")?;
            if !roles.contains(&case.tasks[index].role) {
                return Err("not in role");
            }
            let step = case.tasks[index].step;
            if step == Step::Assess {
                case.urgency = urgency.ok_or("missing urgency")?;
            }
            case.tasks.remove(index);
            case.done_by.push((step, actor.to_string()));
            let mut out = Vec::with_capacity(4);
            out.push(Effect::TaskCompleted {
                task,
                step,
                by: actor.to_string(),
            });
            case.continue_after(step, false, now, &mut out);
            self.reindex(id);
            Ok(out)
        }

        pub fn advance(&mut self, now: i64) -> Vec<Effect> {
            self.now = self.now.max(now);
            let due: Vec<usize> = self
                .wakeups
                .range(..=(self.now, usize::MAX))
                .map(|&(_, id)| id)
                .collect();
            let mut out = Vec::new();
            for id in due {
                if let Some(Some(case)) = self.cases.get_mut(id) {
                    while case.phase != Phase::Done && case.fire_one(now, &mut out) {}
                }
                self.reindex(id);
            }
            out
        }

        pub fn remove(&mut self, id: usize) {
            if let Some(slot) = self.cases.get_mut(id) {
                if let Some(case) = slot.take() {
                    self.wakeups.remove(&(case.wake, id));
                    self.free.push(id);
                }
            }
        }

        pub fn len(&self) -> usize {
            self.cases.iter().filter(|c| c.is_some()).count()
        }
    }
}

fn native_throughput(n: usize) {
    use native::{Effect, Role, Step, Urgency};
    let mut runtime = native::Runtime::at(START.parse::<Time>().unwrap().0);
    let urgency = [Urgency::Low, Urgency::Normal, Urgency::High];
    let (mut escalations, mut supervisor) = (0usize, 0usize);
    let mut open: Vec<(u32, Role)> = Vec::with_capacity(4);
    let started = Instant::now();
    for i in 0..n {
        open.clear();
        let (id, mut effects) = runtime.start("Ada Lovelace", "I was charged twice");
        if i % 10 == 0 {
            let later = runtime.now + 4 * native::HOUR + MINUTE;
            effects.extend(runtime.advance(later));
        }
        let mut done = false;
        loop {
            for effect in effects.drain(..) {
                match effect {
                    Effect::TaskOpened {
                        task, step, role, ..
                    } => {
                        match step {
                            Step::Escalate => escalations += 1,
                            Step::ResolveBySupervisor => supervisor += 1,
                            _ => {}
                        }
                        open.push((task, role));
                    }
                    Effect::TaskCompleted { task, .. } | Effect::TaskCancelled { task, .. } => {
                        open.retain(|(t, _)| *t != task);
                    }
                    Effect::Completed => done = true,
                    _ => {}
                }
            }
            if done {
                break;
            }
            let Some(&(task, role)) = open.first() else {
                panic!("native instance {i} is stuck");
            };
            let (actor, roles): (&str, &[Role]) = match role {
                Role::Agent => ("ann", &[Role::Agent]),
                Role::Supervisor => ("sue", &[Role::Supervisor]),
                Role::Manager => ("max", &[Role::Manager]),
            };
            effects = runtime
                .complete(id, task, actor, roles, Some(urgency[i % 3]))
                .unwrap();
        }
        runtime.remove(id);
    }
    let seconds = started.elapsed().as_secs_f64();
    report("native", n, escalations, supervisor, seconds);
}

fn native_idle(n: usize) {
    let mut runtime = native::Runtime::at(START.parse::<Time>().unwrap().0);
    let baseline = rss_kb("VmRSS:");
    let started = Instant::now();
    for _ in 0..n {
        let _ = runtime.start("Ada Lovelace", "I was charged twice");
    }
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(runtime.len(), n);
    idle_report("native", n, seconds, baseline, 0);
}

const USAGE: &str = "usage: proc-bench throughput N [--peer proc|native]\n       proc-bench idle N [--peer proc|native]\n       proc-bench events N\n\n\
throughput N: runs N complaints to their end, in the Proc runtime and in a native state machine (each in its own\n\
process, or only the one --peer names), and prints a JSON line per peer and their ratio.\n\
idle N: starts N complaints left waiting on their first task and prints the memory each takes.\n\
events N: starts and completes N instances of a process with one step (2N events) and prints the time per\n\
event (the Proc runtime only: what an event costs when it carries the least work).";

fn usage() -> ! {
    eprintln!("{USAGE}");
    std::process::exit(2)
}

/// Prints one line of results. A reader that stops early (`| head -1`) ends the benchmark quietly.
fn emit(line: &str) {
    use std::io::Write;
    if let Err(error) = writeln!(std::io::stdout().lock(), "{line}") {
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("proc-bench: cannot write the results: {error}");
            std::process::exit(1);
        }
        std::process::exit(0);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        emit(USAGE);
        return;
    }
    let (Some(mode), Some(n)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        usage()
    };
    if n == 0 || !matches!(mode.as_str(), "throughput" | "idle" | "events") {
        usage();
    }
    let peer = match args.get(2).map(String::as_str) {
        Some("--peer") => args.get(3).cloned(),
        None => None,
        _ => usage(),
    };
    match (mode.as_str(), peer.as_deref()) {
        ("throughput", Some("proc")) => proc_throughput(n),
        ("throughput", Some("native")) => native_throughput(n),
        ("idle", Some("proc")) => proc_idle(n),
        ("idle", Some("native")) => native_idle(n),
        ("events", None | Some("proc")) => proc_events(n),
        (_, Some(_)) => usage(),
        (_, None) => {
            let exe = std::env::current_exe().expect("the benchmark's own path");
            let mut results = Vec::new();
            for peer in ["proc", "native"] {
                let output = std::process::Command::new(&exe)
                    .args([mode.as_str(), &n.to_string(), "--peer", peer])
                    .output()
                    .expect("run a peer");
                let line = String::from_utf8_lossy(&output.stdout).trim().to_string();
                eprint!("{}", String::from_utf8_lossy(&output.stderr));
                if !output.status.success() {
                    std::process::exit(1);
                }
                emit(&line);
                results.push(serde_json::from_str::<Value>(&line).expect("a JSON line"));
            }
            let (proc, native) = (&results[0], &results[1]);
            let comparison = if mode == "throughput" {
                let (p, q) = (
                    proc["instances_per_s"].as_f64().unwrap(),
                    native["instances_per_s"].as_f64().unwrap(),
                );
                json!({"compare": "throughput", "proc_instances_per_s": p, "native_instances_per_s": q,
                    "proc_over_native": (p / q * 1000.0).round() / 1000.0})
            } else {
                let (p, q) = (
                    proc["bytes_per_instance"].as_f64().unwrap(),
                    native["bytes_per_instance"].as_f64().unwrap(),
                );
                json!({"compare": "idle", "proc_bytes_per_instance": p, "native_bytes_per_instance": q,
                    "proc_over_native": (p / q.max(1.0) * 1000.0).round() / 1000.0})
            };
            emit(&comparison.to_string());
        }
    }
}
