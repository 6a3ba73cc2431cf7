//! Front-end throughput: generates a large package in the style of the examples and reports lexing, parsing and
//! checking throughput separately, in lines/s and MB/s (best of several runs).
//!
//! Run: `cargo bench -p proc-compiler --bench frontend` (optionally `-- LINES`, default 100000).
//! Set `PROC_BENCH_WRITE=DIR` to also write the generated package to `DIR` for timing `procc check DIR`.
#![expect(
    clippy::print_stdout,
    clippy::disallowed_methods,
    clippy::expect_used,
    reason = "a benchmark prints its figures, measures wall-clock time and stops on broken setup"
)]

use proc_compiler::source::FileId;
use proc_compiler::{SourceFile, analyze, lexer, parser};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One unit of generated code (~60 lines): a record, an enum, a procedure with an escalation ladder and a process.
fn unit(i: usize) -> String {
    format!(
        r#"/// A customer case, batch {i}.
record Case{i} {{
  /// Who raised it.
  customer: Text
  amount: Int
  tags: [Text]
}}

/// How urgent case {i} is.
enum Urgency{i} {{ low, normal, high }}

/// Triage for batch {i}.
procedure triage{i}(c: Case{i}) -> Urgency{i} {{
  step acknowledge "Greet {{c.customer}} and confirm receipt" {{
    by Agent
    within 4h on Support
    on breach {{
      notify Supervisor "Case for {{c.customer}} is waiting"
      after 4h reassign to Supervisor
    }}
  }}
  step assess "Assess how urgent the case is" -> urgency: Urgency{i} {{
    by Agent with skill billing other than acknowledge
    within 2h
  }}
  return assess.urgency
}}

/// The whole case, batch {i}.
process case{i}(c: Case{i}) within 5d {{
  let u = triage{i}(c)
  match u {{
    high => {{
      step resolve_by_supervisor "Resolve the case for {{c.customer}}" {{
        by Supervisor
        within 8h
        on breach {{ flag "resolution late" }}
      }}
    }}
    low | normal => {{
      step resolve_by_agent "Resolve the case" {{
        by Agent
        within 48h
      }}
    }}
  }}
  parallel {{
    branch {{ step send_survey "Send the survey" {{ by Agent within 24h }} }}
    branch {{ step log_case "Log the case" {{ by Agent within 1d }} }}
  }}
  if c.amount > 100 and not Support.is_open {{
    notify Supervisor "Large case after hours"
  }}
  step close "Close the case" {{ by Agent within 2h }}
  complete
}}

"#
    )
}

const HEADER: &str = r#"/// Answers customers first.
role Agent
/// Leads the agents.
role Supervisor

/// Office hours.
calendar Support {
  zone "Europe/Berlin"
  hours mon-fri 09:00-17:00
  holiday 2026-12-25
}

"#;

/// A package of about `target_lines` lines: a `common` module with the roles and the calendar, and modules of
/// about 1000 lines each that `use common.*`.
fn generate(target_lines: usize) -> Vec<SourceFile> {
    let mut files = vec![SourceFile::new("common.proc", "common", HEADER)];
    let mut lines = HEADER.lines().count();
    let mut i = 0;
    while lines < target_lines {
        let mut text = String::from("use common.*\n\n");
        while text.lines().count() < 1000 {
            text.push_str(&unit(i));
            i += 1;
        }
        lines += text.lines().count();
        let module = format!("cases{}", files.len());
        files.push(SourceFile::new(format!("{module}.proc"), module, text));
    }
    files
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let value = f();
        best = best.min(start.elapsed());
        last = Some(value);
    }
    (best, last.expect("at least one run"))
}

fn report(stage: &str, time: Duration, lines: usize, bytes: usize) {
    let seconds = time.as_secs_f64();
    println!(
        "{stage:<14} {:>8.1} ms   {:>6.2} M lines/s   {:>7.1} MB/s",
        seconds * 1e3,
        lines as f64 / seconds / 1e6,
        bytes as f64 / seconds / 1e6
    );
}

fn main() {
    let target: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(100_000);
    let files = generate(target);
    let lines: usize = files.iter().map(|f| f.text.lines().count()).sum();
    let bytes: usize = files.iter().map(|f| f.text.len()).sum();
    if let Ok(dir) = std::env::var("PROC_BENCH_WRITE") {
        std::fs::create_dir_all(&dir).expect("create output directory");
        for file in &files {
            std::fs::write(format!("{dir}/{}", file.name), &file.text)
                .expect("write generated module");
        }
    }
    println!(
        "generated package: {} files, {lines} lines, {:.2} MB",
        files.len(),
        bytes as f64 / 1e6
    );
    let runs = 7;
    let (lex_time, token_count) = best_of(runs, || {
        files
            .iter()
            .map(|f| lexer::lex(FileId(0), &f.text).tokens.len())
            .sum::<usize>()
    });
    let lexed: Vec<_> = files
        .iter()
        .map(|f| lexer::lex(FileId(0), &f.text))
        .collect();
    let (parse_time, items) = best_of(runs, || {
        files
            .iter()
            .zip(&lexed)
            .map(|(f, l)| parser::parse(FileId(0), f.text.len(), l).0.items.len())
            .sum::<usize>()
    });
    let (total_time, analysis) = best_of(runs, || analyze(files.clone()));
    assert!(
        analysis.diagnostics.is_empty(),
        "the generated package must check clean: {:?}",
        analysis.diagnostics.first()
    );
    let (check_time, _) = best_of(runs, || {
        let inputs: Vec<proc_compiler::check::FileInput<'_>> = analysis
            .files
            .iter()
            .zip(&analysis.parsed)
            .enumerate()
            .map(
                |(index, (source, parsed))| proc_compiler::check::FileInput {
                    source,
                    ast: &parsed.ast,
                    docs: &parsed.docs,
                    is_std: index >= analysis.package_files,
                },
            )
            .collect();
        proc_compiler::check::check(&inputs).defs.len()
    });
    println!(
        "{token_count} tokens, {items} declarations, {} definitions",
        analysis.defs.len()
    );
    println!("one thread per stage:");
    report("  lex", lex_time, lines, bytes);
    report("  parse", parse_time, lines, bytes);
    report("  check", check_time, lines, bytes);
    println!("whole analysis (files lexed and parsed on all cores, then checked):");
    report("  analyze", total_time, lines, bytes);
}
