//! SOP manuals (`procc doc`): the Markdown of every example matches its snapshot in `tests/doc/` (bless with
//! `PROC_BLESS=1`); the HTML is well-formed XHTML with no external assets, one flowchart per process and
//! procedure, working internal links, and every step of the package listed.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use proc_compiler::doc;
use proc_compiler::model::DefKind;
use proc_compiler::{SourceFile, analyze};
use proc_tests::examples;
use std::path::PathBuf;

fn root() -> PathBuf {
    proc_tests::repo_root()
}

#[test]
fn markdown_snapshots_of_every_example() {
    let bless = std::env::var("PROC_BLESS").is_ok_and(|v| v == "1");
    let dir = root().join("tests/doc");
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for (module, text) in examples() {
        let analysis = analyze(vec![SourceFile::new(
            format!("{module}.proc"),
            module.as_str(),
            text,
        )]);
        let markdown = doc::to_markdown(&doc::manual(&analysis, &module));
        let path = dir.join(format!("{module}.md"));
        if bless {
            std::fs::write(&path, &markdown).unwrap();
        } else if std::fs::read_to_string(&path).unwrap_or_default() != markdown {
            failures.push(path.display().to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "manuals differ from their snapshots (PROC_BLESS=1 to accept): {failures:?}"
    );
}

#[test]
fn html_is_standalone_well_formed_and_complete() {
    for (module, text) in examples() {
        let analysis = analyze(vec![SourceFile::new(
            format!("{module}.proc"),
            module.as_str(),
            text,
        )]);
        let manual = doc::manual(&analysis, &module);
        let html = doc::to_html(&manual);
        let document = roxmltree::Document::parse_with_options(
            &html,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..roxmltree::ParsingOptions::default()
            },
        )
        .unwrap_or_else(|error| panic!("{module}: {error}"));
        let elements: Vec<roxmltree::Node<'_, '_>> =
            document.descendants().filter(|n| n.is_element()).collect();
        // No external assets: no scripts, stylesheets or images from elsewhere, links only within the page.
        for element in &elements {
            let name = element.tag_name().name();
            assert!(
                !matches!(name, "script" | "link" | "img" | "iframe"),
                "{module}: <{name}>"
            );
            if let Some(href) = element.attribute("href") {
                assert!(href.starts_with('#'), "{module}: external link {href}");
                let target = &href[1..];
                assert!(
                    elements.iter().any(|e| e.attribute("id") == Some(target)),
                    "{module}: link to a missing anchor #{target}"
                );
            }
        }
        // One flowchart per process and procedure.
        let flows = analysis
            .defs
            .iter()
            .filter(|d| d.file.0 == 0 && matches!(d.kind, DefKind::Process | DefKind::Procedure))
            .count();
        let charts = elements
            .iter()
            .filter(|e| e.tag_name().name() == "svg")
            .count();
        assert_eq!(charts, flows, "{module}");
        // Every step of the package is named in a list item.
        let listed: String = elements
            .iter()
            .filter(|e| e.tag_name().name() == "strong")
            .filter_map(|e| e.text())
            .collect::<Vec<_>>()
            .join(" ");
        for step in analysis
            .defs
            .iter()
            .filter(|d| d.file.0 == 0 && d.kind == DefKind::Step)
        {
            assert!(
                listed.split(' ').any(|w| w == step.name),
                "{module}: step {} missing",
                step.name
            );
        }
    }
}

#[test]
fn the_complaint_manual_says_who_does_what_and_by_when() {
    let text = std::fs::read_to_string(root().join("examples/complaint.proc")).unwrap();
    let analysis = analyze(vec![SourceFile::new("complaint.proc", "complaint", text)]);
    let markdown = doc::to_markdown(&doc::manual(&analysis, "support"));
    assert!(markdown.starts_with("# support: standard operating procedures"));
    assert!(markdown.contains(
        "| [Supervisor](#role-supervisor) | `escalate`, `resolve_by_supervisor` | – | `resolve_by_agent` | `escalate` (late), `resolve_by_agent` (late) |"
    ), "{markdown}");
    assert!(
        markdown.contains(
            "   - Who and by when: performed by `Agent`; due 2 hours after the step opens.\n"
        ),
        "{markdown}"
    );
    assert!(markdown.contains(
        "        - If late: at breach notify `Supervisor`, then 4 hours after the breach reassign to `Supervisor`, then 1 day after the breach notify `Manager`.\n"
    ), "{markdown}");
    assert!(
        markdown.contains("   - Records: `urgency: Urgency`.\n"),
        "{markdown}"
    );
    assert!(markdown.contains("```mermaid\n%% process complaint (complaint)\nflowchart TD\n"));
}

#[test]
fn the_readme_shows_the_current_outputs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let text = std::fs::read_to_string(root().join("examples/complaint.proc")).unwrap();
    let analysis = analyze(vec![SourceFile::new("complaint.proc", "complaint", text)]);
    let chart = &proc_compiler::graph::flowcharts(&analysis)[0];
    let mermaid = proc_compiler::graph::to_mermaid(chart);
    assert!(
        readme.contains(&format!("```mermaid\n{mermaid}```")),
        "README.md's flowchart of the complaint process is out of date"
    );
    let markdown = doc::to_markdown(&doc::manual(&analysis, "complaint"));
    let first_step = markdown
        .lines()
        .find(|line| line.starts_with("1. **acknowledge**"))
        .unwrap();
    assert!(
        readme.contains(&format!("> {first_step}")),
        "README.md's manual excerpt is out of date"
    );
}

/// A call of a standard-library procedure says what it is for and where it is from (the manual has no section
/// for it); a procedure that only works out a value is written as the value, not as work to follow, and the
/// flowchart draws no box for it.
#[test]
fn calls_say_what_they_do() {
    let text = r#"use std.calendar.{working_days, EnglandWorkingDays}
use std.escalation.escalate_to_supervisor
/// Agents.
role Agent
/// A ticket.
process ticket() {
  let limit = working_days(2)
  /// Resolve it.
  step resolve "Resolve" {
    by Agent
    within limit on EnglandWorkingDays
  }
  escalate_to_supervisor("the ticket")
}
"#;
    let analysis = analyze(vec![SourceFile::new("t.proc", "t", text)]);
    assert!(
        analysis.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        analysis.diagnostics
    );
    let markdown = doc::to_markdown(&doc::manual(&analysis, "t"));
    assert!(
        markdown.contains("1. `limit` is `working_days(2)`: "),
        "{markdown}"
    );
    assert!(
        markdown.contains("3. Follow `escalate_to_supervisor` (from `std.escalation`): Hands a case to a supervisor"),
        "{markdown}"
    );
    let charts = proc_compiler::graph::flowcharts(&analysis);
    let labels: Vec<&str> = charts[0].nodes.iter().map(|n| n.label.as_str()).collect();
    assert!(
        !labels.iter().any(|l| l.contains("working_days")),
        "{labels:?}"
    );
    assert!(
        labels.iter().any(|l| l.contains("escalate_to_supervisor")),
        "{labels:?}"
    );
}

/// A role declared in two modules is one role at run time: the manual gives it one row (and one anchor), with
/// both descriptions.
#[test]
fn a_role_declared_in_two_modules_has_one_row() {
    let refund = "/// Handles refunds.\nrole Agent\n/// R.\nprocess refund() {\n  step pay \"Pay\" { by Agent }\n}\n";
    let reset = "/// Resets passwords.\nrole Agent\n/// P.\nprocess reset() {\n  step set \"Set\" { by Agent }\n}\n";
    let analysis = analyze(vec![
        SourceFile::new("refund.proc", "refund", refund),
        SourceFile::new("reset.proc", "reset", reset),
    ]);
    let markdown = doc::to_markdown(&doc::manual(&analysis, "desk"));
    assert_eq!(
        markdown.matches("<a id=\"role-agent\"></a>").count(),
        1,
        "{markdown}"
    );
    assert!(
        markdown.contains("Handles refunds. Also: Resets passwords."),
        "{markdown}"
    );
}

/// The roles table of a process names who works in the procedures it calls, of the package (each step once, with
/// the procedure it is in) and of the standard library (its roles; its people are named by its parameters).
#[test]
fn roles_in_called_procedures_are_in_the_table() {
    let source = r#"use std.survey.csat_survey
/// Answers.
role Agent
/// Checks refunds.
role Checker
/// Checks twice.
procedure double_check() {
  step recheck "Check again" {
    by Checker
    within 1h
    on breach { notify Agent "The second check is late" }
  }
  double_check()
}
/// Answers and checks.
process p(email: Text) {
  step answer "Answer" { by Agent }
  double_check()
  let score = csat_survey(email, "C-1")
}
"#;
    let analysis = analyze(vec![SourceFile::new("p.proc", "p", source)]);
    let markdown = doc::to_markdown(&doc::manual(&analysis, "p"));
    let table = markdown
        .split("<a id=\"process-p-roles\"></a>")
        .nth(1)
        .and_then(|rest| rest.split("###").next())
        .unwrap();
    assert!(
        table.contains("| [Checker](#role-checker) | `recheck` (in procedure double_check) |"),
        "{table}"
    );
    assert!(
        table.contains("`recheck` (late, in procedure double_check)"),
        "{table}"
    );
    assert!(table.contains("(in procedure csat_survey)"), "{table}");
    assert!(!table.contains("the person named by"), "{table}");
    // A standard-library procedure has no section here: the step says all its documentation says, past the
    // first sentence (the supervisor's call back to a dissatisfied customer).
    let follow = markdown
        .lines()
        .find(|line| line.contains("Follow `csat_survey`"))
        .unwrap();
    assert!(follow.contains("supervisor"), "{follow}");
}

/// A step's `only during` is said with who does it and by when, and the calendars the package uses from the
/// standard library are listed with what they are.
#[test]
fn calendars_and_hours_are_in_the_manual() {
    let text = r#"use std.calendar.LondonWeekdays
/// Agents.
role Agent
/// A ticket.
process ticket() {
  /// Call back.
  step call "Call the customer back" {
    by Agent
    only during LondonWeekdays
  }
}
"#;
    let analysis = analyze(vec![SourceFile::new("t.proc", "t", text)]);
    let markdown = doc::to_markdown(&doc::manual(&analysis, "t"));
    assert!(
        markdown
            .contains("performed by `Agent`; done only while calendar `LondonWeekdays` is open"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| `LondonWeekdays` | Monday to Friday, 09:00 to 17:00, London time"),
        "{markdown}"
    );
    assert!(
        markdown
            .contains("(from `std.calendar`) | time zone \"Europe/London\"; mon-fri 09:00-17:00 |"),
        "{markdown}"
    );
}

/// Waits on a calendar say whose working time they count, in the manual and in the chart.
#[test]
fn business_time_waits_name_their_calendar() {
    let source = "/// Agents.\nrole Agent\n/// The customer replied.\nsignal Replied\n/// Office hours.\ncalendar Office {\n  zone \"Europe/London\"\n  hours mon-fri 09:00-17:00\n}\n/// Waits.\nprocess chase() {\n  step ask \"Ask\" { by Agent }\n  let reply = await Replied within 16h on Office\n  wait 8h on Office\n  notify Agent \"done {reply == none}\"\n}\n";
    let analysis = analyze(vec![SourceFile::new(
        "chase.proc",
        "chase",
        source.to_string(),
    )]);
    let markdown = doc::to_markdown(&doc::manual(&analysis, "support"));
    assert!(
        markdown.contains(
            "Wait for `Replied`, at most `16h` of [Office](#calendar-office)'s working time."
        ),
        "{markdown}"
    );
    assert!(
        markdown.contains("Wait `8h` of [Office](#calendar-office)'s working time."),
        "{markdown}"
    );
    let charts = proc_compiler::graph::flowcharts(&analysis);
    let chart = proc_compiler::graph::to_mermaid(&charts[0]);
    assert!(chart.contains("wait 8h on Office"), "{chart}");
    assert!(chart.contains("at most 16h on Office"), "{chart}");
}
