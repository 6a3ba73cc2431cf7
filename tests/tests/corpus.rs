//! The diagnostic corpus: every fixture under `tests/corpus/` is checked and its diagnostics compared with the
//! `//~` expectations written in it. Each file under `codes/` and `recovery/` is its own package; each directory
//! under `packages/` is one package of several files.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]

use proc_compiler::ALL_CODES;
use proc_tests::{analyze_files, compare, expectations, fixture_files, repo_root};
use std::collections::BTreeSet;

fn run_dir(name: &str) -> (usize, Vec<String>) {
    let root = repo_root().join("tests/corpus").join(name);
    let mut failures = Vec::new();
    let files = fixture_files(&root);
    for file in &files {
        let analysis = analyze_files(file.parent().unwrap_or(&root), std::slice::from_ref(file));
        if let Some(report) = compare(&analysis) {
            failures.push(format!("{}:\n{report}", file.display()));
        }
    }
    (files.len(), failures)
}

#[test]
fn code_cases_report_exactly_their_annotations() {
    let (count, failures) = run_dir("codes");
    assert!(count >= 35, "expected a case per code, found {count} files");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn clean_cases_report_nothing() {
    // Files using every construct; any diagnostic here is a false positive.
    let (count, failures) = run_dir("clean");
    assert!(count >= 1);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn recovery_cases_report_exactly_their_annotations() {
    let (count, failures) = run_dir("recovery");
    assert!(count >= 5, "expected recovery cases, found {count}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn multi_file_packages_report_exactly_their_annotations() {
    let root = repo_root().join("tests/corpus/packages");
    let mut failures = Vec::new();
    let mut packages = 0;
    for entry in std::fs::read_dir(&root)
        .expect("tests/corpus/packages exists")
        .flatten()
    {
        if !entry.path().is_dir() {
            continue;
        }
        packages += 1;
        let files = fixture_files(&entry.path());
        let analysis = analyze_files(&entry.path(), &files);
        if let Some(report) = compare(&analysis) {
            failures.push(format!("{}:\n{report}", entry.path().display()));
        }
    }
    assert!(packages >= 1);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_code_has_a_case_and_an_explanation() {
    let root = repo_root().join("tests/corpus/codes");
    let mut covered = BTreeSet::new();
    for file in fixture_files(&root) {
        let bytes = std::fs::read(&file).expect("readable fixture");
        let text = String::from_utf8_lossy(&bytes);
        for expected in expectations("", &text) {
            covered.insert(expected.code);
        }
    }
    let mut missing = Vec::new();
    for code in ALL_CODES {
        let info = code.info();
        if !covered.contains(info.name) {
            missing.push(format!("{} has no corpus case", info.name));
        }
        if info.explanation.len() < 200 || !info.explanation.contains("```") {
            missing.push(format!("{} has no real explanation", info.name));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// Each suggestion applied to its file gives what the author meant, and the help says it in words.
#[test]
fn types_and_variants_written_as_elsewhere_get_the_proc_spelling_as_their_fix() {
    let text = r#"/// Agents.
role Agent
/// Where a request came from.
enum Channel { email, web }
/// A request.
record Request {
  accounts: List<Text>
  note: Option<Text>
  channel: Channel
}
/// Uses it.
process p(r: Request) {
  if r.channel == web {
    notify Agent "from the web"
  }
}
"#;
    let analysis =
        proc_compiler::analyze(vec![proc_compiler::SourceFile::new("t.proc", "t", text)]);
    let fixes: Vec<(String, String, String)> = analysis
        .diagnostics
        .iter()
        .map(|d| {
            let fix = d.suggestions.first().expect("a fix");
            let span = fix.at.span;
            let mut fixed = text.to_string();
            fixed.replace_range(span.start as usize..span.end as usize, &fix.replacement);
            let line = fixed
                .lines()
                .nth(text[..span.start as usize].lines().count() - 1);
            (
                d.message.clone(),
                d.help.clone().unwrap_or_default(),
                line.unwrap_or_default().trim().to_string(),
            )
        })
        .collect();
    assert_eq!(
        fixes,
        [
            (
                "lists are written `[Text]`, not `List<Text>`".to_string(),
                "write `[Text]`".to_string(),
                "accounts: [Text]".to_string()
            ),
            (
                "optional values are written `Text?`, not `Option<Text>`".to_string(),
                "write `Text?`".to_string(),
                "note: Text?".to_string()
            ),
            (
                "unknown name `web`".to_string(),
                "variants are written with their enum's name: `Channel.web`".to_string(),
                "if r.channel == Channel.web {".to_string()
            ),
        ]
    );
}

/// Checks `text` (one file): it must have exactly one diagnostic, with `code`; applies its first suggestion and
/// checks that the result is clean. Gives the replacement and the fixed text.
fn fix_the_one_diagnostic(text: &str, code: &str) -> (String, String) {
    let analyze = |text: &str| {
        proc_compiler::analyze(vec![proc_compiler::SourceFile::new("t.proc", "t", text)])
    };
    let analysis = analyze(text);
    assert_eq!(
        analysis.diagnostics.len(),
        1,
        "{text}\n{:?}",
        analysis.diagnostics
    );
    let diagnostic = &analysis.diagnostics[0];
    assert_eq!(diagnostic.code.as_str(), code);
    let fix = &diagnostic.suggestions[0];
    let mut fixed = text.to_string();
    fixed.replace_range(
        fix.at.span.start as usize..fix.at.span.end as usize,
        &fix.replacement,
    );
    let again = analyze(&fixed);
    assert!(
        again.diagnostics.is_empty(),
        "{fixed}\n{:?}",
        again.diagnostics
    );
    (fix.replacement.clone(), fixed)
}

/// An unused `let` comes with a fix that keeps the name without the warning.
#[test]
fn an_unused_variable_can_be_renamed_to_keep_it() {
    let text = "/// Agents.\nrole Agent\n/// P.\nprocess p(n: Int) {\n  let twice = n * 2\n  step s \"Do it\" { by Agent }\n}\n";
    let (_, fixed) = fix_the_one_diagnostic(text, "P0038");
    assert!(fixed.contains("let _twice = n * 2"), "{fixed}");
}

/// The missing arms of an empty `match` (`match x {}` or with its braces on two lines) go inside its braces, and
/// the fixed file checks clean and is laid out as `procc fmt` would.
#[test]
fn missing_arms_of_an_empty_match_go_inside_its_braces() {
    for body in ["match s.u {}", "match s.u {\n  }", "match s.u { }"] {
        let text = format!(
            "/// Agents.\nrole Agent\n/// U.\nenum U {{ low, high }}\n/// P.\nprocess p() {{\n  step s \"x\" -> u: U {{ by Agent }}\n  {body}\n}}\n"
        );
        let (_, fixed) = fix_the_one_diagnostic(&text, "P0014");
        assert!(
            fixed.contains("  match s.u {\n    low => {}\n    high => {}\n  }\n"),
            "{body:?} became:\n{fixed}"
        );
    }
}

/// Durations written in words (`4 hours`, `90min`, `1h30`) get Proc's spelling as their fix; applied, the file
/// checks clean.
#[test]
fn durations_written_in_words_get_their_proc_spelling() {
    let text = "/// Agents.\nrole Agent\n/// P.\nprocess p() {\n  step s \"Call\" { by Agent within 4 hours }\n}\n";
    // Words after a number are a syntax error (`P0004`); letters run into it are a malformed literal (`P0003`).
    for (written, fixed, code) in [
        ("4 hours", "4h", "P0004"),
        ("2 days", "2d", "P0004"),
        ("90min", "90m", "P0003"),
        ("1h30", "1h30m", "P0003"),
        ("2days", "2d", "P0003"),
        ("4hrs", "4h", "P0003"),
        ("3 weeks", "3w", "P0004"),
    ] {
        let (replacement, _) = fix_the_one_diagnostic(&text.replace("4 hours", written), code);
        assert_eq!(replacement, fixed, "{written}");
    }
}

/// Mistakes made with the standard library get help that names the way out: what a module has when the name is
/// not close to any of its items, `use` of a module without an item (with a fix that checks clean), a record
/// or a KPI's signal from a module the file does not import, and a `match` on an optional enum.
#[test]
fn mistakes_with_the_standard_library_get_help_that_names_the_way_out() {
    let help = |text: &str| -> Vec<(String, String)> {
        let analysis =
            proc_compiler::analyze(vec![proc_compiler::SourceFile::new("t.proc", "t", text)]);
        analysis
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| (d.message.clone(), d.help.clone().unwrap_or_default()))
            .collect()
    };
    let found = help("use std.calendar.UkWorkingDays\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .1
            .starts_with("`std.calendar` has `AlwaysOpen`, `EnglandWorkingDays`"),
        "{found:?}"
    );
    let (_, fixed) = fix_the_one_diagnostic(
        "use std.survey\n/// P.\nprocess p() -> NpsGroup {\n  let r = nps_group(9)\n  complete r\n}\n",
        "P0009",
    );
    assert!(fixed.starts_with("use std.survey.*\n"), "{fixed}");
    let found = help(
        "/// P.\nprocess p() {\n  let t = ResponseTarget { limit: 4h, business_time: true, percent: 90 }\n  complete\n}\n",
    );
    assert_eq!(
        found,
        [(
            "unknown record `ResponseTarget`".to_string(),
            "`ResponseTarget` is declared in module `std.kpi`: import it with `use std.kpi.ResponseTarget`"
                .to_string()
        )]
    );
    let found = help(
        "/// A.\nrole Agent\n/// P.\nprocess p() {\n  step s \"S\" { by Agent }\n}\n/// K.\nkpi k for p {\n  measure value SurveyAnswered.csat.score\n}\n",
    );
    assert_eq!(
        found,
        [(
            "unknown signal `SurveyAnswered`".to_string(),
            "`SurveyAnswered` is declared in module `std.survey`: import it with `use std.survey.SurveyAnswered`"
                .to_string()
        )]
    );
    let found = help(
        "use std.survey.*\n/// P.\nprocess p() {\n  let r = csat_survey(\"Ada\", \"a@x\", \"C-1\")\n  match r {\n    very_dissatisfied => { fail \"unhappy\" }\n    _ => { }\n  }\n}\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .1
            .starts_with("it may be `none`: match inside `if r != none"),
        "{found:?}"
    );
}

/// `wait 3 days` is fixed to `wait 3d`.
#[test]
fn a_wait_written_in_words_is_fixed() {
    let text = "/// Agents.\nrole Agent\n/// P.\nprocess p() {\n  wait 3 days\n  step s \"Do it\" { by Agent }\n}\n";
    let (replacement, fixed) = fix_the_one_diagnostic(text, "P0017");
    assert_eq!(replacement, "wait 3d");
    assert!(fixed.contains("  wait 3d\n"), "{fixed}");
}

/// Natural first attempts get help that names the Proc way: two roles for a step, a comparison repeated on both
/// sides of `or`, a text where an enum value is meant (with a fix).
#[test]
fn natural_first_attempts_get_help() {
    let helps = |text: &str| -> Vec<String> {
        proc_compiler::analyze(vec![proc_compiler::SourceFile::new("t.proc", "t", text)])
            .diagnostics
            .iter()
            .filter_map(|d| d.help.clone())
            .collect()
    };
    let found = helps(
        "/// A.\nrole Agent\n/// S.\nrole Supervisor\n/// P.\nprocess p() {\n  step s \"S\" { by Agent or Supervisor }\n}\n",
    );
    assert!(
        found
            .iter()
            .any(|h| h.starts_with("a step is done by one role")),
        "{found:?}"
    );
    let found = helps(
        "/// A.\nrole Agent\n/// C.\nenum Channel { email, chat }\n/// T.\nrecord T { channel: Channel }\n/// P.\nprocess p(t: T) {\n  if t.channel == \"email\" or \"chat\" {\n    step s \"S\" { by Agent }\n  }\n}\n",
    );
    assert_eq!(
        found,
        [
            "compare with the enum's value: `Channel.email`",
            "each side of `or` is a condition: repeat the comparison, e.g. `a == x or a == y`"
        ]
    );
    let found = helps(
        "/// G.\nenum Group { a, b }\n/// P.\nprocess p(n: Int) -> Group {\n  let g = if n > 3 { Group.a } else { Group.b }\n  complete g\n}\n",
    );
    assert!(
        found.first().is_some_and(
            |h| h.starts_with("`if` and `match` are statements, not values")
                && h.ends_with("then `let g = that_procedure(…)`")
        ),
        "{found:?}"
    );
}

/// Habits from other languages are reported once each, with Proc's spelling as a fix after which the file checks
/// clean: `&&`, `!`, curly and single quotes, `elif`, `1.5h`, `1h 30m`, a time without its zone, `String`,
/// `True`, and a word where a text in quotes goes.
#[test]
fn habits_from_elsewhere_get_the_proc_spelling_as_their_fix() {
    let base = "/// A.\nrole Agent\n/// P.\nprocess p(n: Int, note: Text) {\n  step s \"Read {note}\" { by Agent within 4h }\n  if s.done and n > 1 {\n    notify Agent \"done\"\n  } else if n > 2 {\n    notify Agent \"two\"\n  }\n  let flag: Bool = true\n  notify Agent \"{flag}\"\n}\ntest \"normal\" {\n  start p(1, \"x\") at 2026-03-02T09:00Z\n}\n";
    assert!(
        proc_compiler::analyze(vec![proc_compiler::SourceFile::new("t.proc", "t", base)])
            .diagnostics
            .is_empty()
    );
    for (from, to, code) in [
        ("s.done and n", "s.done && n", "P0001"),
        ("} else if n", "} elif n", "P0004"),
        ("\"Read {note}\"", "\u{201c}Read {note}\u{201d}", "P0001"),
        ("\"Read {note}\"", "'Read {note}'", "P0001"),
        ("within 4h", "within 3.5h", "P0003"),
        ("within 4h", "within 3h 30m", "P0003"),
        ("at 2026-03-02T09:00Z", "at 2026-03-02T09:00", "P0003"),
        ("at 2026-03-02T09:00Z", "at 2026-03-02 09:00", "P0003"),
        ("flag: Bool = true", "flag: Bool = True", "P0007"),
        ("test \"normal\"", "test normal", "P0004"),
    ] {
        let text = base.replacen(from, to, 1);
        let (replacement, fixed) = fix_the_one_diagnostic(&text, code);
        assert!(!replacement.is_empty(), "{to}");
        assert_ne!(fixed, text, "{to}");
    }
    let (replacement, _) = fix_the_one_diagnostic(
        "/// A.\nrole Agent\n/// R.\nrecord R { name: String }\n/// P.\nprocess p(r: R) {\n  step s \"Call {r.name}\" { by Agent }\n}\n",
        "P0007",
    );
    assert_eq!(replacement, "Text");
    let (replacement, _) = fix_the_one_diagnostic(
        "/// A.\nrole Agent\n/// P.\nprocess p(n: Int) {\n  if !(n > 1) {\n    notify Agent \"small\"\n  }\n}\n",
        "P0001",
    );
    assert_eq!(replacement, "not");
}

/// Declarations and statements other languages write differently get help that names Proc's way.
#[test]
fn keywords_from_elsewhere_get_help() {
    let help = |text: &str| -> String {
        let analysis =
            proc_compiler::analyze(vec![proc_compiler::SourceFile::new("t.proc", "t", text)]);
        assert!(!analysis.diagnostics.is_empty(), "{text}");
        analysis.diagnostics[0].help.clone().unwrap_or_default()
    };
    assert!(help("import std.kpi\n").starts_with("modules are imported with `use`"));
    assert!(help("function f() {\n}\n").starts_with("a flow is a `procedure`"));
    assert!(
        help("/// A.\nrole Agent\n/// P.\nprocess p() {\n  within 4h\n  step s \"S\" { by Agent }\n}\n")
            .starts_with("a deadline goes inside a step")
    );
    assert!(
        help("/// A.\nrole Agent\n/// E.\nenum E { a, b }\n/// P.\nprocess p(e: E) {\n  match e {\n    case a => { notify Agent \"a\" }\n    b => { }\n  }\n}\n")
            .starts_with("the arms of a `match` are written without a keyword")
    );
    let text = "/// A.\nrole Agent\n/// P.\nprocess p() {\n  step s \"S\" { by Agent }\n\n/// Q.\nprocess q() {\n  step t \"T\" { by Agent }\n}\n";
    let analysis =
        proc_compiler::analyze(vec![proc_compiler::SourceFile::new("t.proc", "t", text)]);
    let unclosed = analysis
        .diagnostics
        .iter()
        .find(|d| d.help.as_deref() == Some("add the missing `}` before this declaration"))
        .unwrap_or_else(|| panic!("{:?}", analysis.diagnostics));
    assert_eq!(
        unclosed.labels[0].at.span.start as usize,
        text.find("{\n  step s").unwrap()
    );
}
