//! `procc run`: runs a compiled module on a stream of events, as a host would, and prints the effects.
//!
//! Events are JSON objects, one per line (see `docs/cli.md`): `{"at": TIME, "type": "complete", "step":
//! "assess", "by": "ann", "roles": ["Agent"], "outputs": {...}}`, `"signal"`, `"advance"`, `"cancel"`,
//! `"action_result"`, `"claim"`, `"release"`, `"delegate"`, `"reassign"`, `"suspend"`, `"resume"`, `"skip"`,
//! `"redo"` and `"start"`.

use crate::files::errln;
use proc_runtime::{
    Actor, Effect, Error, InstanceId, Module, Options, RequestRef, Runtime, StaticDirectory,
    TaskRef, Time, Waiting,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// What `procc run` was asked to do.
pub struct RunArgs {
    /// The module file.
    pub module: PathBuf,
    /// The process to start first.
    pub process: Option<String>,
    /// Its input file.
    pub input: Option<PathBuf>,
    /// The events file.
    pub events: Option<PathBuf>,
    /// When the first instance starts.
    pub start_at: Option<String>,
    /// Advance to this time at the end.
    pub until: Option<String>,
    /// Print JSON lines.
    pub json: bool,
    /// A directory file.
    pub directory: Option<PathBuf>,
    /// Roles whose holders manage every task.
    pub admin_roles: Vec<String>,
}

fn read_text(path: &Path) -> Result<String, String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

/// The members each event type takes (besides `type`, `at` and `instance`), and which of them are lists of texts.
const EVENT_MEMBERS: &[(&str, &[&str])] = &[
    ("advance", &[]),
    ("start", &["process", "input"]),
    (
        "complete",
        &["task", "step", "by", "roles", "skills", "outputs"],
    ),
    ("claim", &["task", "step", "by", "roles", "skills"]),
    ("release", &["task", "step", "by", "roles", "skills"]),
    ("suspend", &["task", "step", "by", "roles", "skills"]),
    ("resume", &["task", "step", "by", "roles", "skills"]),
    ("skip", &["task", "step", "by", "roles", "skills"]),
    (
        "delegate",
        &[
            "task",
            "step",
            "by",
            "roles",
            "skills",
            "to",
            "to_roles",
            "to_skills",
        ],
    ),
    (
        "reassign",
        &["task", "step", "by", "roles", "skills", "role"],
    ),
    ("redo", &["step", "by", "roles", "skills"]),
    ("signal", &["signal", "payload"]),
    ("cancel", &["reason"]),
    ("action_result", &["request", "action", "result", "error"]),
];

/// The members each event type cannot do without.
const EVENT_NEEDS: &[(&str, &[&str])] = &[
    ("start", &["process"]),
    ("complete", &["by"]),
    ("claim", &["by"]),
    ("release", &["by"]),
    ("suspend", &["by"]),
    ("resume", &["by"]),
    ("skip", &["by"]),
    ("delegate", &["by", "to"]),
    ("reassign", &["by", "role"]),
    ("redo", &["step", "by"]),
    ("signal", &["signal"]),
    ("action_result", &["request"]),
];

/// A name an event gives that the module does not have: the message, with the closest name it has.
fn unknown_name<'a>(
    what: &str,
    name: &str,
    known: impl Iterator<Item = &'a str> + Clone,
) -> String {
    let hint = proc_compiler::suggest::closest(name, known.clone())
        .map_or_else(String::new, |close| format!("; did you mean \"{close}\"?"));
    let known: Vec<String> = known.map(|k| format!("\"{k}\"")).collect();
    let list = if known.is_empty() {
        "none".to_string()
    } else {
        known.join(", ")
    };
    format!("the module has no {what} \"{name}\" (it has {list}){hint}")
}

/// One event line's shape: a known type, only members that type takes and those it needs, times that parse,
/// lists of texts, and names (processes, steps, signals, actions, roles) the module has.
fn check_event(event: &Value, meta: &proc_abi::Metadata) -> Result<(), String> {
    let Some(object) = event.as_object() else {
        return Err("each line must be one JSON object".to_string());
    };
    let kind = match object.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(_) => return Err("\"type\" must be a text".to_string()),
        None => return Err("each event needs a \"type\"".to_string()),
    };
    let Some((_, members)) = EVENT_MEMBERS.iter().find(|(name, _)| *name == kind) else {
        let types: Vec<&str> = EVENT_MEMBERS.iter().map(|(name, _)| *name).collect();
        let hint = proc_compiler::suggest::closest(kind, types.iter().copied())
            .map_or_else(String::new, |close| format!("; did you mean \"{close}\"?"));
        return Err(format!(
            "unknown event type \"{kind}\" (one of {}){hint}",
            types.join(", ")
        ));
    };
    for (member, value) in object {
        if member == "instance" && kind == "advance" {
            return Err(
                "an \"advance\" moves the clock of every instance, so it takes no \"instance\""
                    .to_string(),
            );
        }
        if member == "instance" && kind == "start" {
            return Err(
                "a \"start\" begins a new instance, so it takes no \"instance\"".to_string(),
            );
        }
        let known = ["type", "at", "instance"].contains(&member.as_str())
            || members.contains(&member.as_str());
        if !known {
            let all = members.iter().copied().chain(["type", "at", "instance"]);
            let hint = proc_compiler::suggest::closest(member, all)
                .map_or_else(String::new, |close| format!("; did you mean \"{close}\"?"));
            let takes = if members.is_empty() {
                "it takes only \"type\" and \"at\"".to_string()
            } else {
                format!(
                    "it takes {}",
                    members
                        .iter()
                        .map(|m| format!("\"{m}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(format!(
                "an event of type \"{kind}\" has no member \"{member}\" ({takes}){hint}"
            ));
        }
        let is_list = ["roles", "skills", "to_roles", "to_skills"].contains(&member.as_str());
        let texts = value
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_string));
        if is_list && !texts {
            return Err(format!(
                "\"{member}\" must be a list of texts, e.g. [\"Agent\"]"
            ));
        }
        let is_text = [
            "at", "by", "to", "step", "process", "signal", "action", "role", "reason", "error",
        ]
        .contains(&member.as_str());
        if is_text && !value.is_string() {
            return Err(format!("\"{member}\" must be a text"));
        }
        let is_number = ["task", "request", "instance"].contains(&member.as_str());
        if is_number && value.as_u64().and_then(|n| u32::try_from(n).ok()).is_none() {
            return Err(format!(
                "\"{member}\" must be a number such as 1 (the {member}'s number), not {value}"
            ));
        }
    }
    if let Some((_, needs)) = EVENT_NEEDS.iter().find(|(name, _)| *name == kind) {
        if let Some(missing) = needs.iter().find(|m| !object.contains_key(**m)) {
            return Err(format!("a \"{kind}\" event needs \"{missing}\""));
        }
    }
    if kind == "action_result" && !object.contains_key("action") {
        match meta.actions.len() {
            0 => {
                return Err(
                    "the module has no actions, so nothing waits for an action's result"
                        .to_string(),
                );
            }
            1 => {}
            _ => {
                return Err(
                    "an \"action_result\" needs \"action\", the action's name (the module has more than one \
                     action)"
                        .to_string(),
                );
            }
        }
    }
    // Members that name something of the module; each is also the word for what it names.
    for member in ["role", "process", "step", "signal", "action"] {
        let Some(Value::String(name)) = object.get(member) else {
            continue;
        };
        let known: Vec<&str> = match member {
            "role" => meta.roles.iter().map(|r| r.name.as_str()).collect(),
            "process" => meta.processes.iter().map(|p| p.name.as_str()).collect(),
            "step" => meta.steps.iter().map(|s| s.name.as_str()).collect(),
            "signal" => meta.signals.iter().map(|s| s.name.as_str()).collect(),
            _ => meta.actions.iter().map(|a| a.name.as_str()).collect(),
        };
        if !known.contains(&name.as_str()) {
            return Err(unknown_name(member, name, known.iter().copied()));
        }
    }
    if kind == "action_result" {
        match (object.contains_key("result"), object.contains_key("error")) {
            (true, true) => {
                return Err(
                    "an \"action_result\" gives \"result\" (the action succeeded) or \"error\" (it failed), \
                     not both"
                        .to_string(),
                );
            }
            (false, false) => {
                return Err(
                    "an \"action_result\" needs \"result\" (what the action gave; null if it gives nothing) or \
                     \"error\" (why it failed)"
                        .to_string(),
                );
            }
            _ => {}
        }
    }
    if let Some(Value::String(at)) = object.get("at") {
        parse_time(at, "\"at\"")?;
    }
    Ok(())
}

/// Why a JSON text was not read: serde_json's reason, except for nesting deeper than it reads (128 levels), which
/// is valid JSON.
fn json_problem(error: &serde_json::Error) -> String {
    let reason = error.to_string();
    if reason.starts_with("recursion limit exceeded") {
        format!(
            "it nests arrays and objects more than 128 deep (line {}, column {}), more than the runtime reads",
            error.line(),
            error.column()
        )
    } else if reason.contains("is given twice in one object") {
        reason
    } else {
        format!("it is not valid JSON: {reason}")
    }
}

fn parse_time(text: &str, what: &str) -> Result<Time, String> {
    let time = text.parse::<Time>().map_err(|e| format!("{what}: {e}"))?;
    // The runtime's clock starts at the epoch and never goes back, so an earlier time would silently become it.
    if time.millis() < 0 {
        return Err(format!(
            "{what}: `{text}` is before 1970-01-01T00:00:00Z, the earliest time the runtime's clock can show"
        ));
    }
    Ok(time)
}

fn directory(path: &Path) -> Result<StaticDirectory, String> {
    let text = read_text(path)?;
    let value: Value = crate::strict_json::from_str(&text)
        .map_err(|e| format!("`{}`: {}", path.display(), json_problem(&e)))?;
    let Value::Object(people) = value else {
        return Err(format!(
            "`{}` should be an object mapping person ids to {{\"roles\", \"skills\", \"manager\"}}",
            path.display()
        ));
    };
    let mut directory = StaticDirectory::default();
    for (id, person) in people {
        // Checked as strictly as an event line: a misspelt member would leave a person without their roles.
        let where_ = format!("`{}`: person \"{id}\"", path.display());
        let Value::Object(fields) = &person else {
            return Err(format!(
                "{where_} should be an object with \"roles\", \"skills\" and \"manager\""
            ));
        };
        for (key, value) in fields {
            match key.as_str() {
                "roles" | "skills" => {
                    let texts = value
                        .as_array()
                        .is_some_and(|items| items.iter().all(Value::is_string));
                    if !texts {
                        return Err(format!(
                            "{where_}: \"{key}\" must be a list of texts, e.g. [\"Agent\"]"
                        ));
                    }
                }
                "manager" if value.is_string() => {}
                "manager" => {
                    return Err(format!(
                        "{where_}: \"manager\" must be a person's id (a text)"
                    ));
                }
                other => {
                    let hint =
                        proc_compiler::suggest::closest(other, ["roles", "skills", "manager"])
                            .map_or_else(String::new, |close| {
                                format!("; did you mean \"{close}\"?")
                            });
                    return Err(format!(
                        "{where_} has no member \"{other}\" (a person has \"roles\", \"skills\" and \
                         \"manager\"){hint}"
                    ));
                }
            }
        }
        let list = |key: &str| -> Vec<String> {
            person
                .get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let roles = list("roles");
        let skills = list("skills");
        let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
        let skills: Vec<&str> = skills.iter().map(String::as_str).collect();
        let manager = person.get("manager").and_then(Value::as_str);
        directory = directory.with(&id, &roles, &skills, manager);
    }
    Ok(directory)
}

/// Prints effects and remembers what happened.
struct Printer {
    json: bool,
    failed: bool,
    /// The run starts more than one instance: headings say which one.
    several: bool,
}

impl Printer {
    fn heading(&self, at: Time, text: &str) {
        if !self.json {
            crate::files::write_stdout(&format!("{at}  {text}\n"));
        }
    }

    /// A heading for something that happened to `instance` (named when the run has several).
    fn heading_of(&self, at: Time, text: &str, instance: InstanceId) {
        if self.several {
            self.heading(at, &format!("{text} (instance {})", instance.0));
        } else {
            self.heading(at, text);
        }
    }

    /// Moves the clock to `to` and prints what the deadlines and timers due by then did, each under the time it
    /// was due. Returns whether anything happened. For an event at `to` (`for_event`), what is due at `to` itself
    /// happens after the event (see `Runtime::advance_before`): a task completed at its due time is on time.
    fn advance(&self, runtime: &mut Runtime, to: Time, for_event: bool) -> Result<bool, String> {
        let mut shown: Option<(Time, InstanceId)> = None;
        let print = |effects: proc_runtime::Effects<'_>| {
            let now = (effects.at(), effects.instance());
            if shown.is_none_or(|(at, instance)| at != now.0 || (self.several && instance != now.1))
            {
                self.heading_of(now.0, "time passes", now.1);
                shown = Some(now);
            }
            self.effects(&effects.to_vec(), effects.at());
        };
        if for_event {
            runtime.advance_before_each(to, print)
        } else {
            runtime.advance_each(to, print)
        }
        .map_err(|e| e.to_string())?;
        Ok(shown.is_some())
    }

    /// Prints the effects of something that happened at `time` (JSON lines carry it as `"time"`).
    fn effects(&self, effects: &[Effect], time: Time) {
        let mut out = String::new();
        for effect in effects {
            if self.json {
                let mut line = effect.to_json();
                if let Value::Object(fields) = &mut line {
                    fields.insert("time".to_string(), json!(time.to_string()));
                }
                out.push_str(&line.to_string());
            } else {
                out.push_str(&format!("    {effect}"));
            }
            out.push('\n');
        }
        crate::files::write_stdout(&out);
    }

    fn refused(&mut self, line: usize, error: &Error, time: Time) {
        self.failed = true;
        if self.json {
            let code = match error {
                Error::Rejected(r) => json!(r.code),
                _ => Value::Null,
            };
            crate::files::write_stdout(&format!(
                "{}\n",
                json!({"rejected": {"line": line, "code": code, "message": error.to_string(), "time": time.to_string()}})
            ));
        } else {
            crate::files::write_stdout(&format!("    refused (line {line}): {error}\n"));
        }
    }
}

fn actor(event: &Value, id_key: &str, roles_key: &str, skills_key: &str) -> Result<Actor, String> {
    let id = event
        .get(id_key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("needs \"{id_key}\": the id of the person acting"))?;
    let list = |key: &str| -> Vec<String> {
        event
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Actor {
        id: id.to_string(),
        roles: list(roles_key),
        skills: list(skills_key),
    })
}

fn u32_field(event: &Value, key: &str) -> Option<u32> {
    event
        .get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

/// The task an event means: `"task": N` (whose step must be `"step"`, if that is given too), or an open task of
/// `"step": NAME`: the one that is for `"by"` alone if there is one (the tasks of a `for each approver`), else
/// the oldest (give `"task"` to choose among several tasks of one step that are for a role).
fn task_of(
    runtime: &mut Runtime,
    instance: InstanceId,
    event: &Value,
) -> Result<Result<TaskRef, Error>, String> {
    // An ended case is refused as the runtime refuses any event for it, not as a wrong task number.
    if let Ok(status) = runtime.instance_status(instance) {
        if status != proc_runtime::InstanceStatus::Running {
            return Ok(Err(Error::Rejected(proc_runtime::Rejection {
                code: proc_abi::reject::INSTANCE_ENDED,
                instance,
                task: u32_field(event, "task"),
                message: format!(
                    "instance {instance} has already ended ({})",
                    status.as_str()
                ),
            })));
        }
    }
    let open = match runtime.open_tasks(instance) {
        Ok(open) => open,
        Err(error) => return Ok(Err(error)),
    };
    if let Some(number) = u32_field(event, "task") {
        let step = event.get("step").and_then(Value::as_str);
        return match open.iter().find(|t| t.task.task == number) {
            Some(t) if step.is_some_and(|step| step != &*t.step) => {
                Ok(Err(Error::Rejected(proc_runtime::Rejection {
                    code: proc_abi::reject::UNKNOWN_TASK,
                    instance,
                    task: Some(number),
                    message: format!(
                        "task {number} is `{}`, not `{}`: give the task's number or its step, or both alike",
                        t.step,
                        step.unwrap_or_default()
                    ),
                })))
            }
            Some(t) => Ok(Ok(t.task)),
            None => Ok(Err(Error::Rejected(proc_runtime::Rejection {
                code: proc_abi::reject::UNKNOWN_TASK,
                instance,
                task: Some(number),
                message: format!("instance {instance} has no open task {number}"),
            }))),
        };
    }
    let step = event
        .get("step")
        .and_then(Value::as_str)
        .ok_or("needs \"task\" (a task number) or \"step\" (a step name)")?;
    // The task of that step for this person, if one is theirs alone (the tasks of a `for each approver`);
    // else the oldest.
    let by = event.get("by").and_then(Value::as_str);
    let mine = open
        .iter()
        .find(|t| &*t.step == step && t.person.is_some() && t.person.as_deref() == by);
    match mine.or_else(|| open.iter().find(|t| &*t.step == step)) {
        Some(t) => Ok(Ok(t.task)),
        None => {
            let known = runtime
                .module()
                .metadata()
                .steps
                .iter()
                .any(|s| s.name == step);
            let open_now = if open.is_empty() {
                "none".to_string()
            } else {
                open.iter()
                    .map(|t| format!("task {} `{}`", t.task.task, t.step))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let message = if known {
                format!("instance {instance} has no open task for step `{step}` (open: {open_now})")
            } else {
                format!("the module has no step `{step}` (open in instance {instance}: {open_now})")
            };
            Ok(Err(Error::Rejected(proc_runtime::Rejection {
                code: proc_abi::reject::UNKNOWN_TASK,
                instance,
                task: None,
                message,
            })))
        }
    }
}

pub fn run(args: RunArgs) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(message) => {
            errln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(mut args: RunArgs) -> Result<ExitCode, String> {
    let stdin = |path: &Option<PathBuf>| path.as_deref().is_some_and(|p| p.as_os_str() == "-");
    if stdin(&args.input) && stdin(&args.events) {
        return Err(
            "`--input -` and `--events -` both name standard input, which can be read only once: put one of \
             them in a file"
                .to_string(),
        );
    }
    let until = args
        .until
        .as_deref()
        .map(|text| parse_time(text, "--until"))
        .transpose()?;
    let bytes = std::fs::read(&args.module)
        .map_err(|e| format!("cannot read `{}`: {e}", args.module.display()))?;
    let module = Module::from_bytes(&bytes).map_err(|e| e.to_string())?;
    if args.input.is_some() && args.process.is_none() {
        // `--input` starts a case: of the module's one process, or of the one `--process` names.
        match module.metadata().processes.as_slice() {
            [only] => args.process = Some(only.name.clone()),
            processes => {
                let names: Vec<&str> = processes.iter().map(|p| p.name.as_str()).collect();
                return Err(format!(
                    "`--input` is the input of the process `--process` starts, and no `--process` was given (the \
                     module has {}: {})",
                    names.len(),
                    names.join(", ")
                ));
            }
        }
    }
    if args.process.is_none() && args.events.is_none() {
        return Err(
            "nothing to run: give `--process NAME` (with `--input FILE`) to start a case, `--events FILE` with \
             the events to send, or both"
                .to_string(),
        );
    }
    let options = Options {
        admin_roles: args.admin_roles.clone(),
        ..Options::default()
    };
    let mut runtime = Runtime::with_options(&module, options).map_err(|e| match e {
        Error::UnknownName {
            what: "role",
            name,
            known,
        } => {
            let hint = proc_compiler::suggest::closest(&name, known.iter().map(String::as_str))
                .map_or_else(String::new, |close| format!("; did you mean `{close}`?"));
            format!(
                "`--admin-role {name}`: the module has no role `{name}` (its roles: {}){hint}",
                known.join(", ")
            )
        }
        other => other.to_string(),
    })?;
    if let Some(path) = &args.directory {
        runtime.set_directory(Arc::new(directory(path)?));
    }
    let events: Vec<(usize, Value)> = match &args.events {
        Some(path) => {
            let text = read_text(path)?;
            let mut events = Vec::new();
            for (index, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with("//") {
                    continue;
                }
                let value: Value = crate::strict_json::from_str(line).map_err(|e| {
                    // The line is read on its own: its "line 1" is the file's line `index + 1`.
                    let problem = json_problem(&e)
                        .replace(" at line 1 column ", " at column ")
                        .replace("(line 1, column ", "(column ");
                    format!("{}:{}: {problem}", path.display(), index + 1)
                })?;
                if !value.is_object() {
                    return Err(format!(
                        "{}:{}: each line must be one JSON object",
                        path.display(),
                        index + 1
                    ));
                }
                // Every line is checked before anything runs: a misspelt member must not be read as absent.
                check_event(&value, module.metadata())
                    .map_err(|e| format!("{}:{}: {e}", path.display(), index + 1))?;
                events.push((index + 1, value));
            }
            events
        }
        None => Vec::new(),
    };
    let first_at = events
        .iter()
        .find_map(|(_, e)| e.get("at").and_then(Value::as_str).map(str::to_string));
    let start_at = match (&args.start_at, &first_at) {
        (Some(text), _) => parse_time(text, "--start-at")?,
        (None, Some(text)) => parse_time(text, "the first event's \"at\"")?,
        (None, None) => parse_time("2026-01-01T00:00:00Z", "default start")?,
    };
    // Time only moves forward: an event dated before the one above it is a mistake in the file (a host would
    // have it handled at the later time, which the printed effects would not show).
    let mut clock = (start_at, None);
    for (line, event) in &events {
        let Some(text) = event.get("at").and_then(Value::as_str) else {
            continue;
        };
        let at = parse_time(text, "\"at\"")?;
        if at < clock.0 {
            let after = match clock.1 {
                Some(before) => format!("the event on line {before}"),
                None => "`--start-at`".to_string(),
            };
            return Err(format!(
                "{}:{line}: \"at\" {at} is before {after} ({}): put the events in time order",
                args.events
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                clock.0
            ));
        }
        clock = (at, Some(*line));
    }
    if let Some(until) = until {
        if until < clock.0 {
            let after = match clock.1 {
                Some(line) => format!("the event on line {line}"),
                None => "the start".to_string(),
            };
            return Err(format!(
                "`--until` {until} is before {after} ({}): the clock only moves forward",
                clock.0
            ));
        }
    }
    let mut printer = Printer {
        json: args.json,
        failed: false,
        several: events
            .iter()
            .any(|(_, e)| e.get("type").and_then(Value::as_str) == Some("start")),
    };
    printer.advance(&mut runtime, start_at, false)?;
    let mut current: Option<InstanceId> = None;
    if let Some(process) = &args.process {
        let input = match &args.input {
            Some(path) => {
                let text = read_text(path)?;
                crate::strict_json::from_str(&text)
                    .map_err(|e| format!("`{}`: {}", path.display(), json_problem(&e)))?
            }
            None => {
                let params = module
                    .metadata()
                    .processes
                    .iter()
                    .find(|p| &p.name == process)
                    .map(|p| p.params.iter().map(|f| f.name.as_str()).collect::<Vec<_>>())
                    .unwrap_or_default();
                if !params.is_empty() {
                    return Err(format!(
                        "process `{process}` takes {}, and no `--input` was given: give a JSON file with them, \
                         e.g. `--input input.json`",
                        params
                            .iter()
                            .map(|p| format!("`{p}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                json!({})
            }
        };
        match runtime.start(process, &input) {
            Ok((id, effects)) => {
                printer.heading_of(runtime.now(), &format!("start {process}"), id);
                current = Some(id);
                printer.effects(&effects, runtime.now());
            }
            Err(error) => {
                errln!("error: {error}");
                // A process the module does not have is a mistake in the command line (exit 2, as for a
                // missing file); input the process refuses is a failed run (exit 1).
                let usage = matches!(error, proc_runtime::Error::UnknownProcess { .. });
                return Ok(ExitCode::from(if usage { 2 } else { 1 }));
            }
        }
    }
    for (line, event) in &events {
        let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
        if let Some(at) = event.get("at").and_then(Value::as_str) {
            let at = parse_time(at, &format!("line {line}"))?;
            printer.advance(&mut runtime, at, kind != "advance")?;
        }
        let instance = match u32_field(event, "instance") {
            Some(n) => Some(InstanceId(u64::from(n))),
            None => current,
        };
        let describe = |e: &str| match &args.events {
            Some(path) => format!("{}:{line}: {e}", path.display()),
            None => format!("line {line}: {e}"),
        };
        let result: Result<Vec<Effect>, Error> = match kind {
            "advance" => Ok(Vec::new()),
            "start" => {
                let process = event
                    .get("process")
                    .and_then(Value::as_str)
                    .ok_or_else(|| describe("a \"start\" needs \"process\""))?;
                let input = event.get("input").cloned().unwrap_or(Value::Null);
                let started = runtime.start(process, &input);
                match &started {
                    Ok((id, _)) => {
                        printer.heading_of(runtime.now(), &format!("start {process}"), *id)
                    }
                    Err(_) => printer.heading(runtime.now(), &format!("start {process}")),
                }
                started.map(|(id, effects)| {
                    current = Some(id);
                    effects
                })
            }
            _ => {
                let instance = instance.ok_or_else(|| {
                    describe("no instance is running: give --process, or a \"start\" event first")
                })?;
                apply(&mut runtime, &mut printer, instance, kind, event)
                    .map_err(|e| describe(&e))?
            }
        };
        match result {
            Ok(effects) => printer.effects(&effects, runtime.now()),
            Err(error) => printer.refused(*line, &error, runtime.now()),
        }
    }
    if let Some(until) = until {
        if !printer.advance(&mut runtime, until, false)? {
            printer.heading(until, "time passes: nothing was due");
        }
    }
    if !args.json {
        for index in 1..=runtime.instance_count() {
            let id = InstanceId(u64::try_from(index).unwrap_or(0));
            if let Ok(info) = runtime.status(id) {
                let open: Vec<String> = info
                    .tasks
                    .iter()
                    .map(|t| format!("task {} ({})", t.task.task, t.step))
                    .collect();
                let tasks = if open.is_empty() {
                    String::new()
                } else {
                    format!("; open: {}", open.join(", "))
                };
                let waits: Vec<String> = info
                    .waiting
                    .iter()
                    .map(|w| match w {
                        Waiting::Signal { signal, until } => match until {
                            Some(until) => format!("signal {signal} (until {until})"),
                            None => format!("signal {signal}"),
                        },
                        Waiting::Action { request, action } => {
                            format!("action {action} (request {})", request.request)
                        }
                        Waiting::Time { until } => format!("the time {until}"),
                    })
                    .collect();
                let waits = if waits.is_empty() {
                    String::new()
                } else {
                    format!("; waiting for {}", waits.join(", "))
                };
                let wake = info
                    .next_wakeup
                    .map_or_else(String::new, |t| format!("; next wake-up {t}"));
                errln!(
                    "instance {id} ({}): {:?}{tasks}{waits}{wake}",
                    info.process,
                    info.status
                );
            }
        }
    }
    print_kpis(&runtime, args.json);
    Ok(if printer.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints every instance's KPI values, then a summary of each KPI over the instances whose value is final: only
/// the KPIs that measure an instance of the run (a run of one process says nothing of the others' KPIs).
fn print_kpis(runtime: &Runtime, json: bool) {
    let kpis = &runtime.module().metadata().kpis;
    if kpis.is_empty() {
        return;
    }
    let mut all: Vec<Vec<proc_runtime::KpiValue>> = vec![Vec::new(); kpis.len()];
    let mut measured = vec![false; kpis.len()];
    let mut out = String::new();
    if !json {
        out.push_str("\nKPIs\n");
    }
    for index in 1..=runtime.instance_count() {
        let id = InstanceId(u64::try_from(index).unwrap_or(0));
        let Ok(values) = runtime.kpis(id) else {
            continue;
        };
        if values.is_empty() {
            continue;
        }
        for value in &values {
            if let Some(seen) = measured.get_mut(value.index) {
                *seen = true;
            }
            if let Some(list) = all.get_mut(value.index) {
                list.push(value.clone());
            }
        }
        if json {
            let values: Vec<Value> = values.iter().map(proc_runtime::KpiValue::to_json).collect();
            out.push_str(&json!({"kpis": {"instance": id.0, "values": values}}).to_string());
            out.push('\n');
        } else {
            out.push_str(&format!("  instance {id}\n"));
            for value in &values {
                out.push_str(&format!("    {value}\n"));
            }
        }
    }
    if !measured.contains(&true) {
        return;
    }
    if !json {
        out.push_str("\nKPI summary (instances with a final value)\n");
    }
    for ((kpi, values), _) in kpis
        .iter()
        .zip(&all)
        .zip(&measured)
        .filter(|(_, measured)| **measured)
    {
        let summary = proc_runtime::kpi::Summary::of_instances(kpi, values);
        if json {
            out.push_str(&json!({"kpi_summary": summary.to_json()}).to_string());
            out.push('\n');
        } else {
            out.push_str(&format!("  {summary}\n"));
        }
    }
    crate::files::write_stdout(&out);
}

fn apply(
    runtime: &mut Runtime,
    printer: &mut Printer,
    instance: InstanceId,
    kind: &str,
    event: &Value,
) -> Result<Result<Vec<Effect>, Error>, String> {
    let now = runtime.now();
    let empty = Value::Null;
    Ok(match kind {
        "complete" | "claim" | "release" | "suspend" | "resume" | "skip" | "delegate"
        | "reassign" => {
            let who = actor(event, "by", "roles", "skills")?;
            let task = match task_of(runtime, instance, event)? {
                Ok(task) => task,
                Err(error) => {
                    // The refusal still gets its heading, so it is not read as part of the event before.
                    let which = match (event.get("task"), event.get("step").and_then(Value::as_str))
                    {
                        (Some(task), _) => format!("task {task}"),
                        (None, Some(step)) => format!("step {step}"),
                        (None, None) => "a task".to_string(),
                    };
                    printer.heading_of(now, &format!("{kind} {which} by {}", who.id), instance);
                    return Ok(Err(error));
                }
            };
            printer.heading_of(
                now,
                &format!("{kind} task {} by {}", task.task, who.id),
                instance,
            );
            match kind {
                "complete" => runtime.complete(task, &who, event.get("outputs").unwrap_or(&empty)),
                "claim" => runtime.claim(task, &who),
                "release" => runtime.release(task, &who),
                "suspend" => runtime.suspend(task, &who),
                "resume" => runtime.resume(task, &who),
                "skip" => runtime.skip(task, &who),
                "delegate" => {
                    let to = actor(event, "to", "to_roles", "to_skills")?;
                    runtime.delegate(task, &who, &to)
                }
                _ => {
                    let role = event
                        .get("role")
                        .and_then(Value::as_str)
                        .ok_or("a \"reassign\" needs \"role\"")?;
                    runtime.reassign(task, &who, role)
                }
            }
        }
        "redo" => {
            let who = actor(event, "by", "roles", "skills")?;
            let step = event
                .get("step")
                .and_then(Value::as_str)
                .ok_or("a \"redo\" needs \"step\"")?;
            printer.heading_of(now, &format!("redo {step} by {}", who.id), instance);
            runtime.redo(instance, step, &who)
        }
        "signal" => {
            let name = event
                .get("signal")
                .and_then(Value::as_str)
                .ok_or("a \"signal\" needs \"signal\": its name")?;
            printer.heading_of(now, &format!("signal {name}"), instance);
            runtime.signal(instance, name, event.get("payload").unwrap_or(&empty))
        }
        "cancel" => {
            let reason = event.get("reason").and_then(Value::as_str).unwrap_or("");
            printer.heading_of(now, "cancel", instance);
            runtime.cancel(instance, reason)
        }
        "action_result" => {
            let request =
                u32_field(event, "request").ok_or("an \"action_result\" needs \"request\"")?;
            let action_name = event.get("action").and_then(Value::as_str);
            let action = match action_name {
                Some(name) => runtime
                    .module()
                    .metadata()
                    .action_id(name)
                    .ok_or_else(|| format!("there is no action `{name}`"))?,
                None => match runtime.module().metadata().actions.len() {
                    1 => 0,
                    _ => {
                        return Err(
                            "an \"action_result\" needs \"action\": the action's name".into()
                        );
                    }
                },
            };
            printer.heading_of(
                now,
                &format!("result of action request {request}"),
                instance,
            );
            let target = RequestRef {
                instance,
                request,
                action,
            };
            match event.get("error").and_then(Value::as_str) {
                Some(error) => runtime.action_result(target, Err(error)),
                None => runtime.action_result(target, Ok(event.get("result").unwrap_or(&empty))),
            }
        }
        "" => return Err("each event needs a \"type\"".to_string()),
        other => {
            return Err(format!(
                "unknown event type \"{other}\" (expected complete, signal, advance, cancel, action_result, \
                 claim, release, delegate, reassign, suspend, resume, skip, redo or start)"
            ));
        }
    })
}
