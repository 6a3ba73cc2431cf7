//! `procc graph` from the outside: formats, one file per chart, choosing a chart, broken packages, exit codes.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use common::procc;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn mermaid_and_dot_go_to_standard_output() {
    let out = procc(&["graph", "examples/complaint.proc"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mermaid = text(&out.stdout);
    assert!(
        mermaid.starts_with("%% process complaint (complaint)\nflowchart TD\n"),
        "{mermaid}"
    );
    assert!(mermaid.contains("subgraph lane1[\"Agent\"]"), "{mermaid}");
    let out = procc(&["graph", "examples/complaint.proc", "--format", "dot"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("digraph \"complaint\" {"));
}

#[test]
fn every_chart_of_a_package_is_written_to_a_directory() {
    let dir = std::env::temp_dir().join(format!("procc-graph-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = procc(&[
        "graph",
        "examples",
        "--format",
        "svg",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).starts_with("wrote "),
        "{}",
        text(&out.stderr)
    );
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert!(
        files.contains(&"complaint.complaint.svg".to_string()),
        "{files:?}"
    );
    assert!(files.len() >= 7, "{files:?}");
    let svg = std::fs::read_to_string(dir.join("complaint.complaint.svg")).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn one_chart_can_be_chosen_and_usage_errors_exit_with_2() {
    let out = procc(&[
        "graph",
        "examples",
        "--process",
        "incident",
        "--format",
        "svg",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("<title>process incident</title>"));
    let out = procc(&["graph", "examples", "--format", "svg"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("help: write them to a directory with `-o DIR`"));
    let out = procc(&["graph", "examples", "--process", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no process or procedure named `nope`"));
    assert!(text(&out.stderr).contains("help: the package has `complaint`"));
    // `-o -` is standard output, as for `procc build`.
    let out = procc(&["graph", "examples", "--process", "refund", "-o", "-"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("flowchart TD"),
        "{}",
        text(&out.stdout)
    );
    assert!(!common::root().join("-").exists());
}

/// Two packages with a flow of the same name in a module of the same name would overwrite one chart.
#[test]
fn charts_that_would_overwrite_each_other_are_refused() {
    let dir = common::temp_dir("graph-clash");
    let source =
        "/// Agents.\nrole Agent\n/// P.\nprocess p() {\n  step s \"Do it\" { by Agent }\n}\n";
    for package in ["a", "b"] {
        std::fs::create_dir_all(dir.join(package)).unwrap();
        std::fs::write(dir.join(package).join("p.proc"), source).unwrap();
    }
    let out = dir.join("out");
    let run = procc(&[
        "graph",
        dir.join("a").to_str().unwrap(),
        dir.join("b").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    assert!(text(&run.stderr).contains("one flowchart would overwrite the other"));
    assert!(!out.exists());
    // `-o` naming a file: refused, and the file is left as it was.
    std::fs::write(&out, "notes").unwrap();
    let run = procc(&[
        "graph",
        dir.join("a").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    assert!(
        text(&run.stderr).contains("is a file, and `-o` takes a directory for the flowcharts"),
        "{}",
        text(&run.stderr)
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "notes");
}

#[test]
fn a_package_with_errors_is_not_drawn() {
    let dir = std::env::temp_dir().join(format!("procc-graph-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.proc");
    std::fs::write(
        &file,
        "role Agent\nprocess p() {\n  step s \"Do it\" { by Agnet }\n}\n",
    )
    .unwrap();
    let out = procc(&["graph", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("unknown role `Agnet`"), "{stderr}");
    assert!(
        stderr.contains("fix them to draw its flowcharts"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
