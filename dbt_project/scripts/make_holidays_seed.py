"""Write `seeds/vn_holidays.csv`: Vietnam's public holidays (Tết included) and the Saturdays
made working days in exchange, 2019–2030, from the `holidays` package.

dbt cannot call Python, yet deadlines counted in working days need the holiday calendar in
the warehouse; so the calendar is generated here, committed as a seed, and a test
(`tests/dbt/test_holidays_seed.py`) fails when it no longer matches the installed package.

    .venv/bin/python dbt_project/scripts/make_holidays_seed.py           # rewrite the seed
    .venv/bin/python dbt_project/scripts/make_holidays_seed.py --check   # exit 1 when stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import holidays

FIRST_YEAR = 2019
LAST_YEAR = 2030
SEED = Path(__file__).resolve().parent.parent / "seeds" / "vn_holidays.csv"
HEADER = "holiday_date,name,kind"


def seed_text(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> str:
    """The seed's content: one line per day off (`holiday`) or weekend working day
    (`weekend_workday`), sorted by date."""
    vn = holidays.country_holidays("VN", years=range(first_year, last_year + 1))
    rows = [(d, name, "holiday") for d, name in vn.items()]
    rows += [
        (d, "Working Saturday (in exchange for a day off)", "weekend_workday")
        for d in getattr(vn, "weekend_workdays", ())
        if first_year <= d.year <= last_year
    ]
    lines = [HEADER]
    for day, name, kind in sorted(rows):
        text = name.replace('"', "'")
        if "," in text:
            text = f'"{text}"'
        lines.append(f"{day.isoformat()},{text},{kind}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the seed is stale")
    args = parser.parse_args(argv)
    text = seed_text()
    if args.check:
        current = SEED.read_text(encoding="utf-8") if SEED.exists() else ""
        if current != text:
            print(f"{SEED} is out of date: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    SEED.write_text(text, encoding="utf-8")
    print(f"wrote {SEED} ({text.count(chr(10)) - 1} days)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
