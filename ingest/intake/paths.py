"""Where a file sits, judged before its bytes: links, folders that are no unit's, odd paths.

The intake folders are a shared drive; what lands there is not always a plain file in a
unit's folder:
- a symbolic link would make the platform (running with the service's rights) read, archive
  and quote back a file from anywhere on the server: links are never followed, the file is
  refused with a reason;
- a folder named like a unit but not quite (`xа-b` with a Cyrillic `а` for `xa-b`) would let
  a report be filed under the unit its content names from a folder that unit does not own:
  a file under the intake root must sit in a folder that is exactly an `org_unit_id`;
- a path given as `intake/xa-a/../xa-b/f.xlsx` is read where it really is (normalised
  lexically, without following links).
"""

from __future__ import annotations

import difflib
import hashlib
import os
import unicodedata
from pathlib import Path

from ingest.intake.problems import Problem
from ingest.intake.reference import org_units


def normalise(raw: str | os.PathLike[str]) -> Path:
    """Absolute, with `.` and `..` resolved lexically (links are not followed)."""
    return Path(os.path.normpath(Path(raw).absolute()))


def is_link(path: Path, intake_root: Path | None = None) -> bool:
    """True when the file, or a folder between the intake root and it, is a symbolic link."""
    if path.is_symlink():
        return True
    if intake_root is None:
        return False
    try:
        rel = path.relative_to(intake_root)
    except ValueError:
        return False
    here = intake_root
    for part in rel.parts[:-1]:
        here = here / part
        if here.is_symlink():
            return True
    return False


def fingerprint(path: Path) -> str:
    """SHA-256 of the file's bytes, or of the link itself (never of what it points to)."""
    if path.is_symlink():
        return hashlib.sha256(b"symlink:" + os.fsencode(os.readlink(path))).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def link_problem() -> Problem:
    return Problem(
        "symlink",
        "Tệp này là một liên kết (symbolic link, lối tắt) trỏ tới nơi khác, không phải tệp "
        "báo cáo thật; hệ thống không mở liên kết.",
        hint="Chép chính tệp báo cáo vào thư mục của đơn vị (không tạo lối tắt hay liên kết) "
             "rồi gửi lại.")


def _odd_characters(name: str) -> list[str]:
    return [f'"{ch}" ({unicodedata.name(ch, hex(ord(ch)))})' for ch in dict.fromkeys(name)
            if not (ch.isascii() and (ch.isalnum() or ch in "-_"))]


def folder_problem(path: Path, intake_root: Path | None) -> Problem | None:
    """A refusal when the file is under the intake root but not in a unit's own folder."""
    if intake_root is None:
        return None
    try:
        rel = path.relative_to(intake_root)
    except ValueError:
        return None
    if len(rel.parts) < 2:
        return None
    folder = rel.parts[0]
    units = org_units()
    if folder in units:
        return None
    odd = _odd_characters(folder)
    message = f'Tệp nằm trong thư mục "{folder}", không phải thư mục của đơn vị nào'
    message += (f"; tên thư mục có ký tự lạ: {', '.join(odd)}." if odd else ".")
    skeleton = unicodedata.normalize("NFKD", folder).encode("ascii", "ignore").decode()
    close = difflib.get_close_matches(skeleton or folder, list(units), n=1, cutoff=0.8)
    hint = "Chép tệp vào đúng thư mục của đơn vị mình"
    hint += f' (có phải thư mục "{close[0]}"?)' if close else ""
    return Problem("unknown_folder", message, hint=hint + " rồi gửi lại.", value=folder)
