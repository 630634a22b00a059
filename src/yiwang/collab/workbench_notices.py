"""Workbench source "通知": the receipt-requiring notices I have not read yet, due by their read_by (no deadline
sorts last). A page and a count are one hand-written statement each: building the ORM's statement cost more than
running it over the (staff, read_at, notice) index."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.models import Department
from yiwang.core.permissions import COLLAB_WORK
from yiwang.core.workbench import (
    TodoItem,
    TodoQuery,
    after_sql,
    aware,
    url_pattern,
    uuid_key,
    workbench_source,
)

from .models import Notice, NoticeRecipient

SOURCE = "collab.notices"

_PENDING = f'"{NoticeRecipient._meta.db_table}" r JOIN "{Notice._meta.db_table}" n ON n."id" = r."notice_id"'
_PENDING_WHERE = 'r."staff_id" = %s AND r."read_at" IS NULL AND n."status" = %s AND n."requires_receipt" = %s'
_NAMED = f' JOIN "{Department._meta.db_table}" d ON d."id" = n."department_id"'


def _pending_params(principal) -> list:
    return [principal.staff.pk, str(Notice.Status.PUBLISHED), True]


def _item(row: tuple, url: str) -> TodoItem:
    public_id, title, read_by, department = row
    public_id = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    return TodoItem(
        source=SOURCE,
        key=str(public_id),
        title=title,
        action=_("阅读并回执"),
        url=url.format(public_id),
        deadline=aware(read_by),
        reference=department,
        state=_("未读"),
    )


@workbench_source
class NoticeSource:
    id = SOURCE
    label = gettext_lazy("通知")

    def applies(self, principal) -> bool:
        return principal.has(COLLAB_WORK)  # staff roles only; no query

    def items(self, principal, query: TodoQuery) -> list[TodoItem]:
        if principal.staff is None:
            return []
        after, after_params = after_sql(query, SOURCE, 'n."read_by"', 'n."public_id"', key=uuid_key(Notice))
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT n."public_id", n."title", n."read_by", d."name" FROM {_PENDING}{_NAMED}'
                f" WHERE {_PENDING_WHERE} AND ({after})"
                ' ORDER BY n."read_by" ASC NULLS LAST, n."public_id" ASC LIMIT %s',
                [*_pending_params(principal), *after_params, query.limit],
            )
            rows = cursor.fetchall()
        url = url_pattern("collab:notice_detail")
        return [_item(row, url) for row in rows]

    def count(self, principal, *, due_before: datetime | None = None) -> int:
        if principal.staff is None:
            return 0
        sql, params = f"SELECT COUNT(*) FROM {_PENDING} WHERE {_PENDING_WHERE}", _pending_params(principal)
        if due_before is not None:
            sql += ' AND n."read_by" IS NOT NULL AND n."read_by" < %s'
            params.append(connection.ops.adapt_datetimefield_value(due_before))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
