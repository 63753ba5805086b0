"""The intake engine against the demo world: every file is judged as the manifest says —
accepted, or refused for the planted defect — and loading the whole history in arrival order
gives the statuses, versions and (absence of) warnings the manifest implies."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

engine = pytest.importorskip("ingest.intake.engine")

# The manifest's defect kinds and the engine's error codes that refuse them.
REFUSED_WITH = {
    "unknown_indicator": {"unknown_indicator", "unknown_indicator_name"},
    "missing_required": {"missing_indicator", "empty_required"},
    "not_a_number": {"not_a_number"},
    "negative_value": {"negative", "out_of_range"},
    "out_of_range": {"out_of_range"},
    "duplicate_indicator": {"duplicate_indicator", "repeated_indicator"},
    "cross_rule": {"rule_broken"},
    "hcc_row_identity": {"rule_broken"},
    "hcc_total_mismatch": {"total_mismatch"},
    "gd_unknown_commune": {"unknown_commune"},
    "gd_duplicate_school": {"duplicate_key"},
    "gd_count_exceeds_pupils": {"rule_broken"},
    "gd_negative_count": {"negative", "out_of_range"},
    "corrupt_workbook": {"corrupt_file"},
    "empty_file": {"empty_file"},
    "period_mismatch": {"period_mismatch"},
    "period_not_ended": {"period_not_ended"},
    "unit_mismatch": {"unit_mismatch"},
    "unit_not_valid": {"unit_not_valid"},
    "wrong_extension": {"unknown_extension", "not_excel"},
    "unrecognised_form": {"unknown_form"},
}


def _misjudged(demo_dir: Path, manifest: list[dict]) -> list:
    wrong = []
    for r in manifest:
        result = engine.check_paths([demo_dir / r["path"]], intake_root=demo_dir / "intake",
                                    now=datetime.fromisoformat(r["arrived_at"]))[0]
        codes = {e["code"] for e in result.errors}
        if r["expected_status"] == "rejected":
            if result.status != "rejected" or not codes & REFUSED_WITH[r["defect"]]:
                wrong.append((r["path"], r["defect"], result.status, sorted(codes)))
        elif (result.status, result.form, result.org_unit_id, result.period) != (
                "accepted", r["form_code"], r["org_unit_id"], r["period"]):
            wrong.append((r["path"], result.status, result.form, result.org_unit_id,
                          result.period, result.errors[:2]))
    return wrong


def test_every_file_is_judged_as_the_manifest_says(demo_dir: Path,
                                                   manifest: list[dict]) -> None:
    wrong = _misjudged(demo_dir, manifest)
    assert not wrong, wrong
    assert set(REFUSED_WITH) == {r["defect"] for r in manifest if r["defect"]}


def test_every_file_across_the_2025_reform_is_judged_as_the_manifest_says(
        reform_dir: Path, reform_manifest: list[dict]) -> None:
    """The new communes' reports from 2025-07 (GD-01 from 2025-HK1, one per commune for the
    schools in its area) are accepted; the old communes' June reports arriving in July are
    accepted; a report in an old commune's folder for a period after it ended is refused."""
    wrong = _misjudged(reform_dir, reform_manifest)
    assert not wrong, wrong
    periods = {r["period"] for r in reform_manifest if r["expected_status"] == "accepted"}
    assert {"2025-06", "2025-07", "2026-01", "2024-HK2", "2025-HK1"} <= periods


def test_refusal_of_an_old_unit_names_the_unit_that_replaced_it(
        reform_dir: Path, reform_manifest: list[dict]) -> None:
    from demo.units import load_seed_units

    units = {u.org_unit_id: u for u in load_seed_units()}
    strays = [r for r in reform_manifest
              if r["defect"] == "unit_not_valid" and r["period"] >= "2025-07"]
    assert strays
    for r in strays:
        result = engine.check_paths([reform_dir / r["path"]], intake_root=reform_dir / "intake",
                                    now=datetime.fromisoformat(r["arrived_at"]))[0]
        successor = units[units[r["org_unit_id"]].successor_id]
        messages = " ".join(e["message"] for e in result.errors
                            if e["code"] == "unit_not_valid")
        assert successor.name in messages, (r["path"], result.errors)


def test_loading_the_history_in_arrival_order(demo_dir: Path, manifest: list[dict],
                                              fresh_db_url: str, tmp_path: Path) -> None:
    import psycopg

    results = {}
    for r in manifest:  # the manifest is in arrival order
        arrived = datetime.fromisoformat(r["arrived_at"])
        (res,) = engine.ingest_paths([demo_dir / r["path"]], conninfo=fresh_db_url,
                                     archive_dir=tmp_path / "archive",
                                     intake_root=demo_dir / "intake", now=arrived,
                                     arrived_at=arrived, feedback=False)
        results[r["path"]] = res
    statuses = Counter((r["expected_status"], results[r["path"]].status) for r in manifest)
    assert set(statuses) == {("accepted", "accepted"), ("rejected", "rejected"),
                             ("duplicate", "duplicate")}, statuses
    warnings = Counter(w["code"] for res in results.values() for w in res.warnings)
    assert "ytd_mismatch" not in warnings, warnings
    with psycopg.connect(fresh_db_url) as conn:
        current = conn.execute(
            "select org_unit_id, form_code, period, max(version) from raw_intake.file_manifest "
            "where status = 'accepted' group by 1, 2, 3").fetchall()
        corrected = {(u, f, p) for u, f, p, v in current if v > 1}
    expected = {(r["org_unit_id"], r["form_code"], r["period"]) for r in manifest
                if r["kind"] == "correction"}
    assert expected and expected <= corrected
