"""The workbench source “督办”: tasks waiting for the caller's unit — to sign for (签收, the unit's TaskUnit not yet
accepted), in the lead unit's hands (报送进展 when a periodic report is due, else 办理/申请办结) — and, for a
TASK_ISSUE holder, the tasks their department issued that wait for review (审核). Deadline: the next report date
when it comes before the due date (the lead unit's work), else the due date."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from django.db import connection
from django.utils.translation import gettext_lazy as _

from yiwang.core.permissions import COLLAB_WORK, TASK_ISSUE
from yiwang.core.rawsql import db_date
from yiwang.core.workbench import TodoItem, TodoQuery, after_sql, day_end, url_pattern, workbench_source

from .models import Task, TaskUnit
from .services.tasks import ACTIVE

SOURCE = "collab.tasks"
S = Task.Status


# --- the source's own SQL ---------------------------------------------------------------------------------------
# `tasks_todo` as hand-written SQL: building its annotated queryset cost the ORM more than PostgreSQL spends
# running it (bench/workbench.py). One statement per call.

_TASK = f'"{Task._meta.db_table}"'
_UNIT = f'"{TaskUnit._meta.db_table}"'
# The lead unit's next report comes first when it falls before the due date (tasks_todo's wb_due).
_WB_DUE = (
    'CASE WHEN t."lead_department_id" = %s AND t."status" = %s AND t."next_report_due" IS NOT NULL'
    ' AND t."next_report_due" < t."due_on" THEN t."next_report_due" ELSE t."due_on" END'
)
_ACCEPT = (
    f'EXISTS (SELECT 1 FROM {_UNIT} AS u WHERE u."task_id" = t."id" AND u."department_id" = %s'
    ' AND u."accepted_at" IS NULL)'
)
_ON_TASK = f'EXISTS (SELECT 1 FROM {_UNIT} AS u WHERE u."task_id" = t."id" AND u."department_id" = %s)'
_STATUS_LABELS = dict(S.choices)  # lazy labels: translated when shown
_LEVEL_LABELS = dict(Task.Level.choices)


def _scope_sql(principal, dept: int) -> tuple[str, list]:
    """tasks_todo's filter: to sign for, in the lead unit's hands, or (an issuer) submitted for review."""
    active = ", ".join(["%s"] * len(ACTIVE))
    sql = f'({_ACCEPT} AND t."status" IN ({active})) OR (t."lead_department_id" = %s AND t."status" = %s)'
    params: list = [dept, *ACTIVE, dept, S.IN_PROGRESS]
    if principal.has(TASK_ISSUE):
        sql += f' OR (NOT {_ON_TASK} AND t."status" = %s AND t."issuing_department_id" = %s)'
        params += [dept, S.SUBMITTED, dept]
    return sql, params


def _todo_sql(principal, query: TodoQuery, columns: str) -> tuple[str, list] | None:
    """The caller's tasks after the query's cursor, as `SELECT {columns} FROM (…) AS t WHERE …` where `t` has the
    task's columns, "wb_due" and "wb_accept". None: the caller has no unit to work for."""
    staff = principal.staff if principal is not None else None
    if staff is None or not staff.is_active:
        return None
    dept = staff.department_id
    scope, scope_params = _scope_sql(principal, dept)
    after, after_params = after_sql(query, SOURCE, 't."wb_due"', 't."code"', dates=True)
    sql = (
        f'SELECT {columns} FROM (SELECT t."public_id", t."code", t."title", t."status", t."level", t."due_on",'
        f' {_WB_DUE} AS "wb_due", {_ACCEPT} AS "wb_accept" FROM {_TASK} AS t WHERE {scope}) AS t WHERE {after}'
    )
    return sql, [dept, S.IN_PROGRESS, dept, *scope_params, *after_params]


def _action(status: str, accept: bool, due: date, due_on: date) -> str:
    if status == S.SUBMITTED:
        return str(_("审核办结"))
    if accept:
        return str(_("签收"))
    if due != due_on:
        return str(_("报送进展"))
    return str(_("办理"))


def _state(status: str, level: int) -> str:
    label = str(_STATUS_LABELS.get(status, status))
    return f"{label} · {_LEVEL_LABELS.get(level, level)}" if level else label


def _item(row, url: str) -> TodoItem:
    public_id, code, title, status, level, due_on, wb_due, accept = row
    due, due_on = db_date(wb_due), db_date(due_on)  # SQLite names no type for a CASE: ISO text
    return TodoItem(
        source=SOURCE,
        key=code,
        title=title,
        action=_action(status, bool(accept), due, due_on),
        url=url.format(public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))),
        deadline=day_end(due),
        reference=code,
        state=_state(status, level),
    )


@workbench_source
class TasksSource:
    id = SOURCE
    label = _("督办")

    def applies(self, principal) -> bool:
        return principal is not None and principal.has(COLLAB_WORK)

    def items(self, principal, query: TodoQuery) -> list[TodoItem]:
        todo = _todo_sql(principal, query, "t.*")
        if todo is None:
            return []
        sql, params = todo
        with connection.cursor() as cursor:
            cursor.execute(f'{sql} ORDER BY t."wb_due", t."code" LIMIT %s', [*params, query.limit])
            rows = cursor.fetchall()
        url = url_pattern("collab:task_detail")
        return [_item(row, url) for row in rows]

    def count(self, principal, *, due_before: datetime | None = None) -> int:
        todo = _todo_sql(principal, TodoQuery(due_before=due_before), "COUNT(*)")
        if todo is None:
            return 0
        sql, params = todo
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
