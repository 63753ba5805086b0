"""Problems found in a file, as values: every check adds to a list instead of raising.

Each problem names where it is (sheet, Excel row number, column letter and header) and the
value found, with a message in Vietnamese for the commune staff who sent the file and, where
it helps, what to do about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
# what a problem says in the manifest and the answers, in this order
JSON_FIELDS = ("sheet", "row", "column", "value", "message", "hint", "code", "key")


@dataclass(frozen=True)
class Problem:
    """One finding. `code` is a stable English key for programs; `message` is for people."""

    code: str
    message: str
    severity: str = ERROR
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    hint: str | None = None
    key: str | None = None  # the row as staff know it: "Lĩnh vực: Đất đai"

    def to_json(self) -> dict[str, Any]:
        """Where, what and why, for the manifest and the answers (severity: the list it is in)."""
        return {name: getattr(self, name) for name in JSON_FIELDS}

    def where(self) -> str:
        """`Trang tính "KTXH", dòng 12, cột F (Thực hiện tháng)` — for reports to staff."""
        parts = []
        if self.sheet:
            parts.append(f'trang tính "{self.sheet}"')
        if self.row:
            parts.append(f"dòng {self.row}")
        if self.column:
            parts.append(f"cột {self.column}")
        return ", ".join(parts)


@dataclass
class Problems:
    """The growing list of a file's problems."""

    items: list[Problem] = field(default_factory=list)

    def error(self, code: str, message: str, **where: Any) -> None:
        self.items.append(Problem(code, message, ERROR, **where))

    def warn(self, code: str, message: str, **where: Any) -> None:
        self.items.append(Problem(code, message, WARNING, **where))

    def extend(self, other: Problems | list[Problem]) -> None:
        self.items.extend(other.items if isinstance(other, Problems) else other)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == WARNING]
