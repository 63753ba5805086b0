"""Every dbt model has its YAML beside it, with a description and data tests (issue 20: dbt
tidy). Read from the files alone: no warehouse, no dbt run."""

from __future__ import annotations

from pathlib import Path

import yaml

from ioc.settings import PROJECT_ROOT

MODELS = PROJECT_ROOT / "dbt_project" / "models"


def _declared() -> dict[str, tuple[Path, dict]]:
    out: dict[str, tuple[Path, dict]] = {}
    for path in sorted(MODELS.rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []:
            assert model["name"] not in out, f"{model['name']} declared twice"
            out[model["name"]] = (path, model)
    return out


def _has_data_tests(model: dict) -> bool:
    return bool(model.get("data_tests")) or any(
        column.get("data_tests") for column in model.get("columns") or [])


def test_every_model_has_yaml_beside_it_with_description_and_tests() -> None:
    declared = _declared()
    sql = {path.stem: path for path in MODELS.rglob("*.sql")}
    assert len(sql) > 40  # the walk found the project's models
    problems = []
    for name, path in sorted(sql.items()):
        if name not in declared:
            problems.append(f"{path.relative_to(PROJECT_ROOT)}: no YAML")
            continue
        yml, model = declared[name]
        if yml.parent != path.parent:
            problems.append(f"{name}: YAML in {yml.relative_to(PROJECT_ROOT)}, not beside it")
        if not (model.get("description") or "").strip():
            problems.append(f"{name}: no description")
        if not _has_data_tests(model):
            problems.append(f"{name}: no data tests")
    problems += [f"{name}: YAML without a model" for name in sorted(set(declared) - set(sql))]
    assert problems == []


def _contracted_folders() -> list[Path]:
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text())
    return [MODELS / folder for folder, config in project["models"]["ioc"].items()
            if isinstance(config, dict) and (config.get("+contract") or {}).get("enforced")]


def test_every_contracted_model_ends_with_the_contracts_select() -> None:
    """A contracted model's column types are declared once, in its YAML: its SQL ends with
    `contract_select('final')` (macros/contracts.sql), which casts to them."""
    folders = _contracted_folders()
    assert {folder.name for folder in folders} == {"marts", "cong_khai"}
    models = [path for folder in folders for path in sorted(folder.rglob("*.sql"))]
    assert len(models) > 25
    last_lines = {path.relative_to(PROJECT_ROOT).as_posix(): path.read_text(
        encoding="utf-8").strip().splitlines()[-1] for path in models}
    assert {path: line for path, line in last_lines.items()
            if line != "{{ contract_select('final') }}"} == {}
