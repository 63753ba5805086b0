"""Connector configuration from the environment (Dagster and `ioc pull` read the same).

- `IOC_AGENCY_API_URL`, `IOC_AGENCY_API_TOKEN`: base URL and bearer token of the platform;
  `IOC_AGENCY_API_URL_HO_SO`, `IOC_AGENCY_API_TOKEN_HO_SO` (…`_VAN_BAN`, …`_PHAN_ANH`)
  override them per resource.
- `IOC_AGENCY_MAPPING`: the field/unit-code mapping YAML (default `ingest/agency/mapping.yaml`).
- `IOC_AGENCY_PAGE_SIZE` (1000, the contract's maximum), `IOC_AGENCY_OVERLAP_MINUTES` (10:
  re-ask from watermark minus this), `IOC_AGENCY_COMMIT_EVERY` (20000 records per load
  transaction).
- `IOC_AGENCY_TIMEOUT` (60 s per page), `IOC_AGENCY_MAX_ATTEMPTS` (6 tries per page on
  5xx/timeouts), `IOC_AGENCY_BACKOFF` / `IOC_AGENCY_BACKOFF_MAX` (1 s doubling up to 60 s),
  `IOC_AGENCY_MAX_THROTTLED` (30 answers 429 per page), `IOC_AGENCY_RETRY_AFTER_MAX` (300 s).
- `IOC_AGENCY_PERSONAL_RETENTION_DAYS`: delete personal rows of records unchanged for this many
  days (default 0: keep; docs/privacy.md).
- `IOC_AGENCY_PERSONAL_DATA`: `store` (default), `hash` or `drop` (docs/privacy.md);
  `IOC_AGENCY_PERSONAL_KEY`: the secret of `hash` mode (default: generated once into
  `$IOC_HOME/agency-personal-key`).

Tokens never appear in `repr()` of these objects (nor in logs).
"""

from __future__ import annotations

import os
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from ingest.agency.client import RetryPolicy
from ingest.agency.errors import ConfigError
from ingest.agency.mapping import DEFAULT_MAPPING, PERSONAL_MODES, Mapping, load_mapping
from ioc import settings

# The resources of the mapping shipped with the platform (the catalogue of sources).
RESOURCES = tuple(load_mapping(DEFAULT_MAPPING).resources)


def env_suffix(resource: str) -> str:
    return resource.replace("-", "_").upper()


@dataclass(frozen=True)
class SourceConfig:
    """Where one resource is read from."""

    resource: str
    base_url: str | None
    token: str | None = field(default=None, repr=False)

    def require(self) -> SourceConfig:
        """This source, or a ConfigError saying which variable to set."""
        suffix = env_suffix(self.resource)
        if not self.base_url:
            raise ConfigError(
                f"Chưa cấu hình địa chỉ API cho {self.resource}: đặt IOC_AGENCY_API_URL "
                f"hoặc IOC_AGENCY_API_URL_{suffix} (the agency API URL is not set)")
        if not self.token:
            raise ConfigError(
                f"Chưa có token cho {self.resource}: đặt IOC_AGENCY_API_TOKEN hoặc "
                f"IOC_AGENCY_API_TOKEN_{suffix} (the agency API token is not set)")
        return self


@dataclass(frozen=True)
class AgencyConfig:
    sources: dict[str, SourceConfig]
    mapping: Mapping
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    page_size: int = 1000
    overlap: timedelta = timedelta(minutes=10)
    future_skew: timedelta = timedelta(minutes=5)
    """A record dated later than now + this is "in the future": stored, counted, alerted,
    and never lets the watermark pass now + this (it would silently stop every later pull)."""
    commit_every: int = 20_000
    max_requests: int = 1_000_000
    personal_mode: str = "store"
    personal_key: bytes | None = field(default=None, repr=False)
    personal_retention: timedelta | None = None
    """Personal rows not changed for this long are deleted (None: kept; docs/privacy.md)."""

    def source(self, resource: str) -> SourceConfig:
        if resource not in self.sources:
            raise ConfigError(f"Không biết tài nguyên '{resource}' (unknown resource; "
                              f"known: {', '.join(self.sources)})")
        return self.sources[resource].require()

    def with_options(self, **changes) -> AgencyConfig:
        """A copy with some options changed (`retry=`, `page_size=`, ...)."""
        return replace(self, **changes)


def load(base_url: str | None = None, token: str | None = None, *,
         env: AnyMapping[str, str] | None = None, mapping_path: Path | str | None = None,
         **options) -> AgencyConfig:
    """The configuration: explicit arguments, then per-resource variables, then global ones.

    `options` override any field of `AgencyConfig` (tests pass a fast `retry=RetryPolicy(...)`).
    """
    env = os.environ if env is None else env
    mapping = load_mapping(mapping_path or env.get("IOC_AGENCY_MAPPING") or None)
    sources = {}
    for resource in mapping.resources:
        suffix = env_suffix(resource)
        sources[resource] = SourceConfig(
            resource,
            base_url or env.get(f"IOC_AGENCY_API_URL_{suffix}") or env.get("IOC_AGENCY_API_URL"),
            token or env.get(f"IOC_AGENCY_API_TOKEN_{suffix}") or env.get("IOC_AGENCY_API_TOKEN"),
        )
    base = RetryPolicy()
    retry = RetryPolicy(
        timeout=_number(env, "IOC_AGENCY_TIMEOUT", base.timeout),
        max_attempts=int(_number(env, "IOC_AGENCY_MAX_ATTEMPTS", base.max_attempts, 1)),
        backoff=_number(env, "IOC_AGENCY_BACKOFF", base.backoff, 0),
        backoff_max=_number(env, "IOC_AGENCY_BACKOFF_MAX", base.backoff_max, 0),
        max_throttled=int(_number(env, "IOC_AGENCY_MAX_THROTTLED", base.max_throttled, 1)),
        retry_after_max=_number(env, "IOC_AGENCY_RETRY_AFTER_MAX", base.retry_after_max, 0),
    )
    page_size = int(_number(env, "IOC_AGENCY_PAGE_SIZE", 1000, 1))
    if page_size > 1000:
        raise ConfigError("IOC_AGENCY_PAGE_SIZE tối đa 1000 (the contract allows 1..1000)")
    mode = (env.get("IOC_AGENCY_PERSONAL_DATA") or "store").strip().lower()
    if mode not in PERSONAL_MODES:
        raise ConfigError(f"IOC_AGENCY_PERSONAL_DATA phải là {', '.join(PERSONAL_MODES)} "
                          f"(got an unknown mode)")
    config = AgencyConfig(
        sources=sources, mapping=mapping, retry=retry, page_size=page_size,
        overlap=timedelta(minutes=_number(env, "IOC_AGENCY_OVERLAP_MINUTES", 10, 0)),
        future_skew=timedelta(minutes=_number(env, "IOC_AGENCY_FUTURE_SKEW_MINUTES", 5, 0)),
        commit_every=int(_number(env, "IOC_AGENCY_COMMIT_EVERY", 20_000, 1)),
        personal_mode=mode,
        personal_key=_personal_key(env) if mode == "hash" else None,
        personal_retention=_retention(env),
    )
    return replace(config, **options) if options else config


def _number(env: AnyMapping[str, str], name: str, default: float,
            minimum: float | None = None) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} phải là một số (must be a number)") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} phải >= {minimum:g} (must be at least {minimum:g})")
    return value


def _retention(env: AnyMapping[str, str]) -> timedelta | None:
    days = _number(env, "IOC_AGENCY_PERSONAL_RETENTION_DAYS", 0, 0)
    return timedelta(days=days) if days else None


def _personal_key(env: AnyMapping[str, str]) -> bytes:
    """The HMAC secret of hash mode: from the environment, else generated once per install."""
    if env.get("IOC_AGENCY_PERSONAL_KEY"):
        return env["IOC_AGENCY_PERSONAL_KEY"].encode("utf-8")

    path = settings.load().secret_file("agency-personal-key")
    return settings.read_or_create_secret(path, nbytes=32).encode("utf-8")
