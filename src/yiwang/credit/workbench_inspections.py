"""To-do sources for 我的工作台 (core.workbench): "检查任务" — the inspection tasks assigned to me and not yet
recorded, due by their inspection deadline (INSPECTION_EXECUTE); "结果公示" — my department's recorded results
waiting for publication, due by their publish_by date (SUPERVISION_PLAN)."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.fields import choice_label
from yiwang.core.permissions import INSPECTION_EXECUTE, SUPERVISION_PLAN
from yiwang.core.workbench import TodoItem, TodoQuery, after_q, day_end, workbench_source

from .models import InspectionTask

TASKS = "credit.inspections"
PUBLISH = "credit.inspection_results"


def _mine(principal):
    if principal.staff is None:
        return InspectionTask.objects.none()
    return InspectionTask.objects.filter(
        status=InspectionTask.Status.ASSIGNED, inspectors__staff_id=principal.staff.pk
    )


def _to_publish(principal):
    if principal.staff is None:
        return InspectionTask.objects.none()
    return InspectionTask.objects.filter(
        status=InspectionTask.Status.DONE, draw__department_id=principal.staff.department_id
    )


def _due(qs, due_before: datetime | None, field: str):
    if due_before is not None:
        from yiwang.core.workbench import LOCAL

        qs = qs.filter(**{f"{field}__isnull": False, f"{field}__lt": due_before.astimezone(LOCAL).date()})
    return qs


@workbench_source
class InspectionTaskSource:
    id = TASKS
    label = gettext_lazy("检查任务")

    def applies(self, principal) -> bool:
        return principal.has(INSPECTION_EXECUTE)

    def items(self, principal, query: TodoQuery) -> list[TodoItem]:
        rows = (
            _mine(principal)
            .filter(after_q(query, TASKS, "due_date", "public_id", dates=True))
            .select_related("organisation", "draw")
            .order_by("due_date", "public_id")[: query.limit]
        )
        return [
            TodoItem(
                source=TASKS,
                key=str(t.public_id),
                title=t.organisation.name,
                action=str(_("现场检查")),
                url=reverse("credit:inspection_detail", args=[t.public_id]),
                deadline=day_end(t.due_date),
                reference=t.draw.number,
                state=str(choice_label(t, "status")),
            )
            for t in rows
        ]

    def count(self, principal, *, due_before: datetime | None = None) -> int:
        return _due(_mine(principal), due_before, "due_date").count()


@workbench_source
class InspectionPublishSource:
    id = PUBLISH
    label = gettext_lazy("结果公示")

    def applies(self, principal) -> bool:
        return principal.has(SUPERVISION_PLAN)

    def items(self, principal, query: TodoQuery) -> list[TodoItem]:
        rows = (
            _to_publish(principal)
            .filter(after_q(query, PUBLISH, "publish_by", "public_id", dates=True))
            .select_related("organisation", "draw")
            .order_by("publish_by", "public_id")[: query.limit]
        )
        return [
            TodoItem(
                source=PUBLISH,
                key=str(t.public_id),
                title=t.organisation.name,
                action=str(_("公示检查结果")),
                url=reverse("credit:supervision_results"),
                deadline=day_end(t.publish_by) if t.publish_by else None,
                reference=t.draw.number,
                state=str(choice_label(t, "result")),
            )
            for t in rows
        ]

    def count(self, principal, *, due_before: datetime | None = None) -> int:
        return _due(_to_publish(principal), due_before, "publish_by").count()


WORKBENCH_SOURCES: tuple = (InspectionTaskSource, InspectionPublishSource)
