#!/usr/bin/env bash
# The bash completion installed as share/bash-completion/completions/certauth
# (packaging/certauth.bash-completion), sourced into bash with
# bash-completion's own library, as an interactive shell loads it: it
# completes the subcommands and, for each, every long option its --help lists
# (both read from the program, as the man page test reads them), the values
# of options that take a fixed set, and file names.
set -euo pipefail

CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
CERTAUTH="$(realpath "$CERTAUTH")"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
source "$SRC/tests/package/lib/help.sh"
library=/usr/share/bash-completion/bash_completion
[ -r "$library" ] || { echo "FAIL: $library missing (package bash-completion)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$work/certs/sub"
touch "$work/certs/joe.crt" "$work/certs/joe.key" "$work/certs/site.toml"

# completions WORD...: what bash offers for the last WORD (may be empty) after
# the others, one per line, sorted.
completions() {
  (
    set +euo pipefail # as in an interactive shell: bash-completion expects it
    cd "$work/certs" || exit 3
    # shellcheck disable=SC1090
    source "$library"
    source "$SRC/packaging/certauth.bash-completion"
    [ "$(complete -p certauth)" = "complete -F _certauth certauth" ] || { echo "not registered" >&2; exit 3; }
    COMP_WORDS=("$CERTAUTH" "$@")
    COMP_CWORD=$#
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _certauth
    printf '%s\n' "${COMPREPLY[@]}" | sort
  )
}
expect() { # EXPECTED WORD...
  local want=$1 got
  shift
  got="$(completions "$@" | paste -sd ' ')"
  [ "$got" = "$want" ] || fail "certauth $*<TAB>: expected '$want', got '$got'"
}

subs="$("$CERTAUTH" --help | help_subcommands | sort)"
[ "$(wc -l <<<"$subs")" -ge 3 ] || fail "found only: $subs"
expect "$(paste -sd ' ' <<<"$subs")" ""
expect "serve" se
expect "--config --help --version" --
expect "--config" --con

for sub in $subs; do
  want="$( ("$CERTAUTH" "$sub" --help | help_long_options; echo --config) | sort -u | paste -sd ' ')"
  got="$(completions "$sub" -- | paste -sd ' ')"
  [ "$got" = "$want" ] || fail "certauth $sub --<TAB>: expected '$want', got '$got'"
done

expect "--listen --listen-trusted --log-format" serve --l
expect "json text" serve --log-format ""
expect "json" serve --log-format=j
expect "GET HEAD" probe -X ""
expect "json junit" probe --report j
expect "joe.crt joe.key" check --ca jo
expect "joe.crt joe.key site.toml sub" check --users ""
expect "joe.crt joe.key" check jo
expect "site.toml" --config si
expect "site.toml" serve --config si
expect "" serve --threads ""
expect "" probe --listen-nothing-here
echo "ok"
