#!/usr/bin/env bash
# Builds, tests and packages the Proc VS Code extension. Runs from any directory; needs Node 20+ and the npm
# registry (for `npm ci`), nothing else from the network.
#
#   editors/vscode/build.sh [OUT.vsix]      (default: <repo>/target/proc-lang.vsix)
#
# Steps: npm ci, type check, bundle with esbuild, TextMate grammar unit and snapshot tests, snippet check
# (when a procc binary is available: $PROCC or <repo>/target/debug/procc), vsce package, check the vsix contents.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="${1:-$REPO/target/proc-lang.vsix}"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
PROCC="${PROCC:-$REPO/target/debug/procc}"
BIN="$HERE/node_modules/.bin"

START=$SECONDS
step() { printf '\n== [%3ds] %s\n' "$((SECONDS - START))" "$*"; }

cd "$HERE"

step "npm ci"
npm ci --no-audit --no-fund

step "type check (tsc --noEmit)"
"$BIN/tsc" -p . --noEmit

step "bundle (esbuild -> out/extension.js)"
rm -rf out
"$BIN/esbuild" src/extension.ts --bundle --platform=node --format=cjs --target=node20 --external:vscode --minify \
  --outfile=out/extension.js --log-level=warning

step "grammar unit tests (tests/*.test.proc)"
"$BIN/vscode-tmgrammar-test" --config package.json 'tests/*.test.proc'

step "grammar snapshot tests (tests/snap/*.proc)"
"$BIN/vscode-tmgrammar-snap" --config package.json 'tests/snap/*.proc'

step "snippets expand to valid Proc"
if [[ -x "$PROCC" ]]; then
  node tests/check-snippets.js "$PROCC"
else
  echo "skipped: no procc at $PROCC (set PROCC to check the snippets)"
fi

step "vsce package -> $OUT"
mkdir -p "$(dirname "$OUT")"
rm -f "$OUT"
"$BIN/vsce" package --no-dependencies -o "$OUT"

step "check the vsix contents"
listing="$(unzip -l "$OUT")"
echo "$listing"
missing=0
for f in extension/package.json extension/out/extension.js extension/syntaxes/proc.tmLanguage.json \
  extension/language-configuration.json extension/snippets/proc.json extension/readme.md; do
  if ! grep -qE "[[:space:]]$f\$" <<<"$listing"; then
    echo "missing from the vsix: $f" >&2
    missing=1
  fi
done
if grep -qE '[[:space:]]extension/(node_modules|src|tests|e2e)/' <<<"$listing"; then
  echo "the vsix contains files it should not ship (node_modules, src, tests or e2e)" >&2
  missing=1
fi
((missing == 0)) || exit 1

step "done"
echo "built $OUT ($(stat -c %s "$OUT") bytes)"
