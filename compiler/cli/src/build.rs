//! `procc build`: a package → one WebAssembly module (or its text form, IR or metadata).

use crate::files::errln;
use crate::files::{analyze_for_build_on_big_stack, collect_packages};
use crate::{ColorChoice, Format, print_diagnostics, use_color};
use clap::ValueEnum;
use proc_compiler::backend::{self, Build};
use proc_compiler::{Analysis, Diagnostic};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What `procc build` writes.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Emit {
    /// The WebAssembly module.
    Wasm,
    /// The module in WebAssembly text format (for reading).
    Wat,
    /// The back end's intermediate representation (for reading).
    Ir,
    /// The module's metadata as JSON.
    Metadata,
}

/// A built package with the analysis it came from (for printing diagnostics).
pub struct Built {
    /// The package's name.
    pub name: String,
    /// The analysis.
    pub analysis: Analysis,
    /// The build.
    pub build: Build,
}

impl Built {
    /// Every diagnostic of the package: the analysis's and the back end's.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut all: Vec<Diagnostic> = self.analysis.package_diagnostics().cloned().collect();
        all.extend(self.build.diagnostics.iter().cloned());
        all
    }
}

/// Analyses and builds every package named by `paths`.
pub fn build_packages(paths: &[PathBuf]) -> Result<Vec<Built>, String> {
    let paths = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let mut out = Vec::new();
    for package in collect_packages(&paths)? {
        let analysis = analyze_for_build_on_big_stack(package.files)?;
        let build = backend::build(&analysis, &package.name);
        out.push(Built {
            name: package.name,
            analysis,
            build,
        });
    }
    Ok(out)
}

pub fn run(
    paths: &[PathBuf],
    output: Option<&Path>,
    emit: Emit,
    format: Format,
    color: ColorChoice,
) -> ExitCode {
    let built = match build_packages(paths) {
        Ok(built) => built,
        Err(message) => {
            errln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let [package] = built.as_slice() else {
        errln!(
            "error: `procc build` builds one package at a time, but {} were given",
            built.len()
        );
        errln!("help: name one directory, or the `.proc` files of one package");
        return ExitCode::from(2);
    };
    let diagnostics = package.diagnostics();
    print_diagnostics(
        &package.analysis,
        &diagnostics,
        format,
        use_color(color),
        true,
    );
    // With `--format json`, standard error holds only the diagnostics' JSON lines: the exit status tells the rest.
    let human = !matches!(format, Format::Json);
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let Some(wasm) = package.build.wasm.as_ref().filter(|_| errors == 0) else {
        if human {
            errln!(
                "error: could not build `{}`: {errors} error{}",
                package.name,
                if errors == 1 { "" } else { "s" }
            );
        }
        return ExitCode::from(1);
    };
    let extension = match emit {
        Emit::Wasm => "wasm",
        Emit::Wat => "wat",
        Emit::Ir => "ir",
        Emit::Metadata => "json",
    };
    let bytes: Vec<u8> = match emit {
        Emit::Wasm => wasm.clone(),
        Emit::Wat => match wasmprinter::print_bytes(wasm) {
            Ok(text) => text.into_bytes(),
            Err(error) => {
                errln!("error: cannot print the module as text: {error}");
                return ExitCode::from(1);
            }
        },
        Emit::Ir => package.build.program.to_string().into_bytes(),
        Emit::Metadata => serde_json::to_vec_pretty(&package.build.metadata).unwrap_or_default(),
    };
    let target = output.map_or_else(
        || PathBuf::from(format!("{}.{extension}", package.name)),
        Path::to_path_buf,
    );
    if target.as_os_str() == "-" {
        if matches!(emit, Emit::Wasm) && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            errln!("error: refusing to write a binary module to a terminal");
            errln!(
                "help: redirect it (`> {}.wasm`) or give a file with `-o`",
                package.name
            );
            return ExitCode::from(2);
        }
        crate::files::write_stdout_bytes(&bytes);
        return ExitCode::SUCCESS;
    }
    if let Some(source) = overwritten_source(&package.analysis, &target) {
        errln!(
            "error: `{}` is a source file of the package; writing the output there would destroy it",
            source
        );
        errln!("help: give another path with `-o`");
        return ExitCode::from(2);
    }
    if let Err(error) = std::fs::write(&target, &bytes) {
        errln!("error: cannot write `{}`: {error}", target.display());
        return ExitCode::from(2);
    }
    if !human {
        return ExitCode::SUCCESS;
    }
    let meta = &package.build.metadata;
    errln!(
        "built `{}`: {} ({} bytes; {} process{}, {} step{})",
        package.name,
        target.display(),
        bytes.len(),
        meta.processes.len(),
        if meta.processes.len() == 1 { "" } else { "es" },
        meta.steps.len(),
        if meta.steps.len() == 1 { "" } else { "s" }
    );
    ExitCode::SUCCESS
}

/// The package's source file that `target` names (however it is spelt), if it is one.
fn overwritten_source<'a>(analysis: &'a proc_compiler::Analysis, target: &Path) -> Option<&'a str> {
    let target = std::fs::canonicalize(target).ok()?;
    analysis
        .files
        .iter()
        .map(|f| f.name.as_str())
        .find(|name| std::fs::canonicalize(name).is_ok_and(|path| path == target))
}
