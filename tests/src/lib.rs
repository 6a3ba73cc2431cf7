//! Helpers for the data-driven tests: reading `.proc` fixtures and their `//~` expectations.
//!
//! An expectation is a comment: `//~ P0007` at the end of a line expects a diagnostic with that code whose primary
//! span starts on that line; a line holding only `//~^ P0007` points at the line above (one `^` per line up).
//! Text after the code must occur in the message. The runner compares the expected and reported sets exactly.

use proc_compiler::analysis::module_path;
use proc_compiler::{Analysis, Diagnostic, SourceFile, analyze_for_build, backend};
use proc_runtime::Module;
use std::path::{Path, PathBuf};

/// One expected diagnostic.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expected {
    /// File name as shown in diagnostics.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// Code, e.g. `P0007`.
    pub code: String,
    /// Text that must occur in the message (may be empty).
    pub message: String,
}

/// Parses the `//~` expectations of one file.
pub fn expectations(name: &str, text: &str) -> Vec<Expected> {
    let mut expected = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some(position) = line.find("//~") else {
            continue;
        };
        let before = line.get(..position).unwrap_or("");
        let rest = line.get(position + 3..).unwrap_or("");
        let ups = rest.chars().take_while(|&c| c == '^').count();
        let rest = rest.get(ups..).unwrap_or("").trim();
        let (code, message) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let own_line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let line_number = if before.trim().is_empty() && ups > 0 {
            own_line.saturating_sub(u32::try_from(ups).unwrap_or(0))
        } else {
            own_line
        };
        expected.push(Expected {
            file: name.to_string(),
            line: line_number,
            code: code.to_string(),
            message: message.trim().to_string(),
        });
    }
    expected
}

/// Reads every `.proc` (and `.bin`) file below `dir`, sorted.
pub fn fixture_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|ext| ext == "proc" || ext == "bin")
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Analyses files as one package; module names come from paths relative to `root`.
pub fn analyze_files(root: &Path, files: &[PathBuf]) -> Analysis {
    let sources: Vec<SourceFile> = files
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).unwrap_or_default();
            let relative = path.strip_prefix(root).unwrap_or(path);
            let relative = relative.to_string_lossy().replace(".bin", ".proc");
            SourceFile::from_bytes(path.display().to_string(), module_path(&relative), &bytes)
        })
        .collect();
    analyze_for_build(sources)
}

/// The back end's diagnostics, as `procc build` and `procc test` report them next to the checker's (a mistake the
/// checker reported is not reported again); a module it emits must pass `wasmparser::validate`, or that is
/// reported as a diagnostic-like failure.
pub fn backend_diagnostics(analysis: &Analysis) -> Result<Vec<Diagnostic>, String> {
    let build = backend::build(analysis, "test");
    if let Some(wasm) = &build.wasm {
        wasmparser::validate(wasm).map_err(|e| format!("  the emitted module is invalid: {e}"))?;
    }
    Ok(build.diagnostics)
}

/// Compiles one `.proc` text as a one-file package (`file` in module `module`) and loads it into the runtime.
/// `Err` lists the compiler's errors or back-end diagnostics, or says why the module did not load.
pub fn load_module(file: &str, module: &str, text: impl Into<String>) -> Result<Module, String> {
    let wasm = compile_module(file, module, text)?;
    Module::from_bytes(&wasm).map_err(|e| format!("the module does not load: {e}"))
}

/// Compiles one `.proc` text as a one-file package (`file` in module `module`) into a module's bytes. `Err` lists
/// the compiler's errors or back-end diagnostics.
pub fn compile_module(
    file: &str,
    module: &str,
    text: impl Into<String>,
) -> Result<Vec<u8>, String> {
    let analysis = analyze_for_build(vec![SourceFile::new(file, module, text)]);
    let errors: Vec<String> = analysis
        .package_diagnostics()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect();
    if !errors.is_empty() {
        return Err(format!("the program has errors: {errors:?}"));
    }
    let build = backend::build(&analysis, module);
    if !build.diagnostics.is_empty() {
        return Err(format!("the back end reported {:?}", build.diagnostics));
    }
    build
        .wasm
        .ok_or_else(|| "the back end emitted no module".to_string())
}

/// Compares a package's diagnostics with the expectations in its files; returns a report of differences.
pub fn compare(analysis: &Analysis) -> Option<String> {
    let mut expected: Vec<Expected> = analysis
        .files
        .iter()
        .take(analysis.package_files)
        .flat_map(|file| expectations(&file.name, &file.text))
        .collect();
    expected.sort();
    let mut unmatched_actual = Vec::new();
    let backend = match backend_diagnostics(analysis) {
        Ok(diagnostics) => diagnostics,
        Err(report) => return Some(report),
    };
    for diagnostic in analysis.package_diagnostics().chain(&backend) {
        let Some(file) = analysis.file(diagnostic.at.file) else {
            continue;
        };
        let line = file.line_col(diagnostic.at.span.start).line;
        let code = diagnostic.code.as_str();
        let position = expected.iter().position(|e| {
            e.file == file.name
                && e.line == line
                && e.code == code
                && diagnostic.message.contains(&e.message)
        });
        match position {
            Some(position) => {
                expected.remove(position);
            }
            None => unmatched_actual.push(format!(
                "  unexpected {}:{line}: {code}: {}",
                file.name, diagnostic.message
            )),
        }
    }
    let missing: Vec<String> = expected
        .iter()
        .map(|e| {
            format!(
                "  missing    {}:{}: {} {}",
                e.file, e.line, e.code, e.message
            )
        })
        .collect();
    if missing.is_empty() && unmatched_actual.is_empty() {
        None
    } else {
        Some([unmatched_actual, missing].concat().join("\n"))
    }
}

/// A runtime snapshot without what names its instance (the id, and the checksum over it): the case's own state,
/// to compare cases that run under different ids.
pub fn case_state(snapshot: &[u8]) -> Vec<u8> {
    // The header: magic, ABI version, hash length and hash, wake-up (i64), status (u8), instance id (u64).
    let hash_len = snapshot
        .get(12..16)
        .and_then(|b| b.try_into().ok())
        .map_or(0, |b| u32::from_le_bytes(b) as usize);
    let id = 16 + hash_len + 9;
    let mut bytes = snapshot
        .get(..snapshot.len().saturating_sub(32))
        .unwrap_or_default()
        .to_vec();
    if bytes.len() >= id + 8 {
        bytes.drain(id..id + 8);
    }
    bytes
}

/// The repository root (the parent of this crate's directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Every example as `(module name, text)`, sorted by file name.
pub fn examples() -> Vec<(String, String)> {
    fixture_files(&repo_root().join("examples"))
        .into_iter()
        .filter_map(|path| {
            let stem = path.file_stem()?.to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).ok()?;
            Some((stem, text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_expectations() {
        let text = "role A //~ P0033 never used\nstep x {\n//~^ P0018\n";
        let found = expectations("f", text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].line, 1);
        assert_eq!(found[0].message, "never used");
        assert_eq!(found[1].line, 2);
        assert_eq!(found[1].code, "P0018");
    }
}
