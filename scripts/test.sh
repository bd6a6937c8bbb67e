#!/usr/bin/env bash
# Builds certauth and runs every test: the normal build with warnings as
# errors, then the same tests built with AddressSanitizer + UndefinedBehavior
# Sanitizer. Usage: scripts/test.sh   (from anywhere; CI runs exactly this)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${CERTAUTH_JOBS:-2}

bash scripts/bootstrap.sh

step() { printf '\n==> %s\n' "$*"; }

step "build (warnings as errors)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCERTAUTH_WERROR=ON
cmake --build build -j "$jobs"

step "tests"
(cd build && ctest --output-on-failure -j "$jobs")

step "build with ASan+UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCERTAUTH_WERROR=ON -DCERTAUTH_SANITIZE=ON
cmake --build build-asan -j "$jobs"

step "tests under ASan+UBSan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j "$jobs")

step "all tests passed"
