"""办件's to-do source for 我的工作台 (core.workbench): the case steps waiting for the principal — exactly what the
staff work queue (`selectors.inbox_for`) shows: open cases (待受理, 办理中) whose current step's role the principal
holds and whose department rule it meets, with a step due date.

Order: (step due date, id); the key is the case id zero-padded to 12 digits, so its text order is the id order
the (department, current_step, step_due_date, id) index gives. On PostgreSQL a page is the inbox's union of one
ordered index scan per (department, step) pair.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime

from django.db import connection
from django.db.models import Count, Q
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import choice_label
from yiwang.core.permissions import CASE_APPROVE, CASE_INTAKE
from yiwang.core.principal import Principal
from yiwang.core.workbench import (
    COUNT_CAP,
    FAR,
    TodoItem,
    TodoQuery,
    after_q,
    capped_count,
    day_end,
    workbench_source,
)

from .models import Case
from .selectors import _inbox_branches, _step_name
from .workflow import ACTIVE_STATES, principal_active, process_of

SOURCE = "cases"
_ZERO = uuid.UUID(int=0)
KEY_WIDTH = 12
_KEY = re.compile(rf"[0-9]{{{KEY_WIDTH}}}")
_ROW_FIELDS = (
    "public_id",
    "number",
    "state",
    "current_step",
    "step_due_date",
    "item",
    "item__name",
    "item__updated_at",
    "item__process",
)


def case_key(pk: int) -> str:
    return f"{pk:0{KEY_WIDTH}d}"


def _check_cursor(query: TodoQuery) -> None:
    cursor = query.after
    if cursor is not None and cursor.source == SOURCE and not _KEY.fullmatch(cursor.key):
        raise ValueError("bad cursor")


def _scope_q(branches) -> Q:
    scope = Q()
    for code, item_ids, department_ids, _others in branches:
        scope |= Q(department_id__in=sorted(department_ids), current_step=code, item_id__in=sorted(item_ids))
    return scope


# The inbox stops at 64 (department, step) pairs; a window clerk's intake and delivery steps over a district of
# departments pass that, and the OR-ed fallback sorts every open case at those steps. A page here is at most 101
# rows per member from its index, so the union stays cheap well beyond.
_UNION_MAX = 400
# A step open to more departments than this is one member over the open cases' (step, due, id) index, filtered by
# department, instead of one member per department: planning 80 members cost a clerk's page 9 ms (bench/workbench).
_WIDE = 8


def _members(branches) -> list[tuple[list[int], str, dict[int, frozenset[int]]]]:
    """(department ids, step code, items excluded per department) of each union member."""
    members = []
    for code, _items, department_ids, others in branches:
        if len(department_ids) > _WIDE:
            members.append(
                (sorted(department_ids), code, {d: others[d] for d in department_ids if others.get(d)})
            )
            continue
        for department_id in sorted(department_ids):
            excluded = others.get(department_id)
            members.append(([department_id], code, {department_id: excluded} if excluded else {}))
    return members


def _union(query, branches, condition: Q | None, *, limit: int) -> tuple[str, list] | None:
    """One member per (department, step) pair — or per step, over many departments —, as SQL text (compiling a
    queryset per member costs more than the index scans): each member's first `limit` (due, id) in index order.
    None on a database without ordered compound members (SQLite) or past _UNION_MAX members."""
    members = _members(branches)
    if (
        not connection.features.supports_slicing_ordering_in_compound
        or len(members) > _UNION_MAX
        or not members
    ):
        return None
    scoped = query.filter(condition) if condition is not None else query
    where, where_params = scoped.query.get_compiler(using=scoped.db).compile(scoped.query.where)
    table = connection.ops.quote_name(Case._meta.db_table)
    col = {
        name: f"{table}.{connection.ops.quote_name(name)}"
        for name in ("id", "step_due_date", "department_id", "current_step", "item_id")
    }
    parts, params = [], []
    for department_ids, code, excluded in members:
        unit = f"{col['department_id']} IN ({', '.join(['%s'] * len(department_ids))})"
        scope = f"WHERE ({where}) AND {unit} AND {col['current_step']} = %s"
        params += [*where_params, *department_ids, code]
        for department_id, items in sorted(excluded.items()):
            scope += (
                f" AND NOT ({col['department_id']} = %s"
                f" AND {col['item_id']} IN ({', '.join(['%s'] * len(items))}))"
            )
            params += [department_id, *sorted(items)]
        parts.append(
            f"(SELECT {col['step_due_date']} AS due, {col['id']} AS id FROM {table} {scope} "
            f"ORDER BY {col['step_due_date']}, {col['id']} LIMIT %s)"
        )
        params.append(limit)
    return " UNION ALL ".join(parts), params


def _page_ids(query, branches, condition: Q | None, limit: int) -> RawSQL | None:
    """The ids of one page: the first `limit` of the pairs' ordered index scans (the inbox's `_inbox_page_ids`)."""
    union = _union(query, branches, condition, limit=limit)
    if union is None:
        return None
    sql, params = union
    page = f"SELECT page.id FROM (SELECT u.id, u.due FROM ({sql}) AS u ORDER BY u.due, u.id LIMIT %s) AS page"
    return RawSQL(page, [*params, limit])


def _base():
    return Case.objects.filter(state__in=ACTIVE_STATES, step_due_date__isnull=False)


@workbench_source
class CaseSteps:
    id = SOURCE
    label = _("办件")

    def applies(self, principal: Principal) -> bool:
        return principal.staff is not None and (principal.has(CASE_INTAKE) or principal.has(CASE_APPROVE))

    def _branches(self, principal: Principal):
        if not self.applies(principal) or not principal_active(principal):
            return None
        return _inbox_branches(principal)

    def items(self, principal: Principal, query: TodoQuery) -> list[TodoItem]:
        _check_cursor(query)
        if query.after is not None and query.after.deadline >= FAR:
            return []  # every case step here has a due date: none comes after the undated items
        branches = self._branches(principal)
        if branches is None:
            return []
        condition = after_q(query, SOURCE, "step_due_date", "id", dates=True)
        base = _base()
        page_ids = _page_ids(base, branches, condition if condition else None, query.limit)
        if page_ids is not None:
            rows = Case.objects.filter(pk__in=page_ids)
        else:
            rows = base.filter(_scope_q(branches)).filter(condition)
        rows = rows.select_related("item").only(*_ROW_FIELDS).order_by("step_due_date", "id")[: query.limit]
        url = reverse("cases:work", args=[_ZERO]).replace(str(_ZERO), "{}")  # one reverse for the page
        steps: dict[tuple[int, str], str] = {}
        return [self._item(case, url, steps) for case in rows]

    def _item(self, case: Case, url: str, steps: dict) -> TodoItem:
        key = (case.item_id, case.current_step)
        action = steps.get(key)
        if action is None:
            try:
                action = str(_step_name(process_of(case.item), case.current_step))
            except Exception:  # a broken declaration cannot stop the list; the step code stands in
                action = case.current_step
            steps[key] = action
        return TodoItem(
            source=SOURCE,
            key=case_key(case.pk),
            title=case.item.name,
            action=action,
            url=url.format(case.public_id),
            deadline=day_end(case.step_due_date),
            reference=case.number or "",
            state=str(choice_label(case, "state")),
        )

    def count(self, principal: Principal, *, due_before: datetime | None = None) -> int:
        branches = self._branches(principal)
        if branches is None:
            return 0
        condition = after_q(TodoQuery(due_before=due_before), SOURCE, "step_due_date", "id", dates=True)
        union = _union(_base(), branches, condition if condition else None, limit=COUNT_CAP)
        if union is None:
            return capped_count(_base().filter(_scope_q(branches)).filter(condition))
        # Each pair's index range stops at the cap, and so does the whole: a clerk's 50,000 steps read 1,000 rows.
        sql, params = union
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM ({sql}) AS u LIMIT %s) AS c", [*params, COUNT_CAP]
            )
            return cursor.fetchone()[0]

    def overdue_by_department(self, today: date) -> dict[int, int]:
        """Adoption figures: open case steps past their due date, per handling department (one grouped query)."""
        rows = (
            Case.objects.filter(state__in=ACTIVE_STATES, step_due_date__lt=today)
            .values("department_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        return {row["department_id"]: row["n"] for row in rows}


# What AppConfig.ready() imports: the sources above, registered by their decorator.
WORKBENCH_SOURCES = (CaseSteps,)
