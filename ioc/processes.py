"""Processes of the platform's long-running services: start one in the background, find it,
stop it and everything it started, wait for it to answer (issue 20: the ground floor's part of
the service runner, so that a service module — Superset, the upload page, the demo API — needs
nothing above it; `cli.services` composes them into `make up` / `make down`).

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
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil

from ioc.settings import PROJECT_ROOT, Settings, child_path


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
    return bool(stop_processes(settings, {name: timeout_s}))


def stop_processes(settings: Settings, graces: dict[str, float]) -> list[str]:
    """Stop several services at once (`stop_process` for each, side by side): every one is
    sent SIGTERM first, then each gets what is left of its grace (seconds) before SIGKILL.
    Returns the names that were running, in the order given."""
    trees: dict[str, tuple[int, list[psutil.Process]]] = {}
    for name in graces:
        pid = running_pid(settings, name)
        if not pid:
            _pidfile(settings, name).unlink(missing_ok=True)
            continue
        tree = _tree(pid)
        trees[name] = (pid, tree)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        for proc in tree[1:]:
            with contextlib.suppress(psutil.Error):
                proc.terminate()
    started = time.monotonic()
    for name in sorted(trees, key=graces.__getitem__):
        pid, tree = trees[name]
        grace = max(0.0, started + graces[name] - time.monotonic())
        _, alive = psutil.wait_procs(tree, timeout=grace)
        # descendants started while we waited (a run's worker) are caught on the way out too
        for proc in {*alive, *(p for q in alive for p in _tree(q.pid))}:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=5)
        _pidfile(settings, name).unlink(missing_ok=True)
    return list(trees)


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


class StopRequest:
    """Whether SIGINT (Ctrl-C) or SIGTERM came while `stop_signals` was in force."""

    def __init__(self) -> None:
        self.requested = False

    def wait(self, still_running: Callable[[], bool] = lambda: True, poll_s: float = 0.5) -> None:
        """Sleep until a stop is requested or `still_running()` turns false."""
        while not self.requested and still_running():
            time.sleep(poll_s)


@contextlib.contextmanager
def stop_signals() -> Iterator[StopRequest]:
    """A foreground command's Ctrl-C and SIGTERM: inside, they only mark a stop as requested
    (the command's `finally` then stops what it started, even when the signal came while it
    was starting); the previous handlers come back on leaving."""
    stop = StopRequest()

    def _on_signal(_signum, _frame) -> None:
        stop.requested = True

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
