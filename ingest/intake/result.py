"""What happened to one file of the intake (the engine's result, the answer's input)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass
class FileResult:
    """What happened to one file; `to_json()` is the CLI's and Dagster's view of it."""

    file: str
    status: str  # accepted | rejected | duplicate
    form: str | None = None
    org_unit_id: str | None = None
    period: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    sha256: str | None = None
    size_bytes: int | None = None
    file_id: int | None = None
    version: int | None = None
    duplicate_of: int | None = None
    archive_path: str | None = None
    arrived_at: datetime | None = None
    feedback_path: str | None = None
    is_current: bool | None = None  # an accepted version that is not the newest arrival: no
    resent_version: int | None = None  # the earlier version whose bytes were sent again

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "status": self.status,
            "form": self.form,
            "org_unit_id": self.org_unit_id,
            "period": self.period,
            "errors": self.errors,
            "warnings": self.warnings,
            "records": [{k: _jsonable(v) for k, v in r.items()} for r in self.records],
            "sha256": self.sha256,
            "file_id": self.file_id,
            "version": self.version,
            "duplicate_of": self.duplicate_of,
            "arrived_at": self.arrived_at.isoformat() if self.arrived_at else None,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
