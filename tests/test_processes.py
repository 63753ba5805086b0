"""Background services' processes (ioc/processes.py): several stopped side by side, each
with its own grace, a service that ignores SIGTERM (and the child it started) killed once
its grace is over, nothing left behind."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import psutil

from ioc import processes
from ioc import settings as settings_mod

STUBBORN = """
import pathlib, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
pathlib.Path(sys.argv[1]).write_text(str(child.pid))
time.sleep(600)
"""


def _wait_for(path: Path) -> str:
    deadline = time.monotonic() + 30
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.05)
    return path.read_text()


def test_several_services_stop_side_by_side_and_a_stubborn_one_is_killed(tmp_path: Path):
    settings = dataclasses.replace(settings_mod.load(), home=tmp_path)
    ready = tmp_path / "stubborn-child.pid"
    stubborn = processes.start_process(
        settings, "stubborn", [sys.executable, "-c", STUBBORN, str(ready)])
    calm = processes.start_process(
        settings, "calm", [sys.executable, "-c", "import time; time.sleep(600)"])
    child = int(_wait_for(ready))  # the handlers are set: SIGTERM alone will not stop it
    pids = [stubborn, calm, child]
    assert all(psutil.pid_exists(p) for p in pids)

    assert processes.stop_processes(settings, {"stubborn": 0.5, "calm": 10.0,
                                               "never-started": 1.0}) == ["stubborn", "calm"]
    gone = [not psutil.pid_exists(p) or psutil.Process(p).status() == psutil.STATUS_ZOMBIE
            for p in pids]
    assert all(gone), dict(zip(("stubborn", "calm", "its child"), gone, strict=True))
    assert not list((tmp_path / "run").glob("*.pid"))
    assert processes.stop_processes(settings, {"stubborn": 0.5, "calm": 1.0}) == []
    assert processes.stop_process(settings, "calm") is False
