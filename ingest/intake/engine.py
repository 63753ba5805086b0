"""The intake engine's public API: check, ingest and scan files of the intake folders.

- `check_paths` judges files and returns results; no side effects at all.
- `ingest_paths` archives each file first (by SHA-256), then judges and loads it in one
  transaction (manifest row + COPY of its rows + version bookkeeping), and writes the answer
  for the staff in `_phan_hoi/`. The original in the intake folder is never touched.
- `scan_intake` lists files waiting: not yet in the manifest by (path, sha256), not growing.
The judging itself is `validate.check_bytes` (pure); this module is the thin I/O shell.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.intake import archive, arrivals, sandbox, store
from ingest.intake import paths as _paths
from ingest.intake.contracts import Contract, load_contracts
from ingest.intake.feedback import FEEDBACK_DIR, write_feedback
from ingest.intake.problems import Problem
from ingest.intake.reference import org_units, unit_label
from ingest.intake.result import FileResult
from ingest.intake.validate import Outcome, context_for
from ioc import settings, warehouse

log = logging.getLogger(__name__)

ArrivedAt = datetime | Mapping[str, datetime] | Callable[[Path], "datetime | None"] | None
_TEMP_PREFIXES = ("~$", ".~lock", ".")
_TEMP_SUFFIXES = (".tmp", ".part", ".crdownload", ".partial", "#")


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def _problem_dicts(problems: list[Problem]) -> list[dict[str, Any]]:
    return [p.to_json() for p in problems]


def _result(path: Path, outcome: Outcome, status: str | None = None) -> FileResult:
    return FileResult(
        file=str(path),
        status=status or ("accepted" if outcome.accepted else "rejected"),
        form=outcome.form,
        org_unit_id=outcome.org_unit_id,
        period=outcome.period,
        errors=_problem_dicts(outcome.problems.errors),
        warnings=_problem_dicts(outcome.problems.warnings),
        records=outcome.records if outcome.accepted else [],
    )


def _judge(data: bytes, path: Path, intake_root: Path | None, now: datetime,
           conninfo: str | None = None) -> Outcome:
    """`check_bytes` in the memory-capped reader process (`sandbox`), with an unexpected
    failure turned into a refusal (never a crash). With `conninfo`, earlier months are read
    from the warehouse for the year-to-date check."""
    try:
        out = sandbox.judge(data, context_for(path, intake_root), now=now, conninfo=conninfo)
        misplaced = _paths.folder_problem(path, intake_root)  # e.g. a look-alike unit folder
        if misplaced:
            out.problems.items.insert(0, misplaced)
        return out
    except sandbox.SandboxUnavailable:
        raise  # nothing was judged: the file waits for the next pass
    except Exception:  # a bug must not stop the other files, nor load half a file
        log.exception("intake: unexpected failure while checking %s", path)
        out = Outcome()
        out.problems.error(
            "internal_error", "Hệ thống gặp lỗi khi đọc tệp này.",
            hint="Bộ phận kỹ thuật đã được báo; anh/chị không cần làm gì thêm lúc này.")
        return out


# --- which files -------------------------------------------------------------------------------

def is_ignored(path: Path) -> bool:
    """Answers we wrote, Office lock/temp files and hidden files are not submissions."""
    name = path.name
    if FEEDBACK_DIR in path.parts:
        return True
    return name.startswith(_TEMP_PREFIXES) or name.lower().endswith(_TEMP_SUFFIXES)


def expand_paths(paths: Iterable[str | Path], intake_root: Path | None = None
                 ) -> list[tuple[Path, Path | None]]:
    """Files named or found under folders, each with the intake root that applies to it.

    A folder named like an org unit (`intake/<org_unit_id>`) is read with its parent as the
    intake root; any other folder is taken as the intake root itself.
    """
    out: list[tuple[Path, Path | None]] = []
    units = org_units()
    for raw in paths:
        path = _paths.normalise(raw)  # intake/a/../b/f.xlsx is a file of b
        if path.is_dir():
            root = intake_root or (path.parent if path.name in units else path)
            for found in sorted(p for p in path.rglob("*") if p.is_file()):
                rel = found.relative_to(path)
                if is_ignored(rel) or (found.parent == root and root == path):
                    continue  # files at the intake root (e.g. _arrivals.csv) are no reports
                out.append((found, root))
        else:
            out.append((path, intake_root))
    return out


def _sizes(files: list[Path]) -> dict[Path, int | None]:
    out: dict[Path, int | None] = {}
    for f in files:
        try:
            out[f] = f.stat().st_size
        except OSError:
            out[f] = None
    return out


def scan_intake(intake_root: str | Path, *, conninfo: str | None = None,
                settle_seconds: float = 1.0) -> list[Path]:
    """Files waiting in `<intake_root>/<org_unit_id>/…`: complete and not yet processed.

    A file is complete when its size is the same on two looks `settle_seconds` apart (0 skips
    the second look; a sensor comparing sizes across ticks does it itself). A file is processed
    when the manifest has its (original path, sha256); a file changed in place is new again.
    The manifest is read from `conninfo` (default: the configured warehouse); when it cannot
    be reached, every complete file counts as waiting.
    """
    root = Path(intake_root).absolute()
    if not root.is_dir():
        return []
    candidates = [p for p in sorted(root.rglob("*"))
                  if p.is_file() and not is_ignored(p.relative_to(root))
                  and len(p.relative_to(root).parts) > 1]
    first = _sizes(candidates)
    if settle_seconds > 0 and candidates:
        time.sleep(settle_seconds)
        second = _sizes(candidates)
        candidates = [p for p in candidates if first[p] is not None and first[p] == second[p]]
    candidates = [p for p in candidates if first[p] is not None]
    try:
        import psycopg

        if conninfo is None:
            conninfo = warehouse.url()
        with psycopg.connect(conninfo, connect_timeout=5) as conn:
            exists = conn.execute("select to_regclass('raw_intake.file_manifest')").fetchone()[0]
            known = store.known_files(conn, [str(p) for p in candidates]) if exists else {}
    except Exception as exc:  # warehouse down: let the ingest itself report it
        log.warning("intake scan: manifest not readable (%s); treating all files as new", exc)
        known = {}
    waiting = []
    for p in candidates:
        hashes = known.get(str(p))
        if hashes and _paths.fingerprint(p) in hashes:  # a link: its own hash, never followed
            continue
        waiting.append(p)
    return waiting


# --- check (no side effects) ------------------------------------------------------------------

def check_paths(paths: Iterable[str | Path], *, intake_root: str | Path | None = None,
                now: datetime | None = None) -> list[FileResult]:
    """Judge files (or folders of them) without archiving, loading or writing anything."""
    now = _now(now)
    root = Path(intake_root).absolute() if intake_root else None
    results = []
    for path, file_root in expand_paths(paths, root):
        if _paths.is_link(path, file_root):
            results.append(FileResult(str(path), "rejected",
                                      errors=[_paths.link_problem().to_json()]))
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            results.append(FileResult(str(path), "rejected", errors=[Problem(
                "unreadable_path", f"Không đọc được tệp: {exc.strerror}.").to_json()]))
            continue
        outcome = _judge(data, path, file_root, now)
        result = _result(path, outcome)
        result.sha256, result.size_bytes = archive.sha256(data), len(data)
        results.append(result)
    return results


# --- ingest -------------------------------------------------------------------------------------

def _arrival(arrived_at: ArrivedAt, path: Path, now: datetime) -> datetime:
    value: datetime | None = None
    if isinstance(arrived_at, datetime):
        value = arrived_at
    elif isinstance(arrived_at, Mapping):
        value = arrived_at.get(str(path)) or arrived_at.get(path.name)
    elif callable(arrived_at):
        value = arrived_at(path)
    if value is None:
        return now
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def ensure_tables(conninfo: str) -> None:
    """Create `raw_intake` and its tables if missing (safe to call at every run)."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        store.ensure_tables(conn)


def ingest_paths(paths: Iterable[str | Path], *, conninfo: str, archive_dir: str | Path,
                 intake_root: str | Path | None = None, now: datetime | None = None,
                 arrived_at: ArrivedAt = None, feedback: bool = True,
                 on_result: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """Archive, judge and load each file (one transaction per file); answer the staff.

    `now` is the clock for "has the period ended" and the default arrival time;
    `arrived_at` overrides arrival per run (a datetime), per file (a mapping from path or
    file name), or through a function — for history loaded in bulk with known arrival times.
    `on_result` is called after each file (its answer written), as it happens.

    A file never stops the others: one that cannot be judged or loaded is refused (kept in
    the archive, its sender told). What stops the run is what would stop every file: the
    warehouse unreachable (psycopg.OperationalError) or the archive not writable (OSError);
    the files not yet done stay waiting.
    """
    import psycopg

    now = _now(now)
    root = Path(intake_root).absolute() if intake_root else None
    archive_root = Path(archive_dir)
    contracts = load_contracts()
    results: list[FileResult] = []
    with psycopg.connect(conninfo) as conn:
        store.ensure_tables(conn, contracts)
        for path, file_root in expand_paths(paths, root):
            arrived = _arrival(arrived_at, path, now)
            if _paths.is_link(path, file_root):  # never followed: refused, sender told
                arrivals.record(archive_root, sha256=_paths.fingerprint(path), extension="",
                                original_path=path, intake_root=file_root, arrived_at=arrived,
                                size=0, link=True)  # the archive's log (ioc rebuild)
                result = _refuse_link(conn, path, file_root, arrived)
            else:
                try:
                    data = path.read_bytes()
                except OSError as exc:  # gone, or not readable yet: the next look retries
                    log.warning("intake: cannot read %s (%s); skipped", path, exc)
                    continue
                stored = archive.archive_bytes(data, archive.sha256(data), path.suffix,
                                               archive_root)  # before anything else
                arrivals.record(archive_root, sha256=stored.name[:64], extension=path.suffix,
                                original_path=path, intake_root=file_root, arrived_at=arrived,
                                size=len(data))  # the archive's log of arrivals (ioc rebuild)
                try:
                    result = _ingest_one(conn, data, path, file_root, stored, now, arrived,
                                         contracts, conninfo)
                except (psycopg.OperationalError, psycopg.InterfaceError,
                        sandbox.SandboxUnavailable):
                    raise  # the warehouse or the reader itself: every file would fail alike
                except Exception:
                    # A value the warehouse refused, or a bug on our side: the file's
                    # transaction rolled back (nothing loaded); it is recorded as refused.
                    log.exception("intake: could not load %s", path)
                    result = _refuse_after_load_error(conn, data, path, file_root, stored,
                                                      arrived)
            _answer(result, file_root, feedback)
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results


def _answer(result: FileResult, file_root: Path | None, feedback: bool) -> None:
    if feedback:
        try:
            result.feedback_path = str(write_feedback(result, file_root))
        except OSError as exc:
            log.warning("intake: could not write feedback for %s: %s", result.file, exc)


def _refuse_link(conn, path: Path, file_root: Path | None, arrived: datetime) -> FileResult:
    """A symbolic link: recorded as refused under the link's own hash, nothing read or
    archived (so the next scan knows it, and a link to /etc/shadow copies nothing)."""
    digest = _paths.fingerprint(path)
    unit = context_for(path, file_root).folder_unit
    problem = _paths.link_problem()
    result = FileResult(str(path), "rejected", org_unit_id=unit, errors=[problem.to_json()],
                        sha256=digest, size_bytes=0, archive_path="", arrived_at=arrived)
    with conn.transaction():
        result.file_id = store.insert_manifest(
            conn, sha256=digest, original_path=str(path), original_name=path.name,
            archive_path="", size_bytes=0, arrived_at=arrived, org_unit_id=unit,
            status="rejected", errors=result.errors)
    return result


def _ingest_one(conn, data: bytes, path: Path, intake_root: Path | None, stored: Path,
                now: datetime, arrived: datetime, contracts: dict[str, Contract],
                conninfo: str | None = None) -> FileResult:
    digest = archive.sha256(data)
    base = {"sha256": digest, "original_path": str(path), "original_name": path.name,
            "archive_path": str(stored), "size_bytes": len(data), "arrived_at": arrived}
    with conn.transaction():
        store.lock_hash(conn, digest)
        # Every file is judged, even bytes seen before: a copy of another commune's accepted
        # report dropped in the wrong folder must be refused (unit mismatch), not waved
        # through as a duplicate; and bytes refused before may pass now (the period ended,
        # a contract was fixed).
        # "Has the period ended?" is asked at arrival: history loaded in bulk with its true
        # arrival times is judged as it would have been on the day it came.
        outcome = _judge(data, path, intake_root, min(now, arrived), conninfo)
        accepted_before = store.earlier_file(conn, digest, "accepted")
        resent_version: int | None = None
        if outcome.accepted and accepted_before is not None:
            first = store.manifest_row(conn, accepted_before)
            key = (first["org_unit_id"], first["form_code"], first["period"])
            if key != (outcome.org_unit_id, outcome.form, outcome.period):
                outcome.problems.error(
                    "same_file_other_report",
                    f"Tệp này giống hệt báo cáo {key[1]} kỳ {key[2]} của "
                    f"{unit_label(key[0])} đã nhận trước đó.",
                    hint="Kiểm tra lại: có thể đã chép nhầm tệp của đơn vị hoặc kỳ khác.",
                    value=key[0])
            else:
                store.lock_key(conn, *key)
                current = store.current_file(conn, *key)
                same_as_current = current is not None and store.manifest_row(
                    conn, current)["sha256"] == digest
                seen_here = store.earlier_submission(conn, str(path), digest)
                if same_as_current or current is None or seen_here is not None:
                    # The version in force already has these bytes, or this very file (path
                    # and bytes) was taken before: nothing to load again.
                    original = current if same_as_current else (seen_here or accepted_before)
                    file_id = store.insert_manifest(
                        conn, **base, org_unit_id=key[0], form_code=key[1], period=key[2],
                        status="duplicate", duplicate_of=original)
                    return FileResult(str(path), "duplicate", key[1], key[0], key[2],
                                      sha256=digest, size_bytes=len(data), file_id=file_id,
                                      duplicate_of=original, archive_path=str(stored),
                                      arrived_at=arrived)
                # An earlier version sent again after a correction: the commune goes back
                # to it. It becomes a new version, the one in force.
                resent_version = store.manifest_row(conn, accepted_before)["version"]
        result = _result(path, outcome)
        result.sha256, result.size_bytes = digest, len(data)
        result.archive_path, result.arrived_at = str(stored), arrived
        row = {**base, "org_unit_id": outcome.org_unit_id, "form_code": outcome.form,
               "period": outcome.period, "errors": result.errors, "warnings": result.warnings,
               "duplicate_of": accepted_before or store.earlier_file(conn, digest, "rejected")}
        result.duplicate_of = row["duplicate_of"]
        if not outcome.accepted:
            result.file_id = store.insert_manifest(conn, **row, status="rejected")
            return result
        store.lock_key(conn, outcome.org_unit_id, outcome.form, outcome.period)
        file_id = store.insert_manifest(conn, **row, status="accepted",
                                        row_count=len(outcome.records))
        store.copy_rows(conn, contracts[outcome.form], file_id, outcome.records)
        store.renumber_versions(conn, outcome.org_unit_id, outcome.form, outcome.period)
        result.file_id = file_id
        result.version, result.is_current = conn.execute(
            "select version, is_current from raw_intake.file_manifest where file_id = %s",
            (file_id,)).fetchone()
        result.resent_version = resent_version
        return result


def _refuse_after_load_error(conn, data: bytes, path: Path, file_root: Path | None,
                             stored: Path, arrived: datetime) -> FileResult:
    digest = archive.sha256(data)
    problem = Problem("internal_error", "Hệ thống không lưu được số liệu của tệp này.",
                      hint="Bộ phận kỹ thuật đã được báo; anh/chị không cần làm gì thêm lúc này.")
    unit = context_for(path, file_root).folder_unit
    result = FileResult(str(path), "rejected", org_unit_id=unit, errors=[problem.to_json()],
                        sha256=digest, size_bytes=len(data), archive_path=str(stored),
                        arrived_at=arrived)
    with conn.transaction():
        result.file_id = store.insert_manifest(
            conn, sha256=digest, original_path=str(path), original_name=path.name,
            archive_path=str(stored), size_bytes=len(data), arrived_at=arrived,
            org_unit_id=unit, status="rejected", errors=result.errors)
    return result


def default_archive_dir() -> Path:
    return settings.load().archive_dir


def sidecar_arrivals(csv_path: str | Path) -> dict[str, datetime]:
    """Arrival times from a CSV with columns `file` (a path relative to the CSV's own folder,
    as in an intake root's `_arrivals.csv`, an absolute path, or a bare file name) and
    `arrived_at` (ISO 8601)."""
    import csv

    base = os.path.dirname(os.path.abspath(csv_path))
    out: dict[str, datetime] = {}
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            ts = datetime.fromisoformat(row["arrived_at"])
            key = row["file"]
            out[os.path.normpath(os.path.join(base, key)) if os.sep in key else key] = ts
    return out
