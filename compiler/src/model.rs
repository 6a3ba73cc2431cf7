//! The checked model: definitions, types and references that the checker computes and every front end reads
//! (CLI, language server, documentation generator). Nothing here re-analyses source.

use crate::source::{FileId, Span};
use serde::Serialize;

/// Index of a [`Definition`] in [`crate::Analysis::defs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DefId(pub u32);

/// What a definition is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefKind {
    /// `role`
    Role,
    /// `record`
    Record,
    /// A field of a record or signal.
    Field,
    /// `enum`
    Enum,
    /// A variant of an enum.
    Variant,
    /// `signal`
    Signal,
    /// `action`
    Action,
    /// `calendar`
    Calendar,
    /// `procedure`
    Procedure,
    /// `process`
    Process,
    /// `schedule`
    Schedule,
    /// `kpi`
    Kpi,
    /// `test`
    Test,
    /// A step of a procedure or process.
    Step,
    /// An output of a step.
    Output,
    /// A parameter of a procedure, process or action.
    Param,
    /// A `let` binding or loop variable.
    Local,
    /// A named branch of `parallel` or `first`.
    Branch,
}

impl DefKind {
    /// The word used for this kind in messages.
    pub fn word(self) -> &'static str {
        match self {
            DefKind::Role => "role",
            DefKind::Record => "record",
            DefKind::Field => "field",
            DefKind::Enum => "enum",
            DefKind::Variant => "variant",
            DefKind::Signal => "signal",
            DefKind::Action => "action",
            DefKind::Calendar => "calendar",
            DefKind::Procedure => "procedure",
            DefKind::Process => "process",
            DefKind::Schedule => "schedule",
            DefKind::Kpi => "KPI",
            DefKind::Test => "test",
            DefKind::Step => "step",
            DefKind::Output => "output",
            DefKind::Param => "parameter",
            DefKind::Local => "variable",
            DefKind::Branch => "branch",
        }
    }
}

/// A type of the language.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Ty {
    /// The type of something that already has an error (compatible with everything, so errors do not cascade).
    Error,
    /// No value (a procedure without a result).
    #[default]
    Unit,
    /// `Text`
    Text,
    /// `Int`
    Int,
    /// `Bool`
    Bool,
    /// `Duration`
    Duration,
    /// `Time`
    Time,
    /// `Date`
    Date,
    /// `Role`
    Role,
    /// A record, enum or signal.
    Named(DefId),
    /// `T?`
    Optional(Box<Ty>),
    /// `[T]`
    List(Box<Ty>),
    /// A step, as a value: its outputs and facts (`done_by`, `completed_at`, `breached`, `done`).
    Step(DefId),
    /// A calendar, as a value (`is_open`, `next_open`).
    Calendar(DefId),
    /// An enum's name, before `.variant`.
    EnumType(DefId),
    /// The literal `none` before it meets an optional type.
    None,
    /// `Int from min to max`: declared fields, parameters, outputs and payloads only. Values read from them are
    /// `Int` (see [`Ty::widened`]); the bounds are checked where values come in from outside (the runtime refuses
    /// a completion, signal, input or action result out of range), for literals (by the checker), and for
    /// computed values when the module gives them (the case fails outside the bounds).
    IntIn(i64, i64),
}

impl Ty {
    /// The type a value of this type has in expressions: `Int from 1 to 5` is an `Int` there.
    pub fn widened(self) -> Ty {
        match self {
            Ty::IntIn(..) => Ty::Int,
            Ty::Optional(inner) => Ty::Optional(Box::new(inner.widened())),
            Ty::List(inner) => Ty::List(Box::new(inner.widened())),
            other => other,
        }
    }

    /// The bounds of a declared `Int from … to …` (through `?`): what a literal given for it must lie within.
    pub fn int_bounds(&self) -> Option<(i64, i64)> {
        match self {
            Ty::IntIn(min, max) => Some((*min, *max)),
            Ty::Optional(inner) => inner.int_bounds(),
            _ => None,
        }
    }
}

/// A named thing in the program.
#[derive(Clone, Debug)]
pub struct Definition {
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: DefKind,
    /// The file it is declared in.
    pub file: FileId,
    /// Where its name is written.
    pub name_span: Span,
    /// The whole declaration.
    pub span: Span,
    /// Its `///` documentation.
    pub docs: Option<String>,
    /// Its type, for values (params, locals, fields, outputs, variants).
    pub ty: Ty,
    /// The definition it belongs to (a field's record, a step's flow, …).
    pub parent: Option<DefId>,
    /// A one-line signature for hovers, e.g. `procedure triage(c: Complaint) -> Urgency`.
    pub signature: String,
    /// What it means, in words (a step's deadline and escalation).
    pub meaning: Option<String>,
}
