"""`ioc backup`: one consistent, dated backup of everything the platform needs to come back.

    <IOC_BACKUP_DIR>/
      2026-12-06T013012Z/          one backup (written as `….partial`, renamed when complete)
        manifest.json              what it holds, checksums, counts, timings, settings
        warehouse.dump[.age]       pg_dump -Fc of the warehouse (restricted rows left out
                                   unless the backup is encrypted)
        superset.dump[.age]        Superset's metadata: users, roles, RLS rules, dashboards
                                   (or superset.sqlite.gz with SQLite metadata)
        roles.sql[.age]            pg_dumpall --roles-only: every role, whoever created it
        dagster.tar.gz[.age]       Dagster's instance: runs, event logs, schedules, sensors
                                   (or dagster.dump with IOC_DAGSTER_PG_URL)
        home.tar.gz[.age]          the intake watcher's state (arrival times), Superset's
                                   bootstrap state
        secrets.tar.gz[.age]       generated secrets, when IOC_BACKUP_SECRETS says so
        archive.tsv                the archive files this backup includes (path, size, kind)
      archive/                     the archive, shared by all backups: each file copied once
                                   (files are immutable; the arrival logs are append-only)

Consistency: the warehouse is dumped in one snapshot (pg_dump), so each report file is in it
whole or not at all; the archive is listed after the dump, and since the engine archives a
file before its transaction commits, every file the dump refers to is in the backup.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from backup import crypto, pg, retention
from backup.config import BackupConfig
from backup.config import load as load_config
from backup.target import PARTIAL, STORE, BackupError, target_lock
from ingest.intake import arrivals
from ioc import processes, warehouse
from ioc import settings as settings_mod
from ioc.settings import PROJECT_ROOT

FORMAT = 1
NAME_FORMAT = "%Y-%m-%dT%H%M%SZ"
LOGS_STATE = ".logs.json"
# files of IOC_HOME that are neither secrets nor state worth keeping
_NOT_SECRETS = (".log", ".pid", ".json", ".yaml", ".sqlite", ".db", ".csv")


@dataclass
class BackupResult:
    name: str
    path: Path
    seconds: float
    size_bytes: int  # this backup's own files
    archive_files: int
    archive_bytes: int
    archive_new_files: int
    archive_new_bytes: int
    encrypted: bool
    personal: str
    secrets: bool
    parts: dict[str, dict] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        mb = 1024 * 1024
        lines = [
            f"Sao lưu {self.name}: xong trong {self.seconds:.1f} s — {self.path}",
            f"  kho dữ liệu, Superset, Dagster, vai trò: {self.size_bytes / mb:.1f} MB"
            + (" (mã hoá age)" if self.encrypted else
               " (không mã hoá; dữ liệu cá nhân không sao lưu)"),
            f"  kho lưu trữ tệp: {self.archive_files} tệp, {self.archive_bytes / mb:.1f} MB; "
            f"mới lần này {self.archive_new_files} tệp, {self.archive_new_bytes / mb:.1f} MB",
        ]
        lines += [f"  CHÚ Ý: {w}" for w in self.warnings]
        if self.pruned:
            lines.append(f"  đã xoá theo quy tắc lưu giữ: {', '.join(self.pruned)}")
        return lines

    def to_json(self) -> dict:
        out = asdict(self)
        out["path"] = str(self.path)
        return out


# --- small helpers ------------------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _Writer:
    """Writes the parts of one backup, encrypted when asked, and remembers their checksums."""

    def __init__(self, folder: Path, config: BackupConfig, scratch: Path):
        self.folder = folder
        self.keys = crypto.recipients(config.recipients) if config.encrypted else None
        self.scratch = scratch
        self.parts: dict[str, dict] = {}

    def name(self, base: str) -> str:
        return base + crypto.SUFFIX if self.keys else base

    def _record(self, name: str) -> None:
        path = self.folder / name
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
        self.parts[name] = {"size": path.stat().st_size, "sha256": sha256_file(path)}

    def from_file(self, base: str, src: Path) -> str:
        name = self.name(base)
        if self.keys:
            crypto.encrypt_file(src, self.folder / name, self.keys)
        else:
            shutil.copyfile(src, self.folder / name)
        self._record(name)
        return name

    def from_bytes(self, base: str, data: bytes) -> str:
        name = self.name(base)
        if self.keys:
            crypto.encrypt_stream(io.BytesIO(data), self.folder / name, self.keys)
        else:
            (self.folder / name).write_bytes(data)
        self._record(name)
        return name

    def from_dump(self, base: str, url: str, args: list[str]) -> str:
        """pg_dump streamed straight into the backup (encrypted on the way when asked)."""
        name = self.name(base)
        dest = self.folder / name
        if self.keys:
            proc, db = pg.dump_process(url, args)
            assert proc.stdout is not None
            try:
                crypto.encrypt_stream(proc.stdout, dest, self.keys)
            finally:
                proc.stdout.close()
                err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
                proc.wait()
            if proc.returncode != 0:
                raise pg.PgToolError(f"pg_dump ({db}) thất bại ({proc.returncode}): "
                                     f"{err.strip()[-1500:]}")
        else:
            pg.run("pg_dump", [*args, f"--file={dest}"], url)
        self._record(name)
        return name


def sqlite_copy(src: Path, dst: Path) -> None:
    """A consistent copy of a live SQLite database (its backup API; WAL mode included)."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=60)
    try:
        dest = sqlite3.connect(dst)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()


def _tar_folder(tar: tarfile.TarFile, folder: Path, arcname: str, scratch: Path,
                skip: Callable[[Path], bool] = lambda p: False) -> int:
    """Add a folder, SQLite databases through their backup API; returns files added."""
    count = 0
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_dir() or path.is_symlink() or skip(rel):
            continue
        if path.name.endswith(("-wal", "-shm", "-journal")):
            continue  # the backup API copy below already holds what they add
        name = f"{arcname}/{rel}"
        if path.suffix in (".db", ".sqlite"):
            copy = scratch / f"sqlite-{count}"
            sqlite_copy(path, copy)
            tar.add(copy, arcname=name)
            copy.unlink()
        else:
            with contextlib.suppress(FileNotFoundError):  # a log rotated away meanwhile
                tar.add(path, arcname=name)
        count += 1
    return count


def secret_files(settings: settings_mod.Settings) -> list[Path]:
    """Generated secrets: small owner-only files directly in IOC_HOME (read_or_create_secret
    writes them with mode 0600)."""
    out = []
    if not settings.home.is_dir():
        return out
    for path in sorted(settings.home.iterdir()):
        try:
            st = path.lstat()
        except OSError:
            continue
        if (path.is_file() and not path.is_symlink() and st.st_mode & 0o077 == 0
                and st.st_size < 4096 and not path.name.startswith(".")
                and not path.name.endswith(_NOT_SECRETS)):
            out.append(path)
    return out


# --- the archive, copied incrementally into the shared store ------------------------------------

def archive_kind(rel: Path) -> str | None:
    """What an archive file is: content (a report's bytes), page (an agency page), personal
    (a page's personal sidecar), log (an append-only log); None for temp files."""
    if any(part.startswith(".") for part in rel.parts):
        return None
    if rel.parts[0] == "agency":
        return "personal" if rel.name.endswith(".personal.json.gz") else "page"
    if rel.parts[0] == "_log":
        return "log"
    return "content"


@dataclass
class ArchiveCopy:
    """What `copy_archive` did: the files new to the store, the personal sidecars left out,
    the corrupt files not copied, and every file the backup lists (path, size, kind, stored
    name), which `files` and `bytes` count."""

    new_files: int = 0
    new_bytes: int = 0
    skipped_personal: int = 0
    corrupt: list[str] = field(default_factory=list)
    listing: list[tuple[str, int, str, str]] = field(default_factory=list)

    @property
    def files(self) -> int:
        return len(self.listing)

    @property
    def bytes(self) -> int:
        return sum(size for _, size, _, _ in self.listing)


def copy_archive(archive_dir: Path, target: Path, config: BackupConfig) -> ArchiveCopy:
    store = target / STORE
    store.mkdir(parents=True, exist_ok=True)
    keys = crypto.recipients(config.recipients) if config.encrypted else None
    state_path = store / LOGS_STATE
    try:
        logs_state: dict = json.loads(state_path.read_text())
    except (OSError, ValueError):
        logs_state = {}
    out = ArchiveCopy()
    if not archive_dir.is_dir():
        return out
    for path in sorted(archive_dir.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        rel = path.relative_to(archive_dir)
        kind = archive_kind(rel)
        if kind is None:
            continue
        if kind == "personal" and not config.encrypted:
            out.skipped_personal += 1
            continue
        size = path.stat().st_size
        stored = Path(str(rel) + crypto.SUFFIX) if keys else rel
        dest = store / stored
        state_key = str(stored)
        fresh = (not dest.exists()) if kind != "log" else logs_state.get(state_key) != size
        if fresh:
            if kind == "content":
                digest = sha256_file(path)
                if not path.name.startswith(digest):
                    out.corrupt.append(str(rel))  # bit rot: never spread it to the backups
                    continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".incoming-{dest.name}")
            if kind == "log":  # a consistent prefix of an append-only file
                with open(path, "rb") as fh:
                    data = fh.read(size)
                if keys:
                    crypto.encrypt_stream(io.BytesIO(data), tmp, keys)
                else:
                    tmp.write_bytes(data)
                logs_state[state_key] = size
            elif keys:
                crypto.encrypt_file(path, tmp, keys)
            else:
                shutil.copyfile(path, tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, dest)
            out.new_files += 1
            out.new_bytes += size
        out.listing.append((str(rel), size, kind, str(stored)))
    tmp_state = state_path.with_name(".incoming-logs")
    tmp_state.write_text(json.dumps(logs_state, indent=0, sort_keys=True))
    os.replace(tmp_state, state_path)
    return out


# --- the backup ---------------------------------------------------------------------------------

def _new_name(target: Path, now: datetime) -> str:
    base = now.astimezone(UTC).strftime(NAME_FORMAT)
    name, n = base, 1
    while (target / name).exists() or (target / (name + PARTIAL)).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _superset_metadata(settings: settings_mod.Settings) -> tuple[str, str | Path] | None:
    """("postgres", libpq URL) or ("sqlite", path) of Superset's metadata, None if none."""
    explicit = os.environ.get("IOC_SUPERSET_METADATA_URL")
    if explicit:
        if explicit.startswith("postgres"):
            return "postgres", pg.libpq_url(explicit)
        if explicit.startswith("sqlite:///"):
            return "sqlite", Path(explicit.removeprefix("sqlite:///").split("?", 1)[0])
        raise BackupError("IOC_SUPERSET_METADATA_URL: chỉ sao lưu được PostgreSQL hoặc SQLite")
    if settings.embedded:
        return "postgres", warehouse.url(settings, warehouse.SUPERSET_DB)
    sqlite_db = settings.home / "superset.db"
    if sqlite_db.exists():
        return "sqlite", sqlite_db
    if (settings.home / "superset" / "bootstrap-state.json").exists():
        # Superset runs here, its metadata elsewhere, and this process was not told where:
        # Dagster's processes start without Superset's settings (ioc/childenv.py). A backup
        # without users, roles and dashboards must not pass for a whole one.
        raise BackupError(
            "Superset đã được cài nhưng không biết metadata của nó ở đâu: đặt "
            "IOC_SUPERSET_METADATA_URL khi chạy `ioc backup` (Dagster không được giữ biến này: "
            "xem docs/operations.md, metadata Superset trên máy chủ ngoài)")
    return None


def _counts(url: str) -> dict[str, int]:
    import psycopg

    queries = {
        "files": "select count(*) from raw_intake.file_manifest",
        "files_accepted": "select count(*) from raw_intake.file_manifest where status = "
                          "'accepted'",
        "ho_so": "select count(*) from raw_agency.ho_so",
        "van_ban": "select count(*) from raw_agency.van_ban",
        "phan_anh": "select count(*) from raw_agency.phan_anh",
    }
    out: dict[str, int] = {}
    with psycopg.connect(url, connect_timeout=10, autocommit=True) as conn:
        for name, query in queries.items():
            try:
                out[name] = conn.execute(query).fetchone()[0]
            except psycopg.errors.UndefinedTable:
                out[name] = 0
    return out


def _platform_version() -> str:
    try:
        return subprocess.run(["git", "-C", str(PROJECT_ROOT), "describe", "--always",
                               "--dirty"], capture_output=True, text=True, timeout=10
                              ).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def timed_steps(timings: dict[str, float], say: Callable[[str], None]
                ) -> Callable[[str], contextlib.AbstractContextManager[None]]:
    """`with step(name):` says the step's name and records its seconds in `timings` (also
    when it fails)."""
    @contextlib.contextmanager
    def step(name: str) -> Iterator[None]:
        started = time.monotonic()
        say(f"  {name}…")
        try:
            yield
        finally:
            timings[name] = round(time.monotonic() - started, 2)
    return step


def run(settings: settings_mod.Settings | None = None, config: BackupConfig | None = None, *,
        prune: bool = True, now: datetime | None = None,
        progress: Callable[[str], None] | None = None) -> BackupResult:
    """Make one backup into `config.target`; prune old ones by the retention rule."""
    settings = settings or settings_mod.load()
    config = config or load_config(settings)
    say = progress or (lambda _line: None)
    t0 = time.monotonic()
    now = now or datetime.now(UTC)
    timings: dict[str, float] = {}
    warnings: list[str] = []

    step = timed_steps(timings, say)

    target = config.target
    with target_lock(target):
        name = _new_name(target, now)
        work = target / (name + PARTIAL)
        work.mkdir()
        scratch_parent = settings.home / "tmp"
        scratch_parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="backup-", dir=scratch_parent))
        started_here = False
        try:
            if settings.embedded and not warehouse.is_running(settings):
                warehouse.start(settings)
                started_here = True
            url = warehouse.url(settings)
            writer = _Writer(work, config, scratch)
            with step("arrivals"):
                backfilled = _backfill_arrivals(url, settings.archive_dir)
            with step("warehouse"):
                args = ["--format=custom", "--no-password"]
                if not config.encrypted:
                    args.append("--exclude-table-data=restricted.*")
                writer.from_dump("warehouse.dump", url, args)
            with step("superset"):
                meta = _superset_metadata(settings)
                if meta and meta[0] == "postgres":
                    writer.from_dump("superset.dump", str(meta[1]),
                                     ["--format=custom", "--no-password"])
                elif meta:
                    copy = scratch / "superset.sqlite"
                    sqlite_copy(Path(meta[1]), copy)
                    writer.from_file("superset.sqlite", copy)
                else:
                    warnings.append("Superset chưa có dữ liệu (metadata) để sao lưu")
            with step("roles"):
                roles_url = (warehouse.url(settings, "postgres") if settings.embedded
                             else url)
                roles = _dump_roles(roles_url, warnings)
                if roles is not None:
                    writer.from_bytes("roles.sql", roles)
            with step("dagster"):
                _dagster(settings, writer, scratch, warnings)
            with step("home"):
                _home(settings, writer, scratch, config)
            with step("archive"):
                copied = copy_archive(settings.archive_dir, target, config)
                listing = "".join(f"{rel}\t{size}\t{kind}\t{stored}\n"
                                  for rel, size, kind, stored in copied.listing)
                (work / "archive.tsv").write_text(listing, encoding="utf-8")
                writer._record("archive.tsv")
                if copied.corrupt:
                    warnings.append(
                        f"{len(copied.corrupt)} tệp trong kho lưu trữ không khớp mã băm "
                        f"(hỏng đĩa?), không sao lưu: {', '.join(copied.corrupt[:5])}")
            counts = _counts(url)
            manifest = {
                "format": FORMAT,
                "name": name,
                "created_at": now.isoformat(),
                "finished_at": datetime.now(UTC).isoformat(),
                "seconds": round(time.monotonic() - t0, 2),
                "platform": _platform_version(),
                "postgres": pg.server_version(url),
                "encrypted": config.encrypted,
                "recipients": list(config.recipients),
                "personal": "included" if config.encrypted else "excluded",
                "secrets": config.secrets,
                "source": {"home": str(settings.home), "archive_dir": str(settings.archive_dir),
                           "intake_dir": str(settings.intake_dir),
                           "embedded": settings.embedded},
                "parts": writer.parts,
                "archive": {"files": copied.files, "bytes": copied.bytes,
                            "new_files": copied.new_files, "new_bytes": copied.new_bytes,
                            "personal_left_out": copied.skipped_personal,
                            "arrivals_backfilled": backfilled},
                "counts": counts,
                "timings": timings,
                "warnings": warnings,
            }
            (work / "manifest.json").write_text(json.dumps(manifest, indent=1,
                                                           ensure_ascii=False))
            with open(work / "manifest.json", "rb") as fh:
                os.fsync(fh.fileno())
            _fsync_dir(work)
            final = target / name
            os.replace(work, final)
            _fsync_dir(target)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            if started_here:
                warehouse.stop(settings)
        pruned: list[str] = []
        if prune:
            pruned = retention.prune(config, now=now, locked=True)
    if _same_disk(settings.home, target):
        warnings.append(f"{target} nằm trên cùng ổ đĩa với {settings.home}: hỏng ổ là mất cả "
                        "bản sao lưu — đặt IOC_BACKUP_DIR sang ổ khác hoặc thư mục mạng, và "
                        "gửi bản sao ra ngoài máy (docs/operations.md)")
    size = sum(p["size"] for p in writer.parts.values())
    return BackupResult(
        name=name, path=target / name, seconds=round(time.monotonic() - t0, 2),
        size_bytes=size, archive_files=copied.files, archive_bytes=copied.bytes,
        archive_new_files=copied.new_files, archive_new_bytes=copied.new_bytes,
        encrypted=config.encrypted, personal=manifest["personal"], secrets=config.secrets,
        parts=writer.parts, timings=timings, warnings=warnings, pruned=pruned)


def _same_disk(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


def _backfill_arrivals(url: str, archive_dir: Path) -> int:
    """The archive's arrival log completed from the manifest (installs from before it)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return arrivals.backfill(conn, archive_dir)


def _dump_roles(url: str, warnings: list[str]) -> bytes | None:
    """Every role of the server; without the privilege to read passwords, the roles without
    them; without even that, nothing (a warning says so)."""
    for extra in ([], ["--no-role-passwords"]):
        try:
            return pg.run("pg_dumpall", ["--roles-only", "--no-password", *extra], url).stdout
        except pg.PgToolError as exc:
            last = str(exc)
    warnings.append(f"không sao lưu được vai trò (roles): {last[:300]}")
    return None


def _dagster(settings: settings_mod.Settings, writer: _Writer, scratch: Path,
             warnings: list[str]) -> None:
    pg_url = os.environ.get("IOC_DAGSTER_PG_URL")
    if pg_url:
        writer.from_dump("dagster.dump", pg.libpq_url(pg_url),
                         ["--format=custom", "--no-password"])
        return

    home = processes.dagster_home(settings)
    out = scratch / "dagster.tar.gz"
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        _tar_folder(tar, home, "dagster", scratch,
                    skip=lambda rel: rel.name in ("dagster.yaml", ".telemetry")
                    or rel.parts[0] in (".logs_queue", ".nux", ".telemetry"))
    writer.from_file("dagster.tar.gz", out)


def _home(settings: settings_mod.Settings, writer: _Writer, scratch: Path,
          config: BackupConfig) -> None:
    out = scratch / "home.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        state = settings.home / "state"
        if state.is_dir():
            _tar_folder(tar, state, "state", scratch)
        bootstrapped = settings.home / "superset" / "bootstrap-state.json"
        if bootstrapped.is_file():  # lets the restored Superset skip steps already done
            tar.add(bootstrapped, arcname="superset/bootstrap-state.json")
    writer.from_file("home.tar.gz", out)
    if config.secrets:
        sec = scratch / "secrets.tar.gz"
        with tarfile.open(sec, "w:gz") as tar:
            for path in secret_files(settings):
                tar.add(path, arcname=f"secrets/{path.name}")
        writer.from_file("secrets.tar.gz", sec)
