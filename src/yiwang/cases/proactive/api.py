"""API: 免申即享 (proactive benefits). Citizens and enterprise users list their own entitlements and confirm or
decline them; data officers read the policy statistics (funnel and reasons for exclusion) and ask for an
evaluation (queued for a Huey consumer).

Another subject's entitlement is 404 (its existence is not disclosed); a citizen on /policies is 403.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import POLICY_VIEW, SELF_SERVICE
from yiwang.core.schemas import ProblemOut

from ..models import Entitlement
from . import entitlements as grants
from . import selectors, services

router = Router(tags=["proactive"])

_READ_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


# --- schemas --------------------------------------------------------------------------------------------------
class RuleOut(Schema):
    code: str
    name: str
    passed: bool
    message: str = ""


class EntitlementOut(Schema):
    id: UUID = Field(..., description="资格标识")
    policy_code: str
    policy_name: str
    description: str
    status: str = Field(..., description="eligible / notified / confirmed / granted / declined / excluded")
    status_label: str
    reason: str = Field("", description="放弃或不再符合的原因")
    rules: list[RuleOut] = Field(default_factory=list, description="判定时各条规则的结果")
    rules_version: int
    case_id: UUID | None = Field(None, description="兑现后办结的办件")
    case_number: str | None = None
    notified_at: datetime | None = None
    granted_at: datetime | None = None


class EntitlementPage(Schema):
    items: list[EntitlementOut]
    next_cursor: str | None = None


class DeclineIn(Schema):
    reason: str = Field(..., min_length=1, max_length=300, description="放弃原因")


class RunOut(Schema):
    kind: str
    rules_version: int
    started_at: datetime
    finished_at: datetime | None = None
    evaluated: int
    newly_eligible: int
    newly_excluded: int
    notified: int
    granted: int


class PolicyStatsOut(Schema):
    code: str
    name: str
    subject: str
    mode: str
    status: str
    item_code: str
    rules_version: int
    eligible_total: int
    eligible: int
    notified: int
    confirmed: int
    granted: int
    declined: int
    excluded: int
    runs: list[RunOut]


class ReasonOut(Schema):
    code: str
    name: str
    count: int = Field(..., description="未通过该规则的对象数")


class PolicyDetailOut(PolicyStatsOut):
    reasons: list[ReasonOut]


class EvaluateIn(Schema):
    full: bool = Field(False, description="true 全量评估；false 增量评估（仅变更过的对象与生日跨龄者）")


class QueuedOut(Schema):
    queued: bool
    policy: str
    full: bool


class EntitlementMineQuery(Schema):
    cursor: str | None = Field(None, max_length=CURSOR_MAX)
    limit: int = Field(20, ge=1, le=100)


# --- mapping --------------------------------------------------------------------------------------------------
def _entitlement_out(e: Entitlement) -> dict:
    return {
        "id": e.public_id,
        "policy_code": e.policy.code,
        "policy_name": e.policy.name,
        "description": e.policy.description,
        "status": e.status,
        "status_label": e.get_status_display(),
        "reason": e.reason,
        "rules": [
            {
                "code": str(r.get("code", "")),
                "name": str(r.get("name", "")),
                "passed": bool(r.get("passed")),
                "message": str(r.get("message") or ""),
            }
            for r in e.results or []
            if isinstance(r, dict)
        ],
        "rules_version": e.rules_version,
        "case_id": e.case.public_id if e.case_id else None,
        "case_number": e.case.number if e.case_id else None,
        "notified_at": e.notified_at,
        "granted_at": e.granted_at,
    }


def _stats_out(s: selectors.PolicyStats) -> dict:
    p = s.policy
    return {
        "code": p.code,
        "name": p.name,
        "subject": p.subject,
        "mode": p.mode,
        "status": p.status,
        "item_code": p.item_code,
        "rules_version": p.rules_version,
        "eligible_total": s.eligible_total,
        "eligible": s.eligible,
        "notified": s.notified,
        "confirmed": s.confirmed,
        "granted": s.granted,
        "declined": s.declined,
        "excluded": s.excluded,
        "runs": s.runs,
    }


# --- applicants -----------------------------------------------------------------------------------------------
@router.get("/mine", response={200: EntitlementPage, **_READ_ERRORS}, summary="我的免申即享待遇")
@requires(SELF_SERVICE)
def mine(request: HttpRequest, query: Query[EntitlementMineQuery]):
    page = selectors.entitlements_mine(principal_of(request), cursor=query.cursor, limit=query.limit)
    return {"items": [_entitlement_out(e) for e in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/entitlements/{uuid:entitlement_id}/confirm",
    response={200: EntitlementOut, **_READ_ERRORS},
    summary="确认享受：立即办结兑现事项（重复确认不会重复办理）",
)
@requires(SELF_SERVICE)
def confirm(request: HttpRequest, entitlement_id: UUID):
    principal = principal_of(request)
    entitlement = selectors.entitlement_get_own(principal, entitlement_id)
    result = grants.entitlement_confirm(actor=principal, entitlement=entitlement)
    return _entitlement_out(selectors.entitlement_get_own(principal, result.public_id))


@router.post(
    "/entitlements/{uuid:entitlement_id}/decline",
    response={200: EntitlementOut, **_READ_ERRORS},
    summary="放弃享受（此后不再提醒）",
)
@requires(SELF_SERVICE)
def decline(request: HttpRequest, entitlement_id: UUID, payload: DeclineIn):
    principal = principal_of(request)
    entitlement = selectors.entitlement_get_own(principal, entitlement_id)
    grants.entitlement_decline(actor=principal, entitlement=entitlement, reason=payload.reason)
    return _entitlement_out(selectors.entitlement_get_own(principal, entitlement_id))


# --- data officers --------------------------------------------------------------------------------------------
@router.get("/policies", response={200: list[PolicyStatsOut], **_READ_ERRORS}, summary="政策统计")
@requires(POLICY_VIEW)
def policies(request: HttpRequest):
    return [_stats_out(s) for s in selectors.policy_stats(principal_of(request))]


@router.get(
    "/policies/{code}", response={200: PolicyDetailOut, **_READ_ERRORS}, summary="政策统计与不符合原因"
)
@requires(POLICY_VIEW)
def policy(request: HttpRequest, code: str):
    principal = principal_of(request)
    found = selectors.policy_get(principal, code)
    stats = selectors.policy_stats(principal, policies=[found])[0]
    _run, reasons = selectors.policy_reasons(found, stats.runs)
    return {**_stats_out(stats), "reasons": [r.__dict__ for r in reasons]}


@router.post(
    "/policies/{code}/evaluate",
    response={202: QueuedOut, **_READ_ERRORS},
    summary="发起评估（排入后台任务队列）",
)
@requires(POLICY_VIEW)
def evaluate(request: HttpRequest, code: str, payload: EvaluateIn):
    principal = principal_of(request)
    found = selectors.policy_get(principal, code)
    services.policy_evaluate_enqueue(actor=principal, policy=found, full=payload.full)
    return Status(202, {"queued": True, "policy": found.code, "full": payload.full})
