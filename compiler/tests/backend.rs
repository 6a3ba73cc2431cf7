//! The back end on the examples: every one builds to a module that passes `wasmparser::validate`.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests fail loudly on broken fixtures"
)]

use proc_compiler::{SourceFile, analyze_for_build, backend};
use std::path::Path;

fn example(name: &str) -> Vec<SourceFile> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("example exists");
    vec![SourceFile::new(name, name.replace(".proc", ""), text)]
}

#[test]
fn every_example_builds_a_valid_module() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("examples")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".proc"))
        .collect();
    names.sort();
    assert!(names.len() >= 7);
    for name in names {
        let analysis = analyze_for_build(example(&name));
        let build = backend::build(&analysis, &name);
        assert!(
            build.diagnostics.is_empty(),
            "{name}: {:?}",
            build.diagnostics
        );
        let wasm = build.wasm.unwrap_or_else(|| panic!("{name} builds"));
        if let Err(e) = wasmparser::validate(&wasm) {
            let text = wasmprinter::print_bytes(&wasm).unwrap_or_default();
            std::fs::write(format!("/tmp/{name}.wat"), text).ok();
            panic!("{name}: invalid module: {e}");
        }
    }
}
