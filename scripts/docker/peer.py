#!/usr/bin/env python3
"""HTTP peer for the DolphinDB container tests (standard library only), the same routes as the
host suite's Rust peer (tests/common/http_peer.rs) that the scripts use:
  /echo (any method, any unknown path): 200, body = request body, X-Method, X-Path headers;
  /status/<code>: that status, body "status <code>";
  /headers: 200 with X-Custom: abc and two Set-Cookie headers.
Also the keep-alive peer for profiling the host + plugin by hand (README "Performance").
Usage: peer.py [PORT [ADDRESS]]   (default 8080 on all interfaces; 127.0.0.1 for loopback only)"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body are written separately: without TCP_NODELAY, Nagle holds the body
    # until the client's delayed ACK (40 ms per keep-alive request)
    disable_nagle_algorithm = True

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        status, extra, out = 200, [], body
        if path.startswith("/status/"):
            status = int(path[len("/status/"):])
            out = b"status %d" % status
        elif path == "/headers":
            extra = [("X-Custom", "abc"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
            out = b"headers"
        self.send_response(status)
        self.send_header("X-Method", self.command)
        self.send_header("X-Path", self.path)
        self.send_header("X-Content-Type", self.headers.get("Content-Type") or "")
        self.send_header("Content-Type", "application/octet-stream")
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any

    def log_message(self, fmt, *args):
        sys.stderr.write("peer: " + fmt % args + "\n")


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    address = sys.argv[2] if len(sys.argv) > 2 else "0.0.0.0"
    ThreadingHTTPServer((address, port), Handler).serve_forever()
