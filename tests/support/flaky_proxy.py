"""A TCP proxy in front of a test server (PostgreSQL, the demo agency API) that misbehaves
on demand, to inject network faults into real runs (no mocks):

- `refuse_first`: the first N connections are closed at once (a server not up yet);
- `refuse = True`: every new connection is closed at once until set back (a server down);
- `cut_after(n_bytes, direction, then_refuse=False)`: the next connection that carries more
  than `n_bytes` in `direction` ("up": client → server, e.g. a COPY; "down": server →
  client, e.g. a page of JSON) is cut right there, mid-stream, both ways (a server killed
  mid-load); with `then_refuse`, new connections are refused from that moment (it stays down);
- `cut_all()`: every open connection is cut now.
Later connections are forwarded byte for byte. `cuts` counts the connections cut.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import threading
from urllib.parse import urlsplit, urlunsplit


class FlakyProxy:
    def __init__(self, target_host: str, target_port: int, refuse_first: int = 0):
        self.target = (target_host, target_port)
        self.refuse_first = refuse_first
        self.refuse = False
        self.connections = 0
        self.cuts = 0
        self.bytes = {"up": 0, "down": 0}
        self._cut_rule: tuple[int, str, bool] | None = None
        self._open: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with proxy._lock:
                    proxy.connections += 1
                    refuse = proxy.refuse or proxy.connections <= proxy.refuse_first
                if refuse:
                    self.request.close()
                    return
                upstream = socket.create_connection(proxy.target, timeout=30)
                upstream.settimeout(None)
                pair = (self.request, upstream)
                with proxy._lock:
                    proxy._open.append(pair)
                moved = {"up": 0, "down": 0}
                pumps = [
                    threading.Thread(target=proxy._pump, args=(self.request, upstream, "up",
                                                               moved, pair), daemon=True),
                    threading.Thread(target=proxy._pump, args=(upstream, self.request, "down",
                                                               moved, pair), daemon=True),
                ]
                for t in pumps:
                    t.start()
                for t in pumps:
                    t.join()
                with proxy._lock:
                    if pair in proxy._open:
                        proxy._open.remove(pair)

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
        self.cut_all(count=False)

    def url_for(self, url: str) -> str:
        """`url` with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{self.port}"))

    def cut_after(self, n_bytes: int, direction: str = "up", then_refuse: bool = False) -> None:
        """Cut the next connection carrying more than `n_bytes` in `direction`."""
        with self._lock:
            self._cut_rule = (n_bytes, direction, then_refuse)

    def cut_all(self, count: bool = True) -> int:
        """Cut every open connection now; returns how many were cut."""
        with self._lock:
            pairs, self._open = self._open, []
        for pair in pairs:
            _close(pair)
        if count:
            self.cuts += len(pairs)
        return len(pairs)

    def _pump(self, src: socket.socket, dst: socket.socket, direction: str,
              moved: dict[str, int], pair) -> None:
        try:
            while data := src.recv(65536):
                with self._lock:
                    rule = self._cut_rule
                    self.bytes[direction] += len(data)
                    moved[direction] += len(data)
                    cut = rule is not None and rule[1] == direction and moved[direction] > rule[0]
                    if cut:
                        self._cut_rule = None
                        self.cuts += 1
                        self.refuse = self.refuse or rule[2]
                if cut:  # forward part of this packet, then drop the connection mid-stream
                    keep = len(data) - (moved[direction] - rule[0])
                    with contextlib.suppress(OSError):
                        dst.sendall(data[:max(0, keep)])
                    _close(pair, reset=True)
                    return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


def _close(pair, reset: bool = False) -> None:
    for s in pair:
        with contextlib.suppress(OSError):
            if reset:  # RST instead of FIN: what a killed peer looks like
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                s.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            s.close()
