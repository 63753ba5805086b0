"""Start a long-running service with only the environment variables it needs.

    python -m ioc.childenv NAME[,NAME...] -- PROGRAM [ARGS...]

replaces itself (exec, same pid and process group) with PROGRAM, whose environment holds
only the listed variables of this process's environment. Only names travel on the command
line, never values. A service started through `ioc.processes.start_process`, which passes on
the caller's whole environment, is wrapped this way so that, for example, Superset never
holds the agency token or the warehouse owner's URL that `make up` has in its environment.

`keep(environ, names, prefixes)` is the same filter for a direct `subprocess` call.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping

# What any Python service needs from a login environment.
BASE_NAMES = (
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ",
    "TMPDIR", "PYTHONUNBUFFERED", "PYTHONWARNINGS", "PYTHONDONTWRITEBYTECODE",
)  # fmt: skip

# Dagster (the code location, its run workers, dbt): the platform's settings, except the
# secrets that only Superset uses.
DAGSTER_PREFIXES = ("IOC_", "DAGSTER_", "DBT_")
DAGSTER_EXCLUDED = (
    "IOC_SUPERSET_ADMIN_PASSWORD", "IOC_SUPERSET_METADATA_URL", "IOC_SUPERSET_METADATA_PASSWORD",
    "IOC_BI_READER_PASSWORD", "IOC_BI_ROLE_KEY", "IOC_BI_WAREHOUSE_URL",
)  # fmt: skip


def keep(
    environ: Mapping[str, str],
    names: Iterable[str],
    prefixes: Iterable[str] = (),
    excluded: Iterable[str] = (),
) -> dict[str, str]:
    """The variables of `environ` named in `names` or starting with one of `prefixes`,
    minus `excluded`."""
    names, prefixes, excluded = set(names) | set(BASE_NAMES), tuple(prefixes), set(excluded)
    return {
        k: v
        for k, v in environ.items()
        if (k in names or (prefixes and k.startswith(prefixes))) and k not in excluded
    }


def dagster_names(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The names to pass for Dagster (`python -m ioc.childenv <names> -- dagster dev ...`)."""
    return sorted(keep(environ, (), DAGSTER_PREFIXES, DAGSTER_EXCLUDED))


def wrap(names: Iterable[str], argv: list[str]) -> list[str]:
    """`argv` started through this module with only `names` kept."""
    return [sys.executable, "-m", "ioc.childenv", ",".join(sorted(set(names))), "--", *argv]


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m ioc.childenv NAME[,NAME...] -- PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    env = keep(os.environ, [n for n in argv[0].split(",") if n])
    os.execve(argv[2], argv[2:], env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
