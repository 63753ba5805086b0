"""One dbt at a time on a project (ioc.dbt_runner.one_at_a_time), beside the manifest Dagster
loads (ioc.dbt_runner.BUILD_TARGET).

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


def test_a_dbt_run_writes_its_manifest_beside_the_one_dagster_loads():
    """Dagster reads dbt_project/target/manifest.json whenever a code location or a run's
    worker starts; a build writing that file at the same moment made the reader fail on
    half a file ("unexpected end of data"). Only `dbt parse` writes it now; `ioc dbt …`
    (and Dagster's builds) write into BUILD_TARGET."""
    loaded = dbt_runner.TARGET_DIR / "manifest.json"
    assert loaded.exists()  # `make install` parsed the project
    before = (loaded.stat().st_mtime_ns, loaded.read_bytes())
    started = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "dbt", "ls", "--resource-type", "seed", "--quiet"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "org_units" in proc.stdout
    assert (loaded.stat().st_mtime_ns, loaded.read_bytes()) == before
    assert (dbt_runner.BUILD_TARGET / "manifest.json").stat().st_mtime >= started - 1


def test_only_a_command_that_passes_its_arguments_on_takes_unknown_options(capsys):
    # `ioc dbt --no-use-colors debug` above passes dbt's option through (its `passthrough`);
    # any other command still refuses an option it does not know, before running anything
    from cli.main import main

    try:
        main(["kpi", "build", "--no-such-option"])
    except SystemExit as exit_:
        assert exit_.code == 2
    else:
        raise AssertionError("ioc kpi took an option it does not know")
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err
