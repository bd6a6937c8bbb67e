#!/usr/bin/env bash
# clang-tidy (the release's: scripts/lib/release.sh) over certauth's sources in src/, with the checks of the
# checked-in .clang-tidy (bugprone, performance, modernize; the few noisy
# ones disabled there with a reason). Every finding is an error. Needs only
# a configured build directory for its compile_commands.json (configured
# here when missing); src/asio/asio_impl.cpp, which only compiles Boost's
# own sources, is left out.
#
# Usage: scripts/tidy.sh [BUILD_DIR]    (default: build; CERTAUTH_JOBS=2 by default)
#        scripts/tidy.sh build src/server/session.cpp ...   (only these files)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
. scripts/lib/release.sh
build=${1:-build}
shift || true
jobs=${CERTAUTH_JOBS:-2}
start=$(date +%s)

tidy=$(command -v "$(llvm_tool clang-tidy)" || true)
runner=$(command -v "$(llvm_tool run-clang-tidy)" || true)
if [ -z "$tidy" ] || [ -z "$runner" ]; then
    echo "tidy.sh: $(llvm_tool clang-tidy) is missing (scripts/bootstrap.sh installs it)" >&2
    exit 2
fi
if [ ! -f "$build/compile_commands.json" ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCERTAUTH_WERROR=ON >/dev/null
fi

if [ "$#" -gt 0 ]; then
    files=()
    for f in "$@"; do files+=("$(realpath "$f")"); done
    pattern=$(printf '%s|' "${files[@]}")
    pattern="^(${pattern%|})\$"
else
    pattern="^$root/src/(?!net/asio/).*\\.cpp\$"
fi

# -Wno-unknown-warning-option: the compile commands are g++'s, and clang
# does not know some of its warning flags.
status=0
"$runner" -clang-tidy-binary "$tidy" -p "$build" -j "$jobs" -quiet \
    -extra-arg=-Wno-unknown-warning-option "$pattern" || status=$?

echo "tidy.sh: $(($(date +%s) - start)) s"
if [ "$status" -ne 0 ]; then
    echo "tidy.sh: clang-tidy found problems (above)" >&2
    exit 1
fi
echo "tidy.sh: clean"
