"""The catalogue of sources (ingest/catalogue.py): typed files that refuse what they do not
know, and everything else derived from them or checked against them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from ingest import catalogue
from ingest.agency import schema as agency_schema
from ingest.agency.errors import ConfigError
from ingest.agency.mapping import DEFAULT_MAPPING, load_mapping
from ingest.intake.contracts import CONTRACTS_DIR, ContractError, load_contracts
from ingest.intake.feedback import form_label


def test_generated_files_are_up_to_date() -> None:
    """`python -m ingest.catalogue --check`: forms.csv and the raw_intake sources are what the
    contracts give (run `python -m ingest.catalogue` after changing a contract)."""
    assert catalogue.main(["--check"]) == 0, [str(p) for p in catalogue.stale()]


def _contracts_with(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, folder)
    path = folder / "ktxh-01.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(spec)
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return folder


def test_a_misspelt_contract_key_is_refused_by_name(tmp_path: Path) -> None:
    def misspell(spec: dict) -> None:
        spec["columns"]["value"]["requried"] = spec["columns"]["value"].pop("required")

    with pytest.raises(ContractError) as err:
        load_contracts(_contracts_with(tmp_path, misspell))
    text = str(err.value)
    assert "ktxh-01.yaml" in text and "columns.value.requried" in text
    assert "required" in text.split("requried", 1)[1]  # the keys it could have meant


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("layout", "indicator", "'indicators' or 'rows'"),
    ("period", "quarter", "'month' or 'semester'"),
    ("due_days", "five", "integer"),
    ("table", "KTXH 01", "[a-z]"),
])
def test_a_wrong_contract_value_is_refused_by_key(tmp_path: Path, key, value, expected) -> None:
    with pytest.raises(ContractError) as err:
        load_contracts(_contracts_with(tmp_path, lambda spec: spec.__setitem__(key, value)))
    assert f"ktxh-01.yaml: khóa {key}:" in str(err.value) and expected in str(err.value)


def test_a_misspelt_mapping_key_is_refused_by_name(tmp_path: Path) -> None:
    doc = yaml.safe_load(DEFAULT_MAPPING.read_text(encoding="utf-8"))
    doc["resources"]["ho-so"]["unit_code_column"] = doc["resources"]["ho-so"].pop(
        "unit_code_columns")
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_mapping(path)
    assert "resources.ho-so.unit_code_column" in str(err.value)
    assert "unit_code_columns" in str(err.value)  # what is allowed there


def test_agency_tables_agree_with_the_mapping() -> None:
    """The tables' DDL (ingest/agency/schema.py) and the mapping name the same resources,
    tables and keys."""
    mapping = load_mapping(DEFAULT_MAPPING)
    assert set(agency_schema.RESOURCES) == set(mapping.resources)
    for name, (table, key, _columns) in agency_schema.RESOURCES.items():
        assert mapping.resources[name].table == table
        assert mapping.resources[name].key_column == key


def test_dagster_and_answers_derive_from_the_catalogue() -> None:
    from orchestration.agency.assets import AGENCY_RESOURCES
    from orchestration.intake.assets import FORM_TABLES, RAW_INTAKE_TABLES
    from orchestration.quality import form_rules, freshness

    contracts = load_contracts()
    assert FORM_TABLES == form_rules.FORM_TABLES == {c.form: c.table for c in contracts.values()}
    assert set(FORM_TABLES.values()) <= set(RAW_INTAKE_TABLES)
    assert {k.name for c in form_rules.form_rule_checks for k in c.check_keys} == {
        f"quy_tac_bieu_{t}" for t in FORM_TABLES.values()}
    sources = catalogue.agency_sources()
    assert set(AGENCY_RESOURCES) == {s.resource for s in sources}
    assert set(freshness.AGENCY_TABLES) == {s.table for s in sources}
    for contract in contracts.values():
        assert form_label(contract.form) == f"{contract.form} - {contract.title}"


@pytest.mark.parametrize("title", ["=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)", " -2"])
def test_a_title_that_would_run_as_a_formula_is_refused(title: str) -> None:
    import dataclasses

    contracts = catalogue.forms()
    code, contract = next(iter(contracts.items()))
    bad = dataclasses.replace(contract, title=title) if dataclasses.is_dataclass(contract) \
        else contract.model_copy(update={"title": title})
    with pytest.raises(ValueError, match="công thức"):
        catalogue.forms_csv({**contracts, code: bad})
    assert catalogue.forms_csv(contracts).startswith("form_code,title")
