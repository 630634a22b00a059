"""API: 纠错 (/api/datahub/objections).

Staff: the queue (keyset, newest first; `tab` source / filed, filters status / origin / overdue), filing by a
department's data officer (channel department: a live grant of the resource, or the centre) or a window clerk
(channel window), one objection with its history, pushes and the steps the caller may take; the 数源部门's steps
start / correct / reject (the centre too), withdraw by whoever filed it; receipts of every step; the correction
pushes sent to my department and their acknowledgement.
Citizens and enterprise users (我的纠错, SELF_SERVICE): the values they may object to, filing about themselves,
their own objections, withdrawing one.

Errors are problem+json: 401, 403 (wrong permission or department), 404 (outside the caller's view), 409 (stale
`expected_version`, or a step the objection's status does not allow), 422 (field errors; nothing written).

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date, datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, problem, receipt_download, receipt_items, requires
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import CASE_INTAKE, DATA_CENTRE, DATA_STEWARD, SELF_SERVICE
from yiwang.core.schemas import ProblemOut

from .models import DataResource
from .models.objections import CorrectionPush, Objection
from .selectors import objections as sel
from .services import objections as svc

router = Router(tags=["数据纠错"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}
_WRITE = {**_READ, 409: ProblemOut}
STAFF = (DATA_STEWARD, DATA_CENTRE, CASE_INTAKE)
TABS = ("source", "filed")


# --- schemas ------------------------------------------------------------------------------------------------------
class Ref(Schema):
    code: str
    name: str


class ObjectionResourceRef(Schema):
    id: UUID
    code: str
    name: str


class ObjectionOut(Schema):
    id: UUID = Field(..., description="公开标识")
    number: str
    origin: str
    origin_label: str
    status: str
    status_label: str
    resource: ObjectionResourceRef | None = None
    field_name: str
    source_department: Ref
    raised_by_department: Ref | None = None
    due_on: date
    overdue: bool
    light: str | None = Field(None, description="期限灯：green / yellow / red；办结后为空")
    row_version: int
    created_at: datetime
    resolved_at: datetime | None = None


class ObjectionPageOut(Schema):
    items: list[ObjectionOut]
    next_cursor: str | None = None


class ObjectionEventOut(Schema):
    seq: int
    action: str
    label: str
    from_status: str
    to_status: str
    actor: str
    note: str
    at: datetime
    receipt_entry: UUID | None = Field(None, description="存证标识：下载回执用")


class PushOut(Schema):
    n: int = Field(..., description="该纠错中推送的序号（确认时使用）")
    objection: UUID
    objection_number: str
    consumer: Ref
    channel: str
    status: str
    status_label: str
    grant: str | None = Field(None, description="共享授权编号")
    sent_at: datetime | None = None
    acknowledged_at: datetime | None = None


class PushPageOut(Schema):
    items: list[PushOut]
    next_cursor: str | None = None


class ObjectionDetailOut(ObjectionOut):
    record_key: str
    current_value: str
    proposed_value: str
    reason: str
    resolution: str
    corrected_value: str
    correction_basis: str
    licence_dispute: UUID | None = None
    events: list[ObjectionEventOut]
    pushes: list[PushOut]
    actions: list[str] = Field(..., description="调用方现在可以执行的操作")


class FileIn(Schema):
    channel: str = Field(..., description="department（使用部门数据专员）或 window（窗口人员）")
    resource_id: UUID
    field_name: str = Field(..., max_length=64)
    record_key: str = Field(
        ..., max_length=64, description="记录标识：身份证号、统一社会信用代码或离岸库主键"
    )
    proposed_value: str = Field("", max_length=1000)
    reason: str = Field(..., max_length=2000)


class SelfFileIn(Schema):
    field_name: str = Field(..., max_length=64)
    proposed_value: str = Field(..., max_length=1000)
    reason: str = Field(..., max_length=2000)
    record_key: str = Field("", max_length=64, description="留空：本人（本单位）的记录；不能指定他人")


class ObjectionVersionIn(Schema):
    expected_version: int | None = Field(None, ge=1)


class CorrectIn(ObjectionVersionIn):
    corrected_value: str = Field("", max_length=1000)
    correction_basis: str = Field(..., max_length=200)
    resolution: str = Field("", max_length=2000)
    face: dict[str, str] | None = Field(None, description="证照质量异议：更正后的照面要素")


class RejectIn(ObjectionVersionIn):
    resolution: str = Field(..., max_length=2000)


class FieldChoiceOut(Schema):
    name: str
    label: str


class ObjectionReceiptItemOut(Schema):
    entry_uuid: UUID
    action: str
    label: str
    occurred_at: datetime
    ready: bool
    download_url: str


# --- shaping ------------------------------------------------------------------------------------------------------
def _ref(department) -> dict | None:
    return {"code": department.code, "name": department.name} if department is not None else None


def _out(o: Objection) -> dict:
    return {
        "id": o.public_id,
        "number": o.number,
        "origin": o.origin,
        "origin_label": str(o.get_origin_display()),
        "status": o.status,
        "status_label": str(o.get_status_display()),
        "resource": (
            {"id": o.resource.public_id, "code": o.resource.code, "name": o.resource.name}
            if o.resource_id
            else None
        ),
        "field_name": o.field_name,
        "source_department": _ref(o.source_department),
        "raised_by_department": _ref(o.raised_by_department) if o.raised_by_department_id else None,
        "due_on": o.due_on,
        "overdue": bool(getattr(o, "is_overdue", False)),
        "light": getattr(o, "light", None),
        "row_version": o.row_version,
        "created_at": o.created_at,
        "resolved_at": o.resolved_at,
    }


def _push_out(p: CorrectionPush, n: int, objection: Objection | None = None) -> dict:
    objection = objection or p.objection
    return {
        "n": n,
        "objection": objection.public_id,
        "objection_number": objection.number,
        "consumer": _ref(p.consumer),
        "channel": p.channel,
        "status": p.status,
        "status_label": str(p.get_status_display()),
        "grant": p.grant.number if p.grant_id else None,
        "sent_at": p.sent_at,
        "acknowledged_at": p.acknowledged_at,
    }


def actions_for(principal, o: Objection) -> list[str]:
    actions = []
    if o.status in svc.OPEN_STATUSES:
        if svc.may_verify(principal, o):
            if o.status == Objection.Status.SUBMITTED:
                actions.append("start")
            actions += ["correct", "reject"]
        if svc.is_objector(principal, o) and o.origin not in ("licence", "quality"):
            actions.append("withdraw")
    return actions


def _detail(principal, o: Objection, *, mine: bool = False) -> dict:
    pushes = [] if mine else sel.objection_pushes(o)
    values = sel.objection_values_shown(principal, o)
    return {
        **_out(o),
        "record_key": "" if mine else o.record_key,
        "current_value": values["current_value"],
        "proposed_value": values["proposed_value"],
        "reason": o.reason,
        "resolution": o.resolution,
        "corrected_value": values["corrected_value"],
        "correction_basis": o.correction_basis,
        "licence_dispute": o.licence_dispute.public_id if o.licence_dispute_id else None,
        "events": [
            {
                "seq": e.seq,
                "action": e.action,
                "label": e.label,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "actor": e.actor_label,
                "note": e.note,
                "at": e.created_at,
                "receipt_entry": e.audit_uuid,
            }
            for e in sel.objection_events(o)
        ],
        "pushes": [_push_out(p, i, o) for i, p in enumerate(pushes, start=1)],
        "actions": (["withdraw"] if "withdraw" in actions_for(principal, o) else [])
        if mine
        else actions_for(principal, o),
    }


def _run(request: HttpRequest, step, **kwargs):
    """Runs a step; a stale version or a step the status does not allow answers 409."""
    try:
        return step(**kwargs), None
    except svc.ObjectionConflict as exc:
        return None, problem(request, 409, _("状态冲突"), " ".join(exc.messages))


# --- the queue ----------------------------------------------------------------------------------------------------
@router.get("", response={200: ObjectionPageOut, **_READ}, summary="纠错列表（数源部门待核实、本部门提出的）")
@requires(*STAFF)
def objections_list(
    request: HttpRequest,
    tab: str = Query("", description="source 待本部门核实 / filed 本人或本部门提出；空为全部可见"),
    status: str = Query("", description="状态"),
    origin: str = Query("", description="来源"),
    overdue: bool = Query(False, description="只看已超期未办结"),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    errors = {}
    if tab and tab not in TABS:
        errors["tab"] = _("取值不在允许范围内。")
    if status and status not in Objection.Status.values:
        errors["status"] = _("取值不在允许范围内。")
    if origin and origin not in Objection.Origin.values:
        errors["origin"] = _("取值不在允许范围内。")
    if errors:
        raise ValidationError(errors)
    page = sel.objections_queue(
        principal_of(request),
        tab=tab,
        status=status,
        origin=origin,
        overdue=overdue,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [_out(o) for o in page.items], "next_cursor": page.next_cursor}


@router.post("", response={201: ObjectionDetailOut, **_WRITE}, summary="提出纠错（使用部门或窗口人员）")
@requires(*STAFF)
def objections_file(request: HttpRequest, payload: FileIn):
    principal = principal_of(request)
    resource = (
        DataResource.objects.select_related("provider")
        .filter(public_id=payload.resource_id, status=DataResource.Status.PUBLISHED)
        .first()
    )
    created = svc.objection_file(
        principal=principal,
        channel=payload.channel,
        resource=resource,
        field_name=payload.field_name,
        record_key=payload.record_key,
        proposed_value=payload.proposed_value,
        reason=payload.reason,
    )
    return Status(201, _detail(principal, sel.objection_get(principal, created.public_id)))


@router.get("/pushes", response={200: PushPageOut, **_READ}, summary="推送给本部门的更正（待确认、已确认）")
@requires(DATA_STEWARD, DATA_CENTRE)
def pushes_list(
    request: HttpRequest,
    status: str = Query("", description="pending / sent / acknowledged"),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    if status and status not in CorrectionPush.Status.values:
        raise ValidationError({"status": _("取值不在允许范围内。")})
    page = sel.pushes_for(principal_of(request), status=status, cursor=cursor, limit=limit)
    numbers = sel.push_numbers(page.items)
    return {"items": [_push_out(p, numbers[p.pk]) for p in page.items], "next_cursor": page.next_cursor}


# --- 我的纠错 (citizens, enterprise users) ------------------------------------------------------------------------
@router.get("/mine/fields", response={200: list[FieldChoiceOut], **_READ}, summary="我可以纠错的信息项")
@requires(SELF_SERVICE)
def mine_fields(request: HttpRequest):
    from .services.consent import consent_holder

    person, organisation = consent_holder(principal_of(request))
    if person is None and organisation is None:
        return []
    return [{"name": n, "label": label} for n, label in svc.self_fields(organisation is not None)]


@router.get("/mine", response={200: ObjectionPageOut, **_READ}, summary="我的纠错")
@requires(SELF_SERVICE)
def mine_list(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.objections_mine(principal_of(request), cursor=cursor, limit=limit)
    return {"items": [_out(o) for o in page.items], "next_cursor": page.next_cursor}


@router.post("/mine", response={201: ObjectionDetailOut, **_WRITE}, summary="对本人（本单位）的数据提出纠错")
@requires(SELF_SERVICE)
def mine_file(request: HttpRequest, payload: SelfFileIn):
    principal = principal_of(request)
    created = svc.objection_file_self(
        principal=principal,
        field_name=payload.field_name,
        proposed_value=payload.proposed_value,
        reason=payload.reason,
        record_key=payload.record_key,
    )
    return Status(
        201, _detail(principal, sel.objection_get(principal, created.public_id, mine=True), mine=True)
    )


@router.get("/mine/{uuid:objection_id}", response={200: ObjectionDetailOut, **_READ}, summary="我的纠错详情")
@requires(SELF_SERVICE)
def mine_get(request: HttpRequest, objection_id: UUID):
    principal = principal_of(request)
    return _detail(principal, sel.objection_get(principal, objection_id, mine=True), mine=True)


@router.post(
    "/mine/{uuid:objection_id}/withdraw", response={200: ObjectionDetailOut, **_WRITE}, summary="撤回我的纠错"
)
@requires(SELF_SERVICE)
def mine_withdraw(request: HttpRequest, objection_id: UUID, payload: ObjectionVersionIn):
    principal = principal_of(request)
    o = sel.objection_get(principal, objection_id, mine=True)
    _done, error = _run(
        request,
        svc.objection_withdraw,
        principal=principal,
        objection=o,
        expected_version=payload.expected_version,
    )
    if error is not None:
        return error
    return _detail(principal, sel.objection_get(principal, objection_id, mine=True), mine=True)


# --- one objection ------------------------------------------------------------------------------------------------
@router.get("/{uuid:objection_id}", response={200: ObjectionDetailOut, **_READ}, summary="纠错详情")
@requires(*STAFF)
def objections_get(request: HttpRequest, objection_id: UUID):
    principal = principal_of(request)
    return _detail(principal, sel.objection_get(principal, objection_id))


def _step(request: HttpRequest, objection_id: UUID, step, **kwargs):
    principal = principal_of(request)
    o = sel.objection_get(principal, objection_id)
    _done, error = _run(request, step, principal=principal, objection=o, **kwargs)
    if error is not None:
        return error
    return _detail(principal, sel.objection_get(principal, objection_id))


@router.post("/{uuid:objection_id}/start", response={200: ObjectionDetailOut, **_WRITE}, summary="开始核实")
@requires(DATA_STEWARD, DATA_CENTRE)
def objections_start(request: HttpRequest, objection_id: UUID, payload: ObjectionVersionIn):
    return _step(request, objection_id, svc.objection_start, expected_version=payload.expected_version)


@router.post(
    "/{uuid:objection_id}/correct",
    response={200: ObjectionDetailOut, **_WRITE},
    summary="更正（新值及依据；回写并推送给持有该数据的使用部门）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def objections_correct(request: HttpRequest, objection_id: UUID, payload: CorrectIn):
    return _step(
        request,
        objection_id,
        svc.objection_correct,
        expected_version=payload.expected_version,
        corrected_value=payload.corrected_value,
        correction_basis=payload.correction_basis,
        resolution=payload.resolution,
        face=payload.face,
    )


@router.post("/{uuid:objection_id}/reject", response={200: ObjectionDetailOut, **_WRITE}, summary="不予更正")
@requires(DATA_STEWARD, DATA_CENTRE)
def objections_reject(request: HttpRequest, objection_id: UUID, payload: RejectIn):
    return _step(
        request,
        objection_id,
        svc.objection_reject,
        expected_version=payload.expected_version,
        resolution=payload.resolution,
    )


@router.post("/{uuid:objection_id}/withdraw", response={200: ObjectionDetailOut, **_WRITE}, summary="撤回")
@requires(*STAFF)
def objections_withdraw(request: HttpRequest, objection_id: UUID, payload: ObjectionVersionIn):
    return _step(request, objection_id, svc.objection_withdraw, expected_version=payload.expected_version)


@router.post(
    "/{uuid:objection_id}/pushes/{int:n}/acknowledge",
    response={200: PushOut, **_WRITE},
    summary="使用部门确认已更新该更正",
)
@requires(DATA_STEWARD)
def pushes_acknowledge(request: HttpRequest, objection_id: UUID, n: int):
    principal = principal_of(request)
    o = sel.objection_get(principal, objection_id)
    push = sel.push_get(principal, o, n)
    try:
        svc.correction_push_acknowledge(principal=principal, push=push)
    except svc.ObjectionConflict as exc:
        return problem(request, 409, _("状态冲突"), " ".join(exc.messages))
    return _push_out(push, n, o)


# --- receipts -----------------------------------------------------------------------------------------------------
def receipt_download_path(o: Objection, entry, *, mine: bool = False) -> str:
    base = "mine/" if mine else ""
    return f"/api/datahub/objections/{base}{o.public_id}/receipts/{entry.uuid}"


def _receipts(o: Objection, *, mine: bool = False) -> list[dict]:
    return receipt_items(sel.objection_receipts(o), lambda entry: receipt_download_path(o, entry, mine=mine))


def _receipt_response(request: HttpRequest, o: Objection, entry_uuid: UUID) -> HttpResponse:
    entry = sel.objection_receipt_entry(o, entry_uuid)
    return receipt_download(request, entry)


@router.get(
    "/{uuid:objection_id}/receipts",
    response={200: list[ObjectionReceiptItemOut], **_READ},
    summary="纠错每一步的存证回执",
)
@requires(*STAFF)
def objections_receipts(request: HttpRequest, objection_id: UUID):
    return _receipts(sel.objection_get(principal_of(request), objection_id))


@router.get(
    "/{uuid:objection_id}/receipts/{uuid:entry_uuid}",
    response={200: dict, 409: ProblemOut, **_READ},
    summary="下载存证回执（JSON：记录、包含证明、签名树头）",
)
@requires(*STAFF)
def objections_receipt_get(request: HttpRequest, objection_id: UUID, entry_uuid: UUID):
    return _receipt_response(request, sel.objection_get(principal_of(request), objection_id), entry_uuid)


@router.get(
    "/mine/{uuid:objection_id}/receipts",
    response={200: list[ObjectionReceiptItemOut], **_READ},
    summary="我的纠错每一步的存证回执",
)
@requires(SELF_SERVICE)
def mine_receipts(request: HttpRequest, objection_id: UUID):
    return _receipts(sel.objection_get(principal_of(request), objection_id, mine=True), mine=True)


@router.get(
    "/mine/{uuid:objection_id}/receipts/{uuid:entry_uuid}",
    response={200: dict, 409: ProblemOut, **_READ},
    summary="下载我的纠错的存证回执",
)
@requires(SELF_SERVICE)
def mine_receipt_get(request: HttpRequest, objection_id: UUID, entry_uuid: UUID):
    o = sel.objection_get(principal_of(request), objection_id, mine=True)
    return _receipt_response(request, o, entry_uuid)
