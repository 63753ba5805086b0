"""Issue 20: the house's floors (docs/architecture.md "Floors"), enforced by import-linter's
contracts in pyproject.toml: the command line on top, settings and the warehouse at the bottom,
no import upward, no loops, production never importing the demo world, bench or tests.

`make lint` runs the same `lint-imports`; this test makes CI enforce it too. Cheap: a second.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
CONFIG = tomllib.loads(PYPROJECT)["tool"]["importlinter"]


def _lint(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=env)


def test_the_floors_hold() -> None:
    proc = _lint(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    contracts = {c["id"] for c in CONFIG["contracts"]}
    assert contracts == {"floors", "production-only", "no-loops"}
    assert f"Contracts: {len(contracts)} kept, 0 broken." in proc.stdout


def test_every_python_package_of_the_repository_is_under_contract() -> None:
    """A new top-level package cannot escape the floors by not being listed."""
    found = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    found |= {p.parent.name for p in (ROOT / "superset").glob("*/__init__.py")}
    assert found == set(CONFIG["root_packages"])


def _package(root: Path, name: str, modules: dict[str, str]) -> None:
    (root / name).mkdir()
    (root / name / "__init__.py").write_text("")
    for module, text in modules.items():
        (root / name / f"{module}.py").write_text(text)


def test_the_contracts_catch_an_upward_import_a_demo_import_and_a_loop(tmp_path: Path) -> None:
    """The same contracts over a miniature house with one fault of each kind: each is named."""
    for name in CONFIG["root_packages"]:
        _package(tmp_path, name, {"base": ""})
    (tmp_path / "ioc" / "settings.py").write_text("import cli.base\n")  # ground -> roof
    (tmp_path / "ingest" / "bench_of_sorts.py").write_text("import demo.base\n")  # -> demo
    (tmp_path / "backup" / "a.py").write_text("from backup import b\n")  # a loop
    (tmp_path / "backup" / "b.py").write_text("from backup import a\n")
    (tmp_path / "pyproject.toml").write_text(PYPROJECT[PYPROJECT.index("[tool.importlinter]"):])
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = _lint(tmp_path, env)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "Contracts: 0 kept, 3 broken." in out
    assert "ioc is not allowed to import cli" in out
    assert "ingest is not allowed to import demo" in out
    assert "No cycles are allowed in backup." in out


def test_our_superset_package_never_shadows_apache_superset() -> None:
    """In Superset's own environment, started from the repository root as `make up` starts it,
    `superset` is Apache Superset, not the repository's `superset/` folder; our side's package
    is `ioc_superset`, which that environment neither has nor needs."""
    probe = ("import importlib.util as u; s = u.find_spec('superset'); "
             "print(s.origin); print(u.find_spec('ioc_superset'))")
    proc = subprocess.run([str(ROOT / ".venv-superset" / "bin" / "python"), "-c", probe],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    origin, ours = proc.stdout.splitlines()
    assert Path(origin).parts[-3:] == ("site-packages", "superset", "__init__.py"), origin
    assert ".venv-superset" in Path(origin).parts
    assert ours == "None"
