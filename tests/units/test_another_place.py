"""Another place is a data change: a copy of the platform whose unit list is replaced by one
`ioc units build` made for another area (the former Thị xã Điện Bàn: wards and communes,
now "Khu vực Điện Bàn" of Đà Nẵng) takes that area's reports and builds every mart — with
no other file changed. It runs as another place would: the copy's own `ioc` commands in
subprocesses (the copy first on the import path), intake then `dbt build`, against a fresh
database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.intake.builders import KTXH_VALUES, ktxh_sheet, ktxh_table, write_xlsx

ROOT = Path(__file__).resolve().parents[2]
COPIED = ["ingest", "ioc", "orchestration", "cli", "backup", "upload", "dbt_project",
          "pyproject.toml"]
NOW = "2026-12-01T10:00:00+07:00"


def _copy(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("target", "logs", "dbt_packages", "__pycache__", ".user.yml")
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)
    return dest


def _run(copy: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def place(tmp_path_factory, warehouse_settings):
    """The copy, its unit list, the files it received, its database after `dbt build`."""
    import uuid

    from psycopg import sql

    from ioc import warehouse

    base = tmp_path_factory.mktemp("another-place")
    copy = _copy(base / "platform")
    name = f"t_place_{uuid.uuid4().hex[:8]}"
    admin = warehouse.url(warehouse_settings, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = warehouse.url(warehouse_settings, name)
    env = {**os.environ, "PYTHONPATH": str(copy), "IOC_WAREHOUSE_URL": url,
           "IOC_HOME": str(base / "home"), "IOC_INTAKE_DIR": str(base / "intake"),
           "IOC_ARCHIVE_DIR": str(base / "archive")}
    try:
        built = _run(copy, env, "units", "build", "--district-code", "507",
                     "--area", "Khu vực Điện Bàn",
                     "--out", str(copy / "dbt_project" / "seeds" / "org_units.csv"))
        assert built.returncode == 0, built.stderr
        intake = base / "intake"
        files = {
            # before the reform, two wards that became Phường Điện Bàn
            "phuong-vinh-dien": ("UBND PHƯỜNG VĨNH ĐIỆN", 5, 2025, 100),
            "phuong-dien-minh": ("UBND PHƯỜNG ĐIỆN MINH", 5, 2025, 40),
            # after it, the new ward itself
            "phuong-dien-ban": ("UBND PHƯỜNG ĐIỆN BÀN", 8, 2025, 170),
        }
        for unit, (line, month, year, budget) in files.items():
            values = [(c, n, u, plan, budget, budget) if c == "KT01" else (c, n, u, plan, v, y)
                      for c, n, u, plan, v, y in KTXH_VALUES]
            title = f"Tình hình thực hiện chỉ tiêu kinh tế - xã hội tháng {month} năm {year}"
            write_xlsx(intake / unit / "bao cao.xlsx",
                       ktxh_sheet(unit_line=line, title=title, table=ktxh_table(values)))
        # an old ward after the reform: refused, naming the ward that took it in
        write_xlsx(intake / "phuong-vinh-dien" / "thang 8.xlsx",
                   ktxh_sheet(unit_line="UBND PHƯỜNG VĨNH ĐIỆN",
                              title="Tình hình thực hiện chỉ tiêu kinh tế - xã hội tháng 8 "
                                    "năm 2025", table=ktxh_table()))
        schema = subprocess.run(
            [sys.executable, "-c", "import sys; from ingest.agency import schema; "
             "schema.ensure_tables(sys.argv[1])", url],
            cwd=copy, env=env, capture_output=True, text=True, timeout=300)
        assert schema.returncode == 0, schema.stderr
        ingested = _run(copy, env, "ingest", str(intake), "--intake-root", str(intake),
                        "--json", "--now", NOW, "--no-feedback")
        results = json.loads(ingested.stdout)
        dbt = _run(copy, env, "dbt", "build", "--vars", json.dumps({"as_of_date": "2026-12-01"}))
        yield {"url": url, "results": results, "dbt": dbt, "copy": copy}
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _rows(place, query: str) -> list[tuple]:
    with psycopg.connect(place["url"]) as conn:
        return conn.execute(query).fetchall()


def test_only_the_unit_list_changed(place) -> None:
    copy = place["copy"]
    tracked = subprocess.run(["git", "ls-files", *COPIED], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    changed = [rel for rel in tracked if (copy / rel).exists() and not rel.endswith(".user.yml")
               and (copy / rel).read_bytes() != (ROOT / rel).read_bytes()]
    assert changed == ["dbt_project/seeds/org_units.csv"]


def test_intake_judges_by_the_new_list(place) -> None:
    by = {(r["org_unit_id"], r["period"]): r for r in place["results"]}
    for key in [("phuong-vinh-dien", "2025-05"), ("phuong-dien-minh", "2025-05"),
                ("phuong-dien-ban", "2025-08")]:
        assert by[key]["status"] == "accepted", [e["message"] for e in by[key]["errors"]]
    refused = by[("phuong-vinh-dien", "2025-08")]
    assert refused["status"] == "rejected"
    assert any("nay thuộc Phường Điện Bàn" in e["message"] for e in refused["errors"])


def test_every_mart_builds(place) -> None:
    assert place["dbt"].returncode == 0, place["dbt"].stdout[-3000:]


def test_units_and_their_area(place) -> None:
    rows = dict((r[0], r[1:]) for r in _rows(
        place, "select org_unit_id, district_id, province_id, current_org_unit_id, is_commune "
               "from mart_dung_chung.dim_don_vi"))
    assert rows["phuong-dien-ban"] == ("khu-vuc-dien-ban", "tp-da-nang", "phuong-dien-ban", True)
    assert rows["phuong-vinh-dien"] == ("tx-dien-ban", "tinh-quang-nam", "phuong-dien-ban",
                                        True)
    assert not any(uid.startswith(("xa-hiep", "huyen-hiep")) for uid in rows)


def test_both_views_of_history(place) -> None:
    got = {(v, u, str(m)): (value, ytd) for v, u, m, value, ytd in _rows(
        place, "select structure_view, org_unit_id, period_month, value, ytd_value "
               "from mart_kinh_te_xa_hoi.fct_chi_tieu_thang where indicator_code = 'KT01'")}
    assert got[("as_reported", "phuong-vinh-dien", "2025-05-01")] == (100, 100)
    assert got[("as_reported", "phuong-dien-ban", "2025-08-01")] == (170, 170)
    # today's structure: the two wards' May under the new ward, its year running on in August
    assert got[("current_structure", "phuong-dien-ban", "2025-05-01")] == (140, 140)
    assert got[("current_structure", "phuong-dien-ban", "2025-08-01")] == (170, 310)
    area = {(v, u) for v, u, *_ in _rows(
        place, "select structure_view, org_unit_id, period_month "
               "from mart_kinh_te_xa_hoi.fct_chi_tieu_thang_huyen")}
    assert ("current_structure", "khu-vuc-dien-ban") in area
    assert ("as_reported", "tx-dien-ban") in area


def test_reporting_obligations_follow_the_new_list(place) -> None:
    owed = {(u, p, s) for u, p, s in _rows(
        place, "select org_unit_id, period, submission_status from mart_bao_cao.fct_nop_bao_cao "
               "where structure_view = 'as_reported' and form_code = 'KTXH-01'")}
    assert ("phuong-dien-ban", "2025-08", "dung_han") in owed or (
        "phuong-dien-ban", "2025-08", "tre_han") in owed
    assert not any(u == "phuong-vinh-dien" and p >= "2025-07" for u, p, _ in owed)
