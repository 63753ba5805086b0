"""What a backup does, from the environment (docs/operations.md lists every variable).

- `IOC_BACKUP_DIR`: where backups go: a mounted share or a second disk. Default: a folder
  beside IOC_HOME (`.ioc-backups` next to `.ioc`), which survives losing IOC_HOME but not the
  disk: set it in production.
- `IOC_BACKUP_PERSONAL`: `exclude` (default: personal data — the `restricted` schema's rows
  and the agency pages' personal sidecars — is left out) or `encrypt` (everything is kept,
  every file of the backup encrypted with age to `IOC_BACKUP_AGE_RECIPIENTS`).
- `IOC_BACKUP_AGE_RECIPIENTS` (age public keys `age1…`, separated by commas or spaces) or
  `IOC_BACKUP_AGE_RECIPIENTS_FILE` (one per line); `ioc backup keygen` makes a pair. The
  secret key never stays on the machine: restore is given it (`--identity FILE` or
  `IOC_BACKUP_AGE_IDENTITY`).
- `IOC_BACKUP_SECRETS`: `include` or `exclude` the generated secrets of IOC_HOME (passwords,
  keys). Default: included when the backup is encrypted, left out when it is not; a restore
  without them generates new ones.
- `IOC_BACKUP_KEEP_LAST` (3), `IOC_BACKUP_KEEP_DAILY` (7), `IOC_BACKUP_KEEP_WEEKLY` (5),
  `IOC_BACKUP_KEEP_MONTHLY` (12): the retention rule (the newest N backups, and the newest
  backup of each of the last N days, ISO weeks, months).
- `IOC_BACKUP_MAX_AGE_HOURS` (26): Dagster alerts when the newest backup is older.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ioc.settings import Settings

PERSONAL_MODES = ("exclude", "encrypt")


class BackupConfigError(ValueError):
    """A backup setting that cannot be used (the message says which and why)."""


@dataclass(frozen=True)
class Retention:
    """Which backups `retention.prune` keeps: the newest `last` (at least one), and the newest
    backup of each of the last `daily` days, `weekly` ISO weeks and `monthly` months."""

    last: int = 3
    daily: int = 7
    weekly: int = 5
    monthly: int = 12


@dataclass(frozen=True)
class BackupConfig:
    target: Path
    personal: str = "exclude"
    recipients: tuple[str, ...] = ()
    secrets: bool = False
    retention: Retention = field(default_factory=Retention)
    max_age_hours: float = 26.0

    @property
    def encrypted(self) -> bool:
        return self.personal == "encrypt"


DEFAULT_RETENTION = Retention()
DEFAULT_MAX_AGE_HOURS = BackupConfig.max_age_hours


def default_target(settings: Settings) -> Path:
    return settings.home.parent / f"{settings.home.name}-backups"


def target_dir(settings: Settings, env=None) -> Path:
    """Where backups are, without checking the other settings (a restoring machine needs
    no recipients)."""
    env = os.environ if env is None else env
    where = env.get("IOC_BACKUP_DIR")
    return Path(where).expanduser().absolute() if where else default_target(settings)


def _int(env, name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise BackupConfigError(f"{name} phải là số nguyên không âm (got {raw!r})")
    return int(raw)


def load(settings: Settings, env=None, target: Path | str | None = None) -> BackupConfig:
    env = os.environ if env is None else env
    where = target or env.get("IOC_BACKUP_DIR")
    path = Path(where).expanduser().absolute() if where else default_target(settings)
    personal = (env.get("IOC_BACKUP_PERSONAL") or "exclude").strip().lower()
    if personal not in PERSONAL_MODES:
        raise BackupConfigError(
            f"IOC_BACKUP_PERSONAL phải là {' hoặc '.join(PERSONAL_MODES)} (got {personal!r})")
    recipients = tuple(r for r in re.split(r"[\s,]+", env.get("IOC_BACKUP_AGE_RECIPIENTS") or "")
                       if r)
    if env.get("IOC_BACKUP_AGE_RECIPIENTS_FILE"):
        lines = Path(env["IOC_BACKUP_AGE_RECIPIENTS_FILE"]).read_text().splitlines()
        recipients += tuple(x.strip() for x in lines if x.strip() and not x.startswith("#"))
    if personal == "encrypt" and not recipients:
        raise BackupConfigError(
            "IOC_BACKUP_PERSONAL=encrypt cần khoá công khai age trong IOC_BACKUP_AGE_RECIPIENTS "
            "(tạo bằng `ioc backup keygen`) — an encrypted backup needs an age recipient")
    secrets_raw = (env.get("IOC_BACKUP_SECRETS") or "").strip().lower()
    if secrets_raw not in ("", "include", "exclude"):
        raise BackupConfigError(f"IOC_BACKUP_SECRETS phải là include hoặc exclude "
                                f"(got {secrets_raw!r})")
    secrets = secrets_raw == "include" if secrets_raw else personal == "encrypt"
    max_age = (env.get("IOC_BACKUP_MAX_AGE_HOURS") or "").strip()
    try:
        max_age_hours = float(max_age) if max_age else DEFAULT_MAX_AGE_HOURS
    except ValueError:
        raise BackupConfigError(f"IOC_BACKUP_MAX_AGE_HOURS phải là một số (got {max_age!r})") \
            from None
    return BackupConfig(
        target=path, personal=personal, recipients=recipients, secrets=secrets,
        retention=Retention(
            last=max(1, _int(env, "IOC_BACKUP_KEEP_LAST", DEFAULT_RETENTION.last)),
            daily=_int(env, "IOC_BACKUP_KEEP_DAILY", DEFAULT_RETENTION.daily),
            weekly=_int(env, "IOC_BACKUP_KEEP_WEEKLY", DEFAULT_RETENTION.weekly),
            monthly=_int(env, "IOC_BACKUP_KEEP_MONTHLY", DEFAULT_RETENTION.monthly),
        ),
        max_age_hours=max_age_hours,
    )
