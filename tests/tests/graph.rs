//! Flowcharts (`procc graph`): for every example, the Mermaid and DOT texts match their snapshots in
//! `tests/graph/` (bless with `PROC_BLESS=1`), every step of a process appears exactly once in its chart, every node
//! is reachable from the start, and the SVG is well-formed XML with one group per node.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use proc_compiler::graph::{self, EdgeStyle, Flowchart, NodeKind};
use proc_compiler::model::DefKind;
use proc_compiler::{SourceFile, analyze};
use proc_tests::examples;
use std::path::PathBuf;

fn root() -> PathBuf {
    proc_tests::repo_root()
}

fn charts_of(module: &str, text: &str) -> (proc_compiler::Analysis, Vec<Flowchart>) {
    let analysis = analyze(vec![SourceFile::new(
        format!("{module}.proc"),
        module,
        text,
    )]);
    assert!(!analysis.has_errors(), "{module} has errors");
    let charts = graph::flowcharts(&analysis);
    (analysis, charts)
}

#[test]
fn mermaid_and_dot_snapshots_of_every_example() {
    let bless = std::env::var("PROC_BLESS").is_ok_and(|v| v == "1");
    let dir = root().join("tests/graph");
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for (module, text) in examples() {
        let (_, charts) = charts_of(&module, &text);
        assert!(!charts.is_empty(), "{module} has no process");
        for (extension, render) in [
            ("mmd", graph::to_mermaid as fn(&Flowchart) -> String),
            ("dot", graph::to_dot),
        ] {
            let actual: String = charts.iter().map(render).collect::<Vec<_>>().join("\n");
            let path = dir.join(format!("{module}.{extension}"));
            if bless {
                std::fs::write(&path, &actual).unwrap();
            } else if std::fs::read_to_string(&path).unwrap_or_default() != actual {
                failures.push(path.display().to_string());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "flowcharts differ from their snapshots (PROC_BLESS=1 to accept): {failures:?}"
    );
}

#[test]
fn every_step_appears_once_and_every_node_is_reachable() {
    for (module, text) in examples() {
        let (analysis, charts) = charts_of(&module, &text);
        for chart in &charts {
            // The steps the checker knows for this flow.
            let flow = analysis
                .defs
                .iter()
                .position(|def| {
                    def.name == chart.name
                        && matches!(def.kind, DefKind::Process | DefKind::Procedure)
                })
                .unwrap();
            let mut expected: Vec<&str> = analysis
                .defs
                .iter()
                .filter(|def| {
                    def.kind == DefKind::Step && def.parent.map(|p| p.0 as usize) == Some(flow)
                })
                .map(|def| def.name.as_str())
                .collect();
            let mut drawn: Vec<&str> = chart
                .nodes
                .iter()
                .filter(|node| node.kind == NodeKind::Step)
                .map(|node| node.label.lines().next().unwrap())
                .collect();
            expected.sort_unstable();
            drawn.sort_unstable();
            assert_eq!(drawn, expected, "steps of {module}.{}", chart.name);
            // Reachability from the start over every edge.
            let mut seen = vec![false; chart.nodes.len()];
            let mut stack = vec![0];
            while let Some(node) = stack.pop() {
                if std::mem::replace(&mut seen[node], true) {
                    continue;
                }
                stack.extend(chart.edges.iter().filter(|e| e.from == node).map(|e| e.to));
            }
            assert!(
                seen.iter().all(|s| *s),
                "{module}.{}: unreachable nodes",
                chart.name
            );
            assert_eq!(chart.nodes[0].kind, NodeKind::Start);
            assert!(chart.nodes.iter().any(|n| n.kind == NodeKind::End));
        }
    }
}

#[test]
fn the_complaint_chart_has_lanes_decisions_parallel_work_and_escalations() {
    let text = std::fs::read_to_string(root().join("examples/complaint.proc")).unwrap();
    let (_, charts) = charts_of("complaint", &text);
    let chart = &charts[0];
    let lanes: Vec<Option<&str>> = chart.lanes.iter().map(Option::as_deref).collect();
    assert_eq!(
        lanes,
        [None, Some("Agent"), Some("Supervisor"), Some("Manager")]
    );
    let lane_of = |step: &str| {
        chart
            .nodes
            .iter()
            .find(|n| n.kind == NodeKind::Step && n.label.starts_with(&format!("{step}\n")))
            .and_then(|n| n.lane.clone())
    };
    assert_eq!(lane_of("escalate").as_deref(), Some("Supervisor"));
    assert_eq!(lane_of("assess").as_deref(), Some("Agent"));
    let decision = chart
        .nodes
        .iter()
        .position(|n| n.kind == NodeKind::Decision && n.label == "assess.urgency?")
        .unwrap();
    let answers: Vec<&str> = chart
        .edges
        .iter()
        .filter(|e| e.from == decision)
        .filter_map(|e| e.label.as_deref())
        .collect();
    assert_eq!(answers, ["high", "low | normal"]);
    let fork = chart
        .nodes
        .iter()
        .position(|n| n.kind == NodeKind::Fork)
        .unwrap();
    assert_eq!(chart.edges.iter().filter(|e| e.from == fork).count(), 2);
    let breaches: Vec<&str> = chart
        .edges
        .iter()
        .filter(|e| e.style == EdgeStyle::Breach)
        .filter_map(|e| e.label.as_deref())
        .collect();
    assert_eq!(
        breaches,
        [
            "breach of within 4h",
            "breach of within 1h",
            "breach of within 8h",
            "breach of within 48h"
        ]
    );
    let ladder = chart
        .nodes
        .iter()
        .find(|n| n.kind == NodeKind::Escalation && n.label.contains("after 24h"))
        .unwrap();
    assert_eq!(
        ladder.label,
        "on breach\nnotify Supervisor\nafter 4h: reassign to Supervisor\nafter 24h: notify Manager"
    );
}

#[test]
fn svg_is_well_formed_for_every_example() {
    for (module, text) in examples() {
        let (_, charts) = charts_of(&module, &text);
        for chart in &charts {
            let svg = graph::to_svg(chart);
            let document = roxmltree::Document::parse(&svg)
                .unwrap_or_else(|error| panic!("{module}.{}: {error}", chart.name));
            let root = document.root_element();
            assert_eq!(root.tag_name().name(), "svg");
            let nodes = root
                .descendants()
                .filter(|n| n.attribute("class").is_some_and(|c| c.starts_with("node ")))
                .count();
            assert_eq!(nodes, chart.nodes.len(), "{module}.{}", chart.name);
            let edges = root
                .descendants()
                .filter(|n| n.attribute("class") == Some("edge"))
                .count();
            assert_eq!(edges, chart.edges.len(), "{module}.{}", chart.name);
        }
    }
}

#[test]
fn labels_with_markup_characters_are_escaped() {
    let text =
        "role Agent\nprocess p() {\n  step s \"Check <a> & \\\"b\\\" | c\" { by Agent }\n}\n";
    let (_, charts) = charts_of("m", text);
    let svg = graph::to_svg(&charts[0]);
    roxmltree::Document::parse(&svg).unwrap();
    assert!(svg.contains("Check &lt;a&gt; &amp;"), "{svg}");
    let mermaid = graph::to_mermaid(&charts[0]);
    assert!(
        mermaid.contains("Check #lt;a#gt; & \\#quot;b\\#quot; #124; c"),
        "{mermaid}"
    );
    let dot = graph::to_dot(&charts[0]);
    assert!(dot.contains(r#"Check <a> & \\\"b\\\" | c"#), "{dot}");
}

/// `every … until` asks its condition when a round is due, before the body (the chart shows no reminder after the
/// acknowledgement); `repeat … until` asks it after the round.
#[test]
fn loops_ask_until_where_they_run_it() {
    let text = r#"/// Agents.
role Agent
/// Reminders until acknowledged, then rework until approved.
process p() {
  parallel {
    branch {
      every 15m max 8 {
        notify Agent "Please acknowledge"
      } until acknowledge.done
    }
    branch {
      step acknowledge "Acknowledge" { by Agent }
    }
  }
  repeat max 3 {
    step review "Review" -> ok: Bool { by Agent }
  } until review.ok
}
"#;
    let (_, charts) = charts_of("loops", text);
    let chart = &charts[0];
    let node = |label: &str| {
        chart
            .nodes
            .iter()
            .position(|n| n.label == label || n.label.starts_with(&format!("{label}\n")))
            .unwrap_or_else(|| panic!("no node {label}"))
    };
    let edge = |from: usize, to: usize| {
        chart
            .edges
            .iter()
            .find(|e| e.from == from && e.to == to)
            .map(|e| (e.label.clone().unwrap_or_default(), e.style))
    };
    let (every, acknowledged, notify) = (
        node("every 15m (at most 8)"),
        node("acknowledge.done?"),
        node("notify Agent"),
    );
    assert_eq!(
        edge(every, acknowledged),
        Some(("next round".to_string(), EdgeStyle::Flow))
    );
    assert_eq!(
        edge(acknowledged, notify),
        Some(("no".to_string(), EdgeStyle::Flow))
    );
    assert_eq!(edge(notify, every), Some((String::new(), EdgeStyle::Back)));
    let (repeat, review, ok) = (
        node("repeat (at most 3)"),
        node("review"),
        node("review.ok?"),
    );
    assert_eq!(
        edge(repeat, review),
        Some(("next round".to_string(), EdgeStyle::Flow))
    );
    assert_eq!(edge(review, ok), Some((String::new(), EdgeStyle::Flow)));
    assert_eq!(edge(ok, repeat), Some(("no".to_string(), EdgeStyle::Back)));
}
