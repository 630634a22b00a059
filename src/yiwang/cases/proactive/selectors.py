"""Reads of 免申即享 a user can reach: a subject's own entitlements, and the data officers' policy statistics.

Scoping: citizens see the entitlements of their own Person, enterprise users those of the organisation their
account represents (another's entitlement is Http404); the statistics need POLICY_VIEW (data officers and the
district administrator) and show names masked (张*三) — a data officer needs the numbers and the reasons, not
who.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.catalog.models import ProactivePolicy
from yiwang.core.masking import mask_name
from yiwang.core.models import Account
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import POLICY_VIEW, SELF_SERVICE
from yiwang.core.principal import Principal

from ..models import Entitlement, PolicyRun

S = Entitlement.Status
RUNS_SHOWN = 3


# --- a subject's own ---------------------------------------------------------------------------------------------
def _own_filter(principal: Principal) -> Q | None:
    account = principal.account
    if account is None:
        return None
    if account.kind == Account.Kind.CITIZEN and account.person_id:
        return Q(person_id=account.person_id)
    if account.kind == Account.Kind.ENTERPRISE and account.organisation_id:
        return Q(organisation_id=account.organisation_id)
    return None


def entitlements_mine(principal: Principal, *, cursor: str | None = None, limit: int = 20) -> Page:
    """The caller's entitlements, newest first, with their policy and (granted) case."""
    principal.require(SELF_SERVICE)
    own = _own_filter(principal)
    if own is None:
        return Page(items=[], next_cursor=None)
    rows = Entitlement.objects.filter(own).select_related("policy", "case")
    return keyset_page(rows, key="id", cursor=cursor, limit=limit, descending=True)


def entitlement_get_own(principal: Principal, public_id) -> Entitlement:
    principal.require(SELF_SERVICE)
    own = _own_filter(principal)
    if own is None:
        raise Http404(_("没有找到该待遇资格。"))
    try:
        found = Entitlement.objects.filter(own, public_id=public_id).select_related("policy", "case").first()
    except (ValidationError, ValueError):
        found = None
    if found is None:
        raise Http404(_("没有找到该待遇资格。"))
    return found


def entitlement_reasons(entitlement: Entitlement) -> tuple[list[str], list[str]]:
    """(rules met, rules failed) by name, from the results recorded when it was last decided."""
    met = [r.get("name", "") for r in entitlement.results or [] if r.get("passed")]
    failed = [r.get("name", "") for r in entitlement.results or [] if not r.get("passed")]
    return met, failed


# --- data officers -----------------------------------------------------------------------------------------------
@dataclass
class PolicyStats:
    policy: ProactivePolicy
    eligible_total: int = 0  # everyone found eligible and not since excluded
    eligible: int = 0  # found, not yet told (or, 无感办理, not yet granted)
    notified: int = 0
    confirmed: int = 0  # confirmed by the subject (granted or not)
    granted: int = 0
    declined: int = 0
    excluded: int = 0
    runs: list[PolicyRun] = field(default_factory=list)


_COUNTS = {
    "eligible_total": Count("id", filter=~Q(status=S.EXCLUDED)),
    "eligible": Count("id", filter=Q(status=S.ELIGIBLE)),
    "notified": Count("id", filter=Q(status=S.NOTIFIED)),
    "confirmed": Count("id", filter=Q(status=S.CONFIRMED) | Q(status=S.GRANTED, decided_at__isnull=False)),
    "granted": Count("id", filter=Q(status=S.GRANTED)),
    "declined": Count("id", filter=Q(status=S.DECLINED)),
    "excluded": Count("id", filter=Q(status=S.EXCLUDED)),
}


def policy_stats(principal: Principal, *, policies: list[ProactivePolicy] | None = None) -> list[PolicyStats]:
    """Per active (or paused) policy: the entitlement funnel (one grouped query) and the last runs (one
    query)."""
    principal.require(POLICY_VIEW)
    if policies is None:
        policies = list(
            ProactivePolicy.objects.filter(
                status__in=(ProactivePolicy.Status.ACTIVE, ProactivePolicy.Status.PAUSED)
            ).order_by("code")
        )
    stats = {p.pk: PolicyStats(policy=p) for p in policies}
    if not stats:
        return []
    for row in Entitlement.objects.filter(policy_id__in=stats).values("policy_id").annotate(**_COUNTS):
        target = stats[row["policy_id"]]
        for name in _COUNTS:
            setattr(target, name, row[name])
    runs = PolicyRun.objects.filter(policy_id__in=stats).order_by("-started_at", "-id")
    for run in runs[: RUNS_SHOWN * len(stats) * 4]:
        bucket = stats[run.policy_id].runs
        if len(bucket) < RUNS_SHOWN:
            bucket.append(run)
    return list(stats.values())


def policy_get(principal: Principal, code: str) -> ProactivePolicy:
    principal.require(POLICY_VIEW)
    policy = ProactivePolicy.objects.filter(code=(code or "").strip()).first()
    if policy is None:
        raise Http404(_("没有找到该政策。"))
    return policy


@dataclass(frozen=True)
class Reason:
    code: str
    name: str
    count: int


def policy_reasons(policy: ProactivePolicy, runs: list[PolicyRun]) -> tuple[PolicyRun | None, list[Reason]]:
    """Why subjects are not eligible: the fail counts of the latest full run (else the latest run), each rule
    by name, most frequent first."""
    run = next((r for r in runs if r.kind == PolicyRun.Kind.FULL and r.finished_at), None)
    if run is None:
        run = PolicyRun.objects.filter(
            policy=policy, kind=PolicyRun.Kind.FULL, finished_at__isnull=False
        ).first()
    if run is None:
        run = next((r for r in runs if r.finished_at), None)
    if run is None:
        return None, []
    names = {str(r.get("code")): str(r.get("name")) for r in policy.rules or [] if isinstance(r, dict)}
    reasons = [
        Reason(code=code, name=names.get(code, code), count=int(count))
        for code, count in (run.fail_counts or {}).items()
    ]
    reasons.sort(key=lambda r: (-r.count, r.code))
    return run, reasons


@dataclass(frozen=True)
class EntitlementRow:
    id: int
    subject: str  # a person's name masked; an organisation's name is public (法人登记信息)
    status: str
    status_label: str
    reason: str
    case_number: str
    eligible_since: object
    updated_at: object


def policy_entitlements(
    principal: Principal,
    policy: ProactivePolicy,
    *,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """One policy's entitlements (filtered by status), newest first, names masked."""
    principal.require(POLICY_VIEW)
    rows = Entitlement.objects.filter(policy=policy)
    if status:
        if status not in S.values:
            raise ValidationError({"status": _("未知的状态。")}, code="invalid")
        rows = rows.filter(status=status)
    rows = rows.select_related("person", "organisation", "case").only(
        "id",
        "status",
        "reason",
        "eligible_since",
        "updated_at",
        "person__name",
        "organisation__name",
        "case__number",
    )
    page = keyset_page(rows, key="id", cursor=cursor, limit=limit, descending=True)
    page.items = [
        EntitlementRow(
            id=e.pk,
            subject=mask_name(e.person.name) if e.person_id else e.organisation.name,  # 法人名称公开
            status=e.status,
            status_label=e.get_status_display(),
            reason=e.reason,
            case_number=e.case.number if e.case_id and e.case.number else "",
            eligible_since=e.eligible_since,
            updated_at=e.updated_at,
        )
        for e in page.items
    ]
    return page
