"""The warehouse's mart schemas, as dbt_project/dbt_project.yml declares them (one `+schema:
mart_…` per folder of models/marts), for tests that go through every mart."""

from __future__ import annotations

from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml"


def mart_schemas() -> list[str]:
    marts = yaml.safe_load(PROJECT.read_text(encoding="utf-8"))["models"]["ioc"]["marts"]
    return [config["+schema"] for config in marts.values()
            if isinstance(config, dict) and str(config.get("+schema", "")).startswith("mart_")]


MART_SCHEMAS = mart_schemas()
