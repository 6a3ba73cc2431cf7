//! The examples and the standard library check clean: no errors and no warnings.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]

use proc_tests::{analyze_files, fixture_files, repo_root};

#[test]
fn every_example_checks_clean() {
    let root = repo_root().join("examples");
    let files = fixture_files(&root);
    assert!(
        files.len() >= 7,
        "expected the seven examples, found {}",
        files.len()
    );
    let analysis = analyze_files(&root, &files);
    let rendered = proc_compiler::render::short(&analysis.files, &analysis.diagnostics.clone());
    assert!(analysis.diagnostics.is_empty(), "{rendered}");
}

#[test]
fn the_standard_library_checks_clean() {
    // `analyze` always includes std; a package that uses every std module surfaces std's own diagnostics.
    let text = "use std.calendar.*\nuse std.escalation.*\nuse std.survey.*\nuse std.kpi.*\n";
    let analysis =
        proc_compiler::analyze(vec![proc_compiler::SourceFile::new("t.proc", "t", text)]);
    let rendered = proc_compiler::render::short(&analysis.files, &analysis.diagnostics);
    assert!(analysis.diagnostics.is_empty(), "{rendered}");
    assert!(analysis.files.len() > 4);
}
