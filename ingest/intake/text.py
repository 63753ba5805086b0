"""Text and number normalisation for what Vietnamese staff type into spreadsheets.

Matching is done on a *folded* form (no diacritics, lower case, punctuation as spaces) so
`Thực hiện tháng`, `THUC HIEN\\nTHANG` and an NFD-composed `Thực hiện tháng` are one label.
Numbers typed as text follow the Vietnamese convention (`1.234,5`); parsing is deliberate,
never delegated to a locale-dependent library.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# Spaces people (and Excel) put inside numbers: normal, no-break, thin, narrow no-break.
_NUMBER_SPACES = str.maketrans("", "", " \u00a0\u2009\u202f\u2007\t")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+)(\.\d+)?")
_EMPTY_MARKS = {"-", "–", "—", "_"}


def nfc(value: str) -> str:
    """The NFC composition of `value` (files mix NFC and NFD; Windows-1258 is always NFD-ish)."""
    return unicodedata.normalize("NFC", value)


def clean_text(value: str) -> str:
    """NFC, no-break spaces as spaces, trimmed; inner line breaks kept for the record."""
    return nfc(value).replace("\u00a0", " ").replace("\x00", "").strip()


@lru_cache(maxsize=65536)
def strip_accents(value: str) -> str:
    """Lower case without diacritics (đ → d), punctuation kept (cached: cells repeat)."""
    if value.isascii():
        return value.lower()
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def fold(value: object) -> str:
    """The matching key of a label: no diacritics, lower case, words separated by one space."""
    if value is None:
        return ""
    return _fold_text(value if isinstance(value, str) else str(value))


@lru_cache(maxsize=65536)
def _fold_text(value: str) -> str:
    return _NON_ALNUM.sub(" ", strip_accents(value)).strip()


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, float):
        return math.isnan(value)
    return False


def display(value: object) -> str:
    """A cell value as it should appear in a message to staff."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


class NotANumber(ValueError):
    """A cell that should hold a number but holds something else."""


def _from_float(value: float) -> Decimal:
    if math.isnan(value) or math.isinf(value):
        raise NotANumber(str(value))
    if value.is_integer() and abs(value) < 1e15:
        return Decimal(int(value))
    dec = Decimal(repr(value))
    # Formula results carry binary noise (4125.000000000001): keep 9 decimals at most.
    if dec.as_tuple().exponent < -9:  # type: ignore[operator]
        dec = dec.quantize(Decimal("1e-9"))
    return dec.normalize() if dec != dec.to_integral_value() else dec.to_integral_value()


def parse_number(value: object) -> Decimal | None:
    """A cell as a number; None when empty; NotANumber when it is something else.

    Text follows the Vietnamese convention: `.` groups thousands and `,` marks decimals
    (`1.234,5`, `98,5`, `5.200`). A lone `.` not followed by exactly three digits (`12.5`)
    is read as a decimal point, since it cannot be a thousands separator. Several commas
    (`1,234,567`) or a comma before a final point (`1,234.5`) are read the English way.
    `-` alone (a common way to write "nothing") counts as empty.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise NotANumber(str(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return _from_float(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, datetime | date):
        raise NotANumber(display(value))
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return Decimal(value)  # the common case, fast
    text = nfc(str(value)).translate(_NUMBER_SPACES)
    if text == "" or text in _EMPTY_MARKS:
        return None
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text[:1] in "+-":
        negative, text = negative or text[0] == "-", text[1:]
    if not text or not re.fullmatch(r"[\d.,]+", text) or not text[0].isdigit():
        raise NotANumber(str(value))
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        if text.rfind(",") > text.rfind("."):  # 1.234,5
            body = _grouped(text, ".", ",")
        elif commas >= 1 and dots == 1:  # 1,234.5
            body = _grouped(text, ",", ".")
        else:
            raise NotANumber(str(value))
    elif commas:
        # 98,5 is the Vietnamese decimal comma; 1,234,567 groups thousands
        body = text.replace(",", ".") if commas == 1 else _grouped(text, ",", None)
    elif dots:
        groups = text.split(".")
        # 5.200 and 1.234.567 group thousands; 12.5 can only be a decimal point
        body = _grouped(text, ".", None) if dots > 1 or len(groups[1]) == 3 else text
    else:
        body = text
    if not _PLAIN_NUMBER.fullmatch(body):
        raise NotANumber(str(value))
    try:
        number = Decimal(body)
    except InvalidOperation as exc:  # pragma: no cover - guarded by the regex
        raise NotANumber(str(value)) from exc
    return -number if negative else number


def _grouped(text: str, thousands: str, decimal: str | None) -> str:
    """`text` with `thousands` groups checked (3 digits each) and `decimal` as '.'."""
    integer, _, fraction = text.partition(decimal) if decimal else (text, "", "")
    groups = integer.split(thousands)
    if not groups[0] or len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:]):
        raise NotANumber(text)
    if decimal and (not fraction or not fraction.isdigit()):
        raise NotANumber(text)
    return "".join(groups) + ("." + fraction if fraction else "")


def column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
