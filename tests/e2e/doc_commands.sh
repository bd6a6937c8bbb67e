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
pending="docs/directory.md"

work="$(mktemp -d)"
source tests/e2e/lib/processes.sh
trap 'stop_started; rm -rf "$work"' EXIT

lines=$(wc -l <README.md)
[ "$lines" -le 150 ] || fail "README.md has $lines lines; it stays at 150 at most (the rest goes to docs/)"

# The repository root's layout, with the fixtures copied (the scenario file
# gets the server's port) and build/certauth the binary under test.
cp -r fixtures "$work/fixtures"
mkdir "$work/build"
ln -s "$CERTAUTH" "$work/build/certauth"

listening='s/.*listening on https:\/\/127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p'
start_waiting serve "$listening" sh -c 'cd "$1/fixtures" && exec ../build/certauth serve --listen 127.0.0.1:0' - "$work"
port=$serve_match
grep -q 'configuration: certauth.toml' "$work/serve.err" || fail "the demo server did not use fixtures/certauth.toml"
sed -i "s#localhost:3443#localhost:$port#g" "$work/fixtures/scenarios.json"

# The gateway example (docs/gateway.md, README): the application it shows on
# 8080 and certauth in front of it on 8443, here on ephemeral ports.
start_waiting app 's/^listening \([0-9][0-9]*\)$/\1/p' python3 tests/e2e/apps/echo_app.py
app_port=$app_match
start_waiting gateway "$listening" sh -c \
  'cd "$1/fixtures" && exec ../build/certauth serve --listen 127.0.0.1:0 --upstream "http://127.0.0.1:$2"' - \
  "$work" "$app_port"
gateway_port=$gateway_match

pages=(README.md)
for page in docs/*.md; do pages+=("$page"); done
python3 tests/e2e/doc_commands.py --root "$SRC" --work "$work" --port "$port" --pending "$pending" \
  --gateway-port "$gateway_port" --app-port "$app_port" \
  --links-only CONTRIBUTING.md fixtures/README.md fuzz/README.md -- "${pages[@]}"

for name in serve gateway; do
  if grep -q 'Sanitizer' "$work/$name.err"; then cat "$work/$name.err" >&2; fail "sanitizer report ($name)"; fi
done
echo "doc_commands: all checks passed"
