"""A TCP proxy in front of the test PostgreSQL that can refuse connections on demand.

Used to inject transient warehouse faults into real runs (no mocks): the first
`refuse_first` connections are closed at once, later ones are forwarded byte for byte.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from urllib.parse import urlsplit, urlunsplit


class FlakyProxy:
    def __init__(self, target_host: str, target_port: int, refuse_first: int = 0):
        self.target = (target_host, target_port)
        self.refuse_first = refuse_first
        self.connections = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with proxy._lock:
                    proxy.connections += 1
                    refuse = proxy.connections <= proxy.refuse_first
                if refuse:
                    self.request.close()
                    return
                upstream = socket.create_connection(proxy.target, timeout=30)
                pumps = [
                    threading.Thread(target=_pump, args=(self.request, upstream), daemon=True),
                    threading.Thread(target=_pump, args=(upstream, self.request), daemon=True),
                ]
                for t in pumps:
                    t.start()
                for t in pumps:
                    t.join()

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FlakyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url_for(self, url: str) -> str:
        """`url` with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{self.port}"))


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
