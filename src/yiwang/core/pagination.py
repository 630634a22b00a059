"""Keyset pagination: every list a user can reach pages by a unique, indexed column, never by OFFSET."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
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


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, json.JSONDecodeError) as exc:
        raise ValidationError({"cursor": _("分页游标无效，请从第一页重新开始。")}, code="cursor") from exc


def keyset_page(
    queryset: QuerySet,
    *,
    key: str = "id",
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    descending: bool = False,
) -> Page:
    """One page ordered by `key` (a unique column). `cursor` is the opaque value from the previous page."""
    limit = max(1, min(int(limit or DEFAULT_LIMIT), MAX_LIMIT))
    queryset = queryset.order_by(f"-{key}" if descending else key)
    if cursor:
        last = decode_cursor(cursor)
        queryset = queryset.filter(**{f"{key}__lt" if descending else f"{key}__gt": last})
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(_key_value(rows[-1], key)) if more and rows else None
    return Page(items=rows, next_cursor=next_cursor)


def _key_value(row: Any, key: str) -> Any:
    value = row[key] if isinstance(row, dict) else getattr(row, key)
    return str(value) if not isinstance(value, (int, float, str)) else value
