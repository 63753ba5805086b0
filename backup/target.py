"""A backup target folder: its layout and its lock (shared by `backup.backup`, which writes
backups into it, and `backup.retention`, which prunes them)."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

PARTIAL = ".partial"
STORE = "archive"


class BackupError(RuntimeError):
    """The backup could not be made; the message says which part and why."""


@contextlib.contextmanager
def target_lock(target: Path) -> Iterator[None]:
    """One backup (or prune) at a time per target directory."""
    target.mkdir(parents=True, exist_ok=True)
    fh = open(target / ".lock", "a+")  # noqa: SIM115
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"một lần sao lưu khác đang chạy vào {target} "
                              "(another backup holds the target)") from None
        yield
    finally:
        fh.close()
