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
    // Comments, texts and misquoted texts are scanned by hand (callbacks), not by regular expressions: the state
    // machine logos generates for a repetition over any character recurses once per multi-byte character, and a
    // line of 60 000 emoji overflowed the stack.
    /// `///` doc comment (trivia).
    #[token("///", rest_of_line)]
    DocComment,
    /// `//` comment (trivia).
    #[token("//", rest_of_line)]
    LineComment,
    /// `/* … */`: not part of the language; reported, then skipped like a comment.
    #[token("/*", block_comment)]
    BlockComment,

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
    /// `&&`, `||` and `!` as other languages write `and`, `or` and `not` (reported, then read as those).
    #[token("&&")]
    AmpAmp,
    /// See [`Token::AmpAmp`].
    #[token("||")]
    PipePipe,
    /// See [`Token::AmpAmp`].
    #[token("!")]
    Bang,
    /// A text in curly or single quotes (reported, then read as a text).
    #[token("\u{201c}", |lex| misquoted(lex, '\u{201d}'))]
    #[token("\u{201e}", |lex| misquoted(lex, '\u{201d}'))]
    #[token("'", |lex| misquoted(lex, '\''))]
    MisquotedText(&'src str),
    /// `1.5h`: a duration with a fraction (reported; durations are whole numbers of each unit).
    #[regex(r"[0-9]+\.[0-9]+(w|d|h|m|s)", |lex| lex.slice())]
    FractionalDuration(&'src str),
    /// A number run into letters that make no duration: `3x`, `90min`, `1h30`, `2days` (reported).
    #[regex(r"[0-9]+[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice(), priority = 1)]
    MalformedNumber(&'src str),
    /// `2026-12-25T09:00`: a time without its zone (reported).
    #[regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?", |lex| lex.slice())]
    ZonelessTime(&'src str),
    /// A date such as `2026-12-25`.
    #[regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", |lex| lex.slice())]
    Date(&'src str),
    /// An instant such as `2026-12-25T09:00Z`.
    #[regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})", |lex| lex.slice())]
    DateTime(&'src str),
    /// A clock time such as `09:00`.
    #[regex(r"[0-9]{1,2}:[0-9]{2}", |lex| lex.slice())]
    Clock(&'src str),
    /// A text literal as scanned (see [`scan_text`]); [`lex`] makes it a [`Token::Text`] or a
    /// [`Token::UnterminatedText`].
    #[token("\"", scan_text)]
    Quoted(Scanned<'src>),
    /// A text literal, quotes included. A default given inside the braces does not end it (`"{x ?? "none"}"` is
    /// one text, so the checker can say that only names go there, instead of a syntax error at `none`); any other
    /// quote does.
    Text(&'src str),
    /// A text literal missing its closing quote (reported, then treated as text).
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
            Token::LineComment | Token::BlockComment => "comment",
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
            Token::Duration(_) | Token::FractionalDuration(_) | Token::MalformedNumber(_) => {
                "a duration"
            }
            Token::Date(_) => "a date",
            Token::DateTime(_) | Token::ZonelessTime(_) => "a time",
            Token::Quoted(_) => "a text",
            Token::AmpAmp => "`&&`",
            Token::PipePipe => "`||`",
            Token::Bang => "`!`",
            Token::MisquotedText(_) => "a text",
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

/// `1h 30m` and `2026-03-02 09:00`: a literal written as two words on one line, which no construct has. The two
/// tokens become one (the duration it means; a stand-in time), and the mistake is reported once, with the fix.
fn join_split_literal<'src>(
    out: &mut Lexed<'src>,
    text: &'src str,
    token: Token<'src>,
    span: Span,
    at: impl Fn(Span) -> FileSpan,
) -> Option<Diagnostic> {
    let &(previous, previous_span) = out.tokens.last()?;
    if !matches!(
        (previous, token),
        (Token::Duration(_), Token::Duration(_)) | (Token::Date(_), Token::Clock(_))
    ) {
        return None;
    }
    let gap = text.get(previous_span.end..span.start as usize)?;
    if gap.is_empty() || !gap.chars().all(|c| c == ' ' || c == '\t') {
        return None;
    }
    let whole = Span::new(previous_span.start, span.end as usize);
    let (replacement, message, joined) = match (previous, token) {
        (Token::Duration(first), Token::Duration(second))
            if crate::literal::duration_seconds(&format!("{first}{second}")).is_ok() =>
        {
            (
                Token::Duration(text.get(whole.range())?),
                format!("`{first} {second}` is one duration, written as one word"),
                format!("{first}{second}"),
            )
        }
        (Token::Date(date), Token::Clock(clock)) => (
            Token::DateTime("1970-01-01T00:00Z"),
            format!("`{date} {clock}` is one time, written as one word with its zone"),
            format!("{date}T{clock}Z"),
        ),
        _ => return None,
    };
    if let Some(last) = out.tokens.last_mut() {
        *last = (replacement, simple(whole));
    }
    Some(
        Diagnostic::new(Code::InvalidLiteral, at(whole), message)
            .with_label("two words")
            .with_help(format!("write `{joined}`"))
            .with_suggestion(at(whole), joined.clone(), format!("write `{joined}`")),
    )
}

/// What to do about characters the language does not have, by what they were probably meant to be.
fn character_help(shown: &str) -> String {
    let first = shown.chars().next().unwrap_or(' ');
    if shown.starts_with("&&") || first == '&' {
        "write `and`: `if a and b`".to_string()
    } else if first == '!' {
        "write `not`: `if not done` (and `!=` for \"not equal\")".to_string()
    } else if matches!(
        first,
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{2018}' | '\u{2019}' | '\u{ab}' | '\u{bb}'
    ) {
        "texts use straight double quotes: `\"…\"` (an editor's \"smart quotes\" may have changed them)".to_string()
    } else if first == '\'' {
        "texts are written in double quotes: `\"…\"`".to_string()
    } else if first.is_whitespace() {
        "an unusual space (such as a non-breaking space): replace it with a normal space"
            .to_string()
    } else if first == '#' {
        "comments start with `//`".to_string()
    } else if first == ';' {
        "statements end at the end of the line: remove it".to_string()
    } else {
        "remove it, or put it inside a text literal in quotes".to_string()
    }
}

/// A scanned text literal: its source (quotes included) and whether it has its closing quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Scanned<'src> {
    /// The literal's source, from its opening quote.
    pub raw: &'src str,
    /// Whether it ends with its closing quote (on the same line).
    pub closed: bool,
}

/// Skips to the end of the line (a comment's text).
fn rest_of_line<'src>(lex: &mut logos::Lexer<'src, Token<'src>>) {
    let rest = lex.remainder();
    lex.bump(rest.find('\n').unwrap_or(rest.len()));
}

/// Scans a text literal after its opening quote, to its closing quote or the end of the line: `\x` escapes
/// any character, and a `{name ?? "default"}` group may hold quotes.
fn scan_text<'src>(lex: &mut logos::Lexer<'src, Token<'src>>) -> Scanned<'src> {
    let rest = lex.remainder();
    let bytes = rest.as_bytes();
    let mut i = 0;
    let mut closed = false;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\n' => break,
            b'"' => {
                i += 1;
                closed = true;
                break;
            }
            // The escaped character may be wider than a byte: its other bytes are never ASCII, so the loop
            // passes over them like any other.
            b'\\' => match bytes.get(i + 1) {
                Some(&next) if next != b'\n' => i += 2,
                _ => break,
            },
            b'{' => i += default_group(rest.get(i..).unwrap_or("")).unwrap_or(1),
            _ => i += 1,
        }
    }
    lex.bump(i.min(rest.len()));
    Scanned {
        raw: lex.slice(),
        closed,
    }
}

/// `{name ?? "default"}` at the start of `s`: its length, if it is one (up to the first quote after the `{` there
/// is no `}` or line end, and `??` comes right before that quote, then a text, then the `}`).
fn default_group(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let quote = bytes
        .iter()
        .skip(1)
        .position(|&b| matches!(b, b'}' | b'"' | b'\n'))?
        + 1;
    if bytes.get(quote) != Some(&b'"') {
        return None;
    }
    let before = s.get(1..quote)?.trim_end_matches([' ', '\t']);
    if !before.ends_with("??") {
        return None;
    }
    let close = bytes
        .iter()
        .skip(quote + 1)
        .position(|&b| matches!(b, b'"' | b'\n'))?
        + quote
        + 1;
    if bytes.get(close) != Some(&b'"') {
        return None;
    }
    let mut end = close + 1;
    while matches!(bytes.get(end), Some(b' ' | b'\t')) {
        end += 1;
    }
    (bytes.get(end) == Some(&b'}')).then_some(end + 1)
}

/// A text in the wrong quotes, to `close` on the same line (no straight double quote inside).
fn misquoted<'src>(lex: &mut logos::Lexer<'src, Token<'src>>, close: char) -> Option<&'src str> {
    let rest = lex.remainder();
    let end = rest.find([close, '"', '\n', '\u{201c}'])?;
    if !rest.get(end..)?.starts_with(close) {
        return None;
    }
    lex.bump(end + close.len_utf8());
    Some(lex.slice())
}

/// Skips a `/* … */` comment to its end (or the end of the file).
fn block_comment<'src>(lex: &mut logos::Lexer<'src, Token<'src>>) {
    let rest = lex.remainder();
    let len = rest.find("*/").map_or(rest.len(), |end| end + 2);
    lex.bump(len);
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
        // Quotes are shown as they are; invisible characters by their code (`\u{a0}`).
        let visible: String = shown
            .chars()
            .map(|c| match c {
                '\'' | '"' => c.to_string(),
                c => c.escape_debug().to_string(),
            })
            .collect();
        Diagnostic::new(
            Code::InvalidCharacter,
            at(span),
            format!("unexpected character `{visible}`"),
        )
        .with_label("not part of the language")
        .with_help(character_help(&shown))
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
            Token::BlockComment => {
                out.trivia.push(Trivia {
                    kind: TriviaKind::Comment,
                    span,
                });
                push_error(
                    &mut out,
                    Diagnostic::new(
                        Code::InvalidCharacter,
                        at(Span {
                            start: span.start,
                            end: span.start + 2,
                        }),
                        "block comments (`/* … */`) are not part of the language",
                    )
                    .with_label("comment starts here")
                    .with_help("start each line of the comment with `//`"),
                );
            }
            Token::AmpAmp | Token::PipePipe | Token::Bang => {
                let (written, word, meant) = match token {
                    Token::AmpAmp => ("&&", "and", Token::And),
                    Token::PipePipe => ("||", "or", Token::Or),
                    _ => ("!", "not", Token::Not),
                };
                push_error(
                    &mut out,
                    Diagnostic::new(
                        Code::InvalidCharacter,
                        at(span),
                        format!("`{written}` is written `{word}` here"),
                    )
                    .with_label(format!("write `{word}`"))
                    .with_help(format!(
                        "conditions are combined with `and`, `or` and `not`: write `{word}`"
                    ))
                    .with_suggestion(at(span), word, format!("write `{word}`")),
                );
                flush_doc(&mut out, &mut pending_doc, span.start);
                out.tokens.push((meant, simple(span)));
            }
            Token::MisquotedText(written) => {
                let inner: String = written.chars().skip(1).collect();
                let inner: String = inner
                    .chars()
                    .take(inner.chars().count().saturating_sub(1))
                    .collect();
                let straight = format!("\"{inner}\"");
                let curly = !written.starts_with('\'');
                push_error(
                    &mut out,
                    Diagnostic::new(
                        Code::InvalidCharacter,
                        at(span),
                        if curly {
                            "this text is in curly quotes"
                        } else {
                            "this text is in single quotes"
                        },
                    )
                    .with_label("not `\"`")
                    .with_help(if curly {
                        "texts use straight double quotes `\"…\"` (an editor's \"smart quotes\" may have changed them)"
                    } else {
                        "texts are written in double quotes: `\"…\"`"
                    })
                    .with_suggestion(at(span), straight, "use straight double quotes"),
                );
                flush_doc(&mut out, &mut pending_doc, span.start);
                // Stands in for the text, so the rest of the line parses.
                out.tokens.push((Token::Text("\"\""), simple(span)));
            }
            Token::FractionalDuration(written) => {
                let mut diagnostic = Diagnostic::new(
                    Code::InvalidLiteral,
                    at(span),
                    format!("`{written}`: a duration is a whole number of each unit"),
                )
                .with_label("a fraction");
                diagnostic = match crate::literal::whole_units(written) {
                    Some(whole) => diagnostic
                        .with_help(format!("write `{whole}`"))
                        .with_suggestion(at(span), whole.clone(), format!("write `{whole}`")),
                    None => {
                        diagnostic.with_help("write whole units, largest first, such as `1h30m`")
                    }
                };
                push_error(&mut out, diagnostic);
                flush_doc(&mut out, &mut pending_doc, span.start);
                // Stands in for the duration, so the rest of the line parses.
                out.tokens.push((Token::Duration("0s"), simple(span)));
            }
            Token::MalformedNumber(written) => {
                let mut diagnostic = Diagnostic::new(
                    Code::InvalidLiteral,
                    at(span),
                    format!("`{written}` is neither a number nor a duration"),
                )
                .with_label("unknown unit");
                diagnostic = match crate::literal::duration_from_words(written) {
                    Some(duration) => diagnostic
                        .with_help(format!(
                            "durations are one word with a one-letter unit (`s`, `m`, `h`, `d`, `w`): `{duration}`"
                        ))
                        .with_suggestion(at(span), duration.clone(), format!("write `{duration}`")),
                    None => diagnostic.with_help(
                        "a duration is whole numbers with the units `w`, `d`, `h`, `m` and `s`, largest first, such \
                         as `4h` or `1h30m`; a number has digits only",
                    ),
                };
                push_error(&mut out, diagnostic);
                flush_doc(&mut out, &mut pending_doc, span.start);
                // Stands in for the duration, so the rest of the line parses.
                out.tokens.push((Token::Duration("0s"), simple(span)));
            }
            Token::ZonelessTime(written) => {
                let with_zone = format!("{written}Z");
                push_error(
                    &mut out,
                    Diagnostic::new(
                        Code::InvalidLiteral,
                        at(span),
                        format!("`{written}` has no time zone"),
                    )
                    .with_label("which zone?")
                    .with_help(format!(
                        "times are written with their offset from UTC: `{with_zone}` for UTC, or `{written}+01:00`"
                    ))
                    .with_suggestion(at(span), with_zone, "read it as UTC"),
                );
                flush_doc(&mut out, &mut pending_doc, span.start);
                out.tokens
                    .push((Token::DateTime("1970-01-01T00:00Z"), simple(span)));
            }
            Token::Quoted(Scanned { raw, closed: true }) => {
                flush_doc(&mut out, &mut pending_doc, span.start);
                out.tokens.push((Token::Text(raw), simple(span)));
            }
            Token::Quoted(Scanned { raw: body, .. }) | Token::UnterminatedText(body) => {
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
            // `} elif c {`: Proc's `else if`, read as such after the one report.
            Token::Ident(word @ ("elif" | "elsif" | "elseif"))
                if matches!(out.tokens.last(), Some((Token::RBrace, _))) =>
            {
                push_error(
                    &mut out,
                    Diagnostic::new(
                        Code::Syntax,
                        at(span),
                        format!("`{word}` is written `else if` here"),
                    )
                    .with_label("write `else if`")
                    .with_help(
                        "a further condition after an `if` block is `else if condition { … }`",
                    )
                    .with_suggestion(at(span), "else if", "write `else if`"),
                );
                out.tokens.push((Token::Else, simple(span)));
                out.tokens.push((Token::If, simple(span)));
            }
            token => {
                if let Some(diagnostic) = join_split_literal(&mut out, text, token, span, at) {
                    push_error(&mut out, diagnostic);
                    continue;
                }
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
