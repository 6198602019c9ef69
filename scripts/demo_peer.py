#!/usr/bin/env python3
"""A tiny local stand-in for the WeCom API, for the demo only: gettoken and
message/send as the tutorial shows them, and a group robot (webhook/send, key
demo-robot). Prints its port, serves until killed."""
import json
import secrets
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TOKENS = set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body are written separately: without TCP_NODELAY, Nagle holds the body
    # until the client's delayed ACK (40 ms per keep-alive request)
    disable_nagle_algorithm = True

    def answer(self, obj):
        body = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if url.path == "/cgi-bin/gettoken" and q.get("corpsecret") == ["demo-secret"]:
            token = secrets.token_hex(16)
            TOKENS.add(token)
            print(f"demo peer issued an access_token ({len(TOKENS)} so far)", file=sys.stderr, flush=True)
            return self.answer({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})
        self.answer({"errcode": 40001, "errmsg": "invalid credential"})

    def do_POST(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if url.path == "/cgi-bin/webhook/send":
            if q.get("key") != ["demo-robot"]:
                return self.answer({"errcode": 93000, "errmsg": "invalid webhook url"})
            msg = json.loads(body)
            text = msg.get("markdown", msg.get("text", {})).get("content", "")
            print(f"demo robot received ({msg.get('msgtype')}): {text}", file=sys.stderr, flush=True)
            return self.answer({"errcode": 0, "errmsg": "ok"})
        if q.get("access_token", [""])[0] not in TOKENS:
            return self.answer({"errcode": 40014, "errmsg": "invalid access_token"})
        msg = json.loads(body)
        print(f"demo peer received {url.path}: {msg['text']['content']}", file=sys.stderr, flush=True)
        self.answer({"errcode": 0, "errmsg": "ok", "invaliduser": ""})

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
