"""数据中台's to-do sources for 我的工作台 (core.workbench), one per queue:

- `datahub.share` 共享申请: requests my department must answer (提供方: requested), offers my department must
  accept (申请方: offered) — DATA_STEWARD; agreed requests waiting for the centre's approval — DATA_CENTRE;
- `datahub.objections` 纠错: open objections whose 数源部门 is my department or one below it (DATA_STEWARD);
- `datahub.census` 数据普查: my units' returns to fill while the round is open (DATA_STEWARD), submitted returns to
  review (DATA_CENTRE).

Each is a subset of what the module's own selectors let the principal see. Order: (deadline, nulls last; id), the
key the id zero-padded to 12 digits (text order = id order).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import choice_label
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.principal import Principal, principal_memo
from yiwang.core.selectors.org import department_subtree_ids
from yiwang.core.workbench import TodoItem, TodoQuery, after_q, day_end, workbench_source

from .models import CensusReturn, CensusRound, ShareRequest
from .models.objections import Objection
from .services.census import EDITABLE
from .services.objections import OPEN_STATUSES

KEY_WIDTH = 12
_KEY = re.compile(rf"[0-9]{{{KEY_WIDTH}}}")
SR = ShareRequest.State
RS = CensusReturn.Status


def data_key(pk: int) -> str:
    return f"{pk:0{KEY_WIDTH}d}"


def _check_cursor(query: TodoQuery, source: str) -> None:
    cursor = query.after
    if cursor is not None and cursor.source == source and not _KEY.fullmatch(cursor.key):
        raise ValueError("bad cursor")


def _any(parts: list[Q]) -> Q | None:
    if not parts:
        return None
    q = parts[0]
    for part in parts[1:]:
        q |= part
    return q


def _steward_department_id(principal: Principal) -> int | None:
    staff = principal.staff
    if staff is None or not staff.is_active or not principal.has(DATA_STEWARD):
        return None
    return staff.department_id


def _subtree(principal: Principal) -> list[int]:
    department = principal.staff.department
    return principal_memo(
        principal, "datahub.workbench.subtree", lambda: sorted(department_subtree_ids(department))
    )


def _is_centre(principal: Principal) -> bool:
    staff = principal.staff
    return staff is not None and staff.is_active and principal.has(DATA_CENTRE)


class _Source:
    id = ""
    deadline_field = ""
    dates = False

    def applies(self, principal: Principal) -> bool:
        return principal.staff is not None and (principal.has(DATA_STEWARD) or principal.has(DATA_CENTRE))

    def scope(self, principal: Principal) -> Q | None:  # pragma: no cover - each source defines it
        raise NotImplementedError

    def rows(self):  # pragma: no cover
        raise NotImplementedError

    def item(self, row) -> TodoItem:  # pragma: no cover
        raise NotImplementedError

    def items(self, principal: Principal, query: TodoQuery) -> list[TodoItem]:
        _check_cursor(query, self.id)
        scope = self.scope(principal) if self.applies(principal) else None
        if scope is None:
            return []
        rows = (
            self.rows()
            .filter(scope)
            .filter(after_q(query, self.id, self.deadline_field, "id", dates=self.dates))
            .order_by(F(self.deadline_field).asc(nulls_last=True), "id")[: query.limit]
        )
        return [self.item(row) for row in rows]

    def count(self, principal: Principal, *, due_before: datetime | None = None) -> int:
        scope = self.scope(principal) if self.applies(principal) else None
        if scope is None:
            return 0
        condition = after_q(
            TodoQuery(due_before=due_before), self.id, self.deadline_field, "id", dates=self.dates
        )
        return self.rows().filter(scope).filter(condition).count()


@workbench_source
class ShareRequests(_Source):
    id = "datahub.share"
    label = _("共享申请")
    deadline_field = "due_at"

    def scope(self, principal: Principal) -> Q | None:
        parts = []
        department_id = _steward_department_id(principal)
        if department_id is not None:
            parts.append(Q(provider_id=department_id, state=SR.REQUESTED))
            parts.append(Q(requester_id=department_id, state=SR.OFFERED))
        if _is_centre(principal):
            parts.append(Q(state=SR.AGREED, centre_step=True))
        return _any(parts)

    def rows(self):
        return ShareRequest.objects.select_related("resource").only(
            "public_id", "number", "state", "due_at", "resource__name"
        )

    def item(self, row: ShareRequest) -> TodoItem:
        action = {SR.REQUESTED: _("答复"), SR.OFFERED: _("确认条件"), SR.AGREED: _("审批")}.get(row.state, "")
        return TodoItem(
            source=self.id,
            key=data_key(row.pk),
            title=row.resource.name,
            action=str(action),
            url=reverse("datahub:share_request_detail", args=[row.public_id]),
            deadline=row.due_at,
            reference=row.number,
            state=str(choice_label(row, "state")),
        )

    def overdue_by_department(self, today: date) -> dict[int, int]:
        rows = (
            ShareRequest.objects.filter(state=SR.REQUESTED, due_at__lt=timezone.now())
            .values("provider_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        return {row["provider_id"]: row["n"] for row in rows}


@workbench_source
class Objections(_Source):
    id = "datahub.objections"
    label = _("纠错")
    deadline_field = "due_on"
    dates = True

    def scope(self, principal: Principal) -> Q | None:
        if _steward_department_id(principal) is None:
            return None
        return Q(source_department_id__in=_subtree(principal), status__in=OPEN_STATUSES)

    def rows(self):
        return Objection.objects.select_related("resource").only(
            "public_id", "number", "status", "due_on", "resource__name"
        )

    def item(self, row: Objection) -> TodoItem:
        return TodoItem(
            source=self.id,
            key=data_key(row.pk),
            title=row.resource.name if row.resource_id else row.number,
            action=str(_("核实")),
            url=reverse("datahub:objection_detail", args=[row.public_id]),
            deadline=day_end(row.due_on),
            reference=row.number,
            state=str(choice_label(row, "status")),
        )

    def overdue_by_department(self, today: date) -> dict[int, int]:
        rows = (
            Objection.objects.filter(status__in=OPEN_STATUSES, due_on__lt=today)
            .values("source_department_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        return {row["source_department_id"]: row["n"] for row in rows}


@workbench_source
class CensusReturns(_Source):
    id = "datahub.census"
    label = _("数据普查")
    deadline_field = "round__due_on"
    dates = True

    def scope(self, principal: Principal) -> Q | None:
        parts = []
        if _steward_department_id(principal) is not None:
            parts.append(Q(unit_id__in=_subtree(principal), status__in=EDITABLE))
        if _is_centre(principal):
            parts.append(Q(status=RS.SUBMITTED))
        q = _any(parts)
        return None if q is None else q & Q(round__status=CensusRound.Status.OPEN)

    def rows(self):
        return CensusReturn.objects.select_related("round", "unit").only(
            "public_id", "status", "round__name", "round__due_on", "unit__name"
        )

    def item(self, row: CensusReturn) -> TodoItem:
        action = _("审核") if row.status == RS.SUBMITTED else _("填报")
        return TodoItem(
            source=self.id,
            key=data_key(row.pk),
            title=f"{row.round.name} · {row.unit.name}",
            action=str(action),
            url=reverse("datahub:census_return_detail", args=[row.public_id]),
            deadline=day_end(row.round.due_on),
            reference=row.round.name,
            state=str(choice_label(row, "status")),
        )

    def overdue_by_department(self, today: date) -> dict[int, int]:
        rows = (
            CensusReturn.objects.filter(
                round__status=CensusRound.Status.OPEN, status__in=EDITABLE, round__due_on__lt=today
            )
            .values("unit_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        return {row["unit_id"]: row["n"] for row in rows}


# What AppConfig.ready() imports: the sources above, registered by their decorator.
WORKBENCH_SOURCES = (ShareRequests, Objections, CensusReturns)
