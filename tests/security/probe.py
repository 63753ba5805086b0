"""Judge one file in a child process with a memory ceiling, and report time and peak memory.

`python -m tests.security.probe FILE INTAKE_ROOT LIMIT_MB` prints one JSON object:
`{"status", "errors": [[code, message, hint]], "records", "seconds", "peak_rss_mb",
"text"}` where `text` is every string of the result (to look for leaked content). A hostile
file that made the reader allocate beyond LIMIT_MB kills the child (the parent sees a
non-zero exit and no JSON) instead of the machine.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

NOW = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process image, in MB.

    `VmHWM` belongs to the address space made at exec, so it is this judge's own peak.
    `ru_maxrss` is not: Linux carries it across fork and exec, so a judge started from a
    pytest process holding 850 MB would report 850 MB whatever it read.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    path, root, limit_mb = Path(argv[0]), Path(argv[1]), int(argv[2])
    limit = limit_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from ingest.intake import sandbox
    from ingest.intake.engine import check_paths

    # Judge here, in this capped process, so that its peak is the reader's own (the service
    # judges in a capped worker process; tests/intake/test_sandbox.py covers that worker).
    sandbox.judge = lambda data, ctx, *, now, conninfo=None: sandbox.judge_here(
        data, ctx, now, conninfo)

    t0 = time.perf_counter()
    results = check_paths([path], intake_root=root, now=NOW)
    seconds = time.perf_counter() - t0
    peak = _peak_rss_mb()
    out = [{
        "file": r.file,
        "status": r.status,
        "errors": [[e["code"], e["message"], e.get("hint")] for e in r.errors],
        "records": len(r.records),
        "text": json.dumps(r.to_json(), ensure_ascii=False),
    } for r in results]
    print(json.dumps({"results": out, "seconds": seconds, "peak_rss_mb": peak},
                     ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
