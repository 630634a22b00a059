"""Workbench source "会议": invitations awaiting my reply (deadline: the meeting's reply_by, else its start) and,
for the convening side (MEETING_CONVENE in the meeting's department), held meetings whose minutes are still to be
issued (no deadline; `minutes_at` is empty on every such row, so it serves as their null deadline column).

A page and a count are one hand-written statement each (building the ORM's statement cost more than running it):
for a convener, a page is the UNION ALL of both lists' first rows, merged here."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.models import Department
from yiwang.core.permissions import COLLAB_WORK, MEETING_CONVENE
from yiwang.core.workbench import (
    TodoItem,
    TodoQuery,
    after_sql,
    aware,
    sort_key,
    url_pattern,
    uuid_key,
    workbench_source,
)

from .models import Attendee, Meeting

SOURCE = "collab.meetings"

_MEETING = f'"{Meeting._meta.db_table}"'
_ATTENDEE = f'"{Attendee._meta.db_table}"'
_DEPARTMENT = f'"{Department._meta.db_table}"'
_DUE = 'COALESCE(m."reply_by", m."starts_at")'
# Both lists read the same columns, the first telling them apart (0: an invitation, 1: minutes to issue); reply_by
# and starts_at stay separate columns because SQLite types a COALESCE as text.
_ROW = 'm."public_id", m."title", m."status", m."reply_by", m."starts_at", d."name"'
_INVITED = f'{_ATTENDEE} a JOIN {_MEETING} m ON m."id" = a."meeting_id"'
_INVITED_WHERE = 'a."staff_id" = %s AND a."response" = %s AND m."status" = %s'
_HELD_WHERE = 'm."department_id" = %s AND m."status" = %s'
_NAMED = f' JOIN {_DEPARTMENT} d ON d."id" = m."department_id"'
_STATUSES = dict(Meeting.Status.choices)


def _invited_params(principal) -> list:
    return [principal.staff.pk, str(Attendee.Response.PENDING), str(Meeting.Status.NOTIFIED)]


def _held_params(principal) -> list:
    return [principal.staff.department_id, str(Meeting.Status.HELD)]


def _convenes(principal) -> bool:
    return principal.staff is not None and principal.has(MEETING_CONVENE)


def _page_sql(principal, query: TodoQuery) -> tuple[str, list]:
    """The invitations' first `limit` by (due, public_id) and, for a convener, the held meetings' first `limit` by
    public_id; each member is wrapped in a subquery, the only place SQLite takes an ORDER BY and LIMIT inside a
    compound statement."""
    after, after_params = after_sql(query, SOURCE, _DUE, 'm."public_id"', key=uuid_key(Meeting))
    invited = (
        f"SELECT * FROM (SELECT 0 AS kind, {_ROW} FROM {_INVITED}{_NAMED} WHERE {_INVITED_WHERE} AND ({after})"
        f' ORDER BY {_DUE}, m."public_id" LIMIT %s) AS invited'
    )
    params = [*_invited_params(principal), *after_params, query.limit]
    if not _convenes(principal):
        return invited, params
    after, after_params = after_sql(query, SOURCE, 'm."minutes_at"', 'm."public_id"', key=uuid_key(Meeting))
    held = (
        f"SELECT * FROM (SELECT 1 AS kind, {_ROW} FROM {_MEETING} m{_NAMED} WHERE {_HELD_WHERE} AND ({after})"
        f' ORDER BY m."public_id" LIMIT %s) AS held'
    )
    return f"{invited} UNION ALL {held}", [*params, *_held_params(principal), *after_params, query.limit]


def _item(row: tuple, url: str) -> TodoItem:
    kind, public_id, title, status, reply_by, starts_at, department = row
    public_id = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    common = {
        "source": SOURCE,
        "key": str(public_id),
        "title": title,
        "url": url.format(public_id),
        "state": str(_STATUSES.get(status, status)),
    }
    if kind == 0:
        return TodoItem(
            action=_("回复参会"), deadline=aware(reply_by or starts_at), reference=department, **common
        )
    starts = timezone.localtime(aware(starts_at)).strftime("%Y-%m-%d")
    return TodoItem(action=_("印发纪要"), deadline=None, reference=starts, **common)


@workbench_source
class MeetingSource:
    id = SOURCE
    label = gettext_lazy("会议")

    def applies(self, principal) -> bool:
        return principal.has(COLLAB_WORK)  # staff roles only; no query

    def items(self, principal, query: TodoQuery) -> list[TodoItem]:
        if principal.staff is None:
            return []
        sql, params = _page_sql(principal, query)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        url = url_pattern("collab:meeting_detail")
        return sorted((_item(row, url) for row in rows), key=sort_key)[: query.limit]

    def count(self, principal, *, due_before: datetime | None = None) -> int:
        if principal.staff is None:
            return 0
        invited = f"SELECT COUNT(*) FROM {_INVITED} WHERE {_INVITED_WHERE}"
        params = _invited_params(principal)
        if due_before is not None:
            sql = f"{invited} AND {_DUE} < %s"
            params.append(connection.ops.adapt_datetimefield_value(due_before))
        elif _convenes(principal):
            sql = f"SELECT ({invited}) + (SELECT COUNT(*) FROM {_MEETING} m WHERE {_HELD_WHERE})"
            params += _held_params(principal)
        else:
            sql = invited
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
