"""`ioc superset ...`: bootstrap, serve, stop, status, export, build-assets, build-policies."""

from __future__ import annotations

import argparse
import json

from ioc import processes
from ioc import settings as settings_mod


def _bootstrap(args: argparse.Namespace) -> int:
    from ioc_superset import bootstrap, server

    cfg = settings_mod.load()
    report = bootstrap.bootstrap(cfg, keep_running=args.serve, force_import=args.force)
    for change in report.changes:
        print(change)
    print(f"Superset ready at {report.url} (admin / {cfg.secret_file('superset-admin-password')})")
    print("timings: " + ", ".join(f"{k} {v}s" for k, v in report.timings.items()))
    if not args.serve and not server.is_running(cfg):
        print("server stopped again; `ioc superset serve` starts it")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from ioc_superset import server

    cfg = settings_mod.load()
    url = server.start(cfg)
    print(f"Superset: {url}")
    if not args.foreground:
        return 0
    with processes.stop_signals() as stop:
        try:
            stop.wait(lambda: server.is_running(cfg))
        finally:
            server.stop(cfg)
    return 0


def _stop(_args: argparse.Namespace) -> int:
    from ioc_superset import server

    print("stopped" if server.stop(settings_mod.load()) else "not running")
    return 0


def _status(_args: argparse.Namespace) -> int:
    from ioc_superset import server

    state = server.status(settings_mod.load())
    print(json.dumps(state))
    return 0 if state["healthy"] else 3


def _export(args: argparse.Namespace) -> int:
    from ioc_superset import bootstrap, export

    cfg = settings_mod.load()
    with bootstrap.admin_client(cfg) as client:
        report = export.export(client, prune=not args.keep)
    for rel in report.written:
        print(f"wrote {rel}")
    for rel in report.removed:
        print(f"removed {rel}")
    print(f"{report.unchanged} unchanged")
    for rel in report.differs_from_spec:
        print(
            f"NOTE {rel} differs from superset/spec/: port the change to the spec "
            "(then `ioc superset build-assets`) or remove the asset from the spec"
        )
    return 0


def _add_user(args: argparse.Namespace) -> int:
    from ioc_superset import bootstrap, users

    cfg = settings_mod.load()
    with bootstrap.admin_client(cfg) as client:
        password = users.ensure_user(
            client, args.username, args.role, first_name=args.first_name, email=args.email
        )
    print(f"{args.username}: {', '.join(args.role)}")
    print(f"mật khẩu (chỉ hiện một lần): {password}")
    return 0


def _build_assets(args: argparse.Namespace) -> int:
    from ioc_superset import assets_builder

    return assets_builder.main(["--check"] if args.check else [])


def _build_policies(args: argparse.Namespace) -> int:
    from ioc_superset import policies

    if args.check:
        ok = policies.rls_up_to_date()
        print("up to date" if ok else "superset/policies/rls.yaml is out of date")
        return 0 if ok else 1
    print("rewrote rls.yaml" if policies.write_rls() else "rls.yaml unchanged")
    return 0


def _db_roles(args: argparse.Namespace) -> int:
    from ioc_superset import identities

    cfg = settings_mod.load()
    if args.sql:
        print(identities.sql_script(cfg))
        return 0
    for change in identities.apply(cfg) or ["login roles up to date"]:
        print(change)
    return 0


def _run_report(args: argparse.Namespace) -> int:
    """issue 19: run a report of superset/reports.yaml now (the worker must run: `ioc up`)."""
    from ioc_superset import bootstrap, reports, worker

    cfg = settings_mod.load()
    if not worker.is_running(cfg):
        print("the reports' worker is not running: start the services with `ioc up`")
        return 1
    with bootstrap.admin_client(cfg) as client:
        rid = reports.report_id(client, args.code)
    if rid is None:
        print(f"no report {args.code!r} in Superset (superset/reports.yaml, then bootstrap)")
        return 1
    worker.run_now(cfg, rid)
    where = worker.outbox(cfg) if worker.uses_sink() else "SMTP"
    print(f"report {args.code} queued; it goes to {where} "
          f"(log: {cfg.home / 'logs' / (worker.WORKER + '.log')})")
    return 0


def register(sub) -> None:
    p = sub.add_parser("superset", help="Superset: bootstrap, serve, stop, status, export")
    ss = p.add_subparsers(dest="superset_command", required=True)

    b = ss.add_parser("bootstrap", help="migrate, admin, roles, assets, RLS (idempotent)")
    b.add_argument("--serve", action="store_true", help="leave the server running")
    b.add_argument("--force", action="store_true", help="import the assets even if unchanged")
    b.set_defaults(func=_bootstrap)

    s = ss.add_parser("serve", help="start the web server in the background")
    s.add_argument("--foreground", action="store_true", help="stay attached; Ctrl-C stops it")
    s.set_defaults(func=_serve)

    ss.add_parser("stop", help="stop the web server").set_defaults(func=_stop)
    ss.add_parser("status", help="pid, URL and health").set_defaults(func=_status)

    e = ss.add_parser("export", help="write the running Superset's assets to superset/assets/")
    e.add_argument("--keep", action="store_true", help="do not remove files Superset lacks")
    e.set_defaults(func=_export)

    u = ss.add_parser("add-user", help="create or reset a user with a generated password")
    u.add_argument("username")
    u.add_argument("--role", action="append", required=True,
                   help="a role name, e.g. a commune's (superset/policies/rls.yaml)")
    u.add_argument("--first-name", default="Cán bộ")
    u.add_argument("--email")
    u.set_defaults(func=_add_user)

    a = ss.add_parser("build-assets", help="superset/spec/ -> superset/assets/")
    a.add_argument("--check", action="store_true", help="fail if the YAML is out of date")
    a.set_defaults(func=_build_assets)

    d = ss.add_parser("db-roles", help="PostgreSQL login roles of the users' scopes")
    d.add_argument("--sql", action="store_true",
                   help="print the SQL (with passwords) for a DBA instead of running it")
    d.set_defaults(func=_db_roles)

    n = ss.add_parser("run-report", help="run a report of superset/reports.yaml now")
    n.add_argument("code", help="its code, e.g. tong_quan_tuan")
    n.set_defaults(func=_run_report)

    r = ss.add_parser("build-policies", help="org_units.csv -> superset/policies/rls.yaml")
    r.add_argument("--check", action="store_true", help="fail if rls.yaml is out of date")
    r.set_defaults(func=_build_policies)
