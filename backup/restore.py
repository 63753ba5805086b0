"""`ioc restore BACKUP`: a backup brought back onto an empty IOC_HOME, a working platform.

In order: check every part against the manifest's checksums (nothing is touched if one is
wrong); secrets restored (or left to be generated anew); the warehouse server started and
the roles restored; the warehouse and Superset's metadata restored with pg_restore (one
transaction each: all or nothing); the BI login roles given the passwords of the install's
role key and Superset's identity map written (the access model of docs/security.md: roles,
memberships, row policies and grants come back with roles.sql and the dump); Dagster's
instance and the intake watcher's state unpacked; the archive copied back (each file
checked against its hash) and the manifest's archive paths pointed at the new archive
folder; then Superset brought up once against the restored metadata (`ioc superset
bootstrap`), so users, roles, row-level rules and dashboards are checked to work before the
command says it is done.

With new secrets (`--secrets regenerate`, or a backup made without them) every login role
gets a new password and Superset a new SECRET_KEY; the values Superset had encrypted with
the old key (the warehouse connection's password) are cleared and set again by the
bootstrap. Users' own passwords are hashes and survive either way.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from backup import backup as backup_mod
from backup import crypto, pg, retention
from backup.config import target_dir
from ioc import processes, warehouse
from ioc import settings as settings_mod
from ioc_superset import bootstrap, identities, server


class RestoreError(RuntimeError):
    """The backup cannot be restored here; nothing was changed unless the message says so."""


@dataclass
class RestoreResult:
    name: str
    seconds: float
    secrets: str  # restored | regenerated
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        lines = [f"Khôi phục {self.name}: xong trong {self.seconds:.1f} s "
                 f"(bí mật: {'khôi phục' if self.secrets == 'restored' else 'tạo mới'})",
                 "  " + ", ".join(f"{k}: {v}" for k, v in self.counts.items()),
                 "  thời gian: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items())]
        lines += [f"  CHÚ Ý: {w}" for w in self.warnings]
        lines.append("  Tiếp theo: `make up` (hoặc `.venv/bin/ioc up`) để chạy lại các dịch vụ.")
        return lines


def resolve(backup: str | Path, settings: settings_mod.Settings) -> Path:
    """A backup folder from a path, a name in IOC_BACKUP_DIR, or `latest`."""
    path = Path(backup).expanduser()
    if path.is_dir() and (path / "manifest.json").exists():
        return path.absolute()
    target = target_dir(settings)
    if str(backup) == "latest":
        latest = retention.newest(target)
        if latest is None:
            raise RestoreError(f"không có bản sao lưu nào trong {target}")
        return latest.path
    candidate = target / str(backup)
    if (candidate / "manifest.json").exists():
        return candidate
    raise RestoreError(f"không tìm thấy bản sao lưu {backup} (nor in {target})")


def read_manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RestoreError(f"{folder}: manifest.json không đọc được ({exc})") from None


def verify(folder: Path, *, archive: bool = True) -> list[str]:
    """Every problem of a backup: a part missing or not matching its checksum, an archive
    file the backup lists but the store lacks (or of the wrong size, when not encrypted)."""
    manifest = read_manifest(folder)
    problems = []
    for name, meta in manifest.get("parts", {}).items():
        path = folder / name
        if not path.exists():
            problems.append(f"thiếu {name}")
        elif path.stat().st_size != meta["size"] or backup_mod.sha256_file(path) != meta["sha256"]:
            problems.append(f"{name} không khớp mã kiểm tra (hỏng)")
    if archive:
        store = folder.parent / backup_mod.STORE
        for rel, size, kind, stored in _listing(folder):
            path = store / stored
            if not path.exists():
                problems.append(f"kho lưu trữ thiếu {rel}")
            elif not stored.endswith(crypto.SUFFIX) and kind != "log" and \
                    path.stat().st_size != size:
                problems.append(f"kho lưu trữ: {rel} sai kích thước")
    return problems


def _listing(folder: Path) -> list[tuple[str, int, str, str]]:
    out = []
    path = folder / "archive.tsv"
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        rel, size, kind, stored = line.split("\t")
        out.append((rel, int(size), kind, stored))
    return out


def _is_empty(path: Path) -> bool:
    return not path.exists() or not any(path.iterdir())


def _check_empty(settings: settings_mod.Settings) -> None:
    busy = []
    if settings.embedded and (settings.pgdata / "PG_VERSION").exists():
        busy.append(str(settings.pgdata))
    if settings.archive_dir.exists() and any(p.is_file() for p in settings.archive_dir.rglob("*")):
        busy.append(str(settings.archive_dir))
    if not settings.embedded:
        import psycopg

        with psycopg.connect(settings.warehouse_url, connect_timeout=10) as conn:
            n = conn.execute("select count(*) from pg_tables where schemaname not in "
                             "('pg_catalog', 'information_schema')").fetchone()[0]
        if n:
            busy.append(f"kho dữ liệu {pg.database_name(settings.warehouse_url)} ({n} bảng)")
    if busy:
        raise RestoreError(
            "Chỉ khôi phục vào nơi trống (restore needs an empty IOC_HOME and warehouse); "
            "đang có dữ liệu ở: " + ", ".join(busy)
            + ". Chuyển thư mục đó đi chỗ khác (đừng xoá khi chưa chắc) rồi chạy lại.")


class _Parts:
    """The backup's parts as plain files (decrypted into a scratch folder when needed)."""

    def __init__(self, folder: Path, manifest: dict, scratch: Path, idents: list | None):
        self.folder, self.manifest, self.scratch, self.idents = folder, manifest, scratch, idents

    def get(self, base: str) -> Path | None:
        for name in (base, base + crypto.SUFFIX):
            if name in self.manifest.get("parts", {}):
                path = self.folder / name
                if not name.endswith(crypto.SUFFIX):
                    return path
                if not self.idents:
                    raise RestoreError("bản sao lưu được mã hoá: cần khoá bí mật age "
                                       "(--identity FILE hoặc IOC_BACKUP_AGE_IDENTITY)")
                plain = self.scratch / base
                crypto.decrypt_file(path, plain, self.idents)
                return plain
        return None


def _extract(tar_path: Path, dest: Path, prefix: str, mode: int | None = None) -> list[Path]:
    """Members under `prefix/` into `dest` (names checked: nothing outside `dest`)."""
    out = []
    with tarfile.open(tar_path, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.startswith(prefix + "/"):
                continue
            rel = Path(member.name[len(prefix) + 1:])
            if rel.is_absolute() or ".." in rel.parts:
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            assert src is not None
            with src, open(target, "wb") as fh:
                shutil.copyfileobj(src, fh)
            if mode is not None:
                target.chmod(mode)
            out.append(target)
    return out


_PASSWORD = re.compile(r"\s+PASSWORD\s+'(?:[^']|'')*'", re.IGNORECASE)


def apply_roles(sql_text: str, url: str, *, keep_passwords: bool) -> list[str]:
    """Run pg_dumpall's role statements one by one; roles that exist are altered, not
    recreated. Returns the statements the server refused (as warnings)."""
    import psycopg

    refused = []
    with psycopg.connect(url, autocommit=True) as conn:
        for line in sql_text.splitlines():
            stmt = line.strip()
            if not stmt or stmt.startswith(("--", "\\")):
                continue
            if not keep_passwords:
                stmt = _PASSWORD.sub("", stmt)
            try:
                conn.execute(stmt)
            except psycopg.errors.DuplicateObject:
                continue
            except psycopg.Error as exc:
                refused.append(f"{stmt[:80]}: {type(exc).__name__}")
    return refused


# Superset's columns encrypted with its SECRET_KEY (superset/models/core.py, ssh_tunnel):
# with a new key they cannot be read; cleared, they are set again by the bootstrap.
_SUPERSET_ENCRYPTED = (
    "update dbs set password = null, encrypted_extra = null, server_cert = null",
    "delete from database_user_oauth2_tokens",
    "delete from ssh_tunnels",
)


def _clear_superset_secrets(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for stmt in _SUPERSET_ENCRYPTED:
            try:
                conn.execute(stmt)
            except psycopg.errors.UndefinedTable:
                continue


def restore(backup: str | Path, settings: settings_mod.Settings | None = None, *,
            identity: Path | str | None = None, secrets: str = "auto",
            superset: bool = True,
            progress: Callable[[str], None] | None = None) -> RestoreResult:
    settings = settings or settings_mod.load()
    say = progress or (lambda _line: None)
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    warnings: list[str] = []
    folder = resolve(backup, settings)
    manifest = read_manifest(folder)
    if manifest.get("format") != backup_mod.FORMAT:
        raise RestoreError(f"định dạng sao lưu {manifest.get('format')} không được hỗ trợ")
    identity = identity or os.environ.get("IOC_BACKUP_AGE_IDENTITY")
    idents = crypto.identities(identity) if identity else None
    if manifest.get("encrypted") and not idents:
        raise RestoreError("bản sao lưu được mã hoá: cần khoá bí mật age "
                           "(--identity FILE hoặc IOC_BACKUP_AGE_IDENTITY)")
    say("  kiểm tra bản sao lưu…")
    problems = verify(folder)
    if problems:
        raise RestoreError("bản sao lưu hỏng, không khôi phục: " + "; ".join(problems[:10]))
    _check_empty(settings)
    has_secrets = any(n.startswith("secrets.tar.gz") for n in manifest.get("parts", {}))
    if secrets == "restore" and not has_secrets:
        raise RestoreError("bản sao lưu này không chứa bí mật (IOC_BACKUP_SECRETS=exclude): "
                           "dùng --secrets regenerate")
    keep_secrets = has_secrets and secrets != "regenerate"

    step = backup_mod.timed_steps(timings, say)

    settings.home.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="restore-", dir=settings.home))
    was_running = warehouse.is_running(settings)
    try:
        parts = _Parts(folder, manifest, scratch, idents)
        if keep_secrets:
            with step("secrets"):
                tar = parts.get("secrets.tar.gz")
                assert tar is not None
                for path in _extract(tar, settings.home, "secrets", mode=0o600):
                    say(f"    {path.name}")
        with step("warehouse server"):
            warehouse.start(settings)
        roles = parts.get("roles.sql")
        if roles is not None:
            with step("roles"):
                admin = warehouse.url(settings, "postgres") if settings.embedded \
                    else warehouse.url(settings)
                refused = apply_roles(roles.read_text(encoding="utf-8"), admin,
                                      keep_passwords=keep_secrets)
                if refused:
                    warnings.append(f"{len(refused)} lệnh vai trò bị từ chối: {refused[:3]}")
                if not keep_secrets:
                    warehouse.ensure_databases(settings)  # the new passwords
                # the BI login roles get theirs after the warehouse (step "access")
        with step("warehouse"):
            dump = parts.get("warehouse.dump")
            if dump is None:
                raise RestoreError("bản sao lưu thiếu warehouse.dump")
            pg.restore(dump, warehouse.url(settings), jobs=1)
        with step("access"):
            warnings += _restore_access(settings)
        with step("superset"):
            _restore_superset(parts, settings, keep_secrets)
        with step("dagster"):
            _restore_dagster(parts, settings)
        with step("home"):
            home_tar = parts.get("home.tar.gz")
            if home_tar is not None:
                _extract(home_tar, settings.home / "state", "state")
                _extract(home_tar, settings.home / "superset", "superset")
        with step("archive"):
            restored, bad = restore_archive(folder, settings.archive_dir, idents)
            if bad:
                raise RestoreError(f"{len(bad)} tệp lưu trữ không khớp mã băm: {bad[:5]}")
            moved = _repoint_archive(settings, manifest)
            if moved:
                say(f"    {moved} đường dẫn lưu trữ trỏ sang {settings.archive_dir}")
        counts = backup_mod._counts(warehouse.url(settings))
        expected = manifest.get("counts", {})
        for key, value in expected.items():
            if counts.get(key) != value:
                warnings.append(f"{key}: sao lưu ghi {value}, khôi phục được {counts.get(key)}")
        counts["archive_files"] = restored
        if superset and _superset_installed():
            with step("superset bootstrap"):
                bootstrap.bootstrap(settings, keep_running=False,
                                    force_import=not keep_secrets)
        elif superset:
            warnings.append("chưa cài Superset (.venv-superset): chạy `make install`, rồi "
                            "`ioc superset bootstrap`")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if settings.embedded and not was_running:
            warehouse.stop(settings)
    return RestoreResult(manifest["name"], round(time.monotonic() - t0, 2),
                         "restored" if keep_secrets else "regenerated", counts, timings,
                         warnings)


def _restore_access(settings: settings_mod.Settings) -> list[str]:
    """The warehouse's access model as this release declares it (docs/security.md).

    The roles came back from `roles.sql` with their memberships and limits, the row policies
    and grants with the warehouse dump. What a restore must still do: give every BI login
    role the password derived from the install's role key (restored or new: without the
    password lines of roles.sql they could not log in), write the map Superset's connection
    mutator reads, and bring the CONNECT grants of the databases back (the dump does not hold
    them). Returns warnings: login roles still without a password (made by hand, not from
    superset/policies/)."""
    import psycopg

    warehouse.ensure_databases(settings)
    out = [c for c in identities.apply(settings) if c.startswith("BI login roles NOT")]
    admin = warehouse.url(settings, "postgres") if settings.embedded else warehouse.url(settings)
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            orphans = [r for (r,) in conn.execute(
                "select rolname from pg_authid where rolcanlogin and rolpassword is null "
                "and rolname not like 'pg\\_%' and rolname <> current_user order by 1")]
    except psycopg.errors.InsufficientPrivilege:
        orphans = []  # pg_authid is for superusers: a DBA's server checks its own roles
    if orphans:
        out.append(f"vai trò đăng nhập chưa có mật khẩu (tạo tay, đặt lại bằng ALTER ROLE … "
                   f"PASSWORD): {', '.join(orphans)}")
    return out


def _superset_installed() -> bool:
    try:
        server.superset_bin()
        return True
    except server.SupersetCommandError:
        return False


def _restore_superset(parts: _Parts, settings: settings_mod.Settings, keep_secrets: bool
                      ) -> None:
    dump = parts.get("superset.dump")
    meta = backup_mod._superset_metadata(settings)
    if dump is not None:
        if meta is None or meta[0] != "postgres":
            raise RestoreError("bản sao lưu có metadata Superset trên PostgreSQL, nơi khôi phục "
                               "không có (đặt IOC_SUPERSET_METADATA_URL)")
        url = warehouse.url(settings, warehouse.SUPERSET_DB) if settings.embedded \
            else str(meta[1])
        pg.restore(dump, url, jobs=1)
        if not keep_secrets:
            _clear_superset_secrets(url)
        return
    sqlite_copy = parts.get("superset.sqlite")
    if sqlite_copy is not None:
        dest = Path(meta[1]) if meta and meta[0] == "sqlite" else settings.home / "superset.db"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sqlite_copy, dest)
        if not keep_secrets:
            import sqlite3

            with sqlite3.connect(dest) as conn:
                for stmt in _SUPERSET_ENCRYPTED:
                    try:
                        conn.execute(stmt)
                    except sqlite3.OperationalError:
                        continue


def _restore_dagster(parts: _Parts, settings: settings_mod.Settings) -> None:
    dump = parts.get("dagster.dump")
    if dump is not None:
        url = os.environ.get("IOC_DAGSTER_PG_URL")
        if not url:
            raise RestoreError("bản sao lưu có Dagster trên PostgreSQL: đặt IOC_DAGSTER_PG_URL")
        pg.restore(dump, pg.libpq_url(url), jobs=1)
        return
    tar = parts.get("dagster.tar.gz")
    if tar is not None:
        _extract(tar, processes.dagster_home(settings), "dagster")


def restore_archive(folder: Path, archive_dir: Path, idents: list | None
                    ) -> tuple[int, list[str]]:
    """Copy the backup's archive files into `archive_dir`; returns (files, hash mismatches)."""
    store = folder.parent / backup_mod.STORE
    count, bad = 0, []
    for rel, size, kind, stored in _listing(folder):
        src = store / stored
        dest = archive_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".incoming-{dest.name}")
        if stored.endswith(crypto.SUFFIX):
            if not idents:
                raise RestoreError("kho lưu trữ được mã hoá: cần khoá bí mật age")
            crypto.decrypt_file(src, tmp, idents)
        else:
            shutil.copyfile(src, tmp)
        if kind == "log":
            with open(tmp, "r+b") as fh:
                fh.truncate(size)  # the log as it was when this backup was taken
        elif kind == "content" and backup_mod.sha256_file(tmp) != Path(rel).name[:64]:
            bad.append(rel)
            tmp.unlink()
            continue
        tmp.chmod({"content": 0o444, "page": 0o444, "personal": 0o400}.get(kind, 0o644))
        os.replace(tmp, dest)
        count += 1
    return count, bad


def _repoint_archive(settings: settings_mod.Settings, manifest: dict) -> int:
    """Manifest rows name archive files by absolute path: point them at the new folder."""
    import psycopg

    old = manifest.get("source", {}).get("archive_dir")
    new = str(settings.archive_dir)
    if not old or old == new:
        return 0
    with psycopg.connect(warehouse.url(settings)) as conn:
        if conn.execute("select to_regclass('raw_intake.file_manifest')").fetchone()[0] is None:
            return 0
        cur = conn.execute(
            "update raw_intake.file_manifest set archive_path = %s || substr(archive_path, "
            "length(%s) + 1) where starts_with(archive_path, %s)", (new, old, old + "/"))
        return cur.rowcount
