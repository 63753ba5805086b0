"""Configuration from the environment: global and per-resource URL/token, tuning, secrets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ingest.agency.config import load
from ingest.agency.errors import ConfigError


def test_per_resource_variables_override_the_global_ones() -> None:
    env = {"IOC_AGENCY_API_URL": "http://platform", "IOC_AGENCY_API_TOKEN": "global-secret",
           "IOC_AGENCY_API_URL_PHAN_ANH": "http://feedback", "IOC_AGENCY_API_TOKEN_HO_SO":
           "dossier-secret"}
    cfg = load(env=env)
    assert cfg.source("ho-so").base_url == "http://platform"
    assert cfg.source("ho-so").token == "dossier-secret"
    assert cfg.source("phan-anh").base_url == "http://feedback"
    assert cfg.source("phan-anh").token == "global-secret"
    assert cfg.source("van-ban").token == "global-secret"
    # explicit arguments (Dagster's resource config) win over the environment
    explicit = load("http://explicit", "explicit-secret", env=env)
    assert explicit.source("phan-anh").base_url == "http://explicit"
    assert explicit.source("ho-so").token == "explicit-secret"


def test_tokens_never_show_in_repr() -> None:
    cfg = load(env={"IOC_AGENCY_API_URL": "http://p", "IOC_AGENCY_API_TOKEN": "s3cr3t-tok",
                    "IOC_AGENCY_PERSONAL_DATA": "hash", "IOC_AGENCY_PERSONAL_KEY": "k3y-s3cr3t"})
    text = repr(cfg) + str(cfg.sources)
    assert "s3cr3t-tok" not in text and "k3y-s3cr3t" not in text
    assert cfg.personal_key == b"k3y-s3cr3t"


def test_missing_url_or_token_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="IOC_AGENCY_API_URL_VAN_BAN"):
        load(env={}).source("van-ban")
    with pytest.raises(ConfigError, match="IOC_AGENCY_API_TOKEN_HO_SO"):
        load(env={"IOC_AGENCY_API_URL": "http://p"}).source("ho-so")
    with pytest.raises(ConfigError, match="khac"):
        load(env={}).source("khac")


def test_tuning_variables() -> None:
    cfg = load(env={"IOC_AGENCY_PAGE_SIZE": "500", "IOC_AGENCY_OVERLAP_MINUTES": "3",
                    "IOC_AGENCY_TIMEOUT": "5", "IOC_AGENCY_MAX_ATTEMPTS": "2",
                    "IOC_AGENCY_BACKOFF": "0.5", "IOC_AGENCY_RETRY_AFTER_MAX": "10",
                    "IOC_AGENCY_COMMIT_EVERY": "100"})
    assert cfg.page_size == 500 and cfg.overlap == timedelta(minutes=3)
    assert cfg.retry.timeout == 5 and cfg.retry.max_attempts == 2
    assert cfg.retry.backoff == 0.5 and cfg.retry.retry_after_max == 10
    assert cfg.commit_every == 100
    for bad in ({"IOC_AGENCY_PAGE_SIZE": "5000"}, {"IOC_AGENCY_TIMEOUT": "soon"},
                {"IOC_AGENCY_MAX_ATTEMPTS": "0"}, {"IOC_AGENCY_PERSONAL_DATA": "keep"}):
        with pytest.raises(ConfigError):
            load(env=bad)


def test_mapping_file_from_the_environment(tmp_path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("resources: {}\n", encoding="utf-8")
    assert load(env={"IOC_AGENCY_MAPPING": str(path)}).sources == {}
    with pytest.raises(ConfigError, match=r"missing\.yaml"):
        load(env={"IOC_AGENCY_MAPPING": str(tmp_path / "missing.yaml")})
