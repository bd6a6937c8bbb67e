#!/usr/bin/env python3
"""Stands where certauth stands behind a proxy and records one header's value
exactly as it arrived, bytes as on the wire (scripts/capture-proxy-vectors.sh).

Every request is answered 200 with an empty body and the connection closed.
A request carrying "X-Capture-Case: NAME" has the value of the header named
by --header (without the name, the colon and the whitespace around the value)
written to DIR/NAME.value; DIR/NAME.absent when the request had no such
header; DIR/NAME.repeated when it came on several field lines (the values,
one per line). Requests without X-Capture-Case are answered and not recorded.

Standard library only: the request head is read from the socket and split by
hand, so that nothing decodes, folds or trims what the proxy sent. Listens on
127.0.0.1:0 and prints "listening PORT" once ready.
"""
import argparse
import os
import socket
import threading

HEAD_LIMIT = 256 * 1024


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk or len(data) > HEAD_LIMIT:
            return None
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0]


def field_values(head, name):
    values = []
    for line in head.split(b"\r\n")[1:]:
        key, sep, value = line.partition(b":")
        if sep and key.decode("latin-1").lower() == name:
            values.append(value.strip(b" \t"))
    return values


def write(path, data):
    with open(path + ".tmp", "wb") as out:
        out.write(data)
    os.replace(path + ".tmp", path)


def serve(conn, directory, header):
    with conn:
        conn.settimeout(10)
        head = read_head(conn)
        if head is None:
            return
        case = field_values(head, "x-capture-case")
        if case:
            name = case[0].decode("ascii")
            if not name.replace("-", "").isalnum():
                raise ValueError("case names are letters, digits and '-': %r" % name)
            values = field_values(head, header)
            base = os.path.join(directory, name)
            if not values:
                write(base + ".absent", b"")
            elif len(values) == 1:
                write(base + ".value", values[0])
            else:
                write(base + ".repeated", b"\n".join(values))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--header", default="X-Client-Cert")
    args = parser.parse_args()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print("listening %d" % listener.getsockname()[1], flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, args.dir, args.header.lower()), daemon=True).start()


if __name__ == "__main__":
    main()
