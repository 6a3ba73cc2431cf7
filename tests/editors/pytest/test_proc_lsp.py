"""End-to-end tests of the Proc language server (`procc lsp`) through pytest-lsp's real LSP client.

Each test starts its own server process over stdio, with the test's tmp_path as the workspace folder
(the package), and ends it with shutdown + exit; pytest-lsp waits for the process to exit.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from conftest import (
    COMPLAINT,
    SERVER_COMMAND,
    apply_edits,
    open_doc,
    pos,
    text_at,
    wait_diagnostics,
    word_ranges,
)

REQUEST_FAILED = -32803

# A small package file with one error (misspelt role) and, because of it, one warning (unused role).
ERROR_FILE = """\
role Agent
role Supervisor

process complaint() {
  step acknowledge "Greet the customer" {
    by Agnet
    within 4h
  }
  step close "Close the case" {
    by Supervisor
    within 1d
  }
}
"""

DOC = types.TextDocumentIdentifier


def rng(l1, c1, l2, c2) -> types.Range:
    return types.Range(start=types.Position(line=l1, character=c1), end=types.Position(line=l2, character=c2))


def sort_key(d: types.Diagnostic):
    return (d.range.start.line, d.range.start.character, str(d.code))


# ---------------------------------------------------------------- diagnostics


async def test_diagnostics_on_open(client: LanguageClient, tmp_path):
    uri = open_doc(client, tmp_path, "complaint.proc", ERROR_FILE)
    params = await wait_diagnostics(client, uri)
    assert params.version == 1
    diags = sorted(params.diagnostics, key=sort_key)
    # The role the misspelling means is not also reported as never used.
    assert [(d.code, d.severity, d.range, d.source) for d in diags] == [
        ("P0007", types.DiagnosticSeverity.Error, rng(5, 7, 5, 12), "proc"),
    ]
    unknown = diags[0]
    assert unknown.message == "unknown role `Agnet`\nhelp: did you mean `Agent`?"
    assert unknown.code_description is not None
    assert unknown.code_description.href.startswith("file://")
    assert unknown.code_description.href.endswith("/P0007.md")


async def test_incremental_change_fixes_error(client: LanguageClient, tmp_path):
    uri = open_doc(client, tmp_path, "complaint.proc", ERROR_FILE)
    first = await wait_diagnostics(client, uri, version=1)
    assert any(d.code == "P0007" for d in first.diagnostics)
    # Incremental sync: replace only `Agnet` (line 5, columns 7-12) by `Agent`.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangePartial(range=rng(5, 7, 5, 12), text="Agent")],
        )
    )
    second = await wait_diagnostics(client, uri, version=2)
    assert list(second.diagnostics) == []


async def test_incremental_changes_in_sequence(client: LanguageClient, tmp_path):
    """Several ranged changes in one didChange apply one after the other, as the spec says."""
    uri = open_doc(client, tmp_path, "complaint.proc", ERROR_FILE)
    await wait_diagnostics(client, uri, version=1)
    changes = [
        # `by Agnet` -> `by Agnetzz` -> `by Agent` (delete 5 chars, insert 5) -> break line 9 -> repair it
        types.TextDocumentContentChangePartial(range=rng(5, 12, 5, 12), text="zz"),
        types.TextDocumentContentChangePartial(range=rng(5, 7, 5, 14), text="Agent"),
        types.TextDocumentContentChangePartial(range=rng(9, 7, 9, 17), text="Nobody\nelse"),
        types.TextDocumentContentChangePartial(range=rng(9, 7, 10, 4), text="Supervisor"),
    ]
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2), content_changes=changes
        )
    )
    second = await wait_diagnostics(client, uri, version=2)
    assert list(second.diagnostics) == []
    # The server's text must now be the fixed file: formatting a canonical file changes nothing.
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=DOC(uri=uri), options=types.FormattingOptions(2, True))
    )
    assert apply_edits(ERROR_FILE.replace("Agnet", "Agent"), edits or []) == ERROR_FILE.replace("Agnet", "Agent")


async def test_non_ascii_utf16_columns(client: LanguageClient, tmp_path):
    text = 'role Agent\nprocess p() {\n  step s "Café 😀 déjà" { by Agnet }\n}\n'
    uri = open_doc(client, tmp_path, "unicode.proc", text)
    params = await wait_diagnostics(client, uri)
    errors = [d for d in params.diagnostics if d.code == "P0007"]
    assert len(errors) == 1, params.diagnostics
    # `  step s "Café 😀 déjà" { by ` is 29 UTF-16 code units (😀 counts 2), 28 code points, 34 bytes.
    assert errors[0].range == rng(2, 29, 2, 34)
    assert pos(text, "Agnet") == types.Position(line=2, character=29)

    # Requests with UTF-16 columns after the emoji, and an incremental edit there.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangePartial(range=rng(2, 29, 2, 34), text="Agent")],
        )
    )
    fixed = await wait_diagnostics(client, uri, version=2)
    assert list(fixed.diagnostics) == []
    location = await client.text_document_definition_async(
        types.DefinitionParams(text_document=DOC(uri=uri), position=types.Position(line=2, character=31))
    )
    if isinstance(location, list):
        assert len(location) == 1
        location = location[0]
    assert location.uri == uri
    assert location.range == rng(0, 5, 0, 10)


# ---------------------------------------------------------------- navigation


async def test_hover_on_step(client: LanguageClient, tmp_path):
    uri = open_doc(client, tmp_path, "complaint.proc", COMPLAINT)
    await wait_diagnostics(client, uri)
    at = pos(COMPLAINT, "step acknowledge", delta=len("step ac"))
    hover = await client.text_document_hover_async(types.HoverParams(text_document=DOC(uri=uri), position=at))
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert hover.contents.value == (
        "```proc\nstep acknowledge\n```\n\n"
        "Performed by `Agent`; due 4 hours after the step opens; on breach: at breach cancel the step.\n\n"
        "---\n\n"
        "Let the customer know a person has their complaint."
    )
    start = pos(COMPLAINT, "step acknowledge", delta=len("step "))
    assert hover.range == types.Range(start=start, end=types.Position(line=start.line, character=start.character + 11))


async def test_definition_of_role(client: LanguageClient, tmp_path):
    uri = open_doc(client, tmp_path, "complaint.proc", COMPLAINT)
    await wait_diagnostics(client, uri)
    use = pos(COMPLAINT, "by Supervisor", delta=len("by Sup"))
    result = await client.text_document_definition_async(
        types.DefinitionParams(text_document=DOC(uri=uri), position=use)
    )
    locations = result if isinstance(result, list) else [result]
    assert len(locations) == 1
    loc = locations[0]
    target_uri = getattr(loc, "uri", None) or loc.target_uri
    target_range = getattr(loc, "range", None) or loc.target_selection_range
    assert target_uri == uri
    decl = pos(COMPLAINT, "role Supervisor", delta=len("role "))
    assert target_range == types.Range(start=decl, end=types.Position(line=decl.line, character=decl.character + 10))
    assert decl.line == COMPLAINT.split("\n").index("role Supervisor")


async def test_references_of_role(client: LanguageClient, tmp_path):
    uri = open_doc(client, tmp_path, "complaint.proc", COMPLAINT)
    await wait_diagnostics(client, uri)
    use = pos(COMPLAINT, "by Supervisor", delta=len("by Sup"))
    every = word_ranges(COMPLAINT, "Supervisor")  # the name appears only as code in this file
    decl = every[0]

    def key(r):
        return (r.start.line, r.start.character, r.end.line, r.end.character)

    with_decl = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=DOC(uri=uri), position=use, context=types.ReferenceContext(include_declaration=True)
        )
    )
    assert all(loc.uri == uri for loc in with_decl)
    assert sorted(map(key, (loc.range for loc in with_decl))) == sorted(map(key, every))
    assert len(every) == 12

    without_decl = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=DOC(uri=uri), position=use, context=types.ReferenceContext(include_declaration=False)
        )
    )
    assert sorted(map(key, (loc.range for loc in without_decl))) == sorted(key(r) for r in every if r != decl)


async def test_document_symbols(client: LanguageClient, tmp_path):
    uri = open_doc(client, tmp_path, "complaint.proc", COMPLAINT)
    await wait_diagnostics(client, uri)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=DOC(uri=uri))
    )
    assert symbols and all(isinstance(s, types.DocumentSymbol) for s in symbols)

    def outline(items):
        return [(s.name, s.kind, outline(s.children or [])) for s in items]

    K = types.SymbolKind
    top = outline(symbols)
    assert top[:5] == [
        ("Agent", K.Class, []),
        ("Supervisor", K.Class, []),
        ("Manager", K.Class, []),
        ("Urgency", K.Enum, [("low", K.EnumMember, []), ("normal", K.EnumMember, []), ("high", K.EnumMember, [])]),
        ("Complaint", K.Struct, [("customer", K.Field, []), ("summary", K.Field, [])]),
    ]
    name, kind, steps = top[5]
    assert (name, kind) == ("complaint", K.Module)
    assert [s[0] for s in steps] == [
        "acknowledge", "escalate", "assess", "resolve_by_supervisor",
        "resolve_by_agent", "send_survey", "log_case", "close",
    ]
    assert [(s[0], s[1]) for s in top[6:8]] == [("first_response", K.Number), ("time_to_close", K.Number)]
    assert [s[0] for s in top[8:]] == [
        "a complaint is handled on the normal path",
        "a complaint acknowledged at its due time is on time",
        "an unacknowledged complaint goes to a supervisor, then to a manager",
        "a late resolution climbs the ladder",
    ]
    # The selection range of each role is its name.
    for sym in symbols[:3]:
        assert text_at(COMPLAINT, sym.selection_range) == sym.name


# ---------------------------------------------------------------- completion


async def test_completion_after_by_lists_roles(client: LanguageClient, tmp_path):
    text = COMPLAINT.replace("    by Agent\n", "    by \n", 1)
    uri = open_doc(client, tmp_path, "complaint.proc", text)
    await wait_diagnostics(client, uri)
    at = pos(text, "    by \n", delta=len("    by "))
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=DOC(uri=uri),
            position=at,
            context=types.CompletionContext(
                trigger_kind=types.CompletionTriggerKind.TriggerCharacter, trigger_character=" "
            ),
        )
    )
    items = result.items if isinstance(result, types.CompletionList) else result
    by_label = {item.label: item for item in items}
    for role in ("Agent", "Supervisor", "Manager"):
        assert role in by_label, sorted(by_label)
        assert by_label[role].kind == types.CompletionItemKind.Class
        assert by_label[role].detail == f"role {role}"
    assert by_label["Agent"].documentation.value == "First-line support staff who answer customers."
    # Roles come first; no records, enums, processes or steps after `by`.
    for other in ("Complaint", "Urgency", "complaint", "acknowledge", "process"):
        assert other not in by_label
    first = sorted(items, key=lambda i: i.sort_text or i.label)[:3]
    assert {i.label for i in first} == {"Agent", "Supervisor", "Manager"}


async def test_completion_snippets_follow_client_capabilities(client: LanguageClient, bare_client: LanguageClient, tmp_path):
    text = "role Agent\n\n\n"
    at = types.Position(line=2, character=0)
    answers = []
    for c, name in ((client, "a.proc"), (bare_client, "b.proc")):
        uri = open_doc(c, tmp_path, name, text)
        await wait_diagnostics(c, uri)
        result = await c.text_document_completion_async(
            types.CompletionParams(text_document=DOC(uri=uri), position=at)
        )
        answers.append(result.items if isinstance(result, types.CompletionList) else result)
    with_snippets, without = answers
    snippets = [i for i in with_snippets if i.insert_text_format == types.InsertTextFormat.Snippet]
    assert {i.label for i in snippets} >= {"process", "role", "record", "enum"}
    assert all(i.insert_text_format != types.InsertTextFormat.Snippet for i in without)
    assert {"process", "role", "use"} <= {i.label for i in without}


# ---------------------------------------------------------------- rename


async def test_rename_role(client: LanguageClient, tmp_path):
    uri = open_doc(client, tmp_path, "complaint.proc", COMPLAINT)
    await wait_diagnostics(client, uri)
    at = pos(COMPLAINT, "role Manager", delta=len("role Ma"))
    prepared = await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(text_document=DOC(uri=uri), position=at)
    )
    assert isinstance(prepared, types.PrepareRenamePlaceholder)
    assert prepared.placeholder == "Manager"
    assert text_at(COMPLAINT, prepared.range) == "Manager"

    edit = await client.text_document_rename_async(
        types.RenameParams(text_document=DOC(uri=uri), position=at, new_name="Boss")
    )
    assert edit is not None
    if edit.changes is not None:
        changes = edit.changes
    else:
        changes = {dc.text_document.uri: dc.edits for dc in edit.document_changes}
    assert list(changes) == [uri]
    edits = changes[uri]
    assert all(e.new_text == "Boss" for e in edits)

    def key(r):
        return (r.start.line, r.start.character, r.end.character)

    assert sorted(key(e.range) for e in edits) == sorted(key(r) for r in word_ranges(COMPLAINT, "Manager"))
    assert len(edits) == 5
    renamed = apply_edits(COMPLAINT, edits)
    assert "Manager" not in renamed and renamed.count("Boss") == 5

    # The renamed program is still valid.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=renamed)],
        )
    )
    after = await wait_diagnostics(client, uri, version=2)
    assert list(after.diagnostics) == []


async def test_prepare_rename_refuses_keyword_position(client: LanguageClient, tmp_path):
    uri = open_doc(client, tmp_path, "complaint.proc", COMPLAINT)
    await wait_diagnostics(client, uri)
    at = pos(COMPLAINT, "role Manager", delta=1)  # inside the keyword `role`
    with pytest.raises(JsonRpcException) as err:
        await client.text_document_prepare_rename_async(
            types.PrepareRenameParams(text_document=DOC(uri=uri), position=at)
        )
    assert err.value.code == REQUEST_FAILED
    assert err.value.message == "there is no name to rename here"


async def test_prepare_rename_refuses_std_name(client: LanguageClient, tmp_path):
    text = 'use std.calendar.*\nrole Agent\nprocess p() {\n  step s "Do it" { by Agent within 4h on UtcWeekdays }\n}\n'
    uri = open_doc(client, tmp_path, "std.proc", text)
    params = await wait_diagnostics(client, uri)
    assert [d for d in params.diagnostics if d.severity == types.DiagnosticSeverity.Error] == []
    at = pos(text, "UtcWeekdays", delta=3)
    with pytest.raises(JsonRpcException) as err:
        await client.text_document_prepare_rename_async(
            types.PrepareRenameParams(text_document=DOC(uri=uri), position=at)
        )
    assert err.value.code == REQUEST_FAILED
    assert err.value.message == "`UtcWeekdays` is defined in the standard library and cannot be renamed"


async def test_rename_refuses_keyword_and_clash(client: LanguageClient, tmp_path):
    uri = open_doc(client, tmp_path, "complaint.proc", COMPLAINT)
    await wait_diagnostics(client, uri)
    at = pos(COMPLAINT, "role Manager", delta=len("role Ma"))
    for new_name, message in (
        ("step", "`step` is a keyword of the language and cannot be used as a name"),
        ("Agent", "cannot rename `Manager` to `Agent`: name `Agent` is declared twice"),
    ):
        with pytest.raises(JsonRpcException) as err:
            await client.text_document_rename_async(
                types.RenameParams(text_document=DOC(uri=uri), position=at, new_name=new_name)
            )
        assert err.value.code == REQUEST_FAILED
        assert err.value.message == message


# ---------------------------------------------------------------- formatting and code actions

UNFORMATTED = """\
role   Agent
// keep me
process p( ) {
step s "Do it" { by Agent
within 4h }
}
"""

FORMATTED = """\
role Agent

// keep me
process p() {
  step s "Do it" {
    by Agent
    within 4h
  }
}
"""


async def test_formatting(client: LanguageClient, tmp_path):
    uri = open_doc(client, tmp_path, "format.proc", UNFORMATTED)
    await wait_diagnostics(client, uri)
    options = types.FormattingOptions(tab_size=2, insert_spaces=True)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=DOC(uri=uri), options=options)
    )
    assert edits, "expected formatting edits"
    assert apply_edits(UNFORMATTED, edits) == FORMATTED

    # A canonical file gets no edits.
    uri2 = open_doc(client, tmp_path, "formatted.proc", FORMATTED)
    await wait_diagnostics(client, uri2)
    again = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=DOC(uri=uri2), options=options)
    )
    assert not again


async def test_formatting_refuses_syntax_errors(client: LanguageClient, tmp_path):
    text = "role Agent\nprocess p( {\n"
    uri = open_doc(client, tmp_path, "broken.proc", text)
    await wait_diagnostics(client, uri)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=DOC(uri=uri), options=types.FormattingOptions(tab_size=2, insert_spaces=True)
        )
    )
    assert edits is None


async def test_code_action_for_misspelt_role(client: LanguageClient, tmp_path):
    text = COMPLAINT.replace("    by Agent\n", "    by Agentt\n", 1)
    uri = open_doc(client, tmp_path, "complaint.proc", text)
    params = await wait_diagnostics(client, uri)
    assert len(params.diagnostics) == 1
    diag = params.diagnostics[0]
    assert diag.code == "P0007" and text_at(text, diag.range) == "Agentt"
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=DOC(uri=uri), range=diag.range, context=types.CodeActionContext(diagnostics=[diag])
        )
    )
    by_title = {a.title: a for a in actions}
    assert set(by_title) >= {"Use `Agent`", "Declare role `Agentt`"}, sorted(by_title)
    use = by_title["Use `Agent`"]
    assert use.kind == types.CodeActionKind.QuickFix
    assert list(use.edit.changes[uri]) == [types.TextEdit(range=diag.range, new_text="Agent")]
    assert apply_edits(text, use.edit.changes[uri]) == COMPLAINT

    declare = by_title["Declare role `Agentt`"]
    declared = apply_edits(text, declare.edit.changes[uri])
    assert "role Agentt\n" in declared
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=declared)],
        )
    )
    after = await wait_diagnostics(client, uri, version=2)
    assert [d.code for d in after.diagnostics if d.severity == types.DiagnosticSeverity.Error] == []


async def test_fast_typing_publishes_in_version_order(client: LanguageClient, tmp_path):
    """Typing `Agent` one character per didChange: diagnostics never go back to an older version."""
    text = 'role Agent\nprocess p() {\n  step s "x" { by  }\n}\n'
    uri = open_doc(client, tmp_path, "typing.proc", text)
    await wait_diagnostics(client, uri, version=1)
    col = len('  step s "x" { by ')
    for i, ch in enumerate("Agent"):
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2 + i),
                content_changes=[types.TextDocumentContentChangePartial(range=rng(2, col + i, 2, col + i), text=ch)],
            )
        )
    last = await wait_diagnostics(client, uri, version=6)
    assert list(last.diagnostics) == []
    await asyncio.sleep(0.5)  # anything published late would show up now
    versions = [p.version for p in client.published if p.uri == uri]
    assert versions == sorted(versions) and versions[-1] == 6, versions


async def test_file_created_on_disk_is_seen(client: LanguageClient, tmp_path):
    """workspace/didChangeWatchedFiles: a new file of the package resolves an import of the open file."""
    text = 'use roles.Boss\n\nprocess p() {\n  step s "x" { by Boss }\n}\n'
    uri = open_doc(client, tmp_path, "main.proc", text)
    before = await wait_diagnostics(client, uri)
    # The import is the mistake: the use of `Boss` is not reported as well.
    assert sorted(d.code for d in before.diagnostics) == ["P0009"]
    (tmp_path / "roles.proc").write_text("role Boss\n", encoding="utf-8")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=(tmp_path / "roles.proc").as_uri(), type=types.FileChangeType.Created)]
        )
    )
    after = await wait_diagnostics(client, uri)
    assert list(after.diagnostics) == []


# ---------------------------------------------------------------- packages and other requests

MAIN = """\
use roles.{Agent, Supervisor}

process p() {
  step s "Do it" {
    by Agent
    within 1h
    on breach { reassign to Supervisor }
  }
  notify Supervisor "Done"
}
"""
ROLES = "role Agent\n/// Takes escalations.\nrole Supervisor\n"


async def test_package_across_files(client: LanguageClient, tmp_path):
    """roles.proc is only on disk (never opened): the server reads the package from the workspace folder."""
    (tmp_path / "roles.proc").write_text(ROLES, encoding="utf-8")
    roles_uri = (tmp_path / "roles.proc").as_uri()
    uri = open_doc(client, tmp_path, "main.proc", MAIN)
    params = await wait_diagnostics(client, uri)
    assert list(params.diagnostics) == []

    result = await client.text_document_definition_async(
        types.DefinitionParams(text_document=DOC(uri=uri), position=pos(MAIN, "by Agent", delta=4))
    )
    loc = result[0] if isinstance(result, list) else result
    assert (loc.uri, loc.range) == (roles_uri, rng(0, 5, 0, 10))

    edit = await client.text_document_rename_async(
        types.RenameParams(
            text_document=DOC(uri=uri), position=pos(MAIN, "reassign to Supervisor", delta=14), new_name="Lead"
        )
    )
    assert apply_edits(MAIN, edit.changes[uri]) == MAIN.replace("Supervisor", "Lead")
    assert apply_edits(ROLES, edit.changes[roles_uri]) == ROLES.replace("Supervisor", "Lead")

    symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Supervisor"))
    found = {(s.name, s.kind, s.location.uri) for s in symbols}
    assert ("Supervisor", types.SymbolKind.Class, roles_uri) in found


async def test_workspace_symbol_fuzzy(client: LanguageClient, tmp_path):
    uri = open_doc(client, tmp_path, "complaint.proc", COMPLAINT)
    await wait_diagnostics(client, uri)
    symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="resagt"))
    assert [(s.name, s.kind, s.container_name) for s in symbols] == [
        ("resolve_by_agent", types.SymbolKind.Method, "complaint")
    ]
    assert text_at(COMPLAINT, symbols[0].location.range) == "resolve_by_agent"


async def test_document_highlight(client: LanguageClient, tmp_path):
    uri = open_doc(client, tmp_path, "complaint.proc", COMPLAINT)
    await wait_diagnostics(client, uri)
    highlights = await client.text_document_document_highlight_async(
        types.DocumentHighlightParams(text_document=DOC(uri=uri), position=pos(COMPLAINT, "role Supervisor", delta=6))
    )
    every = word_ranges(COMPLAINT, "Supervisor")
    assert [h.range for h in highlights] == every
    assert [h.kind for h in highlights] == [types.DocumentHighlightKind.Write] + [types.DocumentHighlightKind.Read] * (
        len(every) - 1
    )


async def test_semantic_tokens(client: LanguageClient, tmp_path):
    uri = open_doc(client, tmp_path, "complaint.proc", COMPLAINT)
    await wait_diagnostics(client, uri)
    legend = client.init_result.capabilities.semantic_tokens_provider.legend
    tokens = await client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=DOC(uri=uri))
    )
    data = list(tokens.data)
    assert len(data) % 5 == 0
    decoded, line, col = [], 0, 0
    for i in range(0, len(data), 5):
        dl, dc, length, kind, mods = data[i : i + 5]
        line, col = line + dl, (col + dc if dl == 0 else dc)
        start = types.Position(line=line, character=col)
        text = text_at(COMPLAINT, types.Range(start=start, end=types.Position(line=line, character=col + length)))
        names = {m for b, m in enumerate(legend.token_modifiers) if mods >> b & 1}
        decoded.append((text, legend.token_types[kind], names))
    # The `use std.kpi.{...}` line comes first; the declarations follow in order.
    declared = [d for d in decoded if "declaration" in d[2]]
    assert declared[:4] == [
        ("Agent", "class", {"declaration"}),
        ("Supervisor", "class", {"declaration"}),
        ("Manager", "class", {"declaration"}),
        ("Urgency", "enum", {"declaration"}),
    ]
    assert ("Supervisor", "class", set()) in decoded
    assert ("acknowledge", "method", {"declaration"}) in decoded
    assert ("complaint", "function", {"declaration"}) in decoded


async def test_folding_ranges(client: LanguageClient, tmp_path):
    uri = open_doc(client, tmp_path, "complaint.proc", COMPLAINT)
    await wait_diagnostics(client, uri)
    folds = await client.text_document_folding_range_async(types.FoldingRangeParams(text_document=DOC(uri=uri)))
    spans = {(f.start_line, f.end_line) for f in folds}
    lines = COMPLAINT.split("\n")
    process = lines.index("process complaint(c: Complaint) within 5d {")
    step = next(i for i, l in enumerate(lines) if l.startswith("  step acknowledge"))
    assert (0, 1) in spans  # the leading comment block
    assert any(start == process and lines[end + 1] == "}" for start, end in spans)
    assert any(start == step and lines[end + 1] == "  }" for start, end in spans)


async def test_signature_help(client: LanguageClient, tmp_path):
    text = """\
role Agent
record Case {
  id: Text
}

/// Ask the customer for more details.
procedure ask(c: Case, question: Text, wait_for: Duration) {
  step s "{question}" { by Agent within wait_for }
}

process p(c: Case) {
  ask(c, "What happened?", )
}
"""
    uri = open_doc(client, tmp_path, "sig.proc", text)
    await wait_diagnostics(client, uri)
    help_ = await client.text_document_signature_help_async(
        types.SignatureHelpParams(text_document=DOC(uri=uri), position=pos(text, '?", )', delta=4))
    )
    assert help_ is not None
    sig = help_.signatures[help_.active_signature or 0]
    assert sig.label == "procedure ask(c: Case, question: Text, wait_for: Duration)"
    active = help_.active_parameter if help_.active_parameter is not None else sig.active_parameter
    assert active == 2


# ---------------------------------------------------------------- session end


async def test_shutdown_then_exit_ends_process(client: LanguageClient, tmp_path):
    uri = open_doc(client, tmp_path, "complaint.proc", COMPLAINT)
    await wait_diagnostics(client, uri)
    server = client._server
    await client.shutdown_async(None)
    started = time.monotonic()
    client.exit(None)  # stdin stays open: the server must exit on its own
    code = await asyncio.wait_for(server.wait(), 10)
    assert code == 0
    assert time.monotonic() - started < 5


async def test_exit_without_shutdown_exits_with_1(client: LanguageClient, tmp_path):
    server = client._server
    client.exit(None)
    code = await asyncio.wait_for(server.wait(), 10)
    assert code == 1


def _pipelined_shutdown_exit() -> tuple[int, bool]:
    """initialize (answered), then `shutdown` and `exit` written together, as a client may do."""
    proc = subprocess.Popen(SERVER_COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def send(message):
        body = json.dumps(message).encode()
        proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        proc.stdin.flush()

    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}})
    length = None
    while (line := proc.stdout.readline().strip()) != b"":
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    proc.stdout.read(length)
    send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    send({"jsonrpc": "2.0", "method": "exit"})
    try:
        code = proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    answered = b'"id":2' in proc.stdout.read()
    return code, answered


def test_pipelined_shutdown_exit_exits_with_0():
    results = [_pipelined_shutdown_exit() for _ in range(5)]
    assert [code for code, _ in results] == [0] * 5, f"(exit code, shutdown answered) per run: {results}"
