//! The lexer: `.proc` text to tokens (logos), with comments kept aside as trivia.
//!
//! Whitespace is skipped; `//` comments and `///` doc comments are recorded in [`Lexed::trivia`] so the formatter
//! and the documentation generator never re-lex. Doc comments are also indexed by the start of the token that
//! follows them, which is how declarations find their documentation.
//! The lexer never fails: bad characters become diagnostics and are skipped, and nesting deeper than
//! [`MAX_DEPTH`] is cut out of the token stream (with one `P0005`) so no later stage can overflow its stack.

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, FileSpan};
use crate::source::{FileId, Span};
use logos::Logos;
use std::fmt;

/// Deepest bracket nesting the front end accepts.
pub const MAX_DEPTH: usize = 64;

/// Most lexical diagnostics reported for one file; the rest are summarised in one note.
const MAX_LEX_DIAGNOSTICS: usize = 50;

/// A token. Words are identifiers unless they are one of the reserved keywords; contextual keywords
/// (`until`, `max`, `breach`, …) stay identifiers and the parser recognises them by text.
#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[logos(skip r"[ \t\r\n\f]+")]
pub enum Token<'src> {
    /// `///` doc comment (trivia).
    #[regex(r"///[^\n]*", allow_greedy = true)]
    DocComment,
    /// `//` comment (trivia).
    #[regex(r"//([^/\n][^\n]*)?", allow_greedy = true)]
    LineComment,

    /// Keyword `role`.
    #[token("role")]
    Role,
    /// Keyword `record`.
    #[token("record")]
    Record,
    /// Keyword `enum`.
    #[token("enum")]
    Enum,
    /// Keyword `signal`.
    #[token("signal")]
    Signal,
    /// Keyword `action`.
    #[token("action")]
    Action,
    /// Keyword `calendar`.
    #[token("calendar")]
    Calendar,
    /// Keyword `procedure`.
    #[token("procedure")]
    Procedure,
    /// Keyword `process`.
    #[token("process")]
    Process,
    /// Keyword `schedule`.
    #[token("schedule")]
    Schedule,
    /// Keyword `kpi`.
    #[token("kpi")]
    Kpi,
    /// Keyword `test`.
    #[token("test")]
    Test,
    /// Keyword `use`.
    #[token("use")]
    Use,
    /// Keyword `step`.
    #[token("step")]
    Step,
    /// Keyword `let`.
    #[token("let")]
    Let,
    /// Keyword `if`.
    #[token("if")]
    If,
    /// Keyword `else`.
    #[token("else")]
    Else,
    /// Keyword `match`.
    #[token("match")]
    Match,
    /// Keyword `parallel`.
    #[token("parallel")]
    Parallel,
    /// Keyword `first`.
    #[token("first")]
    First,
    /// Keyword `branch`.
    #[token("branch")]
    Branch,
    /// Keyword `for`.
    #[token("for")]
    For,
    /// Keyword `each`.
    #[token("each")]
    Each,
    /// Keyword `in`.
    #[token("in")]
    In,
    /// Keyword `repeat`.
    #[token("repeat")]
    Repeat,
    /// Keyword `every`.
    #[token("every")]
    Every,
    /// Keyword `await`.
    #[token("await")]
    Await,
    /// Keyword `wait`.
    #[token("wait")]
    Wait,
    /// Keyword `fail`.
    #[token("fail")]
    Fail,
    /// Keyword `complete`.
    #[token("complete")]
    Complete,
    /// Keyword `return`.
    #[token("return")]
    Return,
    /// Keyword `notify`.
    #[token("notify")]
    Notify,
    /// Keyword `cancel`.
    #[token("cancel")]
    Cancel,
    /// Keyword `by`.
    #[token("by")]
    By,
    /// Keyword `within`.
    #[token("within")]
    Within,
    /// Keyword `after`.
    #[token("after")]
    After,
    /// Keyword `due`.
    #[token("due")]
    Due,
    /// Keyword `and`.
    #[token("and")]
    And,
    /// Keyword `or`.
    #[token("or")]
    Or,
    /// Keyword `not`.
    #[token("not")]
    Not,
    /// `true`.
    #[token("true")]
    True,
    /// `false`.
    #[token("false")]
    False,
    /// `none`.
    #[token("none")]
    None,
    /// `now`.
    #[token("now")]
    Now,

    /// An identifier or contextual keyword.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice())]
    Ident(&'src str),
    /// An integer.
    #[regex(r"[0-9]+", |lex| lex.slice())]
    Int(&'src str),
    /// A duration such as `4h` or `1h30m`.
    #[regex(r"([0-9]+(w|d|h|m|s))+", |lex| lex.slice())]
    Duration(&'src str),
    /// A date such as `2026-12-25`.
    #[regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", |lex| lex.slice())]
    Date(&'src str),
    /// An instant such as `2026-12-25T09:00Z`.
    #[regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})", |lex| lex.slice())]
    DateTime(&'src str),
    /// A clock time such as `09:00`.
    #[regex(r"[0-9]{1,2}:[0-9]{2}", |lex| lex.slice())]
    Clock(&'src str),
    /// A text literal, quotes included. A default given inside the braces does not end it (`"{x ?? "none"}"` is
    /// one text, so the checker can say that only names go there, instead of a syntax error at `none`); any other
    /// quote does.
    #[regex(r#""([^"\\\n{]|\\[^\n]|\{[^}"\n]*\?\?[ \t]*"[^"\n]*"[ \t]*\}|\{)*""#, |lex| lex.slice())]
    Text(&'src str),
    /// A text literal missing its closing quote (reported, then treated as text).
    #[regex(r#""([^"\\\n]|\\[^\n])*"#, |lex| lex.slice())]
    UnterminatedText(&'src str),

    /// `{`
    #[token("{")]
    LBrace,
    /// `}`
    #[token("}")]
    RBrace,
    /// `(`
    #[token("(")]
    LParen,
    /// `)`
    #[token(")")]
    RParen,
    /// `[`
    #[token("[")]
    LBracket,
    /// `]`
    #[token("]")]
    RBracket,
    /// `,`
    #[token(",")]
    Comma,
    /// `:`
    #[token(":")]
    Colon,
    /// `.`
    #[token(".")]
    Dot,
    /// `->`
    #[token("->")]
    Arrow,
    /// `=>`
    #[token("=>")]
    FatArrow,
    /// `?`
    #[token("?")]
    Question,
    /// `??`
    #[token("??")]
    Coalesce,
    /// `+`
    #[token("+")]
    Plus,
    /// `-`
    #[token("-")]
    Minus,
    /// `*`
    #[token("*")]
    Star,
    /// `/`
    #[token("/")]
    Slash,
    /// `%`
    #[token("%")]
    Percent,
    /// `==`
    #[token("==")]
    EqEq,
    /// `!=`
    #[token("!=")]
    NotEq,
    /// `<`
    #[token("<")]
    Lt,
    /// `<=`
    #[token("<=")]
    LtEq,
    /// `>`
    #[token(">")]
    Gt,
    /// `>=`
    #[token(">=")]
    GtEq,
    /// `=`
    #[token("=")]
    Eq,
    /// `|`
    #[token("|")]
    Pipe,
}

impl Token<'_> {
    /// True for tokens that open a bracket.
    fn opens(self) -> bool {
        matches!(self, Token::LBrace | Token::LParen | Token::LBracket)
    }

    /// True for tokens that close a bracket.
    fn closes(self) -> bool {
        matches!(self, Token::RBrace | Token::RParen | Token::RBracket)
    }
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Token::DocComment => "doc comment",
            Token::LineComment => "comment",
            Token::Role => "`role`",
            Token::Record => "`record`",
            Token::Enum => "`enum`",
            Token::Signal => "`signal`",
            Token::Action => "`action`",
            Token::Calendar => "`calendar`",
            Token::Procedure => "`procedure`",
            Token::Process => "`process`",
            Token::Schedule => "`schedule`",
            Token::Kpi => "`kpi`",
            Token::Test => "`test`",
            Token::Use => "`use`",
            Token::Step => "`step`",
            Token::Let => "`let`",
            Token::If => "`if`",
            Token::Else => "`else`",
            Token::Match => "`match`",
            Token::Parallel => "`parallel`",
            Token::First => "`first`",
            Token::Branch => "`branch`",
            Token::For => "`for`",
            Token::Each => "`each`",
            Token::In => "`in`",
            Token::Repeat => "`repeat`",
            Token::Every => "`every`",
            Token::Await => "`await`",
            Token::Wait => "`wait`",
            Token::Fail => "`fail`",
            Token::Complete => "`complete`",
            Token::Return => "`return`",
            Token::Notify => "`notify`",
            Token::Cancel => "`cancel`",
            Token::By => "`by`",
            Token::Within => "`within`",
            Token::After => "`after`",
            Token::Due => "`due`",
            Token::And => "`and`",
            Token::Or => "`or`",
            Token::Not => "`not`",
            Token::True => "`true`",
            Token::False => "`false`",
            Token::None => "`none`",
            Token::Now => "`now`",
            Token::Ident(name) => return write!(f, "`{name}`"),
            Token::Int(_) => "a number",
            Token::Duration(_) => "a duration",
            Token::Date(_) => "a date",
            Token::DateTime(_) => "a time",
            Token::Clock(_) => "a clock time",
            Token::Text(_) | Token::UnterminatedText(_) => "a text",
            Token::LBrace => "`{`",
            Token::RBrace => "`}`",
            Token::LParen => "`(`",
            Token::RParen => "`)`",
            Token::LBracket => "`[`",
            Token::RBracket => "`]`",
            Token::Comma => "`,`",
            Token::Colon => "`:`",
            Token::Dot => "`.`",
            Token::Arrow => "`->`",
            Token::FatArrow => "`=>`",
            Token::Question => "`?`",
            Token::Coalesce => "`??`",
            Token::Plus => "`+`",
            Token::Minus => "`-`",
            Token::Star => "`*`",
            Token::Slash => "`/`",
            Token::Percent => "`%`",
            Token::EqEq => "`==`",
            Token::NotEq => "`!=`",
            Token::Lt => "`<`",
            Token::LtEq => "`<=`",
            Token::Gt => "`>`",
            Token::GtEq => "`>=`",
            Token::Eq => "`=`",
            Token::Pipe => "`|`",
        };
        f.write_str(text)
    }
}

/// Kind of a piece of trivia.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriviaKind {
    /// `// ...`
    Comment,
    /// `/// ...`
    Doc,
}

/// A comment, kept with its span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trivia {
    /// Comment or doc comment.
    pub kind: TriviaKind,
    /// Where it is, `//` included.
    pub span: Span,
}

/// The lexer's output.
#[derive(Clone, Debug, Default)]
pub struct Lexed<'src> {
    /// Tokens for the parser (no trivia), with their byte ranges in the form the parser reads them.
    pub tokens: Vec<(Token<'src>, chumsky::span::SimpleSpan)>,
    /// Comments and doc comments, in order.
    pub trivia: Vec<Trivia>,
    /// Doc comment text (without `///`, lines joined by `\n`), keyed by the start offset of the next token.
    pub docs: Vec<(u32, String)>,
    /// Lexical diagnostics.
    pub diagnostics: Vec<Diagnostic>,
    /// Regions cut out for nesting too deep, each extended over the next kept token: syntax errors there are
    /// consequences of the cut, already reported as `P0005`.
    pub cuts: Vec<Span>,
}

impl Lexed<'_> {
    /// The doc comment directly before the token starting at `offset`.
    pub fn doc_at(&self, offset: u32) -> Option<&str> {
        self.docs
            .binary_search_by_key(&offset, |(at, _)| *at)
            .ok()
            .and_then(|index| self.docs.get(index))
            .map(|(_, text)| text.as_str())
    }
}

/// Lexes one file.
pub fn lex(file: FileId, text: &str) -> Lexed<'_> {
    let mut out = Lexed::default();
    let at = |span: Span| FileSpan { file, span };
    if let Some(nul) = text.find('\0') {
        out.diagnostics.push(
            Diagnostic::new(
                Code::InvalidCharacter,
                at(Span::new(nul, nul + 1)),
                "this file contains a NUL byte and looks binary",
            )
            .with_label("NUL byte")
            .with_help("`.proc` files are plain UTF-8 text; check that the right file was given"),
        );
        return out;
    }
    // Lines ended by a carriage return alone (classic Mac OS) would make every `//` comment run to the end of the
    // file, hiding the program behind it: such a file is refused at its first such line end.
    if let Some((cr, _)) = text
        .match_indices('\r')
        .find(|&(i, _)| text.as_bytes().get(i + 1) != Some(&b'\n'))
    {
        out.diagnostics.push(
            Diagnostic::new(
                Code::InvalidCharacter,
                at(Span::new(cr, cr + 1)),
                "this line ends with a carriage return alone (classic Mac OS line endings)",
            )
            .with_label("carriage return without a line feed")
            .with_help("save the file with LF (or CRLF) line endings, which is what every current editor writes"),
        );
    }
    let mut pending_doc: Vec<&str> = Vec::new();
    let mut lexer = Token::lexer(text);
    // A byte order mark (as some Windows editors write) is not part of the program.
    if text.starts_with('\u{feff}') {
        lexer.bump('\u{feff}'.len_utf8());
    }
    let mut bad_run: Option<Span> = None;
    let mut lex_errors = 0usize;
    let mut push_error = |out: &mut Lexed<'_>, diagnostic: Diagnostic| {
        lex_errors += 1;
        if lex_errors <= MAX_LEX_DIAGNOSTICS {
            out.diagnostics.push(diagnostic);
        }
    };
    let bad_character = |span: Span| {
        let shown = text.get(span.range()).unwrap_or("?");
        let shown: String = shown.chars().take(8).collect();
        Diagnostic::new(
            Code::InvalidCharacter,
            at(span),
            format!("unexpected character `{}`", shown.escape_debug()),
        )
        .with_label("not part of the language")
        .with_help("remove it, or put it inside a text literal in quotes")
    };
    while let Some(result) = lexer.next() {
        let span = Span::new(lexer.span().start, lexer.span().end);
        let token = match result {
            Ok(token) => token,
            Err(()) => {
                bad_run = Some(match bad_run {
                    Some(run) if run.end == span.start => run.to(span),
                    Some(run) => {
                        push_error(&mut out, bad_character(run));
                        span
                    }
                    None => span,
                });
                continue;
            }
        };
        if let Some(run) = bad_run.take() {
            push_error(&mut out, bad_character(run));
        }
        match token {
            Token::DocComment => {
                out.trivia.push(Trivia {
                    kind: TriviaKind::Doc,
                    span,
                });
                let body = lexer.slice().get(3..).unwrap_or("");
                pending_doc.push(body.strip_prefix(' ').unwrap_or(body));
            }
            Token::LineComment => {
                out.trivia.push(Trivia {
                    kind: TriviaKind::Comment,
                    span,
                });
            }
            Token::UnterminatedText(body) => {
                push_error(
                    &mut out,
                    Diagnostic::new(
                        Code::UnterminatedText,
                        at(Span::new(lexer.span().start, lexer.span().start + 1)),
                        "this text has no closing quote",
                    )
                    .with_label("text starts here")
                    .with_help("add a `\"` at the end of the text, on the same line"),
                );
                flush_doc(&mut out, &mut pending_doc, span.start);
                out.tokens
                    .push((Token::UnterminatedText(body), simple(span)));
            }
            token => {
                flush_doc(&mut out, &mut pending_doc, span.start);
                out.tokens.push((token, simple(span)));
            }
        }
    }
    if let Some(run) = bad_run.take() {
        push_error(&mut out, bad_character(run));
    }
    if lex_errors > MAX_LEX_DIAGNOSTICS {
        if let Some(last) = out.diagnostics.last_mut() {
            last.notes.push(format!(
                "{} more lexical errors in this file were not shown",
                lex_errors - MAX_LEX_DIAGNOSTICS
            ));
        }
    }
    limit_depth(file, &mut out);
    out
}

fn simple(span: Span) -> chumsky::span::SimpleSpan {
    chumsky::span::SimpleSpan::from(span.range())
}

fn flush_doc(out: &mut Lexed<'_>, pending: &mut Vec<&str>, next_token: u32) {
    if !pending.is_empty() {
        out.docs.push((next_token, pending.join("\n")));
        pending.clear();
    }
}

/// Cuts tokens nested deeper than [`MAX_DEPTH`] out of the stream, reporting each cut once.
fn limit_depth(file: FileId, lexed: &mut Lexed<'_>) {
    let mut depth = 0usize;
    let mut too_deep = false;
    for (token, _) in &lexed.tokens {
        if token.opens() {
            depth += 1;
            if depth > MAX_DEPTH {
                too_deep = true;
                break;
            }
        } else if token.closes() {
            depth = depth.saturating_sub(1);
        }
    }
    if !too_deep {
        return;
    }
    let mut kept = Vec::with_capacity(lexed.tokens.len());
    let mut depth = 0usize;
    let mut cut: Option<Span> = None;
    for &(token, simple_span) in &lexed.tokens {
        let span = Span::from(simple_span);
        if token.opens() {
            depth += 1;
        }
        if depth > MAX_DEPTH {
            cut = Some(cut.map_or(span, |c| c.to(span)));
        } else {
            if let Some(region) = cut.take() {
                lexed.diagnostics.push(too_deep_diagnostic(file, region));
                lexed.cuts.push(region.to(span));
            }
            kept.push((token, simple_span));
        }
        if token.closes() {
            depth = depth.saturating_sub(1);
        }
    }
    if let Some(region) = cut {
        lexed.diagnostics.push(too_deep_diagnostic(file, region));
        lexed.cuts.push(Span {
            start: region.start,
            end: u32::MAX,
        });
    }
    lexed.tokens = kept;
}

fn too_deep_diagnostic(file: FileId, region: Span) -> Diagnostic {
    let start = Span {
        start: region.start,
        end: region.start.saturating_add(1),
    };
    Diagnostic::new(
        Code::TooDeep,
        FileSpan { file, span: start },
        format!("brackets are nested more than {MAX_DEPTH} levels deep"),
    )
    .with_label("too deep from here on; this part was skipped")
    .with_help("split the flow into smaller procedures")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Token<'_>> {
        lex(FileId(0), text)
            .tokens
            .into_iter()
            .map(|(t, _)| t)
            .collect()
    }

    #[test]
    fn literals() {
        assert_eq!(
            kinds("4h 1h30m 2026-12-25 2026-12-25T09:00Z 09:00 42 \"hi {x}\""),
            vec![
                Token::Duration("4h"),
                Token::Duration("1h30m"),
                Token::Date("2026-12-25"),
                Token::DateTime("2026-12-25T09:00Z"),
                Token::Clock("09:00"),
                Token::Int("42"),
                Token::Text("\"hi {x}\""),
            ]
        );
    }

    #[test]
    fn lines_ended_by_a_carriage_return_alone_are_refused_at_the_first() {
        for (text, at) in [
            ("role A\r// note\rrole B\r", 6),
            ("role A\r\nrole B\r", 14),
            ("role A\r", 6),
        ] {
            let lexed = lex(FileId(0), text);
            let first = &lexed.diagnostics[0];
            assert_eq!(first.code, Code::InvalidCharacter, "{text:?}");
            assert_eq!(first.at.span, Span::new(at, at + 1), "{text:?}");
        }
        // CRLF is a line end like LF.
        let lexed = lex(FileId(0), "/// A.\r\nrole A\r\n// note\r\nrole B\r\n");
        assert!(lexed.diagnostics.is_empty());
        assert_eq!(lexed.tokens.len(), 4);
    }

    #[test]
    fn quotes_inside_braces_stay_in_the_text() {
        assert_eq!(
            kinds(r#""Note: {c.note ?? "none"} ok" "a {" { "b" "{{x}}" "{a == "b"}""#),
            vec![
                Token::Text(r#""Note: {c.note ?? "none"} ok""#),
                // An unclosed brace: the text ends at its quote, as before.
                Token::Text(r#""a {""#),
                Token::LBrace,
                Token::Text(r#""b""#),
                Token::Text(r#""{{x}}""#),
                // Only a default (`??`) keeps its quotes inside the text.
                Token::Text(r#""{a == ""#),
                Token::Ident("b"),
                Token::Text(r#""}""#),
            ]
        );
    }

    #[test]
    fn comments_are_trivia_and_docs_attach_to_next_token() {
        let lexed = lex(
            FileId(0),
            "/// Answers first.\n/// Second line.\nrole Agent // tail\n",
        );
        assert_eq!(lexed.tokens.len(), 2);
        assert_eq!(lexed.trivia.len(), 3);
        assert_eq!(lexed.doc_at(36), Some("Answers first.\nSecond line."));
    }

    #[test]
    fn bad_characters_are_grouped() {
        let lexed = lex(FileId(0), "role $$$ Agent");
        assert_eq!(lexed.diagnostics.len(), 1);
        assert_eq!(lexed.diagnostics[0].code, Code::InvalidCharacter);
        assert_eq!(lexed.tokens.len(), 2);
    }

    #[test]
    fn deep_nesting_is_cut() {
        let text = format!("{}{}", "(".repeat(1000), ")".repeat(1000));
        let lexed = lex(FileId(0), &text);
        assert_eq!(lexed.diagnostics.len(), 1);
        assert_eq!(lexed.diagnostics[0].code, Code::TooDeep);
        assert_eq!(lexed.tokens.len(), 2 * MAX_DEPTH);
    }
}
