"""What every benchmark stage shares: repetitions and medians, child processes, peak memory,
the machine and its load.

Each measurement runs in a child process (`run_child`) so that its peak resident memory is
its own (`ru_maxrss` of the child and of the processes it started, such as dbt) and a crash
or a leak in one stage cannot skew the next. A child prints one JSON object on its last line.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "bench" / "results"
CACHE = RESULTS / "cache"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = func()
    return time.perf_counter() - start, out


def peak_rss_mb() -> dict[str, float]:
    """Peak resident memory of this process and of its finished children, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self_mb": round(own, 1), "children_mb": round(children, 1)}


class RssSampler:
    """Resident memory of this process and of the processes it started (dbt), sampled every
    `every_s`: `ru_maxrss` of children counts the parent's pages at fork time, so the peak of
    a subprocess is taken from the samples instead."""

    def __init__(self, every_s: float = 0.5):
        self.every_s = every_s
        self.peak_children_mb = 0.0
        self.peak_largest_child_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss-sampler")

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            try:
                sizes = []
                for child in me.children(recursive=True):
                    with suppress(psutil.Error):
                        sizes.append(child.memory_info().rss / 2**20)
                if sizes:
                    self.peak_children_mb = max(self.peak_children_mb, sum(sizes))
                    self.peak_largest_child_mb = max(self.peak_largest_child_mb, max(sizes))
            except psutil.Error:
                pass
            self._stop.wait(self.every_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every_s + 1)

    def result(self) -> dict[str, float]:
        return {"children_sum_mb": round(self.peak_children_mb, 1),
                "largest_child_mb": round(self.peak_largest_child_mb, 1)}


def emit(result: dict[str, Any]) -> None:
    """A child's answer: one JSON line, with its peak memory."""
    result = {**result, "peak_rss": peak_rss_mb()}
    sys.stdout.write("\n" + json.dumps(result, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


class ChildFailed(RuntimeError):
    pass


def run_child(module: str, args: dict[str, Any], *, env: dict[str, str] | None = None,
              cwd: Path | None = None, timeout: float | None = None,
              log: Path | None = None) -> dict[str, Any]:
    """Run `python -m <module> <json args>` and return the JSON object it printed last.

    Its output goes to `log` (when given) so a long stage can be followed with `tail -f`.
    """
    cmd = [sys.executable, "-m", module, json.dumps(args, default=str)]
    full_env = {**os.environ, **(env or {})}
    with open(log, "a", encoding="utf-8") if log else _devnull() as fh:
        proc = subprocess.run(cmd, cwd=cwd or PROJECT_ROOT, env=full_env, timeout=timeout,
                              stdout=subprocess.PIPE, stderr=fh if log else subprocess.PIPE,
                              text=True)
        if log:
            fh.write(proc.stdout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or "")[-3000:] if not log else f"(see {log})"
        raise ChildFailed(f"{module} failed ({proc.returncode}): {tail}")
    return json.loads(lines[-1])


@contextmanager
def _devnull():
    with open(os.devnull, "w") as fh:
        yield fh


def child_args() -> dict[str, Any]:
    return json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}


# --- the machine -------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        models = [ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines()
                  if ln.startswith("model name")]
        info["cpu_model"] = models[0] if models else platform.processor()
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["memory_gib"] = round(int(mem) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
        info["usable_cpus"] = affinity
    except AttributeError:
        pass
    versions = {}
    for name in ("pyarrow", "pandas", "numpy", "psycopg", "dagster", "python_calamine"):
        try:
            module = __import__(name)
            versions[name] = getattr(module, "__version__", "?")
        except ImportError:
            pass
    info["versions"] = versions
    return info


class LoadSampler:
    """The 1-minute load average, sampled in the background while the benchmark runs: the
    machine is shared, and figures taken under load are upper bounds."""

    def __init__(self, every_s: float = 5.0):
        self.every_s = every_s
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="load-sampler")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), os.getloadavg()[0]))
            self._stop.wait(self.every_s)

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every_s + 1)

    def between(self, start: float, end: float) -> dict[str, float]:
        values = [v for t, v in self.samples if start <= t <= end] or [os.getloadavg()[0]]
        return {"min": round(min(values), 2), "median": round(median(values), 2),
                "max": round(max(values), 2)}

    def summary(self) -> dict[str, float]:
        return self.between(0, float("inf"))


def free_port() -> int:
    """A free TCP port on 127.0.0.1, for a server the bench starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
