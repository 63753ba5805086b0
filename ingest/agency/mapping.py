"""Field and unit-code mapping: an API record → a raw_agency row and a restricted row.

The mapping lives in YAML (`ingest/agency/mapping.yaml`, or the file `IOC_AGENCY_MAPPING`
names) so a deployment maps its platform without code changes. Column types are not in the
YAML: they are read from the warehouse tables when a run starts (`bind`), so the tables in
`schema.py` stay the single definition of what a column holds.

The split is an allowlist: only fields named under `fields` reach raw_agency, only fields
named under `personal` reach restricted, anything else is dropped and only its *name* is
reported. Values never appear in exceptions raised here (`RecordProblem` names the field and
the kind of problem).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from ingest.agency.errors import ConfigError
from ingest.schemas import CatalogueError, MappingSpec, check

DEFAULT_MAPPING = Path(__file__).with_name("mapping.yaml")
VN_TZ = timezone(timedelta(hours=7))
"""Times without an offset are read as Vietnam time (the contract always sends one)."""

PERSONAL_MODES = ("store", "hash", "drop")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RecordProblem(ValueError):
    """A record that cannot be stored as is; names the field, never its value."""

    def __init__(self, api_field: str, problem: str) -> None:
        self.api_field = api_field
        self.problem = problem
        super().__init__(f"{api_field}: {problem}")


@dataclass(frozen=True)
class ResourceMapping:
    """How one resource's records map onto its tables (as written in the YAML)."""

    resource: str
    path: str
    table: str
    key: str
    cursor: str
    fields: dict[str, str]
    personal: dict[str, str]
    unit_code_columns: tuple[str, ...] = ()
    free_text: frozenset[str] = frozenset()
    """Personal fields that are free text: never hashed (dropped in `hash` mode)."""

    @property
    def key_column(self) -> str:
        return self.fields[self.key]

    @property
    def cursor_column(self) -> str:
        return self.fields[self.cursor]

    @property
    def known_top_level(self) -> frozenset[str]:
        """Top-level API fields this mapping reads (for reporting unmapped ones)."""
        return frozenset(self.fields) | {name.split(".", 1)[0] for name in self.personal}


@dataclass(frozen=True)
class Mapping:
    """The whole mapping file: request/response field names, unit codes, resources."""

    request: dict[str, str]
    response: dict[str, str]
    unit_codes: dict[str, str]
    resources: dict[str, ResourceMapping]
    source: str = ""

    def resource(self, name: str) -> ResourceMapping:
        try:
            return self.resources[name]
        except KeyError:
            raise ConfigError(
                f"Không có tài nguyên '{name}' trong bảng ánh xạ {self.source} "
                f"(unknown resource; known: {', '.join(self.resources)})") from None


def load_mapping(path: Path | str | None = None) -> Mapping:
    """Read and check a mapping file (default: the one beside this module)."""
    path = Path(path) if path else DEFAULT_MAPPING
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Không đọc được tệp ánh xạ {path} ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"Tệp ánh xạ {path} không phải YAML hợp lệ ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("resources"), dict):
        raise ConfigError(f"Tệp ánh xạ {path}: thiếu mục 'resources' (no resources section)")
    try:  # unknown or misspelt keys and wrong values, named with their key (ingest/schemas.py)
        check(MappingSpec, doc, path)
    except CatalogueError as exc:
        raise ConfigError(f"Tệp ánh xạ {path} sai dạng:\n{exc}") from None
    request = {"since": "capNhatTu", "page": "trang", "page_size": "soBanGhi",
               **(doc.get("request") or {})}
    response = {"records": "duLieu", "page": "trang", "pages": "tongSoTrang",
                "total": "tongSoBanGhi", **(doc.get("response") or {})}
    resources = {name: _resource(name, spec, path) for name, spec in doc["resources"].items()}
    return Mapping(request, response, _unit_codes(doc.get("unit_codes") or {}, path), resources,
                   str(path))


def _resource(name: str, spec: Any, path: Path) -> ResourceMapping:
    where = f"{path}: resources.{name}"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where} phải là một bảng (must be a mapping)")
    missing = [k for k in ("path", "table", "key", "cursor", "fields") if not spec.get(k)]
    if missing:
        raise ConfigError(f"{where}: thiếu {', '.join(missing)} (missing)")
    fields = {str(k): str(v) for k, v in spec["fields"].items()}
    personal = {str(k): str(v) for k, v in (spec.get("personal") or {}).items()}
    for must in (spec["key"], spec["cursor"]):
        if must not in fields:
            raise ConfigError(f"{where}: '{must}' phải có trong fields (key/cursor must be mapped)")
    clash = set(fields.values()) & set(personal.values())
    if clash:
        raise ConfigError(f"{where}: cột {sorted(clash)} vừa thường vừa cá nhân "
                          "(a column cannot be both plain and personal)")
    units = tuple(spec.get("unit_code_columns") or ())
    unknown_units = [c for c in units if c not in fields.values()]
    if unknown_units:
        raise ConfigError(f"{where}: unit_code_columns {unknown_units} không có trong fields")
    bad = [n for n in (spec["table"], *fields.values(), *personal.values())
           if not _IDENTIFIER.match(str(n))]
    if bad:
        raise ConfigError(f"{where}: tên bảng/cột không hợp lệ {bad} "
                          "(table and column names: lower-case letters, digits, _)")
    free_text = frozenset(str(f) for f in spec.get("free_text") or ())
    if free_text - set(personal):
        raise ConfigError(f"{where}: free_text {sorted(free_text - set(personal))} "
                          "phải nằm trong personal (must be personal fields)")
    return ResourceMapping(name, str(spec["path"]), str(spec["table"]), str(spec["key"]),
                           str(spec["cursor"]), fields, personal, units, free_text)


def _unit_codes(spec: dict, path: Path) -> dict[str, str]:
    table = {str(k): str(v) for k, v in (spec.get("translate") or {}).items()}
    if spec.get("file"):
        csv_path = (path.parent / spec["file"]).resolve()
        try:
            with csv_path.open(encoding="utf-8-sig", newline="") as fh:
                for row in csv.DictReader(fh):
                    table[row["source_code"].strip()] = row["api_code"].strip()
        except (OSError, KeyError) as exc:
            raise ConfigError(f"Không đọc được bảng mã đơn vị {csv_path} "
                              f"(needs columns source_code,api_code: {exc})") from None
    return table


# ------------------------------------------------------------------------------ converters
def parse_time(value: Any) -> datetime:
    """ISO 8601 with offset → aware datetime (naive: Vietnam time)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        dt = datetime.fromisoformat(value.strip())
    else:
        raise TypeError
    return dt if dt.tzinfo else dt.replace(tzinfo=VN_TZ)


def _date(value: Any) -> date:
    if isinstance(value, str):
        text = value.strip()
        return datetime.fromisoformat(text).date() if len(text) > 10 else date.fromisoformat(text)
    raise TypeError


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise TypeError


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise TypeError


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return float(value)
    raise TypeError


def _text(value: Any) -> str:
    # An object or list in a text column is a mapping mistake (and could carry personal
    # data into raw_agency): refuse it rather than store its repr.
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError


def _json(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "timestamp with time zone": parse_time,
    "timestamp without time zone": lambda v: parse_time(v).replace(tzinfo=None),
    "date": _date,
    "integer": _int,
    "bigint": _int,
    "smallint": _int,
    "boolean": _bool,
    "numeric": _float,
    "double precision": _float,
    "real": _float,
    "text": _text,
    "character varying": _text,
    "jsonb": _json,
    "json": _json,
}


def _get(record: dict, dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


@dataclass
class Converted:
    """One record, split: the raw row, the personal row (or None), its key and cursor."""

    key: str
    cursor: datetime
    row: tuple
    personal: tuple | None


@dataclass
class RecordConverter:
    """A `ResourceMapping` bound to the warehouse's column types and the personal-data mode.

    `columns` / `personal_columns` are the COPY column lists, in the order of the tuples
    `convert` returns (the personal tuple starts with the key and ends with the cursor).
    `unmapped` collects the names of top-level fields no mapping line reads.
    """

    mapping: ResourceMapping
    plan: list[tuple[str, str, Callable[[Any], Any]]]
    """(api field, column, converter) for every plain column, in COPY order."""
    personal_columns: list[str]
    personal_mode: str
    unit_codes: dict[str, str]
    hash_key: bytes | None = None
    unmapped: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        units = set(self.mapping.unit_code_columns)
        self.columns = [col for _, col, _ in self.plan]
        self._plain = [(api, conv, col in units) for api, col, conv in self.plan]
        by_column = {col: api for api, col in self.mapping.personal.items()}
        self._private = [(by_column[col], by_column[col] in self.mapping.free_text)
                         for col in self.personal_columns[1:-1]]
        self._key_index = self.columns.index(self.mapping.key_column)
        self._cursor_index = self.columns.index(self.mapping.cursor_column)
        self._known = self.mapping.known_top_level

    def convert(self, record: Any) -> Converted:
        """Map one API record; raises `RecordProblem` (field name, no value) when it cannot."""
        if not isinstance(record, dict):
            raise RecordProblem("(bản ghi)", "không phải đối tượng JSON (not an object)")
        extra = record.keys() - self._known
        if extra:
            self.unmapped.update(extra)
        row = []
        for api, conv, is_unit in self._plain:
            value = record.get(api)
            if value is not None:
                try:
                    value = conv(value)
                except (TypeError, ValueError, OverflowError):
                    raise RecordProblem(api, "sai kiểu dữ liệu (wrong type)") from None
                if is_unit:
                    value = self.unit_codes.get(value, value)
            row.append(value)
        key, cursor = row[self._key_index], row[self._cursor_index]
        if key is None or key == "":
            raise RecordProblem(self.mapping.key, "thiếu khoá (missing key)")
        if cursor is None:
            raise RecordProblem(self.mapping.cursor, "thiếu thời điểm cập nhật (missing)")
        if not isinstance(cursor, datetime):  # a deployment that keeps the cursor as text
            try:
                cursor = parse_time(record.get(self.mapping.cursor))
            except (TypeError, ValueError):
                raise RecordProblem(self.mapping.cursor, "không phải thời điểm (not a time)") \
                    from None
        personal = None
        if self.personal_columns:
            values = [self._personal_value(api, _get(record, api), free)
                      for api, free in self._private]
            personal = (key, *values, cursor)
        return Converted(str(key), cursor, tuple(row), personal)

    def _personal_value(self, api: str, value: Any, free_text: bool) -> Any:
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise RecordProblem(api, "sai kiểu dữ liệu (wrong type)")
        if self.personal_mode == "hash":
            # Free text cannot be pseudonymised (names and numbers sit anywhere in it).
            return None if free_text or self.hash_key is None else pseudonym(value, self.hash_key)
        return value


def pseudonym(value: str, key: bytes) -> str:
    """Keyed hash of a personal value: equal people stay equal, nobody can be read back.

    Normalised first (NFC, trimmed, case-folded, inner spaces collapsed) so the same name
    typed twice hashes the same; HMAC so a dictionary of phone numbers cannot reverse it
    without the key.
    """
    text = " ".join(unicodedata.normalize("NFC", value).casefold().split())
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def bind(mapping: ResourceMapping, column_types: dict[str, str],
         personal_types: dict[str, str], *, personal_mode: str = "store",
         unit_codes: dict[str, str] | None = None, hash_key: bytes | None = None
         ) -> RecordConverter:
    """Check the mapping against the tables and prepare the per-record conversion.

    `column_types` / `personal_types`: column → information_schema data_type of
    raw_agency.<table> and restricted.<table>_ca_nhan (empty when that table does not exist).
    """
    if personal_mode not in PERSONAL_MODES:
        raise ConfigError(f"IOC_AGENCY_PERSONAL_DATA phải là một trong {PERSONAL_MODES}")
    where = f"raw_agency.{mapping.table}"
    missing = [c for c in mapping.fields.values() if c not in column_types]
    if missing:
        raise ConfigError(f"{where} không có cột {missing} mà bảng ánh xạ dùng "
                          "(mapping names columns the table lacks; add them in schema.py)")
    unsupported = sorted({column_types[c] for c in mapping.fields.values()} - set(CONVERTERS))
    if unsupported:
        raise ConfigError(f"{where}: kiểu cột chưa hỗ trợ {unsupported} (unsupported types)")
    plan = [(api, col, CONVERTERS[column_types[col]]) for api, col in mapping.fields.items()]
    personal_columns: list[str] = []
    if mapping.personal and personal_mode != "drop":
        ptable = f"restricted.{mapping.table}_ca_nhan"
        if not personal_types:
            raise ConfigError(f"Thiếu bảng {ptable} cho dữ liệu cá nhân (missing table)")
        pmissing = [c for c in mapping.personal.values() if c not in personal_types]
        if pmissing:
            raise ConfigError(f"{ptable} không có cột {pmissing} (mapping names missing columns)")
        personal_columns = [mapping.key_column, *mapping.personal.values(), "cap_nhat_luc"]
    if personal_mode == "hash" and not hash_key:
        raise ConfigError("Chế độ hash cần khoá bí mật (IOC_AGENCY_PERSONAL_KEY) "
                          "(hash mode needs a secret key)")
    return RecordConverter(mapping, plan, personal_columns, personal_mode, unit_codes or {},
                           hash_key)


def column_names(columns: Iterable[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def record_identity(record, key: str, cursor: str) -> tuple[str | None, datetime | None]:
    """Key and cursor of a record that failed mapping, when they can be read at all."""
    if not isinstance(record, dict):
        return None, None
    k = record.get(key)
    k = str(k) if isinstance(k, str | int) and not isinstance(k, bool) else None
    try:
        c = parse_time(record.get(cursor))
    except (TypeError, ValueError):
        c = None
    return k, c
