"""`ioc pull`: pull agency resources into the warehouse outside Dagster.

    ioc pull                 # ho-so, van-ban and phan-anh
    ioc pull ho-so phan-anh  # only these
    ioc pull --json          # one JSON object of every resource's stats

Exit status: 0 when every resource was pulled, 1 when any failed (API, token, warehouse),
2 on a configuration error (no URL or token, bad mapping, unknown resource). Progress goes
to stderr (`-v` for every page); nothing printed contains a record's values.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

RESOURCE_CHOICES = ("ho-so", "van-ban", "phan-anh")


def register(sub) -> None:
    p = sub.add_parser(
        "pull", help="kéo hồ sơ, văn bản, phản ánh từ API các cơ quan vào kho (agency API pull)",
        description="Pull agency records (dossiers, documents, feedback) incrementally into "
                    "the warehouse configured for `ioc` (docs/agency-connectors.md).")
    p.add_argument("resources", nargs="*", metavar="RESOURCE",
                   help="ho-so, van-ban, phan-anh (default: all three)")
    p.add_argument("--json", action="store_true", help="print the stats as one JSON object")
    p.add_argument("-v", "--verbose", action="store_true", help="log every page")
    p.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")
    p.set_defaults(func=_pull)


def _pull(args: argparse.Namespace) -> int:
    from ingest.agency.config import load
    from ingest.agency.errors import AgencyError, ConfigError, PullFailed
    from ingest.agency.pull import pull
    from ioc import warehouse

    _logging(args)
    resources = list(dict.fromkeys(args.resources)) or None
    unknown = [r for r in resources or () if r not in RESOURCE_CHOICES]
    if unknown:
        print(f"ioc pull: không có tài nguyên {', '.join(unknown)} — chọn trong "
              f"{', '.join(RESOURCE_CHOICES)} (unknown resource)", file=sys.stderr)
        return 2
    try:
        config = load()
        stats = pull(resources, conninfo=warehouse.url(), config=config)
    except ConfigError as exc:
        print(f"ioc pull: {exc}", file=sys.stderr)
        return 2
    except PullFailed as exc:
        _report(exc.stats, args.json)
        for resource, error in exc.errors.items():
            text = str(error)
            if not text.startswith(f"{resource}:"):
                text = f"{resource}: {text}"
            print(f"ioc pull: {text}", file=sys.stderr)
        return 1
    except AgencyError as exc:
        print(f"ioc pull: {exc}", file=sys.stderr)
        return 1
    _report(stats, args.json)
    return 0


def _report(stats: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps({r: s.to_dict() for r, s in stats.items()}, ensure_ascii=False,
                         indent=1))
        return
    for resource, s in stats.items():
        if s.status == "failed":
            print(f"LỖI {resource:9} {s.error}")
            continue
        mark = "OK " if s.status == "ok" else "DỞ "
        print(f"{mark} {resource:9} {s.fetched} bản ghi: mới {s.inserted}, thay đổi {s.updated}, "
              f"không đổi {s.unchanged}, lịch sử +{s.history_added}, loại {s.rejected}; "
              f"{s.pages} trang, {s.seconds:.1f} s; mốc {s.watermark_after or '-'}")


def _logging(args: argparse.Namespace) -> None:
    level = logging.ERROR if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("ingest.agency")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
