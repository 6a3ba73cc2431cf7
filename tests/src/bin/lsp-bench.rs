//! `lsp-bench`: the language server's latency, measured through its real stdio transport as an editor sees it.
//!
//! ```text
//! lsp-bench [--server PATH] [--lines N] [--rounds R]
//! ```
//!
//! A generated file of about N lines (default 10 000) is opened; then, R times each (default 200):
//! - a one-character edit (`didChange`) until its `publishDiagnostics` arrives;
//! - a hover over a role in the middle of the file;
//! - a completion after `by ` in the middle of the file.
//!
//! The baseline, measured in the same run and in this process: `proc_compiler::analyze` of the same text (what
//! `procc check` does for the file), so the ratio shows what the server adds (conversion, JSON, transport).
//! Each measurement prints one JSON line with p50, p95 and max in milliseconds. Build the server first with
//! `cargo build --release -p procc`; the default server is `target/release/procc`.
#![expect(
    clippy::print_stdout,
    clippy::disallowed_methods,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a benchmark prints its figures, measures wall-clock time and stops on broken setup"
)]

use proc_compiler::SourceFile;
use proc_lsp::client::{Client, position};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A package file of about `lines` lines: roles, a record, an enum, and many processes with deadlines,
/// escalations, decisions and parallel work.
fn generate(lines: usize) -> String {
    let mut text = String::from(
        "/// First-line support.\nrole Agent\n/// Takes escalations.\nrole Supervisor\n/// Owns the service.\nrole Manager\n\n\
         calendar Support {\n  zone \"Europe/Berlin\"\n  hours mon-fri 09:00-17:00\n}\n\n\
         enum Urgency {\n  low\n  normal\n  high\n}\n\n\
         record Complaint {\n  customer: Text\n  summary: Text\n}\n",
    );
    let mut index = 0;
    let mut count = text.lines().count();
    while count < lines {
        // `text` ends with a newline, so each block adds one line per newline it holds.
        let block = format!(
            "\n/// Complaint flow number {index}.\nprocess complaint_{index}(c: Complaint) within 5d {{\n  \
             step acknowledge \"Greet {{c.customer}} and confirm\" {{\n    by Agent\n    within 4h on Support\n    \
             on breach {{\n      notify Supervisor \"Late for {{c.customer}}\"\n      after 4h reassign to Supervisor\n    }}\n  }}\n  \
             step assess \"Assess: {{c.summary}}\" -> urgency: Urgency {{\n    by Agent\n    within 2h\n  }}\n  \
             match assess.urgency {{\n    high => {{\n      step resolve_fast \"Resolve now\" {{\n        by Supervisor\n        within 8h\n      }}\n    }}\n    \
             low | normal => {{\n      step resolve \"Resolve\" {{\n        by Agent\n        within 48h\n      }}\n    }}\n  }}\n  \
             parallel {{\n    branch {{\n      step survey \"Send the survey\" {{\n        by Agent\n        within 24h\n      }}\n    }}\n    \
             branch {{\n      step log \"Log the case\" {{\n        by Agent\n      }}\n    }}\n  }}\n  \
             step close \"Close the case\" {{\n    by Manager\n  }}\n}}\n"
        );
        count += block.matches('\n').count();
        text.push_str(&block);
        index += 1;
    }
    text
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn summary(samples: &mut [f64]) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    (
        round(percentile(samples, 0.5)),
        round(percentile(samples, 0.95)),
        round(*samples.last().unwrap()),
    )
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut server = root.join("target/release/procc");
    let mut lines = 10_000;
    let mut rounds = 200;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--server" => server = PathBuf::from(args.next().expect("--server PATH")),
            "--lines" => lines = args.next().and_then(|n| n.parse().ok()).expect("--lines N"),
            "--rounds" => {
                rounds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--rounds R")
            }
            "--help" | "-h" => {
                println!("usage: lsp-bench [--server PATH] [--lines N] [--rounds R]");
                return;
            }
            other => {
                println!("error: unknown argument `{other}` (see --help)");
                std::process::exit(2);
            }
        }
    }
    let text = generate(lines);
    let line_count = text.lines().count();
    let dir = std::env::temp_dir().join(format!("proc-lsp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.proc");
    std::fs::write(&path, &text).unwrap();

    // Baseline: the analysis alone, in this process.
    let mut baseline = Vec::new();
    let mut diagnostics_count = 0;
    for _ in 0..rounds.min(50) {
        let started = Instant::now();
        let analysis =
            proc_compiler::analyze(vec![SourceFile::new("big.proc", "big", text.as_str())]);
        baseline.push(ms(started.elapsed()));
        diagnostics_count = analysis.package_diagnostics().count();
    }
    let (base_p50, base_p95, base_max) = summary(&mut baseline);
    println!(
        "{}",
        json!({"bench": "lsp", "what": "baseline_analysis", "lines": line_count, "p50_ms": base_p50,
               "p95_ms": base_p95, "max_ms": base_max, "diagnostics": diagnostics_count})
    );

    let uri = tower_lsp::lsp_types::Url::from_file_path(&path)
        .unwrap()
        .to_string();
    let root_uri = tower_lsp::lsp_types::Url::from_file_path(&dir)
        .unwrap()
        .to_string();
    let mut client =
        Client::start(server.to_str().unwrap(), &["lsp"], &[]).expect("the server starts");
    client.initialize(&root_uri).unwrap();
    client.open(&uri, &text).unwrap();
    client.diagnostics(&uri, Some(1)).unwrap();

    // One-character edits in the middle of the file: type one more letter at the end of a doc comment each time,
    // so every version is new text (no analysis can be reused).
    let middle = text.len() / 2;
    let middle = middle + text[middle..].find("///").unwrap();
    let middle = middle + text[middle..].find('\n').unwrap();
    let at = position(&text, middle);
    let mut edits = Vec::new();
    let mut version = 1;
    for _ in 0..rounds {
        version += 1;
        let (range, insert) = (json!({"start": at, "end": at}), "x");
        let started = Instant::now();
        client
            .notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": uri, "version": version},
                       "contentChanges": [{"range": range, "text": insert}]}),
            )
            .unwrap();
        client.diagnostics(&uri, Some(version)).unwrap();
        edits.push(ms(started.elapsed()));
        client.notifications.clear();
    }
    let (p50, p95, max) = summary(&mut edits);
    println!(
        "{}",
        json!({"bench": "lsp", "what": "didChange_to_publishDiagnostics", "lines": line_count, "rounds": rounds,
               "p50_ms": p50, "p95_ms": p95, "max_ms": max, "ratio_p50_to_baseline": (p50 / base_p50 * 100.0).round() / 100.0,
               "target_p95_ms": 20})
    );

    // Hover over a role and completion after `by ` in the middle of the file.
    let role_use = middle + text[middle..].find("by Agent").unwrap() + 3;
    let completion_at = role_use;
    for (what, method, offset) in [
        ("hover", "textDocument/hover", role_use + 2),
        ("completion", "textDocument/completion", completion_at),
    ] {
        let mut samples = Vec::new();
        let params = json!({"textDocument": {"uri": uri}, "position": position(&text, offset)});
        for _ in 0..rounds {
            let started = Instant::now();
            let answer = client.request(method, params.clone()).unwrap().unwrap();
            samples.push(ms(started.elapsed()));
            assert!(!answer.is_null(), "{what} answered nothing");
        }
        let (p50, p95, max) = summary(&mut samples);
        println!(
            "{}",
            json!({"bench": "lsp", "what": what, "lines": line_count, "rounds": rounds,
                   "p50_ms": p50, "p95_ms": p95, "max_ms": max, "target_p95_ms": 5})
        );
    }
    client.shutdown().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
