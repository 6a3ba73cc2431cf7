//! The one place diagnostics become text: ariadne for people, codespan-reporting's one-line form for CI logs,
//! and JSON for tools. Rendering is pure: it returns strings, the CLI prints them.

use crate::diagnostic::{Diagnostic, FileSpan, Severity};
use crate::source::SourceFile;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

/// Renders diagnostics for people: source excerpts with labels, notes and help (ariadne).
pub fn human(files: &[SourceFile], diagnostics: &[Diagnostic], color: bool) -> String {
    use ariadne::{Config, IndexType, Label, Report, ReportKind};
    let needed: BTreeSet<usize> = diagnostics
        .iter()
        .flat_map(|d| std::iter::once(d.at.file).chain(d.labels.iter().map(|l| l.at.file)))
        .map(|file| file.0 as usize)
        .collect();
    let mut cache = ariadne::sources(
        needed
            .iter()
            .filter_map(|&index| files.get(index).map(|f| (f.name.clone(), f.text.clone()))),
    );
    let name_of = |file: crate::source::FileId| {
        files
            .get(file.0 as usize)
            .map(|f| f.name.clone())
            .unwrap_or_default()
    };
    // Inside the text and on character boundaries (ariadne slices the text at both ends).
    let clamp = |file: crate::source::FileId, range: std::ops::Range<usize>| {
        let text = files.get(file.0 as usize).map_or("", |f| f.text.as_str());
        let mut start = range.start.min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = range.end.clamp(start, text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        start..end
    };
    let mut out = Vec::new();
    for diagnostic in diagnostics {
        let kind = match diagnostic.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
        };
        let primary = (
            name_of(diagnostic.at.file),
            clamp(diagnostic.at.file, diagnostic.at.span.range()),
        );
        let mut report = Report::build(kind, primary.clone())
            .with_config(
                Config::default()
                    .with_index_type(IndexType::Byte)
                    .with_color(color),
            )
            .with_code(diagnostic.code)
            .with_message(&diagnostic.message);
        let mut primary_label = Label::new(primary);
        if !diagnostic.label.is_empty() {
            primary_label = primary_label.with_message(&diagnostic.label);
        }
        if color {
            primary_label = primary_label.with_color(match diagnostic.severity {
                Severity::Error => ariadne::Color::Red,
                Severity::Warning => ariadne::Color::Yellow,
            });
        }
        // Labels in the order they appear (the primary's file first): ariadne starts a new excerpt at a label above
        // the one before it, and heads every excerpt of the primary's file with the primary's line, so a "first
        // declared here" above the error would sit under a header naming the wrong line.
        let key = |at: &FileSpan| (at.file != diagnostic.at.file, at.file.0, at.span.start);
        let mut places: Vec<(bool, u32, u32)> = std::iter::once(&diagnostic.at)
            .chain(diagnostic.labels.iter().map(|l| &l.at))
            .map(key)
            .collect();
        places.sort_unstable();
        let order = |at: &FileSpan| {
            let rank = places.partition_point(|p| *p < key(at));
            i32::try_from(rank).unwrap_or(i32::MAX)
        };
        report = report.with_label(primary_label.with_order(order(&diagnostic.at)));
        for label in &diagnostic.labels {
            let mut secondary = Label::new((
                name_of(label.at.file),
                clamp(label.at.file, label.at.span.range()),
            ))
            .with_message(&label.message)
            .with_order(order(&label.at));
            if color {
                secondary = secondary.with_color(ariadne::Color::Blue);
            }
            report = report.with_label(secondary);
        }
        for note in &diagnostic.notes {
            report = report.with_note(note);
        }
        if let Some(help) = &diagnostic.help {
            report = report.with_help(help);
        }
        // Writing into a Vec cannot fail; a failure would only lose this one report.
        let _ = report.finish().write(&mut cache, &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Renders diagnostics one per line, `path:line:col: error[P0007]: message` (codespan-reporting's short form).
pub fn short(files: &[SourceFile], diagnostics: &[Diagnostic]) -> String {
    let mut database = SimpleFiles::new();
    let mut ids: HashMap<usize, usize> = HashMap::new();
    let config = term::Config {
        display_style: term::DisplayStyle::Short,
        ..term::Config::default()
    };
    let mut out = String::new();
    for diagnostic in diagnostics {
        let index = diagnostic.at.file.0 as usize;
        let Some(file) = files.get(index) else {
            continue;
        };
        let id = *ids
            .entry(index)
            .or_insert_with(|| database.add(file.name.clone(), file.text.clone()));
        let severity = match diagnostic.severity {
            Severity::Error => cs::Severity::Error,
            Severity::Warning => cs::Severity::Warning,
        };
        let start = (diagnostic.at.span.start as usize).min(file.text.len());
        let end = (diagnostic.at.span.end as usize).clamp(start, file.text.len());
        let rendered = cs::Diagnostic::new(severity)
            .with_code(diagnostic.code.as_str())
            .with_message(&diagnostic.message)
            .with_labels(vec![cs::Label::primary(id, start..end)]);
        match term::emit_into_string(&config, &database, &rendered) {
            Ok(text) => out.push_str(&text),
            Err(_) => {
                let position = file.line_col(diagnostic.at.span.start);
                out.push_str(&format!(
                    "{}:{}:{}: {}[{}]: {}\n",
                    file.name,
                    position.line,
                    position.column,
                    if diagnostic.is_error() {
                        "error"
                    } else {
                        "warning"
                    },
                    diagnostic.code,
                    diagnostic.message
                ));
            }
        }
    }
    out
}

/// One diagnostic as a JSON object: code, severity, message, file, byte and line/column ranges, labels, notes,
/// help and suggested replacements.
pub fn json(files: &[SourceFile], diagnostic: &Diagnostic) -> Value {
    let location = |at: crate::diagnostic::FileSpan| {
        let file = files.get(at.file.0 as usize);
        let (start, end) = match file {
            Some(file) => (file.line_col(at.span.start), file.line_col(at.span.end)),
            None => (
                crate::source::LineCol { line: 0, column: 0 },
                crate::source::LineCol { line: 0, column: 0 },
            ),
        };
        json!({
            "file": file.map(|f| f.name.clone()).unwrap_or_default(),
            "byte_start": at.span.start,
            "byte_end": at.span.end,
            "line_start": start.line,
            "column_start": start.column,
            "line_end": end.line,
            "column_end": end.column,
        })
    };
    json!({
        "code": diagnostic.code,
        "severity": diagnostic.severity,
        "message": diagnostic.message,
        "location": location(diagnostic.at),
        "label": diagnostic.label,
        "labels": diagnostic.labels.iter().map(|l| json!({"message": l.message, "location": location(l.at)})).collect::<Vec<_>>(),
        "notes": diagnostic.notes,
        "help": diagnostic.help,
        "suggestions": diagnostic.suggestions.iter().map(|s| json!({
            "message": s.message,
            "replacement": s.replacement,
            "location": location(s.at),
        })).collect::<Vec<_>>(),
        "explanation": format!("procc explain {}", diagnostic.code),
    })
}
