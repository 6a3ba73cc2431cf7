//! Flowcharts of processes and procedures, read from the checked program: one swimlane per role, steps with their
//! deadlines, decisions, parallel splits and joins, waits for signals and time, and escalations on dashed edges.
//!
//! [`flowcharts`] builds the graph (pure data); [`to_mermaid`], [`to_dot`] and [`to_svg`] write it out. The SVG is
//! laid out here (layers by longest path, swimlanes as columns), so no Graphviz is needed.

use crate::analysis::Analysis;
use crate::ast::{
    Block, EscalationAction, ExprKind, FlowDecl, ItemKind, Join, Performer, PerformerKind,
    StepClauseKind, StepDecl, Stmt, StmtKind,
};
use crate::model::DefKind;
use crate::source::{FileId, SourceFile, Span};
use std::fmt::Write as _;

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// Where the flow starts.
    Start,
    /// Where the flow ends (normally, or by `fail`).
    End,
    /// A step: a task for a role.
    Step,
    /// A decision (`if`, `match`, a loop's condition).
    Decision,
    /// The start of parallel work (`parallel`, `first`).
    Fork,
    /// Where parallel work joins.
    Join,
    /// Waiting for a signal or for time.
    Wait,
    /// A notification to a role.
    Notify,
    /// A call of a procedure or an action.
    Call,
    /// What happens when a step's deadline passes.
    Escalation,
    /// The head of a loop.
    Loop,
}

/// A node of a flowchart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// What it is.
    pub kind: NodeKind,
    /// Its text (lines separated by `\n`).
    pub label: String,
    /// The swimlane (a role, or `None` for the process itself).
    pub lane: Option<String>,
}

/// How an edge is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeStyle {
    /// The normal flow.
    Flow,
    /// A deadline breach leading to an escalation (dashed).
    Breach,
    /// Back to the head of a loop.
    Back,
}

/// An edge of a flowchart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// From this node.
    pub from: usize,
    /// To this node.
    pub to: usize,
    /// Its text (a decision's answer, a branch's name, a deadline).
    pub label: Option<String>,
    /// How it is drawn.
    pub style: EdgeStyle,
}

/// The flowchart of one process or procedure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flowchart {
    /// The process's or procedure's name.
    pub name: String,
    /// `process` or `procedure`.
    pub kind: &'static str,
    /// The module it is declared in.
    pub module: String,
    /// Swimlanes in order of first appearance (roles; the process's own lane is `None` and comes first).
    pub lanes: Vec<Option<String>>,
    /// Nodes; `0` is the start.
    pub nodes: Vec<Node>,
    /// Edges.
    pub edges: Vec<Edge>,
}

/// The flowcharts of every process, then every procedure, of the package's own files, in source order.
pub fn flowcharts(analysis: &Analysis) -> Vec<Flowchart> {
    let mut processes = Vec::new();
    let mut procedures = Vec::new();
    for (index, (source, parsed)) in analysis
        .files
        .iter()
        .zip(&analysis.parsed)
        .take(analysis.package_files)
        .enumerate()
    {
        let file = FileId(u32::try_from(index).unwrap_or(u32::MAX));
        let at = Place {
            analysis,
            file,
            source,
        };
        for item in &parsed.ast.items {
            match &item.kind {
                ItemKind::Process(flow) => processes.push(build(at, flow, "process")),
                ItemKind::Procedure(flow) => procedures.push(build(at, flow, "procedure")),
                _ => {}
            }
        }
    }
    processes.extend(procedures);
    processes
}

/// An unconnected way out of a fragment: the node, and the label its next edge gets.
type Exit = (usize, Option<String>);

/// The file a chart is drawn from, and the analysis that resolved its names.
#[derive(Clone, Copy)]
struct Place<'a> {
    analysis: &'a Analysis,
    file: FileId,
    source: &'a SourceFile,
}

struct Builder<'a> {
    source: &'a SourceFile,
    /// Where the flow is, to tell calls of procedures that only work out a value (no node) from the others.
    at: Place<'a>,
    chart: Flowchart,
    /// Nested loops and blocks deeper than this are drawn as one node (the chart stays readable and finite).
    depth: usize,
}

const MAX_DEPTH: usize = 64;
const MAX_LABEL: usize = 60;

fn build(at: Place<'_>, flow: &FlowDecl, kind: &'static str) -> Flowchart {
    let source = at.source;
    let mut builder = Builder {
        source,
        at,
        chart: Flowchart {
            name: flow.name.name.clone(),
            kind,
            module: source.module.clone(),
            lanes: vec![None],
            nodes: Vec::new(),
            edges: Vec::new(),
        },
        depth: 0,
    };
    let start = builder.node(NodeKind::Start, "start".to_string(), None);
    let exits = builder.block(&flow.body, vec![(start, None)]);
    if !exits.is_empty() {
        let end = builder.node(NodeKind::End, "end".to_string(), None);
        builder.connect(exits, end);
    }
    builder.chart
}

impl Builder<'_> {
    fn text(&self, span: Span) -> String {
        shorten(
            &self
                .source
                .slice(span)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    fn node(&mut self, kind: NodeKind, label: String, lane: Option<String>) -> usize {
        if !self.chart.lanes.contains(&lane) {
            self.chart.lanes.push(lane.clone());
        }
        self.chart.nodes.push(Node { kind, label, lane });
        self.chart.nodes.len() - 1
    }

    fn edge(&mut self, from: usize, to: usize, label: Option<String>, style: EdgeStyle) {
        self.chart.edges.push(Edge {
            from,
            to,
            label,
            style,
        });
    }

    fn connect(&mut self, exits: Vec<Exit>, to: usize) {
        for (from, label) in exits {
            self.edge(from, to, label, EdgeStyle::Flow);
        }
    }

    /// A node that the pending exits lead into; its own exit continues the flow.
    fn simple(
        &mut self,
        exits: Vec<Exit>,
        kind: NodeKind,
        label: String,
        lane: Option<String>,
    ) -> Vec<Exit> {
        let node = self.node(kind, label, lane);
        self.connect(exits, node);
        vec![(node, None)]
    }

    fn block(&mut self, block: &Block, mut exits: Vec<Exit>) -> Vec<Exit> {
        self.depth += 1;
        for stmt in &block.stmts {
            if exits.is_empty() {
                break; // after `fail`, `complete` or `return` (the checker warns about such code)
            }
            exits = if self.depth > MAX_DEPTH {
                let label = self.text(stmt.span);
                self.simple(exits, NodeKind::Call, label, None)
            } else {
                self.stmt(stmt, exits)
            };
        }
        self.depth -= 1;
        exits
    }

    fn stmt(&mut self, stmt: &Stmt, exits: Vec<Exit>) -> Vec<Exit> {
        match &stmt.kind {
            // The whole case's ladder is no step of the flow: the manual lists it with the process.
            StmtKind::OnBreach(_) => exits,
            StmtKind::Step(step) => self.step(step, exits),
            StmtKind::If {
                branches,
                otherwise,
            } => {
                let mut pending = exits;
                let mut done = Vec::new();
                for (condition, body) in branches {
                    let decision = self.node(
                        NodeKind::Decision,
                        format!("{}?", self.text(condition.span)),
                        None,
                    );
                    self.connect(pending, decision);
                    done.extend(self.block(body, vec![(decision, Some("yes".to_string()))]));
                    pending = vec![(decision, Some("no".to_string()))];
                }
                match otherwise {
                    Some(body) => done.extend(self.block(body, pending)),
                    None => done.extend(pending),
                }
                done
            }
            StmtKind::Match {
                scrutinee, arms, ..
            } => {
                let decision = self.node(
                    NodeKind::Decision,
                    format!("{}?", self.text(scrutinee.span)),
                    None,
                );
                self.connect(exits, decision);
                let mut done = Vec::new();
                for arm in arms {
                    let label = arm
                        .patterns
                        .iter()
                        .map(|p| {
                            if p.name == "_" {
                                "other"
                            } else {
                                p.name.as_str()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" | ");
                    done.extend(self.block(&arm.body, vec![(decision, Some(label))]));
                }
                done
            }
            StmtKind::Parallel { join, branches } => {
                let join_label = match join {
                    Join::All => "all done".to_string(),
                    Join::Any => "first done".to_string(),
                    Join::Count(count) => format!("{} done", self.text(count.span)),
                };
                self.split(exits, "in parallel", branches, join_label)
            }
            StmtKind::First { branches } => {
                self.split(exits, "first of", branches, "first to finish".to_string())
            }
            StmtKind::ForEach {
                var,
                list,
                parallel,
                body,
            } => {
                let mode = if parallel.is_some() {
                    " (in parallel)"
                } else {
                    ""
                };
                let label = format!("for each {} in {}{mode}", var.name, self.text(list.span));
                self.looped(exits, label, body, None)
            }
            StmtKind::Repeat {
                max, body, until, ..
            } => {
                let label = match max {
                    Some(max) => format!("repeat (at most {})", self.text(max.span)),
                    None => "repeat".to_string(),
                };
                self.looped(exits, label, body, until.as_ref().map(|u| (u.span, false)))
            }
            StmtKind::Every {
                interval,
                max,
                body,
                until,
                ..
            } => {
                let mut label = format!("every {}", self.text(interval.span));
                if let Some(max) = max {
                    let _ = write!(label, " (at most {})", self.text(max.span));
                }
                // `until` is asked when a round is due (a condition that calls, awaits or names a step of the body:
                // after the round).
                let until = until
                    .as_ref()
                    .map(|u| (u.span, u.is_asked_before_each_round(body)));
                self.looped(exits, label, body, until)
            }
            StmtKind::WaitFor(duration, calendar) => {
                let mut label = format!("wait {}", self.text(duration.span));
                if let Some(calendar) = calendar {
                    let _ = write!(label, " on {}", calendar.name);
                }
                self.simple(exits, NodeKind::Wait, label, None)
            }
            StmtKind::WaitUntil(time) => {
                let label = format!("wait until {}", self.text(time.span));
                self.simple(exits, NodeKind::Wait, label, None)
            }
            StmtKind::Cancel(name) => {
                let label = format!("cancel {}", name.name);
                self.simple(exits, NodeKind::Call, label, None)
            }
            StmtKind::Notify { role, .. } => self.simple(
                exits,
                NodeKind::Notify,
                format!("notify {}", role.name),
                Some(role.name.clone()),
            ),
            StmtKind::Fail(reason) => {
                let label = format!("fail: {}", self.text(reason.span));
                let end = self.node(NodeKind::End, label, None);
                self.connect(exits, end);
                Vec::new()
            }
            StmtKind::Complete(value) | StmtKind::Return(value) => {
                let label = match value {
                    Some(value) => format!("end: {}", self.text(value.span)),
                    None => "end".to_string(),
                };
                let end = self.node(NodeKind::End, label, None);
                self.connect(exits, end);
                Vec::new()
            }
            StmtKind::Expr(expr) | StmtKind::Let { value: expr, .. } => match &expr.kind {
                ExprKind::Await {
                    signal,
                    within,
                    calendar,
                } => {
                    let mut label = format!("wait for {}", signal.name);
                    if let Some(within) = within {
                        let _ = write!(label, "\nat most {}", self.text(within.span));
                        if let Some(calendar) = calendar {
                            let _ = write!(label, " on {}", calendar.name);
                        }
                    }
                    self.simple(exits, NodeKind::Wait, label, None)
                }
                ExprKind::Call(callee, _) => {
                    // `let limit = working_days(2)` is no work for anyone: no box for it.
                    let analysis = self.at.analysis;
                    let value_only = analysis
                        .reference_at(self.at.file, callee.span)
                        .filter(|&id| {
                            analysis
                                .def(id)
                                .is_some_and(|def| def.kind == DefKind::Procedure)
                        })
                        .is_some_and(|id| !analysis.does_work(id));
                    if value_only {
                        return exits;
                    }
                    let label = self.text(callee.span);
                    self.simple(exits, NodeKind::Call, label, None)
                }
                _ => exits,
            },
            StmtKind::Error => exits,
        }
    }

    fn split(
        &mut self,
        exits: Vec<Exit>,
        label: &str,
        branches: &[crate::ast::BranchDecl],
        join_label: String,
    ) -> Vec<Exit> {
        let fork = self.node(NodeKind::Fork, label.to_string(), None);
        self.connect(exits, fork);
        let mut done = Vec::new();
        for branch in branches {
            let label = branch.name.as_ref().map(|name| name.name.clone());
            done.extend(self.block(&branch.body, vec![(fork, label)]));
        }
        let join = self.node(NodeKind::Join, join_label, None);
        self.connect(done, join);
        vec![(join, None)]
    }

    fn looped(
        &mut self,
        exits: Vec<Exit>,
        label: String,
        body: &Block,
        until: Option<(Span, bool)>,
    ) -> Vec<Exit> {
        let head = self.node(NodeKind::Loop, label, None);
        self.connect(exits, head);
        if let Some((until, true)) = until {
            // Asked when a round is due, before the body.
            let check = self.node(NodeKind::Decision, format!("{}?", self.text(until)), None);
            self.edge(head, check, Some("next round".to_string()), EdgeStyle::Flow);
            let ends = self.block(body, vec![(check, Some("no".to_string()))]);
            for (from, label) in ends {
                self.edge(from, head, label, EdgeStyle::Back);
            }
            return vec![
                (check, Some("yes".to_string())),
                (head, Some("done".to_string())),
            ];
        }
        let ends = self.block(body, vec![(head, Some("next round".to_string()))]);
        match until.map(|(span, _)| span) {
            Some(until) => {
                let check = self.node(NodeKind::Decision, format!("{}?", self.text(until)), None);
                self.connect(ends, check);
                self.edge(check, head, Some("no".to_string()), EdgeStyle::Back);
                vec![
                    (check, Some("yes".to_string())),
                    (head, Some("done".to_string())),
                ]
            }
            None => {
                for (from, label) in ends {
                    self.edge(from, head, label, EdgeStyle::Back);
                }
                vec![(head, Some("done".to_string()))]
            }
        }
    }

    fn step(&mut self, step: &StepDecl, exits: Vec<Exit>) -> Vec<Exit> {
        let mut lane = None;
        let mut timing = Vec::new();
        let mut ladder = Vec::new();
        for clause in &step.clauses {
            match &clause.kind {
                StepClauseKind::By(performer) => {
                    lane = Some(performer_lane(performer, |span| self.text(span)));
                }
                StepClauseKind::Within { .. }
                | StepClauseKind::After { .. }
                | StepClauseKind::Due(_)
                | StepClauseKind::Expires { .. }
                | StepClauseKind::Paused { .. }
                | StepClauseKind::OnlyDuring(_) => timing.push(self.text(clause.span)),
                StepClauseKind::OnBreach(stages) => ladder = stages.clone(),
                StepClauseKind::Skippable => timing.push("skippable".to_string()),
                StepClauseKind::Error => {}
            }
        }
        let mut label = step.name.name.clone();
        if let Some(instruction) = &step.instruction {
            let text = self.text(instruction.span);
            let _ = write!(label, "\n{}", text.trim_matches('"'));
        }
        for line in &timing {
            let _ = write!(label, "\n{line}");
        }
        let node = self.node(NodeKind::Step, label, lane);
        self.connect(exits, node);
        if !ladder.is_empty() {
            let mut lines = Vec::new();
            let mut escalation_lane = None;
            for stage in &ladder {
                let when = match (&stage.after, &stage.before, &stage.calendar) {
                    (Some(after), _, Some(calendar)) => {
                        format!("after {} on {}: ", self.text(after.span), calendar.name)
                    }
                    (Some(after), _, None) => format!("after {}: ", self.text(after.span)),
                    (None, Some(before), _) => format!("{} before: ", self.text(before.span)),
                    (None, None, _) => String::new(),
                };
                let what = match &stage.action {
                    EscalationAction::Notify(role, _) => {
                        escalation_lane.get_or_insert_with(|| role.name.clone());
                        format!("notify {}", role.name)
                    }
                    EscalationAction::Reassign(role) => {
                        escalation_lane = Some(role.name.clone());
                        format!("reassign to {}", role.name)
                    }
                    EscalationAction::Cancel => "withdraw the step".to_string(),
                    EscalationAction::Flag(text) => format!("flag {}", self.text(text.span)),
                };
                lines.push(format!("{when}{what}"));
            }
            let escalation = self.node(
                NodeKind::Escalation,
                format!("on breach\n{}", lines.join("\n")),
                escalation_lane,
            );
            let deadline = timing
                .iter()
                .find(|line| line.starts_with("within") || line.starts_with("due"))
                .cloned()
                .unwrap_or_else(|| "deadline".to_string());
            self.edge(
                node,
                escalation,
                Some(format!("breach of {deadline}")),
                EdgeStyle::Breach,
            );
        }
        vec![(node, None)]
    }
}

/// The swimlane of a step: its role, or the people the flow names (each their own lane, as written).
fn performer_lane(performer: &Performer, text: impl Fn(Span) -> String) -> String {
    match &performer.kind {
        PerformerKind::Role { role, .. } => role.name.clone(),
        PerformerKind::Person(expr) => format!("person {}", text(expr.span)),
        PerformerKind::DynamicRole(expr) => format!("role {}", text(expr.span)),
        PerformerKind::ManagerOf(step) => format!("manager of {}'s performer", step.name),
        PerformerKind::SameAs(step) => format!("performer of {}", step.name),
    }
}

/// At most [`MAX_LABEL`] characters, with `…` when cut.
fn shorten(text: &str) -> String {
    shorten_to(text, MAX_LABEL)
}

fn lane_title(lane: &Option<String>, chart: &Flowchart) -> String {
    match lane {
        Some(role) => role.clone(),
        None => format!("{} {}", chart.kind, chart.name),
    }
}

/// Mermaid `flowchart TD` text, one `subgraph` per swimlane.
pub fn to_mermaid(chart: &Flowchart) -> String {
    let escape = |text: &str| {
        text.replace('"', "#quot;")
            .replace('|', "#124;")
            .replace('<', "#lt;")
            .replace('>', "#gt;")
            .replace('\n', "<br/>")
    };
    let mut out = format!(
        "%% {} {} ({})\nflowchart TD\n",
        chart.kind, chart.name, chart.module
    );
    for (lane_index, lane) in chart.lanes.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph lane{lane_index}[\"{}\"]",
            escape(&lane_title(lane, chart))
        );
        for (index, node) in chart.nodes.iter().enumerate() {
            if &node.lane != lane {
                continue;
            }
            let label = escape(&node.label);
            let shape = match node.kind {
                NodeKind::Start | NodeKind::End => format!("([\"{label}\"])"),
                NodeKind::Decision | NodeKind::Loop => format!("{{\"{label}\"}}"),
                NodeKind::Fork | NodeKind::Join => format!("[[\"{label}\"]]"),
                NodeKind::Wait => format!("[/\"{label}\"/]"),
                NodeKind::Notify => format!(">\"{label}\"]"),
                NodeKind::Call => format!("[[\"{label}\"]]"),
                NodeKind::Escalation => format!("{{{{\"{label}\"}}}}"),
                NodeKind::Step => format!("[\"{label}\"]"),
            };
            let _ = writeln!(out, "    n{index}{shape}");
        }
        out.push_str("  end\n");
    }
    for edge in &chart.edges {
        let arrow = match edge.style {
            EdgeStyle::Flow | EdgeStyle::Back => "-->",
            EdgeStyle::Breach => "-.->",
        };
        match &edge.label {
            Some(label) => {
                let _ = writeln!(
                    out,
                    "  n{} {arrow}|\"{}\"| n{}",
                    edge.from,
                    escape(label),
                    edge.to
                );
            }
            None => {
                let _ = writeln!(out, "  n{} {arrow} n{}", edge.from, edge.to);
            }
        }
    }
    out
}

/// Graphviz DOT text, one `cluster` per swimlane.
pub fn to_dot(chart: &Flowchart) -> String {
    let escape = |text: &str| {
        text.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    };
    let mut out = format!(
        "// {} {} ({})\ndigraph \"{}\" {{\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n",
        chart.kind,
        chart.name,
        chart.module,
        escape(&chart.name)
    );
    for (lane_index, lane) in chart.lanes.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph cluster_{lane_index} {{\n    label=\"{}\";\n    style=rounded;",
            escape(&lane_title(lane, chart))
        );
        for (index, node) in chart.nodes.iter().enumerate() {
            if &node.lane != lane {
                continue;
            }
            let shape = match node.kind {
                NodeKind::Start | NodeKind::End => "shape=oval",
                NodeKind::Decision | NodeKind::Loop => "shape=diamond",
                NodeKind::Fork | NodeKind::Join => "shape=box, style=bold",
                NodeKind::Wait => "shape=parallelogram",
                NodeKind::Notify => "shape=cds",
                NodeKind::Call => "shape=box, peripheries=2",
                NodeKind::Escalation => "shape=hexagon, style=dashed",
                NodeKind::Step => "shape=box, style=rounded",
            };
            let _ = writeln!(
                out,
                "    n{index} [{shape}, label=\"{}\"];",
                escape(&node.label)
            );
        }
        out.push_str("  }\n");
    }
    for edge in &chart.edges {
        let mut attributes = Vec::new();
        if let Some(label) = &edge.label {
            attributes.push(format!("label=\"{}\"", escape(label)));
        }
        match edge.style {
            EdgeStyle::Flow => {}
            EdgeStyle::Breach => attributes.push("style=dashed".to_string()),
            EdgeStyle::Back => attributes.push("constraint=false".to_string()),
        }
        let attributes = if attributes.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attributes.join(", "))
        };
        let _ = writeln!(out, "  n{} -> n{}{attributes};", edge.from, edge.to);
    }
    out.push_str("}\n");
    out
}

const NODE_WIDTH: i64 = 180;
const NODE_GAP: i64 = 24;
const ROW_HEIGHT: i64 = 104;
const LINE_HEIGHT: i64 = 13;
const HEADER: i64 = 36;

/// A standalone SVG: swimlanes as columns, nodes in rows by their longest distance from the start.
pub fn to_svg(chart: &Flowchart) -> String {
    let count = chart.nodes.len();
    // Rows: longest path from the start over forward edges (loops' back edges ignored), computed by relaxing
    // in edge order until nothing changes (edges go forward in creation order, so this ends quickly).
    let mut row = vec![0i64; count];
    for _ in 0..count.max(1) {
        let mut changed = false;
        for edge in chart.edges.iter().filter(|e| e.style != EdgeStyle::Back) {
            // An escalation sits beside its step: it runs while the step is still open.
            let step = i64::from(edge.style != EdgeStyle::Breach);
            let from = row.get(edge.from).copied().unwrap_or(0);
            if let Some(to) = row.get_mut(edge.to) {
                if *to < from + step && from + step <= i64::try_from(count).unwrap_or(i64::MAX) {
                    *to = from + step;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // Columns: each lane is as wide as its busiest row.
    let lane_of = |node: &Node| {
        chart
            .lanes
            .iter()
            .position(|l| l == &node.lane)
            .unwrap_or(0)
    };
    let mut slot = vec![0i64; count];
    let mut widest = vec![1i64; chart.lanes.len()];
    let mut used: std::collections::BTreeMap<(usize, i64), i64> = std::collections::BTreeMap::new();
    for (index, node) in chart.nodes.iter().enumerate() {
        let lane = lane_of(node);
        let key = (lane, row.get(index).copied().unwrap_or(0));
        let taken = used.entry(key).or_insert(0);
        if let Some(s) = slot.get_mut(index) {
            *s = *taken;
        }
        *taken += 1;
        if let Some(w) = widest.get_mut(lane) {
            *w = (*w).max(*taken);
        }
    }
    let mut lane_x = Vec::with_capacity(chart.lanes.len());
    let mut x = 0;
    for width in &widest {
        lane_x.push(x);
        x += width * (NODE_WIDTH + NODE_GAP) + NODE_GAP;
    }
    let total_width = x.max(NODE_WIDTH + 2 * NODE_GAP);
    let rows = row.iter().copied().max().unwrap_or(0) + 1;
    let total_height = HEADER + rows * ROW_HEIGHT + NODE_GAP;
    let center = |index: usize| -> (i64, i64) {
        let node = chart.nodes.get(index);
        let lane = node.map_or(0, lane_of);
        let base = lane_x.get(lane).copied().unwrap_or(0);
        let cx = base
            + NODE_GAP
            + slot.get(index).copied().unwrap_or(0) * (NODE_WIDTH + NODE_GAP)
            + NODE_WIDTH / 2;
        let cy = HEADER + row.get(index).copied().unwrap_or(0) * ROW_HEIGHT + ROW_HEIGHT / 2;
        (cx, cy)
    };
    let height_of = |node: &Node| -> i64 {
        let lines = i64::try_from(node.label.lines().count())
            .unwrap_or(1)
            .max(1);
        (lines * LINE_HEIGHT + 16).clamp(30, ROW_HEIGHT - 16)
    };
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total_width}\" height=\"{total_height}\" \
         viewBox=\"0 0 {total_width} {total_height}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n\
         <title>{} {}</title>\n\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" \
         orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#444\"/></marker></defs>\n",
        xml_escape(chart.kind),
        xml_escape(&chart.name)
    );
    for (lane_index, lane) in chart.lanes.iter().enumerate() {
        let x = lane_x.get(lane_index).copied().unwrap_or(0);
        let width =
            widest.get(lane_index).copied().unwrap_or(1) * (NODE_WIDTH + NODE_GAP) + NODE_GAP;
        let fill = if lane_index % 2 == 0 {
            "#f6f8fa"
        } else {
            "#eef2f6"
        };
        let _ = writeln!(
            out,
            "<g class=\"lane\"><rect x=\"{x}\" y=\"0\" width=\"{width}\" height=\"{total_height}\" fill=\"{fill}\" \
             stroke=\"#c9d1d9\"/><text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-weight=\"bold\">{}</text></g>",
            x + width / 2,
            xml_escape(&lane_title(lane, chart))
        );
    }
    for edge in &chart.edges {
        let (Some(from), Some(to)) = (chart.nodes.get(edge.from), chart.nodes.get(edge.to)) else {
            continue;
        };
        let (x1, y1) = center(edge.from);
        let (x2, y2) = center(edge.to);
        let same_row = y1 == y2;
        let (y1, y2) = if same_row {
            (y1, y2)
        } else {
            (y1 + height_of(from) / 2, y2 - height_of(to) / 2)
        };
        let (dash, color) = match edge.style {
            EdgeStyle::Flow => ("", "#444"),
            EdgeStyle::Breach => (" stroke-dasharray=\"5 4\"", "#b42318"),
            EdgeStyle::Back => (" stroke-dasharray=\"2 3\"", "#444"),
        };
        let path = if edge.style == EdgeStyle::Back {
            // Around the right side, back up to the loop's head.
            let side = x1.max(x2) + NODE_WIDTH / 2 + NODE_GAP / 2;
            let top = y2 + height_of(to) / 2;
            format!(
                "M {x1} {y1} L {x1} {} L {side} {} L {side} {top} L {} {top}",
                y1 + 8,
                y1 + 8,
                x2 + NODE_WIDTH / 2
            )
        } else if same_row {
            // Side by side: from the near side of one box to the near side of the other.
            let (start, end) = if x2 >= x1 {
                (x1 + NODE_WIDTH / 2, x2 - NODE_WIDTH / 2)
            } else {
                (x1 - NODE_WIDTH / 2, x2 + NODE_WIDTH / 2)
            };
            format!("M {start} {y1} L {end} {y2}")
        } else {
            let middle = (y1 + y2) / 2;
            format!("M {x1} {y1} L {x1} {middle} L {x2} {middle} L {x2} {y2}")
        };
        let _ = writeln!(
            out,
            "<path class=\"edge\" d=\"{path}\" fill=\"none\" stroke=\"{color}\"{dash} marker-end=\"url(#arrow)\"/>"
        );
        if let Some(label) = &edge.label {
            let _ = writeln!(
                out,
                "<text class=\"edge-label\" x=\"{}\" y=\"{}\" font-size=\"9\" fill=\"{color}\">{}</text>",
                (x1 + x2) / 2 + 4,
                (y1 + y2) / 2 - 3,
                xml_escape(label)
            );
        }
    }
    for (index, node) in chart.nodes.iter().enumerate() {
        let (cx, cy) = center(index);
        let height = height_of(node);
        let (x, y) = (cx - NODE_WIDTH / 2, cy - height / 2);
        let shape = match node.kind {
            NodeKind::Start | NodeKind::End => format!(
                "<rect x=\"{x}\" y=\"{y}\" width=\"{NODE_WIDTH}\" height=\"{height}\" rx=\"{}\" fill=\"#e7f5e9\" stroke=\"#2f7a3d\"/>",
                height / 2
            ),
            NodeKind::Decision | NodeKind::Loop => format!(
                "<polygon points=\"{cx},{y} {},{cy} {cx},{} {x},{cy}\" fill=\"#fff8e1\" stroke=\"#9a6700\"/>",
                x + NODE_WIDTH,
                y + height
            ),
            NodeKind::Fork | NodeKind::Join => format!(
                "<rect x=\"{x}\" y=\"{y}\" width=\"{NODE_WIDTH}\" height=\"{height}\" fill=\"#eaeef2\" stroke=\"#24292f\" stroke-width=\"2\"/>"
            ),
            NodeKind::Escalation => format!(
                "<rect x=\"{x}\" y=\"{y}\" width=\"{NODE_WIDTH}\" height=\"{height}\" rx=\"4\" fill=\"#fdecea\" stroke=\"#b42318\" stroke-dasharray=\"5 4\"/>"
            ),
            NodeKind::Wait => format!(
                "<polygon points=\"{},{y} {},{y} {},{} {x},{}\" fill=\"#f0f4ff\" stroke=\"#3451b2\"/>",
                x + 10,
                x + NODE_WIDTH,
                x + NODE_WIDTH - 10,
                y + height,
                y + height
            ),
            NodeKind::Notify | NodeKind::Call => format!(
                "<rect x=\"{x}\" y=\"{y}\" width=\"{NODE_WIDTH}\" height=\"{height}\" fill=\"#ffffff\" stroke=\"#57606a\" stroke-dasharray=\"1 0\"/>"
            ),
            NodeKind::Step => format!(
                "<rect x=\"{x}\" y=\"{y}\" width=\"{NODE_WIDTH}\" height=\"{height}\" rx=\"6\" fill=\"#ffffff\" stroke=\"#0969da\"/>"
            ),
        };
        let lines: Vec<&str> = node.label.lines().collect();
        let first_y = cy - (i64::try_from(lines.len()).unwrap_or(1) - 1) * LINE_HEIGHT / 2 + 4;
        let mut text = format!("<text x=\"{cx}\" y=\"{first_y}\" text-anchor=\"middle\">");
        for (line_index, line) in lines.iter().enumerate() {
            let dy = if line_index == 0 { 0 } else { LINE_HEIGHT };
            let weight = if line_index == 0 && node.kind == NodeKind::Step {
                " font-weight=\"bold\""
            } else {
                ""
            };
            let _ = write!(
                text,
                "<tspan x=\"{cx}\" dy=\"{dy}\"{weight}>{}</tspan>",
                xml_escape(&shorten_to(line, 30))
            );
        }
        text.push_str("</text>");
        let _ = writeln!(
            out,
            "<g class=\"node {}\">{shape}{text}</g>",
            kind_class(node.kind)
        );
    }
    out.push_str("</svg>\n");
    out
}

fn kind_class(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Start => "start",
        NodeKind::End => "end",
        NodeKind::Step => "step",
        NodeKind::Decision => "decision",
        NodeKind::Fork => "fork",
        NodeKind::Join => "join",
        NodeKind::Wait => "wait",
        NodeKind::Notify => "notify",
        NodeKind::Call => "call",
        NodeKind::Escalation => "escalation",
        NodeKind::Loop => "loop",
    }
}

/// At most `limit` characters, with `…` when cut: not inside a `{…}` placeholder (the cut goes before it), and
/// at a space when there is one in the last part of the room.
fn shorten_to(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let mut cut = text
        .char_indices()
        .nth(limit.saturating_sub(1))
        .map_or(text.len(), |(at, _)| at);
    let head = text.get(..cut).unwrap_or(text);
    if let Some(open) = head.rfind('{') {
        if !head.get(open..).unwrap_or_default().contains('}') {
            cut = open;
        }
    }
    let head = text.get(..cut).unwrap_or(text);
    if let Some(space) = head.rfind(' ') {
        if space * 10 >= cut * 6 {
            cut = space;
        }
    }
    let mut short = text.get(..cut).unwrap_or(text).trim_end().to_string();
    short.push('…');
    short
}

/// Text escaped for XML (SVG here, XHTML in the manual).
pub(crate) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::shorten_to;

    #[test]
    fn labels_are_cut_between_words_and_never_inside_a_placeholder() {
        assert_eq!(shorten_to("Fix it", 30), "Fix it");
        assert_eq!(
            shorten_to("Post a status page notice: {o.title} now", 30),
            "Post a status page notice:…"
        );
        assert_eq!(
            shorten_to("Acknowledge the complaint from everyone", 30),
            "Acknowledge the complaint…"
        );
        assert_eq!(
            shorten_to("Abcdefghijklmnopqrstuvwxyz0123456789", 10),
            "Abcdefghi…"
        );
    }
}
