//! The Proc compiler core. Pure: text in, results and diagnostics out; no file system, no printing, no clock.
//!
//! Pipeline: source → [`lexer`] (tokens + trivia) → [`parser`] (spanned [`ast`]) → [`check`] (names resolved,
//! types checked, facts recorded for [`analysis`]) → diagnostics rendered by [`render`].

pub mod ast;
pub mod codes;
pub mod diagnostic;
pub mod lexer;
pub mod parser;
pub mod source;
pub mod suggest;
