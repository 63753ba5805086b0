"""The forms' rules re-checked at rest: pass on what intake loaded, fail on a tampered row."""

from __future__ import annotations

import shutil

import psycopg

from ingest.intake import engine
from orchestration.definitions import defs
from orchestration.quality.form_rules import violations
from tests.conftest import FIXTURES

HCC = FIXTURES / "examples" / "HCC-06_xa-binh-lam_2024-10.xlsx"
KTXH = FIXTURES / "examples" / "KTXH-01_xa-hiep-thuan_2024-10.xlsx"


def _load(tmp_path, url: str) -> None:
    for src, unit in ((HCC, "xa-binh-lam"), (KTXH, "xa-hiep-thuan")):
        (tmp_path / "intake" / unit).mkdir(parents=True)
        shutil.copy2(src, tmp_path / "intake" / unit / src.name)
    results = engine.ingest_paths(
        [tmp_path / "intake"],
        conninfo=url,
        archive_dir=tmp_path / "archive",
        intake_root=tmp_path / "intake",
    )
    assert [r.status for r in results] == ["accepted", "accepted"]




def test_rules_hold_on_loaded_files_and_fail_on_a_tampered_row(tmp_path, fresh_db_url) -> None:
    _load(tmp_path, fresh_db_url)
    assert violations(fresh_db_url, "HCC-06") == []
    assert violations(fresh_db_url, "KTXH-01") == []
    with psycopg.connect(fresh_db_url) as conn:
        conn.execute(
            "update raw_intake.hcc06_row set resolved_late = resolved_late + 1 "
            "where field = 'Đất đai'"
        )
        conn.execute(
            "update raw_intake.ktxh01_value set value = 2000 where indicator_code = 'XH03'"
        )
    hcc = violations(fresh_db_url, "HCC-06")
    assert {v.where for v in hcc} == {"Đất đai"}
    assert any("resolved_late" in v.rule for v in hcc)
    assert [v.rule for v in violations(fresh_db_url, "KTXH-01")] == ["XH03 + XH04 <= XH02"]


def test_form_rule_checks_are_in_the_definitions() -> None:
    keys = {c.name for c in defs.resolve_asset_graph().asset_check_keys}
    assert {"quy_tac_bieu_hcc06_row", "quy_tac_bieu_ktxh01_value"} <= keys
