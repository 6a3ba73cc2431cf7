//! Helpers shared by the command-line and language-server tests (each test file uses some of them).

#![allow(dead_code, reason = "each test binary uses a different subset")]

use proc_lsp::client::Client;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tower_lsp::lsp_types::Url;

/// The repository's root directory.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root")
}

/// A fresh, empty directory under the system's temporary directory, named after the test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("procc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir.canonicalize().expect("a temporary directory")
}

/// Runs `procc` in the repository's root, without colours.
pub fn procc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procc"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("procc runs")
}

/// Starts `procc` with these arguments (e.g. `["lsp"]`) as a language server.
pub fn start_server(args: &[&str], envs: &[(&str, &str)]) -> Client {
    Client::start(env!("CARGO_BIN_EXE_procc"), args, envs).expect("the server starts")
}

/// The `file:` URI of a path.
pub fn uri(path: &Path) -> String {
    Url::from_file_path(path)
        .expect("an absolute path")
        .to_string()
}
