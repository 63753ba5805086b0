"""Which backups exist, how old the newest is, and which the retention rule deletes.

The rule (`config.Retention`) keeps the newest `last` backups, and the newest backup of each of
the last `daily` days, `weekly` ISO weeks and `monthly` months that have a backup (days
in Vietnam's time, the office's calendar). Archive files that no kept backup lists any more
(possible only after archive files were deleted under a records-retention decision) are
deleted from the shared store too. Unfinished backups (`….partial`, left by a run that was
killed) are removed.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from backup import target as target_mod
from backup.config import BackupConfig, Retention

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{6}Z(-\d+)?$")


@dataclass(frozen=True)
class BackupInfo:
    name: str
    path: Path
    created_at: datetime
    manifest: dict

    @property
    def size_bytes(self) -> int:
        return sum(p.get("size", 0) for p in self.manifest.get("parts", {}).values())


def backups(target: Path) -> list[BackupInfo]:
    """Complete backups in `target`, oldest first."""
    out = []
    if not target.is_dir():
        return out
    for path in target.iterdir():
        if not (path.is_dir() and _NAME.match(path.name)):
            continue
        try:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
            created = datetime.fromisoformat(manifest["created_at"])
        except (OSError, ValueError, KeyError):
            continue
        out.append(BackupInfo(path.name, path, created, manifest))
    return sorted(out, key=lambda b: (b.created_at, b.name))


def newest(target: Path) -> BackupInfo | None:
    found = backups(target)
    return found[-1] if found else None


def age_hours(target: Path, now: datetime | None = None) -> float | None:
    latest = newest(target)
    if latest is None:
        return None
    now = now or datetime.now(UTC)
    return (now - latest.created_at).total_seconds() / 3600


def to_keep(items: list[BackupInfo], rule: Retention) -> set[str]:
    keep: set[str] = set()
    if not items:
        return keep
    keep.update(item.name for item in items[-max(1, rule.last):])
    rules = (
        (rule.daily, lambda d: d.date()),
        (rule.weekly, lambda d: d.isocalendar()[:2]),
        (rule.monthly, lambda d: (d.year, d.month)),
    )
    for count, bucket in rules:
        seen: list = []
        for item in reversed(items):  # newest first: the newest of each bucket is kept
            b = bucket(item.created_at.astimezone(LOCAL))
            if b in seen:
                continue
            if len(seen) >= count:
                break
            seen.append(b)
            keep.add(item.name)
    return keep


def prune(config: BackupConfig, *, now: datetime | None = None, locked: bool = False,
          dry_run: bool = False) -> list[str]:
    """Delete backups the rule does not keep; returns their names."""
    target = config.target
    lock = contextlib.nullcontext() if locked else target_mod.target_lock(target)
    with lock:
        items = backups(target)
        keep = to_keep(items, config.retention)
        doomed = [b for b in items if b.name not in keep]
        if dry_run:
            return [b.name for b in doomed]
        for item in doomed:
            shutil.rmtree(item.path)
        if target.is_dir():  # under the target's lock no backup is being written
            for path in target.glob("*" + target_mod.PARTIAL):
                shutil.rmtree(path, ignore_errors=True)
        if doomed:
            _collect_garbage(target, [b for b in items if b.name in keep])
    return [b.name for b in doomed]


def _collect_garbage(target: Path, kept: list[BackupInfo]) -> int:
    listed: set[str] = set()
    for item in kept:
        try:
            text = (item.path / "archive.tsv").read_text(encoding="utf-8")
        except OSError:
            return 0  # a kept backup's list cannot be read: delete nothing
        for line in text.splitlines():
            parts = line.split("\t")
            if len(parts) == 4:
                listed.add(parts[3])
    store = target / target_mod.STORE
    removed = 0
    if not store.is_dir():
        return 0
    for path in store.rglob("*"):
        if (path.is_file() and not path.name.startswith(".")
                and str(path.relative_to(store)) not in listed):
            path.unlink()
            removed += 1
    return removed
