"""我的工作台: the registry every module adds its to-do source to (the listener/panel pattern).

A source answers, for one staff principal, the items waiting for them in its module, ordered by deadline (no
deadline last) then key, from its own indexed rows; the workbench (collab) merges the sources' pages into one
keyset-paged list. A module registers its source from its AppConfig.ready() with `@workbench_source`; the
workbench is never edited to add one.

Order across sources: (deadline, source id, key), deadlines missing sorting last. `after_q` gives a source the
filter "strictly after this cursor" on its own columns, so every source pages the same way.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Q
from django.urls import reverse

from .rawsql import aware  # noqa: F401 - the sources import it from here

LOCAL = ZoneInfo("Asia/Shanghai")
FAR = datetime(9999, 12, 31, tzinfo=LOCAL)  # where items without a deadline sort
_ZERO = uuid.UUID(int=0)


@dataclass(frozen=True)
class TodoItem:
    source: str  # the source's id ("cases", "incidents", "collab.tasks"…)
    key: str  # unique within the source and sortable as text: a public id or domain code
    title: str
    action: str  # what is waiting: 受理, 审查, 签收, 会签, 填报, 审核…
    url: str  # the module's own page for the item
    deadline: datetime | None = None  # aware
    reference: str = ""  # readable number (办件编号, 工单号, 任务编号, 发文字号)
    state: str = ""  # the module's own state label


@dataclass(frozen=True)
class Cursor:
    deadline: datetime  # FAR for items without one
    source: str
    key: str

    def encode(self) -> str:
        raw = json.dumps([self.deadline.isoformat(), self.source, self.key], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raises ValueError on anything that is not a cursor this module wrote."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            when, source, key = json.loads(raw)
            deadline = datetime.fromisoformat(when)
        except Exception as exc:  # any malformed input is the same client error
            raise ValueError("bad cursor") from exc
        if deadline.tzinfo is None or not isinstance(source, str) or not isinstance(key, str):
            raise ValueError("bad cursor")
        return cls(deadline, source[:64], key[:128])

    @classmethod
    def of(cls, item: TodoItem) -> Cursor:
        return cls(item.deadline or FAR, item.source, item.key)


@dataclass(frozen=True)
class TodoQuery:
    after: Cursor | None = None
    limit: int = 20
    due_before: datetime | None = None  # only items whose deadline is before this (overdue, due soon)


def day_end(d: date) -> datetime:
    """A deadline given as a date is due at the end of that day, Asia/Shanghai."""
    return datetime.combine(d, time(23, 59, 59), tzinfo=LOCAL)


# A tab's count stops here (shown as "1000+"): a to-do badge needs no exact figure past it, and counting a clerk's
# 50,000 open steps exactly would cost more than the whole page (bench/workbench.py).
COUNT_CAP = 1000


def capped_count(queryset) -> int:
    """min(rows, COUNT_CAP), reading at most COUNT_CAP rows (no ordering: the model's default would sort them all)."""
    return queryset.order_by()[:COUNT_CAP].count()


def sort_key(item: TodoItem) -> tuple:
    return (item.deadline or FAR, item.source, item.key)


def after_q(query: TodoQuery, source: str, deadline_field: str, key_field: str, *, dates: bool = False) -> Q:
    """Rows strictly after query.after in (deadline, source, key) order, and due before query.due_before;
    `deadline_field` is a DateTimeField (or a DateField with dates=True: due at that day's end, `day_end`) that
    may be null (= no deadline)."""
    q = Q()
    if query.due_before is not None:
        bound = query.due_before.astimezone(LOCAL).date() if dates else query.due_before
        q &= Q(**{f"{deadline_field}__isnull": False, f"{deadline_field}__lt": bound})
    cursor = query.after
    if cursor is None:
        return q
    nothing = Q(pk__in=[])
    if cursor.deadline >= FAR:  # the cursor is among the items without a deadline
        if source < cursor.source:
            return q & nothing
        tail = Q(**{f"{deadline_field}__isnull": True})
        if source == cursor.source:
            tail &= Q(**{f"{key_field}__gt": cursor.key})
        return q & tail
    if dates:
        d = cursor.deadline.astimezone(LOCAL).date()
        if cursor.deadline < day_end(d):  # every item due on day d ends after the cursor
            later = Q(**{f"{deadline_field}__gte": d}) | Q(**{f"{deadline_field}__isnull": True})
            return q & later
    else:
        d = cursor.deadline
    later = Q(**{f"{deadline_field}__gt": d}) | Q(**{f"{deadline_field}__isnull": True})
    if source > cursor.source:
        same = Q(**{deadline_field: d})
    elif source == cursor.source:
        same = Q(**{deadline_field: d, f"{key_field}__gt": cursor.key})
    else:
        same = nothing
    return q & (later | same)


def after_sql(
    query: TodoQuery,
    source: str,
    deadline_column: str,
    key_column: str,
    *,
    dates: bool = False,
    key: Callable[[str], object] = str,
) -> tuple[str, list]:
    """`after_q` as SQL text and parameters for a source that writes its statement by hand (the ORM's statement
    building costs more than a to-do query's execution): the columns are SQL expressions, `key` turns a cursor key
    into the key column's parameter (int, a stored UUID…). "1 = 1" when nothing narrows."""
    ops = connection.ops

    def bound(value: datetime):
        if dates:
            return ops.adapt_datefield_value(value.astimezone(LOCAL).date())
        return ops.adapt_datetimefield_value(value)

    parts: list[str] = []
    params: list = []
    if query.due_before is not None:
        parts.append(f"{deadline_column} IS NOT NULL AND {deadline_column} < %s")
        params.append(bound(query.due_before))
    cursor = query.after
    if cursor is not None:
        later, later_params = _after_cursor_sql(
            cursor, source, deadline_column, key_column, dates, key, bound
        )
        parts.append(later)
        params += later_params
    return (" AND ".join(f"({part})" for part in parts) or "1 = 1"), params


def _after_cursor_sql(cursor: Cursor, source, deadline_column, key_column, dates, key, bound):
    if cursor.deadline >= FAR:  # the cursor is among the items without a deadline
        if source < cursor.source:
            return "1 = 0", []
        if source == cursor.source:
            return f"{deadline_column} IS NULL AND {key_column} > %s", [key(cursor.key)]
        return f"{deadline_column} IS NULL", []
    if dates:
        d = cursor.deadline.astimezone(LOCAL).date()
        if cursor.deadline < day_end(d):  # every item due on day d ends after the cursor
            return f"{deadline_column} >= %s OR {deadline_column} IS NULL", [bound(cursor.deadline)]
    at = bound(cursor.deadline)
    later = f"{deadline_column} > %s OR {deadline_column} IS NULL"
    if source > cursor.source:
        return f"{later} OR {deadline_column} = %s", [at, at]
    if source == cursor.source:
        return f"{later} OR ({deadline_column} = %s AND {key_column} > %s)", [at, at, key(cursor.key)]
    return later, [at]


def uuid_key(model) -> Callable[[str], object]:
    """For `after_sql`: a cursor key as the model's stored public_id (hex text on SQLite, uuid on PostgreSQL);
    ValueError — a bad cursor to the workbench — when the key is not a UUID."""
    field = model._meta.get_field("public_id")
    return lambda key: field.get_db_prep_value(uuid.UUID(key), connection)


def url_pattern(name: str) -> str:
    """A URL with one public-id argument as a str.format pattern: one reverse() for a page, not one per row."""
    return reverse(name, args=[_ZERO]).replace(str(_ZERO), "{}")


class WorkbenchSource(Protocol):
    id: str
    label: str  # shown as the filter tab: 办件, 工单, 共享申请, 纠错, 督办, 报表, 公文, 会议, 通知

    def applies(self, principal) -> bool:
        """Cheap: from the principal's permissions and roles only (no query)."""

    def items(self, principal, query: TodoQuery) -> list[TodoItem]:
        """At most query.limit items after query.after, in (deadline, key) order."""

    def count(self, principal, *, due_before: datetime | None = None) -> int: ...


_SOURCES: dict[str, WorkbenchSource] = {}


def workbench_source(cls_or_obj):
    """Registers a source (a class is instantiated); registering the same id again replaces it."""
    source = cls_or_obj() if isinstance(cls_or_obj, type) else cls_or_obj
    _SOURCES[source.id] = source
    return cls_or_obj


def workbench_sources() -> list[WorkbenchSource]:
    return [_SOURCES[key] for key in sorted(_SOURCES)]


def workbench_sources_for(principal) -> list[WorkbenchSource]:
    return [source for source in workbench_sources() if source.applies(principal)]


def merge_page(pages: Iterable[list[TodoItem]], limit: int) -> tuple[list[TodoItem], Cursor | None]:
    """One page from the sources' pages (each already after the cursor): the first `limit` in global order and
    the cursor of the next page (None when this is the last)."""
    merged = sorted((item for page in pages for item in page), key=sort_key)
    page = merged[:limit]
    return page, (Cursor.of(page[-1]) if len(merged) > limit else None)


SourceFactory = Callable[[], WorkbenchSource]
