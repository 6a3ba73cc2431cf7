//! `procc test` stays small however many effects a test makes: a reminder every second over a week of test time
//! is 600 000 notifications, which the test runner counts instead of keeping.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::process::Command;

const LOOP: &str = r#"
/// Agents.
role Agent

/// Reminds every second until someone answers.
process remind() {
  parallel {
    branch {
      step answer "Answer" { by Agent }
    }
    branch {
      every 1s max 10000000 {
        notify Agent "still open"
      } until answer.done
    }
  }
}

test "a week of reminders" {
  start remind() at 2026-03-02T09:00Z
  advance 7d
  expect notified Agent "still open"
  expect notified Agent "still open"
  complete answer by "ann" as Agent
  expect completed
}
"#;

/// The peak resident size (bytes) the kernel reports for a running process, if it is still running.
fn peak_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[test]
fn a_test_with_millions_of_effects_keeps_only_what_its_expectations_need() {
    let dir = std::env::temp_dir().join(format!("procc-memory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("loop.proc");
    std::fs::write(&file, LOOP).unwrap();
    let out = dir.join("out.txt");
    let mut child = Command::new(env!("CARGO_BIN_EXE_procc"))
        .arg("test")
        .arg(&file)
        .env("NO_COLOR", "1")
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(dir.join("err.txt")).unwrap())
        .spawn()
        .expect("procc runs");
    // The high-water mark only grows: the last reading before the process ends is close to its peak.
    let mut peak = 0;
    let status = loop {
        if let Some(bytes) = peak_bytes(child.id()) {
            peak = peak.max(bytes);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let stdout = std::fs::read_to_string(&out).unwrap();
    assert!(
        status.success(),
        "{stdout}{}",
        std::fs::read_to_string(dir.join("err.txt")).unwrap()
    );
    assert!(stdout.ends_with("1 passed, 0 failed\n"), "{stdout}");
    // Keeping every effect took about 250 bytes each: 300 MB for this week (1.4 GB for a month).
    assert!(peak > 0, "the peak memory of procc could not be read");
    assert!(
        peak < 150 << 20,
        "procc test took {} MB for 604 800 notifications",
        peak >> 20
    );
    let _ = std::fs::remove_dir_all(&dir);
}
