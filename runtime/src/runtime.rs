//! The host-facing runtime: instances, events, effects, queries and snapshots.

use crate::Time;
use crate::codec::{self, Reader};
use crate::directory::{Directory, StaticDirectory};
use crate::effect::{self, Effect, FormField, InstanceId, Name, RequestRef, TaskRef};
use crate::error::{Error, Rejection};
use crate::kpi::{KpiValue, Kpis, Slot};
use crate::module::Module;
use crate::timers::Timers;
use crate::view::{self, Effects, Origin};
use crate::worker::{CallError, Limits, Reply, Worker};
use proc_abi::{Metadata, NO_ID, NO_TIME, event, instance as status, query, reject};
use rustc_hash::FxHashMap;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Someone acting on a task: their id, and the roles and skills they act with (the host's directory may add
/// more).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Actor {
    /// Their id, as the directory knows them.
    pub id: String,
    /// Roles they hold.
    pub roles: Vec<String>,
    /// Skills they have.
    pub skills: Vec<String>,
}

impl Actor {
    /// An actor with roles.
    pub fn new(id: &str, roles: &[&str]) -> Actor {
        Actor {
            id: id.to_string(),
            roles: roles.iter().map(|r| (*r).to_string()).collect(),
            skills: Vec::new(),
        }
    }

    /// The same actor with skills.
    pub fn with_skills(mut self, skills: &[&str]) -> Actor {
        self.skills = skills.iter().map(|s| (*s).to_string()).collect();
        self
    }
}

/// How an instance stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstanceStatus {
    /// Still running.
    Running,
    /// Completed.
    Completed,
    /// Failed.
    Failed,
    /// Cancelled.
    Cancelled,
}

impl InstanceStatus {
    fn from_code(code: u32) -> InstanceStatus {
        match code {
            status::COMPLETED => InstanceStatus::Completed,
            status::FAILED => InstanceStatus::Failed,
            status::CANCELLED => InstanceStatus::Cancelled,
            _ => InstanceStatus::Running,
        }
    }

    /// The status in words: `running`, `completed`, `failed`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Running => "running",
            InstanceStatus::Completed => "completed",
            InstanceStatus::Failed => "failed",
            InstanceStatus::Cancelled => "cancelled",
        }
    }
}

/// An open task, as a query shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskInfo {
    /// The task.
    pub task: TaskRef,
    /// Its step.
    pub step: Name,
    /// On hold.
    pub suspended: bool,
    /// The role that may do it (none if it is for a person).
    pub role: Option<Name>,
    /// The one person who may do it.
    pub person: Option<String>,
    /// Who claimed it.
    pub claimed_by: Option<String>,
    /// When it opened.
    pub opened: Time,
    /// When it is due.
    pub due: Option<Time>,
    /// What to do.
    pub instruction: String,
    /// The form the performer fills in (the step's outputs), as [`crate::OpenedTask::form`] gives it: a host that
    /// restored a case, or shows its open tasks later, renders the same form.
    pub form: Arc<[FormField]>,
}

/// A step of the process that has run.
#[derive(Clone, Debug, PartialEq)]
pub struct StepRecord {
    /// The step.
    pub step: Name,
    /// Completed.
    pub done: bool,
    /// Its deadline passed.
    pub breached: bool,
    /// Who completed it.
    pub done_by: Option<String>,
    /// When.
    pub completed_at: Option<Time>,
    /// Its outputs (when completed).
    pub outputs: Option<Value>,
}

/// An instance's state, as a query shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceInfo {
    /// The instance.
    pub instance: InstanceId,
    /// Its process.
    pub process: String,
    /// Its status.
    pub status: InstanceStatus,
    /// When it started.
    pub started: Time,
    /// When it next needs `advance`.
    pub next_wakeup: Option<Time>,
    /// Its input.
    pub input: Value,
    /// Open tasks.
    pub tasks: Vec<TaskInfo>,
    /// Steps of the process body that have run (the latest run of each).
    pub steps: Vec<StepRecord>,
    /// What it waits for besides its open tasks: a signal, an action the host was asked to perform, a time.
    /// Empty once it has ended.
    pub waiting: Vec<Waiting>,
}

/// Something a running instance waits for besides its open tasks ([`InstanceInfo::waiting`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Waiting {
    /// A signal (an `await`, such as the customer's reply), until its timeout if it has one.
    Signal {
        /// The signal.
        signal: Name,
        /// When the wait times out, if it does.
        until: Option<Time>,
    },
    /// The result of an action the host was asked to perform ([`crate::Effect::ActionRequested`]), which
    /// [`Runtime::action_result`] reports.
    Action {
        /// The request, as the effect gave it.
        request: crate::RequestRef,
        /// The action.
        action: Name,
    },
    /// A time: a `wait`, or an `every` loop between its rounds.
    Time {
        /// When it wakes.
        until: Time,
    },
}

/// Options of a runtime.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Roles whose holders may manage every task (reassign, suspend, resume, skip, redo). Each must be a role
    /// of the module: a misspelt one would make nobody an administrator, so it is refused.
    pub admin_roles: Vec<String>,
    /// Limits per event and per instance.
    pub limits: Limits,
    /// The clock's time when the runtime is created. Without it the clock starts at 1970-01-01T00:00Z, so a host
    /// either sets it or calls [`Runtime::advance`] before starting cases (their deadlines count from the clock).
    pub start_time: Option<Time>,
}

/// Where the effects of the last applied event are.
#[derive(Default)]
struct Last {
    /// Their bytes in the module's memory.
    effects: std::ops::Range<usize>,
    /// The event's instance, time and next wake-up.
    origin: Origin,
}

impl Last {
    /// The effects, read where the worker's memory holds them (`ends` as [`view::index`] recorded them).
    fn effects<'r>(&self, module: &'r Module, worker: &'r Worker, ends: &'r [u32]) -> Effects<'r> {
        self.effects_in(module, worker.bytes(self.effects.clone()), ends)
    }

    /// The effects, from their bytes already read out of the worker's memory.
    fn effects_in<'r>(&self, module: &'r Module, bytes: &'r [u8], ends: &'r [u32]) -> Effects<'r> {
        let inner = &module.inner;
        Effects::new(&inner.meta, &inner.names, bytes, ends, self.origin)
    }
}

struct Case {
    blob: Vec<u8>,
    wake: i64,
    status: InstanceStatus,
    process: u32,
    /// The instance's own time: its latest event's (the module treats an earlier clock as this time, and so do
    /// its KPIs).
    last: i64,
    /// What the instance has measured for the KPIs of its process (empty without KPIs).
    kpi: Box<[Slot]>,
}

/// Runs the processes of one module: many instances, one WebAssembly instance.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let wasm = proc_runtime::doc_example_module();
/// use proc_runtime::{Actor, Effect, Module, Runtime, Time, HOUR};
/// use serde_json::json;
///
/// let module = Module::from_bytes(&wasm)?;
/// let mut runtime = Runtime::new(&module)?;
/// runtime.advance("2026-03-02T09:00:00Z".parse::<Time>()?)?;
/// let (case, effects) = runtime.start("greet", &json!({ "customer": "Ada" }))?;
/// let Some(Effect::TaskOpened(task)) = effects.first() else { panic!("a task opens") };
/// assert_eq!(task.instruction, "Greet Ada by name");
///
/// // Only an agent may do it; a refusal changes nothing.
/// assert!(runtime.complete(task.task, &Actor::new("sue", &["Supervisor"]), &json!({})).is_err());
/// let effects = runtime.complete(task.task, &Actor::new("ann", &["Agent"]), &json!({}))?;
/// assert!(matches!(effects.last(), Some(Effect::Completed { .. })));
/// # let _ = (case, HOUR);
/// # Ok(())
/// # }
/// ```
pub struct Runtime {
    module: Module,
    worker: Worker,
    /// The instances held, by id. A map, not a vector indexed by id: a removed instance must give its memory
    /// back (a host runs millions of cases through one runtime).
    cases: FxHashMap<u64, Case>,
    /// The id the next started or restored instance gets (ids are never reused).
    next_id: u64,
    /// When the instances wake, earliest first.
    timers: Timers,
    now: Time,
    /// The host's directory, if it set one.
    directory: Option<Arc<dyn Directory>>,
    /// Ids of the roles whose holders are admins.
    admin_roles: Vec<u32>,
    event: Vec<u8>,
    /// Where each effect of the last applied event ends in the module's output (see [`Effects`]).
    ends: Vec<u32>,
    last: Last,
    kpis: Kpis,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("module", &self.module)
            .field("instances", &self.cases.len())
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

const SNAPSHOT_MAGIC: &[u8; 8] = b"PROCSNAP";
/// The SHA-256 checksum that ends a snapshot.
const DIGEST_LEN: usize = 32;

impl Runtime {
    /// A runtime for a module, with default options and an empty directory.
    pub fn new(module: &Module) -> Result<Runtime, Error> {
        Runtime::with_options(module, Options::default())
    }

    /// A runtime with options.
    pub fn with_options(module: &Module, options: Options) -> Result<Runtime, Error> {
        options.limits.check()?;
        let directory: Arc<dyn Directory> = Arc::new(StaticDirectory::default());
        let worker = Worker::new(module, directory, options.limits)?;
        let meta = &module.inner.meta;
        let admin_roles = options
            .admin_roles
            .iter()
            .map(|role| {
                meta.role_id(role).ok_or_else(|| Error::UnknownName {
                    what: "role",
                    name: role.clone(),
                    known: meta.roles.iter().map(|r| r.name.clone()).collect(),
                })
            })
            .collect::<Result<Vec<u32>, Error>>()?;
        Ok(Runtime {
            module: module.clone(),
            worker,
            cases: FxHashMap::default(),
            next_id: 1,
            timers: Timers::default(),
            now: options.start_time.unwrap_or(Time(0)),
            directory: None,
            admin_roles,
            event: Vec::with_capacity(256),
            ends: Vec::with_capacity(16),
            last: Last::default(),
            kpis: Kpis::new(&module.inner.meta, module.inner.calendars.clone()),
        })
    }

    /// Uses the host's directory for roles, skills and managers.
    pub fn set_directory(&mut self, directory: Arc<dyn Directory>) {
        self.directory = Some(directory.clone());
        self.worker.set_directory(directory);
    }

    /// The module.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// The runtime's clock: the time events happen at.
    pub fn now(&self) -> Time {
        self.now
    }

    /// The earliest time any instance needs [`Runtime::advance`].
    pub fn next_wakeup(&self) -> Option<Time> {
        self.timers.earliest().map(Time)
    }

    /// Number of instances held (running or ended, until [`Runtime::remove`]d).
    pub fn instance_count(&self) -> usize {
        self.cases.len()
    }

    /// Bytes of state held for instances (their blobs).
    pub fn state_bytes(&self) -> usize {
        self.cases.values().map(|c| c.blob.capacity()).sum()
    }

    /// An instance's status.
    pub fn instance_status(&self, instance: InstanceId) -> Result<InstanceStatus, Error> {
        Ok(self.case(instance)?.status)
    }

    /// Forgets an instance.
    pub fn remove(&mut self, instance: InstanceId) -> Result<(), Error> {
        if self.cases.remove(&instance.0).is_none() {
            return Err(Error::UnknownInstance(instance));
        }
        self.settle_timers();
        Ok(())
    }

    /// The instance's KPI values: one per KPI that measures its process, in the module's order.
    pub fn kpis(&self, instance: InstanceId) -> Result<Vec<KpiValue>, Error> {
        let case = self.case(instance)?;
        let ended = case.status != InstanceStatus::Running;
        Ok(self
            .kpis
            .values(case.process, &case.kpi, ended, self.now.0.max(case.last)))
    }

    fn case(&self, instance: InstanceId) -> Result<&Case, Error> {
        // Not `ok_or`: that builds the error, and drops it, on every event.
        match self.cases.get(&instance.0) {
            Some(case) => Ok(case),
            None => Err(Error::UnknownInstance(instance)),
        }
    }

    /// Drops the timers' stale entries from the top (see [`Timers`]); after every change of wake-ups.
    fn settle_timers(&mut self) {
        let cases = &self.cases;
        self.timers.settle(
            cases.len(),
            |id| cases.get(&id).map(|c| c.wake),
            || {
                cases
                    .iter()
                    .filter(|(_, c)| c.wake != NO_TIME)
                    .map(|(id, c)| (c.wake, *id))
            },
        );
    }

    // ---------------------------------------------------------------------------------------------------------
    // Events

    /// Moves the clock to `now` (never backwards) and fires every deadline, escalation, timer and timeout due
    /// by then, in every instance, in time order over all of them. Returns the effects, each naming its instance.
    ///
    /// The effects are those of moving the clock in steps, one wake-up at a time: each timer happens at its own
    /// time (what [`Runtime::kpis`] measures of it too), and an instance's `NextWakeup` is the one after `now`.
    /// The owned effects do not say when each happened; a host that needs the times (an escalation at 13:00 and
    /// another at 15:00 in one `advance` to 16:00) reads them with [`Runtime::advance_each`] ([`Effects::at`]).
    ///
    /// An instance whose timers cannot be handled (they exceed its memory cap, trap, or run past the time limit
    /// twice in a row) fails, with a `Failed` effect saying why, and the others go on (see `docs/abi.md`). An
    /// error means an instance's wake-up could not be handled at all (the host's memory, a module this runtime
    /// cannot read): the other instances still go on, the first such error is returned, and that instance is
    /// tried again at the next `advance`.
    pub fn advance(&mut self, now: Time) -> Result<Vec<Effect>, Error> {
        let mut effects = Vec::new();
        self.advance_each(now, |view| {
            effects.extend(view.iter().map(|e| e.to_effect()))
        })?;
        Ok(effects)
    }

    /// [`Runtime::advance`], with the effects read in place: `each` sees the effects of every wake-up due by
    /// `now`, in time order over all instances (an instance due at several times is seen once per time);
    /// [`Effects::at`] is the wake-up's time.
    pub fn advance_each(
        &mut self,
        now: Time,
        mut each: impl FnMut(Effects<'_>),
    ) -> Result<(), Error> {
        if now > self.now {
            self.now = now;
        }
        let mut result = Ok(());
        // An instance whose module asks to be woken again by the time it was given is given that time once more
        // (`again`), then held until the next `advance` (`held`): a module from this compiler fires everything
        // due by the time it is given, so this only stops a module that would loop.
        let mut again: Vec<u64> = Vec::new();
        let mut held: Vec<(i64, u64)> = Vec::new();
        loop {
            let cases = &self.cases;
            let Some((wake, id)) = self
                .timers
                .pop_due(self.now.0, |id| cases.get(&id).map(|c| c.wake))
            else {
                break;
            };
            if held.iter().any(|&(_, h)| h == id) {
                held.push((wake, id));
                continue;
            }
            // In time order over all instances, each wake-up handled at its own time: what the runtime measures
            // of its effects (KPIs) happened then, not when the host's clock came past it, and the effects come
            // out as they would if the clock had stopped at every wake-up.
            self.begin(event::ADVANCE);
            if let Err(error) = self.apply_in_place(InstanceId(id), None, wake) {
                // The instance still wakes then, at the next `advance`; the others go on now.
                held.push((wake, id));
                if result.is_ok() {
                    result = Err(error);
                }
                continue;
            }
            let next = self
                .cases
                .get(&id)
                .filter(|c| c.status == InstanceStatus::Running && c.wake != NO_TIME)
                .map_or(NO_TIME, |c| c.wake);
            if next <= wake {
                if again.contains(&id) {
                    held.push((next, id));
                } else {
                    again.push(id);
                    self.timers.push(next, id);
                    self.last.origin.next_wakeup = None;
                }
            } else if next <= self.now.0 {
                // Due again by the clock: the next wake-up is not the host's business yet.
                self.last.origin.next_wakeup = None;
            }
            each(self.last_effects());
        }
        for (time, id) in held {
            if self.cases.get(&id).is_some_and(|c| c.wake == time) {
                self.timers.push(time, id);
            }
        }
        self.settle_timers();
        result
    }

    /// Moves the clock to `at` for an event that happens then (a completion, a signal): fires what is due
    /// *before* `at`, as [`Runtime::advance`] does, and leaves what is due at `at` itself for after the event, so
    /// that a task completed at its due time is on time (`within 15m` includes the fifteenth minute, as a KPI's
    /// `target <= 15m` does). Each instance's module fires its own timers due at `at` after handling an event;
    /// the next [`Runtime::advance`] fires the rest.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let wasm = proc_runtime::doc_example_module();
    /// use proc_runtime::{Actor, Effect, Module, Runtime, Time};
    /// use serde_json::json;
    ///
    /// let mut runtime = Runtime::new(&Module::from_bytes(&wasm)?)?;
    /// runtime.advance("2026-03-02T09:00:00Z".parse::<Time>()?)?;
    /// let (_, effects) = runtime.start("greet", &json!({ "customer": "Ada" }))?;
    /// let Some(Effect::TaskOpened(task)) = effects.first() else { panic!("a task opens") };
    /// // Completed exactly at its due time: on time, no breach.
    /// runtime.advance_before(task.due.expect("a deadline"))?;
    /// let effects = runtime.complete(task.task, &Actor::new("ann", &["Agent"]), &json!({}))?;
    /// assert!(!effects.iter().any(|e| matches!(e, Effect::TaskBreached { .. })));
    /// # Ok(())
    /// # }
    /// ```
    pub fn advance_before(&mut self, at: Time) -> Result<Vec<Effect>, Error> {
        let mut effects = Vec::new();
        self.advance_before_each(at, |view| {
            effects.extend(view.iter().map(|e| e.to_effect()))
        })?;
        Ok(effects)
    }

    /// [`Runtime::advance_before`], with the effects read in place (see [`Runtime::advance_each`]).
    pub fn advance_before_each(
        &mut self,
        at: Time,
        each: impl FnMut(Effects<'_>),
    ) -> Result<(), Error> {
        let result = self.advance_each(Time(at.0.saturating_sub(1)), each);
        if at > self.now {
            self.now = at;
        }
        result
    }

    /// Starts an instance of a process with its input (a JSON object with one member per parameter).
    pub fn start(
        &mut self,
        process: &str,
        input: &Value,
    ) -> Result<(InstanceId, Vec<Effect>), Error> {
        let instance = self.start_in_place(process, input)?;
        Ok((instance, self.last_effects().to_vec()))
    }

    /// [`Runtime::start`], with the effects read in place ([`Effects::instance`] is the new instance): for hosts
    /// that start many instances a second and read only some fields of the effects.
    pub fn start_view(&mut self, process: &str, input: &Value) -> Result<Effects<'_>, Error> {
        self.start_in_place(process, input)?;
        Ok(self.last_effects())
    }

    fn start_in_place(&mut self, process: &str, input: &Value) -> Result<InstanceId, Error> {
        self.begin(event::START);
        let meta = &self.module.inner.meta;
        let pid = meta
            .process_id(process)
            .ok_or_else(|| Error::UnknownProcess {
                name: process.to_string(),
                known: meta.processes.iter().map(|p| p.name.clone()).collect(),
            })?;
        let params = meta
            .processes
            .get(pid as usize)
            .map(|p| p.params.as_slice())
            .unwrap_or_default();
        self.event.extend_from_slice(&pid.to_le_bytes());
        codec::encode_fields(meta, params, input, "", &mut self.event).map_err(|mut error| {
            // The usual slip: the record itself given as the input, not an object of the parameters.
            if let ([param], Value::Object(given)) = (params, input) {
                if !given.contains_key(&param.name) {
                    error.message.push_str(&format!(
                        " (the input has a field per parameter of the process: {{\"{}\": …}})",
                        param.name
                    ));
                }
            }
            Error::InvalidValue {
                what: format!("invalid input for process `{process}`"),
                error,
            }
        })?;
        let id = InstanceId(self.next_id);
        self.cases.insert(
            id.0,
            Case {
                blob: Vec::new(),
                wake: NO_TIME,
                status: InstanceStatus::Running,
                process: pid,
                last: self.now.0,
                kpi: self.kpis.start(pid, self.now.0),
            },
        );
        match self.apply_in_place(id, None, self.now.0) {
            Ok(()) => {
                self.next_id += 1;
                Ok(id)
            }
            Err(error) => {
                self.cases.remove(&id.0);
                Err(error)
            }
        }
    }

    /// Completes a task as `actor`, with the outputs the step asks for (a JSON object).
    pub fn complete(
        &mut self,
        task: TaskRef,
        actor: &Actor,
        outputs: &Value,
    ) -> Result<Vec<Effect>, Error> {
        self.complete_in_place(task, actor, outputs)?;
        Ok(self.last_effects().to_vec())
    }

    /// [`Runtime::complete`], with the effects read in place: nothing is decoded or copied unless asked for.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let wasm = proc_runtime::doc_example_module();
    /// use proc_runtime::{Actor, EffectKind, Module, Runtime};
    /// use serde_json::json;
    ///
    /// let mut runtime = Runtime::new(&Module::from_bytes(&wasm)?)?;
    /// let effects = runtime.start_view("greet", &json!({ "customer": "Ada" }))?;
    /// let opened = effects.iter().find(|e| e.kind() == EffectKind::TaskOpened).expect("a task opens");
    /// assert_eq!((opened.step(), opened.role()), (Some("hello"), Some("Agent")));
    /// assert_eq!(opened.text(), Some("Greet Ada by name"));
    /// let task = opened.task().expect("a task");
    ///
    /// let effects = runtime.complete_view(task, &Actor::new("ann", &["Agent"]), &json!({}))?;
    /// let kinds: Vec<EffectKind> = effects.iter().map(|e| e.kind()).collect();
    /// assert_eq!(kinds, [EffectKind::TaskCompleted, EffectKind::Completed]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn complete_view(
        &mut self,
        task: TaskRef,
        actor: &Actor,
        outputs: &Value,
    ) -> Result<Effects<'_>, Error> {
        self.complete_in_place(task, actor, outputs)?;
        Ok(self.last_effects())
    }

    fn complete_in_place(
        &mut self,
        task: TaskRef,
        actor: &Actor,
        outputs: &Value,
    ) -> Result<(), Error> {
        self.case(task.instance)?;
        check_actor(actor)?;
        self.begin(event::COMPLETE);
        let meta = &self.module.inner.meta;
        let step = meta.steps.get(task.step as usize).ok_or_else(|| {
            Error::Rejected(Rejection {
                code: reject::UNKNOWN_TASK,
                instance: task.instance,
                task: Some(task.task),
                message: format!("instance {} has no open task {}", task.instance, task.task),
            })
        })?;
        self.event.extend_from_slice(&task.task.to_le_bytes());
        self.event.extend_from_slice(&task.step.to_le_bytes());
        encode_actor(
            meta,
            self.directory.as_deref(),
            &self.admin_roles,
            actor,
            &mut self.event,
        );
        codec::encode_fields(meta, &step.outputs, outputs, "", &mut self.event).map_err(
            |error| Error::InvalidValue {
                what: format!("invalid outputs for step `{}`", step.name),
                error,
            },
        )?;
        self.apply_in_place(task.instance, Some(actor), self.now.0)
    }

    /// Sends a signal (with its payload, a JSON object) into an instance.
    pub fn signal(
        &mut self,
        instance: InstanceId,
        name: &str,
        payload: &Value,
    ) -> Result<Vec<Effect>, Error> {
        self.signal_in_place(instance, name, payload)?;
        Ok(self.last_effects().to_vec())
    }

    /// [`Runtime::signal`], with the effects read in place.
    pub fn signal_view(
        &mut self,
        instance: InstanceId,
        name: &str,
        payload: &Value,
    ) -> Result<Effects<'_>, Error> {
        self.signal_in_place(instance, name, payload)?;
        Ok(self.last_effects())
    }

    fn signal_in_place(
        &mut self,
        instance: InstanceId,
        name: &str,
        payload: &Value,
    ) -> Result<(), Error> {
        self.case(instance)?;
        self.begin(event::SIGNAL);
        let meta = &self.module.inner.meta;
        let id = meta.signal_id(name).ok_or_else(|| Error::UnknownName {
            what: "signal",
            name: name.to_string(),
            known: meta.signals.iter().map(|s| s.name.clone()).collect(),
        })?;
        let fields = meta
            .signals
            .get(id as usize)
            .map(|s| s.fields.as_slice())
            .unwrap_or_default();
        self.event.extend_from_slice(&id.to_le_bytes());
        codec::encode_fields(meta, fields, payload, "", &mut self.event).map_err(|error| {
            Error::InvalidValue {
                what: format!("invalid payload for signal `{name}`"),
                error,
            }
        })?;
        self.apply_in_place(instance, None, self.now.0)?;
        if let Some(case) = self.cases.get_mut(&instance.0) {
            if !case.kpi.is_empty() {
                self.kpis
                    .observe_signal(case.process, &mut case.kpi, id, payload);
            }
        }
        Ok(())
    }

    /// Cancels an instance: its open tasks close, it ends as cancelled.
    pub fn cancel(&mut self, instance: InstanceId, reason: &str) -> Result<Vec<Effect>, Error> {
        self.case(instance)?;
        self.begin(event::CANCEL);
        text(&mut self.event, reason);
        self.apply(instance, None)
    }

    /// Reports what the host did for an action request: its result (as JSON; `null` for actions without one),
    /// or an error message, which fails the instance.
    pub fn action_result(
        &mut self,
        request: RequestRef,
        result: Result<&Value, &str>,
    ) -> Result<Vec<Effect>, Error> {
        self.case(request.instance)?;
        let meta = &self.module.inner.meta;
        let action = meta
            .actions
            .get(request.action as usize)
            .cloned()
            .ok_or_else(|| Error::UnknownName {
                what: "action",
                name: format!("#{}", request.action),
                known: meta.actions.iter().map(|a| a.name.clone()).collect(),
            })?;
        self.begin(event::ACTION_RESULT);
        self.event.extend_from_slice(&request.request.to_le_bytes());
        self.event.extend_from_slice(&request.action.to_le_bytes());
        match result {
            Ok(value) => {
                self.event.push(1);
                if let Some(ty) = &action.result {
                    let meta = &self.module.inner.meta;
                    codec::encode(meta, ty, value, "", &mut self.event).map_err(|error| {
                        Error::InvalidValue {
                            what: format!("invalid result of action `{}`", action.name),
                            error,
                        }
                    })?;
                }
            }
            Err(message) => {
                self.event.push(0);
                text(&mut self.event, message);
            }
        }
        self.apply(request.instance, None)
    }

    fn task_event(&mut self, kind: u32, task: TaskRef, actor: &Actor) -> Result<(), Error> {
        self.case(task.instance)?;
        check_actor(actor)?;
        self.begin(kind);
        self.event.extend_from_slice(&task.task.to_le_bytes());
        self.actor(actor);
        Ok(())
    }

    /// The actor takes the task: from now on only they may complete it.
    pub fn claim(&mut self, task: TaskRef, actor: &Actor) -> Result<Vec<Effect>, Error> {
        self.task_event(event::CLAIM, task, actor)?;
        self.apply(task.instance, Some(actor))
    }

    /// The claimant (or a manager) gives the task back.
    pub fn release(&mut self, task: TaskRef, actor: &Actor) -> Result<Vec<Effect>, Error> {
        self.task_event(event::RELEASE, task, actor)?;
        self.apply(task.instance, Some(actor))
    }

    /// Hands the task to a named colleague, who must be allowed to do it (their roles and skills come from
    /// `to` and the directory); they then hold the claim.
    pub fn delegate(
        &mut self,
        task: TaskRef,
        actor: &Actor,
        to: &Actor,
    ) -> Result<Vec<Effect>, Error> {
        check_actor(to)?;
        self.task_event(event::DELEGATE, task, actor)?;
        self.actor(to);
        self.apply(task.instance, Some(actor))
    }

    /// A manager gives the task to another role.
    pub fn reassign(
        &mut self,
        task: TaskRef,
        actor: &Actor,
        role: &str,
    ) -> Result<Vec<Effect>, Error> {
        let meta = &self.module.inner.meta;
        let role_id = meta.role_id(role).ok_or_else(|| Error::UnknownName {
            what: "role",
            name: role.to_string(),
            known: meta.roles.iter().map(|r| r.name.clone()).collect(),
        })?;
        self.task_event(event::REASSIGN, task, actor)?;
        self.event.extend_from_slice(&role_id.to_le_bytes());
        self.apply(task.instance, Some(actor))
    }

    /// A manager puts the task on hold; its deadline stops.
    pub fn suspend(&mut self, task: TaskRef, actor: &Actor) -> Result<Vec<Effect>, Error> {
        self.task_event(event::SUSPEND, task, actor)?;
        self.apply(task.instance, Some(actor))
    }

    /// A manager takes the task off hold; its deadline runs again.
    pub fn resume(&mut self, task: TaskRef, actor: &Actor) -> Result<Vec<Effect>, Error> {
        self.task_event(event::RESUME, task, actor)?;
        self.apply(task.instance, Some(actor))
    }

    /// A manager skips a `skippable` step; the flow continues without its outputs.
    pub fn skip(&mut self, task: TaskRef, actor: &Actor) -> Result<Vec<Effect>, Error> {
        self.task_event(event::SKIP, task, actor)?;
        self.apply(task.instance, Some(actor))
    }

    /// A manager sends the flow back to an earlier step (which opens again); what the flow waited for is
    /// cancelled.
    pub fn redo(
        &mut self,
        instance: InstanceId,
        step: &str,
        actor: &Actor,
    ) -> Result<Vec<Effect>, Error> {
        self.case(instance)?;
        let meta = &self.module.inner.meta;
        let id = meta
            .steps
            .iter()
            .position(|s| s.name == step)
            .and_then(|i| u32::try_from(i).ok())
            .ok_or_else(|| Error::UnknownName {
                what: "step",
                name: step.to_string(),
                known: meta.steps.iter().map(|s| s.name.clone()).collect(),
            })?;
        check_actor(actor)?;
        self.begin(event::REDO);
        self.event.extend_from_slice(&id.to_le_bytes());
        self.actor(actor);
        self.apply(instance, Some(actor))
    }

    /// Whether the prepared event is of this kind.
    fn event_is(&self, kind: u32) -> bool {
        self.event.get(0..4) == Some(&kind.to_le_bytes()[..])
    }

    fn begin(&mut self, kind: u32) {
        self.event.clear();
        self.event.extend_from_slice(&kind.to_le_bytes());
    }

    fn actor(&mut self, actor: &Actor) {
        let meta = &self.module.inner.meta;
        encode_actor(
            meta,
            self.directory.as_deref(),
            &self.admin_roles,
            actor,
            &mut self.event,
        );
    }

    /// Runs the prepared event against an instance and keeps the result; the effects, owned.
    fn apply(&mut self, instance: InstanceId, actor: Option<&Actor>) -> Result<Vec<Effect>, Error> {
        self.apply_in_place(instance, actor, self.now.0)?;
        Ok(self.last_effects().to_vec())
    }

    /// The effects of the last event [`Runtime::apply_in_place`] applied.
    fn last_effects(&self) -> Effects<'_> {
        self.last.effects(&self.module, &self.worker, &self.ends)
    }

    /// Runs the prepared event against an instance and keeps the result; its effects stay in place (read them
    /// with [`Runtime::last_effects`]).
    ///
    /// `at` is the time the event happens: the clock's, or a timer's (earlier) when [`Runtime::advance`] fires it.
    fn apply_in_place(
        &mut self,
        instance: InstanceId,
        actor: Option<&Actor>,
        at: i64,
    ) -> Result<(), Error> {
        let Some(case) = self.cases.get(&instance.0) else {
            return Err(Error::UnknownInstance(instance));
        };
        let advancing = self.event_is(event::ADVANCE);
        let mut result = self
            .worker
            .call(Some(instance.0), &case.blob, &self.event, at);
        if advancing && matches!(result, Err(CallError::Timeout(_))) {
            // The time limit is wall-clock time: a paused or busy host may have cut a normal event short.
            result = self
                .worker
                .call(Some(instance.0), &case.blob, &self.event, at);
        }
        let failure = match result {
            Ok(reply) => Ok(reply),
            // The workflow hit a run-time error while handling the event: the event fails the instance.
            Err(CallError::Fault(message)) => Err(format!("run-time error: {message}")),
            // Time cannot be refused like a person's event, and the module is deterministic: a timer that runs
            // into an instance's limits (or past its time limit twice, or into a trap) would do so at every
            // `advance`, holding up the timers of every instance due after it. It fails its instance instead.
            Err(
                CallError::Limit(message) | CallError::Timeout(message) | CallError::Trap(message),
            ) if advancing => Err(format!(
                "a deadline or timer could not be handled: {message}"
            )),
            Err(error) => return Err(self.call_error(error)),
        };
        let (reply, case_len) = match failure {
            Ok(reply) => reply,
            Err(reason) => {
                let mut fault = Vec::new();
                fault.extend_from_slice(&event::FAULT.to_le_bytes());
                // While starting, START's process and input follow (the module creates the instance, failed,
                // with its input); otherwise a process id of 0.
                let starting = self.event_is(event::START);
                let start = if starting {
                    self.event.get(4..).unwrap_or(&[0; 4]).to_vec()
                } else {
                    vec![0; 4]
                };
                fault.extend_from_slice(&start);
                text(&mut fault, &reason);
                let blob = case.blob.as_slice();
                self.worker
                    .call(None, blob, &fault, at)
                    .map_err(|e| self.call_error(e))?
            }
        };
        match reply {
            Reply::Applied {
                effects,
                count,
                wake,
                status,
            } => {
                let process = case.process;
                let inner = &self.module.inner;
                let (bytes, blob) = self.worker.output(effects.clone(), case_len);
                // Checked before anything is kept, so a module that writes nonsense changes nothing.
                view::index(&inner.meta, process, bytes, count, &mut self.ends).map_err(|_| {
                    Error::Trap("the module wrote effects this runtime cannot read".to_string())
                })?;
                let Some(case) = self.cases.get_mut(&instance.0) else {
                    return Err(Error::UnknownInstance(instance));
                };
                case.blob.clear();
                case.blob.extend_from_slice(blob);
                case.status = InstanceStatus::from_code(status);
                // The module handled the event at its own time if the clock was behind it (a restored case).
                let at = at.max(case.last);
                case.last = at;
                let wake_changed = case.wake != wake;
                if wake_changed {
                    if wake != NO_TIME {
                        self.timers.push(wake, instance.0);
                    }
                    case.wake = wake;
                }
                let running = case.status == InstanceStatus::Running;
                let next_wakeup =
                    (wake_changed && running).then_some((wake != NO_TIME).then_some(Time(wake)));
                self.last = Last {
                    effects,
                    origin: Origin {
                        instance,
                        process,
                        next_wakeup,
                        at: Time(at),
                    },
                };
                if !case.kpi.is_empty() {
                    // From the bytes already in hand: each look-up of the module's memory goes through the store.
                    let effects = self.last.effects_in(&self.module, bytes, &self.ends);
                    let directory = self.directory.as_deref();
                    self.kpis
                        .observe(process, &mut case.kpi, at, &effects, actor, directory);
                }
                if wake_changed {
                    self.settle_timers();
                }
                Ok(())
            }
            Reply::Rejected(code, task, arg, detail) => {
                let id = actor.map(|a| a.id.as_str());
                let mut error = self.rejection(instance, code, task, arg, &detail, id);
                if let Error::Rejected(rejection) = &mut error {
                    match code {
                        reject::NOT_IN_ROLE => {
                            rejection.message.push_str(&self.unknown_role_hint(actor));
                        }
                        reject::UNKNOWN_TASK => {
                            rejection.message = self.unknown_task_message(instance, task);
                        }
                        _ => {}
                    }
                }
                Err(error)
            }
            Reply::Answered(_) => Err(Error::Trap(
                "the module answered an event as a query".to_string(),
            )),
        }
    }

    /// After "not in role": a role name the actor gave that the module does not know was left out of the
    /// actor, and is likely the mistake (`agent` for `Agent`). Empty if there is none.
    fn unknown_role_hint(&self, actor: Option<&Actor>) -> String {
        let meta = &self.module.inner.meta;
        let given = actor.map(|a| a.roles.as_slice()).unwrap_or_default();
        let Some(unknown) = given.iter().find(|r| meta.role_id(r).is_none()) else {
            return String::new();
        };
        // The same name in another case, else the nearest by spelling (at most a third of it wrong).
        let lower = unknown.to_lowercase();
        let near = meta
            .roles
            .iter()
            .map(|r| (strsim::levenshtein(&lower, &r.name.to_lowercase()), r))
            .filter(|(distance, _)| *distance <= (unknown.chars().count() / 3).max(1))
            .min_by_key(|(distance, _)| *distance)
            .map(|(_, r)| r);
        let hint = match near {
            Some(role) => format!("did you mean `{}`?", role.name),
            None => format!(
                "its roles are {}",
                meta.roles
                    .iter()
                    .map(|r| format!("`{}`", r.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        format!(" (`{unknown}` is not a role of this module; {hint})")
    }

    /// "No open task": what is open, since the task may be open for another step than the one the event gave
    /// (the event's step is its third word), or done already.
    fn unknown_task_message(&mut self, instance: InstanceId, task: u32) -> String {
        let asked = self
            .event
            .get(8..12)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes);
        let open = self
            .status(instance)
            .map(|info| info.tasks)
            .unwrap_or_default();
        let meta = &self.module.inner.meta;
        match (open.iter().find(|t| t.task.task == task), asked) {
            (Some(open), Some(step)) => format!(
                "instance {instance} has no open task {task} for step `{}`: task {task} is for step `{}`",
                meta.step_name(step),
                open.step
            ),
            _ if open.is_empty() => {
                format!("instance {instance} has no open task {task} (no task is open)")
            }
            _ => format!(
                "instance {instance} has no open task {task} (open: {})",
                open.iter()
                    .map(|t| format!("task {} `{}`", t.task.task, t.step))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn call_error(&self, error: CallError) -> Error {
        match error {
            CallError::BadEvent => Error::Trap(
                "the module could not read the event (is the module from a different compiler version?)"
                    .to_string(),
            ),
            CallError::Fault(message) => Error::Trap(message),
            CallError::Timeout(message) => {
                Error::Limit(format!("{message}; the event was not applied"))
            }
            CallError::Limit(message) | CallError::Memory(message) => Error::Limit(message),
            CallError::Trap(message) => Error::Trap(message),
        }
    }

    fn rejection(
        &self,
        instance: InstanceId,
        code: u32,
        task: u32,
        arg: u32,
        detail: &str,
        actor: Option<&str>,
    ) -> Error {
        let meta = &self.module.inner.meta;
        let who = actor.unwrap_or("someone");
        let step_of_task = || {
            meta.steps
                .iter()
                .enumerate()
                .find(|(i, _)| u32::try_from(*i).ok() == Some(arg))
                .map(|(_, s)| s.name.clone())
        };
        let the_task = match step_of_task() {
            Some(step) if task != NO_ID => format!("task {task} (`{step}`)"),
            _ => format!("task {task}"),
        };
        let task_word = if task == NO_ID {
            "it".to_string()
        } else {
            format!("task {task}")
        };
        let message = match code {
            reject::UNKNOWN_TASK => format!("instance {instance} has no open task {task}"),
            reject::TASK_SUSPENDED => format!("{task_word} is on hold; it must be resumed first"),
            reject::NOT_IN_ROLE => format!(
                "{who} may not do {task_word}: it is for role `{}`, which {who} does not hold",
                meta.role_name(arg)
            ),
            reject::MISSING_SKILL => format!(
                "{who} may not do {task_word}: it needs the skill `{}`",
                meta.skill_name(arg)
            ),
            reject::NOT_THE_PERSON => {
                if detail.is_empty() {
                    format!(
                        "{who} may not do {task_word}: it is for a person the directory does not know"
                    )
                } else {
                    format!("{who} may not do {task_word}: it is for {detail} only")
                }
            }
            reject::FOUR_EYES => format!(
                "{who} may not do {task_word}: {who} did the earlier step it checks, and someone else must do \
                 this one (four eyes)"
            ),
            reject::TOO_EARLY if !detail.is_empty() => {
                format!("{the_task} may not be completed yet: not before {detail}")
            }
            reject::TOO_EARLY => {
                format!("{the_task} may not be completed yet: its waiting time has not passed")
            }
            reject::OUTSIDE_HOURS => format!(
                "{task_word} may only be done while calendar `{}` is open",
                meta.calendar_name(arg)
            ),
            reject::CLAIMED_BY_OTHER => format!("{task_word} is claimed by {detail}"),
            reject::INSTANCE_ENDED => match self.cases.get(&instance.0).map(|c| c.status) {
                Some(status) => format!(
                    "instance {instance} has already ended ({})",
                    status.as_str()
                ),
                None => format!("instance {instance} has already ended"),
            },
            reject::SIGNAL_NOT_AWAITED => format!(
                "nothing in instance {instance} is waiting for signal `{}`",
                meta.signal_name(arg)
            ),
            reject::UNKNOWN_REQUEST => {
                format!("instance {instance} has no pending action request {arg}")
            }
            reject::NOT_A_MANAGER => {
                // A redo names the step, not a task.
                let what = match step_of_task() {
                    Some(step) if task == NO_ID => format!("step `{step}`"),
                    _ => task_word,
                };
                format!(
                    "{who} may not manage {what}: that needs a role of its escalation ladder, or an \
                     administrator role"
                )
            }
            reject::NOT_SKIPPABLE => format!(
                "step `{}` cannot be skipped: it is not marked `skippable`",
                meta.step_name(arg)
            ),
            reject::CANNOT_REDO => format!(
                "step `{}` cannot be redone now: it has not been done, or its flow has moved on",
                meta.step_name(arg)
            ),
            reject::NOT_CLAIMED => format!("{task_word} is not claimed"),
            reject::DELEGATE_NOT_ELIGIBLE => {
                format!(
                    "{task_word} cannot be handed to {detail}: they may not do it (they do not hold its role \
                     or skill, it is for another person, or they did the step it checks)"
                )
            }
            reject::NOT_SUSPENDED => format!("{task_word} is not on hold"),
            reject::UNKNOWN_PROCESS => format!("the module has no process #{arg}"),
            reject::ALREADY_CLAIMED => format!("{task_word} is already claimed by {detail}"),
            reject::DELEGATE_TO_SELF => {
                format!("{who} cannot delegate {task_word} to themselves; to take it, claim it")
            }
            other => format!("the event was refused (code {other})"),
        };
        Error::Rejected(Rejection {
            code,
            instance,
            task: (task != NO_ID).then_some(task),
            message,
        })
    }

    // ---------------------------------------------------------------------------------------------------------
    // Queries

    /// An instance's status, input, open tasks and the steps of its process that have run.
    pub fn status(&mut self, instance: InstanceId) -> Result<InstanceInfo, Error> {
        let Some(case) = self.cases.get(&instance.0) else {
            return Err(Error::UnknownInstance(instance));
        };
        let mut query_event = Vec::new();
        query_event.extend_from_slice(&event::QUERY.to_le_bytes());
        let result = self.worker.call(None, &case.blob, &query_event, self.now.0);
        let (reply, _) = result.map_err(|e| self.call_error(e))?;
        let Reply::Answered(bytes) = reply else {
            return Err(Error::Trap("the module did not answer a query".to_string()));
        };
        let inner = &self.module.inner;
        parse_query(&inner.meta, &inner.names, instance, &bytes)
            .ok_or_else(|| Error::Trap("the module's answer to a query is malformed".to_string()))
    }

    /// The instance's open tasks.
    pub fn open_tasks(&mut self, instance: InstanceId) -> Result<Vec<TaskInfo>, Error> {
        Ok(self.status(instance)?.tasks)
    }

    // ---------------------------------------------------------------------------------------------------------
    // Schedules

    /// The first time strictly after `after` when a schedule fires (`None`: it never does), in its calendar's
    /// zone and working days. A host keeps this for each schedule of [`proc_abi::Metadata::schedules`] and starts
    /// an instance of the schedule's process (with no input) when its clock passes it.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let wasm = proc_runtime::doc_example_module();
    /// # let module = proc_runtime::Module::from_bytes(&wasm)?;
    /// # let runtime = proc_runtime::Runtime::new(&module)?;
    /// for schedule in &runtime.module().metadata().schedules {
    ///     let next = runtime.next_occurrence(&schedule.name, runtime.now())?;
    ///     println!("{} next starts {} at {next:?}", schedule.name, schedule.process);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn next_occurrence(&self, schedule: &str, after: Time) -> Result<Option<Time>, Error> {
        let meta = &self.module.inner.meta;
        let info = meta
            .schedules
            .iter()
            .find(|s| s.name == schedule)
            .ok_or_else(|| Error::UnknownName {
                what: "schedule",
                name: schedule.to_string(),
                known: meta.schedules.iter().map(|s| s.name.clone()).collect(),
            })?;
        let calendar = info.calendar.as_ref().and_then(|name| {
            let index = meta.calendars.iter().position(|c| &c.name == name)?;
            self.module.inner.calendars.get(index)
        });
        Ok(crate::schedule::next_occurrence(info, calendar, after.0).map(Time))
    }

    // ---------------------------------------------------------------------------------------------------------
    // Snapshots

    /// The instance's complete state as bytes; [`Runtime::restore`] continues it exactly as it would have gone
    /// on (in this runtime or another one running the same module).
    pub fn snapshot(&self, instance: InstanceId) -> Result<Vec<u8>, Error> {
        let case = self.case(instance)?;
        let hash = &self.module.inner.build_hash;
        let mut out = Vec::with_capacity(64 + case.blob.len());
        out.extend_from_slice(SNAPSHOT_MAGIC);
        out.extend_from_slice(&proc_abi::ABI_VERSION.to_le_bytes());
        out.extend_from_slice(&u32::try_from(hash.len()).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(hash);
        out.extend_from_slice(&case.wake.to_le_bytes());
        out.push(match case.status {
            InstanceStatus::Running => 0,
            InstanceStatus::Completed => 1,
            InstanceStatus::Failed => 2,
            InstanceStatus::Cancelled => 3,
        });
        out.extend_from_slice(&instance.0.to_le_bytes());
        out.extend_from_slice(&u32::try_from(case.kpi.len()).unwrap_or(0).to_le_bytes());
        for slot in &case.kpi {
            slot.write(&mut out);
        }
        out.extend_from_slice(&case.blob);
        // A checksum last, so that `restore` refuses bytes damaged in storage instead of running on them.
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        Ok(out)
    }

    /// The build id ([`Module::build_id`]) of the module a snapshot was taken from, so a host that keeps several
    /// builds can restore it into the right one; `None` if the bytes are not a snapshot of this ABI version.
    pub fn snapshot_build_id(bytes: &[u8]) -> Option<String> {
        let mut r = Reader::new(bytes.strip_prefix(SNAPSHOT_MAGIC.as_slice())?);
        if r.u32().ok()? != proc_abi::ABI_VERSION {
            return None;
        }
        let len = r.u32().ok()? as usize;
        Some(crate::module::hex(r.bytes(len).ok()?))
    }

    /// Restores a snapshot under the id its instance had, so that the task and request references a host kept
    /// (which name the instance) stay valid: after a restart, restore every case's last snapshot into a new
    /// runtime and carry on. Ids this runtime gives out later come after the restored ones.
    ///
    /// An instance with that id already in this runtime is not replaced: the call is refused with
    /// [`Error::InstanceExists`] (remove it first to go back to the snapshot, or use [`Runtime::restore_copy`]
    /// for a second case). The snapshot must come from the same build of the module (the same bytes): another
    /// build, even of the same source by another compiler version, is refused with [`Error::BadSnapshot`], since it
    /// may lay the case out differently.
    ///
    /// ```
    /// # use proc_runtime::{Module, Runtime, Error};
    /// # fn demo(module: &Module, mut runtime: Runtime) -> Result<(), Error> {
    /// let (id, _) = runtime.start("complaint", &serde_json::json!({}))?;
    /// let saved = runtime.snapshot(id)?;
    /// let mut after_restart = Runtime::new(module)?;
    /// assert_eq!(after_restart.restore(&saved)?, id);
    /// # Ok(()) }
    /// ```
    pub fn restore(&mut self, bytes: &[u8]) -> Result<InstanceId, Error> {
        self.restore_with(bytes, false)
    }

    /// Restores a snapshot as a new instance with a new id, next to the one it was taken from if that is still
    /// here: a copy of the case that goes on on its own (to try out what an event would do, say).
    pub fn restore_copy(&mut self, bytes: &[u8]) -> Result<InstanceId, Error> {
        self.restore_with(bytes, true)
    }

    fn restore_with(&mut self, bytes: &[u8], copy: bool) -> Result<InstanceId, Error> {
        let bad = |why: &str| Error::BadSnapshot(why.to_string());
        if !bytes.starts_with(SNAPSHOT_MAGIC.as_slice()) {
            return Err(bad("it is not a Proc snapshot"));
        }
        let (bytes, digest) = bytes
            .split_at_checked(bytes.len().saturating_sub(DIGEST_LEN))
            .ok_or_else(|| bad("it is cut short"))?;
        if bytes.len() < SNAPSHOT_MAGIC.len() || Sha256::digest(bytes).as_slice() != digest {
            return Err(bad(
                "its checksum does not match: the bytes were damaged or cut short after it was taken",
            ));
        }
        let rest = bytes
            .strip_prefix(SNAPSHOT_MAGIC.as_slice())
            .ok_or_else(|| bad("it is not a Proc snapshot"))?;
        let mut r = Reader::new(rest);
        let abi = r.u32().map_err(|_| bad("it is cut short"))?;
        if abi != proc_abi::ABI_VERSION {
            return Err(bad(&format!(
                "it was taken with ABI version {abi}, and this runtime runs version {}",
                proc_abi::ABI_VERSION
            )));
        }
        let hash_len = r.u32().map_err(|_| bad("it is cut short"))? as usize;
        let hash = r.bytes(hash_len).map_err(|_| bad("it is cut short"))?;
        if hash != self.module.inner.build_hash.as_slice() {
            return Err(bad(
                "it was taken from a different build of the module (another source, or another compiler): a case \
                 continues only in the module that started it",
            ));
        }
        // The wake-up and status recorded by the host; the module's own answer below is what counts.
        let _wake = r.i64().map_err(|_| bad("it is cut short"))?;
        let _status = r.u8().map_err(|_| bad("it is cut short"))?;
        let original = r
            .i64()
            .map(|id| u64::from_le_bytes(id.to_le_bytes()))
            .map_err(|_| bad("it is cut short"))?;
        if original == 0 || original == u64::MAX {
            return Err(bad("its instance id is damaged"));
        }
        if !copy && self.cases.contains_key(&original) {
            return Err(Error::InstanceExists(InstanceId(original)));
        }
        let slots = r.u32().map_err(|_| bad("it is cut short"))? as usize;
        let mut kpi = Vec::new();
        for _ in 0..slots.min(rest.len() / Slot::SIZE) {
            let bytes = r.bytes(Slot::SIZE).map_err(|_| bad("it is cut short"))?;
            kpi.push(Slot::read(bytes).ok_or_else(|| bad("it is cut short"))?);
        }
        let blob = rest.get(r.position()..).unwrap_or_default().to_vec();
        // Let the module read the whole case, as a query does: its answer gives the status, the next wake-up and
        // the instance's time, and a case it cannot read is refused here rather than failing later.
        let mut query_event = Vec::new();
        query_event.extend_from_slice(&event::QUERY.to_le_bytes());
        let answer = match self.worker.call(None, &blob, &query_event, self.now.0) {
            Ok((Reply::Answered(answer), _)) => answer,
            _ => return Err(bad("its state is damaged")),
        };
        let (status, process, last, wake) = {
            let mut r = Reader::new(&answer);
            let fields = (|| Some((r.u32().ok()?, r.u32().ok()?, r.i64().ok()?, r.i64().ok()?)))();
            let (status, process, _started, last) =
                fields.ok_or_else(|| bad("its state is damaged"))?;
            let wake = r.i64().map_err(|_| bad("its state is damaged"))?;
            (status, process, last, wake)
        };
        let inner = &self.module.inner;
        if process as usize >= inner.meta.processes.len()
            || status > 3
            || kpi.len() != self.kpis.count(process)
            || parse_query(&inner.meta, &inner.names, InstanceId(0), &answer).is_none()
        {
            return Err(bad("its state is damaged"));
        }
        let status = InstanceStatus::from_code(status);
        let wake = if status == InstanceStatus::Running {
            wake
        } else {
            NO_TIME
        };
        let id = if copy {
            self.next_id += 1;
            InstanceId(self.next_id - 1)
        } else {
            self.next_id = self.next_id.max(original + 1);
            InstanceId(original)
        };
        self.cases.insert(
            id.0,
            Case {
                blob,
                wake,
                status,
                process,
                last,
                kpi: kpi.into_boxed_slice(),
            },
        );
        if wake != NO_TIME {
            self.timers.push(wake, id.0);
            self.settle_timers();
        }
        Ok(id)
    }
}

/// People are known by their ids: an actor without one cannot be authorised for anything.
fn check_actor(actor: &Actor) -> Result<(), Error> {
    let invalid = |message: &str| {
        Err(Error::InvalidValue {
            what: "invalid actor".to_string(),
            error: codec::ValueError {
                path: String::new(),
                message: message.to_string(),
            },
        })
    };
    // Most ids start with a visible ASCII character; only the others need the full (Unicode) trim.
    let plain = actor
        .id
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_graphic);
    if !plain && actor.id.trim().is_empty() {
        return invalid("a person acting on a task needs an id");
    }
    // Ids are recorded and shown to people: control characters (a NUL, an escape sequence) and the marks that
    // reverse the direction of text would make what they read differ from what happened.
    let suspicious = if actor.id.is_ascii() {
        actor.id.bytes().any(|b| b.is_ascii_control())
    } else {
        actor.id.chars().any(proc_abi::text::is_hidden_char)
    };
    if suspicious {
        return invalid(
            "an id may not hold control characters or marks that change the direction of text",
        );
    }
    Ok(())
}

/// Writes an actor as the ABI's `ACTOR`: their id, the ids of their roles and skills (given and from the
/// directory; names the module does not know are left out) and whether they are an admin.
fn encode_actor(
    meta: &Metadata,
    directory: Option<&dyn Directory>,
    admin_roles: &[u32],
    actor: &Actor,
    out: &mut Vec<u8>,
) {
    text(out, &actor.id);
    let (directory_roles, directory_skills) = match directory {
        Some(d) => (d.roles_of(&actor.id), d.skills_of(&actor.id)),
        None => (Vec::new(), Vec::new()),
    };
    let mut admin = false;
    let roles = actor
        .roles
        .iter()
        .chain(&directory_roles)
        .filter_map(|r| meta.role_id(r))
        .inspect(|id| admin |= admin_roles.contains(id));
    ids(out, roles);
    let skills = actor
        .skills
        .iter()
        .chain(&directory_skills)
        .filter_map(|s| meta.skill_id(s));
    ids(out, skills);
    out.push(u8::from(admin));
}

/// Writes `u32 n` and `n` ids; the count is patched in once known, so nothing is collected first.
fn ids(out: &mut Vec<u8>, ids: impl Iterator<Item = u32>) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    let mut n: u32 = 0;
    for id in ids {
        out.extend_from_slice(&id.to_le_bytes());
        n += 1;
    }
    if let Some(count) = out.get_mut(at..at + 4) {
        count.copy_from_slice(&n.to_le_bytes());
    }
}

fn text(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn time(ms: i64) -> Option<Time> {
    (ms != NO_TIME && ms != i64::MIN).then_some(Time(ms))
}

fn parse_query(
    meta: &proc_abi::Metadata,
    names: &effect::Names,
    instance: InstanceId,
    bytes: &[u8],
) -> Option<InstanceInfo> {
    let mut r = Reader::new(bytes);
    let status = InstanceStatus::from_code(r.u32().ok()?);
    let pid = r.u32().ok()?;
    let started = Time(r.i64().ok()?);
    let _now = r.i64().ok()?;
    let next_wakeup = time(r.i64().ok()?);
    let ntasks = r.u32().ok()?;
    let mut tasks = Vec::new();
    for _ in 0..ntasks {
        let task = r.u32().ok()?;
        let step = r.u32().ok()?;
        let state = r.u8().ok()?;
        let role = r.u32().ok()?;
        let person = r.text().ok()?;
        let claimed = r.text().ok()?;
        let opened = Time(r.i64().ok()?);
        let due = time(r.i64().ok()?);
        let instruction = r.text().ok()?.to_string();
        tasks.push(TaskInfo {
            task: TaskRef {
                instance,
                task,
                step,
            },
            step: names.step(step),
            suspended: state == query::TASK_SUSPENDED,
            role: (role != NO_ID).then(|| names.role(role)),
            person: (!person.is_empty()).then(|| person.to_string()),
            claimed_by: (!claimed.is_empty()).then(|| claimed.to_string()),
            opened,
            due,
            instruction,
            form: names.form(step),
        });
    }
    let process = meta.processes.get(pid as usize)?;
    let input = codec::decode_fields(meta, &process.params, &mut r).ok()?;
    let nsteps = r.u32().ok()?;
    let mut steps = Vec::new();
    for _ in 0..nsteps {
        let step = r.u32().ok()?;
        let done = r.u8().ok()? != 0;
        let breached = r.u8().ok()? != 0;
        let done_by = r.text().ok()?;
        let completed_at = r.i64().ok()?;
        let outputs = if done {
            let fields = meta.steps.get(step as usize)?.outputs.clone();
            Some(codec::decode_fields(meta, &fields, &mut r).ok()?)
        } else {
            None
        };
        steps.push(StepRecord {
            step: names.step(step),
            done,
            breached,
            done_by: (done && !done_by.is_empty()).then(|| done_by.to_string()),
            completed_at: done.then_some(Time(completed_at)),
            outputs,
        });
    }
    let nwaits = r.u32().ok()?;
    let mut waiting = Vec::new();
    for _ in 0..nwaits {
        let kind = r.u8().ok()?;
        let id = r.u32().ok()?;
        let request = r.u32().ok()?;
        let wake = r.i64().ok()?;
        waiting.push(match kind {
            query::WAIT_SIGNAL => Waiting::Signal {
                signal: names.signal(id),
                until: time(wake),
            },
            query::WAIT_ACTION => Waiting::Action {
                request: crate::RequestRef {
                    instance,
                    request,
                    action: id,
                },
                action: names.action(id),
            },
            query::WAIT_TIME => match time(wake) {
                Some(until) => Waiting::Time { until },
                // A wait for a time that never comes is no wait for a time.
                None => continue,
            },
            _ => return None,
        });
    }
    Some(InstanceInfo {
        instance,
        process: process.name.clone(),
        status,
        started,
        next_wakeup,
        input,
        tasks,
        steps,
        waiting,
    })
}
