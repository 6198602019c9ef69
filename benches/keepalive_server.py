"""Minimal keep-alive HTTP/1.1 server for profiling the host + plugin under callgrind
(callgrind counts the client's instructions only, so the server's speed does not matter).
Usage: python3 benches/keepalive_server.py PORT"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body are written separately: without TCP_NODELAY, Nagle holds the body
    # until the client's delayed ACK (40 ms per keep-alive request)
    disable_nagle_algorithm = True

    def _reply(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b"ok"
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _reply

    def log_message(self, *a):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
