//! Whole sessions with the language server over stdio: exiting, surviving a failing request, re-analysing the
//! dependents of a changed file, dropping stale results, and thousands of random edits.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use common::{root, temp_dir, uri};
use proc_lsp::client::{Client, position};
use serde_json::{Value, json};

fn start(envs: &[(&str, &str)]) -> Client {
    common::start_server(&["lsp"], envs)
}

fn change(client: &mut Client, uri: &str, version: i64, range: Option<Value>, text: &str) {
    let mut change = json!({"text": text});
    if let Some(range) = range {
        change["range"] = range;
    }
    client
        .notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}),
        )
        .unwrap();
}

/// A hover over `Agent` in `step s "Do it" { by Agent }` on the fourth line of `file` is still answered.
fn assert_still_serving(client: &mut Client, file: &str) {
    let hover = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": file}, "position": {"line": 3, "character": 23}}),
        )
        .unwrap()
        .unwrap();
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("role Agent"),
        "{hover}"
    );
}

#[test]
fn exits_promptly_after_exit_with_stdin_open() {
    let dir = temp_dir("lsp-session-exit");
    let mut client = start(&[]);
    client.initialize(&uri(&dir)).unwrap();
    // `Client::shutdown` keeps stdin open and waits for the process to end by itself.
    assert_eq!(client.shutdown().unwrap(), Some(0));

    // Without `shutdown` first, the protocol asks for exit code 1.
    let mut client = start(&[]);
    client.initialize(&uri(&dir)).unwrap();
    client.notify("exit", Value::Null).unwrap();
    assert_eq!(client.wait_exit().unwrap(), Some(1));
}

#[test]
fn a_failing_request_is_answered_with_an_error_and_the_server_keeps_serving() {
    let dir = temp_dir("lsp-session-panic");
    let text = "/// Answers.\nrole Agent\nprocess p() {\n  step s \"Do it\" { by Agent }\n}\n";
    std::fs::write(dir.join("main.proc"), text).unwrap();
    let file = uri(&dir.join("main.proc"));
    let mut client = start(&[("PROC_LSP_DEBUG", "1")]);
    client.initialize(&uri(&dir)).unwrap();
    client.open(&file, text).unwrap();
    client.diagnostics(&file, Some(1)).unwrap();
    let error = client
        .request("proc/debugPanic", json!({}))
        .unwrap()
        .expect_err("the request fails");
    assert_eq!(error["code"], -32603, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("internal error while answering proc/debugPanic"),
        "{error}"
    );
    // Still serving.
    assert_still_serving(&mut client, &file);
    assert_eq!(client.shutdown().unwrap(), Some(0));

    // Without the debugging switch the method does not exist.
    let mut client = start(&[]);
    client.initialize(&uri(&dir)).unwrap();
    let error = client
        .request("proc/debugPanic", json!({}))
        .unwrap()
        .expect_err("unknown without the switch");
    assert_eq!(error["code"], -32601, "{error}");
    assert_eq!(client.shutdown().unwrap(), Some(0));
}

/// Broken messages (invalid JSON, invalid UTF-8, no `"jsonrpc"`, a lone surrogate from a half-deleted emoji) and
/// requests about paths that are not `.proc` files (`/dev/zero`) do not end the session or hang it.
#[test]
fn broken_messages_and_strange_paths_do_not_end_the_session() {
    let dir = temp_dir("lsp-session-broken");
    let text = "/// Answers.\nrole Agent\nprocess p() {\n  step s \"Do it\" { by Agent }\n}\n";
    std::fs::write(dir.join("main.proc"), text).unwrap();
    let file = uri(&dir.join("main.proc"));
    let mut client = start(&[]);
    client.initialize(&uri(&dir)).unwrap();
    client.open(&file, text).unwrap();
    client.diagnostics(&file, Some(1)).unwrap();
    client
        .send_raw(br#"{"jsonrpc":"2.0","id":777,"method":"textDocument/hover","params":{"#)
        .unwrap();
    client
        .send_raw(b"{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":\"\xff\xfe\"}")
        .unwrap();
    client
        .send_raw(br#"{"id":778,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///nowhere.proc"},"position":{"line":0,"character":0}}}"#)
        .unwrap();
    // The editor deleted half of an emoji: the new text ends in a lone high surrogate.
    let change = format!(
        r#"{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{{"textDocument":{{"uri":"{file}","version":2}},"contentChanges":[{{"text":"{}\"\ud83d\""}}]}}}}"#,
        text.replace('\n', "\\n").replace('"', "\\\"")
    );
    client.send_raw(change.as_bytes()).unwrap();
    client.diagnostics(&file, Some(2)).unwrap();
    let hover = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": "file:///dev/zero"}, "position": {"line": 3, "character": 20}}),
        )
        .unwrap()
        .unwrap();
    assert_eq!(hover, Value::Null);
    // Still serving the real file.
    assert_still_serving(&mut client, &file);
    assert_eq!(client.shutdown().unwrap(), Some(0));
}

#[test]
fn a_change_re_analyses_the_file_and_its_dependents_only() {
    let dir = temp_dir("lsp-session-dependents");
    let roles = "role Agent\n";
    let user = "use roles.Agent\nprocess p() {\n  step s \"Do it\" { by Agent }\n}\n";
    let other = "role Clerk\nprocess q() {\n  step t \"File it\" { by Clerk }\n}\n";
    for (name, text) in [
        ("roles.proc", roles),
        ("user.proc", user),
        ("other.proc", other),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let (roles_uri, user_uri, other_uri) = (
        uri(&dir.join("roles.proc")),
        uri(&dir.join("user.proc")),
        uri(&dir.join("other.proc")),
    );
    let mut client = start(&[]);
    client.initialize(&uri(&dir)).unwrap();
    client.open(&roles_uri, roles).unwrap();
    assert!(client.diagnostics(&roles_uri, Some(1)).unwrap().is_empty());
    // Opening `roles.proc` also published its dependent `user.proc` (clean), not the unrelated `other.proc`.
    assert!(client.diagnostics(&user_uri, None).unwrap().is_empty());
    client.notifications.clear();

    // Rename the role in `roles.proc` only: `user.proc` (not open, not changed) now has errors.
    change(&mut client, &roles_uri, 2, None, "role Agents\n");
    let roles_diagnostics = client.diagnostics(&roles_uri, Some(2)).unwrap();
    assert!(
        roles_diagnostics.iter().all(|d| d["code"] == "P0033"),
        "{roles_diagnostics:?}"
    );
    let user_diagnostics = client.diagnostics(&user_uri, None).unwrap();
    assert!(
        user_diagnostics.iter().any(|d| d["code"] == "P0009"),
        "the dependent reports the missing import: {user_diagnostics:?}"
    );
    // Let any stray publication arrive, then check the unrelated file was not analysed again.
    let _ = client
        .request("workspace/symbol", json!({"query": "zzz"}))
        .unwrap();
    assert!(
        !client
            .notifications
            .iter()
            .any(|n| n["params"]["uri"] == other_uri),
        "an unrelated file was re-analysed: {:?}",
        client.notifications
    );
    assert_eq!(client.shutdown().unwrap(), Some(0));
}

/// An edit undone gives the text an earlier analysis was made for; reusing it must still publish the changed
/// file (that analysis may have been made when only an importing file was open).
#[test]
fn an_undone_edit_clears_the_diagnostics_it_caused() {
    let dir = temp_dir("lsp-session-undo");
    let roles = "/// Answers.\nrole Agent\n";
    let user = "use roles.Agent\n/// P.\nprocess p() {\n  step s \"Do it\" { by Agent }\n}\n";
    std::fs::write(dir.join("roles.proc"), roles).unwrap();
    std::fs::write(dir.join("user.proc"), user).unwrap();
    let (roles_uri, user_uri) = (uri(&dir.join("roles.proc")), uri(&dir.join("user.proc")));
    let mut client = start(&[]);
    client.initialize(&uri(&dir)).unwrap();
    client.open(&user_uri, user).unwrap();
    assert!(client.diagnostics(&user_uri, Some(1)).unwrap().is_empty());
    client.open(&roles_uri, roles).unwrap();
    assert!(client.diagnostics(&roles_uri, Some(1)).unwrap().is_empty());
    change(
        &mut client,
        &roles_uri,
        2,
        None,
        "/// Answers.\nrole Agents\n",
    );
    assert!(!client.diagnostics(&roles_uri, Some(2)).unwrap().is_empty());
    change(&mut client, &roles_uri, 3, None, roles);
    let after_undo = client.diagnostics(&roles_uri, Some(3)).unwrap();
    assert!(after_undo.is_empty(), "{after_undo:?}");
    assert_eq!(client.shutdown().unwrap(), Some(0));
}

/// A file deleted on disk: the files that imported it are checked again (and report the missing module).
#[test]
fn deleting_a_file_re_checks_what_imported_it() {
    let dir = temp_dir("lsp-session-deleted");
    let user = "use roles.Agent\n/// P.\nprocess p() {\n  step s \"Do it\" { by Agent }\n}\n";
    std::fs::write(dir.join("roles.proc"), "/// Answers.\nrole Agent\n").unwrap();
    std::fs::write(dir.join("user.proc"), user).unwrap();
    let (roles_uri, user_uri) = (uri(&dir.join("roles.proc")), uri(&dir.join("user.proc")));
    let mut client = start(&[]);
    client.initialize(&uri(&dir)).unwrap();
    client.open(&user_uri, user).unwrap();
    assert!(client.diagnostics(&user_uri, Some(1)).unwrap().is_empty());
    client.notifications.clear();
    std::fs::remove_file(dir.join("roles.proc")).unwrap();
    client
        .notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": roles_uri, "type": 3}]}),
        )
        .unwrap();
    let missing = client.diagnostics(&user_uri, Some(1)).unwrap();
    assert!(missing.iter().any(|d| d["code"] == "P0009"), "{missing:?}");
    assert_eq!(client.shutdown().unwrap(), Some(0));
}

/// A new file that was never saved: closing it re-checks the open files that imported it.
#[test]
fn closing_an_unsaved_file_re_checks_what_imported_it() {
    let dir = temp_dir("lsp-session-unsaved");
    let user = "use roles.Agent\n/// P.\nprocess p() {\n  step s \"Do it\" { by Agent }\n}\n";
    std::fs::write(dir.join("user.proc"), user).unwrap();
    let (roles_uri, user_uri) = (uri(&dir.join("roles.proc")), uri(&dir.join("user.proc")));
    let mut client = start(&[]);
    client.initialize(&uri(&dir)).unwrap();
    client.open(&user_uri, user).unwrap();
    let missing = client.diagnostics(&user_uri, Some(1)).unwrap();
    assert!(missing.iter().any(|d| d["code"] == "P0009"), "{missing:?}");
    client
        .open(&roles_uri, "/// Answers.\nrole Agent\n")
        .unwrap();
    assert!(client.diagnostics(&user_uri, Some(1)).unwrap().is_empty());
    client.notifications.clear();
    client
        .notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": roles_uri}}),
        )
        .unwrap();
    let missing = client.diagnostics(&user_uri, Some(1)).unwrap();
    assert!(missing.iter().any(|d| d["code"] == "P0009"), "{missing:?}");
    assert_eq!(client.shutdown().unwrap(), Some(0));
}

/// A file on disk that is not valid UTF-8 is reported (`P0006`) as `procc check` reports it, not read as clean:
/// here a file that imports the one opened, so its diagnostics are published with it.
#[test]
fn a_file_on_disk_that_is_not_utf8_is_reported() {
    let dir = temp_dir("lsp-session-latin1");
    let roles = "/// Answers.\nrole Agent\n";
    std::fs::write(dir.join("roles.proc"), roles).unwrap();
    std::fs::write(
        dir.join("user.proc"),
        b"use roles.Agent\n/// Caf\xe9 work.\nprocess p() {\n  step s \"Do it\" { by Agent }\n}\n",
    )
    .unwrap();
    let (roles_uri, user_uri) = (uri(&dir.join("roles.proc")), uri(&dir.join("user.proc")));
    let mut client = start(&[]);
    client.initialize(&uri(&dir)).unwrap();
    client.open(&roles_uri, roles).unwrap();
    let bad = client.diagnostics(&user_uri, None).unwrap();
    assert!(bad.iter().any(|d| d["code"] == "P0006"), "{bad:?}");
    assert_eq!(client.shutdown().unwrap(), Some(0));
}

#[test]
fn results_for_old_versions_are_dropped() {
    let dir = temp_dir("lsp-session-stale");
    let base = std::fs::read_to_string(root().join("examples/complaint.proc")).unwrap();
    let file = uri(&dir.join("complaint.proc"));
    let mut client = start(&[]);
    client.initialize(&uri(&dir)).unwrap();
    client.open(&file, &base).unwrap();
    client.diagnostics(&file, Some(1)).unwrap();
    // Twenty quick edits without waiting: append a character to the end each time.
    let lines = base.lines().count();
    for version in 2..=21 {
        let at = json!({"line": lines, "character": 0});
        change(
            &mut client,
            &file,
            version,
            Some(json!({"start": at, "end": at})),
            "\n",
        );
    }
    let last = client.diagnostics(&file, Some(21)).unwrap();
    assert!(last.is_empty(), "{last:?}");
    let versions: Vec<i64> = client
        .notifications
        .iter()
        .filter(|n| n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == file)
        .filter_map(|n| n["params"]["version"].as_i64())
        .collect();
    assert!(
        versions.windows(2).all(|pair| pair[0] <= pair[1]),
        "published out of order: {versions:?}"
    );
    assert_eq!(client.shutdown().unwrap(), Some(0));
}

/// A small deterministic random number generator (xorshift), so a failure can be replayed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[test]
fn thousands_of_random_edits_never_crash_the_server() {
    let edits: usize = std::env::var("PROC_LSP_EDITS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let dir = temp_dir("lsp-session-random");
    let examples = root().join("examples");
    let mut text = std::fs::read_to_string(examples.join("complaint.proc")).unwrap();
    let donor = std::fs::read_to_string(examples.join("incident.proc")).unwrap();
    let file = uri(&dir.join("complaint.proc"));
    let twin = uri(&dir.join("twin.proc"));
    let pieces = [
        "{",
        "}",
        "(",
        ")",
        "[",
        "\"",
        "é",
        "😀",
        "日本",
        "\n",
        " ",
        "",
        "step x {",
        "by Agent",
        "within 4h",
        "match assess.urgency {",
        "=>",
        "//",
        "///",
        "use std.",
        ".",
        ",",
        "on breach {",
        "parallel {",
        "branch {",
        "0",
        "4h",
        "2026-03-02T09:00Z",
        "\u{200b}",
        "\t",
        "\r\n",
        "process",
        "role Ünïcødé",
        "let x = ",
        "c.",
        "Urgency.",
        "\0",
    ];
    let mut random = Random(0x5eed_1234_abcd_ef01);
    let mut client = start(&[]);
    client.initialize(&uri(&dir)).unwrap();
    client.open(&file, &text).unwrap();
    client.diagnostics(&file, Some(1)).unwrap();
    let mut version = 1;
    for step in 0..edits {
        version += 1;
        let start = char_boundary(&text, random.below(text.len() + 1));
        let end = char_boundary(&text, (start + random.below(12)).min(text.len()));
        let insert: String = if random.below(10) == 0 {
            let from = char_boundary(&donor, random.below(donor.len()));
            let to = char_boundary(&donor, (from + random.below(200)).min(donor.len()));
            donor[from..to].to_string()
        } else {
            pieces[random.below(pieces.len())].to_string()
        };
        let range = json!({"start": position(&text, start), "end": position(&text, end)});
        text.replace_range(start..end, &insert);
        change(&mut client, &file, version, Some(range), &insert);
        client
            .diagnostics(&file, Some(version))
            .unwrap_or_else(|error| panic!("no diagnostics after edit {step}: {error}"));
        client.notifications.clear();
        // Now and then, ask for everything at a random place in the broken text.
        if step % 25 == 0 {
            let at = position(&text, char_boundary(&text, random.below(text.len() + 1)));
            let document = json!({"uri": file});
            let at_params = json!({"textDocument": document, "position": at});
            for (method, params) in [
                ("textDocument/hover", at_params.clone()),
                ("textDocument/completion", at_params.clone()),
                ("textDocument/definition", at_params.clone()),
                ("textDocument/signatureHelp", at_params.clone()),
                ("textDocument/documentHighlight", at_params.clone()),
                ("textDocument/prepareRename", at_params.clone()),
                (
                    "textDocument/documentSymbol",
                    json!({"textDocument": document}),
                ),
                (
                    "textDocument/semanticTokens/full",
                    json!({"textDocument": document}),
                ),
                (
                    "textDocument/foldingRange",
                    json!({"textDocument": document}),
                ),
                (
                    "textDocument/formatting",
                    json!({"textDocument": document, "options": {"tabSize": 2, "insertSpaces": true}}),
                ),
                (
                    "textDocument/codeAction",
                    json!({"textDocument": document, "range": {"start": at, "end": at}, "context": {"diagnostics": []}}),
                ),
            ] {
                if let Err(error) = client.request(method, params).unwrap() {
                    // Refusals (e.g. nothing to rename here) are fine; internal errors are not.
                    assert_ne!(
                        error["code"], -32603,
                        "{method} failed after edit {step}: {error}"
                    );
                }
            }
        }
        // The server's copy of the text must equal ours: a fresh document with the same text gets the same
        // diagnostics.
        if step % 500 == 499 || step + 1 == edits {
            client.open(&twin, &text).unwrap();
            let fresh = client.diagnostics(&twin, Some(1)).unwrap();
            // An empty edit makes the server publish the edited document's diagnostics again.
            version += 1;
            let here =
                json!({"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}});
            change(&mut client, &file, version, Some(here), "");
            let edited = client.diagnostics(&file, Some(version)).unwrap();
            let strip = |list: &[Value]| -> Vec<(Value, Value)> {
                list.iter()
                    .map(|d| (d["range"].clone(), d["code"].clone()))
                    .collect()
            };
            assert_eq!(
                strip(&fresh),
                strip(&edited),
                "the incremental text drifted after edit {step}"
            );
            client
                .notify(
                    "textDocument/didClose",
                    json!({"textDocument": {"uri": twin}}),
                )
                .unwrap();
            client.notifications.clear();
        }
    }
    assert!(client.is_running());
    assert_eq!(client.shutdown().unwrap(), Some(0));
}
