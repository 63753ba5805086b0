"""Regenerate `ktxh-01-legacy.xls` (a legacy Excel 97-2003 KTXH-01 file for the .xls reader).

xlwt is not a project dependency (nothing writes .xls at run time), so the small file is
committed; to rebuild it: `uv pip install --target /tmp/xlwt-lib xlwt==1.3.0` then
`PYTHONPATH=/tmp/xlwt-lib:. python tests/intake/data/make_xls.py`.
"""

from pathlib import Path

import xlwt

from tests.intake.builders import KTXH_VALUES, ktxh_sheet, ktxh_table

OUT = Path(__file__).with_name("ktxh-01-legacy.xls")


def main() -> None:
    wb = xlwt.Workbook(encoding="utf-8")
    old = wb.add_sheet("Cu")  # a hidden sheet with last year's junk: must not be read
    old.write(0, 0, "Biểu số: HCC-06")
    old.visibility = 1
    ws = wb.add_sheet("KTXH")
    # Values as text the Vietnamese way, one numeric row, a merged unit cell, a hidden row.
    values = [(c, n, u, p, m, y) for c, n, u, p, m, y in KTXH_VALUES]
    rows = ktxh_sheet(unit_line="UBND XÃ HIỆP THUẬN", table=ktxh_table(values))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if r > 8 and isinstance(value, float):
                value = f"{value}".replace(".", ",")
            if r == 0 and c == 0:
                ws.write_merge(0, 0, 0, 2, value)
            else:
                ws.write(r, c, value)
    ws.row(9).hidden = True  # Excel row 10 (KT01) hidden: still data, with a warning
    notes = wb.add_sheet("Ghi chu")
    notes.write(0, 0, "Số liệu sơ bộ, sẽ cập nhật.")
    wb.save(str(OUT))


if __name__ == "__main__":
    main()
