//! Diagnostics for the client, and the quick fixes they carry: the compiler's [`proc_compiler::Diagnostic`]
//! values (stable codes, labels, help, suggested edits) converted to the protocol's shapes.

use crate::convert;
use crate::navigation::capitalise;
use crate::view::View;
use proc_compiler::{Code, Diagnostic, FileId, Severity, Span};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use tower_lsp::lsp_types::{
    self as lsp, CodeAction, CodeActionKind, CodeActionOrCommand, CodeDescription,
    DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag, NumberOrString, TextEdit, Url,
    WorkspaceEdit,
};

/// The link to a code's explanation: a Markdown file with the text `procc explain CODE` prints, written once per
/// compiler version in a directory of the user's own ([`crate::private`]; the project has no web site, and a link
/// must open offline). `None` if it cannot be written.
pub fn explanation_link(code: Code) -> Option<Url> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    let dir = DIR
        .get_or_init(|| {
            let dir = crate::private::private_dir("explanations")?;
            for code in proc_compiler::ALL_CODES {
                let info = code.info();
                let severity = match info.severity {
                    Severity::Error => "Error",
                    Severity::Warning => "Warning",
                };
                let text = format!(
                    "# {}\n\n**{severity}:** {}.\n\n{}\n",
                    info.name,
                    info.summary,
                    info.explanation.trim_end()
                );
                crate::private::write_file(&dir.join(format!("{}.md", info.name)), &text)?;
            }
            Some(dir)
        })
        .as_ref()?;
    Url::from_file_path(dir.join(format!("{}.md", code.as_str()))).ok()
}

/// The diagnostics of one file, for `textDocument/publishDiagnostics`.
pub fn file_diagnostics(view: &View<'_>, file: FileId) -> Vec<lsp::Diagnostic> {
    view.analysis
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.at.file == file)
        .filter_map(|diagnostic| to_lsp(view, diagnostic))
        .collect()
}

/// One diagnostic in the protocol's shape. Help and notes follow the message, as `procc check` prints them.
pub fn to_lsp(view: &View<'_>, diagnostic: &Diagnostic) -> Option<lsp::Diagnostic> {
    let source = view.source(diagnostic.at.file)?;
    let mut message = diagnostic.message.clone();
    for note in &diagnostic.notes {
        message.push_str("\nnote: ");
        message.push_str(note);
    }
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = diagnostic
        .labels
        .iter()
        .filter_map(|label| {
            Some(DiagnosticRelatedInformation {
                location: view.location(label.at)?,
                message: label.message.clone(),
            })
        })
        .collect();
    let unnecessary = matches!(
        diagnostic.code,
        Code::UnreachableCode
            | Code::UnusedRole
            | Code::UnusedProcedure
            | Code::UnusedType
            | Code::UnusedVariable
    );
    Some(lsp::Diagnostic {
        range: convert::range(source, diagnostic.at.span),
        severity: Some(match diagnostic.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(diagnostic.code.as_str().to_string())),
        code_description: explanation_link(diagnostic.code).map(|href| CodeDescription { href }),
        source: Some("proc".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: unnecessary.then(|| vec![DiagnosticTag::UNNECESSARY]),
        data: None,
    })
}

/// Quick fixes for the diagnostics that touch `span`: one action per suggested edit (declare a missing role,
/// add the missing `match` arms, use the name the compiler thinks was meant).
pub fn code_actions(view: &View<'_>, file: FileId, span: Span) -> Vec<CodeActionOrCommand> {
    let mut actions = Vec::new();
    for diagnostic in &view.analysis.diagnostics {
        let at = diagnostic.at;
        let touches = at.file == file && at.span.start <= span.end && span.start <= at.span.end;
        if !touches || diagnostic.suggestions.is_empty() {
            continue;
        }
        let lsp_diagnostic = to_lsp(view, diagnostic);
        let single = diagnostic.suggestions.len() == 1;
        for (index, suggestion) in diagnostic.suggestions.iter().enumerate() {
            // The only fix, or importing what is declared elsewhere (before declaring another of the same name).
            let preferred = single || (index == 0 && suggestion.message.starts_with("import "));
            let (Some(uri), Some(source)) = (
                view.uri(suggestion.at.file),
                view.source(suggestion.at.file),
            ) else {
                continue;
            };
            if view.is_std(suggestion.at.file) {
                continue;
            }
            let edit = TextEdit::new(
                convert::range(source, suggestion.at.span),
                suggestion.replacement.clone(),
            );
            let mut changes = HashMap::new();
            changes.insert(uri, vec![edit]);
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: capitalise(&suggestion.message),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: lsp_diagnostic.clone().map(|d| vec![d]),
                edit: Some(WorkspaceEdit {
                    changes: Some(changes),
                    ..WorkspaceEdit::default()
                }),
                command: None,
                is_preferred: Some(preferred),
                disabled: None,
                data: None,
            }));
        }
    }
    actions
}
