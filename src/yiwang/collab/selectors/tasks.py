"""督办 reads a user can reach, scoped by the caller.

Who sees what (one rule, `task_scope_q`):
- a TASK_ISSUE holder (区领导, 办公室督查) sees every task;
- any other staff member sees the tasks where their department is the lead or a co-handler, and the tasks their
  department issued;
- anyone else sees nothing. A task outside the caller's scope is "not found" (404), never "forbidden".
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import TASK_ISSUE
from yiwang.core.principal import Principal
from yiwang.core.workbench import LOCAL

from ..models import Task, TaskEvent, TaskEvidence, TaskMilestone, TaskReport, TaskUnit

__all__ = [
    "task_scope_q",
    "task_list_visible_to",
    "task_get_visible",
    "task_history",
    "task_reports",
    "task_stats",
    "task_evidence_get_visible",
]

S = Task.Status
NOTHING = Q(pk__in=[])


def task_scope_q(principal: Principal | None) -> Q:
    if principal is None:
        return NOTHING
    if principal.has(TASK_ISSUE) and principal.staff is not None:
        return Q()
    staff = principal.staff
    if staff is None or not staff.is_active:
        return NOTHING
    on_task = TaskUnit.objects.filter(task=OuterRef("pk"), department_id=staff.department_id)
    return Q(Exists(on_task)) | Q(issuing_department_id=staff.department_id)


def _visible(principal: Principal | None) -> QuerySet[Task]:
    return Task.objects.filter(task_scope_q(principal))


def task_list_visible_to(
    principal: Principal | None,
    *,
    status: str | None = None,
    level: int | None = None,
    department=None,
    q: str | None = None,
    overdue: bool = False,
    after: str | None = None,
    limit: int = 50,
) -> Page[Task]:
    """The caller's tasks, due first (then the task number), keyset-paged. `department` (a Department) keeps
    the tasks where it is lead or co-handler; `q` searches the title and the task number."""
    qs = _visible(principal)
    if status:
        qs = qs.filter(status=status)
    if level is not None:
        qs = qs.filter(level=level)
    if department is not None:
        qs = qs.filter(Exists(TaskUnit.objects.filter(task=OuterRef("pk"), department=department)))
    if q:
        text = q.strip()[:100]
        if text:
            qs = qs.filter(Q(title__icontains=text) | Q(code__iexact=text))
    if overdue:
        qs = qs.filter(status__in=(S.ISSUED, S.IN_PROGRESS, S.SUBMITTED), due_on__lt=timezone.localdate())
    qs = qs.select_related("lead_department", "issuing_department")
    return keyset_page(qs, key=("due_on", "code"), cursor=after, limit=limit)


def task_get_visible(principal: Principal | None, public_id: UUID | str) -> Task:
    """The task with its units and milestones; Http404 when it does not exist or the caller may not see it."""
    try:
        uid = public_id if isinstance(public_id, UUID) else UUID(str(public_id))
    except (ValueError, TypeError) as exc:
        raise Http404 from exc
    task = (
        _visible(principal)
        .filter(public_id=uid)
        .select_related("lead_department", "issuing_department", "issued_by", "reviewed_by", "indicator")
        .prefetch_related(
            Prefetch("units", queryset=TaskUnit.objects.select_related("department").order_by("role", "id")),
            Prefetch(
                "milestones", queryset=TaskMilestone.objects.select_related("done_by").order_by("position")
            ),
        )
        .first()
    )
    if task is None:
        raise Http404
    return task


def task_history(task: Task, *, limit: int = 200) -> list[TaskEvent]:
    return list(task.events.select_related("actor", "department").order_by("at", "id")[:limit])


def task_reports(task: Task, *, limit: int = 100) -> list[TaskReport]:
    return list(
        task.reports.select_related("department", "staff", "milestone")
        .prefetch_related(Prefetch("evidence", queryset=TaskEvidence.objects.order_by("id")))
        .order_by("-created_at", "-id")[:limit]
    )


def task_evidence_get_visible(
    principal: Principal | None, task_public_id, evidence_public_id
) -> TaskEvidence:
    task = task_get_visible(principal, task_public_id)
    try:
        uid = UUID(str(evidence_public_id))
    except ValueError as exc:
        raise Http404 from exc
    evidence = TaskEvidence.objects.filter(report__task=task, public_id=uid).first()
    if evidence is None:
        raise Http404
    return evidence


def task_stats(principal: Principal | None, *, today: date | None = None) -> dict:
    """The overview: counts by status and by level, open tasks overdue, and per lead department the tasks
    closed after review, how many of them on time (closed on or before the due date) and the rate."""
    today = today or timezone.localdate()
    qs = _visible(principal)
    by_status = {s: 0 for s in S.values}
    for row in qs.values("status").annotate(n=Count("id")):
        by_status[row["status"]] = row["n"]
    open_qs = qs.filter(status__in=(S.ISSUED, S.IN_PROGRESS, S.SUBMITTED))
    by_level = {lv: 0 for lv in Task.Level.values}
    for row in open_qs.values("level").annotate(n=Count("id")):
        by_level[row["level"]] = row["n"]
    overdue = open_qs.filter(due_on__lt=today).count()
    closed = (
        qs.filter(status=S.DONE, closed_at__isnull=False)
        .annotate(closed_day=TruncDate("closed_at", tzinfo=LOCAL))
        .values("lead_department__code", "lead_department__name")
        .annotate(closed=Count("id"), on_time=Count("id", filter=Q(closed_day__lte=F("due_on"))))
        .order_by("lead_department__code")
    )
    departments = [
        {
            "code": row["lead_department__code"],
            "name": row["lead_department__name"],
            "closed": row["closed"],
            "on_time": row["on_time"],
            "rate": round(row["on_time"] / row["closed"], 4) if row["closed"] else None,
        }
        for row in closed
    ]
    return {"by_status": by_status, "by_level": by_level, "overdue": overdue, "departments": departments}
