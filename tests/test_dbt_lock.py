"""One dbt at a time on a project (ioc.dbt_runner.one_at_a_time).

`make up` then `make pipeline` ran two `dbt build`s at once — the run Dagster's intake sensor
started and the nightly job `ioc pipeline` runs in its own process — and each failed the other
("relation "fct_y_te_thang" already exists"), leaving the overview's marts missing. Every dbt
the platform starts (Dagster's dbt step, `ioc dbt …`) now waits for the one that runs."""

from __future__ import annotations

import subprocess
import sys
import time

from ioc import dbt_runner
from ioc.settings import PROJECT_ROOT


def test_ioc_dbt_waits_while_another_dbt_runs_then_runs():
    with dbt_runner.one_at_a_time():
        # through the CLI, as a user types it (dbt's own options before its command pass
        # through: argparse alone refused `ioc dbt --no-use-colors …`)
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "dbt", "--no-use-colors", "debug", "--config-dir"],
            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # its first word is why it waits (in the user's language); had it not waited, dbt's
        # own output and the end of the stream would come instead
        assert proc.stderr.readline().strip() == dbt_runner.WAITING
        time.sleep(0.5)
        assert proc.poll() is None, "dbt ran while another dbt held the project"
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "profiles.yml" in out  # then dbt itself ran


def test_the_lock_tells_a_waiter_once_and_is_free_again_after_use():
    said: list[str] = []
    with dbt_runner.one_at_a_time(said.append):
        pass
    assert said == []  # nobody else ran: no waiting, no message
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import time; from ioc import dbt_runner\n"
         "with dbt_runner.one_at_a_time():\n"
         "    print('held', flush=True); time.sleep(2)"],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with dbt_runner.one_at_a_time(said.append):
            waited = time.monotonic() - started
        assert said == [dbt_runner.WAITING] and waited >= 1.0
    finally:
        holder.wait(timeout=30)
