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
from datetime import datetime, time
from pathlib import Path

from ioc.demo import vocab
from ioc.demo.agency import document_records, dossier_stories, feedback_records, hcc_counts
from ioc.demo.calendar import TZ, Month, month_range, semesters_ending_in, work_calendar
from ioc.demo.intake import MANIFEST_COLUMNS, IntakeWriter
from ioc.demo.store import KEYS, RESOURCES, RecordSink
from ioc.demo.units import AGENCY_NAMES, SEED_ORG_UNITS, World, build_world

DEFAULT_SPAN = (Month(2024, 1), Month(2025, 6))
EARLIEST = Month(2021, 1)
LATEST = Month(2025, 6)
FORMAT_VERSION = 1
ARRIVALS_SIDECAR = "_arrivals.csv"


@dataclass
class Summary:
    out: Path
    scale: str
    seed: int
    span: tuple[Month, Month]
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
            f"{self.span[0]}..{self.span[1]} -> {self.out}",
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


def parse_span(start: str | None, end: str | None, months: int | None) -> tuple[Month, Month]:
    first = Month.parse(start) if start else DEFAULT_SPAN[0]
    last = first.add(months - 1) if months else (Month.parse(end) if end else DEFAULT_SPAN[1])
    if not (EARLIEST <= first <= last <= LATEST):
        raise ValueError(f"span {first}..{last} must lie within {EARLIEST}..{LATEST} "
                         "(the units of the demo world end on 2025-06-30)")
    return first, last


_WORLD_CACHE: dict[tuple[str, int], World] = {}


def _world(scale: str, seed: int) -> World:
    key = (scale, seed)
    if key not in _WORLD_CACHE:
        _WORLD_CACHE[key] = build_world(scale, seed)
    return _WORLD_CACHE[key]


def _district_task(args: tuple) -> tuple[list[dict], dict]:
    scale, seed, idx, first, last, out, with_intake, with_agency = args
    span = (first, last)
    out = Path(out)
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
    for u in communes:
        areas = [d.areas[a] for a in d.commune_areas[u.org_unit_id]]
        pop = sum(a.population for a in areas)
        upland = any(a.upland for a in areas)
        stories = dossier_stories(seed, d, u, span, cal, upland,
                                  pop / 1000 * vocab.COMMUNE_RATE_PER_1000)
        for m in months:
            if u.valid_between(m.first, m.last):
                hcc[(u.org_unit_id, str(m))] = hcc_counts(stories, m)
        if with_agency:
            for st in stories:
                keys["ho-so"] += 1
                for v in st.versions:
                    sinks["ho-so"].add(v)
            for v in document_records(seed, d, u, span, cal, 35 + pop / 400, 14 + pop / 1000,
                                      "UBND"):
                sinks["van-ban"].add(v)
                keys["van-ban"] += v["_hetHieuLuc"] is None
    if with_agency:
        factor = d.population() / 60000
        for key, unit in d.agencies.items():
            stories = dossier_stories(seed, d, unit, span, cal, False,
                                      vocab.AGENCY_RATE_PER_60K.get(key, 10) * factor, key)
            for st in stories:
                keys["ho-so"] += 1
                for v in st.versions:
                    sinks["ho-so"].add(v)
            symbol = "UBND" if key == "vp-ubnd" else AGENCY_NAMES[key][1]
            rin, rout = (160, 90) if key == "vp-ubnd" else (55, 28)
            for v in document_records(seed, d, unit, span, cal, rin * factor ** 0.5,
                                      rout * factor ** 0.5, symbol):
                sinks["van-ban"].add(v)
                keys["van-ban"] += v["_hetHieuLuc"] is None
        for v in feedback_records(seed, d, active, span, cal):
            sinks["phan-anh"].add(v)
            keys["phan-anh"] += v["_hetHieuLuc"] is None
    versions = {res: sink.close() for res, sink in sinks.items()}
    rows: list[dict] = []
    if with_intake:
        semesters = semesters_ending_in(first, last)
        rows = IntakeWriter(seed, d, span, out, cal, hcc, semesters).run()
    return rows, {"records": dict(keys), "versions": versions, "communes": len(active)}


def generate(out: Path, scale: str = "district", seed: int = 1,
             span: tuple[Month, Month] = DEFAULT_SPAN, intake: bool = True, agency: bool = True,
             jobs: int | None = None, overwrite: bool = False, progress=None) -> Summary:
    """Write the demo world into `out` and return what was written."""
    t0 = _time.perf_counter()
    out = Path(out)
    _prepare(out, overwrite)
    world = _world(scale, seed)
    if scale == "district":
        shutil.copyfile(SEED_ORG_UNITS, out / "org_units.csv")
    else:
        world.write_org_units(out / "org_units.csv")
    summary = Summary(out, scale, seed, span, districts=len(world.districts))
    tasks = [(scale, seed, d.index, span[0], span[1], str(out), intake, agency)
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
    clock = datetime.combine(span[1].last, time(23, 59, 59), TZ)
    meta = {
        "format": FORMAT_VERSION, "scale": scale, "seed": seed,
        "span": {"start": str(span[0]), "end": str(span[1])},
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
