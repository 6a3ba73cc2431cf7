//! The formatter's invariants, checked over every `.proc` file of the repository (examples, the standard library
//! and the test corpus) and over randomly changed examples: formatting is idempotent, keeps the syntax tree
//! (spans aside) and the documentation of every definition, and loses no comment. Files in
//! `tests/corpus/format/` also have their expected output beside them (`NAME.formatted`; bless with
//! `PROC_BLESS=1` after reading the difference).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use proc_compiler::format::format;
use proc_compiler::{FileId, SourceFile, analyze, lexer, parser};
use proc_tests::{fixture_files, repo_root};
use proptest::prelude::*;
use std::path::PathBuf;

/// The syntax tree's debug form with every span erased.
fn tree_without_spans(text: &str) -> String {
    let lexed = lexer::lex(FileId(0), text);
    let (tree, _) = parser::parse(FileId(0), text.len(), &lexed);
    let debug = format!("{tree:?}");
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(at) = rest.find("Span { start: ") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let end = after.find(" }").map_or(after.len(), |e| e + 2);
        out.push_str("Span");
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Every comment's text, trimmed, sorted.
fn comments(text: &str) -> Vec<String> {
    let lexed = lexer::lex(FileId(0), text);
    let mut found: Vec<String> = lexed
        .trivia
        .iter()
        .map(|t| text[t.span.range()].trim_end().to_string())
        .collect();
    found.sort();
    found
}

/// Each definition with its documentation, in order.
fn documentation(text: &str) -> Vec<(String, String, Option<String>)> {
    let analysis = analyze(vec![SourceFile::new("t.proc", "t", text)]);
    analysis
        .defs
        .iter()
        .filter(|d| d.file == FileId(0))
        .map(|d| {
            (
                d.kind.word().to_string(),
                d.name.clone(),
                d.docs.as_ref().map(|docs| {
                    docs.lines()
                        .map(str::trim_end)
                        .collect::<Vec<_>>()
                        .join("\n")
                }),
            )
        })
        .collect()
}

/// Checks every invariant for one text that parses cleanly; returns the formatted text.
fn check_invariants(name: &str, text: &str) -> String {
    let source = SourceFile::new(name, "t", text);
    let formatted = match format(&source) {
        Ok(formatted) => formatted,
        Err(errors) => panic!("{name}: not formatted: {errors:#?}"),
    };
    let again = match format(&SourceFile::new(name, "t", &formatted)) {
        Ok(again) => again,
        Err(errors) => panic!(
            "{name}: the formatted text does not parse: {errors:#?}\n--- input:\n{text}\n--- formatted:\n{formatted}"
        ),
    };
    assert_eq!(
        again, formatted,
        "{name}: formatting is not idempotent\n--- once:\n{formatted}\n--- twice:\n{again}"
    );
    assert_eq!(
        tree_without_spans(&formatted),
        tree_without_spans(text),
        "{name}: the syntax tree changed\n{formatted}"
    );
    assert_eq!(
        comments(&formatted),
        comments(text),
        "{name}: comments changed\n{formatted}"
    );
    assert_eq!(
        documentation(&formatted),
        documentation(text),
        "{name}: documentation changed\n{formatted}"
    );
    formatted
}

fn all_proc_files() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["examples", "std", "tests/corpus"] {
        files.extend(
            fixture_files(&root.join(dir))
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "proc")),
        );
    }
    files
}

#[test]
fn every_file_that_parses_keeps_its_meaning_comments_and_docs() {
    let (mut formatted, mut refused) = (0, Vec::new());
    for path in all_proc_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.display().to_string();
        if format(&SourceFile::new(&name, "t", &text)).is_err() {
            refused.push(name);
            continue;
        }
        check_invariants(&name, &text);
        formatted += 1;
    }
    assert!(formatted >= 40, "only {formatted} files formatted");
    // Only files that are broken on purpose (syntax-error cases) may be refused.
    for name in &refused {
        assert!(
            name.contains("recovery") || name.contains("codes"),
            "{name} was refused"
        );
    }
}

#[test]
fn examples_and_std_are_formatted() {
    let root = repo_root();
    for dir in ["examples", "std"] {
        for path in fixture_files(&root.join(dir)) {
            let text = std::fs::read_to_string(&path).unwrap();
            let formatted = format(&SourceFile::new("t.proc", "t", &text)).unwrap();
            assert!(
                formatted == text,
                "{} is not formatted; run `procc fmt {}`",
                path.display(),
                path.display()
            );
        }
    }
}

#[test]
fn expected_layouts() {
    let dir = repo_root().join("tests/corpus/format");
    let bless = std::env::var_os("PROC_BLESS").is_some();
    let mut checked = 0;
    for path in fixture_files(&dir) {
        if path.extension().is_none_or(|e| e != "proc") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let formatted = check_invariants(&path.display().to_string(), &text);
        let expected_path = path.with_extension("formatted");
        if bless {
            std::fs::write(&expected_path, &formatted).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
            panic!(
                "{} is missing (bless with PROC_BLESS=1)",
                expected_path.display()
            )
        });
        assert!(
            formatted == expected,
            "{}: the formatter printed\n{formatted}\n(bless with PROC_BLESS=1 after checking)",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 1);
}

#[test]
fn files_keep_their_line_endings() {
    for text in examples() {
        let canonical = format(&SourceFile::new("t.proc", "t", &text)).unwrap();
        assert!(!canonical.contains('\r'));
        // A Windows file stays one: every line of the formatted file ends with `\r\n`, none with a bare `\n`.
        let windows = text.replace('\n', "\r\n");
        let formatted = format(&SourceFile::new("t.proc", "t", &windows)).unwrap();
        assert_eq!(formatted, canonical.replace('\n', "\r\n"));
        assert!(proc_compiler::format::is_formatted(&SourceFile::new(
            "t.proc", "t", &formatted
        )));
        // The first line decides for a file whose line endings are mixed.
        let mixed = windows.replacen("\r\n", "\n", 3).replacen('\n', "\r\n", 1);
        let formatted = format(&SourceFile::new("t.proc", "t", &mixed)).unwrap();
        assert_eq!(formatted, canonical.replace('\n', "\r\n"));
        let mixed = text.replacen('\n', "\r\n", 2).replacen("\r\n", "\n", 1);
        assert_eq!(
            format(&SourceFile::new("t.proc", "t", &mixed)).unwrap(),
            canonical
        );
    }
}

#[test]
fn the_language_server_formats_a_windows_file_with_the_edits_it_needs() {
    let windows = "role Agent\r\n\r\nprocess p() {\r\n    step a \"Do it\" { by Agent }\r\n}\r\n";
    let edits = proc_lsp::navigation::formatting(&SourceFile::new("t.proc", "t", windows)).unwrap();
    let edited: Vec<(u32, String)> = edits
        .iter()
        .map(|e| (e.range.start.line, e.new_text.clone()))
        .collect();
    assert_eq!(
        edited,
        [(
            3,
            "  step a \"Do it\" {\r\n    by Agent\r\n  }\r\n".to_string()
        )],
        "only the step's line changes"
    );
}

#[test]
fn arbitrary_bytes_never_crash_the_formatter() {
    for path in all_proc_files() {
        let bytes = std::fs::read(&path).unwrap();
        // Every prefix cut at a multiple of 7 bytes: mostly broken files, some clean.
        for end in (0..bytes.len()).step_by(7) {
            let source = SourceFile::from_bytes("t.proc", "t", &bytes[..end]);
            if let Ok(formatted) = format(&source) {
                check_invariants("prefix", &source.text);
                assert!(formatted.is_empty() || formatted.ends_with('\n'));
            }
        }
    }
}

fn examples() -> Vec<String> {
    let mut texts: Vec<String> = fixture_files(&repo_root().join("examples"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "proc"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    texts.sort();
    texts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Layout changes (spaces, newlines and comments inserted between tokens) never change the formatted
    /// result beyond the comments, and every invariant holds for what still parses.
    #[test]
    fn relaid_examples_format_to_the_same_text(
        which in 0usize..7,
        edits in proptest::collection::vec((0usize..100_000, 0usize..4), 1..12),
    ) {
        let texts = examples();
        let text = &texts[which % texts.len()];
        let canonical = format(&SourceFile::new("t.proc", "t", text)).unwrap();
        let lexed = lexer::lex(FileId(0), text);
        let boundaries: Vec<usize> = lexed.tokens.iter().map(|(_, span)| span.start).collect();
        let mut chosen: Vec<(usize, usize)> = edits
            .iter()
            .map(|&(at, kind)| (boundaries[at % boundaries.len()], kind))
            .collect();
        chosen.sort();
        chosen.dedup_by_key(|(at, _)| *at);
        let mut changed = text.clone();
        let mut only_spaces = true;
        for &(at, kind) in chosen.iter().rev() {
            let insert = match kind {
                0 => " ",
                1 => "\n",
                2 => "\t  ",
                _ => {
                    only_spaces = false;
                    "// inserted\n"
                }
            };
            changed.insert_str(at, insert);
        }
        let result = format(&SourceFile::new("t.proc", "t", &changed));
        let Ok(formatted) = result else {
            return Err(TestCaseError::fail("a layout change broke the parse"));
        };
        check_invariants("relaid", &changed);
        if only_spaces {
            // Newlines may add blank lines the author asked for; compare without blank lines.
            let squeeze = |s: &str| s.lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("\n");
            prop_assert_eq!(squeeze(&formatted), squeeze(&canonical));
        }
    }

    /// Tokens swapped for other tokens of the same file: whatever still parses keeps every invariant.
    #[test]
    fn changed_tokens_keep_the_invariants(
        which in 0usize..7,
        swaps in proptest::collection::vec((0usize..100_000, 0usize..100_000), 1..6),
    ) {
        let texts = examples();
        let text = &texts[which % texts.len()];
        let lexed = lexer::lex(FileId(0), text);
        let spans: Vec<(usize, usize)> = lexed.tokens.iter().map(|(_, s)| (s.start, s.end)).collect();
        let mut pieces: Vec<(usize, usize, String)> = swaps
            .iter()
            .map(|&(target, source)| {
                let (start, end) = spans[target % spans.len()];
                let (from, to) = spans[source % spans.len()];
                (start, end, text[from..to].to_string())
            })
            .collect();
        pieces.sort_by_key(|p| p.0);
        pieces.dedup_by_key(|p| p.0);
        let mut changed = text.clone();
        for (start, end, replacement) in pieces.iter().rev() {
            changed.replace_range(*start..*end, &format!(" {replacement} "));
        }
        if format(&SourceFile::new("t.proc", "t", &changed)).is_ok() {
            check_invariants("changed", &changed);
        }
    }
}
