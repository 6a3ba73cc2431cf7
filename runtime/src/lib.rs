//! The Proc runtime: what a host application (a help desk, a CRM) embeds to run compiled workflows.
//!
//! Load a module produced by `procc build` once ([`Module::from_bytes`]), then run many cases of its
//! processes in a [`Runtime`]: [`Runtime::start`] them, and feed them events — task completions by people
//! ([`Runtime::complete`]), signals from outside ([`Runtime::signal`]), the passing of time
//! ([`Runtime::advance`]; the host's clock is the only clock), results of actions the host performed, and
//! work-item operations (claim, delegate, reassign, suspend, skip, redo). Every call returns the [`Effect`]s
//! it caused: tasks opened for roles, escalations, notifications, actions to perform, the outcome. Hosts that
//! run many events a second can read them in place instead ([`Runtime::start_view`],
//! [`Runtime::complete_view`], [`Runtime::signal_view`], [`Runtime::advance_each`]; see [`Effects`]).
//!
//! A case is data, not a WebAssembly instance: its whole state is a small byte blob that the runtime copies
//! into one shared instance per [`Runtime`] for each event. That makes cases cheap (a few hundred bytes
//! while idle), makes [`Runtime::snapshot`] trivial, and makes refusals safe: a rejected event (wrong person,
//! bad data, unknown task) returns an [`Error`] and the instance keeps exactly its old bytes.
//!
//! This crate never depends on the compiler; both follow `docs/abi.md` and the [`proc_abi`] crate.

pub mod calendar;
mod clock;
pub mod codec;
mod directory;
mod effect;
mod error;
pub mod kpi;
mod module;
mod runtime;
mod schedule;
mod time;
mod timers;
mod view;
mod worker;

pub use clock::{Clock, ManualClock, SystemClock};
pub use directory::{Directory, Person, StaticDirectory};
pub use effect::{
    CancelReason, Effect, FormField, InstanceId, Name, OpenedTask, Performer, RequestRef, TaskRef,
};
pub use error::{Error, Rejection};
pub use kpi::{KpiUnit, KpiValue};
pub use module::Module;
/// The ABI's constants and metadata types, as this runtime uses them: refusal codes
/// ([`proc_abi::reject`], matched against [`Rejection::code`]), the metadata [`Module::metadata`] returns,
/// calendars. Re-exported so a host needs no second dependency kept in step with this one.
pub use proc_abi;
pub use runtime::{
    Actor, InstanceInfo, InstanceStatus, Options, Runtime, StepRecord, TaskInfo, Waiting,
};
pub use time::{BadTime, DAY, HOUR, MINUTE, SECOND, Time};
pub use view::{EffectKind, EffectRef, Effects, EffectsIter};
pub use worker::Limits;

/// A tiny compiled module for the documentation's examples (`greet`: one step for an `Agent`).
#[doc(hidden)]
pub fn doc_example_module() -> Vec<u8> {
    include_bytes!("../tests/data/greet.wasm").to_vec()
}
