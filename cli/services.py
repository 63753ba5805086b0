"""Start and stop the platform's long-running services: `make up`, `make down`, `make demo`.

The processes themselves (pid files, logs, stopping a whole tree) are `ioc.processes`; this
module, on the top floor, composes the warehouse, Dagster, the intake watcher and the services
other packages contribute (`SERVICE_HOOKS`).
"""

from __future__ import annotations

import concurrent.futures
import functools
import os
import time
from importlib.metadata import entry_points

from ioc import childenv
from ioc import settings as settings_mod
from ioc.processes import (  # issue 20: moved to the ground floor; names kept
    dagster_home,
    running_pid,
    start_process,
    stop_process,
    wait_http,
)
from ioc.settings import Settings, tool


def _dagster_side(settings: Settings, argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """`argv` wrapped to start with only what Dagster's side needs (the platform's settings;
    not Superset's secrets), and the extra variables it gets."""
    env = {"DAGSTER_HOME": str(dagster_home(settings))}
    return childenv.wrap(childenv.dagster_names({**os.environ, **env}), argv), env


def start_dagster(settings: Settings) -> str:
    argv, env = _dagster_side(
        settings,
        [str(tool("dagster")), "dev", "-h", "127.0.0.1", "-p", str(settings.dagster_port)])
    start_process(settings, "dagster", argv, env=env)
    url = f"http://127.0.0.1:{settings.dagster_port}"
    wait_http(url + "/server_info", timeout_s=180)
    return url


WATCHER = "intake-watcher"


def start_watcher(settings: Settings, timeout_s: float = 180.0) -> None:
    """The resident intake worker (`ioc watch`): answers a dropped report within seconds and
    reports each pass to the Dagster instance the UI shows.

    Returns once the watcher beats: until then Dagster's fallback `intake_sensor` would take
    a report dropped right after `make up` returned, and start an `intake_job` run (a dbt
    build) that the watcher's pass makes useless and the marts' run then queues behind."""
    from ingest.intake.watch import IntakeState  # only `up` needs the intake loaded

    argv, env = _dagster_side(settings, [str(tool("ioc")), "watch"])
    start_process(settings, WATCHER, argv, env=env)
    deadline = time.monotonic() + timeout_s
    log = settings.home / "logs" / f"{WATCHER}.log"
    state = IntakeState.for_home(settings.home)
    try:
        while not state.alive():
            if not running_pid(settings, WATCHER):
                raise RuntimeError(f"ioc watch stopped while starting; see {log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"ioc watch did not start within {timeout_s:.0f} s; see {log}")
            time.sleep(0.5)
    finally:
        state.close()


def up(settings: Settings | None = None, *, orchestration: bool = True) -> dict[str, str]:
    """Warehouse, demo agency API (when configured), Superset, the upload page, and — unless
    `orchestration` is False, for a caller that first runs the pipeline itself — Dagster and
    the intake watcher, in the background."""
    from ioc import warehouse

    settings = settings or settings_mod.load()
    urls = {"warehouse": warehouse.start(settings)}
    # The plugins' services first: the demo agency API sets the URL Dagster's processes
    # inherit. Dagster and the watcher then start beside the platform's own services
    # (Superset's bootstrap, ~25-60 s; they share nothing but the warehouse's roles, which
    # `warehouse.start` made): `make up` waits for the slower of the two, not their sum.
    for hook in PLUGIN_HOOKS:
        urls.update(hook.up(settings))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        started = pool.submit(start_orchestration, settings) if orchestration else None
        try:
            for hook in PLATFORM_HOOKS:
                urls.update(hook.up(settings))
        finally:  # a failure of either side is raised once both have finished
            failed = started.exception() if started else None
    if failed is not None:
        raise failed
    if started:
        urls.update(started.result())
    return urls


def start_orchestration(settings: Settings) -> dict[str, str]:
    """Dagster (webserver, daemon: schedules and sensors) and the intake watcher."""
    url = start_dagster(settings)
    start_watcher(settings)
    return {"dagster": url}


def down(settings: Settings | None = None) -> list[str]:
    """Stop everything `up` started: the watcher first (it starts runs), then Dagster and
    every hook's services side by side (each waits for its processes to exit), the
    warehouse last. Returns the names stopped."""
    from ioc import warehouse

    settings = settings or settings_mod.load()
    stopped = [WATCHER] if stop_process(settings, WATCHER) else []

    def dagster() -> list[str]:
        return ["dagster"] if stop_process(settings, "dagster") else []

    jobs = [dagster, *(functools.partial(hook.down, settings) for hook in reversed(SERVICE_HOOKS))]
    with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
        for names in pool.map(lambda job: job(), jobs):
            stopped.extend(names)
    if warehouse.stop(settings):
        stopped.append("warehouse")
    return stopped


class _Hook:
    """A service contributed by another module (Superset, the demo agency API)."""

    def __init__(self, module: str):
        self.module = module

    def _mod(self):
        import importlib

        try:
            return importlib.import_module(self.module)
        except ModuleNotFoundError as exc:
            if exc.name != self.module:
                raise
            return None

    def _call(self, name: str, settings: Settings, default=None):
        """The module's `service_<name>(settings)`, or `default` when the module is absent
        or has no such function (every function of a hook is optional)."""
        mod = self._mod()
        function = getattr(mod, f"service_{name}", None) if mod else None
        return function(settings) if function else default

    def up(self, settings: Settings) -> dict[str, str]:
        return self._call("up", settings, {})

    def refresh(self, settings: Settings) -> None:
        """After a pipeline run (e.g. Superset refreshes its datasets' columns)."""
        self._call("refresh", settings)

    def down(self, settings: Settings) -> list[str]:
        return self._call("down", settings, [])

    # issue 20: what the top floor asked the demo world directly before, asked of every hook
    def today(self, settings: Settings):
        """The day the service's world was made for, if it fixes one (the demo world)."""
        return self._call("today", settings)

    def adopt(self, settings: Settings) -> None:
        """Before a pipeline run in this process: point it at the service (the demo API)."""
        self._call("adopt", settings)

    def logins(self, settings: Settings) -> list[str]:
        """Lines printed with the URLs: accounts the service made (the demo commune's)."""
        return self._call("logins", settings, [])


def plugin_modules(group: str) -> list[str]:
    """Modules other installed packages declare in entry-point `group` (pyproject.toml): how
    the demo world adds its commands and its service without production importing it."""
    return [ep.value for ep in entry_points(group=group)]


# Modules exposing service_up(settings) -> {name: url} and service_down(settings) -> [names]
# (optionally service_refresh, service_today, service_adopt, service_logins; see _Hook): the
# platform's own, after those of entry-point group `ioc.services` (the demo agency API).
PLUGIN_HOOKS = [_Hook(m) for m in plugin_modules("ioc.services")]
PLATFORM_HOOKS = [_Hook("ioc_superset.service"), _Hook("upload.service")]
SERVICE_HOOKS = [*PLUGIN_HOOKS, *PLATFORM_HOOKS]
