"""`ioc demo-setup`: the demo world put into the intake folder (`make demo`'s first step).

Registered by the demo package itself (`demo.cli.register`, entry point `ioc.commands` in
pyproject.toml): the command line on the top floor never imports the demo world.
"""

from __future__ import annotations

from pathlib import Path

from demo.generate import generate
from demo.service import demo_dir
from ioc import settings as settings_mod
from ioc.settings import PROJECT_ROOT


def demo_setup(force: bool = False, today=None) -> int:
    """Generate the demo district into `$IOC_HOME/demo`, up to the day before `today`, and put
    its files into the intake folder (with `_arrivals.csv`, so the history keeps its true
    arrival times).

    Run again on a later day, it brings the world up to date: the world is generated again
    for the new day (the same seed gives the same files and records up to the old day) and
    only the files that arrived since are added to the intake folder, as if staff had dropped
    them meanwhile; the pipeline then loads just those. An intake folder that holds other
    files than an older demo world's is left as it is (unless `force`)."""
    import json
    import shutil
    from datetime import date

    if today is not None:
        settings_mod.pin_today(today)
    cfg = settings_mod.load()
    out = demo_dir(cfg)
    meta_path = out / "meta.json"
    old = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else None
    old_today = date.fromisoformat(old["today"]) if old and old.get("today") else None
    stale = old is None or old_today != cfg.today or old.get("scale") != "district"
    if stale or force:
        summary = generate(out, scale="district", seed=1, today=cfg.today, overwrite=True,
                           progress=print)
        print("\n".join(summary.lines()))
    intake = cfg.intake_dir
    has_files = intake.exists() and any(p.is_file() for p in intake.rglob("*"))
    if has_files and not force:
        if old_today is not None and old_today < cfg.today and stale:
            added = add_new_arrivals(out, intake, old_today)
            print(f"demo world brought from {old_today} up to {cfg.today}: {added} files "
                  f"arrived meanwhile, added to {intake}")
        elif old_today is None:
            print(f"{intake} holds files of an older demo world (before it ran up to "
                  "yesterday); `make clean` and `make demo` start again from the new one")
        else:
            print(f"{intake} already holds files; leaving it as it is")
        return 0
    shutil.copytree(out / "intake", intake, dirs_exist_ok=True)
    print(f"demo intake files copied into {intake} (the world ends {cfg.today} 00:00)")
    added = add_example_reports(out / "manifest.csv", intake)
    print(f"{added} example reports added as the newest versions of their periods")
    return 0


def add_new_arrivals(world: Path, intake: Path, since) -> int:
    """Copy the files of `world` that arrived from the start of day `since` on into `intake`,
    and append their arrival times to its `_arrivals.csv`."""
    import csv
    import shutil
    from datetime import datetime, time

    start = datetime.combine(since, time(0), settings_mod.LOCAL_TZ)
    with open(world / "manifest.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if datetime.fromisoformat(r["arrived_at"]) >= start]
    for r in rows:
        rel = r["path"].removeprefix("intake/")
        target = intake / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(world / r["path"], target)
    with open(intake / "_arrivals.csv", "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(
            [r["path"].removeprefix("intake/"), r["arrived_at"]] for r in rows)
    return len(rows)


def add_example_reports(manifest: Path, intake: Path) -> int:
    """Put the example files staff produced (tests/fixtures/examples) into the demo intake,
    each as a correction arriving one hour after the demo's last accepted version of the same
    unit, form and period, so the dashboards show exactly their values.
    """
    import csv
    import shutil
    from datetime import datetime, timedelta

    with open(manifest, encoding="utf-8") as fh:
        latest: dict[tuple[str, str, str], datetime] = {}
        for row in csv.DictReader(fh):
            if row["expected_status"] != "accepted":
                continue
            key = (row["org_unit_id"], row["form_code"], row["period"])
            arrived = datetime.fromisoformat(row["arrived_at"])
            latest[key] = max(arrived, latest.get(key, arrived))
    rows = []
    for src in sorted((PROJECT_ROOT / "tests" / "fixtures" / "examples").iterdir()):
        form, unit, period = src.stem.split("_")[:3]
        if (unit, form, period) not in latest:
            continue
        dest = intake / unit / f"mau-{src.name}"
        shutil.copy2(src, dest)
        arrived = latest[(unit, form, period)] + timedelta(hours=1)
        rows.append({"file": f"{unit}/{dest.name}", "arrived_at": arrived.isoformat()})
    sidecar = intake / "_arrivals.csv"
    with open(sidecar, "a", encoding="utf-8", newline="") as fh:
        csv.DictWriter(fh, fieldnames=["file", "arrived_at"]).writerows(rows)
    return len(rows)


def run(args) -> int:
    return demo_setup(force=args.force, today=args.today)
