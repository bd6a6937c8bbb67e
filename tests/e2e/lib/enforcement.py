"""What certauth instances answer a client certificate, and waiting until
every one of them answers what a change in the user directory should make
them answer. Each request is a new TLS connection (GET / as the certificate's
holder, Connection: close), so nothing cached on a connection hides a change.

Used by tests/e2e/fleet_haproxy.sh and scripts/bench/propagation.py:
  enforcement.py wait --ca CA --cert CRT --key KEY --expect '401 unknown_user'
                 [--since EPOCH] [--timeout S] PORT...
prints the seconds from EPOCH (default: its own start) until every PORT had
answered EXPECT; exit 1 (with the last answers) when TIMEOUT passed first.
"""
import argparse
import json
import socket
import ssl
import sys
import time


class Client:
    def __init__(self, ca, cert, key):
        self.context = ssl.create_default_context(cafile=ca)
        self.context.load_cert_chain(cert, key)

    def answer(self, port, path="/"):
        """'STATUS REASON' ('200', '401 unknown_user') or 'error: ...'."""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with self.context.wrap_socket(raw, server_hostname="localhost") as tls:
                    tls.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
                    data = b""
                    while True:
                        chunk = tls.recv(65536)
                        if not chunk:
                            break
                        data += chunk
        except (OSError, ssl.SSLError) as e:
            return f"error: {e}"
        head, _, body = data.partition(b"\r\n\r\n")
        parts = head.split(b" ", 2)
        if len(parts) < 2:
            return f"error: no HTTP response: {head[:80]!r}"
        status = parts[1].decode()
        try:
            reason = json.loads(body).get("reason") or ""
        except ValueError:
            reason = ""
        return f"{status} {reason}".strip()

    def wait(self, ports, expect, since, timeout):
        """Seconds from `since` until every port had answered `expect`, or
        None when `timeout` seconds passed first; the last answers."""
        pending = set(ports)
        last = {}
        while True:
            for port in sorted(pending):
                last[port] = self.answer(port)
                if last[port] == expect:
                    pending.discard(port)
            now = time.time()
            if not pending:
                return now - since, last
            if now - since > timeout:
                return None, last
            time.sleep(0.005)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["wait"])
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--expect", required=True)
    parser.add_argument("--since", type=float)
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("ports", type=int, nargs="+")
    args = parser.parse_args()
    since = args.since if args.since is not None else time.time()
    took, last = Client(args.ca, args.cert, args.key).wait(args.ports, args.expect, since, args.timeout)
    if took is None:
        print(f"not every instance answered {args.expect!r} within {args.timeout} s: {last}", file=sys.stderr)
        return 1
    print(f"{took:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
