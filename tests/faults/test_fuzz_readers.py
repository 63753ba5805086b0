"""Fuzzing of the readers for a bounded time, in a child process with a 3 GiB address-space
ceiling (`fuzz_cases.py`; `IOC_FUZZ_EXAMPLES` examples per property, default 150). The
short property tests of tests/intake/test_properties.py run in `make test`; these in
`make faults`."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys

import pytest

from ioc.settings import PROJECT_ROOT
from tests.faults.ledger import LEDGER

LIMIT = 3 * 1024**3
PROPERTIES = 4


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


@pytest.mark.faults
def test_readers_survive_fuzzing_in_a_bounded_child() -> None:
    examples = int(os.environ.get("IOC_FUZZ_EXAMPLES", "150"))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o",
         "python_files=fuzz_cases.py", "--hypothesis-show-statistics",
         str(PROJECT_ROOT / "tests" / "faults" / "fuzz_cases.py")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1800, preexec_fn=_limit,
        env={**os.environ, "IOC_FUZZ_EXAMPLES": str(examples)})
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert f"{PROPERTIES} passed" in proc.stdout, proc.stdout[-2000:]
    ran = [int(n) for n in re.findall(r"(\d+) passing, 0 failing", proc.stdout)]
    assert len(ran) == PROPERTIES and min(ran) >= min(10, examples // 5), ran
    LEDGER.hostile("fuzzed workbooks, zip headers, .xls records, entity declarations", sum(ran))
