"""工单's to-do source for 我的工作台 (core.workbench): the incidents waiting for the principal's hands.

- 处置: dispatched to the principal's department (or one below it) — INCIDENT_WORK — or to its grid (the grid
  worker, INCIDENT_HANDLE);
- 核查: handled incidents located in the grid worker's grid;
- 分拨: pending incidents in reach of a dispatcher's command centre (the district centre: all; a town centre: its
  town).
Each branch is a subset of what `scope.incident_scope_q` lets the principal see (the work page opens it).

Order: (due_at, nulls last; id); the key is the id zero-padded to 12 digits (text order = id order), matching the
(assigned_department | assigned_grid, state, due_at, id) indexes.

A page and a count are one hand-written statement each (building the ORM's statement cost more than running it).
A page is a UNION ALL of one ordered, limited index range per branch — and per department of a small subtree —,
which PostgreSQL merges instead of sorting every waiting incident, when each branch has such an index; otherwise
one OR-ed scan. A count is a UNION ALL of one capped scan per branch.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from django.db import connection
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import choice_label
from yiwang.core.memo import ProcessMemo
from yiwang.core.models import Division
from yiwang.core.permissions import INCIDENT_DISPATCH, INCIDENT_HANDLE, INCIDENT_INTAKE, INCIDENT_WORK
from yiwang.core.principal import Principal
from yiwang.core.selectors.org import department_subtree_ids
from yiwang.core.workbench import (
    COUNT_CAP,
    FAR,
    TodoItem,
    TodoQuery,
    after_sql,
    aware,
    url_pattern,
    workbench_source,
)

from .models import Incident
from .selectors import callbacks_due_queryset

SOURCE = "incidents"
KEY_WIDTH = 12
_KEY = re.compile(rf"[0-9]{{{KEY_WIDTH}}}")
S = Incident.State
_ROW_FIELDS = ("public_id", "number", "title", "state", "due_at")


def incident_key(pk: int) -> str:
    return f"{pk:0{KEY_WIDTH}d}"


def _check_cursor(query: TodoQuery) -> None:
    cursor = query.after
    if cursor is not None and cursor.source == SOURCE and not _KEY.fullmatch(cursor.key):
        raise ValueError("bad cursor")


# A department's subtree for 5 s per process: asked by every workbench page.
_SUBTREES = ProcessMemo(5.0)


def _subtree(principal: Principal) -> list[int]:
    staff = principal.staff
    return _SUBTREES.get(staff.department_id, lambda: sorted(department_subtree_ids(staff.department)))


# A branch: column → value (None: IS NULL; a list: IN). The branches are disjoint — by state, and a dispatched
# incident is either its unit's (no grid) or its grid's —, so a UNION ALL of them lists each incident once.
Branch = dict[str, object]


def waiting_branches(principal: Principal) -> list[Branch] | None:
    """The incidents waiting for the principal, as disjoint column conditions (None: none can)."""
    staff = principal.staff
    if staff is None or not staff.is_active:
        return None
    parts: list[Branch] = []
    if principal.has(INCIDENT_WORK):
        parts.append(
            {"state": S.DISPATCHED, "assigned_grid_id": None, "assigned_department_id": _subtree(principal)}
        )
    if principal.has(INCIDENT_HANDLE) and staff.grid_id is not None:
        parts.append({"state": S.DISPATCHED, "assigned_grid_id": staff.grid_id})
        parts.append({"state": S.HANDLED, "grid_id": staff.grid_id})
    if principal.has(INCIDENT_DISPATCH):
        department = staff.department
        if department.is_command_centre and department.division_id:
            level = department.division.level
            if level == Division.Level.DISTRICT:
                parts.append({"state": S.PENDING})
            elif level == Division.Level.TOWN:
                parts.append({"state": S.PENDING, "town_id": department.division_id})
    return parts or None


# --- the statements -------------------------------------------------------------------------------------------
_TABLE = f'"{Incident._meta.db_table}"'
_ROW = '"id", "public_id", "number", "title", "state", "due_at"'
_ORDER = '"due_at" ASC NULLS LAST, "id" ASC'
# A subtree of up to this many departments is one branch per department, each an ordered range of
# incident_unit_idx; a wider one stays one IN branch.
_WIDE = 8
# The equality columns in front of the (…, state, due_at, id) indexes: a branch fixing one of these sets is read in
# page order straight from its index.
_INDEXED = (frozenset({"assigned_department_id", "state"}), frozenset({"assigned_grid_id", "state"}))


def _split(branches: list[Branch]) -> list[Branch]:
    """The branches with a small department list split per department; a branch over an empty list matches
    nothing and is dropped ("IN ()" is no SQL)."""
    split: list[Branch] = []
    for branch in branches:
        lists = [(column, value) for column, value in branch.items() if isinstance(value, list)]
        if not lists:
            split.append(branch)
            continue
        column, values = lists[0]
        if len(values) > _WIDE:
            split.append(branch)
        else:
            split += [{**branch, column: value} for value in values]
    return split


def _indexed(branch: Branch) -> bool:
    fixed = {column for column, value in branch.items() if value is not None and not isinstance(value, list)}
    return any(columns <= fixed for columns in _INDEXED)


def _page_members(branches: list[Branch]) -> list[list[Branch]]:
    """A page's union members (each an OR of branches). One member per branch when each is an ordered index range
    (PostgreSQL merges their first rows); otherwise a single OR-ed member: a branch without such an index (all
    pending incidents, a grid's handled ones) is sorted whole either way, and PostgreSQL does that faster from one
    bitmap over the OR than from an index scan per branch (bench_wb: 5 ms against 14 ms for a dispatcher)."""
    if all(_indexed(branch) for branch in branches):
        return [[branch] for branch in branches]
    return [branches] if branches else []


def _branch_where(branch: Branch) -> tuple[str, list]:
    parts: list[str] = []
    params: list = []
    for column, value in branch.items():
        if value is None:
            parts.append(f'"{column}" IS NULL')
        elif isinstance(value, list):
            parts.append(f'"{column}" IN ({", ".join(["%s"] * len(value))})')
            params += value
        else:
            parts.append(f'"{column}" = %s')
            params.append(str(value) if isinstance(value, str) else value)  # a choice is a str subclass
    return " AND ".join(parts), params


def _member_where(member: list[Branch]) -> tuple[str, list]:
    parts: list[str] = []
    params: list = []
    for branch in member:
        where, where_params = _branch_where(branch)
        parts.append(f"({where})")
        params += where_params
    return " OR ".join(parts), params


def _union(
    members: list[list[Branch]], after: tuple[str, list], *, select: str, order: str, limit: int
) -> tuple[str, list]:
    """Each member's first `limit` rows; a member is wrapped in a subquery, the only place SQLite takes an
    ORDER BY and LIMIT inside a compound statement."""
    after_where, after_params = after
    parts: list[str] = []
    params: list = []
    for n, member in enumerate(members):
        where, where_params = _member_where(member)
        parts.append(
            f"SELECT * FROM (SELECT {select} FROM {_TABLE} WHERE ({where}) AND ({after_where}){order} LIMIT %s)"
            f" AS m{n}"
        )
        params += [*where_params, *after_params, limit]
    return " UNION ALL ".join(parts), params


def _waiting(principal: Principal) -> list[Branch]:
    branches = waiting_branches(principal)
    return _split(branches) if branches else []


_ACTIONS = {S.PENDING: _("分拨"), S.DISPATCHED: _("处置"), S.HANDLED: _("核查")}
_STATES = dict(S.choices)


def _item(row: tuple, url: str) -> TodoItem:
    pk, public_id, number, title, state, due_at = row
    label = str(_STATES.get(state, state))
    return TodoItem(
        source=SOURCE,
        key=incident_key(pk),
        title=title,
        action=str(_ACTIONS.get(state, label)),
        url=url.format(public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))),
        deadline=aware(due_at),
        reference=number,
        state=label,
    )


@workbench_source
class IncidentWork:
    id = SOURCE
    label = _("工单")

    def applies(self, principal: Principal) -> bool:
        return principal.staff is not None and (
            principal.has(INCIDENT_WORK) or principal.has(INCIDENT_HANDLE) or principal.has(INCIDENT_DISPATCH)
        )

    def items(self, principal: Principal, query: TodoQuery) -> list[TodoItem]:
        _check_cursor(query)
        members = _page_members(_waiting(principal)) if self.applies(principal) else []
        if not members:
            return []
        after = after_sql(query, SOURCE, '"due_at"', '"id"', key=int)
        union, params = _union(members, after, select=_ROW, order=f" ORDER BY {_ORDER}", limit=query.limit)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM ({union}) AS u ORDER BY {_ORDER} LIMIT %s", [*params, query.limit])
            rows = cursor.fetchall()
        url = url_pattern("incidents:detail")
        return [_item(row, url) for row in rows]

    def count(self, principal: Principal, *, due_before: datetime | None = None) -> int:
        # One member per branch, whatever its index: unordered, each stops at the cap, and so does the whole (a
        # badge past COUNT_CAP shows "1000+"); a dispatcher's count reads 1,000 rows, not a bitmap of all pending.
        members = [[branch] for branch in _waiting(principal)] if self.applies(principal) else []
        if not members:
            return 0
        after = after_sql(TodoQuery(due_before=due_before), SOURCE, '"due_at"', '"id"')
        union, params = _union(members, after, select='"id"', order="", limit=COUNT_CAP)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT 1 AS one FROM ({union}) AS u LIMIT %s) AS c",
                [*params, COUNT_CAP],
            )
            return cursor.fetchone()[0]

    def overdue_by_department(self, today) -> dict[int, int]:
        """Adoption figures: dispatched incidents past their deadline, per assigned department (one query)."""
        rows = (
            Incident.objects.filter(
                state=S.DISPATCHED, due_at__lt=timezone.now(), assigned_department_id__isnull=False
            )
            .values("assigned_department_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        return {row["assigned_department_id"]: row["n"] for row in rows}


CALLBACKS = "incidents.callbacks"


@workbench_source
class IncidentCallbacks:
    """回访: closed incidents whose reporter is still to be called back (the hotline's and the centres' queue,
    `selectors.callbacks_due_queryset`); no deadline of their own, so they follow the dated work."""

    id = CALLBACKS
    label = _("回访")

    def applies(self, principal: Principal) -> bool:
        return principal.staff is not None and (
            principal.has(INCIDENT_INTAKE) or principal.has(INCIDENT_DISPATCH)
        )

    def items(self, principal: Principal, query: TodoQuery) -> list[TodoItem]:
        cursor = query.after
        if cursor is not None and cursor.source == CALLBACKS and not _KEY.fullmatch(cursor.key):
            raise ValueError("bad cursor")
        queryset = callbacks_due_queryset(principal)
        if queryset is None or query.due_before is not None:  # nothing here is overdue or due soon
            return []
        if cursor is not None and cursor.deadline >= FAR:  # the cursor is among the undated items too
            if CALLBACKS < cursor.source:
                return []
            if CALLBACKS == cursor.source:
                queryset = queryset.filter(id__gt=int(cursor.key))
        rows = queryset.only(*_ROW_FIELDS).order_by("id")[: query.limit]
        return [
            TodoItem(
                source=CALLBACKS,
                key=incident_key(incident.pk),
                title=incident.title,
                action=str(_("回访")),
                url=reverse("incidents:detail", args=[incident.public_id]),
                reference=incident.number,
                state=str(choice_label(incident, "state")),
            )
            for incident in rows
        ]

    def count(self, principal: Principal, *, due_before: datetime | None = None) -> int:
        queryset = callbacks_due_queryset(principal)
        return 0 if queryset is None or due_before is not None else queryset.count()


# What AppConfig.ready() imports: the sources above, registered by their decorator.
WORKBENCH_SOURCES = (IncidentWork, IncidentCallbacks)
