"""Finding units in a header block and a file name: the indexed lookups answer exactly as the
plain definitions (every unit tried against the text) that they replaced for speed."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.intake.reference import REPORTING_RANK, fold, org_units, units_named_in
from ingest.intake.validate import _ids_in_name

UNITS = org_units()


def _named_by_definition(text: str, min_rank: int = REPORTING_RANK) -> set[str]:
    padded = f" {fold(text)} "
    return {u.org_unit_id for u in UNITS.values() if u.rank >= min_rank
            and any(f" {name} " in padded for name in u.written_names)}


def _ids_by_definition(name: str) -> set[str]:
    low = name.lower()
    return {u for u in UNITS if re.search(rf"(?<![a-z0-9-]){re.escape(u)}(?![a-z0-9-])", low)}


# pieces people write: unit names as written (with and without accents, type words), ids,
# separators and noise, so that names overlap, repeat and sit inside longer words
NAMES = sorted({u.name for u in UNITS.values()} | {fold(u.name) for u in UNITS.values()})
WORDS = [*sorted({w for n in NAMES for w in fold(n).split()}), "Xã", "TT", "thị trấn", "UBND"]
PIECES = st.one_of(st.sampled_from(NAMES), st.sampled_from(WORDS), st.sampled_from(sorted(UNITS)),
                   st.sampled_from([" ", "  ", "-", "_", ",", ".", "x", "2024-10", "\u00a0"]),
                   st.text(max_size=4))


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=8))
def test_units_named_in_equals_its_definition(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert units_named_in(text) == _named_by_definition(text)
    assert units_named_in(text, 1) == _named_by_definition(text, 1)


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=8))
def test_ids_in_file_name_equal_their_definition(pieces: list[str]) -> None:
    name = "".join(pieces) + ".xlsx"
    assert _ids_in_name(name) == _ids_by_definition(name)


def test_examples() -> None:
    some = sorted(u for u, unit in UNITS.items() if unit.is_commune)[0]
    unit = UNITS[some]
    assert units_named_in(f"UBND {unit.name}") == {some}
    assert _ids_in_name(f"KTXH-01_{some}_2024-10.xlsx") == {some}
    assert _ids_in_name(f"KTXH-01_{some}x_2024-10.xlsx") == set()
