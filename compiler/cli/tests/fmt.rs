//! `procc fmt` from the outside: rewriting, `--check`, standard input, broken files and exit codes.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root")
}

fn procc(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("procc runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("procc-fmt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const MESSY: &str = "role Agent\nprocess p(){step s{by Agent within 4h}\n// why\ncomplete}\n";
const TIDY: &str = "role Agent\n\nprocess p() {\n  step s {\n    by Agent\n    within 4h\n  }\n  // why\n  complete\n}\n";

#[test]
fn the_examples_are_formatted() {
    let output = procc(&["fmt", "--check", "examples/", "std/"], &root());
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(text(&output.stderr).contains("0 files would be reformatted"));
}

#[test]
fn check_prints_a_diff_and_changes_nothing_then_fmt_rewrites() {
    let dir = temp_dir("rewrite");
    let file = dir.join("messy.proc");
    std::fs::write(&file, MESSY).unwrap();
    std::fs::write(dir.join("tidy.proc"), TIDY).unwrap();

    let check = procc(&["fmt", "--check", "."], &dir);
    assert_eq!(check.status.code(), Some(1));
    let diff = text(&check.stdout);
    assert!(
        diff.contains("-process p(){step s{by Agent within 4h}"),
        "{diff}"
    );
    assert!(diff.contains("+process p() {"), "{diff}");
    assert!(!diff.contains("tidy.proc"), "{diff}");
    assert!(
        text(&check.stderr).contains("1 file would be reformatted, 1 already formatted"),
        "{}",
        text(&check.stderr)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), MESSY);

    let write = procc(&["fmt"], &dir);
    assert_eq!(write.status.code(), Some(0), "{}", text(&write.stderr));
    assert!(text(&write.stderr).contains("1 file reformatted, 1 left unchanged"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), TIDY);

    let again = procc(&["fmt", "--check", "messy.proc"], &dir);
    assert_eq!(again.status.code(), Some(0));
}

#[test]
fn files_with_syntax_errors_are_reported_and_left_alone() {
    let dir = temp_dir("broken");
    let file = dir.join("broken.proc");
    let broken = "role Agent\nprocess p( {\n";
    std::fs::write(&file, broken).unwrap();
    let output = procc(&["fmt", "broken.proc"], &dir);
    assert_eq!(output.status.code(), Some(1));
    // Diagnostics on standard error: standard output holds only diffs.
    assert!(
        text(&output.stderr).contains("P0004"),
        "{}",
        text(&output.stderr)
    );
    assert!(text(&output.stdout).is_empty(), "{}", text(&output.stdout));
    assert!(text(&output.stderr).contains("`broken.proc` was not formatted: it has syntax errors"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), broken);
}

fn format_stdin(input: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_procc"))
        .args(["fmt", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn standard_input_to_standard_output() {
    let output = format_stdin(MESSY);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text(&output.stdout), TIDY);
    // Text with syntax errors comes back unchanged (an editor filter replaces its buffer with the output).
    let broken = "role Agent\nprocess p( {\n";
    let output = format_stdin(broken);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), broken);
    assert!(text(&output.stderr).contains("has syntax errors"));
}

#[test]
fn usage_errors_exit_two() {
    let dir = temp_dir("usage");
    let missing = procc(&["fmt", "no-such-file.proc"], &dir);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("cannot read `no-such-file.proc`"));
    let empty = procc(&["fmt", "."], &dir);
    assert_eq!(empty.status.code(), Some(2));
    assert!(text(&empty.stderr).contains("no `.proc` files"));
    let help = procc(&["fmt", "--help"], &dir);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("--check"));
}
