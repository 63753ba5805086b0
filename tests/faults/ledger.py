"""The session's tally of faults injected, hostile inputs tried and records lost.

Tests record what they did (`LEDGER.fault("warehouse connection cut mid-COPY")`,
`LEDGER.hostile("zip bomb, lying headers")`, `LEDGER.lost(n, "after the pipeline was
killed")`); at the end of the session the conftests print the summary and write it to
`test-artifacts/faults/summary.json`. Records lost must be 0: every test asserts it too, the
tally only makes the number visible.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path


class Ledger:
    def __init__(self) -> None:
        self.faults: Counter[str] = Counter()
        self.hostile_inputs: Counter[str] = Counter()
        self.records_checked = 0
        self.records_lost = 0
        self.records_doubled = 0
        self.reported = False

    def fault(self, kind: str, n: int = 1) -> None:
        self.faults[kind] += n

    def hostile(self, kind: str, n: int = 1) -> None:
        self.hostile_inputs[kind] += n

    def checked(self, comparison, reference_rows: int) -> None:
        """Account a reference comparison (`world.Comparison`)."""
        self.records_checked += reference_rows
        self.records_lost += comparison.records_lost
        self.records_doubled += comparison.records_doubled

    def summary(self) -> dict:
        return {
            "faults_injected": sum(self.faults.values()),
            "hostile_inputs_tried": sum(self.hostile_inputs.values()),
            "records_checked_against_reference": self.records_checked,
            "records_lost": self.records_lost,
            "records_doubled": self.records_doubled,
            "faults": dict(sorted(self.faults.items())),
            "hostile_inputs": dict(sorted(self.hostile_inputs.items())),
        }

    def report(self, terminalreporter, root: Path) -> None:
        if self.reported or not (self.faults or self.hostile_inputs):
            return
        self.reported = True
        s = self.summary()
        out = root / "test-artifacts" / "faults"
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(s, ensure_ascii=False, indent=1))
        tr = terminalreporter
        tr.write_sep("=", "faults and hostile inputs")
        tr.write_line(f"faults injected: {s['faults_injected']}   hostile inputs tried: "
                      f"{s['hostile_inputs_tried']}   records checked: "
                      f"{s['records_checked_against_reference']}   records lost: "
                      f"{s['records_lost']}   records doubled: {s['records_doubled']}")
        for kind, n in s["faults"].items():
            tr.write_line(f"  fault  {n:4d} × {kind}")
        for kind, n in s["hostile_inputs"].items():
            tr.write_line(f"  input  {n:4d} × {kind}")


LEDGER = Ledger()
