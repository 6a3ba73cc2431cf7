//! Effects: what an event made happen, decoded from the module's output with names from its metadata.
//!
//! Each effect has a text form for people ([`fmt::Display`]) and a JSON form ([`Effect::to_json`]) whose shape
//! is part of the documented interface (`docs/abi.md`): `procc run --json` prints it and the JavaScript host
//! prints the very same lines.

use crate::Time;
use crate::codec::{self, Malformed, Reader};
use proc_abi::{Metadata, NO_ID, NO_TIME, cancel_reason, effect as tag, performer};
use serde_json::{Value, json};
use std::fmt;
use std::sync::Arc;

/// A shared name (step, role, action, skill).
pub type Name = Arc<str>;

/// An instance (case) of a process in a [`crate::Runtime`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct InstanceId(pub u64);

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A task: a step opened for someone to do. Carries its step so outputs can be checked without a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskRef {
    /// The instance.
    pub instance: InstanceId,
    /// The task's number within the instance.
    pub task: u32,
    /// The step's id in the module.
    pub step: u32,
}

/// An action request a host must answer with [`crate::Runtime::action_result`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestRef {
    /// The instance.
    pub instance: InstanceId,
    /// The request's number within the instance.
    pub request: u32,
    /// The action's id in the module.
    pub action: u32,
}

/// Who may do a task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Performer {
    /// Anyone holding the role (and the skills).
    Role {
        /// The role.
        role: Name,
        /// Required skills.
        skills: Vec<Name>,
    },
    /// One named person.
    Person(String),
    /// A role taken from the case data.
    DynamicRole(Name),
    /// The manager of the person who did an earlier step.
    ManagerOf {
        /// Whose manager.
        of: String,
        /// The manager, as the directory said; `None` if it did not know.
        manager: Option<String>,
    },
    /// The same person as an earlier step.
    SamePerson(String),
}

impl fmt::Display for Performer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Performer::Role { role, skills } if skills.is_empty() => write!(f, "{role}"),
            Performer::Role { role, skills } => {
                let skills: Vec<&str> = skills.iter().map(|s| &**s).collect();
                write!(f, "{role} with skill {}", skills.join(", "))
            }
            Performer::Person(p) | Performer::SamePerson(p) => write!(f, "{p}"),
            Performer::DynamicRole(role) => write!(f, "{role}"),
            Performer::ManagerOf { of, manager } => match manager {
                Some(m) => write!(f, "{m} (manager of {of})"),
                None => write!(f, "the manager of {of} (not in the directory)"),
            },
        }
    }
}

/// Why a task was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelReason {
    /// An escalation stage withdrew it after its deadline.
    Breach,
    /// Another branch won or its branch was cancelled.
    BranchEnded,
    /// A `cancel` statement.
    Cancelled,
    /// The instance ended.
    InstanceEnded,
    /// A `redo` sent the flow back.
    Redo,
    /// Nobody completed it before it expired (`expires after`); this is no breach.
    Expired,
}

impl CancelReason {
    fn from_code(code: u8) -> CancelReason {
        match code {
            cancel_reason::BREACH => CancelReason::Breach,
            cancel_reason::BRANCH_ENDED => CancelReason::BranchEnded,
            cancel_reason::CANCEL_STATEMENT => CancelReason::Cancelled,
            cancel_reason::REDO => CancelReason::Redo,
            cancel_reason::EXPIRED => CancelReason::Expired,
            _ => CancelReason::InstanceEnded,
        }
    }

    /// The reason's name in the JSON form.
    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::Breach => "breach",
            CancelReason::BranchEnded => "branch_ended",
            CancelReason::Cancelled => "cancelled",
            CancelReason::InstanceEnded => "instance_ended",
            CancelReason::Redo => "redo",
            CancelReason::Expired => "expired",
        }
    }
}

/// A task that opened.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenedTask {
    /// The task.
    pub task: TaskRef,
    /// Its step's name.
    pub step: Name,
    /// Who may do it.
    pub performer: Performer,
    /// Who may not (four eyes).
    pub excluded: Option<String>,
    /// When it is due.
    pub due: Option<Time>,
    /// Not before.
    pub earliest: Option<Time>,
    /// When the task is withdrawn if nobody has done it (`expires after`); this is no deadline.
    pub expires: Option<Time>,
    /// What to do, with the case's data filled in.
    pub instruction: String,
    /// The form the performer fills in: the step's outputs.
    pub form: Arc<[FormField]>,
}

/// One field of a task's form: an output of its step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormField {
    /// The output's name.
    pub name: String,
    /// Its type.
    pub ty: proc_abi::TypeDesc,
    /// Its type as people write it, e.g. `Urgency` or `Text?`.
    pub type_name: String,
}

/// Something an event made happen.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// A task opened.
    TaskOpened(OpenedTask),
    /// A task was completed.
    TaskCompleted {
        /// The task.
        task: TaskRef,
        /// Its step.
        step: Name,
        /// Who completed it.
        by: String,
        /// The outputs they gave.
        outputs: Value,
    },
    /// A task closed without being completed.
    TaskCancelled {
        /// The task.
        task: TaskRef,
        /// Its step.
        step: Name,
        /// Why.
        reason: CancelReason,
    },
    /// A task's deadline passed.
    TaskBreached {
        /// The task.
        task: TaskRef,
        /// Its step.
        step: Name,
        /// The deadline.
        due: Time,
    },
    /// A task went to another role: by its escalation ladder (`by` is `None`) or by a manager.
    TaskReassigned {
        /// The task.
        task: TaskRef,
        /// Its step.
        step: Name,
        /// The new role.
        role: Name,
        /// The manager who reassigned it.
        by: Option<String>,
    },
    /// Everyone holding a role is told something.
    Notified {
        /// The instance.
        instance: InstanceId,
        /// The role.
        role: Name,
        /// The message.
        message: String,
        /// The task whose escalation ladder sent it.
        task: Option<u32>,
    },
    /// The case was flagged.
    Flagged {
        /// The instance.
        instance: InstanceId,
        /// Why.
        message: String,
        /// The task whose escalation ladder flagged it.
        task: Option<u32>,
    },
    /// The host must perform an action and report the result.
    ActionRequested {
        /// The request.
        request: RequestRef,
        /// The action.
        action: Name,
        /// Its arguments, by parameter name.
        args: Value,
    },
    /// The instance completed.
    Completed {
        /// The instance.
        instance: InstanceId,
        /// The process's result, if it has one.
        result: Option<Value>,
        /// The reason given, if any.
        reason: Option<String>,
    },
    /// The instance failed.
    Failed {
        /// The instance.
        instance: InstanceId,
        /// Why.
        reason: String,
    },
    /// The instance was cancelled.
    Cancelled {
        /// The instance.
        instance: InstanceId,
        /// Why.
        reason: String,
    },
    /// Someone claimed a task.
    TaskClaimed {
        /// The task.
        task: TaskRef,
        /// Who.
        by: String,
    },
    /// A claim was released.
    TaskReleased {
        /// The task.
        task: TaskRef,
        /// Who.
        by: String,
    },
    /// A task was handed to a colleague.
    TaskDelegated {
        /// The task.
        task: TaskRef,
        /// Who handed it over.
        by: String,
        /// Who has it now.
        to: String,
    },
    /// A task was put on hold.
    TaskSuspended {
        /// The task.
        task: TaskRef,
        /// Who.
        by: String,
    },
    /// A task was taken off hold.
    TaskResumed {
        /// The task.
        task: TaskRef,
        /// Who.
        by: String,
        /// Its due time now.
        due: Option<Time>,
    },
    /// A task was skipped.
    TaskSkipped {
        /// The task.
        task: TaskRef,
        /// Its step.
        step: Name,
        /// Who.
        by: String,
    },
    /// The flow went back to a step.
    StepRedone {
        /// The instance.
        instance: InstanceId,
        /// The step.
        step: Name,
        /// Who.
        by: String,
    },
    /// A deadline stopped while waiting on the customer.
    DeadlinePaused {
        /// The task.
        task: TaskRef,
    },
    /// A deadline runs again.
    DeadlineResumed {
        /// The task.
        task: TaskRef,
        /// Its due time now.
        due: Option<Time>,
    },
    /// The process's own deadline passed.
    ProcessBreached {
        /// The instance.
        instance: InstanceId,
        /// The deadline.
        due: Time,
    },
    /// A running instance's next wake-up changed: call [`crate::Runtime::advance`] by then (`None`: it only
    /// waits for people and signals now). Added by the runtime after the module's own effects.
    NextWakeup {
        /// The instance.
        instance: InstanceId,
        /// When.
        at: Option<Time>,
    },
}

/// Names resolved once per module, shared by all effects.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Step names by id.
    pub steps: Vec<Name>,
    /// Role names by id.
    pub roles: Vec<Name>,
    /// Skill names by id.
    pub skills: Vec<Name>,
    /// Action names by id.
    pub actions: Vec<Name>,
    /// Signal names by id.
    pub signals: Vec<Name>,
    /// Output forms by step id.
    pub forms: Vec<Arc<[FormField]>>,
}

impl Names {
    /// The names of a module's metadata.
    pub fn new(meta: &Metadata) -> Names {
        Names {
            steps: meta
                .steps
                .iter()
                .map(|s| Name::from(s.name.as_str()))
                .collect(),
            roles: meta
                .roles
                .iter()
                .map(|r| Name::from(r.name.as_str()))
                .collect(),
            skills: meta.skills.iter().map(|s| Name::from(s.as_str())).collect(),
            actions: meta
                .actions
                .iter()
                .map(|a| Name::from(a.name.as_str()))
                .collect(),
            signals: meta
                .signals
                .iter()
                .map(|a| Name::from(a.name.as_str()))
                .collect(),
            forms: meta
                .steps
                .iter()
                .map(|s| {
                    let fields: Vec<FormField> = s
                        .outputs
                        .iter()
                        .map(|o| FormField {
                            name: o.name.clone(),
                            ty: o.ty.clone(),
                            type_name: codec::type_name(meta, &o.ty),
                        })
                        .collect();
                    Arc::from(fields.into_boxed_slice())
                })
                .collect(),
        }
    }

    /// A step's output form.
    pub fn form(&self, step: u32) -> Arc<[FormField]> {
        self.forms
            .get(step as usize)
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new().into_boxed_slice()))
    }

    fn get(list: &[Name], id: u32, what: &str) -> Name {
        list.get(id as usize)
            .cloned()
            .unwrap_or_else(|| Name::from(format!("{what} #{id}")))
    }

    /// A step's name.
    pub fn step(&self, id: u32) -> Name {
        Names::get(&self.steps, id, "step")
    }

    /// A role's name.
    pub fn role(&self, id: u32) -> Name {
        Names::get(&self.roles, id, "role")
    }

    /// A signal's name.
    pub fn signal(&self, id: u32) -> Name {
        Names::get(&self.signals, id, "signal")
    }

    /// An action's name.
    pub fn action(&self, id: u32) -> Name {
        Names::get(&self.actions, id, "action")
    }
}

fn time(ms: i64) -> Option<Time> {
    (ms != NO_TIME && ms != i64::MIN).then_some(Time(ms))
}

fn opt_text(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Decodes the effect `r` is at, of an instance of process `process`.
pub(crate) fn decode(
    meta: &Metadata,
    names: &Names,
    instance: InstanceId,
    process: u32,
    r: &mut Reader<'_>,
) -> Result<Effect, Malformed> {
    let task_ref = |task: u32, step: u32| TaskRef {
        instance,
        task,
        step,
    };
    Ok(match r.u8()? {
        tag::TASK_OPENED => {
            let task = r.u32()?;
            let step = r.u32()?;
            let kind = r.u8()?;
            let role = r.u32()?;
            let person = r.text()?;
            let basis = r.text()?;
            let excluded = r.text()?;
            let nskills = r.u32()?;
            let mut skills = Vec::new();
            for _ in 0..nskills {
                skills.push(Names::get(&names.skills, r.u32()?, "skill"));
            }
            let due = r.i64()?;
            let earliest = r.i64()?;
            let expires = r.i64()?;
            let instruction = r.text()?;
            let performer = match kind {
                performer::PERSON => Performer::Person(person.to_string()),
                performer::DYNAMIC_ROLE => Performer::DynamicRole(names.role(role)),
                performer::MANAGER_OF => Performer::ManagerOf {
                    of: basis.to_string(),
                    manager: opt_text(person),
                },
                performer::SAME_PERSON => Performer::SamePerson(person.to_string()),
                _ if role == NO_ID => Performer::Person(person.to_string()),
                _ => Performer::Role {
                    role: names.role(role),
                    skills,
                },
            };
            Effect::TaskOpened(OpenedTask {
                task: task_ref(task, step),
                step: names.step(step),
                performer,
                excluded: opt_text(excluded),
                due: time(due),
                earliest: time(earliest),
                expires: time(expires),
                instruction: instruction.to_string(),
                form: names.form(step),
            })
        }
        tag::TASK_COMPLETED => {
            let task = r.u32()?;
            let step = r.u32()?;
            let by = r.text()?.to_string();
            let fields = meta
                .steps
                .get(step as usize)
                .map(|s| s.outputs.as_slice())
                .unwrap_or_default();
            let outputs = codec::decode_fields(meta, fields, r)?;
            Effect::TaskCompleted {
                task: task_ref(task, step),
                step: names.step(step),
                by,
                outputs,
            }
        }
        tag::TASK_CANCELLED => {
            let task = r.u32()?;
            let step = r.u32()?;
            Effect::TaskCancelled {
                task: task_ref(task, step),
                step: names.step(step),
                reason: CancelReason::from_code(r.u8()?),
            }
        }
        tag::TASK_BREACHED => {
            let task = r.u32()?;
            let step = r.u32()?;
            Effect::TaskBreached {
                task: task_ref(task, step),
                step: names.step(step),
                due: Time(r.i64()?),
            }
        }
        tag::TASK_REASSIGNED => {
            let task = r.u32()?;
            let step = r.u32()?;
            let role = r.u32()?;
            let cause = r.u8()?;
            let by = r.text()?;
            Effect::TaskReassigned {
                task: task_ref(task, step),
                step: names.step(step),
                role: names.role(role),
                by: (cause != 0).then(|| by.to_string()),
            }
        }
        tag::NOTIFIED => {
            let role = r.u32()?;
            let message = r.text()?.to_string();
            let task = r.u32()?;
            Effect::Notified {
                instance,
                role: names.role(role),
                message,
                task: (task != NO_ID).then_some(task),
            }
        }
        tag::FLAGGED => {
            let message = r.text()?.to_string();
            let task = r.u32()?;
            Effect::Flagged {
                instance,
                message,
                task: (task != NO_ID).then_some(task),
            }
        }
        tag::ACTION_REQUESTED => {
            let request = r.u32()?;
            let action = r.u32()?;
            let params = meta
                .actions
                .get(action as usize)
                .map(|a| a.params.as_slice())
                .unwrap_or_default();
            let args = codec::decode_fields(meta, params, r)?;
            Effect::ActionRequested {
                request: RequestRef {
                    instance,
                    request,
                    action,
                },
                action: Names::get(&names.actions, action, "action"),
                args,
            }
        }
        tag::COMPLETED => {
            let kind = r.u8()?;
            let (result, reason) = match kind {
                1 => {
                    let ty = meta
                        .processes
                        .get(process as usize)
                        .and_then(|p| p.result.clone())
                        .ok_or(Malformed)?;
                    (Some(codec::decode(meta, &ty, r)?), None)
                }
                2 => (None, Some(r.text()?.to_string())),
                _ => (None, None),
            };
            Effect::Completed {
                instance,
                result,
                reason,
            }
        }
        tag::FAILED => Effect::Failed {
            instance,
            reason: r.text()?.to_string(),
        },
        tag::CANCELLED => Effect::Cancelled {
            instance,
            reason: r.text()?.to_string(),
        },
        code @ (tag::TASK_CLAIMED | tag::TASK_RELEASED | tag::TASK_SUSPENDED) => {
            let task = r.u32()?;
            let step = r.u32()?;
            let task = task_ref(task, step);
            let by = r.text()?.to_string();
            match code {
                tag::TASK_CLAIMED => Effect::TaskClaimed { task, by },
                tag::TASK_RELEASED => Effect::TaskReleased { task, by },
                _ => Effect::TaskSuspended { task, by },
            }
        }
        tag::TASK_DELEGATED => {
            let task = r.u32()?;
            let step = r.u32()?;
            Effect::TaskDelegated {
                task: task_ref(task, step),
                by: r.text()?.to_string(),
                to: r.text()?.to_string(),
            }
        }
        tag::TASK_RESUMED => {
            let task = r.u32()?;
            let step = r.u32()?;
            Effect::TaskResumed {
                task: task_ref(task, step),
                by: r.text()?.to_string(),
                due: time(r.i64()?),
            }
        }
        tag::TASK_SKIPPED => {
            let task = r.u32()?;
            let step = r.u32()?;
            Effect::TaskSkipped {
                task: task_ref(task, step),
                step: names.step(step),
                by: r.text()?.to_string(),
            }
        }
        tag::STEP_REDONE => {
            let step = r.u32()?;
            Effect::StepRedone {
                instance,
                step: names.step(step),
                by: r.text()?.to_string(),
            }
        }
        tag::DEADLINE_PAUSED => {
            let task = r.u32()?;
            let step = r.u32()?;
            Effect::DeadlinePaused {
                task: task_ref(task, step),
            }
        }
        tag::DEADLINE_RESUMED => {
            let task = r.u32()?;
            let step = r.u32()?;
            Effect::DeadlineResumed {
                task: task_ref(task, step),
                due: time(r.i64()?),
            }
        }
        tag::PROCESS_BREACHED => Effect::ProcessBreached {
            instance,
            due: Time(r.i64()?),
        },
        _ => return Err(Malformed),
    })
}

fn t(time: Option<Time>) -> Value {
    time.map_or(Value::Null, |t| Value::String(t.to_string()))
}

impl Effect {
    /// The task, for the effects about one task (opened, completed, cancelled, breached, reassigned, claimed,
    /// released, delegated, suspended, resumed, skipped, its deadline paused or resumed); `None` for the others.
    pub fn task(&self) -> Option<TaskRef> {
        match self {
            Effect::TaskOpened(o) => Some(o.task),
            Effect::TaskCompleted { task, .. }
            | Effect::TaskCancelled { task, .. }
            | Effect::TaskBreached { task, .. }
            | Effect::TaskReassigned { task, .. }
            | Effect::TaskClaimed { task, .. }
            | Effect::TaskReleased { task, .. }
            | Effect::TaskDelegated { task, .. }
            | Effect::TaskSuspended { task, .. }
            | Effect::TaskResumed { task, .. }
            | Effect::TaskSkipped { task, .. }
            | Effect::DeadlinePaused { task }
            | Effect::DeadlineResumed { task, .. } => Some(*task),
            Effect::ActionRequested { .. }
            | Effect::Notified { .. }
            | Effect::Flagged { .. }
            | Effect::Completed { .. }
            | Effect::Failed { .. }
            | Effect::Cancelled { .. }
            | Effect::StepRedone { .. }
            | Effect::ProcessBreached { .. }
            | Effect::NextWakeup { .. } => None,
        }
    }

    /// The instance the effect belongs to.
    pub fn instance(&self) -> InstanceId {
        match self {
            Effect::TaskOpened(o) => o.task.instance,
            Effect::TaskCompleted { task, .. }
            | Effect::TaskCancelled { task, .. }
            | Effect::TaskBreached { task, .. }
            | Effect::TaskReassigned { task, .. }
            | Effect::TaskClaimed { task, .. }
            | Effect::TaskReleased { task, .. }
            | Effect::TaskDelegated { task, .. }
            | Effect::TaskSuspended { task, .. }
            | Effect::TaskResumed { task, .. }
            | Effect::TaskSkipped { task, .. }
            | Effect::DeadlinePaused { task }
            | Effect::DeadlineResumed { task, .. } => task.instance,
            Effect::ActionRequested { request, .. } => request.instance,
            Effect::Notified { instance, .. }
            | Effect::Flagged { instance, .. }
            | Effect::Completed { instance, .. }
            | Effect::Failed { instance, .. }
            | Effect::Cancelled { instance, .. }
            | Effect::StepRedone { instance, .. }
            | Effect::ProcessBreached { instance, .. }
            | Effect::NextWakeup { instance, .. } => *instance,
        }
    }

    /// The JSON form (one object per effect; see `docs/abi.md`).
    pub fn to_json(&self) -> Value {
        let instance = self.instance().0;
        match self {
            Effect::TaskOpened(o) => {
                let (role, person, skills, manager_of) = match &o.performer {
                    Performer::Role { role, skills } => (
                        Value::String(role.to_string()),
                        Value::Null,
                        skills.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                        Value::Null,
                    ),
                    Performer::DynamicRole(role) => (
                        Value::String(role.to_string()),
                        Value::Null,
                        Vec::new(),
                        Value::Null,
                    ),
                    Performer::Person(p) | Performer::SamePerson(p) => (
                        Value::Null,
                        Value::String(p.clone()),
                        Vec::new(),
                        Value::Null,
                    ),
                    Performer::ManagerOf { of, manager } => (
                        Value::Null,
                        manager.clone().map_or(Value::Null, Value::String),
                        Vec::new(),
                        Value::String(of.clone()),
                    ),
                };
                let form: serde_json::Map<String, Value> = o
                    .form
                    .iter()
                    .map(|f| (f.name.clone(), Value::String(f.type_name.clone())))
                    .collect();
                json!({
                    "effect": "task_opened", "instance": instance, "task": o.task.task, "step": &*o.step,
                    "role": role, "person": person, "skills": skills, "manager_of": manager_of,
                    "excluded": o.excluded, "due": t(o.due), "earliest": t(o.earliest),
                    "expires": t(o.expires),
                    "instruction": o.instruction, "form": form,
                })
            }
            Effect::TaskCompleted {
                task,
                step,
                by,
                outputs,
            } => json!({"effect": "task_completed", "instance": instance, "task": task.task,
                "step": &**step, "by": by, "outputs": outputs}),
            Effect::TaskCancelled { task, step, reason } => json!({"effect": "task_cancelled",
                "instance": instance, "task": task.task, "step": &**step, "reason": reason.as_str()}),
            Effect::TaskBreached { task, step, due } => json!({"effect": "task_breached",
                "instance": instance, "task": task.task, "step": &**step, "due": due.to_string()}),
            Effect::TaskReassigned {
                task,
                step,
                role,
                by,
            } => json!({"effect": "task_reassigned", "instance": instance, "task": task.task,
                "step": &**step, "role": &**role, "by": by}),
            Effect::Notified {
                role,
                message,
                task,
                ..
            } => json!({"effect": "notified", "instance": instance, "role": &**role,
                "message": message, "task": task}),
            Effect::Flagged { message, task, .. } => {
                json!({"effect": "flagged", "instance": instance, "message": message, "task": task})
            }
            Effect::ActionRequested {
                request,
                action,
                args,
            } => json!({"effect": "action_requested", "instance": instance,
                "request": request.request, "action": &**action, "args": args}),
            Effect::Completed { result, reason, .. } => {
                json!({"effect": "completed", "instance": instance, "result": result, "reason": reason})
            }
            Effect::Failed { reason, .. } => {
                json!({"effect": "failed", "instance": instance, "reason": reason})
            }
            Effect::Cancelled { reason, .. } => {
                json!({"effect": "cancelled", "instance": instance, "reason": reason})
            }
            Effect::TaskClaimed { task, by } => json!({"effect": "task_claimed",
                "instance": instance, "task": task.task, "by": by}),
            Effect::TaskReleased { task, by } => json!({"effect": "task_released",
                "instance": instance, "task": task.task, "by": by}),
            Effect::TaskDelegated { task, by, to } => json!({"effect": "task_delegated",
                "instance": instance, "task": task.task, "by": by, "to": to}),
            Effect::TaskSuspended { task, by } => json!({"effect": "task_suspended",
                "instance": instance, "task": task.task, "by": by}),
            Effect::TaskResumed { task, by, due } => json!({"effect": "task_resumed",
                "instance": instance, "task": task.task, "by": by, "due": t(*due)}),
            Effect::TaskSkipped { task, step, by } => json!({"effect": "task_skipped",
                "instance": instance, "task": task.task, "step": &**step, "by": by}),
            Effect::StepRedone { step, by, .. } => {
                json!({"effect": "step_redone", "instance": instance, "step": &**step, "by": by})
            }
            Effect::DeadlinePaused { task } => {
                json!({"effect": "deadline_paused", "instance": instance, "task": task.task})
            }
            Effect::DeadlineResumed { task, due } => json!({"effect": "deadline_resumed",
                "instance": instance, "task": task.task, "due": t(*due)}),
            Effect::ProcessBreached { due, .. } => json!({"effect": "process_breached",
                "instance": instance, "due": due.to_string()}),
            Effect::NextWakeup { at, .. } => {
                json!({"effect": "next_wakeup", "instance": instance, "at": t(*at)})
            }
        }
    }
}

fn due_words(due: Option<Time>) -> String {
    due.map_or_else(String::new, |d| format!(", due {d}"))
}

impl fmt::Display for Effect {
    /// One line for people, e.g. `task 1 opened: acknowledge for Agent, due 2026-03-02T13:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Effect::TaskOpened(o) => {
                write!(
                    f,
                    "task {} opened: {} for {}{}",
                    o.task.task,
                    o.step,
                    o.performer,
                    due_words(o.due)
                )?;
                if let Some(excluded) = &o.excluded {
                    write!(f, ", not {excluded}")?;
                }
                if let Some(earliest) = o.earliest {
                    write!(f, ", not before {earliest}")?;
                }
                if let Some(expires) = o.expires {
                    write!(f, ", expires {expires}")?;
                }
                if !o.instruction.is_empty() {
                    write!(f, " — \"{}\"", o.instruction)?;
                }
                if !o.form.is_empty() {
                    let fields: Vec<String> = o
                        .form
                        .iter()
                        .map(|field| format!("{}: {}", field.name, field.type_name))
                        .collect();
                    write!(f, " (fill in {})", fields.join(", "))?;
                }
                Ok(())
            }
            Effect::TaskCompleted {
                task,
                step,
                by,
                outputs,
            } => {
                write!(f, "task {} completed: {step} by {by}", task.task)?;
                match outputs {
                    Value::Object(map) if !map.is_empty() => write!(f, " with {outputs}"),
                    _ => Ok(()),
                }
            }
            Effect::TaskCancelled { task, step, reason } => {
                let why = match reason {
                    CancelReason::Breach => "withdrawn after its deadline",
                    CancelReason::BranchEnded => "no longer needed",
                    CancelReason::Cancelled => "cancelled",
                    CancelReason::InstanceEnded => "closed because the case ended",
                    CancelReason::Redo => "cancelled to redo an earlier step",
                    CancelReason::Expired => "expired before anyone did it",
                };
                write!(f, "task {} {why}: {step}", task.task)
            }
            Effect::TaskBreached { task, step, due } => {
                write!(f, "task {} missed its deadline {due}: {step}", task.task)
            }
            Effect::TaskReassigned {
                task,
                step,
                role,
                by,
            } => match by {
                None => write!(f, "task {} escalated to {role}: {step}", task.task),
                Some(by) => write!(f, "task {} reassigned to {role} by {by}: {step}", task.task),
            },
            Effect::Notified { role, message, .. } => {
                if message.is_empty() {
                    write!(f, "notify {role}")
                } else {
                    write!(f, "notify {role}: \"{message}\"")
                }
            }
            Effect::Flagged { message, .. } => write!(f, "flagged: \"{message}\""),
            Effect::ActionRequested {
                request,
                action,
                args,
            } => write!(f, "action {} requested: {action} {args}", request.request),
            Effect::Completed { result, reason, .. } => match (result, reason) {
                (Some(v), _) => write!(f, "completed with {v}"),
                (None, Some(r)) => write!(f, "completed: \"{r}\""),
                (None, None) => write!(f, "completed"),
            },
            Effect::Failed { reason, .. } => write!(f, "failed: \"{reason}\""),
            Effect::Cancelled { reason, .. } => write!(f, "cancelled: \"{reason}\""),
            Effect::TaskClaimed { task, by } => write!(f, "task {} claimed by {by}", task.task),
            Effect::TaskReleased { task, by } => write!(f, "task {} released by {by}", task.task),
            Effect::TaskDelegated { task, by, to } => {
                write!(f, "task {} handed from {by} to {to}", task.task)
            }
            Effect::TaskSuspended { task, by } => {
                write!(f, "task {} put on hold by {by}", task.task)
            }
            Effect::TaskResumed { task, by, due } => {
                write!(
                    f,
                    "task {} taken off hold by {by}{}",
                    task.task,
                    due_words(*due)
                )
            }
            Effect::TaskSkipped { task, step, by } => {
                write!(f, "task {} skipped by {by}: {step}", task.task)
            }
            Effect::StepRedone { step, by, .. } => write!(f, "back to step {step}, by {by}"),
            Effect::DeadlinePaused { task } => {
                write!(f, "task {}: deadline paused while waiting", task.task)
            }
            Effect::DeadlineResumed { task, due } => {
                write!(
                    f,
                    "task {}: deadline runs again{}",
                    task.task,
                    due_words(*due)
                )
            }
            Effect::ProcessBreached { due, .. } => {
                write!(f, "the case missed its overall deadline {due}")
            }
            Effect::NextWakeup { at, .. } => match at {
                Some(at) => write!(f, "next wake-up {at}"),
                None => write!(f, "no timer pending"),
            },
        }
    }
}
