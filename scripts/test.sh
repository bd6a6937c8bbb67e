#!/usr/bin/env bash
# Builds certauth and runs every test: a formatting check; the normal build with warnings as
# errors and its tests; clang-tidy over src/; the same tests built with
# AddressSanitizer + UndefinedBehaviorSanitizer; the server's concurrent tests
# under ThreadSanitizer; the fuzz regressions and a short libFuzzer run of
# every target; under CI, last, the quick run in a fresh Debian 13 root.
#
# Usage: scripts/test.sh [--quick] [--debian13 | --no-debian13]   (from anywhere; CI runs this)
#   --quick         the formatting check, a Release build (warnings as errors) and its
#                   tests but those labelled slow: no clang-tidy, sanitizers,
#                   ThreadSanitizer or fuzzing (CERTAUTH_QUICK=1 does the same).
#                   What the Debian 13 stage runs.
#   --debian13      last, scripts/test-debian13.sh: the quick run in a fresh Debian 13
#                   root (debootstrap). On by default when CI=true.
#   --no-debian13   not even when CI=true.
# CERTAUTH_FUZZ_SECONDS (default 20) sets the fuzzing time per target;
# CERTAUTH_JOBS (default 2) the build and test parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${CERTAUTH_JOBS:-2}

quick=${CERTAUTH_QUICK:-0}
debian13=0
if [ "${CI:-}" = true ]; then debian13=1; fi
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --debian13) debian13=1 ;;
    --no-debian13) debian13=0 ;;
    *) echo "usage: scripts/test.sh [--quick] [--debian13 | --no-debian13]" >&2; exit 2 ;;
  esac
done

bash scripts/bootstrap.sh
. scripts/lib/release.sh

start=$(date +%s)
step() { printf '\n==> [%s s] %s\n' "$(($(date +%s) - start))" "$*"; }

# The Debian 13 root is made and its packages installed from the start, in
# the background (mostly downloads), while the stages below build; its run
# inside waits for $debian13_go, created once they have passed.
if [ "$debian13" = 1 ]; then
  debian13_work=$(mktemp -d "${TMPDIR:-/tmp}/certauth-test.XXXXXX")
  debian13_go=$debian13_work/go
  debian13_log=$debian13_work/debian13.log
  # A process group of its own: stopped whole (apt inside too) when a stage fails.
  # Niced, so that its preparation leaves the CPU and the disk to the host's
  # stages and their tests' time bounds (nothing else runs by the time its
  # own build and tests start; -t: without I/O priorities it runs all the
  # same). setsid, nice and ionice exec in turn: $! is the group's leader.
  setsid nice -n 10 ionice -t -c 2 -n 7 bash scripts/test-debian13.sh --start-after "$debian13_go" >"$debian13_log" 2>&1 &
  debian13_pid=$!
  # shellcheck disable=SC2317  # invoked by the EXIT trap
  stop_debian13() {
    if [ -n "$debian13_pid" ] && kill -0 "$debian13_pid" 2>/dev/null; then
      kill -TERM -- "-$debian13_pid" 2>/dev/null || true
      wait "$debian13_pid" 2>/dev/null || true
    fi
    rm -rf "$debian13_work"
  }
  trap stop_debian13 EXIT
fi

# .clang-format is written for clang-format 14: later versions lay out a few
# constructs differently, so the check needs that version's exact behaviour.
if [ "$llvm_version" = 14 ]; then
  step "formatting (.clang-format applied to every C++ file)"
  "$(llvm_tool clang-format)" --dry-run -Werror $(git ls-files '*.cpp' '*.hpp')
else
  step "formatting: skipped (checked with clang-format 14, which $release_codename does not have)"
fi

if [ "$quick" = 1 ]; then
  build=build-release
  build_type=Release
else
  build=build
  build_type=RelWithDebInfo
fi

step "build (warnings as errors; $build_type in $build)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="$build_type" -DCERTAUTH_WERROR=ON -DCERTAUTH_DEBUG_INFO=lines
cmake --build "$build" -j "$jobs"

# The quick run leaves out the tests labelled slow (minutes each: the .deb's
# install test in a booted Debian 12 root).
ctest_filter=()
if [ "$quick" = 1 ]; then ctest_filter=(--label-exclude slow); fi
step "tests${ctest_filter[*]:+ (${ctest_filter[*]})}"
(cd "$build" && ctest --output-on-failure -j "$jobs" "${ctest_filter[@]}")

if [ "$quick" = 0 ]; then
  step "clang-tidy over src/"
  bash scripts/tidy.sh build

  step "build with ASan+UBSan"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCERTAUTH_WERROR=ON -DCERTAUTH_SANITIZE=ON \
    -DCERTAUTH_DEBUG_INFO=lines
  cmake --build build-asan -j "$jobs"

  step "tests under ASan+UBSan"
  (cd build-asan &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --output-on-failure -j "$jobs" --label-exclude 'slow|tooling')

  step "ThreadSanitizer: serve, hostile clients, reload under load, faults"
  bash scripts/tsan.sh

  step "fuzzing: regressions, then ${CERTAUTH_FUZZ_SECONDS:-20} s per target"
  bash scripts/fuzz.sh "${CERTAUTH_FUZZ_SECONDS:-20}"
fi

if [ "$debian13" = 1 ]; then
  step "Debian 13: the quick run in a fresh trixie root (scripts/test-debian13.sh; the root made meanwhile)"
  touch "$debian13_go"
  tail -n +1 -f --pid="$debian13_pid" "$debian13_log"
  wait "$debian13_pid"
  debian13_pid="" # reaped: the EXIT trap has nothing left to stop
fi

step "all tests passed"
