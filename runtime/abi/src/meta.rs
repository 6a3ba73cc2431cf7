//! The module's metadata: a JSON document in the custom section [`crate::METADATA_SECTION`].
//!
//! It names everything the binary encodings refer to by index (processes, steps, roles, skills, signals,
//! actions, calendars, record and enum types), so a host can turn JSON into event bytes and effect bytes back
//! into names. Ids are indexes into these lists.

use serde::{Deserialize, Serialize};

/// Everything a host needs to know about a compiled package.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The ABI version (equal to [`crate::ABI_VERSION`] for modules this crate describes).
    pub abi_version: u32,
    /// The version of `procc` that compiled the module.
    pub compiler_version: String,
    /// SHA-256 of the package's sources (module paths and texts, in module order), hex.
    pub source_hash: String,
    /// The package name (its directory or file name).
    pub package: String,
    /// Roles, by id.
    pub roles: Vec<RoleMeta>,
    /// Skill names used in `with skill`, by id.
    pub skills: Vec<String>,
    /// Record types (and signal payloads), by id.
    pub records: Vec<RecordMeta>,
    /// Enum types, by id.
    pub enums: Vec<EnumMeta>,
    /// Processes, by id.
    pub processes: Vec<ProcessMeta>,
    /// Steps of every process and procedure, by id.
    pub steps: Vec<StepMeta>,
    /// Signals, by id.
    pub signals: Vec<SignalMeta>,
    /// Actions, by id.
    pub actions: Vec<ActionMeta>,
    /// Calendars, by id.
    pub calendars: Vec<CalendarMeta>,
    /// Schedules.
    pub schedules: Vec<ScheduleMeta>,
    /// KPIs: what the runtime measures on each instance of the processes they name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kpis: Vec<KpiMeta>,
}

/// A role.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RoleMeta {
    /// Its name.
    pub name: String,
    /// Its doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
}

/// A type, as the binary encodings and the JSON forms see it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeDesc {
    /// `Int`: `i64`; JSON number.
    Int,
    /// `Int from min to max`: `i64` within the bounds (both included); JSON number. Hosts refuse values outside.
    IntIn {
        /// The least value.
        min: i64,
        /// The greatest value.
        max: i64,
    },
    /// `Bool`: `u8` 0 or 1; JSON boolean.
    Bool,
    /// `Text`: `u32` length + UTF-8; JSON string.
    Text,
    /// `Duration`: `i64` milliseconds; JSON string such as `"4h"` or `"1h30m"`.
    Duration,
    /// `Time`: `i64` milliseconds since 1970-01-01T00:00Z; JSON string in RFC 3339, `"2026-03-02T09:00:00Z"`.
    Time,
    /// `Date`: `i64` days since 1970-01-01; JSON string `"2026-03-02"`.
    Date,
    /// `Role`: `u32` role id; JSON string, the role's name.
    Role,
    /// An enum: `u32` variant index; JSON string, the variant's name.
    Enum {
        /// Index into [`Metadata::enums`].
        id: u32,
    },
    /// A record: its fields in order; JSON object.
    Record {
        /// Index into [`Metadata::records`].
        id: u32,
    },
    /// `T?`: `u8` 0 (none) or 1 followed by the value; JSON `null` or the value.
    Optional {
        /// The type inside.
        of: Box<TypeDesc>,
    },
    /// `[T]`: `u32` count + items; JSON array.
    List {
        /// The item type.
        of: Box<TypeDesc>,
    },
}

/// A named, typed value: a record field, a parameter or a step output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldMeta {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: TypeDesc,
    /// Its doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
}

/// A record type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordMeta {
    /// Its name.
    pub name: String,
    /// Its fields, in encoding order.
    pub fields: Vec<FieldMeta>,
}

/// An enum type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EnumMeta {
    /// Its name.
    pub name: String,
    /// Its variants, by index.
    pub variants: Vec<String>,
}

/// A process a host can start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessMeta {
    /// Its name.
    pub name: String,
    /// Its parameters: the input is a JSON object with one member per parameter.
    pub params: Vec<FieldMeta>,
    /// Its result type, if it declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<TypeDesc>,
    /// JSON Schema of the input object.
    pub input_schema: serde_json::Value,
    /// JSON Schema of the result (`null` when it has none).
    pub output_schema: serde_json::Value,
    /// The process deadline (`within D`) in milliseconds, if constant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_ms: Option<i64>,
    /// The calendar whose working time the process deadline counts (`within D on Calendar`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_calendar: Option<String>,
    /// The ids of the steps it can open, directly or through procedures.
    pub steps: Vec<u32>,
    /// Its doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
}

/// A step of a process or procedure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepMeta {
    /// Its name.
    pub name: String,
    /// The process or procedure it belongs to.
    pub flow: String,
    /// The outputs the performer fills in, in encoding order.
    pub outputs: Vec<FieldMeta>,
    /// JSON Schema of the outputs object.
    pub outputs_schema: serde_json::Value,
    /// Whether a manager may skip it.
    pub skippable: bool,
    /// Its doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
}

/// A signal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalMeta {
    /// Its name.
    pub name: String,
    /// Its payload fields, in encoding order.
    pub fields: Vec<FieldMeta>,
    /// JSON Schema of the payload object.
    pub schema: serde_json::Value,
}

/// An action the host performs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionMeta {
    /// Its name.
    pub name: String,
    /// Its parameters, in encoding order.
    pub params: Vec<FieldMeta>,
    /// Its result type, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<TypeDesc>,
}

/// Weekly opening hours: days 0 (Monday) to 6 (Sunday), minutes after local midnight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hours {
    /// The days these hours apply to.
    pub days: Vec<u8>,
    /// Opening, in minutes after midnight.
    pub from_minute: u32,
    /// Closing, in minutes after midnight (up to 1440).
    pub to_minute: u32,
}

/// A business calendar.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarMeta {
    /// Its name.
    pub name: String,
    /// IANA time-zone name.
    pub zone: String,
    /// Weekly working hours.
    pub hours: Vec<Hours>,
    /// Days without working time, `YYYY-MM-DD`.
    pub holidays: Vec<String>,
}

/// A schedule that starts a process repeatedly.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleMeta {
    /// Its name.
    pub name: String,
    /// The repetition as written, e.g. `every 6 months`.
    pub every: String,
    /// The repetition's unit: `minute`, `hour`, `day`, `week`, `month`, `year`, a weekday (`monday` …),
    /// `first_business_day` or `last_business_day` (of the month).
    pub unit: String,
    /// How many units between occurrences (1 for weekdays and business days).
    pub count: u32,
    /// The local clock time, e.g. `09:00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// Minutes after local midnight of `at` (0 without one).
    pub at_minute: u32,
    /// The calendar whose zone and working days apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
    /// The process it starts.
    pub process: String,
}

/// A KPI: a number measured on each instance of some processes, with an optional target.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiMeta {
    /// Its name.
    pub name: String,
    /// Its doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
    /// What it measures and its target, in words.
    pub description: String,
    /// The processes it measures, by name.
    pub processes: Vec<String>,
    /// What it measures.
    pub measure: MeasureMeta,
    /// What an instance's value must be to meet the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetMeta>,
}

/// What a KPI measures. Times are in milliseconds; counts and values are whole numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MeasureMeta {
    /// The time between two moments of the instance; known once both have happened.
    Time {
        /// The first moment.
        from: PointMeta,
        /// The second moment.
        to: PointMeta,
        /// Only this calendar's working time counts (its name in `calendars`), if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        calendar: Option<String>,
    },
    /// How many deadlines were missed (`breaches`) or tasks escalated (`escalations`, reassigned by a ladder).
    Count {
        /// `breaches` or `escalations`.
        what: String,
        /// Only this step's, if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<String>,
    },
    /// A number read from a completed step's outputs or an accepted signal's payload (the latest one).
    Value {
        /// `step` or `signal`.
        source: String,
        /// The step's or signal's name.
        name: String,
        /// The fields leading to the number.
        path: Vec<String>,
    },
}

impl Default for MeasureMeta {
    fn default() -> MeasureMeta {
        MeasureMeta::Count {
            what: "breaches".to_string(),
            step: None,
        }
    }
}

/// A moment in an instance's life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PointMeta {
    /// The instance started.
    Start,
    /// The instance completed, failed or was cancelled.
    End,
    /// The first task completed, by anyone or by someone holding `role`.
    FirstCompletion {
        /// The role the person completing must hold.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<String>,
    },
    /// A task of this step was completed for the first time.
    Step {
        /// The step's name.
        step: String,
    },
}

/// A KPI's target: an instance meets it when `value op target` holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetMeta {
    /// `<`, `<=`, `>`, `>=` or `==`.
    pub op: String,
    /// The value compared with (milliseconds for times).
    pub value: i64,
}

impl TargetMeta {
    /// Whether a value meets the target.
    pub fn met_by(&self, value: i64) -> bool {
        match self.op.as_str() {
            "<" => value < self.value,
            "<=" => value <= self.value,
            ">" => value > self.value,
            ">=" => value >= self.value,
            _ => value == self.value,
        }
    }
}

impl Metadata {
    /// The id of the process with this name.
    pub fn process_id(&self, name: &str) -> Option<u32> {
        position(self.processes.iter().map(|p| p.name.as_str()), name)
    }

    /// The id of the role with this name.
    pub fn role_id(&self, name: &str) -> Option<u32> {
        position(self.roles.iter().map(|r| r.name.as_str()), name)
    }

    /// The id of the skill with this name.
    pub fn skill_id(&self, name: &str) -> Option<u32> {
        position(self.skills.iter().map(String::as_str), name)
    }

    /// The id of the signal with this name.
    pub fn signal_id(&self, name: &str) -> Option<u32> {
        position(self.signals.iter().map(|s| s.name.as_str()), name)
    }

    /// The id of the action with this name.
    pub fn action_id(&self, name: &str) -> Option<u32> {
        position(self.actions.iter().map(|a| a.name.as_str()), name)
    }

    /// A role's name, or `role #id` for an unknown id.
    pub fn role_name(&self, id: u32) -> String {
        name_or(
            self.roles.get(id as usize).map(|r| r.name.as_str()),
            "role",
            id,
        )
    }

    /// A step's name, or `step #id`.
    pub fn step_name(&self, id: u32) -> String {
        name_or(
            self.steps.get(id as usize).map(|s| s.name.as_str()),
            "step",
            id,
        )
    }

    /// A skill's name, or `skill #id`.
    pub fn skill_name(&self, id: u32) -> String {
        name_or(
            self.skills.get(id as usize).map(String::as_str),
            "skill",
            id,
        )
    }

    /// A signal's name, or `signal #id`.
    pub fn signal_name(&self, id: u32) -> String {
        name_or(
            self.signals.get(id as usize).map(|s| s.name.as_str()),
            "signal",
            id,
        )
    }

    /// An action's name, or `action #id`.
    pub fn action_name(&self, id: u32) -> String {
        name_or(
            self.actions.get(id as usize).map(|a| a.name.as_str()),
            "action",
            id,
        )
    }

    /// A calendar's name, or `calendar #id`.
    pub fn calendar_name(&self, id: u32) -> String {
        name_or(
            self.calendars.get(id as usize).map(|c| c.name.as_str()),
            "calendar",
            id,
        )
    }
}

fn position<'a>(mut names: impl Iterator<Item = &'a str>, name: &str) -> Option<u32> {
    names
        .position(|n| n == name)
        .and_then(|i| u32::try_from(i).ok())
}

fn name_or(name: Option<&str>, what: &str, id: u32) -> String {
    name.map_or_else(|| format!("{what} #{id}"), str::to_string)
}
