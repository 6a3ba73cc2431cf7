//! The registry of diagnostic codes: one entry per check, with a one-line summary and a longer explanation.
//!
//! Codes are stable: a code is never reused for a different check. The explanations live in
//! `compiler/explanations/PNNNN.md` and are shown by `procc explain PNNNN`.

use crate::diagnostic::Severity;
use serde::{Serialize, Serializer};
use std::fmt;

/// What the registry knows about one code.
#[derive(Debug)]
pub struct CodeInfo {
    /// The code's text, e.g. `P0007`.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One-line summary.
    pub summary: &'static str,
    /// Longer explanation in Markdown (shown by `procc explain`).
    pub explanation: &'static str,
}

macro_rules! codes {
    ($( $variant:ident = $name:literal, $sev:ident, $summary:literal; )*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(
                #[doc = $summary]
                $variant,
            )*
        }

        /// Every code, in order.
        pub const ALL_CODES: &[Code] = &[$(Code::$variant),*];

        impl Code {
            /// The registry entry of this code.
            pub fn info(self) -> &'static CodeInfo {
                match self {
                    $(
                        Code::$variant => &CodeInfo {
                            name: $name,
                            severity: Severity::$sev,
                            summary: $summary,
                            explanation: include_str!(concat!("../explanations/", $name, ".md")),
                        },
                    )*
                }
            }
        }
    };
}

codes! {
    InvalidCharacter = "P0001", Error, "a character that cannot start any token";
    UnterminatedText = "P0002", Error, "a text literal without its closing quote";
    InvalidLiteral = "P0003", Error, "a malformed duration, date, time or number";
    Syntax = "P0004", Error, "the parser expected something else here";
    TooDeep = "P0005", Error, "nesting too deep or an expression too long to check";
    NotUtf8 = "P0006", Error, "the file is not valid UTF-8 text";
    UnknownName = "P0007", Error, "a name that is not declared or imported";
    DuplicateDefinition = "P0008", Error, "the same name is declared twice";
    UnresolvedImport = "P0009", Error, "a `use` of a module or item that does not exist";
    WrongKind = "P0010", Error, "a name of the wrong kind, e.g. a type where a role is expected";
    TypeMismatch = "P0011", Error, "a value of the wrong type";
    WrongArguments = "P0012", Error, "wrong number or types of arguments to a procedure or action";
    UnknownField = "P0013", Error, "a field or output that the record, signal or step does not have";
    NonExhaustiveMatch = "P0014", Error, "a `match` that does not cover every variant";
    UnreachableArm = "P0015", Error, "a `match` arm that can never be chosen";
    UnknownInterpolation = "P0016", Error, "text interpolation of an unknown name or field";
    DeadlineNotTime = "P0017", Error, "a deadline that is not a duration or a time";
    NoPerformer = "P0018", Error, "a step without a performer";
    EscalationToUnknownRole = "P0019", Error, "an escalation to a role that is not declared";
    LadderNotIncreasing = "P0020", Error, "escalation stages out of time order, or on different clocks";
    CalendarWithoutHours = "P0021", Error, "a calendar with no working time";
    EmptyWindow = "P0022", Error, "an `after` lag that leaves no time before the `within` deadline";
    StepDeadlineExceedsProcess = "P0023", Warning, "a step deadline longer than its process's deadline";
    InvalidCalendar = "P0024", Error, "a calendar with an unknown time zone, day or clock range";
    UndeclaredSignal = "P0025", Error, "waiting for or pausing on a signal that is not declared";
    FourEyesUnknownStep = "P0026", Error, "a performer rule that refers to an unknown or later step";
    FourEyesUnsatisfiable = "P0027", Error, "a performer rule that can never be satisfied";
    InvalidSchedule = "P0028", Error, "a schedule that cannot fire";
    Recursion = "P0029", Error, "procedures that call each other in a cycle";
    UnboundedLoop = "P0030", Error, "a loop without a maximum number of rounds";
    UnreachableCode = "P0031", Warning, "statements after `fail`, `complete`, `return` or a `cancel` that ends their branch";
    Misplaced = "P0032", Error, "a statement or clause that is not allowed here or appears twice";
    UnusedRole = "P0033", Warning, "a role that no step, escalation or notification uses";
    UnusedProcedure = "P0034", Warning, "a procedure or an action that nothing calls";
    UnusedType = "P0035", Warning, "a record, enum or signal that nothing uses";
    CannotCompile = "P0036", Error, "a construct the compiler cannot turn into a workflow module";
    InvalidKpi = "P0037", Error, "a KPI that cannot be measured: a missing or doubled `measure`, a step the process does not have, a value that is not a number, or a target of the wrong kind";
    UnusedVariable = "P0038", Warning, "a variable (`let`) that nothing reads";
    DaysOfWorkingTime = "P0039", Warning, "a deadline in days or weeks on a calendar, where a day is 24 working hours";
    StepNotRunYet = "P0040", Error, "a step's output read where the step cannot have been completed";
    BreachWithoutDeadline = "P0041", Warning, "an `on breach` on a step without a deadline, which never happens";
    OptionalInText = "P0042", Warning, "an optional value in a text, which reads `none` when it is missing";
    RecordContainsItself = "P0043", Error, "a record that always contains another of itself, so no value of it can be written";
    MissingResult = "P0044", Error, "a procedure or process with a result that can reach its end without giving one";
    StepMayNotHaveRun = "P0045", Warning, "a step's output read where the step may not have run (it is inside an `if`, a `match` arm, a `first` or a loop)";
    FirstRacesPaths = "P0046", Warning, "a `first` whose branches wait for different events and then go on: the branch that finishes first wins, not the first event";
    UntilNeverDuringLoop = "P0047", Warning, "a loop's `until` names a step that only comes after the loop, so it never holds while the loop runs";
    WindowMayBeEmpty = "P0048", Warning, "an `after` lag at least as long as a deadline counted in working time, which may then leave no time";
    PauseSameSignal = "P0049", Error, "a step paused and resumed by the same signal, which would pause and resume its deadline at once";
    RoundNotInterrupted = "P0050", Warning, "an `every … until` whose round opens a step that stays open after the condition holds, since nothing cancels it";
    StepMayHaveExpired = "P0051", Warning, "a step's output read where the step may have ended without a completion: it expires (`expires after`) or may be skipped (`skippable`)";
    ExpiresBeforeDeadline = "P0052", Warning, "a step that expires no later than its deadline, so the deadline never passes and its ladder's stages after the breach never run";
}

impl Code {
    /// Looks a code up by its text (`P0007`, case-insensitive).
    pub fn parse(text: &str) -> Option<Code> {
        let upper = text.trim().to_ascii_uppercase();
        ALL_CODES
            .iter()
            .copied()
            .find(|code| code.info().name == upper)
    }

    /// The code's text.
    pub fn as_str(self) -> &'static str {
        self.info().name
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
