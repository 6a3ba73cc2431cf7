//! The parser: tokens to a spanned [`ast::File`] (chumsky), recovering from errors.
//!
//! Recovery works at three levels — top-level declarations, statements and step clauses: a broken piece is
//! skipped up to the next keyword that can start a piece of the same level (balanced `{ }` groups are skipped
//! whole), becomes an `Error` node, and produces exactly one diagnostic. Everything around it is still parsed and
//! checked.

use crate::ast::*;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, FileSpan};
use crate::lexer::{Lexed, Token};
use crate::source::{FileId, Span};
use chumsky::input::ValueInput;
use chumsky::prelude::*;

/// Longest run of one binary-operator level, or of postfix `.field`/`(...)`, accepted in one expression.
pub const MAX_CHAIN: usize = 128;

/// Marker at the start of a custom error message that should be reported as `P0005` rather than `P0004`.
const TOO_LONG: &str = "\u{1}too-long:";

/// Marker at the start of a custom error message for a misspelled statement keyword.
const MISSPELLED: &str = "\u{1}misspelled:";

/// Marker of a custom error message for `complete with x` (as a test's `expect completed with x` reads).
const COMPLETE_WITH: &str = "\u{1}complete-with";

/// Marker at the start of a custom error message for a type written with parameters (`List<Text>`): the type as
/// written, then [`GENERIC_SEP`] and the Proc spelling (empty when there is none).
const GENERIC: &str = "\u{1}generic:";
const GENERIC_SEP: char = '\u{1}';

/// The error type a parser is instantiated with: [`Rich`] for messages, or [`EmptyErr`] for the fast first pass.
pub trait ParseError<'t, 's: 't, I>:
    chumsky::error::Error<'t, I> + chumsky::label::LabelError<'t, I, &'static str> + 't
where
    I: chumsky::input::Input<'t, Token = Token<'s>, Span = SimpleSpan>,
{
    /// An error with a message of our own.
    fn custom(span: SimpleSpan, message: String) -> Self;
}

impl<'t, 's: 't, I> ParseError<'t, 's, I> for Rich<'t, Token<'s>, SimpleSpan>
where
    I: chumsky::input::Input<'t, Token = Token<'s>, Span = SimpleSpan>,
{
    fn custom(span: SimpleSpan, message: String) -> Self {
        Rich::custom(span, message)
    }
}

impl<'t, 's: 't, I> ParseError<'t, 's, I> for chumsky::error::EmptyErr
where
    I: chumsky::input::Input<'t, Token = Token<'s>, Span = SimpleSpan>,
{
    fn custom(_span: SimpleSpan, _message: String) -> Self {
        chumsky::error::EmptyErr::default()
    }
}

/// Parses a lexed file. Never fails: broken parts become `Error` nodes and diagnostics.
pub fn parse(file: FileId, source_len: usize, lexed: &Lexed<'_>) -> (File, Vec<Diagnostic>) {
    let tokens = &lexed.tokens;
    let eoi = SimpleSpan::from(source_len..source_len);
    // Fast pass: errors carry no information, so failed alternatives cost nothing. Only a file with mistakes is
    // parsed again with rich errors, to explain them.
    let fast = file_parser::<_, chumsky::error::EmptyErr>()
        .parse(tokens.as_slice().split_token_span(eoi))
        .into_output_errors();
    if let (Some(output), true) = (fast.0, fast.1.is_empty()) {
        return (output, Vec::new());
    }
    let (output, errors) = file_parser::<_, Rich<'_, Token<'_>, SimpleSpan>>()
        .parse(tokens.as_slice().split_token_span(eoi))
        .into_output_errors();
    let mut diagnostics: Vec<Diagnostic> = Vec::with_capacity(errors.len());
    for error in errors {
        // Nested blocks that all lost their `}` at the same place report it once.
        let diagnostic = duration_hint(to_diagnostic(file, &error), tokens, error.span().start);
        let diagnostic = assignment_hint(diagnostic, tokens, error.span().start);
        let diagnostic = roles_hint(diagnostic, tokens, error.span().start);
        let diagnostic = conditional_value_hint(diagnostic, tokens, error.span().start);
        let diagnostic = habit_hint(diagnostic, tokens, error.span().start);
        if diagnostics
            .last()
            .is_none_or(|last: &Diagnostic| last.at != diagnostic.at)
            && !calendar_after_broken_deadline(&diagnostics, tokens, error.span().start)
        {
            diagnostics.push(diagnostic);
        }
    }
    (output.unwrap_or_default(), diagnostics)
}

/// The token that starts at `at`, with its index and the token before it.
type TokenRef<'a, 's> = &'a (Token<'s>, SimpleSpan);
fn token_at<'a, 's>(
    tokens: &'a [(Token<'s>, SimpleSpan)],
    at: usize,
) -> Option<(usize, TokenRef<'a, 's>, TokenRef<'a, 's>)> {
    let index = tokens
        .binary_search_by_key(&at, |(_, span)| span.start)
        .ok()?;
    Some((
        index,
        tokens.get(index)?,
        tokens.get(index.checked_sub(1)?)?,
    ))
}

/// A duration written as people write it (`2 days`) fails to parse at its second half: the help and fix give
/// Proc's spelling (`2d`). (Units run into the number, `90min` or `1h30`, are one malformed literal for the lexer.)
fn duration_hint(
    diagnostic: Diagnostic,
    tokens: &[(Token<'_>, SimpleSpan)],
    at: usize,
) -> Diagnostic {
    let Some((_, (found, found_span), (previous, previous_span))) = token_at(tokens, at) else {
        return diagnostic;
    };
    let word = match found {
        Token::Ident(word) => Some((*word).to_string()),
        Token::Int(_) => None,
        other => {
            let shown = other.to_string();
            shown
                .strip_prefix('`')
                .and_then(|s| s.strip_suffix('`'))
                .filter(|s| s.chars().all(|c| c.is_ascii_alphabetic()))
                .map(str::to_string)
        }
    };
    let fixed = match (previous, &word) {
        // `2 days`
        (Token::Int(n), Some(word)) => crate::literal::unit_of(word).map(|u| format!("{n}{u}")),
        _ => None,
    };
    let Some(fixed) = fixed else {
        return diagnostic;
    };
    let span = FileSpan {
        file: diagnostic.at.file,
        span: Span::new(previous_span.start, found_span.end),
    };
    Diagnostic {
        help: None,
        suggestions: Vec::new(),
        ..diagnostic
    }
    .with_help(format!(
        "durations are one word with a one-letter unit (`s`, `m`, `h`, `d`, `w`): `{fixed}`"
    ))
    .with_suggestion(span, fixed.clone(), format!("write `{fixed}`"))
}

/// Habits from other languages and first attempts, at the token a syntax error found: `import`, `function`,
/// `Role` for `role`, a `within` outside a step, a word where a text in quotes goes, `case` in a `match`, and a
/// declaration that starts while a `{` above it is still open. Only the help (and a fix) is added.
/// `within 8 hours on Berlin`: once `hours` is reported, the clause is skipped up to `on`, which then reads as the
/// start of `on breach` and would be reported again at `Berlin`. That second error says nothing new.
fn calendar_after_broken_deadline(
    diagnostics: &[Diagnostic],
    tokens: &[(Token<'_>, SimpleSpan)],
    at: usize,
) -> bool {
    let Some((index, _, _)) = token_at(tokens, at) else {
        return false;
    };
    let after_on = index
        .checked_sub(1)
        .and_then(|i| tokens.get(i))
        .is_some_and(|(t, _)| *t == Token::Ident("on"));
    let Some(last) = diagnostics.last() else {
        return false;
    };
    // The error before was at most two tokens before the `on` (`8 hours on`, `15 min on`).
    let near = index
        .checked_sub(3)
        .and_then(|i| tokens.get(i))
        .is_some_and(|(_, span)| last.at.span.start as usize >= span.start);
    after_on && near && !matches!(tokens.get(index), Some((Token::Ident("breach"), _)))
}

fn habit_hint(diagnostic: Diagnostic, tokens: &[(Token<'_>, SimpleSpan)], at: usize) -> Diagnostic {
    if diagnostic.help.is_some() {
        return diagnostic;
    }
    let Some((index, (found, found_span), _)) = token_at(tokens, at).or_else(|| {
        // The first token has no token before it.
        let first = tokens.first()?;
        (first.1.start == at).then_some((0, first, first))
    }) else {
        return diagnostic;
    };
    let here = FileSpan {
        file: diagnostic.at.file,
        span: Span::new(found_span.start, found_span.end),
    };
    let message = diagnostic.message.clone();
    match found {
        Token::Ident(word) => {
            let lower = word.to_ascii_lowercase();
            let keyword = KEYWORDS.iter().find(|k| **k == lower && lower != *word);
            if let Some(keyword) = keyword {
                return diagnostic
                    .with_help(format!("keywords are written in lowercase: `{keyword}`"))
                    .with_suggestion(here, *keyword, format!("write `{keyword}`"));
            }
            match *word {
                "import" | "include" | "require" | "from" | "using" => {
                    return diagnostic.with_help(
                        "modules are imported with `use`: `use std.escalation.Manager`, or `use std.kpi.*` for \
                         everything",
                    );
                }
                "function" | "def" | "fn" | "func" | "sub" | "method" => {
                    return diagnostic.with_help(
                        "a flow is a `procedure` (called by other flows, may `return` a value) or a `process` \
                         (started by the host): `procedure name(param: Type) -> Type { … }`",
                    );
                }
                _ => {}
            }
            let after_case = index > 0
                && matches!(
                    tokens.get(index - 1),
                    Some((Token::Ident("case" | "when"), _))
                );
            if after_case && (message.contains("`=>`") || message.contains("`|`")) {
                return diagnostic.with_help(
                    "the arms of a `match` are written without a keyword: `high => { … }`",
                );
            }
            if *word == "on" && message.contains("KPI clause") {
                return diagnostic.with_help(
                    "a target is in the measure's own unit: with `measure time from … to … on Desk`, `target < 8h` \
                     already means eight hours of Desk's working time",
                );
            }
            let after_notify_person = index >= 2
                && matches!(
                    (tokens.get(index - 2), tokens.get(index - 1)),
                    (Some((Token::Notify, _)), Some((Token::Ident("person"), _)))
                );
            if after_notify_person {
                return diagnostic.with_help(
                    "`notify` tells everyone who holds a role (`notify Agent \"…\"`); to write to one person (a \
                     customer, say), call an action the host performs: `action send_email(to: Text, text: Text) -> \
                     Bool`",
                );
            }
            if message.contains("a text") && !message.contains("statement") {
                // `Europe/Berlin` is one text to quote.
                let mut end = index;
                while let (Some((Token::Slash, slash)), Some((Token::Ident(_), next))) =
                    (tokens.get(end + 1), tokens.get(end + 2))
                {
                    let last = tokens.get(end).map_or(slash.start, |(_, s)| s.end);
                    if last != slash.start || slash.end != next.start {
                        break;
                    }
                    end += 2;
                }
                let whole = Span::new(
                    found_span.start,
                    tokens.get(end).map_or(found_span.end, |(_, s)| s.end),
                );
                let here = FileSpan {
                    file: diagnostic.at.file,
                    span: whole,
                };
                let written = format!("\"{}\"", word_run(tokens, index, end));
                return diagnostic
                    .with_help(format!(
                        "texts (test names, people's ids, messages, zones) are written in double quotes: \
                         `{written}`"
                    ))
                    .with_suggestion(here, written.clone(), format!("write `{written}`"));
            }
            diagnostic
        }
        Token::Text(raw) if message.contains("a performer") => {
            // `by "TeamLead"`: a role is a name; one person is `by person "…"`.
            let inner = raw.trim_matches('"');
            let is_name = inner.chars().next().is_some_and(char::is_alphabetic)
                && inner.chars().all(|c| c.is_alphanumeric() || c == '_');
            let diagnostic = diagnostic.with_help(format!(
                "a role is written as its name, without quotes (`by {}`); one person is `by person {raw}`",
                if is_name { inner } else { "Agent" }
            ));
            if is_name {
                diagnostic.with_suggestion(here, inner, format!("write `{inner}`"))
            } else {
                diagnostic
            }
        }
        Token::Colon => {
            // `by: Agent`, `within: 4h`: a step's clause written as a key and a value (YAML, BPMN properties).
            let keyword = match index.checked_sub(1).and_then(|i| tokens.get(i)) {
                Some((Token::By, _)) => "by",
                Some((Token::Within, _)) => "within",
                Some((Token::After, _)) => "after",
                Some((Token::Due, _)) => "due",
                Some((Token::Every, _)) => "every",
                _ => return diagnostic,
            };
            // `by:Agent` becomes `by Agent`, not `byAgent`.
            let spaced = tokens
                .get(index + 1)
                .is_none_or(|(_, next)| next.start > found_span.end);
            diagnostic
                .with_help(format!(
                    "a step's clauses are words without `:`, as in `by Agent` and `within 4h`: write `{keyword} …`"
                ))
                .with_suggestion(here, if spaced { "" } else { " " }, "remove the `:`")
        }
        Token::Int(_)
            if index > 0
                && matches!(
                    tokens.get(index - 1),
                    Some((Token::Ident("mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun"), _))
                ) =>
        {
            diagnostic.with_help(
                "opening hours are two clock times, on the 24-hour clock: `hours mon-fri 09:00-17:00`",
            )
        }
        Token::Percent if message.contains("KPI clause") => diagnostic.with_help(
            "there are no percentages in a target: it is what each case must meet (`target <= 4h`), and `procc run` \
             reports the share of cases that met it as `met_percent`",
        ),
        Token::Int(_) | Token::Duration(_)
            if index > 0
                && matches!(tokens.get(index - 1), Some((Token::Ident("target"), _))) =>
        {
            diagnostic.with_help(
                "a target compares each case's value: `target <= 4h`, `target == 0`; the share of cases that met it \
                 (\"90% within 4 hours\") is reported by `procc run` as `met_percent`",
            )
        }
        Token::Within => diagnostic.with_help(
            "a deadline goes inside a step (`step s { by Agent within 4h }`) or, for the whole case, after the \
             process's parameters (`process p(c: Case) within 5d { … }`)",
        ),
        token if is_item_start(token) && message.contains("`}`") => {
            // A declaration while a block is still open: the `{` that was never closed.
            let mut depth = 0usize;
            let open = tokens.get(..index).and_then(|before| {
                before.iter().rev().find(|(t, _)| match t {
                    Token::RBrace => {
                        depth += 1;
                        false
                    }
                    Token::LBrace if depth > 0 => {
                        depth -= 1;
                        false
                    }
                    Token::LBrace => true,
                    _ => false,
                })
            });
            match open {
                Some((_, open)) => {
                    let open_at = FileSpan {
                        file: diagnostic.at.file,
                        span: Span::new(open.start, open.end),
                    };
                    diagnostic
                        .with_secondary(open_at, "this `{` is never closed")
                        .with_help("add the missing `}` before this declaration")
                }
                None => diagnostic,
            }
        }
        _ => diagnostic,
    }
}

/// The words and slashes of tokens `from..=to` (`Europe/Berlin`).
fn word_run(tokens: &[(Token<'_>, SimpleSpan)], from: usize, to: usize) -> String {
    tokens
        .get(from..=to)
        .unwrap_or_default()
        .iter()
        .map(|(t, _)| match t {
            Token::Ident(word) => (*word).to_string(),
            Token::Slash => "/".to_string(),
            _ => String::new(),
        })
        .collect()
}

/// `let g = if … { A } else { B }`: `if` and `match` are statements, not values.
fn conditional_value_hint(
    diagnostic: Diagnostic,
    tokens: &[(Token<'_>, SimpleSpan)],
    at: usize,
) -> Diagnostic {
    let Some((index, (Token::If | Token::Match, _), (Token::Eq, _))) = token_at(tokens, at) else {
        return diagnostic;
    };
    let after_let = index
        .checked_sub(3)
        .and_then(|i| tokens.get(i))
        .is_some_and(|(before, _)| *before == Token::Let);
    let name = match index.checked_sub(2).and_then(|i| tokens.get(i)) {
        Some((Token::Ident(name), _)) if after_let => *name,
        _ => return diagnostic,
    };
    diagnostic.with_help(format!(
        "`if` and `match` are statements, not values, and a name keeps the value `let` gives it: work the value \
         out in a procedure that `return`s it from each branch, then `let {name} = that_procedure(…)`"
    ))
}

/// `by Agent or Supervisor`: a step is for one role; say how several kinds of people can do it.
fn roles_hint(diagnostic: Diagnostic, tokens: &[(Token<'_>, SimpleSpan)], at: usize) -> Diagnostic {
    let Some((index, (Token::Or | Token::And | Token::Comma, _), (Token::Ident(role), _))) =
        token_at(tokens, at)
    else {
        return diagnostic;
    };
    let after_by = index
        .checked_sub(2)
        .and_then(|i| tokens.get(i))
        .is_some_and(|(before, _)| *before == Token::By);
    if !after_by {
        return diagnostic;
    }
    diagnostic.with_help(format!(
        "a step is done by one role: give everyone who may do it a role of its own (the host's directory can \
         give people several roles), or let `{role}` start and reassign it with `on breach`"
    ))
}

/// `answer = await Answered within 4d` as a statement: a name given a new value, which Proc does not do (a `let`
/// names a value once). Not a comparison written with one `=`, so not "write `==`".
fn assignment_hint(
    diagnostic: Diagnostic,
    tokens: &[(Token<'_>, SimpleSpan)],
    at: usize,
) -> Diagnostic {
    let Some((index, (Token::Eq, eq_span), (Token::Ident(name), name_span))) = token_at(tokens, at)
    else {
        return diagnostic;
    };
    // The name starts a statement: it follows a block's brace or the end of the statement before.
    let starts_statement =
        index
            .checked_sub(2)
            .and_then(|i| tokens.get(i))
            .is_none_or(|(before, _)| {
                matches!(
                    before,
                    Token::LBrace
                        | Token::RBrace
                        | Token::RParen
                        | Token::RBracket
                        | Token::Ident(_)
                        | Token::Int(_)
                        | Token::Duration(_)
                        | Token::Text(_)
                )
            });
    if !starts_statement {
        return diagnostic;
    }
    // From the name, so that the checker's "this value is not used" about the name alone is known to be this.
    let at = FileSpan {
        file: diagnostic.at.file,
        span: Span::new(name_span.start, eq_span.end),
    };
    Diagnostic::new(
        Code::Syntax,
        at,
        format!("`{name}` cannot be given a new value"),
    )
    .with_label("a name keeps the value `let` gave it")
    .with_help(format!(
        "give the new value a name of its own: `let {name}_again = …`"
    ))
}

fn to_diagnostic(file: FileId, error: &Rich<'_, Token<'_>, SimpleSpan>) -> Diagnostic {
    let span = Span::new(error.span().start, error.span().end);
    let at = FileSpan { file, span };
    if let chumsky::error::RichReason::Custom(message) = error.reason() {
        if let Some(rest) = message.strip_prefix(TOO_LONG) {
            return Diagnostic::new(Code::TooDeep, at, rest.to_string())
                .with_label("too long to check")
                .with_help("split it with `let` bindings or smaller procedures");
        }
        if let Some(rest) = message.strip_prefix(GENERIC) {
            let (written, proc) = rest.split_once(GENERIC_SEP).unwrap_or((rest, ""));
            let mut diagnostic = if proc.starts_with('[') {
                Diagnostic::new(Code::Syntax, at, format!("lists are written `{proc}`, not `{written}`"))
            } else if proc.ends_with('?') {
                Diagnostic::new(
                    Code::Syntax,
                    at,
                    format!("optional values are written `{proc}`, not `{written}`"),
                )
            } else {
                Diagnostic::new(Code::Syntax, at, format!("`{written}` is not a Proc type"))
                    .with_help(
                        "Proc's types take no parameters: use a record, a list `[T]` or an optional `T?`",
                    )
            }
            .with_label("not how Proc writes this type");
            if !proc.is_empty() {
                diagnostic = diagnostic
                    .with_help(format!("write `{proc}`"))
                    .with_suggestion(at, proc, format!("write `{proc}`"));
            }
            return diagnostic;
        }
        if message == COMPLETE_WITH {
            return Diagnostic::new(
                Code::Syntax,
                at,
                "`complete` takes the result directly, without `with`",
            )
            .with_label("`with` is not needed here")
            .with_help("write `complete value` (tests say `expect completed with value`)");
        }
        if let Some(word) = message.strip_prefix(MISSPELLED) {
            let mut diagnostic = Diagnostic::new(
                Code::Syntax,
                at,
                format!("expected a statement, found `{word}`"),
            )
            .with_label("not a statement");
            if let Some(keyword) = closest_keyword(word) {
                diagnostic = diagnostic
                    .with_help(format!("did you mean `{keyword}`?"))
                    .with_suggestion(at, keyword, format!("use `{keyword}`"));
            }
            return diagnostic;
        }
        return Diagnostic::new(Code::Syntax, at, message.clone());
    }
    let mut expected: Vec<String> = error
        .expected()
        .filter_map(|pattern| match pattern {
            // A word on its own is a keyword that is no token of its own (`as`, `at`): shown like tokens are.
            chumsky::error::RichPattern::Label(label) if !label.contains([' ', '`']) => {
                Some(format!("`{label}`"))
            }
            chumsky::error::RichPattern::Label(label) => Some(label.to_string()),
            chumsky::error::RichPattern::Token(token) => Some(token.to_string()),
            chumsky::error::RichPattern::EndOfInput => Some("end of file".to_string()),
            _ => None,
        })
        .collect();
    expected.sort();
    expected.dedup();
    // After a type, `<` is only looked for to explain `List<Text>`: not worth suggesting.
    if expected.iter().any(|e| e == "`?`") {
        expected.retain(|e| e != "`<`");
    }
    let found = match error.found() {
        Some(token) => token.to_string(),
        None => "end of file".to_string(),
    };
    let expected_text = match expected.len() {
        0 => "something else".to_string(),
        1..=6 => join_or(&expected),
        _ => {
            let mut head: Vec<String> = expected.iter().take(5).cloned().collect();
            head.push("…".to_string());
            head.join(", ")
        }
    };
    let mut diagnostic = Diagnostic::new(
        Code::Syntax,
        at,
        format!("expected {expected_text}, found {found}"),
    )
    .with_label(format!(
        "unexpected {}",
        // "unexpected text", not "unexpected a text".
        found
            .strip_prefix("a ")
            .or_else(|| found.strip_prefix("an "))
            .unwrap_or(&found)
    ));
    let found_keyword = error.found().is_some_and(|t| {
        !matches!(t, Token::Ident(_))
            && t.to_string().starts_with('`')
            && t.to_string()
                .chars()
                .nth(1)
                .is_some_and(|c| c.is_ascii_alphabetic())
    });
    if found_keyword && expected.iter().any(|e| e == "a name") {
        diagnostic = diagnostic.with_help(format!(
            "{found} is a reserved word and cannot be used as a name; choose another name"
        ));
    }
    // `if c.amount = 100 {`: a comparison written with one `=`.
    if error.found() == Some(&Token::Eq) && !expected.iter().any(|e| e == "`=`") {
        diagnostic = diagnostic
            .with_help(
                "to compare two values, write `==` (`=` only gives a name to a value in `let`)",
            )
            .with_suggestion(at, "==", "write `==`");
    }
    if let Some(Token::Ident(word)) = error.found().copied() {
        if let Some(keyword) = closest_keyword(word) {
            diagnostic = diagnostic
                .with_help(format!("did you mean `{keyword}`?"))
                .with_suggestion(at, keyword, format!("use `{keyword}`"));
        }
    }
    diagnostic
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Words a misspelling is compared against for "did you mean".
const KEYWORDS: &[&str] = &[
    "role",
    "record",
    "enum",
    "signal",
    "action",
    "calendar",
    "procedure",
    "process",
    "schedule",
    "test",
    "use",
    "step",
    "let",
    "if",
    "else",
    "match",
    "parallel",
    "first",
    "branch",
    "for",
    "each",
    "repeat",
    "every",
    "await",
    "wait",
    "fail",
    "complete",
    "return",
    "notify",
    "cancel",
    "within",
    "after",
    "due",
    "skippable",
    "paused",
    "only",
    "during",
];

fn closest_keyword(word: &str) -> Option<&'static str> {
    if word.len() < 3 {
        return None;
    }
    crate::suggest::closest(word, KEYWORDS.iter().copied())
}

// ---------------------------------------------------------------------------------------------------------------
// Small pieces

fn span_of(span: SimpleSpan) -> Span {
    Span::new(span.start, span.end)
}

fn ident<'t, 's: 't, I, E>() -> impl Parser<'t, I, Ident, extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    select! { Token::Ident(name) => name }
        .map_with(|name: &str, e| Ident {
            name: name.to_string(),
            span: span_of(e.span()),
        })
        .labelled("a name")
}

/// One or more names separated by commas: `Agent, Supervisor`.
fn ident_list<'t, 's: 't, I, E>() -> impl Parser<'t, I, Vec<Ident>, extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    ident()
        .separated_by(just(Token::Comma))
        .at_least(1)
        .collect::<Vec<_>>()
}

/// A contextual keyword: an identifier with this exact text.
fn kw<'t, 's: 't, I, E>(word: &'static str) -> impl Parser<'t, I, (), extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    just(Token::Ident(word)).ignored().labelled(word)
}

fn text_literal<'t, 's: 't, I, E>() -> impl Parser<'t, I, Literal, extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    select! { Token::Text(raw) => raw, Token::UnterminatedText(raw) => raw }
        .map_with(|raw: &str, e| {
            let span = span_of(e.span());
            Literal {
                kind: LiteralKind::Text(split_text(raw, span.start)),
                span,
            }
        })
        .labelled("a text")
}

/// Splits a raw text token (quotes included) into literal parts and `{a.b}` interpolations.
/// Malformed interpolations are kept as a part whose path is empty, so the checker can report them.
pub fn split_text(raw: &str, start: u32) -> Vec<TextPart> {
    let body_start = start + 1;
    let body = raw.strip_prefix('"').unwrap_or(raw);
    let body = body.strip_suffix('"').unwrap_or(body);
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((index, ch)) = chars.next() {
        match ch {
            '\\' => match chars.next() {
                Some((_, 'n')) => literal.push('\n'),
                Some((_, 't')) => literal.push('\t'),
                Some((_, other)) => literal.push(other),
                None => {}
            },
            '{' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek().map(|&(_, c)| c) == Some('}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                if !literal.is_empty() {
                    parts.push(TextPart::Lit(std::mem::take(&mut literal)));
                }
                let inner_start = index + 1;
                let mut inner_end = None;
                for (j, c) in chars.by_ref() {
                    if c == '}' {
                        inner_end = Some(j);
                        break;
                    }
                }
                let end = inner_end.unwrap_or(body.len());
                let inner = body.get(inner_start..end).unwrap_or("");
                parts.push(TextPart::Interpolation(split_path(
                    inner,
                    body_start + u32::try_from(inner_start).unwrap_or(0),
                    inner_end.is_some(),
                )));
            }
            other => literal.push(other),
        }
    }
    if !literal.is_empty() {
        parts.push(TextPart::Lit(literal));
    }
    parts
}

/// `a.b.c` inside `{}` to identifiers; a malformed path gives one identifier with an empty name spanning it.
fn split_path(inner: &str, start: u32, closed: bool) -> Vec<Ident> {
    let mut segments = Vec::new();
    let mut offset = 0usize;
    let mut valid = closed && !inner.trim().is_empty();
    for segment in inner.split('.') {
        let trimmed = segment.trim();
        let lead = segment.len() - segment.trim_start().len();
        let is_ident = trimmed
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && trimmed
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_ident {
            valid = false;
        }
        let seg_start = start + u32::try_from(offset + lead).unwrap_or(0);
        segments.push(Ident {
            name: trimmed.to_string(),
            span: Span {
                start: seg_start,
                end: seg_start + u32::try_from(trimmed.len()).unwrap_or(0),
            },
        });
        offset += segment.len() + 1;
    }
    if valid {
        segments
    } else {
        vec![Ident {
            name: String::new(),
            span: Span {
                start: start.saturating_sub(1),
                end: start + u32::try_from(inner.len()).unwrap_or(0) + u32::from(closed),
            },
        }]
    }
}

/// Skips one token, or a whole balanced `{ ... }` group.
fn skip_unit<'t, 's: 't, I, E>() -> impl Parser<'t, I, (), extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    recursive(|unit| {
        just(Token::LBrace)
            .ignore_then(unit.repeated())
            .then_ignore(just(Token::RBrace))
            .ignored()
            .or(any()
                .filter(|t: &Token<'_>| !matches!(t, Token::LBrace | Token::RBrace))
                .ignored())
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Types and expressions

fn type_expr<'t, 's: 't, I, E>() -> impl Parser<'t, I, TypeExpr, extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    recursive(|ty| {
        // `Int from 1 to 5`, bounds possibly negative. Without `from` and a number after it, a plain name (a
        // record field may itself be called `from`).
        let bound = just(Token::Minus)
            .or_not()
            .then(select! { Token::Int(x) => x })
            .map(|(minus, digits): (Option<Token<'s>>, &str)| {
                let value = digits.replace('_', "").parse::<i64>().ok();
                if minus.is_some() {
                    value.and_then(i64::checked_neg)
                } else {
                    value
                }
            })
            .labelled("a whole number");
        let named = ident()
            .then(
                kw("from")
                    .ignore_then(bound)
                    .then_ignore(kw("to"))
                    .then(bound)
                    .map_with(|range, e| (range, span_of(e.span())))
                    .or_not(),
            )
            .map(|(name, range)| match range {
                None => TypeExprKind::Named(name),
                Some(((min, max), bounds)) => TypeExprKind::Range {
                    name,
                    min,
                    max,
                    bounds,
                },
            });
        let list = ty
            .clone()
            .delimited_by(just(Token::LBracket), just(Token::RBracket))
            .map(|inner: TypeExpr| TypeExprKind::List(Box::new(inner)));
        // `List<Text>`, `Option<Text>`, as other languages write them: an error with the Proc spelling as its fix,
        // read as that spelling so the declaration keeps its field and nothing else cascades. Their parameter is
        // not itself written so (`<` is no bracket that the nesting limit counts, and each level would report
        // the whole type again); `List<Option<Text>>` is a plain syntax error.
        let simple = optional_suffix(named.clone().or(list.clone()));
        let generic = ident()
            .then(simple.delimited_by(just(Token::Lt), just(Token::Gt)))
            .validate(|(name, inner): (Ident, TypeExpr), e, emitter| {
                let written = format!("{}<{}>", name.name, type_text(&inner));
                let (kind, proc) = match name.name.as_str() {
                    "List" | "Vec" | "Array" | "Seq" | "Set" => {
                        let proc = format!("[{}]", type_text(&inner));
                        (TypeExprKind::List(Box::new(inner)), proc)
                    }
                    "Option" | "Optional" | "Maybe" | "Nullable" => {
                        let proc = format!("{}?", type_text(&inner));
                        (TypeExprKind::Optional(Box::new(inner)), proc)
                    }
                    _ => (TypeExprKind::Error, String::new()),
                };
                emitter.emit(E::custom(
                    e.span(),
                    format!("{GENERIC}{written}{GENERIC_SEP}{proc}"),
                ));
                kind
            });
        optional_suffix(generic.or(named).or(list))
    })
    .labelled("a type")
}

/// A type, then any number of `?`.
fn optional_suffix<'t, 's: 't, I, E, P>(
    kind: P,
) -> impl Parser<'t, I, TypeExpr, extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
    P: Parser<'t, I, TypeExprKind, extra::Err<E>> + Clone,
{
    kind.map_with(|kind, e| TypeExpr {
        kind,
        span: span_of(e.span()),
    })
    .foldl_with(just(Token::Question).repeated(), |inner, _, e| TypeExpr {
        kind: TypeExprKind::Optional(Box::new(inner)),
        span: span_of(e.span()),
    })
}

/// A type as Proc writes it.
fn type_text(ty: &TypeExpr) -> String {
    match &ty.kind {
        TypeExprKind::Named(name) => name.name.clone(),
        TypeExprKind::Optional(inner) => format!("{}?", type_text(inner)),
        TypeExprKind::List(inner) => format!("[{}]", type_text(inner)),
        TypeExprKind::Range { name, min, max, .. } => format!(
            "{} from {} to {}",
            name.name,
            min.map_or("…".to_string(), |n| n.to_string()),
            max.map_or("…".to_string(), |n| n.to_string())
        ),
        TypeExprKind::Error => "…".to_string(),
    }
}

fn field<'t, 's: 't, I, E>() -> impl Parser<'t, I, Field, extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    ident()
        .then_ignore(just(Token::Colon))
        .then(type_expr())
        .map_with(|(name, ty), e| Field {
            name,
            ty,
            span: span_of(e.span()),
        })
}

fn literal_token<'t, 's: 't, I, E>() -> impl Parser<'t, I, Literal, extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    select! {
        Token::Int(x) => LiteralKind::Int(x.to_string()),
        Token::Duration(x) => LiteralKind::Duration(x.to_string()),
        Token::Date(x) => LiteralKind::Date(x.to_string()),
        Token::DateTime(x) => LiteralKind::DateTime(x.to_string()),
        Token::Clock(x) => LiteralKind::Clock(x.to_string()),
        Token::True => LiteralKind::Bool(true),
        Token::False => LiteralKind::Bool(false),
        Token::None => LiteralKind::None,
    }
    .map_with(|kind, e| Literal {
        kind,
        span: span_of(e.span()),
    })
    .or(text_literal())
    .labelled("a value")
}

type ExprParser<'t, 's, I, E> = Boxed<'t, 't, I, Expr, extra::Err<E>>;

/// Builds the expression parsers: the full one, and one without record literals for heads followed by `{`.
fn expr_parsers<'t, 's: 't, I, E>() -> (ExprParser<'t, 's, I, E>, ExprParser<'t, 's, I, E>)
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    let mut full = Recursive::declare();
    let head = expr_layers(full.clone(), false);
    full.define(expr_layers(full.clone(), true));
    (full.boxed(), head)
}

fn expr_layers<'t, 's: 't, I, E, P>(full: P, allow_record: bool) -> ExprParser<'t, 's, I, E>
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
    P: Parser<'t, I, Expr, extra::Err<E>> + Clone + 't,
{
    let args = full
        .clone()
        .separated_by(just(Token::Comma))
        .allow_trailing()
        .collect::<Vec<_>>();
    let field_init = ident()
        .then_ignore(just(Token::Colon))
        .then(full.clone())
        .map(|(name, value)| FieldInit { name, value });
    let field_inits = field_init
        .separated_by(just(Token::Comma).or_not())
        .allow_trailing()
        .collect::<Vec<_>>()
        .delimited_by(just(Token::LBrace), just(Token::RBrace));

    let literal = literal_token().map(ExprKind::Literal);
    let now = just(Token::Now).to(ExprKind::Now);
    let await_ = just(Token::Await)
        .ignore_then(ident())
        .then(
            just(Token::Within)
                .ignore_then(full.clone())
                .then(kw("on").ignore_then(ident()).or_not())
                .or_not(),
        )
        .map(|(signal, within)| {
            let (within, calendar) = match within {
                Some((within, calendar)) => (Some(Box::new(within)), calendar),
                None => (None, None),
            };
            ExprKind::Await {
                signal,
                within,
                calendar,
            }
        });
    let list = args
        .clone()
        .delimited_by(just(Token::LBracket), just(Token::RBracket))
        .map(ExprKind::List);
    let paren = full
        .clone()
        .delimited_by(just(Token::LParen), just(Token::RParen))
        .map(|inner| ExprKind::Paren(Box::new(inner)));
    let name_or_record = if allow_record {
        ident()
            .then(field_inits.or_not())
            .map(|(name, fields)| match fields {
                Some(fields) => ExprKind::Record(name, fields),
                None => ExprKind::Name(name),
            })
            .boxed()
    } else {
        ident().map(ExprKind::Name).boxed()
    };
    let atom = choice((literal, now, await_, list, paren, name_or_record))
        .map_with(|kind, e| Expr {
            kind,
            span: span_of(e.span()),
        })
        .labelled("an expression")
        .boxed();

    enum Postfix {
        Field(Ident),
        Call(Vec<Expr>),
    }
    let postfix_op = select! { Token::Dot => () }
        .ignore_then(ident())
        .map(Postfix::Field)
        .or(select! { Token::LParen => () }
            .ignore_then(args)
            .then_ignore(just(Token::RParen))
            .map(Postfix::Call));
    let postfix = atom
        .then(
            postfix_op
                .map_with(|op, e| (op, e.span()))
                .repeated()
                .collect::<Vec<_>>(),
        )
        .validate(|(atom, ops), e, emitter| {
            if ops.len() > MAX_CHAIN {
                emitter.emit(E::custom(
                    e.span(),
                    format!("{TOO_LONG}a chain of more than {MAX_CHAIN} field accesses or calls"),
                ));
                return Expr {
                    kind: ExprKind::Error,
                    span: span_of(e.span()),
                };
            }
            let start = atom.span.start;
            ops.into_iter().fold(atom, |inner, (op, span)| {
                let span = Span::new(start as usize, span.end);
                match op {
                    Postfix::Field(name) => Expr {
                        kind: ExprKind::Field(Box::new(inner), name),
                        span,
                    },
                    Postfix::Call(args) => Expr {
                        kind: ExprKind::Call(Box::new(inner), args),
                        span,
                    },
                }
            })
        })
        .boxed();

    let neg = select! { Token::Minus => UnaryOp::Neg }
        .map_with(|op, e| (op, e.span()))
        .repeated()
        .collect::<Vec<_>>()
        .validate(|ops: Vec<(UnaryOp, SimpleSpan)>, e, emitter| {
            if ops.len() > MAX_CHAIN {
                emitter.emit(E::custom(
                    e.span(),
                    format!("{TOO_LONG}more than {MAX_CHAIN} prefix operators in a row"),
                ));
            }
            ops
        })
        .then(postfix)
        .map(|(ops, inner)| fold_unary(ops, inner))
        .boxed();

    // Operators are matched with `select!`: a failed match records no list of expected tokens, which keeps the
    // (very common) "no operator here" case cheap at every precedence level.
    let product = binary_level(
        neg,
        select! { Token::Star => BinaryOp::Mul, Token::Slash => BinaryOp::Div, Token::Percent => BinaryOp::Rem },
    );
    let sum = binary_level(
        product,
        select! { Token::Plus => BinaryOp::Add, Token::Minus => BinaryOp::Sub },
    );
    let compare = binary_level(
        sum,
        select! {
            Token::EqEq => BinaryOp::Eq,
            Token::NotEq => BinaryOp::NotEq,
            Token::LtEq => BinaryOp::LtEq,
            Token::GtEq => BinaryOp::GtEq,
            Token::Lt => BinaryOp::Lt,
            Token::Gt => BinaryOp::Gt,
        },
    );
    let not = select! { Token::Not => UnaryOp::Not }
        .map_with(|op, e| (op, e.span()))
        .repeated()
        .collect::<Vec<_>>()
        .validate(|ops: Vec<(UnaryOp, SimpleSpan)>, e, emitter| {
            if ops.len() > MAX_CHAIN {
                emitter.emit(E::custom(
                    e.span(),
                    format!("{TOO_LONG}more than {MAX_CHAIN} prefix operators in a row"),
                ));
            }
            ops
        })
        .then(compare)
        .map(|(ops, inner)| fold_unary(ops, inner))
        .boxed();
    let and = binary_level(not, select! { Token::And => BinaryOp::And });
    let or = binary_level(and, select! { Token::Or => BinaryOp::Or });
    binary_level(or, select! { Token::Coalesce => BinaryOp::Coalesce })
}

fn fold_unary(ops: Vec<(UnaryOp, SimpleSpan)>, inner: Expr) -> Expr {
    if ops.len() > MAX_CHAIN {
        // Reported where the operators are parsed; keep the tree shallow.
        return Expr {
            span: inner.span,
            kind: ExprKind::Error,
        };
    }
    ops.into_iter().rev().fold(inner, |inner, (op, span)| Expr {
        span: Span::new(span.start, inner.span.end as usize),
        kind: ExprKind::Unary(op, Box::new(inner)),
    })
}

fn binary_level<'t, 's: 't, I, E, P, O>(operand: P, op: O) -> ExprParser<'t, 's, I, E>
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
    P: Parser<'t, I, Expr, extra::Err<E>> + Clone + 't,
    O: Parser<'t, I, BinaryOp, extra::Err<E>> + Clone + 't,
{
    operand
        .clone()
        .then(op.then(operand).repeated().collect::<Vec<_>>())
        .validate(|(first, rest), e, emitter| {
            if rest.len() > MAX_CHAIN {
                emitter.emit(E::custom(
                    e.span(),
                    format!(
                        "{TOO_LONG}an expression with more than {MAX_CHAIN} operators in a row"
                    ),
                ));
                return Expr {
                    kind: ExprKind::Error,
                    span: span_of(e.span()),
                };
            }
            rest.into_iter().fold(first, |left, (op, right)| Expr {
                span: left.span.to(right.span),
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
            })
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------------------------------
// Statements and steps

fn is_stmt_start(token: &Token<'_>) -> bool {
    matches!(
        token,
        Token::Step
            | Token::Let
            | Token::If
            | Token::Match
            | Token::Parallel
            | Token::First
            | Token::For
            | Token::Repeat
            | Token::Every
            | Token::Await
            | Token::Wait
            | Token::Cancel
            | Token::Notify
            | Token::Fail
            | Token::Complete
            | Token::Return
    )
}

fn is_clause_start(token: &Token<'_>) -> bool {
    matches!(
        token,
        Token::By
            | Token::Within
            | Token::After
            | Token::Due
            | Token::Ident("on" | "paused" | "only" | "skippable" | "expires")
    )
}

fn is_item_start(token: &Token<'_>) -> bool {
    matches!(
        token,
        Token::Role
            | Token::Record
            | Token::Enum
            | Token::Signal
            | Token::Action
            | Token::Calendar
            | Token::Procedure
            | Token::Process
            | Token::Schedule
            | Token::Kpi
            | Token::Test
            | Token::Use
    )
}

/// Skips at least one unit, then more units until `stop` says a new piece starts (or `}` closes the block).
fn recovery<'t, 's: 't, I, E, O: Clone + 't>(
    stop: fn(&Token<'_>) -> bool,
    fallback: O,
) -> impl Parser<'t, I, O, extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    // Declaration keywords never occur inside a body: skipping stops there, so a missing `}` costs one diagnostic
    // and the following declarations are still parsed.
    let unit = any()
        .filter(|t: &Token<'_>| !is_item_start(t))
        .rewind()
        .ignore_then(skip_unit());
    let not_stop = any()
        .filter(move |t: &Token<'_>| !stop(t) && !is_item_start(t) && !matches!(t, Token::RBrace))
        .rewind();
    unit.clone()
        .then(not_stop.ignore_then(unit).repeated())
        .to(fallback)
}

fn block_of<'t, 's: 't, I, E, P, O>(
    item: P,
) -> impl Parser<'t, I, (Vec<O>, Span), extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
    P: Parser<'t, I, O, extra::Err<E>> + Clone,
{
    item.repeated()
        .collect::<Vec<_>>()
        .delimited_by(just(Token::LBrace), just(Token::RBrace))
        .map_with(|items, e| (items, span_of(e.span())))
}

fn performer<'t, 's: 't, I, E>(
    head: ExprParser<'t, 's, I, E>,
) -> impl Parser<'t, I, Performer, extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    let person = kw("person")
        .ignore_then(head.clone())
        .map(PerformerKind::Person);
    let dynamic = just(Token::Role)
        .ignore_then(head)
        .map(PerformerKind::DynamicRole);
    let manager = kw("manager")
        .then(kw("of"))
        .ignore_then(ident())
        .map(PerformerKind::ManagerOf);
    let same = kw("same")
        .then(kw("person"))
        .then(kw("as"))
        .ignore_then(ident())
        .map(PerformerKind::SameAs);
    let role = ident()
        .then(
            just(Token::Ident("with"))
                .then(kw("skill"))
                .ignore_then(ident())
                .repeated()
                .collect::<Vec<_>>(),
        )
        .map(|(role, skills)| PerformerKind::Role { role, skills });
    choice((person, dynamic, manager, same, role))
        .then(kw("other").then(kw("than")).ignore_then(ident()).or_not())
        .map_with(|(kind, other_than), e| Performer {
            kind,
            other_than,
            span: span_of(e.span()),
        })
        .labelled("a performer")
}

/// One stage of an escalation ladder: `after 4h on Office reassign to Supervisor`, or a warning before the
/// breach: `before 1h notify Agent`.
fn ladder_stage<'t, 's: 't, I, E>(
    head: ExprParser<'t, 's, I, E>,
) -> impl Parser<'t, I, EscalationStage, extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    let stage_action = choice((
        just(Token::Notify)
            .ignore_then(ident())
            .then(text_literal().or_not())
            .map(|(role, text)| {
                EscalationAction::Notify(
                    role,
                    text.map(|lit| Expr {
                        span: lit.span,
                        kind: ExprKind::Literal(lit),
                    }),
                )
            }),
        kw("reassign")
            .then(kw("to"))
            .ignore_then(ident())
            .map(EscalationAction::Reassign),
        just(Token::Cancel).to(EscalationAction::Cancel),
        kw("flag").ignore_then(text_literal()).map(|lit| {
            EscalationAction::Flag(Expr {
                span: lit.span,
                kind: ExprKind::Literal(lit),
            })
        }),
    ))
    .labelled("an escalation action");
    just(Token::After)
        .to(false)
        .or(kw("before").to(true))
        .then(head.clone())
        .then(kw("on").ignore_then(ident()).or_not())
        .or_not()
        .then(stage_action)
        .map_with(|(timing, action), e| {
            let (after, before, calendar) = match timing {
                Some(((false, after), calendar)) => (Some(after), None, calendar),
                Some(((true, before), calendar)) => (None, Some(before), calendar),
                None => (None, None, None),
            };
            EscalationStage {
                after,
                before,
                calendar,
                action,
                span: span_of(e.span()),
            }
        })
}

fn step_decl<'t, 's: 't, I, E>(
    full: ExprParser<'t, 's, I, E>,
    head: ExprParser<'t, 's, I, E>,
) -> impl Parser<'t, I, StepDecl, extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    let since = kw("since").ignore_then(ident()).or_not();
    // `on Calendar` after a duration: working time (not the start of `on breach`).
    let on_calendar = kw("on")
        .ignore_then(ident().and_is(kw("breach").not()))
        .or_not();
    let by = just(Token::By)
        .ignore_then(performer(head.clone()))
        .map(StepClauseKind::By);
    let within = just(Token::Within)
        .ignore_then(head.clone())
        .then(on_calendar.clone())
        .then(since.clone())
        .map(|((duration, calendar), since)| StepClauseKind::Within {
            duration,
            calendar,
            since,
        });
    let after = just(Token::After)
        .ignore_then(head.clone())
        .then(since)
        .map(|(duration, since)| StepClauseKind::After { duration, since });
    let due = just(Token::Due)
        .ignore_then(head.clone())
        .map(StepClauseKind::Due);
    let expires = kw("expires")
        .then(just(Token::After))
        .ignore_then(head.clone())
        .then(on_calendar)
        .map(|(duration, calendar)| StepClauseKind::Expires { duration, calendar });
    let stage = ladder_stage(head.clone());
    let on_breach = kw("on")
        .then(kw("breach"))
        .ignore_then(block_of(stage))
        .map(|(stages, _)| StepClauseKind::OnBreach(stages));
    let paused = kw("paused")
        .then(kw("from"))
        .ignore_then(ident())
        .then_ignore(kw("until"))
        .then(ident())
        .map(|(from, until)| StepClauseKind::Paused { from, until });
    let only = kw("only")
        .then(kw("during"))
        .ignore_then(ident())
        .map(StepClauseKind::OnlyDuring);
    let skippable = kw("skippable").to(StepClauseKind::Skippable);
    let clause = choice((
        by, within, after, due, expires, on_breach, paused, only, skippable,
    ))
    .map_with(|kind, e| StepClause {
        kind,
        span: span_of(e.span()),
    })
    .labelled("a step clause (`by`, `within`, `after`, `due`, `on breach`, …)")
    .recover_with(via_parser(
        recovery(is_clause_start, StepClauseKind::Error).map_with(|kind, e| StepClause {
            kind,
            span: span_of(e.span()),
        }),
    ));
    let outputs = just(Token::Arrow).ignore_then(
        field()
            .separated_by(just(Token::Comma))
            .allow_trailing()
            .at_least(1)
            .collect::<Vec<_>>()
            .delimited_by(just(Token::LParen), just(Token::RParen))
            .or(field().map(|f| vec![f])),
    );
    let _ = full;
    just(Token::Step)
        .ignore_then(ident())
        .then(text_literal().or_not())
        .then(outputs.or_not())
        .then(block_of(clause))
        .map(|(((name, instruction), outputs), (clauses, _))| StepDecl {
            name,
            instruction: instruction.map(|lit| Expr {
                span: lit.span,
                kind: ExprKind::Literal(lit),
            }),
            outputs: outputs.unwrap_or_default(),
            clauses,
        })
}

fn join<'t, 's: 't, I, E>() -> impl Parser<'t, I, Join, extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    let count = literal_token()
        .map(|lit| Expr {
            span: lit.span,
            kind: ExprKind::Literal(lit),
        })
        .then_ignore(kw("of"))
        .map(Join::Count);
    choice((kw("any").to(Join::Any), kw("all").to(Join::All), count))
        .or_not()
        .map(|join| join.unwrap_or(Join::All))
}

fn block_parser<'t, 's: 't, I, E>(
    full: ExprParser<'t, 's, I, E>,
    head: ExprParser<'t, 's, I, E>,
) -> impl Parser<'t, I, Block, extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    recursive(|block| {
        let block = block.map(|(stmts, span)| Block { stmts, span });
        let let_ = just(Token::Let)
            .ignore_then(ident())
            .then(just(Token::Colon).ignore_then(type_expr()).or_not())
            .then_ignore(just(Token::Eq))
            .then(full.clone())
            .map(|((name, ty), value)| StmtKind::Let { name, ty, value });
        let step = step_decl(full.clone(), head.clone()).map(|s| StmtKind::Step(Box::new(s)));
        let if_ = just(Token::If)
            .ignore_then(head.clone())
            .then(block.clone())
            .then(
                just(Token::Else)
                    .then(just(Token::If))
                    .ignore_then(head.clone())
                    .then(block.clone())
                    .repeated()
                    .collect::<Vec<_>>(),
            )
            .then(just(Token::Else).ignore_then(block.clone()).or_not())
            .map(|(((cond, then), else_ifs), otherwise)| {
                let mut branches = vec![(cond, then)];
                branches.extend(else_ifs);
                StmtKind::If {
                    branches,
                    otherwise,
                }
            });
        let pattern = ident()
            .then(just(Token::Dot).ignore_then(ident()).or_not())
            .map(|(first, second)| second.unwrap_or(first));
        let arm = pattern
            .separated_by(just(Token::Pipe))
            .at_least(1)
            .collect::<Vec<_>>()
            .then_ignore(just(Token::FatArrow))
            .then(block.clone())
            .then_ignore(just(Token::Comma).or_not())
            .map_with(|(patterns, body), e| MatchArm {
                patterns,
                body,
                span: span_of(e.span()),
            });
        let match_ = just(Token::Match)
            .map_with(|_, e| span_of(e.span()))
            .then(head.clone())
            .then(block_of(arm))
            .map(|((keyword, scrutinee), (arms, _))| StmtKind::Match {
                keyword,
                scrutinee,
                arms,
            });
        let branch = just(Token::Branch)
            .ignore_then(ident().or_not())
            .then(block.clone())
            .map_with(|(name, body), e| BranchDecl {
                name,
                body,
                span: span_of(e.span()),
            })
            .labelled("`branch`");
        let branches = block_of(branch).map(|(branches, _)| branches);
        let parallel = just(Token::Parallel)
            .ignore_then(join())
            .then(branches.clone())
            .map(|(join, branches)| StmtKind::Parallel { join, branches });
        let first = just(Token::First)
            .ignore_then(branches)
            .map(|branches| StmtKind::First { branches });
        let for_each = just(Token::For)
            .ignore_then(just(Token::Each))
            .ignore_then(ident())
            .then_ignore(just(Token::In))
            .then(head.clone())
            .then(just(Token::Parallel).ignore_then(join()).or_not())
            .then(block.clone())
            .map(|(((var, list), parallel), body)| StmtKind::ForEach {
                var,
                list,
                parallel,
                body,
            });
        let max = kw("max").ignore_then(head.clone()).or_not();
        let until = kw("until").ignore_then(head.clone()).or_not();
        let repeat = just(Token::Repeat)
            .map_with(|_, e| span_of(e.span()))
            .then(max.clone())
            .then(block.clone())
            .then(until.clone())
            .map(|(((keyword, max), body), until)| StmtKind::Repeat {
                keyword,
                max,
                body,
                until,
            });
        let every = just(Token::Every)
            .map_with(|_, e| span_of(e.span()))
            .then(head.clone())
            .then(max)
            .then(block.clone())
            .then(until)
            .map(
                |((((keyword, interval), max), body), until)| StmtKind::Every {
                    keyword,
                    interval,
                    max,
                    body,
                    until,
                },
            );
        let wait = just(Token::Wait).ignore_then(
            kw("until")
                .ignore_then(head.clone())
                .map(StmtKind::WaitUntil)
                .or(head
                    .clone()
                    .then(kw("on").ignore_then(ident()).or_not())
                    .map(|(duration, calendar)| StmtKind::WaitFor(duration, calendar))),
        );
        let cancel = just(Token::Cancel)
            .ignore_then(ident())
            .map(StmtKind::Cancel);
        // `on breach { … }` in a process's body: the ladder of the whole case's deadline.
        let case_ladder = kw("on")
            .then(kw("breach"))
            .ignore_then(block_of(ladder_stage(head.clone())))
            .map(|(stages, _)| StmtKind::OnBreach(stages));
        let notify = just(Token::Notify)
            .ignore_then(ident())
            .then(text_literal().or_not())
            .map(|(role, text)| StmtKind::Notify {
                role,
                message: text.map(|lit| Expr {
                    span: lit.span,
                    kind: ExprKind::Literal(lit),
                }),
            });
        let value_after = any()
            .filter(|t: &Token<'_>| !is_stmt_start(t) && !matches!(t, Token::RBrace))
            .rewind()
            .ignore_then(full.clone())
            .or_not();
        let fail = just(Token::Fail)
            .ignore_then(full.clone())
            .map(StmtKind::Fail);
        // `complete with x`, as in a test's `expect completed with x`: read as `complete x`, with a hint.
        let complete_with = kw("with")
            .ignore_then(full.clone())
            .validate(|value, e, emitter| {
                emitter.emit(E::custom(e.span(), COMPLETE_WITH.to_string()));
                Some(value)
            });
        let complete = just(Token::Complete)
            .ignore_then(complete_with.or(value_after.clone()))
            .map(StmtKind::Complete);
        let return_ = just(Token::Return)
            .ignore_then(value_after)
            .map(StmtKind::Return);
        let expr_stmt = full.clone().map(StmtKind::Expr);
        // `stpe review { ... }`: a near-keyword followed by a name is a misspelled statement, not a call.
        let misspelled = select! { Token::Ident(word) if closest_keyword(word).is_some() => word }
            .then_ignore(
                any()
                    .filter(|t: &Token<'_>| matches!(t, Token::Ident(_) | Token::Text(_)))
                    .rewind(),
            )
            .validate(|word: &str, e, emitter| {
                emitter.emit(E::custom(e.span(), format!("{MISSPELLED}{word}")));
            })
            .then(
                any()
                    .filter(|t: &Token<'_>| !is_stmt_start(t) && !matches!(t, Token::RBrace))
                    .rewind()
                    .ignore_then(skip_unit())
                    .repeated(),
            )
            .to(StmtKind::Error);
        let stmt = choice((
            misspelled,
            let_,
            step,
            if_,
            match_,
            parallel,
            first,
            for_each,
            repeat,
            every,
            wait,
            cancel,
            case_ladder,
            notify,
            fail,
            complete,
            return_,
            expr_stmt,
        ))
        .map_with(|kind, e| Stmt {
            kind,
            span: span_of(e.span()),
        })
        .labelled("a statement")
        .recover_with(via_parser(
            recovery(is_stmt_start, StmtKind::Error).map_with(|kind, e| Stmt {
                kind,
                span: span_of(e.span()),
            }),
        ));
        // A missing `}` shows up as a declaration keyword where a statement should be: report it there and let
        // the declaration parse, instead of swallowing the rest of the file into this block.
        let close = just(Token::RBrace)
            .ignored()
            .recover_with(via_parser(any().filter(is_item_start).rewind().ignored()));
        just(Token::LBrace)
            .ignore_then(stmt.repeated().collect::<Vec<_>>())
            .then_ignore(close)
            .map_with(|items, e| (items, span_of(e.span())))
    })
    .map(|(stmts, span)| Block { stmts, span })
}

// ---------------------------------------------------------------------------------------------------------------
// Tests

/// What `expect` and `expect no` both check, before it is known which of the two it is.
enum Happened {
    Escalated(Ident, Option<Ident>),
    Notified(Ident, Option<Literal>),
    Breached(Option<Ident>),
    Flagged(Option<Literal>),
}

impl Happened {
    fn expect(self, none: bool) -> TestStmtKind {
        match self {
            Happened::Escalated(step, role) => TestStmtKind::ExpectEscalated { step, role, none },
            Happened::Notified(role, message) => TestStmtKind::ExpectNotified {
                role,
                message,
                none,
            },
            Happened::Breached(step) => TestStmtKind::ExpectBreached { step, none },
            Happened::Flagged(message) => TestStmtKind::ExpectFlagged { message, none },
        }
    }
}

fn test_stmt<'t, 's: 't, I, E>(
    full: ExprParser<'t, 's, I, E>,
    head: ExprParser<'t, 's, I, E>,
) -> impl Parser<'t, I, TestStmt, extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    let at = kw("at").ignore_then(head.clone()).or_not();
    let field_init = ident()
        .then_ignore(just(Token::Colon))
        .then(full.clone())
        .map(|(name, value)| FieldInit { name, value });
    let field_inits = field_init
        .separated_by(just(Token::Comma).or_not())
        .allow_trailing()
        .collect::<Vec<_>>()
        .delimited_by(just(Token::LBrace), just(Token::RBrace));
    // A person with their roles and skills: `"ann" as Agent with skill billing`. `as` is left out for a person who
    // holds no role (a `by person` step).
    let person = text_literal()
        .then(
            kw("as")
                .ignore_then(ident_list())
                .or_not()
                .map(Option::unwrap_or_default),
        )
        .then(
            kw("with")
                .then(kw("skill"))
                .ignore_then(ident_list())
                .or_not(),
        )
        .map(|((id, roles), skills)| Actor {
            id,
            roles,
            skills: skills.unwrap_or_default(),
        });
    let actor = just(Token::By).ignore_then(person.clone());
    let manage_op = choice((
        kw("claim").to(ManageOp::Claim),
        kw("release").to(ManageOp::Release),
        kw("delegate").to(ManageOp::Delegate),
        kw("reassign").to(ManageOp::Reassign),
        kw("suspend").to(ManageOp::Suspend),
        kw("resume").to(ManageOp::Resume),
        kw("skip").to(ManageOp::Skip),
        kw("redo").to(ManageOp::Redo),
    ));
    let manage = manage_op
        .then(ident())
        .then(kw("to").ignore_then(ident()).or_not())
        .then(actor.clone())
        // The colleague of a `delegate`: `to "bob" as Agent`.
        .then(kw("to").ignore_then(person).or_not())
        .then(at.clone())
        .map(|(((((op, step), role), actor), to), at)| TestManage {
            op,
            step,
            role,
            actor,
            to,
            at,
            because: None,
        });
    let completion = just(Token::Complete)
        .ignore_then(ident())
        .then(actor)
        .then(kw("with").ignore_then(field_inits.clone()).or_not())
        .then(at.clone())
        .map(|(((step, actor), outputs), at)| TestCompletion {
            step,
            actor,
            outputs: outputs.unwrap_or_default(),
            at,
            because: None,
        });
    // What a refusal must say: `expect rejected complete … because "four eyes"`.
    let because = kw("because").ignore_then(text_literal()).or_not();
    let args = full
        .clone()
        .separated_by(just(Token::Comma))
        .allow_trailing()
        .collect::<Vec<_>>()
        .delimited_by(just(Token::LParen), just(Token::RParen));
    let start = kw("start")
        .ignore_then(ident())
        .then(args)
        .then(at.clone())
        .map(|((process, args), at)| TestStmtKind::Start { process, args, at });
    let signal = just(Token::Signal)
        .ignore_then(ident())
        .then(field_inits.clone().or_not())
        .then(at.clone())
        .map(|((signal, payload), at)| TestStmtKind::Signal {
            signal,
            payload: payload.unwrap_or_default(),
            at,
        });
    let advance = kw("advance").ignore_then(
        kw("to")
            .ignore_then(head.clone())
            .map(TestStmtKind::AdvanceTo)
            .or(head.clone().map(TestStmtKind::AdvanceBy)),
    );
    // A word that starts the next test statement is not a step name: `expect breached` may end a line.
    let step_name = ident()
        .and_is(
            select! {
                Token::Ident(
                    "start" | "advance" | "expect" | "given" | "claim" | "release" | "delegate" | "reassign"
                    | "suspend" | "resume" | "skip" | "redo"
                ) => ()
            }
            .not(),
        );
    // What `expect` and `expect no` both check: an escalation, a notification, a breach, a flag.
    let happened = choice((
        kw("escalated")
            .ignore_then(ident())
            .then(kw("to").ignore_then(ident()).or_not())
            .map(|(step, role)| Happened::Escalated(step, role)),
        kw("notified")
            .ignore_then(ident())
            .then(text_literal().or_not())
            .map(|(role, message)| Happened::Notified(role, message)),
        kw("breached")
            .ignore_then(step_name.or_not())
            .map(Happened::Breached),
        kw("flagged")
            .ignore_then(text_literal().or_not())
            .map(Happened::Flagged),
    ));
    let expect = kw("expect").ignore_then(choice((
        kw("rejected").ignore_then(choice((
            just(Token::Signal)
                .ignore_then(ident())
                .then(field_inits.clone().or_not())
                .then(at.clone())
                .then(because.clone())
                .map(
                    |(((signal, payload), at), because)| TestStmtKind::ExpectRejectedSignal {
                        signal,
                        payload: payload.unwrap_or_default(),
                        at,
                        because,
                    },
                ),
            completion
                .clone()
                .then(because.clone())
                .map(|(completion, because)| {
                    TestStmtKind::ExpectRejected(TestCompletion {
                        because,
                        ..completion
                    })
                }),
            manage
                .clone()
                .then(because)
                .map(|(manage, because)| {
                    TestStmtKind::ExpectRejectedManage(TestManage { because, ..manage })
                }),
        ))),
        kw("task")
            .ignore_then(ident())
            .then(
                just(Token::For)
                    .ignore_then(
                        ident()
                            .map(|role| (Some(role), None))
                            .or(text_literal().map(|person| (None, Some(person)))),
                    )
                    .or_not(),
            )
            .then(just(Token::Due).ignore_then(head.clone()).or_not())
            .map(|((step, performer), due)| {
                let (role, person) = performer.unwrap_or((None, None));
                TestStmtKind::ExpectTask {
                    step,
                    role,
                    person,
                    due,
                }
            }),
        kw("no").ignore_then(choice((
            kw("task")
                .ignore_then(ident())
                .map(TestStmtKind::ExpectNoTask),
            happened.clone().map(|h| h.expect(true)),
        ))),
        happened.map(|h| h.expect(false)),
        kw("completed")
            .ignore_then(kw("with").ignore_then(full.clone()).or_not())
            .map(TestStmtKind::ExpectCompleted),
        just(Token::Kpi)
            .ignore_then(ident())
            .then(
                // Not `met`/`missed`, nor the next statement: `expect kpi name` may end a line.
                kw("met")
                    .or(kw("missed"))
                    .ignored()
                    .or(select! {
                        Token::Ident(
                            "start" | "advance" | "expect" | "given" | "claim" | "release" | "delegate"
                            | "reassign" | "suspend" | "resume" | "skip" | "redo"
                        ) => (),
                        Token::Complete => (),
                        Token::Signal => (),
                    })
                    .not()
                    .ignore_then(head.clone())
                    .or_not(),
            )
            .then(choice((kw("met").to(true), kw("missed").to(false))).or_not())
            .map(|((kpi, value), met)| TestStmtKind::ExpectKpi { kpi, value, met }),
        kw("failed").to(TestStmtKind::ExpectFailed),
    )));
    let given = kw("given").ignore_then(choice((
        text_literal()
            .then_ignore(kw("reports"))
            .then_ignore(kw("to"))
            .then(text_literal())
            .map(|(person, manager)| TestStmtKind::GivenManager { person, manager }),
        ident()
            .then_ignore(kw("returns"))
            .then(full.clone())
            .map(|(action, value)| TestStmtKind::GivenAction { action, value }),
    )));
    let is_test_start: fn(&Token<'_>) -> bool = |t| {
        matches!(
            t,
            Token::Complete
                | Token::Signal
                | Token::Ident("start" | "advance" | "expect" | "given")
                | Token::Ident(
                    "claim"
                        | "release"
                        | "delegate"
                        | "reassign"
                        | "suspend"
                        | "resume"
                        | "skip"
                        | "redo"
                )
        )
    };
    choice((
        start,
        completion.map(TestStmtKind::Complete),
        manage.map(TestStmtKind::Manage),
        signal,
        advance,
        expect,
        given,
    ))
    .map_with(|kind, e| TestStmt {
        kind,
        span: span_of(e.span()),
    })
    .labelled("a test statement (`start`, `complete`, `signal`, `advance`, `expect`, `given`, `claim`, …)")
    .recover_with(via_parser(
        recovery(is_test_start, TestStmtKind::Error).map_with(|kind, e| TestStmt {
            kind,
            span: span_of(e.span()),
        }),
    ))
}

// ---------------------------------------------------------------------------------------------------------------
// Top level

fn file_parser<'t, 's: 't, I, E>() -> impl Parser<'t, I, File, extra::Err<E>>
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    let (full, head) = expr_parsers();

    // Module paths may use words that are keywords elsewhere (`std.calendar`).
    let segment = ident().or(select! {
        Token::Calendar => "calendar",
        Token::Process => "process",
        Token::Procedure => "procedure",
        Token::Role => "role",
        Token::Signal => "signal",
        Token::Action => "action",
        Token::Schedule => "schedule",
        Token::Kpi => "kpi",
        Token::Test => "test",
        Token::Record => "record",
        Token::Enum => "enum",
    }
    .map_with(|name: &str, e| Ident {
        name: name.to_string(),
        span: span_of(e.span()),
    }));
    let use_ = just(Token::Use)
        .ignore_then(segment.clone())
        .then(
            just(Token::Dot)
                .ignore_then(segment)
                .repeated()
                .collect::<Vec<_>>(),
        )
        .then(
            just(Token::Dot)
                .ignore_then(
                    just(Token::Star)
                        .map_with(|_, e| UseItems::All(span_of(e.span())))
                        .or(ident()
                            .separated_by(just(Token::Comma))
                            .allow_trailing()
                            .at_least(1)
                            .collect::<Vec<_>>()
                            .delimited_by(just(Token::LBrace), just(Token::RBrace))
                            .map(UseItems::Named)),
                )
                .or_not(),
        )
        .map(|((first, mut rest), items)| {
            let mut module = vec![first];
            let items = match items {
                Some(items) => {
                    module.append(&mut rest);
                    items
                }
                None => {
                    let last = rest.pop();
                    module.append(&mut rest);
                    UseItems::Named(last.into_iter().collect())
                }
            };
            ItemKind::Use(UseDecl { module, items })
        });
    let role = just(Token::Role).ignore_then(ident()).map(ItemKind::Role);
    // A broken field list still declares its record, so uses of the type elsewhere do not cascade into "unknown
    // type" errors; a field that cannot be parsed is skipped up to the next `name:` (one diagnostic), so the fields
    // around it are kept.
    let field_start = ident().then(just(Token::Colon)).ignored();
    let not_field_end = any()
        .filter(|t: &Token<'_>| !is_item_start(t) && !matches!(t, Token::RBrace))
        .rewind();
    let skip_field = not_field_end
        .ignore_then(skip_unit())
        .then(
            not_field_end
                .and_is(field_start.not())
                .ignore_then(skip_unit())
                .repeated(),
        )
        .map_with(|_, e| Err(span_of(e.span())));
    let fields = block_of(
        field()
            .map(Ok)
            .then_ignore(just(Token::Comma).or_not())
            .recover_with(via_parser(skip_field)),
    )
    .map(|(f, _)| {
        let (fields, skipped): (Vec<_>, Vec<_>) = f.into_iter().partition(Result::is_ok);
        (
            fields.into_iter().flatten().collect::<Vec<Field>>(),
            skipped
                .into_iter()
                .filter_map(Result::err)
                .collect::<Vec<Span>>(),
        )
    })
    .recover_with(via_parser(nested_delimiters(
        Token::LBrace,
        Token::RBrace,
        [
            (Token::LParen, Token::RParen),
            (Token::LBracket, Token::RBracket),
        ],
        |span| (Vec::new(), vec![span_of(span)]),
    )));
    let record = just(Token::Record)
        .ignore_then(ident())
        .then(fields.clone())
        .map(|(name, (fields, skipped))| {
            ItemKind::Record(RecordDecl {
                name,
                fields,
                skipped,
            })
        });
    let enum_ = just(Token::Enum)
        .ignore_then(ident())
        .then(block_of(ident().then_ignore(just(Token::Comma).or_not())).map(|(v, _)| v))
        .map(|(name, variants)| ItemKind::Enum(EnumDecl { name, variants }));
    let signal = just(Token::Signal)
        .ignore_then(ident())
        .then(fields.or_not())
        .map(|(name, fields)| {
            let (fields, skipped) = fields.unwrap_or_default();
            ItemKind::Signal(RecordDecl {
                name,
                fields,
                skipped,
            })
        });
    let params = field()
        .separated_by(just(Token::Comma))
        .allow_trailing()
        .collect::<Vec<_>>()
        .delimited_by(just(Token::LParen), just(Token::RParen));
    let result = just(Token::Arrow).ignore_then(type_expr()).or_not();
    let action = just(Token::Action)
        .ignore_then(ident())
        .then(params.clone())
        .then(result.clone())
        .map(|((name, params), result)| {
            ItemKind::Action(ActionDecl {
                name,
                params,
                result,
            })
        });
    let clock = select! { Token::Clock(x) => x }.map_with(|x: &str, e| Literal {
        kind: LiteralKind::Clock(x.to_string()),
        span: span_of(e.span()),
    });
    let days = ident()
        .then(just(Token::Minus).ignore_then(ident()).or_not())
        .separated_by(just(Token::Comma))
        .at_least(1)
        .collect::<Vec<_>>();
    let calendar_entry = choice((
        kw("zone")
            .ignore_then(text_literal())
            .map(CalendarEntry::Zone),
        kw("hours")
            .ignore_then(days)
            .then(clock)
            .then_ignore(just(Token::Minus))
            .then(clock)
            .map_with(|((days, from), to), e| CalendarEntry::Hours {
                days,
                from,
                to,
                span: span_of(e.span()),
            }),
        kw("holiday")
            .ignore_then(literal_token())
            .then(kw("to").ignore_then(literal_token()).or_not())
            .map(|(from, to)| CalendarEntry::Holiday(from, to)),
        kw("include")
            .ignore_then(ident())
            .map(CalendarEntry::Include),
    ))
    .labelled("a calendar entry (`zone`, `hours`, `holiday`, `include`)")
    .recover_with(via_parser(
        recovery(
            |t| matches!(t, Token::Ident("zone" | "hours" | "holiday" | "include")),
            (),
        )
        .map_with(|(), e| CalendarEntry::Error(span_of(e.span()))),
    ));
    let calendar = just(Token::Calendar)
        .ignore_then(ident())
        .then(block_of(calendar_entry))
        .map(|(name, (entries, _))| ItemKind::Calendar(CalendarDecl { name, entries }));
    let block = block_parser(full.clone(), head.clone());
    let flow_head = ident()
        .then(params)
        .then(result)
        .then(
            just(Token::Within)
                .ignore_then(head.clone())
                .then(kw("on").ignore_then(ident()).or_not())
                .or_not(),
        )
        .then(block)
        .map(|((((name, params), result), within), body)| {
            let (within, within_calendar) = match within {
                Some((within, calendar)) => (Some(within), calendar),
                None => (None, None),
            };
            FlowDecl {
                name,
                params,
                result,
                within,
                within_calendar,
                body,
            }
        });
    let procedure = just(Token::Procedure)
        .ignore_then(flow_head.clone())
        .map(ItemKind::Procedure);
    let process = just(Token::Process)
        .ignore_then(flow_head)
        .map(ItemKind::Process);
    let schedule_word = ident().or(just(Token::First).map_with(|_, e| Ident {
        name: "first".to_string(),
        span: span_of(e.span()),
    }));
    let schedule_clause = choice((
        just(Token::Every)
            .ignore_then(
                select! { Token::Int(x) => x }
                    .map_with(|x: &str, e| Literal {
                        kind: LiteralKind::Int(x.to_string()),
                        span: span_of(e.span()),
                    })
                    .or_not(),
            )
            .then(
                schedule_word
                    .filter(|word: &Ident| !matches!(word.name.as_str(), "at" | "on" | "start"))
                    .repeated()
                    .at_least(1)
                    .collect::<Vec<_>>(),
            )
            .map_with(|(count, words), e| ScheduleClause::Every {
                count,
                words,
                span: span_of(e.span()),
            }),
        kw("at")
            .ignore_then(
                select! { Token::Clock(x) => x }.map_with(|x: &str, e| Literal {
                    kind: LiteralKind::Clock(x.to_string()),
                    span: span_of(e.span()),
                }),
            )
            .map(ScheduleClause::At),
        kw("on").ignore_then(ident()).map(ScheduleClause::On),
        kw("start").ignore_then(ident()).map(ScheduleClause::Start),
    ))
    .labelled("a schedule clause (`every`, `at`, `on`, `start`)")
    .recover_with(via_parser(
        recovery(
            |t| matches!(t, Token::Every | Token::Ident("at" | "on" | "start")),
            (),
        )
        .map_with(|(), e| ScheduleClause::Error(span_of(e.span()))),
    ));
    let schedule = just(Token::Schedule)
        .ignore_then(ident())
        .then(block_of(schedule_clause))
        .map(|(name, (clauses, _))| ItemKind::Schedule(ScheduleDecl { name, clauses }));
    let kpi_point = choice((
        kw("start").map_with(|(), e| MeasurePoint::Start(span_of(e.span()))),
        kw("end").map_with(|(), e| MeasurePoint::End(span_of(e.span()))),
        just(Token::First)
            .then(kw("completion"))
            .ignore_then(just(Token::By).ignore_then(ident()).or_not())
            .map_with(|role, e| MeasurePoint::FirstCompletion {
                role,
                span: span_of(e.span()),
            }),
        ident().map(MeasurePoint::Step),
    ));
    let measure = choice((
        kw("time")
            .ignore_then(kw("from"))
            .ignore_then(kpi_point.clone())
            .then_ignore(kw("to"))
            .then(kpi_point)
            .then(kw("on").ignore_then(ident()).or_not())
            .map(|((from, to), calendar)| Measure::Time { from, to, calendar }),
        kw("count")
            .ignore_then(ident())
            .then(kw("of").ignore_then(ident()).or_not())
            .map(|(what, step)| Measure::Count { what, step }),
        kw("value")
            .ignore_then(
                ident()
                    .separated_by(just(Token::Dot))
                    .at_least(1)
                    .collect::<Vec<_>>(),
            )
            .map(Measure::Value),
    ));
    let target_op = select! {
        Token::Lt => BinaryOp::Lt,
        Token::LtEq => BinaryOp::LtEq,
        Token::Gt => BinaryOp::Gt,
        Token::GtEq => BinaryOp::GtEq,
        Token::EqEq => BinaryOp::Eq,
    }
    .labelled("a comparison (`<`, `<=`, `>`, `>=`, `==`)");
    let kpi_clause = choice((
        kw("measure")
            .ignore_then(measure)
            .map_with(|m, e| KpiClause::Measure(m, span_of(e.span()))),
        kw("target")
            .ignore_then(target_op)
            .then(just(Token::Minus).or_not())
            .then(literal_token())
            .map_with(|((op, minus), value), e| {
                KpiClause::Target(KpiTarget {
                    op,
                    negative: minus.is_some(),
                    value,
                    span: span_of(e.span()),
                })
            }),
    ))
    .labelled("a KPI clause (`measure`, `target`)")
    .recover_with(via_parser(
        recovery(|t| matches!(t, Token::Ident("measure" | "target")), ())
            .map_with(|(), e| KpiClause::Error(span_of(e.span()))),
    ));
    let kpi = just(Token::Kpi)
        .ignore_then(ident())
        .then(just(Token::For).ignore_then(ident_list()).or_not())
        .then(block_of(kpi_clause))
        .map(|((name, processes), (clauses, _))| {
            ItemKind::Kpi(KpiDecl {
                name,
                processes: processes.unwrap_or_default(),
                clauses,
            })
        });
    let test = just(Token::Test)
        .ignore_then(text_literal())
        .then(block_of(test_stmt(full, head)))
        .map(|(name, (stmts, _))| ItemKind::Test(TestDecl { name, stmts }));

    let item = choice((
        use_, role, record, enum_, signal, action, calendar, procedure, process, schedule, kpi,
        test,
    ))
    .map_with(|kind, e| Item {
        kind,
        span: span_of(e.span()),
    })
    .labelled("a declaration (`role`, `record`, `procedure`, `process`, …)")
    .recover_with(via_parser(recovery_top(is_item_start).map_with(|(), e| {
        Item {
            kind: ItemKind::Error,
            span: span_of(e.span()),
        }
    })));
    item.repeated()
        .collect::<Vec<_>>()
        .map(|items| File { items })
        .then_ignore(end())
}

/// Top-level recovery: like [`recovery`], but a stray `}`, and a `{` that is never closed, are skipped too.
fn recovery_top<'t, 's: 't, I, E>(
    stop: fn(&Token<'_>) -> bool,
) -> impl Parser<'t, I, (), extra::Err<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: ParseError<'t, 's, I>,
{
    // A `{` never closed (a block still being typed at the end of the file) is skipped on its own, so the
    // declarations before it are kept.
    let unit = skip_unit()
        .or(just(Token::RBrace).ignored())
        .or(just(Token::LBrace).ignored());
    let not_stop = any().filter(move |t: &Token<'_>| !stop(t)).rewind();
    unit.clone()
        .then(not_stop.ignore_then(unit).repeated())
        .ignored()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::lex;

    fn parse_text(text: &str) -> (File, Vec<Diagnostic>) {
        let lexed = lex(FileId(0), text);
        let (file, mut diagnostics) = parse(FileId(0), text.len(), &lexed);
        diagnostics.extend(lexed.diagnostics);
        (file, diagnostics)
    }

    const SAMPLE: &str = r#"
use std.calendar.*
/// Answers first.
role Agent
record Complaint { customer: Text, amount: Int? tags: [Text] }
enum Urgency { low, normal, high }
signal CustomerReplied { message: Text }
action send_email(to: Text, body: Text) -> Bool
calendar Support {
  zone "Europe/Berlin"
  hours mon-fri 09:00-17:00
  holiday 2026-12-25
}
procedure triage(c: Complaint) -> Urgency {
  step assess "Assess {c.customer}" -> urgency: Urgency {
    by Agent with skill billing other than intake
    within 4h on Support
    after 1h since intake
    on breach { notify Supervisor "late" after 4h reassign to Manager after 8h cancel }
    paused from Asked until CustomerReplied
    only during Support
    skippable
  }
  return assess.urgency
}
process complaint(c: Complaint) -> Bool within 5d {
  let u = triage(c)
  if u == Urgency.high and not Support.is_open { notify Agent "x" } else if c.amount ?? 0 > 10 { wait 1h } else { wait until now + 2h }
  match u { low => { fail "no" } normal | high => { complete true } }
  parallel 2 of { branch a { send_email(c.customer, "hi") } branch { let r = await CustomerReplied within 3d } }
  first { branch { cancel a } }
  for each t in c.tags parallel any { step s { by person t } }
  repeat max 3 { wait 1m } until u == Urgency.low
  every 15m max 4 { notify Agent } until false
  let x = Complaint { customer: "a", amount: none, tags: [] }
  complete
}
schedule review { every first business day of month at 09:00 on Support start complaint }
test "works" {
  start complaint(Complaint { customer: "a", amount: 3, tags: [] }) at 2026-03-02T09:00Z
  expect task assess for Agent due 2026-03-02T13:00Z
  complete assess by "ann" as Agent, Supervisor with { urgency: Urgency.high } at 2026-03-02T10:00Z
  expect rejected complete assess by "bob" as Customer
  signal CustomerReplied { message: "x" }
  advance 4h
  advance to 2026-03-03T09:00Z
  expect no task assess
  expect escalated assess to Supervisor
  expect notified Supervisor
  expect completed with true
  expect failed
}
"#;

    #[test]
    fn sample_parses_cleanly() {
        let (file, diagnostics) = parse_text(SAMPLE);
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        assert_eq!(file.items.len(), 11);
    }

    #[test]
    fn one_typo_one_diagnostic() {
        let text = "role Agent\nprocedure p() {\n  stpe foo { by Agent }\n  step ok { by Agent }\n}\nrole B\n";
        let (file, diagnostics) = parse_text(text);
        assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
        assert_eq!(diagnostics[0].help.as_deref(), Some("did you mean `step`?"));
        assert_eq!(file.items.len(), 3);
    }

    #[test]
    fn a_role_in_quotes_after_by_gets_its_name() {
        let text = "role TeamLead\nprocess p() {\n  step s { by \"TeamLead\" }\n}\n";
        let (_, diagnostics) = parse_text(text);
        assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
        assert_eq!(
            diagnostics[0].help.as_deref(),
            Some(
                "a role is written as its name, without quotes (`by TeamLead`); one person is `by person \"TeamLead\"`"
            )
        );
        assert_eq!(diagnostics[0].suggestions.len(), 1);
    }

    #[test]
    fn interpolation_is_split() {
        let parts = split_text("\"Hi {c.name}, {{x}}\"", 0);
        assert_eq!(parts.len(), 3);
        match &parts[1] {
            TextPart::Interpolation(path) => {
                assert_eq!(path.len(), 2);
                assert_eq!(path[1].name, "name");
                assert_eq!(path[1].span, Span { start: 7, end: 11 });
            }
            other => panic!("{other:?}"),
        }
    }
}
