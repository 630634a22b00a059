"""API of the incident work, mounted at /api/incidents: the work list and an incident with its history, and the
steps 分拨 dispatch, 退回 return, 改派 reassign, 延期 extension (+ decide), 处置 handle, 核查 verify, 结案 close,
合并 merge and 回访 callback. Rules live in services/dispatch.py and services/handling.py, scoping in selectors.py.

Errors are problem+json: 401 without credentials, 403 without the permission or when the caller may not take
the step, 404 for an incident outside the caller's scope, 409 when `version` is stale, 422 with field errors.
handle and verify take multipart form data (fields + `photos` files, photos optional); the others JSON.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from uuid import UUID

from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field as NinjaField
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile

from yiwang.core.apiutils import principal_of, problem, requires, requires_any
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import (
    INCIDENT_DISPATCH,
    INCIDENT_HANDLE,
    INCIDENT_INTAKE,
    INCIDENT_SUPERVISE,
    INCIDENT_WORK,
)
from yiwang.core.schemas import ProblemOut

from . import selectors
from .models import Incident
from .schemas_work import (
    CallbackIn,
    CallbackOut,
    CloseIn,
    DispatchIn,
    ExtensionDecideIn,
    ExtensionIn,
    ExtensionOut,
    IncidentDetailOut,
    IncidentPage,
    MergeIn,
    ReassignIn,
    ReturnIn,
)
from .services import dispatch, handling
from .services.common import IncidentConflict

router = Router(tags=["一网统管"])

_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut, 422: ProblemOut}
_READERS = (INCIDENT_WORK, INCIDENT_HANDLE, INCIDENT_DISPATCH, INCIDENT_INTAKE, INCIDENT_SUPERVISE)


class ListQuery(Schema):
    state: str | None = NinjaField(None, description="状态，或 open 未结案 / all 全部（默认全部）")
    light: str | None = NinjaField(None, description="green / yellow / red")
    overdue: bool | None = NinjaField(None, description="只看超期")
    category: str | None = NinjaField(None, description="分类编码（大类含其小类）")
    town: str | None = NinjaField(None, description="镇街区划代码")
    department: str | None = NinjaField(None, description="承办部门编码")
    grid: str | None = NinjaField(None, description="所在网格代码")
    channel: str | None = None
    cursor: str | None = NinjaField(None, max_length=CURSOR_MAX)
    limit: int = NinjaField(50, ge=1, le=200)


def _detail(principal, incident: Incident) -> dict:
    incident = selectors.incident_get_visible(principal, incident.public_id)
    detail = selectors.incident_detail_get(principal, incident)
    reporter = detail.reporter
    return {
        **{
            f: getattr(incident, f)
            for f in ("description", "address", "lon", "lat", "confidential", "resolution")
        },
        "obj": incident,
        "reporter_name": reporter.name or None,
        "reporter_phone": reporter.phone or None,
        "duplicate_of": incident.duplicate_of.number if incident.duplicate_of_id else None,
        "suggestions": incident.suggestions or [],
        "actions": detail.actions,
        "events": [
            {
                "seq": e.seq,
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "actor": e.actor_label,
                "note": e.note,
                "department_code": e.department.code if e.department_id else None,
                "grid_code": e.grid.code if e.grid_id else None,
                "photos": [a.public_id for a in e.attachments.all()],
                "at": e.created_at,
            }
            for e in detail.timeline
        ],
        "photos": [
            {
                "id": a.public_id,
                "purpose": a.purpose,
                "content_type": a.content_type,
                "size": a.size,
                "url": reverse("incidents:attachment", args=[incident.public_id, a.public_id]),
            }
            for a in detail.attachments
        ],
        "escalations": [
            {
                "level": x.level,
                "division_code": x.division.code,
                "division_name": x.division.name,
                "reason": x.reason,
                "outcome": x.outcome,
                "notified": x.notified,
                "created_at": x.created_at,
                "resolved_at": x.resolved_at,
            }
            for x in detail.escalations
        ],
        "extension_state": detail.extension.state if detail.extension else None,
    }


class _Detail:
    """The incident with its detail fields laid over it (the schema's resolvers read the incident through it)."""

    def __init__(self, incident: Incident, extra: dict):
        self._incident = incident
        self.__dict__.update(extra)

    def __getattr__(self, name):
        return getattr(self._incident, name)


def _out(principal, incident: Incident):
    data = _detail(principal, incident)
    return _Detail(data.pop("obj"), data)


def _act(request: HttpRequest, public_id: UUID, step):
    """Runs a step on a visible incident; a stale version answers 409. Returns the incident's new detail, or
    the list view's shape when the caller no longer sees it (returned or reassigned away): 200 with actions []."""
    principal = principal_of(request)
    incident = selectors.incident_get_visible(principal, public_id)
    try:
        step(principal, incident)
    except IncidentConflict as exc:
        return problem(request, 409, _("版本冲突"), " ".join(exc.messages))
    try:
        return _out(principal, incident)
    except Http404:  # no longer in scope (a unit that returned it): report the step without the details
        incident.refresh_from_db()
        return _Detail(incident, _empty_detail(incident))


def _empty_detail(incident: Incident) -> dict:
    return {
        "description": "",
        "address": "",
        "confidential": incident.confidential,
        "resolution": "",
        "reporter_name": None,
        "reporter_phone": None,
        "duplicate_of": None,
        "extension_state": None,
        "actions": [],
        "events": [],
        "photos": [],
        "escalations": [],
        "suggestions": [],
    }


# --- reads -------------------------------------------------------------------------------------------------------
@router.get(
    "/", response={200: IncidentPage, **_ERRORS}, summary="工单列表（按可见范围，最新在前，游标分页）"
)
@requires_any(*_READERS)
def incident_list(request: HttpRequest, query: Query[ListQuery]):
    page = selectors.incident_list_visible_to(
        principal_of(request),
        state=query.state,
        light=query.light,
        overdue=query.overdue,
        category=query.category,
        town=query.town,
        department=query.department,
        grid=query.grid,
        channel=query.channel,
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/{uuid:public_id}",
    response={200: IncidentDetailOut, **_ERRORS},
    summary="工单详情：流转记录、照片、督办",
)
@requires_any(*_READERS)
def incident_detail(request: HttpRequest, public_id: UUID):
    principal = principal_of(request)
    return _out(principal, selectors.incident_get_visible(principal, public_id))


# --- steps -------------------------------------------------------------------------------------------------------
@router.post(
    "/{uuid:public_id}/dispatch", response={200: IncidentDetailOut, **_ERRORS}, summary="分拨派遣（调度员）"
)
@requires(INCIDENT_DISPATCH)
def incident_dispatch(request: HttpRequest, public_id: UUID, payload: DispatchIn):
    return _act(
        request,
        public_id,
        lambda p, i: dispatch.incident_dispatch(
            actor=p,
            incident=i,
            department_code=payload.department_code,
            grid_code=payload.grid_code,
            category_code=payload.category_code,
            note=payload.note,
            expected_version=payload.version,
        ),
    )


@router.post(
    "/{uuid:public_id}/return",
    response={200: IncidentDetailOut, **_ERRORS},
    summary="退回指挥中心（承办单位）",
)
@requires_any(INCIDENT_WORK, INCIDENT_HANDLE)
def incident_return(request: HttpRequest, public_id: UUID, payload: ReturnIn):
    return _act(
        request,
        public_id,
        lambda p, i: dispatch.incident_return(
            actor=p, incident=i, reason=payload.reason, expected_version=payload.version
        ),
    )


@router.post(
    "/{uuid:public_id}/reassign", response={200: IncidentDetailOut, **_ERRORS}, summary="改派（调度员）"
)
@requires(INCIDENT_DISPATCH)
def incident_reassign(request: HttpRequest, public_id: UUID, payload: ReassignIn):
    return _act(
        request,
        public_id,
        lambda p, i: dispatch.incident_reassign(
            actor=p,
            incident=i,
            department_code=payload.department_code,
            grid_code=payload.grid_code,
            reason=payload.reason,
            expected_version=payload.version,
        ),
    )


@router.post(
    "/{uuid:public_id}/extension",
    response={201: ExtensionOut, **_ERRORS},
    summary="申请延期（承办单位，每单一次）",
)
@requires_any(INCIDENT_WORK, INCIDENT_HANDLE)
def incident_extension(request: HttpRequest, public_id: UUID, payload: ExtensionIn):
    principal = principal_of(request)
    incident = selectors.incident_get_visible(principal, public_id)
    ext = dispatch.extension_request(
        actor=principal, incident=incident, requested_due_at=payload.requested_due_at, reason=payload.reason
    )
    return Status(201, ext)


@router.post(
    "/{uuid:public_id}/extension/decide",
    response={200: ExtensionOut, **_ERRORS},
    summary="延期审批（调度员）",
)
@requires(INCIDENT_DISPATCH)
def incident_extension_decide(request: HttpRequest, public_id: UUID, payload: ExtensionDecideIn):
    principal = principal_of(request)
    incident = selectors.incident_get_visible(principal, public_id)
    ext = selectors.extension_pending_get(incident, field="approve")
    return dispatch.extension_decide(actor=principal, request=ext, approve=payload.approve, note=payload.note)


@router.post(
    "/{uuid:public_id}/handle",
    response={200: IncidentDetailOut, **_ERRORS},
    summary="处置完成（multipart：note 处置说明、version、photos 现场照片，可多张）",
)
@requires_any(INCIDENT_WORK, INCIDENT_HANDLE)
def incident_handle(
    request: HttpRequest,
    public_id: UUID,
    note: Form[str] = "",
    version: Form[int] = None,
    photos: File[list[UploadedFile]] = None,
):
    return _act(
        request,
        public_id,
        lambda p, i: handling.incident_handle(
            actor=p, incident=i, note=note, photos=photos or [], expected_version=version
        ),
    )


@router.post(
    "/{uuid:public_id}/verify",
    response={200: IncidentDetailOut, **_ERRORS},
    summary="核查（multipart：passed 是否通过、note、version、photos 核查照片）",
)
@requires_any(INCIDENT_HANDLE, INCIDENT_DISPATCH)
def incident_verify(
    request: HttpRequest,
    public_id: UUID,
    passed: Form[bool],
    note: Form[str] = "",
    version: Form[int] = None,
    photos: File[list[UploadedFile]] = None,
):
    return _act(
        request,
        public_id,
        lambda p, i: handling.incident_verify(
            actor=p, incident=i, passed=passed, note=note, photos=photos or [], expected_version=version
        ),
    )


@router.post(
    "/{uuid:public_id}/close", response={200: IncidentDetailOut, **_ERRORS}, summary="直接结案（调度员）"
)
@requires(INCIDENT_DISPATCH)
def incident_close(request: HttpRequest, public_id: UUID, payload: CloseIn):
    return _act(
        request,
        public_id,
        lambda p, i: handling.incident_close(actor=p, incident=i, closure=payload.closure, note=payload.note),
    )


@router.post(
    "/{uuid:public_id}/merge", response={200: IncidentDetailOut, **_ERRORS}, summary="合并为重复件（调度员）"
)
@requires(INCIDENT_DISPATCH)
def incident_merge(request: HttpRequest, public_id: UUID, payload: MergeIn):
    principal = principal_of(request)
    into = selectors.incident_by_number_visible(principal, payload.into)
    return _act(
        request,
        public_id,
        lambda p, i: dispatch.incident_merge(actor=p, incident=i, into=into, note=payload.note),
    )


@router.post(
    "/{uuid:public_id}/callback",
    response={201: CallbackOut, **_ERRORS},
    summary="回访：记录满意度，不满意可在期限内重启（话务员、调度员）",
)
@requires_any(INCIDENT_INTAKE, INCIDENT_DISPATCH)
def incident_callback(request: HttpRequest, public_id: UUID, payload: CallbackIn):
    principal = principal_of(request)
    incident = selectors.incident_get_visible(principal, public_id)
    callback = handling.incident_callback(
        actor=principal,
        incident=incident,
        satisfaction=payload.satisfaction,
        note=payload.note,
        reopen=payload.reopen,
    )
    return Status(201, callback)
