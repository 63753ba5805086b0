"""`ioc alerts check | send | reminders`: the alert catalogue's messages by hand.

Dagster sends them on its own (after each load, and each morning for reminders); these
commands show what the marts call for today, or send it now (same ledger: nothing twice).
"""

from __future__ import annotations

import argparse


def _run(args: argparse.Namespace) -> int:
    import psycopg

    from ioc import settings as settings_mod
    from ioc import warehouse
    from ioc.alerts import catalogue, rules, send

    try:
        catalogue.load()
        cfg = settings_mod.load()
        conninfo = warehouse.url(cfg)
        reminders = args.alerts_command == "reminders" or args.reminders
        messages = (rules.reminders(conninfo, cfg) if reminders else rules.alerts(conninfo, cfg))
        if args.alerts_command == "check":
            for message in messages:
                print(message.text(), end="\n\n")
            print(f"{len(messages)} thông báo (chưa gửi)")
            return 0
        outcome = send.send(cfg, messages)
    except (catalogue.AlertCatalogueError, send.RecipientsError) as exc:
        print(exc)
        return 2
    except psycopg.errors.UndefinedTable as exc:
        print(f"kho dữ liệu chưa có các bảng mart (chạy `ioc pipeline` trước): {exc}")
        return 2
    for key, channel, target in outcome.sent:
        print(f"đã gửi {key} ({channel}: {target})")
    for key, address, error in outcome.failed:
        print(f"LỖI {key} → {address}: {error}")
    print(f"{len(outcome.sent)} đã gửi, {outcome.skipped} đã gửi trước đó, "
          f"{len(outcome.failed)} lỗi")
    return 1 if outcome.failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    alerts = sub.add_parser("alerts", help="alerts and reminders (catalogue/alerts.yaml)")
    alerts_sub = alerts.add_subparsers(dest="alerts_command", required=True)
    check = alerts_sub.add_parser("check", help="print what would be sent today")
    check.add_argument("--reminders", action="store_true", help="reminders instead of alerts")
    check.set_defaults(func=_run)
    send_cmd = alerts_sub.add_parser("send", help="send today's new alerts now")
    send_cmd.set_defaults(func=_run, reminders=False)
    rem = alerts_sub.add_parser("reminders", help="send today's reminders now")
    rem.set_defaults(func=_run, reminders=True)
