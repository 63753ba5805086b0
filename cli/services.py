"""Start and stop the platform's long-running services: `make up`, `make down`, `make demo`.

Each service is a process group started in its own session, its pid in `.ioc/run/<name>.pid`
and its output in `.ioc/logs/<name>.log`, so `down` can stop everything it started — and
nothing else — even from another shell.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import psutil

from ioc import childenv
from ioc import settings as settings_mod
from ioc.settings import PROJECT_ROOT, Settings, child_path, tool


def dagster_home(settings: Settings) -> Path:
    """Dagster's instance directory; `dagster.yaml` there is written from the environment."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.home / "dagster")
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    storage = ""
    pg_url = os.environ.get("IOC_DAGSTER_PG_URL")
    if pg_url:
        storage = f'storage:\n  postgres:\n    postgres_url: "{pg_url}"\n'
    text = (
        "# Written by cli.services from the environment; edit IOC_DAGSTER_PG_URL instead.\n"
        "telemetry:\n  enabled: false\n"
        "nux:\n  enabled: false\n"
        "run_coordinator:\n  module: dagster.core.run_coordinator\n"
        "  class: QueuedRunCoordinator\n  config:\n    max_concurrent_runs: 1\n"
        "    dequeue_interval_seconds: 1\n" + storage
    )
    if not config.exists() or config.read_text() != text:
        config.write_text(text)
    return home


def _pidfile(settings: Settings, name: str) -> Path:
    run = settings.home / "run"
    run.mkdir(parents=True, exist_ok=True)
    return run / f"{name}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_pid(settings: Settings, name: str) -> int | None:
    pidfile = _pidfile(settings, name)
    if not pidfile.exists():
        return None
    try:
        pid = int(pidfile.read_text().strip())
    except ValueError:
        return None
    return pid if _alive(pid) else None


def start_process(
    settings: Settings, name: str, argv: list[str], env: dict[str, str] | None = None
) -> int:
    """Start `argv` in the background unless it already runs; return its pid.

    The child's PATH starts with this environment's `bin/`, so whatever it starts in turn
    (Dagster's code servers and run workers, dbt) finds the project's tools even when the
    user's shell has no virtualenv on PATH.
    """
    pid = running_pid(settings, name)
    if pid:
        return pid
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    child_env = {**os.environ, **(env or {})}
    child_env["PATH"] = child_path(child_env.get("PATH", ""))
    with open(logs / f"{name}.log", "ab") as log:
        proc = subprocess.Popen(
            argv,
            cwd=PROJECT_ROOT,
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _pidfile(settings, name).write_text(str(proc.pid))
    return proc.pid


def _tree(pid: int) -> list[psutil.Process]:
    """The process and every descendant, wherever they are (a child that started its own
    session — Dagster's code servers — is outside the process group)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def stop_process(settings: Settings, name: str, timeout_s: float = 20.0) -> bool:
    """Stop a service and everything it started: SIGTERM to its process group and to every
    descendant, then SIGKILL to whatever is left after `timeout_s`."""
    pid = running_pid(settings, name)
    _pidfile(settings, name).unlink(missing_ok=True) if not pid else None
    if not pid:
        return False
    tree = _tree(pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    for proc in tree[1:]:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(tree, timeout=timeout_s)
    # descendants started while we waited (a run's worker) are caught on the way out too
    for proc in {*alive, *(p for q in alive for p in _tree(q.pid))}:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=5)
    _pidfile(settings, name).unlink(missing_ok=True)
    return True


def wait_http(url: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url, timeout=3).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s")
        time.sleep(0.5)


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


def start_watcher(settings: Settings) -> None:
    """The resident intake worker (`ioc watch`): answers a dropped report within seconds and
    reports each pass to the Dagster instance the UI shows."""
    argv, env = _dagster_side(settings, [str(tool("ioc")), "watch"])
    start_process(settings, WATCHER, argv, env=env)


def up(settings: Settings | None = None, *, orchestration: bool = True) -> dict[str, str]:
    """Warehouse, demo agency API (when configured), Superset, the upload page, and — unless
    `orchestration` is False, for a caller that first runs the pipeline itself — Dagster and
    the intake watcher, in the background."""
    from ioc import warehouse

    settings = settings or settings_mod.load()
    urls = {"warehouse": warehouse.start(settings)}
    for hook in SERVICE_HOOKS:
        urls.update(hook.up(settings))
    if orchestration:
        urls.update(start_orchestration(settings))
    return urls


def start_orchestration(settings: Settings) -> dict[str, str]:
    """Dagster (webserver, daemon: schedules and sensors) and the intake watcher."""
    url = start_dagster(settings)
    start_watcher(settings)
    return {"dagster": url}


def down(settings: Settings | None = None) -> list[str]:
    from ioc import warehouse

    settings = settings or settings_mod.load()
    stopped = []
    if stop_process(settings, WATCHER):
        stopped.append(WATCHER)
    if stop_process(settings, "dagster"):
        stopped.append("dagster")
    for hook in reversed(SERVICE_HOOKS):
        stopped.extend(hook.down(settings))
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

    def up(self, settings: Settings) -> dict[str, str]:
        mod = self._mod()
        return mod.service_up(settings) if mod and hasattr(mod, "service_up") else {}

    def refresh(self, settings: Settings) -> None:
        """After a pipeline run (e.g. Superset refreshes its datasets' columns)."""
        mod = self._mod()
        if mod and hasattr(mod, "service_refresh"):
            mod.service_refresh(settings)

    def down(self, settings: Settings) -> list[str]:
        mod = self._mod()
        return mod.service_down(settings) if mod and hasattr(mod, "service_down") else []


# Modules exposing service_up(settings) -> {name: url} and service_down(settings) -> [names].
SERVICE_HOOKS = [_Hook("demo.service"), _Hook("ioc_superset.service"), _Hook("upload.service")]
