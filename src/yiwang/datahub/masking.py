"""Masks of the data-sharing gateway (脱敏), in Apache Ranger's vocabulary (`models.Mask`).

`mask_value(mask, value)` applies one mask to one value of any type a reader returns (str, int, Decimal, float,
date, datetime, bool, None) and keeps the value's type wherever the mask allows, as Ranger's Hive masks do:

| mask | str | int / Decimal / float | date / datetime | bool |
|---|---|---|---|---|
| none | unchanged | unchanged | unchanged | unchanged |
| MASK | A-Z → X, a-z → x, 0-9 → n, any other letter (汉字…) → *, punctuation and spaces kept | every digit → 1, sign and point kept | 0001-01-01 (time 00:00) | None |
| MASK_SHOW_LAST_4 | as MASK except the last 4 characters | as MASK except the last 4 digits | 0001-MM-DD: the last 4 digits of YYYYMMDD (month and day) stay (0004-02-29 for 29 February) | None |
| MASK_SHOW_FIRST_4 | as MASK except the first 4 characters | as MASK except the first 4 digits | YYYY-01-01: the first 4 digits (the year) stay | None |
| MASK_HASH | HMAC-SM3 (hex) of the value's canonical text under the platform's blind-index key, purpose "gateway_mask" (a different purpose from the ID-number index, so a masked hash never matches a lookup index) | same | same (ISO text) | same ("true"/"false") |
| MASK_NULL | None | None | None | None |
| MASK_DATE_SHOW_YEAR | an ISO date text → "YYYY-01-01"; any other text → as MASK | as MASK | YYYY-01-01 (00:00) | None |

None stays None under every mask. A boolean cannot be partly shown, so every hiding mask but MASK_HASH makes it
None. Values of another type (a list, a dict) are masked as their text.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from yiwang.core.keystore import keystore

from .models import Mask

HASH_PURPOSE = "gateway_mask"
KEEP = 4

_ASCII_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ASCII_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_DIGITS = frozenset("0123456789")


def _mask_char(ch: str) -> str:
    if ch in _ASCII_UPPER:
        return "X"
    if ch in _ASCII_LOWER:
        return "x"
    if ch in _DIGITS:
        return "n"
    if ch.isalnum() or unicodedata.category(ch).startswith("L"):
        return "*"  # 汉字 and other scripts' letters and digits
    return ch  # punctuation, spaces, separators


def _mask_text(text: str, *, first: int = 0, last: int = 0) -> str:
    """Every character masked but the first `first` and the last `last`."""
    n = len(text)
    if first + last >= n:
        return text
    return text[:first] + "".join(_mask_char(c) for c in text[first : n - last]) + text[n - last :]


def _mask_digits(text: str, *, first: int = 0, last: int = 0) -> str:
    """The number's digits become 1, but the first `first` and the last `last` digits."""
    positions = [i for i, c in enumerate(text) if c in _DIGITS]
    hide = positions[first : len(positions) - last if last else len(positions)]
    if first + last >= len(positions):
        return text
    chars = list(text)
    for i in hide:
        chars[i] = "1"
    return "".join(chars)


def _canonical_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def mask_hash(value: Any) -> str:
    """HMAC-SM3 (hex) of a value's canonical text under the platform's blind-index key (purpose gateway_mask)."""
    return keystore().blind_index(_canonical_text(value), purpose=HASH_PURPOSE)


def _number(value: int | float | Decimal, *, first: int = 0, last: int = 0):
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    masked = _mask_digits(text, first=first, last=last)
    if isinstance(value, Decimal):
        return Decimal(masked)
    if isinstance(value, float):
        return float(masked)
    return int(masked)


def _moment(value: date, *, year: int, month: int, day: int):
    if isinstance(value, datetime):
        return value.replace(year=year, month=month, day=day, hour=0, minute=0, second=0, microsecond=0)
    return date(year, month, day)


def _date_from_text(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else None
    except ValueError:
        return None


def mask_value(mask: str, value: Any) -> Any:
    """`value` with `mask` applied (see the module's table). An unknown mask hides the value (MASK_NULL)."""
    if value is None or mask in (Mask.NONE, "", None):
        return value
    if mask == Mask.MASK_NULL:
        return None
    if mask == Mask.MASK_HASH:
        return mask_hash(value)
    if mask not in (Mask.MASK, Mask.MASK_SHOW_LAST_4, Mask.MASK_SHOW_FIRST_4, Mask.MASK_DATE_SHOW_YEAR):
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, date):  # datetime too
        if mask == Mask.MASK:
            return _moment(value, year=1, month=1, day=1)
        if mask == Mask.MASK_SHOW_LAST_4:
            return value.replace(year=4 if (value.month, value.day) == (2, 29) else 1)
        return _moment(value, year=value.year, month=1, day=1)  # SHOW_FIRST_4, DATE_SHOW_YEAR
    if isinstance(value, (int, float, Decimal)):
        if mask == Mask.MASK_SHOW_LAST_4:
            return _number(value, last=KEEP)
        if mask == Mask.MASK_SHOW_FIRST_4:
            return _number(value, first=KEEP)
        return _number(value)
    text = value if isinstance(value, str) else _canonical_text(value)
    if mask == Mask.MASK_SHOW_LAST_4:
        return _mask_text(text, last=KEEP)
    if mask == Mask.MASK_SHOW_FIRST_4:
        return _mask_text(text, first=KEEP)
    if mask == Mask.MASK_DATE_SHOW_YEAR:
        parsed = _date_from_text(text)
        if parsed is not None:
            return f"{parsed.year:04d}-01-01"
    return _mask_text(text)


def mask_row(values: dict[str, Any], masks: dict[str, str]) -> dict[str, Any]:
    """The fields named in `masks`, each with its mask applied."""
    return {name: mask_value(mask, values.get(name)) for name, mask in masks.items()}
