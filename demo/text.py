"""Vietnamese text as it arrives from commune PCs: NFD, Windows-1258, numbers as text."""

from __future__ import annotations

import re
import unicodedata

_LETTER_MARKS = re.compile("([A-Za-z])([\u0300-\u036f]+)")
_SHAPES = "\u0302\u0306\u031b"
_MARKS = re.compile("[\u0300-\u036f]")


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def cp1258_bytes(text: str) -> bytes:
    """Encode like Excel's CSV on Vietnamese Windows: base letters with their shape (â ê ô ơ ư ă)
    precomposed, tone marks as separate combining characters (Python's codec alone cannot)."""
    def split(m: re.Match) -> str:
        shape = "".join(c for c in m.group(2) if c in _SHAPES)
        tone = "".join(c for c in m.group(2) if c not in _SHAPES)
        return unicodedata.normalize("NFC", m.group(1) + shape) + tone

    return _LETTER_MARKS.sub(split, nfd(text)).encode("cp1258")


def strip_diacritics(text: str) -> str:
    return _MARKS.sub("", nfd(text)).replace("đ", "d").replace("Đ", "D")


def vn_number(value: float, spaces: bool = False) -> str:
    """`1234.5` as Vietnamese staff type it: `1.234,5` (or `1 234,5`)."""
    neg = value < 0
    value = abs(value)
    if float(value).is_integer():
        whole, frac = f"{int(value):,}", ""
    else:
        whole, frac = f"{value:,.1f}".split(".")
        frac = "," + frac
    whole = whole.replace(",", " " if spaces else ".")
    return ("-" if neg else "") + whole + frac


def upper_vn(text: str) -> str:
    return text.upper()
