"""The intake folder read-only or full, the archive's disk full: a clear error, nothing
half-loaded, the originals kept, and a rerun (once there is room) loads every file once.

Real file systems: a small tmpfs mounted for the test (root can write through any mode
bits, so only a read-only or full mount really refuses). Skipped, with the reason, where
mounting is not permitted.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from ingest.intake import engine
from ioc.settings import PROJECT_ROOT
from tests.faults import world
from tests.faults.ledger import LEDGER


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                           str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or 'not root'})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and "_phan_hoi" not in p.parts}


def _archive_is_whole(url: str) -> None:
    """Every manifest row points at an archive file holding exactly its bytes."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("select archive_path, sha256 from raw_intake.file_manifest "
                            "where archive_path <> ''").fetchall()
    for path, sha in rows:
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == sha, path


def test_read_only_intake_folder_loads_everything_once_and_says_why_no_answer(
        faults_world, intake_reference, databases, tmp_path, caplog) -> None:
    intake = tmp_path / "intake"
    with tmpfs(intake, "16m"):
        world.copy_intake(faults_world, tmp_path / "staging")
        for item in (tmp_path / "staging").iterdir():
            shutil.move(str(item), intake / item.name)
        before = _hashes(intake)
        remount(intake, "ro")
        LEDGER.fault("intake folder read-only")
        url = databases.new()
        with caplog.at_level(logging.WARNING, logger="ingest.intake.engine"):
            results = world.ingest(url, intake, tmp_path / "archive")
        assert results and all(r.feedback_path is None for r in results)
        unanswered = [r for r in caplog.records if "could not write feedback" in r.getMessage()]
        assert len(unanswered) == len(results)
        assert "Read-only file system" in unanswered[0].getMessage()
        assert world.intake_violations(url, intake) == []
        got = world.compare(intake_reference, world.intake_snapshot(url, relative_to=intake))
        LEDGER.checked(got, sum(intake_reference.rows.values()))
        assert got.ok, got
        assert _hashes(intake) == before  # originals untouched
        assert engine.scan_intake(intake, conninfo=url, settle_seconds=0) == []
        _archive_is_whole(url)


def test_archive_disk_full_stops_cleanly_and_the_rerun_loads_the_rest(
        faults_world, intake_reference, databases, tmp_path) -> None:
    intake = world.copy_intake(faults_world, tmp_path / "intake")
    before = _hashes(intake)
    archive = tmp_path / "archive"
    url = databases.new()
    with tmpfs(archive, "160k"):
        with pytest.raises(OSError) as exc:
            world.ingest(url, intake, archive)
        assert exc.value.errno == 28  # ENOSPC
        LEDGER.fault("archive disk full")
        assert world.intake_violations(url, intake, processed=False) == []
        with psycopg.connect(url) as conn:
            done = conn.execute("select count(*) from raw_intake.file_manifest").fetchone()[0]
        assert 0 < done < len(before)
        assert not list(archive.rglob(".incoming-*"))  # no half-written archive copy
        _archive_is_whole(url)
        assert _hashes(intake) == before
        remount(archive, "size=64m")  # room again
        world.ingest(url, intake, archive)
        assert world.intake_violations(url, intake) == []
        got = world.compare(intake_reference, world.intake_snapshot(url, relative_to=intake))
        LEDGER.checked(got, sum(intake_reference.rows.values()))
        assert got.ok, got
        _archive_is_whole(url)


def test_ioc_ingest_says_clearly_that_the_archive_is_full(faults_world, databases,
                                                          tmp_path) -> None:
    intake = world.copy_intake(faults_world, tmp_path / "intake")
    archive = tmp_path / "archive"
    url = databases.new()
    with tmpfs(archive, "96k"):
        env = {**os.environ, "IOC_WAREHOUSE_URL": url, "IOC_ARCHIVE_DIR": str(archive)}
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "ioc"), "ingest", str(intake), "--arrivals",
             str(intake / "_arrivals.csv"), "--now", world.NOW.isoformat()],
            env=env, capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT)
    LEDGER.fault("archive disk full under `ioc ingest`")
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "No space left on device" in proc.stderr and "Traceback" not in proc.stderr
    assert world.intake_violations(url, intake, processed=False) == []


def test_intake_disk_full_loads_everything_once(faults_world, intake_reference, databases,
                                                tmp_path, caplog) -> None:
    """The answers cannot be written (no space): the data is loaded anyway, once."""
    intake = tmp_path / "intake"
    with tmpfs(intake, "2m"):
        world.copy_intake(faults_world, tmp_path / "staging")
        for item in (tmp_path / "staging").iterdir():
            shutil.move(str(item), intake / item.name)
        filler = intake / "_filler"
        with contextlib.suppress(OSError), filler.open("wb") as fh:
            while True:
                fh.write(b"\0" * 65536)
        LEDGER.fault("intake disk full")
        url = databases.new()
        with caplog.at_level(logging.WARNING, logger="ingest.intake.engine"):
            results = world.ingest(url, intake, tmp_path / "archive")
        assert sum(r.feedback_path is None for r in results) > 0
        assert world.intake_violations(url, intake) == []
        got = world.compare(intake_reference, world.intake_snapshot(url, relative_to=intake))
        LEDGER.checked(got, sum(intake_reference.rows.values()))
        assert got.ok, got
        assert not [p for p in intake.rglob(".*.tmp")]  # no half-written answer left behind
