"""API: 一网协同 — 督办任务 (mounted at /api/collab/tasks).

- GET  /                               tasks I may see (status, level, department code, q, overdue; keyset)
- GET  /stats                          counts by status and level, overdue, on-time closure rate per lead unit
- POST /                               issue (TASK_ISSUE): title, lead and co units (codes), due date, milestones
- GET  /{id}                           detail: units, milestones, reports with evidence, history, my actions
- POST /{id}/accept                    签收 (a unit on the task)
- POST /{id}/reports                   进展报送 (multipart: body, progress, milestone position, files)
- POST /{id}/milestones/{position}/done  a milestone done (the lead unit)
- POST /{id}/submit                    申请办结 (the lead unit)
- POST /{id}/review                    审核 (the issuer side): decision done | return, note (required to return)
- POST /{id}/cancel                    撤销 (the issuer side) with a reason
- POST /{id}/notes                     批示 (TASK_ISSUE)
- GET  /{id}/evidence/{evidence_id}    an evidence file

Errors are problem+json: 401; 403 (missing permission, a co-handler acting for the lead, a unit reviewing its own
task); 404 (a task I may not see, a guessed id); 409 (the task's state does not allow the step); 422 (field
errors; nothing written).

(No `from __future__ import annotations` here: django-ninja reads the annotations at import time.)
"""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from yiwang.core.apiutils import principal_of, problem, requires
from yiwang.core.models import Department
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import COLLAB_WORK, MEETING_CONVENE, TASK_ISSUE
from yiwang.core.schemas import ProblemOut

from .models import Task
from .selectors import tasks as sel
from .services.tasks import (
    TaskStateError,
    task_accept,
    task_actions_for,
    task_cancel,
    task_issue,
    task_milestone_done,
    task_note,
    task_report,
    task_review,
    task_submit,
    task_unit_of,
)

router = Router(tags=["一网协同：督办任务"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}
_WRITE = {**_READ, 409: ProblemOut}


# --- schemas ---------------------------------------------------------------------------------------------------
class TaskDeptRef(Schema):
    code: str
    name: str


class TaskListItemOut(Schema):
    id: UUID
    code: str
    title: str
    status: str
    status_label: str
    level: int
    level_label: str
    source: str
    lead_department: TaskDeptRef
    issuing_department: TaskDeptRef
    start_on: date
    due_on: date
    next_report_due: date | None
    progress: int


class TaskPageOut(Schema):
    items: list[TaskListItemOut]
    next_cursor: str | None


class TaskUnitOut(Schema):
    department: TaskDeptRef
    role: str
    accepted_at: datetime | None


class TaskMilestoneOut(Schema):
    position: int
    title: str
    due_on: date
    done_at: datetime | None


class TaskEvidenceOut(Schema):
    id: UUID
    name: str
    content_type: str
    size: int
    sm3: str
    url: str


class TaskReportOut(Schema):
    id: UUID
    department: TaskDeptRef
    staff: str
    body: str
    progress: int
    milestone: int | None
    created_at: datetime
    evidence: list[TaskEvidenceOut]


class TaskEventOut(Schema):
    kind: str
    kind_label: str
    level: int
    actor: str
    department: TaskDeptRef | None
    note: str
    at: datetime


class TaskDetailOut(TaskListItemOut):
    description: str
    issued_by: str
    indicator: str | None
    submitted_at: datetime | None
    closed_at: datetime | None
    review_note: str
    units: list[TaskUnitOut]
    milestones: list[TaskMilestoneOut]
    reports: list[TaskReportOut]
    history: list[TaskEventOut]
    actions: list[str]


class TaskMilestoneIn(Schema):
    title: str = Field(max_length=200)
    due_on: date


class TaskIssueIn(Schema):
    title: str = Field(max_length=200)
    description: str = Field("", max_length=20000)
    lead_department: str = Field(max_length=20, description="牵头单位的部门编码")
    co_departments: list[str] = Field(default_factory=list, max_length=30, description="协办单位的部门编码")
    due_on: date
    milestones: list[TaskMilestoneIn] = Field(default_factory=list, max_length=20)
    report_every_workdays: int = Field(10, ge=0, le=60)
    source: Literal["manual", "meeting"] = "manual"


class TaskNoteIn(Schema):
    note: str = Field("", max_length=4000)


class TaskReviewIn(Schema):
    decision: Literal["done", "return"]
    note: str = Field("", max_length=2000)


class TaskCancelIn(Schema):
    reason: str = Field(max_length=2000)


class TaskStatsDeptOut(Schema):
    code: str
    name: str
    closed: int
    on_time: int
    rate: float | None


class TaskStatsOut(Schema):
    by_status: dict[str, int]
    by_level: dict[str, int]
    overdue: int
    departments: list[TaskStatsDeptOut]


# --- shaping ---------------------------------------------------------------------------------------------------
def _dept(d) -> dict | None:
    return {"code": d.code, "name": d.name} if d is not None else None


def _item(t: Task) -> dict:
    return {
        "id": t.public_id,
        "code": t.code,
        "title": t.title,
        "status": t.status,
        "status_label": t.get_status_display(),
        "level": t.level,
        "level_label": t.get_level_display(),
        "source": t.source,
        "lead_department": _dept(t.lead_department),
        "issuing_department": _dept(t.issuing_department),
        "start_on": t.start_on,
        "due_on": t.due_on,
        "next_report_due": t.next_report_due,
        "progress": t.progress,
    }


def _detail(request: HttpRequest, public_id) -> dict:
    principal = principal_of(request)
    t = sel.task_get_visible(principal, public_id)
    base = f"/api/collab/tasks/{t.public_id}/evidence/"
    units = list(t.units.all())
    mine = next(
        (
            u
            for u in units
            if principal.staff is not None and u.department_id == principal.staff.department_id
        ),
        None,
    )
    return {
        **_item(t),
        "description": t.description,
        "issued_by": t.issued_by.name if t.issued_by else _("系统"),
        "indicator": t.indicator.name if t.indicator_id else None,
        "submitted_at": t.submitted_at,
        "closed_at": t.closed_at,
        "review_note": t.review_note,
        "units": [
            {"department": _dept(u.department), "role": u.role, "accepted_at": u.accepted_at} for u in units
        ],
        "milestones": [
            {"position": m.position, "title": m.title, "due_on": m.due_on, "done_at": m.done_at}
            for m in t.milestones.all()
        ],
        "reports": [
            {
                "id": r.public_id,
                "department": _dept(r.department),
                "staff": r.staff.name,
                "body": r.body,
                "progress": r.progress,
                "milestone": r.milestone.position if r.milestone_id else None,
                "created_at": r.created_at,
                "evidence": [
                    {
                        "id": e.public_id,
                        "name": e.original_name,
                        "content_type": e.content_type,
                        "size": e.size,
                        "sm3": e.sm3,
                        "url": f"{base}{e.public_id}",
                    }
                    for e in r.evidence.all()
                ],
            }
            for r in sel.task_reports(t)
        ],
        "history": [
            {
                "kind": e.kind,
                "kind_label": e.get_kind_display(),
                "level": e.level,
                "actor": e.actor.name if e.actor_id else _("系统"),
                "department": _dept(e.department),
                "note": e.note,
                "at": e.at,
            }
            for e in sel.task_history(t)
        ],
        "actions": task_actions_for(principal, t, mine if mine is not None else task_unit_of(principal, t)),
    }


def _departments(codes: list[str], field: str) -> list[Department]:
    wanted = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    found = {d.code: d for d in Department.objects.filter(code__in=wanted)}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise ValidationError({field: _("部门编码不存在：%(codes)s") % {"codes": "、".join(missing[:5])}})
    return [found[c] for c in wanted]


def _act(request: HttpRequest, public_id: UUID, step):
    principal = principal_of(request)
    task = sel.task_get_visible(principal, public_id)
    try:
        step(principal, task)
    except TaskStateError as exc:
        return problem(request, 409, _("状态冲突"), exc.messages[0])
    return Status(200, _detail(request, public_id))


# --- reads -----------------------------------------------------------------------------------------------------
@router.get("", response={200: TaskPageOut, **_READ}, summary="我可见的督办任务（按办结时限）")
@requires(COLLAB_WORK)
def tasks_list(
    request: HttpRequest,
    status: Literal["issued", "in_progress", "submitted", "done", "cancelled"] | None = Query(None),
    level: int | None = Query(None, ge=0, le=4),
    department: str | None = Query(None, max_length=20, description="牵头或协办单位的部门编码"),
    q: str | None = Query(None, max_length=100),
    overdue: bool = Query(False),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    dept = None
    if department:
        dept = Department.objects.filter(code=department).first()
        if dept is None:
            return Status(200, {"items": [], "next_cursor": None})
    page = sel.task_list_visible_to(
        principal_of(request),
        status=status,
        level=level,
        department=dept,
        q=q,
        overdue=overdue,
        after=cursor,
        limit=limit,
    )
    return {"items": [_item(t) for t in page.items], "next_cursor": page.next_cursor}


@router.get("/stats", response={200: TaskStatsOut, **_READ}, summary="督办统计：状态、等级、逾期、按期办结率")
@requires(COLLAB_WORK)
def tasks_stats(request: HttpRequest):
    stats = sel.task_stats(principal_of(request))
    stats["by_level"] = {str(k): v for k, v in stats["by_level"].items()}
    return stats


@router.get("/{uuid:public_id}", response={200: TaskDetailOut, **_READ}, summary="督办任务详情及办理历史")
@requires(COLLAB_WORK)
def tasks_get(request: HttpRequest, public_id: UUID):
    return _detail(request, public_id)


@router.get("/{uuid:public_id}/evidence/{uuid:evidence_id}", response={**_READ}, summary="下载佐证材料")
@requires(COLLAB_WORK)
def tasks_evidence(request: HttpRequest, public_id: UUID, evidence_id: UUID):
    evidence = sel.task_evidence_get_visible(principal_of(request), public_id, evidence_id)
    response = FileResponse(
        evidence.file.open("rb"),
        content_type=evidence.content_type,
        as_attachment=True,
        filename=evidence.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- writes ----------------------------------------------------------------------------------------------------
@router.post("", response={201: TaskDetailOut, **_WRITE}, summary="交办督办任务")
@requires(TASK_ISSUE, MEETING_CONVENE)
def tasks_issue(request: HttpRequest, payload: TaskIssueIn):
    principal = principal_of(request)
    lead = _departments([payload.lead_department], "lead_department")
    co = _departments(payload.co_departments, "co_departments")
    task = task_issue(
        actor=principal,
        title=payload.title,
        description=payload.description,
        lead_department=lead[0] if lead else None,
        co_departments=co,
        due_on=payload.due_on,
        milestones=[(m.title, m.due_on) for m in payload.milestones],
        source=payload.source,
        report_every_workdays=payload.report_every_workdays,
    )
    return Status(201, _detail(request, task.public_id))


@router.post("/{uuid:public_id}/accept", response={200: TaskDetailOut, **_WRITE}, summary="签收")
@requires(COLLAB_WORK)
def tasks_accept(request: HttpRequest, public_id: UUID):
    return _act(request, public_id, lambda p, t: task_accept(actor=p, task=t))


@router.post(
    "/{uuid:public_id}/reports",
    response={200: TaskDetailOut, **_WRITE},
    summary="报送进展（multipart：body 进展情况、progress 进度、milestone 节点序号、files 佐证材料，可多个）",
)
@requires(COLLAB_WORK)
def tasks_report(
    request: HttpRequest,
    public_id: UUID,
    body: Form[str] = "",
    progress: Form[int] = 0,
    milestone: Form[int] = None,
    files: File[list[UploadedFile]] = None,
):
    return _act(
        request,
        public_id,
        lambda p, t: task_report(
            actor=p, task=t, body=body, progress=progress, milestone_position=milestone, files=files or []
        ),
    )


@router.post(
    "/{uuid:public_id}/milestones/{int:position}/done",
    response={200: TaskDetailOut, **_WRITE},
    summary="完成节点（牵头单位）",
)
@requires(COLLAB_WORK)
def tasks_milestone_done(request: HttpRequest, public_id: UUID, position: int):
    return _act(request, public_id, lambda p, t: task_milestone_done(actor=p, task=t, position=position))


@router.post(
    "/{uuid:public_id}/submit", response={200: TaskDetailOut, **_WRITE}, summary="申请办结（牵头单位）"
)
@requires(COLLAB_WORK)
def tasks_submit(request: HttpRequest, public_id: UUID, payload: TaskNoteIn):
    return _act(request, public_id, lambda p, t: task_submit(actor=p, task=t, note=payload.note))


@router.post("/{uuid:public_id}/review", response={200: TaskDetailOut, **_WRITE}, summary="审核办结或退回")
@requires(TASK_ISSUE)
def tasks_review(request: HttpRequest, public_id: UUID, payload: TaskReviewIn):
    return _act(
        request,
        public_id,
        lambda p, t: task_review(actor=p, task=t, approve=payload.decision == "done", note=payload.note),
    )


@router.post("/{uuid:public_id}/cancel", response={200: TaskDetailOut, **_WRITE}, summary="撤销任务")
@requires(TASK_ISSUE)
def tasks_cancel(request: HttpRequest, public_id: UUID, payload: TaskCancelIn):
    return _act(request, public_id, lambda p, t: task_cancel(actor=p, task=t, reason=payload.reason))


@router.post("/{uuid:public_id}/notes", response={200: TaskDetailOut, **_WRITE}, summary="领导批示")
@requires(TASK_ISSUE)
def tasks_note(request: HttpRequest, public_id: UUID, payload: TaskNoteIn):
    return _act(request, public_id, lambda p, t: task_note(actor=p, task=t, note=payload.note))
