"""The KPI catalogue (catalogue/kpis.yaml): typed, declared once, and everything generated
from it up to date — the dbt macro, docs/kpi-definitions.md and the Superset metrics and
tiles. Its formulas name real columns of the marts' dbt contracts, its examples name dbt unit
tests that exist, and the docs give every KPI's source."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from ioc.kpi import generate
from ioc.kpi.catalogue import CATALOGUE_FILE, CatalogueError, load, parse
from ioc.settings import PROJECT_ROOT
from ioc_superset import assets_builder

MODELS = PROJECT_ROOT / "dbt_project" / "models"
SQL_WORDS = {"case", "when", "then", "else", "end", "and", "or", "not", "is", "null", "in",
             "true", "false", "coalesce", "nullif"}


def _dbt_yaml() -> list[dict]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) or {} for p in MODELS.rglob("*.yml")]


def _contract_columns() -> dict[str, set[str]]:
    out = {}
    for doc in _dbt_yaml():
        for model in doc.get("models") or []:
            out[model["name"]] = {c["name"] for c in model.get("columns") or []}
    return out


def test_generated_files_are_up_to_date():
    assert generate.check() == [], "run `ioc kpi build` and commit what it writes"


def test_every_formula_names_columns_of_its_marts_contract():
    contracts = _contract_columns()
    for kpi in load().kpis:
        assert kpi.model in contracts, f"{kpi.code}: no mart {kpi.model}"
        parts = [kpi.numerator] + ([kpi.denominator] if kpi.denominator else [])
        for part in parts:
            text = re.sub(r"'[^']*'", " ", part.sql)  # string literals are values
            names = {w for w in re.findall(r"[a-z_][a-z0-9_]*", text.lower())} - SQL_WORDS
            assert names, kpi.code
            assert names <= contracts[kpi.model], (kpi.code, names - contracts[kpi.model])


def test_every_example_is_pinned_by_a_dbt_unit_test_and_computes():
    tests = {t["name"] for doc in _dbt_yaml() for t in doc.get("unit_tests") or []}
    for kpi in load().kpis:
        assert kpi.example.unit_test in tests, (kpi.code, kpi.example.unit_test)
        value = kpi.value_of(kpi.example.numerator, kpi.example.denominator)
        assert value is not None, kpi.code


def test_docs_give_every_kpi_its_source_and_example():
    text = generate.DOCS_FILE.read_text(encoding="utf-8")
    cat = load()
    for kpi in cat.kpis:
        section = text.split(f"#### `{kpi.code}`", 1)[1].split("\n#### ", 1)[0]
        assert cat.sources[kpi.source.source].short in section, kpi.code
        assert "Ví dụ tính tay" in section and kpi.example.unit_test in section, kpi.code


def test_value_is_never_made_up_over_an_empty_population():
    kpi = load().kpi("hcc_dung_han")
    assert kpi.value_of(Decimal(0), Decimal(0)) is None
    assert kpi.value_of(Decimal(3), Decimal(5)) == Decimal("60.00")
    assert load().kpi("hcc_qua_han_dang_xu_ly").value_of(Decimal(4), None) == Decimal(4)


def _catalogue_text() -> str:
    return CATALOGUE_FILE.read_text(encoding="utf-8")


def test_an_unknown_key_is_refused_naming_the_kpi_and_the_key():
    text = _catalogue_text().replace("    numerator:\n      sql: due_on_time",
                                     "    numerator:\n      sqll: due_on_time", 1)
    with pytest.raises(CatalogueError) as err:
        parse(text)
    message = str(err.value)
    assert "catalogue/kpis.yaml" in message and "kpis[hcc_dung_han].numerator" in message
    assert "sqll" in message


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (("code: hcc_truc_tuyen", "code: hcc_dung_han"), "khai báo hai lần"),
        (("    higher_is_better: true\n    target: 95", "    higher_is_better: false\n"
          "    target: 95"), "chỉ chỉ số càng cao càng tốt mới được xếp hạng"),
        (("sql: due_population", "sql: sum(due_population)"), "không hàm gộp"),
        (("source: {source: qd766, detail: \"nhóm 2", "source: {source: qd767, detail: \"nhóm 2"),
         "nguồn không có trong sources"),
    ],
)
def test_inconsistent_declarations_are_refused(change, fragment):
    old, new = change
    assert old in _catalogue_text()
    with pytest.raises(CatalogueError) as err:
        parse(_catalogue_text().replace(old, new, 1))
    assert fragment in str(err.value)


def test_superset_metrics_and_tiles_come_from_the_catalogue():
    spec = assets_builder.load_spec()
    cat = load()
    for kpi in cat.kpis:
        for key, ds in spec.datasets.items():
            if ds["table"] in (kpi.model, assets_builder.KPI_MART):
                metric = ds["metrics"][kpi.code]
                assert metric["label"] == assets_builder.kpi_label(kpi), (key, kpi.code)
        if kpi.tile:
            tile = spec.charts[f"{assets_builder.TILE_PREFIX}{kpi.code}"]
            assert tile["metric"] == kpi.code and tile["title"] == kpi.tile.title


def test_a_spec_may_not_write_a_kpis_formula_itself(tmp_path: Path):
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    for path in assets_builder.SPEC_DIR.glob("*.yaml"):
        (spec_dir / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    hcc = spec_dir / "hanh_chinh_cong.yaml"
    text = hcc.read_text(encoding="utf-8").replace(
        "      hs_moi_tiep_nhan:",
        "      hcc_dung_han: {label: Đúng hạn, sql: 100.0 * SUM(resolved_on_time) / "
        "NULLIF(SUM(resolved_total), 0)}\n      hs_moi_tiep_nhan:", 1)
    hcc.write_text(text, encoding="utf-8")
    with pytest.raises(assets_builder.SpecError, match="do not write it in the spec"):
        assets_builder.load_spec(spec_dir)


def test_no_spec_metric_reuses_a_kpi_name_for_another_formula():
    """Two numbers under one name is how the overview and the domain dashboard disagreed."""
    spec = assets_builder.load_spec()
    names = {kpi.name.lower(): kpi.code for kpi in load().kpis}
    for key, ds in spec.datasets.items():
        for name, metric in (ds.get("metrics") or {}).items():
            label = re.sub(r"\s*\(.*\)\s*$", "", metric.get("label", "")).lower()
            if label in names:
                # a link under a tile carries its KPI's name but is no number: it must be
                # that KPI's own link (`lk_<code>`), reading that KPI's rows only
                expected = (f"{assets_builder.TILE_LINK_PREFIX}{names[label]}"
                            if assets_builder.is_link(ds, name) else names[label])
                assert name == expected, (key, name, metric["label"])


def test_a_headline_chart_of_kpis_reads_only_those_kpis_rows():
    """Issue 21: a chart on the headline mart whose metrics are all KPIs (and links built
    from the group's rows) filters `kpi_code` to the KPIs (its metrics each sum their own
    KPI's rows; the others only cost time); a chart with another metric (the generic
    `gia_tri`) is left whole."""
    spec = assets_builder.load_spec()
    codes = {kpi.code for kpi in load().kpis}
    narrowed = 0
    for key, chart in spec.charts.items():
        if spec.datasets[chart["dataset"]]["table"] != assets_builder.KPI_MART:
            continue
        dataset_metrics = spec.datasets[chart["dataset"]].get("metrics") or {}
        metrics = [m for m in chart.get("metrics") or [chart.get("metric")]
                   if "link" not in (dataset_metrics.get(m) or {})]
        on_kpi = [f for f in chart.get("filters") or [] if f["column"] == "kpi_code"]
        if metrics and set(metrics) <= codes:
            assert len(on_kpi) == 1 and set(
                on_kpi[0]["value"] if on_kpi[0]["op"] == "IN" else [on_kpi[0]["value"]]
            ) == set(metrics), key
            narrowed += on_kpi[0]["op"] == "IN"
        elif "gia_tri" in metrics:
            assert not on_kpi, key
    assert narrowed >= 1  # `Đơn vị cần chú ý (theo tháng)`, seven KPIs in one table


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (("version: 1", "version: [1"), "catalogue/kpis.yaml: không phải YAML hợp lệ"),
        (("version: 1", "version: 2"), "version: phải là 1"),
        (("    numerator:\n      sql: due_on_time", "    numerator:\n      sqll: due_on_time"),
         "kpis[hcc_dung_han].numerator.sqll: khóa không có trong lược đồ"),
    ],
)
def test_what_the_data_team_reads_is_vietnamese(change, fragment):
    """validate_yaml speaks Vietnamese for the file, pydantic's common mistakes and the
    catalogue's own rules (one language for the catalogues, the report schedule and the
    recipients file)."""
    old, new = change
    assert old in _catalogue_text()
    with pytest.raises(CatalogueError) as err:
        parse(_catalogue_text().replace(old, new, 1))
    assert fragment in str(err.value)
