"""The project's unit list against the official lists carried by `vietnam-provinces` and
`vietnamadminunits` (names and codes of the new communes, the old communes' successors), and
`ioc units build` making an area's list from them — without the network."""

from __future__ import annotations

import csv
import json
import socket
from datetime import date
from pathlib import Path

import pytest

from cli.main import main
from ingest import units as units_mod
from ingest.intake.reference import SEEDS

HERE = {u["org_unit_id"]: u for u in csv.DictReader((SEEDS / "org_units.csv").open(
    encoding="utf-8"))}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The packages carry their data: any connection attempt fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_our_unit_list_agrees_with_the_official_lists() -> None:
    assert units_mod.check() == []


def test_the_new_communes_names_and_codes() -> None:
    for uid in ("xa-hiep-duc", "xa-viet-an", "xa-phuoc-tra-2025"):
        official = units_mod.new_unit(HERE[uid]["gso_code"])
        assert (official.name, official.code) == (HERE[uid]["name"], HERE[uid]["gso_code"])
    assert units_mod.new_province(HERE["tp-da-nang"]["gso_code"]).name == "Thành phố Đà Nẵng"


def test_old_to_new_follows_the_official_conversion() -> None:
    province, district, wards = units_mod.legacy_district(HERE["huyen-hiep-duc"]["gso_code"])
    assert district.name == HERE["huyen-hiep-duc"]["name"]
    converted = {w.code: units_mod.successor(province, district, w)[1].code for w in wards}
    ours = {u["gso_code"]: HERE[u["successor_id"]]["gso_code"] for u in HERE.values()
            if u["valid_to"] == "2025-06-30" and u["parent_id"] == "huyen-hiep-duc"
            and u["gso_code"]}
    assert converted == ours


def test_earlier_mergers_are_the_successors_aliases() -> None:
    """The list before the reform already has the 2020 and 2025-01 mergers: the units that
    ended then are aliases of their successor (e.g. Hiệp Thuận of Quế Tân)."""
    _, _, query = units_mod._packages()
    for unit in HERE.values():
        if not unit["valid_to"] or unit["valid_to"] >= "2025-06-30" or not unit["gso_code"]:
            continue
        heir = HERE[unit["successor_id"]]
        [row] = query("select wardAlias from admin_units_legacy "
                      f"where wardCode = '{heir['gso_code']}'")
        aliases = json.loads(row["wardAlias"])
        key = units_mod._slug(unit["name"]).replace("-", "")
        assert key in aliases, (unit["org_unit_id"], aliases)


def test_build_makes_our_units_around_the_reform() -> None:
    built = {r["org_unit_id"]: r for r in units_mod.build(
        HERE["huyen-hiep-duc"]["gso_code"], HERE["khu-vuc-hiep-duc"]["name"], date(1985, 12, 31))}
    columns = ["name", "unit_type", "parent_id", "gso_code", "valid_to", "successor_id"]
    for uid, row in built.items():
        if uid == "tinh-quang-nam":
            continue  # ours starts in 1997 (the province was split from another)
        assert uid in HERE, uid
        assert [row[c] for c in columns] == [HERE[uid][c] for c in columns], uid
    # every unit of ours that lived across the reform's eve, or was born with it, is built
    # (the district agencies are not in the official lists)
    expected = {uid for uid, u in HERE.items() if u["gso_code"] and (
        u["valid_to"] == "2025-06-30" or u["valid_from"] == "2025-07-01")}
    assert expected <= set(built)
    # the new Phước Trà is told from the old one by its id
    assert built["xa-phuoc-tra-2025"]["name"] == built["xa-phuoc-tra"]["name"]


def test_check_sees_a_wrong_successor(tmp_path: Path) -> None:
    rows = [dict(u) for u in HERE.values()]
    for row in rows:
        if row["org_unit_id"] == "xa-binh-son":
            row["successor_id"] = "xa-hiep-duc"
    path = tmp_path / "org_units.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        units_mod.write_csv(rows, fh)
    problems = units_mod.check(path)
    assert len(problems) == 1 and "xa-binh-son" in problems[0] and "Việt An" in problems[0]


def test_cli_build_and_check(tmp_path: Path, capsys) -> None:
    out = tmp_path / "units.csv"
    assert main(["units", "build", "--district-code", "507", "--area", "Khu vực Điện Bàn",
                 "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    levels = {r["unit_type"] for r in rows}
    assert {"phuong", "xa", "thi_xa", "khu_vuc", "tinh"} <= levels
    assert main(["units", "check", "--org-units", str(out)]) == 0
    assert main(["units", "build", "--district-code", "99999", "--area", "Khu vực X"]) == 2
    assert "99999" in capsys.readouterr().err


def test_a_value_that_starts_like_a_formula_is_never_written(tmp_path: Path) -> None:
    row = {c: "" for c in units_mod.COLUMNS} | {"org_unit_id": "xa-x", "name": "=HYPERLINK(1)"}
    with (tmp_path / "x.csv").open("w", encoding="utf-8") as fh, pytest.raises(
            units_mod.UnitsError, match="formula"):
        units_mod.write_csv([row], fh)
