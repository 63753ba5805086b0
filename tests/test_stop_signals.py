"""`ioc.processes.stop_signals`, the Ctrl-C / SIGTERM of the foreground commands (`ioc serve`,
`ioc superset serve --foreground`): a signal ends the wait, the command's cleanup runs, and
the previous handlers come back afterwards. Run in a real child process, signalled for real."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from ioc.settings import PROJECT_ROOT

CHILD = textwrap.dedent("""
    import signal, sys
    from ioc import processes
    before = signal.getsignal(signal.SIGTERM)
    with processes.stop_signals() as stop:
        try:
            print("ready", flush=True)
            stop.wait(poll_s=0.05)
        finally:
            print("cleaned up", flush=True)
    print("restored" if signal.getsignal(signal.SIGTERM) is before else "not restored",
          flush=True)
""")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_the_wait_and_the_cleanup_runs(sig):
    child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=PROJECT_ROOT,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(sig)
        out, _ = child.communicate(timeout=20)
    finally:
        child.kill()
    assert child.returncode == 0
    assert out.split() == ["cleaned", "up", "restored"]


def test_the_wait_ends_when_the_service_is_gone():
    from ioc import processes

    looks = iter([True, True, False])
    with processes.stop_signals() as stop:
        stop.wait(lambda: next(looks), poll_s=0.01)
    assert not stop.requested
