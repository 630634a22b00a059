"""API: 数据资源普查 and the three lists (/api/datahub/census).

Rounds: list, create (the centre), read (by public id or code), open, close, add a unit, the completeness figures
and the round's returns (keyset). Returns: mine (a data officer: their units'; the centre: all), one return with its
three lists and the caller's actions, add / change / remove a line of `systems`, `data` or `needs`, submit, review
(the centre: accept or return with a note). 供需对接 (the centre): a data item of an accepted return → a catalogue
draft; a need → candidates, match to a published resource, 暂无资源, or the share request filed for the unit.

Errors are problem+json: 401, 403 (wrong permission), 404 (another unit's return, a draft round for a data
officer), 409 (stale `expected_version`, or a step the state does not allow), 422 (field errors; nothing written).

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Query, Router, Status

from yiwang.core.apiutils import principal_of, problem, requires
from yiwang.core.models import Department, RegisteredSystem
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.schemas import ProblemOut

from .models import CensusNeed, CensusReturn
from .schemas_census import (
    CandidateOut,
    CensusReviewIn,
    CensusVersionIn,
    CompletenessOut,
    DraftOut,
    LineIn,
    MatchIn,
    NeedPageOut,
    NeedQueueOut,
    NeedRequestIn,
    NoteIn,
    OpenIn,
    ReturnDetailOut,
    ReturnOut,
    ReturnPageOut,
    RoundIn,
    RoundOut,
    RoundPageOut,
    UnitIn,
)
from .selectors import census as sel
from .services.census import (
    KINDS,
    CensusConflict,
    census_return_review,
    census_return_submit,
    census_round_close,
    census_round_create,
    census_round_open,
    census_unit_add,
)
from .services.census_lines import (
    census_line_remove,
    census_line_save,
)
from .services.census_matching import (
    census_item_to_draft,
    census_need_match,
    census_need_request,
    census_need_unmatched,
)

router = Router(tags=["数据资源普查"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}
_WRITE = {**_READ, 409: ProblemOut}


# --- shaping ------------------------------------------------------------------------------------------------------------
def _ref(department) -> dict | None:
    return {"code": department.code, "name": department.name} if department is not None else None


def _round_out(r) -> dict:
    return {
        "id": r.public_id,
        "code": r.code,
        "name": r.name,
        "period_start": r.period_start,
        "period_end": r.period_end,
        "due_on": r.due_on,
        "status": r.status,
        "status_label": str(r.get_status_display()),
        "previous": r.previous.code if r.previous_id else None,
        "instructions": r.instructions,
        "opened_at": r.opened_at,
        "closed_at": r.closed_at,
    }


def _return_out(r: CensusReturn) -> dict:
    return {
        "id": r.public_id,
        "round": r.round.code,
        "unit": _ref(r.unit),
        "unit_kind": r.unit_kind,
        "status": r.status,
        "status_label": str(r.get_status_display()),
        "version": r.row_version,
        "prefilled": r.prefilled_from_id is not None,
        "systems": getattr(r, "n_systems", 0),
        "data": getattr(r, "n_data", 0),
        "needs": getattr(r, "n_needs", 0),
        "submitted_at": r.submitted_at,
        "on_time": bool(getattr(r, "on_time", False)),
        "late": bool(getattr(r, "late", False)),
        "reviewed_at": r.reviewed_at,
        "review_note": r.review_note,
        "audit_uuid": r.audit_uuid,
    }


def _need_out(n: CensusNeed) -> dict:
    return {
        "id": n.public_id,
        "name": n.name,
        "description": n.description,
        "wanted_from": _ref(n.wanted_from) if n.wanted_from_id else None,
        "wanted_fields": list(n.wanted_fields or []),
        "scenario": n.scenario,
        "legal_basis": n.legal_basis,
        "status": n.status,
        "status_label": str(n.get_status_display()),
        "match_note": n.match_note,
        "resource": n.resource.code if n.resource_id else None,
        "share_request": n.share_request.number if n.share_request_id else None,
        "carried": n.carried_from_id is not None,
    }


def _detail(principal, r: CensusReturn) -> dict:
    lines = sel.census_return_lines(r)
    return {
        **_return_out(r),
        "systems": len(lines.systems),
        "data": len(lines.data),
        "needs": len(lines.needs),
        "actions": sel.census_return_actions(principal, r),
        "systems_list": [
            {
                "id": s.public_id,
                "name": s.name,
                "owner_name": s.owner_name,
                "builder": s.builder,
                "deployment": s.deployment,
                "vertical_owner": s.vertical_owner,
                "hosting": s.hosting,
                "status": s.status,
                "users": s.users,
                "carried": s.carried_from_id is not None,
            }
            for s in lines.systems
        ],
        "data_list": [
            {
                "id": d.public_id,
                "name": d.name,
                "summary": d.summary,
                "system": d.system.public_id if d.system_id else None,
                "fields": list(d.fields or []),
                "record_count": d.record_count,
                "update_cycle": d.update_cycle,
                "share_type": d.share_type,
                "open_type": d.open_type,
                "resource": d.resource.code if d.resource_id else None,
                "carried": d.carried_from_id is not None,
            }
            for d in lines.data
        ],
        "needs_list": [_need_out(n) for n in lines.needs],
    }


def _conflict(request: HttpRequest, exc: CensusConflict):
    return problem(request, 409, _("状态冲突"), str(exc))


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValidationError({"kind": _("清单只能是 systems、data 或 needs。")})
    return kind


def _values(kind: str, payload: LineIn) -> dict:
    data = payload.dict()
    keys = {
        "systems": (
            "name",
            "owner_name",
            "builder",
            "deployment",
            "vertical_owner",
            "hosting",
            "status",
            "users",
        ),
        "data": (
            "name",
            "summary",
            "system",
            "fields",
            "record_count",
            "update_cycle",
            "share_type",
            "open_type",
        ),
        "needs": ("name", "description", "wanted_from", "wanted_fields", "scenario", "legal_basis"),
    }[kind]
    return {k: data[k] for k in keys}


# --- rounds -------------------------------------------------------------------------------------------------------------
@router.get("/rounds", response={200: RoundPageOut, **_READ}, summary="普查轮次列表（最新在前）")
@requires(DATA_STEWARD, DATA_CENTRE)
def rounds_list(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.census_rounds(principal_of(request), cursor=cursor, limit=limit)
    return {"items": [_round_out(r) for r in page.items], "next_cursor": page.next_cursor}


@router.post("/rounds", response={201: RoundOut, **_WRITE}, summary="新建普查轮次（准备中）")
@requires(DATA_CENTRE)
def rounds_create(request: HttpRequest, payload: RoundIn):
    principal = principal_of(request)
    previous = sel.census_round_get(principal, payload.previous) if payload.previous else None
    created = census_round_create(
        actor=principal,
        code=payload.code,
        name=payload.name,
        period_start=payload.period_start,
        period_end=payload.period_end,
        due_on=payload.due_on,
        instructions=payload.instructions,
        previous=previous,
    )
    return Status(201, _round_out(sel.census_round_get(principal, created.public_id)))


@router.get("/rounds/{ref}", response={200: RoundOut, **_READ}, summary="普查轮次（id 或轮次代码）")
@requires(DATA_STEWARD, DATA_CENTRE)
def rounds_get(request: HttpRequest, ref: str):
    return _round_out(sel.census_round_get(principal_of(request), ref))


@router.post(
    "/rounds/{ref}/open", response={200: RoundOut, **_WRITE}, summary="开始填报：为各单位生成并预填普查表"
)
@requires(DATA_CENTRE)
def rounds_open(request: HttpRequest, ref: str, payload: OpenIn):
    principal = principal_of(request)
    round_ = sel.census_round_get(principal, ref)
    enterprises = list(Department.objects.filter(code__in=payload.enterprises[:200], is_active=True))
    unknown = set(payload.enterprises) - {d.code for d in enterprises}
    if unknown:
        raise ValidationError(
            {"enterprises": _("没有这些部门：%(codes)s") % {"codes": "、".join(sorted(unknown)[:10])}}
        )
    try:
        census_round_open(actor=principal, round_=round_, enterprises=enterprises)
    except CensusConflict as exc:
        return _conflict(request, exc)
    return _round_out(sel.census_round_get(principal, round_.public_id))


@router.post("/rounds/{ref}/close", response={200: RoundOut, **_WRITE}, summary="结束本轮普查（冻结）")
@requires(DATA_CENTRE)
def rounds_close(request: HttpRequest, ref: str):
    principal = principal_of(request)
    round_ = sel.census_round_get(principal, ref)
    try:
        census_round_close(actor=principal, round_=round_)
    except CensusConflict as exc:
        return _conflict(request, exc)
    return _round_out(sel.census_round_get(principal, round_.public_id))


@router.post(
    "/rounds/{ref}/units", response={201: ReturnOut, **_WRITE}, summary="增加填报单位（如公共企事业单位）"
)
@requires(DATA_CENTRE)
def rounds_unit_add(request: HttpRequest, ref: str, payload: UnitIn):
    principal = principal_of(request)
    round_ = sel.census_round_get(principal, ref)
    department = Department.objects.filter(code=payload.department.strip()).first()
    try:
        created = census_unit_add(
            actor=principal, round_=round_, department=department, unit_kind=payload.unit_kind
        )
    except CensusConflict as exc:
        return _conflict(request, exc)
    return Status(201, _return_out(sel.census_return_get(principal, created.public_id)))


@router.get(
    "/rounds/{ref}/completeness", response={200: CompletenessOut, **_READ}, summary="完成度（大数据中心）"
)
@requires(DATA_CENTRE)
def rounds_completeness(request: HttpRequest, ref: str):
    principal = principal_of(request)
    figures = sel.census_completeness(principal, sel.census_round_get(principal, ref))

    def kind(k):
        return {
            "unit_kind": k.unit_kind,
            "label": k.label,
            "units": k.units,
            "by_status": k.by_status,
            "submitted": k.submitted,
            "accepted": k.accepted,
            "submitted_pct": k.submitted_pct,
            "accepted_pct": k.accepted_pct,
            "on_time": k.on_time,
            "late": k.late,
            "overdue": k.overdue,
            "systems": k.systems,
            "data": k.data,
            "needs": k.needs,
        }

    return {
        "round": _round_out(figures.round),
        "total": kind(figures.total),
        "kinds": [kind(k) for k in figures.kinds],
        "needs_by_status": figures.needs_by_status,
        "items_converted": figures.items_converted,
    }


def _filters(status: str, unit_kind: str) -> None:
    if status and status not in CensusReturn.Status.values:
        raise ValidationError({"status": _("取值不在允许范围内。")})
    if unit_kind and unit_kind not in CensusReturn.UnitKind.values:
        raise ValidationError({"unit_kind": _("取值不在允许范围内。")})


@router.get("/rounds/{ref}/returns", response={200: ReturnPageOut, **_READ}, summary="本轮各单位普查表")
@requires(DATA_STEWARD, DATA_CENTRE)
def rounds_returns(
    request: HttpRequest,
    ref: str,
    status: str = Query(""),
    unit_kind: str = Query(""),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    _filters(status, unit_kind)
    principal = principal_of(request)
    round_ = sel.census_round_get(principal, ref)
    page = sel.census_returns(
        principal, round_=round_, status=status, unit_kind=unit_kind, cursor=cursor, limit=limit
    )
    return {"items": [_return_out(r) for r in page.items], "next_cursor": page.next_cursor}


# --- returns ------------------------------------------------------------------------------------------------------------
@router.get("/returns", response={200: ReturnPageOut, **_READ}, summary="我的普查表（中心：全部）")
@requires(DATA_STEWARD, DATA_CENTRE)
def returns_list(
    request: HttpRequest,
    status: str = Query(""),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    _filters(status, "")
    page = sel.census_returns(principal_of(request), status=status, cursor=cursor, limit=limit)
    return {"items": [_return_out(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/returns/{uuid:return_id}", response={200: ReturnDetailOut, **_READ}, summary="普查表及其三张清单"
)
@requires(DATA_STEWARD, DATA_CENTRE)
def returns_get(request: HttpRequest, return_id: UUID):
    principal = principal_of(request)
    return _detail(principal, sel.census_return_get(principal, return_id))


@router.post(
    "/returns/{uuid:return_id}/lines/{kind}",
    response={201: ReturnDetailOut, **_WRITE},
    summary="增加一行（systems/data/needs）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def lines_add(request: HttpRequest, return_id: UUID, kind: str, payload: LineIn):
    principal = principal_of(request)
    row = sel.census_return_get(principal, return_id)
    kind = _kind(kind)
    try:
        census_line_save(
            actor=principal,
            census_return=row,
            kind=kind,
            values=_values(kind, payload),
            expected_version=payload.expected_version,
        )
    except CensusConflict as exc:
        return _conflict(request, exc)
    return Status(201, _detail(principal, sel.census_return_get(principal, return_id)))


@router.put(
    "/returns/{uuid:return_id}/lines/{kind}/{uuid:line_id}",
    response={200: ReturnDetailOut, **_WRITE},
    summary="修改一行",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def lines_update(request: HttpRequest, return_id: UUID, kind: str, line_id: UUID, payload: LineIn):
    principal = principal_of(request)
    row = sel.census_return_get(principal, return_id)
    kind = _kind(kind)
    line = sel.census_line_get(row, kind, line_id)
    try:
        census_line_save(
            actor=principal,
            census_return=row,
            kind=kind,
            line=line,
            values=_values(kind, payload),
            expected_version=payload.expected_version,
        )
    except CensusConflict as exc:
        return _conflict(request, exc)
    return _detail(principal, sel.census_return_get(principal, return_id))


@router.delete(
    "/returns/{uuid:return_id}/lines/{kind}/{uuid:line_id}",
    response={200: ReturnDetailOut, **_WRITE},
    summary="删除一行",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def lines_remove(
    request: HttpRequest, return_id: UUID, kind: str, line_id: UUID, expected_version: int | None = None
):
    principal = principal_of(request)
    row = sel.census_return_get(principal, return_id)
    kind = _kind(kind)
    line = sel.census_line_get(row, kind, line_id)
    try:
        census_line_remove(
            actor=principal, census_return=row, kind=kind, line=line, expected_version=expected_version
        )
    except CensusConflict as exc:
        return _conflict(request, exc)
    return _detail(principal, sel.census_return_get(principal, return_id))


@router.post(
    "/returns/{uuid:return_id}/submit", response={200: ReturnDetailOut, **_WRITE}, summary="提交普查表"
)
@requires(DATA_STEWARD, DATA_CENTRE)
def returns_submit(request: HttpRequest, return_id: UUID, payload: CensusVersionIn):
    principal = principal_of(request)
    row = sel.census_return_get(principal, return_id)
    try:
        census_return_submit(actor=principal, census_return=row, expected_version=payload.expected_version)
    except CensusConflict as exc:
        return _conflict(request, exc)
    return _detail(principal, sel.census_return_get(principal, return_id))


@router.post(
    "/returns/{uuid:return_id}/review",
    response={200: ReturnDetailOut, **_WRITE},
    summary="审核：通过或退回修改",
)
@requires(DATA_CENTRE)
def returns_review(request: HttpRequest, return_id: UUID, payload: CensusReviewIn):
    principal = principal_of(request)
    row = sel.census_return_get(principal, return_id)
    try:
        census_return_review(
            actor=principal,
            census_return=row,
            decision=payload.decision,
            note=payload.note,
            expected_version=payload.expected_version,
        )
    except CensusConflict as exc:
        return _conflict(request, exc)
    return _detail(principal, sel.census_return_get(principal, return_id))


# --- 供需对接 -----------------------------------------------------------------------------------------------------------
@router.post(
    "/data/{uuid:item_id}/draft", response={201: DraftOut, **_WRITE}, summary="数据清单 → 资源目录草稿"
)
@requires(DATA_CENTRE)
def item_draft(request: HttpRequest, item_id: UUID):
    principal = principal_of(request)
    item = sel.census_item_get(principal, item_id)
    try:
        resource = census_item_to_draft(actor=principal, item=item)
    except CensusConflict as exc:
        return _conflict(request, exc)
    return Status(
        201,
        {
            "id": resource.public_id,
            "code": resource.code,
            "name": resource.name,
            "status": resource.status,
            "fields": resource.fields.count(),
        },
    )


def _queue_out(n: CensusNeed) -> dict:
    return {
        **_need_out(n),
        "unit": _ref(n.census_return.unit),
        "round": n.census_return.round.code,
        "return_id": n.census_return.public_id,
    }


@router.get("/needs", response={200: NeedPageOut, **_READ}, summary="供需对接：已通过普查表中的需求")
@requires(DATA_CENTRE)
def needs_list(
    request: HttpRequest,
    round: str = Query("", description="轮次代码"),
    status: str = Query(""),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    if status and status not in CensusNeed.Status.values:
        raise ValidationError({"status": _("取值不在允许范围内。")})
    principal = principal_of(request)
    round_ = sel.census_round_get(principal, round) if round else None
    page = sel.census_needs(principal, round_=round_, status=status, cursor=cursor, limit=limit)
    return {"items": [_queue_out(n) for n in page.items], "next_cursor": page.next_cursor}


@router.get("/needs/{uuid:need_id}", response={200: NeedQueueOut, **_READ}, summary="一条需求")
@requires(DATA_CENTRE)
def needs_get(request: HttpRequest, need_id: UUID):
    return _queue_out(sel.census_need_get(principal_of(request), need_id))


@router.get(
    "/needs/{uuid:need_id}/candidates",
    response={200: list[CandidateOut], **_READ},
    summary="可匹配的已发布资源",
)
@requires(DATA_CENTRE)
def needs_candidates(request: HttpRequest, need_id: UUID, q: str = Query("", max_length=100)):
    principal = principal_of(request)
    need = sel.census_need_get(principal, need_id)
    return [
        {"id": r.public_id, "code": r.code, "name": r.name, "provider": _ref(r.provider)}
        for r in sel.census_need_candidates(principal, need, q)
    ]


@router.post("/needs/{uuid:need_id}/match", response={200: NeedQueueOut, **_WRITE}, summary="匹配已发布资源")
@requires(DATA_CENTRE)
def needs_match(request: HttpRequest, need_id: UUID, payload: MatchIn):
    principal = principal_of(request)
    need = sel.census_need_get(principal, need_id)
    try:
        census_need_match(
            actor=principal, need=need, resource=sel.census_resource_get(payload.resource), note=payload.note
        )
    except CensusConflict as exc:
        return _conflict(request, exc)
    return _queue_out(sel.census_need_get(principal, need_id))


@router.post(
    "/needs/{uuid:need_id}/unmatched", response={200: NeedQueueOut, **_WRITE}, summary="标记暂无资源"
)
@requires(DATA_CENTRE)
def needs_unmatched(request: HttpRequest, need_id: UUID, payload: NoteIn):
    principal = principal_of(request)
    need = sel.census_need_get(principal, need_id)
    try:
        census_need_unmatched(actor=principal, need=need, note=payload.note)
    except CensusConflict as exc:
        return _conflict(request, exc)
    return _queue_out(sel.census_need_get(principal, need_id))


@router.post(
    "/needs/{uuid:need_id}/request", response={201: NeedQueueOut, **_WRITE}, summary="为需求单位发起共享申请"
)
@requires(DATA_CENTRE)
def needs_request(request: HttpRequest, need_id: UUID, payload: NeedRequestIn):
    principal = principal_of(request)
    need = sel.census_need_get(principal, need_id)
    system = None
    if payload.system_client_id:
        system = RegisteredSystem.objects.filter(
            client_id=payload.system_client_id, department_id=need.census_return.unit_id
        ).first()
        if system is None:
            raise ValidationError({"system": _("需求单位没有该接入系统。")})
    try:
        census_need_request(
            actor=principal,
            need=need,
            system=system,
            fields=payload.fields or None,
            purpose=payload.purpose,
            frequency=payload.frequency,
            term_start=payload.term_start,
            term_end=payload.term_end,
        )
    except CensusConflict as exc:
        return _conflict(request, exc)
    return Status(201, _queue_out(sel.census_need_get(principal, need_id)))
