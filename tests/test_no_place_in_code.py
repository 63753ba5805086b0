"""Another place is a data change: no unit id, unit name or level appears in the platform's
code — Python, SQL, form contracts and dashboard specs — outside the reference data
(`dbt_project/seeds/`) and tests. Everything such a word would decide is read from
`org_units.csv` and `unit_levels.csv`, so a district, city or province that replaces them
gets a platform that knows its own units (docs/another-place.md).

What is looked for, taken from the reference data itself:
- every `org_unit_id` (as a whole token);
- every unit name, with and without its level word (`Xã A`, `A`), in any case, with or
  without diacritics;
- every level code (`xa`, `huyen`, `khu_vuc`, …) as a quoted literal or a YAML value;
- in dashboard specs (what users read), the Vietnamese level words (`Huyện`, `Thị trấn`,
  `Khu vực`, …) — except the generic names of the tiers of government (`cấp xã`,
  `cấp huyện`, `cấp tỉnh`), `xã` alone (the commune tier as a whole: xã, phường, thị trấn,
  đặc khu are all "cấp xã", as forms.md writes it), two-letter abbreviations, and `xã hội`
  (society), which name no level of a list.
Demo code (`demo/`) makes a demo world of this very place and is not platform code.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "dbt_project" / "seeds"
CODE_DIRS = ["ingest", "orchestration", "ioc", "cli", "backup", "upload", "superset/ioc_superset",
             "dbt_project/models", "dbt_project/macros", "superset/spec"]
# demo code, and the outside world's API contract as copied into the project (reference data)
EXCLUDED = ["demo/", "ioc/reference/"]
SUFFIXES = {".py", ".sql", ".yaml", ".yml"}
GENERIC = re.compile(r"\bcấp (?:xã|huyện|tỉnh)\b|\bxã hội\b")


def _fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]+", " ", text.lower())


def _rows(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


UNITS = _rows("org_units.csv")
LEVELS = _rows("unit_levels.csv")


def _bare(name: str) -> str:
    folded = _fold(name).strip()
    for level in LEVELS:
        for prefix in level["written_prefixes"].split("|"):
            word = _fold(prefix).strip()
            if word and folded.startswith(word + " "):
                return folded[len(word) + 1:]
    return folded


def code_files() -> list[Path]:
    files = []
    for folder in CODE_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            rel = path.relative_to(ROOT).as_posix()
            if path.suffix in SUFFIXES and path.is_file() and not any(
                    rel.startswith(e) for e in EXCLUDED) and "/target/" not in rel:
                # dbt's YAML beside the models is documentation and unit tests
                if rel.startswith("dbt_project/models") and path.suffix != ".sql":
                    continue
                files.append(path)
    return files


def _findings(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    rel = path.relative_to(ROOT).as_posix()
    found = []
    for unit in UNITS:
        uid = unit["org_unit_id"]
        if re.search(rf"(?<![\w-]){re.escape(uid)}(?![\w-])", text):
            found.append(f"unit id {uid}")
    folded = f" {_fold(text)} "
    for unit in UNITS:
        for name in {_fold(unit["name"]).strip(), _bare(unit["name"])}:
            if name and f" {name} " in folded:
                found.append(f"unit name {unit['name']!r}")
                break
    for level in LEVELS:
        # as a literal or a YAML value: a code is a word too ("cơ quan", "xa" = far)
        code = re.escape(level["level_code"])
        if re.search(rf"""(['"]{code}['"])|((?:^|[\[,:]|-)[ \t]*{code}[ \t]*(?:$|[\],#]))""",
                     text, re.M):
            found.append(f"level code {level['level_code']}")
    if rel.startswith("superset/spec"):
        lowered = GENERIC.sub(" ", unicodedata.normalize("NFC", text).lower())
        for level in LEVELS:
            for word in {level["level_name"], *level["written_prefixes"].split("|")}:
                word = unicodedata.normalize("NFC", word).lower().strip()
                if len(word) > 2 and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", lowered):
                    found.append(f"level name {word!r}")
    return sorted(set(found))


def test_the_reference_data_is_what_is_looked_for() -> None:
    assert len(UNITS) > 10 and len(LEVELS) > 5
    assert code_files(), "no code found"


@pytest.mark.parametrize("path", code_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_unit_or_level_in_code(path: Path) -> None:
    assert _findings(path) == []


def test_the_check_would_see_them(tmp_path: Path) -> None:
    """The finder is not blind: a file naming a unit, a level code and a level word is caught."""
    unit = next(u for u in UNITS if u["valid_to"])
    level = next(lv for lv in LEVELS if int(lv["rank"]) == 2)
    spec = ROOT / "superset" / "spec" / "_probe_not_committed.yaml"
    spec.write_text(f"label: {level['level_name']}\nx: '{level['level_code']}'\n"
                    f"y: {unit['org_unit_id']}\nz: {_bare(unit['name']).upper()}\n",
                    encoding="utf-8")
    try:
        found = _findings(spec)
    finally:
        spec.unlink()
    assert any(f.startswith("unit id") for f in found)
    assert any(f.startswith("unit name") for f in found)
    assert any(f.startswith("level code") for f in found)
    assert any(f.startswith("level name") for f in found)
