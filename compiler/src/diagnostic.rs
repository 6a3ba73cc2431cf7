//! Diagnostics as data: one [`Diagnostic`] type with a stable [`Code`], spans and suggestions.
//!
//! Text for people is produced in one place ([`crate::render`]); the checker only builds values.

use crate::codes::Code;
use crate::source::{FileId, Span};
use serde::Serialize;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The program is accepted, but something is probably wrong.
    Warning,
    /// The program is rejected.
    Error,
}

/// A span inside one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileSpan {
    /// The file.
    pub file: FileId,
    /// Byte range inside that file.
    pub span: Span,
}

/// A secondary label pointing at related code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub at: FileSpan,
    /// What is there (lowercase, no final period).
    pub message: String,
}

/// A machine-applicable edit: replace the text at `at` with `replacement`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    /// The text to replace.
    pub at: FileSpan,
    /// The new text.
    pub replacement: String,
    /// A short description, e.g. "use `Supervisor`".
    pub message: String,
}

/// One finding of the compiler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code, e.g. `P0007`.
    pub code: Code,
    /// Error or warning (the code's default unless overridden).
    pub severity: Severity,
    /// The headline: lowercase, no final period, user names in backticks.
    pub message: String,
    /// The primary location.
    pub at: FileSpan,
    /// Text of the primary label (may be empty).
    pub label: String,
    /// Secondary labels.
    pub labels: Vec<Label>,
    /// Extra facts ("note: ...").
    pub notes: Vec<String>,
    /// What to do ("help: ...").
    pub help: Option<String>,
    /// Machine-applicable fixes.
    pub suggestions: Vec<Suggestion>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity.
    pub fn new(code: Code, at: FileSpan, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.info().severity,
            message: message.into(),
            at,
            label: String::new(),
            labels: Vec::new(),
            notes: Vec::new(),
            help: None,
            suggestions: Vec::new(),
        }
    }

    /// Sets the primary label's text.
    #[must_use]
    pub fn with_label(mut self, text: impl Into<String>) -> Self {
        self.label = text.into();
        self
    }

    /// Adds a secondary label.
    #[must_use]
    pub fn with_secondary(mut self, at: FileSpan, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            at,
            message: text.into(),
        });
        self
    }

    /// Adds a note.
    #[must_use]
    pub fn with_note(mut self, text: impl Into<String>) -> Self {
        self.notes.push(text.into());
        self
    }

    /// Sets the help line.
    #[must_use]
    pub fn with_help(mut self, text: impl Into<String>) -> Self {
        self.help = Some(text.into());
        self
    }

    /// Adds a suggested replacement.
    #[must_use]
    pub fn with_suggestion(
        mut self,
        at: FileSpan,
        replacement: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        self.suggestions.push(Suggestion {
            at,
            replacement: replacement.into(),
            message: message.into(),
        });
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
