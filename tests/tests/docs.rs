//! Generated documentation stays in step with the code: `docs/diagnostics.md` is every diagnostic code with its
//! explanation (the page the language server's diagnostics link to, one `#pNNNN` anchor per code). Bless with
//! `PROC_BLESS=1` after changing a code or an explanation.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use proc_compiler::{ALL_CODES, Severity};
use std::path::Path;

fn diagnostics_page() -> String {
    let mut page = String::from(
        "# Diagnostic codes\n\n\
         Every diagnostic of the Proc compiler has a stable code. `procc explain CODE` prints the same text in a \
         terminal, and editors link each diagnostic to the same text.\n\n\
         This page is generated from `compiler/explanations/` by `tests/tests/docs.rs` (`PROC_BLESS=1 cargo test \
         -p proc-tests --test docs` rewrites it).\n\n\
         | code | severity | summary |\n| --- | --- | --- |\n",
    );
    for code in ALL_CODES {
        let info = code.info();
        let severity = match info.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        page.push_str(&format!(
            "| [{}](#{}) | {severity} | {} |\n",
            info.name,
            info.name.to_ascii_lowercase(),
            info.summary
        ));
    }
    for code in ALL_CODES {
        let info = code.info();
        let severity = match info.severity {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
        };
        page.push_str(&format!(
            "\n## {}\n\n**{severity}:** {}.\n\n{}\n",
            info.name,
            info.summary,
            info.explanation.trim_end()
        ));
    }
    page
}

#[test]
fn diagnostics_page_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/diagnostics.md");
    let expected = diagnostics_page();
    if std::env::var("PROC_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/diagnostics.md is out of date: run `PROC_BLESS=1 cargo test -p proc-tests --test docs`"
    );
}

/// The KPI summary that `README.md` and `docs/cli.md` quote is what `procc run` prints for that scenario (its
/// expected output, which `build_run_test` checks against the real run).
#[test]
fn quoted_kpi_summaries_match_the_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let expected =
        std::fs::read_to_string(root.join("examples/runs/complaint_kpis.expected")).unwrap();
    let summary = &expected[expected.find("KPI summary").expect("a KPI summary")..];
    let quoted = format!("```\n{summary}```");
    for doc in ["README.md", "docs/cli.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        assert!(
            text.contains(&quoted),
            "{doc} quotes another KPI summary than examples/runs/complaint_kpis.expected ends with:\n{summary}"
        );
    }
}
