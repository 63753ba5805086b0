"""Recalculate workbooks as Excel does when it saves them: LibreOffice Calc, headless.

A workbook written or edited by a program (openpyxl) holds formulas without their results;
Excel computes them when a person saves the file, and the intake reads those cached results
(it never evaluates a formula). The tests do what Excel would: open each file in
LibreOffice with "recalculate on load: always" and save it again as .xlsx.

`make office` installs Debian's `libreoffice-calc-nogui` (as root; `make test` runs it). The
profile LibreOffice needs is made fresh in a temporary folder for every call.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

# "Recalculation on file load: always" for Excel 2007+ and ODF files (by default LibreOffice
# keeps the cached results a file carries, which is not what Excel does when it saves).
_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    return shutil.which("soffice") or ("/usr/bin/soffice" if Path("/usr/bin/soffice").exists()
                                       else None)


def require_office() -> str:
    found = soffice()
    if found is None:
        pytest.skip("LibreOffice Calc is not installed (`make office` installs Debian's "
                    "libreoffice-calc-nogui as root)")
    return found


def recalculate(files: Sequence[Path], out_dir: Path, timeout_s: float = 300) -> list[Path]:
    """Each file opened, recalculated and saved as `.xlsx` into `out_dir` (same names)."""
    binary = require_office()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_PROFILE, encoding="utf-8")
        env = {"PATH": "/usr/bin:/bin", "HOME": profile, "LANG": "C.UTF-8",
               "TMPDIR": os.environ.get("TMPDIR", "/tmp")}
        proc = subprocess.run(
            [binary, "--headless", "--norestore", "--nolockcheck", "--nodefault",
             f"-env:UserInstallation={Path(profile).as_uri()}",
             "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out_dir),
             *[str(f) for f in files]],
            env=env, capture_output=True, text=True, timeout=timeout_s)
    out = [out_dir / (Path(f).stem + ".xlsx") for f in files]
    missing = [p.name for p in out if not p.exists()]
    assert not missing, f"LibreOffice did not write {missing}: {proc.stdout}{proc.stderr}"
    return out
