"""`ioc demo-data`: write a demo world (intake files, manifest, agency records) into a folder.

One district is one unit of work, generated in a worker process from streams seeded by
(seed, what is decided), so the output is byte-for-byte the same for a seed whatever the
number of processes. Layout of DIR:

    org_units.csv                  units of the world (the project's seed file at district scale)
    manifest.csv                   every intake file: path, unit, form, period, arrival, truth
    intake/<org_unit_id>/<file>    the files commune staff dropped
    agency/<resource>/part-NNNN.parquet   versions of dossiers, documents, feedback
    meta.json                      scale, seed, span, the API clock's default, counts
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time as _time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from demo import vocab
from demo.agency import document_records, dossier_stories, feedback_records, hcc_counts
from demo.calendar import TZ, Month, month_range, semesters_ending_in, work_calendar
from demo.intake import MANIFEST_COLUMNS, IntakeWriter
from demo.store import KEYS, RESOURCES, RecordSink
from demo.units import AGENCY_ROLES, SEED_ORG_UNITS, World, build_world
from ioc.settings import load as load_settings

START = Month(2024, 1)
"""The default first month: the demo world runs from January 2024 to yesterday."""
EARLIEST = Month(2021, 1)
FORMAT_VERSION = 2
ARRIVALS_SIDECAR = "_arrivals.csv"


@dataclass
class Summary:
    out: Path
    scale: str
    seed: int
    span: tuple[Month, Month]
    today: date
    districts: int = 0
    communes: int = 0
    files: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    defects: Counter = field(default_factory=Counter)
    records: Counter = field(default_factory=Counter)
    versions: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        total = sum(self.files.values())
        out = [
            f"demo world '{self.scale}' (seed {self.seed}) "
            f"{self.span[0]}..{self.span[1]}, up to {self.today - timedelta(days=1)} "
            f"(today {self.today}) -> {self.out}",
            f"  {self.districts} district(s), {self.communes} commune(s)",
            f"  intake files: {total} "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.files.items())),
            "  expected status: " + ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items())),
            f"  defects planted: {sum(self.defects.values())} in {len(self.defects)} kinds",
        ]
        for res in RESOURCES:
            out.append(f"  agency/{res}: {self.records[res]} records, "
                       f"{self.versions[res]} versions")
        out.append(f"  took {self.seconds:.1f} s")
        return out


def default_span(today: date) -> tuple[Month, Month]:
    """January 2024 to the month of yesterday (the current month, in progress)."""
    yesterday = today - timedelta(days=1)
    return START, Month(yesterday.year, yesterday.month)


def parse_span(start: str | None, end: str | None, months: int | None,
               today: date | None = None) -> tuple[Month, Month]:
    """The span from `--start`, `--end`, `--months`; it ends by the month of yesterday."""
    today = today or load_settings().today
    first_default, last_default = default_span(today)
    first = Month.parse(start) if start else first_default
    last = first.add(months - 1) if months else (Month.parse(end) if end else last_default)
    check_span((first, last), today)
    return first, last


def check_span(span: tuple[Month, Month], today: date) -> None:
    first, last = span
    latest = default_span(today)[1]
    if not (EARLIEST <= first <= last <= latest):
        raise ValueError(f"span {first}..{last} must lie within {EARLIEST}..{latest}: the demo "
                         f"world ends the day before today ({today})")


def world_end(span: tuple[Month, Month], today: date) -> datetime:
    """The first instant after the world: the start of today, or the end of the span's last
    month when that comes first (arrivals of its reports still happen until today)."""
    return min(span[1].end_dt(), datetime.combine(today, time(0), TZ))


_WORLD_CACHE: dict[tuple[str, int], World] = {}


def _world(scale: str, seed: int) -> World:
    key = (scale, seed)
    if key not in _WORLD_CACHE:
        _WORLD_CACHE[key] = build_world(scale, seed)
    return _WORLD_CACHE[key]


def _district_task(args: tuple) -> tuple[list[dict], dict]:
    scale, seed, idx, first, last, out, with_intake, with_agency, today = args
    span = (first, last)
    out = Path(out)
    end = datetime.combine(today, time(0), TZ)  # nothing happens from the start of today on
    world = _world(scale, seed)
    d = world.districts[idx]
    cal = work_calendar()
    sinks = {res: RecordSink(out / "agency" / res / f"part-{idx:04d}.parquet", res)
             for res in RESOURCES} if with_agency else {}
    keys: Counter = Counter()
    hcc: dict[tuple[str, str], dict] = {}
    months = month_range(first, last)
    warm_first = first.add(-3)
    communes = [u for u in d.communes if u.valid_between(warm_first.first, last.last)]
    active = [u for u in communes if u.valid_between(first.first, last.last)]
    factor = d.population() / 60000
    for u in communes:
        pop = d.commune_population(u)
        upland = d.upland(u)
        share = pop / d.population()
        # After the 2025 reform the communes take the district agencies' dossiers and part of
        # their documents, in proportion to their population.
        devolved = {role: AGENCY_ROLES[role].dossiers_per_60k * factor * share
                    for role in d.agencies} if d.devolved(u) else None
        stories = dossier_stories(seed, d, u, span, cal, upland,
                                  pop / 1000 * vocab.COMMUNE_RATE_PER_1000, devolved=devolved,
                                  end=end)
        for m in months:
            if u.valid_between(m.first, m.last):
                hcc[(u.org_unit_id, str(m))] = hcc_counts(stories, m)
        if with_agency:
            for st in stories:
                keys["ho-so"] += 1
                for v in st.versions:
                    sinks["ho-so"].add(v)
            rin, rout = 35 + pop / 400, 14 + pop / 1000
            if devolved:
                rin += vocab.DEVOLVED_DOCUMENTS * factor ** 0.5 * share * sum(
                    AGENCY_ROLES[role].documents_in for role in d.agencies)
                rout += vocab.DEVOLVED_DOCUMENTS * factor ** 0.5 * share * sum(
                    AGENCY_ROLES[role].documents_out for role in d.agencies)
            for v in document_records(seed, d, u, span, cal, rin, rout, "UBND", end=end):
                sinks["van-ban"].add(v)
                keys["van-ban"] += v["_hetHieuLuc"] is None
    if with_agency:
        for role, unit in d.agencies.items():
            if not unit.valid_between(warm_first.first, last.last):
                continue
            spec = AGENCY_ROLES[role]
            stories = dossier_stories(seed, d, unit, span, cal, False,
                                      spec.dossiers_per_60k * factor, agency_role=role, end=end)
            for st in stories:
                keys["ho-so"] += 1
                for v in st.versions:
                    sinks["ho-so"].add(v)
            for v in document_records(seed, d, unit, span, cal,
                                      spec.documents_in * factor ** 0.5,
                                      spec.documents_out * factor ** 0.5, spec.document_symbol,
                                      end=end):
                sinks["van-ban"].add(v)
                keys["van-ban"] += v["_hetHieuLuc"] is None
        for v in feedback_records(seed, d, active, span, cal, end=end):
            sinks["phan-anh"].add(v)
            keys["phan-anh"] += v["_hetHieuLuc"] is None
    versions = {res: sink.close() for res, sink in sinks.items()}
    rows: list[dict] = []
    if with_intake:
        semesters = semesters_ending_in(first, last)
        rows = IntakeWriter(seed, d, span, out, cal, hcc, semesters, end=end).run()
    return rows, {"records": dict(keys), "versions": versions, "communes": len(active)}


def generate(out: Path, scale: str = "district", seed: int = 1,
             span: tuple[Month, Month] | None = None, today: date | None = None,
             intake: bool = True, agency: bool = True, jobs: int | None = None,
             overwrite: bool = False, progress=None) -> Summary:
    """Write the demo world into `out` and return what was written.

    `today` (default: the settings' today, IOC_TODAY or the current day in Vietnam) is the
    day the world is seen from: it ends the day before, nothing arrives or is received from
    the start of `today` on. `span` (default: January 2024 to the month of yesterday) says
    which months have reports and records; it must end by the month of yesterday."""
    t0 = _time.perf_counter()
    today = today or load_settings().today
    span = span or default_span(today)
    check_span(span, today)
    out = Path(out)
    _prepare(out, overwrite)
    world = _world(scale, seed)
    if scale == "district":
        shutil.copyfile(SEED_ORG_UNITS, out / "org_units.csv")
    else:
        world.write_org_units(out / "org_units.csv")
    summary = Summary(out, scale, seed, span, today, districts=len(world.districts))
    tasks = [(scale, seed, d.index, span[0], span[1], str(out), intake, agency, today)
             for d in world.districts]
    jobs = jobs or min(os.cpu_count() or 1, len(tasks))
    rows: list[dict] = []

    def collect(i: int, result: tuple[list[dict], dict]) -> None:
        part_rows, info = result
        rows.extend(part_rows)
        summary.records.update(info["records"])
        summary.versions.update(info["versions"])
        summary.communes += info["communes"]
        if progress and (i + 1) % max(1, len(tasks) // 20) == 0:
            progress(f"  {i + 1}/{len(tasks)} districts ({_time.perf_counter() - t0:.0f} s)")

    if jobs <= 1 or len(tasks) == 1:
        for i, t in enumerate(tasks):
            collect(i, _district_task(t))
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for i, result in enumerate(pool.map(_district_task, tasks, chunksize=1)):
                collect(i, result)
    rows.sort(key=lambda r: (r["arrived_at"], r["path"]))
    if intake:
        with (out / "manifest.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        # The intake asset's sidecar for history loaded in bulk (orchestration/intake/assets.py).
        (out / "intake").mkdir(exist_ok=True)
        with (out / "intake" / ARRIVALS_SIDECAR).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["file", "arrived_at"])
            for r in rows:
                w.writerow([r["path"].removeprefix("intake/"), r["arrived_at"]])
    for r in rows:
        summary.files[r["form_code"] or "(none)"] += 1
        summary.statuses[r["expected_status"]] += 1
        if r["defect"]:
            summary.defects[r["defect"]] += 1
    clock = world_end(span, today) - timedelta(seconds=1)
    meta = {
        "format": FORMAT_VERSION, "scale": scale, "seed": seed,
        "span": {"start": str(span[0]), "end": str(span[1])}, "today": today.isoformat(),
        "clock_default": clock.isoformat(), "keys": KEYS,
        "intake_files": len(rows), "records": dict(sorted(summary.records.items())),
        "versions": dict(sorted(summary.versions.items())),
        "districts": summary.districts, "communes": summary.communes,
    }
    (out / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n",
                                   encoding="utf-8")
    summary.seconds = _time.perf_counter() - t0
    return summary


def _prepare(out: Path, overwrite: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    ours = ["intake", "agency", "manifest.csv", "meta.json", "org_units.csv"]
    present = [n for n in ours if (out / n).exists()]
    if present and not overwrite:
        raise FileExistsError(f"{out} already holds a demo world ({', '.join(present)}); "
                              "use --overwrite to replace it")
    for n in present:
        p = out / n
        shutil.rmtree(p) if p.is_dir() else p.unlink()
