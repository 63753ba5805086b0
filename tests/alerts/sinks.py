"""A local SMTP sink and a chat-webhook receiver, real servers on 127.0.0.1 for the tests.

The SMTP sink speaks enough of RFC 5321 for smtplib (EHLO, MAIL, RCPT, DATA, RSET, NOOP,
QUIT) and keeps every message it accepts; the webhook receiver keeps every JSON body posted.
"""

from __future__ import annotations

import email
import email.policy
import json
import socketserver
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    sender: str
    to: list[str]
    message: email.message.EmailMessage


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    server: socketserver.ThreadingTCPServer | None = None

    def close(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def start_smtp_sink() -> SmtpSink:
    sink = SmtpSink("127.0.0.1", 0)

    class Handler(socketserver.StreamRequestHandler):
        def _say(self, line: str) -> None:
            self.wfile.write((line + "\r\n").encode())

        def handle(self) -> None:
            self._say("220 sink ESMTP")
            sender, rcpts = "", []
            while True:
                raw = self.rfile.readline()
                if not raw:
                    return
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                verb = line[:4].upper()
                if verb in ("EHLO", "HELO"):
                    self._say("250-sink")
                    self._say("250 8BITMIME")
                elif verb == "MAIL":
                    sender, rcpts = line.split(":", 1)[1].split()[0].strip("<>"), []
                    self._say("250 OK")
                elif verb == "RCPT":
                    rcpts.append(line.split(":", 1)[1].strip().strip("<>"))
                    self._say("250 OK")
                elif verb == "DATA":
                    self._say("354 go ahead")
                    chunks = []
                    while True:
                        data = self.rfile.readline()
                        if data in (b".\r\n", b".\n", b""):
                            break
                        chunks.append(data[1:] if data.startswith(b"..") else data)
                    msg = email.message_from_bytes(b"".join(chunks), policy=email.policy.default)
                    sink.messages.append(Received(sender, list(rcpts), msg))
                    self._say("250 queued")
                elif verb in ("RSET", "NOOP"):
                    self._say("250 OK")
                elif verb == "QUIT":
                    self._say("221 bye")
                    return
                else:
                    self._say("502 not implemented")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    sink.server, sink.port = server, server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return sink


@dataclass
class WebhookReceiver:
    url: str
    posts: list[dict] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def close(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def start_webhook_receiver() -> WebhookReceiver:
    receiver = WebhookReceiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.posts.append({"path": self.path, **json.loads(body)})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.server = server
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/ioc"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver
