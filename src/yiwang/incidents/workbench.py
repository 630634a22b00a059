"""工单's to-do source for 我的工作台 (core.workbench): the incidents waiting for the principal's hands.

- 处置: dispatched to the principal's department (or one below it) — INCIDENT_WORK — or to its grid (the grid
  worker, INCIDENT_HANDLE);
- 核查: handled incidents located in the grid worker's grid;
- 分拨: pending incidents in reach of a dispatcher's command centre (the district centre: all; a town centre: its
  town).
Each branch is a subset of what `scope.incident_scope_q` lets the principal see (the work page opens it).

Order: (due_at, nulls last; id); the key is the id zero-padded to 12 digits (text order = id order), matching the
(assigned_department | assigned_grid, state, due_at, id) indexes.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.db.models import Count, F, Q
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
    FAR,
    TodoItem,
    TodoQuery,
    after_q,
    capped_count,
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


def waiting_q(principal: Principal) -> Q | None:
    """The incidents waiting for the principal (None: none can)."""
    staff = principal.staff
    if staff is None or not staff.is_active:
        return None
    parts: list[Q] = []
    if principal.has(INCIDENT_WORK):
        parts.append(
            Q(state=S.DISPATCHED, assigned_grid__isnull=True, assigned_department_id__in=_subtree(principal))
        )
    if principal.has(INCIDENT_HANDLE) and staff.grid_id is not None:
        parts.append(Q(state=S.DISPATCHED, assigned_grid_id=staff.grid_id))
        parts.append(Q(state=S.HANDLED, grid_id=staff.grid_id))
    if principal.has(INCIDENT_DISPATCH):
        department = staff.department
        if department.is_command_centre and department.division_id:
            level = department.division.level
            if level == Division.Level.DISTRICT:
                parts.append(Q(state=S.PENDING))
            elif level == Division.Level.TOWN:
                parts.append(Q(state=S.PENDING, town_id=department.division_id))
    if not parts:
        return None
    q = parts[0]
    for part in parts[1:]:
        q |= part
    return q


_ACTIONS = {S.PENDING: _("分拨"), S.DISPATCHED: _("处置"), S.HANDLED: _("核查")}


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
        scope = waiting_q(principal) if self.applies(principal) else None
        if scope is None:
            return []
        rows = (
            Incident.objects.filter(scope)
            .filter(after_q(query, SOURCE, "due_at", "id"))
            .only(*_ROW_FIELDS)
            .order_by(F("due_at").asc(nulls_last=True), "id")[: query.limit]
        )
        return [
            TodoItem(
                source=SOURCE,
                key=incident_key(incident.pk),
                title=incident.title,
                action=str(_ACTIONS.get(incident.state, choice_label(incident, "state"))),
                url=reverse("incidents:detail", args=[incident.public_id]),
                deadline=incident.due_at,
                reference=incident.number,
                state=str(choice_label(incident, "state")),
            )
            for incident in rows
        ]

    def count(self, principal: Principal, *, due_before: datetime | None = None) -> int:
        scope = waiting_q(principal) if self.applies(principal) else None
        if scope is None:
            return 0
        condition = after_q(TodoQuery(due_before=due_before), SOURCE, "due_at", "id")
        return capped_count(Incident.objects.filter(scope).filter(condition))

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
