"""The workbench source “督办”: tasks waiting for the caller's unit — to sign for (签收, the unit's TaskUnit not yet
accepted), in the lead unit's hands (报送进展 when a periodic report is due, else 办理/申请办结) — and, for a
TASK_ISSUE holder, the tasks their department issued that wait for review (审核). Deadline: the next report date
when it comes before the due date (the lead unit's work), else the due date."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, When
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import choice_label
from yiwang.core.permissions import COLLAB_WORK, TASK_ISSUE
from yiwang.core.workbench import TodoItem, TodoQuery, after_q, day_end, workbench_source

from .models import Task, TaskUnit
from .services.tasks import ACTIVE, task_url

SOURCE = "collab.tasks"
S = Task.Status


def tasks_todo(principal) -> QuerySet[Task]:
    """Every task waiting for the caller (one row per task), annotated with `wb_due` (its deadline here) and
    `wb_accept` (the caller's unit has not signed for it)."""
    staff = principal.staff if principal is not None else None
    if staff is None or not staff.is_active:
        return Task.objects.none()
    dept = staff.department_id
    to_accept = TaskUnit.objects.filter(task=OuterRef("pk"), department_id=dept, accepted_at__isnull=True)
    q = Q(Exists(to_accept), status__in=ACTIVE) | Q(lead_department_id=dept, status=S.IN_PROGRESS)
    if principal.has(TASK_ISSUE):
        on_task = TaskUnit.objects.filter(task=OuterRef("pk"), department_id=dept)
        q |= Q(~Exists(on_task), status=S.SUBMITTED, issuing_department_id=dept)
    lead_report = Q(
        lead_department_id=dept,
        status=S.IN_PROGRESS,
        next_report_due__isnull=False,
        next_report_due__lt=F("due_on"),
    )
    return Task.objects.filter(q).annotate(
        wb_due=Case(When(lead_report, then=F("next_report_due")), default=F("due_on")),
        wb_accept=Exists(to_accept),
    )


def _action(task: Task) -> str:
    if task.status == S.SUBMITTED:
        return str(_("审核办结"))
    if task.wb_accept:
        return str(_("签收"))
    if task.wb_due != task.due_on:
        return str(_("报送进展"))
    return str(_("办理"))


@workbench_source
class TasksSource:
    id = SOURCE
    label = _("督办")

    def applies(self, principal) -> bool:
        return principal is not None and principal.has(COLLAB_WORK)

    def items(self, principal, query: TodoQuery) -> list[TodoItem]:
        rows = (
            tasks_todo(principal)
            .filter(after_q(query, SOURCE, "wb_due", "code", dates=True))
            .order_by("wb_due", "code")
            .only("public_id", "code", "title", "status", "level", "due_on", "next_report_due")[: query.limit]
        )
        return [
            TodoItem(
                source=SOURCE,
                key=row.code,
                title=row.title,
                action=_action(row),
                url=task_url(row),
                deadline=day_end(row.wb_due),
                reference=row.code,
                state=(
                    f"{choice_label(row, 'status')} · {choice_label(row, 'level')}"
                    if row.level
                    else choice_label(row, "status")
                ),
            )
            for row in rows
        ]

    def count(self, principal, *, due_before: datetime | None = None) -> int:
        return (
            tasks_todo(principal)
            .filter(after_q(TodoQuery(due_before=due_before), SOURCE, "wb_due", "code", dates=True))
            .count()
        )
