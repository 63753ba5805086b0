"""`make demo` puts the example reports on the demo world as the newest versions."""

from __future__ import annotations

import csv
from datetime import datetime

from ioc.pipeline import add_example_reports

FIELDS = ["path", "org_unit_id", "form_code", "period", "arrived_at", "expected_status"]


def test_examples_arrive_one_hour_after_the_last_accepted_version(tmp_path) -> None:
    manifest = tmp_path / "manifest.csv"
    rows = [
        ["a", "xa-hiep-thuan", "KTXH-01", "2024-10", "2024-11-03T08:00:00+07:00", "accepted"],
        ["b", "xa-hiep-thuan", "KTXH-01", "2024-10", "2024-11-09T08:00:00+07:00", "accepted"],
        ["c", "xa-hiep-thuan", "KTXH-01", "2024-10", "2024-11-20T08:00:00+07:00", "rejected"],
        ["d", "xa-binh-lam", "HCC-06", "2024-10", "2024-11-02T10:00:00+07:00", "accepted"],
    ]
    with open(manifest, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(FIELDS)
        writer.writerows(rows)
    intake = tmp_path / "intake"
    for unit in ("xa-hiep-thuan", "xa-binh-lam"):
        (intake / unit).mkdir(parents=True)
    (intake / "_arrivals.csv").write_text("file,arrived_at\n", encoding="utf-8")

    assert add_example_reports(manifest, intake) == 2  # only periods the demo world has

    with open(intake / "_arrivals.csv", encoding="utf-8") as fh:
        arrivals = {r["file"]: datetime.fromisoformat(r["arrived_at"]) for r in csv.DictReader(fh)}
    assert arrivals == {
        "xa-binh-lam/mau-HCC-06_xa-binh-lam_2024-10.xlsx": datetime.fromisoformat(
            "2024-11-02T11:00:00+07:00"
        ),
        "xa-hiep-thuan/mau-KTXH-01_xa-hiep-thuan_2024-10.xlsx": datetime.fromisoformat(
            "2024-11-09T09:00:00+07:00"
        ),
    }
    assert (intake / "xa-hiep-thuan" / "mau-KTXH-01_xa-hiep-thuan_2024-10.xlsx").exists()
