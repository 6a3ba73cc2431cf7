//! The spanned syntax tree produced by the parser.
//!
//! Broken code becomes `Error` nodes (never a missing tree), so every later stage works on half-typed files.
//! Doc comments are not stored here: they are found through [`crate::lexer::Lexed::doc_at`] by the start offset
//! of the declaration.

use crate::source::Span;

/// A name with its span.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A parsed file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct File {
    /// Top-level declarations, in order.
    pub items: Vec<Item>,
}

impl File {
    /// Where the parser skipped text it could not read: the spans of `Error` declarations, statements, step
    /// clauses and test statements. A name declared there is unknown to the checker, which should not report
    /// every use of it as well (one typo, one error).
    pub fn damaged(&self) -> Vec<Span> {
        let mut out = Vec::new();
        for item in &self.items {
            match &item.kind {
                ItemKind::Error => out.push(item.span),
                ItemKind::Record(record) | ItemKind::Signal(record) => {
                    out.extend(record.skipped.iter().copied());
                }
                ItemKind::Procedure(flow) | ItemKind::Process(flow) => {
                    block_damage(&flow.body, &mut out);
                }
                ItemKind::Test(test) => out.extend(
                    test.stmts
                        .iter()
                        .filter(|s| matches!(s.kind, TestStmtKind::Error))
                        .map(|s| s.span),
                ),
                _ => {}
            }
        }
        out
    }
}

fn block_damage(block: &Block, out: &mut Vec<Span>) {
    for stmt in &block.stmts {
        match &stmt.kind {
            StmtKind::Error => out.push(stmt.span),
            StmtKind::Step(step) => out.extend(
                step.clauses
                    .iter()
                    .filter(|c| matches!(c.kind, StepClauseKind::Error))
                    .map(|c| c.span),
            ),
            _ => {}
        }
        for inner in stmt.blocks() {
            block_damage(inner, out);
        }
    }
}

/// A top-level declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// What it declares.
    pub kind: ItemKind,
    /// The whole declaration.
    pub span: Span,
}

/// The kinds of top-level declarations.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// `use a.b.{C, D}`
    Use(UseDecl),
    /// `role Agent`
    Role(Ident),
    /// `record Name { field: Type }`
    Record(RecordDecl),
    /// `enum Name { a, b }`
    Enum(EnumDecl),
    /// `signal Name { field: Type }`
    Signal(RecordDecl),
    /// `action name(params) -> Type`
    Action(ActionDecl),
    /// `calendar Name { ... }`
    Calendar(CalendarDecl),
    /// `procedure name(params) -> Type { ... }`
    Procedure(FlowDecl),
    /// `process name(params) -> Type within D (on Calendar)? { ... }`
    Process(FlowDecl),
    /// `schedule name { ... }`
    Schedule(ScheduleDecl),
    /// `kpi name for process { measure ... target ... }`
    Kpi(KpiDecl),
    /// `test "name" { ... }`
    Test(TestDecl),
    /// Something that could not be parsed.
    Error,
}

/// `use std.calendar.*`, `use a.b.Item`, `use a.b.{X, Y}`.
#[derive(Clone, Debug, PartialEq)]
pub struct UseDecl {
    /// The module path.
    pub module: Vec<Ident>,
    /// What is imported.
    pub items: UseItems,
}

/// What a `use` imports.
#[derive(Clone, Debug, PartialEq)]
pub enum UseItems {
    /// `.*`
    All(Span),
    /// One or more named items.
    Named(Vec<Ident>),
}

/// A record or signal declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordDecl {
    /// Its name.
    pub name: Ident,
    /// Its fields.
    pub fields: Vec<Field>,
    /// Where fields that could not be parsed were skipped.
    pub skipped: Vec<Span>,
}

/// A typed name: a record field, a parameter or a step output.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The name.
    pub name: Ident,
    /// The declared type.
    pub ty: TypeExpr,
    /// The whole `name: Type`.
    pub span: Span,
}

/// `enum Name { a, b }`
#[derive(Clone, Debug, PartialEq)]
pub struct EnumDecl {
    /// Its name.
    pub name: Ident,
    /// The variants, in order.
    pub variants: Vec<Ident>,
}

/// `action name(params) -> Type`
#[derive(Clone, Debug, PartialEq)]
pub struct ActionDecl {
    /// Its name.
    pub name: Ident,
    /// Parameters.
    pub params: Vec<Field>,
    /// Result type, if any.
    pub result: Option<TypeExpr>,
}

/// A calendar: time zone, weekly hours and holidays.
#[derive(Clone, Debug, PartialEq)]
pub struct CalendarDecl {
    /// Its name.
    pub name: Ident,
    /// Its entries, in order.
    pub entries: Vec<CalendarEntry>,
}

/// One line of a calendar.
#[derive(Clone, Debug, PartialEq)]
pub enum CalendarEntry {
    /// `zone "Europe/Berlin"`
    Zone(Literal),
    /// `hours mon-fri 09:00-17:00`
    Hours {
        /// Day names and ranges, e.g. `[(mon, Some(fri))]`.
        days: Vec<(Ident, Option<Ident>)>,
        /// Opening clock time.
        from: Literal,
        /// Closing clock time.
        to: Literal,
        /// The whole line.
        span: Span,
    },
    /// `holiday 2026-12-25`, or every day of `holiday 2026-12-24 to 2027-01-01`.
    Holiday(Literal, Option<Literal>),
    /// `include EnglandWorkingDays`: another calendar's hours and holidays (and its zone, unless this one has one).
    Include(Ident),
    /// An entry that could not be parsed.
    Error(Span),
}

/// A procedure or a process.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowDecl {
    /// Its name.
    pub name: Ident,
    /// Parameters.
    pub params: Vec<Field>,
    /// Result type, if any.
    pub result: Option<TypeExpr>,
    /// `within D` on a process: the deadline of the whole case.
    pub within: Option<Expr>,
    /// `within D on Calendar`: the deadline counts that calendar's working time.
    pub within_calendar: Option<Ident>,
    /// The body.
    pub body: Block,
}

/// `schedule name { every ...; at 09:00; on Cal; start process }`
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleDecl {
    /// Its name.
    pub name: Ident,
    /// Its clauses.
    pub clauses: Vec<ScheduleClause>,
}

/// One clause of a schedule.
#[derive(Clone, Debug, PartialEq)]
pub enum ScheduleClause {
    /// `every 6 months`, `every monday`, `every first business day of month`
    Every {
        /// The count, if given.
        count: Option<Literal>,
        /// The unit or day words, e.g. `months`, `monday`, `first business day of month`.
        words: Vec<Ident>,
        /// The whole clause.
        span: Span,
    },
    /// `at 09:00`
    At(Literal),
    /// `on Calendar`
    On(Ident),
    /// `start process_name`
    Start(Ident),
    /// A clause that could not be parsed.
    Error(Span),
}

/// `kpi first_response for complaint { measure time from start to acknowledge  target < 4h }`
#[derive(Clone, Debug, PartialEq)]
pub struct KpiDecl {
    /// Its name.
    pub name: Ident,
    /// The processes it measures (`for a, b`); empty: every process that can see it.
    pub processes: Vec<Ident>,
    /// Its clauses.
    pub clauses: Vec<KpiClause>,
}

/// One clause of a KPI.
#[derive(Clone, Debug, PartialEq)]
pub enum KpiClause {
    /// `measure ...`
    Measure(Measure, Span),
    /// `target < 4h`
    Target(KpiTarget),
    /// A clause that could not be parsed.
    Error(Span),
}

/// What a KPI measures for each instance.
#[derive(Clone, Debug, PartialEq)]
pub enum Measure {
    /// `time from POINT to POINT`
    Time {
        /// Where the clock starts.
        from: MeasurePoint,
        /// Where it stops.
        to: MeasurePoint,
        /// `on CALENDAR`: only the calendar's working time counts.
        calendar: Option<Ident>,
    },
    /// `count breaches [of step]`, `count escalations [of step]`
    Count {
        /// `breaches` or `escalations` (checked).
        what: Ident,
        /// Only this step's.
        step: Option<Ident>,
    },
    /// `value step.output` or `value Signal.field.field`
    Value(Vec<Ident>),
}

/// A moment in an instance's life.
#[derive(Clone, Debug, PartialEq)]
pub enum MeasurePoint {
    /// `start`: the instance started.
    Start(Span),
    /// `end`: the instance completed, failed or was cancelled.
    End(Span),
    /// `first completion [by Role]`: the first task completed (by someone acting as the role).
    FirstCompletion {
        /// The role, if given.
        role: Option<Ident>,
        /// The whole point.
        span: Span,
    },
    /// `step`: the step's first completion.
    Step(Ident),
}

impl MeasurePoint {
    /// Where it is written.
    pub fn span(&self) -> Span {
        match self {
            MeasurePoint::Start(span)
            | MeasurePoint::End(span)
            | MeasurePoint::FirstCompletion { span, .. } => *span,
            MeasurePoint::Step(step) => step.span,
        }
    }
}

/// `target < 4h`: the value an instance must have to meet the target.
#[derive(Clone, Debug, PartialEq)]
pub struct KpiTarget {
    /// One of `<`, `<=`, `>`, `>=`, `==`.
    pub op: BinaryOp,
    /// A minus sign before the number.
    pub negative: bool,
    /// The value.
    pub value: Literal,
    /// The whole clause.
    pub span: Span,
}

/// `test "name" { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct TestDecl {
    /// The test's name (a text literal).
    pub name: Literal,
    /// Its statements.
    pub stmts: Vec<TestStmt>,
}

/// An actor in a test: `by "ann" as Agent, Supervisor with skill billing`.
#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    /// The actor id.
    pub id: Literal,
    /// The roles the actor holds.
    pub roles: Vec<Ident>,
    /// The skills the actor has.
    pub skills: Vec<Ident>,
}

/// A completion in a test.
#[derive(Clone, Debug, PartialEq)]
pub struct TestCompletion {
    /// The step.
    pub step: Ident,
    /// Who completes it.
    pub actor: Actor,
    /// Outputs: `with { urgency: Urgency.high }`.
    pub outputs: Vec<FieldInit>,
    /// `at TIME`, if given.
    pub at: Option<Expr>,
    /// `expect rejected … because "text"`: what the refusal must say.
    pub because: Option<Literal>,
}

/// What a person does to a task in a test, besides completing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManageOp {
    /// `claim`
    Claim,
    /// `release`
    Release,
    /// `delegate … to "id" as Role`
    Delegate,
    /// `reassign … to Role`
    Reassign,
    /// `suspend`
    Suspend,
    /// `resume`
    Resume,
    /// `skip`
    Skip,
    /// `redo`
    Redo,
}

impl ManageOp {
    /// The word that writes it.
    pub fn word(self) -> &'static str {
        match self {
            ManageOp::Claim => "claim",
            ManageOp::Release => "release",
            ManageOp::Delegate => "delegate",
            ManageOp::Reassign => "reassign",
            ManageOp::Suspend => "suspend",
            ManageOp::Resume => "resume",
            ManageOp::Skip => "skip",
            ManageOp::Redo => "redo",
        }
    }
}

/// A work-item operation in a test: `claim assess by "ann" as Agent`, `reassign assess to Supervisor by "sue" as
/// Supervisor`, `delegate assess by "ann" as Agent to "bob" as Agent`, `suspend`/`resume`/`skip`/`redo STEP by …`.
#[derive(Clone, Debug, PartialEq)]
pub struct TestManage {
    /// What is done.
    pub op: ManageOp,
    /// The step whose open task it is done to (for `redo`, the step to go back to).
    pub step: Ident,
    /// The role a `reassign` gives the task to.
    pub role: Option<Ident>,
    /// Who does it.
    pub actor: Actor,
    /// The colleague a `delegate` hands the task to.
    pub to: Option<Actor>,
    /// `at TIME`, if given.
    pub at: Option<Expr>,
    /// `expect rejected … because "text"`: what the refusal must say.
    pub because: Option<Literal>,
}

/// A statement of a test block.
#[derive(Clone, Debug, PartialEq)]
pub struct TestStmt {
    /// What it does.
    pub kind: TestStmtKind,
    /// Where it is.
    pub span: Span,
}

/// The kinds of test statements.
#[derive(Clone, Debug, PartialEq)]
pub enum TestStmtKind {
    /// `start process(args) at TIME`
    Start {
        /// The process.
        process: Ident,
        /// Its arguments.
        args: Vec<Expr>,
        /// Start time.
        at: Option<Expr>,
    },
    /// `complete step by "id" as Role with { ... } at TIME`
    Complete(TestCompletion),
    /// `expect rejected complete ...`
    ExpectRejected(TestCompletion),
    /// `claim STEP by …`, and the other work-item operations.
    Manage(TestManage),
    /// `expect rejected claim STEP by …`, …
    ExpectRejectedManage(TestManage),
    /// `signal Name { ... } at TIME`
    Signal {
        /// The signal.
        signal: Ident,
        /// Its payload.
        payload: Vec<FieldInit>,
        /// When it is sent (the clock moves there first).
        at: Option<Expr>,
    },
    /// `advance 4h`
    AdvanceBy(Expr),
    /// `advance to TIME`
    AdvanceTo(Expr),
    /// `expect task step for Role due TIME` (or `for "person"`)
    ExpectTask {
        /// The step.
        step: Ident,
        /// Expected role.
        role: Option<Ident>,
        /// Expected person (`for "ann"`).
        person: Option<Literal>,
        /// Expected due time.
        due: Option<Expr>,
    },
    /// `expect no task step`
    ExpectNoTask(Ident),
    /// `expect escalated step to Role`, `expect no escalated step`
    ExpectEscalated {
        /// The step.
        step: Ident,
        /// The role escalated to (any, if left out).
        role: Option<Ident>,
        /// `expect no …`: no such escalation that no earlier `expect` matched.
        none: bool,
    },
    /// `expect notified Role`, `expect notified Role "message"`, `expect no notified Role`
    ExpectNotified {
        /// The role notified.
        role: Ident,
        /// The message it was sent, exactly.
        message: Option<Literal>,
        /// `expect no …`: no such notification that no earlier `expect` matched.
        none: bool,
    },
    /// `expect breached` (the case's own deadline), `expect breached step`, `expect no breached`
    ExpectBreached {
        /// The step whose deadline passed; the process's own deadline if left out.
        step: Option<Ident>,
        /// `expect no …`: no such breach that no earlier `expect` matched.
        none: bool,
    },
    /// `expect flagged`, `expect flagged "message"`, `expect no flagged`
    ExpectFlagged {
        /// The message the case was flagged with, exactly.
        message: Option<Literal>,
        /// `expect no …`: no such flag that no earlier `expect` matched.
        none: bool,
    },
    /// `expect kpi name VALUE`, `expect kpi name met`, `expect kpi name missed`
    ExpectKpi {
        /// The KPI.
        kpi: Ident,
        /// The value it must have (a duration for a time, a whole number otherwise).
        value: Option<Expr>,
        /// Whether it must meet its target (`met`) or miss it (`missed`).
        met: Option<bool>,
    },
    /// `expect rejected signal Name { ... } at TIME`
    ExpectRejectedSignal {
        /// The signal.
        signal: Ident,
        /// Its payload.
        payload: Vec<FieldInit>,
        /// When it is sent (the clock moves there first).
        at: Option<Expr>,
        /// What the refusal must say.
        because: Option<Literal>,
    },
    /// `expect completed with EXPR`
    ExpectCompleted(Option<Expr>),
    /// `expect failed`
    ExpectFailed,
    /// `given "erin" reports to "ines"`: a fact of the host's directory.
    GivenManager {
        /// The person.
        person: Literal,
        /// Their manager.
        manager: Literal,
    },
    /// `given send_email returns true`: how the host answers an action.
    GivenAction {
        /// The action.
        action: Ident,
        /// What it returns.
        value: Expr,
    },
    /// A statement that could not be parsed.
    Error,
}

/// A `{ ... }` list of statements.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    /// The statements.
    pub stmts: Vec<Stmt>,
    /// From `{` to `}`.
    pub span: Span,
}

/// A statement of a procedure or process.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What it does.
    pub kind: StmtKind,
    /// Where it is.
    pub span: Span,
}

impl Stmt {
    /// The blocks written inside it (branches, arms, loop bodies), in source order.
    pub fn blocks(&self) -> Vec<&Block> {
        match &self.kind {
            StmtKind::If {
                branches,
                otherwise,
            } => branches
                .iter()
                .map(|(_, block)| block)
                .chain(otherwise.iter())
                .collect(),
            StmtKind::Match { arms, .. } => arms.iter().map(|arm| &arm.body).collect(),
            StmtKind::Parallel { branches, .. } | StmtKind::First { branches } => {
                branches.iter().map(|branch| &branch.body).collect()
            }
            StmtKind::ForEach { body, .. }
            | StmtKind::Repeat { body, .. }
            | StmtKind::Every { body, .. } => vec![body],
            _ => Vec::new(),
        }
    }
}

/// How many branches (or list items) a parallel construct waits for.
#[derive(Clone, Debug, PartialEq)]
pub enum Join {
    /// All of them (the default).
    All,
    /// The first one.
    Any,
    /// `N of`: the first N.
    Count(Expr),
}

/// A branch of `parallel` or `first`.
#[derive(Clone, Debug, PartialEq)]
pub struct BranchDecl {
    /// Its name, for `cancel`.
    pub name: Option<Ident>,
    /// Its body.
    pub body: Block,
    /// Where it is.
    pub span: Span,
}

/// An arm of `match`.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchArm {
    /// The patterns (`a | b`); `_` is the wildcard.
    pub patterns: Vec<Ident>,
    /// The body.
    pub body: Block,
    /// Where it is.
    pub span: Span,
}

/// The kinds of statements.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `let name: T = value`
    Let {
        /// The new name.
        name: Ident,
        /// Declared type.
        ty: Option<TypeExpr>,
        /// The value.
        value: Expr,
    },
    /// `step ...`
    Step(Box<StepDecl>),
    /// An expression used as a statement (a call of a procedure or action, or `await`).
    Expr(Expr),
    /// `on breach { stages }` in a process's body: the escalation ladder of the whole case's deadline.
    OnBreach(Vec<EscalationStage>),
    /// `if c { } else if d { } else { }`
    If {
        /// Each condition with its block.
        branches: Vec<(Expr, Block)>,
        /// The `else` block.
        otherwise: Option<Block>,
    },
    /// `match x { a => { } }`
    Match {
        /// The `match` keyword.
        keyword: Span,
        /// What is matched.
        scrutinee: Expr,
        /// The arms.
        arms: Vec<MatchArm>,
    },
    /// `parallel JOIN { branch { } ... }`
    Parallel {
        /// When to continue.
        join: Join,
        /// The branches.
        branches: Vec<BranchDecl>,
    },
    /// `first { branch { } ... }`
    First {
        /// The branches.
        branches: Vec<BranchDecl>,
    },
    /// `for each x in list (parallel JOIN)? { }`
    ForEach {
        /// The loop variable.
        var: Ident,
        /// The list.
        list: Expr,
        /// `None` for one after another.
        parallel: Option<Join>,
        /// The body.
        body: Block,
    },
    /// `repeat max N { } until c`
    Repeat {
        /// The `repeat` keyword.
        keyword: Span,
        /// Maximum rounds.
        max: Option<Expr>,
        /// The body.
        body: Block,
        /// Stop condition.
        until: Option<Expr>,
    },
    /// `every D max N { } until c`
    Every {
        /// The `every` keyword.
        keyword: Span,
        /// The period.
        interval: Expr,
        /// Maximum rounds.
        max: Option<Expr>,
        /// The body.
        body: Block,
        /// Stop condition.
        until: Option<Expr>,
    },
    /// `wait D`, or `wait D on Calendar` (the calendar's working time).
    WaitFor(Expr, Option<Ident>),
    /// `wait until T`
    WaitUntil(Expr),
    /// `cancel name`
    Cancel(Ident),
    /// `notify Role "message"`
    Notify {
        /// Who is notified.
        role: Ident,
        /// The message.
        message: Option<Expr>,
    },
    /// `fail "reason"`
    Fail(Expr),
    /// `complete value`
    Complete(Option<Expr>),
    /// `return value`
    Return(Option<Expr>),
    /// A statement that could not be parsed.
    Error,
}

/// A step: one task for a person.
#[derive(Clone, Debug, PartialEq)]
pub struct StepDecl {
    /// Its name.
    pub name: Ident,
    /// The instruction text.
    pub instruction: Option<Expr>,
    /// Outputs the performer fills in.
    pub outputs: Vec<Field>,
    /// The clauses.
    pub clauses: Vec<StepClause>,
}

/// One clause of a step.
#[derive(Clone, Debug, PartialEq)]
pub struct StepClause {
    /// What it says.
    pub kind: StepClauseKind,
    /// Where it is.
    pub span: Span,
}

/// The kinds of step clauses.
#[derive(Clone, Debug, PartialEq)]
pub enum StepClauseKind {
    /// `by ...`
    By(Performer),
    /// `within D (on Calendar)? (since step)?`
    Within {
        /// The duration.
        duration: Expr,
        /// Business time on this calendar.
        calendar: Option<Ident>,
        /// Measured from this step's completion.
        since: Option<Ident>,
    },
    /// `after D (since step)?`
    After {
        /// The lag.
        duration: Expr,
        /// Measured from this step's completion.
        since: Option<Ident>,
    },
    /// `due T`
    Due(Expr),
    /// `expires after D (on Calendar)?`: the task is withdrawn if nobody completes it by then, which is no breach.
    Expires {
        /// How long after the task opens.
        duration: Expr,
        /// Business time on this calendar.
        calendar: Option<Ident>,
    },
    /// `on breach { stages }`
    OnBreach(Vec<EscalationStage>),
    /// `paused from Signal until Signal`
    Paused {
        /// Pauses when this signal arrives.
        from: Ident,
        /// Resumes when this signal arrives.
        until: Ident,
    },
    /// `only during Calendar`
    OnlyDuring(Ident),
    /// `skippable`
    Skippable,
    /// A clause that could not be parsed.
    Error,
}

/// Who performs a step.
#[derive(Clone, Debug, PartialEq)]
pub struct Performer {
    /// The base rule.
    pub kind: PerformerKind,
    /// `other than step`: four-eyes rule.
    pub other_than: Option<Ident>,
    /// Where it is.
    pub span: Span,
}

/// The base performer rules.
#[derive(Clone, Debug, PartialEq)]
pub enum PerformerKind {
    /// `Role (with skill x)*`
    Role {
        /// The role.
        role: Ident,
        /// Required skills.
        skills: Vec<Ident>,
    },
    /// `person EXPR`
    Person(Expr),
    /// `role EXPR`
    DynamicRole(Expr),
    /// `manager of step`
    ManagerOf(Ident),
    /// `same person as step`
    SameAs(Ident),
}

/// One stage of an escalation ladder.
#[derive(Clone, Debug, PartialEq)]
pub struct EscalationStage {
    /// `after D`: offset from the breach.
    pub after: Option<Expr>,
    /// `before D`: a warning, when `D` of the deadline is left (the task is not late yet).
    pub before: Option<Expr>,
    /// `after D on Calendar`: the offset counts that calendar's working time.
    pub calendar: Option<Ident>,
    /// What happens.
    pub action: EscalationAction,
    /// Where it is.
    pub span: Span,
}

/// What an escalation stage does.
#[derive(Clone, Debug, PartialEq)]
pub enum EscalationAction {
    /// `notify Role "text"`
    Notify(Ident, Option<Expr>),
    /// `reassign to Role`
    Reassign(Ident),
    /// `cancel`
    Cancel,
    /// `flag "text"`
    Flag(Expr),
}

/// A type as written.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    /// Which type.
    pub kind: TypeExprKind,
    /// Where it is.
    pub span: Span,
}

/// The kinds of written types.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// A name: built-in or declared.
    Named(Ident),
    /// `T?`
    Optional(Box<TypeExpr>),
    /// `[T]`
    List(Box<TypeExpr>),
    /// `Int from 1 to 5`: a whole number within bounds (both included). `name` is the type the bounds follow
    /// (the checker accepts only `Int`); the bounds are as written, `None` if too large for a whole number.
    Range {
        /// The type before `from`.
        name: Ident,
        /// The lower bound.
        min: Option<i64>,
        /// The upper bound.
        max: Option<i64>,
        /// Where the bounds are (from `from` to the end).
        bounds: Span,
    },
    /// Could not be parsed.
    Error,
}

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub struct Literal {
    /// Which literal.
    pub kind: LiteralKind,
    /// Where it is.
    pub span: Span,
}

/// Literal kinds; the raw text is kept and validated by the checker.
#[derive(Clone, Debug, PartialEq)]
pub enum LiteralKind {
    /// `42`
    Int(String),
    /// `4h`
    Duration(String),
    /// `2026-12-25`
    Date(String),
    /// `2026-12-25T09:00Z`
    DateTime(String),
    /// `09:00`
    Clock(String),
    /// A text literal, split into literal parts and interpolations.
    Text(Vec<TextPart>),
    /// `true` / `false`
    Bool(bool),
    /// `none`
    None,
}

/// A piece of a text literal.
#[derive(Clone, Debug, PartialEq)]
pub enum TextPart {
    /// Literal characters (escapes resolved).
    Lit(String),
    /// `{a.b.c}`
    Interpolation(Vec<Ident>),
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// Which expression.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

impl Expr {
    /// Whether evaluating it only reads: no procedure or action call, no `await`.
    pub fn is_pure(&self) -> bool {
        match &self.kind {
            ExprKind::Call(..) | ExprKind::Await { .. } => false,
            ExprKind::Field(base, _) | ExprKind::Unary(_, base) | ExprKind::Paren(base) => {
                base.is_pure()
            }
            ExprKind::Binary(_, a, b) => a.is_pure() && b.is_pure(),
            ExprKind::List(items) => items.iter().all(Expr::is_pure),
            ExprKind::Record(_, fields) => fields.iter().all(|f| f.value.is_pure()),
            ExprKind::Literal(_) | ExprKind::Now | ExprKind::Name(_) | ExprKind::Error => true,
        }
    }

    /// Whether `every … { body } until self` asks the condition when a round is due, before the body, as well as
    /// after it. Not when asking calls or waits (then it is asked once a round, after it), and not when it names a
    /// step of the body: before the first round that step has not run, and before a later one the condition was
    /// asked already, after the round before.
    pub fn is_asked_before_each_round(&self, body: &Block) -> bool {
        let mut steps = Vec::new();
        body.declared_steps(&mut steps);
        let mut names = Vec::new();
        self.names(&mut names);
        self.is_pure()
            && !names
                .iter()
                .any(|name| steps.iter().any(|step| step.name == name.name))
    }

    /// The names it reads (the first name of each field path).
    fn names<'a>(&'a self, out: &mut Vec<&'a Ident>) {
        match &self.kind {
            ExprKind::Name(name) => out.push(name),
            ExprKind::Field(base, _) | ExprKind::Unary(_, base) | ExprKind::Paren(base) => {
                base.names(out);
            }
            ExprKind::Binary(_, a, b) => {
                a.names(out);
                b.names(out);
            }
            ExprKind::List(items) => items.iter().for_each(|item| item.names(out)),
            ExprKind::Record(_, fields) => fields.iter().for_each(|f| f.value.names(out)),
            ExprKind::Call(_, args) => args.iter().for_each(|arg| arg.names(out)),
            ExprKind::Await { .. } | ExprKind::Literal(_) | ExprKind::Now | ExprKind::Error => {}
        }
    }
}

impl Block {
    /// The names of the steps declared in it, at any depth.
    pub fn declared_steps<'a>(&'a self, out: &mut Vec<&'a Ident>) {
        for stmt in &self.stmts {
            if let StmtKind::Step(step) = &stmt.kind {
                out.push(&step.name);
            }
            for block in stmt.blocks() {
                block.declared_steps(out);
            }
        }
    }
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `not`
    Not,
    /// `-`
    Neg,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `??`
    Coalesce,
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Coalesce => "??",
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }
}

/// A field initialiser in a record literal: `name: value`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldInit {
    /// The field.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
}

/// The kinds of expressions.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A literal.
    Literal(Literal),
    /// `now`
    Now,
    /// A name.
    Name(Ident),
    /// `a.b`
    Field(Box<Expr>, Ident),
    /// `f(x, y)`
    Call(Box<Expr>, Vec<Expr>),
    /// `[a, b]`
    List(Vec<Expr>),
    /// `Name { f: x }`
    Record(Ident, Vec<FieldInit>),
    /// `not x`, `-x`
    Unary(UnaryOp, Box<Expr>),
    /// `a + b`
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `await Signal within D`, `await Signal within D on Calendar`
    Await {
        /// The signal.
        signal: Ident,
        /// Timeout.
        within: Option<Box<Expr>>,
        /// The timeout counts this calendar's working time.
        calendar: Option<Ident>,
    },
    /// `(x)`
    Paren(Box<Expr>),
    /// Could not be parsed.
    Error,
}
