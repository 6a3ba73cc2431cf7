//! The Proc compiler core. Pure: text in, results and diagnostics out; no file system, no printing, no clock.
//!
//! Pipeline: source → [`lexer`] (tokens + trivia) → [`parser`] (spanned [`ast`]) → [`check`] (names resolved,
//! types checked, facts recorded in the [`model`]) → diagnostics rendered by [`render`]. [`analyze`] runs it all
//! and returns an [`Analysis`] that the CLI and the language server query.

pub mod analysis;
pub mod ast;
pub mod backend;
pub mod check;
pub mod codes;
pub mod diagnostic;
pub mod doc;
pub mod format;
pub mod graph;
pub mod kpi;
pub mod lexer;
pub mod literal;
pub mod model;
pub mod parser;
pub mod render;
pub mod source;
pub mod std_lib;
pub mod suggest;
pub mod zones;

pub use analysis::{Analysis, ParsedFile, analyze, analyze_for_build, analyze_with_std};
pub use codes::{ALL_CODES, Code};
pub use diagnostic::{Diagnostic, FileSpan, Severity};
pub use source::{FileId, SourceFile, Span};
