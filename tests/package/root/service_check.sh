#!/bin/sh
# Runs inside the Debian root that tests/package/deb_bookworm.sh boots with
# systemd, the .deb installed and /etc/certauth filled with the fixtures
# (joe.pem and bob.pem in /root): certauth.service as systemd runs it, with
# the unit's sandbox. Prints "FAIL: ..." and exits 1 at the first failure.
set -u

fail() {
  echo "FAIL: $*"
  journalctl -u certauth --no-pager -o cat | grep -v '"GET /' | tail -n 20
  exit 1
}
# request USER STATUS [REASON]: one request with USER's certificate.
request() {
  certauth probe https://localhost:3443/ --cacert /etc/certauth/ca.crt --cert "/root/$1.pem" --timeout 2 \
    --expect "$2" ${3:+--expect-reason "$3"} >/tmp/probe.out 2>&1
}
# eventually SECONDS COMMAND...: COMMAND succeeds within SECONDS.
eventually() {
  seconds=$1
  shift
  i=0
  while [ "$i" -lt "$((seconds * 10))" ]; do
    "$@" && return 0
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}
main_pid() { systemctl show -p MainPID --value certauth; }

systemctl start certauth || fail "systemctl start certauth"
eventually 10 request joe 200 || fail "joe: $(cat /tmp/probe.out)"
request bob 401 unknown_user || fail "bob: $(cat /tmp/probe.out)"
echo "started; joe 200, bob 401 unknown_user"

# The sandbox as the kernel sees it.
status=/proc/$(main_pid)/status
uid=$(id -u certauth)
grep -q "^Uid:[[:space:]]*$uid[[:space:]]" "$status" || fail "not running as certauth ($uid): $(grep ^Uid: "$status")"
grep -q '^CapEff:[[:space:]]*0000000000000000$' "$status" || fail "capabilities: $(grep ^CapEff: "$status")"
grep -q '^NoNewPrivs:[[:space:]]*1$' "$status" || fail "$(grep ^NoNewPrivs: "$status")"
grep -q '^Seccomp:[[:space:]]*2$' "$status" || fail "no system call filter: $(grep ^Seccomp: "$status")"
echo "user certauth, no capabilities, no new privileges, system call filter"

# Work under the system call filter: keep-alive load, full and resumed
# handshakes on both worker threads.
certauth probe https://localhost:3443/ --cacert /etc/certauth/ca.crt --cert /root/joe.pem \
  --load --requests 2000 --concurrency 8 >/tmp/load.out 2>&1 || fail "keep-alive load: $(cat /tmp/load.out)"
certauth probe https://localhost:3443/ --cacert /etc/certauth/ca.crt --cert /root/joe.pem \
  --load --requests 300 --concurrency 4 --new-connections --resume >/tmp/load.out 2>&1 || fail "handshake load: $(cat /tmp/load.out)"
echo "load: 2000 keep-alive requests, 300 new connections"

# systemctl reload: bob added to the user list.
pid=$(main_pid)
cp /etc/certauth/users.json /root/users.json
sed -i 's/"users": *\[/"users": ["bob", /' /etc/certauth/users.json
systemctl reload certauth || fail "systemctl reload certauth"
eventually 5 request bob 200 || fail "bob after the reload: $(cat /tmp/probe.out)"
[ "$(main_pid)" = "$pid" ] || fail "the reload restarted the process"
echo "reload: bob 200, same process"

# A reload that fails keeps the running state.
echo '{"users": [' >/etc/certauth/users.json
systemctl reload certauth || fail "systemctl reload certauth (bad users.json)"
eventually 5 sh -c 'journalctl -u certauth --no-pager -o cat | grep -q "reload failed"' || fail "no 'reload failed' in the journal"
systemctl is-active --quiet certauth || fail "a failed reload stopped the service"
request bob 200 || fail "bob after a failed reload: $(cat /tmp/probe.out)"
cp /root/users.json /etc/certauth/users.json
echo "failed reload: logged, previous state kept"

# Restart=on-failure.
kill -SEGV "$pid"
eventually 10 sh -c '[ "$(systemctl show -p NRestarts --value certauth)" = 1 ]' || fail "not restarted after SIGSEGV"
eventually 10 request joe 200 || fail "joe after the restart: $(cat /tmp/probe.out)"
echo "restarted after a crash"

# systemctl stop: SIGTERM, a clean exit.
systemctl stop certauth || fail "systemctl stop certauth"
[ "$(systemctl show -p Result --value certauth)" = success ] || fail "stop: $(systemctl show -p Result -p ExecMainStatus certauth)"
echo "stopped cleanly"
