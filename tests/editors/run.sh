#!/usr/bin/env bash
# End-to-end tests of the Proc language server (`procc lsp`) with real LSP clients:
#   1. headless Neovim (Debian's 0.7.2 or newer)  -> nvim/lsp_test.lua
#   2. pytest-lsp 1.0.1                             -> pytest/
# Usage: tests/editors/run.sh            (from anywhere)
# Env:   PROCC             server binary (default <repo>/target/debug/procc); it is run as `$PROCC lsp`
#        PROC_EDITORS_DIR  where the venv and scratch files go (default /tmp/proc-editors)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PROCC="${PROCC:-$REPO/target/debug/procc}"
WORK="${PROC_EDITORS_DIR:-/tmp/proc-editors}"
VENV="$WORK/venv"

log() { printf '== %s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 2; }

[[ -x "$PROCC" ]] || die "server binary not found or not executable: $PROCC (build it, or set PROCC)"
PROCC="$(cd "$(dirname "$PROCC")" && pwd)/$(basename "$PROCC")"
mkdir -p "$WORK"

# ---------------------------------------------------------------- installs (only what is missing)
if ! command -v nvim >/dev/null 2>&1; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing neovim (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends neovim >/dev/null
  else
    die "nvim is missing; install Neovim >= 0.7 (e.g. apt-get install neovim as root)"
  fi
fi

PYTHON="$(command -v python3 || true)"
[[ -n "$PYTHON" ]] || die "python3 is missing"
if [[ ! -x "$VENV/bin/python" ]]; then
  if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
      log "installing python3-venv (apt-get)"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
      PYTHON=/usr/bin/python3
    else
      die "python3 cannot create venvs; install python3-venv"
    fi
  fi
  log "creating venv $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi
REQS="$HERE/pytest/requirements.txt"
STAMP="$VENV/.requirements.sha256"
if [[ ! -f "$STAMP" ]] || ! sha256sum --status -c "$STAMP" 2>/dev/null; then
  log "installing $(tr '\n' ' ' <"$REQS")into the venv"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQS"
  sha256sum "$REQS" >"$STAMP"
fi

NVIM_VERSION="$(nvim --version | head -n1)"
PYLSP_VERSION="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(" ".join(f"{p} {m.version(p)}" for p in ("pytest-lsp","pygls","lsprotocol","pytest","pytest-asyncio","pytest-timeout")))')"
log "server: $PROCC"
log "clients: $NVIM_VERSION; $PYLSP_VERSION"

status_nvim=FAIL
status_pytest=FAIL
export PROCC

# ---------------------------------------------------------------- 1. Neovim
SCRATCH="$(mktemp -d "$WORK/nvim.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$SCRATCH/ws" "$SCRATCH/xdg"
# A package of one file: complaint.proc with the first `by Agent` misspelt as `by Agentt`.
sed '0,/^    by Agent$/s//    by Agentt/' "$REPO/examples/complaint.proc" >"$SCRATCH/ws/complaint.proc"
grep -q '^    by Agentt$' "$SCRATCH/ws/complaint.proc" || die "could not make the misspelt copy of complaint.proc"

log "Neovim test"
t0=$SECONDS
set +e
(
  cd "$SCRATCH/ws"
  # Keep Neovim's shada, logs and config out of $HOME.
  XDG_CONFIG_HOME="$SCRATCH/xdg" XDG_DATA_HOME="$SCRATCH/xdg" XDG_STATE_HOME="$SCRATCH/xdg" \
    XDG_CACHE_HOME="$SCRATCH/xdg" PROC_FILE="$SCRATCH/ws/complaint.proc" \
    timeout 60 nvim --headless -u NONE -i NONE -n -c "luafile $HERE/nvim/lsp_test.lua" </dev/null
)
rc=$?
set -e
if [[ $rc == 0 ]]; then status_nvim=PASS; elif [[ $rc == 124 ]]; then echo "Neovim test timed out after 60 s"; fi
log "Neovim test: $status_nvim (exit $rc, $((SECONDS - t0)) s)"

# ---------------------------------------------------------------- 2. pytest-lsp
log "pytest-lsp suite"
t0=$SECONDS
set +e
(
  cd "$HERE/pytest"
  PYTHONDONTWRITEBYTECODE=1 timeout 300 "$VENV/bin/python" -m pytest -v --basetemp="$SCRATCH/pytest" "$@"
)
rc=$?
set -e
if [[ $rc == 0 ]]; then status_pytest=PASS; elif [[ $rc == 124 ]]; then echo "pytest suite timed out after 300 s"; fi
log "pytest-lsp suite: $status_pytest (exit $rc, $((SECONDS - t0)) s)"

# ---------------------------------------------------------------- summary
echo "SUMMARY: neovim=$status_nvim pytest-lsp=$status_pytest (server $PROCC)"
[[ $status_nvim == PASS && $status_pytest == PASS ]]
