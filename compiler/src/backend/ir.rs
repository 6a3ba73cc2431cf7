//! The back end's intermediate representation: flows as resumable units of basic blocks.
//!
//! A [`Unit`] is the code one fiber runs: a process or procedure body, a `parallel`/`first` branch, or the body
//! of a parallel `for each` (run once per item). Its [`Block`]s hold straight-line statements and end in a
//! [`Term`]inator; every terminator that waits (a step, an `await`, a `wait`, a call, an action, a join) is a
//! point where the fiber suspends and later resumes at the `next` block.
//!
//! Variables live in frames, addressed by [`VarRef`]: a slot in the current frame or, `depth` static
//! links up, in an enclosing one. Branches share their parent's frame; procedure bodies and parallel `for each`
//! items get their own.

use std::fmt;

/// Index of a unit (also its function table index).
pub type UnitId = u32;
/// Index of a block inside its unit.
pub type BlockId = u32;

/// A value type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// No value.
    Unit,
    /// `Int`.
    Int,
    /// `Int from min to max`, as declared (stored and computed like `Int`; the bounds go into the metadata, where
    /// hosts check values that come in, and a computed value given to one is checked by `Ex::InRange`).
    IntIn(i64, i64),
    /// `Bool`.
    Bool,
    /// `Text`.
    Text,
    /// `Duration`.
    Duration,
    /// `Time`.
    Time,
    /// `Date`.
    Date,
    /// `Role`.
    Role,
    /// A calendar as a value.
    Calendar,
    /// An enum, by id.
    Enum(u32),
    /// A record (or signal payload), by id.
    Record(u32),
    /// A step's record, by step id.
    Step(u32),
    /// `T?`.
    Optional(Box<Ty>),
    /// `[T]`.
    List(Box<Ty>),
}

/// A variable: a slot `depth` frames up the static chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VarRef {
    /// Static links to follow.
    pub depth: u32,
    /// Slot index in that frame.
    pub slot: u32,
}

/// Facts a step's name gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fact {
    /// `done_by` (Text).
    DoneBy,
    /// `completed_at` (Time).
    CompletedAt,
    /// `breached` (Bool).
    Breached,
    /// `expired` (Bool).
    Expired,
    /// `done` (Bool).
    Done,
    /// An output, by index.
    Output(u32),
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `not`.
    Not,
    /// `-`.
    Neg,
}

/// Binary operators (the operand type decides the instruction).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+` on numbers, durations and times.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/` (a division by zero is a run-time fault).
    Div,
    /// `%`.
    Rem,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `+` on texts.
    Concat,
}

/// An expression; evaluates to one 8-byte value.
#[derive(Clone, Debug, PartialEq)]
pub enum Ex {
    /// A number, boolean, time, duration, date, enum variant, role id or calendar id.
    Const(i64),
    /// A text known at compile time.
    Text(String),
    /// The empty optional.
    None,
    /// A present optional.
    Some(Box<Ex>),
    /// The time of the event being handled.
    Now,
    /// A variable.
    Var(VarRef),
    /// A record field, by index.
    Field(Box<Ex>, u32),
    /// A fact of a step record; reading anything but `done`/`breached` of a step that has not completed is a
    /// run-time fault naming the step.
    Fact {
        /// The step record.
        record: Box<Ex>,
        /// The step, for the fault message.
        step: u32,
        /// Which fact.
        fact: Fact,
    },
    /// `Calendar.is_open`.
    CalendarOpen(Box<Ex>),
    /// `Calendar.next_open`.
    CalendarNext(Box<Ex>),
    /// A unary operator.
    Unary(UnOp, Box<Ex>),
    /// A binary operator with its operand type.
    Binary(BinOp, Ty, Box<Ex>, Box<Ex>),
    /// `and`, evaluating the right side only when needed.
    And(Box<Ex>, Box<Ex>),
    /// `or`, evaluating the right side only when needed.
    Or(Box<Ex>, Box<Ex>),
    /// `a ?? b`.
    Coalesce(Box<Ex>, Box<Ex>),
    /// A date as the time it starts (midnight UTC).
    DateToTime(Box<Ex>),
    /// A time plus a duration of a calendar's working time (calendar id); a run-time fault when the calendar
    /// gives no such time (more than a hundred years ahead).
    BusinessAdd(Box<Ex>, Box<Ex>, u32),
    /// `+`, `-` or `*` written in the program: a run-time fault when the result does not fit in 64 bits, where
    /// `Binary` would wrap around.
    Checked(BinOp, Box<Ex>, Box<Ex>),
    /// A duration computed at run time where a deadline, lag, wait or period needs one of at least `min`
    /// milliseconds (0, or 1 for a period): a run-time fault naming `what` when it is shorter.
    AtLeast(Box<Ex>, i64, String),
    /// A computed whole number given to an `Int from min to max`: the value, or a fault if it is outside.
    InRange(Box<Ex>, i64, i64),
    /// A date as the time it ends (the next midnight UTC): `due` a date.
    DateEnd(Box<Ex>),
    /// A record value: its fields in declaration order.
    Record(u32, Vec<Ex>),
    /// A list value.
    List(Vec<Ex>),
    /// A text with interpolated values.
    Interp(Vec<Part>),
    /// The number of items of a list.
    ListLen(Box<Ex>),
    /// Item `index` of a list (the index is known to be in range).
    ListItem(Box<Ex>, Box<Ex>),
}

/// A piece of an interpolated text.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// Literal text.
    Lit(String),
    /// A value, formatted by its type.
    Value(Ex, Ty),
}

/// A statement that does not wait.
#[derive(Clone, Debug, PartialEq)]
pub enum St {
    /// `slot = value`.
    Assign(VarRef, Ex),
    /// Set the process deadline to the start time plus this duration: of clock time, or of this calendar's
    /// working time.
    SetDeadline(Ex, Option<u32>),
    /// A reminder loop woken early goes back to sleep: its run changed nothing (the scheduler's `QUIET`).
    Quiet,
    /// `notify Role "message"`: the role is a role-id expression.
    Notify {
        /// The role id.
        role: Ex,
        /// The message.
        message: Option<Ex>,
    },
}

/// How many branches a join waits for.
#[derive(Clone, Debug, PartialEq)]
pub enum JoinIr {
    /// All of them.
    All,
    /// The first.
    Any,
    /// The first N.
    Count(Ex),
}

/// How a process completes.
#[derive(Clone, Debug, PartialEq)]
pub enum Completion {
    /// No value.
    Nothing,
    /// With its result value.
    Value(Ex, Ty),
    /// With a reason text (processes without a result).
    Reason(Ex),
}

/// Who performs a step.
#[derive(Clone, Debug, PartialEq)]
pub struct PerformerIr {
    /// One of [`proc_abi::performer`].
    pub kind: u8,
    /// The role id (static or from data), if the rule has one.
    pub role: Option<Ex>,
    /// The one person (a text), if the rule names one.
    pub person: Option<Ex>,
    /// For `manager of`: the person whose manager performs it.
    pub manager_of: Option<Ex>,
    /// For `other than`: the step whose performer is excluded (its record).
    pub excluded: Option<Ex>,
}

/// When a step is due.
#[derive(Clone, Debug, PartialEq)]
pub enum DueIr {
    /// No deadline.
    None,
    /// `within D` from `base`, on a calendar's working time if given.
    Within {
        /// Start of the window (a time).
        base: Ex,
        /// The duration.
        duration: Ex,
        /// Business calendar id.
        calendar: Option<u32>,
    },
    /// `due T`.
    At(Ex),
}

/// Opening a step.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenStep {
    /// Step id.
    pub step: u32,
    /// Where its record goes.
    pub slot: VarRef,
    /// Number of outputs (record size).
    pub outputs: u32,
    /// Who performs it.
    pub performer: PerformerIr,
    /// When it is due.
    pub due: DueIr,
    /// Earliest completion, if an `after` lag applies.
    pub earliest: Option<Ex>,
    /// `expires after D (on Calendar)?`: the duration and the calendar id, counted from the opening.
    pub expires: Option<(Ex, Option<u32>)>,
    /// The instruction.
    pub instruction: Option<Ex>,
    /// Where the flow continues once the task is done.
    pub next: BlockId,
}

/// The end of a block.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    /// Continue with another block.
    Goto(BlockId),
    /// Choose by a boolean.
    If(Ex, BlockId, BlockId),
    /// Choose by an enum variant (one target per variant).
    Switch(Ex, Vec<BlockId>),
    /// Open a task and wait for it.
    Step(Box<OpenStep>),
    /// Wait until a time.
    Wait {
        /// The time.
        until: Ex,
        /// An `every … until` loop between rounds: also woken when something else happened, to look at its
        /// condition again (the scheduler's `WAIT_ROUND`).
        round: bool,
        /// Then.
        next: BlockId,
    },
    /// Wait for a signal.
    Await {
        /// Signal id.
        signal: u32,
        /// Timeout duration.
        timeout: Option<Ex>,
        /// Where the payload goes.
        dest: Option<VarRef>,
        /// Store `T?` (with a timeout) rather than `T`.
        optional: bool,
        /// Then.
        next: BlockId,
    },
    /// Run a procedure.
    Call {
        /// Its body.
        unit: UnitId,
        /// Arguments (slots 0..n of the new frame).
        args: Vec<Ex>,
        /// Where the result goes.
        dest: Option<VarRef>,
        /// Then.
        next: BlockId,
    },
    /// Ask the host to perform an action.
    Action {
        /// Action id.
        action: u32,
        /// Arguments with their types (encoded into the effect).
        args: Vec<(Ex, Ty)>,
        /// Where the result goes.
        dest: Option<VarRef>,
        /// Then.
        next: BlockId,
    },
    /// Start branches (sharing this frame) and wait for the join.
    Spawn {
        /// The branch units.
        units: Vec<UnitId>,
        /// The join.
        join: JoinIr,
        /// Then.
        next: BlockId,
    },
    /// Start one fiber per list item, each with its own frame, and wait for the join.
    SpawnEach {
        /// The item body.
        unit: UnitId,
        /// The list.
        list: Ex,
        /// Slot of the item variable in the item frame.
        var: u32,
        /// The join.
        join: JoinIr,
        /// Then.
        next: BlockId,
    },
    /// Cancel the open tasks of a step (in the frame `depth` links up).
    CancelStep {
        /// Step id.
        step: u32,
        /// Frame depth of the step's home.
        depth: u32,
        /// Then.
        next: BlockId,
    },
    /// Cancel a running branch.
    CancelBranch {
        /// The branch unit.
        unit: UnitId,
        /// Then.
        next: BlockId,
    },
    /// End a procedure with a value; `depth` links up is its root frame.
    Return(Option<Ex>, u32),
    /// End the process successfully.
    Complete(Completion),
    /// End the process as failed.
    Fail(Ex),
    /// End of a branch or item body.
    End,
}

/// A basic block.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Straight-line statements.
    pub stmts: Vec<St>,
    /// How it ends.
    pub term: Term,
}

/// What a unit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitKind {
    /// A process body.
    Process,
    /// A procedure body.
    Procedure,
    /// A `parallel`/`first` branch.
    Branch,
    /// The body of a parallel `for each`, per item.
    Item,
}

/// A resumable piece of code.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    /// For the name section, e.g. `complaint`, `complaint/branch2`.
    pub name: String,
    /// What it is.
    pub kind: UnitKind,
    /// Its blocks; execution starts at block 0.
    pub blocks: Vec<Block>,
    /// The size of the frame it creates (process, procedure and item units), in slots.
    pub slots: u32,
}

/// What an escalation stage does.
#[derive(Clone, Debug, PartialEq)]
pub enum StageAction {
    /// Tell a role.
    Notify {
        /// Role id.
        role: u32,
        /// Message (evaluated in the step's frame).
        message: Option<Ex>,
    },
    /// Give the task to a role.
    Reassign(u32),
    /// Withdraw the task; the flow continues with `breached` set.
    Cancel,
    /// Mark the case.
    Flag(Ex),
}

/// One stage of an escalation ladder.
#[derive(Clone, Debug, PartialEq)]
pub struct StageIr {
    /// Milliseconds after the breach.
    pub offset_ms: i64,
    /// The calendar whose working time the offset counts (calendar id), if any.
    pub calendar: Option<u32>,
    /// What happens.
    pub action: StageAction,
}

/// A step's static facts.
#[derive(Clone, Debug, PartialEq)]
pub struct StepIr {
    /// Its name.
    pub name: String,
    /// Its flow's name.
    pub flow: String,
    /// The unit it is opened in.
    pub unit: UnitId,
    /// The block that opens it.
    pub open_block: BlockId,
    /// Outputs.
    pub outputs: Vec<(String, Ty)>,
    /// May be skipped by a manager.
    pub skippable: bool,
    /// Has `expires after`.
    pub expires: bool,
    /// `only during` calendar.
    pub only_during: Option<u32>,
    /// Business calendar of its `within`.
    pub calendar: Option<u32>,
    /// `paused from A until B`.
    pub pause: Option<(u32, u32)>,
    /// Required skills.
    pub skills: Vec<u32>,
    /// Escalation ladder.
    pub stages: Vec<StageIr>,
    /// Roles that may manage the task (those its ladder involves).
    pub managers: Vec<u32>,
    /// The slot of its record in its frame.
    pub slot: u32,
    /// True if that frame is the flow's own (not one item of a parallel `for each`).
    pub in_flow_frame: bool,
}

/// A process.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcessIr {
    /// Its name.
    pub name: String,
    /// Its body.
    pub unit: UnitId,
    /// Parameter types (slots 0..n of the root frame).
    pub params: Vec<Ty>,
    /// A procedure started on its own (by a `test` block): the body only calls it, so the steps named after
    /// it live in the procedure's frame, not in this root frame.
    pub wraps_procedure: bool,
    /// The ladder of the whole case's deadline (`on breach` in its body): notifications and flags, their
    /// messages read in the root frame.
    pub stages: Vec<StageIr>,
}

/// A record type (records and signal payloads).
#[derive(Clone, Debug, PartialEq)]
pub struct RecordIr {
    /// Its name.
    pub name: String,
    /// Its fields.
    pub fields: Vec<(String, Ty)>,
}

/// An enum type.
#[derive(Clone, Debug, PartialEq)]
pub struct EnumIr {
    /// Its name.
    pub name: String,
    /// Its variants.
    pub variants: Vec<String>,
}

/// An action.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionIr {
    /// Its name.
    pub name: String,
    /// Parameter types.
    pub params: Vec<Ty>,
    /// Result type.
    pub result: Ty,
}

/// A lowered package.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    /// Units, by id.
    pub units: Vec<Unit>,
    /// Steps, by id.
    pub steps: Vec<StepIr>,
    /// Processes, by id.
    pub processes: Vec<ProcessIr>,
    /// Records, by id.
    pub records: Vec<RecordIr>,
    /// Enums, by id.
    pub enums: Vec<EnumIr>,
    /// Role names, by id.
    pub roles: Vec<String>,
    /// Skill names, by id.
    pub skills: Vec<String>,
    /// Signal payload record ids, by signal id.
    pub signals: Vec<u32>,
    /// Actions, by id.
    pub actions: Vec<ActionIr>,
}

impl fmt::Display for Program {
    /// A readable listing, for tests and `procc build --emit ir`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (id, process) in self.processes.iter().enumerate() {
            writeln!(f, "process #{id} {} (unit {})", process.name, process.unit)?;
        }
        for (id, step) in self.steps.iter().enumerate() {
            writeln!(
                f,
                "step #{id} {}.{} (unit {}, block {}, {} stages)",
                step.flow,
                step.name,
                step.unit,
                step.open_block,
                step.stages.len()
            )?;
        }
        for (id, unit) in self.units.iter().enumerate() {
            writeln!(
                f,
                "unit #{id} {} ({:?}, {} slots)",
                unit.name, unit.kind, unit.slots
            )?;
            for (b, block) in unit.blocks.iter().enumerate() {
                writeln!(f, "  b{b}:")?;
                for st in &block.stmts {
                    writeln!(f, "    {st:?}")?;
                }
                writeln!(f, "    => {:?}", block.term)?;
            }
        }
        Ok(())
    }
}
