//! `procc test`: runs the `test` blocks of `.proc` files through the real runtime with a virtual clock.
//!
//! Each test gets a fresh runtime. Completions are tried on the open tasks of the named step until one is
//! accepted; `expect rejected` requires every open task of the step to refuse and the instance's snapshot to
//! stay byte for byte the same. `expect notified` and `expect escalated` match effects not yet matched by an
//! earlier expectation. Action requests are answered by the `given … returns …` rules.

use crate::build::{Built, build_packages};
use crate::files::errln;
use crate::{ColorChoice, Format, print_diagnostics, use_color};
use indexmap::IndexMap;
use proc_compiler::ast::ManageOp;
use proc_compiler::backend::{
    TestAction, TestActionKind, TestActor, TestCompletion, TestManage, TestPlan,
};
use proc_compiler::source::LineCol;
use proc_runtime::{
    Actor, Effect, Error, InstanceId, InstanceStatus, Module, Runtime, StaticDirectory, TaskInfo,
    TaskRef, Time,
};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Where a test's clock starts when its `start` gives no time.
const DEFAULT_START: &str = "2026-01-05T09:00:00Z";

pub fn run(paths: &[PathBuf], filter: Option<&str>, color: ColorChoice) -> ExitCode {
    let built = match build_packages(paths) {
        Ok(built) => built,
        Err(message) => {
            errln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let color = use_color(color);
    let (mut passed, mut failed, mut filtered_out) = (0usize, 0usize, 0usize);
    // Tests of packages with errors count as failed (CI must not pass), and the summary says they did not run.
    let mut not_run = 0usize;
    for package in &built {
        let diagnostics = package.diagnostics();
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        if errors > 0 {
            print_diagnostics(&package.analysis, &diagnostics, Format::Human, color, true);
            errln!(
                "error: `{}` has {errors} error{}, so its tests cannot run",
                package.name,
                if errors == 1 { "" } else { "s" }
            );
            failed += package.build.tests.len().max(1);
            not_run += package.build.tests.len().max(1);
            continue;
        }
        let Some(wasm) = &package.build.wasm else {
            continue;
        };
        let module = match Module::from_bytes(wasm) {
            Ok(module) => module,
            Err(error) => {
                errln!("error: `{}`: {error}", package.name);
                failed += package.build.tests.len().max(1);
                not_run += package.build.tests.len().max(1);
                continue;
            }
        };
        for plan in &package.build.tests {
            if filter.is_some_and(|f| !plan.name.contains(f)) {
                filtered_out += 1;
                continue;
            }
            let location = location(package, plan.at.file.0 as usize, plan.at.span.start);
            match run_test(&module, package, plan) {
                Ok(()) => {
                    passed += 1;
                    crate::files::write_stdout(&format!("ok    {location}  {}\n", plan.name));
                }
                Err(failure) => {
                    failed += 1;
                    crate::files::write_stdout(&format!(
                        "FAIL  {location}  {}\n{failure}\n",
                        plan.name
                    ));
                }
            }
        }
    }
    // Notes go to standard error: the summary line stays the last line of the report.
    let ran = passed + failed;
    let no_match = ran == 0 && filtered_out > 0;
    match filter {
        Some(filter) if no_match => errln!(
            "error: no test name contains `{filter}` ({filtered_out} test{} filtered out)",
            if filtered_out == 1 { "" } else { "s" }
        ),
        Some(_) if filtered_out > 0 => errln!("note: {filtered_out} filtered out"),
        _ if ran == 0 => errln!("note: no `test` blocks were found"),
        _ => {}
    }
    let detail = match not_run {
        0 => String::new(),
        n => format!(
            " ({n} of them could not run: {})",
            if n == 1 {
                "its package has errors"
            } else {
                "their packages have errors"
            }
        ),
    };
    crate::files::write_stdout(&format!("\n{passed} passed, {failed} failed{detail}\n"));
    if failed > 0 || no_match {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn location(package: &Built, file: usize, offset: u32) -> String {
    match package.analysis.files.get(file) {
        Some(source) => {
            let LineCol { line, .. } = source.line_col(offset);
            format!("{}:{line}", source.name)
        }
        None => String::new(),
    }
}

struct Run {
    runtime: Runtime,
    instance: Option<InstanceId>,
    log: Log,
    answers: HashMap<String, Value>,
    directory: StaticDirectory,
}

fn run_test(module: &Module, package: &Built, plan: &TestPlan) -> Result<(), String> {
    let runtime = Runtime::new(module).map_err(|e| format!("  cannot start a runtime: {e}"))?;
    let mut run = Run {
        runtime,
        instance: None,
        log: Log::default(),
        answers: HashMap::new(),
        directory: StaticDirectory::default(),
    };
    // The clock starts at the test's `start … at`, or at the default.
    let given = plan.actions.iter().find_map(|a| match &a.kind {
        TestActionKind::Start { at, .. } => Some(*at),
        _ => None,
    });
    let start = match given.flatten() {
        // The runtime's clock starts at the epoch and never goes back.
        Some(at) if at < 0 => {
            return Err(format!(
                "  the test starts at {}, before 1970-01-01T00:00:00Z, the earliest time the runtime's clock can show",
                show_time(at)
            ));
        }
        Some(at) => Time(at),
        None => DEFAULT_START.parse::<Time>().map_err(|e| e.to_string())?,
    };
    run.runtime.advance(start).map_err(|e| format!("  {e}"))?;
    for action in &plan.actions {
        if let Err(message) = run.step(action) {
            let at = location(package, action.at.file.0 as usize, action.at.span.start);
            let source = package
                .analysis
                .files
                .get(action.at.file.0 as usize)
                .and_then(|f| f.text.get(action.at.span.range()))
                .unwrap_or("")
                .trim();
            return Err(format!(
                "  at {at}: {source}\n{}\n{}",
                indent(&message),
                run.recent_effects()
            ));
        }
    }
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn show_time(ms: i64) -> String {
    Time(ms).to_string()
}

fn describe_task(t: &TaskInfo) -> String {
    let who = match (&t.role, &t.person) {
        (Some(role), _) => role.to_string(),
        (None, Some(person)) => person.clone(),
        (None, None) => "nobody".to_string(),
    };
    let due = t.due.map_or_else(String::new, |d| format!(", due {d}"));
    format!("task {} `{}` for {who}{due}", t.task.task, t.step)
}

/// How many of the last effects a failure's report shows.
const RECENT: usize = 12;

/// What a test has seen of the runtime's effects: what its expectations can still match, and the last few for a
/// failure's report. It stays small however many effects there were (a reminder loop over weeks of test time
/// notifies millions of times): notifications and escalations are counted by what they say.
#[derive(Default)]
struct Log {
    /// The last [`RECENT`] effects, with the test clock's time when each happened.
    recent: VecDeque<(Time, Effect)>,
    /// How many effects there were.
    total: usize,
    /// Notifications no `expect notified` has matched yet, by (role, message), in the order first sent.
    notified: IndexMap<(String, String), usize>,
    /// Escalations by a ladder no `expect escalated` has matched yet, by (step, role).
    escalated: IndexMap<(String, String), usize>,
    /// Missed deadlines no `expect breached` has matched yet, by (step, ""); the case's own as ("", "").
    breached: IndexMap<(String, String), usize>,
    /// Flags no `expect flagged` has matched yet, by (message, "").
    flagged: IndexMap<(String, String), usize>,
    /// The result (or reason) of the last completion.
    completed: Option<Option<Value>>,
}

impl Log {
    fn push(&mut self, at: Time, effect: Effect) {
        match &effect {
            Effect::Notified { role, message, .. } => {
                *self
                    .notified
                    .entry((role.to_string(), message.clone()))
                    .or_default() += 1;
            }
            Effect::TaskReassigned {
                step,
                role,
                by: None,
                ..
            } => {
                *self
                    .escalated
                    .entry((step.to_string(), role.to_string()))
                    .or_default() += 1;
            }
            Effect::TaskBreached { step, .. } => {
                *self
                    .breached
                    .entry((step.to_string(), String::new()))
                    .or_default() += 1;
            }
            Effect::ProcessBreached { .. } => {
                *self.breached.entry(Default::default()).or_default() += 1;
            }
            Effect::Flagged { message, .. } => {
                *self
                    .flagged
                    .entry((message.clone(), String::new()))
                    .or_default() += 1;
            }
            Effect::Completed { result, reason, .. } => {
                self.completed = Some(result.clone().or_else(|| reason.clone().map(Value::String)));
            }
            _ => {}
        }
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back((at, effect));
        self.total += 1;
    }

    /// Logs an effect; an action request also goes on `asked`, to be answered.
    fn note(&mut self, at: Time, effect: Effect, asked: &mut VecDeque<Effect>) {
        if matches!(effect, Effect::ActionRequested { .. }) {
            asked.push_back(effect.clone());
        }
        self.push(at, effect);
    }

    /// Matches one unmatched effect counted under the first key `wanted` accepts.
    fn take(
        counts: &mut IndexMap<(String, String), usize>,
        wanted: impl Fn(&(String, String)) -> bool,
    ) -> bool {
        let Some((_, count)) = counts
            .iter_mut()
            .find(|(key, count)| **count > 0 && wanted(key))
        else {
            return false;
        };
        *count -= 1;
        true
    }

    /// The effects counted in `counts` that no `expect` matched yet and `wanted` accepts, as `shown` writes them
    /// (`"late" (2 times)`).
    fn unmatched(
        counts: &IndexMap<(String, String), usize>,
        wanted: impl Fn(&(String, String)) -> bool,
        shown: impl Fn(&(String, String)) -> String,
    ) -> Vec<String> {
        counts
            .iter()
            .filter(|(key, count)| **count > 0 && wanted(key))
            .map(|(key, count)| match count {
                1 => shown(key),
                n => format!("{} ({n} times)", shown(key)),
            })
            .collect()
    }

    /// `expect …` (`none` false) matches one unmatched effect that `wanted` accepts; `expect no …` finds none.
    /// `what` says what was wanted ("a notification to Agent"), `shown` how an unmatched key reads.
    fn expect(
        counts: &mut IndexMap<(String, String), usize>,
        none: bool,
        wanted: impl Fn(&(String, String)) -> bool,
        what: &str,
        shown: impl Fn(&(String, String)) -> String,
    ) -> Result<(), String> {
        if none {
            let found = Log::unmatched(counts, &wanted, &shown);
            if found.is_empty() {
                return Ok(());
            }
            return Err(format!(
                "expected no {what} (other than those an earlier `expect` matched)\nbut there was: {}",
                found.join(", ")
            ));
        }
        if Log::take(counts, &wanted) {
            return Ok(());
        }
        let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        // What did happen of that kind and is not matched yet, so a wrong word or role shows at once.
        let others = Log::unmatched(counts, |_| true, &shown);
        let happened = if others.is_empty() {
            "none happened".to_string()
        } else {
            format!("what happened instead: {}", others.join(", "))
        };
        Err(format!(
            "expected {article} {what} (not already matched by an earlier `expect`)\n{happened}"
        ))
    }
}

impl Run {
    fn recent_effects(&self) -> String {
        let log = &self.log;
        if log.total == 0 {
            return "    (no effects so far)".to_string();
        }
        let mut out = String::from("    effects so far");
        if log.total > log.recent.len() {
            out.push_str(&format!(" (last {} of {})", log.recent.len(), log.total));
        }
        out.push_str(&format!(
            ", the test's clock now at {}:",
            self.runtime.now()
        ));
        for (at, effect) in &log.recent {
            out.push_str(&format!("\n      {at}  {effect}"));
        }
        out
    }

    fn instance(&self) -> Result<InstanceId, String> {
        self.instance
            .ok_or_else(|| "the test has not started a process".to_string())
    }

    /// Records effects and answers the action requests among them (and among the answers' effects).
    fn record(&mut self, effects: Vec<Effect>) -> Result<(), String> {
        let mut asked = VecDeque::new();
        let at = self.runtime.now();
        for effect in effects {
            self.log.note(at, effect, &mut asked);
        }
        self.answer(asked)
    }

    /// Answers action requests by the `given … returns …` rules, in order, and those the answers make.
    fn answer(&mut self, mut asked: VecDeque<Effect>) -> Result<(), String> {
        while let Some(effect) = asked.pop_front() {
            let Effect::ActionRequested {
                request, action, ..
            } = effect
            else {
                continue;
            };
            let Some(value) = self.answers.get(&*action) else {
                return Err(format!(
                    "the process asked the host to perform `{action}`; say what it returns with `given \
                     {action} returns …`"
                ));
            };
            let more = self
                .runtime
                .action_result(request, Ok(value))
                .map_err(|e| format!("answering `{action}` failed: {e}"))?;
            let at = self.runtime.now();
            for effect in more {
                self.log.note(at, effect, &mut asked);
            }
        }
        Ok(())
    }

    /// Moves the clock to `at`, firing the timers due by then. For an event at `at` (`for_event`), those due at
    /// `at` itself fire after the event, as a host's do (see `Runtime::advance_before`): a task completed at its due
    /// time is on time.
    fn advance_to(&mut self, at: Option<i64>, for_event: bool) -> Result<(), String> {
        if let Some(at) = at {
            // The runtime's clock never goes back (a host's late event is handled at the present time); a test
            // that names an earlier time has its steps in the wrong order.
            let now = self.runtime.now();
            if at < now.0 {
                return Err(format!(
                    "{} is before the test's clock, which is already at {}\n(time only moves forward: put \
                     the statements in time order)",
                    show_time(at),
                    show_time(now.0)
                ));
            }
            // The clock moves from one wake-up to the next, and the actions asked for at each are answered then,
            // as a host would answer them: a timer started after an answer counts from the request, not from
            // the end of the `advance`. Effects are taken as they come (a month of a reminder every second is
            // millions of them).
            let mut last = None;
            loop {
                let next = self.runtime.next_wakeup().filter(|next| next.0 < at);
                // A wake-up that does not move on (an instance held after an error) ends the stepping.
                let to = match next {
                    Some(next) if last.is_none_or(|last| next > last) => next,
                    _ => Time(at),
                };
                let mut asked = VecDeque::new();
                let (runtime, log) = (&mut self.runtime, &mut self.log);
                let note = |effects: proc_runtime::Effects<'_>| {
                    // Each at the time it was due.
                    let at = effects.at();
                    for effect in effects.iter() {
                        log.note(at, effect.to_effect(), &mut asked);
                    }
                };
                if for_event && to.0 >= at {
                    runtime.advance_before_each(to, note)
                } else {
                    runtime.advance_each(to, note)
                }
                .map_err(|e| e.to_string())?;
                self.answer(asked)?;
                if to.0 >= at {
                    break;
                }
                last = Some(to);
            }
        }
        Ok(())
    }

    fn open_tasks(&mut self, steps: &[u32]) -> Result<Vec<TaskInfo>, String> {
        let instance = self.instance()?;
        let tasks = self
            .runtime
            .open_tasks(instance)
            .map_err(|e| e.to_string())?;
        Ok(tasks
            .into_iter()
            .filter(|t| steps.contains(&t.task.step))
            .collect())
    }

    fn all_open(&mut self) -> String {
        let Some(instance) = self.instance else {
            return "none".to_string();
        };
        match self.runtime.open_tasks(instance) {
            Ok(tasks) if tasks.is_empty() => "none".to_string(),
            Ok(tasks) => tasks
                .iter()
                .map(describe_task)
                .collect::<Vec<_>>()
                .join("; "),
            Err(e) => e.to_string(),
        }
    }

    fn actor(c: &TestCompletion) -> Actor {
        runtime_actor(&c.actor)
    }

    /// One work-item operation on `task` (none for `redo`, which names its step).
    fn manage_once(
        &mut self,
        m: &TestManage,
        task: Option<TaskRef>,
        instance: InstanceId,
    ) -> Result<Vec<Effect>, Error> {
        let who = runtime_actor(&m.actor);
        let Some(task) = task else {
            return self.runtime.redo(instance, &m.step, &who);
        };
        match m.op {
            ManageOp::Claim => self.runtime.claim(task, &who),
            ManageOp::Release => self.runtime.release(task, &who),
            ManageOp::Delegate => {
                let to = m.to.as_ref().map(runtime_actor).unwrap_or_default();
                self.runtime.delegate(task, &who, &to)
            }
            ManageOp::Reassign => {
                self.runtime
                    .reassign(task, &who, m.role.as_deref().unwrap_or_default())
            }
            ManageOp::Suspend => self.runtime.suspend(task, &who),
            ManageOp::Resume => self.runtime.resume(task, &who),
            ManageOp::Skip => self.runtime.skip(task, &who),
            ManageOp::Redo => self.runtime.redo(instance, &m.step, &who),
        }
    }

    /// The tasks a work-item operation may act on: the step's open tasks, or for `redo` the case itself (`None`).
    fn manage_targets(&mut self, m: &TestManage) -> Result<Vec<Option<TaskRef>>, String> {
        if m.op == ManageOp::Redo {
            return Ok(vec![None]);
        }
        let tasks = self.open_tasks(&m.step_ids)?;
        if tasks.is_empty() {
            return Err(format!(
                "expected an open task for step `{}` to {}\nfound none; open tasks: {}",
                m.step,
                m.op.word(),
                self.all_open()
            ));
        }
        Ok(tasks.into_iter().map(|t| Some(t.task)).collect())
    }

    fn step(&mut self, action: &TestAction) -> Result<(), String> {
        match &action.kind {
            TestActionKind::Start { process, input, at } => {
                self.advance_to(*at, true)?;
                let (id, effects) = self
                    .runtime
                    .start(process, input)
                    .map_err(|e| format!("the process could not start: {e}"))?;
                self.instance = Some(id);
                self.record(effects)
            }
            TestActionKind::Complete(c) => {
                self.advance_to(c.at, true)?;
                let tasks = self.open_tasks(&c.step_ids)?;
                if tasks.is_empty() {
                    return Err(format!(
                        "expected an open task for step `{}` to complete\nfound none; open tasks: {}",
                        c.step,
                        self.all_open()
                    ));
                }
                let who = Run::actor(c);
                let mut refusals = Vec::new();
                for task in &tasks {
                    match self.runtime.complete(task.task, &who, &c.outputs) {
                        Ok(effects) => return self.record(effects),
                        Err(error) => refusals.push(error.to_string()),
                    }
                }
                Err(format!(
                    "expected {} to complete step `{}`\nbut it was refused: {}",
                    who.id,
                    c.step,
                    refusals.join("; ")
                ))
            }
            TestActionKind::ExpectRejected(c) => {
                self.advance_to(c.at, true)?;
                let instance = self.instance()?;
                let tasks = self.open_tasks(&c.step_ids)?;
                if tasks.is_empty() {
                    return Err(format!(
                        "expected a completion of step `{}` to be refused\nbut no task for it is open, so there \
                         is nothing to refuse (`expect no task {}` checks that it is closed); open tasks: {}",
                        c.step,
                        c.step,
                        self.all_open()
                    ));
                }
                let who = Run::actor(c);
                let before = self.runtime.snapshot(instance).map_err(|e| e.to_string())?;
                for task in &tasks {
                    match self.runtime.complete(task.task, &who, &c.outputs) {
                        Ok(effects) => {
                            let _ = self.record(effects);
                            return Err(format!(
                                "expected {} to be refused for step `{}`\nbut the completion of task {} was \
                                 accepted",
                                who.id, c.step, task.task.task
                            ));
                        }
                        Err(error) => refused_because(&error, c.because.as_deref())?,
                    }
                }
                let after = self.runtime.snapshot(instance).map_err(|e| e.to_string())?;
                if before != after {
                    return Err(
                        "the refused completion changed the instance's state (its snapshot differs)".into(),
                    );
                }
                Ok(())
            }
            TestActionKind::Manage(m) => {
                self.advance_to(m.at, true)?;
                let instance = self.instance()?;
                let mut refusals = Vec::new();
                for task in self.manage_targets(m)? {
                    match self.manage_once(m, task, instance) {
                        Ok(effects) => return self.record(effects),
                        Err(error) => refusals.push(error.to_string()),
                    }
                }
                Err(format!(
                    "expected {} to {} step `{}`\nbut it was refused: {}",
                    m.actor.id,
                    m.op.word(),
                    m.step,
                    refusals.join("; ")
                ))
            }
            TestActionKind::ExpectRejectedManage(m) => {
                self.advance_to(m.at, true)?;
                let instance = self.instance()?;
                let before = self.runtime.snapshot(instance).map_err(|e| e.to_string())?;
                for task in self.manage_targets(m)? {
                    match self.manage_once(m, task, instance) {
                        Ok(effects) => {
                            let _ = self.record(effects);
                            return Err(format!(
                                "expected {} to be refused to {} step `{}`\nbut it was accepted",
                                m.actor.id,
                                m.op.word(),
                                m.step
                            ));
                        }
                        Err(error) => refused_because(&error, m.because.as_deref())?,
                    }
                }
                let after = self.runtime.snapshot(instance).map_err(|e| e.to_string())?;
                if before != after {
                    return Err(format!(
                        "the refused {} changed the instance's state (its snapshot differs)",
                        m.op.word()
                    ));
                }
                Ok(())
            }
            TestActionKind::Signal { name, payload, at } => {
                self.advance_to(*at, true)?;
                let instance = self.instance()?;
                let effects = self
                    .runtime
                    .signal(instance, name, payload)
                    .map_err(|e| format!("the signal was refused: {e}"))?;
                self.record(effects)
            }
            TestActionKind::AdvanceBy(ms) => {
                if *ms <= 0 {
                    return Err(
                        "`advance` needs a positive duration (time only moves forward)".to_string(),
                    );
                }
                let to = self.runtime.now().plus(*ms);
                self.advance_to(Some(to.0), false)
            }
            TestActionKind::AdvanceTo(at) => self.advance_to(Some(*at), false),
            TestActionKind::ExpectTask {
                step,
                step_ids,
                role,
                person,
                due,
            } => {
                let tasks = self.open_tasks(step_ids)?;
                let matches = |t: &TaskInfo| {
                    role.as_ref()
                        .is_none_or(|r| t.role.as_deref() == Some(r.as_str()))
                        && person.as_ref().is_none_or(|p| t.person.as_ref() == Some(p))
                        && due.is_none_or(|d| t.due == Some(Time(d)))
                };
                if tasks.iter().any(matches) {
                    return Ok(());
                }
                let mut wanted = format!("a task for step `{step}`");
                if let Some(role) = role {
                    wanted.push_str(&format!(" for {role}"));
                }
                if let Some(person) = person {
                    wanted.push_str(&format!(" for {person}"));
                }
                if let Some(due) = due {
                    wanted.push_str(&format!(" due {}", show_time(*due)));
                }
                Err(format!(
                    "expected {wanted}\nopen tasks: {}",
                    self.all_open()
                ))
            }
            TestActionKind::ExpectNoTask { step, step_ids } => {
                let tasks = self.open_tasks(step_ids)?;
                match tasks.first() {
                    None => Ok(()),
                    Some(t) => Err(format!(
                        "expected no open task for step `{step}`\nfound {}",
                        describe_task(t)
                    )),
                }
            }
            TestActionKind::ExpectEscalated {
                step, role, none, ..
            } => {
                let what = match role {
                    Some(role) => {
                        format!("escalation of step `{step}` to {role} (by its escalation ladder)")
                    }
                    None => format!("escalation of step `{step}` (by its escalation ladder)"),
                };
                Log::expect(
                    &mut self.log.escalated,
                    *none,
                    |(s, r)| s == step && role.as_ref().is_none_or(|role| role == r),
                    &what,
                    |(s, r)| format!("`{s}` to {r}"),
                )
            }
            TestActionKind::ExpectNotified {
                role,
                message,
                none,
            } => {
                let what = match message {
                    Some(message) => format!("notification to {role} saying {message:?}"),
                    None => format!("notification to {role}"),
                };
                let wanted = |(r, m): &(String, String)| {
                    r == role && message.as_ref().is_none_or(|wanted| wanted == m)
                };
                if *none {
                    return Log::expect(&mut self.log.notified, true, wanted, &what, |(_, m)| {
                        format!("{m:?}")
                    });
                }
                if Log::take(&mut self.log.notified, wanted) {
                    return Ok(());
                }
                // What was sent to the role and not matched yet, so a wrong word shows at once.
                let sent = Log::unmatched(
                    &self.log.notified,
                    |(r, _)| r == role,
                    |(_, message)| format!("{message:?}"),
                );
                let happened = if sent.is_empty() {
                    "none was sent".to_string()
                } else {
                    format!("sent to {role}: {}", sent.join(", "))
                };
                Err(format!(
                    "expected a {what} (not already matched by an earlier `expect notified`)\n{happened}"
                ))
            }
            TestActionKind::ExpectBreached { step, none } => {
                let what = match step {
                    Some(step) => format!("missed deadline of step `{step}`"),
                    None => {
                        "missed deadline of the whole case (the process's `within`)".to_string()
                    }
                };
                let key = step.clone().unwrap_or_default();
                Log::expect(
                    &mut self.log.breached,
                    *none,
                    |(s, _)| *s == key,
                    &what,
                    |(s, _)| {
                        if s.is_empty() {
                            "the case's deadline".to_string()
                        } else {
                            format!("step `{s}`")
                        }
                    },
                )
            }
            TestActionKind::ExpectFlagged { message, none } => {
                let what = match message {
                    Some(message) => format!("flag saying {message:?}"),
                    None => "flag".to_string(),
                };
                Log::expect(
                    &mut self.log.flagged,
                    *none,
                    |(m, _)| message.as_ref().is_none_or(|wanted| wanted == m),
                    &what,
                    |(m, _)| format!("{m:?}"),
                )
            }
            TestActionKind::ExpectKpi { name, value, met } => {
                let instance = self.instance()?;
                let kpis = self.runtime.kpis(instance).map_err(|e| e.to_string())?;
                let Some(kpi) = kpis.iter().find(|k| &*k.name == name.as_str()) else {
                    return Err(format!(
                        "expected KPI `{name}` of the process\nit does not measure this process"
                    ));
                };
                let value_ok = value.is_none_or(|v| kpi.value == Some(v));
                // `missed` also holds while the case runs, once the target is out of reach (a count past it).
                let met_ok = match met {
                    None => true,
                    Some(true) => kpi.met == Some(true),
                    Some(false) => kpi.met == Some(false) || kpi.missed,
                };
                // `expect kpi name` alone: its value is known.
                let known_ok = value.is_some() || met.is_some() || kpi.value.is_some();
                if value_ok && met_ok && known_ok {
                    return Ok(());
                }
                let mut wanted = Vec::new();
                if !known_ok {
                    wanted.push("known".to_string());
                }
                if let Some(v) = value {
                    #[allow(clippy::cast_precision_loss, reason = "values are far below 2^52")]
                    wanted.push(kpi.unit.format(*v as f64));
                }
                match met {
                    Some(true) => wanted.push("meeting its target".to_string()),
                    Some(false) => wanted.push("missing its target".to_string()),
                    None => {}
                }
                Err(format!(
                    "expected KPI `{name}` to be {}\nit is {kpi}",
                    wanted.join(", ")
                ))
            }
            TestActionKind::ExpectRejectedSignal {
                name,
                payload,
                at,
                because,
            } => {
                self.advance_to(*at, true)?;
                let instance = self.instance()?;
                let before = self.runtime.snapshot(instance).map_err(|e| e.to_string())?;
                match self.runtime.signal(instance, name, payload) {
                    Ok(effects) => {
                        let _ = self.record(effects);
                        return Err(format!(
                            "expected the signal `{name}` to be refused\nbut it was accepted"
                        ));
                    }
                    Err(error) => refused_because(&error, because.as_deref())?,
                }
                let after = self.runtime.snapshot(instance).map_err(|e| e.to_string())?;
                if before != after {
                    return Err(
                        "the refused signal changed the instance's state (its snapshot differs)"
                            .into(),
                    );
                }
                Ok(())
            }
            TestActionKind::ExpectCompleted(value) => {
                let instance = self.instance()?;
                let status = self
                    .runtime
                    .instance_status(instance)
                    .map_err(|e| e.to_string())?;
                if status != InstanceStatus::Completed {
                    return Err(format!(
                        "expected the process to have completed\nit is {}; open tasks: {}",
                        status_words(status),
                        self.all_open()
                    ));
                }
                if let Some(expected) = value {
                    // The result, or for a process without one, the reason it completed with.
                    let result = self.log.completed.clone().flatten();
                    if result.as_ref() != Some(expected) {
                        return Err(format!(
                            "expected the process to complete with {expected}\nit completed with {}",
                            result.map_or("no value".to_string(), |v| v.to_string())
                        ));
                    }
                }
                Ok(())
            }
            TestActionKind::ExpectFailed => {
                let instance = self.instance()?;
                let status = self
                    .runtime
                    .instance_status(instance)
                    .map_err(|e| e.to_string())?;
                if status == InstanceStatus::Failed {
                    Ok(())
                } else {
                    Err(format!(
                        "expected the process to have failed\nit is {}",
                        status_words(status)
                    ))
                }
            }
            TestActionKind::GivenManager { person, manager } => {
                self.directory.set_manager(person, manager);
                self.runtime.set_directory(Arc::new(self.directory.clone()));
                Ok(())
            }
            TestActionKind::GivenAction { action, value } => {
                self.answers.insert(action.clone(), value.clone());
                Ok(())
            }
        }
    }
}

fn status_words(status: InstanceStatus) -> &'static str {
    match status {
        InstanceStatus::Running => "still running",
        InstanceStatus::Completed => "completed",
        InstanceStatus::Failed => "failed",
        InstanceStatus::Cancelled => "cancelled",
    }
}

/// `expect rejected … because "text"`: the refusal's message must contain the text.
fn refused_because(error: &Error, because: Option<&str>) -> Result<(), String> {
    let message = error.to_string();
    match because {
        Some(text) if !message.contains(text) => Err(format!(
            "expected a refusal because \"{text}\"\nbut it was refused with: {message}"
        )),
        _ => Ok(()),
    }
}

fn runtime_actor(actor: &TestActor) -> Actor {
    Actor {
        id: actor.id.clone(),
        roles: actor.roles.clone(),
        skills: actor.skills.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_start_is_a_monday_morning() {
        let start: Time = DEFAULT_START.parse().unwrap();
        assert_eq!(start.to_string(), "2026-01-05T09:00:00Z");
    }
}
