//! The formatter: one canonical layout for `.proc` files (`procc fmt`, the language server's formatting).
//!
//! It prints the syntax tree again, so the layout never depends on how the file was written: two-space
//! indentation, one declaration member, statement, step clause or test statement per line, single spaces between
//! words and around operators, one blank line between top-level declarations. What it keeps from the source:
//! every comment and doc comment (trivia), literals exactly as written, and the author's blank lines between
//! statements (at most one). Comments stay where they were: before the line they preceded, or at the end of the
//! line they ended. A comment written in the middle of an expression that the formatter prints on one line moves
//! to the next line, never into the middle of a line.
//!
//! A file with syntax errors is not formatted: [`format`] returns its diagnostics instead, as `rustfmt` and
//! `gleam format` do, because the syntax tree of a broken file is not the author's program.
//!
//! Invariants, each tested over every example and corpus file: formatting is idempotent; the formatted file
//! parses to the same syntax tree (ignoring spans) with the same documentation; no comment is lost. Lines end as
//! the file's first line does (`\r\n` or `\n`).

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::lexer::{self, Token, Trivia, TriviaKind};
use crate::parser;
use crate::source::{FileId, SourceFile, Span};

/// Indentation of one nesting level.
const INDENT: &str = "  ";

/// Formats one file. Returns the canonical text, or the file's errors when it does not parse cleanly.
pub fn format(source: &SourceFile) -> Result<String, Vec<Diagnostic>> {
    let file = FileId(0);
    let mut errors: Vec<Diagnostic> = Vec::new();
    if source.invalid_utf8_at.is_some() {
        // Analysing it gives the located diagnostic; the formatter only needs to refuse.
        let analysis = crate::analysis::analyze_with_std(vec![source.clone()], Vec::new());
        errors.extend(
            analysis
                .diagnostics
                .into_iter()
                .filter(Diagnostic::is_error),
        );
        return Err(errors);
    }
    let lexed = lexer::lex(file, &source.text);
    let (ast, parse_errors) = parser::parse(file, source.text.len(), &lexed);
    errors.extend(lexed.diagnostics.iter().filter(|d| d.is_error()).cloned());
    errors.extend(parse_errors.into_iter().filter(Diagnostic::is_error));
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut printer = Printer {
        source,
        text: &source.text,
        comments: &lexed.trivia,
        emitted: vec![false; lexed.trivia.len()],
        pending: 0,
        tokens: &lexed.tokens,
        out: String::with_capacity(source.text.len() + source.text.len() / 8),
        indent: 0,
        last_end: 0,
        broken: false,
    };
    printer.file(&ast);
    if printer.broken {
        // Not reachable for a file that parsed without errors; refuse rather than print something else.
        return Err(errors);
    }
    let formatted = printer.finish();
    Ok(if uses_crlf(&source.text) {
        with_crlf(&formatted)
    } else {
        formatted
    })
}

/// Whether a file's lines end with `\r\n`, judged by its first line (as rustfmt's and ruff's `auto` line
/// endings do): the formatter keeps a Windows file's line endings rather than rewriting every line.
fn uses_crlf(text: &str) -> bool {
    text.split_once('\n')
        .is_some_and(|(first, _)| first.ends_with('\r'))
}

/// `text` with every `\n` that is not already preceded by `\r` written as `\r\n`.
fn with_crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut previous = '\0';
    for c in text.chars() {
        if c == '\n' && previous != '\r' {
            out.push('\r');
        }
        out.push(c);
        previous = c;
    }
    out
}

/// True when formatting would not change the file (and it parses cleanly).
pub fn is_formatted(source: &SourceFile) -> bool {
    format(source).is_ok_and(|formatted| formatted == source.text)
}

struct Printer<'a> {
    source: &'a SourceFile,
    text: &'a str,
    comments: &'a [Trivia],
    emitted: Vec<bool>,
    /// No comment before this index is still to be printed (comments are in source order; each lookup starts
    /// here instead of at the first comment, which made formatting a large file quadratic).
    pending: usize,
    tokens: &'a [(Token<'a>, chumsky::span::SimpleSpan)],
    out: String,
    indent: usize,
    /// Source offset where the last printed piece (line or comment) ended; blank lines are judged from here.
    last_end: u32,
    /// Set when an `Error` node turns up (only in files that did not parse).
    broken: bool,
}

/// How a list of comma-separated items ends when it is printed one item per line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Trailing {
    /// With a comma after the last item (the grammar allows it).
    Comma,
    /// Without separators at all (record literal fields may go without commas).
    Bare,
}

impl<'a> Printer<'a> {
    // -----------------------------------------------------------------------------------------------------
    // Lines, comments and blank lines

    fn finish(mut self) -> String {
        self.leading_comments(u32::MAX);
        while self.out.ends_with("\n\n") {
            self.out.pop();
        }
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        self.out
    }

    fn line_of(&self, offset: u32) -> usize {
        self.source.line_index(offset)
    }

    fn write_indent(&mut self) {
        for _ in 0..self.indent {
            self.out.push_str(INDENT);
        }
    }

    /// One empty line, unless the output is at its start, already after one, or just after an opening brace.
    fn blank_line(&mut self) {
        if self.out.is_empty()
            || self.out.ends_with("\n\n")
            || self.out.ends_with("{\n")
            || self.out.ends_with("(\n")
            || self.out.ends_with("[\n")
            || !self.out.ends_with('\n')
        {
            return;
        }
        self.out.push('\n');
    }

    /// A blank line if the source has one between the last printed piece and `pos`.
    fn blank_if_source_has(&mut self, pos: u32) {
        let from = (self.last_end as usize).min(self.text.len());
        let to = (pos as usize).min(self.text.len()).max(from);
        let newlines = self
            .text
            .get(from..to)
            .map_or(0, |between| between.bytes().filter(|&b| b == b'\n').count());
        if newlines >= 2 {
            self.blank_line();
        }
    }

    fn comment_text(&self, comment: &Trivia) -> &'a str {
        self.text.get(comment.span.range()).unwrap_or("").trim_end()
    }

    /// Prints, each on its own line, the comments not yet printed that start before `pos`.
    /// Marks comment `index` printed, and moves [`Printer::pending`] past the printed ones.
    fn mark_emitted(&mut self, index: usize) {
        if let Some(flag) = self.emitted.get_mut(index) {
            *flag = true;
        }
        while self.emitted.get(self.pending).copied() == Some(true) {
            self.pending += 1;
        }
    }

    /// The index of the first comment starting at or after `pos`, not before [`Printer::pending`].
    fn first_comment_from(&self, pos: u32) -> usize {
        let tail = self.comments.get(self.pending..).unwrap_or_default();
        self.pending + tail.partition_point(|c| c.span.start < pos)
    }

    fn leading_comments(&mut self, pos: u32) {
        for index in self.pending..self.comments.len() {
            let Some(comment) = self.comments.get(index).copied() else {
                break;
            };
            if comment.span.start >= pos {
                break;
            }
            if self.emitted.get(index).copied().unwrap_or(true) {
                continue;
            }
            self.blank_if_source_has(comment.span.start);
            self.write_indent();
            let text = self.comment_text(&comment);
            self.out.push_str(text);
            self.out.push('\n');
            self.last_end = self.last_end.max(comment.span.end);
            self.mark_emitted(index);
        }
    }

    /// Starts a line for a piece that begins at `pos`: its comments, a blank line if the author left one, the
    /// indentation.
    fn begin(&mut self, pos: u32) {
        self.leading_comments(pos);
        self.blank_if_source_has(pos);
        self.write_indent();
    }

    /// Ends the line of a piece that ends at `end`, with the comment that followed it on the same source line.
    fn end(&mut self, end: u32) {
        let line = self.line_of(end.saturating_sub(1));
        let from = self.first_comment_from(end);
        let trailing = self
            .comments
            .iter()
            .enumerate()
            .skip(from)
            .find(|(index, _)| !self.emitted.get(*index).copied().unwrap_or(true))
            .map(|(index, c)| (index, *c));
        let mut last = end;
        if let Some((index, comment)) = trailing {
            if comment.kind == TriviaKind::Comment && self.line_of(comment.span.start) == line {
                self.out.push(' ');
                let text = self.comment_text(&comment);
                self.out.push_str(text);
                last = comment.span.end;
                self.mark_emitted(index);
            }
        }
        self.out.push('\n');
        self.last_end = self.last_end.max(last);
    }

    /// True if a comment not yet printed lies in `from..to`.
    fn has_comments_in(&self, from: u32, to: u32) -> bool {
        let first = self.first_comment_from(from);
        self.comments
            .iter()
            .enumerate()
            .skip(first)
            .take_while(|(_, c)| c.span.start < to)
            .any(|(index, _)| !self.emitted.get(index).copied().unwrap_or(true))
    }

    /// Index of the first token starting at or after `pos`.
    fn token_index_at(&self, pos: u32) -> usize {
        self.tokens
            .partition_point(|(_, span)| (span.start as u64) < u64::from(pos))
    }

    /// The start of the last token of kind `open` that starts before `pos`.
    fn open_before(&self, pos: u32, open: Token<'_>) -> Option<u32> {
        let index = self.token_index_at(pos);
        self.tokens
            .get(..index)?
            .iter()
            .rev()
            .find(|(token, _)| *token == open)
            .and_then(|(_, span)| u32::try_from(span.start).ok())
    }

    /// The start of the first token of kind `open` at or after `pos`.
    fn open_after(&self, pos: u32, open: Token<'_>) -> Option<u32> {
        let index = self.token_index_at(pos);
        self.tokens
            .get(index..)?
            .iter()
            .find(|(token, _)| *token == open)
            .and_then(|(_, span)| u32::try_from(span.start).ok())
    }

    /// The start of the bracket that closes the one opening at `open` (any kind of bracket nests).
    fn matching_close(&self, open: u32) -> Option<u32> {
        let index = self.token_index_at(open);
        let mut depth = 0usize;
        for (token, span) in self.tokens.get(index..)? {
            match token {
                Token::LBrace | Token::LParen | Token::LBracket => depth += 1,
                Token::RBrace | Token::RParen | Token::RBracket => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return u32::try_from(span.start).ok();
                    }
                }
                _ => {}
            }
        }
        None
    }

    fn push(&mut self, text: &str) {
        self.out.push_str(text);
    }

    fn ident(&mut self, ident: &Ident) {
        self.out.push_str(&ident.name);
    }

    fn idents(&mut self, idents: &[Ident], separator: &str) {
        for (index, ident) in idents.iter().enumerate() {
            if index > 0 {
                self.push(separator);
            }
            self.ident(ident);
        }
    }

    // -----------------------------------------------------------------------------------------------------
    // Brace blocks of members

    /// Prints ` {`, then each member on its own line, then `}` (the opening brace is at `open`, the closing one
    /// at `close`). Leaves the line of `}` open for the caller to end. An empty block is `{}`.
    fn members<T>(
        &mut self,
        open: u32,
        close: u32,
        items: &[T],
        span: impl Fn(&T) -> Span,
        mut print: impl FnMut(&mut Self, &T),
    ) {
        self.push(" {");
        if items.is_empty() && !self.has_comments_in(open, close) {
            self.push("}");
            return;
        }
        self.end(open.saturating_add(1));
        self.indent += 1;
        for item in items {
            let item_span = span(item);
            self.begin(item_span.start);
            print(self, item);
            self.end(item_span.end);
        }
        self.leading_comments(close);
        self.indent -= 1;
        self.write_indent();
        self.push("}");
    }

    /// A `{ statements }` block.
    fn block(&mut self, block: &Block) {
        let close = block.span.end.saturating_sub(1);
        self.members(
            block.span.start,
            close,
            &block.stmts,
            |stmt| stmt.span,
            Self::stmt,
        );
    }

    /// A comma-separated list between delimiters: on one line, or one item per line when comments sit
    /// among the items (so every comment, and every doc comment on a parameter, stays with its item).
    #[expect(
        clippy::too_many_arguments,
        reason = "the list's delimiters, positions and printer"
    )]
    fn list<T>(
        &mut self,
        open_text: &str,
        close_text: &str,
        open: Option<u32>,
        items: &[T],
        span: impl Fn(&T) -> Span,
        trailing: Trailing,
        mut print: impl FnMut(&mut Self, &T),
    ) {
        let close = open.and_then(|open| self.matching_close(open));
        let multiline = match (open, close) {
            (Some(open), Some(close)) => !items.is_empty() && self.has_comments_in(open, close),
            _ => false,
        };
        self.push(open_text);
        if !multiline {
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    self.push(", ");
                }
                print(self, item);
            }
            self.push(close_text);
            return;
        }
        let open = open.unwrap_or(0);
        let close = close.unwrap_or(u32::MAX);
        self.trim_trailing_space();
        self.end(open.saturating_add(1));
        self.indent += 1;
        for item in items {
            let item_span = span(item);
            self.begin(item_span.start);
            print(self, item);
            if trailing == Trailing::Comma {
                self.push(",");
            }
            self.end(item_span.end);
        }
        self.leading_comments(close);
        self.indent -= 1;
        self.write_indent();
        self.push(close_text.trim_start());
    }

    fn trim_trailing_space(&mut self) {
        while self.out.ends_with(' ') {
            self.out.pop();
        }
    }

    // -----------------------------------------------------------------------------------------------------
    // Declarations

    fn file(&mut self, file: &File) {
        let mut previous: Option<&Item> = None;
        for item in &file.items {
            if let Some(previous) = previous {
                if !(is_one_line(previous) && same_kind(previous, item)) {
                    self.blank_line();
                }
            }
            self.begin(item.span.start);
            self.item(item);
            self.end(item.span.end);
            previous = Some(item);
        }
    }

    fn item(&mut self, item: &Item) {
        let close = item.span.end.saturating_sub(1);
        match &item.kind {
            ItemKind::Use(decl) => {
                self.push("use ");
                self.idents(&decl.module, ".");
                match &decl.items {
                    UseItems::All(_) => self.push(".*"),
                    // `use a` (a module without items; the checker reports it).
                    UseItems::Named(names) if names.is_empty() => {}
                    UseItems::Named(names) if names.len() == 1 => {
                        self.push(".");
                        self.idents(names, "");
                    }
                    UseItems::Named(names) => {
                        let open = names
                            .first()
                            .and_then(|n| self.open_before(n.span.start, Token::LBrace));
                        self.list(
                            ".{",
                            "}",
                            open,
                            names,
                            |n| n.span,
                            Trailing::Comma,
                            Self::ident,
                        );
                    }
                }
            }
            ItemKind::Role(name) => {
                self.push("role ");
                self.ident(name);
            }
            ItemKind::Record(decl) => {
                self.push("record ");
                self.ident(&decl.name);
                self.fields_block(decl, close);
            }
            ItemKind::Signal(decl) => {
                self.push("signal ");
                self.ident(&decl.name);
                if !decl.fields.is_empty()
                    || self
                        .open_after(decl.name.span.end, Token::LBrace)
                        .is_some_and(|open| {
                            open < item.span.end && self.has_comments_in(open, close)
                        })
                {
                    self.fields_block(decl, close);
                }
            }
            ItemKind::Enum(decl) => {
                self.push("enum ");
                self.ident(&decl.name);
                let open = self
                    .open_after(decl.name.span.end, Token::LBrace)
                    .unwrap_or(close);
                self.members(open, close, &decl.variants, |v| v.span, Self::ident);
            }
            ItemKind::Action(decl) => {
                self.push("action ");
                self.ident(&decl.name);
                self.params(&decl.name, &decl.params);
                if let Some(result) = &decl.result {
                    self.push(" -> ");
                    self.type_expr(result);
                }
            }
            ItemKind::Calendar(decl) => {
                self.push("calendar ");
                self.ident(&decl.name);
                let open = self
                    .open_after(decl.name.span.end, Token::LBrace)
                    .unwrap_or(close);
                self.members(
                    open,
                    close,
                    &decl.entries,
                    calendar_entry_span,
                    Self::calendar_entry,
                );
            }
            ItemKind::Procedure(flow) => {
                self.push("procedure ");
                self.flow(flow);
            }
            ItemKind::Process(flow) => {
                self.push("process ");
                self.flow(flow);
            }
            ItemKind::Schedule(decl) => {
                self.push("schedule ");
                self.ident(&decl.name);
                let open = self
                    .open_after(decl.name.span.end, Token::LBrace)
                    .unwrap_or(close);
                self.members(
                    open,
                    close,
                    &decl.clauses,
                    schedule_clause_span,
                    Self::schedule_clause,
                );
            }
            ItemKind::Kpi(decl) => {
                self.push("kpi ");
                self.ident(&decl.name);
                if !decl.processes.is_empty() {
                    self.push(" for ");
                    self.idents(&decl.processes, ", ");
                }
                let after = decl.processes.last().unwrap_or(&decl.name).span.end;
                let open = self.open_after(after, Token::LBrace).unwrap_or(close);
                self.members(
                    open,
                    close,
                    &decl.clauses,
                    kpi_clause_span,
                    Self::kpi_clause,
                );
            }
            ItemKind::Test(decl) => {
                self.push("test ");
                self.literal(&decl.name);
                let open = self
                    .open_after(decl.name.span.end, Token::LBrace)
                    .unwrap_or(close);
                self.members(open, close, &decl.stmts, |s| s.span, Self::test_stmt);
            }
            ItemKind::Error => self.broken = true,
        }
    }

    fn fields_block(&mut self, decl: &RecordDecl, close: u32) {
        let open = self
            .open_after(decl.name.span.end, Token::LBrace)
            .unwrap_or(close);
        self.members(open, close, &decl.fields, |f| f.span, Self::field);
    }

    fn field(&mut self, field: &Field) {
        self.ident(&field.name);
        self.push(": ");
        self.type_expr(&field.ty);
    }

    fn params(&mut self, name: &Ident, params: &[Field]) {
        let open = self.open_after(name.span.end, Token::LParen);
        self.list(
            "(",
            ")",
            open,
            params,
            |f| f.span,
            Trailing::Comma,
            Self::field,
        );
    }

    fn type_expr(&mut self, ty: &TypeExpr) {
        match &ty.kind {
            TypeExprKind::Named(name) => self.ident(name),
            TypeExprKind::Optional(inner) => {
                self.type_expr(inner);
                // `??` is one token (the coalescing operator): an optional optional needs a space.
                if self.out.ends_with('?') {
                    self.push(" ");
                }
                self.push("?");
            }
            TypeExprKind::List(inner) => {
                self.push("[");
                self.type_expr(inner);
                self.push("]");
            }
            TypeExprKind::Range {
                name,
                min: Some(min),
                max: Some(max),
                ..
            } => {
                self.ident(name);
                self.push(&format!(" from {min} to {max}"));
            }
            TypeExprKind::Range { .. } | TypeExprKind::Error => self.broken = true,
        }
    }

    fn calendar_entry(&mut self, entry: &CalendarEntry) {
        match entry {
            CalendarEntry::Zone(zone) => {
                self.push("zone ");
                self.literal(zone);
            }
            CalendarEntry::Hours { days, from, to, .. } => {
                self.push("hours ");
                for (index, (first, last)) in days.iter().enumerate() {
                    if index > 0 {
                        self.push(", ");
                    }
                    self.ident(first);
                    if let Some(last) = last {
                        self.push("-");
                        self.ident(last);
                    }
                }
                self.push(" ");
                self.literal(from);
                self.push("-");
                self.literal(to);
            }
            CalendarEntry::Holiday(day, last) => {
                self.push("holiday ");
                self.literal(day);
                if let Some(last) = last {
                    self.push(" to ");
                    self.literal(last);
                }
            }
            CalendarEntry::Include(calendar) => {
                self.push("include ");
                self.ident(calendar);
            }
            CalendarEntry::Error(_) => self.broken = true,
        }
    }

    fn schedule_clause(&mut self, clause: &ScheduleClause) {
        match clause {
            ScheduleClause::Every { count, words, .. } => {
                self.push("every ");
                if let Some(count) = count {
                    self.literal(count);
                    self.push(" ");
                }
                self.idents(words, " ");
            }
            ScheduleClause::At(time) => {
                self.push("at ");
                self.literal(time);
            }
            ScheduleClause::On(calendar) => {
                self.push("on ");
                self.ident(calendar);
            }
            ScheduleClause::Start(process) => {
                self.push("start ");
                self.ident(process);
            }
            ScheduleClause::Error(_) => self.broken = true,
        }
    }

    fn kpi_clause(&mut self, clause: &KpiClause) {
        match clause {
            KpiClause::Measure(measure, _) => {
                self.push("measure ");
                match measure {
                    Measure::Time { from, to, calendar } => {
                        self.push("time from ");
                        self.measure_point(from);
                        self.push(" to ");
                        self.measure_point(to);
                        if let Some(calendar) = calendar {
                            self.push(" on ");
                            self.ident(calendar);
                        }
                    }
                    Measure::Count { what, step } => {
                        self.push("count ");
                        self.ident(what);
                        if let Some(step) = step {
                            self.push(" of ");
                            self.ident(step);
                        }
                    }
                    Measure::Value(path) => {
                        self.push("value ");
                        self.idents(path, ".");
                    }
                }
            }
            KpiClause::Target(target) => {
                self.push("target ");
                self.push(target.op.symbol());
                self.push(" ");
                if target.negative {
                    self.push("-");
                }
                self.literal(&target.value);
            }
            KpiClause::Error(_) => self.broken = true,
        }
    }

    fn measure_point(&mut self, point: &MeasurePoint) {
        match point {
            MeasurePoint::Start(_) => self.push("start"),
            MeasurePoint::End(_) => self.push("end"),
            MeasurePoint::FirstCompletion { role, .. } => {
                self.push("first completion");
                if let Some(role) = role {
                    self.push(" by ");
                    self.ident(role);
                }
            }
            MeasurePoint::Step(step) => self.ident(step),
        }
    }

    fn flow(&mut self, flow: &FlowDecl) {
        self.ident(&flow.name);
        self.params(&flow.name, &flow.params);
        if let Some(result) = &flow.result {
            self.push(" -> ");
            self.type_expr(result);
        }
        if let Some(within) = &flow.within {
            self.push(" within ");
            self.expr(within);
            if let Some(calendar) = &flow.within_calendar {
                self.push(" on ");
                self.ident(calendar);
            }
        }
        self.block(&flow.body);
    }

    // -----------------------------------------------------------------------------------------------------
    // Statements

    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::OnBreach(stages) => self.on_breach(stmt.span, stages),
            StmtKind::Let { name, ty, value } => {
                self.push("let ");
                self.ident(name);
                if let Some(ty) = ty {
                    self.push(": ");
                    self.type_expr(ty);
                }
                self.push(" = ");
                self.expr(value);
            }
            StmtKind::Step(step) => self.step(step, stmt.span),
            StmtKind::Expr(expr) => self.expr(expr),
            StmtKind::If {
                branches,
                otherwise,
            } => {
                for (index, (condition, body)) in branches.iter().enumerate() {
                    if index > 0 {
                        self.push(" else ");
                    }
                    self.push("if ");
                    self.expr(condition);
                    self.block(body);
                }
                if let Some(otherwise) = otherwise {
                    self.push(" else");
                    self.block(otherwise);
                }
            }
            StmtKind::Match {
                scrutinee, arms, ..
            } => {
                self.push("match ");
                self.expr(scrutinee);
                let close = stmt.span.end.saturating_sub(1);
                let open = self
                    .open_after(scrutinee.span.end, Token::LBrace)
                    .unwrap_or(close);
                self.members(
                    open,
                    close,
                    arms,
                    |arm| arm.span,
                    |p, arm| {
                        p.idents(&arm.patterns, " | ");
                        p.push(" =>");
                        p.block(&arm.body);
                    },
                );
            }
            StmtKind::Parallel { join, branches } => {
                self.push("parallel");
                self.join(join);
                self.branches(stmt.span, branches);
            }
            StmtKind::First { branches } => {
                self.push("first");
                self.branches(stmt.span, branches);
            }
            StmtKind::ForEach {
                var,
                list,
                parallel,
                body,
            } => {
                self.push("for each ");
                self.ident(var);
                self.push(" in ");
                self.expr(list);
                if let Some(join) = parallel {
                    self.push(" parallel");
                    self.join(join);
                }
                self.block(body);
            }
            StmtKind::Repeat {
                max, body, until, ..
            } => {
                self.push("repeat");
                if let Some(max) = max {
                    self.push(" max ");
                    self.expr(max);
                }
                self.block(body);
                if let Some(until) = until {
                    self.push(" until ");
                    self.expr(until);
                }
            }
            StmtKind::Every {
                interval,
                max,
                body,
                until,
                ..
            } => {
                self.push("every ");
                self.expr(interval);
                if let Some(max) = max {
                    self.push(" max ");
                    self.expr(max);
                }
                self.block(body);
                if let Some(until) = until {
                    self.push(" until ");
                    self.expr(until);
                }
            }
            StmtKind::WaitFor(duration, calendar) => {
                self.push("wait ");
                self.expr(duration);
                if let Some(calendar) = calendar {
                    self.push(" on ");
                    self.ident(calendar);
                }
            }
            StmtKind::WaitUntil(time) => {
                self.push("wait until ");
                self.expr(time);
            }
            StmtKind::Cancel(name) => {
                self.push("cancel ");
                self.ident(name);
            }
            StmtKind::Notify { role, message } => {
                self.push("notify ");
                self.ident(role);
                if let Some(message) = message {
                    self.push(" ");
                    self.expr(message);
                }
            }
            StmtKind::Fail(reason) => {
                self.push("fail ");
                self.expr(reason);
            }
            StmtKind::Complete(value) => {
                self.push("complete");
                self.optional_value(value.as_ref());
            }
            StmtKind::Return(value) => {
                self.push("return");
                self.optional_value(value.as_ref());
            }
            StmtKind::Error => self.broken = true,
        }
    }

    fn optional_value(&mut self, value: Option<&Expr>) {
        if let Some(value) = value {
            self.push(" ");
            self.expr(value);
        }
    }

    fn join(&mut self, join: &Join) {
        match join {
            Join::All => {}
            Join::Any => self.push(" any"),
            Join::Count(count) => {
                self.push(" ");
                self.expr(count);
                self.push(" of");
            }
        }
    }

    fn branches(&mut self, span: Span, branches: &[BranchDecl]) {
        let close = span.end.saturating_sub(1);
        let first_start = branches.first().map_or(close, |b| b.span.start);
        let open = self
            .open_before(first_start, Token::LBrace)
            .filter(|&open| open >= span.start)
            .unwrap_or(close);
        self.members(
            open,
            close,
            branches,
            |b| b.span,
            |p, branch| {
                p.push("branch");
                if let Some(name) = &branch.name {
                    p.push(" ");
                    p.ident(name);
                }
                p.block(&branch.body);
            },
        );
    }

    fn step(&mut self, step: &StepDecl, span: Span) {
        self.push("step ");
        self.ident(&step.name);
        if let Some(instruction) = &step.instruction {
            self.push(" ");
            self.expr(instruction);
        }
        let header_end = step
            .outputs
            .last()
            .map(|o| o.span.end)
            .or(step.instruction.as_ref().map(|i| i.span.end))
            .unwrap_or(step.name.span.end);
        if !step.outputs.is_empty() {
            self.push(" -> ");
            let open = step
                .outputs
                .first()
                .and_then(|o| self.open_before(o.span.start, Token::LParen))
                .filter(|&open| open > step.name.span.end);
            let commented = open
                .and_then(|open| self.matching_close(open).map(|close| (open, close)))
                .is_some_and(|(open, close)| self.has_comments_in(open, close));
            if step.outputs.len() == 1 && !commented {
                if let Some(output) = step.outputs.first() {
                    self.field(output);
                }
            } else {
                self.list(
                    "(",
                    ")",
                    open,
                    &step.outputs,
                    |f| f.span,
                    Trailing::Comma,
                    Self::field,
                );
            }
        }
        let close = span.end.saturating_sub(1);
        let open = self.open_after(header_end, Token::LBrace).unwrap_or(close);
        self.members(open, close, &step.clauses, |c| c.span, Self::clause);
    }

    fn clause(&mut self, clause: &StepClause) {
        match &clause.kind {
            StepClauseKind::By(performer) => {
                self.push("by ");
                self.performer(performer);
            }
            StepClauseKind::Within {
                duration,
                calendar,
                since,
            } => {
                self.push("within ");
                self.expr(duration);
                if let Some(calendar) = calendar {
                    self.push(" on ");
                    self.ident(calendar);
                }
                if let Some(since) = since {
                    self.push(" since ");
                    self.ident(since);
                }
            }
            StepClauseKind::After { duration, since } => {
                self.push("after ");
                self.expr(duration);
                if let Some(since) = since {
                    self.push(" since ");
                    self.ident(since);
                }
            }
            StepClauseKind::Due(time) => {
                self.push("due ");
                self.expr(time);
            }
            StepClauseKind::Expires { duration, calendar } => {
                self.push("expires after ");
                self.expr(duration);
                if let Some(calendar) = calendar {
                    self.push(" on ");
                    self.ident(calendar);
                }
            }
            StepClauseKind::OnBreach(stages) => self.on_breach(clause.span, stages),
            StepClauseKind::Paused { from, until } => {
                self.push("paused from ");
                self.ident(from);
                self.push(" until ");
                self.ident(until);
            }
            StepClauseKind::OnlyDuring(calendar) => {
                self.push("only during ");
                self.ident(calendar);
            }
            StepClauseKind::Skippable => self.push("skippable"),
            StepClauseKind::Error => self.broken = true,
        }
    }

    fn performer(&mut self, performer: &Performer) {
        match &performer.kind {
            PerformerKind::Role { role, skills } => {
                self.ident(role);
                for skill in skills {
                    self.push(" with skill ");
                    self.ident(skill);
                }
            }
            PerformerKind::Person(person) => {
                self.push("person ");
                self.expr(person);
            }
            PerformerKind::DynamicRole(role) => {
                self.push("role ");
                self.expr(role);
            }
            PerformerKind::ManagerOf(step) => {
                self.push("manager of ");
                self.ident(step);
            }
            PerformerKind::SameAs(step) => {
                self.push("same person as ");
                self.ident(step);
            }
        }
        if let Some(other) = &performer.other_than {
            self.push(" other than ");
            self.ident(other);
        }
    }

    /// `on breach { … }` (a step's clause, or a process's statement spanning `span`): on one line when it has one
    /// stage and no comments, else a stage per line.
    fn on_breach(&mut self, span: Span, stages: &[EscalationStage]) {
        self.push("on breach");
        let close = span.end.saturating_sub(1);
        let open = self.open_after(span.start, Token::LBrace).unwrap_or(close);
        if let [stage] = stages {
            if !self.has_comments_in(open, close) {
                self.push(" { ");
                self.stage(stage);
                self.push(" }");
                return;
            }
        }
        self.members(open, close, stages, |s| s.span, Self::stage);
    }

    fn stage(&mut self, stage: &EscalationStage) {
        if let Some((word, time)) = stage
            .after
            .as_ref()
            .map(|after| ("after ", after))
            .or(stage.before.as_ref().map(|before| ("before ", before)))
        {
            self.push(word);
            self.expr(time);
            if let Some(calendar) = &stage.calendar {
                self.push(" on ");
                self.ident(calendar);
            }
            self.push(" ");
        }
        match &stage.action {
            EscalationAction::Notify(role, message) => {
                self.push("notify ");
                self.ident(role);
                if let Some(message) = message {
                    self.push(" ");
                    self.expr(message);
                }
            }
            EscalationAction::Reassign(role) => {
                self.push("reassign to ");
                self.ident(role);
            }
            EscalationAction::Cancel => self.push("cancel"),
            EscalationAction::Flag(message) => {
                self.push("flag ");
                self.expr(message);
            }
        }
    }

    // -----------------------------------------------------------------------------------------------------
    // Tests

    fn test_stmt(&mut self, stmt: &TestStmt) {
        match &stmt.kind {
            TestStmtKind::Start { process, args, at } => {
                self.push("start ");
                self.ident(process);
                let open = self.open_after(process.span.end, Token::LParen);
                self.list(
                    "(",
                    ")",
                    open,
                    args,
                    |a| a.span,
                    Trailing::Comma,
                    Self::expr,
                );
                self.at(at.as_ref());
            }
            TestStmtKind::Complete(completion) => self.completion(completion),
            TestStmtKind::ExpectRejected(completion) => {
                self.push("expect rejected ");
                self.completion(completion);
                self.because(completion.because.as_ref());
            }
            TestStmtKind::Manage(manage) => self.manage(manage),
            TestStmtKind::ExpectRejectedManage(manage) => {
                self.push("expect rejected ");
                self.manage(manage);
                self.because(manage.because.as_ref());
            }
            TestStmtKind::Signal {
                signal,
                payload,
                at,
            } => {
                self.push("signal ");
                self.ident(signal);
                if !payload.is_empty() {
                    self.push(" ");
                    self.field_inits(payload);
                }
                if let Some(at) = at {
                    self.push(" at ");
                    self.expr(at);
                }
            }
            TestStmtKind::AdvanceBy(duration) => {
                self.push("advance ");
                self.expr(duration);
            }
            TestStmtKind::AdvanceTo(time) => {
                self.push("advance to ");
                self.expr(time);
            }
            TestStmtKind::ExpectTask {
                step,
                role,
                person,
                due,
            } => {
                self.push("expect task ");
                self.ident(step);
                if let Some(role) = role {
                    self.push(" for ");
                    self.ident(role);
                }
                if let Some(person) = person {
                    self.push(" for ");
                    self.literal(person);
                }
                if let Some(due) = due {
                    self.push(" due ");
                    self.expr(due);
                }
            }
            TestStmtKind::ExpectNoTask(step) => {
                self.push("expect no task ");
                self.ident(step);
            }
            TestStmtKind::ExpectEscalated { step, role, none } => {
                self.push(if *none {
                    "expect no escalated "
                } else {
                    "expect escalated "
                });
                self.ident(step);
                if let Some(role) = role {
                    self.push(" to ");
                    self.ident(role);
                }
            }
            TestStmtKind::ExpectNotified {
                role,
                message,
                none,
            } => {
                self.push(if *none {
                    "expect no notified "
                } else {
                    "expect notified "
                });
                self.ident(role);
                if let Some(message) = message {
                    self.push(" ");
                    self.literal(message);
                }
            }
            TestStmtKind::ExpectBreached { step, none } => {
                self.push(if *none {
                    "expect no breached"
                } else {
                    "expect breached"
                });
                if let Some(step) = step {
                    self.push(" ");
                    self.ident(step);
                }
            }
            TestStmtKind::ExpectFlagged { message, none } => {
                self.push(if *none {
                    "expect no flagged"
                } else {
                    "expect flagged"
                });
                if let Some(message) = message {
                    self.push(" ");
                    self.literal(message);
                }
            }
            TestStmtKind::ExpectKpi { kpi, value, met } => {
                self.push("expect kpi ");
                self.ident(kpi);
                if let Some(value) = value {
                    self.push(" ");
                    self.expr(value);
                }
                match met {
                    Some(true) => self.push(" met"),
                    Some(false) => self.push(" missed"),
                    None => {}
                }
            }
            TestStmtKind::ExpectRejectedSignal {
                signal,
                payload,
                at,
                because,
            } => {
                self.push("expect rejected signal ");
                self.ident(signal);
                if !payload.is_empty() {
                    self.push(" ");
                    self.field_inits(payload);
                }
                if let Some(at) = at {
                    self.push(" at ");
                    self.expr(at);
                }
                self.because(because.as_ref());
            }
            TestStmtKind::ExpectCompleted(value) => {
                self.push("expect completed");
                if let Some(value) = value {
                    self.push(" with ");
                    self.expr(value);
                }
            }
            TestStmtKind::ExpectFailed => self.push("expect failed"),
            TestStmtKind::GivenManager { person, manager } => {
                self.push("given ");
                self.literal(person);
                self.push(" reports to ");
                self.literal(manager);
            }
            TestStmtKind::GivenAction { action, value } => {
                self.push("given ");
                self.ident(action);
                self.push(" returns ");
                self.expr(value);
            }
            TestStmtKind::Error => self.broken = true,
        }
    }

    fn at(&mut self, at: Option<&Expr>) {
        if let Some(at) = at {
            self.push(" at ");
            self.expr(at);
        }
    }

    fn completion(&mut self, completion: &TestCompletion) {
        self.push("complete ");
        self.ident(&completion.step);
        self.push(" by ");
        self.test_actor(&completion.actor);
        if !completion.outputs.is_empty() {
            self.push(" with ");
            self.field_inits(&completion.outputs);
        }
        self.at(completion.at.as_ref());
    }

    /// ` because "text"` of an `expect rejected`.
    fn because(&mut self, because: Option<&Literal>) {
        if let Some(because) = because {
            self.push(" because ");
            self.literal(because);
        }
    }

    /// `"ann" as Agent with skill billing`.
    fn test_actor(&mut self, actor: &Actor) {
        self.literal(&actor.id);
        if !actor.roles.is_empty() {
            self.push(" as ");
            self.idents(&actor.roles, ", ");
        }
        if !actor.skills.is_empty() {
            self.push(" with skill ");
            self.idents(&actor.skills, ", ");
        }
    }

    fn manage(&mut self, manage: &TestManage) {
        self.push(manage.op.word());
        self.push(" ");
        self.ident(&manage.step);
        if let Some(role) = &manage.role {
            self.push(" to ");
            self.ident(role);
        }
        self.push(" by ");
        self.test_actor(&manage.actor);
        if let Some(to) = &manage.to {
            self.push(" to ");
            self.test_actor(to);
        }
        self.at(manage.at.as_ref());
    }

    /// `{ name: value, ... }` (record literals, outputs and payloads in tests).
    fn field_inits(&mut self, fields: &[FieldInit]) {
        let open = fields
            .first()
            .and_then(|f| self.open_before(f.name.span.start, Token::LBrace));
        self.list(
            "{ ",
            " }",
            open,
            fields,
            |f| f.name.span.to(f.value.span),
            Trailing::Bare,
            |p, field| {
                p.ident(&field.name);
                p.push(": ");
                p.expr(&field.value);
            },
        );
    }

    // -----------------------------------------------------------------------------------------------------
    // Expressions

    /// A literal exactly as written (the checker validates the raw text; the formatter never rewrites it).
    fn literal(&mut self, literal: &Literal) {
        let raw = self.text.get(literal.span.range()).unwrap_or("");
        self.out.push_str(raw);
    }

    fn expr(&mut self, expr: &Expr) {
        stacker::maybe_grow(32 * 1024, 1024 * 1024, || self.expr_inner(expr));
    }

    fn expr_inner(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Literal(literal) => self.literal(literal),
            ExprKind::Now => self.push("now"),
            ExprKind::Name(name) => self.ident(name),
            ExprKind::Field(inner, name) => {
                self.expr(inner);
                self.push(".");
                self.ident(name);
            }
            ExprKind::Call(callee, args) => {
                self.expr(callee);
                let open = self.open_after(callee.span.end, Token::LParen);
                self.list(
                    "(",
                    ")",
                    open,
                    args,
                    |a| a.span,
                    Trailing::Comma,
                    Self::expr,
                );
            }
            ExprKind::List(items) => {
                self.list(
                    "[",
                    "]",
                    Some(expr.span.start),
                    items,
                    |i| i.span,
                    Trailing::Comma,
                    Self::expr,
                );
            }
            ExprKind::Record(name, fields) => {
                self.ident(name);
                if fields.is_empty() {
                    self.push(" {}");
                } else {
                    self.push(" ");
                    self.field_inits(fields);
                }
            }
            ExprKind::Unary(op, inner) => {
                match op {
                    UnaryOp::Not => self.push("not "),
                    UnaryOp::Neg => self.push("-"),
                }
                self.expr(inner);
            }
            ExprKind::Binary(op, left, right) => {
                self.expr(left);
                self.push(" ");
                self.push(op.symbol());
                self.push(" ");
                self.expr(right);
            }
            ExprKind::Await {
                signal,
                within,
                calendar,
            } => {
                self.push("await ");
                self.ident(signal);
                if let Some(within) = within {
                    self.push(" within ");
                    self.expr(within);
                    if let Some(calendar) = calendar {
                        self.push(" on ");
                        self.ident(calendar);
                    }
                }
            }
            ExprKind::Paren(inner) => {
                self.push("(");
                self.expr(inner);
                self.push(")");
            }
            ExprKind::Error => self.broken = true,
        }
    }
}

fn is_one_line(item: &Item) -> bool {
    match &item.kind {
        ItemKind::Use(_) | ItemKind::Role(_) | ItemKind::Action(_) => true,
        ItemKind::Signal(decl) => decl.fields.is_empty(),
        _ => false,
    }
}

fn same_kind(a: &Item, b: &Item) -> bool {
    std::mem::discriminant(&a.kind) == std::mem::discriminant(&b.kind)
}

fn calendar_entry_span(entry: &CalendarEntry) -> Span {
    match entry {
        CalendarEntry::Zone(literal) | CalendarEntry::Holiday(literal, None) => literal.span,
        CalendarEntry::Holiday(from, Some(to)) => from.span.to(to.span),
        CalendarEntry::Include(name) => name.span,
        CalendarEntry::Hours { span, .. } | CalendarEntry::Error(span) => *span,
    }
}

fn kpi_clause_span(clause: &KpiClause) -> Span {
    match clause {
        KpiClause::Measure(_, span) | KpiClause::Error(span) => *span,
        KpiClause::Target(target) => target.span,
    }
}

fn schedule_clause_span(clause: &ScheduleClause) -> Span {
    match clause {
        ScheduleClause::Every { span, .. } | ScheduleClause::Error(span) => *span,
        ScheduleClause::At(literal) => literal.span,
        ScheduleClause::On(name) | ScheduleClause::Start(name) => name.span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        match format(&SourceFile::new("t.proc", "t", text)) {
            Ok(text) => text,
            Err(errors) => panic!("{errors:#?}"),
        }
    }

    #[test]
    fn canonical_layout() {
        let text = "role   Agent\nrole Supervisor\nrecord C{customer:Text,amount:Int? tags:[Text]}\n\
            enum U{low,high}\nprocess p(c:C)->Bool within 5d{step s \"Hi {c.customer}\"->u:U{by Agent within 4h \
            on breach{cancel}}\nif s.u==U.high and not false{notify Supervisor \"x\"}else{wait 1h}\ncomplete true}\n";
        assert_eq!(
            fmt(text),
            "role Agent\nrole Supervisor\n\nrecord C {\n  customer: Text\n  amount: Int?\n  tags: [Text]\n}\n\n\
             enum U {\n  low\n  high\n}\n\nprocess p(c: C) -> Bool within 5d {\n  step s \"Hi {c.customer}\" -> u: U {\n    \
             by Agent\n    within 4h\n    on breach { cancel }\n  }\n  if s.u == U.high and not false {\n    \
             notify Supervisor \"x\"\n  } else {\n    wait 1h\n  }\n  complete true\n}\n"
        );
    }

    #[test]
    fn comments_stay_where_they_were() {
        let text = "// top\n\n/// Agents.\nrole Agent // trailing\nprocess p() { // after brace\n  // before\n  \
            wait 1h\n\n  wait 2h // end of line\n  // last\n}\n// bottom\n";
        assert_eq!(
            fmt(text),
            "// top\n\n/// Agents.\nrole Agent // trailing\n\nprocess p() { // after brace\n  // before\n  wait 1h\n\n  \
             wait 2h // end of line\n  // last\n}\n// bottom\n"
        );
    }

    #[test]
    fn documented_parameters_go_one_per_line() {
        let text = "role A\nprocedure p(\n/// The amount.\nx: Int, y: Int) { wait 1h }\n";
        assert_eq!(
            fmt(text),
            "role A\n\nprocedure p(\n  /// The amount.\n  x: Int,\n  y: Int,\n) {\n  wait 1h\n}\n"
        );
    }

    #[test]
    fn broken_files_are_refused() {
        assert!(format(&SourceFile::new("t.proc", "t", "process p( {")).is_err());
    }

    #[test]
    fn an_optional_optional_keeps_its_space() {
        assert_eq!(
            fmt("record R { x: Int? ? }\n"),
            "record R {\n  x: Int? ?\n}\n"
        );
    }
}
