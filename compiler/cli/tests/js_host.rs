//! The JavaScript host (`runtime/js/host.mjs`, run with Node's built-in `WebAssembly`) prints exactly the effect
//! lines that `procc run --json` prints, for the example scenarios in `examples/runs/`.
//!
//! Each test builds an example with `procc build`, runs the same process, input and events through both hosts,
//! and compares their output. The tests need `node` (Node.js 20 or later) on `PATH`; without it they fail.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root directory.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

fn procc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procc"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("procc runs")
}

/// Runs `node` with the arguments; fails the test with an explanation when Node.js is not installed.
fn node(args: &[&str]) -> Output {
    match Command::new("node").args(args).current_dir(root()).output() {
        Ok(output) => output,
        Err(error) => panic!(
            "this test runs the JavaScript host `runtime/js/host.mjs` and needs `node` (Node.js 20 or later) on \
             PATH, but `node` could not be started: {error}"
        ),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The lines of a host's output that are effects (not `{"rejected": …}` lines), each checked to be one JSON
/// object.
fn effect_lines(host: &str, stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|line| {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{host} printed a line that is not JSON ({e}): {line}"));
            assert!(
                value.is_object(),
                "{host} printed a line that is not a JSON object: {line}"
            );
            value.get("effect").is_some()
        })
        .map(str::to_string)
        .collect()
}

/// Builds `examples/{example}.proc`, runs `process` with `examples/runs/{scenario}.input.json` and
/// `.events.jsonl` through `procc run --json` and through the JavaScript host, and compares the effect lines.
fn same_effects(example: &str, process: &str, scenario: &str) {
    let version = node(&["--version"]);
    assert!(
        version.status.success(),
        "`node --version` failed: {}",
        text(&version.stderr)
    );
    let dir = std::env::temp_dir().join(format!("procc-js-host-{scenario}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let module = dir.join(format!("{example}.wasm"));
    let module = module.to_str().unwrap();
    let source = format!("examples/{example}.proc");
    let built = procc(&["build", &source, "-o", module]);
    assert!(
        built.status.success(),
        "procc build {source} failed:\n{}{}",
        text(&built.stdout),
        text(&built.stderr)
    );

    let input = format!("examples/runs/{scenario}.input.json");
    let events = format!("examples/runs/{scenario}.events.jsonl");
    let run_args = ["--process", process, "--input", &input, "--events", &events];
    let mut rust_args = vec!["run", module];
    rust_args.extend(run_args);
    rust_args.push("--json");
    let rust = procc(&rust_args);
    let mut js_args = vec!["runtime/js/host.mjs", module];
    js_args.extend(run_args);
    let js = node(&js_args);

    let (rust_out, js_out) = (text(&rust.stdout), text(&js.stdout));
    assert!(
        rust.status.success(),
        "procc run refused an event of {events} or failed ({}):\n{rust_out}{}",
        rust.status,
        text(&rust.stderr)
    );
    assert!(
        js.status.success(),
        "the JavaScript host refused an event of {events} or failed ({}):\n{js_out}{}",
        js.status,
        text(&js.stderr)
    );
    let rust_effects = effect_lines("procc run", &rust_out);
    let js_effects = effect_lines("the JavaScript host", &js_out);
    assert!(
        !rust_effects.is_empty(),
        "procc run printed no effects for {events}"
    );
    for (index, (r, j)) in rust_effects.iter().zip(&js_effects).enumerate() {
        assert_eq!(
            r,
            j,
            "effect {} of {events} differs between procc run (left) and the JavaScript host (right)",
            index + 1
        );
    }
    assert_eq!(
        rust_effects.len(),
        js_effects.len(),
        "procc run printed {} effects for {events} and the JavaScript host {}:\n{rust_out}\n---\n{js_out}",
        rust_effects.len(),
        js_effects.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn complaint_on_the_urgent_path() {
    same_effects("complaint", "complaint", "complaint");
}

#[test]
fn complaint_that_nobody_acknowledges_escalates() {
    same_effects("complaint", "complaint", "complaint_late");
}

#[test]
fn inquiry_in_business_hours_with_paused_deadlines() {
    same_effects("inquiry", "inquiry", "inquiry");
}

/// Two complaints nobody answers until the next day: one move of the clock crosses both escalation ladders, and
/// both hosts give the wake-ups of the two instances one at a time, in time order.
#[test]
fn complaints_whose_ladders_climb_overnight() {
    same_effects("complaint", "complaint", "complaint_overnight");
}

/// Both hosts refuse events out of time order, and a `--until` before the last event, before anything runs.
#[test]
fn both_hosts_refuse_time_running_backwards() {
    let dir = std::env::temp_dir().join(format!("procc-js-host-order-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let module = dir.join("inquiry.wasm");
    let module = module.to_str().unwrap();
    let built = procc(&["build", "examples/inquiry.proc", "-o", module]);
    assert!(built.status.success(), "{}", text(&built.stderr));
    let events = dir.join("events.jsonl");
    let events_path = events.to_str().unwrap();
    let input = "examples/runs/inquiry.input.json";
    for (lines, until, says) in [
        (
            "{\"at\": \"2026-03-02T10:20:00Z\", \"type\": \"advance\"}\n{\"at\": \"2026-03-02T10:10:00Z\", \"type\": \"advance\"}\n",
            None,
            "is before the event on line 1",
        ),
        (
            "{\"at\": \"2026-03-02T10:20:00Z\", \"type\": \"advance\"}\n",
            Some("2026-03-01T00:00:00Z"),
            "the clock only moves forward",
        ),
    ] {
        std::fs::write(&events, lines).unwrap();
        let mut args = vec![
            "--process",
            "inquiry",
            "--input",
            input,
            "--events",
            events_path,
        ];
        if let Some(until) = until {
            args.extend(["--until", until]);
        }
        let mut rust_args = vec!["run", module];
        rust_args.extend(&args);
        let rust = procc(&rust_args);
        let mut js_args = vec!["runtime/js/host.mjs", module];
        js_args.extend(&args);
        let js = node(&js_args);
        for (host, output) in [("procc run", &rust), ("the JavaScript host", &js)] {
            assert_eq!(
                output.status.code(),
                Some(2),
                "{host}: {}",
                text(&output.stderr)
            );
            assert!(
                text(&output.stderr).contains(says),
                "{host}: {}",
                text(&output.stderr)
            );
            assert!(
                output.stdout.is_empty(),
                "{host} ran: {}",
                text(&output.stdout)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn survey_with_scores_in_their_ranges() {
    same_effects("survey", "satisfaction_survey", "survey");
}

/// A survey nobody answers expires: the task opened says when, and it closes as `expired`.
#[test]
fn survey_that_expires_unanswered() {
    same_effects("survey", "satisfaction_survey", "survey_unanswered");
}

/// Both hosts refuse a score outside its range (`Int from 1 to 5`) and go on.
#[test]
fn both_hosts_refuse_a_score_out_of_range() {
    let dir = std::env::temp_dir().join(format!("procc-js-host-range-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let module = dir.join("survey.wasm");
    let module = module.to_str().unwrap();
    let built = procc(&["build", "examples/survey.proc", "-o", module]);
    assert!(built.status.success(), "{}", text(&built.stderr));
    let original =
        std::fs::read_to_string(root().join("examples/runs/survey.events.jsonl")).unwrap();
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        original.replace("\"csat\": 2, \"nps\": 3", "\"csat\": 6, \"nps\": 3"),
    )
    .unwrap();
    let args = [
        "--process",
        "satisfaction_survey",
        "--input",
        "examples/runs/survey.input.json",
        "--events",
        events.to_str().unwrap(),
    ];
    let mut rust_args = vec!["run", module];
    rust_args.extend(args);
    rust_args.push("--json");
    let rust = procc(&rust_args);
    let mut js_args = vec!["runtime/js/host.mjs", module];
    js_args.extend(args);
    let js = node(&js_args);
    for (host, output) in [("procc run", &rust), ("the JavaScript host", &js)] {
        let stdout = text(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{host}: {stdout}{}",
            text(&output.stderr)
        );
        let rejected = stdout
            .lines()
            .find(|line| line.contains("\"rejected\""))
            .unwrap_or_else(|| panic!("{host} refused nothing: {stdout}"));
        assert!(
            rejected.contains("should be a whole number from 1 to 5"),
            "{host}: {rejected}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refund_whose_approvers_are_found_by_step() {
    same_effects("refund", "refund", "refund");
}

/// An event for a case that has ended (here: cancelled) is refused by both hosts with the same code, 10, before
/// its task is looked for.
#[test]
fn both_hosts_refuse_an_event_after_the_case_ended() {
    let dir = std::env::temp_dir().join(format!("procc-js-host-ended-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let module = dir.join("complaint.wasm");
    let module = module.to_str().unwrap();
    let built = procc(&["build", "examples/complaint.proc", "-o", module]);
    assert!(built.status.success(), "{}", text(&built.stderr));
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        "{\"at\": \"2026-03-02T09:10:00Z\", \"type\": \"cancel\"}\n\
         {\"at\": \"2026-03-02T09:20:00Z\", \"type\": \"complete\", \"task\": 1, \"by\": \"ann\", \
         \"roles\": [\"Agent\"]}\n",
    )
    .unwrap();
    let args = [
        "--process",
        "complaint",
        "--input",
        "examples/runs/complaint.input.json",
        "--events",
        events.to_str().unwrap(),
    ];
    let mut rust_args = vec!["run", module];
    rust_args.extend(args);
    rust_args.push("--json");
    let rust = procc(&rust_args);
    let mut js_args = vec!["runtime/js/host.mjs", module];
    js_args.extend(args);
    let js = node(&js_args);
    let mut refusals = Vec::new();
    for (host, output) in [("procc run", &rust), ("the JavaScript host", &js)] {
        let stdout = text(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{host}: {stdout}");
        let rejected = stdout
            .lines()
            .find(|line| line.contains("\"rejected\""))
            .unwrap_or_else(|| panic!("{host} refused nothing: {stdout}"));
        let value: serde_json::Value = serde_json::from_str(rejected).unwrap();
        assert_eq!(value["rejected"]["code"], 10, "{host}: {rejected}");
        refusals.push(value["rejected"]["message"].clone());
    }
    assert_eq!(refusals[0], refusals[1]);
    assert_eq!(refusals[0], "instance 1 has already ended (cancelled)");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--help` prints the usage and succeeds; input nested deeper than the runtime reads is named as such.
#[test]
fn the_javascript_host_has_help_and_names_deep_input() {
    let help = node(&["runtime/js/host.mjs", "--help"]);
    assert_eq!(help.status.code(), Some(0), "{}", text(&help.stderr));
    assert!(text(&help.stdout).starts_with("usage: node host.mjs"));
    let dir = std::env::temp_dir().join(format!("procc-js-host-deep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("input.json");
    std::fs::write(
        &input,
        format!("{{\"c\": {}1{}}}", "[".repeat(20_000), "]".repeat(20_000)),
    )
    .unwrap();
    let module = dir.join("complaint.wasm");
    let built = procc(&[
        "build",
        "examples/complaint.proc",
        "-o",
        module.to_str().unwrap(),
    ]);
    assert!(built.status.success(), "{}", text(&built.stderr));
    let run = node(&[
        "runtime/js/host.mjs",
        module.to_str().unwrap(),
        "--process",
        "complaint",
        "--input",
        input.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    assert!(
        text(&run.stderr).contains("nests arrays and objects more than 128 deep"),
        "{}",
        text(&run.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
