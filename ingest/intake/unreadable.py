"""A file the intake cannot open (shared by `readers` and `zipguard`, which guards the readers
against zip bombs and huge sheets; issue 20: it hid a loop between the two)."""

from __future__ import annotations


class Unreadable(Exception):
    """The container cannot be opened; `reason` is for the staff, `code` for programs."""

    def __init__(self, code: str, reason: str, hint: str | None = None):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.hint = hint


def corrupt() -> Unreadable:
    return Unreadable(
        "corrupt_file",
        "Tệp bị hỏng hoặc không phải tệp Excel/CSV hợp lệ, không đọc được.",
        "Mở tệp trên máy của anh/chị để kiểm tra, lưu lại rồi gửi lại.",
    )
