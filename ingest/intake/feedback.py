"""Answers to the staff, in Vietnamese, beside their file: `_phan_hoi/<file>.loi.txt` for a
refused file (every problem: where, what is wrong, what to do) and `<file>.da-nhan.txt` for
an accepted one. Pure text building (`report_text`) apart from `write_feedback`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.intake.contracts import load_contracts
from ingest.intake.periods import LOCAL_TZ
from ingest.intake.reference import unit_label
from ingest.intake.result import FileResult

if TYPE_CHECKING:
    from collections.abc import Callable

FEEDBACK_DIR = "_phan_hoi"
REFUSED_SUFFIX = ".loi.txt"
ACCEPTED_SUFFIX = ".da-nhan.txt"


def form_label(form: str | None) -> str:
    """`KTXH-01 - Báo cáo tình hình thực hiện chỉ tiêu kinh tế - xã hội`, from the contract."""
    if not form:
        return "(không nhận ra)"
    contract = load_contracts().get(form)
    return f"{form} - {contract.title}" if contract else form


def _period_text(period: str | None) -> str:
    if not period:
        return "(chưa xác định)"
    if "HK" in period:
        year = int(period[:4])
        half = "I" if period.endswith("1") else "II"
        return f"học kỳ {half} năm học {year}-{year + 1}"
    return f"tháng {int(period[5:7])} năm {period[:4]}"


def _when(ts: datetime | None) -> str:
    return ts.astimezone(LOCAL_TZ).strftime("%H:%M ngày %d/%m/%Y") if ts else ""


def _problem_lines(problems: list[dict], numbered: bool = True) -> list[str]:
    lines = []
    for i, p in enumerate(problems, 1):
        where = ", ".join(x for x in (
            f'Trang tính "{p["sheet"]}"' if p.get("sheet") else "",
            f"dòng {p['row']}" if p.get("row") else "",
            f"cột {p['column']}" if p.get("column") else "",
            p.get("key") or "",
        ) if x)
        head = f"{i}. " if numbered else "- "
        lines.append(head + (f"{where}: " if where else "") + p["message"])
        if p.get("value") not in (None, ""):
            lines.append(f"   Giá trị trong tệp: {p['value']}")
        if p.get("hint"):
            lines.append(f"   Cách sửa: {p['hint']}")
    return lines


def report_text(result: FileResult) -> str:
    """The text of the answer to one file."""
    name = Path(result.file).name
    head = [
        f"Tệp: {name}",
        f"Biểu mẫu: {form_label(result.form)}",
        f"Đơn vị: {unit_label(result.org_unit_id)}",
        f"Kỳ báo cáo: {_period_text(result.period)}",
        f"Thời điểm tiếp nhận: {_when(result.arrived_at)}",
        "",
    ]
    if result.status == "rejected":
        body = [
            "KẾT QUẢ: TỆP BỊ TỪ CHỐI. Số liệu trong tệp CHƯA được đưa vào hệ thống.",
            "",
            f"Tệp có {len(result.errors)} lỗi cần sửa:",
            "",
            *_problem_lines(result.errors),
            "",
            "Sau khi sửa tất cả các lỗi trên, lưu tệp và chép lại vào thư mục nộp báo cáo của "
            "đơn vị. Không cần xóa tệp cũ.",
        ]
    elif result.status == "duplicate":
        body = [
            "KẾT QUẢ: Tệp này giống hệt một tệp đã nộp trước đó nên không nạp lại.",
            "Nếu muốn sửa số liệu, hãy sửa trong tệp rồi nộp lại.",
        ]
    else:
        later = bool(result.version and result.version > 1)
        version = f" (lần nộp thứ {result.version})" if later else ""
        body = [
            f"KẾT QUẢ: ĐÃ TIẾP NHẬN{version}. Đã nạp {len(result.records)} dòng số liệu.",
        ]
        if result.is_current is False:
            body.append("Lưu ý: một bản nộp sau bản này cho cùng kỳ báo cáo đang có hiệu lực.")
        elif result.resent_version:
            body.append(f"Bản này giống hệt bản nộp lần thứ {result.resent_version}; từ nay "
                        "bản này là bản có hiệu lực cho kỳ báo cáo.")
        elif later:
            body.append("Bản này thay thế bản đã nộp trước cho cùng kỳ báo cáo.")
    if result.warnings:
        body += ["", "Lưu ý (không làm tệp bị từ chối, nhưng nên kiểm tra):", "",
                 *_problem_lines(result.warnings, numbered=False)]
    return "\n".join(head + body) + "\n"


class UnsafeFolder(OSError):
    """A folder on the way to the answer is a symbolic link (or not a folder)."""


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def open_below(fd: int, parts: tuple[str, ...], open_part: Callable[[str, int], int]) -> int:
    """A descriptor of the folder `parts…` below the folder `fd`, each part opened by
    `open_part(name, parent_fd)`. Takes `fd` over: each parent is closed on the way down,
    and whatever is open is closed on an error (the upload page walks its folders so too)."""
    try:
        for part in parts:
            child = open_part(part, fd)
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def _open_folder(base: Path, parts: tuple[str, ...]) -> int:
    """A descriptor of `base/parts…`, each part opened without following a link (and created
    when missing), so nothing planted in the unit's folder can redirect the answer."""
    def open_part(part: str, fd: int) -> int:
        try:
            return os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o775, dir_fd=fd)
            return os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise UnsafeFolder(exc.errno, "not a plain folder (a link?)",
                                   str(base.joinpath(*parts))) from exc
            raise

    return open_below(os.open(base, _DIR_FLAGS), parts, open_part)


def _folder_parts(path: Path, intake_root: Path | None) -> tuple[Path, tuple[str, ...]]:
    """The trusted base (the intake root, or the folder the file was given in) and the
    folders below it that lead to the answers."""
    if intake_root is not None:
        try:
            rel = path.relative_to(intake_root)
            if len(rel.parts) > 1:
                return intake_root, (rel.parts[0], FEEDBACK_DIR)
        except ValueError:
            pass
    return path.parent, (FEEDBACK_DIR,)


def write_feedback(result: FileResult, intake_root: Path | None) -> Path:
    """Write the answer file (replacing an older answer to a file of the same name).

    Written without following links anywhere below the intake root: a `_phan_hoi` that is a
    link, or a link planted under the answer's name or a temporary name, cannot make the
    service write outside the unit's folder (a link in the way is replaced, not followed).
    """
    path = Path(result.file)
    base, parts = _folder_parts(path, intake_root)
    suffix = REFUSED_SUFFIX if result.status == "rejected" else ACCEPTED_SUFFIX
    stale = ACCEPTED_SUFFIX if result.status == "rejected" else REFUSED_SUFFIX
    name = answer_name(path.name, suffix)
    text = report_text(result).replace("\n", "\r\n").encode("utf-8-sig")
    fd = _open_folder(base, parts)
    try:
        tmp = f".phan-hoi-{secrets.token_hex(8)}.tmp"  # unguessable: nothing can be planted
        out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                      0o664, dir_fd=fd)
        try:
            with os.fdopen(out, "wb") as fh:
                fh.write(text)
            os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException:  # disk full, read-only: no half-written answer left behind
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=fd)
            raise
        if result.status != "duplicate":
            with contextlib.suppress(FileNotFoundError):
                os.unlink(answer_name(path.name, stale), dir_fd=fd)
    finally:
        os.close(fd)
    return base.joinpath(*parts, name)


_NAME_MAX = 255 - len(".") - len(".tmp")  # bytes (kept from when the temp name derived from it)


def answer_name(name: str, suffix: str) -> str:
    """`<file name><suffix>`, shortened (with a hash of the full name) when it would not fit
    in a file name: a 255-byte report name would otherwise get no answer at all."""
    full = f"{name}{suffix}"
    if len(full.encode()) <= _NAME_MAX:
        return full
    tag = "~" + hashlib.sha256(name.encode()).hexdigest()[:8]
    room = _NAME_MAX - len(suffix.encode()) - len(tag)
    short = name.encode()[:room].decode("utf-8", "ignore")
    return f"{short}{tag}{suffix}"
