"""Hostile inputs, access and secrets. Registers the `faults` marker too (slow variants here
run with `make faults`) and prints the session's tally of hostile inputs tried."""

from __future__ import annotations

from ioc.settings import PROJECT_ROOT
from tests.faults.ledger import LEDGER

MARKER = "faults: slow fault-injection and fuzz suites (make faults; excluded from make test)"


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", MARKER)


def pytest_terminal_summary(terminalreporter) -> None:
    LEDGER.report(terminalreporter, PROJECT_ROOT)
