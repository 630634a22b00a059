"""API: 一网协同 — 公文流转 (mounted at /api/collab/documents).

- GET  ``              the caller's documents (direction, step, q = title/number; keyset `cursor`), newest first
- POST ``              拟稿: a new 发文 (recipients / countersign as department codes)
- POST `/received`     登记 an external 收文 (the unit's registrar)
- GET  `/{id}`         one document: current body, versions, parties, trace, files, lock, the caller's actions
- GET  `/{id}/versions/{n}`   one version's body; `/{id}/diff?a=1&b=2` a unified diff of two versions
- POST `/{id}/lock`, DELETE `/{id}/lock`   the 30-minute edit lock; PUT `/{id}` saves under it (a new version)
- POST `/{id}/actions` one step: send_check, check, countersign, sign_off, number, seal, distribute, archive,
  withdraw, sign_in, register, propose, instruct, handle, urge

Errors are problem+json: 401, 403 (visible but not yours to act on), 404 (unknown, another unit's, above the
caller's clearance — the same answer), 409 (the step moved on, or someone else holds the lock), 422 (field errors).

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, problem, requires
from yiwang.core.models import Department
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import COLLAB_WORK
from yiwang.core.schemas import ProblemOut

from .document_workflow import DocumentConflict
from .models.documents import Document
from .selectors import documents as sel
from .services import document_flow as flow
from .services import documents as svc
from .services.document_flow import ACTIONS, document_step_take

router = Router(tags=["一网协同：公文流转"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}
_WRITE = {**_READ, 409: ProblemOut}


# --- schemas ----------------------------------------------------------------------------------------------------
class DocumentDeptOut(Schema):
    code: str
    name: str


class DocumentOut(Schema):
    id: UUID
    direction: str
    direction_label: str
    kind: str
    kind_label: str
    title: str
    number: str
    department: DocumentDeptOut
    origin: str
    confidentiality: int
    confidentiality_label: str
    urgency: str
    step: str
    step_label: str
    holder: str | None
    holder_department: DocumentDeptOut | None
    due_on: date | None
    created_at: datetime
    signed_at: datetime | None
    sealed_at: datetime | None
    done_at: datetime | None
    archived_at: datetime | None


class DocumentPageOut(Schema):
    items: list[DocumentOut]
    next_cursor: str | None


class DocumentVersionOut(Schema):
    number: int
    title: str
    note: str
    body_sm3: str
    created_by: str
    created_at: datetime


class DocumentVersionBodyOut(DocumentVersionOut):
    body: str


class DocumentPartyOut(Schema):
    department: DocumentDeptOut
    role: str
    role_label: str
    status: str
    status_label: str
    opinion: str
    answered_by: str | None
    answered_at: datetime | None
    due_on: date | None
    received: UUID | None


class DocumentTraceOut(Schema):
    step: str
    step_label: str
    actor: str | None
    department: str | None
    opinion: str
    handed_to: str | None
    at: datetime


class DocumentFileOut(Schema):
    id: UUID
    kind: str
    name: str
    content_type: str
    size: int
    sm3: str


class DocumentLockOut(Schema):
    locked: bool
    by_me: bool
    by: str
    expires_at: datetime | None


class DocumentDetailOut(DocumentOut):
    main_to: str
    copy_to: str
    body: str
    current_version: int
    signer: str | None
    verify_code: str
    source: UUID | None
    versions: list[DocumentVersionOut]
    parties: list[DocumentPartyOut]
    trace: list[DocumentTraceOut]
    files: list[DocumentFileOut]
    lock: DocumentLockOut
    actions: list[str]


class DocumentDiffOut(Schema):
    a: int
    b: int
    lines: list[str]


class DocumentDraftIn(Schema):
    title: str = Field(..., max_length=200)
    kind: str = Document.Kind.NOTICE
    body: str = Field("", max_length=100000)
    confidentiality: int | str = 1
    urgency: str = Document.Urgency.NORMAL
    main_to: str = Field("", max_length=500)
    copy_to: str = Field("", max_length=500)
    recipients: list[str] = Field(default_factory=list, max_length=100)
    countersign: list[str] = Field(default_factory=list, max_length=50)
    due_on: date | None = None


class DocumentReceiveIn(Schema):
    title: str = Field(..., max_length=200)
    origin: str = Field(..., max_length=200)
    number: str = Field("", max_length=64)
    kind: str = Document.Kind.NOTICE
    body: str = Field("", max_length=100000)
    confidentiality: int | str = 1
    urgency: str = Document.Urgency.NORMAL
    due_on: date | None = None


class DocumentEditIn(Schema):
    title: str | None = Field(None, max_length=200)
    body: str | None = Field(None, max_length=100000)
    note: str = Field("", max_length=200)
    kind: str | None = None
    confidentiality: int | str | None = None
    urgency: str | None = None
    main_to: str | None = Field(None, max_length=500)
    copy_to: str | None = Field(None, max_length=500)
    due_on: date | None = None
    recipients: list[str] | None = Field(None, max_length=100)
    countersign: list[str] | None = Field(None, max_length=50)


class DocumentActionIn(Schema):
    action: Literal[ACTIONS]  # type: ignore[valid-type]
    opinion: str = Field("", max_length=2000)
    agree: bool | None = Field(None, description="核稿（通过/退回）与会签（同意/不同意）")
    lead: str | None = Field(None, description="拟办/批办：主办单位编码")
    co: list[str] | None = Field(None, max_length=50, description="拟办/批办：协办单位编码")
    due_days: int | None = Field(None, ge=1, le=120, description="办理时限（工作日）")
    due_on: date | None = None
    send_back: bool = Field(False, description="批办：退回重新拟办")


class DocumentUrgeOut(Schema):
    notified: int


# --- shaping ----------------------------------------------------------------------------------------------------
def _dept(department) -> dict | None:
    return {"code": department.code, "name": department.name} if department is not None else None


def _out(d: Document) -> dict:
    return {
        "id": d.public_id,
        "direction": d.direction,
        "direction_label": str(d.get_direction_display()),
        "kind": d.kind,
        "kind_label": str(d.get_kind_display()),
        "title": d.title,
        "number": d.number,
        "department": _dept(d.department),
        "origin": d.origin,
        "confidentiality": d.confidentiality,
        "confidentiality_label": str(d.get_confidentiality_display()),
        "urgency": d.urgency,
        "step": d.step,
        "step_label": str(d.get_step_display()),
        "holder": d.holder.name if d.holder_id else None,
        "holder_department": _dept(d.holder_department) if d.holder_department_id else None,
        "due_on": d.due_on,
        "created_at": d.created_at,
        "signed_at": d.signed_at,
        "sealed_at": d.sealed_at,
        "done_at": d.done_at,
        "archived_at": d.archived_at,
    }


def _version_out(v) -> dict:
    return {
        "number": v.number,
        "title": v.title,
        "note": v.note,
        "body_sm3": v.body_sm3,
        "created_by": v.created_by.name,
        "created_at": v.created_at,
    }


def _detail(principal, document_id) -> dict:
    d = sel.document_get_visible(principal, document_id)
    versions = sel.document_versions(d)
    current = next((v for v in versions if v.number == d.current_version), None)
    parties = sel.document_parties(d)
    d._parties_cache = parties
    lock = sel.document_lock_state(principal, d)
    return {
        **_out(d),
        "main_to": d.main_to,
        "copy_to": d.copy_to,
        "body": current.body if current else "",
        "current_version": d.current_version,
        "signer": d.signer.name if d.signer_id else None,
        "verify_code": d.verify_code,
        "source": _source_id(principal, d),
        "versions": [_version_out(v) for v in versions],
        "parties": [
            {
                "department": _dept(p.department),
                "role": p.role,
                "role_label": str(p.get_role_display()),
                "status": p.status,
                "status_label": str(p.get_status_display()),
                "opinion": p.opinion,
                "answered_by": p.staff.name if p.staff_id else None,
                "answered_at": p.answered_at,
                "due_on": p.due_on,
                "received": p.received.public_id if p.received_id else None,
            }
            for p in parties
        ],
        "trace": [
            {
                "step": t.step,
                "step_label": str(t.get_step_display()),
                "actor": t.actor.name if t.actor_id else None,
                "department": t.department.name if t.department_id else None,
                "opinion": t.opinion,
                "handed_to": t.handed_to.name if t.handed_to_id else None,
                "at": t.at,
            }
            for t in sel.document_trace(d)
        ],
        "files": [
            {
                "id": f.public_id,
                "kind": f.kind,
                "name": f.original_name,
                "content_type": f.content_type,
                "size": f.size,
                "sm3": f.sm3,
            }
            for f in sel.document_files(d)
        ],
        "lock": {
            "locked": lock.locked,
            "by_me": lock.by_me,
            "by": lock.by_name,
            "expires_at": lock.expires_at,
        },
        "actions": sel.document_actions(principal, d),
    }


def _source_id(principal, d: Document):
    """The 发文 a 收文 came from, when the caller may see it."""
    if not d.source_id:
        return None
    source = (
        sel.documents_visible(principal).filter(pk=d.source_id).values_list("public_id", flat=True).first()
    )
    return source


def _departments(codes, field: str) -> list:
    codes = [str(c).strip() for c in (codes or []) if str(c).strip()]
    found = {d.code: d for d in Department.objects.filter(code__in=codes, is_active=True)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError({field: _("没有这些部门：%(codes)s") % {"codes": "、".join(unknown[:10])}})
    return [found[c] for c in codes]


def _department(code, field: str):
    if not code:
        return None
    return _departments([code], field)[0]


def _conflict(request: HttpRequest, exc: DocumentConflict):
    return problem(request, 409, _("状态冲突"), str(exc))


# --- operations -------------------------------------------------------------------------------------------------
@router.get("", response={200: DocumentPageOut, **_READ}, summary="我的公文（收文/发文，最新在前）")
@requires(COLLAB_WORK)
def documents_list(
    request: HttpRequest,
    direction: Literal["incoming", "outgoing"] | None = Query(None),
    step: str = Query("", max_length=12),
    q: str = Query("", max_length=100),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(20, ge=1, le=200),
):
    page = sel.document_list(
        principal_of(request), direction=direction, step=step, search=q, cursor=cursor, limit=limit
    )
    return {"items": [_out(d) for d in page.items], "next_cursor": page.next_cursor}


@router.post("", response={201: DocumentDetailOut, **_WRITE}, summary="拟稿：新建发文")
@requires(COLLAB_WORK)
def documents_draft(request: HttpRequest, payload: DocumentDraftIn):
    principal = principal_of(request)
    created = svc.document_draft(
        actor=principal,
        title=payload.title,
        kind=payload.kind,
        body=payload.body,
        confidentiality=payload.confidentiality,
        urgency=payload.urgency,
        main_to=payload.main_to,
        copy_to=payload.copy_to,
        recipients=_departments(payload.recipients, "recipients"),
        countersign=_departments(payload.countersign, "countersign"),
        due_on=payload.due_on,
    )
    return Status(201, _detail(principal, created.public_id))


@router.post("/received", response={201: DocumentDetailOut, **_WRITE}, summary="收文登记（外来纸质公文）")
@requires(COLLAB_WORK)
def documents_receive(request: HttpRequest, payload: DocumentReceiveIn):
    principal = principal_of(request)
    created = flow.document_receive(
        actor=principal,
        title=payload.title,
        origin=payload.origin,
        number=payload.number,
        kind=payload.kind,
        body=payload.body,
        confidentiality=payload.confidentiality,
        urgency=payload.urgency,
        due_on=payload.due_on,
    )
    return Status(201, _detail(principal, created.public_id))


@router.get("/{document_id}", response={200: DocumentDetailOut, **_READ}, summary="公文详情")
@requires(COLLAB_WORK)
def documents_get(request: HttpRequest, document_id: str):
    return _detail(principal_of(request), document_id)


@router.get(
    "/{document_id}/versions/{number}",
    response={200: DocumentVersionBodyOut, **_READ},
    summary="某一版本正文",
)
@requires(COLLAB_WORK)
def documents_version(request: HttpRequest, document_id: str, number: int):
    d = sel.document_get_visible(principal_of(request), document_id)
    v = sel.document_version(d, number)
    return {**_version_out(v), "body": v.body}


@router.get("/{document_id}/diff", response={200: DocumentDiffOut, **_READ}, summary="两个版本的差异")
@requires(COLLAB_WORK)
def documents_diff(
    request: HttpRequest, document_id: str, a: int = Query(..., ge=1), b: int = Query(..., ge=1)
):
    d = sel.document_get_visible(principal_of(request), document_id)
    return {"a": a, "b": b, "lines": sel.document_diff(d, a, b)}


@router.post("/{document_id}/lock", response={200: DocumentLockOut, **_WRITE}, summary="锁定编辑（30 分钟）")
@requires(COLLAB_WORK)
def documents_lock(request: HttpRequest, document_id: str):
    principal = principal_of(request)
    d = sel.document_get_visible(principal, document_id)
    try:
        svc.document_lock(actor=principal, document=d)
    except DocumentConflict as exc:
        return _conflict(request, exc)
    lock = sel.document_lock_state(principal, sel.document_get_visible(principal, document_id))
    return {"locked": lock.locked, "by_me": lock.by_me, "by": lock.by_name, "expires_at": lock.expires_at}


@router.delete("/{document_id}/lock", response={200: DocumentLockOut, **_WRITE}, summary="解除编辑锁定")
@requires(COLLAB_WORK)
def documents_unlock(request: HttpRequest, document_id: str):
    principal = principal_of(request)
    d = sel.document_get_visible(principal, document_id)
    try:
        svc.document_unlock(actor=principal, document=d)
    except DocumentConflict as exc:
        return _conflict(request, exc)
    return {"locked": False, "by_me": False, "by": "", "expires_at": None}


@router.put("/{document_id}", response={200: DocumentDetailOut, **_WRITE}, summary="保存修改（须持有编辑锁）")
@requires(COLLAB_WORK)
def documents_edit(request: HttpRequest, document_id: str, payload: DocumentEditIn):
    principal = principal_of(request)
    d = sel.document_get_visible(principal, document_id)
    try:
        svc.document_edit(
            actor=principal,
            document=d,
            title=payload.title,
            body=payload.body,
            note=payload.note,
            kind=payload.kind,
            confidentiality=payload.confidentiality,
            urgency=payload.urgency,
            main_to=payload.main_to,
            copy_to=payload.copy_to,
            due_on=payload.due_on,
        )
        if payload.recipients is not None or payload.countersign is not None:
            svc.document_parties_set(
                actor=principal,
                document=d,
                recipients=_departments(payload.recipients, "recipients")
                if payload.recipients is not None
                else None,
                countersign=_departments(payload.countersign, "countersign")
                if payload.countersign is not None
                else None,
            )
    except DocumentConflict as exc:
        return _conflict(request, exc)
    return _detail(principal, document_id)


@router.post("/{document_id}/actions", response={200: DocumentDetailOut, **_WRITE}, summary="办理一个环节")
@requires(COLLAB_WORK)
def documents_act(request: HttpRequest, document_id: str, payload: DocumentActionIn):
    principal = principal_of(request)
    d = sel.document_get_visible(principal, document_id)
    try:
        document_step_take(actor=principal, document=d, payload=payload)
    except DocumentConflict as exc:
        return _conflict(request, exc)
    return _detail(principal, document_id)
