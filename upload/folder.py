"""The unit's intake folder, as the upload page uses it: put a file in, list what is there,
read the answers the intake wrote.

Everything the page stores goes into `<intake root>/<org_unit_id>/` and nowhere else:
- the report itself, under the name the person gave it (sanitised: a plain file name, no
  path, no control or direction characters, no character Windows forbids, a leading dot or
  formula sign replaced), never over an existing file: `Báo cáo (2).xlsx` when the name is
  taken by a file or by the answers to an earlier one. It is written under a temporary name
  the watcher ignores (`.nop-<random>.part`), synced, then linked to its name (which fails
  rather than replaces) — the watcher only ever sees a complete file;
- a line in the unit's upload ledger `.nop-bao-cao.jsonl` (hidden: the intake ignores it):
  who sent which file when, so that a unit with several people keeps one history;
- the moment the upload ended, in the intake root's arrivals sidecar `_arrivals.csv`, written
  as the file appears (the watcher takes a file only after two looks seconds apart): a report
  uploaded at 23:59:59 on its due day is on time although the watcher first sees it a second
  or two later.

The answers are read from `<unit>/_phan_hoi/` exactly as the folder's users read them, every
folder and file opened without following links (a link planted in a shared folder cannot
make the page show a file from elsewhere).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import stat
import threading
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from ingest.intake.engine import is_ignored
from ingest.intake.feedback import (
    ACCEPTED_SUFFIX,
    FEEDBACK_DIR,
    REFUSED_SUFFIX,
    answer_name,
    open_below,
)
from ingest.intake.readers import ACCEPTED_EXTENSIONS
from ingest.intake.watch import ARRIVALS_SIDECAR
from ioc.settings import LOCAL_TZ

LEDGER = ".nop-bao-cao.jsonl"
MAX_NAME_BYTES = 150  # the answer's name adds its suffix; a shared drive's paths stay short
MAX_ANSWER_BYTES = 2 * 1024 * 1024
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
             *(f"lpt{i}" for i in range(1, 10))}
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW
_lock = threading.Lock()  # one writer of names, ledgers and the sidecar in this process


class NameRefused(ValueError):
    """The file name cannot be taken (no name, or a type the intake does not read)."""


def safe_name(raw: str) -> str:
    """A plain file name made of what the browser sent (`C:\\Users\\…\\Báo cáo T10.xlsx` →
    `Báo cáo T10.xlsx`). Raises NameRefused when nothing is left or the extension is not one
    the intake reads (.xlsx, .xlsm, .xls, .csv)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]  # a path from an old browser: its last part
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs",
                                                                        "Co", "Cn"))
    name = _WINDOWS_FORBIDDEN.sub("_", name)
    name = " ".join(name.split())  # no tabs, runs of spaces or spaces at either end
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ext.lower()
    if f".{ext}" not in ACCEPTED_EXTENSIONS:
        shown = f".{ext}" if ext else "(không có phần mở rộng)"
        raise NameRefused(f"Loại tệp {shown} không được tiếp nhận. Chỉ nhận tệp Excel (.xlsx, "
                          ".xlsm, .xls) hoặc .csv.")
    stem = stem.strip(" .")
    while stem[:1] in ("=", "+", "-", "@", "~", "$", "."):  # formula signs, Office temp marks
        stem = "_" + stem[1:]
    if not stem:
        stem = "bao-cao"
    if stem.lower() in _RESERVED:
        stem = f"_{stem}"
    encoded = stem.encode()
    if len(encoded) > MAX_NAME_BYTES:
        stem = encoded[:MAX_NAME_BYTES].decode("utf-8", "ignore").rstrip(" .")
    return f"{stem}.{ext}"


def _numbered(name: str, n: int) -> str:
    stem, _, ext = name.rpartition(".")
    return f"{stem} ({n}).{ext}"


@dataclass(frozen=True)
class Delivered:
    name: str
    path: Path
    arrived_at: datetime


def _open_unit(root: Path, unit_id: str, create: bool = False) -> int:
    """A descriptor of `<root>/<unit_id>`, opened without following a link."""
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if create:
            with contextlib.suppress(FileExistsError):
                os.mkdir(unit_id, 0o775, dir_fd=root_fd)
        return os.open(unit_id, _DIR, dir_fd=root_fd)
    finally:
        os.close(root_fd)


def _exists(name: str, dir_fd: int) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        return True
    except FileNotFoundError:
        return False


def _taken(name: str, unit_fd: int) -> bool:
    """The name is used by a file, or by an answer the intake wrote to an earlier file of
    that name (its answer would be taken for this one's)."""
    if _exists(name, unit_fd):
        return True
    try:
        answers = os.open(FEEDBACK_DIR, _DIR, dir_fd=unit_fd)
    except FileNotFoundError:
        return False
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            return True  # something odd there: never reuse
        raise
    try:
        return any(_exists(answer_name(name, s), answers)
                   for s in (ACCEPTED_SUFFIX, REFUSED_SUFFIX))
    finally:
        os.close(answers)


def deliver(root: Path, unit_id: str, name: str, data: bytes, *, user: str,
            now: datetime | None = None) -> Delivered:
    """Put `data` into the unit's intake folder under `name` (or `name (2)`, …), atomically,
    never replacing a file; record the sender in the ledger and the arrival in the sidecar."""
    root.mkdir(parents=True, exist_ok=True)
    arrived = (now or datetime.now(LOCAL_TZ)).astimezone(LOCAL_TZ)
    unit_fd = _open_unit(root, unit_id, create=True)
    try:
        tmp = f".nop-{secrets.token_hex(8)}.part"  # hidden and .part: the watcher ignores it
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o664, dir_fd=unit_fd)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            with _lock:
                final = _link_free_name(tmp, name, unit_fd, root, unit_id, arrived)
                _append(unit_fd, LEDGER, json.dumps(
                    {"file": final, "user": user, "at": arrived.isoformat(),
                     "bytes": len(data)}, ensure_ascii=False) + "\n")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=unit_fd)
        os.fsync(unit_fd)
    finally:
        os.close(unit_fd)
    return Delivered(final, root / unit_id / final, arrived)


def _link_free_name(tmp: str, name: str, unit_fd: int, root: Path, unit_id: str,
                    arrived: datetime) -> str:
    for n in range(1, 1000):
        candidate = name if n == 1 else _numbered(name, n)
        if _taken(candidate, unit_fd):
            continue
        try:
            os.link(tmp, candidate, src_dir_fd=unit_fd, dst_dir_fd=unit_fd,
                    follow_symlinks=False)
        except FileExistsError:  # taken meanwhile (the shared folder): the next number
            continue
        # the watcher takes a file after two looks seconds apart: this line is there by then
        _sidecar(root, f"{unit_id}/{candidate}", arrived)
        return candidate
    raise NameRefused("Đã có quá nhiều tệp cùng tên; hãy đổi tên tệp rồi nộp lại.")


def _append(dir_fd: int, name: str, line: str) -> None:
    fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o664, dir_fd=dir_fd)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(line)


def _sidecar(root: Path, rel: str, arrived: datetime) -> None:
    """`<unit>/<name>,<ISO time>` appended to the intake root's `_arrivals.csv` (the names
    are sanitised: no comma-quoting issue beyond what `_csv_field` handles)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        new = not _exists(ARRIVALS_SIDECAR, fd)
        _append(fd, ARRIVALS_SIDECAR, ("file,arrived_at\n" if new else "")
                + f"{_csv_field(rel)},{arrived.isoformat()}\n")
    finally:
        os.close(fd)


def _csv_field(text: str) -> str:
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n') else text


# --- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    kind: str  # accepted | refused
    text: str
    written_at: datetime

    @property
    def summary(self) -> str:
        """The answer's `KẾT QUẢ: …` line (what happened, in the intake's own words)."""
        for line in self.text.splitlines():
            if line.startswith("KẾT QUẢ:"):
                return line.removeprefix("KẾT QUẢ:").strip()
        return "Đã có phản hồi"

    @property
    def status(self) -> str:
        """accepted | refused | duplicate (for colours and counts)."""
        if self.kind == "refused":
            return "refused"
        return "duplicate" if "giống hệt một tệp đã nộp" in self.summary else "accepted"


@dataclass(frozen=True)
class Entry:
    rel: str  # path inside the unit folder, `/`-separated
    size: int
    arrived_at: datetime  # when it came into the folder (ctime)
    answer: Answer | None
    sender: str | None  # the page user who uploaded it (None: the shared folder)


def valid_rel(rel: str) -> bool:
    """A path inside a unit folder as the page links it: plain names, none hidden, no
    answers folder, nothing the intake ignores."""
    parts = PurePosixPath(rel).parts
    return bool(parts) and "\\" not in rel and all(
        p not in (".", "..") and not p.startswith(".") and p == p.strip() and
        not _WINDOWS_FORBIDDEN.search(p) for p in parts) and not is_ignored(Path(rel))


def _open_rel_dir(unit_fd: int, parts: tuple[str, ...]) -> int:
    return open_below(os.dup(unit_fd), parts, lambda part, fd: os.open(part, _DIR, dir_fd=fd))


def _stat_file(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def _read_answer(unit_fd: int, name: str, not_before: float) -> Answer | None:
    """The newest answer to the file `name`, unless older than the file itself (an answer
    to an earlier file of that name)."""
    try:
        answers = os.open(FEEDBACK_DIR, _DIR, dir_fd=unit_fd)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None
        raise
    try:
        found = []
        for kind, suffix in (("accepted", ACCEPTED_SUFFIX), ("refused", REFUSED_SUFFIX)):
            try:
                fd = os.open(answer_name(name, suffix),
                             os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=answers)
            except (FileNotFoundError, OSError):
                continue
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode) or st.st_mtime + 1 < not_before:
                    continue
                raw = fh.read(MAX_ANSWER_BYTES)
            text = raw.decode("utf-8-sig", "replace").replace("\r\n", "\n")
            found.append(Answer(kind, text, datetime.fromtimestamp(st.st_mtime, LOCAL_TZ)))
        return max(found, key=lambda a: a.written_at) if found else None
    finally:
        os.close(answers)


def senders(root: Path, unit_id: str) -> dict[str, str]:
    """File name → the page user who uploaded it, from the unit's ledger."""
    try:
        unit_fd = _open_unit(root, unit_id)
    except OSError:
        return {}
    try:
        fd = os.open(LEDGER, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=unit_fd)
    except OSError:
        return {}
    finally:
        os.close(unit_fd)
    out = {}
    with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                item = json.loads(line)
                out[str(item["file"])] = str(item["user"])
    return out


def entry(root: Path, unit_id: str, rel: str) -> Entry | None:
    """One file of the unit's folder with its answer, or None (no such plain file)."""
    if not valid_rel(rel):
        return None
    parts = PurePosixPath(rel).parts
    try:
        unit_fd = _open_unit(root, unit_id)
    except OSError:
        return None
    try:
        folder = _open_rel_dir(unit_fd, parts[:-1])
    except OSError:
        os.close(unit_fd)
        return None
    try:
        st = _stat_file(folder, parts[-1])
        if st is None:
            return None
        answer = _read_answer(unit_fd, parts[-1], st.st_ctime)
        return Entry(rel, st.st_size, datetime.fromtimestamp(st.st_ctime, LOCAL_TZ), answer,
                     senders(root, unit_id).get(rel))
    finally:
        os.close(folder)
        os.close(unit_fd)


def history(root: Path, unit_id: str) -> list[Entry]:
    """Every report file of the unit's folder (the page's and the shared folder's alike,
    sub-folders included), newest first, each with its answer and sender."""
    try:
        unit_fd = _open_unit(root, unit_id)
    except OSError:
        return []
    out: list[Entry] = []
    sent = senders(root, unit_id)

    def walk(fd: int, prefix: tuple[str, ...], depth: int) -> None:
        for item in os.scandir(fd):
            rel = "/".join((*prefix, item.name))
            if not valid_rel(rel):
                continue
            st = item.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode) and depth < 3:
                with contextlib.suppress(OSError):
                    child = os.open(item.name, _DIR, dir_fd=fd)
                    try:
                        walk(child, (*prefix, item.name), depth + 1)
                    finally:
                        os.close(child)
            elif stat.S_ISREG(st.st_mode):
                answer = _read_answer(unit_fd, item.name, st.st_ctime)
                out.append(Entry(rel, st.st_size, datetime.fromtimestamp(st.st_ctime, LOCAL_TZ),
                                 answer, sent.get(rel)))

    try:
        walk(unit_fd, (), 0)
    finally:
        os.close(unit_fd)
    out.sort(key=lambda e: (e.arrived_at, e.rel), reverse=True)
    return out
