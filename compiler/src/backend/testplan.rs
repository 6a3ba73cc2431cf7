//! `test` blocks as plans: the scenario of each test with its values turned into the JSON a host would send,
//! ready for `procc test` to drive through the real runtime. Values in tests must be constants.

use super::lower::Ids;
use crate::analysis::Analysis;
use crate::ast::{self, ExprKind, ItemKind, LiteralKind, TestStmtKind};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, FileSpan};
use crate::literal;
use crate::model::{DefKind, Ty};
use crate::source::{FileId, Span};
use proc_abi::Metadata;
use serde_json::{Map, Value, json};

/// One `test` block.
#[derive(Clone, Debug, PartialEq)]
pub struct TestPlan {
    /// The test's name.
    pub name: String,
    /// Where it is.
    pub at: FileSpan,
    /// The scenario, in order.
    pub actions: Vec<TestAction>,
}

/// Someone completing a step in a test.
#[derive(Clone, Debug, PartialEq)]
pub struct TestActor {
    /// Their id.
    pub id: String,
    /// The roles they hold.
    pub roles: Vec<String>,
    /// Their skills.
    pub skills: Vec<String>,
}

/// A completion in a test.
#[derive(Clone, Debug, PartialEq)]
pub struct TestCompletion {
    /// The step's name.
    pub step: String,
    /// The step ids this name may mean (steps of the process and of the procedures it calls).
    pub step_ids: Vec<u32>,
    /// Who completes it.
    pub actor: TestActor,
    /// The outputs, as a JSON object.
    pub outputs: Value,
    /// The clock moves here first.
    pub at: Option<i64>,
    /// What a refusal must say (`expect rejected … because "…"`).
    pub because: Option<String>,
}

/// A work-item operation in a test (claim, release, delegate, reassign, suspend, resume, skip, redo).
#[derive(Clone, Debug, PartialEq)]
pub struct TestManage {
    /// What is done.
    pub op: ast::ManageOp,
    /// The step's name (for `redo`, the step to go back to).
    pub step: String,
    /// The step ids this name may mean.
    pub step_ids: Vec<u32>,
    /// The role of a `reassign`.
    pub role: Option<String>,
    /// Who does it.
    pub actor: TestActor,
    /// The colleague of a `delegate`.
    pub to: Option<TestActor>,
    /// The clock moves here first.
    pub at: Option<i64>,
    /// What a refusal must say (`expect rejected … because "…"`).
    pub because: Option<String>,
}

/// One statement of a test.
#[derive(Clone, Debug, PartialEq)]
pub struct TestAction {
    /// Where it is written.
    pub at: FileSpan,
    /// What it does.
    pub kind: TestActionKind,
}

/// What a test statement does.
#[derive(Clone, Debug, PartialEq)]
pub enum TestActionKind {
    /// Start the process.
    Start {
        /// Its name.
        process: String,
        /// Its input object.
        input: Value,
        /// The clock's start (milliseconds), if given.
        at: Option<i64>,
    },
    /// Complete a step's open task.
    Complete(TestCompletion),
    /// Try to complete it and expect a refusal that changes nothing.
    ExpectRejected(TestCompletion),
    /// Claim, release, delegate, reassign, suspend, resume, skip or redo.
    Manage(TestManage),
    /// Try one of those and expect a refusal that changes nothing.
    ExpectRejectedManage(TestManage),
    /// Send a signal.
    Signal {
        /// Its name.
        name: String,
        /// Its payload object.
        payload: Value,
        /// When (milliseconds): the clock moves there first.
        at: Option<i64>,
    },
    /// Move the clock forward by milliseconds.
    AdvanceBy(i64),
    /// Move the clock to a time.
    AdvanceTo(i64),
    /// A task of the step is open.
    ExpectTask {
        /// Step name.
        step: String,
        /// Step ids it may mean.
        step_ids: Vec<u32>,
        /// Its role.
        role: Option<String>,
        /// The one person it is for.
        person: Option<String>,
        /// Its due time.
        due: Option<i64>,
    },
    /// No task of the step is open.
    ExpectNoTask {
        /// Step name.
        step: String,
        /// Step ids it may mean.
        step_ids: Vec<u32>,
    },
    /// A task of the step was reassigned to the role by its escalation ladder (`none`: was not).
    ExpectEscalated {
        /// Step name.
        step: String,
        /// Step ids it may mean.
        step_ids: Vec<u32>,
        /// The role (any, if `None`).
        role: Option<String>,
        /// `expect no …`.
        none: bool,
    },
    /// A role was notified (with this message) (`none`: was not).
    ExpectNotified {
        /// The role.
        role: String,
        /// The message, exactly.
        message: Option<String>,
        /// `expect no …`.
        none: bool,
    },
    /// A task of the step, or the case itself if `step` is `None`, missed its deadline (`none`: did not).
    ExpectBreached {
        /// Step name.
        step: Option<String>,
        /// `expect no …`.
        none: bool,
    },
    /// The case was flagged (with this message) (`none`: was not).
    ExpectFlagged {
        /// The message, exactly.
        message: Option<String>,
        /// `expect no …`.
        none: bool,
    },
    /// A KPI of the instance has this value (milliseconds for a time), or meets or misses its target.
    ExpectKpi {
        /// The KPI.
        name: String,
        /// Its value.
        value: Option<i64>,
        /// Whether it meets its target.
        met: Option<bool>,
    },
    /// Send a signal and expect a refusal that changes nothing.
    ExpectRejectedSignal {
        /// Its name.
        name: String,
        /// Its payload object.
        payload: Value,
        /// When (milliseconds): the clock moves there first.
        at: Option<i64>,
        /// What the refusal must say.
        because: Option<String>,
    },
    /// The instance completed (with this result).
    ExpectCompleted(Option<Value>),
    /// The instance failed.
    ExpectFailed,
    /// The directory says who a person's manager is.
    GivenManager {
        /// The person.
        person: String,
        /// Their manager.
        manager: String,
    },
    /// Requests of the action are answered with this value.
    GivenAction {
        /// The action.
        action: String,
        /// The result, as JSON.
        value: Value,
    },
}

/// Lowers the package's tests; values that are not constants give `P0036`.
pub fn plans(analysis: &Analysis, ids: &Ids, meta: &Metadata) -> (Vec<TestPlan>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diagnostics = Vec::new();
    for (index, parsed) in analysis
        .parsed
        .iter()
        .enumerate()
        .take(analysis.package_files)
    {
        let file = FileId(u32::try_from(index).unwrap_or(u32::MAX));
        for item in &parsed.ast.items {
            let ItemKind::Test(decl) = &item.kind else {
                continue;
            };
            let mut cx = PlanCx {
                analysis,
                meta,
                file,
                process: None,
                diagnostics: Vec::new(),
            };
            let actions = decl
                .stmts
                .iter()
                .filter_map(|stmt| cx.action(ids, stmt))
                .collect();
            diagnostics.extend(cx.diagnostics);
            let name = match &decl.name.kind {
                LiteralKind::Text(parts) => parts
                    .iter()
                    .map(|p| match p {
                        ast::TextPart::Lit(t) => t.clone(),
                        ast::TextPart::Interpolation(path) => format!(
                            "{{{}}}",
                            path.iter()
                                .map(|i| i.name.as_str())
                                .collect::<Vec<_>>()
                                .join(".")
                        ),
                    })
                    .collect(),
                _ => String::new(),
            };
            out.push(TestPlan {
                name,
                at: FileSpan {
                    file,
                    span: item.span,
                },
                actions,
            });
        }
    }
    (out, diagnostics)
}

struct PlanCx<'a> {
    analysis: &'a Analysis,
    meta: &'a Metadata,
    file: FileId,
    process: Option<usize>,
    diagnostics: Vec<Diagnostic>,
}

impl PlanCx<'_> {
    fn at(&self, span: Span) -> FileSpan {
        FileSpan {
            file: self.file,
            span,
        }
    }

    fn not_constant(&mut self, span: Span) -> Value {
        self.diagnostics.push(
            Diagnostic::new(
                Code::CannotCompile,
                self.at(span),
                "values in tests must be written out, not computed",
            )
            .with_label("not a constant")
            .with_help("write the value itself, such as `4h`, `\"Ada\"` or `2026-03-02T09:00Z`"),
        );
        Value::Null
    }

    fn steps_named(&self, name: &str) -> Vec<u32> {
        let Some(process) = self.process.and_then(|p| self.meta.processes.get(p)) else {
            return Vec::new();
        };
        process
            .steps
            .iter()
            .copied()
            .filter(|&s| {
                self.meta
                    .steps
                    .get(s as usize)
                    .is_some_and(|m| m.name == name)
            })
            .collect()
    }

    fn time(&mut self, e: &ast::Expr) -> Option<i64> {
        match &e.kind {
            ExprKind::Literal(lit) => match &lit.kind {
                LiteralKind::DateTime(text) => literal::instant_seconds(text)
                    .ok()
                    .map(|s| s.saturating_mul(1000)),
                LiteralKind::Date(text) => literal::date_days(text).ok().map(|d| d * 86_400_000),
                _ => None,
            },
            ExprKind::Paren(inner) => self.time(inner),
            _ => {
                self.not_constant(e.span);
                None
            }
        }
    }

    /// A KPI's value as the runtime gives it: milliseconds for a duration, the number otherwise.
    fn kpi_value(&mut self, e: &ast::Expr) -> Option<i64> {
        match self.value(e) {
            Value::Number(n) => n.as_i64(),
            _ => self.duration(e),
        }
    }

    fn duration(&mut self, e: &ast::Expr) -> Option<i64> {
        match crate::check::const_duration(e) {
            Some(seconds) => Some(seconds.saturating_mul(1000)),
            None => {
                self.not_constant(e.span);
                None
            }
        }
    }

    fn fields(&mut self, fields: &[ast::FieldInit]) -> Value {
        let mut map = Map::new();
        for field in fields {
            let value = self.value(&field.value);
            map.insert(field.name.name.clone(), value);
        }
        Value::Object(map)
    }

    fn completion(&mut self, c: &ast::TestCompletion) -> TestCompletion {
        TestCompletion {
            step: c.step.name.clone(),
            step_ids: self.steps_named(&c.step.name),
            actor: test_actor(&c.actor),
            outputs: self.fields(&c.outputs),
            at: c.at.as_ref().and_then(|t| self.time(t)),
            because: c.because.as_ref().and_then(text_value),
        }
    }

    fn manage(&mut self, m: &ast::TestManage) -> TestManage {
        TestManage {
            op: m.op,
            step: m.step.name.clone(),
            step_ids: self.steps_named(&m.step.name),
            role: m.role.as_ref().map(|r| r.name.clone()),
            actor: test_actor(&m.actor),
            to: m.to.as_ref().map(test_actor),
            at: m.at.as_ref().and_then(|t| self.time(t)),
            because: m.because.as_ref().and_then(text_value),
        }
    }

    fn action(&mut self, ids: &Ids, stmt: &ast::TestStmt) -> Option<TestAction> {
        let kind = match &stmt.kind {
            TestStmtKind::Error => return None,
            TestStmtKind::Start { process, args, at } => {
                let def = self.analysis.reference_at(self.file, process.span);
                self.process = def.and_then(|d| ids.of(d)).map(|p| p as usize);
                let params: Vec<String> = self
                    .process
                    .and_then(|p| self.meta.processes.get(p))
                    .map(|p| p.params.iter().map(|f| f.name.clone()).collect())
                    .unwrap_or_default();
                let mut input = Map::new();
                for (name, arg) in params.iter().zip(args) {
                    let value = self.value(arg);
                    input.insert(name.clone(), value);
                }
                TestActionKind::Start {
                    process: process.name.clone(),
                    input: Value::Object(input),
                    at: at.as_ref().and_then(|t| self.time(t)),
                }
            }
            TestStmtKind::Complete(c) => TestActionKind::Complete(self.completion(c)),
            TestStmtKind::ExpectRejected(c) => TestActionKind::ExpectRejected(self.completion(c)),
            TestStmtKind::Manage(m) => TestActionKind::Manage(self.manage(m)),
            TestStmtKind::ExpectRejectedManage(m) => {
                TestActionKind::ExpectRejectedManage(self.manage(m))
            }
            TestStmtKind::Signal {
                signal,
                payload,
                at,
            } => TestActionKind::Signal {
                name: signal.name.clone(),
                payload: self.fields(payload),
                at: at.as_ref().and_then(|t| self.time(t)),
            },
            TestStmtKind::AdvanceBy(d) => TestActionKind::AdvanceBy(self.duration(d)?),
            TestStmtKind::AdvanceTo(t) => TestActionKind::AdvanceTo(self.time(t)?),
            TestStmtKind::ExpectTask {
                step,
                role,
                person,
                due,
            } => TestActionKind::ExpectTask {
                step: step.name.clone(),
                step_ids: self.steps_named(&step.name),
                role: role.as_ref().map(|r| r.name.clone()),
                person: person.as_ref().and_then(text_value),
                due: due.as_ref().and_then(|t| self.time(t)),
            },
            TestStmtKind::ExpectNoTask(step) => TestActionKind::ExpectNoTask {
                step: step.name.clone(),
                step_ids: self.steps_named(&step.name),
            },
            TestStmtKind::ExpectEscalated { step, role, none } => TestActionKind::ExpectEscalated {
                step: step.name.clone(),
                step_ids: self.steps_named(&step.name),
                role: role.as_ref().map(|r| r.name.clone()),
                none: *none,
            },
            TestStmtKind::ExpectNotified {
                role,
                message,
                none,
            } => TestActionKind::ExpectNotified {
                role: role.name.clone(),
                message: message.as_ref().and_then(text_value),
                none: *none,
            },
            TestStmtKind::ExpectBreached { step, none } => TestActionKind::ExpectBreached {
                step: step.as_ref().map(|s| s.name.clone()),
                none: *none,
            },
            TestStmtKind::ExpectFlagged { message, none } => TestActionKind::ExpectFlagged {
                message: message.as_ref().and_then(text_value),
                none: *none,
            },
            TestStmtKind::ExpectKpi { kpi, value, met } => TestActionKind::ExpectKpi {
                name: kpi.name.clone(),
                value: match value {
                    Some(value) => Some(self.kpi_value(value)?),
                    None => None,
                },
                met: *met,
            },
            TestStmtKind::ExpectRejectedSignal {
                signal,
                payload,
                at,
                because,
            } => TestActionKind::ExpectRejectedSignal {
                name: signal.name.clone(),
                payload: self.fields(payload),
                at: at.as_ref().and_then(|t| self.time(t)),
                because: because.as_ref().and_then(text_value),
            },
            TestStmtKind::ExpectCompleted(value) => {
                TestActionKind::ExpectCompleted(value.as_ref().map(|v| self.value(v)))
            }
            TestStmtKind::ExpectFailed => TestActionKind::ExpectFailed,
            TestStmtKind::GivenManager { person, manager } => TestActionKind::GivenManager {
                person: text_value(person).unwrap_or_default(),
                manager: text_value(manager).unwrap_or_default(),
            },
            TestStmtKind::GivenAction { action, value } => TestActionKind::GivenAction {
                action: action.name.clone(),
                value: self.value(value),
            },
        };
        Some(TestAction {
            at: self.at(stmt.span),
            kind,
        })
    }

    /// A constant's JSON form, as a host would send it.
    fn value(&mut self, e: &ast::Expr) -> Value {
        match &e.kind {
            ExprKind::Paren(inner) => self.value(inner),
            ExprKind::Literal(lit) => match &lit.kind {
                LiteralKind::Int(text) => json!(literal::int_value(text).unwrap_or(0)),
                LiteralKind::Bool(b) => json!(b),
                LiteralKind::None => Value::Null,
                LiteralKind::Text(_) => json!(text_value(lit).unwrap_or_default()),
                LiteralKind::Duration(text) => json!(proc_abi::text::format_duration(
                    literal::duration_seconds(text)
                        .unwrap_or(0)
                        .saturating_mul(1000)
                )),
                LiteralKind::DateTime(text) => json!(proc_abi::text::format_time_rfc3339(
                    literal::instant_seconds(text)
                        .unwrap_or(0)
                        .saturating_mul(1000)
                )),
                LiteralKind::Date(text) => json!(proc_abi::text::format_date(
                    literal::date_days(text).unwrap_or(0)
                )),
                LiteralKind::Clock(_) => self.not_constant(e.span),
            },
            ExprKind::List(items) => Value::Array(items.iter().map(|i| self.value(i)).collect()),
            ExprKind::Record(_, fields) => self.fields(fields),
            ExprKind::Field(base, variant) => match &base.kind {
                ExprKind::Name(name) if self.is_enum(name) => json!(variant.name),
                _ => self.not_constant(e.span),
            },
            ExprKind::Name(name) if self.is_role(name) => json!(name.name),
            ExprKind::Unary(ast::UnaryOp::Neg, inner) => match self.value(inner) {
                Value::Number(n) => json!(-n.as_i64().unwrap_or(0)),
                Value::String(d) => match proc_abi::text::parse_duration(&d) {
                    Some(ms) => json!(proc_abi::text::format_duration(-ms)),
                    None => self.not_constant(e.span),
                },
                _ => self.not_constant(e.span),
            },
            _ => self.not_constant(e.span),
        }
    }

    fn def_kind_at(&self, name: &ast::Ident) -> Option<DefKind> {
        self.analysis
            .reference_at(self.file, name.span)
            .and_then(|d| self.analysis.def(d))
            .map(|d| d.kind)
    }

    fn is_enum(&self, name: &ast::Ident) -> bool {
        self.def_kind_at(name) == Some(DefKind::Enum)
            || self
                .analysis
                .expr_types
                .get(&self.at(name.span))
                .is_some_and(|t| matches!(t, Ty::EnumType(_)))
    }

    fn is_role(&self, name: &ast::Ident) -> bool {
        self.def_kind_at(name) == Some(DefKind::Role)
    }
}

fn text_value(lit: &ast::Literal) -> Option<String> {
    match &lit.kind {
        LiteralKind::Text(parts) => Some(
            parts
                .iter()
                .map(|p| match p {
                    ast::TextPart::Lit(t) => t.clone(),
                    ast::TextPart::Interpolation(path) => format!(
                        "{{{}}}",
                        path.iter()
                            .map(|i| i.name.as_str())
                            .collect::<Vec<_>>()
                            .join(".")
                    ),
                })
                .collect(),
        ),
        _ => None,
    }
}

fn test_actor(actor: &ast::Actor) -> TestActor {
    TestActor {
        id: text_value(&actor.id).unwrap_or_default(),
        roles: actor.roles.iter().map(|r| r.name.clone()).collect(),
        skills: actor.skills.iter().map(|s| s.name.clone()).collect(),
    }
}
