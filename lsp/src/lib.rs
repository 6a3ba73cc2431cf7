//! The Proc language server: a thin layer over the compiler's analysis, speaking LSP over stdio (tower-lsp).
//!
//! - [`workspace`]: open documents over the files on disk, packages, and which files a change affects;
//! - [`server`]: the protocol service, the analysis worker, and the guard that keeps one failing request
//!   from taking the server down;
//! - [`diagnostics`], [`navigation`], [`completion`]: the features, each a function of one analysis;
//! - [`convert`]: byte offsets ↔ UTF-16 positions, the only place positions are converted;
//! - [`transport`]: the guard that checks every incoming message before tower-lsp reads it.
//!
//! The server never analyses on its own: every answer comes from [`proc_compiler::analyze`], the same analysis
//! `procc check` runs.

pub mod client;
pub mod completion;
pub mod convert;
pub mod diagnostics;
pub mod navigation;
pub mod private;
pub mod server;
pub mod transport;
pub mod view;
pub mod workspace;

pub use server::run_stdio;
