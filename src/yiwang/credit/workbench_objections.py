"""To-do sources for 我的工作台 (core.workbench): "信用异议" — pending objections to records my department (or a
department below it) provided, due by their verification deadline (CREDIT_HANDLE); "信用修复" — pending repair
applications, due by their review deadline (CREDIT_MANAGE)."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.fields import choice_label
from yiwang.core.permissions import CREDIT_HANDLE, CREDIT_MANAGE
from yiwang.core.principal import principal_memo
from yiwang.core.selectors.org import department_subtree_ids
from yiwang.core.workbench import TodoItem, TodoQuery, after_q, day_end, workbench_source

from .models import CreditObjection, CreditRepair

OBJECTIONS = "credit.objections"
REPAIRS = "credit.repairs"


def _objections_pending(principal):
    if principal.staff is None:
        return CreditObjection.objects.none()
    subtree = principal_memo(
        principal,
        "credit.handle_subtree",
        lambda: frozenset(department_subtree_ids(principal.staff.department)),
    )
    return CreditObjection.objects.filter(department_id__in=subtree, status=CreditObjection.Status.PENDING)


def _due(qs, due_before: datetime | None):
    if due_before is None:
        return qs
    from yiwang.core.workbench import LOCAL

    return qs.filter(due_date__lt=due_before.astimezone(LOCAL).date())


@workbench_source
class ObjectionSource:
    id = OBJECTIONS
    label = gettext_lazy("信用异议")

    def applies(self, principal) -> bool:
        return principal.has(CREDIT_HANDLE)

    def items(self, principal, query: TodoQuery) -> list[TodoItem]:
        rows = (
            _objections_pending(principal)
            .filter(after_q(query, OBJECTIONS, "due_date", "public_id", dates=True))
            .select_related("record")
            .order_by("due_date", "public_id")[: query.limit]
        )
        return [
            TodoItem(
                source=OBJECTIONS,
                key=str(o.public_id),
                title=o.record.title,
                action=str(_("核实异议")),
                url=reverse("credit:objection_detail", args=[o.public_id]),
                deadline=day_end(o.due_date),
                reference=o.number,
                state=str(choice_label(o, "status")),
            )
            for o in rows
        ]

    def count(self, principal, *, due_before: datetime | None = None) -> int:
        return _due(_objections_pending(principal), due_before).count()


def _repairs_pending(principal):
    if principal.staff is None or not principal.has(CREDIT_MANAGE):
        return CreditRepair.objects.none()
    return CreditRepair.objects.filter(status=CreditRepair.Status.PENDING)


@workbench_source
class RepairSource:
    id = REPAIRS
    label = gettext_lazy("信用修复")

    def applies(self, principal) -> bool:
        return principal.has(CREDIT_MANAGE)

    def items(self, principal, query: TodoQuery) -> list[TodoItem]:
        rows = (
            _repairs_pending(principal)
            .filter(after_q(query, REPAIRS, "due_date", "public_id", dates=True))
            .select_related("record", "entry")
            .order_by("due_date", "public_id")[: query.limit]
        )
        return [
            TodoItem(
                source=REPAIRS,
                key=str(r.public_id),
                title=r.record.title if r.record_id else r.entry.reason,
                action=str(_("审核修复")),
                url=reverse("credit:repair_detail", args=[r.public_id]),
                deadline=day_end(r.due_date),
                reference=r.number,
                state=str(choice_label(r, "status")),
            )
            for r in rows
        ]

    def count(self, principal, *, due_before: datetime | None = None) -> int:
        return _due(_repairs_pending(principal), due_before).count()


WORKBENCH_SOURCES: tuple = (ObjectionSource, RepairSource)
