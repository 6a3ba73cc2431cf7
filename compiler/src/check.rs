//! Name resolution and type checking of a whole package, plus the domain checks (deadlines, escalation ladders,
//! calendars, four-eyes rules, loops, recursion, unused declarations).
//!
//! The checker walks the syntax trees once, records every definition and every resolved reference in the
//! [`crate::model`] tables, and emits diagnostics. It never stops at the first error: unknown things get
//! [`Ty::Error`], which is compatible with everything, so one mistake gives one diagnostic.

use crate::ast::*;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, FileSpan};
use crate::literal;
use crate::model::{DefId, DefKind, Definition, Ty};
use crate::source::{FileId, SourceFile, Span};
use crate::suggest;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// What the checker needs of one parsed file.
pub struct FileInput<'a> {
    /// The source.
    pub source: &'a SourceFile,
    /// The syntax tree.
    pub ast: &'a File,
    /// Doc comments keyed by the start of the following token.
    pub docs: &'a [(u32, String)],
    /// True for standard-library files (no unused warnings).
    pub is_std: bool,
}

/// What the checker produces.
#[derive(Default)]
pub struct CheckOutput {
    /// Every definition.
    pub defs: Vec<Definition>,
    /// Every resolved use of a name: where, and what it refers to.
    pub references: Vec<(FileSpan, DefId)>,
    /// The diagnostics.
    pub diagnostics: Vec<Diagnostic>,
    /// Members of records, signals and enums (fields, variants), of flows (steps) and of steps (outputs).
    pub members: HashMap<DefId, Vec<DefId>>,
    /// The type of every expression and interpolation path, by where it is written; only filled when asked
    /// for (the back end needs it, `procc check` does not).
    pub expr_types: HashMap<FileSpan, Ty>,
    /// The result types of procedures, processes and actions (`Ty::Unit` when they declare none).
    pub results: HashMap<DefId, Ty>,
    /// The processes each KPI measures: those named by `for`, or every process of the package that can see it.
    pub kpi_processes: HashMap<DefId, Vec<DefId>>,
}

/// Parameter names and types and the result type of a procedure, process or action.
#[derive(Clone, Debug, Default)]
struct Signature {
    params: Vec<(String, Ty)>,
    result: Ty,
}

const BUILTIN_TYPES: &[&str] = &["Text", "Int", "Bool", "Duration", "Time", "Date", "Role"];
const STEP_FACTS: &[(&str, Ty)] = &[
    ("done_by", Ty::Text),
    ("completed_at", Ty::Time),
    ("breached", Ty::Bool),
    ("expired", Ty::Bool),
    ("done", Ty::Bool),
];
const WEEKDAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Checks a package.
pub fn check(files: &[FileInput<'_>]) -> CheckOutput {
    check_with(files, false)
}

/// Checks a package; with `record_types`, also records the type of every expression (for the back end).
pub fn check_with(files: &[FileInput<'_>], record_types: bool) -> CheckOutput {
    let mut checker = Checker {
        files,
        record_types,
        out: CheckOutput::default(),
        scopes: vec![HashMap::default(); files.len()],
        imports: vec![HashMap::default(); files.len()],
        unresolved: vec![HashSet::default(); files.len()],
        signatures: HashMap::default(),
        used: HashSet::default(),
        calls: HashMap::default(),
        flow_of_step: HashMap::default(),
        duplicates: HashSet::default(),
        out_of_range_allowed: false,
        damaged_words: damaged_words(files),
    };
    checker.collect();
    checker.check_host_names();
    checker.resolve_imports();
    checker.declare_types();
    checker.check_record_cycles();
    checker.check_items();
    checker.check_kpi_names();
    checker.check_recursion();
    checker.check_unused();
    let results: HashMap<DefId, Ty> = checker
        .signatures
        .iter()
        .map(|(id, signature)| (*id, signature.result.clone()))
        .collect();
    checker.out.results = results;
    checker.out
}

struct Checker<'a> {
    files: &'a [FileInput<'a>],
    /// Record the type of every expression in `out.expr_types`.
    record_types: bool,
    out: CheckOutput,
    /// Top-level names declared in each file.
    scopes: Vec<HashMap<String, DefId>>,
    /// Names imported into each file.
    imports: Vec<HashMap<String, DefId>>,
    /// Per file, the names its `use` lines import from modules that do not exist (`*` for `use x.*`): their uses
    /// are not reported again, nor are declarations of those names elsewhere as unused.
    unresolved: Vec<HashSet<String>>,
    signatures: HashMap<DefId, Signature>,
    used: HashSet<DefId>,
    /// Procedure → procedures it calls, with where.
    calls: HashMap<DefId, Vec<(DefId, FileSpan)>>,
    flow_of_step: HashMap<DefId, DefId>,
    /// Definitions that repeat an earlier name (reported once, never "unused").
    duplicates: HashSet<DefId>,
    /// Checking the outputs of an `expect rejected complete`: a value outside its range may be why it is
    /// refused, so it is not an error there.
    out_of_range_allowed: bool,
    /// The words of the text the parser skipped (see [`File::damaged`]): a use of one of them as an unknown
    /// name is most likely a name declared there, and is not reported.
    damaged_words: HashSet<String>,
}

/// State while checking one procedure or process body.
struct Flow {
    file: FileId,
    flow: DefId,
    is_process: bool,
    locals: Vec<(String, DefId)>,
    steps: HashMap<String, DefId>,
    step_order: HashMap<DefId, usize>,
    branches: HashMap<String, DefId>,
    /// Each named branch: its `parallel` or `first` (as in `branch_stack`), its index, and whether one finished
    /// branch satisfies that join (`first`, `parallel any`, `parallel 1 of`).
    branch_places: HashMap<String, (Span, usize, bool)>,
    /// The blocks the code being collected or checked is in, innermost last (their spans).
    block_stack: Vec<Span>,
    /// The blocks that may not run when the code around them does: the bodies of `if` and `else`, `match` arms,
    /// the branches of a `first` or of a `parallel` that does not wait for all, `for each` bodies.
    conditional: HashSet<Span>,
    /// Each step of the flow: the conditional blocks it is in.
    step_conds: HashMap<DefId, Vec<Span>>,
    /// Steps known to be completed here (`if s.done { … }`).
    known_done: Vec<DefId>,
    /// Steps that may end without a completion: whether each has `expires after`, and whether it is `skippable`;
    /// and those known not to have expired here (`if s.expired { return … }`).
    expiring: HashMap<DefId, (bool, bool)>,
    known_live: Vec<DefId>,
    /// The names that a `cancel` anywhere in the flow names.
    cancelled: HashSet<String>,
    /// After `notify person …` (reported: one person is not a role), the rest of its line (`email "Reminder"`)
    /// reads as values on their own; they are not reported again.
    quiet_until: u32,
    process_within: Option<(i64, Span)>,
    /// Steps declared in the body of a parallel `for each`: that body (its span). Each item has its own copy of
    /// them, so they can only be named inside it.
    item_steps: HashMap<DefId, Span>,
    /// While collecting steps, and then while checking: the parallel `for each` bodies the current code is in.
    items: Vec<Span>,
    /// While collecting steps: the branches of `parallel` and `first` the current code is in (the statement's span
    /// and the branch's index); then, for each step, those around it.
    branch_stack: Vec<(Span, usize)>,
    step_branches: HashMap<DefId, Vec<(Span, usize)>>,
    /// While checking: how many of the flow's steps (in order) the code checked so far comes after, how many
    /// loops it is in, and the branches of `parallel` and `first` it is in (as in `branch_stack`). A step's
    /// outputs cannot be read before the step (outside loops, `P0040`) nor in another branch beside it.
    reached: usize,
    loops: usize,
    check_branches: Vec<(Span, usize)>,
    /// Optional values known to hold a value here (`if x != none { … }`, `if c.note != none and …`, or after
    /// `if x == none { … complete }`), with the type they are read as.
    narrowed: Vec<(Place, Ty)>,
    /// The `on breach` statements at the top of a process's body (the whole case's ladder): the only places the
    /// statement may be.
    case_ladders: Vec<Span>,
}

/// A value that a check against `none` can narrow: a local, a parameter or a step, then fields (or a step's
/// outputs). Locals and parameters never change, and neither do the records they hold; a step's outputs change
/// only when the step runs again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    root: DefId,
    fields: Vec<String>,
}

/// What a condition tells about optional values (those that hold a value when it is true, and when it is false) and
/// about steps (those completed).
#[derive(Default)]
struct Facts {
    when_true: Vec<(Place, Ty)>,
    when_false: Vec<(Place, Ty)>,
    /// Steps completed when the condition is true (`s.done`), and when it is false (`not s.done`).
    done_when_true: Vec<DefId>,
    done_when_false: Vec<DefId>,
    /// Steps that have not expired when the condition is true (`not s.expired`, `s.done`), and when it is false.
    live_when_true: Vec<DefId>,
    live_when_false: Vec<DefId>,
}

impl Facts {
    /// What holds when both conditions are true (nothing is known when they are false).
    fn and(self, other: Facts) -> Facts {
        Facts {
            when_true: self.when_true.into_iter().chain(other.when_true).collect(),
            done_when_true: self
                .done_when_true
                .into_iter()
                .chain(other.done_when_true)
                .collect(),
            live_when_true: self
                .live_when_true
                .into_iter()
                .chain(other.live_when_true)
                .collect(),
            ..Facts::default()
        }
    }

    /// What holds when the condition is false: the facts of `not cond`.
    fn negated(self) -> Facts {
        Facts {
            when_true: self.when_false,
            when_false: self.when_true,
            done_when_true: self.done_when_false,
            done_when_false: self.done_when_true,
            live_when_true: self.live_when_false,
            live_when_false: self.live_when_true,
        }
    }
}

fn at(file: FileId, span: Span) -> FileSpan {
    FileSpan { file, span }
}

/// Adds "did you mean `x`?" and its quick fix when one of `candidates` is close to `name`; otherwise applies
/// `otherwise` (another hint, or none).
fn did_you_mean(
    diagnostic: Diagnostic,
    file: FileId,
    name: &Ident,
    candidates: &[String],
    otherwise: impl FnOnce(Diagnostic) -> Diagnostic,
) -> Diagnostic {
    match suggest::closest(&name.name, candidates.iter().map(String::as_str)) {
        Some(best) => diagnostic
            .with_help(format!("did you mean `{best}`?"))
            .with_suggestion(at(file, name.span), best, format!("use `{best}`")),
        None => otherwise(diagnostic),
    }
}

/// [`did_you_mean`], or else the list of what there is.
fn did_you_mean_or_list(
    diagnostic: Diagnostic,
    file: FileId,
    name: &Ident,
    candidates: &[String],
) -> Diagnostic {
    did_you_mean(diagnostic, file, name, candidates, |diagnostic| {
        if candidates.is_empty() {
            diagnostic
        } else {
            diagnostic.with_help(format!("it has {}", backticked(candidates)))
        }
    })
}

impl<'a> Checker<'a> {
    // -----------------------------------------------------------------------------------------------------------
    // Definitions

    fn file(&self, file: FileId) -> Option<&'a FileInput<'a>> {
        self.files.get(file.0 as usize)
    }

    fn def(&self, id: DefId) -> Option<&Definition> {
        self.out.defs.get(id.0 as usize)
    }

    fn def_name(&self, id: DefId) -> String {
        self.def(id).map(|d| d.name.clone()).unwrap_or_default()
    }

    fn def_kind(&self, id: DefId) -> Option<DefKind> {
        self.def(id).map(|d| d.kind)
    }

    fn docs(&self, file: FileId, start: u32) -> Option<String> {
        let docs = self.file(file)?.docs;
        docs.binary_search_by_key(&start, |(offset, _)| *offset)
            .ok()
            .and_then(|index| docs.get(index))
            .map(|(_, text)| text.clone())
    }

    fn define(
        &mut self,
        file: FileId,
        kind: DefKind,
        name: &Ident,
        span: Span,
        parent: Option<DefId>,
    ) -> DefId {
        let id = DefId(u32::try_from(self.out.defs.len()).unwrap_or(u32::MAX));
        let docs = self.docs(file, span.start);
        self.out.defs.push(Definition {
            name: name.name.clone(),
            kind,
            file,
            name_span: name.span,
            span,
            docs,
            ty: Ty::Error,
            parent,
            signature: format!("{} {}", kind.word(), name.name),
            meaning: None,
        });
        if let Some(parent) = parent {
            self.out.members.entry(parent).or_default().push(id);
        }
        id
    }

    fn set_ty(&mut self, id: DefId, ty: Ty) {
        if let Some(def) = self.out.defs.get_mut(id.0 as usize) {
            def.ty = ty;
        }
    }

    fn set_signature(&mut self, id: DefId, signature: String) {
        if let Some(def) = self.out.defs.get_mut(id.0 as usize) {
            def.signature = signature;
        }
    }

    fn emit(&mut self, diagnostic: Diagnostic) {
        if self.is_knock_on(&diagnostic) {
            return;
        }
        self.out.diagnostics.push(diagnostic);
    }

    /// A name reported unknown that appears in text the parser skipped: its declaration was probably there, and
    /// the syntax error already says what is wrong.
    fn is_knock_on(&self, diagnostic: &Diagnostic) -> bool {
        if self.damaged_words.is_empty()
            || !matches!(
                diagnostic.code,
                Code::UnknownName
                    | Code::UnknownField
                    | Code::UnknownInterpolation
                    | Code::EscalationToUnknownRole
                    | Code::UndeclaredSignal
                    | Code::FourEyesUnknownStep
                    | Code::InvalidKpi
            )
        {
            return false;
        }
        let Some(file) = self.file(diagnostic.at.file) else {
            return false;
        };
        let name = file.source.slice(diagnostic.at.span);
        let name = name.rsplit('.').next().unwrap_or(name).trim();
        self.damaged_words.contains(name)
    }

    fn reference(&mut self, file: FileId, span: Span, id: DefId) {
        self.out.references.push((at(file, span), id));
        let own_name = self
            .def(id)
            .is_some_and(|d| d.file == file && d.name_span == span);
        if !own_name {
            self.used.insert(id);
        }
    }

    fn duplicate(&mut self, file: FileId, name: &Ident, previous: DefId, what: &str) {
        let previous_at = self.def(previous).map(|d| at(d.file, d.name_span));
        let mut diagnostic = Diagnostic::new(
            Code::DuplicateDefinition,
            at(file, name.span),
            format!("{what} `{}` is declared twice", name.name),
        )
        .with_label("declared again here")
        .with_help("rename one of them or remove the duplicate");
        if let Some(previous_at) = previous_at {
            diagnostic = diagnostic.with_secondary(previous_at, "first declared here");
        }
        self.emit(diagnostic);
    }

    fn collect(&mut self) {
        for (index, input) in self.files.iter().enumerate() {
            let file = FileId(u32::try_from(index).unwrap_or(u32::MAX));
            for item in &input.ast.items {
                let (kind, name) = match &item.kind {
                    ItemKind::Role(name) => (DefKind::Role, name),
                    ItemKind::Record(decl) => (DefKind::Record, &decl.name),
                    ItemKind::Enum(decl) => (DefKind::Enum, &decl.name),
                    ItemKind::Signal(decl) => (DefKind::Signal, &decl.name),
                    ItemKind::Action(decl) => (DefKind::Action, &decl.name),
                    ItemKind::Calendar(decl) => (DefKind::Calendar, &decl.name),
                    ItemKind::Procedure(decl) => (DefKind::Procedure, &decl.name),
                    ItemKind::Process(decl) => (DefKind::Process, &decl.name),
                    ItemKind::Schedule(decl) => (DefKind::Schedule, &decl.name),
                    ItemKind::Kpi(decl) => (DefKind::Kpi, &decl.name),
                    ItemKind::Use(_) | ItemKind::Test(_) | ItemKind::Error => continue,
                };
                if BUILTIN_TYPES.contains(&name.name.as_str()) {
                    self.emit(
                        Diagnostic::new(
                            Code::DuplicateDefinition,
                            at(file, name.span),
                            format!(
                                "`{}` is a built-in type and cannot be declared again",
                                name.name
                            ),
                        )
                        .with_label("built-in name")
                        .with_help("choose another name"),
                    );
                    continue;
                }
                let id = self.define(file, kind, name, item.span, None);
                let previous = self
                    .scopes
                    .get_mut(index)
                    .and_then(|scope| scope.insert(name.name.clone(), id));
                if let Some(previous) = previous {
                    // Keep the first declaration visible.
                    if let Some(scope) = self.scopes.get_mut(index) {
                        scope.insert(name.name.clone(), previous);
                    }
                    self.duplicates.insert(id);
                    self.duplicate(file, name, previous, "name");
                }
            }
        }
    }

    /// Processes, signals and actions are named by the host (`start`, a signal event, an action's result), which
    /// knows a package only as one module: two modules of a package may not declare two of one kind with one name.
    /// (Roles are identities in the host's directory: modules that declare the same role mean the same one.)
    fn check_host_names(&mut self) {
        let mut first: HashMap<(&'static str, &str), (FileId, Span)> = HashMap::default();
        let mut found = Vec::new();
        for (index, input) in self.files.iter().enumerate() {
            if input.is_std {
                continue;
            }
            let file = FileId(u32::try_from(index).unwrap_or(u32::MAX));
            for item in &input.ast.items {
                let (kind, name) = match &item.kind {
                    ItemKind::Process(decl) => ("process", &decl.name),
                    ItemKind::Signal(decl) => ("signal", &decl.name),
                    ItemKind::Action(decl) => ("action", &decl.name),
                    _ => continue,
                };
                match first.get(&(kind, name.name.as_str())) {
                    // Twice in one module is the ordinary duplicate (reported by `collect`).
                    Some(&(earlier, _)) if earlier == file => {}
                    Some(&(earlier, span)) => found.push((kind, file, name, earlier, span)),
                    None => {
                        first.insert((kind, name.name.as_str()), (file, name.span));
                    }
                }
            }
        }
        for (kind, file, name, earlier, span) in found {
            let how = match kind {
                "process" => "starts processes",
                "signal" => "sends signals",
                _ => "reports the results of actions",
            };
            let module = self
                .file(earlier)
                .map(|f| f.source.module.clone())
                .unwrap_or_default();
            self.emit(
                Diagnostic::new(
                    Code::DuplicateDefinition,
                    at(file, name.span),
                    format!(
                        "{kind} `{}` is declared in two modules of this package",
                        name.name
                    ),
                )
                .with_label("declared again here")
                .with_secondary(at(earlier, span), format!("also declared in `{module}`"))
                .with_help(format!(
                    "the host {how} by name, to the package's one compiled module: declare `{}` once and `use` it \
                     from the other module, or rename one",
                    name.name
                )),
            );
        }
    }

    fn module_index(&self, path: &str) -> Option<usize> {
        self.files.iter().position(|f| f.source.module == path)
    }

    fn resolve_imports(&mut self) {
        for (index, input) in self.files.iter().enumerate() {
            let file = FileId(u32::try_from(index).unwrap_or(u32::MAX));
            for item in &input.ast.items {
                let ItemKind::Use(decl) = &item.kind else {
                    continue;
                };
                let path: Vec<&str> = decl.module.iter().map(|s| s.name.as_str()).collect();
                let path_text = path.join(".");
                let path_span = match (decl.module.first(), decl.module.last()) {
                    (Some(first), Some(last)) => first.span.to(last.span),
                    _ => item.span,
                };
                // `use std.survey`: the last name is a module, so nothing is said of what to import from it.
                if let UseItems::Named(names) = &decl.items {
                    if let [name] = names.as_slice() {
                        let whole = format!("{path_text}.{}", name.name);
                        if let Some(target) = self.module_index(&whole) {
                            self.emit(
                                Diagnostic::new(
                                    Code::UnresolvedImport,
                                    at(file, path_span.to(name.span)),
                                    format!("`use {whole}` names a module, not what to import from it"),
                                )
                                .with_label("a module")
                                .with_help(format!(
                                    "write `use {whole}.*` for everything it declares, or `use {whole}.{{Item}}`"
                                ))
                                .with_suggestion(
                                    at(file, path_span.to(name.span)),
                                    format!("{whole}.*"),
                                    format!("import everything from `{whole}`"),
                                ),
                            );
                            // Read as `use ….*`, so that what the file uses from it is not reported as well.
                            let target_scope = self.scopes.get(target).cloned().unwrap_or_default();
                            for (name, id) in target_scope {
                                self.import(file, index, &name, id, None);
                            }
                            continue;
                        }
                    }
                }
                let target = match self.module_index(&path_text) {
                    Some(target) => target,
                    None => {
                        let modules: Vec<&str> = self
                            .files
                            .iter()
                            .map(|f| f.source.module.as_str())
                            .collect();
                        // `use support.common.X` in package `support`: paths start inside the package.
                        let inside = modules
                            .iter()
                            .copied()
                            .filter(|m| path_text.ends_with(&format!(".{m}")))
                            .max_by_key(|m| m.len());
                        let best = inside
                            .or_else(|| suggest::closest(&path_text, modules.iter().copied()));
                        let mut diagnostic = Diagnostic::new(
                            Code::UnresolvedImport,
                            at(file, path_span),
                            format!("there is no module `{path_text}`"),
                        )
                        .with_label("unknown module");
                        match (best, inside) {
                            (Some(best), Some(_)) => {
                                diagnostic = diagnostic
                                    .with_help(format!(
                                        "module paths start inside the package's directory: write `{best}`"
                                    ))
                                    .with_suggestion(at(file, path_span), best, format!("use `{best}`"));
                            }
                            (Some(best), None) => {
                                diagnostic = diagnostic
                                    .with_help(format!("did you mean `{best}`?"))
                                    .with_suggestion(
                                        at(file, path_span),
                                        best,
                                        format!("use `{best}`"),
                                    );
                            }
                            (None, _) => {
                                diagnostic = diagnostic.with_help(
                                    "modules are the package's files (`billing/refund.proc` is `billing.refund`) and `std.*`",
                                );
                            }
                        }
                        self.emit(diagnostic);
                        // Recover as if the suggested module had been written, so that its names are not all
                        // reported again where they are used; without one, uses of what the line imports are not
                        // reported either (the mistake is the import).
                        match best.and_then(|m| self.module_index(m)) {
                            Some(target) => target,
                            None => {
                                if let Some(unresolved) = self.unresolved.get_mut(index) {
                                    match &decl.items {
                                        UseItems::All(_) => {
                                            unresolved.insert("*".to_string());
                                        }
                                        UseItems::Named(names) => {
                                            unresolved.extend(names.iter().map(|n| n.name.clone()));
                                        }
                                    }
                                }
                                continue;
                            }
                        }
                    }
                };
                if target == index {
                    continue;
                }
                let target_scope = self.scopes.get(target).cloned().unwrap_or_default();
                match &decl.items {
                    UseItems::All(_) => {
                        for (name, id) in target_scope {
                            self.import(file, index, &name, id, None);
                        }
                    }
                    UseItems::Named(names) => {
                        if names.is_empty() {
                            self.emit(
                                Diagnostic::new(
                                    Code::UnresolvedImport,
                                    at(file, path_span),
                                    format!("`use {path_text}` does not name what to import"),
                                )
                                .with_label("a module, but no item")
                                .with_help(format!(
                                    "write `use {path_text}.*` or `use {path_text}.{{Item}}`"
                                )),
                            );
                        }
                        for name in names {
                            match target_scope.get(&name.name) {
                                Some(&id) => {
                                    self.import(file, index, &name.name, id, Some(name.span));
                                    self.reference(file, name.span, id);
                                }
                                None => {
                                    let mut diagnostic = Diagnostic::new(
                                        Code::UnresolvedImport,
                                        at(file, name.span),
                                        format!("module `{path_text}` has no item `{}`", name.name),
                                    )
                                    .with_label("not in that module");
                                    if let Some(best) = suggest::closest(
                                        &name.name,
                                        target_scope.keys().map(String::as_str),
                                    ) {
                                        diagnostic = diagnostic
                                            .with_help(format!("did you mean `{best}`?"))
                                            .with_suggestion(
                                                at(file, name.span),
                                                best,
                                                format!("use `{best}`"),
                                            );
                                    } else if !target_scope.is_empty() {
                                        diagnostic = diagnostic.with_help(module_items(
                                            &path_text,
                                            &name.name,
                                            target_scope.keys().map(String::as_str),
                                        ));
                                    }
                                    self.emit(diagnostic);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn import(&mut self, file: FileId, index: usize, name: &str, id: DefId, span: Option<Span>) {
        let own = self.scopes.get(index).and_then(|s| s.get(name)).copied();
        if let (Some(own), Some(span)) = (own, span) {
            let ident = Ident {
                name: name.to_string(),
                span,
            };
            self.duplicate(file, &ident, own, "name");
            return;
        }
        if let Some(imports) = self.imports.get_mut(index) {
            imports.insert(name.to_string(), id);
        }
    }

    /// Looks a top-level name up in a file: its own declarations, then its imports.
    fn lookup_global(&self, file: FileId, name: &str) -> Option<DefId> {
        let index = file.0 as usize;
        self.scopes
            .get(index)
            .and_then(|s| s.get(name))
            .or_else(|| self.imports.get(index).and_then(|s| s.get(name)))
            .copied()
    }

    fn global_names(&self, file: FileId, filter: impl Fn(DefKind) -> bool) -> Vec<String> {
        let index = file.0 as usize;
        let mut names: Vec<String> = self
            .scopes
            .get(index)
            .into_iter()
            .chain(self.imports.get(index))
            .flat_map(|scope| scope.iter())
            .filter(|(_, id)| self.def_kind(**id).is_some_and(&filter))
            .map(|(name, _)| name.clone())
            .collect();
        names.sort();
        names
    }

    fn unknown(
        &mut self,
        code: Code,
        file: FileId,
        name: &Ident,
        what: &str,
        candidates: &[String],
    ) {
        if self
            .unresolved
            .get(file.0 as usize)
            .is_some_and(|names| names.contains(&name.name) || names.contains("*"))
        {
            return;
        }
        let diagnostic = Diagnostic::new(
            code,
            at(file, name.span),
            format!("unknown {what} `{}`", name.name),
        )
        .with_label(format!("no {what} with this name"));
        // Declared in another module (or the standard library) that this file does not import: import it.
        let kinds: &[DefKind] = match what {
            "role" => &[DefKind::Role],
            "calendar" => &[DefKind::Calendar],
            "process" => &[DefKind::Process],
            "signal" => &[DefKind::Signal],
            "type" => &[DefKind::Record, DefKind::Enum, DefKind::Signal],
            "record" => &[DefKind::Record, DefKind::Signal],
            "procedure or action" => &[DefKind::Procedure, DefKind::Action],
            "process or procedure" => &[DefKind::Process, DefKind::Procedure],
            "action" => &[DefKind::Action],
            "procedure" => &[DefKind::Procedure],
            "name" => &[DefKind::Role, DefKind::Calendar, DefKind::Enum],
            "KPI" => &[DefKind::Kpi],
            _ => &[],
        };
        let elsewhere = self.declared_elsewhere(file, &name.name, kinds);
        if elsewhere.is_none() {
            if let Some(proc) = suggest::foreign_spelling(what, &name.name) {
                self.emit(
                    diagnostic
                        .with_help(format!("Proc writes this `{proc}`"))
                        .with_suggestion(at(file, name.span), proc, format!("write `{proc}`")),
                );
                return;
            }
        }
        // The name it is likely a misspelling of is meant, so it is used (no "never used" on top of this).
        if elsewhere.is_none() {
            let meant = suggest::closest(&name.name, candidates.iter().map(String::as_str))
                .and_then(|close| self.lookup_global(file, close));
            if let Some(id) = meant {
                self.used.insert(id);
            }
        }
        let mut diagnostic = match &elsewhere {
            Some(module) => diagnostic.with_help(format!(
                "`{}` is declared in module `{module}`: import it with `use {module}.{}`",
                name.name, name.name
            )),
            None => did_you_mean(diagnostic, file, name, candidates, |diagnostic| {
                if what == "role" {
                    diagnostic.with_help(format!("declare it: `role {}`", name.name))
                } else {
                    diagnostic
                }
            }),
        };
        if let (Some(module), Some(insert)) = (&elsewhere, self.use_insertion_point(file)) {
            diagnostic = diagnostic.with_suggestion(
                at(file, insert.0),
                format!("{}use {module}.{}{}", insert.1, name.name, insert.2),
                format!("import `{}` from `{module}`", name.name),
            );
        }
        if what == "role" {
            if let Some(insert) = self.role_insertion_point(file) {
                diagnostic = diagnostic.with_suggestion(
                    at(file, insert.0),
                    format!("role {}\n{}", name.name, insert.1),
                    format!("declare role `{}`", name.name),
                );
            }
        }
        self.emit(diagnostic);
    }

    /// Where the arms of an empty `match` go: right after its `{` (and over the spaces before a `}` on the same
    /// line, which then moves to a line of its own), one level deeper than `match`. The span to replace, the
    /// indentation of the arms, and what follows them.
    fn inside_empty_match(
        &self,
        file: FileId,
        keyword: Span,
        scrutinee_end: u32,
    ) -> (Option<(u32, u32)>, String, String) {
        let outer = self.indentation_at(file, keyword.start).unwrap_or_default();
        let text = self
            .file(file)
            .map(|f| f.source.text.as_str())
            .unwrap_or_default();
        let Some(brace) = text
            .get(scrutinee_end as usize..)
            .and_then(|rest| rest.find('{'))
            .map(|at| scrutinee_end as usize + at + 1)
        else {
            return (None, String::new(), String::new());
        };
        let rest = text.get(brace..).unwrap_or_default();
        let after_spaces = rest.trim_start_matches([' ', '\t']);
        let (end, close) = if after_spaces.starts_with('}') {
            (
                brace + rest.len() - after_spaces.len(),
                format!("\n{outer}"),
            )
        } else {
            (brace, String::new())
        };
        let span = u32::try_from(brace).ok().zip(u32::try_from(end).ok());
        (span, format!("{outer}  "), close)
    }

    /// The spaces and tabs that start the line holding `offset`.
    fn indentation_at(&self, file: FileId, offset: u32) -> Option<String> {
        let text = self.file(file)?.source.text.as_str();
        let line_start = text
            .get(..offset as usize)?
            .rfind('\n')
            .map_or(0, |newline| newline + 1);
        let line = text.get(line_start..)?;
        Some(
            line.chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect(),
        )
    }

    /// The module (package first, then the standard library) that declares a top-level `name` of one of `kinds`
    /// that this file cannot see.
    fn declared_elsewhere(&self, file: FileId, name: &str, kinds: &[DefKind]) -> Option<String> {
        let mut found: Vec<(bool, String)> = self
            .scopes
            .iter()
            .enumerate()
            .filter(|(index, scope)| {
                *index != file.0 as usize
                    && scope
                        .get(name)
                        .and_then(|&id| self.def_kind(id))
                        .is_some_and(|kind| kinds.contains(&kind))
            })
            .filter_map(|(index, _)| {
                let input = self.file(FileId(u32::try_from(index).ok()?))?;
                Some((input.is_std, input.source.module.clone()))
            })
            .collect();
        found.sort();
        found.into_iter().next().map(|(_, module)| module)
    }

    /// Where a new `use` line goes: after the file's last `use`, else at its start. The span and the text that
    /// goes before and after the line.
    fn use_insertion_point(&self, file: FileId) -> Option<(Span, &'static str, &'static str)> {
        let input = self.file(file)?;
        if input.is_std {
            return None;
        }
        let (offset, before, after) =
            crate::suggest::use_insertion(&input.source.text, &input.ast.items);
        Some((
            Span {
                start: offset,
                end: offset,
            },
            before,
            after,
        ))
    }

    /// Where a new `role` declaration goes in a file: before its first role, or else before its first
    /// declaration that is not a `use` (then followed by a blank line). `None` for the standard library.
    fn role_insertion_point(&self, file: FileId) -> Option<(Span, &'static str)> {
        let input = self.file(file)?;
        if input.is_std {
            return None;
        }
        let items = &input.ast.items;
        let (start, after) = match items.iter().find(|i| matches!(i.kind, ItemKind::Role(_))) {
            Some(role) => (role.span.start, ""),
            None => {
                let first = items.iter().find(|i| !matches!(i.kind, ItemKind::Use(_)))?;
                (first.span.start, "\n")
            }
        };
        // Before the declaration's doc comment, if it has one: at the start of its first `///` line.
        let text = input.source.text.as_str();
        let mut line_start = text
            .get(..start as usize)
            .and_then(|before| before.rfind('\n'))
            .map_or(0, |newline| newline + 1);
        while line_start > 0 {
            let previous_start = text
                .get(..line_start - 1)
                .and_then(|before| before.rfind('\n'))
                .map_or(0, |newline| newline + 1);
            let previous = text.get(previous_start..line_start).unwrap_or("");
            if previous.trim_start().starts_with("///") {
                line_start = previous_start;
            } else {
                break;
            }
        }
        let point = u32::try_from(line_start).ok()?;
        Some((
            Span {
                start: point,
                end: point,
            },
            after,
        ))
    }

    /// Resolves a name that must be a top-level definition of one of `kinds`.
    fn resolve_kind(
        &mut self,
        file: FileId,
        name: &Ident,
        kinds: &[DefKind],
        what: &str,
        unknown_code: Code,
    ) -> Option<DefId> {
        match self.lookup_global(file, &name.name) {
            Some(id) => {
                self.reference(file, name.span, id);
                let kind = self.def_kind(id)?;
                if kinds.contains(&kind) {
                    Some(id)
                } else {
                    self.emit(
                        Diagnostic::new(
                            Code::WrongKind,
                            at(file, name.span),
                            format!("`{}` is a {}, not a {what}", name.name, kind.word()),
                        )
                        .with_label(format!("expected a {what}")),
                    );
                    None
                }
            }
            None => {
                let candidates = self.global_names(file, |k| kinds.contains(&k));
                self.unknown(unknown_code, file, name, what, &candidates);
                None
            }
        }
    }

    // -----------------------------------------------------------------------------------------------------------
    // Types

    fn resolve_type(&mut self, file: FileId, ty: &TypeExpr) -> Ty {
        match &ty.kind {
            TypeExprKind::Error => Ty::Error,
            TypeExprKind::Optional(inner) => {
                let inner = self.resolve_type(file, inner);
                match inner {
                    Ty::Optional(_) | Ty::Error => inner,
                    other => Ty::Optional(Box::new(other)),
                }
            }
            TypeExprKind::List(inner) => Ty::List(Box::new(self.resolve_type(file, inner))),
            TypeExprKind::Range {
                name,
                min,
                max,
                bounds,
            } => {
                if name.name != "Int" {
                    let base = self.resolve_type(
                        file,
                        &TypeExpr {
                            kind: TypeExprKind::Named(name.clone()),
                            span: name.span,
                        },
                    );
                    if base != Ty::Error {
                        self.emit(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                at(file, *bounds),
                                format!("only `Int` takes a range, not `{}`", name.name),
                            )
                            .with_label("a range of whole numbers")
                            .with_help("write `Int from 1 to 5`, or leave the range out"),
                        );
                    }
                    return Ty::Error;
                }
                match (min, max) {
                    (Some(min), Some(max)) if min <= max => Ty::IntIn(*min, *max),
                    (Some(min), Some(max)) => {
                        self.emit(
                            Diagnostic::new(
                                Code::InvalidLiteral,
                                at(file, *bounds),
                                format!("this range is empty: {min} is more than {max}"),
                            )
                            .with_label("no whole number lies in it")
                            .with_help(format!(
                                "write the smaller bound first: `from {max} to {min}`"
                            )),
                        );
                        Ty::Error
                    }
                    _ => {
                        self.emit(
                            Diagnostic::new(
                                Code::InvalidLiteral,
                                at(file, *bounds),
                                "a bound of this range is too large for a whole number",
                            )
                            .with_label("out of range")
                            .with_help(format!(
                                "whole numbers lie between {} and {}",
                                i64::MIN,
                                i64::MAX
                            )),
                        );
                        Ty::Error
                    }
                }
            }
            TypeExprKind::Named(name) => match name.name.as_str() {
                "Text" => Ty::Text,
                "Int" => Ty::Int,
                "Bool" => Ty::Bool,
                "Duration" => Ty::Duration,
                "Time" => Ty::Time,
                "Date" => Ty::Date,
                "Role" => Ty::Role,
                _ => match self.lookup_global(file, &name.name) {
                    Some(id) => {
                        self.reference(file, name.span, id);
                        match self.def_kind(id) {
                            Some(DefKind::Record | DefKind::Enum | DefKind::Signal) => {
                                Ty::Named(id)
                            }
                            Some(kind) => {
                                self.emit(
                                    Diagnostic::new(
                                        Code::WrongKind,
                                        at(file, name.span),
                                        format!("`{}` is a {}, not a type", name.name, kind.word()),
                                    )
                                    .with_label("expected a type")
                                    .with_help("types are `Text`, `Int`, `Bool`, `Duration`, `Time`, `Date`, `Role`, records, enums and signals"),
                                );
                                Ty::Error
                            }
                            None => Ty::Error,
                        }
                    }
                    None => {
                        let mut candidates: Vec<String> =
                            BUILTIN_TYPES.iter().map(|s| (*s).to_string()).collect();
                        candidates.extend(self.global_names(file, |k| {
                            matches!(k, DefKind::Record | DefKind::Enum | DefKind::Signal)
                        }));
                        self.unknown(Code::UnknownName, file, name, "type", &candidates);
                        Ty::Error
                    }
                },
            },
        }
    }

    fn ty_name(&self, ty: &Ty) -> String {
        match ty {
            Ty::Error => "?".to_string(),
            Ty::Unit => "nothing".to_string(),
            Ty::Text => "Text".to_string(),
            Ty::Int => "Int".to_string(),
            Ty::IntIn(min, max) => format!("Int from {min} to {max}"),
            Ty::Bool => "Bool".to_string(),
            Ty::Duration => "Duration".to_string(),
            Ty::Time => "Time".to_string(),
            Ty::Date => "Date".to_string(),
            Ty::Role => "Role".to_string(),
            Ty::Named(id) | Ty::EnumType(id) => self.def_name(*id),
            Ty::Optional(inner) => format!("{}?", self.ty_name(inner)),
            Ty::List(inner) => format!("[{}]", self.ty_name(inner)),
            Ty::Step(id) => format!("step {}", self.def_name(*id)),
            Ty::Calendar(id) => format!("calendar {}", self.def_name(*id)),
            Ty::None => "none".to_string(),
        }
    }

    /// A record (or signal payload) whose required fields lead back to itself can never be given a value: every
    /// one needs another inside it (`P0043`). A field that is optional or a list ends the chain. Each cycle is
    /// reported once, at the field of its first declared record that starts it.
    fn check_record_cycles(&mut self) {
        let is_record = |this: &Self, id: DefId| {
            matches!(this.def_kind(id), Some(DefKind::Record | DefKind::Signal))
        };
        // The records each record's required fields hold, with the field.
        let holds = |this: &Self, id: DefId| -> Vec<(DefId, DefId)> {
            this.out
                .members
                .get(&id)
                .into_iter()
                .flatten()
                .filter(|&&field| this.def_kind(field) == Some(DefKind::Field))
                .filter_map(|&field| match this.def(field).map(|d| &d.ty) {
                    Some(Ty::Named(inner)) if is_record(this, *inner) => Some((field, *inner)),
                    _ => None,
                })
                .collect()
        };
        let records: Vec<DefId> = (0..self.out.defs.len())
            .map(|i| DefId(u32::try_from(i).unwrap_or(u32::MAX)))
            .filter(|&id| is_record(self, id))
            .collect();
        for &record in &records {
            // Depth-first from each field of the record, looking for the record again.
            for (first_field, start) in holds(self, record) {
                let mut stack = vec![(start, vec![record, start])];
                let mut seen: HashSet<DefId> = HashSet::default();
                let mut cycle = None;
                while let Some((at, trail)) = stack.pop() {
                    if at == record {
                        cycle = Some(trail);
                        break;
                    }
                    if !seen.insert(at) {
                        continue;
                    }
                    for (_, next) in holds(self, at) {
                        let mut longer = trail.clone();
                        longer.push(next);
                        stack.push((next, longer));
                    }
                }
                let Some(path) = cycle else { continue };
                // Once per cycle: at its first declared record.
                if path.iter().any(|&r| r.0 < record.0) {
                    continue;
                }
                let Some(field) = self.def(first_field).cloned() else {
                    continue;
                };
                let names: Vec<String> = path.iter().map(|&r| self.def_name(r)).collect();
                let name = self.def_name(record);
                let held = names.get(1).cloned().unwrap_or_default();
                let message = if path.len() == 2 {
                    format!(
                        "record `{name}` always contains another `{name}` (field `{}`), so no value of it can \
                         ever be written",
                        field.name
                    )
                } else {
                    format!(
                        "record `{name}` always contains another `{name}` ({}), so no value of it can ever be \
                         written",
                        names.join(" → ")
                    )
                };
                self.emit(
                    Diagnostic::new(Code::RecordContainsItself, at(field.file, field.span), message)
                        .with_label("a value is required here")
                        .with_help(format!(
                            "make the field optional (`{}: {held}?`) or a list (`[{held}]`), so the chain can end",
                            field.name
                        )),
                );
                break;
            }
        }
    }

    /// Declares fields, variants, parameters and signatures, so bodies can refer to anything.
    fn declare_types(&mut self) {
        for (index, input) in self.files.iter().enumerate() {
            let file = FileId(u32::try_from(index).unwrap_or(u32::MAX));
            for item in &input.ast.items {
                let Some(owner) = self.lookup_global(file, item_name(item).unwrap_or("")) else {
                    continue;
                };
                if self
                    .def(owner)
                    .is_none_or(|d| d.span != item.span || d.file != file)
                {
                    continue; // a duplicate; already reported
                }
                match &item.kind {
                    ItemKind::Record(decl) | ItemKind::Signal(decl) => {
                        let mut seen: HashMap<String, DefId> = HashMap::default();
                        let mut shown = Vec::new();
                        for field in &decl.fields {
                            let ty = self.resolve_type(file, &field.ty);
                            let id = self.define(
                                file,
                                DefKind::Field,
                                &field.name,
                                field.span,
                                Some(owner),
                            );
                            shown.push(format!("{}: {}", field.name.name, self.ty_name(&ty)));
                            self.set_signature(
                                id,
                                format!(
                                    "{}.{}: {}",
                                    decl.name.name,
                                    field.name.name,
                                    self.ty_name(&ty)
                                ),
                            );
                            self.set_ty(id, ty);
                            if let Some(previous) = seen.insert(field.name.name.clone(), id) {
                                self.duplicate(file, &field.name, previous, "field");
                            }
                        }
                        let word = if matches!(item.kind, ItemKind::Signal(_)) {
                            "signal"
                        } else {
                            "record"
                        };
                        self.set_signature(
                            owner,
                            format!("{word} {} {{ {} }}", decl.name.name, shown.join(", ")),
                        );
                        self.set_ty(owner, Ty::Named(owner));
                    }
                    ItemKind::Enum(decl) => {
                        let mut seen: HashMap<String, DefId> = HashMap::default();
                        for variant in &decl.variants {
                            let id = self.define(
                                file,
                                DefKind::Variant,
                                variant,
                                variant.span,
                                Some(owner),
                            );
                            self.set_ty(id, Ty::Named(owner));
                            self.set_signature(id, format!("{}.{}", decl.name.name, variant.name));
                            if let Some(previous) = seen.insert(variant.name.clone(), id) {
                                self.duplicate(file, variant, previous, "variant");
                            }
                        }
                        if decl.variants.is_empty() {
                            self.emit(
                                Diagnostic::new(
                                    Code::Syntax,
                                    at(file, decl.name.span),
                                    format!("enum `{}` has no variants", decl.name.name),
                                )
                                .with_label("empty enum")
                                .with_help("list its values: `enum Urgency { low, normal, high }`"),
                            );
                        }
                        let names: Vec<&str> =
                            decl.variants.iter().map(|v| v.name.as_str()).collect();
                        self.set_signature(
                            owner,
                            format!("enum {} {{ {} }}", decl.name.name, names.join(", ")),
                        );
                        self.set_ty(owner, Ty::Named(owner));
                    }
                    ItemKind::Action(decl) => {
                        let signature =
                            self.declare_params(file, owner, &decl.params, decl.result.as_ref());
                        let text = self.signature_text("action", &decl.name.name, &signature);
                        self.set_signature(owner, text);
                        self.signatures.insert(owner, signature);
                    }
                    ItemKind::Procedure(decl) | ItemKind::Process(decl) => {
                        let signature =
                            self.declare_params(file, owner, &decl.params, decl.result.as_ref());
                        let word = if matches!(item.kind, ItemKind::Process(_)) {
                            "process"
                        } else {
                            "procedure"
                        };
                        let text = self.signature_text(word, &decl.name.name, &signature);
                        self.set_signature(owner, text);
                        self.signatures.insert(owner, signature);
                    }
                    _ => {}
                }
            }
        }
    }

    fn signature_text(&self, word: &str, name: &str, signature: &Signature) -> String {
        let params: Vec<String> = signature
            .params
            .iter()
            .map(|(n, t)| format!("{n}: {}", self.ty_name(t)))
            .collect();
        let result = match signature.result {
            Ty::Unit => String::new(),
            ref ty => format!(" -> {}", self.ty_name(ty)),
        };
        format!("{word} {name}({}){result}", params.join(", "))
    }

    fn declare_params(
        &mut self,
        file: FileId,
        owner: DefId,
        params: &[Field],
        result: Option<&TypeExpr>,
    ) -> Signature {
        let mut signature = Signature::default();
        let mut seen: HashMap<String, DefId> = HashMap::default();
        for param in params {
            let ty = self.resolve_type(file, &param.ty);
            let id = self.define(file, DefKind::Param, &param.name, param.span, Some(owner));
            self.set_signature(id, format!("{}: {}", param.name.name, self.ty_name(&ty)));
            self.set_ty(id, ty.clone());
            if let Some(previous) = seen.insert(param.name.name.clone(), id) {
                self.duplicate(file, &param.name, previous, "parameter");
            }
            signature.params.push((param.name.name.clone(), ty));
        }
        signature.result = match result {
            Some(ty) => self.resolve_type(file, ty),
            None => Ty::Unit,
        };
        signature
    }

    // -----------------------------------------------------------------------------------------------------------
    // Items

    fn check_items(&mut self) {
        for (index, input) in self.files.iter().enumerate() {
            let file = FileId(u32::try_from(index).unwrap_or(u32::MAX));
            for item in &input.ast.items {
                let owner = item_name(item)
                    .and_then(|name| self.lookup_global(file, name))
                    .filter(|&id| {
                        self.def(id)
                            .is_some_and(|d| d.span == item.span && d.file == file)
                    });
                match (&item.kind, owner) {
                    (ItemKind::Calendar(decl), Some(_)) => self.check_calendar(file, decl),
                    (ItemKind::Procedure(decl), Some(id)) => self.check_flow(file, id, decl, false),
                    (ItemKind::Process(decl), Some(id)) => self.check_flow(file, id, decl, true),
                    (ItemKind::Schedule(decl), Some(_)) => self.check_schedule(file, decl),
                    _ => {}
                }
            }
        }
        // Tests last: they refer to the steps that checking the flows declared.
        for (index, input) in self.files.iter().enumerate() {
            let file = FileId(u32::try_from(index).unwrap_or(u32::MAX));
            // Tests are chosen and reported by name: two of one name in a file cannot be told apart.
            let mut test_names: HashMap<String, DefId> = HashMap::default();
            for item in &input.ast.items {
                if let ItemKind::Test(decl) = &item.kind {
                    let id = self.check_test(file, item, decl);
                    let name = text_of(&decl.name).unwrap_or_default();
                    if let Some(previous) = test_names.insert(name.clone(), id) {
                        let name = Ident {
                            name,
                            span: decl.name.span,
                        };
                        self.duplicate(file, &name, previous, "test");
                    }
                }
                if let ItemKind::Kpi(decl) = &item.kind {
                    let owner = self.lookup_global(file, &decl.name.name).filter(|&id| {
                        self.def(id)
                            .is_some_and(|d| d.span == item.span && d.file == file)
                    });
                    if let Some(id) = owner {
                        self.check_kpi(file, id, decl);
                    }
                }
            }
        }
    }

    fn literal_error(&mut self, file: FileId, span: Span, message: String) {
        self.emit(
            Diagnostic::new(Code::InvalidLiteral, at(file, span), message)
                .with_label("invalid value"),
        );
    }

    fn check_calendar(&mut self, file: FileId, decl: &CalendarDecl) {
        let mut working_minutes = 0i64;
        let mut zone_seen = false;
        for entry in &decl.entries {
            match entry {
                CalendarEntry::Zone(lit) => {
                    if zone_seen {
                        self.emit(
                            Diagnostic::new(
                                Code::Misplaced,
                                at(file, lit.span),
                                "a calendar has one `zone`",
                            )
                            .with_label("second zone")
                            .with_help("remove one of the `zone` lines"),
                        );
                    }
                    zone_seen = true;
                    let zone = text_of(lit).unwrap_or_default();
                    // Legacy abbreviations: `EST` is UTC−5 all year (no summer time), `CET` follows no one country's
                    // rules; people who write them mean a place.
                    // The places to write instead (in code quotes each), and the fixed offset the abbreviation
                    // stands for in winter (POSIX `Etc/GMT` names count the other way: `Etc/GMT+5` is UTC−5).
                    let place: Option<(&[&str], &str, &str)> = match zone.as_str() {
                        "EST" | "EST5EDT" => {
                            Some((&["America/New_York"], "Etc/GMT+5", "five hours behind"))
                        }
                        "MST" | "MST7MDT" => Some((
                            &["America/Denver", "America/Phoenix"],
                            "Etc/GMT+7",
                            "seven hours behind",
                        )),
                        "HST" => Some((&["Pacific/Honolulu"], "Etc/GMT+10", "ten hours behind")),
                        "PST8PDT" => {
                            Some((&["America/Los_Angeles"], "Etc/GMT+8", "eight hours behind"))
                        }
                        "CST6CDT" => Some((&["America/Chicago"], "Etc/GMT+6", "six hours behind")),
                        "CET" | "MET" => Some((
                            &["Europe/Berlin", "Europe/Paris"],
                            "Etc/GMT-1",
                            "one hour ahead of",
                        )),
                        "EET" => Some((
                            &["Europe/Athens", "Europe/Helsinki"],
                            "Etc/GMT-2",
                            "two hours ahead of",
                        )),
                        "WET" => Some((&["Europe/Lisbon"], "Etc/UTC", "the same as")),
                        _ => None,
                    };
                    if let Some((places, offset, words)) = place {
                        let several = places.len() > 1;
                        let places = places
                            .iter()
                            .map(|p| format!("`{p}`"))
                            .collect::<Vec<_>>()
                            .join(" or ");
                        let places = if several {
                            format!("{places} (or the office's own city)")
                        } else {
                            places
                        };
                        self.emit(
                            Diagnostic::new(
                                Code::InvalidCalendar,
                                at(file, lit.span),
                                format!("`{zone}` is an old abbreviation, not a place's time zone"),
                            )
                            .with_label("which place?")
                            .with_help(format!(
                                "name the place whose clocks the team keeps, and its summer time comes with it: \
                                 {places}; for an offset that never changes, `{offset}` ({words} UTC all year)"
                            )),
                        );
                    } else if !crate::zones::is_time_zone(&zone) {
                        self.emit(
                            Diagnostic::new(
                                Code::InvalidCalendar,
                                at(file, lit.span),
                                format!("`{zone}` is not a time zone"),
                            )
                            .with_label("unknown time zone")
                            .with_help(match suggest::closest(&zone, crate::zones::TIME_ZONES.iter().copied()) {
                                Some(best) => format!("did you mean `{best}`?"),
                                None => "use an IANA zone name such as `Europe/Berlin`, `America/New_York` or `UTC`".to_string(),
                            }),
                        );
                    }
                }
                CalendarEntry::Hours {
                    days,
                    from,
                    to,
                    span,
                } => {
                    let mut day_count = 0i64;
                    for (first, last) in days {
                        let first_index = self.weekday(file, first);
                        match last {
                            Some(last) => {
                                let last_index = self.weekday(file, last);
                                if let (Some(a), Some(b)) = (first_index, last_index) {
                                    if b < a {
                                        self.emit(
                                            Diagnostic::new(
                                                Code::InvalidCalendar,
                                                at(file, first.span.to(last.span)),
                                                format!(
                                                    "day range `{}-{}` runs backwards",
                                                    first.name, last.name
                                                ),
                                            )
                                            .with_label("the first day comes after the last")
                                            .with_help(format!(
                                                "write `{}-{}`",
                                                last.name, first.name
                                            )),
                                        );
                                    } else {
                                        day_count += i64::try_from(b - a + 1).unwrap_or(0);
                                    }
                                }
                            }
                            None => day_count += i64::from(first_index.is_some()),
                        }
                    }
                    let open = self.clock(file, from);
                    let close = self.clock(file, to);
                    if let (Some(open), Some(close)) = (open, close) {
                        if close <= open {
                            self.emit(
                                Diagnostic::new(
                                    Code::InvalidCalendar,
                                    at(file, *span),
                                    "closing time is not after opening time",
                                )
                                .with_label("empty or backwards working hours")
                                .with_help("hours run within one day, e.g. `09:00-17:00`; split a night shift into two lines"),
                            );
                            // Reported: the calendar is not also reported as having no working time (P0021).
                            working_minutes = working_minutes.max(1);
                        } else {
                            working_minutes += (close - open) * day_count;
                        }
                    }
                }
                CalendarEntry::Holiday(from, to) => {
                    let mut days = Vec::new();
                    for lit in std::iter::once(from).chain(to) {
                        match &lit.kind {
                            LiteralKind::Date(text) => match literal::date_days(text) {
                                Ok(day) => days.push(day),
                                Err(message) => self.literal_error(file, lit.span, message),
                            },
                            _ => {
                                self.emit(
                                    Diagnostic::new(
                                        Code::TypeMismatch,
                                        at(file, lit.span),
                                        "a holiday must be a date",
                                    )
                                    .with_label("not a date")
                                    .with_help("write the day as `2026-12-25`, or the days as `2026-12-24 to 2027-01-01`"),
                                );
                            }
                        }
                    }
                    if let (Some(to), [first, last]) = (to, days.as_slice()) {
                        if last < first || last - first > MAX_HOLIDAY_RANGE_DAYS {
                            self.emit(
                                Diagnostic::new(
                                    Code::InvalidCalendar,
                                    at(file, from.span.to(to.span)),
                                    if last < first {
                                        "this holiday range ends before it starts".to_string()
                                    } else {
                                        format!("a holiday range may be at most {MAX_HOLIDAY_RANGE_DAYS} days long")
                                    },
                                )
                                .with_label("not a range of days off")
                                .with_help("write the first day, then `to` and the last day: `holiday 2026-12-24 to 2027-01-01`"),
                            );
                        }
                    }
                }
                CalendarEntry::Include(name) => {
                    let Some(other) = self.resolve_kind(
                        file,
                        name,
                        &[DefKind::Calendar],
                        "calendar",
                        Code::UnknownName,
                    ) else {
                        working_minutes = working_minutes.max(1);
                        continue;
                    };
                    // The included calendar is checked on its own; its hours count here.
                    working_minutes = working_minutes.max(1);
                    let own = self.lookup_global(file, &decl.name.name);
                    if own.is_some_and(|own| own == other || self.calendar_reaches(other, own)) {
                        self.emit(
                            Diagnostic::new(
                                Code::InvalidCalendar,
                                at(file, name.span),
                                format!("calendar `{}` would include itself", decl.name.name),
                            )
                            .with_label("an include cycle")
                            .with_help("include calendars that do not include this one"),
                        );
                    }
                }
                CalendarEntry::Error(_) => working_minutes = working_minutes.max(1),
            }
        }
        if working_minutes == 0 {
            self.emit(
                Diagnostic::new(
                    Code::CalendarWithoutHours,
                    at(file, decl.name.span),
                    format!("calendar `{}` has no working time", decl.name.name),
                )
                .with_label("no deadline on this calendar could ever be met")
                .with_help("add working hours, e.g. `hours mon-fri 09:00-17:00`"),
            );
        }
    }

    /// Whether calendar `from` includes `target`, directly or through other calendars.
    fn calendar_reaches(&self, from: DefId, target: DefId) -> bool {
        let mut pending = vec![from];
        let mut seen: HashSet<DefId> = HashSet::default();
        while let Some(current) = pending.pop() {
            if !seen.insert(current) {
                continue;
            }
            let Some(def) = self.def(current) else {
                continue;
            };
            let Some(input) = self.file(def.file) else {
                continue;
            };
            for item in &input.ast.items {
                let ItemKind::Calendar(decl) = &item.kind else {
                    continue;
                };
                if item.span != def.span {
                    continue;
                }
                for entry in &decl.entries {
                    if let CalendarEntry::Include(name) = entry {
                        match self.lookup_global(def.file, &name.name) {
                            Some(next) if next == target => return true,
                            Some(next) => pending.push(next),
                            None => {}
                        }
                    }
                }
            }
        }
        false
    }

    fn weekday(&mut self, file: FileId, day: &Ident) -> Option<usize> {
        let position = WEEKDAYS.iter().position(|d| *d == day.name.to_lowercase());
        if position.is_none() {
            let candidates: Vec<String> = WEEKDAYS.iter().map(|d| (*d).to_string()).collect();
            let mut diagnostic = Diagnostic::new(
                Code::InvalidCalendar,
                at(file, day.span),
                format!("`{}` is not a day of the week", day.name),
            )
            .with_label("unknown day");
            match suggest::closest(&day.name, candidates.iter().map(String::as_str)) {
                Some(best) => {
                    diagnostic = diagnostic
                        .with_help(format!("did you mean `{best}`?"))
                        .with_suggestion(at(file, day.span), best, format!("use `{best}`"));
                }
                None => {
                    diagnostic = diagnostic
                        .with_help("days are `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`")
                }
            }
            self.emit(diagnostic);
        }
        position
    }

    fn clock(&mut self, file: FileId, lit: &Literal) -> Option<i64> {
        match &lit.kind {
            LiteralKind::Clock(text) => match literal::clock_minutes(text) {
                Ok(minutes) => Some(minutes),
                Err(message) => {
                    self.literal_error(file, lit.span, message);
                    None
                }
            },
            _ => None,
        }
    }

    fn check_schedule(&mut self, file: FileId, decl: &ScheduleDecl) {
        let mut every: Option<(Span, bool)> = None;
        let mut start: Option<Span> = None;
        let mut calendar = false;
        for clause in &decl.clauses {
            match clause {
                ScheduleClause::Every { count, words, span } => {
                    if every.is_some() {
                        self.misplaced(file, *span, "a schedule has one `every` clause");
                    }
                    if let Some(count) = count {
                        if let LiteralKind::Int(text) = &count.kind {
                            if literal::int_value(text).is_ok_and(|n| n < 1) {
                                self.invalid_schedule(
                                    file,
                                    count.span,
                                    "a schedule repeats at least every 1 unit",
                                );
                            }
                        }
                    }
                    let text: Vec<&str> = words.iter().map(|w| w.name.as_str()).collect();
                    let business = text == ["first", "business", "day", "of", "month"]
                        || text == ["last", "business", "day", "of", "month"];
                    let unit_ok = match text.as_slice() {
                        [unit] => {
                            let unit = unit.trim_end_matches('s');
                            matches!(unit, "minute" | "hour" | "day" | "week" | "month" | "year")
                                || (count.is_none()
                                    && [
                                        "monday",
                                        "tuesday",
                                        "wednesday",
                                        "thursday",
                                        "friday",
                                        "saturday",
                                        "sunday",
                                    ]
                                    .contains(&unit))
                        }
                        _ => business && count.is_none(),
                    };
                    if !unit_ok {
                        self.invalid_schedule(file, *span, "this repetition is not understood");
                    }
                    every = Some((*span, business));
                }
                ScheduleClause::At(lit) => {
                    self.clock(file, lit);
                }
                ScheduleClause::On(name) => {
                    calendar = true;
                    self.resolve_kind(
                        file,
                        name,
                        &[DefKind::Calendar],
                        "calendar",
                        Code::UnknownName,
                    );
                }
                ScheduleClause::Start(name) => {
                    if start.is_some() {
                        self.misplaced(file, name.span, "a schedule starts one process");
                    }
                    start = Some(name.span);
                    if let Some(id) = self.resolve_kind(
                        file,
                        name,
                        &[DefKind::Process],
                        "process",
                        Code::UnknownName,
                    ) {
                        let count = self.signatures.get(&id).map_or(0, |s| s.params.len());
                        if count > 0 {
                            self.emit(
                                Diagnostic::new(
                                    Code::WrongArguments,
                                    at(file, name.span),
                                    format!("process `{}` takes {count} parameter(s), but a schedule starts it with none", name.name),
                                )
                                .with_label("needs input")
                                .with_help("schedules can only start processes without parameters"),
                            );
                        }
                    }
                }
                ScheduleClause::Error(_) => {}
            }
        }
        if let Some((span, true)) = every {
            if !calendar {
                self.invalid_schedule(
                    file,
                    span,
                    "a business day needs a calendar: add `on CalendarName`",
                );
            }
        }
        if every.is_none() {
            self.invalid_schedule(file, decl.name.span, "this schedule has no `every` clause");
        }
        if start.is_none() {
            self.invalid_schedule(file, decl.name.span, "this schedule has no `start` clause");
        }
    }

    fn invalid_schedule(&mut self, file: FileId, span: Span, message: &str) {
        self.emit(
            Diagnostic::new(Code::InvalidSchedule, at(file, span), message.to_string())
                .with_label("cannot fire")
                .with_help("write e.g. `every 6 months`, `every monday`, `every first business day of month` and `start process_name`"),
        );
    }

    fn misplaced(&mut self, file: FileId, span: Span, message: &str) {
        self.emit(
            Diagnostic::new(Code::Misplaced, at(file, span), message.to_string())
                .with_label("not allowed here"),
        );
    }

    // -----------------------------------------------------------------------------------------------------------
    // Flows

    fn check_flow(&mut self, file: FileId, id: DefId, decl: &FlowDecl, is_process: bool) {
        let mut flow = Flow {
            file,
            flow: id,
            is_process,
            locals: Vec::new(),
            steps: HashMap::default(),
            step_order: HashMap::default(),
            branches: HashMap::default(),
            branch_places: HashMap::default(),
            quiet_until: 0,
            block_stack: Vec::new(),
            conditional: HashSet::default(),
            step_conds: HashMap::default(),
            known_done: Vec::new(),
            expiring: HashMap::default(),
            known_live: Vec::new(),
            cancelled: HashSet::default(),
            process_within: None,
            item_steps: HashMap::default(),
            items: Vec::new(),
            branch_stack: Vec::new(),
            reached: 0,
            loops: 0,
            check_branches: Vec::new(),
            step_branches: HashMap::default(),
            narrowed: Vec::new(),
            case_ladders: Vec::new(),
        };
        for param in self.out.members.get(&id).cloned().unwrap_or_default() {
            if self.def_kind(param) == Some(DefKind::Param) {
                flow.locals.push((self.def_name(param), param));
            }
        }
        self.collect_steps(&mut flow, &decl.body);
        if let Some(within) = &decl.within {
            let ty = self.expr(&mut flow, within, None);
            self.expect_deadline_duration(file, within, &ty, "a process deadline");
            if let Some(calendar) = &decl.within_calendar {
                if self.calendar_ref(file, calendar).is_some() {
                    self.days_of_working_time(file, within, calendar);
                }
            }
            if is_process {
                // Steps are compared with a deadline of clock time only: working time on a calendar is longer.
                flow.process_within = const_duration(within)
                    .filter(|_| decl.within_calendar.is_none())
                    .map(|d| (d, within.span));
            } else {
                self.emit(
                    Diagnostic::new(
                        Code::Misplaced,
                        at(file, within.span),
                        "`within` after the parameters is only allowed on a process",
                    )
                    .with_label("not allowed on a procedure")
                    .with_help("put deadlines on the procedure's steps"),
                );
            }
        }
        let result = self
            .signatures
            .get(&id)
            .map(|s| s.result.clone())
            .unwrap_or(Ty::Unit);
        self.case_ladder(&mut flow, decl, is_process);
        self.block(&mut flow, &decl.body, &result);
        // Without a result (or with an optional one, which is then `none`) the end of the body is a fine way out.
        if !matches!(result, Ty::Unit | Ty::Error | Ty::Optional(_)) && !ends(&decl.body) {
            let (word, statement) = if is_process {
                ("process", "complete")
            } else {
                ("procedure", "return")
            };
            let end = Span {
                start: decl.body.span.end.saturating_sub(1),
                end: decl.body.span.end,
            };
            self.emit(
                Diagnostic::new(
                    Code::MissingResult,
                    at(file, end),
                    format!(
                        "{word} `{}` can reach its end without giving its result (`{}`)",
                        decl.name.name,
                        self.ty_name(&result)
                    ),
                )
                .with_label("the flow can end here without a result")
                .with_secondary(at(file, decl.name.span), format!("declares a result of type `{}`", self.ty_name(&result)))
                .with_help(format!(
                    "end every path with `{statement} value` (or `fail \"reason\"` where there is no value to give)"
                )),
            );
        }
    }

    /// Declares every step and named branch of a flow, in textual order.
    fn collect_steps(&mut self, flow: &mut Flow, block: &Block) {
        flow.block_stack.push(block.span);
        for stmt in &block.stmts {
            flow.conditional.extend(conditional_blocks(stmt));
            if let StmtKind::Cancel(name) = &stmt.kind {
                flow.cancelled.insert(name.name.clone());
            }
            match &stmt.kind {
                StmtKind::Step(step) => {
                    let id = self.define(
                        flow.file,
                        DefKind::Step,
                        &step.name,
                        stmt.span,
                        Some(flow.flow),
                    );
                    self.flow_of_step.insert(id, flow.flow);
                    if let Some(&item) = flow.items.last() {
                        flow.item_steps.insert(id, item);
                    }
                    let order = flow.step_order.len();
                    flow.step_order.insert(id, order);
                    flow.step_branches.insert(id, flow.branch_stack.clone());
                    let conds = flow
                        .block_stack
                        .iter()
                        .filter(|b| flow.conditional.contains(b))
                        .copied()
                        .collect();
                    flow.step_conds.insert(id, conds);
                    if let Some(previous) = flow.steps.insert(step.name.name.clone(), id) {
                        flow.steps.insert(step.name.name.clone(), previous);
                        self.duplicate(flow.file, &step.name, previous, "step");
                    }
                    let mut outputs = Vec::new();
                    let mut seen: HashMap<String, DefId> = HashMap::default();
                    for output in &step.outputs {
                        let ty = self.resolve_type(flow.file, &output.ty);
                        let out_id = self.define(
                            flow.file,
                            DefKind::Output,
                            &output.name,
                            output.span,
                            Some(id),
                        );
                        outputs.push(format!("{}: {}", output.name.name, self.ty_name(&ty)));
                        self.set_signature(
                            out_id,
                            format!(
                                "{}.{}: {}",
                                step.name.name,
                                output.name.name,
                                self.ty_name(&ty)
                            ),
                        );
                        self.set_ty(out_id, ty);
                        if let Some(previous) = seen.insert(output.name.name.clone(), out_id) {
                            self.duplicate(flow.file, &output.name, previous, "output");
                        }
                        // `s.done` is what every step tells: an output of that name could never be read.
                        if STEP_FACTS.iter().any(|(fact, _)| *fact == output.name.name) {
                            self.emit(
                                Diagnostic::new(
                                    Code::DuplicateDefinition,
                                    at(flow.file, output.name.span),
                                    format!(
                                        "an output may not be called `{}`: `{}.{}` is what every step tells",
                                        output.name.name, step.name.name, output.name.name
                                    ),
                                )
                                .with_label("the name of a step fact")
                                .with_help(format!(
                                    "name it for what the performer fills in, such as `{}_answer`; the facts are \
                                     `done`, `breached`, `expired`, `done_by` and `completed_at`",
                                    output.name.name
                                )),
                            );
                        }
                    }
                    let signature = if outputs.is_empty() {
                        format!("step {}", step.name.name)
                    } else {
                        format!("step {} -> ({})", step.name.name, outputs.join(", "))
                    };
                    self.set_signature(id, signature);
                    self.set_ty(id, Ty::Step(id));
                }
                StmtKind::If {
                    branches,
                    otherwise,
                } => {
                    for (_, body) in branches {
                        self.collect_steps(flow, body);
                    }
                    if let Some(body) = otherwise {
                        self.collect_steps(flow, body);
                    }
                }
                StmtKind::Match { arms, .. } => {
                    for arm in arms {
                        self.collect_steps(flow, &arm.body);
                    }
                }
                StmtKind::Parallel { branches, .. } | StmtKind::First { branches } => {
                    let keyword = branching_keyword(stmt);
                    let one_is_enough = match &stmt.kind {
                        StmtKind::Parallel { join, .. } => match join {
                            Join::All => branches.len() <= 1,
                            Join::Any => true,
                            Join::Count(count) => matches!(
                                &count.kind,
                                ExprKind::Literal(Literal { kind: LiteralKind::Int(n), .. }) if n == "1"
                            ),
                        },
                        _ => true,
                    };
                    for (index, branch) in branches.iter().enumerate() {
                        flow.branch_stack.push((keyword, index));
                        if let Some(name) = &branch.name {
                            flow.branch_places.entry(name.name.clone()).or_insert((
                                keyword,
                                index,
                                one_is_enough,
                            ));
                            let id = self.define(
                                flow.file,
                                DefKind::Branch,
                                name,
                                branch.span,
                                Some(flow.flow),
                            );
                            if let Some(previous) = flow.branches.insert(name.name.clone(), id) {
                                flow.branches.insert(name.name.clone(), previous);
                                self.duplicate(flow.file, name, previous, "branch");
                            }
                        }
                        self.collect_steps(flow, &branch.body);
                        flow.branch_stack.pop();
                    }
                }
                StmtKind::ForEach {
                    parallel: Some(_),
                    body,
                    ..
                } => {
                    flow.items.push(body.span);
                    self.collect_steps(flow, body);
                    flow.items.pop();
                }
                StmtKind::ForEach { body, .. }
                | StmtKind::Repeat { body, .. }
                | StmtKind::Every { body, .. } => self.collect_steps(flow, body),
                _ => {}
            }
        }
        flow.block_stack.pop();
    }

    /// Whether a step can be named here: not from outside the parallel `for each` it runs once per item of
    /// (reported, `P0036`).
    fn step_in_reach(&mut self, flow: &Flow, id: DefId, name: &Ident) -> bool {
        let Some(item) = flow.item_steps.get(&id) else {
            return true;
        };
        if flow.items.contains(item) {
            return true;
        }
        self.emit(
            Diagnostic::new(
                Code::CannotCompile,
                at(flow.file, name.span),
                format!(
                    "step `{}` runs once per item of a parallel `for each`, so it cannot be named here",
                    name.name
                ),
            )
            .with_label("outside its `for each`")
            .with_help(
                "use it only inside the body of its `for each`; to act on the results, let each item's branch do it",
            ),
        );
        false
    }

    fn block(&mut self, flow: &mut Flow, block: &Block, result: &Ty) {
        stacker::maybe_grow(64 * 1024, 4 * 1024 * 1024, || {
            self.block_inner(flow, block, result)
        });
    }

    fn block_inner(&mut self, flow: &mut Flow, block: &Block, result: &Ty) {
        flow.block_stack.push(block.span);
        let known_done = flow.known_done.len();
        let known_live = flow.known_live.len();
        let depth = flow.locals.len();
        let narrowed = flow.narrowed.len();
        let mut ended: Option<(Span, &str)> = None;
        let mut reported = false;
        // `wait 3 days` reads as `wait 3` and then a statement `days`: one diagnostic, with the fix.
        let mut skip_next = false;
        for (index, stmt) in block.stmts.iter().enumerate() {
            if std::mem::take(&mut skip_next) {
                continue;
            }
            if let Some(fixed) = duration_in_words(stmt, block.stmts.get(index + 1)) {
                let span = stmt.span.to(fixed.1);
                let wait = self.source_text(flow.file, stmt.span);
                let number = wait.trim_start_matches("wait").trim();
                self.emit(
                    Diagnostic::new(
                        Code::DeadlineNotTime,
                        at(flow.file, span),
                        format!("`wait` needs a duration such as `{}`", fixed.0),
                    )
                    .with_label("a number and a word")
                    .with_help(format!(
                        "durations are one word with a one-letter unit (`s`, `m`, `h`, `d`, `w`): `{}`",
                        fixed.0
                    ))
                    .with_suggestion(
                        at(flow.file, span),
                        format!("wait {}", fixed.0),
                        format!("write `wait {}` for `wait {number} …`", fixed.0),
                    ),
                );
                skip_next = true;
                continue;
            }
            if let (Some((end, why)), false) = (ended, reported) {
                if !matches!(stmt.kind, StmtKind::Error) {
                    reported = true;
                    let help = if why == "the flow ends here" {
                        "remove it, or move it before the end of the flow"
                    } else {
                        "a cancelled branch counts as finished, and when that satisfies the join the branches still \
                         running are cancelled, this one too: put what should follow after the `parallel` or `first`"
                    };
                    self.emit(
                        Diagnostic::new(
                            Code::UnreachableCode,
                            at(flow.file, stmt.span),
                            "this is never reached",
                        )
                        .with_label("unreachable")
                        .with_secondary(at(flow.file, end), why)
                        .with_help(help),
                    );
                }
            }
            self.stmt(flow, stmt, result);
            if ended.is_none() {
                match &stmt.kind {
                    StmtKind::Fail(_) | StmtKind::Complete(_) | StmtKind::Return(_) => {
                        ended = Some((stmt.span, "the flow ends here"));
                    }
                    StmtKind::Cancel(name) if cancels_itself(flow, &name.name) => {
                        ended = Some((stmt.span, "this ends the branch it is in"));
                    }
                    _ => {}
                }
            }
        }
        flow.locals.truncate(depth);
        flow.narrowed.truncate(narrowed);
        flow.known_done.truncate(known_done);
        flow.known_live.truncate(known_live);
        flow.block_stack.pop();
    }

    /// What `cond` tells about optional values: `x != none` and `x == none` (either way round) for an optional
    /// local, parameter, field path or step output `x`; and about steps: `s.done`. Combined with `and`, `or` and
    /// `not`.
    fn facts(&self, flow: &Flow, cond: &Expr) -> Facts {
        match &cond.kind {
            ExprKind::Paren(inner) => self.facts(flow, inner),
            ExprKind::Unary(UnaryOp::Not, inner) => self.facts(flow, inner).negated(),
            ExprKind::Binary(BinaryOp::And, a, b) => self.facts(flow, a).and(self.facts(flow, b)),
            ExprKind::Binary(BinaryOp::Or, a, b) => {
                // `a or b` is `not (not a and not b)`.
                self.facts(flow, a)
                    .negated()
                    .and(self.facts(flow, b).negated())
                    .negated()
            }
            ExprKind::Field(base, field) if field.name == "done" => match &base.kind {
                ExprKind::Name(name) => {
                    let step: Vec<DefId> =
                        flow.steps.get(&name.name).copied().into_iter().collect();
                    Facts {
                        done_when_true: step.clone(),
                        live_when_true: step,
                        ..Facts::default()
                    }
                }
                _ => Facts::default(),
            },
            ExprKind::Field(base, field) if field.name == "expired" => match &base.kind {
                ExprKind::Name(name) => Facts {
                    live_when_false: flow.steps.get(&name.name).copied().into_iter().collect(),
                    ..Facts::default()
                },
                _ => Facts::default(),
            },
            ExprKind::Binary(op @ (BinaryOp::Eq | BinaryOp::NotEq), a, b) => {
                let is_none = |e: &Expr| matches!(&e.kind, ExprKind::Literal(l) if l.kind == LiteralKind::None);
                let value = match () {
                    () if is_none(b) => a,
                    () if is_none(a) => b,
                    () => return Facts::default(),
                };
                let Some(place) = self.place(flow, value) else {
                    return Facts::default();
                };
                let Some(Ty::Optional(inner)) = self.place_ty(flow, &place) else {
                    return Facts::default();
                };
                if *inner == Ty::Error {
                    return Facts::default();
                }
                let known = Facts {
                    when_true: vec![(place, *inner)],
                    ..Facts::default()
                };
                if *op == BinaryOp::NotEq {
                    known
                } else {
                    known.negated()
                }
            }
            _ => Facts::default(),
        }
    }

    /// The place `e` reads, when it is a name of a local, parameter or step followed by fields.
    fn place(&self, flow: &Flow, e: &Expr) -> Option<Place> {
        match &e.kind {
            ExprKind::Paren(inner) => self.place(flow, inner),
            ExprKind::Name(name) => {
                let root = self.lookup_value(flow, &name.name)?;
                matches!(
                    self.def_kind(root),
                    Some(DefKind::Param | DefKind::Local | DefKind::Step)
                )
                .then(|| Place {
                    root,
                    fields: Vec::new(),
                })
            }
            ExprKind::Field(base, name) => {
                let mut place = self.place(flow, base)?;
                place.fields.push(name.name.clone());
                Some(place)
            }
            _ => None,
        }
    }

    /// The type `place` is read as here, without reporting anything (`None` where it cannot be read).
    fn place_ty(&self, flow: &Flow, place: &Place) -> Option<Ty> {
        let mut prefix = Place {
            root: place.root,
            fields: Vec::new(),
        };
        let mut ty = match self.def_kind(place.root)? {
            DefKind::Step => Ty::Step(place.root),
            _ => self.narrowed_ty(flow, &prefix)?,
        };
        for field in &place.fields {
            prefix.fields.push(field.clone());
            let owner = match ty {
                Ty::Named(id) if self.def_kind(id) != Some(DefKind::Enum) => id,
                Ty::Step(id) => id,
                _ => return None,
            };
            let member = self
                .out
                .members
                .get(&owner)?
                .iter()
                .copied()
                .find(|&m| self.def_name(m) == *field)?;
            ty = self
                .narrowed_place(flow, &prefix)
                .or_else(|| self.def(member).map(|d| d.ty.clone()))?;
        }
        Some(ty)
    }

    /// Whether `e` reads an optional value that a check against `none` has narrowed here.
    fn is_narrowed(&self, flow: &Flow, e: &Expr) -> bool {
        self.place(flow, e)
            .is_some_and(|place| self.narrowed_place(flow, &place).is_some())
    }

    /// The type a narrowed place is read as here.
    fn narrowed_place(&self, flow: &Flow, place: &Place) -> Option<Ty> {
        flow.narrowed
            .iter()
            .rev()
            .find(|(p, _)| p == place)
            .map(|(_, ty)| ty.clone())
    }

    /// The type a local or parameter is read as here.
    fn narrowed_ty(&self, flow: &Flow, place: &Place) -> Option<Ty> {
        self.narrowed_place(flow, place)
            .or_else(|| self.def(place.root).map(|d| d.ty.clone()))
    }

    /// Declares a local. A `let` that nothing reads is reported (`P0038`); a `for each` item is not (doing the
    /// same work once per item is normal).
    fn bind_local(
        &mut self,
        flow: &mut Flow,
        name: &Ident,
        span: Span,
        ty: Ty,
        report_unused: bool,
    ) {
        let id = self.define(flow.file, DefKind::Local, name, span, Some(flow.flow));
        self.set_signature(id, format!("{}: {}", name.name, self.ty_name(&ty)));
        self.set_ty(id, ty);
        if !report_unused || name.name.starts_with('_') {
            self.used.insert(id);
        }
        flow.locals.push((name.name.clone(), id));
    }

    fn stmt(&mut self, flow: &mut Flow, stmt: &Stmt, result: &Ty) {
        let file = flow.file;
        match &stmt.kind {
            StmtKind::Error => {}
            StmtKind::OnBreach(_) => {
                // Checked with its process (`case_ladder`) when it is where it may be.
                if !flow.case_ladders.contains(&stmt.span) {
                    self.emit(
                        Diagnostic::new(
                            Code::Misplaced,
                            at(file, stmt.span),
                            "`on breach` here has no deadline to follow: a step's ladder goes in the step, the \
                             whole case's at the top level of a process with `within`",
                        )
                        .with_label("no deadline here")
                        .with_help(
                            "put it in a step (`step s { by Agent within 4h on breach { … } }`) or at the top of \
                             the process's body",
                        ),
                    );
                }
            }
            StmtKind::Let { name, ty, value } => {
                let reported = self.out.diagnostics.len();
                let declared = ty.as_ref().map(|t| self.resolve_type(file, t));
                let actual = self.expr(flow, value, declared.as_ref());
                let ty = match declared {
                    Some(declared) => {
                        self.expect_ty(file, value.span, &declared, &actual);
                        declared
                    }
                    None => {
                        if actual == Ty::Unit {
                            self.emit(
                                Diagnostic::new(
                                    Code::TypeMismatch,
                                    at(file, value.span),
                                    "this gives no value",
                                )
                                .with_label("no result to bind")
                                .with_help("call it as a statement, without `let`"),
                            );
                            Ty::Error
                        } else if actual == Ty::None {
                            Ty::Optional(Box::new(Ty::Error))
                        } else {
                            actual
                        }
                    }
                };
                // A `let` with a mistake of its own was reported already: not again as unused.
                let clean = self.out.diagnostics.len() == reported && !contains_error(&ty);
                self.bind_local(flow, name, stmt.span, ty, clean);
            }
            StmtKind::Step(step) => {
                self.step(flow, step, stmt.span);
                if let Some(&order) = flow
                    .steps
                    .get(&step.name.name)
                    .and_then(|id| flow.step_order.get(id))
                {
                    flow.reached = flow.reached.max(order + 1);
                }
            }
            StmtKind::Expr(expr) => {
                let ty = self.expr(flow, expr, None);
                let is_effect = matches!(
                    expr.kind,
                    ExprKind::Call(..) | ExprKind::Await { .. } | ExprKind::Error
                );
                if !is_effect && ty != Ty::Error && expr.span.start >= flow.quiet_until {
                    self.emit(
                        Diagnostic::new(
                            Code::Misplaced,
                            at(file, expr.span),
                            "this value is not used",
                        )
                        .with_label("an expression on its own does nothing")
                        .with_help("statements are steps, calls, `let`, `await`, `notify`, …"),
                    );
                }
            }
            StmtKind::If {
                branches,
                otherwise,
            } => {
                // `if x != none { … }`: `x` holds a value inside; `if x == none { … }`: in the `else` (and the
                // `else if`s), and after the `if` when its blocks all end the flow (`complete`, `fail`, `return`).
                // The same for `and`, `or` and `not` of such checks.
                let mark = flow.narrowed.len();
                // Likewise `if not s.done { return … }`: `s` is completed after it.
                let known_mark = flow.known_done.len();
                let live_mark = flow.known_live.len();
                let mut all_end = true;
                for (cond, body) in branches {
                    let ty = self.expr(flow, cond, Some(&Ty::Bool));
                    self.expect_ty(file, cond.span, &Ty::Bool, &ty);
                    let facts = self.facts(flow, cond);
                    let inner = flow.narrowed.len();
                    let known = flow.known_done.len();
                    let live = flow.known_live.len();
                    flow.narrowed.extend(facts.when_true);
                    flow.known_done.extend(facts.done_when_true);
                    flow.known_live.extend(facts.live_when_true);
                    self.block(flow, body, result);
                    flow.known_done.truncate(known);
                    flow.known_live.truncate(live);
                    flow.narrowed.truncate(inner);
                    // Later conditions, their blocks and the `else` run only where this one was false.
                    flow.narrowed.extend(facts.when_false);
                    flow.known_done.extend(facts.done_when_false);
                    flow.known_live.extend(facts.live_when_false);
                    all_end &= body.stmts.last().is_some_and(|s| {
                        matches!(
                            s.kind,
                            StmtKind::Fail(_) | StmtKind::Complete(_) | StmtKind::Return(_)
                        )
                    });
                }
                if let Some(body) = otherwise {
                    self.block(flow, body, result);
                }
                if otherwise.is_some() || !all_end {
                    flow.narrowed.truncate(mark);
                    flow.known_done.truncate(known_mark);
                    flow.known_live.truncate(live_mark);
                }
            }
            StmtKind::Match {
                keyword,
                scrutinee,
                arms,
            } => {
                self.match_stmt(flow, *keyword, scrutinee, arms, result);
            }
            StmtKind::Parallel { join, branches } => {
                self.join(flow, join, branches.len());
                let keyword = branching_keyword(stmt);
                for (index, branch) in branches.iter().enumerate() {
                    flow.check_branches.push((keyword, index));
                    self.block(flow, &branch.body, result);
                    flow.check_branches.pop();
                }
            }
            StmtKind::First { branches } => {
                let keyword = branching_keyword(stmt);
                self.first_as_event_choice(file, keyword, branches);
                for (index, branch) in branches.iter().enumerate() {
                    if let Some(name) = &branch.name {
                        if let Some(&id) = flow.branches.get(&name.name) {
                            self.reference(file, name.span, id);
                        }
                    }
                    flow.check_branches.push((keyword, index));
                    self.block(flow, &branch.body, result);
                    flow.check_branches.pop();
                }
            }
            StmtKind::ForEach {
                var,
                list,
                parallel,
                body,
            } => {
                let list_ty = self.expr(flow, list, None);
                let item_ty = match list_ty {
                    Ty::List(inner) => *inner,
                    Ty::Error => Ty::Error,
                    other => {
                        self.emit(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                at(file, list.span),
                                format!(
                                    "`for each` needs a list, but this is `{}`",
                                    self.ty_name(&other)
                                ),
                            )
                            .with_label("not a list"),
                        );
                        Ty::Error
                    }
                };
                if let Some(join) = parallel {
                    self.join(flow, join, usize::MAX);
                }
                let depth = flow.locals.len();
                self.bind_local(flow, var, var.span, item_ty, false);
                if parallel.is_some() {
                    flow.items.push(body.span);
                }
                flow.loops += 1;
                self.block(flow, body, result);
                flow.loops -= 1;
                if parallel.is_some() {
                    flow.items.pop();
                }
                flow.locals.truncate(depth);
            }
            StmtKind::Repeat {
                keyword,
                max,
                body,
                until,
            } => {
                self.loop_bound(flow, *keyword, max.as_ref(), "repeat");
                flow.loops += 1;
                self.block(flow, body, result);
                if let Some(until) = until {
                    let ty = self.expr(flow, until, Some(&Ty::Bool));
                    self.expect_ty(file, until.span, &Ty::Bool, &ty);
                    let done = self.facts(flow, until).done_when_true;
                    self.until_after_loop(flow, *keyword, until, &done);
                }
                flow.loops -= 1;
            }
            StmtKind::Every {
                keyword,
                interval,
                max,
                body,
                until,
            } => {
                let ty = self.expr(flow, interval, Some(&Ty::Duration));
                self.expect_ty(file, interval.span, &Ty::Duration, &ty);
                if const_duration(interval).is_some_and(|d| d <= 0) {
                    self.emit(
                        Diagnostic::new(
                            Code::UnboundedLoop,
                            at(file, interval.span),
                            "`every` needs a period longer than zero",
                        )
                        .with_label("not a positive period")
                        .with_help("use a positive duration such as `15m`"),
                    );
                }
                self.loop_bound(flow, *keyword, max.as_ref(), "every");
                flow.loops += 1;
                self.block(flow, body, result);
                if let Some(until) = until {
                    let ty = self.expr(flow, until, Some(&Ty::Bool));
                    self.expect_ty(file, until.span, &Ty::Bool, &ty);
                    let done = self.facts(flow, until).done_when_true;
                    self.until_after_loop(flow, *keyword, until, &done);
                    self.round_not_interrupted(flow, until, &done, body);
                }
                flow.loops -= 1;
            }
            StmtKind::WaitFor(duration, calendar) => {
                let ty = self.expr(flow, duration, Some(&Ty::Duration));
                if ty == Ty::Duration {
                    self.expect_deadline_duration(file, duration, &ty, "`wait`");
                } else {
                    // A time is waited for with `wait until`.
                    self.expect_ty(file, duration.span, &Ty::Duration, &ty);
                }
                if let Some(calendar) = calendar {
                    if self.calendar_ref(file, calendar).is_some() {
                        self.days_of_working_time(file, duration, calendar);
                    }
                }
            }
            StmtKind::WaitUntil(time) => {
                let ty = self.expr(flow, time, Some(&Ty::Time));
                if !matches!(ty, Ty::Time | Ty::Date | Ty::Error) {
                    self.expect_ty(file, time.span, &Ty::Time, &ty);
                }
            }
            StmtKind::Cancel(name) => {
                if let Some(&id) = flow
                    .steps
                    .get(&name.name)
                    .or_else(|| flow.branches.get(&name.name))
                {
                    self.reference(file, name.span, id);
                    if self.def_kind(id) == Some(DefKind::Step) {
                        self.step_in_reach(flow, id, name);
                    }
                } else {
                    let mut candidates: Vec<String> = flow.steps.keys().cloned().collect();
                    candidates.extend(flow.branches.keys().cloned());
                    self.unknown(Code::UnknownName, file, name, "step or branch", &candidates);
                }
            }
            StmtKind::Notify { role, message } => {
                if self.role_ref(file, role, Code::UnknownName).is_none() && role.name == "person" {
                    let text = self.file(file).map_or("", |f| f.source.text.as_str());
                    let end = stmt.span.end as usize;
                    let line_end = text
                        .get(end..)
                        .and_then(|rest| rest.find('\n'))
                        .map_or(text.len(), |n| end + n);
                    flow.quiet_until = u32::try_from(line_end).unwrap_or(u32::MAX);
                }
                if let Some(message) = message {
                    self.expr(flow, message, Some(&Ty::Text));
                }
            }
            StmtKind::Fail(reason) => {
                let ty = self.expr(flow, reason, Some(&Ty::Text));
                self.expect_ty(file, reason.span, &Ty::Text, &ty);
            }
            StmtKind::Complete(value) => {
                if !flow.is_process {
                    self.emit(
                        Diagnostic::new(
                            Code::Misplaced,
                            at(file, stmt.span),
                            "`complete` ends a process, but this is a procedure",
                        )
                        .with_label("not allowed in a procedure")
                        .with_help("use `return` to give the procedure's result"),
                    );
                }
                self.result_value(flow, value.as_ref(), result, stmt.span);
            }
            StmtKind::Return(value) => {
                if flow.is_process {
                    self.emit(
                        Diagnostic::new(
                            Code::Misplaced,
                            at(file, stmt.span),
                            "`return` ends a procedure, but this is a process",
                        )
                        .with_label("not allowed in a process")
                        .with_help("use `complete` to end the process successfully"),
                    );
                }
                self.result_value(flow, value.as_ref(), result, stmt.span);
            }
        }
    }

    fn result_value(&mut self, flow: &mut Flow, value: Option<&Expr>, result: &Ty, span: Span) {
        let file = flow.file;
        match (value, result) {
            (Some(value), _) => {
                let ty = self.expr(flow, value, Some(result));
                // A flow without a result may end with a reason: `complete "resolved on first contact"`.
                if *result == Ty::Unit && !matches!(ty, Ty::Text | Ty::Error) {
                    self.emit(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            at(file, value.span),
                            "this flow declares no result",
                        )
                        .with_label("unexpected value")
                        .with_help(format!(
                            "declare it with `-> {}` after the parameters, or give a reason as text",
                            self.ty_name(&ty)
                        )),
                    );
                } else if *result != Ty::Unit {
                    self.expect_ty(file, value.span, result, &ty);
                }
            }
            (None, Ty::Unit | Ty::Error | Ty::Optional(_)) => {}
            (None, _) => {
                self.emit(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        at(file, span),
                        format!(
                            "a result of type `{}` is expected here",
                            self.ty_name(result)
                        ),
                    )
                    .with_label("no value given"),
                );
            }
        }
    }

    fn join(&mut self, flow: &mut Flow, join: &Join, branches: usize) {
        if let Join::Count(count) = join {
            let ty = self.expr(flow, count, Some(&Ty::Int));
            self.expect_ty(flow.file, count.span, &Ty::Int, &ty);
            if let Some(n) = const_int(count) {
                if n < 1
                    || (branches != usize::MAX && usize::try_from(n).is_ok_and(|n| n > branches))
                {
                    self.emit(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            at(flow.file, count.span),
                            format!("cannot wait for {n} of {branches} branches"),
                        )
                        .with_label("impossible count")
                        .with_help("the count must be between 1 and the number of branches"),
                    );
                }
            }
        }
    }

    fn loop_bound(&mut self, flow: &mut Flow, keyword: Span, max: Option<&Expr>, word: &str) {
        match max {
            Some(max) => {
                let ty = self.expr(flow, max, Some(&Ty::Int));
                self.expect_ty(flow.file, max.span, &Ty::Int, &ty);
                if const_int(max).is_some_and(|n| n < 1) {
                    self.emit(
                        Diagnostic::new(
                            Code::UnboundedLoop,
                            at(flow.file, max.span),
                            "the maximum must be at least 1",
                        )
                        .with_label("loop never runs"),
                    );
                }
            }
            None => self.emit(
                Diagnostic::new(
                    Code::UnboundedLoop,
                    at(flow.file, keyword),
                    format!("`{word}` has no maximum number of rounds"),
                )
                .with_label("may run forever")
                .with_help(format!(
                    "add a bound: `{word} {}max 10 {{ ... }}`",
                    if word == "every" { "15m " } else { "" }
                )),
            ),
        }
    }

    fn match_stmt(
        &mut self,
        flow: &mut Flow,
        keyword: Span,
        scrutinee: &Expr,
        arms: &[MatchArm],
        result: &Ty,
    ) {
        let file = flow.file;
        let ty = self.expr(flow, scrutinee, None);
        let enum_id = match ty {
            Ty::Named(id) if self.def_kind(id) == Some(DefKind::Enum) => Some(id),
            Ty::Error => None,
            other => {
                // An optional enum (`CsatRating?`): the match is right once `none` is dealt with.
                let optional_enum = match &other {
                    Ty::Optional(inner) => match inner.as_ref() {
                        Ty::Named(id) if self.def_kind(*id) == Some(DefKind::Enum) => Some(*id),
                        _ => None,
                    },
                    _ => None,
                };
                let text = self.source_text(file, scrutinee.span);
                let help = if optional_enum.is_some() {
                    format!(
                        "it may be `none`: match inside `if {text} != none {{ … }}`, or give a value for `none` \
                         with `??` (`match {text} ?? …`)"
                    )
                } else {
                    "use `if` for other conditions".to_string()
                };
                self.emit(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        at(file, scrutinee.span),
                        format!(
                            "`match` needs an enum value, but this is `{}`",
                            self.ty_name(&other)
                        ),
                    )
                    .with_label(if optional_enum.is_some() {
                        "an enum value or `none`"
                    } else {
                        "not an enum"
                    })
                    .with_help(help),
                );
                // The arms are still checked against the enum, so that they are not reported as well.
                optional_enum
            }
        };
        let variants: Vec<DefId> = enum_id
            .and_then(|id| self.out.members.get(&id).cloned())
            .unwrap_or_default();
        let mut covered: HashSet<DefId> = HashSet::default();
        let mut wildcard: Option<Span> = None;
        for arm in arms {
            let mut arm_useful = false;
            for pattern in &arm.patterns {
                if pattern.name == "_" {
                    if wildcard.is_none() && (enum_id.is_none() || covered.len() < variants.len()) {
                        arm_useful = true;
                    }
                    wildcard = wildcard.or(Some(pattern.span));
                    continue;
                }
                let Some(enum_id) = enum_id else {
                    arm_useful = true;
                    continue;
                };
                match variants.iter().find(|&&v| self.def_name(v) == pattern.name) {
                    Some(&variant) => {
                        self.reference(file, pattern.span, variant);
                        if wildcard.is_none() && covered.insert(variant) {
                            arm_useful = true;
                        }
                    }
                    None => {
                        arm_useful = true;
                        let candidates: Vec<String> =
                            variants.iter().map(|&v| self.def_name(v)).collect();
                        let enum_name = self.def_name(enum_id);
                        let mut diagnostic = Diagnostic::new(
                            Code::UnknownName,
                            at(file, pattern.span),
                            format!("enum `{enum_name}` has no variant `{}`", pattern.name),
                        )
                        .with_label("unknown variant");
                        if let Some(best) =
                            suggest::closest(&pattern.name, candidates.iter().map(String::as_str))
                        {
                            diagnostic = diagnostic
                                .with_help(format!("did you mean `{best}`?"))
                                .with_suggestion(
                                    at(file, pattern.span),
                                    best,
                                    format!("use `{best}`"),
                                );
                        } else {
                            diagnostic = diagnostic
                                .with_help(format!("its variants are {}", backticked(&candidates)));
                        }
                        self.emit(diagnostic);
                    }
                }
            }
            if !arm_useful {
                let mut diagnostic = Diagnostic::new(
                    Code::UnreachableArm,
                    at(file, arm.span),
                    "this arm can never be chosen",
                )
                .with_label("already covered by earlier arms")
                .with_help("remove it, or merge its steps into the earlier arm");
                if let Some(wildcard) = wildcard {
                    diagnostic = diagnostic
                        .with_secondary(at(file, wildcard), "`_` above matches everything");
                }
                self.emit(diagnostic);
            }
            self.block(flow, &arm.body, result);
        }
        if let (Some(enum_id), None) = (enum_id, wildcard) {
            let missing: Vec<String> = variants
                .iter()
                .filter(|v| !covered.contains(v))
                .map(|&v| self.def_name(v))
                .collect();
            if !missing.is_empty() {
                let enum_name = self.def_name(enum_id);
                // After the last arm; in an empty `match`, right after its `{`, one level deeper than `match`.
                let (insert_at, indent, close) = match arms.last() {
                    Some(arm) => (
                        Some((arm.span.end, arm.span.end)),
                        self.indentation_at(file, arm.span.start)
                            .unwrap_or_default(),
                        String::new(),
                    ),
                    None => self.inside_empty_match(file, keyword, scrutinee.span.end),
                };
                let mut arms_text: String = missing
                    .iter()
                    .map(|m| format!("\n{indent}{m} => {{}}"))
                    .collect();
                arms_text.push_str(&close);
                let diagnostic = Diagnostic::new(
                    Code::NonExhaustiveMatch,
                    at(file, keyword),
                    format!(
                        "`match` on `{enum_name}` does not cover {}",
                        backticked(&missing)
                    ),
                )
                .with_label(format!("missing {}", backticked(&missing)))
                .with_help("add an arm for each missing variant, or `_ => { ... }`");
                let diagnostic = match insert_at {
                    Some((start, end)) => diagnostic.with_suggestion(
                        at(file, Span { start, end }),
                        arms_text,
                        "add the missing arms",
                    ),
                    None => diagnostic,
                };
                self.emit(diagnostic);
            }
        }
    }

    // -----------------------------------------------------------------------------------------------------------
    // Steps

    fn step(&mut self, flow: &mut Flow, step: &StepDecl, span: Span) {
        let file = flow.file;
        let Some(&id) = flow.steps.get(&step.name.name) else {
            return;
        };
        let is_this = self.def(id).is_some_and(|d| d.span == span);
        let id = if is_this {
            id
        } else {
            self.find_step_def(flow, span).unwrap_or(id)
        };
        self.reference(file, step.name.span, id);
        if let Some(instruction) = &step.instruction {
            self.expr(flow, instruction, Some(&Ty::Text));
        }
        let order = flow.step_order.get(&id).copied().unwrap_or(usize::MAX);
        let mut seen: HashMap<&'static str, Span> = HashMap::default();
        let mut performer: Option<&Performer> = None;
        let mut within: Option<(i64, Option<String>, Span, bool)> = None;
        let mut within_calendar: Option<String> = None;
        // An `on breach` needs a deadline to be missed.
        let mut breach_clause: Option<Span> = None;
        let mut only_during: Option<String> = None;
        let mut has_deadline = false;
        // A deadline computed when the step opens (`within limit`): its text, and the step it counts from.
        let mut within_text: Option<(String, Option<String>)> = None;
        let mut after: Option<(i64, Option<String>, Span)> = None;
        let mut after_text: Option<(String, Option<String>)> = None;
        let mut due_text: Option<String> = None;
        // `expires after`: the constant amount (seconds, whether in working time) and the clause, or the text.
        let mut expires: Option<(i64, bool, Span)> = None;
        let mut expires_text: Option<(String, Option<String>)> = None;
        let mut ladder_words: Vec<String> = Vec::new();
        for clause in &step.clauses {
            let key = clause_key(&clause.kind);
            if let Some(key) = key {
                if let Some(first) = seen.insert(key, clause.span) {
                    self.emit(
                        Diagnostic::new(
                            Code::Misplaced,
                            at(file, clause.span),
                            format!("step `{}` has more than one `{key}` clause", step.name.name),
                        )
                        .with_label("repeated clause")
                        .with_secondary(at(file, first), "first one here")
                        .with_help("keep one of them"),
                    );
                    continue;
                }
            }
            match &clause.kind {
                // A clause that could not be read may have been the deadline.
                StepClauseKind::Error => has_deadline = true,
                StepClauseKind::By(by) => {
                    performer = Some(by);
                    self.performer(flow, &step.name, order, by);
                }
                StepClauseKind::Within {
                    duration,
                    calendar,
                    since,
                } => {
                    has_deadline = true;
                    let ty = self.expr(flow, duration, Some(&Ty::Duration));
                    let ok = self.expect_deadline_duration(file, duration, &ty, "`within`");
                    if let Some(calendar) = calendar {
                        if self.calendar_ref(file, calendar).is_some() {
                            within_calendar = Some(calendar.name.clone());
                            self.days_of_working_time(file, duration, calendar);
                        }
                    }
                    let since_name = since.as_ref().map(|s| s.name.clone());
                    if let Some(since) = since {
                        self.earlier_step(flow, since, order, "measure a deadline from");
                    }
                    if ok {
                        match const_duration(duration) {
                            Some(seconds) => {
                                within =
                                    Some((seconds, since_name, clause.span, calendar.is_some()));
                            }
                            None => {
                                within_text =
                                    Some((self.source_text(file, duration.span), since_name));
                            }
                        }
                    }
                }
                StepClauseKind::After { duration, since } => {
                    let ty = self.expr(flow, duration, Some(&Ty::Duration));
                    let ok = self.expect_deadline_duration(file, duration, &ty, "`after`");
                    let since_name = since.as_ref().map(|s| s.name.clone());
                    if let Some(since) = since {
                        self.earlier_step(flow, since, order, "wait after");
                    }
                    if ok {
                        match const_duration(duration) {
                            Some(seconds) => after = Some((seconds, since_name, clause.span)),
                            None => {
                                after_text =
                                    Some((self.source_text(file, duration.span), since_name));
                            }
                        }
                    }
                }
                StepClauseKind::Due(time) => {
                    has_deadline = true;
                    let ty = self.expr(flow, time, Some(&Ty::Time));
                    match ty {
                        Ty::Time | Ty::Date | Ty::Error => {}
                        Ty::Optional(ref inner) if matches!(**inner, Ty::Time | Ty::Date) => {}
                        other => {
                            let mut diagnostic = Diagnostic::new(
                                Code::DeadlineNotTime,
                                at(file, time.span),
                                format!(
                                    "`due` needs a time or a date, but this is `{}`",
                                    self.ty_name(&other)
                                ),
                            )
                            .with_label("not a point in time");
                            if other == Ty::Duration {
                                diagnostic = diagnostic.with_help("for a time span after the step opens, write `within` instead of `due`");
                            }
                            self.emit(diagnostic);
                        }
                    }
                    due_text = Some(self.source_text(file, time.span));
                }
                StepClauseKind::Expires { duration, calendar } => {
                    flow.expiring.entry(id).or_default().0 = true;
                    let ty = self.expr(flow, duration, Some(&Ty::Duration));
                    let ok = self.expect_deadline_duration(file, duration, &ty, "`expires after`");
                    let mut on = None;
                    if let Some(calendar) = calendar {
                        if self.calendar_ref(file, calendar).is_some() {
                            on = Some(calendar.name.clone());
                            self.days_of_working_time(file, duration, calendar);
                        }
                    }
                    if ok {
                        if let Some(seconds) = const_duration(duration) {
                            expires = Some((seconds, calendar.is_some(), clause.span));
                        }
                        expires_text = Some((self.source_text(file, duration.span), on));
                    }
                }
                StepClauseKind::OnBreach(stages) => {
                    ladder_words = self.ladder(flow, stages);
                    breach_clause = Some(clause.span);
                }
                StepClauseKind::Paused { from, until } => {
                    self.signal_ref(file, from);
                    self.signal_ref(file, until);
                    if from.name == until.name {
                        // Each such signal would pause the deadline and start it again at once.
                        self.emit(
                            Diagnostic::new(
                                Code::PauseSameSignal,
                                at(file, until.span),
                                format!("`{}` both pauses the deadline and starts it again", from.name),
                            )
                            .with_label("the same signal")
                            .with_secondary(at(file, from.span), "pauses")
                            .with_help(
                                "a pause needs two signals: one that stops the clock (`paused from Pending`) and \
                                 one that starts it again (`until CustomerReplied`); a host with one \"status \
                                 changed\" event sends the signal that matches the new status",
                            ),
                        );
                    }
                }
                StepClauseKind::OnlyDuring(calendar) => {
                    self.calendar_ref(file, calendar);
                    only_during = Some(calendar.name.clone());
                }
                StepClauseKind::Skippable => {
                    flow.expiring.entry(id).or_default().1 = true;
                }
            }
        }
        if let (Some(clause), false) = (breach_clause, has_deadline) {
            let keyword = Span {
                start: clause.start,
                end: clause.start.saturating_add(9).min(clause.end),
            };
            self.emit(
                Diagnostic::new(
                    Code::BreachWithoutDeadline,
                    at(file, keyword),
                    format!(
                        "step `{}` has no deadline, so its `on breach` never happens",
                        step.name.name
                    ),
                )
                .with_label("never breached")
                .with_help(
                    "give the step a deadline (`within 4h`, `due …`); the ladder's roles may manage the task \
                     either way",
                ),
            );
        }
        // A warning as long as the deadline (from the same moment) would fire as the task opens.
        if let (Some((within_s, None, within_span, _)), Some(stages)) = (
            &within,
            step.clauses.iter().find_map(|c| match &c.kind {
                StepClauseKind::OnBreach(stages) => Some(stages),
                _ => None,
            }),
        ) {
            for stage in stages {
                let Some(d) = stage.before.as_ref().and_then(const_duration) else {
                    continue;
                };
                if d >= *within_s {
                    self.emit(
                        Diagnostic::new(
                            Code::LadderNotIncreasing,
                            at(file, stage.span),
                            format!(
                                "this warning comes {} before a deadline {} after the task opens: it would fire as the \
                                 task opens",
                                literal::describe_duration(d),
                                literal::describe_duration(*within_s)
                            ),
                        )
                        .with_label("as long as the deadline")
                        .with_secondary(at(file, *within_span), "the deadline")
                        .with_help("warn closer to the deadline (a shorter `before`)"),
                    );
                }
            }
        }
        // A clause the parser could not read may have been the `by`: the syntax error says what is wrong.
        let damaged = step
            .clauses
            .iter()
            .any(|c| matches!(c.kind, StepClauseKind::Error));
        if performer.is_none() && !damaged {
            self.emit(
                Diagnostic::new(
                    Code::NoPerformer,
                    at(file, step.name.span),
                    format!("step `{}` has no performer", step.name.name),
                )
                .with_label("nobody is assigned to this step")
                .with_help("add a `by` clause, e.g. `by Agent`"),
            );
        }
        if let (
            Some((after_s, after_since, after_span)),
            Some((within_s, within_since, within_span, business)),
        ) = (&after, &within)
        {
            // In working time the window may still be empty: working time passes no faster than the clock, so
            // when the calendar is open all the way the deadline comes as soon as the clock's, before the lag ends.
            if after_since == within_since && after_s >= within_s {
                let (code, message, deadline, help) = if *business {
                    (
                        Code::WindowMayBeEmpty,
                        format!(
                            "step `{}` may not start before {}, but {} can pass in as little clock time",
                            step.name.name,
                            literal::describe_duration(*after_s),
                            literal::describe_business_duration(*within_s)
                        ),
                        "the deadline, in working time",
                        "when the calendar is open through the whole deadline, the task is due before it may be \
                         done: the lag counts clock time, so give the deadline more working time than the lag (five \
                         working days of 8 hours are `within 40h on Cal`)",
                    )
                } else {
                    (
                        Code::EmptyWindow,
                        format!(
                            "step `{}` may not start before {}, but is due within {}",
                            step.name.name,
                            literal::describe_duration(*after_s),
                            literal::describe_duration(*within_s)
                        ),
                        "the deadline",
                        "make the `after` lag shorter than the `within` deadline",
                    )
                };
                self.emit(
                    Diagnostic::new(code, at(file, *after_span), message)
                        .with_label("the earliest start")
                        .with_secondary(at(file, *within_span), deadline)
                        .with_help(help),
                );
            }
        }
        // A lag that lasts until the task expires leaves no time to do it.
        if let (Some((after_s, None, after_span)), Some((expires_s, false, expires_span))) =
            (&after, &expires)
        {
            if after_s >= expires_s {
                self.emit(
                    Diagnostic::new(
                        Code::EmptyWindow,
                        at(file, *after_span),
                        format!(
                            "step `{}` may not be done before {}, but expires {} after it opens: it can never be done",
                            step.name.name,
                            literal::describe_duration(*after_s),
                            literal::describe_duration(*expires_s)
                        ),
                    )
                    .with_label("the earliest completion")
                    .with_secondary(at(file, *expires_span), "withdrawn then")
                    .with_help("make the `after` lag shorter than the time the task is offered"),
                );
            }
        }
        // A task withdrawn at or before its deadline is never late. Working time passes no faster than the clock, so a
        // deadline in working time comes no earlier than the same amount of clock time.
        if let (Some((expires_s, false, expires_span)), Some((within_s, None, within_span, _))) =
            (&expires, &within)
        {
            if expires_s <= within_s {
                let ladder = if breach_clause.is_some() {
                    " and its ladder's stages after the breach never run"
                } else {
                    ""
                };
                self.emit(
                    Diagnostic::new(
                        Code::ExpiresBeforeDeadline,
                        at(file, *expires_span),
                        format!(
                            "step `{}` expires {} after it opens, so its deadline ({}) never passes{ladder}",
                            step.name.name,
                            literal::describe_duration(*expires_s),
                            literal::describe_duration(*within_s)
                        ),
                    )
                    .with_label("withdrawn first")
                    .with_secondary(at(file, *within_span), "the deadline")
                    .with_help(
                        "`within` is the time the step should take (a late task is breached and stays open); `expires \
                         after` is how long the task is offered at all: make it longer than the deadline, or drop \
                         the deadline",
                    ),
                );
            }
        }
        // Working time on a calendar passes no faster than the clock: a step given more of it than its whole
        // process has of clock time cannot fit either.
        if let (Some((within_s, None, within_span, business)), Some((process_s, process_span))) =
            (&within, flow.process_within)
        {
            if *within_s > process_s {
                let amount = if *business {
                    literal::describe_business_duration(*within_s)
                } else {
                    literal::describe_duration(*within_s)
                };
                self.emit(
                    Diagnostic::new(
                        Code::StepDeadlineExceedsProcess,
                        at(file, *within_span),
                        format!(
                            "step `{}` may take {amount}, longer than its whole process ({})",
                            step.name.name,
                            literal::describe_duration(process_s)
                        ),
                    )
                    .with_label("step deadline")
                    .with_secondary(at(file, process_span), "process deadline")
                    .with_help("shorten the step deadline or lengthen the process deadline"),
                );
            }
        }
        // The meaning, in words, for hovers and the SOP manual.
        let mut words = Vec::new();
        if let Some(by) = performer {
            words.push(format!("performed by {}", self.performer_words(file, by)));
        }
        let amount_text = within_text.as_ref().map(|(text, since)| {
            let amount = match &within_calendar {
                Some(_) => format!("`{}` of working time", one_line(text)),
                None => format!("`{}`", one_line(text)),
            };
            (amount, since.clone())
        });
        let amount_const = within.as_ref().map(|(seconds, since, _, _)| {
            let amount = match &within_calendar {
                Some(_) => literal::describe_business_duration(*seconds),
                None => literal::describe_duration(*seconds),
            };
            (amount, since.clone())
        });
        if let Some((amount, since)) = amount_const.or(amount_text) {
            let anchor = match since {
                Some(step) => format!("after step `{step}` completes"),
                None => "after the step opens".to_string(),
            };
            let calendar = within_calendar
                .as_ref()
                .map(|c| format!(", on calendar `{c}`"))
                .unwrap_or_default();
            words.push(format!("due {amount} {anchor}{calendar}"));
        }
        if let Some(due) = due_text {
            words.push(format!("due by `{due}`"));
        }
        let lag = after
            .as_ref()
            .map(|(seconds, since, _)| (literal::describe_duration(*seconds), since.clone()))
            .or_else(|| {
                after_text
                    .as_ref()
                    .map(|(text, since)| (format!("`{}`", one_line(text)), since.clone()))
            });
        if let Some((amount, since)) = lag {
            let anchor = match since {
                Some(step) => format!("step `{step}` completes"),
                None => "the step opens".to_string(),
            };
            words.push(format!("not before {amount} after {anchor}"));
        }
        if let Some((text, calendar)) = &expires_text {
            let amount = match (expires, calendar) {
                (Some((seconds, true, _)), _) => literal::describe_business_duration(seconds),
                (Some((seconds, false, _)), _) => literal::describe_duration(seconds),
                (None, Some(_)) => format!("`{}` of working time", one_line(text)),
                (None, None) => format!("`{}`", one_line(text)),
            };
            let calendar = calendar
                .as_ref()
                .map(|c| format!(", on calendar `{c}`"))
                .unwrap_or_default();
            words.push(format!(
                "withdrawn if not done {amount} after the step opens{calendar} (it expires; no breach)"
            ));
        }
        if let Some(calendar) = only_during {
            words.push(format!("done only while calendar `{calendar}` is open"));
        }
        if !ladder_words.is_empty() {
            words.push(format!("on breach: {}", ladder_words.join(", then ")));
        }
        if let Some(def) = self.out.defs.get_mut(id.0 as usize) {
            def.meaning = (!words.is_empty()).then(|| words.join("; "));
        }
    }

    fn find_step_def(&self, flow: &Flow, span: Span) -> Option<DefId> {
        flow.step_order
            .keys()
            .copied()
            .find(|&id| self.def(id).is_some_and(|d| d.span == span))
    }

    fn source_text(&self, file: FileId, span: Span) -> String {
        self.file(file)
            .map(|f| f.source.slice(span).to_string())
            .unwrap_or_default()
    }

    fn performer_words(&self, file: FileId, by: &Performer) -> String {
        let written = |expr: &Expr| one_line(&self.source_text(file, expr.span));
        let base = match &by.kind {
            PerformerKind::Role { role, skills } => {
                if skills.is_empty() {
                    format!("`{}`", role.name)
                } else {
                    let skills: Vec<String> =
                        skills.iter().map(|s| format!("`{}`", s.name)).collect();
                    format!("`{}` with skill {}", role.name, skills.join(" and "))
                }
            }
            PerformerKind::Person(expr) => format!("the person named by `{}`", written(expr)),
            PerformerKind::DynamicRole(expr) => format!("the role named by `{}`", written(expr)),
            PerformerKind::ManagerOf(step) => format!("the manager of whoever did `{}`", step.name),
            PerformerKind::SameAs(step) => format!("the same person who did `{}`", step.name),
        };
        match &by.other_than {
            Some(step) => format!("{base}, not the person who did `{}`", step.name),
            None => base,
        }
    }

    fn performer(&mut self, flow: &mut Flow, step: &Ident, order: usize, by: &Performer) {
        let file = flow.file;
        let mut same_as: Option<String> = None;
        match &by.kind {
            PerformerKind::Role { role, .. } => {
                self.role_ref(file, role, Code::UnknownName);
            }
            PerformerKind::Person(expr) => {
                let ty = self.expr(flow, expr, Some(&Ty::Text));
                self.expect_ty(file, expr.span, &Ty::Text, &ty);
            }
            PerformerKind::DynamicRole(expr) => {
                let ty = self.expr(flow, expr, Some(&Ty::Role));
                self.expect_ty(file, expr.span, &Ty::Role, &ty);
            }
            PerformerKind::ManagerOf(other) => {
                self.four_eyes_target(flow, step, order, other, "the manager of");
            }
            PerformerKind::SameAs(other) => {
                if self.four_eyes_target(flow, step, order, other, "the same person as") {
                    same_as = Some(other.name.clone());
                }
            }
        }
        if let Some(other) = &by.other_than {
            if self.four_eyes_target(flow, step, order, other, "someone other than")
                && same_as.as_deref() == Some(other.name.as_str())
            {
                {
                    self.emit(
                        Diagnostic::new(
                            Code::FourEyesUnsatisfiable,
                            at(file, by.span),
                            format!(
                                "step `{}` must be done by the same person as `{}` and by someone else",
                                step.name, other.name
                            ),
                        )
                        .with_label("no one can ever perform this step")
                        .with_help("keep either `same person as` or `other than`"),
                    );
                }
            }
        }
    }

    /// Checks a step named in a performer rule; true if it is a valid earlier step.
    fn four_eyes_target(
        &mut self,
        flow: &Flow,
        step: &Ident,
        order: usize,
        other: &Ident,
        rule: &str,
    ) -> bool {
        let file = flow.file;
        if other.name == step.name {
            self.emit(
                Diagnostic::new(
                    Code::FourEyesUnsatisfiable,
                    at(file, other.span),
                    format!("step `{}` cannot be done by {rule} itself", step.name),
                )
                .with_label("refers to the step it is part of")
                .with_help("name an earlier step, e.g. the one where the request was made"),
            );
            return false;
        }
        match flow.steps.get(&other.name).copied() {
            Some(id) => {
                self.reference(file, other.span, id);
                if !self.step_in_reach(flow, id, other) {
                    return false;
                }
                let other_order = flow.step_order.get(&id).copied().unwrap_or(0);
                if let Some(parallel) = self.side_by_side(flow, id, step) {
                    self.emit(
                        Diagnostic::new(
                            Code::FourEyesUnknownStep,
                            at(file, other.span),
                            format!(
                                "step `{}` runs at the same time as `{}` (in another branch), so who does it is \
                                 not known when `{}` opens",
                                other.name, step.name, step.name
                            ),
                        )
                        .with_label("in another branch")
                        .with_secondary(at(file, parallel), "the branches start together here")
                        .with_help(format!(
                            "refer to a step that is done before the branches start, or do `{}` after `{}`",
                            step.name, other.name
                        )),
                    );
                    return false;
                }
                if other_order > order {
                    self.emit(
                        Diagnostic::new(
                            Code::FourEyesUnknownStep,
                            at(file, other.span),
                            format!(
                                "step `{}` comes after `{}`, so its performer is not known yet",
                                other.name, step.name
                            ),
                        )
                        .with_label("a later step")
                        .with_help("refer to a step that runs before this one"),
                    );
                    return false;
                }
                // Inside an `if` (a `match` arm, …) that does not hold this step too, the other may not have run:
                // then nobody did it, and `other than` excludes nobody (the others fail the case).
                let outside = flow.step_conds.get(&id).and_then(|conds| {
                    conds
                        .iter()
                        .find(|c| !flow.block_stack.contains(c))
                        .copied()
                });
                if let (Some(block), false) = (outside, flow.known_done.contains(&id)) {
                    let opening = Span::new(block.start as usize, block.start as usize + 1);
                    let consequence = if rule == "someone other than" {
                        "excludes nobody"
                    } else {
                        "names nobody, and the case fails with a run-time error"
                    };
                    self.emit(
                        Diagnostic::new(
                            Code::StepMayNotHaveRun,
                            at(file, other.span),
                            format!(
                                "step `{}` may not have run when `{}` opens, and then `{rule} {}` {consequence}",
                                other.name, step.name, other.name
                            ),
                        )
                        .with_label("may not have run")
                        .with_secondary(
                            at(file, opening),
                            format!("`{}` runs only when this block does", other.name),
                        )
                        .with_help(format!(
                            "name a step that always runs before `{}`, or put `{}` in the same block as `{}`",
                            step.name, step.name, other.name
                        )),
                    );
                }
                true
            }
            None => {
                let candidates: Vec<String> = flow.steps.keys().cloned().collect();
                self.unknown(Code::FourEyesUnknownStep, file, other, "step", &candidates);
                false
            }
        }
    }

    /// Where `other` and the step named `step` are in different branches of the same `parallel` or `first`: that
    /// statement's span.
    fn side_by_side(&self, flow: &Flow, other: DefId, step: &Ident) -> Option<Span> {
        let step = flow.steps.get(&step.name)?;
        let a = flow.step_branches.get(&other)?;
        let b = flow.step_branches.get(step)?;
        a.iter()
            .zip(b)
            .find(|((sa, ia), (sb, ib))| sa == sb && ia != ib)
            .map(|((span, _), _)| *span)
    }

    /// A step named by `since`; it must exist and come earlier.
    fn earlier_step(&mut self, flow: &Flow, name: &Ident, order: usize, what: &str) {
        let file = flow.file;
        match flow.steps.get(&name.name).copied() {
            Some(id) => {
                self.reference(file, name.span, id);
                if !self.step_in_reach(flow, id, name) {
                    return;
                }
                if flow.step_order.get(&id).copied().unwrap_or(0) >= order {
                    self.emit(
                        Diagnostic::new(
                            Code::UnknownName,
                            at(file, name.span),
                            format!(
                                "cannot {what} step `{}`: it does not run before this step",
                                name.name
                            ),
                        )
                        .with_label("not an earlier step")
                        .with_help("name a step that completes before this one opens"),
                    );
                }
            }
            None => {
                let candidates: Vec<String> = flow.steps.keys().cloned().collect();
                self.unknown(Code::UnknownName, file, name, "step", &candidates);
            }
        }
    }

    fn role_ref(&mut self, file: FileId, role: &Ident, unknown_code: Code) -> Option<DefId> {
        if role.name == "person" && self.lookup_global(file, "person").is_none() {
            // `notify person email "…"`: notifications go to roles; one person is reached through the host.
            self.emit(
                Diagnostic::new(
                    unknown_code,
                    at(file, role.span),
                    "a role is expected here, not one person",
                )
                .with_label("not a role")
                .with_help(
                    "`notify` and escalations reach everyone who holds a role; to write to one person (a customer, \
                     say), call an action the host performs: `action send_email(to: Text, text: Text) -> Bool`",
                ),
            );
            return None;
        }
        self.resolve_kind(file, role, &[DefKind::Role], "role", unknown_code)
    }

    fn calendar_ref(&mut self, file: FileId, calendar: &Ident) -> Option<DefId> {
        self.resolve_kind(
            file,
            calendar,
            &[DefKind::Calendar],
            "calendar",
            Code::UnknownName,
        )
    }

    fn signal_ref(&mut self, file: FileId, name: &Ident) -> Option<DefId> {
        match self.lookup_global(file, &name.name) {
            Some(id) if self.def_kind(id) == Some(DefKind::Signal) => {
                self.reference(file, name.span, id);
                Some(id)
            }
            Some(id) => {
                self.reference(file, name.span, id);
                let kind = self.def_kind(id).map_or("name", DefKind::word);
                self.emit(
                    Diagnostic::new(
                        Code::UndeclaredSignal,
                        at(file, name.span),
                        format!("`{}` is a {kind}, not a signal", name.name),
                    )
                    .with_label("not a signal")
                    .with_help(format!(
                        "declare the signal: `signal {} {{ ... }}`",
                        name.name
                    )),
                );
                None
            }
            None => {
                let candidates = self.global_names(file, |k| k == DefKind::Signal);
                let mut diagnostic = Diagnostic::new(
                    Code::UndeclaredSignal,
                    at(file, name.span),
                    format!("signal `{}` is not declared", name.name),
                )
                .with_label("unknown signal");
                // Declared in a module this file does not import (std's `SurveyAnswered`): import it.
                let elsewhere = self.declared_elsewhere(file, &name.name, &[DefKind::Signal]);
                let insert = self.use_insertion_point(file);
                match (
                    elsewhere,
                    suggest::closest(&name.name, candidates.iter().map(String::as_str)),
                ) {
                    (Some(module), _) => {
                        diagnostic = diagnostic.with_help(format!(
                            "`{}` is declared in module `{module}`: import it with `use {module}.{}`",
                            name.name, name.name
                        ));
                        if let Some((span, before, after)) = insert {
                            diagnostic = diagnostic.with_suggestion(
                                at(file, span),
                                format!("{before}use {module}.{}{after}", name.name),
                                format!("import `{}` from `{module}`", name.name),
                            );
                        }
                    }
                    (None, Some(best)) => {
                        diagnostic = diagnostic
                            .with_help(format!("did you mean `{best}`?"))
                            .with_suggestion(at(file, name.span), best, format!("use `{best}`"));
                    }
                    (None, None) => {
                        diagnostic =
                            diagnostic.with_help(format!("declare it: `signal {}`", name.name));
                    }
                }
                self.emit(diagnostic);
                None
            }
        }
    }

    fn ladder(&mut self, flow: &mut Flow, stages: &[EscalationStage]) -> Vec<String> {
        let file = flow.file;
        let mut previous: Option<(i64, Span, Option<String>)> = None;
        let mut words = Vec::new();
        for stage in stages {
            let calendar = stage.calendar.as_ref().and_then(|calendar| {
                self.calendar_ref(file, calendar)?;
                if let Some(after) = &stage.after {
                    self.days_of_working_time_literal(file, after, calendar);
                }
                Some(calendar.name.clone())
            });
            if stage.before.is_some() {
                self.warning_stage(file, stage);
            }
            let offset = match stage.after.as_ref().or(stage.before.as_ref()) {
                Some(after) => {
                    let ty = self.expr(flow, after, Some(&Ty::Duration));
                    if self.expect_deadline_duration(file, after, &ty, "an escalation stage") {
                        // A warning counts back from the deadline.
                        let offset = const_duration(after)
                            .map(|d| if stage.before.is_some() { -d } else { d });
                        if offset.is_none() {
                            // The ladder is laid out when the step opens: its times cannot depend on data.
                            self.emit(
                                Diagnostic::new(
                                    Code::CannotCompile,
                                    at(file, stage.span),
                                    "the time of an escalation stage must be a fixed duration",
                                )
                                .with_label("not a fixed duration")
                                .with_help(
                                    "write the offset as a duration literal, such as `after 4h`",
                                ),
                            );
                        }
                        offset
                    } else {
                        None
                    }
                }
                None => Some(0),
            };
            // The stages fire one after another, each scheduled when the one before has fired, so they must be in
            // time order; times on different clocks (the clock, a calendar's working time) cannot be put in order,
            // so a ladder counts one clock (stages at the breach itself fit any).
            if let (Some(offset), Some((before, before_span, before_calendar))) =
                (offset, previous.clone())
            {
                if offset > 0 && before > 0 && before_calendar != calendar {
                    let clock = |calendar: &Option<String>| match calendar {
                        Some(name) => format!("`{name}`'s working time"),
                        None => "the clock".to_string(),
                    };
                    self.emit(
                        Diagnostic::new(
                            Code::LadderNotIncreasing,
                            at(file, stage.span),
                            format!(
                                "this stage counts {}, and the stage before it {}: their times cannot be put in \
                                 order",
                                clock(&calendar),
                                clock(&before_calendar)
                            ),
                        )
                        .with_label("another clock")
                        .with_secondary(at(file, before_span), "previous stage")
                        .with_help(
                            "let every stage of the ladder count the same clock: all with the same `on Calendar`, \
                             or none",
                        ),
                    );
                } else if offset < before
                    && (before_calendar == calendar || offset <= 0 || before <= 0)
                {
                    // Stages at the same time fire together, in the order written (notify and reassign at the
                    // breach).
                    let when = |offset: i64| match offset {
                        0 => "at the breach".to_string(),
                        o if o < 0 => {
                            format!("{} before the breach", literal::describe_duration(-o))
                        }
                        o => format!("{} after the breach", literal::describe_duration(o)),
                    };
                    self.emit(
                        Diagnostic::new(
                            Code::LadderNotIncreasing,
                            at(file, stage.span),
                            format!(
                                "this stage fires {}, earlier than the stage before it ({})",
                                when(offset),
                                when(before)
                            ),
                        )
                        .with_label("out of order")
                        .with_secondary(at(file, before_span), "previous stage")
                        .with_help("order the stages by time, none earlier than the one before"),
                    );
                }
            }
            if let Some(offset) = offset {
                previous = Some((offset, stage.span, calendar.clone()));
            }
            let when = match (offset, &calendar) {
                (Some(offset), _) if offset < 0 => {
                    format!("{} before the breach", literal::describe_duration(-offset))
                }
                (Some(0) | None, _) => "at breach".to_string(),
                (Some(offset), Some(calendar)) => format!(
                    "{} on `{calendar}` after the breach",
                    literal::describe_business_duration(offset)
                ),
                (Some(offset), None) => {
                    format!("{} after the breach", literal::describe_duration(offset))
                }
            };
            let what = match &stage.action {
                EscalationAction::Notify(role, message) => {
                    self.role_ref(file, role, Code::EscalationToUnknownRole);
                    if let Some(message) = message {
                        self.expr(flow, message, Some(&Ty::Text));
                    }
                    format!("notify `{}`", role.name)
                }
                EscalationAction::Reassign(role) => {
                    self.role_ref(file, role, Code::EscalationToUnknownRole);
                    format!("reassign to `{}`", role.name)
                }
                EscalationAction::Cancel => "cancel the step".to_string(),
                EscalationAction::Flag(message) => {
                    self.expr(flow, message, Some(&Ty::Text));
                    "flag the case".to_string()
                }
            };
            words.push(format!("{when} {what}"));
        }
        words
    }

    /// What a warning stage (`before 1h notify Agent`) may not be: on a calendar of its own (it counts the
    /// deadline's clock), a `cancel` (a task is withdrawn only once it is late), or at the breach itself.
    fn warning_stage(&mut self, file: FileId, stage: &EscalationStage) {
        if let Some(calendar) = &stage.calendar {
            self.emit(
                Diagnostic::new(
                    Code::LadderNotIncreasing,
                    at(file, calendar.span),
                    "a stage before the breach counts the deadline's own clock",
                )
                .with_label("no calendar here")
                .with_help(format!(
                    "remove `on {}`: `before` counts working time when the deadline does (`within 8h on {}`)",
                    calendar.name, calendar.name
                )),
            );
        }
        if matches!(stage.action, EscalationAction::Cancel) {
            self.emit(
                Diagnostic::new(
                    Code::Misplaced,
                    at(file, stage.span),
                    "a task is withdrawn only once it is late: `cancel` cannot come before the breach",
                )
                .with_label("before the breach")
                .with_help("cancel at the breach (a stage without `before`), or warn with `notify` or `flag`"),
            );
        }
        if stage
            .before
            .as_ref()
            .and_then(const_duration)
            .is_some_and(|d| d <= 0)
        {
            self.emit(
                Diagnostic::new(
                    Code::LadderNotIncreasing,
                    at(file, stage.span),
                    "a warning must come some time before the breach",
                )
                .with_label("not before the breach")
                .with_help("give a positive time (`before 30m`), or write the stage without `before` to act at the breach"),
            );
        }
    }

    /// `within 2d on Office`: business time counts working hours, so a day is 24 of them (three 8-hour working
    /// days), which is rarely what was meant (`P0039`). Written in hours, the same deadline is not reported.
    fn days_of_working_time(&mut self, file: FileId, duration: &Expr, calendar: &Ident) {
        self.days_of_working_time_in(file, duration, calendar, true);
    }

    /// [`Checker::days_of_working_time`] where only a duration literal may be written (an escalation stage's
    /// `after`, a KPI's target): the help does not offer `std.calendar`'s functions.
    fn days_of_working_time_literal(&mut self, file: FileId, duration: &Expr, calendar: &Ident) {
        self.days_of_working_time_in(file, duration, calendar, false);
    }

    fn days_of_working_time_in(
        &mut self,
        file: FileId,
        duration: &Expr,
        calendar: &Ident,
        functions: bool,
    ) {
        let ExprKind::Literal(Literal {
            kind: LiteralKind::Duration(text),
            ..
        }) = &duration.kind
        else {
            return;
        };
        let Some(seconds) = const_duration(duration) else {
            return;
        };
        if !text.contains(['d', 'w']) || seconds <= 0 {
            return;
        }
        let hours = seconds / 3600;
        let days = seconds / 86_400;
        let weeks = seconds / 604_800;
        let meant = if text.contains('w') && seconds % 604_800 == 0 {
            if weeks == 1 {
                "one working week".to_string()
            } else {
                format!("{weeks} working weeks")
            }
        } else if seconds % 86_400 == 0 && days == 1 {
            "one working day".to_string()
        } else if seconds % 86_400 == 0 {
            format!("{days} working days")
        } else {
            "that many working days".to_string()
        };
        let instead = match (text.contains('w'), functions) {
            (true, true) => {
                "for working weeks of 40 hours use `std.calendar.working_weeks`".to_string()
            }
            (true, false) => format!("for working weeks of 40 hours write `{}h`", weeks * 40),
            (false, true) => format!(
                "for working days of 8 hours write `{}h` (or use `std.calendar.working_days`)",
                hours / 3
            ),
            (false, false) => format!("for working days of 8 hours write `{}h`", hours / 3),
        };
        self.emit(
            Diagnostic::new(
                Code::DaysOfWorkingTime,
                at(file, duration.span),
                format!(
                    "`{text}` on calendar `{}` means {hours} working hours, not {meant}",
                    calendar.name
                ),
            )
            .with_label(format!("{hours} hours of the calendar's working time"))
            .with_help(format!(
                "a day is 24 working hours here; {instead}, and to mean {hours} working hours write `{hours}h`"
            )),
        );
    }

    fn expect_deadline_duration(&mut self, file: FileId, expr: &Expr, ty: &Ty, what: &str) -> bool {
        match ty {
            Ty::Duration if const_duration(expr).is_some_and(|d| d < 0) => {
                self.emit(
                    Diagnostic::new(
                        Code::DeadlineNotTime,
                        at(file, expr.span),
                        format!("{what} needs a duration of zero or more"),
                    )
                    .with_label("a negative duration")
                    .with_help("durations count forward from now: write it without `-`"),
                );
                false
            }
            Ty::Duration => true,
            Ty::Error => false,
            other => {
                let mut diagnostic = Diagnostic::new(
                    Code::DeadlineNotTime,
                    at(file, expr.span),
                    format!(
                        "{what} needs a duration such as `4h`, but this is `{}`",
                        self.ty_name(other)
                    ),
                )
                .with_label("not a duration");
                if matches!(other, Ty::Time | Ty::Date) {
                    diagnostic =
                        diagnostic.with_help("for a fixed point in time, use `due` instead");
                } else if *other == Ty::Int {
                    diagnostic =
                        diagnostic.with_help("add a unit: `s`, `m`, `h`, `d` or `w`, e.g. `4h`");
                }
                self.emit(diagnostic);
                false
            }
        }
    }

    // -----------------------------------------------------------------------------------------------------------
    // Expressions

    fn compatible(&self, expected: &Ty, actual: &Ty) -> bool {
        match (expected, actual) {
            (Ty::Error, _) | (_, Ty::Error) => true,
            (Ty::Optional(_), Ty::None) => true,
            (Ty::Optional(inner), Ty::Optional(actual)) => self.compatible(inner, actual),
            (Ty::Optional(inner), actual) => self.compatible(inner, actual),
            (Ty::List(inner), Ty::List(actual)) => self.compatible(inner, actual),
            (Ty::Time, Ty::Date) => true,
            // An `Int` where a range is declared: a literal is checked against it here (see `expr`), a computed value
            // when the module gives it (the case fails outside it), and hosts check the values that come in.
            (Ty::IntIn(..), Ty::Int | Ty::IntIn(..)) | (Ty::Int, Ty::IntIn(..)) => true,
            _ => expected == actual,
        }
    }

    fn expect_ty(&mut self, file: FileId, span: Span, expected: &Ty, actual: &Ty) -> bool {
        if self.compatible(expected, actual) {
            return true;
        }
        let expected_name = self.ty_name(expected);
        let actual_name = self.ty_name(actual);
        let mut diagnostic = Diagnostic::new(
            Code::TypeMismatch,
            at(file, span),
            format!("expected `{expected_name}`, found `{actual_name}`"),
        )
        .with_label(format!("this is `{actual_name}`"));
        if let Ty::Optional(inner) = actual {
            if self.compatible(expected, inner) {
                diagnostic =
                    diagnostic.with_help("this may be empty: give a default with `?? value`");
            }
        } else if *expected == Ty::Text && matches!(actual, Ty::Int | Ty::Duration | Ty::Time) {
            diagnostic =
                diagnostic.with_help("put the value in a text with interpolation: \"{value}\"");
        }
        self.emit(diagnostic);
        false
    }

    fn lookup_value(&self, flow: &Flow, name: &str) -> Option<DefId> {
        flow.locals
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
            .or_else(|| flow.steps.get(name).copied())
            .or_else(|| self.lookup_global(flow.file, name))
    }

    /// The first enum (by name) visible from `file` that has a variant `variant`.
    fn enum_with_variant(&self, file: FileId, variant: &str) -> Option<String> {
        self.global_names(file, |k| k == DefKind::Enum)
            .into_iter()
            .find(|enum_name| {
                self.lookup_global(file, enum_name)
                    .and_then(|id| self.out.members.get(&id))
                    .is_some_and(|members| members.iter().any(|&v| self.def_name(v) == variant))
            })
    }

    fn value_candidates(&self, flow: &Flow) -> Vec<String> {
        let mut names: Vec<String> = flow.locals.iter().map(|(n, _)| n.clone()).collect();
        names.extend(flow.steps.keys().cloned());
        names.extend(self.global_names(flow.file, |k| {
            matches!(
                k,
                DefKind::Role
                    | DefKind::Enum
                    | DefKind::Calendar
                    | DefKind::Procedure
                    | DefKind::Action
                    | DefKind::Record
                    | DefKind::Signal
            )
        }));
        names
    }

    fn name_ty(&mut self, flow: &Flow, name: &Ident) -> Ty {
        let file = flow.file;
        let Some(id) = self.lookup_value(flow, &name.name) else {
            if let Some(enum_name) = self.enum_with_variant(file, &name.name) {
                // `web` for `Channel.web`: variants are written with their enum's name.
                let written = format!("{enum_name}.{}", name.name);
                self.emit(
                    Diagnostic::new(
                        Code::UnknownName,
                        at(file, name.span),
                        format!("unknown name `{}`", name.name),
                    )
                    .with_label(format!("a variant of enum `{enum_name}`"))
                    .with_help(format!(
                        "variants are written with their enum's name: `{written}`"
                    ))
                    .with_suggestion(
                        at(file, name.span),
                        &written,
                        format!("write `{written}`"),
                    ),
                );
                return Ty::Error;
            }
            let candidates = self.value_candidates(flow);
            self.unknown(Code::UnknownName, file, name, "name", &candidates);
            return Ty::Error;
        };
        self.reference(file, name.span, id);
        match self.def_kind(id) {
            Some(DefKind::Param | DefKind::Local) => self
                .narrowed_ty(
                    flow,
                    &Place {
                        root: id,
                        fields: Vec::new(),
                    },
                )
                .unwrap_or(Ty::Error),
            Some(DefKind::Step) if !self.step_in_reach(flow, id, name) => Ty::Error,
            Some(DefKind::Step) => Ty::Step(id),
            Some(DefKind::Role) => Ty::Role,
            Some(DefKind::Calendar) => Ty::Calendar(id),
            Some(DefKind::Enum) => Ty::EnumType(id),
            Some(kind) => {
                self.emit(
                    Diagnostic::new(
                        Code::WrongKind,
                        at(file, name.span),
                        format!("`{}` is a {}, not a value", name.name, kind.word()),
                    )
                    .with_label("not a value")
                    .with_help(match kind {
                        DefKind::Procedure | DefKind::Action => {
                            format!("call it: `{}(...)`", name.name)
                        }
                        DefKind::Record | DefKind::Signal => {
                            format!("build one: `{} {{ field: value }}`", name.name)
                        }
                        _ => "use a variable, parameter or step here".to_string(),
                    }),
                );
                Ty::Error
            }
            None => Ty::Error,
        }
    }

    /// `x == "email"` where `x` is an enum with a value `email`: the enum and the value's name.
    fn text_for_variant(
        &self,
        l: &Ty,
        r: &Ty,
        left: &Expr,
        right: &Expr,
    ) -> Option<(DefId, String)> {
        let (enum_ty, text) = match (l, r) {
            (Ty::Named(id), Ty::Text) => (*id, right),
            (Ty::Text, Ty::Named(id)) => (*id, left),
            _ => return None,
        };
        if self.def_kind(enum_ty) != Some(DefKind::Enum) {
            return None;
        }
        let ExprKind::Literal(Literal {
            kind: LiteralKind::Text(parts),
            ..
        }) = &text.kind
        else {
            return None;
        };
        let [TextPart::Lit(value)] = parts.as_slice() else {
            return None;
        };
        self.out
            .members
            .get(&enum_ty)?
            .iter()
            .map(|&m| self.def_name(m))
            .find(|name| name == value)
            .map(|name| (enum_ty, name))
    }

    /// `first { branch { await Confirmed  step visit … } branch { wait 2d  step call … } }` reads like BPMN's
    /// event-based gateway, where the first event chooses the path. Here the branch that *finishes* first wins: after
    /// `Confirmed`, the other branch's timer still fires and opens its steps, and a late `Confirmed` is still taken.
    fn first_as_event_choice(&mut self, file: FileId, keyword: Span, branches: &[BranchDecl]) {
        let starts_with_event = |b: &&BranchDecl| b.body.stmts.first().is_some_and(waits_for_event);
        let waiting = branches.iter().filter(starts_with_event).count();
        // A branch that, after its event, does what takes time (a step, another wait): returning or completing at
        // once is the right way to choose by the first event.
        let going_on = branches
            .iter()
            .filter(starts_with_event)
            .find_map(|b| b.body.stmts.iter().skip(1).find(|s| takes_time(s)));
        let (Some(after), true) = (going_on, waiting >= 2) else {
            return;
        };
        self.emit(
            Diagnostic::new(
                Code::FirstRacesPaths,
                at(file, keyword),
                "the branch that finishes first wins this `first`, not the first event",
            )
            .with_label("branches race to their ends")
            .with_secondary(
                at(file, after.span),
                "this still runs when another branch's event came first",
            )
            .with_help(
                "to choose a path by the first event, wait for the events alone and branch afterwards: \
                 `let reply = await Confirmed within 2d`, then `if reply != none { … } else { … }`; for more \
                 events, a procedure whose `first` branches only wait and `return` what happened, then a `match`",
            ),
        );
    }

    /// `every 15m max 8 { notify OnCall "PAGE" } until acknowledge.done` with `acknowledge` after the loop in the same
    /// sequence: the step cannot open before the loop ends, so the condition never stops it early. (The intended
    /// shape runs the step in a branch beside the loop.)
    /// `done`: the steps the condition names with `.done`.
    fn until_after_loop(&mut self, flow: &Flow, keyword: Span, until: &Expr, done: &[DefId]) {
        for &step in done {
            let Some(&order) = flow.step_order.get(&step) else {
                continue;
            };
            if order < flow.reached {
                continue;
            }
            let beside = flow.step_branches.get(&step).is_some_and(|theirs| {
                theirs
                    .iter()
                    .zip(&flow.check_branches)
                    .any(|((a, i), (b, j))| a == b && i != j)
            });
            if beside {
                continue;
            }
            let name = self.def_name(step);
            let step_at = self.def(step).map(|d| at(d.file, d.name_span));
            let mut diagnostic = Diagnostic::new(
                Code::UntilNeverDuringLoop,
                at(flow.file, until.span),
                format!("`{name}` comes after this loop, so `{name}.done` never holds while it runs"),
            )
            .with_label("never true during the loop")
            .with_secondary(at(flow.file, keyword), "the loop runs all its rounds first")
            .with_help(format!(
                "run the loop beside the step: `parallel {{ branch {{ step {name} … }} branch {{ every … until \
                 {name}.done }} }}`"
            ));
            if let Some(step_at) = step_at {
                diagnostic =
                    diagnostic.with_secondary(step_at, "the step opens only after the loop");
            }
            self.emit(diagnostic);
        }
    }

    /// `every 2h max 10 { step update … } until solve.done` beside `solve`: the condition is asked between rounds,
    /// so a round under way when `solve` is done goes on, and its `update` task stays open (until it is done or its
    /// deadline withdraws it), holding up what follows. A `cancel update` (after `solve`) withdraws it.
    fn round_not_interrupted(&mut self, flow: &Flow, until: &Expr, done: &[DefId], body: &Block) {
        let Some(&other) = done.first() else {
            return;
        };
        let mut steps = Vec::new();
        steps_in(body, &mut steps);
        let Some(step) = steps
            .into_iter()
            .find(|s| !flow.cancelled.contains(&s.name.name))
        else {
            return;
        };
        let other = self.def_name(other);
        let name = &step.name.name;
        self.emit(
            Diagnostic::new(
                Code::RoundNotInterrupted,
                at(flow.file, step.name.span),
                format!("a round under way when `{other}` is done goes on: its `{name}` task stays open"),
            )
            .with_label("not withdrawn when the loop's condition holds")
            .with_secondary(at(flow.file, until.span), "asked between rounds, not during one")
            .with_help(format!(
                "withdraw it when `{other}` is done: write `cancel {name}` right after step `{other}`"
            )),
        );
    }

    /// An output of `step` read here: outside loops, the step must come earlier in the flow (`P0040`); and it
    /// must not be in another branch of a `parallel` or `first` beside this code, where nothing says it is done.
    fn output_known(&mut self, flow: &Flow, step: DefId, output: &Ident) {
        let file = flow.file;
        let step_name = self.def_name(step);
        if let (Some(theirs), ours) = (flow.step_branches.get(&step), &flow.check_branches) {
            if let Some((keyword, _)) = theirs
                .iter()
                .zip(ours)
                .find(|((a, i), (b, j))| a == b && i != j)
                .map(|(theirs, _)| *theirs)
            {
                self.emit(
                    Diagnostic::new(
                        Code::StepNotRunYet,
                        at(file, output.span),
                        format!(
                            "step `{step_name}` is in another branch, which runs at the same time as this one, so \
                             its output `{}` is not known here",
                            output.name
                        ),
                    )
                    .with_label("from another branch")
                    .with_secondary(at(file, keyword), "the branches start together here")
                    .with_help(format!(
                        "read it after the branches have joined, or move `{step_name}` before them"
                    )),
                );
                return;
            }
        }
        // Only this flow's own steps have an order here (not a procedure's, reached through a call).
        let Some(&order) = flow.step_order.get(&step) else {
            return;
        };
        if flow.loops == 0 && order >= flow.reached {
            self.emit(
                Diagnostic::new(
                    Code::StepNotRunYet,
                    at(file, output.span),
                    format!(
                        "step `{step_name}` has not run yet here, so its output `{}` is not known",
                        output.name
                    ),
                )
                .with_label("read before the step")
                .with_help(format!(
                    "move this after step `{step_name}`: a step's outputs exist once it is completed"
                )),
            );
            return;
        }
        // Inside an `if` (a `match` arm, a `first`, a loop) that does not hold this code too, the step may not
        // have run: reading its output then fails the case at run time.
        let outside = flow.step_conds.get(&step).and_then(|conds| {
            conds
                .iter()
                .find(|c| !flow.block_stack.contains(c))
                .copied()
        });
        if let Some(block) = outside {
            if !flow.known_done.contains(&step) {
                let opening = Span::new(block.start as usize, block.start as usize + 1);
                self.emit(
                    Diagnostic::new(
                        Code::StepMayNotHaveRun,
                        at(file, output.span),
                        format!(
                            "step `{step_name}` may not have run here, so its output `{}` may not exist",
                            output.name
                        ),
                    )
                    .with_label("read where the step may not have run")
                    .with_secondary(at(file, opening), format!("`{step_name}` runs only when this block does"))
                    .with_help(format!(
                        "read it inside `if {step_name}.done {{ … }}` (or after `if not {step_name}.done {{ return … }}`), \
                         or in the same block as the step; a case that reads it after `{step_name}` was skipped fails \
                         with a run-time error"
                    )),
                );
                return;
            }
        }
        self.closed_without_completion(
            flow,
            step,
            output,
            &format!("its output `{}`", output.name),
        );
    }

    /// What a step records when it is completed (an output, who did it, when), read where the step may have ended
    /// without a completion: it expires (`expires after`) or a manager may skip it (`P0051`).
    fn closed_without_completion(&mut self, flow: &Flow, step: DefId, read: &Ident, what: &str) {
        let file = flow.file;
        let step_name = self.def_name(step);
        let Some(&(expires, skippable)) = flow.expiring.get(&step) else {
            return;
        };
        if flow.known_done.contains(&step) {
            return;
        }
        let expiry_handled = !expires || flow.known_live.contains(&step);
        let diagnostic = if !expiry_handled {
            Diagnostic::new(
                Code::StepMayHaveExpired,
                at(file, read.span),
                format!("step `{step_name}` may have expired without being completed, so {what} may not exist"),
            )
            .with_label("read where the step may have expired")
            .with_help(format!(
                "handle the expiry first: `if {step_name}.expired {{ return … }}` before this, or read it inside \
                 `if {step_name}.done {{ … }}`; a case that reads it after `{step_name}` expired fails with a \
                 run-time error"
            ))
        } else if skippable {
            Diagnostic::new(
                Code::StepMayHaveExpired,
                at(file, read.span),
                format!("step `{step_name}` is `skippable`, so {what} does not exist when a manager skips it"),
            )
            .with_label("read where the step may have been skipped")
            .with_help(format!(
                "read it inside `if {step_name}.done {{ … }}` (or after `if not {step_name}.done {{ return … }}`); a \
                 case that reads it after `{step_name}` was skipped fails with a run-time error"
            ))
        } else {
            return;
        };
        self.emit(diagnostic);
    }

    /// The type of `base.name`; `written` is how the base is written (`reply`, `c.note`), for messages.
    fn field_ty(
        &mut self,
        flow: &Flow,
        base: &Ty,
        name: &Ident,
        in_text: bool,
        written: &str,
    ) -> Ty {
        let file = flow.file;
        let unknown_code = if in_text {
            Code::UnknownInterpolation
        } else {
            Code::UnknownField
        };
        let (owner, extra): (Option<DefId>, Vec<(&str, Ty)>) = match base {
            Ty::Error => return Ty::Error,
            Ty::Named(id) if self.def_kind(*id) != Some(DefKind::Enum) => (Some(*id), Vec::new()),
            Ty::Step(id) => (Some(*id), STEP_FACTS.to_vec()),
            Ty::EnumType(id) => (Some(*id), Vec::new()),
            Ty::Calendar(_) => (None, vec![("is_open", Ty::Bool), ("next_open", Ty::Time)]),
            Ty::Optional(inner) => {
                self.emit(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        at(file, name.span),
                        format!(
                            "`{written}` may be empty (it is `{}?`), so `.{}` cannot be read directly",
                            self.ty_name(inner),
                            name.name
                        ),
                    )
                    .with_label("on an optional value")
                    .with_help(format!(
                        "check it first (`if {written} == none {{ complete … }}`, or read it inside `if {written} != \
                         none {{ … }}`), or give a default: `({written} ?? default).{}`",
                        name.name
                    )),
                );
                return Ty::Error;
            }
            other => {
                self.emit(
                    Diagnostic::new(
                        unknown_code,
                        at(file, name.span),
                        format!(
                            "`{}` has no fields, so `.{}` does not exist",
                            self.ty_name(other),
                            name.name
                        ),
                    )
                    .with_label("no such field"),
                );
                return Ty::Error;
            }
        };
        let members: Vec<DefId> = owner
            .and_then(|o| self.out.members.get(&o).cloned())
            .unwrap_or_default();
        if let Some(&member) = members.iter().find(|&&m| self.def_name(m) == name.name) {
            self.reference(file, name.span, member);
            if let Ty::Step(step) = base {
                if self.def_kind(member) == Some(DefKind::Output) {
                    self.output_known(flow, *step, name);
                }
            }
            return self.def(member).map(|d| d.ty.clone()).unwrap_or(Ty::Error);
        }
        if let Some((_, ty)) = extra.iter().find(|(n, _)| *n == name.name) {
            if let (Ty::Step(step), "done_by" | "completed_at") = (base, name.name.as_str()) {
                let what = format!("`{}.{}`", self.def_name(*step), name.name);
                self.closed_without_completion(flow, *step, name, &what);
            }
            return ty.clone();
        }
        let mut candidates: Vec<String> = members.iter().map(|&m| self.def_name(m)).collect();
        candidates.extend(extra.iter().map(|(n, _)| (*n).to_string()));
        let owner_text = match base {
            Ty::Step(id) => format!("step `{}`", self.def_name(*id)),
            Ty::EnumType(id) => format!("enum `{}`", self.def_name(*id)),
            other => format!("`{}`", self.ty_name(other)),
        };
        let what = if matches!(base, Ty::EnumType(_)) {
            "variant"
        } else if matches!(base, Ty::Step(_)) {
            "output"
        } else {
            "field"
        };
        let diagnostic = Diagnostic::new(
            unknown_code,
            at(file, name.span),
            format!("{owner_text} has no {what} `{}`", name.name),
        )
        .with_label(format!("unknown {what}"));
        self.emit(did_you_mean_or_list(diagnostic, file, name, &candidates));
        Ty::Error
    }

    fn text_parts(&mut self, flow: &Flow, parts: &[TextPart]) {
        for part in parts {
            let TextPart::Interpolation(path) = part else {
                continue;
            };
            let Some(first) = path.first() else {
                continue;
            };
            if first.name.is_empty() {
                let written = self
                    .files
                    .get(flow.file.0 as usize)
                    .map(|f| f.source.slice(first.span))
                    .unwrap_or_default();
                let inner = written
                    .trim_start_matches('{')
                    .trim_end_matches('}')
                    .trim()
                    .to_string();
                // `"Greet {c.customer"`: a name, but no closing brace before the text ends.
                let unclosed = !written.ends_with('}')
                    && !inner.is_empty()
                    && inner
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '"');
                let help = if unclosed {
                    format!(
                        "close the interpolation: `{{{}}}`",
                        inner.trim_end_matches('"')
                    )
                } else if inner.is_empty() || inner.contains('{') || inner.len() > 60 {
                    "write a name or a field path inside the braces, or `{{` for a literal brace"
                        .to_string()
                } else {
                    format!(
                        "only a name or a field path goes inside the braces: compute the value first, \
                         `let shown = {inner}`, then write `{{shown}}` (or `{{{{` for a literal brace)"
                    )
                };
                self.emit(
                    Diagnostic::new(
                        Code::UnknownInterpolation,
                        at(flow.file, first.span),
                        if unclosed {
                            "this interpolation has no closing `}`"
                        } else {
                            "this interpolation is not a name"
                        },
                    )
                    .with_label("expected `{name}` or `{name.field}`")
                    .with_help(help),
                );
                continue;
            }
            let mut ty = match self.lookup_value(flow, &first.name) {
                Some(_) => self.name_ty(flow, first),
                None => {
                    let candidates = self.value_candidates(flow);
                    self.unknown(
                        Code::UnknownInterpolation,
                        flow.file,
                        first,
                        "name",
                        &candidates,
                    );
                    Ty::Error
                }
            };
            if self.record_types && path.len() > 1 {
                // The name on its own too: it may be read as narrower than declared (`if x != none`).
                self.out
                    .expr_types
                    .insert(at(flow.file, first.span), ty.clone());
            }
            let mut place = self.lookup_value(flow, &first.name).map(|root| Place {
                root,
                fields: Vec::new(),
            });
            for (i, segment) in path.iter().enumerate().skip(1) {
                let written = path
                    .iter()
                    .take(i)
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                ty = self.field_ty(flow, &ty, segment, true, &written);
                if let Some(place) = &mut place {
                    place.fields.push(segment.name.clone());
                    if ty != Ty::Error {
                        ty = self.narrowed_place(flow, place).unwrap_or(ty);
                    }
                }
                // Each field path too (the back end reads a narrowed field as its value).
                if self.record_types && i + 1 < path.len() {
                    let span = Span {
                        start: first.span.start,
                        end: segment.span.end,
                    };
                    self.out.expr_types.insert(at(flow.file, span), ty.clone());
                }
            }
            let ty = ty.widened();
            let end = path.last().map_or(first.span.end, |last| last.span.end);
            let span = Span {
                start: first.span.start,
                end,
            };
            if matches!(ty, Ty::Optional(_)) {
                let shown = path
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                self.emit(
                    Diagnostic::new(
                        Code::OptionalInText,
                        at(flow.file, span),
                        format!("`{shown}` may be missing, and the text then reads `none`"),
                    )
                    .with_label(format!("of type `{}`", self.ty_name(&ty)))
                    .with_help(format!(
                        "say what the text reads without it: `let shown = {shown} ?? \"not given\"` before this, \
                         then `{{shown}}`; or use the text inside `if {shown} != none {{ … }}`"
                    )),
                );
            }
            if self.record_types {
                self.out.expr_types.insert(at(flow.file, span), ty);
            }
        }
    }

    fn expr(&mut self, flow: &mut Flow, expr: &Expr, expected: Option<&Ty>) -> Ty {
        // Nesting is bounded by the lexer and parser, but deeply nested (accepted) expressions can still need more
        // stack than a small thread has: grow it on demand.
        let ty = stacker::maybe_grow(64 * 1024, 4 * 1024 * 1024, || {
            self.expr_inner(flow, expr, expected)
        })
        // A value read from an `Int from … to …` is an `Int`: computing with it may leave the range.
        .widened();
        // A literal given where a range is declared must lie in it (a computed value is not checked here; hosts
        // check what comes in from outside).
        if let Some((min, max)) = expected
            .and_then(Ty::int_bounds)
            .filter(|_| !self.out_of_range_allowed)
        {
            if let Some(value) = int_literal(expr) {
                if value < min || value > max {
                    self.emit(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            at(flow.file, expr.span),
                            format!("{value} is outside `Int from {min} to {max}`"),
                        )
                        .with_label(format!("not from {min} to {max}"))
                        .with_help(format!("give a whole number from {min} to {max}")),
                    );
                }
            }
        }
        if self.record_types {
            self.out
                .expr_types
                .insert(at(flow.file, expr.span), ty.clone());
        }
        ty
    }

    fn expr_inner(&mut self, flow: &mut Flow, expr: &Expr, expected: Option<&Ty>) -> Ty {
        let file = flow.file;
        match &expr.kind {
            ExprKind::Error => Ty::Error,
            ExprKind::Now => Ty::Time,
            ExprKind::Literal(lit) => self.literal(flow, lit),
            ExprKind::Paren(inner) => self.expr(flow, inner, expected),
            ExprKind::Name(name) => self.name_ty(flow, name),
            ExprKind::Field(base, name) => {
                if let ExprKind::Name(base_name) = &base.kind {
                    if self.lookup_value(flow, &base_name.name).is_none() {
                        self.name_ty(flow, base_name);
                        return Ty::Error;
                    }
                }
                let base_ty = self.expr(flow, base, None);
                let written = one_line(&self.source_text(flow.file, base.span));
                let ty = self.field_ty(flow, &base_ty, name, false, &written);
                if let Ty::EnumType(id) = base_ty {
                    if ty != Ty::Error {
                        return Ty::Named(id);
                    }
                }
                // A field or output checked against `none` here is read as its value.
                match self.place(flow, expr) {
                    Some(place) if ty != Ty::Error => {
                        self.narrowed_place(flow, &place).unwrap_or(ty)
                    }
                    _ => ty,
                }
            }
            ExprKind::List(items) => {
                let element_expected = match expected {
                    Some(Ty::List(inner)) => Some((**inner).clone()),
                    _ => None,
                };
                let mut element: Option<Ty> = element_expected.clone();
                for item in items {
                    let ty = self.expr(flow, item, element.as_ref());
                    match &element {
                        Some(expected) => {
                            self.expect_ty(file, item.span, expected, &ty);
                        }
                        None => element = Some(ty),
                    }
                }
                Ty::List(Box::new(element.unwrap_or(Ty::Error)))
            }
            ExprKind::Record(name, fields) => self.record_literal(flow, name, fields),
            ExprKind::Unary(op, inner) => {
                let ty = self.expr(flow, inner, None);
                match (op, &ty) {
                    (_, Ty::Error) => Ty::Error,
                    (UnaryOp::Not, Ty::Bool) => Ty::Bool,
                    (UnaryOp::Neg, Ty::Int | Ty::Duration) => ty,
                    (UnaryOp::Not, _) => {
                        self.expect_ty(file, inner.span, &Ty::Bool, &ty);
                        Ty::Error
                    }
                    (UnaryOp::Neg, _) => {
                        self.expect_ty(file, inner.span, &Ty::Int, &ty);
                        Ty::Error
                    }
                }
            }
            ExprKind::Binary(op, left, right) => self.binary(flow, expr, *op, left, right),
            ExprKind::Await {
                signal,
                within,
                calendar,
            } => {
                let id = self.signal_ref(file, signal);
                if let Some(within) = within {
                    let ty = self.expr(flow, within, Some(&Ty::Duration));
                    self.expect_deadline_duration(file, within, &ty, "`await … within`");
                }
                if let Some(calendar) = calendar {
                    if self.calendar_ref(file, calendar).is_some() {
                        if let Some(within) = within {
                            self.days_of_working_time(file, within, calendar);
                        }
                    }
                }
                let ty = id.map_or(Ty::Error, Ty::Named);
                if within.is_some() && ty != Ty::Error {
                    Ty::Optional(Box::new(ty))
                } else {
                    ty
                }
            }
            ExprKind::Call(callee, args) => self.call(flow, expr, callee, args),
        }
    }

    fn literal(&mut self, flow: &Flow, lit: &Literal) -> Ty {
        let file = flow.file;
        let result = match &lit.kind {
            LiteralKind::Int(text) => literal::int_value(text).map(|_| Ty::Int),
            LiteralKind::Duration(text) => literal::duration_seconds(text).map(|_| Ty::Duration),
            LiteralKind::Date(text) => literal::date_days(text).map(|_| Ty::Date),
            LiteralKind::DateTime(text) => literal::instant_seconds(text).map(|_| Ty::Time),
            LiteralKind::Clock(text) => {
                return match literal::clock_minutes(text) {
                    Ok(_) => {
                        self.emit(
                            Diagnostic::new(Code::TypeMismatch, at(file, lit.span), "a clock time is only allowed in calendars and schedules")
                                .with_label("clock time")
                                .with_help("for a point in time, write a full time such as `2026-03-02T09:00Z`"),
                        );
                        Ty::Error
                    }
                    Err(message) => {
                        self.literal_error(file, lit.span, message);
                        Ty::Error
                    }
                };
            }
            LiteralKind::Text(parts) => {
                self.text_parts(flow, parts);
                Ok(Ty::Text)
            }
            LiteralKind::Bool(_) => Ok(Ty::Bool),
            LiteralKind::None => Ok(Ty::None),
        };
        match result {
            Ok(ty) => ty,
            Err(message) => {
                self.literal_error(file, lit.span, message);
                Ty::Error
            }
        }
    }

    fn record_literal(&mut self, flow: &mut Flow, name: &Ident, fields: &[FieldInit]) -> Ty {
        let file = flow.file;
        let Some(id) = self.resolve_kind(
            file,
            name,
            &[DefKind::Record, DefKind::Signal],
            "record",
            Code::UnknownName,
        ) else {
            for field in fields {
                self.expr(flow, &field.value, None);
            }
            return Ty::Error;
        };
        self.record_fields(flow, id, name, fields, true);
        Ty::Named(id)
    }

    /// Checks `{ field: value }` against a record's or signal's fields (or a step's outputs).
    fn record_fields(
        &mut self,
        flow: &mut Flow,
        owner: DefId,
        name: &Ident,
        fields: &[FieldInit],
        require_all: bool,
    ) {
        let file = flow.file;
        let members: Vec<DefId> = self.out.members.get(&owner).cloned().unwrap_or_default();
        let mut given: HashSet<String> = HashSet::default();
        for field in fields {
            match members
                .iter()
                .find(|&&m| self.def_name(m) == field.name.name)
            {
                Some(&member) => {
                    self.reference(file, field.name.span, member);
                    let expected = self.def(member).map(|d| d.ty.clone()).unwrap_or(Ty::Error);
                    let ty = self.expr(flow, &field.value, Some(&expected));
                    self.expect_ty(file, field.value.span, &expected, &ty);
                    if !given.insert(field.name.name.clone()) {
                        self.emit(
                            Diagnostic::new(
                                Code::DuplicateDefinition,
                                at(file, field.name.span),
                                format!("field `{}` is given twice", field.name.name),
                            )
                            .with_label("given again"),
                        );
                    }
                }
                None => {
                    self.expr(flow, &field.value, None);
                    let candidates: Vec<String> =
                        members.iter().map(|&m| self.def_name(m)).collect();
                    let mut diagnostic = Diagnostic::new(
                        Code::UnknownField,
                        at(file, field.name.span),
                        format!("`{}` has no field `{}`", name.name, field.name.name),
                    )
                    .with_label("unknown field");
                    if let Some(best) =
                        suggest::closest(&field.name.name, candidates.iter().map(String::as_str))
                    {
                        diagnostic = diagnostic
                            .with_help(format!("did you mean `{best}`?"))
                            .with_suggestion(
                                at(file, field.name.span),
                                best,
                                format!("use `{best}`"),
                            );
                    }
                    self.emit(diagnostic);
                }
            }
        }
        let missing: Vec<String> = members
            .iter()
            .filter(|&&m| {
                let def = self.def(m);
                def.is_some_and(|d| {
                    !given.contains(&d.name) && !matches!(d.ty, Ty::Optional(_) | Ty::Error)
                })
            })
            .map(|&m| self.def_name(m))
            .collect();
        if require_all && !missing.is_empty() {
            self.emit(
                Diagnostic::new(
                    Code::UnknownField,
                    at(file, name.span),
                    format!("`{}` is missing {}", name.name, backticked(&missing)),
                )
                .with_label("missing fields")
                .with_help("give every field that is not optional (`T?`)"),
            );
        }
    }

    fn binary(
        &mut self,
        flow: &mut Flow,
        expr: &Expr,
        op: BinaryOp,
        left: &Expr,
        right: &Expr,
    ) -> Ty {
        let file = flow.file;
        let l = self.expr(flow, left, None);
        // `x != none and x > 3`, `x == none or x > 3`, `s.done and s.output`: the right side is read only where
        // the left side allows.
        let (known, done, live) = match op {
            BinaryOp::And => {
                let facts = self.facts(flow, left);
                (facts.when_true, facts.done_when_true, facts.live_when_true)
            }
            BinaryOp::Or => {
                let facts = self.facts(flow, left);
                (
                    facts.when_false,
                    facts.done_when_false,
                    facts.live_when_false,
                )
            }
            _ => (Vec::new(), Vec::new(), Vec::new()),
        };
        let mark = flow.narrowed.len();
        let known_done = flow.known_done.len();
        let known_live = flow.known_live.len();
        flow.narrowed.extend(known);
        flow.known_done.extend(done);
        flow.known_live.extend(live);
        let r = self.expr(flow, right, None);
        flow.narrowed.truncate(mark);
        flow.known_done.truncate(known_done);
        flow.known_live.truncate(known_live);
        if l == Ty::Error || r == Ty::Error {
            return match op {
                BinaryOp::And
                | BinaryOp::Or
                | BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq => Ty::Bool,
                _ => Ty::Error,
            };
        }
        use BinaryOp::*;
        let result = match (op, &l, &r) {
            (And | Or, Ty::Bool, Ty::Bool) => Some(Ty::Bool),
            (Eq | NotEq, a, b) if self.compatible(a, b) || self.compatible(b, a) => Some(Ty::Bool),
            (Lt | LtEq | Gt | GtEq, a, b)
                if a == b && matches!(a, Ty::Int | Ty::Duration | Ty::Time | Ty::Date) =>
            {
                Some(Ty::Bool)
            }
            (Lt | LtEq | Gt | GtEq, Ty::Time | Ty::Date, Ty::Time | Ty::Date) => Some(Ty::Bool),
            (Add, Ty::Int, Ty::Int)
            | (Sub, Ty::Int, Ty::Int)
            | (Mul, Ty::Int, Ty::Int)
            | (Div, Ty::Int, Ty::Int)
            | (Rem, Ty::Int, Ty::Int) => Some(Ty::Int),
            (Add | Sub, Ty::Duration, Ty::Duration) => Some(Ty::Duration),
            // Whole days moved on a date give a date: `due c.deadline + 1d` is the end of the next day.
            (Add | Sub, Ty::Date, Ty::Duration) if whole_days(right).is_some() => Some(Ty::Date),
            (Add | Sub, Ty::Time | Ty::Date, Ty::Duration) => Some(Ty::Time),
            (Add, Ty::Duration, Ty::Time | Ty::Date) => Some(Ty::Time),
            (Sub, Ty::Time | Ty::Date, Ty::Time | Ty::Date) => Some(Ty::Duration),
            (Mul, Ty::Duration, Ty::Int)
            | (Mul, Ty::Int, Ty::Duration)
            | (Div, Ty::Duration, Ty::Int) => Some(Ty::Duration),
            (Add, Ty::Text, Ty::Text) => Some(Ty::Text),
            (Coalesce, Ty::Optional(inner), other) => {
                if self.compatible(inner, other) {
                    Some((**inner).clone())
                } else {
                    self.expect_ty(file, right.span, inner, other);
                    return (**inner).clone();
                }
            }
            (Coalesce, Ty::None, other) => Some(other.clone()),
            // An optional local known to hold a value here is read as its value: a default given for it anyway
            // (written before the check made it certain) is accepted and never used, and a check against `none`
            // again is accepted (it is never `none`).
            (Coalesce, known, other)
                if self.is_narrowed(flow, left) && self.compatible(known, other) =>
            {
                Some(known.clone())
            }
            (Eq | NotEq, _, Ty::None) if self.is_narrowed(flow, left) => Some(Ty::Bool),
            (Eq | NotEq, Ty::None, _) if self.is_narrowed(flow, right) => Some(Ty::Bool),
            _ => None,
        };
        match result {
            Some(ty) => ty,
            None => {
                let (l_name, r_name) = (self.ty_name(&l), self.ty_name(&r));
                // `a ?? b` where `a` is never empty: the left side is the mistake, whatever `b` is.
                let headline = if op == Coalesce && !matches!(l, Ty::Optional(_) | Ty::None) {
                    format!(
                        "`??` needs an optional value on its left, and this is `{l_name}`, which is never empty"
                    )
                } else {
                    format!("`{}` cannot combine `{l_name}` and `{r_name}`", op.symbol())
                };
                let mut diagnostic =
                    Diagnostic::new(Code::TypeMismatch, at(file, expr.span), headline)
                        .with_label(format!("`{l_name}` {} `{r_name}`", op.symbol()))
                        .with_secondary(at(file, left.span), format!("this is `{l_name}`"))
                        .with_secondary(at(file, right.span), format!("this is `{r_name}`"));
                if op == Coalesce {
                    diagnostic = diagnostic.with_help(
                        "`??` gives a default for an optional (`T?`) value; to choose between two values by a \
                         condition, use `if` with a procedure that returns the one it picks",
                    );
                } else if let (Ty::Optional(_), _) | (_, Ty::Optional(_)) = (&l, &r) {
                    diagnostic = diagnostic.with_help(
                        "an optional value may be empty: give a default with `?? value`",
                    );
                } else if matches!(op, And | Or) && (l == Ty::Bool || r == Ty::Bool) {
                    // `c.channel == "email" or "chat"`
                    diagnostic = diagnostic.with_help(format!(
                        "each side of `{}` is a condition: repeat the comparison, e.g. `a == x {} a == y`",
                        op.symbol(),
                        op.symbol()
                    ));
                } else if let Some((enum_id, variant)) = self.text_for_variant(&l, &r, left, right)
                {
                    // `c.channel == "email"`: the enum's value, not a text.
                    let written = format!("{}.{variant}", self.def_name(enum_id));
                    let text_span = if matches!(r, Ty::Text) {
                        right.span
                    } else {
                        left.span
                    };
                    diagnostic = diagnostic
                        .with_help(format!("compare with the enum's value: `{written}`"))
                        .with_suggestion(
                            at(file, text_span),
                            written.clone(),
                            format!("use `{written}`"),
                        );
                }
                self.emit(diagnostic);
                match op {
                    And | Or | Eq | NotEq | Lt | LtEq | Gt | GtEq => Ty::Bool,
                    _ => Ty::Error,
                }
            }
        }
    }

    fn call(&mut self, flow: &mut Flow, expr: &Expr, callee: &Expr, args: &[Expr]) -> Ty {
        let file = flow.file;
        let ExprKind::Name(name) = &callee.kind else {
            let ty = self.expr(flow, callee, None);
            for arg in args {
                self.expr(flow, arg, None);
            }
            if ty != Ty::Error {
                self.emit(
                    Diagnostic::new(
                        Code::WrongKind,
                        at(file, callee.span),
                        "only procedures and actions can be called",
                    )
                    .with_label("not callable"),
                );
            }
            return Ty::Error;
        };
        let Some(id) = self.lookup_global(file, &name.name) else {
            for arg in args {
                self.expr(flow, arg, None);
            }
            let candidates =
                self.global_names(file, |k| matches!(k, DefKind::Procedure | DefKind::Action));
            self.unknown(
                Code::UnknownName,
                file,
                name,
                "procedure or action",
                &candidates,
            );
            return Ty::Error;
        };
        self.reference(file, name.span, id);
        let kind = self.def_kind(id);
        if !matches!(kind, Some(DefKind::Procedure | DefKind::Action)) {
            for arg in args {
                self.expr(flow, arg, None);
            }
            let word = kind.map_or("name", DefKind::word);
            let mut diagnostic = Diagnostic::new(
                Code::WrongKind,
                at(file, name.span),
                format!("`{}` is a {word}, not a procedure or action", name.name),
            )
            .with_label("cannot be called");
            if kind == Some(DefKind::Process) {
                diagnostic = diagnostic.with_help("processes are started by the host or by a `schedule`; move the shared part into a procedure");
            }
            self.emit(diagnostic);
            return Ty::Error;
        }
        if kind == Some(DefKind::Procedure) {
            self.calls
                .entry(flow.flow)
                .or_default()
                .push((id, at(file, name.span)));
        }
        let signature = self.signatures.get(&id).cloned().unwrap_or_default();
        if args.len() != signature.params.len() {
            for arg in args {
                self.expr(flow, arg, None);
            }
            let expected: Vec<String> = signature
                .params
                .iter()
                .map(|(n, t)| format!("{n}: {}", self.ty_name(t)))
                .collect();
            self.emit(
                Diagnostic::new(
                    Code::WrongArguments,
                    at(file, expr.span),
                    format!(
                        "`{}` takes {} argument{}, but {} {} given",
                        name.name,
                        signature.params.len(),
                        if signature.params.len() == 1 { "" } else { "s" },
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                )
                .with_label("wrong number of arguments")
                .with_help(format!(
                    "call it as `{}({})`",
                    name.name,
                    expected.join(", ")
                )),
            );
            return signature.result;
        }
        for (arg, (param, expected)) in args.iter().zip(&signature.params) {
            let ty = self.expr(flow, arg, Some(expected));
            if !self.compatible(expected, &ty) {
                let (expected_name, actual_name) = (self.ty_name(expected), self.ty_name(&ty));
                let mut diagnostic = Diagnostic::new(
                    Code::WrongArguments,
                    at(file, arg.span),
                    format!("argument `{param}` of `{}` must be `{expected_name}`, found `{actual_name}`", name.name),
                )
                .with_label(format!("this is `{actual_name}`"));
                // `"Agent"` for the role `Agent`: the role itself is meant (and counts as used).
                let role = match (&arg.kind, expected) {
                    (ExprKind::Literal(lit), Ty::Role) => text_of(lit)
                        .and_then(|text| self.lookup_global(file, &text).map(|id| (text, id)))
                        .filter(|(_, id)| self.def_kind(*id) == Some(DefKind::Role)),
                    _ => None,
                };
                if let Some((text, id)) = role {
                    self.used.insert(id);
                    diagnostic = diagnostic
                        .with_help(format!(
                            "a role is written as its name, without quotes: `{text}`"
                        ))
                        .with_suggestion(
                            at(file, arg.span),
                            text.clone(),
                            format!("write `{text}`"),
                        );
                }
                self.emit(diagnostic);
            }
        }
        signature.result
    }

    // -----------------------------------------------------------------------------------------------------------
    // KPIs

    fn check_kpi(&mut self, file: FileId, id: DefId, decl: &KpiDecl) {
        let mut processes = Vec::new();
        for name in &decl.processes {
            if let Some(process) = self.resolve_kind(
                file,
                name,
                &[DefKind::Process],
                "process",
                Code::UnknownName,
            ) {
                processes.push(process);
            }
        }
        let explicit = !decl.processes.is_empty();
        let mut measure = None;
        let mut target = None;
        let mut broken = false;
        for clause in &decl.clauses {
            match clause {
                KpiClause::Measure(m, span) => {
                    if measure.is_some() {
                        self.invalid_kpi(
                            file,
                            *span,
                            "a KPI has one `measure` clause".to_string(),
                            "declare a second KPI for the other measure",
                        );
                    } else {
                        measure = Some(m);
                    }
                }
                KpiClause::Target(t) => {
                    if target.is_some() {
                        self.invalid_kpi(
                            file,
                            t.span,
                            "a KPI has at most one `target`".to_string(),
                            "keep the target the team has agreed on",
                        );
                    } else {
                        target = Some(t);
                    }
                }
                KpiClause::Error(_) => broken = true,
            }
        }
        let for_text = if explicit {
            let names: Vec<&str> = decl.processes.iter().map(|p| p.name.as_str()).collect();
            format!(" for {}", names.join(", "))
        } else {
            String::new()
        };
        self.set_signature(id, format!("kpi {}{for_text}", decl.name.name));
        let Some(measure) = measure else {
            if !broken {
                self.invalid_kpi(
                    file,
                    decl.name.span,
                    format!("KPI `{}` has no `measure` clause", decl.name.name),
                    "add one, e.g. `measure time from start to end`",
                );
            }
            return;
        };
        let is_time = match measure {
            Measure::Time { from, to, calendar } => {
                self.kpi_point(file, from, &processes, explicit);
                self.kpi_point(file, to, &processes, explicit);
                let never = match (from, to) {
                    (MeasurePoint::End(span), _) => Some((
                        *span,
                        "nothing happens after a case ends, so a time from its end is never known",
                        "measure up to the end instead: `measure time from start to end`",
                    )),
                    (_, MeasurePoint::Start(span)) => Some((
                        *span,
                        "a case starts before anything else happens in it, so a time to its start is never known",
                        "measure from the start instead: `measure time from start to …`",
                    )),
                    (MeasurePoint::Step(a), MeasurePoint::Step(b)) if a.name == b.name => Some((
                        a.span.to(b.span),
                        "a time from a moment to the same moment is always 0",
                        "measure from one step to a later one",
                    )),
                    _ => None,
                };
                if let Some((span, message, help)) = never {
                    self.invalid_kpi(file, span, message.to_string(), help);
                }
                if let Some(calendar) = calendar {
                    self.calendar_ref(file, calendar);
                }
                true
            }
            Measure::Count { what, step } => {
                if !matches!(what.name.as_str(), "breaches" | "escalations") {
                    self.invalid_kpi(
                        file,
                        what.span,
                        format!("`count {}` is not something the runtime counts", what.name),
                        "count `breaches` (missed deadlines) or `escalations`",
                    );
                }
                if let Some(step) = step {
                    self.kpi_step(file, step, &processes, explicit);
                }
                false
            }
            Measure::Value(path) => {
                self.kpi_value(file, path, &processes, explicit);
                false
            }
        };
        if let Some(target) = target {
            let fits = match &target.value.kind {
                LiteralKind::Duration(_) => is_time && !target.negative,
                LiteralKind::Int(_) => !is_time,
                _ => false,
            };
            if !fits {
                let (message, help) = if is_time {
                    (
                        "this KPI measures a time, so its target is a duration",
                        "write it with a unit, e.g. `target < 4h`",
                    )
                } else {
                    (
                        "this KPI measures a number, so its target is a whole number",
                        "e.g. `target == 0` or `target >= 4`",
                    )
                };
                self.invalid_kpi(file, target.value.span, message.to_string(), help);
            } else if crate::kpi::target_value(target).is_none() {
                self.literal_error(
                    file,
                    target.value.span,
                    "this value is out of range".to_string(),
                );
            } else if let Measure::Time {
                calendar: Some(calendar),
                ..
            } = measure
            {
                // `target <= 5d` of working time is 120 working hours, not five working days.
                let value = Expr {
                    kind: ExprKind::Literal(target.value.clone()),
                    span: target.value.span,
                };
                self.days_of_working_time_literal(file, &value, calendar);
            }
        }
        if let Some(words) = crate::kpi::words(decl) {
            if let Some(def) = self.out.defs.get_mut(id.0 as usize) {
                def.meaning = Some(words);
            }
        }
        let measured = if explicit {
            processes
        } else {
            // Every process of the package that can see the KPI: in its module, or importing it.
            let name = decl.name.name.clone();
            (0..self.out.defs.len())
                .map(|i| DefId(u32::try_from(i).unwrap_or(u32::MAX)))
                .filter(|&p| {
                    self.def(p).is_some_and(|d| {
                        d.kind == DefKind::Process
                            && self.files.get(d.file.0 as usize).is_some_and(|f| !f.is_std)
                            && self.lookup_global(d.file, &name) == Some(id)
                    })
                })
                .collect()
        };
        self.out.kpi_processes.insert(id, measured);
    }

    /// Two KPIs of one name measuring one process (one of them imported, say `first_response` from `std.kpi`): their
    /// results, summaries and `expect kpi` lines could not be told apart.
    fn check_kpi_names(&mut self) {
        let mut kpis: Vec<(&DefId, &Vec<DefId>)> = self.out.kpi_processes.iter().collect();
        kpis.sort_by_key(|(id, _)| **id);
        let mut clashes = Vec::new();
        for (i, &(&first, first_measures)) in kpis.iter().enumerate() {
            for &(&second, second_measures) in kpis.iter().skip(i + 1) {
                let Some(process) = first_measures
                    .iter()
                    .find(|p| second_measures.contains(p))
                    .copied()
                else {
                    continue;
                };
                if self.def_name(first) != self.def_name(second) {
                    continue;
                }
                // Reported where it can be fixed: at the package's own declaration.
                let in_std = |id: DefId| {
                    self.def(id)
                        .and_then(|d| self.files.get(d.file.0 as usize))
                        .is_none_or(|f| f.is_std)
                };
                let (here, other) = if in_std(second) {
                    (first, second)
                } else {
                    (second, first)
                };
                if !in_std(here) {
                    clashes.push((here, other, process));
                }
            }
        }
        for (here, other, process) in clashes {
            let (Some(def), Some(other_def)) = (self.def(here), self.def(other)) else {
                continue;
            };
            let (file, span, name) = (def.file, def.name_span, def.name.clone());
            let other_at = at(other_def.file, other_def.name_span);
            let module = self
                .file(other_def.file)
                .map(|f| f.source.module.clone())
                .unwrap_or_default();
            let process = self.def_name(process);
            self.emit(
                Diagnostic::new(
                    Code::DuplicateDefinition,
                    at(file, span),
                    format!("two KPIs named `{name}` measure process `{process}`"),
                )
                .with_label("declared again here")
                .with_secondary(other_at, format!("the other, in `{module}`"))
                .with_help(format!(
                    "results, summaries and `expect kpi` name KPIs by name: rename this one, or leave the other out \
                     of what `{process}`'s module imports"
                )),
            );
        }
    }

    fn invalid_kpi(&mut self, file: FileId, span: Span, message: String, help: &str) {
        self.emit(
            Diagnostic::new(Code::InvalidKpi, at(file, span), message)
                .with_label("cannot be measured")
                .with_help(help.to_string()),
        );
    }

    fn kpi_point(
        &mut self,
        file: FileId,
        point: &MeasurePoint,
        processes: &[DefId],
        explicit: bool,
    ) {
        match point {
            MeasurePoint::Start(_) | MeasurePoint::End(_) => {}
            MeasurePoint::FirstCompletion { role, .. } => {
                if let Some(role) = role {
                    self.role_ref(file, role, Code::UnknownName);
                }
            }
            MeasurePoint::Step(step) => {
                self.kpi_step(file, step, processes, explicit);
            }
        }
    }

    /// Resolves a step named by a KPI: every measured process must reach it.
    fn kpi_step(
        &mut self,
        file: FileId,
        step: &Ident,
        processes: &[DefId],
        explicit: bool,
    ) -> Option<DefId> {
        if !explicit {
            self.invalid_kpi(
                file,
                step.span,
                format!(
                    "a KPI without `for` measures every process that can see it, so it cannot name the step `{}`",
                    step.name
                ),
                "name the processes it measures: `kpi name for process_name { ... }`",
            );
            return None;
        }
        let mut found = None;
        for &process in processes {
            let steps = self.reachable_steps(process);
            match steps.iter().find(|&&s| self.def_name(s) == step.name) {
                Some(&s) => {
                    found.get_or_insert(s);
                }
                None => {
                    let names: Vec<String> = steps.iter().map(|&s| self.def_name(s)).collect();
                    let diagnostic = Diagnostic::new(
                        Code::InvalidKpi,
                        at(file, step.span),
                        format!(
                            "process `{}` has no step `{}`",
                            self.def_name(process),
                            step.name
                        ),
                    )
                    .with_label("unknown step");
                    let diagnostic = did_you_mean(diagnostic, file, step, &names, |d| {
                        d.with_help(
                            "a KPI can name the steps of the processes it measures and of the procedures they call",
                        )
                    });
                    self.emit(diagnostic);
                    return None;
                }
            }
        }
        if let Some(s) = found {
            self.reference(file, step.span, s);
        }
        found
    }

    /// Resolves `value step.output.field` or `value Signal.field`: it must lead to an `Int`.
    fn kpi_value(&mut self, file: FileId, path: &[Ident], processes: &[DefId], explicit: bool) {
        let Some((head, rest)) = path.split_first() else {
            return;
        };
        let signal = self
            .lookup_global(file, &head.name)
            .filter(|&id| self.def_kind(id) == Some(DefKind::Signal));
        let mut ty = match signal {
            Some(signal) => {
                self.reference(file, head.span, signal);
                Ty::Named(signal)
            }
            // A signal of another module (`std.survey`'s `SurveyAnswered`) that the file does not import.
            None if head.name.starts_with(char::is_uppercase)
                && self
                    .declared_elsewhere(file, &head.name, &[DefKind::Signal])
                    .is_some() =>
            {
                self.unknown(Code::UnknownName, file, head, "signal", &[]);
                return;
            }
            None => match self.kpi_step(file, head, processes, explicit) {
                Some(step) => Ty::Step(step),
                None => return,
            },
        };
        if rest.is_empty() {
            self.invalid_kpi(
                file,
                head.span,
                format!("`{}` is not a number", head.name),
                "name the output or field that holds the number, e.g. `value rate.score`",
            );
            return;
        }
        for name in rest {
            while let Ty::Optional(inner) = ty {
                ty = *inner;
            }
            let owner = match &ty {
                Ty::Named(id) | Ty::Step(id) => *id,
                Ty::Error => return,
                other => {
                    let text = self.ty_name(other);
                    self.invalid_kpi(
                        file,
                        name.span,
                        format!("`{text}` has no fields, so `.{}` does not exist", name.name),
                        "a KPI value is a path of fields that ends at an `Int`",
                    );
                    return;
                }
            };
            let members = self.out.members.get(&owner).cloned().unwrap_or_default();
            let wanted = if matches!(ty, Ty::Step(_)) {
                DefKind::Output
            } else {
                DefKind::Field
            };
            let members: Vec<DefId> = members
                .into_iter()
                .filter(|&m| self.def_kind(m) == Some(wanted))
                .collect();
            match members.iter().find(|&&m| self.def_name(m) == name.name) {
                Some(&member) => {
                    self.reference(file, name.span, member);
                    ty = self.def(member).map(|d| d.ty.clone()).unwrap_or(Ty::Error);
                }
                None => {
                    let names: Vec<String> = members.iter().map(|&m| self.def_name(m)).collect();
                    let diagnostic = Diagnostic::new(
                        Code::UnknownField,
                        at(file, name.span),
                        format!(
                            "`{}` has no {} `{}`",
                            self.def_name(owner),
                            wanted.word(),
                            name.name
                        ),
                    )
                    .with_label(format!("unknown {}", wanted.word()));
                    self.emit(did_you_mean_or_list(diagnostic, file, name, &names));
                    return;
                }
            }
        }
        // Optional values are allowed (an empty one reports nothing); the message names the type as declared.
        let declared = self.ty_name(&ty);
        while let Ty::Optional(inner) = ty {
            ty = *inner;
        }
        if !matches!(ty, Ty::Int | Ty::IntIn(..) | Ty::Error) {
            let text = declared;
            if let Some(last) = path.last() {
                self.invalid_kpi(
                    file,
                    last.span,
                    format!("a KPI value must be an `Int`, but this is `{text}`"),
                    "measure a score or a count, such as a survey's `score: Int`",
                );
            }
        }
    }

    // -----------------------------------------------------------------------------------------------------------
    // Tests

    fn check_test(&mut self, file: FileId, item: &Item, decl: &TestDecl) -> DefId {
        let name = Ident {
            name: text_of(&decl.name).unwrap_or_default(),
            span: decl.name.span,
        };
        if name.name.trim().is_empty() {
            self.emit(
                Diagnostic::new(
                    Code::InvalidLiteral,
                    at(file, decl.name.span),
                    "a test needs a name",
                )
                .with_label("empty name")
                .with_help("say what it checks: `test \"a late complaint is escalated\" { … }`"),
            );
        }
        if decl.stmts.is_empty() {
            self.emit(
                Diagnostic::new(
                    Code::Misplaced,
                    at(file, decl.name.span),
                    format!(
                        "test `{}` has no statements, so it checks nothing",
                        name.name
                    ),
                )
                .with_label("an empty test")
                .with_help("begin it with `start process_name(input)`, then say what must happen"),
            );
        }
        let test_id = self.define(file, DefKind::Test, &name, item.span, None);
        self.used.insert(test_id);
        let mut flow = Flow {
            file,
            flow: test_id,
            is_process: true,
            locals: Vec::new(),
            steps: HashMap::default(),
            step_order: HashMap::default(),
            branches: HashMap::default(),
            branch_places: HashMap::default(),
            quiet_until: 0,
            block_stack: Vec::new(),
            conditional: HashSet::default(),
            step_conds: HashMap::default(),
            known_done: Vec::new(),
            expiring: HashMap::default(),
            known_live: Vec::new(),
            cancelled: HashSet::default(),
            process_within: None,
            item_steps: HashMap::default(),
            items: Vec::new(),
            branch_stack: Vec::new(),
            reached: 0,
            loops: 0,
            check_branches: Vec::new(),
            step_branches: HashMap::default(),
            narrowed: Vec::new(),
            case_ladders: Vec::new(),
        };
        let mut process: Option<DefId> = None;
        let mut started = false;
        for stmt in &decl.stmts {
            if !started
                && !matches!(
                    stmt.kind,
                    TestStmtKind::Start { .. }
                        | TestStmtKind::Error
                        | TestStmtKind::GivenManager { .. }
                        | TestStmtKind::GivenAction { .. }
                )
            {
                self.emit(
                    Diagnostic::new(
                        Code::Misplaced,
                        at(file, stmt.span),
                        "a test must `start` a process first",
                    )
                    .with_label("nothing is running yet")
                    .with_help("begin the test with `start process_name(input)`"),
                );
                started = true;
            }
            match &stmt.kind {
                TestStmtKind::Error => {}
                TestStmtKind::Start {
                    process: name,
                    args,
                    at: time,
                } => {
                    if started && process.is_some() {
                        self.misplaced(file, stmt.span, "a test starts one process");
                    }
                    started = true;
                    process = self.resolve_kind(
                        file,
                        name,
                        &[DefKind::Process, DefKind::Procedure],
                        "process or procedure",
                        Code::UnknownName,
                    );
                    if let Some(id) = process {
                        // Make the steps of the process and of the procedures it calls visible to the test.
                        for step in self.reachable_steps(id) {
                            let step_name = self.def_name(step);
                            flow.steps.entry(step_name).or_insert(step);
                        }
                        let signature = self.signatures.get(&id).cloned().unwrap_or_default();
                        if args.len() == signature.params.len() {
                            for (arg, (_, expected)) in args.iter().zip(&signature.params) {
                                let ty = self.expr(&mut flow, arg, Some(expected));
                                self.expect_ty(file, arg.span, expected, &ty);
                            }
                        } else {
                            for arg in args {
                                self.expr(&mut flow, arg, None);
                            }
                            self.emit(
                                Diagnostic::new(
                                    Code::WrongArguments,
                                    at(file, name.span),
                                    format!(
                                        "process `{}` takes {} input(s), but {} {} given",
                                        name.name,
                                        signature.params.len(),
                                        args.len(),
                                        if args.len() == 1 { "was" } else { "were" }
                                    ),
                                )
                                .with_label("wrong number of inputs"),
                            );
                        }
                    } else {
                        for arg in args {
                            self.expr(&mut flow, arg, None);
                        }
                    }
                    if let Some(time) = time {
                        self.test_time(&mut flow, time);
                    }
                }
                TestStmtKind::Complete(completion) | TestStmtKind::ExpectRejected(completion) => {
                    // A completion expected to be refused may leave outputs out: that can be why it is refused.
                    let require_all = matches!(stmt.kind, TestStmtKind::Complete(_));
                    let step = self.test_step(&flow, &completion.step, process);
                    self.test_actor(file, &completion.actor);
                    self.test_because(file, completion.because.as_ref());
                    if let Some(step) = step {
                        self.out_of_range_allowed = !require_all;
                        self.record_fields(
                            &mut flow,
                            step,
                            &completion.step,
                            &completion.outputs,
                            require_all,
                        );
                        self.out_of_range_allowed = false;
                    } else {
                        for output in &completion.outputs {
                            self.expr(&mut flow, &output.value, None);
                        }
                    }
                    if let Some(time) = &completion.at {
                        self.test_time(&mut flow, time);
                    }
                }
                TestStmtKind::Manage(manage) | TestStmtKind::ExpectRejectedManage(manage) => {
                    self.test_step(&flow, &manage.step, process);
                    self.test_actor(file, &manage.actor);
                    self.test_because(file, manage.because.as_ref());
                    match (manage.op, &manage.role) {
                        (ManageOp::Reassign, Some(role)) => {
                            self.role_ref(file, role, Code::UnknownName);
                        }
                        (ManageOp::Reassign, None) => self.misplaced(
                            file,
                            manage.step.span,
                            "a `reassign` names the role the task goes to: `reassign STEP to Role by …`",
                        ),
                        (op, Some(role)) => self.misplaced(
                            file,
                            role.span,
                            &format!("`{}` gives the task to no role (only `reassign` does)", op.word()),
                        ),
                        (_, None) => {}
                    }
                    match (manage.op, &manage.to) {
                        (ManageOp::Delegate, Some(to)) => self.test_actor(file, to),
                        (ManageOp::Delegate, None) => self.misplaced(
                            file,
                            manage.step.span,
                            "a `delegate` names the colleague: `delegate STEP by \"ann\" as Agent to \"bob\" as Agent`",
                        ),
                        (op, Some(to)) => self.misplaced(
                            file,
                            to.id.span,
                            &format!("`{}` hands the task to nobody (only `delegate` does)", op.word()),
                        ),
                        (_, None) => {}
                    }
                    if let Some(time) = &manage.at {
                        self.test_time(&mut flow, time);
                    }
                }
                TestStmtKind::Signal {
                    signal,
                    payload,
                    at,
                } => {
                    if let Some(id) = self.signal_ref(file, signal) {
                        self.record_fields(&mut flow, id, signal, payload, true);
                    }
                    if let Some(time) = at {
                        self.test_time(&mut flow, time);
                    }
                }
                TestStmtKind::AdvanceBy(duration) => {
                    let ty = self.expr(&mut flow, duration, Some(&Ty::Duration));
                    self.expect_ty(file, duration.span, &Ty::Duration, &ty);
                }
                TestStmtKind::AdvanceTo(time) => self.test_time(&mut flow, time),
                TestStmtKind::ExpectTask {
                    step, role, due, ..
                } => {
                    self.test_step(&flow, step, process);
                    if let Some(role) = role {
                        self.role_ref(file, role, Code::UnknownName);
                    }
                    if let Some(due) = due {
                        self.test_time(&mut flow, due);
                    }
                }
                TestStmtKind::ExpectNoTask(step) => {
                    self.test_step(&flow, step, process);
                }
                TestStmtKind::ExpectEscalated { step, role, .. } => {
                    self.test_step(&flow, step, process);
                    if let Some(role) = role {
                        self.role_ref(file, role, Code::EscalationToUnknownRole);
                    }
                }
                TestStmtKind::ExpectNotified { role, .. } => {
                    self.role_ref(file, role, Code::UnknownName);
                }
                TestStmtKind::ExpectBreached { step, .. } => {
                    if let Some(step) = step {
                        self.test_step(&flow, step, process);
                    } else if let Some(id) = process.filter(|&id| !self.has_case_deadline(id)) {
                        self.emit(
                            Diagnostic::new(
                                Code::Misplaced,
                                at(file, stmt.span),
                                format!(
                                    "`{}` has no deadline of its own (`within` after its parameters), so the \
                                     whole case is never breached",
                                    self.def_name(id)
                                ),
                            )
                            .with_label("always true, or never")
                            .with_help("name the step whose deadline you mean: `expect breached step_name`"),
                        );
                    }
                }
                TestStmtKind::ExpectFlagged { .. } => {}
                TestStmtKind::ExpectKpi { kpi, value, met } => {
                    let id =
                        self.resolve_kind(file, kpi, &[DefKind::Kpi], "KPI", Code::UnknownName);
                    // What the KPI measures (a time or a number) and whether it has a target.
                    let shape = id.and_then(|id| self.kpi_shape(id));
                    if let Some(value) = value {
                        // A time's value is a duration, a count's or a value's a whole number.
                        let expected = match shape {
                            Some((true, _)) => Ty::Duration,
                            Some((false, _)) => Ty::Int,
                            None => Ty::Error,
                        };
                        let ty = self.expr(&mut flow, value, Some(&expected));
                        if expected != Ty::Error {
                            self.expect_ty(file, value.span, &expected, &ty);
                        }
                    }
                    if let (Some(_), Some((_, false))) = (met, shape) {
                        self.emit(
                            Diagnostic::new(
                                Code::Misplaced,
                                at(file, stmt.span),
                                format!("KPI `{}` has no target, so it neither meets nor misses one", kpi.name),
                            )
                            .with_label("no target to meet")
                            .with_help("give the KPI a `target`, or check its value: `expect kpi name VALUE`"),
                        );
                    }
                }
                TestStmtKind::ExpectRejectedSignal {
                    signal,
                    payload,
                    at,
                    because,
                } => {
                    self.test_because(file, because.as_ref());
                    // A payload expected to be refused may be incomplete or out of range: that can be why.
                    if let Some(id) = self.signal_ref(file, signal) {
                        self.out_of_range_allowed = true;
                        self.record_fields(&mut flow, id, signal, payload, false);
                        self.out_of_range_allowed = false;
                    }
                    if let Some(time) = at {
                        self.test_time(&mut flow, time);
                    }
                }
                TestStmtKind::ExpectCompleted(value) => {
                    if let Some(value) = value {
                        let expected = match process
                            .and_then(|p| self.signatures.get(&p))
                            .map(|s| s.result.clone())
                        {
                            // A process without a result completes with a reason (`complete "answered"`).
                            Some(Ty::Unit) => Ty::Text,
                            Some(result) => result,
                            None => Ty::Error,
                        };
                        let ty = self.expr(&mut flow, value, Some(&expected));
                        self.expect_ty(file, value.span, &expected, &ty);
                    }
                }
                TestStmtKind::ExpectFailed => {}
                TestStmtKind::GivenManager { .. } => {}
                TestStmtKind::GivenAction { action, value } => {
                    let id = self.resolve_kind(
                        file,
                        action,
                        &[DefKind::Action],
                        "action",
                        Code::UnknownName,
                    );
                    let expected = id
                        .and_then(|a| self.signatures.get(&a))
                        .map(|s| s.result.clone())
                        .unwrap_or(Ty::Error);
                    let ty = self.expr(&mut flow, value, Some(&expected));
                    if expected != Ty::Unit {
                        self.expect_ty(file, value.span, &expected, &ty);
                    }
                }
            }
        }
        // Only `given` statements: nothing runs, so nothing is checked.
        let broken = decl
            .stmts
            .iter()
            .any(|s| matches!(s.kind, TestStmtKind::Error));
        if !started && !broken && !decl.stmts.is_empty() {
            self.emit(
                Diagnostic::new(
                    Code::Misplaced,
                    at(file, decl.name.span),
                    format!("test `{}` never starts a process, so it checks nothing", name.name),
                )
                .with_label("nothing runs")
                .with_help("after the `given` statements, `start process_name(input)`, then say what must happen"),
            );
        }
        test_id
    }

    /// `on breach { … }` at the top of a process's body: the ladder of the whole case's deadline. The process
    /// needs a `within`; the ladder may notify and flag (a case has no performer to reassign, and a late case is
    /// not cancelled by itself); one per process.
    fn case_ladder(&mut self, flow: &mut Flow, decl: &FlowDecl, is_process: bool) {
        let file = flow.file;
        let mut words = None;
        for stmt in &decl.body.stmts {
            let StmtKind::OnBreach(stages) = &stmt.kind else {
                continue;
            };
            if !is_process || decl.within.is_none() || words.is_some() {
                let message = if !is_process {
                    "a procedure has no deadline of its own: `on breach` goes in a step"
                } else if decl.within.is_none() {
                    "`on breach` follows the whole case's deadline, and this process has none"
                } else {
                    "a process has one `on breach` for the whole case"
                };
                self.emit(
                    Diagnostic::new(Code::Misplaced, at(file, stmt.span), message)
                        .with_label("no deadline to follow")
                        .with_help("give the process a deadline (`process p() within 5d`), or put the ladder in a step"),
                );
                flow.case_ladders.push(stmt.span);
                continue;
            }
            flow.case_ladders.push(stmt.span);
            for stage in stages {
                if stage.before.is_some() {
                    self.emit(
                        Diagnostic::new(
                            Code::Misplaced,
                            at(file, stage.span),
                            "warnings before the whole case's deadline are not supported yet",
                        )
                        .with_label("before the case's deadline")
                        .with_help("warn in the ladder of a step (`before 1h notify …`), or act at or after the breach"),
                    );
                    continue;
                }
                if matches!(
                    stage.action,
                    EscalationAction::Reassign(_) | EscalationAction::Cancel
                ) {
                    self.emit(
                        Diagnostic::new(
                            Code::Misplaced,
                            at(file, stage.span),
                            "the whole case's ladder may `notify` and `flag`; reassigning and cancelling are for a \
                             step's ladder",
                        )
                        .with_label("not for a case")
                        .with_help("reassign or cancel in the ladder of the step that is late"),
                    );
                }
            }
            words = Some(self.ladder(flow, stages));
        }
        if let (Some(words), Some(def)) = (words, self.out.defs.get_mut(flow.flow.0 as usize)) {
            def.meaning = Some(format!("on breach: {}", words.join(", then ")));
        }
    }

    /// A KPI's shape: whether it measures a time (else a number), and whether it has a target.
    fn kpi_shape(&self, kpi: DefId) -> Option<(bool, bool)> {
        let def = self.def(kpi)?;
        let input = self.file(def.file)?;
        input.ast.items.iter().find_map(|item| match &item.kind {
            ItemKind::Kpi(decl) if decl.name.span == def.name_span => Some((
                matches!(crate::kpi::measure(decl), Some(Measure::Time { .. })),
                crate::kpi::target(decl).is_some(),
            )),
            _ => None,
        })
    }

    /// Whether a process declares a deadline for the whole case (`process p() within 5d`).
    fn has_case_deadline(&self, process: DefId) -> bool {
        let Some(def) = self.def(process) else {
            return true;
        };
        let Some(input) = self.file(def.file) else {
            return true;
        };
        input.ast.items.iter().any(|item| match &item.kind {
            ItemKind::Process(decl) => decl.name.span == def.name_span && decl.within.is_some(),
            _ => false,
        })
    }

    fn test_time(&mut self, flow: &mut Flow, time: &Expr) {
        let ty = self.expr(flow, time, Some(&Ty::Time));
        self.expect_ty(flow.file, time.span, &Ty::Time, &ty);
    }

    /// `because "…"` of an `expect rejected`: words to find in the refusal, as written.
    fn test_because(&mut self, file: FileId, because: Option<&Literal>) {
        let Some(because) = because else {
            return;
        };
        let message = match &because.kind {
            LiteralKind::Text(parts) if parts.is_empty() => {
                "a `because` text cannot be empty: it would match every refusal"
            }
            LiteralKind::Text(parts)
                if parts
                    .iter()
                    .any(|p| matches!(p, TextPart::Interpolation(_))) =>
            {
                "a `because` text is looked for as written, so it cannot hold `{…}`"
            }
            _ => return,
        };
        self.emit(
            Diagnostic::new(Code::InvalidLiteral, at(file, because.span), message)
                .with_label("not words of a refusal")
                .with_help(
                    "write words the refusal says, such as `because \"four eyes\"` (`{{` and `}}` are braces)",
                ),
        );
    }

    /// Who acts in a test: their roles exist, and their id is one a host could send.
    fn test_actor(&mut self, file: FileId, actor: &Actor) {
        for role in &actor.roles {
            self.role_ref(file, role, Code::UnknownName);
        }
        // As the runtime refuses them: control characters and marks that turn text around.
        let hidden =
            text_of(&actor.id).is_some_and(|id| id.chars().any(proc_abi::text::is_hidden_char));
        if hidden {
            self.emit(
                Diagnostic::new(
                    Code::InvalidLiteral,
                    at(file, actor.id.span),
                    "a person's id may not hold control characters or marks that change the direction of text",
                )
                .with_label("a hidden character")
                .with_help("write the id the host's directory uses, such as `\"ann\"`"),
            );
        }
        if actor.id.kind == LiteralKind::Text(Vec::new()) {
            self.emit(
                Diagnostic::new(
                    Code::InvalidLiteral,
                    at(file, actor.id.span),
                    "a person's id cannot be empty",
                )
                .with_label("empty id")
                .with_help("write the id the host's directory uses, such as `\"ann\"`"),
            );
        }
    }

    fn test_step(&mut self, flow: &Flow, name: &Ident, process: Option<DefId>) -> Option<DefId> {
        process?;
        match flow.steps.get(&name.name) {
            Some(&id) => {
                self.reference(flow.file, name.span, id);
                Some(id)
            }
            None => {
                let candidates: Vec<String> = flow.steps.keys().cloned().collect();
                self.unknown(Code::UnknownName, flow.file, name, "step", &candidates);
                None
            }
        }
    }

    /// Steps of a flow and of every procedure it calls, transitively.
    fn reachable_steps(&self, flow: DefId) -> Vec<DefId> {
        let mut seen: HashSet<DefId> = HashSet::default();
        let mut pending = vec![flow];
        let mut steps = Vec::new();
        while let Some(current) = pending.pop() {
            if !seen.insert(current) {
                continue;
            }
            for &member in self.out.members.get(&current).into_iter().flatten() {
                if self.def_kind(member) == Some(DefKind::Step) {
                    steps.push(member);
                }
            }
            for (callee, _) in self.calls.get(&current).into_iter().flatten() {
                pending.push(*callee);
            }
        }
        steps
    }

    // -----------------------------------------------------------------------------------------------------------
    // Whole-package checks

    fn check_recursion(&mut self) {
        // Depth-first search for cycles in the procedure call graph; each procedure on a cycle is reported once.
        let mut reported: HashSet<DefId> = HashSet::default();
        let mut procedures: Vec<DefId> = self.calls.keys().copied().collect();
        procedures.sort();
        for start in procedures {
            let mut stack: Vec<(DefId, usize)> = vec![(start, 0)];
            let mut path: Vec<DefId> = vec![start];
            let mut visited: HashSet<DefId> = HashSet::default();
            visited.insert(start);
            while let Some((node, index)) = stack.pop() {
                let callees: Vec<DefId> = self
                    .calls
                    .get(&node)
                    .map(|c| c.iter().map(|(d, _)| *d).collect())
                    .unwrap_or_default();
                match callees.get(index) {
                    Some(&next) => {
                        stack.push((node, index + 1));
                        if next == start {
                            if reported.insert(start) {
                                let cycle: Vec<String> = path
                                    .iter()
                                    .map(|&p| format!("`{}`", self.def_name(p)))
                                    .collect();
                                let name = self.def_name(start);
                                if let Some(def) = self.def(start) {
                                    let site = at(def.file, def.name_span);
                                    self.emit(
                                        Diagnostic::new(
                                            Code::Recursion,
                                            site,
                                            if path.len() == 1 {
                                                format!("procedure `{name}` calls itself")
                                            } else {
                                                format!("procedure `{name}` calls itself through {}", cycle.join(" → "))
                                            },
                                        )
                                        .with_label("part of a cycle of calls")
                                        .with_help("a procedure is a fixed script; use `repeat max N { ... }` to do work again"),
                                    );
                                }
                            }
                        } else if visited.insert(next) {
                            path.push(next);
                            stack.push((next, 0));
                        }
                    }
                    None => {
                        if path.last() == Some(&node) {
                            path.pop();
                        }
                    }
                }
            }
        }
    }

    fn check_unused(&mut self) {
        let mut diagnostics = Vec::new();
        for (index, def) in self.out.defs.iter().enumerate() {
            let id = DefId(u32::try_from(index).unwrap_or(u32::MAX));
            if self.used.contains(&id)
                || self.duplicates.contains(&id)
                || self.files.get(def.file.0 as usize).is_none_or(|f| f.is_std)
            {
                continue;
            }
            // Perhaps used where an import that failed should have brought it in.
            if def.kind != DefKind::Local
                && self
                    .unresolved
                    .iter()
                    .any(|names| names.contains(&def.name) || names.contains("*"))
            {
                continue;
            }
            let (code, word) = match def.kind {
                DefKind::Role => (Code::UnusedRole, "role"),
                DefKind::Procedure => (Code::UnusedProcedure, "procedure"),
                DefKind::Action => (Code::UnusedProcedure, "action"),
                DefKind::Record => (Code::UnusedType, "record"),
                DefKind::Enum => (Code::UnusedType, "enum"),
                DefKind::Signal => (Code::UnusedType, "signal"),
                DefKind::Local => (Code::UnusedVariable, "variable"),
                _ => continue,
            };
            let help = if def.kind == DefKind::Local {
                format!(
                    "use it, or remove the `let` (a call written on its own still runs); to keep the name, call it \
                     `_{}`",
                    def.name
                )
            } else {
                "use it, or remove it if it is no longer needed".to_string()
            };
            let mut diagnostic = Diagnostic::new(
                code,
                at(def.file, def.name_span),
                format!("{word} `{}` is never used", def.name),
            )
            .with_label("unused")
            .with_help(help);
            if def.kind == DefKind::Local {
                let kept = format!("_{}", def.name);
                let message = format!("rename it to `{kept}`");
                diagnostic = diagnostic.with_suggestion(at(def.file, def.name_span), kept, message);
            }
            diagnostics.push(diagnostic);
        }
        self.out.diagnostics.extend(diagnostics);
    }
}

/// Whether a type is (or holds) the type of something that could not be checked.
fn contains_error(ty: &Ty) -> bool {
    match ty {
        Ty::Error => true,
        Ty::Optional(inner) | Ty::List(inner) => contains_error(inner),
        _ => false,
    }
}

fn clause_key(kind: &StepClauseKind) -> Option<&'static str> {
    match kind {
        StepClauseKind::By(_) => Some("by"),
        StepClauseKind::Within { .. } => Some("within"),
        StepClauseKind::After { .. } => Some("after"),
        StepClauseKind::Due(_) => Some("due"),
        StepClauseKind::Expires { .. } => Some("expires after"),
        StepClauseKind::OnBreach(_) => Some("on breach"),
        StepClauseKind::Paused { .. } => Some("paused"),
        StepClauseKind::OnlyDuring(_) => Some("only during"),
        StepClauseKind::Skippable => Some("skippable"),
        StepClauseKind::Error => None,
    }
}

fn item_name(item: &Item) -> Option<&str> {
    Some(match &item.kind {
        ItemKind::Role(name) => &name.name,
        ItemKind::Record(decl) | ItemKind::Signal(decl) => &decl.name.name,
        ItemKind::Enum(decl) => &decl.name.name,
        ItemKind::Action(decl) => &decl.name.name,
        ItemKind::Calendar(decl) => &decl.name.name,
        ItemKind::Procedure(decl) | ItemKind::Process(decl) => &decl.name.name,
        ItemKind::Schedule(decl) => &decl.name.name,
        ItemKind::Kpi(decl) => &decl.name.name,
        ItemKind::Use(_) | ItemKind::Test(_) | ItemKind::Error => return None,
    })
}

/// The value of a whole-number literal, possibly negated or in parentheses.
fn int_literal(expr: &Expr) -> Option<i64> {
    match &expr.kind {
        ExprKind::Literal(Literal {
            kind: LiteralKind::Int(text),
            ..
        }) => literal::int_value(text).ok(),
        ExprKind::Unary(UnaryOp::Neg, inner) => int_literal(inner)?.checked_neg(),
        ExprKind::Paren(inner) => int_literal(inner),
        _ => None,
    }
}

fn text_of(lit: &Literal) -> Option<String> {
    match &lit.kind {
        LiteralKind::Text(parts) => Some(
            parts
                .iter()
                .map(|part| match part {
                    TextPart::Lit(text) => text.clone(),
                    TextPart::Interpolation(path) => {
                        let names: Vec<&str> = path.iter().map(|p| p.name.as_str()).collect();
                        format!("{{{}}}", names.join("."))
                    }
                })
                .collect(),
        ),
        _ => None,
    }
}

/// What a module has, for an import of a name it lacks: the items written in the same style first (capitalised
/// types, roles and calendars; lower-case procedures), at most eight.
fn module_items<'a>(module: &str, wanted: &str, items: impl Iterator<Item = &'a str>) -> String {
    let capital = |text: &str| text.chars().next().is_some_and(char::is_uppercase);
    let mut items: Vec<&str> = items.collect();
    items.sort_by_key(|item| (capital(item) != capital(wanted), *item));
    let total = items.len();
    let shown: Vec<String> = items
        .iter()
        .take(8)
        .map(|item| format!("`{item}`"))
        .collect();
    let more = if total > 8 {
        format!(", and {} more", total - 8)
    } else {
        String::new()
    };
    format!("`{module}` has {}{more}", shown.join(", "))
}

/// `wait 3 days`: a `wait` of a whole number, then a statement that is only a unit word. The duration as Proc
/// writes it (`3d`), and where the word ends.
fn duration_in_words(stmt: &Stmt, next: Option<&Stmt>) -> Option<(String, Span)> {
    let StmtKind::WaitFor(
        Expr {
            kind:
                ExprKind::Literal(Literal {
                    kind: LiteralKind::Int(number),
                    ..
                }),
            ..
        },
        _,
    ) = &stmt.kind
    else {
        return None;
    };
    let next = next?;
    let StmtKind::Expr(Expr {
        kind: ExprKind::Name(word),
        ..
    }) = &next.kind
    else {
        return None;
    };
    let unit = crate::literal::unit_of(&word.name)?;
    Some((format!("{number}{unit}"), next.span))
}

/// The keyword (`parallel`, `first`) of a branching statement, which stands for it in diagnostics and names its
/// branches (with their index) in `Flow::branch_stack` and `Flow::check_branches`.
/// The steps declared in a block, at any depth.
fn steps_in<'a>(block: &'a Block, out: &mut Vec<&'a StepDecl>) {
    for stmt in &block.stmts {
        if let StmtKind::Step(step) = &stmt.kind {
            out.push(step);
        }
        for inner in stmt.blocks() {
            steps_in(inner, out);
        }
    }
}

/// Whether a statement waits for an event: `await S` (also in a `let`), `wait D`, `wait until T`.
fn waits_for_event(stmt: &Stmt) -> bool {
    match &stmt.kind {
        StmtKind::WaitFor(..) | StmtKind::WaitUntil(_) => true,
        StmtKind::Expr(expr) | StmtKind::Let { value: expr, .. } => {
            matches!(expr.kind, ExprKind::Await { .. })
        }
        _ => false,
    }
}

/// Whether a statement can take time: opens a step, waits, calls a procedure or an action (which may), or holds
/// such a statement. `return`, `complete`, `notify`, `let x = …` of a plain value and the like happen at once.
fn takes_time(stmt: &Stmt) -> bool {
    let calls = |expr: &Expr| matches!(expr.kind, ExprKind::Await { .. } | ExprKind::Call(..));
    match &stmt.kind {
        StmtKind::Step(_) | StmtKind::WaitFor(..) | StmtKind::WaitUntil(_) => true,
        StmtKind::Expr(expr) | StmtKind::Let { value: expr, .. } => calls(expr),
        _ => stmt
            .blocks()
            .iter()
            .any(|block| block.stmts.iter().any(takes_time)),
    }
}

/// The blocks of a statement that may not run when the statement does (see `Flow::conditional`).
fn conditional_blocks(stmt: &Stmt) -> Vec<Span> {
    match &stmt.kind {
        StmtKind::If {
            branches,
            otherwise,
        } => branches
            .iter()
            .map(|(_, body)| body.span)
            .chain(otherwise.iter().map(|body| body.span))
            .collect(),
        StmtKind::Match { arms, .. } => arms.iter().map(|arm| arm.body.span).collect(),
        StmtKind::First { branches } => branches.iter().map(|b| b.body.span).collect(),
        StmtKind::Parallel { join, branches } if *join != Join::All => {
            branches.iter().map(|b| b.body.span).collect()
        }
        StmtKind::ForEach { body, .. } => vec![body.span],
        _ => Vec::new(),
    }
}

/// Whether `cancel name`, here, ends the branch the statement is in: `name` is that branch or one around it, or a
/// branch beside one of those in a join that one finished branch satisfies (cancelled branches count as finished,
/// and a satisfied join cancels the rest).
fn cancels_itself(flow: &Flow, name: &str) -> bool {
    let Some(&(keyword, index, one_is_enough)) = flow.branch_places.get(name) else {
        return false;
    };
    flow.check_branches
        .iter()
        .any(|&(around, i)| around == keyword && (i == index || one_is_enough))
}

fn branching_keyword(stmt: &Stmt) -> Span {
    let keyword = if matches!(stmt.kind, StmtKind::First { .. }) {
        "first"
    } else {
        "parallel"
    };
    Span {
        start: stmt.span.start,
        end: stmt
            .span
            .start
            .saturating_add(u32::try_from(keyword.len()).unwrap_or(0))
            .min(stmt.span.end),
    }
}

/// The longest holiday range a calendar line may give (`holiday A to B`): a year and a day.
pub(crate) const MAX_HOLIDAY_RANGE_DAYS: i64 = 366;

/// The identifier-like words of the text the parser skipped in any of the files (see [`File::damaged`]).
fn damaged_words(files: &[FileInput<'_>]) -> HashSet<String> {
    let mut words = HashSet::default();
    for file in files {
        for span in file.ast.damaged() {
            let text = file.source.slice(span);
            for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                if word
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '_')
                {
                    words.insert(word.to_string());
                }
            }
        }
    }
    words
}

/// Whether every path through a block ends the flow (`return`, `complete` or `fail`): at one of its statements, or
/// in every branch of a choice (an `if` with an `else`, a `match`, whose arms cover every case, a `first` or a
/// `parallel`, whichever branch ends first ending the flow). Loops are not counted: their body may not run.
fn ends(block: &Block) -> bool {
    block.stmts.iter().any(|stmt| match &stmt.kind {
        StmtKind::Fail(_) | StmtKind::Complete(_) | StmtKind::Return(_) => true,
        StmtKind::If {
            branches,
            otherwise: Some(otherwise),
        } => branches.iter().all(|(_, body)| ends(body)) && ends(otherwise),
        StmtKind::Match { arms, .. } => !arms.is_empty() && arms.iter().all(|arm| ends(&arm.body)),
        StmtKind::Parallel { branches, .. } | StmtKind::First { branches } => {
            !branches.is_empty() && branches.iter().all(|branch| ends(&branch.body))
        }
        _ => false,
    })
}

/// The value of a constant duration expression, in seconds.
pub fn const_duration(expr: &Expr) -> Option<i64> {
    match &expr.kind {
        ExprKind::Literal(Literal {
            kind: LiteralKind::Duration(text),
            ..
        }) => literal::duration_seconds(text).ok(),
        ExprKind::Paren(inner) => const_duration(inner),
        ExprKind::Unary(UnaryOp::Neg, inner) => const_duration(inner)?.checked_neg(),
        ExprKind::Binary(BinaryOp::Add, a, b) => const_duration(a)?.checked_add(const_duration(b)?),
        ExprKind::Binary(BinaryOp::Sub, a, b) => const_duration(a)?.checked_sub(const_duration(b)?),
        ExprKind::Binary(BinaryOp::Mul, a, b) => match (const_duration(a), const_int(b)) {
            (Some(d), Some(n)) => d.checked_mul(n),
            _ => const_int(a)?.checked_mul(const_duration(b)?),
        },
        _ => None,
    }
}

/// A constant duration of whole days: their number.
pub fn whole_days(expr: &Expr) -> Option<i64> {
    const_duration(expr)
        .filter(|seconds| seconds % 86_400 == 0)
        .map(|seconds| seconds / 86_400)
}

fn const_int(expr: &Expr) -> Option<i64> {
    match &expr.kind {
        ExprKind::Literal(Literal {
            kind: LiteralKind::Int(text),
            ..
        }) => literal::int_value(text).ok(),
        ExprKind::Paren(inner) => const_int(inner),
        ExprKind::Unary(UnaryOp::Neg, inner) => const_int(inner)?.checked_neg(),
        _ => None,
    }
}

fn backticked(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Source text on one line: runs of whitespace (line breaks too) become one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
