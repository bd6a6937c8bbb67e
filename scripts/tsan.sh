#!/usr/bin/env bash
# ThreadSanitizer run of certauth's concurrent parts: builds certauth alone
# with -DCERTAUTH_TSAN=ON in build-tsan, then runs the tests that drive a
# real `certauth serve` (and `certauth probe --load`) with that binary: the
# serve tests, hostile clients, reload under load, reload faults, the
# directory watcher (`certauth users watch`, and serve following a
# directory), the probe/serve end-to-end script, and forwarding to an
# application (--upstream). The test harness itself comes from the
# normal build (CERTAUTH_TEST_BINARY points it at the TSan binary): only
# certauth's own threads are under test, and the harness's ~40 translation
# units need not be rebuilt.
#
# Every TSan report is written to a file (log_path), so that a report in any
# process (a server a test stopped, a probe run) fails this script, with the
# report printed; halt_on_error=1 ends a process at its first report.
#
# Usage: scripts/tsan.sh            (from anywhere; CERTAUTH_JOBS=2 by default)
#   CERTAUTH_TEST_BUILD=build       the normal build whose certauth_tests runs the tests
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${CERTAUTH_JOBS:-2}
test_build=${CERTAUTH_TEST_BUILD:-build}
start=$(date +%s)

step() { printf '\n==> [%s s] %s\n' "$(($(date +%s) - start))" "$*"; }

step "build certauth with ThreadSanitizer (build-tsan)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCERTAUTH_WERROR=ON -DCERTAUTH_TSAN=ON \
    -DCERTAUTH_DEBUG_INFO=lines >/dev/null
cmake --build build-tsan --target certauth -j "$jobs"

if [ ! -x "$test_build/tests/certauth_tests" ]; then
    step "build the test harness ($test_build)"
    cmake -S . -B "$test_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCERTAUTH_WERROR=ON \
        -DCERTAUTH_DEBUG_INFO=lines >/dev/null
    cmake --build "$test_build" --target certauth_tests -j "$jobs"
fi

reports=$(mktemp -d "${TMPDIR:-/tmp}/certauth-tsan-XXXXXX")
trap 'rm -rf "$reports"' EXIT
export CERTAUTH_TEST_BINARY="$root/build-tsan/certauth"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 log_path=$reports/tsan"
# A suppressions file would go here, for proven third-party false positives
# only; none is needed (OpenSSL's locks are pthread mutexes, which TSan sees).

failed=0
step "serve, hostile clients, reload under load, faults, directory watcher, forwarding to an application (under TSan)"
# Catch2 test specs: a comma is "or".
if ! "$test_build/tests/certauth_tests" 'serve:*,[hostile],[reload],[fault],[watch],upstream:*' --reporter compact; then
    failed=1
fi

step "e2e: probe against serve (under TSan)"
if ! CERTAUTH="$CERTAUTH_TEST_BINARY" CERTAUTH_SOURCE_DIR="$root" bash tests/e2e/probe_serve.sh; then
    failed=1
fi

if compgen -G "$reports/tsan*" >/dev/null; then
    step "ThreadSanitizer reports"
    cat "$reports"/tsan*
    failed=1
fi

step "tsan.sh: $(($(date +%s) - start)) s"
if [ "$failed" -ne 0 ]; then
    echo "tsan.sh: FAILED" >&2
    exit 1
fi
echo "tsan.sh: clean"
