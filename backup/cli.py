"""`ioc backup`, `ioc restore`, `ioc rebuild` (docs/operations.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ioc import settings as settings_mod


def _backup(args) -> int:
    from backup import backup, crypto, retention
    from backup.config import BackupConfigError
    from backup.config import load as load_config

    cfg = settings_mod.load()
    if args.action == "keygen":
        out = Path(args.out)
        secret, public = crypto.generate()
        try:
            crypto.write_identity(out, secret, public)
        except FileExistsError:
            print(f"{out} đã có; không ghi đè", file=sys.stderr)
            return 2
        print(f"Khoá bí mật (giữ NGOÀI máy này, cần khi khôi phục): {out}")
        print(f"IOC_BACKUP_AGE_RECIPIENTS={public}")
        return 0
    try:
        config = load_config(cfg, target=args.target)
    except BackupConfigError as exc:
        print(f"Lỗi cấu hình sao lưu: {exc}", file=sys.stderr)
        return 2
    if args.action == "list":
        items = retention.backups(config.target)
        if args.json:
            print(json.dumps([{"name": b.name, "created_at": b.created_at.isoformat(),
                               "size_bytes": b.size_bytes, **{k: b.manifest.get(k) for k in (
                                   "encrypted", "personal", "secrets", "counts")}}
                              for b in items], ensure_ascii=False, indent=1))
            return 0
        if not items:
            print(f"chưa có bản sao lưu nào trong {config.target}")
            return 0
        for b in items:
            m = b.manifest
            print(f"{b.name}  {b.size_bytes / 1048576:8.1f} MB  "
                  f"{'mã hoá' if m.get('encrypted') else 'không mã hoá'}  "
                  f"tệp: {m.get('counts', {}).get('files', '?')}  "
                  f"lưu trữ: {m.get('archive', {}).get('files', '?')} tệp")
        return 0
    if args.action == "verify":
        from backup import restore

        try:
            folder = restore.resolve(args.name or "latest", cfg)
        except restore.RestoreError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        problems = restore.verify(folder)
        for p in problems:
            print(f"  {p}")
        print(f"{folder.name}: {'HỎNG' if problems else 'tốt'}")
        return 1 if problems else 0
    if args.action == "prune":
        removed = retention.prune(config, dry_run=args.dry_run)
        print(("sẽ xoá: " if args.dry_run else "đã xoá: ") + (", ".join(removed) or "không có"))
        return 0
    try:
        result = backup.run(cfg, config, prune=not args.no_prune, progress=print)
    except (backup.BackupError, OSError, RuntimeError) as exc:
        print(f"Sao lưu THẤT BẠI: {exc}", file=sys.stderr)
        return 1
    _show(args, result.to_json(), result.summary())
    return 0


def _show(args, as_json: dict, lines: list[str]) -> None:
    """A run's result: as JSON with `--json`, else its lines."""
    if args.json:
        print(json.dumps(as_json, ensure_ascii=False, indent=1, default=str))
    else:
        print("\n".join(lines))


def _restore(args) -> int:
    from backup import crypto, pg, restore

    cfg = settings_mod.load()
    try:
        result = restore.restore(args.backup, cfg, identity=args.identity,
                                 secrets=args.secrets, superset=not args.no_superset,
                                 progress=print)
    except (restore.RestoreError, crypto.CryptoError, pg.PgToolError) as exc:
        print(f"Khôi phục THẤT BẠI: {exc}", file=sys.stderr)
        return 1
    print("\n".join(result.summary()))
    return 0


def _rebuild(args) -> int:
    from backup import rebuild

    cfg = settings_mod.load()
    try:
        report = rebuild.rebuild(cfg, target=args.target, into_warehouse=args.into_warehouse,
                                 dbt=not args.no_dbt, keep=args.keep, progress=print)
    except rebuild.RebuildError as exc:
        print(f"Dựng lại THẤT BẠI: {exc}", file=sys.stderr)
        return 1
    _show(args, report.to_json(), report.lines())
    return 0 if report.same else 3


def register(sub) -> None:
    b = sub.add_parser("backup", help="back up the warehouse, Superset, Dagster and the archive")
    b.add_argument("action", nargs="?", default="run",
                   choices=["run", "list", "verify", "prune", "keygen"],
                   help="run (default): one backup now; list; verify [NAME]; prune; keygen")
    b.add_argument("name", nargs="?", help="`verify`: a backup's name or path (default latest)")
    b.add_argument("--target", help="backup folder (default IOC_BACKUP_DIR)")
    b.add_argument("--no-prune", action="store_true", help="keep every older backup this time")
    b.add_argument("--dry-run", action="store_true", help="`prune`: only say what would go")
    b.add_argument("--out", default="ioc-backup-key.txt", help="`keygen`: identity file")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=_backup)

    r = sub.add_parser("restore", help="bring a backup back onto an empty IOC_HOME")
    r.add_argument("backup", help="a backup folder, its name in IOC_BACKUP_DIR, or `latest`")
    r.add_argument("--identity", help="age secret key file (encrypted backups)")
    r.add_argument("--secrets", choices=["auto", "restore", "regenerate"], default="auto",
                   help="auto (default): restore them when the backup holds them")
    r.add_argument("--no-superset", action="store_true",
                   help="do not start Superset once to check the restored metadata")
    r.set_defaults(func=_restore)

    rb = sub.add_parser("rebuild", help="re-derive raw tables and marts from the archive alone")
    rb.add_argument("--target", help="database to rebuild into (default: `<warehouse>_rebuild` "
                                     "on the same server), or a postgresql:// URL")
    rb.add_argument("--into-warehouse", action="store_true",
                    help="rebuild into the configured warehouse itself (must be empty: "
                         "recovery when only the archive survived)")
    rb.add_argument("--keep", action="store_true", help="keep the rebuilt database")
    rb.add_argument("--no-dbt", action="store_true", help="raw tables only, no marts")
    rb.add_argument("--json", action="store_true")
    rb.set_defaults(func=_rebuild)
