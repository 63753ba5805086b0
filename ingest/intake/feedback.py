"""Answers to the staff, in Vietnamese, beside their file: `_phan_hoi/<file>.loi.txt` for a
refused file (every problem: where, what is wrong, what to do) and `<file>.da-nhan.txt` for
an accepted one. Pure text building (`report_text`) apart from `write_feedback`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.intake.periods import LOCAL_TZ

if TYPE_CHECKING:
    from ingest.intake.engine import FileResult

FEEDBACK_DIR = "_phan_hoi"
REFUSED_SUFFIX = ".loi.txt"
ACCEPTED_SUFFIX = ".da-nhan.txt"
FORM_NAMES = {
    "KTXH-01": "Báo cáo tình hình thực hiện chỉ tiêu kinh tế - xã hội",
    "YT-01": "Báo cáo hoạt động trạm y tế",
    "HCC-06": "Tình hình, kết quả giải quyết thủ tục hành chính",
    "GD-01": "Báo cáo thống kê trường học",
}


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
        f"Biểu mẫu: {result.form} - {FORM_NAMES.get(result.form or '', '')}" if result.form
        else "Biểu mẫu: (không nhận ra)",
        f"Đơn vị: {result.org_unit_id or '(chưa xác định)'}",
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
        if result.version and result.version > 1:
            body.append("Bản này thay thế bản đã nộp trước cho cùng kỳ báo cáo.")
    if result.warnings:
        body += ["", "Lưu ý (không làm tệp bị từ chối, nhưng nên kiểm tra):", "",
                 *_problem_lines(result.warnings, numbered=False)]
    return "\n".join(head + body) + "\n"


def feedback_dir(path: Path, intake_root: Path | None, org_unit_id: str | None) -> Path:
    """`<intake root>/<unit folder>/_phan_hoi`, else `_phan_hoi` beside the file."""
    if intake_root is not None:
        try:
            rel = path.relative_to(intake_root)
            if len(rel.parts) > 1:
                return intake_root / rel.parts[0] / FEEDBACK_DIR
        except ValueError:
            pass
    return path.parent / FEEDBACK_DIR


def write_feedback(result: FileResult, intake_root: Path | None) -> Path:
    """Write the answer file (replacing an older answer to a file of the same name)."""
    path = Path(result.file)
    folder = feedback_dir(path, intake_root, result.org_unit_id)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = REFUSED_SUFFIX if result.status == "rejected" else ACCEPTED_SUFFIX
    stale = ACCEPTED_SUFFIX if result.status == "rejected" else REFUSED_SUFFIX
    target = folder / answer_name(path.name, suffix)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_text(report_text(result), encoding="utf-8-sig", newline="\r\n")
        tmp.replace(target)
    except BaseException:  # disk full, read-only: no half-written answer left behind
        tmp.unlink(missing_ok=True)
        raise
    if result.status != "duplicate":
        (folder / answer_name(path.name, stale)).unlink(missing_ok=True)
    return target


_NAME_MAX = 255 - len(".") - len(".tmp")  # bytes; the temporary answer is ".<name>.tmp"


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
