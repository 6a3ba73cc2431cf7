//! Lowering: checked syntax trees → the [IR](super::ir).
//!
//! Names are resolved by reading the checker's references and types ([`Analysis::references`],
//! [`Analysis::expr_types`]); nothing is inferred a second time. Constructs the back end cannot compile become
//! `P0036` diagnostics, never panics.

use super::ir::*;
use crate::analysis::Analysis;
use crate::ast::{self, ExprKind, Ident, StmtKind};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, FileSpan};
use crate::literal;
use crate::model::{DefId, DefKind, Ty as MTy};
use crate::source::{FileId, Span};
use proc_abi::performer;
use rustc_hash::FxHashMap as HashMap;

/// How the package's definitions map to ids in the program and its metadata.
#[derive(Clone, Debug, Default)]
pub struct Ids {
    /// Role definitions, by role id.
    pub roles: Vec<DefId>,
    /// Record (and signal) definitions, by record id.
    pub records: Vec<DefId>,
    /// Enum definitions, by enum id.
    pub enums: Vec<DefId>,
    /// Signal definitions, by signal id.
    pub signals: Vec<DefId>,
    /// Action definitions, by action id.
    pub actions: Vec<DefId>,
    /// Calendar definitions, by calendar id.
    pub calendars: Vec<DefId>,
    /// Step definitions, by step id.
    pub steps: Vec<DefId>,
    /// Process definitions, by process id.
    pub processes: Vec<DefId>,
    /// Step ids of each process (the steps it can open, directly or through procedures).
    pub process_steps: Vec<Vec<u32>>,
    index: HashMap<DefId, u32>,
}

impl Ids {
    /// The id of a role, record, enum, signal, action, calendar, step or process definition.
    pub fn of(&self, def: DefId) -> Option<u32> {
        self.index.get(&def).copied()
    }

    fn add(list: &mut Vec<DefId>, index: &mut HashMap<DefId, u32>, def: DefId) -> u32 {
        let id = u32::try_from(list.len()).unwrap_or(u32::MAX);
        list.push(def);
        index.insert(def, id);
        id
    }
}

/// The result of lowering.
pub struct Lowered {
    /// The program.
    pub program: Program,
    /// Definition ids.
    pub ids: Ids,
    /// Diagnostics (`P0036`).
    pub diagnostics: Vec<Diagnostic>,
}

/// The files a build needs: the package's, and every file whose declarations they refer to, transitively.
fn used_files(analysis: &Analysis) -> Vec<bool> {
    let count = analysis.files.len();
    let mut used = vec![false; count];
    let mut by_file: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (site, def) in &analysis.references {
        if let (Some(targets), Some(target)) = (
            by_file.get_mut(site.file.0 as usize),
            analysis.def(*def).map(|d| d.file.0 as usize),
        ) {
            targets.push(target);
        }
    }
    let mut queue: Vec<usize> = (0..analysis.package_files.min(count)).collect();
    for &file in &queue {
        if let Some(slot) = used.get_mut(file) {
            *slot = true;
        }
    }
    while let Some(file) = queue.pop() {
        for &target in by_file.get(file).map_or(&[][..], Vec::as_slice) {
            if let Some(slot) = used.get_mut(target) {
                if !*slot {
                    *slot = true;
                    queue.push(target);
                }
            }
        }
    }
    used
}

/// Lowers the package's processes and the procedures they use.
pub fn lower(analysis: &Analysis) -> Lowered {
    let mut lowering = Lowering::new(analysis);
    lowering.declare();
    lowering.lower_processes();
    Lowered {
        program: lowering.program,
        ids: lowering.ids,
        diagnostics: lowering.diagnostics,
    }
}

struct UnitBuild {
    id: UnitId,
    kind: UnitKind,
    blocks: Vec<(Vec<St>, Option<Term>)>,
    current: usize,
}

impl UnitBuild {
    fn fresh_if_ended(&mut self) {
        if self
            .blocks
            .get(self.current)
            .is_none_or(|(_, term)| term.is_some())
        {
            self.blocks.push((Vec::new(), None));
            self.current = self.blocks.len() - 1;
        }
    }

    fn push(&mut self, st: St) {
        self.fresh_if_ended();
        if let Some((stmts, _)) = self.blocks.get_mut(self.current) {
            stmts.push(st);
        }
    }

    fn term(&mut self, term: Term) {
        self.fresh_if_ended();
        if let Some((_, slot)) = self.blocks.get_mut(self.current) {
            *slot = Some(term);
        }
    }

    fn new_block(&mut self) -> BlockId {
        self.blocks.push((Vec::new(), None));
        to_u32(self.blocks.len() - 1)
    }
}

/// State while lowering one process or procedure.
struct Fx {
    file: FileId,
    flow: DefId,
    flow_name: String,
    /// Slot counts of the flow's scopes (0: the flow's own frame; others: parallel `for each` items).
    scopes: Vec<u32>,
    /// The scopes enclosing the code being lowered, outermost first.
    chain: Vec<usize>,
    homes: HashMap<DefId, (usize, u32)>,
    units: Vec<UnitBuild>,
    unit_scopes: Vec<(UnitId, usize)>,
    branch_units: HashMap<DefId, UnitId>,
    branches: u32,
}

impl Fx {
    fn push(&mut self, st: St) {
        if let Some(unit) = self.units.last_mut() {
            unit.push(st);
        }
    }

    fn term(&mut self, term: Term) {
        if let Some(unit) = self.units.last_mut() {
            unit.term(term);
        }
    }

    fn new_block(&mut self) -> BlockId {
        self.units.last_mut().map_or(0, UnitBuild::new_block)
    }

    fn switch(&mut self, block: BlockId) {
        if let Some(unit) = self.units.last_mut() {
            unit.current = block as usize;
        }
    }

    /// Ends the current block with a jump to `block` (unless it already ended) and continues there.
    fn goto_and_switch(&mut self, block: BlockId) {
        self.goto(block);
        self.switch(block);
    }

    fn goto(&mut self, block: BlockId) {
        let ended = self.units.last().is_none_or(|u| {
            u.blocks
                .get(u.current)
                .is_none_or(|(_, term)| term.is_some())
        });
        if !ended {
            self.term(Term::Goto(block));
        }
    }

    fn unit_id(&self) -> UnitId {
        self.units.last().map_or(0, |u| u.id)
    }

    fn scope(&self) -> usize {
        self.chain.last().copied().unwrap_or(0)
    }

    fn slot_in_scope(&mut self) -> VarRef {
        let scope = self.scope();
        let slot = self.scopes.get(scope).copied().unwrap_or(0);
        if let Some(count) = self.scopes.get_mut(scope) {
            *count += 1;
        }
        VarRef { depth: 0, slot }
    }

    fn define(&mut self, def: DefId) -> VarRef {
        let var = self.slot_in_scope();
        self.homes.insert(def, (self.scope(), var.slot));
        var
    }

    fn temp(&mut self) -> VarRef {
        self.slot_in_scope()
    }

    fn var(&self, def: DefId) -> Option<VarRef> {
        let (scope, slot) = self.homes.get(&def).copied()?;
        let position = self.chain.iter().rposition(|&s| s == scope)?;
        Some(VarRef {
            depth: to_u32(self.chain.len() - 1 - position),
            slot,
        })
    }

    fn root_depth(&self) -> u32 {
        to_u32(self.chain.len().saturating_sub(1))
    }
}

/// The steps a block declares in its own frame, in source order: those in the body of a parallel `for each` are
/// not (see [`Lowering::define_steps`]).
fn frame_steps<'b>(block: &'b ast::Block, out: &mut Vec<&'b ast::StepDecl>) {
    for stmt in &block.stmts {
        match &stmt.kind {
            StmtKind::Step(decl) => out.push(decl),
            StmtKind::ForEach {
                parallel: Some(_), ..
            } => {}
            _ => {
                for body in stmt.blocks() {
                    frame_steps(body, out);
                }
            }
        }
    }
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

struct Lowering<'a> {
    analysis: &'a Analysis,
    refs: HashMap<FileSpan, DefId>,
    by_name_span: HashMap<FileSpan, DefId>,
    items: HashMap<DefId, &'a ast::FlowDecl>,
    program: Program,
    ids: Ids,
    diagnostics: Vec<Diagnostic>,
    procedure_units: HashMap<DefId, UnitId>,
    pending: Vec<DefId>,
    /// Procedures called by each flow.
    calls: HashMap<DefId, Vec<DefId>>,
    /// The whole case's ladder of the process being lowered (`on breach` in its body).
    case_stages: Vec<StageIr>,
}

impl<'a> Lowering<'a> {
    fn new(analysis: &'a Analysis) -> Self {
        let refs = analysis
            .references
            .iter()
            .map(|(at, def)| (*at, *def))
            .collect();
        let by_name_span = analysis
            .defs
            .iter()
            .enumerate()
            .map(|(index, def)| {
                (
                    FileSpan {
                        file: def.file,
                        span: def.name_span,
                    },
                    DefId(to_u32(index)),
                )
            })
            .collect();
        let mut items = HashMap::default();
        for (index, def) in analysis.defs.iter().enumerate() {
            if !matches!(def.kind, DefKind::Procedure | DefKind::Process) {
                continue;
            }
            let Some(parsed) = analysis.parsed.get(def.file.0 as usize) else {
                continue;
            };
            for item in &parsed.ast.items {
                if let ast::ItemKind::Procedure(decl) | ast::ItemKind::Process(decl) = &item.kind {
                    if item.span == def.span && decl.name.span == def.name_span {
                        items.insert(DefId(to_u32(index)), decl);
                    }
                }
            }
        }
        Lowering {
            analysis,
            refs,
            by_name_span,
            items,
            program: Program::default(),
            ids: Ids::default(),
            diagnostics: Vec::new(),
            procedure_units: HashMap::default(),
            pending: Vec::new(),
            calls: HashMap::default(),
            case_stages: Vec::new(),
        }
    }

    fn def(&self, id: DefId) -> Option<&'a crate::model::Definition> {
        self.analysis.defs.get(id.0 as usize)
    }

    fn kind(&self, id: DefId) -> Option<DefKind> {
        self.def(id).map(|d| d.kind)
    }

    fn name(&self, id: DefId) -> String {
        self.def(id).map(|d| d.name.clone()).unwrap_or_default()
    }

    fn members(&self, id: DefId, kind: DefKind) -> Vec<DefId> {
        self.analysis
            .members
            .get(&id)
            .map(|members| {
                members
                    .iter()
                    .copied()
                    .filter(|&m| self.kind(m) == Some(kind))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn ref_at(&self, file: FileId, span: Span) -> Option<DefId> {
        self.refs.get(&FileSpan { file, span }).copied()
    }

    fn def_at(&self, file: FileId, name_span: Span) -> Option<DefId> {
        self.by_name_span
            .get(&FileSpan {
                file,
                span: name_span,
            })
            .copied()
    }

    fn mty(&self, file: FileId, span: Span) -> MTy {
        self.analysis
            .expr_types
            .get(&FileSpan { file, span })
            .cloned()
            .unwrap_or(MTy::Error)
    }

    fn unsupported(&mut self, file: FileId, span: Span, message: String, help: &str) {
        self.diagnostics.push(
            Diagnostic::new(Code::CannotCompile, FileSpan { file, span }, message)
                .with_label("cannot be compiled")
                .with_help(help),
        );
    }

    // ---------------------------------------------------------------------------------------------------------
    // Declarations

    /// Gives ids to roles, types, signals, actions and calendars: the package's, and those of the standard-library
    /// modules it uses (directly or through each other). A module without a `use` of `std` has none of std's
    /// roles, actions or signals, so its metadata says only what the package declares.
    fn declare(&mut self) {
        let used = used_files(self.analysis);
        let defs: Vec<(DefId, DefKind)> = self
            .analysis
            .defs
            .iter()
            .enumerate()
            .filter(|(_, d)| used.get(d.file.0 as usize).copied().unwrap_or(false))
            .map(|(i, d)| (DefId(to_u32(i)), d.kind))
            .collect();
        for &(id, kind) in &defs {
            let ids = &mut self.ids;
            match kind {
                DefKind::Role => {
                    // Roles are identities in the host's directory: modules that declare the same role name
                    // mean the same role.
                    let name = self
                        .analysis
                        .defs
                        .get(id.0 as usize)
                        .map(|d| d.name.as_str());
                    let existing = ids.roles.iter().position(|&r| {
                        self.analysis
                            .defs
                            .get(r.0 as usize)
                            .map(|d| d.name.as_str())
                            == name
                    });
                    match existing {
                        Some(index) => {
                            ids.index.insert(id, to_u32(index));
                        }
                        None => {
                            Ids::add(&mut ids.roles, &mut ids.index, id);
                        }
                    }
                }
                DefKind::Record | DefKind::Signal => {
                    Ids::add(&mut ids.records, &mut ids.index, id);
                }
                DefKind::Enum => {
                    Ids::add(&mut ids.enums, &mut ids.index, id);
                }
                DefKind::Action => {
                    Ids::add(&mut ids.actions, &mut ids.index, id);
                }
                DefKind::Calendar => {
                    Ids::add(&mut ids.calendars, &mut ids.index, id);
                }
                _ => {}
            }
        }
        // Signals get their own numbering too (their payload is the record of the same definition).
        let mut signal_ids = Vec::new();
        for &(id, kind) in &defs {
            if kind == DefKind::Signal {
                signal_ids.push(id);
            }
        }
        self.ids.signals = signal_ids;
        self.program.roles = self.ids.roles.iter().map(|&r| self.name(r)).collect();
        self.program.enums = self
            .ids
            .enums
            .iter()
            .map(|&e| EnumIr {
                name: self.name(e),
                variants: self
                    .members(e, DefKind::Variant)
                    .into_iter()
                    .map(|v| self.name(v))
                    .collect(),
            })
            .collect();
        let records = self.ids.records.clone();
        for record in records {
            let fields = self
                .members(record, DefKind::Field)
                .into_iter()
                .map(|f| {
                    let ty = self.def(f).map(|d| d.ty.clone()).unwrap_or(MTy::Error);
                    (self.name(f), self.ty(&ty))
                })
                .collect();
            self.program.records.push(RecordIr {
                name: self.name(record),
                fields,
            });
        }
        self.program.signals = self
            .ids
            .signals
            .clone()
            .into_iter()
            .map(|s| self.ids.of(s).unwrap_or(0))
            .collect();
        let actions = self.ids.actions.clone();
        for action in actions {
            let params = self
                .members(action, DefKind::Param)
                .into_iter()
                .map(|p| {
                    let ty = self.def(p).map(|d| d.ty.clone()).unwrap_or(MTy::Error);
                    self.ty(&ty)
                })
                .collect();
            let result = self.result_ty(action);
            self.program.actions.push(ActionIr {
                name: self.name(action),
                params,
                result,
            });
        }
    }

    fn signal_id(&self, def: DefId) -> Option<u32> {
        self.ids.signals.iter().position(|&s| s == def).map(to_u32)
    }

    fn result_ty(&mut self, flow: DefId) -> Ty {
        let result = self
            .analysis
            .results
            .get(&flow)
            .cloned()
            .unwrap_or(MTy::Unit);
        self.ty(&result)
    }

    /// The IR type of a checker type.
    fn ty(&mut self, ty: &MTy) -> Ty {
        match ty {
            MTy::Error | MTy::Unit | MTy::None => Ty::Unit,
            MTy::Text => Ty::Text,
            MTy::Int => Ty::Int,
            MTy::IntIn(min, max) => Ty::IntIn(*min, *max),
            MTy::Bool => Ty::Bool,
            MTy::Duration => Ty::Duration,
            MTy::Time => Ty::Time,
            MTy::Date => Ty::Date,
            MTy::Role => Ty::Role,
            MTy::Named(id) => match self.kind(*id) {
                Some(DefKind::Enum) => Ty::Enum(self.ids.of(*id).unwrap_or(0)),
                _ => Ty::Record(self.ids.of(*id).unwrap_or(0)),
            },
            MTy::Optional(inner) => Ty::Optional(Box::new(self.ty(inner))),
            MTy::List(inner) => Ty::List(Box::new(self.ty(inner))),
            MTy::Step(id) => Ty::Step(self.ids.of(*id).unwrap_or(0)),
            MTy::Calendar(_) => Ty::Calendar,
            MTy::EnumType(id) => Ty::Enum(self.ids.of(*id).unwrap_or(0)),
        }
    }

    fn skill(&mut self, name: &str) -> u32 {
        match self.program.skills.iter().position(|s| s == name) {
            Some(index) => to_u32(index),
            None => {
                self.program.skills.push(name.to_string());
                to_u32(self.program.skills.len() - 1)
            }
        }
    }

    fn new_unit(&mut self, name: String, kind: UnitKind) -> UnitId {
        self.program.units.push(Unit {
            name,
            kind,
            blocks: Vec::new(),
            slots: 0,
        });
        to_u32(self.program.units.len() - 1)
    }

    // ---------------------------------------------------------------------------------------------------------
    // Flows

    fn lower_processes(&mut self) {
        let package_files = self.analysis.package_files;
        let processes: Vec<DefId> = self
            .analysis
            .defs
            .iter()
            .enumerate()
            .filter(|(_, d)| d.kind == DefKind::Process && (d.file.0 as usize) < package_files)
            .map(|(i, _)| DefId(to_u32(i)))
            .filter(|id| self.items.contains_key(id))
            .collect();
        for &process in &processes {
            let ids = &mut self.ids;
            Ids::add(&mut ids.processes, &mut ids.index, process);
            let unit = self.new_unit(self.name(process), UnitKind::Process);
            let params = self
                .members(process, DefKind::Param)
                .into_iter()
                .map(|p| {
                    let ty = self.def(p).map(|d| d.ty.clone()).unwrap_or(MTy::Error);
                    self.ty(&ty)
                })
                .collect();
            self.program.processes.push(ProcessIr {
                name: self.name(process),
                unit,
                params,
                wraps_procedure: false,
                stages: Vec::new(),
            });
            self.flow(process, unit, true);
            if let Some(ir) = self.program.processes.last_mut() {
                ir.stages = std::mem::take(&mut self.case_stages);
            }
            // Procedures are lowered once, on first use.
            while let Some(procedure) = self.pending.pop() {
                if let Some(&unit) = self.procedure_units.get(&procedure) {
                    self.flow(procedure, unit, false);
                }
            }
        }
        // A procedure that a `test` block starts can be started on its own: a process that calls it and
        // completes with its result. (So the standard library's procedures are tested like processes.)
        let mut processes = processes;
        for procedure in self.tested_procedures() {
            if self.ids.of(procedure).is_some() {
                continue;
            }
            let ids = &mut self.ids;
            Ids::add(&mut ids.processes, &mut ids.index, procedure);
            processes.push(procedure);
            let name = self.name(procedure);
            let unit = self.new_unit(format!("{name} (started on its own)"), UnitKind::Process);
            let params: Vec<Ty> = self
                .members(procedure, DefKind::Param)
                .into_iter()
                .map(|p| {
                    let ty = self.def(p).map(|d| d.ty.clone()).unwrap_or(MTy::Error);
                    self.ty(&ty)
                })
                .collect();
            let count = to_u32(params.len());
            let result = self
                .analysis
                .results
                .get(&procedure)
                .filter(|t| !matches!(t, MTy::Unit | MTy::Error))
                .map(|t| self.ty(t));
            let callee = self.procedure_unit(procedure);
            let dest = VarRef {
                depth: 0,
                slot: count,
            };
            let completion = match result {
                Some(ty) => Completion::Value(Ex::Var(dest), ty),
                None => Completion::Nothing,
            };
            let blocks = vec![
                Block {
                    stmts: Vec::new(),
                    term: Term::Call {
                        unit: callee,
                        args: (0..count)
                            .map(|slot| Ex::Var(VarRef { depth: 0, slot }))
                            .collect(),
                        dest: matches!(completion, Completion::Value(..)).then_some(dest),
                        next: 1,
                    },
                },
                Block {
                    stmts: Vec::new(),
                    term: Term::Complete(completion),
                },
            ];
            if let Some(u) = self.program.units.get_mut(unit as usize) {
                u.blocks = blocks;
                u.slots = count + 1;
            }
            self.program.processes.push(ProcessIr {
                name,
                unit,
                params,
                wraps_procedure: true,
                stages: Vec::new(),
            });
            while let Some(procedure) = self.pending.pop() {
                if let Some(&unit) = self.procedure_units.get(&procedure) {
                    self.flow(procedure, unit, false);
                }
            }
        }
        // Every procedure of the package is in the module, also those no process calls (yet).
        let package_procedures: Vec<DefId> = self
            .analysis
            .defs
            .iter()
            .enumerate()
            .filter(|(_, d)| d.kind == DefKind::Procedure && (d.file.0 as usize) < package_files)
            .map(|(i, _)| DefId(to_u32(i)))
            .filter(|id| self.items.contains_key(id))
            .collect();
        for procedure in package_procedures {
            self.procedure_unit(procedure);
            while let Some(procedure) = self.pending.pop() {
                if let Some(&unit) = self.procedure_units.get(&procedure) {
                    self.flow(procedure, unit, false);
                }
            }
        }
        // The steps each process can open: its own and those of every procedure it reaches.
        for &process in &processes {
            let mut seen: Vec<DefId> = vec![process];
            let mut pending = vec![process];
            while let Some(flow) = pending.pop() {
                for &callee in self.calls.get(&flow).into_iter().flatten() {
                    if !seen.contains(&callee) {
                        seen.push(callee);
                        pending.push(callee);
                    }
                }
            }
            let mut steps: Vec<u32> = seen.iter().flat_map(|&f| self.steps_of(f)).collect();
            steps.sort_unstable();
            self.ids.process_steps.push(steps);
        }
    }

    /// Procedures of the package that its `test` blocks start.
    fn tested_procedures(&self) -> Vec<DefId> {
        let mut found = Vec::new();
        for (index, parsed) in self
            .analysis
            .parsed
            .iter()
            .enumerate()
            .take(self.analysis.package_files)
        {
            let file = FileId(to_u32(index));
            for item in &parsed.ast.items {
                let ast::ItemKind::Test(test) = &item.kind else {
                    continue;
                };
                for stmt in &test.stmts {
                    if let ast::TestStmtKind::Start { process, .. } = &stmt.kind {
                        if let Some(def) = self.ref_at(file, process.span) {
                            if self.kind(def) == Some(DefKind::Procedure) && !found.contains(&def) {
                                found.push(def);
                            }
                        }
                    }
                }
            }
        }
        found
    }

    fn steps_of(&self, flow: DefId) -> Vec<u32> {
        self.members(flow, DefKind::Step)
            .into_iter()
            .filter_map(|s| self.ids.of(s))
            .collect()
    }

    fn procedure_unit(&mut self, procedure: DefId) -> UnitId {
        if let Some(&unit) = self.procedure_units.get(&procedure) {
            return unit;
        }
        let unit = self.new_unit(self.name(procedure), UnitKind::Procedure);
        self.procedure_units.insert(procedure, unit);
        self.pending.push(procedure);
        unit
    }

    fn flow(&mut self, flow: DefId, unit: UnitId, is_process: bool) {
        let Some(decl) = self.items.get(&flow).copied() else {
            return;
        };
        let Some(file) = self.def(flow).map(|d| d.file) else {
            return;
        };
        let flow_name = self.name(flow);
        // Steps get their ids up front, so `Ty::Step` values and forward references resolve.
        for step in self.members(flow, DefKind::Step) {
            let ids = &mut self.ids;
            Ids::add(&mut ids.steps, &mut ids.index, step);
            self.program.steps.push(StepIr {
                name: self.name(step),
                flow: flow_name.clone(),
                unit,
                open_block: 0,
                outputs: Vec::new(),
                skippable: false,
                expires: false,
                only_during: None,
                calendar: None,
                pause: None,
                skills: Vec::new(),
                stages: Vec::new(),
                managers: Vec::new(),
                slot: 0,
                in_flow_frame: true,
            });
        }
        let mut fx = Fx {
            file,
            flow,
            flow_name,
            scopes: vec![0],
            chain: vec![0],
            homes: HashMap::default(),
            units: vec![UnitBuild {
                id: unit,
                kind: if is_process {
                    UnitKind::Process
                } else {
                    UnitKind::Procedure
                },
                blocks: vec![(Vec::new(), None)],
                current: 0,
            }],
            unit_scopes: vec![(unit, 0)],
            branch_units: HashMap::default(),
            branches: 0,
        };
        for branch in self.members(flow, DefKind::Branch) {
            let name = format!("{}/{}", fx.flow_name, self.name(branch));
            let unit = self.new_unit(name, UnitKind::Branch);
            fx.branch_units.insert(branch, unit);
        }
        for param in self.members(flow, DefKind::Param) {
            fx.define(param);
        }
        self.define_steps(&mut fx, &decl.body);
        if let Some(within) = &decl.within {
            if is_process {
                let duration = self.expr(&mut fx, within);
                let duration = at_least(duration, 0, "the process's `within`");
                let calendar = self.calendar_id(fx.file, decl.within_calendar.as_ref());
                fx.push(St::SetDeadline(duration, calendar));
                self.case_stages = self.case_ladder(&mut fx, &decl.body);
            }
        }
        self.block(&mut fx, &decl.body);
        self.finish_unit(&mut fx);
        for (unit, scope) in fx.unit_scopes {
            let slots = fx.scopes.get(scope).copied().unwrap_or(0);
            if let Some(u) = self.program.units.get_mut(unit as usize) {
                u.slots = slots;
            }
        }
    }

    /// Gives every step of a frame its slot before any code is lowered, so a step can be named before it is declared
    /// (`every 15m { … } until acknowledge.done` in one branch, `step acknowledge` in the next): the slot holds no
    /// record until the step opens. The steps in the body of a parallel `for each` are left out: each item has a
    /// frame of its own, whose steps get their slots when that body is lowered.
    fn define_steps(&self, fx: &mut Fx, body: &ast::Block) {
        let mut steps = Vec::new();
        frame_steps(body, &mut steps);
        for step in steps {
            if let Some(def) = self.def_at(fx.file, step.name.span) {
                fx.define(def);
            }
        }
    }

    fn finish_unit(&mut self, fx: &mut Fx) {
        let root_depth = fx.root_depth();
        let Some(build) = fx.units.pop() else {
            return;
        };
        let default = match build.kind {
            UnitKind::Process => Term::Complete(Completion::Nothing),
            UnitKind::Procedure => Term::Return(None, root_depth),
            UnitKind::Branch | UnitKind::Item => Term::End,
        };
        let blocks = build
            .blocks
            .into_iter()
            .map(|(stmts, term)| Block {
                stmts,
                term: term.unwrap_or_else(|| default.clone()),
            })
            .collect();
        if let Some(unit) = self.program.units.get_mut(build.id as usize) {
            unit.blocks = blocks;
        }
    }

    fn block(&mut self, fx: &mut Fx, block: &ast::Block) {
        stacker::maybe_grow(64 * 1024, 4 * 1024 * 1024, || {
            for stmt in &block.stmts {
                self.stmt(fx, stmt);
            }
        });
    }

    /// The stages of `on breach` at the top of a process's body (the checker allows only notifications and
    /// flags there).
    fn case_ladder(&mut self, fx: &mut Fx, body: &ast::Block) -> Vec<StageIr> {
        let mut out = Vec::new();
        for stmt in &body.stmts {
            if let StmtKind::OnBreach(stages) = &stmt.kind {
                for stage in stages {
                    out.extend(self.stage(fx, stage));
                }
            }
        }
        out
    }

    fn stmt(&mut self, fx: &mut Fx, stmt: &ast::Stmt) {
        let file = fx.file;
        match &stmt.kind {
            StmtKind::Error | StmtKind::OnBreach(_) => {}
            StmtKind::Let { name, value, .. } => {
                let Some(def) = self.def_at(file, name.span) else {
                    return;
                };
                let declared = self.def(def).map(|d| d.ty.clone()).unwrap_or(MTy::Error);
                let var = fx.define(def);
                if let Some(()) = self.effect_into(fx, value, Some(var)) {
                    return;
                }
                let actual = self.mty(file, value.span);
                let ex = self.expr(fx, value);
                let ex = self.coerce(ex, &actual, &declared);
                fx.push(St::Assign(var, ex));
            }
            StmtKind::Step(step) => self.step(fx, step),
            StmtKind::Expr(expr) => {
                if self.effect_into(fx, expr, None).is_none() {
                    // Not a call or await: the checker has reported it; evaluate nothing.
                }
            }
            StmtKind::If {
                branches,
                otherwise,
            } => {
                let end = fx.new_block();
                for (condition, body) in branches {
                    let c = self.expr(fx, condition);
                    let then = fx.new_block();
                    let other = fx.new_block();
                    fx.term(Term::If(c, then, other));
                    fx.switch(then);
                    self.block(fx, body);
                    fx.goto(end);
                    fx.switch(other);
                }
                if let Some(body) = otherwise {
                    self.block(fx, body);
                }
                fx.goto_and_switch(end);
            }
            StmtKind::Match {
                scrutinee, arms, ..
            } => self.match_stmt(fx, scrutinee, arms),
            StmtKind::Parallel { join, branches } => {
                let join = self.join(fx, join);
                self.spawn(fx, branches, join);
            }
            StmtKind::First { branches } => self.spawn(fx, branches, JoinIr::Any),
            StmtKind::ForEach {
                var,
                list,
                parallel,
                body,
            } => self.for_each(fx, var, list, parallel.as_ref(), body),
            StmtKind::Repeat {
                max, body, until, ..
            } => {
                let count = fx.temp();
                let limit = fx.temp();
                fx.push(St::Assign(count, Ex::Const(0)));
                let max_ex = match max {
                    Some(max) => self.expr(fx, max),
                    None => Ex::Const(1),
                };
                fx.push(St::Assign(limit, max_ex));
                let head = fx.new_block();
                fx.goto_and_switch(head);
                self.block(fx, body);
                fx.push(St::Assign(
                    count,
                    Ex::Binary(
                        BinOp::Add,
                        Ty::Int,
                        Box::new(Ex::Var(count)),
                        Box::new(Ex::Const(1)),
                    ),
                ));
                let exit = fx.new_block();
                let again = fx.new_block();
                match until {
                    Some(until) => {
                        let c = self.expr(fx, until);
                        fx.term(Term::If(c, exit, again));
                    }
                    None => fx.goto(again),
                }
                fx.switch(again);
                fx.term(Term::If(
                    Ex::Binary(
                        BinOp::Lt,
                        Ty::Int,
                        Box::new(Ex::Var(count)),
                        Box::new(Ex::Var(limit)),
                    ),
                    head,
                    exit,
                ));
                fx.switch(exit);
            }
            StmtKind::Every {
                interval,
                max,
                body,
                until,
                ..
            } => self.every(fx, interval, max.as_ref(), body, until.as_ref()),
            StmtKind::WaitFor(duration, calendar) => {
                let d = self.expr(fx, duration);
                let d = at_least(d, 0, "the time `wait` waits");
                let calendar = self.calendar_id(file, calendar.as_ref());
                let next = fx.new_block();
                fx.term(Term::Wait {
                    until: self.later(Ex::Now, d, calendar),
                    round: false,
                    next,
                });
                fx.switch(next);
            }
            StmtKind::WaitUntil(time) => {
                let ty = self.mty(file, time.span);
                let t = self.expr(fx, time);
                let until = self.coerce(t, &ty, &MTy::Time);
                let next = fx.new_block();
                fx.term(Term::Wait {
                    until,
                    round: false,
                    next,
                });
                fx.switch(next);
            }
            StmtKind::Cancel(name) => {
                let Some(def) = self.ref_at(file, name.span) else {
                    return;
                };
                let next = fx.new_block();
                match self.kind(def) {
                    Some(DefKind::Step) => {
                        let Some(var) = fx.var(def) else {
                            self.unsupported(
                                file,
                                name.span,
                                format!("step `{}` cannot be cancelled from here", name.name),
                                "cancel a step from the flow it runs in, not from outside its parallel `for each`",
                            );
                            return;
                        };
                        fx.term(Term::CancelStep {
                            step: self.ids.of(def).unwrap_or(0),
                            depth: var.depth,
                            next,
                        });
                    }
                    Some(DefKind::Branch) => {
                        let unit = fx.branch_units.get(&def).copied().unwrap_or(0);
                        fx.term(Term::CancelBranch { unit, next });
                    }
                    _ => fx.goto(next),
                }
                fx.switch(next);
            }
            StmtKind::Notify { role, message } => {
                let role_id = self
                    .ref_at(file, role.span)
                    .and_then(|d| self.ids.of(d))
                    .unwrap_or(0);
                let message = message.as_ref().map(|m| self.expr(fx, m));
                fx.push(St::Notify {
                    role: Ex::Const(i64::from(role_id)),
                    message,
                });
            }
            StmtKind::Fail(reason) => {
                let reason = self.expr(fx, reason);
                fx.term(Term::Fail(reason));
            }
            StmtKind::Complete(value) => {
                let result = self.result_ty(fx.flow);
                let completion = match value {
                    Some(value) if result != Ty::Unit => {
                        let actual = self.mty(file, value.span);
                        let expected = self
                            .analysis
                            .results
                            .get(&fx.flow)
                            .cloned()
                            .unwrap_or(MTy::Error);
                        let ex = self.expr(fx, value);
                        Completion::Value(self.coerce(ex, &actual, &expected), result)
                    }
                    Some(value) => Completion::Reason(self.expr(fx, value)),
                    None => Completion::Nothing,
                };
                fx.term(Term::Complete(completion));
            }
            StmtKind::Return(value) => {
                let value = value.as_ref().map(|value| {
                    let actual = self.mty(file, value.span);
                    let expected = self
                        .analysis
                        .results
                        .get(&fx.flow)
                        .cloned()
                        .unwrap_or(MTy::Error);
                    let ex = self.expr(fx, value);
                    self.coerce(ex, &actual, &expected)
                });
                let depth = fx.root_depth();
                fx.term(Term::Return(value, depth));
            }
        }
    }

    /// Lowers a call or `await` whose value goes to `dest`; `None` if `expr` is neither.
    fn effect_into(&mut self, fx: &mut Fx, expr: &ast::Expr, dest: Option<VarRef>) -> Option<()> {
        match &expr.kind {
            ExprKind::Paren(inner) => self.effect_into(fx, inner, dest),
            ExprKind::Call(callee, args) => {
                self.call(fx, callee, args, dest);
                Some(())
            }
            ExprKind::Await {
                signal,
                within,
                calendar,
            } => {
                let calendar = self.calendar_id(fx.file, calendar.as_ref());
                self.await_(fx, signal, within.as_deref(), calendar, dest);
                Some(())
            }
            _ => None,
        }
    }

    fn call(&mut self, fx: &mut Fx, callee: &ast::Expr, args: &[ast::Expr], dest: Option<VarRef>) {
        let file = fx.file;
        let ExprKind::Name(name) = &callee.kind else {
            return;
        };
        let Some(def) = self.ref_at(file, name.span) else {
            return;
        };
        let params: Vec<MTy> = self
            .members(def, DefKind::Param)
            .into_iter()
            .map(|p| self.def(p).map(|d| d.ty.clone()).unwrap_or(MTy::Error))
            .collect();
        let mut lowered = Vec::new();
        for (arg, expected) in args.iter().zip(&params) {
            let actual = self.mty(file, arg.span);
            let ex = self.expr(fx, arg);
            lowered.push((self.coerce(ex, &actual, expected), self.ty(expected)));
        }
        let next = fx.new_block();
        match self.kind(def) {
            Some(DefKind::Procedure) => {
                self.calls.entry(fx.flow).or_default().push(def);
                let unit = self.procedure_unit(def);
                fx.term(Term::Call {
                    unit,
                    args: lowered.into_iter().map(|(ex, _)| ex).collect(),
                    dest,
                    next,
                });
            }
            Some(DefKind::Action) => {
                fx.term(Term::Action {
                    action: self.ids.of(def).unwrap_or(0),
                    args: lowered,
                    dest,
                    next,
                });
            }
            _ => fx.goto(next),
        }
        fx.switch(next);
    }

    fn await_(
        &mut self,
        fx: &mut Fx,
        signal: &Ident,
        within: Option<&ast::Expr>,
        calendar: Option<u32>,
        dest: Option<VarRef>,
    ) {
        let Some(signal_id) = self
            .ref_at(fx.file, signal.span)
            .and_then(|d| self.signal_id(d))
        else {
            return;
        };
        // The timeout as a duration from now (the module adds it to the time of the event): on a calendar, the
        // end of that much working time, less now.
        let timeout = within.map(|w| {
            let d = self.expr(fx, w);
            let d = at_least(d, 0, "the time `await … within` waits");
            match calendar {
                None => d,
                Some(_) => Ex::Binary(
                    BinOp::Sub,
                    Ty::Int,
                    Box::new(self.later(Ex::Now, d, calendar)),
                    Box::new(Ex::Now),
                ),
            }
        });
        let next = fx.new_block();
        fx.term(Term::Await {
            signal: signal_id,
            optional: timeout.is_some(),
            timeout,
            dest,
            next,
        });
        fx.switch(next);
    }

    /// The calendar a `… on Calendar` names, by id.
    fn calendar_id(&self, file: FileId, calendar: Option<&Ident>) -> Option<u32> {
        calendar
            .and_then(|c| self.ref_at(file, c.span))
            .and_then(|d| self.ids.of(d))
    }

    /// `base` plus `duration`: of clock time, or of a calendar's working time.
    fn later(&self, base: Ex, duration: Ex, calendar: Option<u32>) -> Ex {
        match calendar {
            Some(calendar) => Ex::BusinessAdd(Box::new(base), Box::new(duration), calendar),
            None => Ex::Checked(BinOp::Add, Box::new(base), Box::new(duration)),
        }
    }

    fn join(&mut self, fx: &mut Fx, join: &ast::Join) -> JoinIr {
        match join {
            ast::Join::All => JoinIr::All,
            ast::Join::Any => JoinIr::Any,
            ast::Join::Count(count) => JoinIr::Count(self.expr(fx, count)),
        }
    }

    fn spawn(&mut self, fx: &mut Fx, branches: &[ast::BranchDecl], join: JoinIr) {
        let mut units = Vec::new();
        for branch in branches {
            let unit = match branch
                .name
                .as_ref()
                .and_then(|n| self.def_at(fx.file, n.span))
                .and_then(|d| fx.branch_units.get(&d).copied())
            {
                Some(unit) => unit,
                None => {
                    fx.branches += 1;
                    let name = format!("{}/branch{}", fx.flow_name, fx.branches);
                    self.new_unit(name, UnitKind::Branch)
                }
            };
            fx.units.push(UnitBuild {
                id: unit,
                kind: UnitKind::Branch,
                blocks: vec![(Vec::new(), None)],
                current: 0,
            });
            self.block(fx, &branch.body);
            self.finish_unit(fx);
            units.push(unit);
        }
        let next = fx.new_block();
        fx.term(Term::Spawn { units, join, next });
        fx.switch(next);
    }

    fn for_each(
        &mut self,
        fx: &mut Fx,
        var: &Ident,
        list: &ast::Expr,
        parallel: Option<&ast::Join>,
        body: &ast::Block,
    ) {
        let file = fx.file;
        let Some(var_def) = self.def_at(file, var.span) else {
            return;
        };
        let list_ex = self.expr(fx, list);
        match parallel {
            None => {
                let list_var = fx.temp();
                let index = fx.temp();
                fx.push(St::Assign(list_var, list_ex));
                fx.push(St::Assign(index, Ex::Const(0)));
                let head = fx.new_block();
                fx.goto_and_switch(head);
                let item = fx.new_block();
                let exit = fx.new_block();
                fx.term(Term::If(
                    Ex::Binary(
                        BinOp::Lt,
                        Ty::Int,
                        Box::new(Ex::Var(index)),
                        Box::new(Ex::ListLen(Box::new(Ex::Var(list_var)))),
                    ),
                    item,
                    exit,
                ));
                fx.switch(item);
                let slot = fx.define(var_def);
                fx.push(St::Assign(
                    slot,
                    Ex::ListItem(Box::new(Ex::Var(list_var)), Box::new(Ex::Var(index))),
                ));
                self.block(fx, body);
                fx.push(St::Assign(
                    index,
                    Ex::Binary(
                        BinOp::Add,
                        Ty::Int,
                        Box::new(Ex::Var(index)),
                        Box::new(Ex::Const(1)),
                    ),
                ));
                fx.goto(head);
                fx.switch(exit);
            }
            Some(join) => {
                let join = self.join(fx, join);
                fx.branches += 1;
                let name = format!("{}/each{}", fx.flow_name, fx.branches);
                let unit = self.new_unit(name, UnitKind::Item);
                fx.scopes.push(0);
                let scope = fx.scopes.len() - 1;
                fx.chain.push(scope);
                fx.unit_scopes.push((unit, scope));
                fx.units.push(UnitBuild {
                    id: unit,
                    kind: UnitKind::Item,
                    blocks: vec![(Vec::new(), None)],
                    current: 0,
                });
                let slot = fx.define(var_def);
                self.define_steps(fx, body);
                self.block(fx, body);
                self.finish_unit(fx);
                fx.chain.pop();
                let next = fx.new_block();
                fx.term(Term::SpawnEach {
                    unit,
                    list: list_ex,
                    var: slot.slot,
                    join,
                    next,
                });
                fx.switch(next);
            }
        }
    }

    fn every(
        &mut self,
        fx: &mut Fx,
        interval: &ast::Expr,
        max: Option<&ast::Expr>,
        body: &ast::Block,
        until: Option<&ast::Expr>,
    ) {
        let count = fx.temp();
        let limit = fx.temp();
        let period = fx.temp();
        let start = fx.temp();
        fx.push(St::Assign(count, Ex::Const(0)));
        let max_ex = match max {
            Some(max) => self.expr(fx, max),
            None => Ex::Const(1),
        };
        fx.push(St::Assign(limit, max_ex));
        let interval_ex = self.expr(fx, interval);
        let interval_ex = at_least(interval_ex, 1, "the period of `every`");
        fx.push(St::Assign(period, interval_ex));
        fx.push(St::Assign(start, Ex::Now));
        let head = fx.new_block();
        fx.goto_and_switch(head);
        let tick = fx.new_block();
        let exit = fx.new_block();
        fx.term(Term::If(
            Ex::Binary(
                BinOp::Lt,
                Ty::Int,
                Box::new(Ex::Var(count)),
                Box::new(Ex::Var(limit)),
            ),
            tick,
            exit,
        ));
        fx.switch(tick);
        let round = fx.new_block();
        // Round n (from 1) runs n periods after the loop started, whatever the body took.
        let next_round = Ex::Binary(
            BinOp::Add,
            Ty::Int,
            Box::new(Ex::Var(count)),
            Box::new(Ex::Const(1)),
        );
        // Checked: a period so long that a round falls past the end of time fails the case.
        let round_time = Ex::Checked(
            BinOp::Add,
            Box::new(Ex::Var(start)),
            Box::new(Ex::Checked(
                BinOp::Mul,
                Box::new(Ex::Var(period)),
                Box::new(next_round.clone()),
            )),
        );
        // `until` is asked when a round is due, before its body runs, and again after the round. Between rounds
        // the loop is also woken whenever something else happened in the case (another branch completed the step
        // the condition names): it ends then and there, so the branches join and the case goes on at once, not at
        // the next round. A condition that asks the host or waits (a call, `await`), or that names a step of the
        // body, is asked after the round only.
        let asked_before = until.filter(|u| u.is_asked_before_each_round(body));
        fx.term(Term::Wait {
            until: round_time.clone(),
            round: asked_before.is_some(),
            next: round,
        });
        fx.switch(round);
        if let Some(until) = asked_before {
            let c = self.expr(fx, until);
            let due = fx.new_block();
            fx.term(Term::If(c, exit, due));
            fx.switch(due);
            // Woken early and the condition still does not hold: sleep on until the round's time.
            let early = fx.new_block();
            let body_block = fx.new_block();
            fx.term(Term::If(
                Ex::Binary(BinOp::Lt, Ty::Int, Box::new(Ex::Now), Box::new(round_time)),
                early,
                body_block,
            ));
            fx.switch(early);
            fx.push(St::Quiet);
            fx.goto(tick);
            fx.switch(body_block);
        }
        self.block(fx, body);
        fx.push(St::Assign(count, next_round));
        match until {
            Some(until) => {
                let c = self.expr(fx, until);
                fx.term(Term::If(c, exit, head));
            }
            None => fx.goto(head),
        }
        fx.switch(exit);
    }

    fn match_stmt(&mut self, fx: &mut Fx, scrutinee: &ast::Expr, arms: &[ast::MatchArm]) {
        let file = fx.file;
        let variants = match self.mty(file, scrutinee.span) {
            MTy::Named(id) => self.members(id, DefKind::Variant),
            _ => Vec::new(),
        };
        let value = self.expr(fx, scrutinee);
        let end = fx.new_block();
        let mut targets: Vec<Option<BlockId>> = vec![None; variants.len()];
        let mut default: Option<BlockId> = None;
        let mut arm_blocks = Vec::new();
        for arm in arms {
            let block = fx.new_block();
            arm_blocks.push(block);
            for pattern in &arm.patterns {
                if pattern.name == "_" {
                    default.get_or_insert(block);
                    continue;
                }
                if let Some(index) = variants.iter().position(|&v| self.name(v) == pattern.name) {
                    if let Some(target) = targets.get_mut(index) {
                        target.get_or_insert(block);
                    }
                }
            }
        }
        let fallback = default.unwrap_or(end);
        let targets: Vec<BlockId> = targets.into_iter().map(|t| t.unwrap_or(fallback)).collect();
        fx.term(Term::Switch(value, targets));
        for (arm, block) in arms.iter().zip(arm_blocks) {
            fx.switch(block);
            self.block(fx, &arm.body);
            fx.goto(end);
        }
        fx.switch(end);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Steps

    fn step_record(&mut self, fx: &Fx, name: &Ident) -> Option<(Ex, u32)> {
        let def = self.ref_at(fx.file, name.span)?;
        let step = self.ids.of(def)?;
        match fx.var(def) {
            Some(var) => Some((Ex::Var(var), step)),
            None => {
                self.unsupported(
                    fx.file,
                    name.span,
                    format!(
                        "step `{}` runs once per item of a parallel `for each`, so it cannot be named here",
                        name.name
                    ),
                    "refer to the step only inside the body of its `for each`",
                );
                None
            }
        }
    }

    fn fact(&mut self, fx: &Fx, name: &Ident, fact: Fact) -> Ex {
        match self.step_record(fx, name) {
            Some((record, step)) => Ex::Fact {
                record: Box::new(record),
                step,
                fact,
            },
            None => Ex::Const(0),
        }
    }

    fn step(&mut self, fx: &mut Fx, decl: &ast::StepDecl) {
        let file = fx.file;
        let Some(def) = self.def_at(file, decl.name.span) else {
            return;
        };
        let Some(step_id) = self.ids.of(def) else {
            return;
        };
        let open = fx.new_block();
        fx.goto_and_switch(open);
        let slot = fx.var(def).unwrap_or_else(|| fx.define(def));
        let instruction = decl.instruction.as_ref().map(|i| self.expr(fx, i));
        let mut performer = PerformerIr {
            kind: performer::ROLE,
            role: None,
            person: None,
            manager_of: None,
            excluded: None,
        };
        let mut due = DueIr::None;
        let mut earliest = None;
        let mut expires = None;
        let mut info = StepIr {
            name: decl.name.name.clone(),
            flow: fx.flow_name.clone(),
            unit: fx.unit_id(),
            open_block: open,
            outputs: Vec::new(),
            skippable: false,
            expires: false,
            only_during: None,
            calendar: None,
            pause: None,
            skills: Vec::new(),
            stages: Vec::new(),
            managers: Vec::new(),
            slot: slot.slot,
            in_flow_frame: fx.scope() == 0,
        };
        for output in self.members(def, DefKind::Output) {
            let ty = self.def(output).map(|d| d.ty.clone()).unwrap_or(MTy::Error);
            let ty = self.ty(&ty);
            info.outputs.push((self.name(output), ty));
        }
        for clause in &decl.clauses {
            match &clause.kind {
                ast::StepClauseKind::Error => {}
                ast::StepClauseKind::By(by) => {
                    performer = self.performer(fx, by, &mut info);
                }
                ast::StepClauseKind::Within {
                    duration,
                    calendar,
                    since,
                } => {
                    let duration = self.expr(fx, duration);
                    let duration = at_least(duration, 0, "a step's `within`");
                    let calendar = calendar
                        .as_ref()
                        .and_then(|c| self.ref_at(file, c.span))
                        .and_then(|d| self.ids.of(d));
                    info.calendar = calendar;
                    let base = match since {
                        Some(since) => self.fact(fx, since, Fact::CompletedAt),
                        None => Ex::Now,
                    };
                    due = DueIr::Within {
                        base,
                        duration,
                        calendar,
                    };
                }
                ast::StepClauseKind::After { duration, since } => {
                    let duration = self.expr(fx, duration);
                    let duration = at_least(duration, 0, "a step's `after`");
                    let base = match since {
                        Some(since) => self.fact(fx, since, Fact::CompletedAt),
                        None => Ex::Now,
                    };
                    earliest = Some(Ex::Checked(BinOp::Add, Box::new(base), Box::new(duration)));
                }
                ast::StepClauseKind::Due(time) => {
                    let ty = self.mty(file, time.span);
                    let t = self.expr(fx, time);
                    due = DueIr::At(match ty {
                        MTy::Date => Ex::DateEnd(Box::new(t)),
                        MTy::Optional(inner) if *inner == MTy::Date => Ex::DateEnd(Box::new(
                            Ex::Coalesce(Box::new(t), Box::new(Ex::Const(NEVER_DAY))),
                        )),
                        MTy::Optional(_) => {
                            Ex::Coalesce(Box::new(t), Box::new(Ex::Const(proc_abi::NO_TIME)))
                        }
                        _ => t,
                    });
                }
                ast::StepClauseKind::Expires { duration, calendar } => {
                    let duration = self.expr(fx, duration);
                    let duration = at_least(duration, 0, "a step's `expires after`");
                    let calendar = calendar
                        .as_ref()
                        .and_then(|c| self.ref_at(file, c.span))
                        .and_then(|d| self.ids.of(d));
                    info.expires = true;
                    expires = Some((duration, calendar));
                }
                ast::StepClauseKind::OnBreach(stages) => {
                    self.ladder(fx, stages, &mut info);
                }
                ast::StepClauseKind::Paused { from, until } => {
                    let from = self.ref_at(file, from.span).and_then(|d| self.signal_id(d));
                    let until = self
                        .ref_at(file, until.span)
                        .and_then(|d| self.signal_id(d));
                    if let (Some(from), Some(until)) = (from, until) {
                        info.pause = Some((from, until));
                    }
                }
                ast::StepClauseKind::OnlyDuring(calendar) => {
                    info.only_during = self
                        .ref_at(file, calendar.span)
                        .and_then(|d| self.ids.of(d));
                }
                ast::StepClauseKind::Skippable => info.skippable = true,
            }
        }
        let outputs = to_u32(info.outputs.len());
        if let Some(entry) = self.program.steps.get_mut(step_id as usize) {
            *entry = info;
        }
        let next = fx.new_block();
        fx.term(Term::Step(Box::new(OpenStep {
            step: step_id,
            slot,
            outputs,
            performer,
            due,
            earliest,
            expires,
            instruction,
            next,
        })));
        fx.switch(next);
    }

    fn performer(&mut self, fx: &mut Fx, by: &ast::Performer, info: &mut StepIr) -> PerformerIr {
        let file = fx.file;
        let mut result = PerformerIr {
            kind: performer::ROLE,
            role: None,
            person: None,
            manager_of: None,
            excluded: None,
        };
        match &by.kind {
            ast::PerformerKind::Role { role, skills } => {
                let id = self
                    .ref_at(file, role.span)
                    .and_then(|d| self.ids.of(d))
                    .unwrap_or(0);
                result.role = Some(Ex::Const(i64::from(id)));
                info.skills = skills.iter().map(|s| self.skill(&s.name)).collect();
            }
            ast::PerformerKind::Person(expr) => {
                result.kind = performer::PERSON;
                result.person = Some(self.expr(fx, expr));
            }
            ast::PerformerKind::DynamicRole(expr) => {
                result.kind = performer::DYNAMIC_ROLE;
                result.role = Some(self.expr(fx, expr));
            }
            ast::PerformerKind::ManagerOf(step) => {
                result.kind = performer::MANAGER_OF;
                result.manager_of = Some(self.fact(fx, step, Fact::DoneBy));
            }
            ast::PerformerKind::SameAs(step) => {
                result.kind = performer::SAME_PERSON;
                result.person = Some(self.fact(fx, step, Fact::DoneBy));
            }
        }
        if let Some(other) = &by.other_than {
            result.excluded = self.step_record(fx, other).map(|(record, _)| record);
        }
        result
    }

    fn ladder(&mut self, fx: &mut Fx, stages: &[ast::EscalationStage], info: &mut StepIr) {
        for stage in stages {
            let Some(stage) = self.stage(fx, stage) else {
                continue;
            };
            // Who a stage notifies or reassigns to may manage the task.
            if let StageAction::Notify { role, .. } | StageAction::Reassign(role) = &stage.action {
                add_manager(info, *role);
            }
            info.stages.push(stage);
        }
    }

    /// One stage of a ladder (a step's, or the whole case's): its offset after the breach, its clock, its action.
    fn stage(&mut self, fx: &mut Fx, stage: &ast::EscalationStage) -> Option<StageIr> {
        let file = fx.file;
        // A warning (`before 1h`) is a negative offset: it fires that long before the deadline, on the deadline's
        // own clock (see the support code's `task_warn_at`).
        let offset_ms = match (&stage.after, &stage.before) {
            (Some(after), _) => crate::check::const_duration(after).map(|s| s.saturating_mul(1000)),
            (None, Some(before)) => {
                crate::check::const_duration(before).map(|s| s.saturating_mul(-1000))
            }
            (None, None) => Some(0),
        };
        let Some(offset_ms) = offset_ms else {
            self.unsupported(
                file,
                stage.span,
                "the time of an escalation stage must be a fixed duration".to_string(),
                "write the offset as a duration literal, such as `after 4h`",
            );
            return None;
        };
        let action = match &stage.action {
            ast::EscalationAction::Notify(role, message) => {
                let role = self.role_id(file, role);
                let message = message.as_ref().map(|m| self.stage_text(fx, m));
                StageAction::Notify { role, message }
            }
            ast::EscalationAction::Reassign(role) => {
                StageAction::Reassign(self.role_id(file, role))
            }
            ast::EscalationAction::Cancel => StageAction::Cancel,
            ast::EscalationAction::Flag(message) => StageAction::Flag(self.stage_text(fx, message)),
        };
        Some(StageIr {
            offset_ms,
            calendar: if stage.before.is_some() {
                None
            } else {
                self.calendar_id(file, stage.calendar.as_ref())
            },
            action,
        })
    }

    /// A message of an escalation stage: evaluated later, when the stage fires, so it may not call or wait.
    fn stage_text(&mut self, fx: &mut Fx, message: &ast::Expr) -> Ex {
        if !message.is_pure() {
            self.unsupported(
                fx.file,
                message.span,
                "an escalation message cannot call a procedure or action, or wait".to_string(),
                "compute the value before the step with `let`, and interpolate it",
            );
            return Ex::Text(String::new());
        }
        self.expr(fx, message)
    }

    fn role_id(&self, file: FileId, role: &Ident) -> u32 {
        self.ref_at(file, role.span)
            .and_then(|d| self.ids.of(d))
            .unwrap_or(0)
    }

    // ---------------------------------------------------------------------------------------------------------
    // Expressions

    /// Converts a value of type `actual` for a place of type `expected`: wraps optionals, turns dates into times.
    fn coerce(&mut self, ex: Ex, actual: &MTy, expected: &MTy) -> Ex {
        match (expected, actual) {
            (MTy::Optional(_), MTy::Optional(_)) => ex,
            (MTy::Optional(_), MTy::None) => Ex::None,
            (MTy::Optional(inner), actual) if !matches!(actual, MTy::Error) => {
                Ex::Some(Box::new(self.coerce(ex, actual, inner)))
            }
            (MTy::Time, MTy::Date) => Ex::DateToTime(Box::new(ex)),
            // A whole number given to a bounded place: checked when it is computed (a literal was checked by the
            // checker; a value of the same or a narrower range needs no check).
            (MTy::IntIn(min, max), actual) => match (actual, &ex) {
                (MTy::IntIn(a, b), _) if a >= min && b <= max => ex,
                (_, Ex::Const(v)) if v >= min && v <= max => ex,
                _ => Ex::InRange(Box::new(ex), *min, *max),
            },
            _ => match ex {
                Ex::None if !matches!(expected, MTy::Optional(_)) => Ex::None,
                other => other,
            },
        }
    }

    fn expr(&mut self, fx: &mut Fx, e: &ast::Expr) -> Ex {
        stacker::maybe_grow(64 * 1024, 4 * 1024 * 1024, || self.expr_inner(fx, e))
    }

    fn expr_inner(&mut self, fx: &mut Fx, e: &ast::Expr) -> Ex {
        let file = fx.file;
        match &e.kind {
            ExprKind::Error => Ex::Const(0),
            ExprKind::Now => Ex::Now,
            ExprKind::Paren(inner) => self.expr(fx, inner),
            ExprKind::Literal(lit) => self.literal(fx, lit),
            ExprKind::Name(name) => match self.ref_at(file, name.span) {
                Some(def) => self.name_value(fx, def, name),
                None => Ex::Const(0),
            },
            ExprKind::Field(base, name) => {
                if let ExprKind::Name(base_name) = &base.kind {
                    if let Some(def) = self.ref_at(file, base_name.span) {
                        if self.kind(def) == Some(DefKind::Enum) {
                            let index = self
                                .members(def, DefKind::Variant)
                                .iter()
                                .position(|&v| self.name(v) == name.name)
                                .unwrap_or(0);
                            return Ex::Const(i64::try_from(index).unwrap_or(0));
                        }
                    }
                }
                let base_ty = self.mty(file, base.span);
                let base_ex = self.expr(fx, base);
                let (ex, declared) = self.field(fx, base_ex, &base_ty, name);
                self.narrowed(ex, &declared, &self.mty(file, e.span))
            }
            ExprKind::Call(..) | ExprKind::Await { .. } => {
                let temp = fx.temp();
                self.effect_into(fx, e, Some(temp));
                Ex::Var(temp)
            }
            ExprKind::List(items) => {
                let element = match self.mty(file, e.span) {
                    MTy::List(inner) => *inner,
                    _ => MTy::Error,
                };
                let items = items
                    .iter()
                    .map(|item| {
                        let actual = self.mty(file, item.span);
                        let ex = self.expr(fx, item);
                        self.coerce(ex, &actual, &element)
                    })
                    .collect();
                Ex::List(items)
            }
            ExprKind::Record(name, fields) => {
                let Some(def) = self.ref_at(file, name.span) else {
                    return Ex::Const(0);
                };
                let record = self.ids.of(def).unwrap_or(0);
                let members = self.members(def, DefKind::Field);
                let mut values = Vec::new();
                for member in members {
                    let expected = self.def(member).map(|d| d.ty.clone()).unwrap_or(MTy::Error);
                    let given = fields.iter().find(|f| f.name.name == self.name(member));
                    values.push(match given {
                        Some(field) => {
                            let actual = self.mty(file, field.value.span);
                            let ex = self.expr(fx, &field.value);
                            self.coerce(ex, &actual, &expected)
                        }
                        None => Ex::None,
                    });
                }
                Ex::Record(record, values)
            }
            ExprKind::Unary(op, inner) => {
                let inner = self.expr(fx, inner);
                let op = match op {
                    ast::UnaryOp::Not => UnOp::Not,
                    ast::UnaryOp::Neg => UnOp::Neg,
                };
                Ex::Unary(op, Box::new(inner))
            }
            ExprKind::Binary(op, left, right) => self.binary(fx, *op, left, right),
        }
    }

    fn name_value(&mut self, fx: &mut Fx, def: DefId, name: &Ident) -> Ex {
        match self.kind(def) {
            Some(DefKind::Param | DefKind::Local | DefKind::Step) => match fx.var(def) {
                // An optional that the checker knows to hold a value here (`if x != none { … }`): its value.
                Some(var)
                    if matches!(self.def(def).map(|d| &d.ty), Some(MTy::Optional(_)))
                        && !matches!(
                            self.mty(fx.file, name.span),
                            MTy::Optional(_) | MTy::Error | MTy::None
                        ) =>
                {
                    Ex::Coalesce(Box::new(Ex::Var(var)), Box::new(Ex::Const(0)))
                }
                Some(var) => Ex::Var(var),
                None => {
                    let message = if self.kind(def) == Some(DefKind::Step) {
                        format!(
                            "step `{}` runs once per item of a parallel `for each`, so it cannot be named here",
                            name.name
                        )
                    } else {
                        format!(
                            "`{}` belongs to one item of a parallel `for each` and cannot be read here",
                            name.name
                        )
                    };
                    self.unsupported(
                        fx.file,
                        name.span,
                        message,
                        "use it only inside the body of its `for each`",
                    );
                    Ex::Const(0)
                }
            },
            Some(DefKind::Role | DefKind::Calendar) => {
                Ex::Const(i64::from(self.ids.of(def).unwrap_or(0)))
            }
            _ => Ex::Const(0),
        }
    }

    /// `base.name` for a base of type `base_ty`: the value and its type.
    fn field(&mut self, fx: &mut Fx, base: Ex, base_ty: &MTy, name: &Ident) -> (Ex, MTy) {
        match base_ty {
            // The checker reported what is wrong with the base.
            MTy::Error => (Ex::Const(0), MTy::Error),
            MTy::Named(def) => {
                let members = self.members(*def, DefKind::Field);
                let index = members.iter().position(|&m| self.name(m) == name.name);
                let ty = index
                    .and_then(|i| members.get(i))
                    .and_then(|&m| self.def(m))
                    .map(|d| d.ty.clone())
                    .unwrap_or(MTy::Error);
                (Ex::Field(Box::new(base), to_u32(index.unwrap_or(0))), ty)
            }
            MTy::Step(def) => {
                let step = self.ids.of(*def).unwrap_or(0);
                let outputs = self.members(*def, DefKind::Output);
                let (fact, ty) = match name.name.as_str() {
                    "done_by" => (Fact::DoneBy, MTy::Text),
                    "completed_at" => (Fact::CompletedAt, MTy::Time),
                    "breached" => (Fact::Breached, MTy::Bool),
                    "expired" => (Fact::Expired, MTy::Bool),
                    "done" => (Fact::Done, MTy::Bool),
                    other => {
                        let index = outputs.iter().position(|&o| self.name(o) == other);
                        let ty = index
                            .and_then(|i| outputs.get(i))
                            .and_then(|&o| self.def(o))
                            .map(|d| d.ty.clone())
                            .unwrap_or(MTy::Error);
                        (Fact::Output(to_u32(index.unwrap_or(0))), ty)
                    }
                };
                (
                    Ex::Fact {
                        record: Box::new(base),
                        step,
                        fact,
                    },
                    ty,
                )
            }
            MTy::Calendar(_) => match name.name.as_str() {
                "is_open" => (Ex::CalendarOpen(Box::new(base)), MTy::Bool),
                _ => (Ex::CalendarNext(Box::new(base)), MTy::Time),
            },
            _ => {
                self.unsupported(
                    fx.file,
                    name.span,
                    format!("`.{}` cannot be compiled here", name.name),
                    "read fields of records, outputs of steps and `is_open`/`next_open` of calendars",
                );
                (Ex::Const(0), MTy::Error)
            }
        }
    }

    fn literal(&mut self, fx: &mut Fx, lit: &ast::Literal) -> Ex {
        match &lit.kind {
            ast::LiteralKind::Int(text) => Ex::Const(literal::int_value(text).unwrap_or(0)),
            ast::LiteralKind::Duration(text) => Ex::Const(
                literal::duration_seconds(text)
                    .unwrap_or(0)
                    .saturating_mul(1000),
            ),
            ast::LiteralKind::Date(text) => Ex::Const(literal::date_days(text).unwrap_or(0)),
            ast::LiteralKind::DateTime(text) => Ex::Const(
                literal::instant_seconds(text)
                    .unwrap_or(0)
                    .saturating_mul(1000),
            ),
            ast::LiteralKind::Clock(_) => Ex::Const(0),
            ast::LiteralKind::Bool(b) => Ex::Const(i64::from(*b)),
            ast::LiteralKind::None => Ex::None,
            ast::LiteralKind::Text(parts) => {
                let mut out: Vec<Part> = Vec::new();
                for part in parts {
                    match part {
                        ast::TextPart::Lit(text) => match out.last_mut() {
                            Some(Part::Lit(previous)) => previous.push_str(text),
                            _ => out.push(Part::Lit(text.clone())),
                        },
                        ast::TextPart::Interpolation(path) => {
                            if let Some((ex, ty)) = self.path(fx, path) {
                                out.push(Part::Value(ex, ty));
                            }
                        }
                    }
                }
                match out.as_slice() {
                    [] => Ex::Text(String::new()),
                    [Part::Lit(text)] => Ex::Text(text.clone()),
                    _ => Ex::Interp(out),
                }
            }
        }
    }

    fn path(&mut self, fx: &mut Fx, path: &[Ident]) -> Option<(Ex, Ty)> {
        let file = fx.file;
        let first = path.first()?;
        let def = self.ref_at(file, first.span)?;
        let mut ex = self.name_value(fx, def, first);
        let mut ty = match self.kind(def) {
            Some(DefKind::Step) => MTy::Step(def),
            Some(DefKind::Role) => MTy::Role,
            Some(DefKind::Calendar) => MTy::Calendar(def),
            // As the checker read it there: an optional known to hold a value is read as its value.
            _ => match self.mty(file, first.span) {
                MTy::Error => self.def(def).map(|d| d.ty.clone()).unwrap_or(MTy::Error),
                ty => ty,
            },
        };
        for segment in path.iter().skip(1) {
            let (next, declared) = self.field(fx, ex, &ty, segment);
            // As the checker read this much of the path (a field checked against `none` is read as its value).
            let span = Span {
                start: first.span.start,
                end: segment.span.end,
            };
            let read = match self.mty(file, span) {
                MTy::Error => declared.clone(),
                read => read,
            };
            ex = self.narrowed(next, &declared, &read);
            ty = read;
        }
        let ty = self.ty(&ty);
        Some((ex, ty))
    }

    /// A value of `declared` type that the checker read as `read`: an optional it knew to hold a value there
    /// (`if c.note != none { … }`) is read as its value.
    fn narrowed(&self, ex: Ex, declared: &MTy, read: &MTy) -> Ex {
        if matches!(declared, MTy::Optional(_))
            && !matches!(read, MTy::Optional(_) | MTy::Error | MTy::None)
        {
            Ex::Coalesce(Box::new(ex), Box::new(Ex::Const(0)))
        } else {
            ex
        }
    }

    fn binary(
        &mut self,
        fx: &mut Fx,
        op: ast::BinaryOp,
        left: &ast::Expr,
        right: &ast::Expr,
    ) -> Ex {
        use ast::BinaryOp as B;
        let file = fx.file;
        let lt = self.mty(file, left.span);
        let rt = self.mty(file, right.span);
        let l = self.expr(fx, left);
        let r = self.expr(fx, right);
        let timeish = |t: &MTy| matches!(t, MTy::Time | MTy::Date);
        let as_time = |ex: Ex, t: &MTy| match t {
            MTy::Date => Ex::DateToTime(Box::new(ex)),
            _ => ex,
        };
        let bin = |op: BinOp, ty: Ty, a: Ex, b: Ex| Ex::Binary(op, ty, Box::new(a), Box::new(b));
        match op {
            B::And => Ex::And(Box::new(l), Box::new(r)),
            B::Or => Ex::Or(Box::new(l), Box::new(r)),
            B::Coalesce => match &lt {
                MTy::Optional(inner) => {
                    let r = self.coerce(r, &rt, inner);
                    Ex::Coalesce(Box::new(l), Box::new(r))
                }
                // `none ?? b` is `b`; an optional known to hold a value (`if x != none`) is its value.
                MTy::None | MTy::Error => r,
                _ => l,
            },
            B::Eq | B::NotEq => {
                let op = if op == B::Eq { BinOp::Eq } else { BinOp::Ne };
                match (&lt, &rt) {
                    (a, b) if timeish(a) && timeish(b) && a != b => {
                        bin(op, Ty::Time, as_time(l, &lt), as_time(r, &rt))
                    }
                    (MTy::Optional(_), MTy::None) | (MTy::None, MTy::Optional(_)) => {
                        let ty = self.ty(if matches!(lt, MTy::None) { &rt } else { &lt });
                        bin(op, ty, l, r)
                    }
                    (MTy::None, MTy::None) => Ex::Const(i64::from(op == BinOp::Eq)),
                    // An optional known to hold a value (`if x != none`) compared with `none` again.
                    (MTy::None, _) | (_, MTy::None) => Ex::Const(i64::from(op == BinOp::Ne)),
                    (MTy::Optional(_), b) if !matches!(b, MTy::Optional(_)) => {
                        let ty = self.ty(&lt);
                        let r = self.coerce(r, &rt, &lt);
                        bin(op, ty, l, r)
                    }
                    (a, MTy::Optional(_)) if !matches!(a, MTy::Optional(_)) => {
                        let ty = self.ty(&rt);
                        let l = self.coerce(l, &lt, &rt);
                        bin(op, ty, l, r)
                    }
                    _ => {
                        let ty = self.ty(&lt);
                        bin(op, ty, l, r)
                    }
                }
            }
            B::Lt | B::LtEq | B::Gt | B::GtEq => {
                let op = match op {
                    B::Lt => BinOp::Lt,
                    B::LtEq => BinOp::Le,
                    B::Gt => BinOp::Gt,
                    _ => BinOp::Ge,
                };
                if timeish(&lt) && timeish(&rt) && lt != rt {
                    bin(op, Ty::Int, as_time(l, &lt), as_time(r, &rt))
                } else {
                    bin(op, Ty::Int, l, r)
                }
            }
            B::Add | B::Sub => {
                let op = if op == B::Add { BinOp::Add } else { BinOp::Sub };
                match crate::check::whole_days(right) {
                    // Whole days moved on a date: a date (day numbers).
                    Some(days) if lt == MTy::Date && rt == MTy::Duration => {
                        bin(op, Ty::Int, l, Ex::Const(days))
                    }
                    _ if lt == MTy::Text => bin(BinOp::Concat, Ty::Text, l, r),
                    _ => Ex::Checked(op, Box::new(as_time(l, &lt)), Box::new(as_time(r, &rt))),
                }
            }
            B::Mul => Ex::Checked(BinOp::Mul, Box::new(l), Box::new(r)),
            B::Div => bin(BinOp::Div, Ty::Int, l, r),
            B::Rem => bin(BinOp::Rem, Ty::Int, l, r),
        }
    }
}

/// A duration computed at run time, checked to be at least `min` milliseconds (a constant was checked by the
/// checker, `P0017`).
fn at_least(duration: Ex, min: i64, what: &str) -> Ex {
    match duration {
        Ex::Const(_) => duration,
        _ => Ex::AtLeast(Box::new(duration), min, what.to_string()),
    }
}

/// A day so late that `due` on it never comes (used when an optional date is empty).
const NEVER_DAY: i64 = 99_999_999_999;

fn add_manager(info: &mut StepIr, role: u32) {
    if !info.managers.contains(&role) {
        info.managers.push(role);
    }
}
