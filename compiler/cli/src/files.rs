//! Finding and reading `.proc` files, and running the analysis safely. Shared by every command.

use proc_compiler::analysis::module_path;
use proc_compiler::{Analysis, SourceFile, analyze, analyze_for_build};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// The largest source file read (far above any real procedure; stops `/dev/zero` and runaway logs).
const MAX_SOURCE_BYTES: u64 = 256 * 1024 * 1024;

/// A set of files analysed together.
pub struct PackageInput {
    /// A name for the package: its directory's or file's name.
    pub name: String,
    /// Its files.
    pub files: Vec<SourceFile>,
}

/// Makes `dir` the directory an output goes to (creating it), or says why it cannot be: a file is there
/// (`writes` says what would go in it, `help` what to give instead), or it cannot be created. Exit status 2 then.
pub fn output_dir(dir: &Path, writes: &str, help: &str) -> Result<(), std::process::ExitCode> {
    if dir.exists() && !dir.is_dir() {
        errln!("error: `{}` is a file, and {writes}", dir.display());
        errln!("help: {help}");
        return Err(std::process::ExitCode::from(2));
    }
    std::fs::create_dir_all(dir).map_err(|error| {
        errln!("error: cannot create `{}`: {error}", dir.display());
        std::process::ExitCode::from(2)
    })
}

/// Whether standard output or standard error was closed by its reader (`procc test | head -1`).
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes to stdout. Once the reader has closed it (`procc check | head`), output stops but the work does not: the
/// exit status is what it would have been, so a failing `procc test | head -1` still fails a pipeline.
pub fn write_stdout(text: &str) {
    write_stdout_bytes(text.as_bytes());
}

/// Writes bytes (a module) to standard output exactly as they are, like [`write_stdout`].
pub fn write_stdout_bytes(bytes: &[u8]) {
    write_to(&mut std::io::stdout().lock(), &STDOUT_CLOSED, bytes);
}

/// Writes to stderr, like [`write_stdout`].
pub fn write_stderr(text: &str) {
    write_to(
        &mut std::io::stderr().lock(),
        &STDERR_CLOSED,
        text.as_bytes(),
    );
}

fn write_to(stream: &mut impl std::io::Write, closed: &AtomicBool, bytes: &[u8]) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    if stream
        .write_all(bytes)
        .and_then(|()| stream.flush())
        .is_err()
    {
        closed.store(true, Ordering::Relaxed);
    }
}

/// `println!` to [`write_stdout`].
macro_rules! outln {
    () => {
        $crate::files::write_stdout("\n")
    };
    ($($arg:tt)*) => {
        $crate::files::write_stdout(&format!("{}\n", format_args!($($arg)*)))
    };
}
/// `print!` to [`write_stdout`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::files::write_stdout(&format!($($arg)*))
    };
}
/// `eprintln!` to [`write_stderr`].
macro_rules! errln {
    () => {
        $crate::files::write_stderr("\n")
    };
    ($($arg:tt)*) => {
        $crate::files::write_stderr(&format!("{}\n", format_args!($($arg)*)))
    };
}
/// `eprint!` to [`write_stderr`].
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::files::write_stderr(&format!($($arg)*))
    };
}
pub(crate) use {err, errln, out, outln};

/// Runs the analysis on a thread with a large stack, so very deep (but accepted) nesting cannot overflow it.
pub fn analyze_on_big_stack(files: Vec<SourceFile>) -> Result<Analysis, String> {
    on_big_stack(move || analyze(files))
}

/// Like [`analyze_on_big_stack`], also recording expression types for the back end.
pub fn analyze_for_build_on_big_stack(files: Vec<SourceFile>) -> Result<Analysis, String> {
    on_big_stack(move || analyze_for_build(files))
}

/// Runs `work` on a thread with a large stack.
pub fn on_big_stack<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    std::thread::Builder::new()
        .name("analysis".to_string())
        .stack_size(256 * 1024 * 1024)
        .spawn(work)
        .map_err(|error| format!("cannot start the analysis: {error}"))?
        .join()
        .map_err(|_| "the analysis crashed; please report this as a bug".to_string())
}

/// Reads the packages named on the command line: each directory is one package, loose files form one more.
pub fn collect_packages(paths: &[PathBuf]) -> Result<Vec<PackageInput>, String> {
    let mut packages = Vec::new();
    let mut loose = Vec::new();
    let mut loose_dirs: Vec<Option<PathBuf>> = Vec::new();
    let mut stdin_read = false;
    // Each file and directory is read once, however often (and however spelt) it is named: overlapping globs
    // must not load a module twice.
    let mut seen = std::collections::HashSet::new();
    let mut first_time =
        |path: &Path| std::fs::canonicalize(path).map_or(true, |canonical| seen.insert(canonical));
    for path in paths {
        if path.as_os_str() == "-" {
            if std::mem::replace(&mut stdin_read, true) {
                return Err("`-` (standard input) is named twice".to_string());
            }
            loose.push(read_stdin()?);
            continue;
        }
        let metadata = std::fs::metadata(path)
            .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
        if metadata.is_dir() {
            if !first_time(path) {
                continue;
            }
            let mut found = Vec::new();
            walk(path, &mut found)?;
            if found.is_empty() {
                return Err(format!("no `.proc` files in `{}`", path.display()));
            }
            found.sort();
            let mut files = Vec::new();
            for file in found {
                if !first_time(&file) {
                    continue;
                }
                let relative = file.strip_prefix(path).unwrap_or(&file);
                let module = module_path(&relative.to_string_lossy());
                files.push(read_source(&file, module)?);
            }
            if files.is_empty() {
                continue;
            }
            let name = std::fs::canonicalize(path)
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "package".to_string());
            packages.push(PackageInput { name, files });
        } else {
            if !first_time(path) {
                continue;
            }
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            loose.push(read_source(path, stem)?);
            loose_dirs.push(
                std::fs::canonicalize(path)
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf)),
            );
        }
    }
    if !loose.is_empty() {
        // One file names its package; several files of one directory are named after it, as the directory is.
        let shared_dir = match loose_dirs.split_first() {
            Some((first, rest)) if !rest.is_empty() && rest.iter().all(|d| d == first) => first
                .as_ref()
                .and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().into_owned()),
            _ => None,
        };
        let name = shared_dir.unwrap_or_else(|| {
            loose
                .first()
                .map(|f| f.module.clone())
                .unwrap_or_else(|| "package".to_string())
        });
        packages.push(PackageInput { name, files: loose });
    }
    Ok(packages)
}

/// Every `.proc` file named on the command line: files as given, directories searched (hidden directories,
/// `target` and `node_modules` skipped). Sorted, each once.
pub fn proc_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path)
            .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
        if metadata.is_dir() {
            let before = found.len();
            walk(path, &mut found)?;
            if found.len() == before {
                return Err(format!("no `.proc` files in `{}`", path.display()));
            }
        } else {
            found.push(path.clone());
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// Reads at most [`MAX_SOURCE_BYTES`] (one byte past the limit, so `/dev/zero` or a runaway log cannot fill the
/// memory); `what` names the source in messages ("`a.proc`", "standard input").
fn read_limited(reader: impl std::io::Read, what: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader
        .take(MAX_SOURCE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("cannot read {what}: {error}"))?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(format!(
            "{what} is larger than {} MiB: is it a `.proc` file?",
            MAX_SOURCE_BYTES / (1024 * 1024)
        ));
    }
    Ok(bytes)
}

/// The bytes of standard input, with the same size limit as files.
pub fn read_stdin_bytes() -> Result<Vec<u8>, String> {
    read_limited(std::io::stdin(), "standard input")
}

/// Reads standard input as one file, shown as `<stdin>` (module `stdin`).
pub fn read_stdin() -> Result<SourceFile, String> {
    Ok(SourceFile::from_bytes(
        "<stdin>",
        "stdin",
        &read_stdin_bytes()?,
    ))
}

/// Reads one file.
pub fn read_source(path: &Path, module: String) -> Result<SourceFile, String> {
    let what = format!("`{}`", path.display());
    let file = std::fs::File::open(path).map_err(|error| format!("cannot read {what}: {error}"))?;
    let bytes = read_limited(file, &what)?;
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

/// Analyses every package named by `paths` (default: the current directory) for a command that needs programs
/// without errors (`procc doc`, `procc graph`). A package with errors has them printed to standard error, with
/// `refusal` saying what was not done; then the whole command fails with exit status 1 (2 for I/O errors).
pub fn error_free_packages(
    paths: &[PathBuf],
    color: bool,
    refusal: &str,
) -> Result<Vec<(String, Analysis)>, std::process::ExitCode> {
    let paths = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let packages = collect_packages(&paths).map_err(|message| {
        errln!("error: {message}");
        std::process::ExitCode::from(2)
    })?;
    let mut analysed = Vec::new();
    let mut failed = false;
    for package in packages {
        let analysis = analyze_on_big_stack(package.files).map_err(|message| {
            errln!("error: {message}");
            std::process::ExitCode::from(2)
        })?;
        let errors: Vec<_> = analysis
            .package_diagnostics()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        if errors.is_empty() {
            analysed.push((package.name, analysis));
            continue;
        }
        // Standard output may carry the command's result; the reasons there is none go to standard error.
        err!(
            "{}",
            proc_compiler::render::human(&analysis.files, &errors, color)
        );
        errln!(
            "error: `{}` has {} error{}: {refusal}",
            package.name,
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        );
        failed = true;
    }
    if failed {
        return Err(std::process::ExitCode::from(1));
    }
    Ok(analysed)
}
