"""Least privilege around the warehouse: Superset's metadata on a role that owns only its
database, Superset and its CLI started with only the environment they need, Dagster's
resources closed to launch-time config, scheduled reports run with their recipients' scope.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from ioc import childenv, warehouse
from ioc.settings import PROJECT_ROOT
from ioc_superset import server

SECRETS = ("IOC_WAREHOUSE_URL", "IOC_AGENCY_API_TOKEN", "IOC_DBT_PASSWORD", "PGPASSWORD",
           "IOC_BI_READER_PASSWORD", "IOC_SUPERSET_ADMIN_PASSWORD")


def test_superset_metadata_belongs_to_its_own_role(warehouse_settings, superset_server) -> None:
    """`ioc_superset` owns the `superset` database and everything in it, nothing in the
    warehouse, may not create roles or databases, and cannot even connect to the warehouse."""
    if not warehouse_settings.embedded:
        pytest.skip("an external warehouse keeps Superset's metadata where the DBA says")
    assert (server.metadata_url(warehouse_settings) or "").startswith(
        f"postgresql+psycopg2://{warehouse.METADATA_ROLE}:")
    with psycopg.connect(warehouse.url(warehouse_settings, warehouse.SUPERSET_DB)) as conn:
        owners = dict(conn.execute(
            "select pg_get_userbyid(c.relowner), count(*) from pg_class c "
            "where c.relnamespace = 'public'::regnamespace group by 1").fetchall())
        db_owner = conn.execute("select pg_get_userbyid(datdba) from pg_database "
                                "where datname = current_database()").fetchone()[0]
        powers = conn.execute("select rolsuper or rolcreaterole or rolcreatedb or rolbypassrls "
                              "from pg_roles where rolname = %s",
                              (warehouse.METADATA_ROLE,)).fetchone()[0]
    assert db_owner == warehouse.METADATA_ROLE and not powers
    assert set(owners) == {warehouse.METADATA_ROLE} and owners[warehouse.METADATA_ROLE] > 50
    with psycopg.connect(warehouse.url(warehouse_settings)) as conn:
        assert conn.execute("select count(*) from pg_class where relowner = %s::regrole",
                            (warehouse.METADATA_ROLE,)).fetchone()[0] == 0
    password = warehouse.metadata_password(warehouse_settings)
    with pytest.raises(psycopg.OperationalError, match="CONNECT"):
        psycopg.connect(f"postgresql://{warehouse.METADATA_ROLE}:{password}@127.0.0.1:"
                        f"{warehouse_settings.pg_port}/{warehouse.WAREHOUSE_DB}")


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)


def _group(pid: int) -> list[int]:
    """The process and its descendants (gunicorn's master and workers)."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,pgid="], capture_output=True, text=True)
    pgid = os.getpgid(pid)
    return [int(p) for p, g in (line.split() for line in out.stdout.splitlines())
            if int(g) == pgid]


def test_superset_runs_with_only_its_environment(warehouse_settings, superset_server,
                                                  monkeypatch) -> None:
    """Every process of the running Superset holds only the variables `superset_env` sets
    and a login environment's basics: no warehouse owner URL, agency token or dbt password,
    whatever the shell that started it had; and the CLI's environment is the same."""
    from ioc import processes

    pid = processes.running_pid(superset_server.settings, server.SERVICE)
    assert pid
    allowed = set(server.superset_env(superset_server.settings)) | set(childenv.BASE_NAMES)
    allowed |= set(server.PASSED_ON)
    for proc in _group(pid):
        env = _environ(proc)
        assert set(env) <= allowed, (proc, sorted(set(env) - allowed))
        assert not {k for k in env if k.startswith(("IOC_PG", "IOC_WAREHOUSE", "IOC_AGENCY",
                                                    "IOC_DBT", "DAGSTER"))}
    for name in SECRETS:
        monkeypatch.setenv(name, "lo-ra-la-sai")
    env = server.superset_env(superset_server.settings)
    assert "lo-ra-la-sai" not in json.dumps(env)
    assert env["IOC_BI_ROLE_KEY"] == warehouse.role_key(superset_server.settings)


def test_childenv_passes_only_named_variables(tmp_path) -> None:
    script = tmp_path / "show.py"
    script.write_text("import json, os; print(json.dumps(dict(os.environ)))")
    env = {**os.environ, "GIU_LAI": "1", "IOC_AGENCY_API_TOKEN": "bi-mat"}
    out = subprocess.run(childenv.wrap(["GIU_LAI"], [sys.executable, str(script)]), env=env,
                         capture_output=True, text=True, check=True, cwd=PROJECT_ROOT).stdout
    seen = json.loads(out)
    assert seen["GIU_LAI"] == "1" and "IOC_AGENCY_API_TOKEN" not in seen
    names = childenv.dagster_names({"IOC_WAREHOUSE_URL": "x", "IOC_BI_ROLE_KEY": "y",
                                    "SUPERSET_SECRET_KEY": "z", "PATH": "/bin"})
    assert "IOC_WAREHOUSE_URL" in names and "PATH" in names
    assert "IOC_BI_ROLE_KEY" not in names and "SUPERSET_SECRET_KEY" not in names


@pytest.mark.parametrize(("resource", "config"), [
    ("intake", {"intake_dir": "/etc", "archive_dir": "/tmp/lay-cap"}),
    ("warehouse", {"url": "postgresql://ke-gian@may-la/ioc"}),
    ("agency_api", {"base_url": "http://may-la.example", "token": "x"}),
])
def test_dagster_resources_refuse_launch_config(resource, config) -> None:
    """Whoever reaches Dagster's UI cannot point a run at another folder, archive, database
    or agency URL from the launchpad: the resources take no config at all."""
    from orchestration.definitions import defs

    job = defs.resolve_job_def("nightly_job")
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(job, {"resources": {resource: {"config": config}}})


REPORT_SCRIPT = r"""
import json, sys
from superset.app import create_app
app = create_app()
with app.app_context():
    from superset import security_manager
    from superset.commands.report import alert, execute
    from superset.reports.models import ReportRecipients, ReportSchedule
    from superset.tasks.exceptions import ExecutorNotFoundError
    admin = security_manager.find_user(username="admin")
    out = {"patched": bool(getattr(execute.get_executor, "ioc_recipients", False))
                      and alert.get_executor is execute.get_executor}
    for case, (kind, targets) in json.loads(sys.argv[1]).items():
        report = ReportSchedule(name=case, type="Report", owners=[admin], created_by=admin)
        report.recipients = [ReportRecipients(
            type=kind, recipient_config_json=json.dumps({"target": ",".join(targets)}))]
        try:
            out[case] = execute.get_executor(app.config["ALERT_REPORTS_EXECUTORS"], report)[1]
        except ExecutorNotFoundError:
            out[case] = None
    print("RESULT " + json.dumps(out))
"""


def test_reports_run_as_their_recipients_never_the_owner(superset_server) -> None:
    """Scheduled reports and alerts run as one of their recipients when all of them share one
    database identity; otherwise (several scopes, an address nobody has, a chat channel)
    they do not run. The owner (here the admin) never lends its scope."""
    from ioc_superset import users

    with superset_server.client() as admin:
        for name, role in (("bao-cao-hiep-thuan-1", "Xã Hiệp Thuận"),
                           ("bao-cao-hiep-thuan-2", "Xã Hiệp Thuận"),
                           ("bao-cao-lanh-dao", "Lãnh đạo huyện")):
            users.ensure_user(admin, name, [role])
    mail = "{}@ioc.local".format
    cases = {
        "one commune user": ("Email", [mail("bao-cao-hiep-thuan-1")]),
        "two users of one commune": ("Email", [mail("bao-cao-hiep-thuan-1"),
                                               mail("bao-cao-hiep-thuan-2")]),
        "a commune and a leader": ("Email", [mail("bao-cao-hiep-thuan-1"),
                                             mail("bao-cao-lanh-dao")]),
        "the leader": ("Email", [mail("bao-cao-lanh-dao")]),
        "an unknown address": ("Email", ["ai-do@noi-khac.vn"]),
        "a chat channel": ("Slack", ["#kenh"]),
    }
    env = server.superset_env(superset_server.settings)
    proc = subprocess.run([str(server.superset_bin("python")), "-c", REPORT_SCRIPT,
                           json.dumps(cases)], env=env, cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=300)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, proc.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT "):])
    assert result == {
        "patched": True,
        "one commune user": "bao-cao-hiep-thuan-1",
        "two users of one commune": "bao-cao-hiep-thuan-1",
        "a commune and a leader": None,
        "the leader": "bao-cao-lanh-dao",
        "an unknown address": None,
        "a chat channel": None,
    }
