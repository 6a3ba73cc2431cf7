"""Shared fixtures and helpers for the pytest-lsp suite of the Proc language server (`procc lsp`)."""

from __future__ import annotations

import asyncio
import os
import pathlib
import re

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

REPO = pathlib.Path(__file__).resolve().parents[3]
PROCC = os.environ.get("PROCC", str(REPO / "target" / "debug" / "procc"))
SERVER_COMMAND = [PROCC, "lsp"]
INIT_TIMEOUT = 10  # seconds for the initialize answer
EXIT_TIMEOUT = 5  # seconds for shutdown + exit + process end
COMPLAINT = (REPO / "examples" / "complaint.proc").read_text(encoding="utf-8")


def _record_diagnostics(lsp_client: LanguageClient):
    """Keeps every publishDiagnostics notification, in order, in `lsp_client.published`."""
    lsp_client.published = []
    lsp_client.diagnostics_seen = 0
    protocol = lsp_client.protocol
    handle = protocol._handle_notification

    def recording(method_name, params):
        if method_name == types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS:
            lsp_client.published.append(params)
        return handle(method_name, params)

    protocol._handle_notification = recording


async def _start(lsp_client: LanguageClient, tmp_path: pathlib.Path, capabilities):
    _record_diagnostics(lsp_client)
    # The package is the directory holding the file, so the workspace folder is that directory.
    result = await asyncio.wait_for(
        lsp_client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities,
                root_uri=tmp_path.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="ws")],
            )
        ),
        INIT_TIMEOUT,
    )
    assert result.server_info is not None and result.server_info.name == "proc-lsp"
    return result


async def _stop(lsp_client: LanguageClient):
    """shutdown + exit, then wait for the server process to end (a hang fails the test's teardown)."""
    server = getattr(lsp_client, "_server", None)
    if server is None or server.returncode is not None:
        return  # the test ended the session itself
    try:
        await asyncio.wait_for(lsp_client.shutdown_session(), EXIT_TIMEOUT)
    except asyncio.TimeoutError:
        raise AssertionError(f"server pid {server.pid} did not exit within {EXIT_TIMEOUT} s of shutdown + exit")
    finally:
        if server.returncode is None:  # never leave a server behind
            server.kill()
            await server.wait()
    assert server.returncode == 0, f"server exit code {server.returncode} after shutdown + exit"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND))
async def client(lsp_client: LanguageClient, tmp_path: pathlib.Path):
    """A session started with VS Code 1.65's client capabilities (snippets, hierarchical symbols, ...)."""
    lsp_client.init_result = await _start(lsp_client, tmp_path, client_capabilities("visual-studio-code"))
    yield
    await _stop(lsp_client)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND))
async def bare_client(lsp_client: LanguageClient, tmp_path: pathlib.Path):
    """A session started with empty client capabilities (no snippets, flat symbols)."""
    lsp_client.init_result = await _start(lsp_client, tmp_path, types.ClientCapabilities())
    yield
    await _stop(lsp_client)


# ---------------------------------------------------------------- helpers


def open_doc(client: LanguageClient, tmp_path: pathlib.Path, name: str, text: str, version: int = 1) -> str:
    """Writes `text` to tmp_path/name (so the package on disk matches) and opens it; returns the URI."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="proc", version=version, text=text)
        )
    )
    return uri


async def wait_diagnostics(client: LanguageClient, uri: str, version: int | None = None, timeout: float = 10):
    """Returns the next publishDiagnostics params for `uri` (and `version`, if given) not returned before.

    Every publishDiagnostics is recorded as it arrives (see `_record_diagnostics`), so none is missed even when
    several arrive together; polling the record keeps the order in which the server sent them.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for index in range(client.diagnostics_seen, len(client.published)):
            params = client.published[index]
            if params.uri == uri and (version is None or params.version == version):
                client.diagnostics_seen = index + 1
                return params
        if loop.time() > deadline:
            got = [(p.uri.rsplit("/", 1)[-1], p.version, len(p.diagnostics)) for p in client.published]
            raise TimeoutError(f"no publishDiagnostics for {uri} version {version} within {timeout} s; got {got}")
        await asyncio.sleep(0.01)


def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def pos(text: str, needle: str, nth: int = 0, delta: int = 0) -> types.Position:
    """The LSP position (UTF-16 columns) of the nth occurrence of `needle`, plus `delta` characters."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    index += delta
    line = text.count("\n", 0, index)
    line_start = text.rfind("\n", 0, index) + 1
    return types.Position(line=line, character=utf16_len(text[line_start:index]))


def word_ranges(text: str, word: str) -> list[types.Range]:
    """The ranges of every whole-word occurrence of `word`."""
    ranges = []
    for m in re.finditer(rf"\b{re.escape(word)}\b", text):
        line = text.count("\n", 0, m.start())
        line_start = text.rfind("\n", 0, m.start()) + 1
        col = utf16_len(text[line_start : m.start()])
        ranges.append(
            types.Range(
                start=types.Position(line=line, character=col),
                end=types.Position(line=line, character=col + utf16_len(word)),
            )
        )
    return ranges


def offset(text: str, position: types.Position) -> int:
    """The Python string index of an LSP position (UTF-16 columns)."""
    lines = text.split("\n")
    index = sum(len(l) + 1 for l in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    units = 0
    for i, ch in enumerate(line):
        if units >= position.character:
            return index + i
        units += utf16_len(ch)
    return index + len(line)


def apply_edits(text: str, edits) -> str:
    """Applies non-overlapping TextEdits (as a client does: all ranges refer to the original text)."""
    spans = sorted(
        ((offset(text, e.range.start), offset(text, e.range.end), e.new_text) for e in edits),
        reverse=True,
    )
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


def text_at(text: str, rng: types.Range) -> str:
    return text[offset(text, rng.start) : offset(text, rng.end)]
