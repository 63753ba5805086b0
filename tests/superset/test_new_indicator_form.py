"""docs/adding-a-form.md, section 5, followed literally: the page's contract (a copy of
ktxh-01.yaml with a new code, title and two new indicators), its indicator rows and its
submitter line are the only change. A file of the new form is then accepted by the real
`ioc ingest`, answered with the form's title, shown in Dagster with its rule check, and its
values reach `mart_chi_tieu.fct_chi_tieu_thang` and the "Chỉ tiêu" dashboard's dataset.

The three files are changed in the checkout for the test and restored afterwards. The form's
rows stay in the session warehouse (a form other suites do not look at).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from ingest.intake.contracts import CONTRACTS_DIR, load_contracts
from ingest.intake.reference import SEEDS
from ioc import warehouse
from ioc.dbt_runner import run_dbt
from ioc.settings import PROJECT_ROOT
from ioc_superset.client import SupersetClient
from tests.intake.builders import write_xlsx

DOC = PROJECT_ROOT / "docs" / "adding-a-form.md"
SECTION = "## 5. An indicator form needs no SQL"
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.e2e


def _page_blocks() -> tuple[str, str, str]:
    """The contract, the indicator rows and the submitter line, as the page gives them."""
    text = DOC.read_text(encoding="utf-8").split(SECTION, 1)[1]
    (contract,) = re.findall(r"```yaml\n(.*?)```", text, re.S)
    indicators, submitters = re.findall(r"```csv\n(.*?)```", text, re.S)
    return contract, indicators, submitters


@contextmanager
def _page_followed() -> Iterator[dict]:
    contract, indicators, submitters = _page_blocks()
    form = re.search(r"^form: (\S+)", contract, re.M).group(1)
    contract_path = CONTRACTS_DIR / f"{form.lower()}.yaml"
    assert not contract_path.exists(), f"{contract_path.name} is already in the catalogue"
    saved = {p: p.read_bytes() for p in (SEEDS / "indicators.csv", SEEDS / "form_submitters.csv")}
    try:
        contract_path.write_text(contract, encoding="utf-8")
        for path, lines in zip(saved, (indicators, submitters), strict=True):
            path.write_bytes(saved[path] + lines.encode("utf-8"))
        load_contracts.cache_clear()
        yield {"form": form, "title": re.search(r"^title: (.+)$", contract, re.M).group(1),
               "table": re.search(r"^table: (\S+)", contract, re.M).group(1)}
    finally:
        contract_path.unlink(missing_ok=True)
        for path, data in saved.items():
            path.write_bytes(data)
        load_contracts.cache_clear()


def _sheet() -> list[list]:
    return [["UBND XÃ SÔNG TRÀ", None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
            ["BÁO CÁO CHỈ TIÊU MÔI TRƯỜNG tháng 10 năm 2024"], ["Biểu số: MT-01"],
            ["STT", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Thực hiện tháng", "Ghi chú"],
            [1, "MT01", "Lượng rác thải sinh hoạt được thu gom", "tấn", 120.5, None],
            [2, "MT02", "Lượng rác thải được xử lý hợp vệ sinh", "tấn", 100, None],
            [], [None, None, None, "Sông Trà, ngày 02 tháng 11 năm 2024"], ["NGƯỜI LẬP BIỂU"]]


class Clock:
    """Seconds per step, written to test-artifacts/ (the test's cost in `make test`)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self.t0 = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.t0, 1)
        self.t0 = now

    def save(self) -> None:
        out = PROJECT_ROOT / "test-artifacts" / "superset"
        out.mkdir(parents=True, exist_ok=True)
        (out / "adding-an-indicator-form-timings.json").write_text(json.dumps(self.laps))


def _run(args: list[str]) -> str:
    proc = subprocess.run(args, cwd=PROJECT_ROOT, env=os.environ.copy(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_the_page_adds_an_indicator_form(superset_server, admin: SupersetClient,
                                         warehouse_settings, tmp_path: Path) -> None:
    clock = Clock()
    with _page_followed() as form:
        # a file of the new form: accepted by the real command, answered with the title
        root = tmp_path / "intake"
        path = write_xlsx(root / "xa-song-tra" / "moi truong thang 10.xlsx", _sheet())
        (result,) = json.loads(_run([str(BIN / "ioc"), "ingest", str(path), "--json",
                                     "--intake-root", str(root),
                                     "--now", "2024-11-03T09:00:00+07:00"]))
        clock.lap("ingest")
        assert result["status"] == "accepted", result
        assert (result["form"], result["org_unit_id"], result["period"]) == (
            form["form"], "xa-song-tra", "2024-10")
        (answer,) = root.rglob("*.da-nhan.txt")
        assert f"Biểu mẫu: {form['form']} - {form['title']}" in answer.read_text("utf-8")

        # Dagster: the raw table is an asset of the intake, with the form's rule check
        shown = json.loads(_run([str(BIN / "python"), "-c", (
            "import json; from orchestration.definitions import defs; "
            "g = defs.resolve_asset_graph(); "
            "print(json.dumps({'assets': [k.to_user_string() for k in g.get_all_asset_keys()], "
            "'checks': [c.name for c in g.asset_check_keys]}))")]))
        clock.lap("dagster")
        assert f"raw_intake/{form['table']}" in shown["assets"]
        assert f"quy_tac_bieu_{form['table']}" in shown["checks"]

        # dbt, as the pipeline after an intake: the new indicators, the generic mart (one
        # invocation, in the project's own target folder so dbt parses only what changed)
        assert run_dbt(["build", "--quiet", "--resource-type", "seed", "--resource-type",
                        "model", "--select", "indicators", "dim_chi_tieu",
                        "int_chi_tieu__current_values", "fct_chi_tieu_bieu_mau_thang"],
                       warehouse_settings, check=False) == 0
        clock.lap("dbt")

    with psycopg.connect(warehouse.url(warehouse_settings)) as conn:
        rows = conn.execute(
            "select form_title, indicator_code, indicator_name, value "
            "from mart_chi_tieu.fct_chi_tieu_thang where form_code = %s "
            "and structure_view = 'as_reported' and org_unit_id = 'xa-song-tra' "
            "and period = '2024-10' order by indicator_code", (form["form"],)).fetchall()
    assert rows == [
        (form["title"], "MT01", "Lượng rác thải sinh hoạt được thu gom", Decimal("120.5")),
        (form["title"], "MT02", "Lượng rác thải được xử lý hợp vệ sinh", Decimal("100")),
    ]

    # the generic dashboard's dataset offers the form and its values
    (ds,) = admin.list_all("dataset", ["id", "table_name"], table_name="fct_chi_tieu_thang",
                           schema="mart_chi_tieu")
    body = admin.query({
        "datasource": {"id": ds["id"], "type": "table"},
        "force": True,
        "queries": [{
            "columns": ["form_title", "indicator_code"],
            "metrics": ["gia_tri"],
            "filters": [{"col": "form_code", "op": "==", "val": form["form"]},
                        {"col": "structure_view", "op": "==", "val": "as_reported"}],
            "orderby": [["indicator_code", True]],
            "row_limit": 10,
        }],
        "result_format": "json",
        "result_type": "full",
    })
    clock.lap("superset")
    clock.save()
    data = body["result"][0]["data"]
    assert [(r["form_title"], r["indicator_code"], Decimal(str(r["gia_tri"]))) for r in data] == [
        (form["title"], "MT01", Decimal("120.5")), (form["title"], "MT02", Decimal("100"))]

