//! The SOP manual of a package, generated from the checked program: for each process and procedure its purpose,
//! who does what (a RACI-style table), the flowchart, and the numbered steps with who performs them, by when, what
//! happens on a breach and what is recorded; then the roles and the calendars.
//!
//! The manual is built once as a small document model ([`Block`], [`Inline`]) and written twice: as Markdown (with
//! Mermaid flowcharts) and as one standalone XHTML page (inline CSS and SVG flowcharts, no external assets).

use crate::analysis::Analysis;
use crate::ast::{
    Block as AstBlock, CalendarEntry, ExprKind, FlowDecl, ItemKind, Join, PerformerKind,
    StepClauseKind, StepDecl, Stmt, StmtKind,
};
use crate::graph;
use crate::model::{DefKind, Definition};
use crate::source::{FileId, SourceFile, Span};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A piece of running text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inline {
    /// Plain text.
    Text(String),
    /// Code (a name, a duration).
    Code(String),
    /// Bold text.
    Strong(String),
    /// A link to a section of the manual.
    Link(String, String),
}

/// A block of the manual.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// A heading: level, anchor, text.
    Heading(u8, String, String),
    /// A paragraph.
    Paragraph(Vec<Inline>),
    /// A numbered list; each item is a paragraph and nested blocks.
    Numbered(Vec<(Vec<Inline>, Vec<Block>)>),
    /// A bulleted list.
    Bullets(Vec<(Vec<Inline>, Vec<Block>)>),
    /// A table: header and rows of cells.
    Table(Vec<String>, Vec<Vec<Vec<Inline>>>),
    /// A flowchart.
    Chart(Box<graph::Flowchart>),
}

/// A generated manual.
#[derive(Clone, Debug)]
pub struct Manual {
    /// Its title.
    pub title: String,
    /// The document.
    pub blocks: Vec<Block>,
}

/// What a parallel construct waits for, in words to follow "at the same time".
fn join_words(join: &Join, slice: &dyn Fn(Span) -> String) -> String {
    match join {
        Join::All => String::new(),
        Join::Any => "; once one is finished, the others are called off".to_string(),
        Join::Count(n) => format!(
            "; once {} are finished, the others are called off",
            slice(n.span)
        ),
    }
}

fn text(value: impl Into<String>) -> Inline {
    Inline::Text(value.into())
}

fn code(value: impl Into<String>) -> Inline {
    Inline::Code(value.into())
}

/// Splits text with `` `names` `` in backticks (as the compiler writes meanings) into text and code.
fn words(value: &str) -> Vec<Inline> {
    value
        .split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(index, part)| {
            if index % 2 == 1 {
                code(part)
            } else {
                text(part)
            }
        })
        .collect()
}

fn anchor(kind: &str, name: &str) -> String {
    format!("{kind}-{}", name.to_ascii_lowercase())
}

/// A line of the manual ended with what the thing it names is for (`: …`), if known, and a full stop.
fn ended(mut line: Vec<Inline>, summary: Option<String>) -> Vec<Inline> {
    if let Some(summary) = summary {
        line.push(text(": "));
        line.push(text(summary));
    }
    line.push(text("."));
    line
}

/// The first sentence of a doc comment, on one line and without its full stop (the manual adds its own).
fn first_sentence(docs: &str) -> String {
    let line = docs.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = line
        .match_indices(". ")
        .map(|(at, _)| at)
        .next()
        .unwrap_or(line.len());
    line.get(..end)
        .unwrap_or(&line)
        .trim_end_matches('.')
        .to_string()
}

struct Writer<'a> {
    analysis: &'a Analysis,
    /// Procedures of the package, for links from calls.
    procedures: Vec<String>,
}

/// The manual of a package.
pub fn manual(analysis: &Analysis, package: &str) -> Manual {
    let mut flows: Vec<(FileId, &SourceFile, &FlowDecl, &'static str)> = Vec::new();
    let mut calendars = Vec::new();
    for (index, (source, parsed)) in analysis
        .files
        .iter()
        .zip(&analysis.parsed)
        .take(analysis.package_files)
        .enumerate()
    {
        let file = FileId(u32::try_from(index).unwrap_or(u32::MAX));
        for item in &parsed.ast.items {
            match &item.kind {
                ItemKind::Process(flow) => flows.push((file, source, flow, "process")),
                ItemKind::Procedure(flow) => flows.push((file, source, flow, "procedure")),
                ItemKind::Calendar(calendar) => calendars.push((source, calendar)),
                _ => {}
            }
        }
    }
    // Processes first, then procedures, each in source order.
    flows.sort_by_key(|(_, _, _, kind)| *kind != "process");
    let writer = Writer {
        analysis,
        procedures: flows
            .iter()
            .filter(|(_, _, _, kind)| *kind == "procedure")
            .map(|(_, _, flow, _)| flow.name.name.clone())
            .collect(),
    };
    let charts = graph::flowcharts(analysis);
    let title = format!("{package}: standard operating procedures");
    let mut blocks = vec![
        Block::Heading(1, "top".to_string(), title.clone()),
        Block::Paragraph(vec![
            text("Generated by "),
            code("procc doc"),
            text(" from the package's "),
            code(".proc"),
            text(
                " files: the same source the help desk runs, so this manual and the workflow always agree.",
            ),
        ]),
        Block::Heading(2, "contents".to_string(), "Contents".to_string()),
    ];
    let mut contents: Vec<(Vec<Inline>, Vec<Block>)> = flows
        .iter()
        .map(|(file, _, flow, kind)| {
            let summary = writer
                .def_of(*file, flow)
                .and_then(|def| def.docs.as_deref())
                .and_then(|docs| docs.lines().next())
                .map(|line| format!(" — {line}"))
                .unwrap_or_default();
            (
                vec![
                    Inline::Link(
                        format!("{kind} {}", flow.name.name),
                        anchor(kind, &flow.name.name),
                    ),
                    text(summary),
                ],
                Vec::new(),
            )
        })
        .collect();
    contents.push((
        vec![Inline::Link("Roles".to_string(), "roles".to_string())],
        Vec::new(),
    ));
    if writer.has_choices() {
        contents.push((
            vec![Inline::Link("Choices".to_string(), "choices".to_string())],
            Vec::new(),
        ));
    }
    if !calendars.is_empty() {
        contents.push((
            vec![Inline::Link(
                "Calendars".to_string(),
                "calendars".to_string(),
            )],
            Vec::new(),
        ));
    }
    blocks.push(Block::Bullets(contents));
    for (file, source, flow, kind) in &flows {
        let chart = charts
            .iter()
            .find(|chart| chart.name == flow.name.name && chart.kind == *kind)
            .cloned();
        writer.flow(&mut blocks, *file, source, flow, kind, chart);
    }
    writer.roles(&mut blocks);
    writer.choices(&mut blocks);
    // The package's calendars, then the standard library's that it uses.
    let package_files = analysis.package_files;
    for (site, target) in &analysis.references {
        let Some(def) = analysis.def(*target) else {
            continue;
        };
        if (site.file.0 as usize) >= package_files
            || def.kind != DefKind::Calendar
            || (def.file.0 as usize) < package_files
        {
            continue;
        }
        let decl = analysis.parsed.get(def.file.0 as usize).and_then(|parsed| {
            parsed.ast.items.iter().find_map(|item| match &item.kind {
                ItemKind::Calendar(calendar) if calendar.name.span == def.name_span => {
                    Some(calendar)
                }
                _ => None,
            })
        });
        if let (Some(source), Some(decl)) = (analysis.file(def.file), decl) {
            if !calendars.iter().any(|(_, c)| c.name.name == decl.name.name) {
                calendars.push((source, decl));
            }
        }
    }
    if !calendars.is_empty() {
        blocks.push(Block::Heading(
            2,
            "calendars".to_string(),
            "Calendars".to_string(),
        ));
        let mut rows = Vec::new();
        for (source, calendar) in calendars {
            let mut entries: Vec<String> = Vec::new();
            let mut holidays: Vec<String> = Vec::new();
            for entry in &calendar.entries {
                match entry {
                    CalendarEntry::Zone(literal) => {
                        entries.push(format!("time zone {}", source.slice(literal.span)));
                    }
                    CalendarEntry::Hours { span, .. } => {
                        entries.push(source.slice(*span).trim_start_matches("hours ").to_string());
                    }
                    CalendarEntry::Holiday(from, to) => {
                        let span = to.as_ref().map_or(from.span, |to| from.span.to(to.span));
                        holidays.push(source.slice(span).to_string());
                    }
                    CalendarEntry::Include(name) => {
                        entries.push(format!("the hours and days off of {}", name.name));
                    }
                    CalendarEntry::Error(_) => {}
                }
            }
            match holidays.as_slice() {
                [] => {}
                [one] if !one.contains(" to ") => entries.push(format!("day off {one}")),
                [range] => entries.push(format!("days off {range}")),
                few if few.len() <= 4 => entries.push(format!("days off {}", few.join(", "))),
                [first, .., last] => {
                    entries.push(format!("{} days off, {first} to {last}", holidays.len()))
                }
            }
            let def = analysis.defs.iter().find(|def| {
                def.kind == DefKind::Calendar
                    && def.name_span == calendar.name.span
                    && analysis
                        .file(def.file)
                        .is_some_and(|f| f.name == source.name)
            });
            let mut about = def
                .and_then(|def| def.docs.as_deref())
                .map(|docs| words(&docs.replace('\n', " ")))
                .unwrap_or_else(|| vec![text("–")]);
            if def.is_some_and(|def| (def.file.0 as usize) >= package_files) {
                about.push(text(" (from "));
                about.push(code(source.module.clone()));
                about.push(text(")"));
            }
            rows.push(vec![
                vec![code(calendar.name.name.clone())],
                about,
                vec![text(entries.join("; "))],
            ]);
        }
        blocks.push(Block::Table(
            vec![
                "Calendar".to_string(),
                "What it is".to_string(),
                "Working time".to_string(),
            ],
            rows,
        ));
    }
    Manual { title, blocks }
}

impl Writer<'_> {
    fn def_of(&self, file: FileId, flow: &FlowDecl) -> Option<&Definition> {
        self.analysis.defs.iter().find(|def| {
            def.file == file
                && def.name_span == flow.name.span
                && matches!(def.kind, DefKind::Process | DefKind::Procedure)
        })
    }

    /// The KPIs measuring a process, as table rows: name, measure, target, documentation.
    fn kpis_of(&self, process: &Definition) -> Vec<Vec<Vec<Inline>>> {
        let mut rows = Vec::new();
        for (id, decl) in self.analysis.kpis() {
            let Some(def) = self.analysis.def(id) else {
                continue;
            };
            let measures = self
                .analysis
                .kpi_processes
                .get(&id)
                .into_iter()
                .flatten()
                .filter_map(|p| self.analysis.def(*p))
                .any(|p| p.file == process.file && p.name_span == process.name_span);
            let Some(measure) = crate::kpi::measure(decl).filter(|_| measures) else {
                continue;
            };
            let working_time = crate::kpi::is_working_time(decl);
            let target = crate::kpi::target(decl).map_or_else(
                || "–".to_string(),
                |target| crate::kpi::target_words(target, working_time),
            );
            let docs = def
                .docs
                .as_deref()
                .map(|d| d.replace('\n', " "))
                .unwrap_or_default();
            let mut name = vec![code(decl.name.name.clone())];
            if def.file.0 as usize >= self.analysis.package_files {
                name.push(text(" (std)"));
            }
            rows.push(vec![
                name,
                words(&capitalised(&crate::kpi::measure_words(measure))),
                vec![text(target)],
                words(&docs),
            ]);
        }
        rows
    }

    /// Roles by what they do in a flow, with the steps of the procedures it calls (each named once, as
    /// `step (in procedure name)`): a supervisor who checks the work inside `double_check` is in the table too.
    fn collect_roles(
        &self,
        file: FileId,
        source: &SourceFile,
        block: &AstBlock,
        via: Option<&str>,
        followed: &mut Vec<String>,
        raci: &mut BTreeMap<String, [Vec<String>; 4]>,
    ) {
        let named = |step: &str| match via {
            Some(procedure) => format!("{step} (in procedure {procedure})"),
            None => step.to_string(),
        };
        for stmt in &block.stmts {
            match &stmt.kind {
                StmtKind::Step(step) => {
                    for clause in &step.clauses {
                        match &clause.kind {
                            StepClauseKind::By(performer) => {
                                let column = if performer.other_than.is_some() { 1 } else { 0 };
                                let slice = |span: Span| source.slice_one_line(span);
                                // A standard-library procedure's people are named by its parameters, which
                                // mean nothing here; its roles are real.
                                let outside = (file.0 as usize) >= self.analysis.package_files;
                                let who = match &performer.kind {
                                    PerformerKind::Role { role, .. } => role.name.clone(),
                                    _ if outside => continue,
                                    PerformerKind::Person(expr) => {
                                        format!(
                                            "{PEOPLE}the person named by `{}`",
                                            slice(expr.span)
                                        )
                                    }
                                    PerformerKind::DynamicRole(expr) => {
                                        format!("{PEOPLE}the role named by `{}`", slice(expr.span))
                                    }
                                    PerformerKind::ManagerOf(step) => {
                                        format!(
                                            "{PEOPLE}the manager of whoever did `{}`",
                                            step.name
                                        )
                                    }
                                    PerformerKind::SameAs(step) => {
                                        format!("{PEOPLE}the person who did `{}`", step.name)
                                    }
                                };
                                add_role(raci, &who, column, named(&step.name.name));
                            }
                            StepClauseKind::OnBreach(stages) => {
                                for stage in stages {
                                    match &stage.action {
                                        crate::ast::EscalationAction::Reassign(role) => {
                                            add_role(raci, &role.name, 2, named(&step.name.name));
                                        }
                                        crate::ast::EscalationAction::Notify(role, _) => {
                                            // A warning is sent while the step is still on time.
                                            let when = if stage.before.is_some() {
                                                "due soon"
                                            } else {
                                                "late"
                                            };
                                            let late = match via {
                                                Some(procedure) => format!(
                                                    "{} ({when}, in procedure {procedure})",
                                                    step.name.name
                                                ),
                                                None => format!("{} ({when})", step.name.name),
                                            };
                                            add_role(raci, &role.name, 3, late);
                                        }
                                        _ => {}
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                StmtKind::Notify { role, .. } => {
                    add_role(raci, &role.name, 3, DURING_THE_FLOW.to_string())
                }
                StmtKind::Let { value, .. } | StmtKind::Expr(value) => {
                    if let ExprKind::Call(callee, _) = &value.kind {
                        self.follow_call(file, callee, followed, raci);
                    }
                }
                _ => {}
            }
            for nested in stmt.blocks() {
                self.collect_roles(file, source, nested, via, followed, raci);
            }
        }
    }

    /// The roles of a procedure that a flow calls, of the package or the standard library (once each, also in a
    /// cycle).
    fn follow_call(
        &self,
        file: FileId,
        callee: &crate::ast::Expr,
        followed: &mut Vec<String>,
        raci: &mut BTreeMap<String, [Vec<String>; 4]>,
    ) {
        let Some(def) = self
            .analysis
            .reference_at(file, callee.span)
            .and_then(|id| self.analysis.def(id))
            .filter(|def| def.kind == DefKind::Procedure)
        else {
            return;
        };
        if followed.contains(&def.name) {
            return;
        }
        followed.push(def.name.clone());
        let (Some(source), Some(parsed)) = (
            self.analysis.files.get(def.file.0 as usize),
            self.analysis.parsed.get(def.file.0 as usize),
        ) else {
            return;
        };
        let body = parsed.ast.items.iter().find_map(|item| match &item.kind {
            ItemKind::Procedure(flow) if flow.name.span == def.name_span => Some(&flow.body),
            _ => None,
        });
        if let Some(body) = body {
            let name = def.name.clone();
            self.collect_roles(def.file, source, body, Some(&name), followed, raci);
        }
    }

    fn step_def(&self, file: FileId, step: &StepDecl) -> Option<(usize, &Definition)> {
        self.analysis.defs.iter().enumerate().find(|(_, def)| {
            def.file == file && def.kind == DefKind::Step && def.name_span == step.name.span
        })
    }

    fn flow(
        &self,
        blocks: &mut Vec<Block>,
        file: FileId,
        source: &SourceFile,
        flow: &FlowDecl,
        kind: &str,
        chart: Option<graph::Flowchart>,
    ) {
        let name = &flow.name.name;
        blocks.push(Block::Heading(
            2,
            anchor(kind, name),
            format!("{} {name}", capitalised(kind)),
        ));
        let def = self.def_of(file, flow);
        if let Some(docs) = def.and_then(|def| def.docs.as_deref()) {
            for paragraph in docs.split("\n\n") {
                blocks.push(Block::Paragraph(words(&paragraph.replace('\n', " "))));
            }
        }
        let mut facts = Vec::new();
        if let Some(def) = def {
            facts.push((
                vec![text("Signature: "), code(def.signature.clone())],
                Vec::new(),
            ));
        }
        if let Some(within) = &flow.within {
            let mut line = vec![
                text("The whole case must be finished within "),
                code(source.slice(within.span).to_string()),
            ];
            line.extend(working_time(flow.within_calendar.as_ref()));
            line.push(text("."));
            facts.push((line, Vec::new()));
            // The whole case's ladder (`on breach` in the body), in the checker's words.
            if let Some(ladder) = def
                .and_then(|def| def.meaning.as_deref())
                .and_then(|meaning| meaning.strip_prefix("on breach: "))
            {
                let mut line = vec![text("If the whole case is late: ")];
                line.extend(words(ladder));
                line.push(text("."));
                facts.push((line, Vec::new()));
            }
        }
        facts.push((vec![text(format!("Module: {}", source.module))], Vec::new()));
        blocks.push(Block::Bullets(facts));

        // Who does what.
        let mut raci: BTreeMap<String, [Vec<String>; 4]> = BTreeMap::new();
        let mut followed = Vec::new();
        self.collect_roles(file, source, &flow.body, None, &mut followed, &mut raci);
        if !raci.is_empty() {
            blocks.push(Block::Heading(
                3,
                format!("{}-roles", anchor(kind, name)),
                "Roles and responsibilities".to_string(),
            ));
            let cell = |list: &Vec<String>| -> Vec<Inline> {
                if list.is_empty() {
                    vec![text("–")]
                } else {
                    let mut cells = Vec::new();
                    for (index, item) in list.iter().enumerate() {
                        if index > 0 {
                            cells.push(text(", "));
                        }
                        // A step's name as code, what is said of it as words: `resolve` (late); a notice sent
                        // by the flow itself is words only.
                        match item.split_once(" (") {
                            _ if item == DURING_THE_FLOW => cells.push(text(item)),
                            Some((step, rest)) => {
                                cells.push(code(step.to_string()));
                                cells.push(text(format!(" ({rest}")));
                            }
                            None => cells.push(code(item.clone())),
                        }
                    }
                    cells
                }
            };
            let rows = raci
                .iter()
                .map(|(role, [performs, approves, escalated, notified])| {
                    // People named by the flow rather than by a role: what names them, as written.
                    let who = match role.strip_prefix(PEOPLE) {
                        Some(described) => words(described),
                        None => vec![Inline::Link(role.clone(), anchor("role", role))],
                    };
                    vec![
                        who,
                        cell(performs),
                        cell(approves),
                        cell(escalated),
                        cell(notified),
                    ]
                })
                .collect();
            blocks.push(Block::Table(
                vec![
                    "Role".to_string(),
                    "Performs (responsible)".to_string(),
                    "Checks another's work (four eyes)".to_string(),
                    "Takes over on escalation".to_string(),
                    "Is notified (informed)".to_string(),
                ],
                rows,
            ));
        }
        let kpis = def.map(|def| self.kpis_of(def)).unwrap_or_default();
        if !kpis.is_empty() {
            blocks.push(Block::Heading(
                3,
                format!("{}-kpis", anchor(kind, name)),
                "KPIs".to_string(),
            ));
            blocks.push(Block::Paragraph(words(
                "The runtime measures these on every case; `procc run` reports each case's values and a summary \
                 (count, mean, median, 90th percentile, share meeting the target).",
            )));
            blocks.push(Block::Table(
                vec![
                    "KPI".to_string(),
                    "What is measured".to_string(),
                    "Target".to_string(),
                    "Why".to_string(),
                ],
                kpis,
            ));
        }
        if let Some(chart) = chart {
            blocks.push(Block::Heading(
                3,
                format!("{}-flowchart", anchor(kind, name)),
                "Flowchart".to_string(),
            ));
            blocks.push(Block::Chart(Box::new(chart)));
        }
        blocks.push(Block::Heading(
            3,
            format!("{}-steps", anchor(kind, name)),
            "Steps".to_string(),
        ));
        let steps = self.steps(file, source, &flow.body, 0);
        if steps.is_empty() {
            blocks.push(Block::Paragraph(vec![text(
                "This flow has no steps for people.",
            )]));
        } else {
            blocks.extend(steps);
        }
    }

    /// The statements of a block as lists: steps numbered, decisions and parallel work as nested lists.
    fn steps(
        &self,
        file: FileId,
        source: &SourceFile,
        block: &AstBlock,
        depth: usize,
    ) -> Vec<Block> {
        if depth > 32 {
            return vec![Block::Paragraph(vec![text("(nested too deeply to list)")])];
        }
        let mut out: Vec<Block> = Vec::new();
        let mut numbered: Vec<(Vec<Inline>, Vec<Block>)> = Vec::new();
        for stmt in &block.stmts {
            if let Some(item) = self.stmt(file, source, stmt, depth) {
                numbered.push(item);
            }
        }
        if !numbered.is_empty() {
            out.push(Block::Numbered(numbered));
        }
        out
    }

    fn stmt(
        &self,
        file: FileId,
        source: &SourceFile,
        stmt: &Stmt,
        depth: usize,
    ) -> Option<(Vec<Inline>, Vec<Block>)> {
        let slice = |span: Span| source.slice_one_line(span);
        let nested = |block: &AstBlock| self.steps(file, source, block, depth + 1);
        match &stmt.kind {
            // Said with the process's deadline, above its steps.
            StmtKind::OnBreach(_) => None,
            StmtKind::Step(step) => Some(self.step(file, source, step)),
            StmtKind::If {
                branches,
                otherwise,
            } => {
                let mut cases = Vec::new();
                let nothing = |mut head: Vec<Inline>, body: Vec<Block>| {
                    if body.is_empty() {
                        head.push(text(" nothing to do here."));
                    }
                    (head, body)
                };
                for (index, (condition, body)) in branches.iter().enumerate() {
                    let word = if index == 0 { "If " } else { "Otherwise, if " };
                    cases.push(nothing(
                        vec![text(word), code(slice(condition.span)), text(":")],
                        nested(body),
                    ));
                }
                if let Some(body) = otherwise {
                    cases.push(nothing(vec![text("Otherwise:")], nested(body)));
                }
                Some((
                    vec![Inline::Strong("Decide".to_string())],
                    vec![Block::Bullets(cases)],
                ))
            }
            StmtKind::Match {
                scrutinee, arms, ..
            } => {
                let cases = arms
                    .iter()
                    .map(|arm| {
                        let mut head = if arm.patterns.iter().any(|p| p.name == "_") {
                            vec![text("Any other value:")]
                        } else {
                            let mut head = vec![text("When it is ")];
                            for (index, pattern) in arm.patterns.iter().enumerate() {
                                if index > 0 {
                                    head.push(text(" or "));
                                }
                                head.push(code(pattern.name.clone()));
                            }
                            head.push(text(":"));
                            head
                        };
                        let body = nested(&arm.body);
                        if body.is_empty() {
                            head.push(text(" nothing to do here."));
                        }
                        (head, body)
                    })
                    .collect();
                Some((
                    vec![
                        Inline::Strong("Decide by".to_string()),
                        text(" "),
                        code(slice(scrutinee.span)),
                    ],
                    vec![Block::Bullets(cases)],
                ))
            }
            StmtKind::Parallel { branches, .. } | StmtKind::First { branches } => {
                let head = match &stmt.kind {
                    StmtKind::First { .. } => {
                        "Do these at the same time; the first to finish ends the others".to_string()
                    }
                    StmtKind::Parallel { join, .. } => {
                        format!("Do these at the same time{}", join_words(join, &slice))
                    }
                    _ => String::new(),
                };
                let cases = branches
                    .iter()
                    .enumerate()
                    .map(|(index, branch)| {
                        let label = branch.name.as_ref().map_or_else(
                            || format!("Branch {}:", index + 1),
                            |n| format!("Branch `{}`:", n.name),
                        );
                        (words(&label), nested(&branch.body))
                    })
                    .collect();
                Some((vec![Inline::Strong(head)], vec![Block::Bullets(cases)]))
            }
            StmtKind::ForEach {
                var,
                list,
                body,
                parallel,
            } => Some((
                vec![
                    Inline::Strong("For each".to_string()),
                    text(" "),
                    code(var.name.clone()),
                    text(" in "),
                    code(slice(list.span)),
                    text(&match parallel {
                        None => ", one after the other:".to_string(),
                        Some(join) => {
                            format!(", all at the same time{}:", join_words(join, &slice))
                        }
                    }),
                ],
                nested(body),
            )),
            StmtKind::Repeat {
                max, body, until, ..
            }
            | StmtKind::Every {
                max, body, until, ..
            } => {
                let mut head = match &stmt.kind {
                    StmtKind::Every { interval, .. } => {
                        vec![
                            Inline::Strong("Every ".to_string()),
                            code(slice(interval.span)),
                        ]
                    }
                    _ => vec![Inline::Strong("Repeat".to_string())],
                };
                if let Some(max) = max {
                    head.push(text(", at most "));
                    head.push(code(slice(max.span)));
                    head.push(text(" times"));
                }
                if let Some(until) = until {
                    head.push(text(", until "));
                    head.push(code(slice(until.span)));
                }
                head.push(text(":"));
                Some((head, nested(body)))
            }
            StmtKind::WaitFor(duration, calendar) => {
                let mut line = vec![text("Wait "), code(slice(duration.span))];
                line.extend(working_time(calendar.as_ref()));
                line.push(text("."));
                Some((line, Vec::new()))
            }
            StmtKind::WaitUntil(time) => Some((
                vec![text("Wait until "), code(slice(time.span)), text(".")],
                Vec::new(),
            )),
            StmtKind::Notify { role, message } => {
                let mut line = vec![
                    text("Notify "),
                    Inline::Link(role.name.clone(), anchor("role", &role.name)),
                ];
                if let Some(message) = message {
                    line.push(text(": "));
                    line.push(text(slice(message.span)));
                }
                Some((line, Vec::new()))
            }
            StmtKind::Cancel(name) => Some((
                vec![text("Stop "), code(name.name.clone()), text(".")],
                Vec::new(),
            )),
            StmtKind::Fail(reason) => Some((
                vec![
                    Inline::Strong("The case fails: ".to_string()),
                    text(slice(reason.span)),
                ],
                Vec::new(),
            )),
            StmtKind::Complete(None) => Some((
                vec![Inline::Strong("The case is complete.".to_string())],
                Vec::new(),
            )),
            // A text is the reason it completed with; any other value is the process's result.
            StmtKind::Complete(Some(value)) => Some((
                match &value.kind {
                    ExprKind::Literal(crate::ast::Literal {
                        kind: crate::ast::LiteralKind::Text(_),
                        ..
                    }) => vec![
                        Inline::Strong("The case is complete: ".to_string()),
                        text(slice(value.span)),
                    ],
                    _ => vec![
                        Inline::Strong("The case is complete".to_string()),
                        text(", with the result "),
                        code(slice(value.span)),
                        text("."),
                    ],
                },
                Vec::new(),
            )),
            // A procedure hands back to the flow that followed it; the case goes on.
            StmtKind::Return(None) => Some((
                vec![
                    Inline::Strong("The procedure ends here".to_string()),
                    text(" (the flow that followed it goes on)."),
                ],
                Vec::new(),
            )),
            StmtKind::Return(Some(value)) => Some((
                vec![
                    Inline::Strong("The procedure ends here".to_string()),
                    text(", handing back "),
                    code(slice(value.span)),
                    text("."),
                ],
                Vec::new(),
            )),
            StmtKind::Expr(expr) | StmtKind::Let { value: expr, .. } => match &expr.kind {
                ExprKind::Await {
                    signal,
                    within,
                    calendar,
                } => {
                    let mut line = vec![text("Wait for "), code(signal.name.clone())];
                    if let Some(within) = within {
                        line.push(text(", at most "));
                        line.push(code(slice(within.span)));
                        line.extend(working_time(calendar.as_ref()));
                    }
                    line.push(text("."));
                    Some((line, Vec::new()))
                }
                ExprKind::Call(callee, _) => {
                    let name = slice(callee.span);
                    let def = self
                        .analysis
                        .reference_at(file, callee.span)
                        .and_then(|id| self.analysis.def(id).map(|def| (id, def)));
                    let summary = def
                        .and_then(|(_, def)| def.docs.as_deref())
                        .map(first_sentence)
                        .filter(|summary| !summary.is_empty());
                    let module = def
                        .and_then(|(_, def)| self.analysis.files.get(def.file.0 as usize))
                        .map(|file| file.module.clone());
                    match def {
                        // An action: the help desk's own system does it (sends the email, books the refund).
                        Some((_, def)) if def.kind == DefKind::Action => {
                            let line = vec![text("The help desk's system performs "), code(name)];
                            Some((ended(line, summary), Vec::new()))
                        }
                        // A procedure that only works out a value (`let limit = working_days(2)`) is no
                        // work for anyone: the value is named where it is used.
                        Some((id, def))
                            if def.kind == DefKind::Procedure && !self.analysis.does_work(id) =>
                        {
                            match &stmt.kind {
                                StmtKind::Let { name: var, .. } => {
                                    let line = vec![
                                        code(var.name.clone()),
                                        text(" is "),
                                        code(slice(expr.span)),
                                    ];
                                    Some((ended(line, summary), Vec::new()))
                                }
                                _ => None,
                            }
                        }
                        _ if self.procedures.contains(&name) => Some((
                            vec![
                                text("Follow "),
                                Inline::Link(
                                    format!("procedure {name}"),
                                    anchor("procedure", &name),
                                ),
                                text("."),
                            ],
                            Vec::new(),
                        )),
                        // A procedure of the standard library (or another package): all its documentation says
                        // (who does what, by when), since this manual has no section of its own for it.
                        _ => {
                            let mut line = vec![text("Follow "), code(name)];
                            if let Some(module) = module {
                                line.push(text(" (from "));
                                line.push(code(module));
                                line.push(text(")"));
                            }
                            let whole = def
                                .and_then(|(_, def)| def.docs.as_deref())
                                .map(|docs| {
                                    let line =
                                        docs.split_whitespace().collect::<Vec<_>>().join(" ");
                                    line.trim_end_matches('.').to_string()
                                })
                                .filter(|docs| !docs.is_empty());
                            Some((ended(line, whole.or(summary)), Vec::new()))
                        }
                    }
                }
                _ => None,
            },
            StmtKind::Error => None,
        }
    }

    fn step(
        &self,
        file: FileId,
        source: &SourceFile,
        step: &StepDecl,
    ) -> (Vec<Inline>, Vec<Block>) {
        let mut head = vec![Inline::Strong(step.name.name.clone())];
        if let Some(instruction) = &step.instruction {
            head.push(text(" — "));
            head.push(text(
                source.slice(instruction.span).trim_matches('"').to_string(),
            ));
        }
        let mut details = Vec::new();
        let found = self.step_def(file, step);
        if let Some((_, def)) = found {
            if let Some(docs) = &def.docs {
                details.push((words(&docs.replace('\n', " ")), Vec::new()));
            }
            if let Some(meaning) = &def.meaning {
                for part in meaning.split("; on breach: ").enumerate() {
                    let (index, part) = part;
                    let label = if index == 0 {
                        "Who and by when: "
                    } else if part.contains("before the breach") {
                        "Near and past the deadline: "
                    } else {
                        "If late: "
                    };
                    let mut line = vec![text(label)];
                    line.extend(words(part));
                    line.push(text("."));
                    details.push((line, Vec::new()));
                }
            }
        }
        if let Some((index, _)) = found {
            let id = crate::model::DefId(u32::try_from(index).unwrap_or(u32::MAX));
            let outputs: Vec<&Definition> = self
                .analysis
                .members
                .get(&id)
                .map(|members| {
                    members
                        .iter()
                        .filter_map(|member| self.analysis.def(*member))
                        .filter(|member| member.kind == DefKind::Output)
                        .collect()
                })
                .unwrap_or_default();
            if !outputs.is_empty() {
                let mut line = vec![text("Records: ")];
                for (position, output) in outputs.iter().enumerate() {
                    if position > 0 {
                        line.push(text(", "));
                    }
                    let signature = output
                        .signature
                        .rsplit('.')
                        .next()
                        .unwrap_or(&output.signature);
                    line.push(code(signature.to_string()));
                }
                line.push(text("."));
                details.push((line, Vec::new()));
            }
        }
        for clause in &step.clauses {
            match &clause.kind {
                StepClauseKind::Skippable => {
                    details.push((vec![text("May be skipped.")], Vec::new()));
                }
                // Four eyes (`other than`) is said in "Who and by when" already.
                StepClauseKind::Paused { from, until } => details.push((
                    vec![
                        text("The clock stops on "),
                        code(from.name.clone()),
                        text(" and runs again on "),
                        code(until.name.clone()),
                        text("."),
                    ],
                    Vec::new(),
                )),
                _ => {}
            }
        }
        let nested = if details.is_empty() {
            Vec::new()
        } else {
            vec![Block::Bullets(details)]
        };
        (head, nested)
    }

    /// The package's enums: the values a decision or a form chooses from.
    fn enums(&self) -> impl Iterator<Item = (crate::model::DefId, &Definition)> {
        let package_files = self.analysis.package_files;
        self.analysis
            .defs
            .iter()
            .enumerate()
            .filter(move |(_, def)| {
                def.kind == DefKind::Enum && (def.file.0 as usize) < package_files
            })
            .map(|(index, def)| {
                (
                    crate::model::DefId(u32::try_from(index).unwrap_or(u32::MAX)),
                    def,
                )
            })
    }

    fn has_choices(&self) -> bool {
        self.enums().next().is_some()
    }

    /// Each enum with its values and what they mean (their doc comments), so a decision "by `c.impact`" or a
    /// form's choice can be read without the source.
    fn choices(&self, blocks: &mut Vec<Block>) {
        if !self.has_choices() {
            return;
        }
        blocks.push(Block::Heading(
            2,
            "choices".to_string(),
            "Choices".to_string(),
        ));
        let mut rows = Vec::new();
        for (id, def) in self.enums() {
            let mut values = Vec::new();
            for (position, variant) in self
                .analysis
                .members
                .get(&id)
                .into_iter()
                .flatten()
                .filter_map(|member| self.analysis.def(*member))
                .filter(|member| member.kind == DefKind::Variant)
                .enumerate()
            {
                if position > 0 {
                    values.push(text("; "));
                }
                values.push(code(variant.name.clone()));
                if let Some(docs) = &variant.docs {
                    values.push(text(": "));
                    let docs = docs.replace('\n', " ");
                    values.extend(words(docs.trim_end().trim_end_matches('.')));
                }
            }
            let about = def
                .docs
                .as_deref()
                .map(|docs| words(&docs.replace('\n', " ")))
                .unwrap_or_else(|| vec![text("–")]);
            rows.push(vec![vec![code(def.name.clone())], about, values]);
        }
        blocks.push(Block::Table(
            vec![
                "Choice".to_string(),
                "What it is".to_string(),
                "Values".to_string(),
            ],
            rows,
        ));
    }

    fn roles(&self, blocks: &mut Vec<Block>) {
        blocks.push(Block::Heading(2, "roles".to_string(), "Roles".to_string()));
        // The package's roles, then the standard library's roles it uses.
        let package_files = self.analysis.package_files;
        let mut used: Vec<usize> = self
            .analysis
            .defs
            .iter()
            .enumerate()
            .filter(|(_, def)| def.kind == DefKind::Role && (def.file.0 as usize) < package_files)
            .map(|(index, _)| index)
            .collect();
        for (site, target) in &self.analysis.references {
            let index = target.0 as usize;
            let is_role = self
                .analysis
                .def(*target)
                .is_some_and(|def| def.kind == DefKind::Role);
            if (site.file.0 as usize) < package_files && is_role && !used.contains(&index) {
                used.push(index);
            }
        }
        // Roles are identities: modules that declare the same name mean the same role, so it gets one row (and
        // one anchor), with each different description.
        let mut by_name: Vec<(&str, Vec<&Definition>)> = Vec::new();
        for def in used
            .iter()
            .filter_map(|index| self.analysis.defs.get(*index))
        {
            match by_name.iter_mut().find(|(name, _)| *name == def.name) {
                Some((_, defs)) => defs.push(def),
                None => by_name.push((def.name.as_str(), vec![def])),
            }
        }
        let mut rows = Vec::new();
        for (_, defs) in &by_name {
            let Some(def) = defs.iter().find(|d| d.docs.is_some()).or(defs.first()) else {
                continue;
            };
            let mut about = def
                .docs
                .as_deref()
                .map(|docs| words(&docs.replace('\n', " ")))
                .unwrap_or_else(|| vec![text("–")]);
            let mut seen: Vec<&str> = def.docs.as_deref().into_iter().collect();
            for other in defs {
                if let Some(docs) = other.docs.as_deref().filter(|d| !seen.contains(d)) {
                    seen.push(docs);
                    about.push(text(" Also: "));
                    about.extend(words(&docs.replace('\n', " ")));
                }
            }
            if defs.iter().all(|d| (d.file.0 as usize) >= package_files) {
                let module = self
                    .analysis
                    .file(def.file)
                    .map(|file| file.module.clone())
                    .unwrap_or_default();
                about.push(text(" (from "));
                about.push(code(module));
                about.push(text(")"));
            }
            // The row's first cell carries the role's anchor (see the writers).
            rows.push(vec![vec![Inline::Strong(def.name.clone())], about]);
        }
        if rows.is_empty() {
            blocks.push(Block::Paragraph(vec![text(
                "This package declares no roles.",
            )]));
        } else {
            blocks.push(Block::Table(
                vec!["Role".to_string(), "Who they are".to_string()],
                rows,
            ));
        }
    }
}

/// Roles by what they do in a flow: performs, approves (four eyes), takes over, is notified.
fn add_role(
    raci: &mut BTreeMap<String, [Vec<String>; 4]>,
    role: &str,
    column: usize,
    what: String,
) {
    let entry = raci.entry(role.to_string()).or_default();
    if let Some(list) = entry.get_mut(column) {
        if !list.contains(&what) {
            list.push(what);
        }
    }
}

/// ` of Office's working time` after a wait's duration on a calendar (nothing without one).
fn working_time(calendar: Option<&crate::ast::Ident>) -> Vec<Inline> {
    calendar.map_or_else(Vec::new, |calendar| {
        vec![
            text(" of "),
            Inline::Link(calendar.name.clone(), anchor("calendar", &calendar.name)),
            text("'s working time"),
        ]
    })
}

/// What the roles table says of a role the flow notifies in a `notify` statement (not a step's name).
const DURING_THE_FLOW: &str = "during the flow";

/// Marks a row of the roles table that is not a role but people the flow names (`by person …`, `by manager of
/// …`): sorted after the roles, shown as the words that follow.
const PEOPLE: &str = "~";

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The manual as Markdown (flowcharts as Mermaid blocks).
pub fn to_markdown(manual: &Manual) -> String {
    let mut out = String::new();
    for block in &manual.blocks {
        markdown_block(&mut out, block, 0);
    }
    out
}

fn markdown_inline(inlines: &[Inline]) -> String {
    let mut out = String::new();
    for inline in inlines {
        match inline {
            Inline::Text(value) => out.push_str(&value.replace('|', "\\|")),
            Inline::Code(value) => {
                let _ = write!(out, "`{}`", value.replace('`', "'").replace('|', "\\|"));
            }
            Inline::Strong(value) => {
                // `**Every **` does not close in CommonMark: spaces go after the closing `**`.
                let trimmed = value.trim_end();
                let _ = write!(
                    out,
                    "**{}**{}",
                    trimmed.replace('|', "\\|"),
                    &value[trimmed.len()..]
                );
            }
            Inline::Link(label, target) => {
                let _ = write!(out, "[{}](#{target})", label.replace('|', "\\|"));
            }
        }
    }
    out
}

fn markdown_block(out: &mut String, block: &Block, indent: usize) {
    let pad = " ".repeat(indent);
    match block {
        Block::Heading(level, anchor, title) => {
            let _ = writeln!(
                out,
                "{} {title} <a id=\"{anchor}\"></a>\n",
                "#".repeat(usize::from(*level))
            );
        }
        Block::Paragraph(inlines) => {
            let _ = writeln!(out, "{pad}{}\n", markdown_inline(inlines));
        }
        Block::Numbered(items) | Block::Bullets(items) => {
            let numbered = matches!(block, Block::Numbered(_));
            for (index, (head, nested)) in items.iter().enumerate() {
                let marker = if numbered {
                    format!("{}.", index + 1)
                } else {
                    "-".to_string()
                };
                let _ = writeln!(out, "{pad}{marker} {}", markdown_inline(head));
                for child in nested {
                    let mut inner = String::new();
                    markdown_block(&mut inner, child, indent + marker.len() + 1);
                    out.push_str(inner.trim_end_matches('\n'));
                    out.push('\n');
                }
            }
            out.push('\n');
        }
        Block::Table(header, rows) => {
            let _ = writeln!(out, "{pad}| {} |", header.join(" | "));
            let _ = writeln!(out, "{pad}|{}", " --- |".repeat(header.len()));
            for row in rows {
                let cells: Vec<String> = row
                    .iter()
                    .enumerate()
                    .map(|(index, cell)| match (index, cell.first()) {
                        // A role's row carries its anchor, so links to roles land here.
                        (0, Some(Inline::Strong(role))) => {
                            format!(
                                "<a id=\"{}\"></a>{}",
                                anchor("role", role),
                                markdown_inline(cell)
                            )
                        }
                        _ => markdown_inline(cell),
                    })
                    .collect();
                let _ = writeln!(out, "{pad}| {} |", cells.join(" | "));
            }
            out.push('\n');
        }
        Block::Chart(chart) => {
            let _ = writeln!(out, "```mermaid\n{}```\n", graph::to_mermaid(chart));
        }
    }
}

/// The index of several manuals `(package, manual)`, as Markdown and as an XHTML page linking `PACKAGE.md` and
/// `PACKAGE.html`.
pub fn index(manuals: &[(String, Manual)]) -> (String, String) {
    let mut markdown = String::from("# Standard operating procedures\n\n");
    let mut items = String::new();
    for (name, manual) in manuals {
        let _ = writeln!(markdown, "- [{}]({name}.md)", manual.title);
        let _ = writeln!(
            items,
            "<li><a href=\"{}.html\">{}</a></li>",
            escape(name),
            escape(&manual.title)
        );
    }
    let html = format!(
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <title>Standard operating procedures</title>\n<style>body {{ font-family: system-ui, sans-serif; max-width: 800px; \
         margin: 40px auto; }}</style>\n</head>\n<body>\n<h1>Standard operating procedures</h1>\n<ul>\n{items}</ul>\n</body>\n</html>\n"
    );
    (markdown, html)
}

/// The manual as one standalone XHTML page: inline CSS, flowcharts as inline SVG, no external assets.
pub fn to_html(manual: &Manual) -> String {
    let mut body = String::new();
    for block in &manual.blocks {
        html_block(&mut body, block);
    }
    format!(
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>{}</title>\n<style>\n{}</style>\n</head>\n\
         <body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape(&manual.title),
        STYLE
    )
}

const STYLE: &str = "body { font-family: system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #1f2328; \
background: #ffffff; margin: 0; }\n\
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; line-height: 1.5; }\n\
h1 { border-bottom: 2px solid #d0d7de; padding-bottom: 8px; }\n\
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 4px; margin-top: 40px; }\n\
code { background: #f6f8fa; padding: 1px 4px; border-radius: 4px; font-size: 90%; }\n\
table { border-collapse: collapse; margin: 12px 0; }\n\
th, td { border: 1px solid #d0d7de; padding: 6px 10px; text-align: left; vertical-align: top; }\n\
th { background: #f6f8fa; }\n\
.chart { overflow-x: auto; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px; }\n\
a { color: #0969da; text-decoration: none; }\n\
a:hover { text-decoration: underline; }\n";

fn escape(value: &str) -> String {
    graph::xml_escape(value)
}

fn html_inline(inlines: &[Inline]) -> String {
    let mut out = String::new();
    for inline in inlines {
        match inline {
            Inline::Text(value) => out.push_str(&escape(value)),
            Inline::Code(value) => {
                let _ = write!(out, "<code>{}</code>", escape(value));
            }
            Inline::Strong(value) => {
                let _ = write!(out, "<strong>{}</strong>", escape(value));
            }
            Inline::Link(label, target) => {
                let _ = write!(out, "<a href=\"#{}\">{}</a>", escape(target), escape(label));
            }
        }
    }
    out
}

fn html_block(out: &mut String, block: &Block) {
    match block {
        Block::Heading(level, anchor, title) => {
            let _ = writeln!(
                out,
                "<h{level} id=\"{}\">{}</h{level}>",
                escape(anchor),
                escape(title)
            );
        }
        Block::Paragraph(inlines) => {
            let _ = writeln!(out, "<p>{}</p>", html_inline(inlines));
        }
        Block::Numbered(items) | Block::Bullets(items) => {
            let tag = if matches!(block, Block::Numbered(_)) {
                "ol"
            } else {
                "ul"
            };
            let _ = writeln!(out, "<{tag}>");
            for (head, nested) in items {
                let _ = write!(out, "<li>{}", html_inline(head));
                for child in nested {
                    out.push('\n');
                    html_block(out, child);
                }
                out.push_str("</li>\n");
            }
            let _ = writeln!(out, "</{tag}>");
        }
        Block::Table(header, rows) => {
            out.push_str("<table>\n<thead><tr>");
            for cell in header {
                let _ = write!(out, "<th>{}</th>", escape(cell));
            }
            out.push_str("</tr></thead>\n<tbody>\n");
            for row in rows {
                out.push_str("<tr>");
                for (index, cell) in row.iter().enumerate() {
                    // A role's row carries its anchor, so links to roles land here.
                    let id = match (index, cell.first()) {
                        (0, Some(Inline::Strong(role))) => {
                            format!(" id=\"{}\"", escape(&anchor("role", role)))
                        }
                        _ => String::new(),
                    };
                    let _ = write!(out, "<td{id}>{}</td>", html_inline(cell));
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</tbody>\n</table>\n");
        }
        Block::Chart(chart) => {
            let svg = graph::to_svg(chart);
            let _ = writeln!(out, "<div class=\"chart\">\n{svg}</div>");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markdown(text: &str) -> String {
        let analysis = crate::analyze(vec![SourceFile::new("t.proc", "t", text)]);
        assert!(!analysis.has_errors(), "{:#?}", analysis.diagnostics);
        to_markdown(&manual(&analysis, "t"))
    }

    /// How a flow ends is said as it is: a procedure hands back to its caller (the case goes on), a process
    /// completes with its reason or result; a deadline computed when the step opens is still given; an empty
    /// branch says so, and `_` reads as "any other value".
    #[test]
    fn endings_computed_deadlines_and_empty_branches_read_as_they_behave() {
        let text = "role Agent\nenum Level { low, high }\n\
            procedure ask(limit: Duration) -> Bool {\n  step reply \"Reply\" -> ok: Bool { by Agent within limit }\n  \
            return reply.ok\n}\n\
            process p(level: Level) {\n  let fine = ask(8h)\n  match level {\n    low => {}\n    _ => { notify Agent }\n  }\n  \
            if fine {\n    complete \"answered\"\n  }\n  complete\n}\n";
        let out = markdown(text);
        for expected in [
            "**The procedure ends here**, handing back `reply.ok`.",
            "due `limit` after the step opens",
            "**The case is complete:** \"answered\"",
            "When it is `low`: nothing to do here.",
            "Any other value:",
        ] {
            assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
        }
        assert!(!out.contains("`_`"), "{out}");
    }
}
