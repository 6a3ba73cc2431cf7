//! The back end at the edges: very long flows, deep nesting, and randomly changed examples. Whatever checks
//! clean must build into a module that validates, loads and runs.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use proc_compiler::{SourceFile, analyze_for_build, backend};
use proc_runtime::{Actor, Effect, Module, Runtime, Time};
use proc_tests::repo_root;
use proptest::prelude::*;
use serde_json::json;

fn build(text: &str) -> Option<Vec<u8>> {
    let analysis = analyze_for_build(vec![SourceFile::new("t.proc", "t", text)]);
    if analysis.package_diagnostics().any(|d| d.is_error()) {
        return None;
    }
    let build = backend::build(&analysis, "t");
    let wasm = build.wasm?;
    if let Err(error) = wasmparser::validate(&wasm) {
        panic!("an invalid module for a clean package: {error}");
    }
    Some(wasm)
}

fn runtime(wasm: &[u8]) -> Runtime {
    let module = Module::from_bytes(wasm).expect("the module loads");
    let mut runtime = Runtime::new(&module).unwrap();
    runtime
        .advance("2026-03-02T09:00:00Z".parse::<Time>().unwrap())
        .unwrap();
    runtime
}

#[test]
fn a_process_with_thousands_of_steps_builds_and_runs() {
    let mut text = String::from(
        "/// Agents.\nrole Agent\n/// Input.\nrecord Case { customer: Text }\n/// Long.\nprocess long(c: Case) {\n",
    );
    for i in 0..3000 {
        text.push_str(&format!(
            "  step s{i} \"Step {i} for {{c.customer}}\" {{ by Agent within {}h }}\n",
            1 + i % 7
        ));
    }
    text.push_str("}\n");
    let wasm = build(&text).expect("builds");
    let mut runtime = runtime(&wasm);
    let (_, mut effects) = runtime
        .start("long", &json!({"c": {"customer": "Ada"}}))
        .unwrap();
    for i in 0..3000 {
        let Some(Effect::TaskOpened(task)) =
            effects.iter().find(|e| matches!(e, Effect::TaskOpened(_)))
        else {
            panic!("step {i} did not open")
        };
        assert_eq!(task.instruction, format!("Step {i} for Ada"));
        effects = runtime
            .complete(task.task, &Actor::new("ann", &["Agent"]), &json!({}))
            .unwrap();
    }
    assert!(matches!(
        effects.first(),
        Some(Effect::TaskCompleted { .. })
    ));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Completed { .. }))
    );
}

#[test]
fn deeply_nested_flows_build_and_run() {
    let depth = 20; // 3 brackets a level; the parser allows 64
    let mut text = String::from("/// Agents.\nrole Agent\n/// Nested.\nprocess nested(n: Int) {\n");
    for i in 0..depth {
        text.push_str(&format!("if n > {i} {{\nparallel {{\nbranch {{\n"));
    }
    text.push_str("step deep \"The deepest step\" { by Agent }\n");
    for _ in 0..depth {
        text.push_str("}\n}\n}\n");
    }
    text.push_str("}\n");
    let wasm = build(&text).expect("builds");
    let mut runtime = runtime(&wasm);
    let (_, effects) = runtime.start("nested", &json!({"n": 100})).unwrap();
    let Some(Effect::TaskOpened(task)) = effects.first() else {
        panic!("{effects:?}")
    };
    let effects = runtime
        .complete(task.task, &Actor::new("ann", &["Agent"]), &json!({}))
        .unwrap();
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Completed { .. })),
        "{effects:?}"
    );
}

fn examples() -> Vec<String> {
    let dir = repo_root().join("examples");
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "proc"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    texts.sort();
    texts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Changes digits and letters (which often still checks clean); whatever checks clean builds a valid module
    /// whose processes start with input of the right shape or refuse cleanly.
    #[test]
    fn changed_examples_that_check_clean_build_and_start(
        which in 0usize..7,
        edits in proptest::collection::vec((any::<u32>(), 0u8..10), 1..6),
    ) {
        let texts = examples();
        let mut bytes = texts[which % texts.len()].clone().into_bytes();
        for (position, digit) in edits {
            let at = position as usize % bytes.len();
            if bytes[at].is_ascii_digit() {
                bytes[at] = b'0' + digit;
            } else if bytes[at].is_ascii_lowercase() {
                bytes[at] = b'a' + digit;
            }
        }
        let Ok(text) = String::from_utf8(bytes) else { return Ok(()); };
        if let Some(wasm) = build(&text) {
            let mut runtime = runtime(&wasm);
            let processes: Vec<String> = runtime.module().metadata().processes.iter().map(|p| p.name.clone()).collect();
            for process in processes {
                // Wrong input is refused cleanly; the runtime stays usable.
                let _ = runtime.start(&process, &json!({}));
            }
            prop_assert!(runtime.next_wakeup().is_none() || runtime.instance_count() > 0);
        }
    }
}
