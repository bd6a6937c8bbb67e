#!/usr/bin/env bash
# `certauth --version`: the project's version, the git commit it was built
# from (a commit of this repository, or "unknown" outside a checkout: the
# fallback is run on a directory that is not one), the build type it was
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
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
  [[ $commit =~ ^[0-9a-f]{7,}$ ]] || fail "commit '$commit' inside a git checkout"
  git -C "$SRC" cat-file -e "$commit^{commit}" || fail "$commit is not a commit of $SRC"
else
  [ "$commit" = unknown ] || fail "commit '$commit' outside a git checkout"
fi

# The commit module: this checkout's HEAD, and "unknown" where there is none.
[ "$(cmake -D DIR="$SRC" -P "$SRC/cmake/git_commit.cmake")" = "$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)" ] ||
  fail "cmake/git_commit.cmake disagrees with git on $SRC"
mkdir "$work/not-a-checkout"
[ "$(GIT_CEILING_DIRECTORIES="$work" cmake -D DIR="$work/not-a-checkout" -P "$SRC/cmake/git_commit.cmake")" = unknown ] ||
  fail "outside a checkout the commit is not 'unknown'"

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
