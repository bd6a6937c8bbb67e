#!/usr/bin/env bash
# Builds certauth and runs every test: a formatting check; the normal build with warnings as
# errors and its tests; clang-tidy over src/; the same tests built with
# AddressSanitizer + UndefinedBehaviorSanitizer; the server's concurrent tests
# under ThreadSanitizer; the fuzz regressions and a short libFuzzer run of
# every target. Usage: scripts/test.sh   (from anywhere; CI runs exactly this)
# CERTAUTH_FUZZ_SECONDS (default 60) sets the fuzzing time per target.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${CERTAUTH_JOBS:-2}

bash scripts/bootstrap.sh

start=$(date +%s)
step() { printf '\n==> [%s s] %s\n' "$(($(date +%s) - start))" "$*"; }

step "formatting (.clang-format applied to every C++ file)"
clang-format-14 --dry-run -Werror $(git ls-files '*.cpp' '*.hpp')

step "build (warnings as errors)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCERTAUTH_WERROR=ON
cmake --build build -j "$jobs"

step "tests"
(cd build && ctest --output-on-failure -j "$jobs")

step "clang-tidy over src/"
bash scripts/tidy.sh build

step "build with ASan+UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCERTAUTH_WERROR=ON -DCERTAUTH_SANITIZE=ON
cmake --build build-asan -j "$jobs"

step "tests under ASan+UBSan"
(cd build-asan &&
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j "$jobs" --label-exclude slow)

step "ThreadSanitizer: serve, hostile clients, reload under load, faults"
bash scripts/tsan.sh

step "fuzzing: regressions, then ${CERTAUTH_FUZZ_SECONDS:-60} s per target"
bash scripts/fuzz.sh "${CERTAUTH_FUZZ_SECONDS:-60}"

step "all tests passed"
