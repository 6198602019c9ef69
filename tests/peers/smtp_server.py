#!/usr/bin/env python3
"""Test SMTP server for the e-mail tests (aiosmtpd).

Listens on 127.0.0.1, free ports:
  * a plain port that offers STARTTLS,
  * a plain port without TLS at all (a local relay),
  * an implicit-TLS port (TLS from the first byte),
  * a "silent" port that accepts connections and never says anything.
AUTH PLAIN and LOGIN with one fixed user/password (others get 535); mail is only
accepted after AUTH.

Writes one JSON line per event to --out:
  {"event": "connect", "port": N}
  {"event": "message", "mail_from", "rcpt_tos", "data_b64", "data_hex", "subject", "body",
   "content_type", "message_id", "date", "from", "to", "auth_user", "port", "tls"}
When ready, prints one JSON line to stdout:
  {"ready": true, "starttls_port": N, "tls_port": N, "plain_port": N, "silent_port": N}

--mode: normal | drop_data (close the connection once DATA arrived, before the final
reply) | stall_data (never answer the end of DATA).
"""
import argparse
import asyncio
import base64
import email
import email.policy
import json
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--user", default="alerts@smtp-peer.test")
    ap.add_argument("--password", default="s3cret-pass")
    ap.add_argument("--mode", default="normal", choices=["normal", "drop_data", "stall_data"])
    args = ap.parse_args()

    out = open(args.out, "a", buffering=1, encoding="utf-8")

    def record(obj):
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        out.flush()

    def authenticator(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
            if login == args.user and password == args.password:
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            if args.mode == "drop_data":
                server.transport.abort()
                return "421 closing"
            if args.mode == "stall_data":
                await asyncio.sleep(3600)
            data = envelope.content
            entry = {
                "event": "message",
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "data_b64": base64.b64encode(data).decode("ascii"),
                "data_hex": data.hex(),
                "auth_user": (session.auth_data.login.decode("utf-8", "replace")
                              if isinstance(session.auth_data, LoginPassword) else None),
                "port": server.transport.get_extra_info("sockname")[1],
                "tls": server.transport.get_extra_info("sslcontext") is not None
                or server._tls_protocol is not None,
            }
            try:
                msg = email.message_from_bytes(data, policy=email.policy.default)
                entry["subject"] = str(msg["subject"]) if msg["subject"] is not None else None
                entry["message_id"] = msg["message-id"] and str(msg["message-id"])
                entry["date"] = msg["date"] and str(msg["date"])
                entry["from"] = msg["from"] and str(msg["from"])
                entry["to"] = msg["to"] and str(msg["to"])
                entry["content_type"] = msg.get_content_type()
                part = msg.get_body(preferencelist=("html", "plain")) if msg.is_multipart() else msg
                entry["body"] = part.get_content() if part is not None else None
            except Exception as e:  # keep the raw data even if parsing fails
                entry["parse_error"] = repr(e)
            record(entry)
            return "250 2.0.0 OK queued as test-1"

    class CountingSMTP(SMTP):
        def connection_made(self, transport):
            record({"event": "connect", "port": transport.get_extra_info("sockname")[1]})
            super().connection_made(transport)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    handler = Handler()

    def factory(tls_context):
        def make():
            return CountingSMTP(
                handler,
                hostname="mail.test",
                tls_context=tls_context,
                require_starttls=False,
                auth_required=True,
                auth_require_tls=False,
                authenticator=authenticator,
                decode_data=False,
            )
        return make

    async def silent(reader, writer):
        try:
            while await reader.read(4096):
                pass
        except Exception:
            pass

    async def run():
        loop = asyncio.get_running_loop()
        plain = await loop.create_server(factory(ctx), "127.0.0.1", 0)
        wrapped = await loop.create_server(factory(None), "127.0.0.1", 0, ssl=ctx)
        bare = await loop.create_server(factory(None), "127.0.0.1", 0)
        quiet = await asyncio.start_server(silent, "127.0.0.1", 0)
        ports = {
            "ready": True,
            "starttls_port": plain.sockets[0].getsockname()[1],
            "tls_port": wrapped.sockets[0].getsockname()[1],
            "plain_port": bare.sockets[0].getsockname()[1],
            "silent_port": quiet.sockets[0].getsockname()[1],
        }
        print(json.dumps(ports), flush=True)
        # Exit when the parent closes our stdin (or dies).
        await loop.run_in_executor(None, sys.stdin.read)

    asyncio.run(run())


if __name__ == "__main__":
    main()
