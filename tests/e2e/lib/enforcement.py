"""What certauth instances answer a client certificate, and waiting until
every one of them answers what a change in the user directory should make
them answer. Each request is a new TLS connection (GET / as the certificate's
holder, Connection: close), so nothing cached on a connection hides a change.

Used by tests/e2e/fleet_haproxy.sh and scripts/bench/propagation.py:
  enforcement.py wait --ca CA --cert CRT --key KEY --expect '401 unknown_user'
                 [--timeout S] PORT... [-- COMMAND...]
runs COMMAND (the change; it must succeed), then asks every PORT until each
has answered EXPECT, and prints the time (seconds since the epoch) by which
they had, and after it the time COMMAND was started; exit 1 (with the last
answers) when TIMEOUT seconds passed first.
Running the change itself, it asks at once, not after a start-up of its own.
"""
import argparse
import json
import socket
import ssl
import subprocess
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

    def wait(self, ports, expect, timeout):
        """The time (time.time()) by which every port had answered `expect`,
        or None when `timeout` seconds passed first; the last answers."""
        deadline = time.monotonic() + timeout
        pending = set(ports)
        last = {}
        while True:
            for port in sorted(pending):
                last[port] = self.answer(port)
                if last[port] == expect:
                    pending.discard(port)
            if not pending:
                return time.time(), last
            if time.monotonic() > deadline:
                return None, last
            time.sleep(0.005)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["wait"])
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--expect", required=True)
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("ports", type=int, nargs="+")
    argv = sys.argv[1:]
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    client = Client(args.ca, args.cert, args.key)
    started = time.time()
    if command:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    done, last = client.wait(args.ports, args.expect, args.timeout)
    if done is None:
        print(f"not every instance answered {args.expect!r} within {args.timeout} s: {last}", file=sys.stderr)
        return 1
    print(f"{done:.6f}" + (f" {started:.6f}" if command else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
