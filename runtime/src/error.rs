//! Everything the runtime can refuse or fail with. Every refusal leaves the instance exactly as it was.

use crate::InstanceId;
use crate::codec::ValueError;
use std::fmt;

/// A refused or failed call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The bytes are not a Proc module this runtime can run.
    InvalidModule(String),
    /// No process has this name.
    UnknownProcess {
        /// The name asked for.
        name: String,
        /// The processes the module has.
        known: Vec<String>,
    },
    /// No instance has this id (or it was removed).
    UnknownInstance(InstanceId),
    /// A snapshot's instance is still in this runtime, so [`crate::Runtime::restore`] would make two of it.
    InstanceExists(InstanceId),
    /// No signal, role or step has this name.
    UnknownName {
        /// `signal`, `role`, `step`.
        what: &'static str,
        /// The name asked for.
        name: String,
        /// The names the module has.
        known: Vec<String>,
    },
    /// A value (input, outputs, payload, action result) does not fit its declared type.
    InvalidValue {
        /// What the value is, e.g. "invalid outputs for step `assess`".
        what: String,
        /// What is wrong with it.
        error: ValueError,
    },
    /// The workflow refused the event: wrong person, too early, unknown task, … (see [`Rejection`]).
    Rejected(Rejection),
    /// The event would take the instance past a limit (time, memory).
    Limit(String),
    /// The module stopped unexpectedly; the event was not applied.
    Trap(String),
    /// A snapshot that does not belong to this module, or is damaged.
    BadSnapshot(String),
    /// The [`crate::Options`] a runtime was made with cannot work (a limit of zero, say).
    InvalidOptions(String),
}

/// Why the workflow refused an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The code ([`proc_abi::reject`]).
    pub code: u32,
    /// The instance.
    pub instance: InstanceId,
    /// The task, if the event was about one.
    pub task: Option<u32>,
    /// What happened, for people.
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidModule(why) => write!(f, "cannot load the module: {why}"),
            Error::UnknownProcess { name, known } => write!(
                f,
                "there is no process `{name}` in this module (it has {})",
                names(known)
            ),
            Error::UnknownInstance(id) => write!(f, "there is no instance {id}"),
            Error::InstanceExists(id) => write!(
                f,
                "instance {id} is already in this runtime: remove it first to go back to its snapshot, or use \
                 `restore_copy` for a second instance with a new id"
            ),
            Error::UnknownName { what, name, known } => {
                write!(
                    f,
                    "there is no {what} `{name}` (the module has {})",
                    names(known)
                )
            }
            Error::InvalidValue { what, error } => write!(f, "{what}: {error}"),
            Error::Rejected(r) => write!(f, "{}", r.message),
            Error::Limit(why) => write!(f, "{why}"),
            Error::Trap(why) => write!(f, "the workflow module stopped unexpectedly: {why}"),
            Error::BadSnapshot(why) => write!(f, "cannot restore the snapshot: {why}"),
            Error::InvalidOptions(why) => write!(f, "invalid runtime options: {why}"),
        }
    }
}

impl std::error::Error for Error {}

fn names(list: &[String]) -> String {
    if list.is_empty() {
        return "none".to_string();
    }
    list.iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
