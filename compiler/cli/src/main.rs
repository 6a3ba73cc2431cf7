//! `procc`, the Proc command-line tool. All IO lives here: reading files, printing, exit codes.
//! The compiler core it calls is pure.
#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "printing results is the command-line tool's job"
)]

use clap::{Parser, Subcommand, ValueEnum};
use proc_compiler::analysis::module_path;
use proc_compiler::codes::{ALL_CODES, Code};
use proc_compiler::{Analysis, Diagnostic, SourceFile, analyze, render};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The Proc toolchain: check service procedures written in `.proc` files.
#[derive(Parser, Debug)]
#[command(name = "procc", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check `.proc` files for mistakes without running them.
    ///
    /// Each directory is one package (its files are modules named by their path, `billing/refund.proc` is
    /// `billing.refund`); files given directly form one package together.
    /// Exit status: 0 when no errors were found, 1 when errors were found, 2 when the files could not be read.
    Check {
        /// Files or directories to check (default: the current directory).
        paths: Vec<PathBuf>,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// When to use colours in human output.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
        /// Treat warnings as errors (exit status 1 when there are any).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Explain a diagnostic code in detail, e.g. `procc explain P0007`; without a code, list all codes.
    Explain {
        /// The code, e.g. `P0007`.
        code: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// Source excerpts with labels, notes and help.
    Human,
    /// One line per diagnostic: `path:line:col: error[P0007]: message`.
    Short,
    /// One JSON object per line.
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ColorChoice {
    /// Colour when printing to a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check {
            paths,
            format,
            color,
            deny_warnings,
        } => check(paths, format, color, deny_warnings),
        Command::Explain { code } => explain(code.as_deref()),
    }
}

/// A set of files analysed together.
struct PackageInput {
    files: Vec<SourceFile>,
}

fn check(paths: Vec<PathBuf>, format: Format, color: ColorChoice, deny_warnings: bool) -> ExitCode {
    let paths = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths
    };
    let packages = match collect_packages(&paths) {
        Ok(packages) => packages,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let use_color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let (mut errors, mut warnings, mut file_count) = (0usize, 0usize, 0usize);
    for package in packages {
        file_count += package.files.len();
        let analysis = match analyze_on_big_stack(package.files) {
            Ok(analysis) => analysis,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(2);
            }
        };
        let diagnostics: Vec<Diagnostic> = analysis.package_diagnostics().cloned().collect();
        errors += diagnostics.iter().filter(|d| d.is_error()).count();
        warnings += diagnostics.len() - diagnostics.iter().filter(|d| d.is_error()).count();
        print_diagnostics(&analysis, &diagnostics, format, use_color);
    }
    if !matches!(format, Format::Json) {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        eprintln!(
            "checked {}: {}, {}",
            plural(file_count, "file"),
            plural(errors, "error"),
            plural(warnings, "warning")
        );
    }
    if errors > 0 || (deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_diagnostics(analysis: &Analysis, diagnostics: &[Diagnostic], format: Format, color: bool) {
    let text = match format {
        Format::Human => render::human(&analysis.files, diagnostics, color),
        Format::Short => render::short(&analysis.files, diagnostics),
        Format::Json => diagnostics
            .iter()
            .map(|diagnostic| format!("{}\n", render::json(&analysis.files, diagnostic)))
            .collect(),
    };
    write_stdout(&text);
}

/// Writes to stdout; a closed pipe (`procc check | head`) ends the program quietly instead of panicking.
fn write_stdout(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}

/// Runs the analysis on a thread with a large stack, so very deep (but accepted) nesting cannot overflow it.
fn analyze_on_big_stack(files: Vec<SourceFile>) -> Result<Analysis, String> {
    std::thread::Builder::new()
        .name("analysis".to_string())
        .stack_size(256 * 1024 * 1024)
        .spawn(move || analyze(files))
        .map_err(|error| format!("cannot start the analysis: {error}"))?
        .join()
        .map_err(|_| "the analysis crashed; please report this as a bug".to_string())
}

fn collect_packages(paths: &[PathBuf]) -> Result<Vec<PackageInput>, String> {
    let mut packages = Vec::new();
    let mut loose = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path)
            .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
        if metadata.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            let mut files = Vec::new();
            for file in found {
                let relative = file.strip_prefix(path).unwrap_or(&file);
                let module = module_path(&relative.to_string_lossy());
                files.push(read_source(&file, module)?);
            }
            if files.is_empty() {
                return Err(format!("no `.proc` files in `{}`", path.display()));
            }
            packages.push(PackageInput { files });
        } else {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            loose.push(read_source(path, stem)?);
        }
    }
    if !loose.is_empty() {
        packages.push(PackageInput { files: loose });
    }
    Ok(packages)
}

fn read_source(path: &Path, module: String) -> Result<SourceFile, String> {
    let bytes = std::fs::read(path)
        .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
    Ok(SourceFile::from_bytes(
        path.display().to_string(),
        module,
        &bytes,
    ))
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| format!("cannot read directory `{}`: {error}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|error| format!("cannot read `{}`: {error}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        let file_type = entry
            .file_type()
            .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
        if file_type.is_dir() {
            walk(&path, found)?;
        } else if path.extension().is_some_and(|ext| ext == "proc") {
            found.push(path);
        }
    }
    Ok(())
}

fn explain(code: Option<&str>) -> ExitCode {
    let Some(text) = code else {
        println!("Diagnostic codes (run `procc explain CODE` for details):\n");
        for code in ALL_CODES {
            let info = code.info();
            let severity = match info.severity {
                proc_compiler::Severity::Error => "error",
                proc_compiler::Severity::Warning => "warning",
            };
            println!("  {}  {severity:<7}  {}", info.name, info.summary);
        }
        return ExitCode::SUCCESS;
    };
    match Code::parse(text) {
        Some(code) => {
            let info = code.info();
            println!("{}: {}\n", info.name, info.summary);
            print!("{}", info.explanation);
            if !info.explanation.ends_with('\n') {
                println!();
            }
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("error: `{text}` is not a Proc diagnostic code");
            eprintln!("help: codes look like `P0007`; run `procc explain` to list them all");
            ExitCode::from(2)
        }
    }
}
