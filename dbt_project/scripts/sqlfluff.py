"""Run sqlfluff on the dbt project (in dbt_project/, with its `.sqlfluff`).

The project lints with sqlfluff's jinja templater (dbt's builtins and the project's macros),
so nothing needs to run: a fresh clone lints as it is. The `IOC_DBT_*` variables `ioc dbt`
sets are set all the same, for anyone who switches to the dbt templater locally:

    .venv/bin/python dbt_project/scripts/sqlfluff.py lint models
    .venv/bin/python dbt_project/scripts/sqlfluff.py fix models/marts/bao_cao
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR.parent))

from ioc.dbt_runner import dbt_env  # noqa: E402


def main(argv: list[str]) -> int:
    os.environ.update(dbt_env())
    os.chdir(PROJECT_DIR)
    sqlfluff = Path(sys.executable).parent / "sqlfluff"
    os.execv(str(sqlfluff), [str(sqlfluff), *(argv or ["lint", "models"])])
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
