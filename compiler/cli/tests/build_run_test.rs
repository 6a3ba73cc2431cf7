//! `procc build`, `procc run` and `procc test` from the outside: outputs, exit codes and messages.
//!
//! Every example has a scenario in `examples/runs/` (`NAME.input.json`, `NAME.events.jsonl`, optionally
//! `NAME.directory.json`), and the text `procc run` prints for it is kept in `NAME.expected`. After a deliberate
//! change, regenerate those files with `PROC_BLESS=1 cargo test -p procc --test build_run_test` and read the diff.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root")
}

fn procc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procc"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("procc runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("procc-brt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh directory holding one file, `t.proc`, with `source`.
fn package(name: &str, source: &str) -> PathBuf {
    let dir = temp_dir(name);
    std::fs::write(dir.join("t.proc"), source).unwrap();
    dir
}

/// Runs `procc test` on a package, checks that it ends with `summary` (`N passed, N failed`) and exits as that
/// says, and gives what it printed.
fn tests_of(dir: &Path, summary: &str) -> String {
    let output = procc(&["test", dir.to_str().unwrap()]);
    let stdout = text(&output.stdout);
    let code = if summary.ends_with(" 0 failed") { 0 } else { 1 };
    assert_eq!(
        output.status.code(),
        Some(code),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(stdout.trim_end().ends_with(summary), "{stdout}");
    stdout
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Builds an example into `dir` and returns the module's path and its only process's name.
fn build_example(example: &str, dir: &Path) -> (PathBuf, String) {
    let wasm = dir.join(format!("{example}.wasm"));
    let source = format!("examples/{example}.proc");
    let output = procc(&["build", &source, "-o", wasm.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let meta = procc(&["build", &source, "--emit", "metadata", "-o", "-"]);
    let meta: Value = serde_json::from_slice(&meta.stdout).expect("metadata is JSON");
    let process = meta["processes"][0]["name"].as_str().unwrap().to_string();
    (wasm, process)
}

#[test]
fn every_scenario_prints_its_expected_effects() {
    let runs = root().join("examples/runs");
    let dir = temp_dir("scenarios");
    let mut scenarios: Vec<String> = std::fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".events.jsonl"))
                .map(str::to_string)
        })
        .collect();
    scenarios.sort();
    assert!(
        scenarios.len() >= 7,
        "a scenario per example: {scenarios:?}"
    );
    let mut examples_seen = Vec::new();
    for scenario in &scenarios {
        let example = scenario.split('_').next().unwrap();
        let example = if root().join(format!("examples/{scenario}.proc")).exists() {
            scenario.as_str()
        } else {
            example
        };
        examples_seen.push(example.to_string());
        let (wasm, process) = build_example(example, &dir);
        let input = format!("examples/runs/{scenario}.input.json");
        let events = format!("examples/runs/{scenario}.events.jsonl");
        let directory = format!("examples/runs/{scenario}.directory.json");
        let mut args = vec![
            "run",
            wasm.to_str().unwrap(),
            "--process",
            &process,
            "--input",
            &input,
            "--events",
            &events,
        ];
        if root().join(&directory).exists() {
            args.extend(["--directory", directory.as_str()]);
        }
        let output = procc(&args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{scenario}: every event should be accepted\n{}\n{}",
            text(&output.stdout),
            text(&output.stderr)
        );
        let printed = text(&output.stdout);
        let expected_path = runs.join(format!("{scenario}.expected"));
        if std::env::var_os("PROC_BLESS").is_some() {
            std::fs::write(&expected_path, &printed).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        assert!(
            printed == expected,
            "{scenario}: `procc run` printed something else than {}:\n{printed}\n(bless with PROC_BLESS=1 after \
             checking the difference)",
            expected_path.display()
        );
        assert!(
            printed.contains("completed"),
            "{scenario} should run to its end"
        );
    }
    for example in [
        "complaint",
        "incident",
        "inquiry",
        "onboarding",
        "procedure_review",
        "refund",
        "survey",
    ] {
        assert!(
            examples_seen.iter().any(|e| e == example),
            "no scenario for {example}"
        );
    }
}

#[test]
fn build_writes_a_module_its_text_ir_and_metadata() {
    let dir = temp_dir("build");
    let wasm = dir.join("out.wasm");
    let output = procc(&[
        "build",
        "examples/complaint.proc",
        "-o",
        wasm.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("built `complaint`"), "{stderr}");
    assert!(stderr.contains("1 process, 8 steps"), "{stderr}");
    let bytes = std::fs::read(&wasm).unwrap();
    assert!(bytes.starts_with(b"\0asm"));
    let wat = procc(&[
        "build",
        "examples/complaint.proc",
        "--emit",
        "wat",
        "-o",
        "-",
    ]);
    assert!(text(&wat.stdout).contains("(export \"proc_handle\""));
    let ir = procc(&[
        "build",
        "examples/complaint.proc",
        "--emit",
        "ir",
        "-o",
        "-",
    ]);
    assert!(
        text(&ir.stdout).contains("process #0 complaint"),
        "{}",
        text(&ir.stdout)
    );
    let meta = procc(&[
        "build",
        "examples/complaint.proc",
        "--emit",
        "metadata",
        "-o",
        "-",
    ]);
    let meta: Value = serde_json::from_slice(&meta.stdout).unwrap();
    assert_eq!(meta["abi_version"], proc_abi::ABI_VERSION);
    assert_eq!(
        meta["processes"][0]["input_schema"]["properties"]["c"]["$ref"],
        "#/$defs/Complaint"
    );
    let assess = meta["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "assess")
        .unwrap();
    assert_eq!(assess["outputs"][0]["name"], "urgency");
    assert_eq!(
        assess["outputs_schema"]["properties"]["urgency"]["enum"][2],
        "high"
    );
}

/// `build -o -` pipes only the module: diagnostics (here a warning) go to standard error.
#[test]
fn build_to_standard_output_keeps_diagnostics_out_of_it() {
    let dir = package(
        "warned",
        "/// Agents.\nrole Agent\n/// Never used.\nrole Spare\n/// One step.\nprocess p() {\n  step s \"Do it\" { by Agent }\n}\n",
    );
    let output = procc(&[
        "build",
        dir.to_str().unwrap(),
        "--emit",
        "metadata",
        "-o",
        "-",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("standard output is only the metadata");
    assert_eq!(metadata["processes"][0]["name"], "p");
    assert!(text(&output.stderr).contains("role `Spare` is never used"));
    let wasm = procc(&["build", dir.to_str().unwrap(), "-o", "-"]);
    assert!(wasm.stdout.starts_with(b"\0asm"));
}

#[test]
fn build_refuses_broken_packages_and_two_packages() {
    let dir = temp_dir("broken-build");
    std::fs::write(
        dir.join("a.proc"),
        "role Agent\nprocess p() {\n  step s { by Agnet }\n}\n",
    )
    .unwrap();
    let output = procc(&[
        "build",
        dir.to_str().unwrap(),
        "-o",
        dir.join("a.wasm").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("unknown role `Agnet`"));
    assert!(text(&output.stderr).contains("could not build"));
    assert!(!dir.join("a.wasm").exists());
    let other = temp_dir("other-build");
    std::fs::write(other.join("b.proc"), "role A\n").unwrap();
    let output = procc(&["build", dir.to_str().unwrap(), other.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("one package at a time"));
}

#[test]
fn test_runs_every_example_test_and_ends_with_a_summary() {
    let output = procc(&["test", "examples/"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let last = stdout.trim_end().lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    let passed: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 22, "{last}");
}

#[test]
fn a_failing_test_shows_what_was_expected_and_what_happened() {
    let dir = package(
        "failing",
        r#"/// Agents.
role Agent
/// Leads.
role Lead
/// One step.
process p() {
  step s "Do it" { by Agent within 1h }
}
test "passes" {
  start p() at 2026-03-02T09:00Z
  expect task s for Agent due 2026-03-02T10:00Z
}
test "expects the wrong due time" {
  start p() at 2026-03-02T09:00Z
  expect task s for Agent due 2026-03-02T11:00Z
}
test "expects a refusal that does not come" {
  start p() at 2026-03-02T09:00Z
  expect rejected complete s by "ann" as Agent
}
test "completes with the wrong role" {
  start p() at 2026-03-02T09:00Z
  complete s by "lee" as Lead
}
"#,
    );
    let stdout = tests_of(&dir, "1 passed, 3 failed");
    assert!(stdout.contains("ok    "), "{stdout}");
    assert!(
        stdout.contains("expected a task for step `s` for Agent due 2026-03-02T11:00:00Z"),
        "{stdout}"
    );
    assert!(
        stdout.contains("open tasks: task 1 `s` for Agent, due 2026-03-02T10:00:00Z"),
        "{stdout}"
    );
    assert!(
        stdout.contains("but the completion of task 1 was accepted"),
        "{stdout}"
    );
    assert!(
        stdout.contains("lee may not do task 1: it is for role `Agent`"),
        "{stdout}"
    );
    // The effects so far, each at its time on the test's clock.
    assert!(
        stdout.contains(
            "effects so far, the test's clock now at 2026-03-02T09:00:00Z:\n      2026-03-02T09:00:00Z  task 1 \
             opened: s for Agent"
        ),
        "{stdout}"
    );
    let filtered = procc(&["test", dir.to_str().unwrap(), "--filter", "passes"]);
    assert_eq!(filtered.status.code(), Some(0));
    assert!(
        text(&filtered.stdout)
            .trim_end()
            .ends_with("1 passed, 0 failed")
    );
}

/// `--json` lines say when each effect happened: a breach at its due time, not at the time of the event that moved
/// the clock past it; a refusal at the time of the refused event.
#[test]
fn json_lines_say_when_each_effect_happened() {
    let dir = temp_dir("json_times");
    let (wasm, _) = build_example("complaint", &dir);
    let output = procc(&[
        "run",
        wasm.to_str().unwrap(),
        "--events",
        "examples/runs/complaint_overnight.events.jsonl",
        "--json",
    ]);
    let stdout = text(&output.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let breaches: Vec<&Value> = lines
        .iter()
        .filter(|l| l["effect"] == "task_breached")
        .collect();
    assert_eq!(breaches.len(), 2, "{stdout}");
    for breach in breaches {
        assert_eq!(breach["time"], breach["due"], "{stdout}");
    }
    let first = lines.iter().find(|l| l["effect"] == "task_opened").unwrap();
    assert_eq!(first["time"], "2026-03-02T09:30:00Z", "{stdout}");
    assert!(
        lines
            .iter()
            .filter(|l| l.get("effect").is_some())
            .all(|l| l["time"].is_string()),
        "{stdout}"
    );
}

/// A process without a result completes with a reason: `expect completed with "…"` checks it.
#[test]
fn a_test_checks_the_reason_a_process_completed_with() {
    let dir = package(
        "reason",
        r#"/// Agents.
role Agent
/// One step, then a reason.
process p() {
  step s "Do it" { by Agent }
  complete "done"
}
test "the right reason" {
  start p()
  complete s by "ann" as Agent
  expect completed with "done"
}
test "the wrong reason" {
  start p()
  complete s by "ann" as Agent
  expect completed with "finished"
}
"#,
    );
    let stdout = tests_of(&dir, "1 passed, 1 failed");
    assert!(
        stdout.contains(
            "expected the process to complete with \"finished\"\n    it completed with \"done\""
        ),
        "{stdout}"
    );
}

/// `expect breached`, `expect flagged`, their `expect no …` forms and `expect rejected signal`; the whole case's
/// deadline on a calendar counts working time (Friday 16:00 plus 16 working hours is Tuesday 16:00).
#[test]
fn a_test_checks_what_did_and_did_not_happen() {
    let dir = package(
        "happened",
        r#"use std.calendar.EnglandWorkingDays
/// Agents.
role Agent
/// Leads.
role Lead
/// The customer's rating.
signal Rated {
  score: Int from 1 to 5
}
/// Two working days for the whole case.
process p() within 16h on EnglandWorkingDays {
  step s "Do it" {
    by Agent
    within 1h
    on breach {
      notify Lead "late"
      after 1h reassign to Lead
      after 2h flag "very late"
    }
  }
  let rating = await Rated
  complete
}
/// The task is done within half an hour.
kpi handled for p {
  measure time from start to s
  target < 30m
}
/// No deadline is missed.
kpi late_ones for p {
  measure count breaches
  target == 0
}
test "what happened, and what did not" {
  start p() at 2026-03-06T16:00Z
  expect no breached s
  advance to 2026-03-06T17:01Z
  expect breached s
  expect no breached s
  expect notified Lead "late"
  expect no notified Lead
  expect no escalated s
  expect no flagged
  advance to 2026-03-06T19:01Z
  expect escalated s
  expect flagged "very late"
  complete s by "lee" as Lead
  expect rejected signal Rated { score: 6 }
  expect rejected signal Rated
  advance to 2026-03-10T15:59Z
  expect no breached
  advance to 2026-03-10T16:01Z
  expect breached
  expect rejected signal Rated { score: 0 } at 2026-03-10T16:30Z
  signal Rated { score: 5 } at 2026-03-10T17:00Z
  expect completed
  expect rejected signal Rated { score: 4 }
}
test "KPIs as they should be" {
  start p() at 2026-03-06T16:00Z
  complete s by "ann" as Agent at 2026-03-06T16:20Z
  expect kpi handled 20m met
  expect kpi handled
}
test "a KPI that is not what it should be" {
  start p() at 2026-03-06T16:00Z
  complete s by "ann" as Agent at 2026-03-06T17:00Z
  expect kpi handled missed
  expect kpi handled 30m
}
test "a KPI already out of reach is missed while the case runs" {
  start p() at 2026-03-06T16:00Z
  advance to 2026-03-06T17:01Z
  expect kpi late_ones 1 missed
  expect kpi handled missed
}
test "a test that starts before 1970" {
  start p() at 1969-12-31T23:00Z
}
test "a signal's time is before the clock" {
  start p() at 2026-03-06T16:00Z
  advance to 2026-03-06T17:00Z
  signal Rated { score: 5 } at 2026-03-06T16:30Z
}
test "a breach that was expected not to happen" {
  start p() at 2026-03-06T16:00Z
  advance to 2026-03-06T17:01Z
  expect no breached s
}
test "a flag that did not happen" {
  start p() at 2026-03-06T16:00Z
  expect flagged "very late"
}
test "a signal that was accepted" {
  start p() at 2026-03-06T16:00Z
  complete s by "ann" as Agent
  expect rejected signal Rated { score: 3 }
}
test "a notification that was expected not to happen" {
  start p() at 2026-03-06T16:00Z
  advance to 2026-03-06T17:01Z
  expect no notified Lead "late"
}
"#,
    );
    let stdout = tests_of(&dir, "3 passed, 7 failed");
    for says in [
        "expected KPI `handled` to be 30m\n    it is handled: 1h (misses the target)",
        "the test starts at 1969-12-31T23:00:00Z, before 1970-01-01T00:00:00Z",
        "2026-03-06T16:30:00Z is before the test's clock, which is already at 2026-03-06T17:00:00Z",
        "expected no missed deadline of step `s` (other than those an earlier `expect` matched)\n    but there \
         was: step `s`",
        "expected a flag saying \"very late\" (not already matched by an earlier `expect`)\n    none happened",
        "expected the signal `Rated` to be refused\n    but it was accepted",
        "expected no notification to Lead saying \"late\" (other than those an earlier `expect` matched)\n    but \
         there was: \"late\"",
    ] {
        assert!(stdout.contains(says), "{says}\n{stdout}");
    }
    assert!(stdout.contains("ok    "), "{stdout}");
}

/// Arithmetic that does not fit in 64 bits, a computed deadline or lag below zero and a period of zero fail the
/// case with a run-time error instead of wrapping around or firing at once; a calendar open one hour a week finds
/// 600 working hours eleven years ahead, and a time further than a hundred years ahead fails the case.
#[test]
fn run_time_errors_fail_the_case_instead_of_giving_a_wrong_time() {
    let dir = package(
        "runtime-errors",
        r#"/// Agents.
role Agent
/// One hour a week.
calendar Thin {
  zone "Europe/London"
  hours sat 09:00-10:00
}
/// The case's numbers.
record S {
  n: Int
  period: Duration
  lag: Duration
}
/// Computes with its input.
process p(s: S) {
  let big = s.n * 1000
  step one "n is {big}" {
    by Agent
    within 1d * s.n
    after s.lag
  }
  every s.period max 3 {
    notify Agent "tick"
  }
  complete
}
/// Durations from the case.
record Long {
  d: Duration
  period: Duration
}
/// Deadlines and waits far ahead.
process far(l: Long) {
  step quick "Quick" {
    by Agent
    within l.d on Thin
  }
  wait l.d * 9000000000000
}
/// Rounds far apart.
process endless(l: Long) {
  every l.period max 3 {
    notify Agent "tick"
  }
}
/// Waits a long time.
process slow(hours: Int) {
  step work "Work" {
    by Agent
    within 600h on Thin
  }
  wait 1h * hours on Thin
  step more "More" {
    by Agent
  }
}
test "a product too large for 64 bits" {
  start p(S { n: 9223372036854775807, period: 1h, lag: 0s })
  expect completed
}
test "a deadline too far ahead for 64 bits" {
  start p(S { n: 999999999999, period: 1h, lag: 0s })
  expect failed
}
test "a negative computed deadline" {
  start p(S { n: -5, period: 1h, lag: 0s })
  expect failed
}
test "a negative computed lag" {
  start p(S { n: 1, period: 1h, lag: -1h })
  expect failed
}
test "a period of zero" {
  start p(S { n: 1, period: 0s, lag: 0s })
  complete one by "ann" as Agent
  expect failed
}
test "a normal case" {
  start p(S { n: 2, period: 1h, lag: 0s })
  expect task one due 2026-01-07T09:00Z
  complete one by "ann" as Agent
  advance 3h
  expect notified Agent "tick"
  expect completed
}
test "600 working hours eleven years ahead" {
  start slow(2) at 2026-03-02T09:00Z
  expect task work due 2037-08-29T09:00Z
  complete work by "ann" as Agent
  advance to 2026-03-14T09:59Z
  expect no task more
  advance to 2026-03-14T10:00Z
  expect task more
}
test "more than a hundred years ahead" {
  start slow(6000) at 2026-03-02T09:00Z
  complete work by "ann" as Agent
  expect failed
}
test "a step's deadline more than a hundred years ahead" {
  start far(Long { d: 6000h, period: 1h })
  expect failed
}
test "a wait past the end of time" {
  start far(Long { d: 1h, period: 1h })
  complete quick by "ann" as Agent
  expect failed
}
test "a period past the end of time" {
  start endless(Long { d: 1h, period: 9223372036854775s })
  expect failed
}
"#,
    );
    let stdout = tests_of(&dir, "10 passed, 1 failed");
    assert!(
        stdout.contains(
            "failed: \"run-time error: a whole number, duration or time is out of range: the result does not \
             fit in 64 bits\""
        ),
        "{stdout}"
    );
}

/// A ladder stage `after 2h on Office` counts the calendar's working time from the breach: a deadline missed at
/// Friday 16:00 is reassigned on Monday at 10:00, not at 18:00 when nobody is in; a stage at the breach fits any
/// clock.
#[test]
fn a_ladder_stage_may_count_working_time() {
    let dir = package(
        "ladder-calendar",
        r#"/// Agents.
role Agent
/// Supervisors.
role Supervisor
/// Office hours.
calendar Office {
  zone "Europe/London"
  hours mon-fri 09:00-17:00
}
/// A ticket whose ladder counts office hours.
process ticket() {
  step answer "Answer" {
    by Agent
    within 4h on Office
    on breach {
      notify Supervisor "late"
      after 2h on Office reassign to Supervisor
      after 16h on Office flag "two working days late"
    }
  }
}
test "the ladder counts office hours" {
  start ticket() at 2026-03-06T12:00Z
  advance to 2026-03-06T16:01Z
  expect breached answer
  expect notified Supervisor "late"
  advance to 2026-03-06T19:01Z
  expect no escalated answer
  advance to 2026-03-09T09:59Z
  expect no escalated answer
  advance to 2026-03-09T10:01Z
  expect escalated answer to Supervisor
  advance to 2026-03-10T15:59Z
  expect no flagged
  advance to 2026-03-10T16:01Z
  expect flagged "two working days late"
}
"#,
    );
    tests_of(&dir, "1 passed, 0 failed");
}

/// `on breach` at the top of a process's body is the ladder of the whole case's deadline: it notifies at the
/// breach and flags a working day later (counted on a calendar), and nobody hears of a case closed in time.
#[test]
fn the_whole_case_has_a_ladder_of_its_own() {
    let dir = package(
        "case-ladder",
        r#"/// Agents.
role Agent
/// Leads the team.
role Manager

/// Office hours.
calendar Office {
  zone "Europe/London"
  hours mon-fri 09:00-17:00
}

/// A case.
record Case {
  /// Its number.
  id: Text
}

/// A case that must be closed within two working days.
process handle(c: Case) within 16h on Office {
  on breach {
    notify Manager "Case {c.id} is past its two working days"
    after 8h on Office flag "Case {c.id} is a working day late"
  }
  step close "Close case {c.id}" { by Agent }
}

test "the case's own ladder" {
  start handle(Case { id: "C-7" }) at 2026-03-06T16:00Z
  advance to 2026-03-10T15:59Z
  expect no breached
  expect no notified Manager
  advance to 2026-03-10T16:01Z
  expect breached
  expect notified Manager "Case C-7 is past its two working days"
  advance to 2026-03-11T15:59Z
  expect no flagged
  advance to 2026-03-11T16:01Z
  expect flagged "Case C-7 is a working day late"
  complete close by "ann" as Agent
  expect completed
}

test "closed in time, nobody is told" {
  start handle(Case { id: "C-8" }) at 2026-03-06T16:00Z
  complete close by "ann" as Agent at 2026-03-09T10:00Z
  advance to 2026-03-20T09:00Z
  expect no notified Manager
  expect completed
}
"#,
    );
    tests_of(&dir, "2 passed, 0 failed");
}

/// `expect notified Role "message"` matches the message exactly; a mismatch shows what the role was sent.
#[test]
fn a_test_checks_the_message_a_role_was_notified_with() {
    let dir = package(
        "messages",
        r#"/// Agents.
role Agent
/// Says hello, then waits.
process p(name: Text) {
  notify Agent "Hello {name}"
  step s "Do it" { by Agent }
  complete
}
test "the right message" {
  start p("Ada")
  expect notified Agent "Hello Ada"
}
test "any message" {
  start p("Ada")
  expect notified Agent
}
test "the wrong message" {
  start p("Ada")
  expect notified Agent "Hello, Ada"
}
"#,
    );
    let stdout = tests_of(&dir, "2 passed, 1 failed");
    assert!(
        stdout.contains(
            "expected a notification to Agent saying \"Hello, Ada\" (not already matched by an earlier \
             `expect notified`)\n    sent to Agent: \"Hello Ada\""
        ),
        "{stdout}"
    );
}

/// A check against `none` narrows fields, step outputs, and the other side of `and`/`or`; the narrowed value
/// is read as its value at run time (text interpolation, comparison), and an empty one takes the other path.
#[test]
fn fields_and_outputs_checked_against_none_are_read_as_their_values() {
    let dir = package(
        "narrowing",
        r#"/// Agents.
role Agent
/// A ticket.
record Ticket {
  /// Who.
  customer: Text
  /// A note, when there is one.
  note: Text?
  /// How urgent, when known.
  priority: Int?
}
/// Narrows in every form.
process p(t: Ticket) {
  if t.note != none {
    notify Agent "Note: {t.note}"
  }
  let p = t.priority
  if p != none and p > 3 {
    notify Agent "Urgent {p}"
  }
  if t.priority == none or t.priority <= 3 {
    notify Agent "Not urgent"
  } else if t.priority > 8 {
    notify Agent "Very urgent"
  } else {
    notify Agent "Urgent, priority {t.priority}"
  }
  step s "Handle {t.customer}" -> answer: Text? { by Agent }
  if s.answer == none {
    complete "no answer"
  }
  notify Agent "Answer: {s.answer}"
  complete "answered"
}
test "values" {
  start p(Ticket { customer: "Ada", note: "call after 5", priority: 5 })
  expect notified Agent "Note: call after 5"
  expect notified Agent "Urgent 5"
  expect notified Agent "Urgent, priority 5"
  complete s by "ann" as Agent with { answer: "done" }
  expect notified Agent "Answer: done"
  expect completed with "answered"
}
test "very urgent" {
  start p(Ticket { customer: "Ada", note: none, priority: 9 })
  expect notified Agent "Urgent 9"
  expect notified Agent "Very urgent"
  complete s by "ann" as Agent with { answer: none }
  expect completed with "no answer"
}
test "empty" {
  start p(Ticket { customer: "Ada", note: none, priority: none })
  expect notified Agent "Not urgent"
  complete s by "ann" as Agent with { answer: none }
  expect completed with "no answer"
}
"#,
    );
    tests_of(&dir, "3 passed, 0 failed");
}

/// `every … { step call … } until call.reached`: a condition naming a step of the body is asked after each round
/// only (before the first round that step has not run, and reading its output would fail the case).
#[test]
fn a_call_back_loop_stops_on_an_output_of_its_own_step() {
    let dir = package(
        "callback",
        r#"/// Agents.
role Agent
/// Calls the customer back until someone answers.
process callback(customer: Text) {
  every 2h max 3 {
    step call "Call {customer}" -> reached: Bool { by Agent }
  } until call.reached
  complete "reached"
}
test "reached at the second call" {
  start callback("Ada") at 2026-03-02T09:00Z
  expect no task call
  advance to 2026-03-02T11:00Z
  complete call by "ann" as Agent with { reached: false }
  advance to 2026-03-02T13:00Z
  complete call by "ann" as Agent with { reached: true }
  expect completed with "reached"
}
"#,
    );
    tests_of(&dir, "1 passed, 0 failed");
}

/// Whole days moved on a date give a date: `due d + 1d` is the end of the next day (a date alone in `due` is the
/// end of that day), and a time of day added to a date gives an instant from its start.
#[test]
fn days_added_to_a_date_give_a_date() {
    let dir = package(
        "dates",
        r#"/// Agents.
role Agent
/// A promise to the customer.
record Promise {
  /// The day we promised.
  by_day: Date
}
/// Days of grace.
process p(c: Promise) {
  let grace = c.by_day + 1d
  notify Agent "Grace until the end of {grace}"
  step answer "Answer" { by Agent due grace }
  step call "Call" { by Agent due c.by_day + 12h }
  step remind "Remind" { by Agent due c.by_day - 1d }
}
test "a day of grace" {
  start p(Promise { by_day: 2026-03-10 }) at 2026-03-02T09:00Z
  expect notified Agent "Grace until the end of 2026-03-11"
  expect task answer due 2026-03-12T00:00Z
  complete answer by "ann" as Agent
  expect task call due 2026-03-10T12:00Z
  complete call by "ann" as Agent
  expect task remind due 2026-03-10T00:00Z
}
"#,
    );
    tests_of(&dir, "1 passed, 0 failed");
}

/// `--filter` runs the matching tests and says how many it left out; a filter that matches nothing fails.
#[test]
fn a_filter_that_matches_no_test_fails() {
    let dir = package(
        "filtered",
        "/// Agents.\nrole Agent\n/// P.\nprocess p() {\n  step s \"Do it\" { by Agent }\n}\ntest \"one\" {\n  start p()\n  expect task s\n}\ntest \"two\" {\n  start p()\n  expect task s\n}\n",
    );
    let some = procc(&["test", dir.to_str().unwrap(), "--filter", "one"]);
    assert_eq!(some.status.code(), Some(0));
    assert!(
        text(&some.stdout)
            .trim_end()
            .ends_with("1 passed, 0 failed")
    );
    assert!(
        text(&some.stderr).contains("1 filtered out"),
        "{}",
        text(&some.stderr)
    );
    let none = procc(&["test", dir.to_str().unwrap(), "--filter", "three"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(
        text(&none.stderr).contains("no test name contains `three` (2 tests filtered out)"),
        "{}",
        text(&none.stderr)
    );
}

/// A test's clock only moves forward: a statement at an earlier time, or `advance` by a negative duration, fails
/// the test and says why (the runtime would handle it at the present time, and the test would check something
/// else than it says).
#[test]
fn a_test_statement_back_in_time_fails() {
    let dir = package(
        "backwards",
        "/// Agents.\nrole Agent\n/// P.\nprocess p() {\n  step s \"Do it\" { by Agent }\n  step t \"Then\" { by Agent }\n}\ntest \"late\" {\n  start p() at 2026-03-02T09:00Z\n  advance to 2026-03-05T09:00Z\n  complete s by \"ann\" as Agent at 2026-03-02T10:00Z\n}\ntest \"negative\" {\n  start p() at 2026-03-02T09:00Z\n  advance -1h\n}\n",
    );
    let stdout = tests_of(&dir, "0 passed, 2 failed");
    assert!(
        stdout.contains(
            "2026-03-02T10:00:00Z is before the test's clock, which is already at 2026-03-05T09:00:00Z"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("`advance` needs a positive duration"),
        "{stdout}"
    );
}

/// A module has the standard library's roles, actions, signals and calendars only when the package uses them: a
/// package with one action of its own may leave `"action"` out of an `action_result` event.
#[test]
fn a_module_has_only_the_standard_library_it_uses() {
    let dir = package(
        "own-only",
        "/// Agents.\nrole Agent\n/// Sends mail.\naction send(to: Text) -> Bool\n/// P.\nprocess p() {\n  let ok = send(\"x\")\n  if ok {\n    step s \"Do it\" { by Agent }\n  }\n}\n",
    );
    let meta = procc(&[
        "build",
        dir.to_str().unwrap(),
        "--emit",
        "metadata",
        "-o",
        "-",
    ]);
    let meta: Value = serde_json::from_slice(&meta.stdout).unwrap();
    let names = |key: &str| -> Vec<String> {
        meta[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("roles"), ["Agent"]);
    assert_eq!(names("actions"), ["send"]);
    assert!(names("signals").is_empty() && names("calendars").is_empty());
    let wasm = dir.join("p.wasm");
    let built = procc(&["build", dir.to_str().unwrap(), "-o", wasm.to_str().unwrap()]);
    assert!(built.status.success(), "{}", text(&built.stderr));
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        "{\"at\": \"2026-03-02T09:00:00Z\", \"type\": \"action_result\", \"request\": 1, \"result\": true}\n",
    )
    .unwrap();
    let run = procc(&[
        "run",
        wasm.to_str().unwrap(),
        "--process",
        "p",
        "--events",
        events.to_str().unwrap(),
        "--start-at",
        "2026-03-02T09:00:00Z",
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout).contains("task 1 opened: s for Agent"),
        "{}",
        text(&run.stdout)
    );
}

/// An action asked for while the clock moves is answered when it is asked for: the wait after it counts from
/// then, so one long `advance` gives what two shorter ones give.
#[test]
fn an_action_is_answered_when_it_is_asked_for() {
    let dir = package(
        "answered",
        "/// Agents.\nrole Agent\n/// Sends a survey.\naction send_survey(to: Text) -> Bool\n/// Answered.\nsignal Answered\n/// P.\nprocess p() within 30d {\n  wait 3d\n  let sent = send_survey(\"x\")\n  let a = await Answered within 7d\n  if sent and a == none {\n    notify Agent \"no answer\"\n  }\n}\ntest \"one advance\" {\n  given send_survey returns true\n  start p() at 2026-03-02T09:00Z\n  advance 10d\n  expect notified Agent \"no answer\"\n}\ntest \"two advances\" {\n  given send_survey returns true\n  start p() at 2026-03-02T09:00Z\n  advance 3d\n  advance 7d\n  expect notified Agent \"no answer\"\n}\n",
    );
    tests_of(&dir, "2 passed, 0 failed");
}

/// A test's clock starts at its `start … at`, also before the default start (2026-01-05T09:00Z): the New Year
/// holidays of 2026 can be tested.
#[test]
fn a_test_may_start_before_the_default_start() {
    let dir = package(
        "early",
        "/// Agents.\nrole Agent\n/// P.\nprocess p() {\n  step s \"Do it\" { by Agent within 4h }\n}\ntest \"new year's eve\" {\n  start p() at 2025-12-31T16:00Z\n  expect task s for Agent due 2025-12-31T20:00Z\n}\n",
    );
    tests_of(&dir, "1 passed, 0 failed");
}

/// Every line of an events file is checked before anything runs: a misspelt member (`"role"` for `"roles"`), a
/// wrongly typed one or an unknown type is reported with its file and line, and nothing is printed as run.
#[test]
fn run_checks_every_event_line_before_running() {
    let dir = temp_dir("run-events-checked");
    let (wasm, _) = build_example("complaint", &dir);
    let input = root().join("examples/runs/complaint.input.json");
    for (line, wanted) in [
        (
            r#"{"at": "2026-03-02T09:30:00Z", "type": "complete", "step": "acknowledge", "by": "ann", "role": ["Agent"]}"#,
            r#"an event of type "complete" has no member "role""#,
        ),
        (
            r#"{"at": "2026-03-02T09:30:00Z", "type": "complete", "step": "acknowledge", "by": "ann", "roles": "Agent"}"#,
            r#""roles" must be a list of texts"#,
        ),
        (
            r#"{"at": "2026-03-02T09:30:00Z", "type": "complet", "step": "acknowledge"}"#,
            r#"unknown event type "complet""#,
        ),
        (r#"{"at": "tomorrow", "type": "advance"}"#, r#""at""#),
        (
            r#"{"at": "2026-03-02T10:00:00Z", "type": "advance", "instance": 7}"#,
            r#"an "advance" moves the clock of every instance, so it takes no "instance""#,
        ),
        (
            r#"{"at": "2026-03-02T08:00:00Z", "type": "advance"}"#,
            r#""at" 2026-03-02T08:00:00Z is before the event on line 1 (2026-03-02T09:00:00Z): put the events in time order"#,
        ),
    ] {
        let events = dir.join("events.jsonl");
        std::fs::write(
            &events,
            format!("{{\"at\": \"2026-03-02T09:00:00Z\", \"type\": \"advance\"}}\n{line}\n"),
        )
        .unwrap();
        let output = procc(&[
            "run",
            wasm.to_str().unwrap(),
            "--process",
            "complaint",
            "--input",
            input.to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
        ]);
        assert_eq!(output.status.code(), Some(2), "{line}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains("events.jsonl:2: "), "{stderr}");
        assert!(stderr.contains(wanted), "{stderr}");
        assert!(text(&output.stdout).is_empty(), "{}", text(&output.stdout));
    }
}

/// A mistake in a test's value is reported once, by the checker, not again as "not a constant".
#[test]
fn a_test_with_a_mistake_in_its_input_reports_only_that_mistake() {
    let dir = package(
        "mistaken_input",
        r#"/// Agents.
role Agent
/// Where it came from.
enum Channel { email, web }
/// One step.
process p(channel: Channel) {
  step s "Do it" { by Agent }
}
test "starts" {
  start p(web) at 2026-03-02T09:00Z
  expect task s for Agent
}
"#,
    );
    let output = procc(&["test", dir.to_str().unwrap(), "--color", "never"]);
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("[P0007]"), "{all}");
    assert!(all.contains("`Channel.web`"), "{all}");
    assert!(!all.contains("P0036"), "{all}");
    assert!(
        all.contains("has 1 error, so its tests cannot run"),
        "{all}"
    );
    assert!(
        text(&output.stdout)
            .ends_with("0 passed, 1 failed (1 of them could not run: its package has errors)\n"),
        "{all}"
    );
}

#[test]
fn run_reports_refused_events_and_bad_input() {
    let dir = temp_dir("run");
    let (wasm, process) = build_example("complaint", &dir);
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        "{\"at\": \"2026-03-02T09:00:00Z\", \"type\": \"complete\", \"step\": \"acknowledge\", \"by\": \"sue\", \"roles\": [\"Supervisor\"]}\n",
    )
    .unwrap();
    let input = "examples/runs/complaint.input.json";
    let run = || {
        procc(&[
            "run",
            wasm.to_str().unwrap(),
            "--process",
            &process,
            "--input",
            input,
            "--events",
            events.to_str().unwrap(),
        ])
    };
    let output = run();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stdout).contains("refused (line 1): sue may not do task 1"),
        "{}",
        text(&output.stdout)
    );
    // A step that is not open: the refusal has its own heading and says what is open.
    std::fs::write(
        &events,
        "{\"at\": \"2026-03-02T09:00:00Z\", \"type\": \"complete\", \"step\": \"assess\", \"by\": \"ann\", \"roles\": [\"Agent\"]}\n",
    )
    .unwrap();
    let output = run();
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "2026-03-02T09:00:00Z  complete step assess by ann\n    refused (line 1): instance 1 has no open task for \
             step `assess` (open: task 1 `acknowledge`)"
        ),
        "{stdout}"
    );
    // Names the module does not have, and members an event cannot do without, are found before anything runs.
    for (line, expected) in [
        (
            "{\"type\": \"skip\", \"step\": \"acknowldge\", \"by\": \"sue\"}",
            "events.jsonl:2: the module has no step \"acknowldge\" (it has ",
        ),
        (
            "{\"type\": \"signal\", \"signal\": \"Nothing\"}",
            "events.jsonl:2: the module has no signal \"Nothing\" (it has none)",
        ),
        (
            "{\"type\": \"complete\", \"step\": \"assess\"}",
            "events.jsonl:2: a \"complete\" event needs \"by\"",
        ),
        (
            "{\"type\": \"action_result\", \"request\": 1, \"action\": \"page\"}",
            "events.jsonl:2: the module has no action \"page\"",
        ),
    ] {
        std::fs::write(
            &events,
            format!("{{\"type\": \"advance\", \"at\": \"2026-03-02T09:00:00Z\"}}\n{line}\n"),
        )
        .unwrap();
        let output = run();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{line}: {stderr}");
        assert!(
            text(&output.stdout).is_empty(),
            "nothing ran: {}",
            text(&output.stdout)
        );
    }
    std::fs::write(
        &events,
        "{\"type\": \"skip\", \"step\": \"acknowldge\", \"by\": \"sue\"}\n",
    )
    .unwrap();
    assert!(text(&run().stderr).contains("did you mean \"acknowledge\"?"));
    std::fs::write(
        &events,
        "{\"type\": \"complete\", \"task\": 1, \"by\": \"ann\"}\nnot json\n",
    )
    .unwrap();
    let output = run();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains(":2: it is not valid JSON"),
        "{}",
        text(&output.stderr)
    );
    // A member given twice is refused: JSON readers keep one of the two silently.
    std::fs::write(
        &events,
        "{\"type\": \"complete\", \"task\": 1, \"by\": \"ann\", \"by\": \"bob\"}\n",
    )
    .unwrap();
    let output = run();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains(":1: `by` is given twice in one object; give it once"),
        "{}",
        text(&output.stderr)
    );
    // Valid JSON nested deeper than the runtime reads is named as such, not as invalid.
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    std::fs::write(
        &events,
        format!("{{\"type\": \"signal\", \"signal\": \"X\", \"payload\": {deep}}}\n"),
    )
    .unwrap();
    let output = run();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains(":1: it nests arrays and objects more than 128 deep"),
        "{}",
        text(&output.stderr)
    );
    let output = procc(&["run", "missing.wasm"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("cannot read `missing.wasm`"));
    std::fs::write(dir.join("bad.json"), "{\"c\": {\"customer\": 1}}").unwrap();
    let output = procc(&[
        "run",
        wasm.to_str().unwrap(),
        "--process",
        &process,
        "--input",
        dir.join("bad.json").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("`c.customer` should be a text"),
        "{}",
        text(&output.stderr)
    );
    // A process the module does not have is a usage error.
    let output = procc(&["run", wasm.to_str().unwrap(), "--process", "complant"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("there is no process `complant`"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn every_command_has_help() {
    for command in ["build", "run", "test"] {
        let output = procc(&[command, "--help"]);
        assert_eq!(output.status.code(), Some(0), "{command}");
        assert!(text(&output.stdout).contains("Usage: procc"), "{command}");
    }
    // `-` reads a file from standard input, and the help says so.
    let output = procc(&["test", "--help"]);
    assert!(
        text(&output.stdout).contains("`-`"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn the_standard_library_passes_its_own_tests() {
    let output = procc(&["test", "std/"]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    let summary = stdout.lines().last().unwrap_or_default();
    let passed: usize = summary
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        passed >= 17 && summary.ends_with("passed, 0 failed"),
        "std's tests: {summary}"
    );
    // Every module of the standard library with procedures has tests.
    for module in [
        "calendar.proc",
        "escalation.proc",
        "survey.proc",
        "support.proc",
    ] {
        assert!(
            stdout.contains(&format!("std/{module}:")),
            "no tests ran for std/{module}:\n{stdout}"
        );
    }
}

/// At the end of a run, each instance says what it still waits for besides its tasks.
#[test]
fn a_run_ends_with_what_each_instance_waits_for() {
    let dir = package(
        "waits",
        "/// Agents.\nrole Agent\n/// The customer answered.\nsignal Answered\n/// Sends mail.\naction send(to: Text) -> Bool\n/// P.\nprocess p() {\n  step ask \"Ask the customer\" { by Agent }\n  parallel {\n    branch { await Answered within 2d }\n    branch { let ok = send(\"x\") }\n  }\n}\n",
    );
    let wasm = dir.join("p.wasm");
    let built = procc(&["build", dir.to_str().unwrap(), "-o", wasm.to_str().unwrap()]);
    assert!(built.status.success(), "{}", text(&built.stderr));
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        "{\"at\": \"2026-03-02T09:30:00Z\", \"type\": \"complete\", \"step\": \"ask\", \"by\": \"ann\", \"roles\": [\"Agent\"]}\n",
    )
    .unwrap();
    let run = procc(&[
        "run",
        wasm.to_str().unwrap(),
        "--process",
        "p",
        "--events",
        events.to_str().unwrap(),
        "--start-at",
        "2026-03-02T09:00:00Z",
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stderr).contains(
            "instance 1 (p): Running; waiting for signal Answered (until 2026-03-04T09:30:00Z), \
             action send (request 1)"
        ),
        "{}",
        text(&run.stderr)
    );
    // `--until` a time when nothing is due says so under its heading.
    let run = procc(&[
        "run",
        wasm.to_str().unwrap(),
        "--process",
        "p",
        "--events",
        events.to_str().unwrap(),
        "--start-at",
        "2026-03-02T09:00:00Z",
        "--until",
        "2026-03-02T10:00:00Z",
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout).contains("2026-03-02T10:00:00Z  time passes: nothing was due"),
        "{}",
        text(&run.stdout)
    );
}

/// `-o -` writes the module's bytes unchanged (they are not text); with `--format json` standard error holds only
/// JSON lines; a file named twice, however spelt, is one module; and the output never overwrites a source.
#[test]
fn build_output_is_exact_and_never_a_source() {
    let dir = temp_dir("build-out");
    let file = dir.join("refund.wasm");
    let built = procc(&[
        "build",
        "examples/refund.proc",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(built.status.success(), "{}", text(&built.stderr));
    let piped = procc(&[
        "build",
        "examples/refund.proc",
        "-o",
        "-",
        "--format",
        "json",
    ]);
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    assert_eq!(piped.stdout, std::fs::read(&file).unwrap());
    assert!(piped.stderr.is_empty(), "{}", text(&piped.stderr));

    let twice = procc(&[
        "build",
        "examples/refund.proc",
        "./examples/refund.proc",
        "-o",
        "-",
    ]);
    assert!(twice.status.success(), "{}", text(&twice.stderr));
    assert_eq!(twice.stdout, piped.stdout);

    let source = dir.join("t.proc");
    std::fs::copy(root().join("examples/refund.proc"), &source).unwrap();
    let over = procc(&[
        "build",
        source.to_str().unwrap(),
        "--emit",
        "wat",
        "-o",
        dir.join(".").join("t.proc").to_str().unwrap(),
    ]);
    assert_eq!(over.status.code(), Some(2), "{}", text(&over.stderr));
    assert!(text(&over.stderr).contains("is a source file of the package"));
    assert_eq!(
        std::fs::read_to_string(&source).unwrap(),
        std::fs::read_to_string(root().join("examples/refund.proc")).unwrap()
    );

    let broken = package(
        "build-json",
        "role Agent\nprocess p() { step s \"x\" { by Agnt } }\n",
    );
    let failed = procc(&[
        "build",
        broken.to_str().unwrap(),
        "--format",
        "json",
        "-o",
        "-",
    ]);
    assert_eq!(failed.status.code(), Some(1));
    for line in text(&failed.stderr).lines() {
        assert!(
            serde_json::from_str::<Value>(line).is_ok(),
            "not JSON: {line}"
        );
    }
}

/// `--input` without `--process` starts the module's one process; with several, it names them.
#[test]
fn input_without_process_needs_one_process() {
    let dir = package(
        "two-processes",
        r#"/// Agents.
role Agent
/// One.
process first_one() {
  step a "A" { by Agent }
}
/// Two.
process second_one() {
  step b "B" { by Agent }
}
"#,
    );
    let wasm = dir.join("p.wasm");
    let built = procc(&["build", dir.to_str().unwrap(), "-o", wasm.to_str().unwrap()]);
    assert!(built.status.success(), "{}", text(&built.stderr));
    let input = dir.join("input.json");
    std::fs::write(&input, "{}").unwrap();
    let run = procc(&[
        "run",
        wasm.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    assert!(
        text(&run.stderr)
            .contains("no `--process` was given (the module has 2: first_one, second_one)"),
        "{}",
        text(&run.stderr)
    );
}

/// Usage mistakes of `procc run` stop it before anything runs (exit 2) and say what to give; events that disagree
/// with the case are refused with the reason.
#[test]
fn run_refuses_what_it_cannot_mean() {
    let dir = temp_dir("run-usage");
    let (wasm, _) = build_example("refund", &dir);
    let wasm = wasm.to_str().unwrap();
    let input = root().join("examples/runs/refund.input.json");
    let input = input.to_str().unwrap();
    let events = dir.join("events.jsonl");
    let events_path = events.to_str().unwrap();
    let directory = dir.join("people.json");
    let usage = |args: &[&str], says: &str| {
        let output = procc(args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}: nothing runs");
    };
    usage(&["run", wasm], "nothing to run");
    usage(
        &[
            "run",
            wasm,
            "--process",
            "refund",
            "--input",
            input,
            "--start-at",
            "1960-01-01T00:00:00Z",
        ],
        "`1960-01-01T00:00:00Z` is before 1970-01-01T00:00:00Z, the earliest time the runtime's clock can show",
    );
    usage(
        &[
            "run",
            wasm,
            "--process",
            "refund",
            "--input",
            "-",
            "--events",
            "-",
        ],
        "`--input -` and `--events -` both name standard input",
    );
    // A module with one process starts it without `--process`.
    let one = procc(&["run", wasm, "--input", input]);
    assert!(one.status.success(), "{}", text(&one.stderr));
    assert!(
        text(&one.stdout).contains("  start refund\n"),
        "{}",
        text(&one.stdout)
    );
    std::fs::write(
        &events,
        "{\"at\": \"2026-03-02T09:00:00Z\", \"type\": \"advance\"}\n",
    )
    .unwrap();
    usage(
        &["run", wasm, "--process", "refund", "--events", events_path],
        "process `refund` takes `r`, and no `--input` was given",
    );
    usage(
        &[
            "run",
            wasm,
            "--process",
            "refund",
            "--input",
            input,
            "--events",
            events_path,
            "--until",
            "2026-03-01T00:00:00Z",
        ],
        "`--until` 2026-03-01T00:00:00Z is before the event on line 1",
    );
    for (line, says) in [
        (
            r#"{"type": "action_result", "request": 1, "result": true}"#,
            "the module has no actions, so nothing waits for an action's result",
        ),
        (
            r#"{"type": "complete", "task": "1", "by": "ann"}"#,
            "\"task\" must be a number",
        ),
        (
            r#"{"type": "advance", "foo": 1}"#,
            "it takes only \"type\" and \"at\"",
        ),
    ] {
        std::fs::write(&events, format!("{line}\n")).unwrap();
        usage(
            &[
                "run",
                wasm,
                "--process",
                "refund",
                "--input",
                input,
                "--events",
                events_path,
            ],
            says,
        );
    }
    let (survey, _) = build_example("survey", &dir);
    let survey_input = root().join("examples/runs/survey.input.json");
    std::fs::write(
        &events,
        "{\"type\": \"action_result\", \"request\": 1, \"result\": true, \"error\": \"both\"}\n",
    )
    .unwrap();
    usage(
        &[
            "run",
            survey.to_str().unwrap(),
            "--process",
            "satisfaction_survey",
            "--input",
            survey_input.to_str().unwrap(),
            "--events",
            events_path,
        ],
        "not both",
    );
    std::fs::write(&directory, r#"{"erin": {"role": ["Manager"]}}"#).unwrap();
    usage(
        &[
            "run",
            wasm,
            "--process",
            "refund",
            "--input",
            input,
            "--events",
            events_path,
            "--directory",
            directory.to_str().unwrap(),
        ],
        "has no member \"role\" (a person has \"roles\", \"skills\" and \"manager\"); did you mean \"roles\"?",
    );
    // A task number and a step that disagree, and an event for a case that has ended, are refused as such.
    std::fs::write(
        &events,
        "{\"at\": \"2026-03-02T09:30:00Z\", \"type\": \"complete\", \"task\": 1, \"step\": \"pay\", \"by\": \"ann\", \"roles\": [\"Agent\"]}\n\
         {\"at\": \"2026-03-02T09:31:00Z\", \"type\": \"cancel\", \"reason\": \"duplicate\"}\n\
         {\"at\": \"2026-03-02T09:32:00Z\", \"type\": \"complete\", \"task\": 1, \"by\": \"ann\", \"roles\": [\"Agent\"]}\n",
    )
    .unwrap();
    let output = procc(&[
        "run",
        wasm,
        "--process",
        "refund",
        "--input",
        input,
        "--events",
        events_path,
    ]);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("task 1 is `request`, not `pay`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("instance 1 has already ended (cancelled)"),
        "{stdout}"
    );
}

/// `"step"` without `"task"` finds the approver's own task of a `for each approver` step, in either order.
#[test]
fn a_step_name_finds_the_task_of_the_person_acting() {
    let dir = temp_dir("run-person-task");
    let (wasm, _) = build_example("refund", &dir);
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        "{\"at\": \"2026-03-02T09:30:00Z\", \"type\": \"complete\", \"step\": \"request\", \"by\": \"ann\", \"roles\": [\"Agent\"]}\n\
         {\"at\": \"2026-03-03T10:00:00Z\", \"type\": \"complete\", \"step\": \"manager_approval\", \"by\": \"mel\", \"roles\": [\"Manager\"], \"outputs\": {\"approved\": true}}\n\
         {\"at\": \"2026-03-03T11:00:00Z\", \"type\": \"complete\", \"step\": \"manager_approval\", \"by\": \"max\", \"roles\": [\"Manager\"], \"outputs\": {\"approved\": true}}\n",
    )
    .unwrap();
    let input = root().join("examples/runs/refund.input.json");
    let run = procc(&[
        "run",
        wasm.to_str().unwrap(),
        "--process",
        "refund",
        "--input",
        input.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
    ]);
    let stdout = text(&run.stdout);
    assert!(!stdout.contains("refused"), "{stdout}");
    assert!(
        stdout.contains("task 3 completed: manager_approval by mel"),
        "{stdout}"
    );
    assert!(
        stdout.contains("task 2 completed: manager_approval by max"),
        "{stdout}"
    );
}

/// `--admin-role` makes a role's holders managers of every task, as a host's administrators are: a `skippable`
/// step without an escalation ladder has no other manager, so its skip is refused without it and taken with it.
/// A role the module does not have is a usage error, with the closest one named.
#[test]
fn admin_roles_manage_every_task() {
    let dir = package(
        "admin",
        "role Agent\nrole TeamLead\nprocess p() {\n  step check \"Check\" { by Agent skippable }\n  step done \"Done\" { by Agent }\n}\n",
    );
    let wasm = dir.join("t.wasm");
    let built = procc(&[
        "build",
        dir.join("t.proc").to_str().unwrap(),
        "-o",
        wasm.to_str().unwrap(),
    ]);
    assert_eq!(built.status.code(), Some(0), "{}", text(&built.stderr));
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        "{\"at\": \"2026-03-02T09:00:00Z\", \"type\": \"advance\"}\n\
         {\"at\": \"2026-03-02T09:30:00Z\", \"type\": \"skip\", \"step\": \"check\", \"by\": \"tom\", \"roles\": [\"TeamLead\"]}\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            wasm.to_str().unwrap(),
            "--process",
            "p",
            "--events",
            events.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        procc(&args)
    };
    let without = run(&[]);
    assert_eq!(without.status.code(), Some(1), "{}", text(&without.stdout));
    assert!(
        text(&without.stdout).contains("refused (line 2)"),
        "{}",
        text(&without.stdout)
    );
    let with = run(&["--admin-role", "TeamLead"]);
    assert_eq!(with.status.code(), Some(0), "{}", text(&with.stdout));
    assert!(
        text(&with.stdout).contains("task 2 opened: done"),
        "{}",
        text(&with.stdout)
    );
    let misspelt = run(&["--admin-role", "Teamlead"]);
    assert_eq!(misspelt.status.code(), Some(2));
    assert!(
        text(&misspelt.stderr)
            .contains("`--admin-role Teamlead`: the module has no role `Teamlead`"),
        "{}",
        text(&misspelt.stderr)
    );
    assert!(
        text(&misspelt.stderr).contains("did you mean `TeamLead`?"),
        "{}",
        text(&misspelt.stderr)
    );
}

/// Loose files name their package: one file after itself, several of one directory after that directory.
#[test]
fn loose_files_of_one_directory_are_named_after_it() {
    let dir = temp_dir("loose").join("desk");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["complaint", "refund"] {
        std::fs::copy(
            root().join(format!("examples/{name}.proc")),
            dir.join(format!("{name}.proc")),
        )
        .unwrap();
    }
    let out = dir.join("out.wasm");
    let built = |files: &[&str]| {
        let mut args = vec!["build".to_string()];
        args.extend(
            files
                .iter()
                .map(|f| dir.join(f).to_string_lossy().into_owned()),
        );
        args.extend(["-o".to_string(), out.to_string_lossy().into_owned()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = procc(&args);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        format!("{}{}", text(&output.stdout), text(&output.stderr))
    };
    assert!(built(&["complaint.proc"]).contains("built `complaint`"));
    let both = built(&["complaint.proc", "refund.proc"]);
    assert!(both.contains("built `desk`"), "{both}");
}

/// Work-item operations in `test` blocks (claim, release, delegate, suspend, resume, reassign, redo, skip, and
/// their refusals) go through the runtime as a host's calls do; a refused one fails the test with the reason.
#[test]
fn tests_claim_delegate_suspend_reassign_redo_and_skip() {
    let source = r#"role Agent
role TeamLead

process refund(amount: Int) {
  step intake "Log the refund request" {
    by Agent
    within 4h
    on breach { notify TeamLead "Intake late" }
  }
  step inspect "Inspect the returned item" -> ok: Bool {
    by Agent other than intake
    within 1d
    on breach { notify TeamLead "Inspection late" after 2h reassign to TeamLead }
    skippable
  }
  if inspect.done and not inspect.ok {
    complete
  }
  step pay "Pay the refund" {
    by Agent
  }
}

test "work-item operations" {
  start refund(40) at 2026-03-02T09:00Z
  claim intake by "ann" as Agent
  expect rejected complete intake by "bob" as Agent because "claimed"
  expect rejected release intake by "bob" as Agent
  release intake by "ann" as Agent
  delegate intake by "ann" as Agent to "bob" as Agent
  complete intake by "bob" as Agent
  expect rejected complete inspect by "bob" as Agent with { ok: true }
  expect rejected skip inspect by "ann" as Agent
  suspend inspect by "tom" as TeamLead at 2026-03-02T10:00Z
  expect rejected suspend inspect by "tom" as TeamLead
  resume inspect by "tom" as TeamLead at 2026-03-02T12:00Z
  expect task inspect due 2026-03-03T11:00Z
  reassign inspect to TeamLead by "tom" as TeamLead
  expect task inspect for TeamLead
  redo intake by "tom" as TeamLead
  expect task intake for Agent
  expect no task inspect
  complete intake by "ann" as Agent
  skip inspect by "tom" as TeamLead
  expect task pay
}
"#;
    let dir = package("manage", source);
    tests_of(&dir, "1 passed, 0 failed");
    let failing = source.replace(
        "  expect task pay\n",
        "  expect task pay\n  skip pay by \"tom\" as TeamLead\n",
    );
    let dir = package("manage-refused", &failing);
    let out = tests_of(&dir, "0 passed, 1 failed");
    assert!(out.contains("expected tom to skip step `pay`"), "{out}");
    assert!(out.contains("but it was refused"), "{out}");
    // A refusal for another reason than the test names fails it, with the message it had.
    let wrong = source.replace("because \"claimed\"", "because \"four eyes\"");
    let dir = package("manage-because", &wrong);
    let out = tests_of(&dir, "0 passed, 1 failed");
    assert!(
        out.contains("expected a refusal because \"four eyes\""),
        "{out}"
    );
    assert!(
        out.contains("but it was refused with: task 1 is claimed by ann"),
        "{out}"
    );
}
