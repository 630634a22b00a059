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
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from yiwang.catalog.models import ServiceItem
from yiwang.core.memo import ProcessMemo
from yiwang.core.permissions import CASE_APPROVE, CASE_INTAKE
from yiwang.core.principal import Principal
from yiwang.core.workbench import (
    COUNT_CAP,
    FAR,
    TodoItem,
    TodoQuery,
    after_q,
    after_sql,
    capped_count,
    day_end,
    url_pattern,
    workbench_source,
)

from .models import Case
from .selectors import _inbox_branches, _step_name
from .workflow import ACTIVE_STATES, principal_active, process_of

SOURCE = "cases"
KEY_WIDTH = 12
_KEY = re.compile(rf"[0-9]{{{KEY_WIDTH}}}")


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


_CASE = '"cases_case"'
_ITEM = '"catalog_serviceitem"'
# The open steps every source row has (the partial indexes case_open_dept_step_idx and case_open_step_idx hold
# them).
_OPEN = (
    f'{_CASE}."state" IN ({", ".join(["%s"] * len(ACTIVE_STATES))}) AND {_CASE}."step_due_date" IS NOT NULL'
)
_ROW_SQL = (
    f'SELECT c."id", c."public_id", c."number", c."state", c."current_step", c."step_due_date", c."item_id", '
    f'i."name", i."updated_at" FROM ({{page}}) AS page JOIN {_CASE} AS c ON c."id" = page."id" '
    f'JOIN {_ITEM} AS i ON i."id" = c."item_id" ORDER BY c."step_due_date", c."id"'
)


def _where(query: TodoQuery) -> tuple[str, list]:
    """Open steps after the query's cursor (and due before its bound), as SQL over the cases table."""
    after, params = after_sql(query, SOURCE, f'{_CASE}."step_due_date"', f'{_CASE}."id"', dates=True, key=int)
    return f"{_OPEN} AND ({after})", [*ACTIVE_STATES, *params]


def _union(branches, query: TodoQuery, *, limit: int) -> tuple[str, list] | None:
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
    where, where_params = _where(query)
    parts, params = [], []
    for department_ids, code, excluded in members:
        scope = (
            f'WHERE {where} AND {_CASE}."department_id" IN ({", ".join(["%s"] * len(department_ids))})'
            f' AND {_CASE}."current_step" = %s'
        )
        params += [*where_params, *department_ids, code]
        for department_id, items in sorted(excluded.items()):
            scope += (
                f' AND NOT ({_CASE}."department_id" = %s'
                f' AND {_CASE}."item_id" IN ({", ".join(["%s"] * len(items))}))'
            )
            params += [department_id, *sorted(items)]
        parts.append(
            f'(SELECT {_CASE}."step_due_date" AS due, {_CASE}."id" AS id FROM {_CASE} {scope} '
            f'ORDER BY {_CASE}."step_due_date", {_CASE}."id" LIMIT %s)'
        )
        params.append(limit)
    return " UNION ALL ".join(parts), params


def _page_rows(branches, query: TodoQuery) -> list[tuple] | None:
    """The page's rows in one statement: the first `limit` of the pairs' ordered index scans (the inbox's
    `_inbox_page_ids`), joined to their cases and items. None where there is no union (see _union)."""
    union = _union(branches, query, limit=query.limit)
    if union is None:
        return None
    sql, params = union
    page = f"SELECT u.id FROM ({sql}) AS u ORDER BY u.due, u.id LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(_ROW_SQL.format(page=page), [*params, query.limit])
        return cursor.fetchall()


def _fallback_rows(branches, query: TodoQuery) -> list[tuple]:
    """SQLite and very wide scopes: one OR-ed query (the same columns as _ROW_SQL)."""
    rows = (
        _base()
        .filter(_scope_q(branches))
        .filter(after_q(query, SOURCE, "step_due_date", "id", dates=True))
        .order_by("step_due_date", "id")
        .values_list(
            "id",
            "public_id",
            "number",
            "state",
            "current_step",
            "step_due_date",
            "item_id",
            "item__name",
            "item__updated_at",
        )
    )
    return list(rows[: query.limit])


# Step names per language, item version (pk, updated_at) and step code: a page names ~20 steps of a handful of
# items, and reading each item's process declaration per row cost more than the page's query. A published version
# is immutable and an edit moves updated_at; kept an hour per process (and forgotten between tests).
_STEP_NAMES = ProcessMemo(3600.0)


def _step_names(rows: list[tuple]) -> dict[tuple, str]:
    language = get_language()
    wanted = {(language, row[6], row[8], row[4]) for row in rows}

    def load(missing: set) -> dict:
        names = {}
        items = ServiceItem.objects.filter(pk__in={key[1] for key in missing}).only(
            "id", "updated_at", "process"
        )
        for item in items:
            try:
                process = process_of(item)
            except Exception:  # a broken declaration cannot stop the list; the step code stands in
                process = None
            for key in missing:
                if key[1] == item.pk and key[2] == item.updated_at:
                    names[key] = str(_step_name(process, key[3])) if process is not None else key[3]
        return names

    found = _STEP_NAMES.get_many(wanted, load)
    return {key[1:]: found.get(key) or key[3] for key in wanted}


def _base():
    return Case.objects.filter(state__in=ACTIVE_STATES, step_due_date__isnull=False)


_STATES = dict(Case.State.choices)


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
        rows = _page_rows(branches, query)
        if rows is None:
            rows = _fallback_rows(branches, query)
        url = url_pattern("cases:work")
        names = _step_names(rows)
        return [
            TodoItem(
                source=SOURCE,
                key=case_key(pk),
                title=item_name,
                action=names[(item_id, item_at, step)],
                url=url.format(public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(public_id)),
                deadline=day_end(due),
                reference=number or "",
                state=str(_STATES.get(state, state)),
            )
            for pk, public_id, number, state, step, due, item_id, item_name, item_at in rows
        ]

    def count(self, principal: Principal, *, due_before: datetime | None = None) -> int:
        branches = self._branches(principal)
        if branches is None:
            return 0
        query = TodoQuery(due_before=due_before)
        union = _union(branches, query, limit=COUNT_CAP)
        if union is None:
            condition = after_q(query, SOURCE, "step_due_date", "id", dates=True)
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
