//! KPI figures printed by `procc run` over an events file with many instances, compared with values worked out
//! by hand from the event times in `examples/runs/complaint_kpis.events.jsonl`.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::float_cmp,
    reason = "tests fail loudly; the means compared are exact in binary"
)]

mod common;

use common::{procc, temp_dir};
use serde_json::{Value, json};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// Builds the complaint example into a directory named after the test and runs the five-complaint scenario
/// with `extra` arguments; returns what it printed.
fn run_scenario(test: &str, extra: &[&str]) -> String {
    let dir = temp_dir(test);
    let wasm = dir.join("complaint.wasm");
    let wasm = wasm.to_str().unwrap();
    let built = procc(&["build", "examples/complaint.proc", "-o", wasm]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let mut args = vec![
        "run",
        wasm,
        "--process",
        "complaint",
        "--input",
        "examples/runs/complaint_kpis.input.json",
        "--events",
        "examples/runs/complaint_kpis.events.jsonl",
    ];
    args.extend(extra);
    let run = procc(&args);
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    stdout
}

/// Runs the five-complaint scenario with `--json` and returns its KPI lines.
fn kpi_lines(test: &str) -> (Vec<Value>, Vec<Value>) {
    let stdout = run_scenario(test, &["--json"]);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    let per_instance = lines
        .iter()
        .filter_map(|l| l.get("kpis").cloned())
        .collect();
    let summaries = lines
        .iter()
        .filter_map(|l| l.get("kpi_summary").cloned())
        .collect();
    (per_instance, summaries)
}

fn summary<'a>(summaries: &'a [Value], name: &str) -> &'a Value {
    summaries
        .iter()
        .find(|s| s["kpi"] == name)
        .unwrap_or_else(|| panic!("no summary for {name}: {summaries:?}"))
}

#[test]
fn per_instance_values_match_the_event_times() {
    let (per_instance, _) = kpi_lines("kpi-per-instance");
    assert_eq!(per_instance.len(), 5, "one line per instance");
    // Every complaint starts at 09:00 on 2 March. First response = the first completed task:
    // 1 acknowledged 09:30, 2 at 10:00, 3 nobody (a supervisor completed `escalate` at 13:30), 4 at 09:10, 5 at 11:00.
    let first: Vec<Value> = per_instance
        .iter()
        .map(|i| i["values"][0]["value"].clone())
        .collect();
    assert_eq!(
        first,
        [
            30 * MINUTE,
            HOUR,
            4 * HOUR + 30 * MINUTE,
            10 * MINUTE,
            2 * HOUR
        ]
        .map(|v| json!(v))
    );
    // Time to close: 1 closed 3 March 11:00 (26h), 2 on 2 March 16:00 (7h), 3 on 3 March 13:00 (28h),
    // 4 on 4 March 15:00 (54h); 5 is still open.
    let close: Vec<Value> = per_instance
        .iter()
        .map(|i| i["values"][1]["value"].clone())
        .collect();
    assert_eq!(
        close,
        [
            json!(26 * HOUR),
            json!(7 * HOUR),
            json!(28 * HOUR),
            json!(54 * HOUR),
            Value::Null
        ]
    );
    assert_eq!(per_instance[4]["values"][1]["final"], false);
    // Instance 5's `assess` missed its deadline at 13:00, but the case is still running: a count so far.
    assert_eq!(per_instance[4]["values"][2]["value"], 1);
    assert_eq!(per_instance[4]["values"][2]["final"], false);
    assert_eq!(per_instance[4]["values"][2]["met"], Value::Null);
    assert_eq!(
        per_instance[3]["values"][3]["value"], 1,
        "instance 4's resolution was escalated"
    );
}

#[test]
fn summaries_match_hand_computed_figures() {
    let (_, summaries) = kpi_lines("kpi-summaries");
    // first_response over 10m, 30m, 1h, 2h, 4h30m: mean 490m / 5 = 98m; nearest rank p50 = 3rd = 1h,
    // p90 = ceil(4.5) = 5th = 4h30m; under 4h: 4 of 5.
    let first = summary(&summaries, "first_response");
    assert_eq!(first["count"], 5);
    assert_eq!(first["mean"], json!((98 * MINUTE) as f64));
    assert_eq!(first["p50"], HOUR);
    assert_eq!(first["p90"], 4 * HOUR + 30 * MINUTE);
    assert_eq!(first["met"], 4);
    assert_eq!(first["met_percent"], json!(80.0));
    // time_to_close over 7h, 26h, 28h, 54h (instance 5 has no value yet): mean 115h / 4 = 28.75h;
    // p50 = 2nd = 26h, p90 = ceil(3.6) = 4th = 54h; at most 48h: 3 of 4.
    let close = summary(&summaries, "time_to_close");
    assert_eq!(close["count"], 4);
    assert_eq!(close["mean"], json!((28 * HOUR + 45 * MINUTE) as f64));
    assert_eq!(close["p50"], 26 * HOUR);
    assert_eq!(close["p90"], 54 * HOUR);
    assert_eq!(close["met"], 3);
    assert_eq!(close["met_percent"], json!(75.0));
    // deadline_breaches (std.kpi) over the four ended cases: 0, 0, 1 (acknowledge), 1 (resolve_by_agent).
    let breaches = summary(&summaries, "deadline_breaches");
    assert_eq!(breaches["count"], 4);
    assert_eq!(breaches["mean"], json!(0.5));
    assert_eq!(
        (breaches["p50"].clone(), breaches["p90"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(breaches["met"], 2);
    // escalations (std.kpi): only instance 4's resolution went up its ladder; no target.
    let escalations = summary(&summaries, "escalations");
    assert_eq!(escalations["mean"], json!(0.25));
    assert_eq!(escalations["met"], Value::Null);
}

#[test]
fn people_see_a_summary_line_per_kpi() {
    let stdout = run_scenario("kpi-text", &[]);
    assert!(
        stdout.contains(
            "first_response: 5 instances, mean 1h 38m, p50 1h, p90 4h 30m, 4 of 5 (80.0%) meet the target < 4h"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("time_to_close: not yet known"), "{stdout}");
}

/// A run reports the KPIs that measure its instances: those of another process of the package are not
/// summarised as "0 instances", and a run of a process without KPIs prints no KPI section at all.
#[test]
fn a_run_reports_only_the_kpis_of_what_it_ran() {
    let dir = temp_dir("kpi-own-only");
    std::fs::write(
        dir.join("t.proc"),
        "/// Agents.\nrole Agent\n/// A.\nprocess a() {\n  step s \"S\" { by Agent }\n}\n/// B.\nprocess b() {\n  step t \"T\" { by Agent }\n}\n/// C.\nprocess c() {\n  step u \"U\" { by Agent }\n}\n/// For a.\nkpi a_time for a { measure time from start to s }\n/// For b.\nkpi b_time for b { measure time from start to t }\n",
    )
    .unwrap();
    let wasm = dir.join("t.wasm");
    let wasm = wasm.to_str().unwrap();
    let built = procc(&["build", dir.to_str().unwrap(), "-o", wasm]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let run = |process: &str| {
        let output = procc(&[
            "run",
            wasm,
            "--process",
            process,
            "--start-at",
            "2026-03-02T09:00:00Z",
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let a = run("a");
    assert!(a.contains("  a_time: 0 instances"), "{a}");
    assert!(!a.contains("b_time"), "{a}");
    let c = run("c");
    assert!(!c.contains("KPI"), "{c}");
    let _ = std::fs::remove_dir_all(&dir);
}
