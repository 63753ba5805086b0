"""Run sqlfluff on the dbt project with the warehouse variables dbt's profile needs.

sqlfluff's dbt templater compiles the project (and asks the warehouse whether incremental
models exist), so it needs the same `IOC_DBT_*` variables `ioc dbt` sets; this wrapper sets
them from the configured warehouse and runs sqlfluff in dbt_project/:

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
