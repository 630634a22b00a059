"""API: 一网协同 — 办会 (mounted at /api/collab/meetings).

- GET  /                     my meetings (convened by my department or where I am invited; keyset; scope, status)
- POST /                     convene (MEETING_CONVENE): title, times, place, notice, reply_by, attendees, agenda
- GET  /{id}                 detail: agenda, papers, attendees and replies, attendance summary, decisions and their
                             tasks, my invitation, the actions open to me
- POST /{id}/notify          draft → notified (attendees told)
- POST /{id}/respond         attend / decline (reason) / delegate (a colleague of my department)
- POST /{id}/papers          multipart: file (+ agenda position)
- POST /{id}/hold            held: who was present
- POST /{id}/minutes         minutes + decisions → each decision a 督办 task
- POST /{id}/cancel

Errors are problem+json: 401, 403 (missing permission, not the convening department), 404 (a meeting I may not
see, a guessed id), 422 (field errors; nothing written).

(No `from __future__ import annotations` here: django-ninja reads the annotations at import time.)
"""

from datetime import date, datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.models import Department, Staff
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import COLLAB_WORK, MEETING_CONVENE
from yiwang.core.schemas import ProblemOut

from .selectors import meetings as sel
from .services.meetings import (
    meeting_cancel,
    meeting_create,
    meeting_hold,
    meeting_minutes,
    meeting_notify,
    meeting_paper_add,
    meeting_respond,
)

router = Router(tags=["一网协同：办会"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


# --- schemas ---------------------------------------------------------------------------------------------------
class MeetingDeptRef(Schema):
    code: str
    name: str


class MeetingAgendaIn(Schema):
    title: str = Field(max_length=200)
    presenter: str | None = Field(None, max_length=20, description="汇报单位的部门编码")


class MeetingIn(Schema):
    title: str = Field(max_length=200)
    starts_at: datetime
    ends_at: datetime
    place: str = Field(max_length=200)
    notice: str = Field("", max_length=10000)
    reply_by: datetime | None = None
    attendees: list[UUID] = Field(default_factory=list, max_length=300, description="参会人员 public id")
    agenda: list[MeetingAgendaIn] = Field(default_factory=list, max_length=30)


class MeetingRespondIn(Schema):
    response: str = Field(
        description="attend（参加）、decline（请假，须说明原因）、delegate（委派本单位同事）"
    )
    delegate: UUID | None = Field(None, description="被委派人的 public id")
    reason: str = Field("", max_length=200)


class MeetingHoldIn(Schema):
    present: list[UUID] = Field(default_factory=list, max_length=300, description="出席人员 public id")


class MeetingDecisionIn(Schema):
    text: str = Field(max_length=4000)
    lead_department: str = Field(max_length=20, description="牵头单位的部门编码")
    due_on: date


class MeetingMinutesIn(Schema):
    minutes: str = Field(max_length=50000)
    decisions: list[MeetingDecisionIn] = Field(default_factory=list, max_length=30)


class MeetingCancelIn(Schema):
    reason: str = Field("", max_length=200)


class MeetingPaperIn(Schema):
    agenda: int | None = Field(None, ge=1, le=100, description="议题序号")


class MeetingSummaryOut(Schema):
    invited: int
    attend: int
    decline: int
    delegate: int
    pending: int
    present: int
    absent: int


class MeetingListItemOut(Schema):
    id: UUID
    title: str
    department: MeetingDeptRef
    convener: str
    starts_at: datetime
    ends_at: datetime
    place: str
    status: str
    status_label: str
    reply_by: datetime | None = None
    my_response: str | None = None
    invited: int
    attend: int
    decline: int
    delegate: int
    pending: int


class MeetingPageOut(Schema):
    items: list[MeetingListItemOut]
    next_cursor: str | None = None


class MeetingAgendaOut(Schema):
    position: int
    title: str
    presenter: MeetingDeptRef | None = None


class MeetingPaperOut(Schema):
    id: UUID
    name: str
    content_type: str
    size: int
    sm3: str
    agenda: int | None = None
    download_url: str


class MeetingAttendeeOut(Schema):
    staff: UUID
    name: str
    department: MeetingDeptRef
    response: str
    response_label: str
    delegate: str | None = None
    reason: str
    responded_at: datetime | None = None
    attended: bool | None = None


class MeetingDecisionOut(Schema):
    position: int
    text: str
    lead_department: MeetingDeptRef
    due_on: date
    task: UUID | None = None
    task_code: str | None = None


class MeetingOut(Schema):
    id: UUID
    title: str
    department: MeetingDeptRef
    convener: str
    starts_at: datetime
    ends_at: datetime
    place: str
    notice: str
    status: str
    status_label: str
    reply_by: datetime | None = None
    minutes: str
    minutes_at: datetime | None = None
    agenda: list[MeetingAgendaOut]
    papers: list[MeetingPaperOut]
    attendees: list[MeetingAttendeeOut]
    summary: MeetingSummaryOut
    decisions: list[MeetingDecisionOut]
    my_response: str | None = None
    actions: list[str]


# --- shaping ---------------------------------------------------------------------------------------------------
def _dept(d) -> dict | None:
    return {"code": d.code, "name": d.name} if d is not None else None


def _detail(principal, meeting) -> dict:
    d = sel.meeting_detail(principal, meeting)
    m = d.meeting
    return {
        "id": m.public_id,
        "title": m.title,
        "department": _dept(m.department),
        "convener": m.convener.name,
        "starts_at": m.starts_at,
        "ends_at": m.ends_at,
        "place": m.place,
        "notice": m.notice,
        "status": m.status,
        "status_label": str(m.get_status_display()),
        "reply_by": m.reply_by,
        "minutes": m.minutes,
        "minutes_at": m.minutes_at,
        "agenda": [
            {
                "position": a.position,
                "title": a.title,
                "presenter": _dept(a.presenter) if a.presenter_id else None,
            }
            for a in d.agenda
        ],
        "papers": [
            {
                "id": p.public_id,
                "name": p.original_name,
                "content_type": p.content_type,
                "size": p.size,
                "sm3": p.sm3,
                "agenda": p.agenda_item.position if p.agenda_item_id else None,
                "download_url": reverse("collab:meeting_paper", args=[m.public_id, p.public_id]),
            }
            for p in d.papers
        ],
        "attendees": [
            {
                "staff": a.staff.public_id,
                "name": a.staff.name,
                "department": _dept(a.staff.department),
                "response": a.response,
                "response_label": str(a.get_response_display()),
                "delegate": a.delegate.name if a.delegate_id else None,
                "reason": a.reason,
                "responded_at": a.responded_at,
                "attended": a.attended,
            }
            for a in d.attendees
        ],
        "summary": vars(d.summary),
        "decisions": [
            {
                "position": x.position,
                "text": x.text,
                "lead_department": _dept(x.lead_department),
                "due_on": x.due_on,
                "task": x.task.public_id if x.task_id else None,
                "task_code": x.task.code if x.task_id else None,
            }
            for x in d.decisions
        ],
        "my_response": d.mine.response if d.mine else None,
        "actions": d.actions,
    }


def _department(code: str | None, field: str) -> Department | None:
    if not code:
        return None
    department = Department.objects.filter(code=code.strip(), is_active=True).first()
    if department is None:
        raise ValidationError({field: _("没有这个部门：%(code)s") % {"code": code[:20]}})
    return department


# --- operations ------------------------------------------------------------------------------------------------
@router.get("", response={200: MeetingPageOut, **_READ}, summary="我的会议（本单位召集或受邀参加）")
@requires(COLLAB_WORK)
def meetings_list(
    request: HttpRequest,
    scope: str = Query("all", description="all、convened（本单位召集）、invited（我受邀）"),
    status: str | None = Query(None),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(20, ge=1, le=200),
):
    page = sel.meeting_list_visible_to(
        principal_of(request), scope=scope, status=status, cursor=cursor, limit=limit
    )
    return {
        "items": [
            {
                "id": m.public_id,
                "title": m.title,
                "department": _dept(m.department),
                "convener": m.convener.name,
                "starts_at": m.starts_at,
                "ends_at": m.ends_at,
                "place": m.place,
                "status": m.status,
                "status_label": str(m.get_status_display()),
                "reply_by": m.reply_by,
                "my_response": m.my_response,
                "invited": m.n_invited,
                "attend": m.n_attend,
                "decline": m.n_decline,
                "delegate": m.n_delegate,
                "pending": m.n_pending,
            }
            for m in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.post("", response={201: MeetingOut, **_READ}, summary="召集会议（草稿）")
@requires(MEETING_CONVENE)
def meetings_create(request: HttpRequest, payload: MeetingIn):
    principal = principal_of(request)
    agenda = [(a.title, _department(a.presenter, "agenda")) for a in payload.agenda]
    meeting = meeting_create(
        actor=principal,
        title=payload.title,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        place=payload.place,
        notice=payload.notice,
        reply_by=payload.reply_by,
        attendees=[str(a) for a in payload.attendees],
        agenda=agenda,
    )
    return Status(201, _detail(principal, sel.meeting_get_visible(principal, meeting.public_id)))


@router.get("/{meeting_id}", response={200: MeetingOut, **_READ}, summary="会议详情")
@requires(COLLAB_WORK)
def meetings_detail(request: HttpRequest, meeting_id: str):
    principal = principal_of(request)
    return _detail(principal, sel.meeting_get_visible(principal, meeting_id))


@router.post("/{meeting_id}/notify", response={200: MeetingOut, **_READ}, summary="发出会议通知")
@requires(MEETING_CONVENE)
def meetings_notify(request: HttpRequest, meeting_id: str):
    principal = principal_of(request)
    meeting = sel.meeting_get_visible(principal, meeting_id)
    meeting_notify(actor=principal, meeting=meeting)
    return _detail(principal, meeting)


@router.post(
    "/{meeting_id}/respond", response={200: MeetingOut, **_READ}, summary="参会回执：参加、请假或委派"
)
@requires(COLLAB_WORK)
def meetings_respond(request: HttpRequest, meeting_id: str, payload: MeetingRespondIn):
    principal = principal_of(request)
    meeting = sel.meeting_get_visible(principal, meeting_id)
    delegate = None
    if payload.delegate is not None:
        delegate = Staff.objects.filter(public_id=payload.delegate).first()
        if delegate is None:
            raise ValidationError({"delegate": _("只能委派本单位在岗的同事参会。")})
    meeting_respond(
        actor=principal, meeting=meeting, response=payload.response, delegate=delegate, reason=payload.reason
    )
    return _detail(principal, meeting)


@router.post("/{meeting_id}/papers", response={201: MeetingPaperOut, **_READ}, summary="上传会议材料")
@requires(MEETING_CONVENE)
def meetings_paper(
    request: HttpRequest, meeting_id: str, payload: Form[MeetingPaperIn], file: File[UploadedFile] = None
):
    principal = principal_of(request)
    meeting = sel.meeting_get_visible(principal, meeting_id)
    item = None
    if payload.agenda is not None:
        item = meeting.agenda.filter(position=payload.agenda).first()
        if item is None:
            raise ValidationError({"agenda": _("议题不属于本次会议。")})
    paper = meeting_paper_add(actor=principal, meeting=meeting, upload=file, agenda_item=item)
    return Status(
        201,
        {
            "id": paper.public_id,
            "name": paper.original_name,
            "content_type": paper.content_type,
            "size": paper.size,
            "sm3": paper.sm3,
            "agenda": item.position if item else None,
            "download_url": reverse("collab:meeting_paper", args=[meeting.public_id, paper.public_id]),
        },
    )


@router.post("/{meeting_id}/hold", response={200: MeetingOut, **_READ}, summary="登记出席情况（会议已召开）")
@requires(MEETING_CONVENE)
def meetings_hold(request: HttpRequest, meeting_id: str, payload: MeetingHoldIn):
    principal = principal_of(request)
    meeting = sel.meeting_get_visible(principal, meeting_id)
    meeting_hold(actor=principal, meeting=meeting, present=[str(p) for p in payload.present])
    return _detail(principal, meeting)


@router.post(
    "/{meeting_id}/minutes", response={200: MeetingOut, **_READ}, summary="印发纪要：议定事项转为督办任务"
)
@requires(MEETING_CONVENE)
def meetings_minutes(request: HttpRequest, meeting_id: str, payload: MeetingMinutesIn):
    principal = principal_of(request)
    meeting = sel.meeting_get_visible(principal, meeting_id)
    decisions = [
        (d.text, _department(d.lead_department, f"decisions.{i}.lead_department"), d.due_on)
        for i, d in enumerate(payload.decisions)
    ]
    meeting_minutes(actor=principal, meeting=meeting, minutes=payload.minutes, decisions=decisions)
    return _detail(principal, meeting)


@router.post("/{meeting_id}/cancel", response={200: MeetingOut, **_READ}, summary="取消会议")
@requires(MEETING_CONVENE)
def meetings_cancel(request: HttpRequest, meeting_id: str, payload: MeetingCancelIn):
    principal = principal_of(request)
    meeting = sel.meeting_get_visible(principal, meeting_id)
    meeting_cancel(actor=principal, meeting=meeting, reason=payload.reason)
    return _detail(principal, meeting)
