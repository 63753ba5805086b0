"""The outlier check: quiet on a commune's normal months, raised by one crafted month.

Ten monthly KTXH-01 reports of Quế Lưu go through the real intake engine and dbt; the
check reads the outliers dbt flags in `mart_bao_cao` for the latest month.
"""

from __future__ import annotations

import dagster as dg
import pytest

from ingest.intake import engine
from ioc.dbt_runner import run_dbt
from orchestration.quality.reporting import outlier_check, outliers_in_latest_month
from orchestration.resources import WarehouseResource
from tests.conftest import FIXTURES

TEMPLATE = (FIXTURES / "examples" / "KTXH-01_xa-que-luu_2024-10.csv").read_bytes()
NORMAL_KT01 = ["405", "418", "409", "421", "412,5", "399", "415", "408", "417", "411"]


def _month_file(intake, month: int, kt01: str):
    text = TEMPLATE.decode("cp1258").replace(";412,5;", f";{kt01};")
    path = intake / "xa-que-luu" / f"KTXH-01_xa-que-luu_2024-{month:02d}.csv"
    path.write_bytes(text.encode("cp1258"))
    return path


def _load(tmp_path, url: str, last_kt01: str) -> None:
    intake = tmp_path / "intake"
    (intake / "xa-que-luu").mkdir(parents=True)
    values = [*NORMAL_KT01[:9], last_kt01]
    files = [_month_file(intake, m, v) for m, v in enumerate(values, start=1)]
    results = engine.ingest_paths(
        files, conninfo=url, archive_dir=tmp_path / "archive", intake_root=intake
    )
    assert [r.status for r in results] == ["accepted"] * 10, [r.errors for r in results]
    assert (
        run_dbt(
            [
                "build",
                "--select",
                "+fct_ngoai_le",
                "+fct_nop_bao_cao",
                "--indirect-selection",
                "cautious",
            ],
            check=False,
        )
        == 0
    )


def _run_check(url: str) -> dg.AssetCheckResult:
    # the resource reads IOC_WAREHOUSE_URL, which the test sets to `url`
    context = dg.build_asset_check_context(resources={"warehouse": WarehouseResource()})
    return outlier_check(context)


@pytest.mark.parametrize(
    ("last_kt01", "flagged"), [("411", False), ("4.125", True)], ids=["normal", "crafted"]
)
def test_outlier_check(tmp_path, fresh_db_url, monkeypatch, last_kt01, flagged) -> None:
    monkeypatch.setenv("IOC_WAREHOUSE_URL", fresh_db_url)
    _load(tmp_path, fresh_db_url, last_kt01)
    month, rows = outliers_in_latest_month(fresh_db_url)
    assert str(month) == "2024-10-01"
    result = _run_check(fresh_db_url)
    assert result.passed is (not flagged)
    if flagged:
        assert [(r[0], r[1]) for r in rows] == [("xa-que-luu", "KT01")]
        assert rows[0][3] > 3.5
