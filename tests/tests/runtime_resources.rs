//! What a long-running host needs of the runtime's resources: a removed instance gives its memory back, loaded
//! modules share one watchdog thread, and it stops when the last module is dropped. One test, in its own binary, because it reads the whole process's
//! memory and threads (other tests running beside it would disturb both).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use proc_runtime::{Actor, Effect, Module, Runtime, Time};
use serde_json::json;

/// The process's resident memory in bytes (Linux).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

const SOURCE: &str = r#"
/// Agents.
role Agent
/// A request.
record Request { customer: Text }
/// One step, then done.
process answer(r: Request) {
    /// Answer.
    step reply "Reply to {r.customer}" {
        by Agent
        within 4h
    }
}
"#;

fn compile() -> Module {
    proc_tests::load_module("test.proc", "test", SOURCE).unwrap()
}

/// Starts, completes and removes `n` instances.
fn run_cases(runtime: &mut Runtime, n: usize) {
    let agent = Actor::new("ann", &["Agent"]);
    let input = json!({"r": {"customer": "Ada"}});
    for _ in 0..n {
        let (id, effects) = runtime.start("answer", &input).unwrap();
        let task = effects
            .iter()
            .find_map(|e| match e {
                Effect::TaskOpened(t) => Some(t.task),
                _ => None,
            })
            .unwrap();
        runtime.complete(task, &agent, &json!({})).unwrap();
        runtime.remove(id).unwrap();
    }
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count)
}

#[test]
fn removed_instances_and_dropped_modules_give_their_resources_back() {
    let module = compile();
    let mut runtime = Runtime::new(&module).unwrap();
    runtime
        .advance("2026-03-02T09:00:00Z".parse::<Time>().unwrap())
        .unwrap();
    // Warm up: the worker's memory, buffers and maps reach their working size.
    run_cases(&mut runtime, 5_000);
    let before = rss();
    run_cases(&mut runtime, 200_000);
    let grown = rss().saturating_sub(before);
    // A slot of 64 bytes kept per finished instance (as a vector indexed by id did) would be 12.8 MB here.
    assert!(
        grown < 4 << 20,
        "200 000 started and removed instances grew the process by {grown} bytes"
    );
    assert_eq!(runtime.instance_count(), 0);

    // Loaded modules share one engine and its one watchdog thread, which ends soon after the last module is gone.
    drop(runtime);
    drop(module);
    std::thread::sleep(std::time::Duration::from_millis(100));
    let idle = threads();
    let modules: Vec<Module> = (0..8).map(|_| compile()).collect();
    assert_eq!(
        threads(),
        idle + 1,
        "eight loaded modules run one watchdog thread"
    );
    // They run side by side on the shared engine, each with its own instances.
    for module in &modules {
        let mut runtime = Runtime::new(module).unwrap();
        run_cases(&mut runtime, 3);
    }
    drop(modules);
    // Wait up to 10 s (a tick is 10 ms; a loaded CI machine may be slow to schedule the threads).
    for _ in 0..500 {
        if threads() <= idle {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        threads(),
        idle,
        "the watchdog threads of dropped modules ended"
    );
}
