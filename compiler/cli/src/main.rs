//! `procc`, the Proc command-line tool. All IO lives here: reading files, printing, exit codes.
//! The compiler core it calls is pure.
// Output goes through `files::{out, outln, err, errln}`, never `print!`/`eprint!` (the workspace's lints refuse
// them): a reader that closes the pipe early (`procc test | head -1`) must not crash the tool or change its exit
// status.

mod build;
mod doc;
mod files;
mod fmt;
mod graph;
mod run;
mod strict_json;
mod test;

use crate::files::{err, errln, out, outln};
use clap::{Parser, Subcommand, ValueEnum};
use files::{analyze_on_big_stack, collect_packages, write_stdout};
use proc_compiler::codes::{ALL_CODES, Code};
use proc_compiler::{Analysis, Diagnostic, render};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The Proc toolchain: check, build, run and test service procedures written in `.proc` files.
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
        /// Files or directories to check (default: the current directory); `-` reads standard input.
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
    /// Compile a package into one WebAssembly module that the Proc runtime (or any host) can run.
    ///
    /// Exit status: 0 when the module was written, 1 when the package has errors, 2 on usage or I/O errors.
    Build {
        /// The package: a directory, or `.proc` files (default: the current directory); `-` reads standard input.
        paths: Vec<PathBuf>,
        /// Where to write the output (default: `<package>.wasm`, or `.wat`, `.ir`, `.json`); `-` for stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// What to write.
        #[arg(long, value_enum, default_value_t = build::Emit::Wasm)]
        emit: build::Emit,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// When to use colours in human output.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Run a compiled module on a file of events and print the effects, as a host application would.
    ///
    /// Events are JSON objects, one per line, e.g.
    /// `{"at": "2026-03-02T09:30:00Z", "type": "complete", "step": "assess", "by": "ann", "roles": ["Agent"],
    /// "outputs": {"urgency": "high"}}`. See `docs/cli.md` for every event type.
    /// Exit status: 0 when every event was applied, 1 when one was refused, 2 on usage or I/O errors.
    Run {
        /// The module written by `procc build`.
        module: PathBuf,
        /// The process to start.
        #[arg(long)]
        process: Option<String>,
        /// The process's input: a JSON object in a file (`-` for standard input).
        #[arg(long)]
        input: Option<PathBuf>,
        /// The events: a file of JSON objects, one per line (`-` for standard input).
        #[arg(long)]
        events: Option<PathBuf>,
        /// When the process starts (RFC 3339); default: the first event's time.
        #[arg(long)]
        start_at: Option<String>,
        /// After the events, move the clock to this time (RFC 3339), firing what falls due.
        #[arg(long)]
        until: Option<String>,
        /// Print effects as JSON lines instead of text.
        #[arg(long)]
        json: bool,
        /// A JSON file describing people: `{"erin": {"roles": ["Engineer"], "skills": [], "manager": "ines"}}`.
        #[arg(long)]
        directory: Option<PathBuf>,
        /// A role whose holders may manage every task (reassign, suspend, resume, skip, redo), as a host's
        /// administrators; may be given more than once.
        #[arg(long = "admin-role", value_name = "ROLE")]
        admin_roles: Vec<String>,
    },
    /// Run the `test` blocks of `.proc` files through the real runtime with a virtual clock.
    ///
    /// Ends with a line `N passed, N failed`. Exit status: 0 when every test passed, 1 otherwise, 2 on usage
    /// or I/O errors.
    Test {
        /// Files or directories (default: the current directory); `-` reads standard input.
        paths: Vec<PathBuf>,
        /// Run only tests whose name contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// When to use colours in diagnostics.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Rewrite `.proc` files in the one canonical layout (comments are kept; the meaning never changes).
    ///
    /// Directories are searched for `.proc` files; `-` reads standard input and writes standard output.
    /// Files with syntax errors are reported and left alone. Exit status: 0 when every file is (now) formatted,
    /// 1 when `--check` found files to reformat or a file has syntax errors, 2 on usage or I/O errors.
    Fmt {
        /// Files or directories (default: the current directory); `-` for standard input.
        paths: Vec<PathBuf>,
        /// Change nothing: print the difference for each file that is not formatted and exit with 1.
        #[arg(long)]
        check: bool,
        /// When to use colours in diagnostics.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Write the SOP manual of each package: Markdown and a standalone HTML page per package, and an index.
    ///
    /// For every process and procedure: its purpose (doc comments), who performs, approves, takes over and is
    /// informed, the flowchart, and the numbered steps with who does them, by when, what happens when they are
    /// late and what is recorded; then the roles, the choices (enums and their values) and the calendars.
    /// Exit status: 0 when written, 1 when a package has errors, 2 on usage or I/O errors.
    Doc {
        /// Files or directories (default: the current directory); each directory is one package.
        paths: Vec<PathBuf>,
        /// The directory to write into.
        #[arg(short, long)]
        output: PathBuf,
        /// When to use colours in diagnostics.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Draw a flowchart of each process and procedure: swimlanes by role, decisions, parallel work, waits and
    /// escalations.
    ///
    /// Mermaid and DOT go to standard output (all charts, one after another) unless `-o DIR` is given; SVG needs
    /// `-o DIR` when there is more than one chart. Files are named `MODULE.NAME.EXT`. Exit status: 0 when the
    /// charts were written, 1 when the package has errors, 2 on usage or I/O errors.
    Graph {
        /// Files or directories (default: the current directory).
        paths: Vec<PathBuf>,
        /// What to write.
        #[arg(long, value_enum, default_value_t = graph::GraphFormat::Mermaid)]
        format: graph::GraphFormat,
        /// A directory to write one file per chart into.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Only this process or procedure.
        #[arg(long)]
        process: Option<String>,
        /// When to use colours in diagnostics.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Run the language server: LSP over standard input and output, for editors (VS Code, Neovim, Emacs).
    ///
    /// The server offers diagnostics while typing, hover, go to definition, references, rename, completion,
    /// signature help, outline, workspace symbols, semantic tokens, folding, formatting and quick fixes.
    /// Exit status: 0 after the client's `shutdown` and `exit`, 1 if the connection ended without `shutdown`.
    Lsp {
        /// Talk over standard input and output (the only transport; accepted because editors pass it).
        #[arg(long)]
        stdio: bool,
    },
    /// Explain a diagnostic code in detail, e.g. `procc explain P0007`; without a code, list all codes.
    Explain {
        /// The code, e.g. `P0007`.
        code: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Format {
    /// Source excerpts with labels, notes and help.
    Human,
    /// One line per diagnostic: `path:line:col: error[P0007]: message`.
    Short,
    /// One JSON object per line.
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum ColorChoice {
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
        Command::Build {
            paths,
            output,
            emit,
            format,
            color,
        } => build::run(&paths, output.as_deref(), emit, format, color),
        Command::Run {
            module,
            process,
            input,
            events,
            start_at,
            until,
            json,
            directory,
            admin_roles,
        } => run::run(run::RunArgs {
            module,
            process,
            input,
            events,
            start_at,
            until,
            json,
            directory,
            admin_roles,
        }),
        Command::Test {
            paths,
            filter,
            color,
        } => test::run(&paths, filter.as_deref(), color),
        Command::Fmt {
            paths,
            check,
            color,
        } => fmt::run(&paths, check, color),
        Command::Doc {
            paths,
            output,
            color,
        } => doc::run(&paths, &output, color),
        Command::Graph {
            paths,
            format,
            output,
            process,
            color,
        } => graph::run(&paths, format, output.as_deref(), process.as_deref(), color),
        Command::Lsp { stdio: _ } => match proc_lsp::run_stdio() {
            0 => ExitCode::SUCCESS,
            _ => ExitCode::FAILURE,
        },
        Command::Explain { code } => explain(code.as_deref()),
    }
}

/// Whether to colour output.
pub(crate) fn use_color(color: ColorChoice) -> bool {
    match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    }
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
            errln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let use_color = use_color(color);
    let (mut errors, mut warnings, mut file_count) = (0usize, 0usize, 0usize);
    let mut missing_imports = false;
    for package in packages {
        file_count += package.files.len();
        let analysis = match analyze_on_big_stack(package.files) {
            Ok(analysis) => analysis,
            Err(message) => {
                errln!("error: {message}");
                return ExitCode::from(2);
            }
        };
        let diagnostics: Vec<Diagnostic> = analysis.package_diagnostics().cloned().collect();
        errors += diagnostics.iter().filter(|d| d.is_error()).count();
        warnings += diagnostics.len() - diagnostics.iter().filter(|d| d.is_error()).count();
        print_diagnostics(&analysis, &diagnostics, format, use_color, false);
        missing_imports |= diagnostics
            .iter()
            .any(|d| d.code == proc_compiler::Code::UnresolvedImport);
    }
    // Files named one by one (a pre-commit hook passes the changed ones) form a package of their own: imports of
    // the other files of their directory cannot be found.
    if missing_imports && !matches!(format, Format::Json) && paths.iter().all(|p| p.is_file()) {
        errln!(
            "note: the files named were checked as one package on their own; to check the package they belong \
             to, name its directory (`procc check DIR`)"
        );
    }
    if !matches!(format, Format::Json) {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let denied = if deny_warnings && warnings > 0 {
            " (denied by --deny-warnings)"
        } else {
            ""
        };
        errln!(
            "checked {}: {}, {}{denied}",
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

/// Prints diagnostics: on standard output where they are the command's output (`check`, `test`), on standard
/// error where the output is something else (`build -o -` writes the module there).
pub(crate) fn print_diagnostics(
    analysis: &Analysis,
    diagnostics: &[Diagnostic],
    format: Format,
    color: bool,
    to_stderr: bool,
) {
    let text = match format {
        Format::Human => render::human(&analysis.files, diagnostics, color),
        Format::Short => render::short(&analysis.files, diagnostics),
        Format::Json => diagnostics
            .iter()
            .map(|diagnostic| format!("{}\n", render::json(&analysis.files, diagnostic)))
            .collect(),
    };
    if to_stderr {
        err!("{text}");
    } else {
        write_stdout(&text);
    }
}

fn explain(code: Option<&str>) -> ExitCode {
    let Some(text) = code else {
        outln!("Diagnostic codes (run `procc explain CODE` for details):\n");
        for code in ALL_CODES {
            let info = code.info();
            let severity = match info.severity {
                proc_compiler::Severity::Error => "error",
                proc_compiler::Severity::Warning => "warning",
            };
            outln!("  {}  {severity:<7}  {}", info.name, info.summary);
        }
        return ExitCode::SUCCESS;
    };
    match Code::parse(text) {
        Some(code) => {
            let info = code.info();
            outln!("{}: {}\n", info.name, info.summary);
            out!("{}", info.explanation);
            if !info.explanation.ends_with('\n') {
                outln!();
            }
            ExitCode::SUCCESS
        }
        None => {
            errln!("error: `{text}` is not a Proc diagnostic code");
            errln!("help: codes look like `P0007`; run `procc explain` to list them all");
            ExitCode::from(2)
        }
    }
}
