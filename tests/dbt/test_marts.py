"""The warehouse model end to end: raw tables from their real DDL, a small hand-made world
(tests/dbt/dataset.py), `dbt build` (models, data tests and every KPI unit test), and the
KPI values in the marts checked against numbers computed by hand.

One database for the module: dbt runs once for the build (≈ 40 s on two cores), again for
the incremental step and for the docs.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ingest.agency import schema as agency_schema
from ingest.intake import engine as intake_engine
from ioc import warehouse
from ioc.dbt_runner import run_dbt
from tests.dbt import dataset
from tests.support.marts import MART_SCHEMAS


@dataclasses.dataclass
class World:
    url: str
    settings: object
    target: Path

    def dbt(self, *args: str) -> int:
        return run_dbt(
            [
                *args,
                "--target-path",
                str(self.target),
                "--log-path",
                str(self.target / "logs"),
                "--vars",
                json.dumps({"as_of_date": dataset.AS_OF}),
            ],
            settings=self.settings,
            check=False,
        )

    def rows(self, query: str, *params) -> list[tuple]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(query, params).fetchall()

    def one(self, query: str, *params) -> tuple:
        rows = self.rows(query, *params)
        assert len(rows) == 1, f"expected one row, got {rows}"
        return rows[0]


@pytest.fixture(scope="module")
def world(warehouse_settings, tmp_path_factory) -> Iterator[World]:
    """A fresh database with the raw tables, the hand-made world, and one `dbt build`."""
    name = f"t_dbt_{uuid.uuid4().hex[:10]}"
    admin = warehouse.url(warehouse_settings, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = warehouse.url(warehouse_settings, name)
    try:
        agency_schema.ensure_tables(url)
        intake_engine.ensure_tables(url)
        with psycopg.connect(url) as conn:
            dataset.load(conn)
        built = World(
            url,
            dataclasses.replace(warehouse_settings, warehouse_url=url),
            tmp_path_factory.mktemp("dbt-target"),
        )
        assert built.dbt("build") == 0, "dbt build failed (models, data tests or unit tests)"
        yield built
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


def d(text: str) -> Decimal:
    return Decimal(text)


# --- units and the merger ---------------------------------------------------------------------


def test_merged_communes_map_to_que_tan(world: World) -> None:
    mapped = {
        unit: (latest, current)
        for unit, latest, current in world.rows(
            "select org_unit_id, latest_org_unit_id, current_org_unit_id "
            "from mart_dung_chung.dim_don_vi "
            "where org_unit_id in ('xa-hiep-hoa', 'xa-hiep-thuan', 'xa-que-tan', 'tt-tan-an')"
        )
    }
    # the end of the successor chain is the commune of the 2025 reform; "today" (2025-03-10)
    # is still Quế Tân's time
    assert mapped == {
        "xa-hiep-hoa": ("xa-hiep-duc", "xa-que-tan"),
        "xa-hiep-thuan": ("xa-hiep-duc", "xa-que-tan"),
        "xa-que-tan": ("xa-hiep-duc", "xa-que-tan"),
        "tt-tan-an": ("xa-hiep-duc", "tt-tan-binh"),
    }
    # In today's structure (judged on 2025-03-10, before the July reform) Quế Tân's 2024 is
    # Hiệp Hòa + Hiệp Thuận.
    got = {
        (str(m), code): (v, ytd)
        for m, code, v, ytd in world.rows(
            "select period_month, indicator_code, value, ytd_value "
            "from mart_kinh_te_xa_hoi.fct_chi_tieu_thang "
            "where org_unit_id = 'xa-que-tan' and structure_view = 'current_structure'"
        )
    }
    assert got[("2024-11-01", "KT01")] == (160, 160)
    assert got[("2024-12-01", "KT01")] == (70, 230)  # corrected December: 40 + 30
    assert got[("2024-12-01", "XH02")] == (1100, 1100)  # a stock: never summed over months
    assert got[("2024-12-01", "XH06")] == (None, None)  # criteria met cannot be added
    assert got[("2025-01-01", "KT01")] == (70, 70)
    assert got[("2025-01-01", "XH06")] == (16, 16)


def test_working_days_know_tet(world: World) -> None:
    off = world.rows(
        "select date_day::text from mart_dung_chung.dim_ngay "
        "where date_day between '2025-01-25' and '2025-02-02' and is_working_day"
    )
    assert off == []
    assert world.one(
        "select count(*) from mart_dung_chung.dim_ngay "
        "where is_working_day and date_day between '2025-01-20' and '2025-02-17'"
    ) == (15 + 1,)


# --- administrative procedures ----------------------------------------------------------------


def test_dossier_cases(world: World) -> None:
    cases = {
        k: rest
        for k, *rest in world.rows(
            "select ma_ho_so, org_unit_id, deadline_status, working_days_to_resolve "
            "from mart_hanh_chinh_cong.fct_ho_so"
        )
    }
    # paused 3 working days: promised day moved to 19 Dec, done 18 Dec: early; 7 − 3 = 4 days
    assert cases["HS2"] == ["xa-binh-lam", "truoc_han", 4]
    assert cases["HS3"] == ["xa-binh-lam", "qua_han", 3]
    assert cases["HS4"] == ["xa-binh-lam", "dang_qua_han", None]
    # received Fri 24 Jan 2025, done Tue 4 Feb: Tết and weekends do not count → 2 days
    assert cases["HS5"] == ["xa-binh-lam", "truoc_han", 2]
    # api_code 20779 is Tân Bình's from 2020-02-01 (Quế Bình's before, Xã Hiệp Đức's from
    # 2025-07-01): the receipt date decides
    assert cases["HS7"] == ["tt-tan-binh", "dung_han", 0]


def test_dossier_month_hcc06_counts(world: World) -> None:
    rows = {
        str(m): rest
        for m, *rest in world.rows(
            "select period_month, received_total, carried_over, resolved_late, pending_late, "
            "late_total from mart_hanh_chinh_cong.fct_ho_so_thang "
            "where structure_view = 'as_reported' and org_unit_id = 'xa-binh-lam'"
        )
    }
    assert rows["2024-12-01"] == [4, 0, 1, 1, 2]
    assert rows["2025-01-01"] == [3, 1, 0, 1, 1]
    assert rows["2025-02-01"] == [2, 2, 0, 1, 1]
    # March is still running on 10 March (T = A): the dossier open since December is there
    assert rows["2025-03-01"] == [1, 1, 0, 1, 1]


def test_dossier_kpis_at_t(world: World) -> None:
    """hcc_dung_han of Bình Lâm by hand: December 2 of 4 on time (HS3 finished a day late,
    HS4 open past its 24 December deadline); January HS4 late, HS5 open but due after the
    month's end, HS6 on time → 2 of 3; February HS5 finished on time, HS4 still late → 1 of
    2; March is still running on 10 March (pinned: the end of that day): only HS4, late → 0 of
    1, "đến 23:59 10/03/2025"."""
    rows = {
        str(m): rest
        for m, *rest in world.rows(
            "select period_month, numerator, denominator, value, is_month_complete, "
            "period_label, to_char(evaluated_at at time zone 'Asia/Ho_Chi_Minh', "
            "'YYYY-MM-DD HH24:MI:SS'), to_char(as_of at time zone 'Asia/Ho_Chi_Minh', "
            "'YYYY-MM-DD HH24:MI') from mart_tong_quan.fct_kpi_thang "
            "where structure_view = 'as_reported' and unit_level = 'don_vi' "
            "and org_unit_id = 'xa-binh-lam' and kpi_code = 'hcc_dung_han'"
        )
    }
    assert rows["2024-12-01"] == [2, 4, d("50.00"), True, "12/2024", "2024-12-31 23:59:59",
                                  "2025-03-10 23:59"]
    assert rows["2025-01-01"][:4] == [2, 3, d("66.67"), True]
    assert rows["2025-02-01"][:4] == [1, 2, d("50.00"), True]
    assert rows["2025-03-01"] == [0, 1, d("0.00"), False, "03/2025 (đến 23:59 10/03/2025)",
                                  "2025-03-10 23:59:59", "2025-03-10 23:59"]
    online = dict(
        world.rows(
            "select period_month::text, value from mart_tong_quan.fct_kpi_thang "
            "where structure_view = 'as_reported' and unit_level = 'don_vi' "
            "and org_unit_id = 'xa-binh-lam' and kpi_code = 'hcc_truc_tuyen'"
        )
    )
    # February: nothing received → no value (not 0 %, not 100 %)
    assert online == {"2024-12-01": d("25.00"), "2025-01-01": d("100.00"),
                      "2025-02-01": None, "2025-03-01": None}


def test_hcc06_system_vs_reported(world: World) -> None:
    rows = {
        (f, m): rest
        for f, m, *rest in world.rows(
            "select linh_vuc, measure, system_value, reported_value, difference, match_status "
            "from mart_hanh_chinh_cong.fct_so_sanh_hcc06 "
            "where structure_view = 'as_reported' "
            "and org_unit_id = 'xa-binh-lam' and period_month = '2024-12-01'"
        )
    }
    assert len(rows) == 22
    assert {r[3] for (f, _), r in rows.items() if f == "Hộ tịch"} == {"khop"}
    assert rows[("Chứng thực", "received_total")] == [0, 1, 1, "chi_co_trong_bao_cao"]
    assert rows[("Chứng thực", "carried_over")] == [0, 0, 0, "khop"]


# --- socio-economic indicators ----------------------------------------------------------------


def test_ytd_flow_vs_stock_and_correction(world: World) -> None:
    rows = {
        (str(m), c): rest
        for m, c, *rest in world.rows(
            "select period_month, indicator_code, value, ytd_value, pct_of_plan, file_id "
            "from mart_kinh_te_xa_hoi.fct_chi_tieu_thang where org_unit_id = 'xa-hiep-hoa'"
        )
    }
    assert rows[("2024-11-01", "KT01")] == [100, 100, d("10.0"), 1]
    # the correction (file 4) is in force: 40, not the first version's 999
    assert rows[("2024-12-01", "KT01")] == [40, 140, d("14.0"), 4]
    assert rows[("2024-12-01", "XH02")][:2] == [1000, 1000]


def test_poor_household_rate_rolls_up_sum_over_sum(world: World) -> None:
    communes = dict(
        world.rows(
            "select org_unit_id, poor_rate from mart_kinh_te_xa_hoi.fct_ty_le_xa_hoi_thang "
            "where structure_view = 'as_reported' and period_month = '2024-12-01'"
        )
    )
    assert communes == {"xa-hiep-hoa": d("9.00"), "xa-hiep-thuan": d("50.00")}
    poor, households, rate = world.one(
        "select poor_households, households, poor_rate "
        "from mart_kinh_te_xa_hoi.fct_ty_le_xa_hoi_huyen "
        "where structure_view = 'as_reported' "
        "and org_unit_id = 'huyen-hiep-duc' and period_month = '2024-12-01'"
    )
    assert (poor, households, rate) == (140, 1100, d("12.73"))
    assert rate != (communes["xa-hiep-hoa"] + communes["xa-hiep-thuan"]) / 2  # 29.5 is wrong
    kpi = world.one(
        "select numerator, denominator, value from mart_tong_quan.fct_kpi_thang "
        "where structure_view = 'as_reported' "
        "and org_unit_id = 'huyen-hiep-duc' and unit_level = 'dia_ban' "
        "and period_month = '2024-12-01' and kpi_code = 'ktxh_ty_le_ho_ngheo'"
    )
    assert kpi == (140, 1100, d("12.73"))


def test_district_indicator_totals_honour_area_rollup(world: World) -> None:
    rows = {
        c: rest
        for c, *rest in world.rows(
            "select indicator_code, value, ytd_value, plan_year, pct_of_plan, communes_reported, "
            "communes_expected from mart_kinh_te_xa_hoi.fct_chi_tieu_thang_huyen "
            "where structure_view = 'as_reported' "
            "and org_unit_id = 'huyen-hiep-duc' and period_month = '2024-12-01'"
        )
    }
    assert rows["KT01"] == [70, 230, 1600, d("14.4"), 2, 11]
    assert rows["XH06"] == [None, None, None, None, 2, 11]


# --- health, education ------------------------------------------------------------------------


def test_health_rates(world: World) -> None:
    row = world.one(
        "select insured_visit_share, immunisation_coverage, antenatal_4_share, population, "
        "dengue_per_100k from mart_y_te.fct_y_te_thang "
        "where structure_view = 'as_reported' "
        "and org_unit_id = 'xa-hiep-thuan' and period_month = '2024-12-01'"
    )
    assert row == (d("75.00"), d("25.00"), d("75.00"), 500, d("400.00"))


def test_education_rates(world: World) -> None:
    rows = {
        u: rest
        for u, *rest in world.rows(
            "select org_unit_id, schools, minority_share, dropout_rate, pupils_per_teacher, "
            "national_standard_share from mart_giao_duc.fct_giao_duc_hoc_ky "
            "where structure_view = 'as_reported' "
            "and semester_period = '2024-HK1' and school_level = 'Tiểu học'"
        )
    }
    assert rows["xa-hiep-thuan"] == [1, d("10.00"), d("1.00"), d("20.00"), d("100.00")]
    assert rows["xa-binh-lam"] == [1, d("50.00"), d("1.00"), d("20.00"), d("0.00")]


# --- documents, feedback ----------------------------------------------------------------------


def test_documents_month(world: World) -> None:
    rows = {
        str(m): rest
        for m, *rest in world.rows(
            "select period_month, incoming_received, incoming_completed_on_time, "
            "incoming_completed_late, incoming_open_past_deadline, incoming_open_due_7_days, "
            "deadline_population, deadline_on_time, digital_signature_share "
            "from mart_van_ban.fct_van_ban_thang "
            "where structure_view = 'as_reported' and org_unit_id = 'xa-que-tho'"
        )
    }
    # January: VB1 on time, VB2 late, VB3 open and due 3 Feb (within 7 days of T) → 2 of 3
    assert rows["2025-01-01"] == [3, 1, 1, 0, 1, 3, 2, d("50.00")]
    # February: VB3 open past its deadline; VB6 has no deadline
    assert rows["2025-02-01"] == [1, 0, 0, 1, 0, 1, 0, None]


def test_feedback_default_deadline_across_tet(world: World) -> None:
    cases = {
        k: rest
        for k, *rest in world.rows(
            "select ma_phan_anh, org_unit_id, deadline_date::text, deadline_status "
            "from mart_phan_anh_kien_nghi.fct_phan_anh"
        )
    }
    # 15 working days after Mon 20 Jan 2025, skipping Tết: Mon 17 Feb (not 10 Feb)
    assert cases["PA1"] == ["xa-que-tan", "2025-02-17", "truoc_han"]
    assert cases["PA2"] == ["xa-que-tan", "2025-01-24", "qua_han"]
    assert cases["PA3"][2] == "tu_choi"
    months = {
        str(m): rest
        for m, *rest in world.rows(
            "select period_month, resolved, due_population, due_on_time, satisfied, "
            "mean_rating, published_share, avg_working_days_to_resolve "
            "from mart_phan_anh_kien_nghi.fct_phan_anh_thang "
            "where structure_view = 'as_reported' and org_unit_id = 'xa-que-tan'"
        )
    }
    # January: PA3 refused in time, PA1 open within its default deadline, PA2 open past its
    # own → 2 of 3 on time, both satisfied (never rated counts as not dissatisfied)
    assert months["2025-01-01"][1:4] == [3, 2, 2]
    # February: PA1 done before 17 Feb (rated 5), PA2 late (rated 2) → 1 of 2, 1 of 2
    assert months["2025-02-01"] == [2, 2, 1, 1, d("3.50"), d("50.00"), d("9.50")]


# --- reporting and data quality ---------------------------------------------------------------


def test_report_submissions(world: World) -> None:
    rows = {
        (u, p): rest
        for u, p, *rest in world.rows(
            "select org_unit_id, period, submission_status, refused_attempts, accepted_versions, "
            "current_version, current_file_id from mart_bao_cao.fct_nop_bao_cao "
            "where structure_view = 'as_reported' and form_code = 'KTXH-01'"
        )
    }
    assert rows[("xa-hiep-hoa", "2024-11")][0] == "dung_han"
    assert rows[("xa-hiep-thuan", "2024-11")][0] == "tre_han"  # 6 December > the 5th
    assert rows[("xa-hiep-hoa", "2024-12")] == ["dung_han", 0, 2, 2, 4]
    assert rows[("xa-hiep-thuan", "2024-12")] == ["dung_han", 1, 1, 1, 6]
    assert rows[("xa-que-tan", "2025-02")][0] == "chua_nop"
    assert ("xa-hiep-hoa", "2025-01") not in rows  # merged away: owes nothing in 2025
    gd = world.one(
        "select submission_status from mart_bao_cao.fct_nop_bao_cao "
        "where structure_view = 'as_reported' "
        "and form_code = 'GD-01' and org_unit_id = 'phong-gddt'"
    )
    assert gd == ("dung_han",)


def test_reporting_rates(world: World) -> None:
    rows = {
        p: rest
        for p, *rest in world.rows(
            "select period, units_owing, expected, received, on_time, reporting_rate, "
            "on_time_reporting_rate from mart_bao_cao.fct_nop_bao_cao_huyen "
            "where structure_view = 'as_reported' and form_code = 'KTXH-01'"
        )
    }
    assert rows["2024-11"] == [11, 11, 2, 1, d("18.18"), d("9.09")]
    assert rows["2025-01"] == [10, 10, 1, 1, d("10.00"), d("10.00")]
    assert rows["2025-02"] == [10, 10, 0, 0, d("0.00"), d("0.00")]
    # the overview's December reporting rate covers the three monthly forms: 4 of 33
    assert world.one(
        "select numerator, denominator, value from mart_tong_quan.fct_kpi_thang "
        "where structure_view = 'as_reported' "
        "and unit_level = 'dia_ban' and period_month = '2024-12-01' and kpi_code = 'bc_ty_le_nop'"
    ) == (4, 33, d("12.12"))


def test_refusals_by_reason(world: World) -> None:
    rows = {
        (u, g): rest
        for u, g, *rest in world.rows(
            "select org_unit_id, reason_group, refused_files, problems "
            "from mart_bao_cao.fct_tu_choi_theo_ly_do where structure_view = 'as_reported'"
        )
    }
    assert rows == {
        ("xa-hiep-thuan", "sai_rang_buoc"): [1, 1],
        ("xa-hiep-thuan", "so_lieu_khong_hop_le"): [1, 1],
        ("(không xác định)", "tep_khong_doc_duoc"): [1, 1],
    }


def test_no_outliers_without_history(world: World) -> None:
    assert world.one("select count(*) from mart_bao_cao.fct_ngoai_le") == (0,)


# --- the KPI catalogue, the KPI mart and the ranking -------------------------------------------


def test_kpi_mart_holds_every_catalogue_kpi_with_its_source(world: World) -> None:
    from ioc.kpi.catalogue import load

    codes = {k.code for k in load().kpis}
    assert {c for (c,) in world.rows("select distinct kpi_code from mart_tong_quan.fct_kpi_thang")
            } == codes
    sources = dict(world.rows("select kpi_code, source from mart_tong_quan.dim_chi_so"))
    assert set(sources) == codes and all(sources.values())
    columns = {c for (c,) in world.rows(
        "select column_name from information_schema.columns "
        "where table_schema = 'mart_tong_quan' and table_name = 'fct_kpi_thang'")}
    assert {"org_unit_id", "period_month", "kpi_code", "numerator", "denominator", "value",
            "evaluated_at", "as_of", "structure_view"} <= columns
    # T never after A; a month still running is evaluated at A
    assert world.one(
        "select count(*) from mart_tong_quan.fct_kpi_thang where evaluated_at > as_of "
        "or (not is_month_complete and evaluated_at <> as_of)") == (0,)


def test_report_form_values_carry_their_coverage(world: World) -> None:
    """December 2024, as reported: 2 of the district's 11 communes sent KTXH-01."""
    label, value = world.one(
        "select coverage_label, value from mart_tong_quan.fct_kpi_thang "
        "where structure_view = 'as_reported' and unit_level = 'dia_ban' "
        "and kpi_code = 'ktxh_ty_le_ho_ngheo' and period_month = '2024-12-01'")
    assert (label, value) == ("2/11 xã", d("12.73"))


def test_commune_ranking_adds_the_kpis_points(world: World) -> None:
    mismatched = world.rows(
        """select r.structure_view, r.org_unit_id, r.period_month, r.score,
                  sum(k.ranking_points)
           from mart_tong_quan.fct_xep_hang_xa r
           join mart_tong_quan.fct_kpi_thang k
             on k.structure_view = r.structure_view and k.unit_level = 'don_vi'
            and k.org_unit_id = r.org_unit_id and k.period_month = r.period_month
           group by 1, 2, 3, 4 having r.score <> coalesce(sum(k.ranking_points), 0)""")
    assert mismatched == []
    assert world.one("select count(*) from mart_tong_quan.fct_xep_hang_xa")[0] > 0


# --- contracts, privacy, grants ---------------------------------------------------------------


def test_generic_indicator_mart_agrees_with_the_form_marts(world: World) -> None:
    """mart_chi_tieu.fct_chi_tieu_thang holds every indicator-list form (KTXH-01 and YT-01
    here) with the same values, in both views of history, as the specialised KTXH-01 mart."""
    forms = {r[0] for r in world.rows(
        "select distinct form_code from mart_chi_tieu.fct_chi_tieu_thang")}
    assert forms == {"KTXH-01", "YT-01"}
    generic = world.rows(
        "select structure_view, org_unit_id, period_month, indicator_code, value "
        "from mart_chi_tieu.fct_chi_tieu_thang where form_code = 'KTXH-01' order by 1, 2, 3, 4")
    specialised = world.rows(
        "select structure_view, org_unit_id, period_month, indicator_code, value "
        "from mart_kinh_te_xa_hoi.fct_chi_tieu_thang order by 1, 2, 3, 4")
    assert generic and generic == specialised
    yt = world.one(
        "select count(*) from mart_chi_tieu.fct_chi_tieu_thang where form_code = 'YT-01' "
        "and structure_view = 'as_reported'")[0]
    assert yt == world.one("select count(*) from intermediate.int_yt01_current_values")[0]


def test_every_mart_schema_has_tables_with_rows(world: World) -> None:
    for schema in MART_SCHEMAS:
        tables = [
            t
            for (t,) in world.rows(
                "select table_name from information_schema.tables where table_schema = %s", schema
            )
        ]
        assert tables, f"{schema} has no tables"
        filled = [
            t
            for t in tables
            if world.one(
                sql.SQL("select count(*) from {}").format(sql.Identifier(schema, t)).as_string()
            )[0]
            > 0
        ]
        assert filled, f"{schema}: every table is empty"


def test_no_personal_data_in_marts(world: World) -> None:
    personal = world.rows(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema like 'mart\\_%%' and column_name in "
        "('ho_ten', 'so_dien_thoai', 'so_cccd', 'noi_dung', 'tieu_de')"
    )
    assert personal == []
    text_columns = world.rows(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema like 'mart\\_%%' and data_type = 'text'"
    )
    for schema, table, column in text_columns:
        hits = world.one(
            sql.SQL("select count(*) from {} where {} like %s")
            .format(sql.Identifier(schema, table), sql.Identifier(column))
            .as_string(),
            f"%{dataset.PERSONAL_NAME}%",
        )
        assert hits == (0,), f"personal data in {schema}.{table}.{column}"


def test_mart_columns_are_documented(world: World) -> None:
    undocumented = world.rows(
        "select c.table_schema, c.table_name, c.column_name "
        "from information_schema.columns c "
        "join pg_class t on t.relname = c.table_name "
        "join pg_namespace n on n.oid = t.relnamespace and n.nspname = c.table_schema "
        "where c.table_schema like 'mart\\_%%' "
        "and coalesce(col_description(t.oid, c.ordinal_position), '') = ''"
    )
    assert undocumented == []


def test_bi_readers_may_read_marts_under_row_security(world: World) -> None:
    """The readers' group holds SELECT on marts, each under its row policy; Superset's stored
    identity `ioc_bi` reads none (tests/security/test_row_scope.py tries the roles)."""
    assert world.rows("select 1 from pg_roles where rolname = 'ioc_bi_reader'"), \
        "the warehouse set-up creates the BI readers' group"
    assert world.one(
        "select has_table_privilege('ioc_bi_reader', 'mart_tong_quan.fct_kpi_thang', 'select'), "
        "relrowsecurity from pg_class where oid = 'mart_tong_quan.fct_kpi_thang'::regclass"
    ) == (True, True)
    assert world.one(
        "select has_table_privilege('ioc_bi', 'mart_tong_quan.fct_kpi_thang', 'select')"
    ) == (False,)
    assert world.one("select has_schema_privilege('ioc_bi_reader', 'staging', 'usage')") == (
        False,
    )


# --- incremental and docs (they run dbt again: keep them last) ---------------------------------


def test_incremental_run_rewrites_open_cases_and_loaded_ones_only(world: World) -> None:
    """Each kind of key on its own: HS4 (open, untouched) must follow the as-of moment; HS1
    (finished, loaded again) must follow its record; HS3 (finished, changed without being
    loaded) is not read again."""
    status = (
        "select ma_ho_so, deadline_status, is_withdrawn from mart_hanh_chinh_cong.fct_ho_so "
        "where ma_ho_so in ('HS1', 'HS3', 'HS4') order by ma_ho_so"
    )
    before = world.rows(status)
    assert before == [
        ("HS1", "truoc_han", False), ("HS3", "qua_han", False), ("HS4", "dang_qua_han", False)
    ]
    with psycopg.connect(world.url) as conn:
        # the last pull ended the day before HS4's promised day: A moves back, HS4 is in time
        conn.execute(
            "insert into raw_agency.sync_state (resource, last_run_at, last_status) "
            "values ('ho-so', %s, 'ok')",
            (dataset.at("2024-12-23 10:00"),),
        )
        conn.execute(
            "update raw_agency.ho_so set trang_thai = 'rut_ho_so', _loaded_at = now() "
            "where ma_ho_so = 'HS1'"
        )
        conn.execute("update raw_agency.ho_so set trang_thai = 'rut_ho_so' where ma_ho_so = 'HS3'")
    try:
        assert world.dbt("run", "--select", "fct_ho_so") == 0
        assert world.rows(status) == [
            ("HS1", "truoc_han", True), ("HS3", "qua_han", False), ("HS4", "dang_trong_han", False)
        ]
    finally:
        with psycopg.connect(world.url) as conn:
            conn.execute("delete from raw_agency.sync_state where resource = 'ho-so'")
            conn.execute(
                "update raw_agency.ho_so set trang_thai = 'da_tra_ket_qua', _loaded_at = now() "
                "where ma_ho_so = 'HS1'"
            )
            conn.execute(
                "update raw_agency.ho_so set trang_thai = 'da_xu_ly' where ma_ho_so = 'HS3'"
            )
    assert world.dbt("run", "--select", "fct_ho_so") == 0
    assert world.rows(status) == before


def test_incremental_run_updates_changed_and_open_dossiers(world: World) -> None:
    with psycopg.connect(world.url) as conn:
        conn.execute(
            "update raw_agency.ho_so set trang_thai = 'da_xu_ly', ngay_ket_thuc_xu_ly = %s, "
            "cap_nhat_luc = %s, _loaded_at = now() where ma_ho_so = 'HS4'",
            (dataset.at("2025-02-20 10:00"), dataset.at("2025-02-20 10:00")),
        )
    assert world.dbt("run", "--select", "fct_ho_so", "fct_ho_so_thang") == 0
    assert world.one("select count(*) from mart_hanh_chinh_cong.fct_ho_so") == (7,)
    assert world.one(
        "select deadline_status from mart_hanh_chinh_cong.fct_ho_so where ma_ho_so = 'HS4'"
    ) == ("qua_han",)
    feb = world.one(
        "select received_total, resolved_late, pending_total, due_population, due_on_time "
        "from mart_hanh_chinh_cong.fct_ho_so_thang "
        "where structure_view = 'as_reported' "
        "and org_unit_id = 'xa-binh-lam' and period_month = '2025-02-01'"
    )
    assert feb == (2, 1, 0, 2, 1)


def test_docs_generate(world: World) -> None:
    assert world.dbt("docs", "generate") == 0
    catalog = json.loads((world.target / "catalog.json").read_text(encoding="utf-8"))
    node = catalog["nodes"]["model.ioc.fct_kpi_thang"]
    assert "Tử số" in node["columns"]["numerator"]["comment"]
