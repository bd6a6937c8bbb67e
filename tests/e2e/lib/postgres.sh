# shellcheck shell=bash disable=SC2154,SC2034  # work and fail are the caller's; pg_uri is for the caller
# Sourced by the shell tests and benchmarks that need a throwaway PostgreSQL
# cluster (the newest Debian installed under /usr/lib/postgresql): initdb
# into $work/pg (as the postgres user when running as root), a unix socket
# there and no TCP listener.
#   pg_init      initdb and start; sets pg_uri (a postgresql:// URI for --users)
#   pg_start     start the cluster again (bounded: pg_ctl -w -t 30)
#   pg_stop      stop it (fast: clients are disconnected)
#   pg_cleanup   stop it at once if it runs (for the EXIT trap)
#   pg_commit_time   when the last transaction that wrote committed (seconds
#                since the epoch; track_commit_timestamp is on)
# Needs a scratch folder in $work and a fail function.

pg_bin=""
pg_uri=""
pg_running=0
pg_as=()

pg_ctl_() { "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -w -t 30 "$@"; }

pg_init() {
  pg_bin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then fail "no PostgreSQL server under /usr/lib/postgresql"; fi
  mkdir -p "$work/pg"
  if [ "$(id -u)" -eq 0 ]; then
    chmod 711 "$work" # postgres must reach its folder inside
    chown postgres: "$work/pg"
    pg_as=(runuser -u postgres --)
  fi
  "${pg_as[@]}" "$pg_bin/initdb" -D "$work/pg/data" -A trust -U postgres -E UTF8 --locale=C --no-sync \
    --no-instructions >"$work/pg/initdb.out" 2>&1 || { cat "$work/pg/initdb.out" >&2; fail "initdb failed"; }
  pg_uri="postgresql:///postgres?host=$work/pg&user=postgres"
  pg_start
}

pg_start() {
  pg_ctl_ -l "$work/pg/log" -o "-k $work/pg -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c track_commit_timestamp=on" \
    start >/dev/null || { cat "$work/pg/log" >&2; fail "PostgreSQL did not start"; }
  pg_running=1
}

pg_stop() {
  pg_ctl_ -m fast stop >/dev/null || fail "PostgreSQL did not stop"
  pg_running=0
}

pg_cleanup() {
  [ "$pg_running" = 1 ] || return 0
  pg_ctl_ -m immediate stop >/dev/null 2>&1 || true
  pg_running=0
}

pg_commit_time() {
  "$pg_bin/psql" "$pg_uri" -XAtc 'SELECT extract(epoch FROM timestamp) FROM pg_last_committed_xact()'
}
