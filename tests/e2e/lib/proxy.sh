# shellcheck shell=bash disable=SC2154  # work, started_pids and fail are the caller's
# Sourced by the shell tests (and scripts/capture-proxy-vectors.sh) that run
# a proxy with one of the configurations in docs/recipes/, its placeholders
# (@NAME@) filled (after lib/processes.sh):
#   fill_template TEMPLATE OUT KEY=VALUE...
#       TEMPLATE with every @KEY@ replaced by VALUE, into OUT; fails naming
#       TEMPLATE, the line and the placeholder when one is left unfilled
#       (KEYs the template does not use are allowed)
#   start_proxy NAME TEMPLATE KEY=VALUE... -- COMMAND...
#       TEMPLATE filled with PORT=(a free port) and the KEY=VALUEs into
#       $work/NAME.conf, COMMAND started in the background (@CONF@ in it
#       names that file; its output in $work/NAME.out, stopped by
#       stop_started) and waited for until it accepts connections on the
#       port (10 s at the most, on three ports in turn: a free port may be
#       taken before the proxy binds it); sets ${NAME}_port and ${NAME}_pid
#   request NAME CERT CURL_ARGS...
#       curl (10 s at the most) trusting $pki/ca.crt, with the client
#       certificate $pki/CERT.crt (none when CERT is ""); the status in
#       $work/NAME.status, the body in $work/NAME.body
#   expect NAME STATUS [REASON]
#       that request got STATUS (and a JSON body with "reason":"REASON")
# Needs a scratch folder in $work (and pki for request).

fill_template() {
  local template=$1 out=$2 pair text
  shift 2
  [ -r "$template" ] || fail "$template: no such template"
  text=$(<"$template")
  for pair in "$@"; do
    [[ $pair =~ ^[A-Z][A-Z0-9_]*= ]] || fail "fill_template $template: '$pair' is not KEY=VALUE"
    text=${text//"@${pair%%=*}@"/"${pair#*=}"}
  done
  if [[ $text =~ @[A-Z][A-Z0-9_]*@ ]]; then
    fail "$template, line $(grep -n -m 1 -F "${BASH_REMATCH[0]}" "$template" | cut -d: -f1): placeholder ${BASH_REMATCH[0]} is not filled (given: ${*%%=*})"
  fi
  printf '%s\n' "$text" >"$out"
}

start_proxy() {
  local name=$1 template=$2 conf="$work/$1.conf" fills=() port pid up=""
  shift 2
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    fills+=("$1")
    shift
  done
  [ $# -gt 1 ] || fail "start_proxy $name: no -- COMMAND"
  shift
  for _ in 1 2 3; do
    port=$(free_port)
    fill_template "$template" "$conf" PORT="$port" "${fills[@]}"
    "${@//@CONF@/"$conf"}" >"$work/$name.out" 2>&1 &
    pid=$!
    started_pids+=("$pid")
    if wait_port "$port" "$pid"; then
      up=1
      break
    fi
  done
  [ -n "$up" ] || { cat "$work/$name.out" >&2 || true; fail "$name did not start"; }
  printf -v "${name}_port" '%s' "$port"
  printf -v "${name}_pid" '%s' "$pid"
}

request() {
  local name=$1 cert=$2
  shift 2
  local auth=()
  [ -n "$cert" ] && auth=(--cert "$pki/$cert.crt" --key "$pki/$cert.key")
  curl -sS --max-time 10 --cacert "$pki/ca.crt" "${auth[@]}" -o "$work/$name.body" -w '%{http_code}' \
    "$@" >"$work/$name.status"
}

expect() {
  [ "$(cat "$work/$1.status")" = "$2" ] || fail "$1: expected $2, got $(cat "$work/$1.status"): $(cat "$work/$1.body")"
  [ -z "${3:-}" ] || grep -q "\"reason\":\"$3\"" "$work/$1.body" || fail "$1: expected reason $3: $(cat "$work/$1.body")"
}
