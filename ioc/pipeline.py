"""`ioc pipeline`, `ioc up`, `ioc down`, `ioc demo`: the whole platform from one command.

`pipeline` executes Dagster's nightly job in this process but records the run in the same
Dagster instance the UI shows (`.ioc/dagster`), so a run started from the shell is visible
there with its logs and materialisations.
"""

from __future__ import annotations

import os
import signal
import time

from ioc import services
from ioc import settings as settings_mod


def run_pipeline(job_name: str = "nightly_job") -> bool:
    """Run a Dagster job once against the configured warehouse; True on success."""
    from dagster import DagsterInstance

    from ioc import warehouse

    cfg = settings_mod.load()
    warehouse.start(cfg)
    os.environ["DAGSTER_HOME"] = str(services.dagster_home(cfg))
    from orchestration.definitions import defs

    job = defs.resolve_job_def(job_name)
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    print(f"{job_name}: {'success' if result.success else 'FAILED'} (run {result.run_id})")
    return result.success


def _print_urls(urls: dict[str, str], cfg: settings_mod.Settings) -> None:
    print("\nIOC platform is up:")
    for name, url in urls.items():
        if name == "warehouse":
            continue
        print(f"  {name:<10} {url}")
    pw_file = cfg.secret_file("superset-admin-password")
    if "superset" in urls:
        password = os.environ.get("IOC_SUPERSET_ADMIN_PASSWORD") or (
            pw_file.read_text().strip() if pw_file.exists() else "?"
        )
        print(f"  Superset login: admin / {password}   (kept in {pw_file})")
    print("  Warehouse: `.venv/bin/ioc warehouse url` prints the psql URL.")


def _up(_args) -> int:
    cfg = settings_mod.load()
    _print_urls(services.up(cfg), cfg)
    return 0


def _down(_args) -> int:
    stopped = services.down(settings_mod.load())
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def _pipeline(args) -> int:
    return 0 if run_pipeline(args.job) else 1


def _serve(_args) -> int:
    """Foreground mode for `make demo`: everything up, Ctrl-C stops everything cleanly."""
    cfg = settings_mod.load()
    stop = {"now": False}

    def _on_signal(signum, _frame):
        stop["now"] = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        urls = services.up(cfg)
        _print_urls(urls, cfg)
        print("\nPress Ctrl-C to stop everything.", flush=True)
        while not stop["now"]:
            time.sleep(0.5)
    finally:
        print("\nstopping...", flush=True)
        stopped = services.down(cfg)
        print("stopped: " + ", ".join(stopped), flush=True)
    return 0


def register(sub) -> None:
    p = sub.add_parser("pipeline", help="run the nightly job once (all sources, then dbt build)")
    p.add_argument("--job", default="nightly_job")
    p.set_defaults(func=_pipeline)
    sub.add_parser("up", help="start every service in the background").set_defaults(func=_up)
    sub.add_parser("down", help="stop every service started by `up`").set_defaults(func=_down)
    d = sub.add_parser("demo-setup", help="put the demo world into the intake folder")
    d.add_argument("--force", action="store_true")
    d.set_defaults(func=_demo_setup)
    sub.add_parser("serve", help="start everything, stop it all on Ctrl-C").set_defaults(
        func=_serve
    )


def demo_setup(force: bool = False) -> int:
    """Fill the intake folder with the demo world, unless it already holds files.

    Uses the generator of `ioc.demo` when present; the example files shipped with the
    tests are the fallback, so `make demo` always has something to load.
    """
    import shutil

    from ioc.settings import PROJECT_ROOT

    cfg = settings_mod.load()
    intake = cfg.intake_dir
    if intake.exists() and any(intake.rglob("*.*")) and not force:
        print(f"{intake} already holds files; leaving it as it is")
        return 0
    try:
        from ioc.demo import setup as demo  # the demo world generator (issue 4)
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("ioc.demo"):
            raise
        demo = None
    if demo is not None:
        return demo.prepare(cfg)
    examples = PROJECT_ROOT / "tests" / "fixtures" / "examples"
    for src in sorted(examples.iterdir()):
        unit = src.stem.split("_")[1]
        dest = intake / unit / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
    print(f"copied the example reports into {intake}")
    return 0


def _demo_setup(args) -> int:
    return demo_setup(force=args.force)
