//! The benchmark binary runs: each mode on a few instances, with the JSON lines its users (and
//! `docs/performance.md`) read. The figures themselves are not checked; the benchmark checks its own counts and
//! fails when an instance does not end as expected.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use serde_json::Value;
use std::process::Command;

fn bench(args: &[&str]) -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_proc-bench"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "proc-bench {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn throughput_runs_both_peers_and_compares_them() {
    let lines = bench(&["throughput", "30"]);
    assert_eq!(lines.len(), 3, "{lines:?}");
    for (line, peer) in lines.iter().zip(["proc", "native"]) {
        assert_eq!(line["peer"], peer);
        assert_eq!(line["instances"], 30);
        assert_eq!(
            (line["escalations"].as_u64(), line["supervisor"].as_u64()),
            (Some(3), Some(10))
        );
        assert!(line["instances_per_s"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(lines[2]["compare"], "throughput");
}

#[test]
fn idle_and_events_report_their_measures() {
    let idle = bench(&["idle", "50", "--peer", "proc"]);
    assert_eq!(idle[0]["mode"], "idle");
    assert_eq!(idle[0]["instances"], 50);
    assert!(idle[0]["state_bytes_per_instance"].as_f64().unwrap() > 0.0);
    let events = bench(&["events", "20"]);
    assert_eq!(
        (
            events[0]["instances"].as_u64(),
            events[0]["events"].as_u64()
        ),
        (Some(20), Some(40))
    );
    assert!(events[0]["ns_per_event"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_wrong_command_line_prints_the_usage_and_exits_with_2() {
    for args in [
        &["events", "0"][..],
        &["events", "5", "--peer", "native"],
        &["walk", "5"],
        &[],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_proc-bench"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).starts_with("usage: proc-bench"));
    }
}
