//! The back end: a checked package → one WebAssembly module (see `docs/abi.md`).
//!
//! ```text
//! Analysis ──lower──▶ IR (units of resumable blocks) ──emit──▶ wasm (+ metadata section)
//!          └─testplan─▶ test plans (the package's `test` blocks, for `procc test`)
//! ```
//!
//! Like the rest of the compiler it is pure: it returns bytes and diagnostics.

pub mod asm;
pub mod emit;
pub mod ir;
pub mod layout;
pub mod lower;
pub mod meta;
pub mod module;
pub mod prelude;
pub mod testplan;

use crate::analysis::Analysis;
use crate::diagnostic::{Diagnostic, Severity};
pub use testplan::{TestAction, TestActionKind, TestActor, TestCompletion, TestManage, TestPlan};

/// The result of building a package.
pub struct Build {
    /// The module, if the package has no errors.
    pub wasm: Option<Vec<u8>>,
    /// Its metadata (also inside the module).
    pub metadata: proc_abi::Metadata,
    /// The lowered program (for `--emit ir` and tests).
    pub program: ir::Program,
    /// The package's `test` blocks.
    pub tests: Vec<TestPlan>,
    /// Diagnostics of the back end (the analysis's own are in the analysis).
    pub diagnostics: Vec<Diagnostic>,
}

/// Builds a package analysed with [`crate::analyze_for_build`]. `package` names it in the metadata.
pub fn build(analysis: &Analysis, package: &str) -> Build {
    let lowered = lower::lower(analysis);
    let metadata = meta::metadata(analysis, &lowered.program, &lowered.ids, package);
    let (tests, test_diagnostics) = testplan::plans(analysis, &lowered.ids, &metadata);
    let mut diagnostics = lowered.diagnostics;
    diagnostics.extend(test_diagnostics);
    // Code with a mistake the checker reported is not reported again as "cannot be compiled".
    let checker_errors: Vec<&Diagnostic> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    diagnostics.retain(|d| {
        !checker_errors.iter().any(|e| {
            e.at.file == d.at.file
                && e.at.span.start <= d.at.span.end
                && d.at.span.start <= e.at.span.end
        })
    });
    let failed = diagnostics
        .iter()
        .chain(&analysis.diagnostics)
        .any(|d| d.severity == Severity::Error);
    let wasm = (!failed).then(|| {
        let json = serde_json::to_vec(&metadata).unwrap_or_default();
        emit::emit(&lowered.program, &json)
    });
    Build {
        wasm,
        metadata,
        program: lowered.program,
        tests,
        diagnostics,
    }
}
