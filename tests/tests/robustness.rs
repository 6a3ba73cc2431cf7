//! Bad input never crashes the front end: arbitrary bytes, mutated examples, deep nesting and huge files all give
//! diagnostics (or nothing), never a panic or a stack overflow. These run on the default 2 MiB test threads.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]

use proc_compiler::{Code, SourceFile, analyze, doc, graph, render};
use proc_tests::{fixture_files, repo_root};
use proptest::prelude::*;

fn analyze_bytes(bytes: &[u8]) -> proc_compiler::Analysis {
    analyze(vec![SourceFile::from_bytes("fuzz.proc", "fuzz", bytes)])
}

/// The flowcharts and the manual of whatever the analysis holds (broken trees included) in every format: none of
/// them may panic, and the SVG and HTML stay well-formed.
fn draw_and_document(analysis: &proc_compiler::Analysis) {
    for chart in graph::flowcharts(analysis) {
        let _ = graph::to_mermaid(&chart);
        let _ = graph::to_dot(&chart);
        let svg = graph::to_svg(&chart);
        assert!(
            roxmltree::Document::parse(&svg).is_ok(),
            "malformed SVG:\n{svg}"
        );
    }
    let manual = doc::manual(analysis, "fuzz");
    let _ = doc::to_markdown(&manual);
    let html = doc::to_html(&manual);
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    assert!(
        roxmltree::Document::parse_with_options(&html, options).is_ok(),
        "malformed HTML:\n{html}"
    );
}

/// Every diagnostic in every form a person or a tool reads: none of them may panic (ariadne slices the text at a
/// diagnostic's ends).
fn render_all(analysis: &proc_compiler::Analysis) {
    let diagnostics: Vec<_> = analysis.diagnostics.clone();
    let _ = render::human(&analysis.files, &diagnostics, false);
    let _ = render::human(&analysis.files, &diagnostics, true);
    let _ = render::short(&analysis.files, &diagnostics);
    for diagnostic in &diagnostics {
        let _ = render::json(&analysis.files, diagnostic);
    }
}

fn codes(text: &str) -> Vec<Code> {
    analyze(vec![SourceFile::new("t.proc", "t", text)])
        .package_diagnostics()
        .map(|d| d.code)
        .collect()
}

fn example_texts() -> Vec<Vec<u8>> {
    fixture_files(&repo_root().join("examples"))
        .iter()
        .map(|path| std::fs::read(path).expect("example readable"))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let analysis = analyze_bytes(&bytes);
        for diagnostic in analysis.package_diagnostics() {
            let len = analysis.files[0].text.len() as u32;
            prop_assert!(diagnostic.at.span.start <= len.max(1));
        }
        render_all(&analysis);
    }

    #[test]
    fn arbitrary_token_soup_never_panics(words in proptest::collection::vec(prop_oneof![
        Just("role"), Just("procedure"), Just("process"), Just("step"), Just("{"), Just("}"), Just("("), Just(")"),
        Just("by"), Just("within"), Just("4h"), Just("Agent"), Just("x"), Just(":"), Just("->"), Just("\"t {x}\""),
        Just("match"), Just("=>"), Just("if"), Just("else"), Just("parallel"), Just("branch"), Just("let"), Just("="),
        Just("."), Just(","), Just("on"), Just("breach"), Just("every"), Just("max"), Just("test"), Just("expect"),
        Just("use"), Just("std"), Just("*"), Just("+"), Just("not"), Just("2026-01-01T00:00Z"), Just("record"),
    ], 0..200)) {
        let text = words.join(" ");
        let analysis = analyze_bytes(text.as_bytes());
        draw_and_document(&analysis);
    }

    #[test]
    fn mutated_examples_never_panic(
        which in 0usize..64,
        edits in proptest::collection::vec((any::<u32>(), any::<u8>(), 0u8..3), 1..12),
    ) {
        let examples = example_texts();
        prop_assume!(!examples.is_empty());
        let mut bytes = examples[which % examples.len()].clone();
        for (position, byte, kind) in edits {
            let at = position as usize % (bytes.len() + 1);
            match kind {
                0 => bytes.insert(at, byte),
                1 if at < bytes.len() => { bytes.remove(at); }
                _ if at < bytes.len() => bytes[at] = byte,
                _ => bytes.push(byte),
            }
        }
        let analysis = analyze_bytes(&bytes);
        draw_and_document(&analysis);
        render_all(&analysis);
    }
}

/// A file saved in Latin-1 (`£` as one byte) gives one located `P0006`, shown on the replaced character.
#[test]
fn a_latin1_byte_is_reported_and_shown() {
    let analysis = analyze_bytes(
        b"/// A.\nrole Agent\n/// P.\nprocess p() {\n  notify Agent \"Refund of \xa350\"\n}\n",
    );
    let found: Vec<Code> = analysis.package_diagnostics().map(|d| d.code).collect();
    assert_eq!(found, vec![Code::NotUtf8]);
    let shown = render::human(&analysis.files, &analysis.diagnostics, false);
    assert!(shown.contains("fuzz.proc:5:27"), "{shown}");
    assert!(shown.contains("invalid byte"), "{shown}");
}

/// A label above the error ("first declared here") is shown in the same excerpt, in line order, under a header
/// that names the error's line: ariadne would otherwise start a second excerpt, headed with the error's line
/// over the other line.
#[test]
fn an_earlier_label_shares_the_excerpt_and_its_header_is_right() {
    let analysis = analyze_bytes(b"/// A.\nrole Agent\n/// B.\nrole Agent\n");
    let duplicate: Vec<_> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::DuplicateDefinition)
        .cloned()
        .collect();
    assert_eq!(duplicate.len(), 1);
    let shown = render::human(&analysis.files, &duplicate, false);
    assert_eq!(shown.matches("fuzz.proc:").count(), 1, "{shown}");
    assert!(shown.contains("fuzz.proc:4:6"), "{shown}");
    let first = shown.find("first declared here").unwrap();
    let again = shown.find("declared again here").unwrap();
    assert!(first < again, "{shown}");
}

/// A label in another file than the error's, after non-ASCII text there: its excerpt's header names its real line
/// and column (ariadne counted each byte as a character: `a.proc:1:45` for 5:8).
#[test]
fn another_files_header_counts_characters() {
    let analysis = analyze(vec![
        SourceFile::new(
            "a.proc",
            "a",
            "// éééééééééééééééééééééééééééééééééééé\n/// A.\nrole Agent\n/// Go.\nsignal Go\n/// P.\nprocess p() {\n  await Go\n}\n",
        ),
        SourceFile::new(
            "b.proc",
            "b",
            "/// Go.\nsignal Go\n/// Q.\nprocess q() {\n  await Go\n}\n",
        ),
    ]);
    let twice: Vec<_> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::DuplicateDefinition)
        .cloned()
        .collect();
    assert_eq!(twice.len(), 1, "{twice:?}");
    let shown = render::human(&analysis.files, &twice, false);
    assert!(shown.contains("[ b.proc:2:8 ]"), "{shown}");
    assert!(shown.contains("[ a.proc:5:8 ]"), "{shown}");
}

/// Thousands of mistakes on one long line: the excerpts show a window of the line around each mistake (headed
/// with its real column), a label outside the window becomes a note, and after 200 diagnostics the rest are
/// counted. Whole lines for every diagnostic made 70 KB of `role A role A …` print 2.8 GB.
#[test]
fn many_mistakes_on_one_long_line_print_little() {
    let analysis = analyze_bytes("role A ".repeat(5000).as_bytes());
    let count = analysis.diagnostics.len();
    assert!(count > 4000, "{count}");
    let shown = render::human(&analysis.files, &analysis.diagnostics, false);
    assert!(shown.len() < 200_000, "{} bytes", shown.len());
    assert!(
        shown.contains(&format!("… and {} more errors not shown", count - 200)),
        "{}",
        &shown[shown.len().saturating_sub(300)..]
    );
    // The 150th duplicate is at column 6 + 7 × 150; the first declaration, far away, is a note.
    assert!(shown.contains("fuzz.proc:1:1056 ]"), "{shown}");
    assert!(shown.contains("first declared here (line 1, column 6)"));
    for line in shown.lines() {
        assert!(line.chars().count() < 600, "{line}");
    }
}

/// A file whose lines end with a carriage return alone is refused, not read as one long comment (which made
/// the program after the first `//` disappear, with no error).
#[test]
fn classic_mac_line_endings_are_refused() {
    let analysis = analyze_bytes(
        b"/// A.\rrole Agent\r/// P.\rprocess p() {\r  step s \"x\" { by Agnt }\r}\r",
    );
    let found: Vec<Code> = analysis.package_diagnostics().map(|d| d.code).collect();
    assert_eq!(found.first(), Some(&Code::InvalidCharacter), "{found:?}");
}

/// A byte order mark, as some Windows editors write, is not a character of the program.
#[test]
fn a_byte_order_mark_is_skipped() {
    let analysis = analyze_bytes(
        "\u{feff}/// A.\nrole Agent\n/// P.\nprocess p() {\n  step s \"Do it\" { by Agent }\n}\n"
            .as_bytes(),
    );
    let found: Vec<Code> = analysis.package_diagnostics().map(|d| d.code).collect();
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn deep_brackets_give_one_diagnostic() {
    for (open, close) in [("(", ")"), ("[", "]"), ("{", "}")] {
        let text = format!(
            "role A\nprocess p() {{ let x = {}1{} }}\n",
            open.repeat(100_000),
            close.repeat(100_000)
        );
        let found = codes(&text);
        assert!(found.contains(&Code::TooDeep), "{open}: {found:?}");
    }
}

/// `List<…>` is read to explain it, and `<` is not a bracket the nesting limit counts: deep nesting of it costs
/// a few diagnostics, not a diagnostic per level (each repeating the whole type) or a deep recursion.
#[test]
fn deep_generic_types_give_few_diagnostics() {
    let text = format!(
        "/// R.\nrecord R {{\n  a: {}Text{}\n  b: Text\n}}\n",
        "List<".repeat(100_000),
        ">".repeat(100_000)
    );
    let found = codes(&text);
    assert!(found.len() <= 3, "{found:?}");
    assert!(found.contains(&Code::Syntax), "{found:?}");
}

#[test]
fn deep_blocks_give_a_diagnostic() {
    let mut text = String::from("role A\nprocess p() {\n");
    for _ in 0..50_000 {
        text.push_str("if true {\n");
    }
    for _ in 0..50_000 {
        text.push_str("}\n");
    }
    text.push_str("}\n");
    assert!(codes(&text).contains(&Code::TooDeep));
}

#[test]
fn long_operator_chains_give_a_diagnostic() {
    let chain = vec!["1"; 200_000].join(" + ");
    let found = codes(&format!("process p() {{ let x = {chain} }}\n"));
    assert_eq!(found, vec![Code::TooDeep]);
    let nots = "not ".repeat(100_000);
    let found = codes(&format!("process p() {{ let x = {nots}true }}\n"));
    assert_eq!(found, vec![Code::TooDeep]);
    let fields = ".a".repeat(100_000);
    let found = codes(&format!("process p(x: Int) {{ let y = x{fields} }}\n"));
    assert_eq!(found, vec![Code::TooDeep]);
}

#[test]
fn nesting_within_the_limit_is_accepted() {
    let depth = proc_compiler::lexer::MAX_DEPTH - 2;
    let text = format!(
        "process p() {{ let _x = {}1{} }}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    assert_eq!(codes(&text), Vec::<Code>::new());
}

#[test]
fn a_ten_megabyte_file_is_checked() {
    let examples = example_texts();
    let unit = examples
        .first()
        .cloned()
        .unwrap_or_else(|| b"role Agent\n".to_vec());
    let mut bytes = Vec::with_capacity(10 * 1024 * 1024 + unit.len());
    while bytes.len() < 10 * 1024 * 1024 {
        bytes.extend_from_slice(&unit);
        bytes.push(b'\n');
    }
    let analysis = analyze_bytes(&bytes);
    // Repeating a file declares everything many times over: duplicates are reported, nothing crashes.
    assert!(
        analysis
            .package_diagnostics()
            .any(|d| d.code == Code::DuplicateDefinition)
    );
}

#[test]
fn binary_input_gives_one_diagnostic() {
    let mut bytes = b"role Agent\n".to_vec();
    bytes.extend((0u8..=255).cycle().take(100_000));
    let analysis = analyze_bytes(&bytes);
    let found: Vec<Code> = analysis.package_diagnostics().map(|d| d.code).collect();
    assert!(found.contains(&Code::InvalidCharacter), "{found:?}");
    assert!(found.len() <= 3, "{found:?}");
}

#[test]
fn blocks_nested_to_the_limit_fit_a_small_thread() {
    let n = proc_compiler::lexer::MAX_DEPTH - 2;
    let text = format!(
        "role A\nprocess p() {{\n{}notify A\n{}}}\n",
        "if true {\n".repeat(n),
        "}\n".repeat(n)
    );
    assert_eq!(codes(&text), Vec::<Code>::new());
    // Drawing and documenting the same program also fits.
    draw_and_document(&analyze(vec![SourceFile::new(
        "t.proc",
        "t",
        text.as_str(),
    )]));
}

/// Lines of tens of thousands of multi-byte characters, in every place a line may hold any character: the lexer
/// scans them without recursing per character (a line of 60 000 emoji in a comment overflowed the stack).
#[test]
fn long_lines_of_wide_characters_are_lexed() {
    let emoji = "😀".repeat(100_000);
    let cjk = "你".repeat(100_000);
    let texts = [
        format!("// {emoji}\nrole A\n"),
        format!("/// {cjk}\nrole A\n"),
        format!("role A\nprocess p() {{ step s \"{emoji}\" {{ by A }} }}\n"),
        format!("role A\nprocess p() {{ step s \"{cjk}\n"),
        format!("role A\nprocess p() {{ step s \u{201c}{cjk}\u{201d} {{ by A }} }}\n"),
        format!("role A\nprocess p() {{ step s '{emoji}' {{ by A }} }}\n"),
        format!("role A\n/* {emoji} */\n"),
    ];
    for (i, text) in texts.iter().enumerate() {
        let analysis = analyze_bytes(text.as_bytes());
        let found: Vec<Code> = analysis.package_diagnostics().map(|d| d.code).collect();
        assert!(found.len() <= 2, "text {i}: {found:?}");
    }
}
