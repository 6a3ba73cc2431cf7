//! The language server driven over its real stdio transport (`procc lsp`), as an editor drives it.
//!
//! Request tests are data: each `tests/lsp/NAME.proc` says on its first line which request to make
//! (`// lsp: hover`), holds one or more files (`//- path.proc` starts another), and marks the cursor with `$0`.
//! The answer is drawn under the source and compared with `NAME.expected`; `PROC_BLESS=1` rewrites those.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests fail loudly"
)]

mod common;

use common::{root, start_server, temp_dir, uri};
use proc_lsp::client::{Client, position};
use proc_lsp::convert;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A fixture: its files (path, text without the marker) and the cursor.
struct Fixture {
    request: String,
    files: Vec<(String, String)>,
    cursor_file: usize,
    cursor: usize,
}

fn parse_fixture(text: &str) -> Fixture {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let request = first
        .strip_prefix("// lsp:")
        .expect("a fixture starts with `// lsp: REQUEST`")
        .trim()
        .to_string();
    let mut files: Vec<(String, String)> = Vec::new();
    let mut current = ("main.proc".to_string(), String::new());
    for line in rest.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("//- ") {
            if !current.1.is_empty() || !files.is_empty() {
                files.push(std::mem::take(&mut current));
            }
            current.0 = name.trim().to_string();
        } else {
            current.1.push_str(line);
        }
    }
    files.push(current);
    let mut cursor = None;
    for (index, (_, text)) in files.iter_mut().enumerate() {
        if let Some(at) = text.find("$0") {
            text.replace_range(at..at + 2, "");
            cursor = Some((index, at));
        }
    }
    let (cursor_file, cursor) = cursor.unwrap_or((0, 0));
    Fixture {
        request,
        files,
        cursor_file,
        cursor,
    }
}

/// The byte offset of an LSP position given as JSON.
fn offset(text: &str, position: &Value) -> usize {
    convert::text_offset(text, serde_json::from_value(position.clone()).unwrap())
}

/// Draws labelled ranges under the source lines they cover.
fn draw(text: &str, marks: &[(Value, String)]) -> String {
    let mut out = String::new();
    let mut starts = Vec::new();
    for mark in marks {
        let start = offset(text, &mark.0["start"]);
        let end = offset(text, &mark.0["end"]);
        starts.push((start, end, &mark.1));
    }
    let mut line_start = 0;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let line_end = line_start + line.len();
        let _ = writeln!(
            out,
            "{:>3} | {}",
            number + 1,
            line.trim_end_matches(['\n', '\r'])
        );
        for (start, end, label) in &starts {
            if *start >= line_start
                && (*start < line_end || (*start == line_end && line_end == text.len()))
            {
                let column = text[line_start..*start].chars().count();
                let width = text[*start..(*end).min(line_end)]
                    .trim_end_matches('\n')
                    .chars()
                    .count()
                    .max(1);
                let _ = writeln!(
                    out,
                    "    | {}{} {}",
                    " ".repeat(column),
                    "^".repeat(width),
                    label.replace('\n', "\n    |   ")
                );
            }
        }
        line_start = line_end;
    }
    out
}

/// Applies `TextEdit`s to a text.
fn apply(text: &str, edits: &[Value]) -> String {
    let mut edits: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|edit| {
            (
                offset(text, &edit["range"]["start"]),
                offset(text, &edit["range"]["end"]),
                edit["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    edits.sort_by_key(|(start, _, _)| std::cmp::Reverse(*start));
    let mut out = text.to_string();
    for (start, end, new_text) in edits {
        out.replace_range(start..end, &new_text);
    }
    out
}

fn run_case(path: &Path) -> String {
    let fixture = parse_fixture(&std::fs::read_to_string(path).unwrap());
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    let dir = temp_dir(&format!("lsp-{name}"));
    for (file, text) in &fixture.files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let mut client = start_server(&["lsp", "--stdio"], &[]);
    client.initialize(&uri(&dir)).unwrap();
    let (file, text) = &fixture.files[fixture.cursor_file];
    let file_uri = uri(&dir.join(file));
    client.open(&file_uri, text).unwrap();
    let diagnostics = client.diagnostics(&file_uri, Some(1)).unwrap();
    let at = json!({"textDocument": {"uri": file_uri}, "position": position(text, fixture.cursor)});
    let (request, argument) = fixture
        .request
        .split_once(' ')
        .map_or((fixture.request.as_str(), ""), |(r, a)| (r, a.trim()));
    let files_by_uri = |target: &str| -> Option<(String, String)> {
        fixture.files.iter().find_map(|(name, text)| {
            (uri(&dir.join(name)) == target).then(|| (name.clone(), text.clone()))
        })
    };
    let mut out = String::new();
    let answer = |client: &mut Client, method: &str, params: Value| -> Value {
        match client.request(method, params).unwrap() {
            Ok(result) => result,
            Err(error) => json!({"error": error["message"]}),
        }
    };
    match request {
        "diagnostics" => {
            let marks: Vec<(Value, String)> = diagnostics
                .iter()
                .map(|d| {
                    let severity = if d["severity"] == 1 {
                        "error"
                    } else {
                        "warning"
                    };
                    let mut label = format!(
                        "{severity}[{}]: {}",
                        d["code"].as_str().unwrap_or(""),
                        d["message"].as_str().unwrap_or("")
                    );
                    if let Some(link) = d["codeDescription"]["href"].as_str() {
                        // A file in the user's cache directory: its name is what is the same everywhere.
                        let path = link
                            .strip_prefix("file://")
                            .expect("explanations are local files");
                        assert!(
                            std::fs::read_to_string(path).is_ok_and(|text| text.starts_with("# P")),
                            "{link} is not an explanation"
                        );
                        let name = link.rsplit('/').next().unwrap_or(link);
                        let _ = write!(label, "\n(explanation: {name})");
                    }
                    for related in d["relatedInformation"].as_array().into_iter().flatten() {
                        let _ = write!(
                            label,
                            "\nrelated: {} at {}",
                            related["message"].as_str().unwrap_or(""),
                            related["location"]["range"]["start"]
                        );
                    }
                    (d["range"].clone(), label)
                })
                .collect();
            out.push_str(&draw(text, &marks));
        }
        "hover" => {
            let result = answer(&mut client, "textDocument/hover", at);
            if result.is_null() {
                out.push_str("no hover\n");
            } else {
                let contents = result["contents"]["value"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                out.push_str(&draw(
                    text,
                    &[(result["range"].clone(), "hover".to_string())],
                ));
                out.push_str("---\n");
                out.push_str(&contents);
                out.push('\n');
            }
        }
        "definition" | "references" | "highlight" => {
            let (method, params) = match request {
                "definition" => ("textDocument/definition", at),
                "references" => {
                    let mut params = at;
                    params["context"] = json!({"includeDeclaration": true});
                    ("textDocument/references", params)
                }
                _ => ("textDocument/documentHighlight", at),
            };
            let result = answer(&mut client, method, params);
            let locations: Vec<Value> = match &result {
                Value::Array(list) => list.clone(),
                Value::Null => Vec::new(),
                other => vec![other.clone()],
            };
            for (name, file_text) in &fixture.files {
                let target = uri(&dir.join(name));
                let marks: Vec<(Value, String)> = locations
                    .iter()
                    .filter(|l| l["uri"].as_str().is_none_or(|u| u == target))
                    .filter(|l| l["uri"].is_string() || target == file_uri)
                    .map(|l| {
                        let label = match l["kind"].as_u64() {
                            Some(3) => "write",
                            Some(2) => "read",
                            _ => request,
                        };
                        (l["range"].clone(), label.to_string())
                    })
                    .collect();
                if !marks.is_empty() {
                    let _ = writeln!(out, "//- {name}");
                    out.push_str(&draw(file_text, &marks));
                }
            }
            let elsewhere: Vec<&str> = locations
                .iter()
                .filter_map(|l| l["uri"].as_str())
                .filter(|u| files_by_uri(u).is_none())
                .collect();
            for target in elsewhere {
                let file = target.rsplit('/').next().unwrap_or(target);
                let _ = writeln!(out, "outside the fixture: {file}");
            }
            if locations.is_empty() {
                let _ = writeln!(out, "nothing found {result}");
            }
        }
        "rename" | "prepare_rename" => {
            let prepared = answer(&mut client, "textDocument/prepareRename", at.clone());
            let _ = writeln!(out, "prepare: {prepared}");
            if request == "rename" {
                let mut params = at;
                params["newName"] = json!(argument);
                let result = answer(&mut client, "textDocument/rename", params);
                if let Some(changes) = result["changes"].as_object() {
                    let mut targets: Vec<_> = changes.iter().collect();
                    targets.sort_by_key(|(u, _)| (*u).clone());
                    for (target, edits) in targets {
                        let (name, file_text) = files_by_uri(target).unwrap();
                        let _ = writeln!(out, "//- {name}");
                        out.push_str(&apply(&file_text, edits.as_array().unwrap()));
                    }
                } else {
                    let _ = writeln!(out, "rename: {result}");
                }
            }
        }
        "completion" => {
            let result = answer(&mut client, "textDocument/completion", at);
            let mut items: Vec<(String, String)> = result
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|item| {
                    // An item that imports what it names shows the line it adds, and where.
                    let import = item["additionalTextEdits"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|edit| {
                            format!(
                                " + {:?} at {}:{}",
                                edit["newText"].as_str().unwrap_or(""),
                                edit["range"]["start"]["line"],
                                edit["range"]["start"]["character"]
                            )
                        })
                        .collect::<String>();
                    (
                        item["sortText"].as_str().unwrap_or("").to_string(),
                        format!(
                            "{} ({}){import}",
                            item["label"].as_str().unwrap_or(""),
                            item["detail"].as_str().unwrap_or("-")
                        ),
                    )
                })
                .collect();
            items.sort();
            for (_, item) in items {
                let _ = writeln!(out, "{item}");
            }
        }
        "signature_help" => {
            let result = answer(&mut client, "textDocument/signatureHelp", at);
            let signature = &result["signatures"][0];
            let label = signature["label"].as_str().unwrap_or("");
            let active = result["activeParameter"].as_u64().unwrap_or(0) as usize;
            let _ = writeln!(out, "{label}");
            for (index, parameter) in signature["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let range = &parameter["label"];
                let (start, end) = (
                    range[0].as_u64().unwrap() as usize,
                    range[1].as_u64().unwrap() as usize,
                );
                let units: Vec<u16> = label.encode_utf16().collect();
                let name = String::from_utf16_lossy(&units[start..end]);
                let marker = if index == active { "active" } else { "" };
                let _ = writeln!(out, "  parameter {index}: {name} {marker}");
            }
            if result.is_null() {
                let _ = writeln!(out, "no signature help");
            }
        }
        "symbols" => {
            let result = answer(
                &mut client,
                "textDocument/documentSymbol",
                json!({"textDocument": {"uri": file_uri}}),
            );
            fn walk(out: &mut String, text: &str, symbols: &Value, depth: usize) {
                for symbol in symbols.as_array().into_iter().flatten() {
                    let start = offset(text, &symbol["selectionRange"]["start"]);
                    let line = text[..start].matches('\n').count() + 1;
                    let _ = writeln!(
                        out,
                        "{}{} (kind {}) line {line}: {}",
                        "  ".repeat(depth),
                        symbol["name"].as_str().unwrap_or(""),
                        symbol["kind"],
                        symbol["detail"].as_str().unwrap_or("")
                    );
                    walk(out, text, &symbol["children"], depth + 1);
                }
            }
            walk(&mut out, text, &result, 0);
        }
        "workspace_symbols" => {
            let result = answer(&mut client, "workspace/symbol", json!({"query": argument}));
            let mut lines: Vec<String> = result
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| {
                    let target = s["location"]["uri"].as_str().unwrap_or("");
                    let file = files_by_uri(target).map_or("?".to_string(), |(name, _)| name);
                    format!(
                        "{} (kind {}) in {} [{}]",
                        s["name"].as_str().unwrap_or(""),
                        s["kind"],
                        file,
                        s["containerName"].as_str().unwrap_or("")
                    )
                })
                .collect();
            lines.sort();
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
        }
        "semantic_tokens" => {
            let result = answer(
                &mut client,
                "textDocument/semanticTokens/full",
                json!({"textDocument": {"uri": file_uri}}),
            );
            let legend = [
                "class",
                "struct",
                "property",
                "enum",
                "enumMember",
                "event",
                "function",
                "namespace",
                "method",
                "parameter",
                "variable",
            ];
            let data: Vec<u64> = result["data"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v.as_u64().unwrap())
                .collect();
            let (mut line, mut character) = (0u64, 0u64);
            let mut marks = Vec::new();
            for token in data.chunks(5) {
                if token[0] > 0 {
                    line += token[0];
                    character = token[1];
                } else {
                    character += token[1];
                }
                let mut label = legend[token[3] as usize].to_string();
                if token[4] & 1 != 0 {
                    label.push_str(" declaration");
                }
                if token[4] & 2 != 0 {
                    label.push_str(" std");
                }
                marks.push((
                    json!({"start": {"line": line, "character": character}, "end": {"line": line, "character": character + token[2]}}),
                    label,
                ));
            }
            out.push_str(&draw(text, &marks));
        }
        "folding" => {
            let result = answer(
                &mut client,
                "textDocument/foldingRange",
                json!({"textDocument": {"uri": file_uri}}),
            );
            for range in result.as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "lines {}-{} {}",
                    range["startLine"].as_u64().unwrap() + 1,
                    range["endLine"].as_u64().unwrap() + 1,
                    range["kind"].as_str().unwrap_or("region")
                );
            }
        }
        "formatting" => {
            let result = answer(
                &mut client,
                "textDocument/formatting",
                json!({"textDocument": {"uri": file_uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
            );
            match result.as_array() {
                Some(edits) => {
                    let _ = writeln!(out, "{} edits", edits.len());
                    out.push_str(&apply(text, edits));
                }
                None => {
                    let _ = writeln!(out, "not formatted: {result}");
                }
            }
        }
        "code_actions" => {
            let range = json!({"start": position(text, fixture.cursor), "end": position(text, fixture.cursor)});
            let result = answer(
                &mut client,
                "textDocument/codeAction",
                json!({"textDocument": {"uri": file_uri}, "range": range, "context": {"diagnostics": diagnostics}}),
            );
            for action in result.as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "== {} ({}, preferred: {})",
                    action["title"].as_str().unwrap_or(""),
                    action["kind"].as_str().unwrap_or(""),
                    action["isPreferred"]
                );
                for (target, edits) in action["edit"]["changes"].as_object().into_iter().flatten() {
                    let (name, file_text) = files_by_uri(target).unwrap();
                    let _ = writeln!(out, "//- {name}");
                    out.push_str(&apply(&file_text, edits.as_array().unwrap()));
                }
            }
        }
        other => panic!("unknown request `{other}` in {}", path.display()),
    }
    assert_eq!(
        client.shutdown().unwrap(),
        Some(0),
        "the server exits with 0 after shutdown"
    );
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[test]
fn request_fixtures() {
    let cases = root().join("tests/lsp");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&cases)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "proc"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 20, "the fixtures are found");
    let bless = std::env::var("PROC_BLESS").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    for path in &paths {
        let actual = run_case(path);
        let expected_path = path.with_extension("expected");
        if bless {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "--- {}\n{}",
                expected_path.display(),
                similar::TextDiff::from_lines(&expected, &actual)
                    .unified_diff()
                    .header("expected", "actual")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ (PROC_BLESS=1 to accept):\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
}
