"""API: 共享申请 and 共享授权 (/api/datahub/share).

Requests: file (`POST /requests`), list (keyset, newest first; `tab` made / received / centre), read one with its
timeline, the moves the caller may make and the grant; the moves offer / approve (the provider's terms), accept,
activate (the centre, where the grade policy asks for it), refuse, withdraw; receipts of every move for both sides.
Grants: list (held / given), read, renew / suspend / resume / revoke (provider or centre), covert (centre);
ratings (双向评价, once per side per quarter); disputes (either side raises, the centre resolves); the scorecard's
figures of a department.

Scoping (selectors.sharing): the data officers of the two departments and the centre; anybody else 404. Errors are
problem+json: 401, 403 (wrong permission or side), 404, 409 (stale `expected_version`, or a move the request's
state does not allow), 422 (field errors; nothing written).

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date, datetime, time
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Query, Router, Status

from yiwang.core.apiutils import principal_of, problem, receipt_download, receipt_items, requires
from yiwang.core.models import Department, RegisteredSystem
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.schemas import ProblemOut

from .models import ShareDispute, ShareGrant, ShareRequest
from .schemas_sharing import (
    ActIn,
    CovertIn,
    DisputePageOut,
    RatingIn,
    RatingOut,
    ReasonIn,
    RefuseIn,
    RenewIn,
    RequestDetailOut,
    RequestIn,
    RequestPageOut,
    ShareDisputeIn,
    ShareDisputeOut,
    ShareFiguresOut,
    ShareGrantOut,
    ShareGrantPageOut,
    ShareReceiptItemOut,
    ShareResolveIn,
    TermsIn,
)
from .selectors import sharing as sel
from .services.grants import share_dispute_raise, share_dispute_resolve, share_rating_create
from .services.sharing import share_request_create, share_request_transition
from .workflow import ShareConflict, moves_for

router = Router(tags=["共享申请"])
router.add_decorator(never_cache, mode="view")  # agreements between departments: never in shared caches

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}
_WRITE = {**_READ, 409: ProblemOut}


# --- shaping -------------------------------------------------------------------------------------------------------
def _ref(department) -> dict:
    return {"code": department.code, "name": department.name}


def _resource(resource) -> dict:
    return {
        "id": resource.public_id,
        "code": resource.code,
        "name": resource.name,
        "version": resource.version,
    }


def _request_out(r: ShareRequest) -> dict:
    return {
        "id": r.public_id,
        "number": r.number,
        "state": r.state,
        "state_label": str(ShareRequest.State(r.state).label),
        "version": r.row_version,
        "resource": _resource(r.resource),
        "provider": _ref(r.provider),
        "requester": _ref(r.requester),
        "system": {"client_id": r.system.client_id, "name": r.system.name},
        "fields": list(r.fields or []),
        "scenario": r.scenario,
        "purpose": r.purpose,
        "legal_basis": r.legal_basis,
        "frequency": r.frequency,
        "term_start": r.term_start,
        "term_end": r.term_end,
        "approved_by_rule": r.approved_by_rule,
        "centre_step": r.centre_step,
        "offer": r.offer or {},
        "answer_note": r.answer_note,
        "refusal_basis": r.refusal_basis,
        "due_at": r.due_at,
        "overdue": bool(getattr(r, "is_overdue", False)),
        "answered_at": r.answered_at,
        "created_at": r.created_at,
    }


def _grant_out(g: ShareGrant) -> dict:
    return {
        "id": g.public_id,
        "number": g.number,
        "request_id": g.request.public_id,
        "request_number": g.request.number,
        "version": g.request.row_version,
        "status": g.status,
        "resource": _resource(g.resource),
        "provider": _ref(g.provider),
        "requester": _ref(g.requester),
        "system": {"client_id": g.system.client_id, "name": g.system.name},
        "scenario": g.scenario,
        "fields": dict(g.fields or {}),
        "row_filter": dict(g.row_filter or {}),
        "rate_per_minute": g.rate_per_minute,
        "valid_from": g.valid_from,
        "valid_until": g.valid_until,
        "requires_consent": g.requires_consent,
        "covert_until": g.covert_until,
        "status_reason": g.status_reason,
        "renewed_count": g.renewed_count,
    }


def _detail(principal, r: ShareRequest) -> dict:
    grant = sel.share_grant_of(r)
    if grant is not None:
        grant.request = r
    return {
        **_request_out(r),
        "actions": [m.name for m in moves_for(principal, r)],
        "events": [
            {
                "seq": e.seq,
                "action": e.action,
                "label": e.label,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "actor": e.actor_label,
                "department": e.department.name if e.department_id else None,
                "note": e.note,
                "at": e.created_at,
                "receipt_entry": e.audit_uuid,
            }
            for e in sel.share_request_events(r)
        ],
        "grant": _grant_out(grant) if grant is not None else None,
    }


def _dispute_out(d: ShareDispute) -> dict:
    return {
        "id": d.public_id,
        "request_id": d.request.public_id,
        "request_number": d.request.number,
        "raised_by": _ref(d.raised_by),
        "subject": d.subject,
        "description": d.description,
        "status": d.status,
        "resolution": d.resolution,
        "resolved_by": d.resolved_by,
        "created_at": d.created_at,
        "resolved_at": d.resolved_at,
    }


def _conflict(request: HttpRequest, detail: str) -> HttpResponse:
    return problem(request, 409, _("状态冲突"), detail)


def _move(request: HttpRequest, share_request: ShareRequest, move: str, **kwargs):
    """Runs a move; a stale version or a move the state does not allow answers 409."""
    principal = principal_of(request)
    try:
        share_request_transition(actor=principal, request=share_request, move=move, **kwargs)
    except ShareConflict as exc:
        return _conflict(request, " ".join(exc.messages))
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and set(exc.error_dict) == {"action"}:
            return _conflict(request, " ".join(exc.message_dict["action"]))
        raise
    return _detail(principal, sel.share_request_get(principal, share_request.public_id))


# --- requests ------------------------------------------------------------------------------------------------------
@router.get(
    "/requests",
    response={200: RequestPageOut, **_READ},
    summary="共享申请列表（本部门提出或收到的；中心可看全部）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def requests_list(
    request: HttpRequest,
    tab: str = Query("", description="made / received / centre；空为全部可见"),
    state: str = Query("", description="状态"),
    overdue: bool = Query(False, description="只看超期未答复"),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    if tab and tab not in sel.TABS:
        raise ValidationError({"tab": _("取值不在允许范围内。")})
    if state and state not in ShareRequest.State.values:
        raise ValidationError({"state": _("取值不在允许范围内。")})
    page = sel.share_requests_visible(
        principal_of(request), tab=tab, state=state, overdue=overdue, cursor=cursor, limit=limit
    )
    return {"items": [_request_out(r) for r in page.items], "next_cursor": page.next_cursor}


@router.post("/requests", response={201: RequestDetailOut, **_WRITE}, summary="提出共享申请")
@requires(DATA_STEWARD)
def requests_create(request: HttpRequest, payload: RequestIn):
    principal = principal_of(request)
    resource = sel.share_resource_get(payload.resource_id)
    # Only the caller's department's systems are looked up: another department's client id reads as unknown.
    system = RegisteredSystem.objects.filter(
        client_id=payload.system_client_id, department=principal.department
    ).first()
    created = share_request_create(
        actor=principal,
        resource=resource,
        system=system,
        fields=payload.fields,
        scenario=payload.scenario,
        purpose=payload.purpose,
        legal_basis=payload.legal_basis,
        frequency=payload.frequency,
        term_start=payload.term_start,
        term_end=payload.term_end,
    )
    return Status(201, _detail(principal, sel.share_request_get(principal, created.public_id)))


@router.get("/requests/{uuid:request_id}", response={200: RequestDetailOut, **_READ}, summary="共享申请详情")
@requires(DATA_STEWARD, DATA_CENTRE)
def requests_get(request: HttpRequest, request_id: UUID):
    principal = principal_of(request)
    return _detail(principal, sel.share_request_get(principal, request_id))


def _terms(payload: TermsIn) -> dict:
    terms: dict = {
        "fields": payload.fields,
        "row_filter": {"division": payload.row_filter_division} if payload.row_filter_division else {},
        "valid_from": payload.valid_from,
        "valid_until": payload.valid_until,
        "requires_consent": payload.requires_consent,
        "covert_until": payload.covert_until,
        "covert_basis": payload.covert_basis,
    }
    if payload.rate_per_minute is not None:
        terms["rate_per_minute"] = payload.rate_per_minute
    return terms


@router.post(
    "/requests/{uuid:request_id}/offer",
    response={200: RequestDetailOut, **_WRITE},
    summary="提供方提出共享条件",
)
@requires(DATA_STEWARD)
def requests_offer(request: HttpRequest, request_id: UUID, payload: TermsIn):
    r = sel.share_request_get(principal_of(request), request_id)
    return _move(
        request,
        r,
        "offer",
        expected_version=payload.expected_version,
        note=payload.note,
        terms=_terms(payload),
    )


@router.post(
    "/requests/{uuid:request_id}/approve",
    response={200: RequestDetailOut, **_WRITE},
    summary="提供方按所设条件同意共享（无须中心审批时即生效）",
)
@requires(DATA_STEWARD)
def requests_approve(request: HttpRequest, request_id: UUID, payload: TermsIn):
    r = sel.share_request_get(principal_of(request), request_id)
    return _move(
        request,
        r,
        "approve",
        expected_version=payload.expected_version,
        note=payload.note,
        terms=_terms(payload),
    )


@router.post(
    "/requests/{uuid:request_id}/accept", response={200: RequestDetailOut, **_WRITE}, summary="申请方接受条件"
)
@requires(DATA_STEWARD)
def requests_accept(request: HttpRequest, request_id: UUID, payload: ActIn):
    r = sel.share_request_get(principal_of(request), request_id)
    return _move(request, r, "accept", expected_version=payload.expected_version, note=payload.note)


@router.post(
    "/requests/{uuid:request_id}/activate",
    response={200: RequestDetailOut, **_WRITE},
    summary="大数据中心审批生效",
)
@requires(DATA_CENTRE)
def requests_activate(request: HttpRequest, request_id: UUID, payload: ActIn):
    r = sel.share_request_get(principal_of(request), request_id)
    return _move(request, r, "activate", expected_version=payload.expected_version, note=payload.note)


@router.post(
    "/requests/{uuid:request_id}/refuse",
    response={200: RequestDetailOut, **_WRITE},
    summary="不予共享（须依据）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def requests_refuse(request: HttpRequest, request_id: UUID, payload: RefuseIn):
    r = sel.share_request_get(principal_of(request), request_id)
    return _move(request, r, "refuse", expected_version=payload.expected_version, note=payload.basis)


@router.post(
    "/requests/{uuid:request_id}/withdraw", response={200: RequestDetailOut, **_WRITE}, summary="申请方撤回"
)
@requires(DATA_STEWARD)
def requests_withdraw(request: HttpRequest, request_id: UUID, payload: ActIn):
    r = sel.share_request_get(principal_of(request), request_id)
    return _move(request, r, "withdraw", expected_version=payload.expected_version, note=payload.note)


# --- receipts ------------------------------------------------------------------------------------------------------
def receipt_download_path(share_request: ShareRequest, entry) -> str:
    return f"/api/datahub/share/requests/{share_request.public_id}/receipts/{entry.uuid}"


@router.get(
    "/requests/{uuid:request_id}/receipts",
    response={200: list[ShareReceiptItemOut], **_READ},
    summary="共享申请每一步的存证回执（双方均可下载）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def requests_receipts(request: HttpRequest, request_id: UUID):
    r = sel.share_request_get(principal_of(request), request_id)
    return receipt_items(sel.share_request_receipts(r), lambda entry: receipt_download_path(r, entry))


@router.get(
    "/requests/{uuid:request_id}/receipts/{uuid:entry_uuid}",
    response={200: dict, 409: ProblemOut, **_READ},
    summary="下载存证回执（JSON：记录、包含证明、签名树头）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def requests_receipt_get(request: HttpRequest, request_id: UUID, entry_uuid: UUID):
    r = sel.share_request_get(principal_of(request), request_id)
    entry = sel.share_request_receipt_entry(r, entry_uuid)
    return receipt_download(request, entry)


# --- grants -------------------------------------------------------------------------------------------------------
@router.get(
    "/grants",
    response={200: ShareGrantPageOut, **_READ},
    summary="共享授权列表（held 本部门持有 / given 本部门提供）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def grants_list(
    request: HttpRequest,
    tab: str = Query(""),
    status: str = Query(""),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    if tab and tab not in sel.GRANT_TABS:
        raise ValidationError({"tab": _("取值不在允许范围内。")})
    if status and status not in ShareGrant.Status.values:
        raise ValidationError({"status": _("取值不在允许范围内。")})
    page = sel.share_grants_visible(principal_of(request), tab=tab, status=status, cursor=cursor, limit=limit)
    return {"items": [_grant_out(g) for g in page.items], "next_cursor": page.next_cursor}


@router.get("/grants/{uuid:grant_id}", response={200: ShareGrantOut, **_READ}, summary="共享授权详情")
@requires(DATA_STEWARD, DATA_CENTRE)
def grants_get(request: HttpRequest, grant_id: UUID):
    return _grant_out(sel.share_grant_get(principal_of(request), grant_id))


def _grant_move(request: HttpRequest, grant_id: UUID, move: str, **kwargs):
    principal = principal_of(request)
    grant = sel.share_grant_get(principal, grant_id)
    result = _move(request, grant.request, move, **kwargs)
    if isinstance(result, HttpResponse):
        return result
    return _grant_out(sel.share_grant_get(principal, grant_id))


@router.post("/grants/{uuid:grant_id}/renew", response={200: ShareGrantOut, **_WRITE}, summary="续期")
@requires(DATA_STEWARD, DATA_CENTRE)
def grants_renew(request: HttpRequest, grant_id: UUID, payload: RenewIn):
    return _grant_move(
        request,
        grant_id,
        "renew",
        expected_version=payload.expected_version,
        valid_until=payload.valid_until,
        note=payload.note,
    )


@router.post(
    "/grants/{uuid:grant_id}/suspend",
    response={200: ShareGrantOut, **_WRITE},
    summary="暂停（下一次网关调用即生效）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def grants_suspend(request: HttpRequest, grant_id: UUID, payload: ReasonIn):
    return _grant_move(
        request, grant_id, "suspend", expected_version=payload.expected_version, note=payload.reason
    )


@router.post("/grants/{uuid:grant_id}/resume", response={200: ShareGrantOut, **_WRITE}, summary="恢复")
@requires(DATA_STEWARD, DATA_CENTRE)
def grants_resume(request: HttpRequest, grant_id: UUID, payload: ActIn):
    return _grant_move(
        request, grant_id, "resume", expected_version=payload.expected_version, note=payload.note
    )


@router.post(
    "/grants/{uuid:grant_id}/revoke",
    response={200: ShareGrantOut, **_WRITE},
    summary="撤销（下一次网关调用即生效）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def grants_revoke(request: HttpRequest, grant_id: UUID, payload: ReasonIn):
    return _grant_move(
        request, grant_id, "revoke", expected_version=payload.expected_version, note=payload.reason
    )


@router.post(
    "/grants/{uuid:grant_id}/covert",
    response={200: ShareGrantOut, **_WRITE},
    summary="设定暂缓告知（仅大数据中心）",
)
@requires(DATA_CENTRE)
def grants_covert(request: HttpRequest, grant_id: UUID, payload: CovertIn):
    return _grant_move(
        request,
        grant_id,
        "covert",
        expected_version=payload.expected_version,
        covert_until=payload.covert_until,
        covert_basis=payload.covert_basis,
    )


@router.get(
    "/grants/{uuid:grant_id}/ratings", response={200: list[RatingOut], **_READ}, summary="双向评价记录"
)
@requires(DATA_STEWARD, DATA_CENTRE)
def ratings_list(request: HttpRequest, grant_id: UUID):
    grant = sel.share_grant_get(principal_of(request), grant_id)
    return [
        {
            "side": r.side,
            "period": r.period,
            "score": r.score,
            "comment": r.comment,
            "rated_by": r.rated_by,
            "created_at": r.created_at,
        }
        for r in sel.share_ratings_of(grant)
    ]


@router.post(
    "/grants/{uuid:grant_id}/ratings",
    response={201: RatingOut, **_WRITE},
    summary="评价对方（每季度每方一次）",
)
@requires(DATA_STEWARD)
def ratings_create(request: HttpRequest, grant_id: UUID, payload: RatingIn):
    principal = principal_of(request)
    grant = sel.share_grant_get(principal, grant_id)
    r = share_rating_create(
        actor=principal, grant=grant, period=payload.period, score=payload.score, comment=payload.comment
    )
    return Status(
        201,
        {
            "side": r.side,
            "period": r.period,
            "score": r.score,
            "comment": r.comment,
            "rated_by": r.rated_by,
            "created_at": r.created_at,
        },
    )


# --- disputes -----------------------------------------------------------------------------------------------------
@router.get("/disputes", response={200: DisputePageOut, **_READ}, summary="共享争议（中心看全部）")
@requires(DATA_STEWARD, DATA_CENTRE)
def disputes_list(
    request: HttpRequest,
    status: str = Query(""),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    if status and status not in ShareDispute.Status.values:
        raise ValidationError({"status": _("取值不在允许范围内。")})
    page = sel.share_disputes_visible(principal_of(request), status=status, cursor=cursor, limit=limit)
    return {"items": [_dispute_out(d) for d in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/requests/{uuid:request_id}/disputes",
    response={201: ShareDisputeOut, **_WRITE},
    summary="提出争议（报大数据中心协调）",
)
@requires(DATA_STEWARD)
def disputes_raise(request: HttpRequest, request_id: UUID, payload: ShareDisputeIn):
    principal = principal_of(request)
    r = sel.share_request_get(principal, request_id)
    dispute = share_dispute_raise(
        actor=principal, request=r, subject=payload.subject, description=payload.description
    )
    dispute.request = r
    return Status(201, _dispute_out(dispute))


@router.post(
    "/disputes/{uuid:dispute_id}/resolve",
    response={200: ShareDisputeOut, **_WRITE},
    summary="协调争议（大数据中心）",
)
@requires(DATA_CENTRE)
def disputes_resolve(request: HttpRequest, dispute_id: UUID, payload: ShareResolveIn):
    principal = principal_of(request)
    dispute = sel.share_dispute_get(principal, dispute_id)
    try:
        resolved = share_dispute_resolve(actor=principal, dispute=dispute, resolution=payload.resolution)
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and set(exc.error_dict) == {"status"}:
            return _conflict(request, " ".join(exc.message_dict["status"]))
        raise
    return _dispute_out(sel.share_dispute_get(principal, resolved.public_id))


# --- figures ------------------------------------------------------------------------------------------------------
@router.get(
    "/figures/{department_code}",
    response={200: ShareFiguresOut, **_READ},
    summary="部门共享响应指标：平均答复工作日、按时率、双向评价（考核用）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def figures_get(request: HttpRequest, department_code: str, since: date, until: date):
    principal = principal_of(request)
    department = Department.objects.filter(code=department_code).first()
    if department is None:
        raise Http404
    if not principal.has(DATA_CENTRE) and (
        principal.department is None or principal.department.pk != department.pk
    ):
        raise Http404
    if until <= since:
        raise ValidationError({"until": _("截止日期须晚于起始日期。")})
    start = timezone.make_aware(datetime.combine(since, time.min))
    end = timezone.make_aware(datetime.combine(until, time.min))
    return sel.share_response_figures(department, start, end).__dict__
