#!/usr/bin/env bash
# The documentation's commands, run as a reader runs them: the demo server as
# scripts/demo.sh starts it (`cd fixtures && ../build/certauth serve`, here on
# an ephemeral port), then every ```sh block of README.md and docs/*.md from
# the repository root, each command's printed output checked against the
# `# ` lines the page shows below it (tests/e2e/doc_commands.py). Also: every
# relative link of the documentation resolves, and README.md stays short.
set -euo pipefail

CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
cd "$SRC"

# Pages other branches write; linked before they are here. Delete an entry
# once its page exists.
pending="docs/directory.md,docs/architecture.md"

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

lines=$(wc -l <README.md)
[ "$lines" -le 150 ] || fail "README.md has $lines lines; it stays at 150 at most (the rest goes to docs/)"

# The repository root's layout, with the fixtures copied (the scenario file
# gets the server's port) and build/certauth the binary under test.
cp -r fixtures "$work/fixtures"
mkdir "$work/build"
ln -s "$CERTAUTH" "$work/build/certauth"

(cd "$work/fixtures" && exec ../build/certauth serve --listen 127.0.0.1:0) >"$work/serve.out" 2>"$work/serve.err" &
server=$!
port=""
for _ in $(seq 1 200); do
  port="$(sed -n 's/.*listening on https:\/\/127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$work/serve.err" | head -n 1)"
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.err" >&2; fail "serve exited"; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/serve.err" >&2; fail "serve did not report its port"; }
grep -q 'configuration: certauth.toml' "$work/serve.err" || fail "the demo server did not use fixtures/certauth.toml"
sed -i "s#localhost:3443#localhost:$port#g" "$work/fixtures/scenarios.json"

pages=(README.md)
for page in docs/*.md; do pages+=("$page"); done
python3 tests/e2e/doc_commands.py --root "$SRC" --work "$work" --port "$port" --pending "$pending" \
  --links-only CONTRIBUTING.md fixtures/README.md fuzz/README.md -- "${pages[@]}"

if grep -q 'Sanitizer' "$work/serve.err"; then cat "$work/serve.err" >&2; fail "sanitizer report"; fi
echo "doc_commands: all checks passed"
