"""Regenerate `ktxh-01-password.xlsx`: a KTXH-01 workbook encrypted with the password "1234".

Encrypted OOXML is an OLE compound file holding `EncryptionInfo` and `EncryptedPackage`;
msoffcrypto-tool (not a project dependency) writes one: `uv pip install --target
/tmp/msoff-lib msoffcrypto-tool`, then
`PYTHONPATH=/tmp/msoff-lib:. python tests/intake/data/make_encrypted.py`.
"""

import io
from pathlib import Path

from msoffcrypto.format.ooxml import OOXMLFile

from tests.intake.builders import ktxh_sheet, write_xlsx

OUT = Path(__file__).with_name("ktxh-01-password.xlsx")


def main(tmp: Path = Path("/tmp/plain-ktxh.xlsx")) -> None:
    write_xlsx(tmp, ktxh_sheet())
    out = io.BytesIO()
    with tmp.open("rb") as fh:
        OOXMLFile(fh).encrypt("1234", out)
    OUT.write_bytes(out.getvalue())


if __name__ == "__main__":
    main()
