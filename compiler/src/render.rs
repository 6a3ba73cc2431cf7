//! The one place diagnostics become text: ariadne for people, codespan-reporting's one-line form for CI logs,
//! and JSON for tools. Rendering is pure: it returns strings, the CLI prints them.

use crate::diagnostic::{Diagnostic, FileSpan, Severity};
use crate::source::SourceFile;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

/// At most this many diagnostics are drawn with excerpts; the rest are counted (the one-line and JSON forms list
/// every one). A file with ten thousand mistakes would otherwise print gigabytes.
const HUMAN_LIMIT: usize = 200;

/// A line longer than this is shown as a window around its labels, not whole.
const LONG_LINE: usize = 300;

/// Bytes of context either side of the labels in a window of a long line.
const WINDOW_CONTEXT: usize = 60;

/// Renders diagnostics for people: source excerpts with labels, notes and help (ariadne).
pub fn human(files: &[SourceFile], diagnostics: &[Diagnostic], color: bool) -> String {
    let shown = diagnostics.get(..HUMAN_LIMIT).unwrap_or(diagnostics);
    let mut out = human_reports(files, shown, color, true);
    if let Some(rest) = diagnostics
        .get(HUMAN_LIMIT..)
        .filter(|rest| !rest.is_empty())
    {
        let errors = rest.iter().filter(|d| d.is_error()).count();
        let warnings = rest.len() - errors;
        let count = |n: usize, what: &str| match n {
            0 => None,
            1 => Some(format!("1 more {what}")),
            n => Some(format!("{n} more {what}s")),
        };
        let counts: Vec<String> = [count(errors, "error"), count(warnings, "warning")]
            .into_iter()
            .flatten()
            .collect();
        out.push_str(&format!(
            "… and {} not shown (`--format short` or `--format json` lists every one)\n",
            counts.join(" and ")
        ));
    }
    out
}

/// A diagnostic whose primary label sits on a line longer than [`LONG_LINE`], with every other label on that
/// line too: the diagnostic as it reads against a text of its own, which holds that line cut down to a window
/// around the primary label (empty lines before it keep its line number), and the header the excerpt should have.
/// A label outside the window becomes a note naming its line and column. `None` when the excerpt can be shown as
/// it is (its lines are short, or its labels sit on several lines).
fn window(file: &SourceFile, diagnostic: &Diagnostic) -> Option<(SourceFile, Diagnostic, String)> {
    let text = file.text.as_str();
    let primary = diagnostic.at.span.range();
    let line = file.line_index(diagnostic.at.span.start);
    let start = file.line_start(line) as usize;
    let end = text
        .get(start..)
        .and_then(|rest| rest.find('\n'))
        .map_or(text.len(), |n| start + n);
    let on_line = |at: &FileSpan| {
        at.file == diagnostic.at.file
            && at.span.range().start >= start
            && at.span.range().end <= end
    };
    if end - start <= LONG_LINE || !diagnostic.labels.iter().all(|l| on_line(&l.at)) {
        return None;
    }
    let mut from = primary.start.saturating_sub(WINDOW_CONTEXT).max(start);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = primary
        .end
        .min(primary.start + LONG_LINE)
        .saturating_add(WINDOW_CONTEXT)
        .min(end);
    while !text.is_char_boundary(to) {
        to += 1;
    }
    let mut cut_text = "\n".repeat(line);
    if from > start {
        cut_text.push('…');
    }
    let base = cut_text.len();
    cut_text.push_str(text.get(from..to)?);
    if to < end {
        cut_text.push('…');
    }
    cut_text.push('\n');
    let moved = |span: crate::source::Span| {
        let range = span.range();
        crate::source::Span::new(
            range.start.clamp(from, to) - from + base,
            range.end.clamp(from, to) - from + base,
        )
    };
    let mut cut = diagnostic.clone();
    cut.at = FileSpan {
        file: crate::source::FileId(0),
        span: moved(diagnostic.at.span),
    };
    cut.labels.clear();
    for label in &diagnostic.labels {
        let range = label.at.span.range();
        if range.start >= from && range.end <= to {
            let mut kept = label.clone();
            kept.at = FileSpan {
                file: crate::source::FileId(0),
                span: moved(label.at.span),
            };
            cut.labels.push(kept);
        } else {
            let at = file.line_col(label.at.span.start);
            cut.notes.push(format!(
                "{} (line {}, column {})",
                label.message, at.line, at.column
            ));
        }
    }
    let at = file.line_col(diagnostic.at.span.start);
    let header = format!("{}:{}:{}", file.name, at.line, at.column);
    let source = SourceFile::new(file.name.clone(), file.module.clone(), cut_text);
    Some((source, cut, header))
}

/// The reports of [`human`]; `cut_long` draws long lines as windows ([`window`]).
fn human_reports(
    files: &[SourceFile],
    diagnostics: &[Diagnostic],
    color: bool,
    cut_long: bool,
) -> String {
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
        // A long line is cut down to a window around the primary label, drawn from a text of its own; the
        // excerpt's header names the place in the real line.
        if let Some((source, cut, header)) = files
            .get(diagnostic.at.file.0 as usize)
            .filter(|_| cut_long)
            .and_then(|file| window(file, diagnostic))
        {
            let drawn = human_reports(
                std::slice::from_ref(&source),
                std::slice::from_ref(&cut),
                color,
                false,
            );
            let at = source.line_col(cut.at.span.start);
            let wrong = format!("{}:{}:{}", source.name, at.line, at.column);
            out.extend_from_slice(drawn.replacen(&wrong, &header, 1).as_bytes());
            continue;
        }
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
        let mut drawn = Vec::new();
        let _ = report.finish().write(&mut cache, &mut drawn);
        out.extend_from_slice(other_file_headers(files, diagnostic, &drawn).as_bytes());
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// ariadne 0.6 heads the excerpt of another file than the primary's with a line and column counted as if each byte
/// were a character, which is wrong after the first non-ASCII character (`std/kpi.proc:76:98` for 77:5): each such
/// header is written again with the place of that file's first label.
fn other_file_headers(files: &[SourceFile], diagnostic: &Diagnostic, drawn: &[u8]) -> String {
    let mut text = String::from_utf8_lossy(drawn).into_owned();
    let mut done = Vec::new();
    for label in &diagnostic.labels {
        let file = label.at.file;
        if file == diagnostic.at.file || done.contains(&file) {
            continue;
        }
        done.push(file);
        let Some(source) = files.get(file.0 as usize) else {
            continue;
        };
        let first = diagnostic
            .labels
            .iter()
            .filter(|l| l.at.file == file)
            .map(|l| l.at.span.start)
            .min()
            .unwrap_or(label.at.span.start);
        let at = source.line_col(first);
        let prefix = format!("[ {}:", source.name);
        let Some(start) = text.find(&prefix) else {
            continue;
        };
        let place = start + prefix.len();
        let Some(end) = text.get(place..).and_then(|rest| rest.find(' ')) else {
            continue;
        };
        text.replace_range(place..place + end, &format!("{}:{}", at.line, at.column));
    }
    text
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
