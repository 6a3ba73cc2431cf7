//! `procc fmt`: rewrite `.proc` files in the canonical layout, or check that they already are.

use crate::files::{err, errln};
use crate::files::{proc_files, read_source, read_stdin_bytes, write_stdout};
use crate::{ColorChoice, use_color};
use proc_compiler::{SourceFile, format, render};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Runs `procc fmt`.
pub fn run(paths: &[PathBuf], check: bool, color: ColorChoice) -> ExitCode {
    let color = use_color(color);
    if paths.iter().any(|p| p.as_os_str() == "-") {
        if paths.len() > 1 {
            errln!("error: `-` (standard input) cannot be combined with other paths");
            return ExitCode::from(2);
        }
        return stdin(check, color);
    }
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let files = match proc_files(paths) {
        Ok(files) => files,
        Err(message) => {
            errln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let (mut changed, mut unchanged, mut broken) = (0usize, 0usize, 0usize);
    for path in &files {
        let source = match read_source(path, String::new()) {
            Ok(source) => source,
            Err(message) => {
                errln!("error: {message}");
                return ExitCode::from(2);
            }
        };
        match format::format(&source) {
            Err(errors) => {
                broken += 1;
                // Diagnostics go to standard error: standard output holds only the diff (`--check`).
                err!(
                    "{}",
                    render::human(std::slice::from_ref(&source), &errors, color)
                );
                errln!(
                    "error: `{}` was not formatted: it has syntax errors",
                    path.display()
                );
            }
            Ok(formatted) if formatted == source.text => unchanged += 1,
            Ok(formatted) => {
                changed += 1;
                if check {
                    write_stdout(&diff(path, &source.text, &formatted));
                } else if let Err(error) = std::fs::write(path, formatted) {
                    errln!("error: cannot write `{}`: {error}", path.display());
                    return ExitCode::from(2);
                }
            }
        }
    }
    let plural = |n: usize| if n == 1 { "file" } else { "files" };
    let mut summary = if check {
        format!(
            "{changed} {} would be reformatted, {unchanged} already formatted",
            plural(changed)
        )
    } else {
        format!(
            "{changed} {} reformatted, {unchanged} left unchanged",
            plural(changed)
        )
    };
    if broken > 0 {
        summary.push_str(&format!(", {broken} with syntax errors"));
    }
    errln!("{summary}");
    if broken > 0 || (check && changed > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `procc fmt -`: standard input to standard output (for editors and pipes).
fn stdin(check: bool, color: bool) -> ExitCode {
    let bytes = match read_stdin_bytes() {
        Ok(bytes) => bytes,
        Err(message) => {
            errln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let source = SourceFile::from_bytes("<stdin>", "stdin", &bytes);
    match format::format(&source) {
        Err(errors) => {
            err!(
                "{}",
                render::human(std::slice::from_ref(&source), &errors, color)
            );
            errln!("error: standard input was not formatted: it has syntax errors");
            // An editor filter (`:%!procc fmt -`) replaces the text with the output: give it back unchanged.
            if !check {
                use std::io::Write;
                let mut stdout = std::io::stdout().lock();
                let _ = stdout.write_all(&bytes).and_then(|()| stdout.flush());
            }
            ExitCode::from(1)
        }
        Ok(formatted) if check => {
            if formatted == source.text {
                ExitCode::SUCCESS
            } else {
                write_stdout(&diff(Path::new("<stdin>"), &source.text, &formatted));
                ExitCode::from(1)
            }
        }
        Ok(formatted) => {
            write_stdout(&formatted);
            ExitCode::SUCCESS
        }
    }
}

/// A unified diff from the file as it is to the file as it would be.
fn diff(path: &Path, old: &str, new: &str) -> String {
    let name = path.display().to_string();
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(&name, &format!("{name} (formatted)"))
        .to_string()
}
