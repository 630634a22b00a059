"""Keyset pagination: every list a user can reach pages by a unique, indexed column, never by OFFSET."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import FieldDoesNotExist, FieldError, ValidationError
from django.db.models import Field, Model, Q, QuerySet
from django.utils.translation import gettext as _

T = TypeVar("T")
MAX_LIMIT = 200
DEFAULT_LIMIT = 50


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, default=str).encode()).decode().rstrip("=")


# A cursor this module makes is a few key values; anything much longer was not made here.
CURSOR_MAX = 1024


def decode_cursor(cursor: str) -> Any:
    """The JSON value of a cursor; ValidationError for anything that is not base64 of JSON of a sane size (a
    nesting deep enough to exhaust the parser's recursion included)."""
    if len(cursor) > CURSOR_MAX:
        raise invalid_cursor()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, RecursionError) as exc:
        raise invalid_cursor() from exc


Key = str | tuple[str, ...]


def page_limit(limit: int | None, default: int = DEFAULT_LIMIT) -> int:
    """The page size a caller asked for, within 1..MAX_LIMIT (`default` when it asked for none)."""
    return max(1, min(int(limit or default), MAX_LIMIT))


def _keys(key: Key) -> tuple[str, ...]:
    return (key,) if isinstance(key, str) else tuple(key)


def invalid_cursor() -> ValidationError:
    return ValidationError({"cursor": _("分页游标无效，请从第一页重新开始。")}, code="cursor")


def cursor_values(
    cursor: str, *, model: type[Model], key: Key, annotations: Mapping[str, Field] | None = None
) -> list[Any]:
    """The key values a cursor carries, each converted by its model field or, for an annotated key, the
    annotation's output field (a date from its ISO text, an id from its number); ValidationError when the cursor
    is not one this key made."""
    keys = _keys(key)
    value = decode_cursor(cursor)
    values = [value] if len(keys) == 1 else value
    if not isinstance(values, list) or len(values) != len(keys):
        raise invalid_cursor()
    converted = []
    for name, raw in zip(keys, values, strict=True):
        if raw is None or isinstance(raw, (dict, list)):
            raise invalid_cursor()
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = (annotations or {}).get(name)
            if field is None:  # a key of no known type: only a plain scalar is compared with the column
                if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
                    raise invalid_cursor() from None
                converted.append(raw)
                continue
        try:
            converted.append(field.to_python(raw))
        except (ValidationError, TypeError, ValueError) as exc:
            raise invalid_cursor() from exc
    return converted


def keyset_after(
    cursor: str,
    *,
    model: type[Model],
    key: Key,
    descending: bool = False,
    annotations: Mapping[str, Field] | None = None,
) -> Q:
    """The rows that follow the cursor's row in `key` order (ascending, or descending on every column)."""
    values = cursor_values(cursor, model=model, key=key, annotations=annotations)
    return _after(_keys(key), values, "lt" if descending else "gt")


def _after(keys: tuple[str, ...], values: list[Any], op: str) -> Q:
    first, value = keys[0], values[0]
    if len(keys) == 1:
        return Q(**{f"{first}__{op}": value})
    # The redundant inclusive bound on the leading column gives PostgreSQL an index range start; the OR alone
    # makes it scan.
    return Q(**{f"{first}__{op}e": value}) & (
        Q(**{f"{first}__{op}": value}) | _after(keys[1:], values[1:], op)
    )


def page_of(rows: list, *, key: Key, limit: int) -> Page:
    """A page from up to `limit` + 1 rows read in key order: the extra row only tells that another page follows."""
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(_cursor_value(rows[-1], _keys(key))) if more and rows else None
    return Page(items=rows, next_cursor=next_cursor)


def keyset_page(
    queryset: QuerySet,
    *,
    key: Key = "id",
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    descending: bool = False,
) -> Page:
    """One page ordered by `key`: a unique column, or a tuple of columns ending in a unique one (a due date,
    then id). `cursor` is the opaque value from the previous page."""
    limit = page_limit(limit)
    keys = _keys(key)
    queryset = queryset.order_by(*(f"-{k}" if descending else k for k in keys))
    if cursor:
        annotated = {k: _output_field(queryset, k) for k in keys if k in queryset.query.annotations}
        queryset = queryset.filter(
            keyset_after(cursor, model=queryset.model, key=keys, descending=descending, annotations=annotated)
        )
    return page_of(list(queryset[: limit + 1]), key=keys, limit=limit)


def _output_field(queryset: QuerySet, name: str) -> Field | None:
    try:
        return queryset.query.annotations[name].output_field
    except FieldError:  # an expression of mixed types: its key is checked as a plain scalar
        return None


def _cursor_value(row: Any, keys: tuple[str, ...]) -> Any:
    values = [_key_value(row, key) for key in keys]
    return values[0] if len(keys) == 1 else values


def _key_value(row: Any, key: str) -> Any:
    value = row[key] if isinstance(row, dict) else getattr(row, key)
    return str(value) if not isinstance(value, (int, float, str)) else value
