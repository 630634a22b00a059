"""API: 一网协同 — 通知 (mounted at /api/collab/notices).

- GET  /inbox                my receipts of published notices (keyset; unread_first, unread_only)
- GET  /sent                 my department's notices with receipt figures (COLLAB_NOTICE)
- GET  /audience?kind=&q=    what I may address (the audience picker)
- POST /                     create (publish=true publishes at once)
- GET  /{id}                 one notice (recipients and the sending side; anyone else 404)
- POST /{id}/read            my read receipt (idempotent)
- POST /{id}/publish         draft → published
- POST /{id}/withdraw        → withdrawn
- GET  /{id}/unread          who has not read it (the sending side)

Errors are problem+json: 401, 403 (missing permission), 404 (not a recipient, another department's notice, a
guessed id), 422 (field errors; nothing written).

(No `from __future__ import annotations` here: django-ninja reads the annotations at import time.)
"""

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import COLLAB_NOTICE, COLLAB_WORK
from yiwang.core.schemas import ProblemOut

from .selectors import notices as sel
from .services.notices import notice_create, notice_publish, notice_read, notice_withdraw

router = Router(tags=["一网协同：通知"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


# --- schemas ---------------------------------------------------------------------------------------------------
class NoticeDeptRef(Schema):
    code: str
    name: str


class NoticeAudienceEntry(Schema):
    kind: str = Field(
        description="staff（人员 public id）、role（角色代码）、department（部门 public id）、division（区划代码，含下级）"
    )
    value: str = Field(max_length=64)


class NoticeAudienceOption(NoticeAudienceEntry):
    label: str


class NoticeIn(Schema):
    title: str = Field(max_length=200)
    body: str = Field(max_length=20000)
    audience: list[NoticeAudienceEntry] = Field(max_length=100)
    requires_receipt: bool = True
    remind_every_hours: int = Field(24, ge=0, le=720, description="0 表示不提醒")
    read_by: datetime | None = Field(None, description="阅读截止（带时区）")
    publish: bool = Field(False, description="创建后立即发布")


class NoticeWithdrawIn(Schema):
    reason: str = Field("", max_length=200)


class NoticeOut(Schema):
    id: UUID
    title: str
    body: str
    status: str
    status_label: str
    department: NoticeDeptRef
    sender: str
    requires_receipt: bool
    remind_every_hours: int
    read_by: datetime | None = None
    published_at: datetime | None = None
    recipients_count: int
    read_count: int
    audience: list[NoticeAudienceOption] = []
    read_at: datetime | None = Field(None, description="我的阅读时间（我是收件人时）")
    is_recipient: bool = False
    manages: bool = False


class NoticeInboxItemOut(Schema):
    id: UUID
    title: str
    department: NoticeDeptRef
    sender: str
    published_at: datetime | None = None
    read_by: datetime | None = None
    requires_receipt: bool
    read_at: datetime | None = None


class NoticeInboxPageOut(Schema):
    items: list[NoticeInboxItemOut]
    next_cursor: str | None = None


class NoticeSentItemOut(Schema):
    id: UUID
    title: str
    status: str
    status_label: str
    sender: str
    published_at: datetime | None = None
    recipients_count: int
    read_count: int


class NoticeSentPageOut(Schema):
    items: list[NoticeSentItemOut]
    next_cursor: str | None = None


class NoticeUnreadItemOut(Schema):
    id: UUID
    name: str
    department: NoticeDeptRef


class NoticeUnreadPageOut(Schema):
    items: list[NoticeUnreadItemOut]
    next_cursor: str | None = None


class NoticeReadOut(Schema):
    stamped: bool
    read_at: datetime | None = None


# --- shaping ---------------------------------------------------------------------------------------------------
def _dept(d) -> dict:
    return {"code": d.code, "name": d.name}


def _notice_out(view: sel.NoticeView) -> dict:
    n = view.notice
    return {
        "id": n.public_id,
        "title": n.title,
        "body": n.body,
        "status": n.status,
        "status_label": str(n.get_status_display()),
        "department": _dept(n.department),
        "sender": n.sender.name,
        "requires_receipt": n.requires_receipt,
        "remind_every_hours": n.remind_every_hours,
        "read_by": n.read_by,
        "published_at": n.published_at,
        "recipients_count": n.recipients_count,
        "read_count": n.read_count,
        "audience": [
            {"kind": o.kind, "value": o.value, "label": o.label} for o in sel.audience_label(n.audience.all())
        ]
        if view.manages
        else [],
        "read_at": view.receipt.read_at if view.receipt else None,
        "is_recipient": view.receipt is not None,
        "manages": view.manages,
    }


# --- operations ------------------------------------------------------------------------------------------------
@router.get(
    "/inbox", response={200: NoticeInboxPageOut, **_READ}, summary="我收到的通知（最新在前，可未读优先）"
)
@requires(COLLAB_WORK)
def inbox(
    request: HttpRequest,
    unread_first: bool = Query(False),
    unread_only: bool = Query(False),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(20, ge=1, le=200),
):
    page = sel.notice_inbox(
        principal_of(request), unread_first=unread_first, unread_only=unread_only, cursor=cursor, limit=limit
    )
    return {
        "items": [
            {
                "id": r.notice.public_id,
                "title": r.notice.title,
                "department": _dept(r.notice.department),
                "sender": r.notice.sender.name,
                "published_at": r.notice.published_at,
                "read_by": r.notice.read_by,
                "requires_receipt": r.notice.requires_receipt,
                "read_at": r.read_at,
            }
            for r in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.get("/sent", response={200: NoticeSentPageOut, **_READ}, summary="本单位发出的通知与回执情况")
@requires(COLLAB_NOTICE)
def sent(
    request: HttpRequest,
    status: str | None = Query(None),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(20, ge=1, le=200),
):
    page = sel.notice_sent(principal_of(request), status=status, cursor=cursor, limit=limit)
    return {
        "items": [
            {
                "id": n.public_id,
                "title": n.title,
                "status": n.status,
                "status_label": str(n.get_status_display()),
                "sender": n.sender.name,
                "published_at": n.published_at,
                "recipients_count": n.recipients_count,
                "read_count": n.read_count,
            }
            for n in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/audience", response={200: list[NoticeAudienceOption], **_READ}, summary="可选的收件对象（按类型搜索）"
)
@requires(COLLAB_NOTICE)
def audience(request: HttpRequest, kind: str = Query(...), q: str = Query("", max_length=50)):
    options = sel.audience_search(principal_of(request), kind=kind, q=q)
    return [{"kind": o.kind, "value": o.value, "label": o.label} for o in options]


@router.post("", response={201: NoticeOut, **_READ}, summary="新建通知（可立即发布）")
@requires(COLLAB_NOTICE)
def create(request: HttpRequest, payload: NoticeIn):
    principal = principal_of(request)
    notice = notice_create(
        actor=principal,
        title=payload.title,
        body=payload.body,
        audience=[(a.kind, a.value) for a in payload.audience],
        requires_receipt=payload.requires_receipt,
        remind_every_hours=payload.remind_every_hours,
        read_by=payload.read_by,
        publish=payload.publish,
    )
    return Status(201, _notice_out(sel.notice_get_visible(principal, notice.public_id)))


@router.get("/{notice_id}", response={200: NoticeOut, **_READ}, summary="通知详情")
@requires(COLLAB_WORK)
def detail(request: HttpRequest, notice_id: str):
    return _notice_out(sel.notice_get_visible(principal_of(request), notice_id))


@router.post("/{notice_id}/read", response={200: NoticeReadOut, **_READ}, summary="已读回执")
@requires(COLLAB_WORK)
def read(request: HttpRequest, notice_id: str):
    principal = principal_of(request)
    view = sel.notice_get_visible(principal, notice_id)
    stamped = notice_read(actor=principal, notice=view.notice)
    view = sel.notice_get_visible(principal, notice_id)
    return {"stamped": stamped, "read_at": view.receipt.read_at if view.receipt else None}


@router.post("/{notice_id}/publish", response={200: NoticeOut, **_READ}, summary="发布通知")
@requires(COLLAB_NOTICE)
def publish(request: HttpRequest, notice_id: str):
    principal = principal_of(request)
    view = sel.notice_get_visible(principal, notice_id)
    notice_publish(actor=principal, notice=view.notice)
    return _notice_out(sel.notice_get_visible(principal, notice_id))


@router.post("/{notice_id}/withdraw", response={200: NoticeOut, **_READ}, summary="撤回通知")
@requires(COLLAB_NOTICE)
def withdraw(request: HttpRequest, notice_id: str, payload: NoticeWithdrawIn):
    principal = principal_of(request)
    view = sel.notice_get_visible(principal, notice_id)
    notice_withdraw(actor=principal, notice=view.notice, reason=payload.reason)
    return _notice_out(sel.notice_get_visible(principal, notice_id))


@router.get(
    "/{notice_id}/unread", response={200: NoticeUnreadPageOut, **_READ}, summary="未读人员（发布单位）"
)
@requires(COLLAB_NOTICE)
def unread(
    request: HttpRequest,
    notice_id: str,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    principal = principal_of(request)
    view = sel.notice_get_visible(principal, notice_id)
    page = sel.notice_unread_recipients(principal, view, cursor=cursor, limit=limit)
    return {
        "items": [{"id": s.public_id, "name": s.name, "department": _dept(s.department)} for s in page.items],
        "next_cursor": page.next_cursor,
    }
