//! The `procc` command line: exit codes, output formats, `explain`, `--help` and `--version`.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn procc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("procc runs")
}

/// Runs `procc` with `input` on its standard input.
fn procc_with_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_procc"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("procc runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn temp_dir(name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("procc-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

const CLEAN: &[u8] = b"/// Answers first.\nrole Agent\n/// Greets.\nprocess greet() {\n  step hello { by Agent within 1h }\n}\n";
const BROKEN: &[u8] = b"role Agent\nprocess greet() {\n  step hello { by Agnet within 1h }\n}\n";
const WARNS: &[u8] = b"role Agent\nrole Idle\nprocess greet() {\n  step hello { by Agent }\n}\n";

#[test]
fn clean_package_exits_zero() {
    let dir = temp_dir("clean", &[("a.proc", CLEAN)]);
    let output = procc(&["check", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("checked 1 file: 0 errors, 0 warnings"),
        "{stderr}"
    );
}

#[test]
fn errors_exit_one_in_every_format() {
    let dir = temp_dir("broken", &[("a.proc", BROKEN)]);
    let path = dir.to_str().unwrap();
    let human = procc(&["check", path]);
    assert_eq!(human.status.code(), Some(1));
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("[P0007] Error: unknown role `Agnet`"),
        "{text}"
    );
    assert!(text.contains("did you mean `Agent`?"), "{text}");

    let short = procc(&["check", "--format", "short", path]);
    assert_eq!(short.status.code(), Some(1));
    let text = String::from_utf8_lossy(&short.stdout);
    assert!(
        text.contains("a.proc:3:19: error[P0007]: unknown role `Agnet`"),
        "{text}"
    );
    // The role the misspelling means is not reported as unused on top of it.
    assert!(!text.contains("P0033"), "{text}");

    let json = procc(&["check", "--format", "json", path]);
    assert_eq!(json.status.code(), Some(1));
    let lines = String::from_utf8_lossy(&json.stdout).into_owned();
    let values: Vec<serde_json::Value> = lines
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    // The misspelt role is the one diagnostic.
    assert_eq!(values.len(), 1);
    let value = values
        .iter()
        .find(|v| v["code"] == "P0007")
        .expect("the P0007 line");
    assert_eq!(value["code"], "P0007");
    assert_eq!(value["severity"], "error");
    assert_eq!(value["location"]["line_start"], 3);
    assert_eq!(value["location"]["column_start"], 19);
    assert_eq!(value["location"]["byte_start"], 47);
    assert_eq!(value["suggestions"][0]["replacement"], "Agent");
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = temp_dir("warns", &[("a.proc", WARNS)]);
    let path = dir.to_str().unwrap();
    assert_eq!(procc(&["check", path]).status.code(), Some(0));
    let denied = procc(&["check", "--deny-warnings", path]);
    assert_eq!(denied.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("1 warning (denied by --deny-warnings)"),
        "{}",
        String::from_utf8_lossy(&denied.stderr)
    );
}

#[test]
fn standard_input_is_checked_as_a_file_named_stdin() {
    let broken = procc_with_stdin(&["check", "--format", "short", "-"], BROKEN);
    assert_eq!(broken.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&broken.stdout);
    assert!(stdout.contains("<stdin>:3:19: error[P0007]"), "{stdout}");
    assert!(String::from_utf8_lossy(&broken.stderr).contains("checked 1 file: 1 error"));
    let clean = procc_with_stdin(&["check", "-"], CLEAN);
    assert_eq!(clean.status.code(), Some(0), "{clean:?}");
    // Built from standard input as well: the module goes to standard output.
    let built = procc_with_stdin(&["build", "-", "-o", "-"], CLEAN);
    assert_eq!(built.status.code(), Some(0), "{built:?}");
    assert!(built.stdout.starts_with(b"\0asm"));
    let twice = procc_with_stdin(&["check", "-", "-"], CLEAN);
    assert_eq!(twice.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("named twice"));
}

#[test]
fn unreadable_paths_exit_two() {
    let output = procc(&["check", "/definitely/not/here.proc"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read"));
    let usage = procc(&["check", "--format", "yaml"]);
    assert_eq!(usage.status.code(), Some(2));
    // An endless device is not read to the end (the memory would run out first).
    let endless = procc(&["check", "/dev/zero"]);
    assert_eq!(endless.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&endless.stderr).contains("is larger than 256 MiB"),
        "{}",
        String::from_utf8_lossy(&endless.stderr)
    );
}

#[test]
fn modules_in_subdirectories_import_each_other() {
    let dir = temp_dir(
        "modules",
        &[
            ("billing/roles.proc", b"/// Bills.\nrole Biller\n"),
            (
                "main.proc",
                b"use billing.roles.Biller\nprocess p() {\n  step s { by Biller }\n}\n",
            ),
        ],
    );
    let output = procc(&["check", dir.to_str().unwrap()]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    // One file named on its own is a package of its own: its import is missing, and a note says why.
    let alone = procc(&["check", dir.join("main.proc").to_str().unwrap()]);
    assert_eq!(alone.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&alone.stderr).contains("name its directory (`procc check DIR`)"),
        "{}",
        String::from_utf8_lossy(&alone.stderr)
    );
}

#[test]
fn explain_prints_the_explanation() {
    let output = procc(&["explain", "p0007"]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("P0007: a name that is not declared or imported"),
        "{text}"
    );
    let list = procc(&["explain"]);
    assert_eq!(
        String::from_utf8_lossy(&list.stdout)
            .matches("  P00")
            .count(),
        proc_compiler::ALL_CODES.len()
    );
    assert_eq!(procc(&["explain", "E0001"]).status.code(), Some(2));
}

#[test]
fn help_and_version() {
    for args in [
        &["--help"][..],
        &["check", "--help"],
        &["explain", "--help"],
    ] {
        let output = procc(args);
        assert_eq!(output.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage: procc"));
    }
    let version = procc(&["--version"]);
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("procc 0.1.0"));
}

/// Runs `procc` with its standard output or error (`which`) read by nobody: the pipe is closed before it writes,
/// as `procc … | head -1` closes it after one line.
fn procc_with_closed(args: &[&str], which: &str) -> std::process::ExitStatus {
    use std::process::Stdio;
    let mut command = Command::new(env!("CARGO_BIN_EXE_procc"));
    command.args(args).env("NO_COLOR", "1");
    if which == "stdout" {
        command.stdout(Stdio::piped()).stderr(Stdio::null());
    } else {
        command.stdout(Stdio::null()).stderr(Stdio::piped());
    }
    let mut child = command.spawn().expect("procc runs");
    drop(child.stdout.take());
    drop(child.stderr.take());
    child.wait().unwrap()
}

#[test]
fn a_closed_output_changes_no_exit_status() {
    // A failing test stays a failure when its report is cut short (`procc test | head -1` under `pipefail`), and
    // a closed standard error is no crash (exit 101).
    let failing = b"/// Answers.\nrole Agent\n/// Greets.\nprocess greet() {\n  step hello { by Agent }\n}\ntest \"fails\" {\n  start greet()\n  expect completed\n}\n";
    let dir = temp_dir("closed", &[("a.proc", failing), ("b/broken.proc", BROKEN)]);
    let file = dir.join("a.proc");
    let broken = dir.join("b/broken.proc");
    for which in ["stdout", "stderr"] {
        let status = procc_with_closed(&["test", file.to_str().unwrap()], which);
        assert_eq!(status.code(), Some(1), "test, {which} closed");
        let status = procc_with_closed(&["check", broken.to_str().unwrap()], which);
        assert_eq!(status.code(), Some(1), "check, {which} closed");
    }
    let status = procc_with_closed(
        &["check", "--format", "short", broken.to_str().unwrap()],
        "stdout",
    );
    assert_eq!(
        status.code(),
        Some(1),
        "check --format short, stdout closed"
    );
}
