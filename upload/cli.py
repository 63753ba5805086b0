"""`ioc template` (a blank report template) and `ioc upload-page` (the upload page, in the
foreground: what `make up` starts in the background)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub) -> None:
    t = sub.add_parser("template", help="biểu mẫu trống (.xlsx) từ hợp đồng biểu mẫu "
                       "(a blank report template)")
    t.add_argument("form", help="form code: KTXH-01, YT-01, HCC-06, GD-01")
    t.add_argument("--unit", help="org_unit_id of the sending unit (its name in the header)")
    t.add_argument("--period", help="YYYY-MM or YYYY-HK1/HK2 (default: the latest period "
                   "ended by today, IOC_TODAY)")
    t.add_argument("--out", default=".", help="folder or file to write (default: here)")
    t.set_defaults(func=_template)
    p = sub.add_parser("upload-page", help="serve the upload page 'Nộp báo cáo' in the "
                       "foreground (make up starts it in the background)")
    p.add_argument("--host", help="address to listen on (default $IOC_UPLOAD_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default $IOC_UPLOAD_PORT or 8090)")
    p.set_defaults(func=_serve)


def _template(args: argparse.Namespace) -> int:
    from ingest.template import TemplateError, build
    from ioc import settings as settings_mod

    try:
        blank = build(args.form, args.unit, args.period, today=settings_mod.load().today)
    except TemplateError as exc:
        print(f"ioc template: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    path = out / blank.filename if out.is_dir() or args.out.endswith(("/", "\\")) else out
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blank.data)
    print(path)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from upload import app

    return app.serve(host=args.host, port=args.port)
