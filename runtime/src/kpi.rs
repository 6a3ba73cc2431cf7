//! KPIs, measured as instances run.
//!
//! A module's metadata lists its KPIs ([`proc_abi::meta::KpiMeta`]): a time between two moments of an
//! instance, a count of missed deadlines or escalations, or a number from a step's outputs or a signal's
//! payload, each with an optional target. The runtime keeps, per instance, two numbers per KPI that measures
//! its process and updates them from the effects of every accepted event; nothing is measured on rejected
//! events, so a refusal leaves the measurements unchanged too. [`Runtime::kpis`](crate::Runtime::kpis) reads
//! an instance's values and [`Summary::of`] summarises many instances' values (count, mean, percentiles,
//! share meeting the target).

use crate::calendar::Calendar;
use crate::directory::Directory;
use crate::effect::Effect;
use crate::runtime::Actor;
use crate::view::{EffectKind, Effects};
use proc_abi::meta::{KpiMeta, MeasureMeta, Metadata, PointMeta, TargetMeta};
use serde_json::{Value, json};
use std::sync::Arc;

/// The unit of a KPI's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KpiUnit {
    /// A time, in milliseconds.
    Milliseconds,
    /// Working time on a calendar (`time from … to … on Calendar`), in milliseconds.
    WorkingTime,
    /// A whole number (a count or a score).
    Number,
}

impl KpiUnit {
    /// The unit of a measure's values.
    pub fn of(measure: &MeasureMeta) -> KpiUnit {
        match measure {
            MeasureMeta::Time { calendar: None, .. } => KpiUnit::Milliseconds,
            MeasureMeta::Time { .. } => KpiUnit::WorkingTime,
            _ => KpiUnit::Number,
        }
    }

    /// The unit's name in JSON: `ms` (also for working time) or `number`.
    pub fn as_str(self) -> &'static str {
        match self {
            KpiUnit::Milliseconds | KpiUnit::WorkingTime => "ms",
            KpiUnit::Number => "number",
        }
    }

    /// Formats a value of this unit for people: `2h 30m`, `31h 30m of working time` (in hours: a day of working
    /// time is not a day) or `3`.
    pub fn format(self, value: f64) -> String {
        match self {
            KpiUnit::Number => {
                if value.fract() == 0.0 {
                    format!("{value:.0}")
                } else {
                    format!("{value:.2}")
                }
            }
            KpiUnit::Milliseconds => format_duration(value, true),
            KpiUnit::WorkingTime => format!("{} of working time", format_duration(value, false)),
        }
    }
}

/// One KPI's value for one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct KpiValue {
    /// The KPI's index in the metadata's `kpis`.
    pub index: usize,
    /// The KPI's name.
    pub name: Arc<str>,
    /// Its unit.
    pub unit: KpiUnit,
    /// The value, once known: a time when both moments have happened, a value once reported; a count always
    /// (so far).
    pub value: Option<i64>,
    /// Whether the value is final: times and values once known (or once the instance has ended without them:
    /// then `value` stays `None`), counts once the instance has ended.
    pub fixed: bool,
    /// Whether the value meets the KPI's target (`None` without a target or a value).
    pub met: Option<bool>,
    /// Whether the target is already out of reach, also before the value is final: a time still running that has
    /// passed a `<`, `<=` or `==` target (a first response not given after four hours misses `< 4h`; a time to a
    /// step only while that step's task is open, since a case that never reaches the step never has the value),
    /// a count past a `<`, `<=` or `==` target (counts only grow), or a final value that misses.
    pub missed: bool,
}

impl KpiValue {
    /// The value as a JSON object: `{"kpi", "value", "unit", "final", "met"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "kpi": &*self.name,
            "value": self.value,
            "unit": self.unit.as_str(),
            "final": self.fixed,
            "met": self.met,
            "missed": self.missed,
        })
    }
}

impl std::fmt::Display for KpiValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.value {
            None if self.fixed => {
                write!(f, "{}: never known (the case ended without it)", self.name)?
            }
            None if self.missed => {
                return write!(
                    f,
                    "{}: not yet known, and already past the target",
                    self.name
                );
            }
            None => write!(f, "{}: not yet known", self.name)?,
            Some(value) => {
                #[allow(clippy::cast_precision_loss, reason = "values are far below 2^52")]
                let text = self.unit.format(value as f64);
                write!(f, "{}: {text}", self.name)?;
                if !self.fixed {
                    write!(f, " so far")?;
                }
            }
        }
        match self.met {
            Some(true) => write!(f, " (meets the target)"),
            Some(false) => write!(f, " (misses the target)"),
            None if self.missed => write!(f, " (already past the target)"),
            None => Ok(()),
        }
    }
}

/// What one instance has measured for one KPI: two moments for a time, the count, or the latest value.
/// `i64::MIN` means "not yet" (no time, count or value is that small), so a slot is 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    a: i64,
    b: i64,
}

const UNSET: i64 = i64::MIN;
/// In the second slot of a time to a step, or of a count of one step's breaches or escalations: the step's task has
/// opened (not a value). A time to a step is past its target only while that task is open, and a count of a step
/// has a value only once the case reached it: a case on another path (another `match` arm) never gets either.
const OPENED: i64 = i64::MIN + 1;

impl Default for Slot {
    fn default() -> Slot {
        Slot { a: UNSET, b: UNSET }
    }
}

impl Slot {
    fn get(value: i64) -> Option<i64> {
        (value > OPENED).then_some(value)
    }

    /// The slot as 17 bytes in a snapshot: a presence byte and two numbers.
    pub(crate) fn write(self, out: &mut Vec<u8>) {
        out.push(u8::from(self.a != UNSET) | (u8::from(self.b != UNSET) << 1));
        // As kept (`OPENED` too), with 0 for an absent number.
        let raw = |v: i64| if v == UNSET { 0 } else { v };
        out.extend_from_slice(&raw(self.a).to_le_bytes());
        out.extend_from_slice(&raw(self.b).to_le_bytes());
    }

    /// Reads what [`Slot::write`] wrote.
    pub(crate) fn read(bytes: &[u8]) -> Option<Slot> {
        let flags = *bytes.first()?;
        let a = i64::from_le_bytes(bytes.get(1..9)?.try_into().ok()?);
        let b = i64::from_le_bytes(bytes.get(9..17)?.try_into().ok()?);
        Some(Slot {
            a: if flags & 1 != 0 {
                a.max(OPENED + 1)
            } else {
                UNSET
            },
            b: if flags & 2 != 0 {
                b.max(UNSET + 1)
            } else {
                UNSET
            },
        })
    }

    /// Bytes per slot in a snapshot.
    pub(crate) const SIZE: usize = 17;
}

/// A moment of a time KPI, with its step names resolved to the step ids that carry them.
#[derive(Debug)]
enum Moment {
    Start,
    End,
    FirstCompletion(Option<String>),
    /// A completion of any step whose id is `true` here.
    Step(Box<[bool]>),
}

/// What updates a KPI's slot, compiled from its metadata once per module.
#[derive(Debug)]
enum Rule {
    Time {
        from: Moment,
        to: Moment,
        /// Only this calendar's working time counts (an index into the module's calendars).
        calendar: Option<usize>,
    },
    Count {
        escalations: bool,
        steps: Option<Box<[bool]>>,
    },
    StepValue {
        steps: Box<[bool]>,
        path: Vec<String>,
    },
    /// Read from the payload of a signal (its id, if the module has it), not from effects.
    SignalValue {
        signal: Option<u32>,
        path: Vec<String>,
    },
}

/// The ids of the steps named `name` (a name may be used by steps of several processes).
fn steps_named(meta: &Metadata, name: &str) -> Box<[bool]> {
    meta.steps.iter().map(|s| s.name == name).collect()
}

fn has_step(steps: &[bool], step: Option<u32>) -> bool {
    step.and_then(|id| steps.get(id as usize).copied()) == Some(true)
}

impl Moment {
    fn new(meta: &Metadata, point: &PointMeta) -> Moment {
        match point {
            PointMeta::Start => Moment::Start,
            PointMeta::End => Moment::End,
            PointMeta::FirstCompletion { role } => Moment::FirstCompletion(role.clone()),
            PointMeta::Step { step } => Moment::Step(steps_named(meta, step)),
        }
    }

    /// Whether this moment is an effect of an event `actor` sent; the actor holds the roles it was given and
    /// those the directory gives them (as when their completion was authorised).
    fn happened(
        &self,
        kind: EffectKind,
        step: Option<u32>,
        actor: Option<&Actor>,
        directory: Option<&dyn Directory>,
    ) -> bool {
        match (self, kind) {
            (Moment::End, EffectKind::Completed | EffectKind::Failed | EffectKind::Cancelled) => {
                true
            }
            (Moment::FirstCompletion(role), EffectKind::TaskCompleted) => match role {
                None => true,
                Some(role) => actor.is_some_and(|a| {
                    a.roles.iter().any(|r| r == role)
                        || directory.is_some_and(|d| d.roles_of(&a.id).iter().any(|r| r == role))
                }),
            },
            (Moment::Step(steps), EffectKind::TaskCompleted) => has_step(steps, step),
            _ => false,
        }
    }
}

impl Rule {
    /// The steps whose task opening this rule notes (see `OPENED`): a time's second moment when it is a step, the
    /// step a count is of.
    fn step_moment(&self) -> Option<&[bool]> {
        match self {
            Rule::Time {
                to: Moment::Step(steps),
                ..
            }
            | Rule::Count {
                steps: Some(steps), ..
            } => Some(steps),
            _ => None,
        }
    }

    fn new(meta: &Metadata, measure: &MeasureMeta) -> Rule {
        match measure {
            MeasureMeta::Time { from, to, calendar } => Rule::Time {
                from: Moment::new(meta, from),
                to: Moment::new(meta, to),
                calendar: calendar
                    .as_ref()
                    .and_then(|name| meta.calendars.iter().position(|c| &c.name == name)),
            },
            MeasureMeta::Count { what, step } => Rule::Count {
                escalations: what == "escalations",
                steps: step.as_deref().map(|s| steps_named(meta, s)),
            },
            MeasureMeta::Value { source, name, path } if source == "step" => Rule::StepValue {
                steps: steps_named(meta, name),
                path: path.clone(),
            },
            MeasureMeta::Value { name, path, .. } => Rule::SignalValue {
                signal: meta.signal_id(name),
                path: path.clone(),
            },
        }
    }
}

/// The KPIs of a module, ready to be updated from effects.
#[derive(Debug, Default)]
pub(crate) struct Kpis {
    defs: Vec<KpiMeta>,
    /// The module's calendars, for times measured in working time.
    calendars: Arc<Vec<Calendar>>,
    /// For each KPI, how effects update it.
    rules: Vec<Rule>,
    names: Vec<Arc<str>>,
    /// For each process id, the KPIs that measure it.
    by_process: Vec<Vec<usize>>,
    /// For each process id, whether one of its KPIs is a time to a step or a count of one step's (which note when
    /// the step's task opens, see `OPENED`).
    opens: Vec<bool>,
}

impl Kpis {
    pub(crate) fn new(meta: &Metadata, calendars: Arc<Vec<Calendar>>) -> Kpis {
        let by_process = meta
            .processes
            .iter()
            .map(|p| {
                meta.kpis
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| k.processes.contains(&p.name))
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect::<Vec<Vec<usize>>>();
        let rules: Vec<Rule> = meta
            .kpis
            .iter()
            .map(|k| Rule::new(meta, &k.measure))
            .collect();
        let opens = by_process
            .iter()
            .map(|kpis| {
                kpis.iter()
                    .any(|&k| rules.get(k).and_then(Rule::step_moment).is_some())
            })
            .collect();
        Kpis {
            names: meta
                .kpis
                .iter()
                .map(|k| Arc::from(k.name.as_str()))
                .collect(),
            rules,
            defs: meta.kpis.clone(),
            calendars,
            by_process,
            opens,
        }
    }

    fn of(&self, process: u32) -> &[usize] {
        self.by_process
            .get(process as usize)
            .map_or(&[], Vec::as_slice)
    }

    /// Fresh slots for a new instance of the process started at `now`.
    pub(crate) fn start(&self, process: u32, now: i64) -> Box<[Slot]> {
        self.of(process)
            .iter()
            .map(|&k| {
                let mut slot = Slot::default();
                if let Some(Rule::Time { from, to, .. }) = self.rules.get(k) {
                    if matches!(from, Moment::Start) {
                        slot.a = now;
                    }
                    // The second moment counts only from the first on (`from end to start` is never known).
                    if matches!(to, Moment::Start) && slot.a != UNSET {
                        slot.b = now;
                    }
                }
                slot
            })
            .collect()
    }

    /// How many slots an instance of the process has.
    pub(crate) fn count(&self, process: u32) -> usize {
        self.of(process).len()
    }

    /// Updates an instance's slots from the effects of an accepted event.
    pub(crate) fn observe(
        &self,
        process: u32,
        slots: &mut [Slot],
        now: i64,
        effects: &Effects<'_>,
        actor: Option<&Actor>,
        directory: Option<&dyn Directory>,
    ) {
        let opens = self.opens.get(process as usize).copied().unwrap_or(false);
        for effect in effects {
            let kind = effect.kind();
            if kind == EffectKind::TaskOpened && opens {
                let step = effect.task().map(|t| t.step);
                for (slot, &k) in slots.iter_mut().zip(self.of(process)) {
                    if let Some(steps) = self.rules.get(k).and_then(Rule::step_moment) {
                        if slot.b == UNSET && has_step(steps, step) {
                            slot.b = OPENED;
                        }
                    }
                }
                continue;
            }
            if !matches!(
                kind,
                EffectKind::TaskCompleted
                    | EffectKind::TaskBreached
                    | EffectKind::ProcessBreached
                    | EffectKind::TaskReassigned
                    | EffectKind::Completed
                    | EffectKind::Failed
                    | EffectKind::Cancelled
            ) {
                continue;
            }
            let step = effect.task().map(|t| t.step);
            for (slot, &k) in slots.iter_mut().zip(self.of(process)) {
                match self.rules.get(k) {
                    Some(Rule::Time { from, to, .. }) => {
                        if slot.a == UNSET && from.happened(kind, step, actor, directory) {
                            slot.a = now;
                        }
                        // The first `to` at or after `from`: never a negative time.
                        if Slot::get(slot.b).is_none()
                            && slot.a != UNSET
                            && to.happened(kind, step, actor, directory)
                        {
                            slot.b = now;
                        }
                    }
                    Some(Rule::Count { escalations, steps }) => {
                        let counted = match kind {
                            EffectKind::TaskBreached => !escalations,
                            // The process's own deadline is one of the case's deadlines, but no step's.
                            EffectKind::ProcessBreached => !escalations && steps.is_none(),
                            // Reassigned by its escalation ladder, not by a manager.
                            EffectKind::TaskReassigned => *escalations && effect.by().is_none(),
                            _ => false,
                        } && steps.as_deref().is_none_or(|s| has_step(s, step));
                        if counted {
                            slot.a = Slot::get(slot.a).unwrap_or(0).saturating_add(1);
                        }
                    }
                    Some(Rule::StepValue { steps, path }) => {
                        if kind == EffectKind::TaskCompleted && has_step(steps, step) {
                            if let Effect::TaskCompleted { outputs, .. } = effect.to_effect() {
                                if let Some(value) = read_path(&outputs, path) {
                                    slot.b = value.max(OPENED + 1);
                                }
                            }
                        }
                    }
                    Some(Rule::SignalValue { .. }) | None => {}
                }
            }
        }
    }

    /// Updates an instance's slots from an accepted signal.
    pub(crate) fn observe_signal(
        &self,
        process: u32,
        slots: &mut [Slot],
        signal: u32,
        payload: &Value,
    ) {
        for (slot, &k) in slots.iter_mut().zip(self.of(process)) {
            if let Some(Rule::SignalValue {
                signal: Some(s),
                path,
            }) = self.rules.get(k)
            {
                if *s == signal {
                    if let Some(value) = read_path(payload, path) {
                        slot.b = value.max(OPENED + 1);
                    }
                }
            }
        }
    }

    /// An instance's values.
    /// An instance's values; `now` is the host's clock, against which a time still running is compared with the
    /// target (see [`KpiValue::missed`]).
    pub(crate) fn values(
        &self,
        process: u32,
        slots: &[Slot],
        ended: bool,
        now: i64,
    ) -> Vec<KpiValue> {
        slots
            .iter()
            .zip(self.of(process))
            .filter_map(|(slot, &k)| {
                let def = self.defs.get(k)?;
                // A time to a step grows past its target only while the step's task is open, and a count of a step
                // has a value only once the case has reached it (a case on another path has no count of it,
                // rather than a perfect one).
                let reached = self
                    .rules
                    .get(k)
                    .and_then(Rule::step_moment)
                    .is_none_or(|_| slot.b == OPENED);
                // What the value can only grow from while the instance runs: a time started and still running
                // (as of `now`), a count so far.
                let mut growing = None;
                let (value, fixed) = match &def.measure {
                    MeasureMeta::Time { .. } => {
                        let calendar = match self.rules.get(k) {
                            Some(Rule::Time {
                                calendar: Some(index),
                                ..
                            }) => self.calendars.get(*index),
                            _ => None,
                        };
                        let between = |a: i64, b: i64| match calendar {
                            Some(calendar) => calendar.between(a, b),
                            None => b.saturating_sub(a),
                        };
                        let value = match (Slot::get(slot.a), Slot::get(slot.b)) {
                            (Some(a), Some(b)) => Some(between(a, b)),
                            (Some(a), None) if !ended && reached => {
                                growing = Some(between(a, now.max(a)));
                                None
                            }
                            _ => None,
                        };
                        // An instance that ended without one of the moments never gets the value.
                        (value, value.is_some() || ended)
                    }
                    MeasureMeta::Count { .. } => {
                        let count = Slot::get(slot.a).unwrap_or(0);
                        if !ended && reached {
                            growing = Some(count);
                        }
                        (reached.then_some(count), ended)
                    }
                    MeasureMeta::Value { .. } => {
                        let value = Slot::get(slot.b);
                        (value, value.is_some() || ended)
                    }
                };
                let met = match (&def.target, value) {
                    (Some(target), Some(value)) if fixed => Some(target.met_by(value)),
                    _ => None,
                };
                let missed = met == Some(false)
                    || match (&def.target, growing) {
                        (Some(target), Some(so_far)) => match target.op.as_str() {
                            "<" | "<=" => !target.met_by(so_far),
                            "==" => so_far > target.value,
                            _ => false,
                        },
                        _ => false,
                    };
                Some(KpiValue {
                    index: k,
                    name: self.names.get(k).cloned().unwrap_or_else(|| Arc::from("")),
                    unit: KpiUnit::of(&def.measure),
                    value,
                    fixed,
                    met,
                    missed,
                })
            })
            .collect()
    }
}

fn read_path(value: &Value, path: &[String]) -> Option<i64> {
    let mut value = value;
    for field in path {
        value = value.get(field)?;
    }
    value.as_i64()
}

/// A KPI summarised over many instances' final values.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The KPI's name.
    pub name: String,
    /// The unit of the values.
    pub unit: KpiUnit,
    /// How many instances had a final value.
    pub count: usize,
    /// Their mean (`None` without values).
    pub mean: Option<f64>,
    /// The median, by the nearest-rank method: the smallest value at least half the values are at or below.
    pub p50: Option<i64>,
    /// The 90th percentile, by the nearest-rank method.
    pub p90: Option<i64>,
    /// How many of the values meet the target (`None` without a target).
    pub met: Option<usize>,
    /// The target, if the KPI has one.
    pub target: Option<TargetMeta>,
    /// Instances still running whose value is not final but already misses the target ([`KpiValue::missed`]):
    /// left out of `count`, and worth knowing, since they are the late ones. Set by whoever summarises.
    pub open_missed: usize,
    /// Instances that ended without a value (a survey never answered): left out of `count`.
    pub never_known: usize,
    /// For working time: the calendar whose working time the values and the target count.
    pub calendar: Option<String>,
}

impl Summary {
    /// Summarises the final values of a KPI.
    pub fn of(kpi: &KpiMeta, values: &[i64]) -> Summary {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let count = sorted.len();
        #[allow(
            clippy::cast_precision_loss,
            reason = "sums and counts are far below 2^52"
        )]
        let mean =
            (count > 0).then(|| sorted.iter().map(|&v| v as f64).sum::<f64>() / count as f64);
        Summary {
            name: kpi.name.clone(),
            unit: KpiUnit::of(&kpi.measure),
            count,
            mean,
            p50: percentile(&sorted, 50),
            p90: percentile(&sorted, 90),
            met: kpi
                .target
                .as_ref()
                .map(|t| sorted.iter().filter(|&&v| t.met_by(v)).count()),
            target: kpi.target.clone(),
            open_missed: 0,
            never_known: 0,
            calendar: match &kpi.measure {
                MeasureMeta::Time { calendar, .. } => calendar.clone(),
                _ => None,
            },
        }
    }

    /// Summarises the final values of a KPI over instances' values as [`crate::Runtime::kpis`] gives them (for
    /// this KPI): final values are summarised, and instances still running that already miss the target and
    /// instances that ended without a value are counted.
    pub fn of_instances<'a>(
        kpi: &KpiMeta,
        values: impl IntoIterator<Item = &'a KpiValue>,
    ) -> Summary {
        let mut finals = Vec::new();
        let (mut open_missed, mut never_known) = (0, 0);
        for value in values {
            match (value.value, value.fixed) {
                (Some(v), true) => finals.push(v),
                (None, true) => never_known += 1,
                (_, false) if value.missed => open_missed += 1,
                (_, false) => {}
            }
        }
        Summary {
            open_missed,
            never_known,
            ..Summary::of(kpi, &finals)
        }
    }

    /// The share of values meeting the target, in percent.
    pub fn met_percent(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
        self.met
            .filter(|_| self.count > 0)
            .map(|met| met as f64 * 100.0 / self.count as f64)
    }

    /// The summary as a JSON object.
    pub fn to_json(&self) -> Value {
        json!({
            "kpi": self.name,
            "unit": self.unit.as_str(),
            "count": self.count,
            "mean": self.mean,
            "p50": self.p50,
            "p90": self.p90,
            "met": self.met,
            "met_percent": self.met_percent(),
            "target": self.target.as_ref().map(|t| json!({"op": t.op, "value": t.value})),
            "calendar": self.calendar,
            "open_missed": self.open_missed,
            "never_known": self.never_known,
        })
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = self.unit;
        #[allow(clippy::cast_precision_loss, reason = "values are far below 2^52")]
        let show = |v: Option<i64>| v.map_or_else(|| "-".to_string(), |v| unit.format(v as f64));
        write!(
            f,
            "{}: {} instance{}, mean {}, p50 {}, p90 {}",
            self.name,
            self.count,
            if self.count == 1 { "" } else { "s" },
            self.mean
                .map_or_else(|| "-".to_string(), |m| unit.format(m)),
            show(self.p50),
            show(self.p90),
        )?;
        if let (Some(target), Some(met)) = (&self.target, self.met) {
            #[allow(clippy::cast_precision_loss, reason = "values are far below 2^52")]
            let value = unit.format(target.value as f64);
            match self.met_percent() {
                Some(percent) => write!(
                    f,
                    ", {met} of {} ({percent:.1}%) meet the target {} {value}",
                    self.count, target.op
                )?,
                None => write!(f, ", target {} {value}", target.op)?,
            }
        }
        if self.open_missed > 0 {
            let n = self.open_missed;
            write!(
                f,
                "; {n} open instance{} already miss{} it",
                if n == 1 { "" } else { "s" },
                if n == 1 { "es" } else { "" }
            )?;
        }
        if self.never_known > 0 {
            let n = self.never_known;
            write!(f, "; {n} ended without a value",)?;
        }
        Ok(())
    }
}

/// The nearest-rank percentile of sorted values: the value at rank ⌈p/100 · n⌉ (1-based).
fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// `2h 30m`, `45s`, `1d 2h` (with `days`, else `26h`), `250ms`; fractions of a millisecond are rounded.
fn format_duration(ms: f64, days: bool) -> String {
    #[allow(
        clippy::cast_possible_truncation,
        reason = "rounded, and far below 2^63"
    )]
    let total = ms.round() as i64;
    if total == 0 {
        return "0s".to_string();
    }
    let sign = if total < 0 { "-" } else { "" };
    let mut rest = total.unsigned_abs();
    let mut parts = Vec::new();
    for (size, unit) in [
        (if days { 86_400_000 } else { u64::MAX }, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1000, "s"),
        (1, "ms"),
    ] {
        let n = rest / size;
        if n > 0 {
            parts.push(format!("{n}{unit}"));
            rest -= n * size;
        }
    }
    format!("{sign}{}", parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values = [15, 20, 35, 40, 50];
        assert_eq!(percentile(&values, 50), Some(35));
        assert_eq!(percentile(&values, 90), Some(50));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&ten, 50), Some(5));
        assert_eq!(percentile(&ten, 90), Some(9));
    }

    #[test]
    fn durations_for_people() {
        assert_eq!(format_duration(9_000_000.0, true), "2h 30m");
        assert_eq!(format_duration(90_061_001.0, true), "1d 1h 1m 1s 1ms");
        assert_eq!(format_duration(0.4, true), "0s");
        assert_eq!(format_duration(-60_000.0, true), "-1m");
        // Working time is counted in hours: a day of it is not a day.
        assert_eq!(format_duration(90_061_001.0, false), "25h 1m 1s 1ms");
        assert_eq!(
            KpiUnit::WorkingTime.format(113_400_000.0),
            "31h 30m of working time"
        );
    }

    #[test]
    fn slots_round_trip() {
        for slot in [
            Slot::default(),
            Slot { a: -5, b: UNSET },
            Slot {
                a: UNSET,
                b: i64::MAX,
            },
        ] {
            let mut bytes = Vec::new();
            slot.write(&mut bytes);
            assert_eq!(bytes.len(), Slot::SIZE);
            assert_eq!(Slot::read(&bytes), Some(slot));
        }
    }
}
