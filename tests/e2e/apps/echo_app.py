#!/usr/bin/env python3
"""An application for certauth's forwarding tests (serve --upstream): it
answers what it received, so that a test sees exactly what reached it.

  GET|POST|... /any/path   200 JSON: method, path, headers (lower-case names;
                           repeated ones as lists), body_size, body_sha256
  /download?size=N         N bytes (a repeating pattern); &mode=chunked or
                           &mode=close for a chunked or close-delimited body
  /slow?ms=N               answers after N ms
  /status/N                an empty answer with status N (204, 304, ...)
  /ws, /any/path/ws        WebSocket echo (RFC 6455: text and binary frames,
                           ping, close)
  /requests                how many requests it has seen (these not counted), as JSON

With --user-body every other request is answered with the X-Certauth-User
header certauth set, as the body (what certauth answers itself without
--upstream), so that a scenario file written for certauth's own answers
holds for the application behind it too.

Standard library only. Listens on 127.0.0.1:0 (--port N, or --unix PATH) and prints
"listening PORT" (or "listening unix:PATH") once ready; keep-alive.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse

SEEN = {"count": 0}
USER_BODY = False
SEEN_LOCK = threading.Lock()
PATTERN = bytes(range(256)) * 256  # 64 KiB


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "echo-app"

    def log_message(self, *args):  # quiet
        pass

    def read_body(self):
        digest = hashlib.sha256()
        size = 0
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                line = self.rfile.readline(1024)
                length = int(line.split(b";")[0].strip(), 16)
                if length == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                left = length
                while left:
                    chunk = self.rfile.read(min(left, 1 << 20))
                    if not chunk:
                        raise ConnectionError("body cut short")
                    digest.update(chunk)
                    size += len(chunk)
                    left -= len(chunk)
                self.rfile.readline(8)
        else:
            left = int(self.headers.get("Content-Length", "0") or 0)
            while left:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    raise ConnectionError("body cut short")
                digest.update(chunk)
                size += len(chunk)
                left -= len(chunk)
        return size, digest.hexdigest()

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/requests":
            with SEEN_LOCK:
                SEEN["count"] += 1
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/ws" or url.path.endswith("/ws"):
            return self.websocket()
        size, digest = self.read_body()
        if url.path == "/requests":
            return self.json({"count": SEEN["count"]})
        if USER_BODY:
            user = self.headers.get("X-Certauth-User", "")
            return self.raw(200, (user or '{"public":true}').encode() + b"\n")
        if url.path.startswith("/status/"):
            status = int(url.path.split("/")[2])
            self.send_response(status)
            if status not in (204, 304):
                self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if url.path == "/slow":
            time.sleep(int(query.get("ms", ["1000"])[0]) / 1000)
        if url.path == "/download":
            return self.download(int(query.get("size", ["0"])[0]), query.get("mode", ["length"])[0])
        headers = {}
        for name, value in self.headers.items():
            key = name.lower()
            if key in headers:
                if not isinstance(headers[key], list):
                    headers[key] = [headers[key]]
                headers[key].append(value)
            else:
                headers[key] = value
        self.json({"method": self.command, "path": self.path, "headers": headers, "body_size": size,
                   "body_sha256": digest})

    def json(self, value):
        self.raw(200, (json.dumps(value) + "\n").encode())

    def raw(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-App", "echo")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def download(self, size, mode):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        elif mode == "close":
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        left = size
        while left:
            piece = PATTERN[: min(left, len(PATTERN))]
            if mode == "chunked":
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            else:
                self.wfile.write(piece)
            left -= len(piece)
        if mode == "chunked":
            self.wfile.write(b"0\r\n\r\n")

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        while True:
            head = self.rfile.read(2)
            if len(head) < 2:
                return
            opcode = head[0] & 0x0F
            length = head[1] & 0x7F
            if length == 126:
                length = struct.unpack(">H", self.rfile.read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self.rfile.read(8))[0]
            mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
            data = bytearray(self.rfile.read(length))
            for i in range(len(data)):
                data[i] ^= mask[i % 4]
            if opcode == 0x8:  # close: answer it, done
                self.wfile.write(bytes([0x88, len(data)]) + bytes(data))
                return
            reply = 0xA if opcode == 0x9 else opcode  # ping -> pong, else echo
            if length < 126:
                header = bytes([0x80 | reply, length])
            elif length < 65536:
                header = bytes([0x80 | reply, 126]) + struct.pack(">H", length)
            else:
                header = bytes([0x80 | reply, 127]) + struct.pack(">Q", length)
            self.wfile.write(header + bytes(data))
            self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any


class TcpServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        request, _ = super().get_request()
        return request, ("127.0.0.1", 0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--unix")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user-body", action="store_true")
    args = parser.parse_args()
    global USER_BODY
    USER_BODY = args.user_body
    if args.unix:
        if os.path.exists(args.unix):
            os.unlink(args.unix)
        server = UnixServer(args.unix, Handler)
        print("listening unix:" + args.unix, flush=True)
    else:
        server = TcpServer(("127.0.0.1", args.port), Handler)
        print("listening %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
