//! Compiled fixtures stay in step with the compiler. The runtime's documentation examples run a module that is
//! committed as bytes (the runtime may not depend on the compiler); this test rebuilds it from its source and
//! compares. After a deliberate change of the compiler's output, run the tests with `PROC_BLESS=1` once.

#![allow(clippy::expect_used, reason = "tests fail loudly")]

use proc_compiler::{SourceFile, analyze_for_build, backend};
use proc_tests::repo_root;

#[test]
fn the_runtime_doc_module_is_current() {
    let dir = repo_root().join("runtime/tests/data");
    let source = std::fs::read_to_string(dir.join("greet.proc")).expect("greet.proc");
    let analysis = analyze_for_build(vec![SourceFile::new("greet.proc", "greet", source)]);
    let built = backend::build(&analysis, "greet")
        .wasm
        .expect("greet.proc builds");
    let path = dir.join("greet.wasm");
    if std::env::var_os("PROC_BLESS").is_some() {
        std::fs::write(&path, &built).expect("write greet.wasm");
    }
    let committed = std::fs::read(&path).expect("greet.wasm");
    assert!(
        committed == built,
        "runtime/tests/data/greet.wasm is out of date with the compiler; rebuild it with \
         `PROC_BLESS=1 cargo test -p proc-tests --test fixtures`"
    );
}

#[test]
fn building_is_deterministic() {
    let root = repo_root().join("examples");
    for name in ["complaint.proc", "inquiry.proc", "refund.proc"] {
        let text = std::fs::read_to_string(root.join(name)).expect("example");
        let build = || {
            let analysis = analyze_for_build(vec![SourceFile::new(name, "example", text.clone())]);
            backend::build(&analysis, "example").wasm.expect("builds")
        };
        assert!(build() == build(), "{name} builds to different bytes twice");
    }
}
