"""An SMTP server and a chat-webhook receiver, real servers on 127.0.0.1 for the tests.

The SMTP server is the platform's own outbox (`ioc_superset.mailsink`, the sink `ioc up` runs
for Superset's reports), writing into a temporary folder; the webhook receiver keeps every
JSON body posted.
"""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import socketserver
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ioc_superset import mailsink


@dataclass
class Received:
    to: list[str]
    message: email.message.EmailMessage


@dataclass
class SmtpSink:
    outbox: Path
    server: socketserver.ThreadingTCPServer
    host: str = "127.0.0.1"

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def messages(self) -> list[Received]:
        """Every message accepted so far, in the order they arrived."""
        found = []
        for path in sorted(self.outbox.rglob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            found.append(Received([a.addr_spec for a in message["To"].addresses], message))
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.outbox, ignore_errors=True)


def start_smtp_sink() -> SmtpSink:
    outbox = Path(tempfile.mkdtemp(prefix="ioc-test-outbox-"))
    sink = SmtpSink(outbox, mailsink.make_server(outbox))
    threading.Thread(target=sink.server.serve_forever, daemon=True).start()
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
