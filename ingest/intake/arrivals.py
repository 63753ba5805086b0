"""The archive's own record of arrivals: which bytes came, from where, when, in what order.

The archive (`archive.py`) keeps every file's bytes under their hash, but a hash says nothing
about where the file was dropped or when. Without that, the archive alone could not give the
warehouse back. So each file the engine takes is also written, before it is judged, as one
JSON line in `<archive_dir>/_log/arrivals-<YYYY-MM>.jsonl` (month of the writing, UTC):

    {"sha256": …, "ext": ".xlsx", "original_path": …, "intake_root": …,
     "arrived_at": "2024-11-05T08:30:00+00:00", "size": 12345, "link": false,
     "logged_at": …}

The files are append-only (one `write` per line, `O_APPEND`, fsync), never rewritten; the
line order is the order the engine took the files in, which decides — as it did live —
which of two identical files is the original and which the duplicate. A file taken twice
(its first transaction lost to a crash) has two identical lines: `read()` keeps the first.

`backfill()` writes the lines an archive made before this log existed lacks, from the
warehouse's manifest (`raw_intake.file_manifest`), in file_id order.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

LOG_DIR = "_log"
PREFIX = "arrivals-"


@dataclass(frozen=True)
class Arrival:
    sha256: str
    ext: str
    original_path: str
    intake_root: str | None
    arrived_at: datetime
    size: int
    link: bool = False
    source: str = "engine"  # engine | manifest (backfilled)

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies one arrival across a live warehouse and a rebuilt one."""
        return (self.original_path, self.sha256, self.arrived_at.astimezone(UTC).isoformat())

    def to_json(self) -> dict:
        return {"sha256": self.sha256, "ext": self.ext, "original_path": self.original_path,
                "intake_root": self.intake_root, "arrived_at": self.arrived_at.isoformat(),
                "size": self.size, "link": self.link, "source": self.source}


def log_dir(archive_dir: Path) -> Path:
    return Path(archive_dir) / LOG_DIR


def _log_file(archive_dir: Path, when: datetime) -> Path:
    return log_dir(archive_dir) / f"{PREFIX}{when:%Y-%m}.jsonl"


def _append(archive_dir: Path, lines: Iterable[dict]) -> int:
    now = datetime.now(UTC)
    payload = "".join(json.dumps({**line, "logged_at": now.isoformat()}, ensure_ascii=False)
                      + "\n" for line in lines).encode("utf-8")
    if not payload:
        return 0
    path = _log_file(archive_dir, now)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)
    return payload.count(b"\n")


def record(archive_dir: Path, *, sha256: str, extension: str, original_path: Path | str,
           intake_root: Path | str | None, arrived_at: datetime, size: int,
           link: bool = False) -> None:
    """Log one arrival (called by the engine right after the bytes are archived)."""
    arrival = Arrival(sha256, extension.lower() if extension and len(extension) <= 10 else "",
                      str(original_path), str(intake_root) if intake_root else None,
                      arrived_at, size, link)
    _append(Path(archive_dir), [arrival.to_json()])


def _parse(obj: dict) -> Arrival:
    when = datetime.fromisoformat(obj["arrived_at"])
    return Arrival(obj["sha256"], obj.get("ext") or "", obj["original_path"],
                   obj.get("intake_root"), when if when.tzinfo else when.replace(tzinfo=UTC),
                   int(obj.get("size") or 0), bool(obj.get("link")),
                   obj.get("source") or "engine")


def log_files(archive_dir: Path) -> list[Path]:
    folder = log_dir(archive_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{PREFIX}*.jsonl") if p.is_file())


def read(archive_dir: Path) -> list[Arrival]:
    """Every arrival once, in the order the engine took them. A torn last line (the
    machine stopped in the middle of a write) is skipped."""
    seen: set[tuple[str, str, str]] = set()
    out: list[Arrival] = []
    for path in log_files(archive_dir):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    arrival = _parse(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    continue
                if arrival.key in seen:
                    continue
                seen.add(arrival.key)
                out.append(arrival)
    return out


def backfill(conn, archive_dir: Path) -> int:
    """Append, from `raw_intake.file_manifest`, every arrival the log lacks (an archive
    from before the log, or a line lost with a disk). Returns the number of lines added."""
    if conn.execute("select to_regclass('raw_intake.file_manifest')").fetchone()[0] is None:
        return 0
    have = {a.key for a in read(archive_dir)}
    missing: list[dict] = []
    rows = conn.execute(
        "select sha256, archive_path, original_path, arrived_at, size_bytes, errors "
        "from raw_intake.file_manifest order by file_id").fetchall()
    for sha, archive_path, original_path, arrived_at, size, errors in rows:
        arrival = Arrival(sha, _extension(archive_path, sha), original_path,
                          _intake_root(original_path), arrived_at, size or 0,
                          link=not archive_path and _is_link_refusal(errors),
                          source="manifest")
        if arrival.key in have:
            continue
        have.add(arrival.key)
        missing.append(arrival.to_json())
    return _append(Path(archive_dir), missing)


def _extension(archive_path: str, sha: str) -> str:
    name = Path(archive_path or "").name
    return name[len(sha):] if name.startswith(sha) else Path(name).suffix.lower()


def _intake_root(original_path: str) -> str | None:
    """`<root>/<unit>/<file>` → `<root>` (the layout the engine was given)."""
    parts = Path(original_path).parts
    return str(Path(*parts[:-2])) if len(parts) > 2 else None


def _is_link_refusal(errors) -> bool:
    items = errors if isinstance(errors, list) else json.loads(errors or "[]")
    return any(isinstance(e, dict) and e.get("code") == "symlink" for e in items)
