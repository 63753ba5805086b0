"""Judge a file in a child process whose memory is capped, so that no file can take the
service down.

The checks in `zipguard` bound what a workbook may make a reader allocate, but a reader is
native code (calamine, xlrd) and a file can find an allocation nobody foresaw; a native
allocation failure aborts the whole process. So the judging (`validate.check_bytes`: read,
recognise, check) runs in a worker process with an address-space ceiling
(`IOC_INTAKE_READER_MEMORY_MB`, default 3072) and a time limit per file
(`IOC_INTAKE_READER_TIMEOUT_S`, default 300). When the worker dies or overruns, the file
is refused with a reason for the staff and the next file gets a new worker; the service, the
other files and the run go on.

The worker is started once per process (from a fork server that has already imported the
readers) and reused for every file, so the price is one pickle of the bytes and of the
outcome per file, not an interpreter start. Earlier months' sums (for the year-to-date
warning) are read by the worker on its own connection to the warehouse.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import resource
import select
import struct
import subprocess
import sys
import threading
import time
from datetime import datetime
from typing import Any, BinaryIO

from ingest.intake.validate import FileContext, Outcome, check_bytes

log = logging.getLogger(__name__)

_HEADER = struct.Struct("<Q")


def memory_limit_bytes() -> int:
    return int(os.environ.get("IOC_INTAKE_READER_MEMORY_MB", "3072")) << 20


def timeout_s() -> float:
    return float(os.environ.get("IOC_INTAKE_READER_TIMEOUT_S", "300"))


# --- the worker's side ------------------------------------------------------------------------

def _read_message(stream: BinaryIO) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        raise EOFError
    return pickle.loads(body)


def _write_message(stream: BinaryIO, obj: Any) -> None:
    body = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def _history_lookup(conninfo: str | None):
    """Earlier months' sums, read on the worker's own connection (opened on first use)."""
    if not conninfo:
        return None, lambda: None
    conn = None

    def history(contract, unit, period):
        nonlocal conn
        import psycopg

        from ingest.intake import store

        if conn is None:
            conn = psycopg.connect(conninfo, autocommit=True)
        return store.prior_month_sums(conn, contract, unit, period)

    def close():
        if conn is not None:
            conn.close()

    return history, close


def judge_here(data: bytes, ctx: FileContext, now: datetime, conninfo: str | None) -> Outcome:
    """`check_bytes` in this process (what the worker runs for each file)."""
    history, close = _history_lookup(conninfo)
    try:
        return check_bytes(data, ctx, now=now, history=history)
    finally:
        close()


def worker_main() -> None:
    """Judge files sent on stdin until it closes; one pickled outcome per file on stdout."""
    limit = int(os.environ.get("IOC_SANDBOX_LIMIT", "0"))
    if limit:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)  # a ceiling set by whoever started us stays
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but messages on the pipe
    _write_message(stdout, "ready")
    while True:
        try:
            data, ctx, now, conninfo = _read_message(stdin)
        except EOFError:
            return
        _write_message(stdout, judge_here(data, ctx, now, conninfo))


# --- the service's side -------------------------------------------------------------------------

class SandboxUnavailable(RuntimeError):
    """The reader process could not be started: nothing is judged (files stay waiting)."""


class _Worker:
    def __init__(self) -> None:
        env = {**os.environ, "IOC_SANDBOX_LIMIT": str(memory_limit_bytes())}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from ingest.intake.sandbox import worker_main; worker_main()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        try:
            ready = self.result(timeout=120)
        except (EOFError, TimeoutError):
            ready = None
        if ready != "ready":
            self.kill()
            raise SandboxUnavailable("the intake reader process did not start")

    def result(self, timeout: float) -> Any:
        """The next message, or TimeoutError / EOFError (the worker died)."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        buf = bytearray()
        need = _HEADER.size
        size = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, max(need - len(buf), 1 << 16))
            if not chunk:
                raise EOFError
            buf += chunk
            if size is None and len(buf) >= _HEADER.size:
                (size,) = _HEADER.unpack(buf[:_HEADER.size])
                need = _HEADER.size + size
            if size is not None and len(buf) >= need:
                return pickle.loads(bytes(buf[_HEADER.size:need]))

    def send(self, message: Any) -> None:
        _write_message(self.proc.stdin, message)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()


_lock = threading.Lock()
_worker: _Worker | None = None


def reset() -> None:
    """Stop the worker (the next file starts a new one, with the settings of that moment)."""
    global _worker
    with _lock:
        if _worker is not None:
            _worker.kill()
            _worker = None


def _refusal(code: str, message: str, hint: str) -> Outcome:
    out = Outcome()
    out.problems.error(code, message, hint=hint)
    return out


def judge(data: bytes, ctx: FileContext, *, now: datetime, conninfo: str | None = None
          ) -> Outcome:
    """`check_bytes` in the capped worker. A worker that dies (out of memory, a reader's
    crash) or overruns the time limit gives a refusal, never an exception."""
    global _worker
    with _lock:  # one file at a time per process: the worker holds one file's memory
        if _worker is None or _worker.proc.poll() is not None:
            _worker = _Worker()
        try:
            _worker.send((data, ctx, now, conninfo))
            return _worker.result(timeout_s())
        except (EOFError, BrokenPipeError):
            log.error("intake: the reader died on %s (memory ceiling %d MiB)", ctx.name,
                      memory_limit_bytes() >> 20)
            _worker.kill()
            _worker = None
            return _refusal(
                "too_large",
                "Tệp cần quá nhiều bộ nhớ để đọc (có thể do vùng dữ liệu rất lớn hoặc tệp bị "
                "làm sai cấu trúc), không xử lý được.",
                "Chỉ giữ phần bảng số liệu của biểu mẫu (xóa các dòng, cột, trang tính thừa), "
                "lưu lại bằng Excel rồi gửi lại.")
        except TimeoutError:
            log.error("intake: reading %s took over %.0f s; stopped", ctx.name, timeout_s())
            _worker.kill()
            _worker = None
            return _refusal(
                "too_slow",
                f"Đọc tệp mất quá {timeout_s():.0f} giây, không xử lý được.",
                "Chỉ giữ phần bảng số liệu của biểu mẫu, lưu lại bằng Excel rồi gửi lại.")
