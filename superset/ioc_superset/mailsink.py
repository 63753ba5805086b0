"""The outbox for Superset's scheduled reports: a tiny SMTP server on 127.0.0.1.

When no SMTP server is configured (`IOC_SMTP_HOST` unset, or `IOC_NOTIFY_DRY_RUN=1`), `ioc up`
runs this sink beside Superset's Celery worker and points Superset's `SMTP_*` at it; every
message it accepts is written, as sent (attachments included), to

    $IOC_HOME/outbox/<day>/bao-cao-<HHMMSS>-<hash>.eml

the same folder the Dagster alerts write their dry run to (docs/alerts.md). Nothing is sent
anywhere. The file is written to a temporary name and renamed, so a reader never sees half
a message.

    python -m ioc_superset.mailsink OUTBOX PORTFILE [PORT]

binds PORT (0: any free port), then writes the port it got to PORTFILE.
"""

from __future__ import annotations

import hashlib
import os
import socketserver
import sys
from datetime import datetime
from pathlib import Path

from ioc.settings import LOCAL_TZ

MAX_BYTES = 50 * 1024 * 1024  # a report with a PDF is a few MB


def write_message(outbox: Path, data: bytes, now: datetime | None = None) -> Path:
    now = now or datetime.now(LOCAL_TZ)  # the day as people there read it, like the alerts'
    folder = outbox / now.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()[:10]
    path = folder / f"bao-cao-{now.strftime('%H%M%S')}-{digest}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def make_server(outbox: Path, port: int = 0) -> socketserver.ThreadingTCPServer:
    class Handler(socketserver.StreamRequestHandler):
        def _say(self, line: str) -> None:
            self.wfile.write((line + "\r\n").encode())
            self.wfile.flush()

        def handle(self) -> None:  # enough of RFC 5321 for smtplib
            self._say("220 ioc-outbox ESMTP")
            while True:
                raw = self.rfile.readline(65536)
                if not raw:
                    return
                verb = raw[:4].decode("ascii", "replace").upper()
                if verb == "EHLO":
                    self._say("250-ioc-outbox")
                    self._say("250-8BITMIME")
                    self._say(f"250 SIZE {MAX_BYTES}")
                elif verb == "HELO":
                    self._say("250 ioc-outbox")
                elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                    self._say("250 OK")
                elif verb == "DATA":
                    self._say("354 end with <CRLF>.<CRLF>")
                    lines: list[bytes] = []
                    size = 0
                    while True:
                        line = self.rfile.readline(1 << 20)
                        if not line or line in (b".\r\n", b".\n"):
                            break
                        size += len(line)
                        if size > MAX_BYTES:
                            self._say("552 message too large")
                            return
                        lines.append(line[1:] if line.startswith(b"..") else line)
                    write_message(outbox, b"".join(lines))
                    self._say("250 OK: in the outbox")
                elif verb == "QUIT":
                    self._say("221 bye")
                    return
                else:
                    self._say("502 not implemented")

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: python -m ioc_superset.mailsink OUTBOX PORTFILE [PORT]", file=sys.stderr)
        return 2
    outbox, portfile = Path(argv[0]), Path(argv[1])
    server = make_server(outbox, int(argv[2]) if len(argv) == 3 else 0)
    tmp = portfile.with_suffix(".tmp")
    tmp.write_text(str(server.server_address[1]))
    os.replace(tmp, portfile)
    print(f"SMTP sink on 127.0.0.1:{server.server_address[1]} -> {outbox}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
