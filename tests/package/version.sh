#!/usr/bin/env bash
# `certauth --version`: the project's version, the git commit it was built
# from (HEAD when it was last built, found at build time; or "unknown"
# outside a checkout: the fallback is run on a directory that is not one,
# and on a tree without .git inside another repository), the build type it was
# configured with, and the OpenSSL it runs with (the library `openssl version`
# also loads) and was built with (the headers').
set -euo pipefail

CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
BUILD="${CERTAUTH_BUILD_DIR:?set CERTAUTH_BUILD_DIR to the build tree}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$CERTAUTH" --version >"$work/out" 2>"$work/err" || fail "--version exited $?: $(cat "$work/err")"
[ ! -s "$work/err" ] || fail "--version wrote to stderr: $(cat "$work/err")"
cat "$work/out"
[ "$(wc -l <"$work/out")" -eq 2 ] || fail "expected two lines"

cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
version="$(cache_value CMAKE_PROJECT_VERSION)"
build_type="$(cache_value CMAKE_BUILD_TYPE)"
[ -n "$version" ] && [ -n "$build_type" ] || fail "no version or build type in $BUILD/CMakeCache.txt"

line1="$(sed -n 1p "$work/out")"
[[ $line1 =~ ^certauth\ ([^ ]+)\ \(commit\ ([^,]+),\ ([^ ]+)\ build\)$ ]] || fail "first line: $line1"
[ "${BASH_REMATCH[1]}" = "$version" ] || fail "version ${BASH_REMATCH[1]}, project() says $version"
commit="${BASH_REMATCH[2]}"
[ "${BASH_REMATCH[3]}" = "$build_type" ] || fail "build type ${BASH_REMATCH[3]}, configured $build_type"
# The commit is found at build time: the binary names HEAD as it was when it
# was last built (a binary older than the last commit is stale: build again).
head="$(git -C "$SRC" rev-parse --show-toplevel --short HEAD 2>/dev/null | sed -n 2p || true)"
if [ "$(git -C "$SRC" rev-parse --show-toplevel 2>/dev/null || true)" = "$(cd "$SRC" && pwd -P)" ]; then
  [ "$commit" = "$head" ] || fail "the binary names commit '$commit', HEAD is $head (not rebuilt since the last commit?)"
else
  [ "$commit" = unknown ] || fail "commit '$commit' outside a git checkout"
fi

# The commit module: this checkout's HEAD, and "unknown" where there is none.
[ "$(cmake -D DIR="$SRC" -P "$SRC/cmake/git_commit.cmake")" = "${head:-unknown}" ] ||
  fail "cmake/git_commit.cmake disagrees with git on $SRC"
mkdir "$work/not-a-checkout"
[ "$(GIT_CEILING_DIRECTORIES="$work" cmake -D DIR="$work/not-a-checkout" -P "$SRC/cmake/git_commit.cmake")" = unknown ] ||
  fail "outside a checkout the commit is not 'unknown'"

# A build follows HEAD without configuring again, and rewrites the header
# only when the commit changed (what includes it is not compiled again for
# nothing); a source tree without .git unpacked inside another repository
# (a tarball) is "unknown", not that repository's commit. A small project
# using the same module, in a scratch repository.
repo="$work/repo"
git_() { git -C "$repo" -c user.name=test -c user.email=test@localhost -c commit.gpgsign=false "$@" >/dev/null; }
mkdir -p "$repo/tarball"
git init -q "$repo"
cat >"$repo/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(commit_test NONE)
include("$SRC/cmake/git_commit.cmake")
certauth_commit_header(commit \${DIR} \${CMAKE_BINARY_DIR}/build_commit.hpp)
CMAKE
cp "$repo/CMakeLists.txt" "$repo/tarball/CMakeLists.txt"
git_ add CMakeLists.txt
git_ commit -q -m first
header_commit() { sed -n 's/.*k_commit = "\(.*\)";/\1/p' "$1/build_commit.hpp"; }
build() { # SOURCE BUILD: configure once, then build the target
  [ -f "$2/CMakeCache.txt" ] || cmake -S "$1" -B "$2" -D DIR="$1" >"$work/cmake.log" 2>&1 ||
    fail "configure $1: $(cat "$work/cmake.log")"
  cmake --build "$2" --target commit >"$work/cmake.log" 2>&1 || fail "build $2: $(cat "$work/cmake.log")"
}
build "$repo" "$work/b"
first="$(git -C "$repo" rev-parse --short HEAD)"
[ "$(header_commit "$work/b")" = "$first" ] || fail "header names '$(header_commit "$work/b")', HEAD is $first"
touch -d '2000-01-01' "$work/b/build_commit.hpp"
build "$repo" "$work/b"
[ "$(stat -c %Y "$work/b/build_commit.hpp")" = "$(date -d 2000-01-01 +%s)" ] ||
  fail "the header was rewritten although HEAD did not move"
echo more >"$repo/notes.txt"
git_ add notes.txt
git_ commit -q -m second
second="$(git -C "$repo" rev-parse --short HEAD)"
build "$repo" "$work/b"
[ "$(header_commit "$work/b")" = "$second" ] ||
  fail "after a commit and a build without configuring, the header names '$(header_commit "$work/b")', HEAD is $second"
build "$repo/tarball" "$work/t"
[ "$(header_commit "$work/t")" = unknown ] ||
  fail "a tree without .git inside another repository names '$(header_commit "$work/t")'"

line2="$(sed -n 2p "$work/out")"
[[ $line2 =~ ^running\ with\ (OpenSSL\ .+),\ built\ with\ (OpenSSL\ .+)$ ]] || fail "second line: $line2"
running="${BASH_REMATCH[1]}"
built="${BASH_REMATCH[2]}"
# `openssl version`: "OpenSSL 3.0.x DATE (Library: OpenSSL 3.0.x DATE)".
library="$(openssl version | sed -n 's/.*(Library: \(.*\))$/\1/p')"
[ -n "$library" ] || library="$(openssl version)"
[ "$running" = "$library" ] || fail "runs with '$running', the system's libssl is '$library'"
header="$(sed -n 's/^# *define OPENSSL_VERSION_TEXT *"\(.*\)"$/\1/p' /usr/include/openssl/opensslv.h)"
[ "$built" = "$header" ] || fail "built with '$built', /usr/include/openssl/opensslv.h says '$header'"
echo "ok"
