"""What the gateway's call log shows, and to whom.

- the big-data centre (DATA_CENTRE) and data auditors (DATA_AUDIT): every call;
- a department's data officer (DATA_STEWARD): calls on its resources (tab "given": it is the provider) and calls
  made by its registered systems (tab "made": it holds the grant);
- nobody else (systems read their own grants through the API, citizens their uses in 我的数据).

Lists are keyset pages, newest first (GatewayCall id). Per-grant usage counts come from one aggregate query over
the grants of one page, for a bounded window (default the last 30 days).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import DATA_AUDIT, DATA_CENTRE, DATA_STEWARD
from yiwang.core.principal import Principal

from ..models import GatewayCall, ShareGrant

CALL_TABS = ("given", "made", "all")
USAGE_DAYS = 30


def _sees_all(principal: Principal | None) -> bool:
    return (
        principal is not None
        and not principal.is_system
        and (principal.has(DATA_CENTRE) or principal.has(DATA_AUDIT))
    )


def _department_id(principal: Principal | None) -> int | None:
    if principal is None or principal.is_system or not principal.has(DATA_STEWARD):
        return None
    department = principal.department
    return department.pk if department is not None else None


def gateway_call_tabs(principal: Principal | None) -> tuple[str, ...]:
    return CALL_TABS if _sees_all(principal) else CALL_TABS[:2]


def _calls_visible_q(principal: Principal | None, tab: str) -> Q | None:
    department_id = _department_id(principal)
    if tab == "all":
        return Q() if _sees_all(principal) else None
    if department_id is None:
        return None
    if tab == "made":
        return Q(system__department_id=department_id)
    return Q(resource__provider_id=department_id)


def gateway_calls_visible(
    principal: Principal | None,
    *,
    tab: str = "given",
    outcome: str = "",
    operation: str = "",
    resource_code: str = "",
    grant_number: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """The calls the principal may see on this tab, filtered, newest first."""
    visible = _calls_visible_q(principal, tab)
    if visible is None:
        return Page(items=[], next_cursor=None)
    query: QuerySet = GatewayCall.objects.select_related(
        "system__department", "grant", "resource", "subject_person", "subject_organisation"
    ).filter(visible)
    if outcome:
        query = query.filter(outcome=outcome)
    if operation:
        query = query.filter(operation=operation)
    if resource_code:
        query = query.filter(resource__code=resource_code[:40])
    if grant_number:
        query = query.filter(grant__number=grant_number[:32])
    return keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)


def gateway_grant_usage(
    principal: Principal | None,
    *,
    tab: str = "given",
    cursor: str | None = None,
    limit: int = 20,
    days: int = USAGE_DAYS,
) -> Page:
    """Grants the principal's department gives (given) or holds (made), or all (the centre), each with its call
    counts of the last `days` days: `calls_ok`, `calls_refused`, `calls_rate_limited`, `last_call_at`."""
    department_id = _department_id(principal)
    grants = ShareGrant.objects.select_related("resource", "provider", "requester", "system")
    if tab == "all" and _sees_all(principal):
        pass
    elif department_id is None:
        return Page(items=[], next_cursor=None)
    elif tab == "made":
        grants = grants.filter(requester_id=department_id)
    else:
        grants = grants.filter(provider_id=department_id)
    page = keyset_page(grants, key="id", cursor=cursor, limit=limit, descending=True)
    since = timezone.now() - timedelta(days=days)
    counts = {
        row["grant_id"]: row
        for row in GatewayCall.objects.filter(grant_id__in=[g.pk for g in page.items], at__gte=since)
        .values("grant_id")
        .annotate(
            ok=Count("id", filter=Q(outcome=GatewayCall.Outcome.OK)),
            limited=Count("id", filter=Q(outcome=GatewayCall.Outcome.RATE_LIMITED)),
            total=Count("id"),
            last=Max("at"),
        )
        .order_by()
    }
    for grant in page.items:
        row = counts.get(grant.pk) or {}
        grant.calls_ok = row.get("ok", 0)
        grant.calls_rate_limited = row.get("limited", 0)
        grant.calls_refused = row.get("total", 0) - grant.calls_ok
        grant.last_call_at = row.get("last")
    return page
