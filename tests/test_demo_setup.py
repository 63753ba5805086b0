"""`make demo` puts the example reports on the demo world as the newest versions."""

from __future__ import annotations

import csv
import os
from datetime import date, datetime
from pathlib import Path

from demo.setup import add_example_reports

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


def test_demo_setup_brings_the_world_up_to_today(tmp_path, monkeypatch, capsys) -> None:
    """`make demo` on a later day: the world is generated for the new day and only the files
    that arrived meanwhile are added to the intake folder (the pipeline loads just those)."""
    import json

    from demo.setup import demo_setup

    home = tmp_path / "home"
    monkeypatch.setenv("IOC_HOME", str(home))
    monkeypatch.setenv("IOC_INTAKE_DIR", str(tmp_path / "intake"))
    monkeypatch.setenv("IOC_TODAY", "2025-02-10")  # restored after the test (demo_setup pins it)
    intake = tmp_path / "intake"

    assert demo_setup(today=date(2025, 2, 10)) == 0
    first = {p.relative_to(intake) for p in intake.rglob("*") if p.is_file()}
    assert json.loads((home / "demo" / "meta.json").read_text())["today"] == "2025-02-10"
    assert os.environ["IOC_TODAY"] == "2025-02-10"

    assert demo_setup(today=date(2025, 2, 20)) == 0
    assert "2025-02-10 up to 2025-02-20" in capsys.readouterr().out
    world = home / "demo"
    with open(world / "manifest.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    now = {p.relative_to(intake) for p in intake.rglob("*") if p.is_file()}
    new = now - first
    expected = {Path(r["path"]).relative_to("intake") for r in rows
                if datetime.fromisoformat(r["arrived_at"]).date() >= date(2025, 2, 10)}
    assert new == expected and new  # late January reports and corrections
    for rel in now:  # every file of the folder is the new world's (or an example report)
        if rel.name != "_arrivals.csv" and not rel.name.startswith("mau-"):
            assert (intake / rel).read_bytes() == (world / "intake" / rel).read_bytes(), rel
    with open(intake / "_arrivals.csv", encoding="utf-8") as fh:
        sidecar = [r["file"] for r in csv.DictReader(fh)]
    assert len(sidecar) == len(set(sidecar)) == len(now) - 1
    # Run again the same day: nothing to do.
    assert demo_setup(today=date(2025, 2, 20)) == 0
    assert {p.relative_to(intake) for p in intake.rglob("*") if p.is_file()} == now
