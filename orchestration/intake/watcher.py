"""`ioc watch`: the resident intake worker that answers a dropped report within seconds.

Every `IOC_INTAKE_POLL_S` (default 1 s) it looks at the intake folders; a file whose stat is
the same on two looks `IOC_INTAKE_SETTLE_S` apart (default 2 s) is complete, and is taken at
once by the same pass as Dagster's `intake_files` asset (`ingest.intake.watch.process_waiting`):
archived, judged in the memory-capped reader, loaded, answered in `_phan_hoi/`. The process
stays up, so none of this waits for a run to be launched.

Dagster still shows every ingest: each pass is recorded in Dagster's instance
(`DAGSTER_HOME`) as materializations of `raw_intake/*`, with the files and their outcomes,
and `intake_marts_sensor` then starts the dbt models downstream. While the watcher beats
(its heartbeat is in the intake state), the fallback `intake_sensor` stands aside.

A warehouse that cannot be reached pauses the watcher (with growing back-off, files keep
their arrival times); any other failure of a pass is logged and the next look goes on.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import time
from collections.abc import Callable

import psycopg

from ingest.intake.engine import FileResult
from ingest.intake.watch import IntakeState, process_waiting
from ioc import settings as settings_mod
from ioc import warehouse

log = logging.getLogger("ioc.watch")


def _dagster_reporter() -> Callable[[list[FileResult]], None] | None:
    """Record a pass in Dagster's instance, or None when no instance is configured."""
    if not os.environ.get("DAGSTER_HOME"):
        log.warning("DAGSTER_HOME is not set: passes are not reported to Dagster")
        return None
    import dagster as dg

    from orchestration.intake.assets import pass_events

    instance = dg.DagsterInstance.get()

    def report(results: list[FileResult]) -> None:
        for event in pass_events(results):
            instance.report_runless_asset_event(event)

    return report


class Watcher:
    def __init__(self, settings: settings_mod.Settings | None = None, *,
                 poll_s: float | None = None, settle_s: float | None = None,
                 report: Callable[[list[FileResult]], None] | None = None):
        self.settings = settings or settings_mod.load()
        self.poll_s = poll_s if poll_s is not None else float(
            os.environ.get("IOC_INTAKE_POLL_S", "1"))
        self.settle_s = settle_s if settle_s is not None else float(
            os.environ.get("IOC_INTAKE_SETTLE_S", "2"))
        self.report = report
        self.state = IntakeState.for_home(self.settings.home)
        self.stopping = False

    def tick(self) -> list[FileResult]:
        """One look and, for complete new files, one pass."""
        root = self.settings.intake_dir
        root.mkdir(parents=True, exist_ok=True)
        results = process_waiting(
            root, conninfo=warehouse.url(self.settings), archive_dir=self.settings.archive_dir,
            state=self.state, looks=1, settle_s=self.settle_s, wait_for_lock=False,
            on_result=_log_result)
        if results and self.report is not None:
            try:
                self.report(results)
            except Exception:  # Dagster's storage busy or gone: the files are in anyway
                log.exception("could not report the pass to Dagster")
        return results

    def run(self) -> None:
        backoff = self.poll_s
        log.info("watching %s (every %.1f s, complete after %.1f s)",
                 self.settings.intake_dir, self.poll_s, self.settle_s)
        try:
            while not self.stopping:
                self.state.beat()
                try:
                    self.tick()
                    backoff = self.poll_s
                except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                    backoff = min(max(backoff * 2, 2.0), 60.0)
                    log.warning("warehouse not reachable (%s); next try in %.0f s",
                                str(exc).strip().splitlines()[0] if str(exc) else exc, backoff)
                except OSError as exc:  # the archive not writable: every file would fail
                    backoff = min(max(backoff * 2, 2.0), 60.0)
                    log.error("cannot write %s (%s); next try in %.0f s",
                              exc.filename or "the archive", exc.strerror or exc, backoff)
                except Exception:
                    log.exception("intake pass failed; the next look goes on")
                    backoff = self.poll_s
                deadline = time.monotonic() + backoff
                while not self.stopping and time.monotonic() < deadline:
                    time.sleep(min(0.2, backoff))
        finally:
            self.state.forget_heartbeat()
            self.state.close()


def _log_result(result: FileResult) -> None:
    log.info("%s %s %s %s %s%s", result.status, result.form or "?", result.org_unit_id or "?",
             result.period or "?", result.file,
             f" ({len(result.errors)} lỗi)" if result.errors else "")


def _watch(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = settings_mod.load()
    if settings.embedded:
        warehouse.start(settings)
    watcher = Watcher(settings, report=_dagster_reporter())
    if args.once:
        results = watcher.tick()
        time.sleep(watcher.settle_s)
        results += watcher.tick()
        watcher.state.close()
        print(f"{len(results)} file(s) taken")
        return 0

    def stop(_signum, _frame):
        watcher.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    watcher.run()
    return 0


def register(sub) -> None:
    p = sub.add_parser("watch", help="watch the intake folders and answer each report at once")
    p.add_argument("--once", action="store_true",
                   help="take what is complete now (two looks) and exit")
    p.set_defaults(func=_watch)
