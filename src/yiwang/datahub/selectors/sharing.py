"""Reads of 共享申请 and 共享授权, scoped by the Principal: a department's data officers (DATA_STEWARD) see the
requests their department made or received; the big-data centre (DATA_CENTRE) sees all; nobody else sees any
(404). Also the figures the next issue's scorecard reads (`share_response_figures`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db.models import Avg, Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.models import AuditEntry, RegisteredSystem
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import DATA_CENTRE, DATA_GATEWAY, DATA_STEWARD
from yiwang.core.principal import Principal
from yiwang.core.workdays import working_calendar, working_days_between

from ..models import DataResource
from ..models.sharing import ShareDispute, ShareGrant, ShareRating, ShareRequest, ShareRequestEvent
from ..workflow import AWAITING_ANSWER, MOVES

TABS = ("made", "received", "centre")
GRANT_TABS = ("held", "given", "all")
MAX_RECEIPTS = 200


def _department_id(principal: Principal | None) -> int | None:
    if principal is None or principal.is_system or not principal.has(DATA_STEWARD):
        return None
    department = principal.department
    return department.pk if department is not None else None


def _is_centre(principal: Principal | None) -> bool:
    return principal is not None and not principal.is_system and principal.has(DATA_CENTRE)


def _visible_q(principal: Principal | None) -> Q | None:
    """Rows (of requests, grants: both carry provider and requester) the principal may see; None: nothing."""
    if _is_centre(principal):
        return Q()
    department_id = _department_id(principal)
    if department_id is None:
        return None
    return Q(requester_id=department_id) | Q(provider_id=department_id)


def _requests() -> QuerySet:
    return ShareRequest.objects.select_related("resource", "provider", "requester", "system")


def share_requests_visible(
    principal: Principal | None,
    *,
    tab: str = "",
    state: str = "",
    overdue: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """The requests the principal may see, newest first: tab made (by my department), received (by my
    department), centre (all, the centre only; overdue ones flagged); none: both of mine (the centre: all)."""
    visible = _visible_q(principal)
    if visible is None:
        return Page(items=[], next_cursor=None)
    query = _requests().filter(visible)
    department_id = _department_id(principal)
    if tab == "made":
        query = query.filter(requester_id=department_id)
    elif tab == "received":
        query = query.filter(provider_id=department_id)
    elif tab == "centre" and not _is_centre(principal):
        return Page(items=[], next_cursor=None)
    if state:
        query = query.filter(state=state)
    if overdue:
        query = query.filter(state__in=AWAITING_ANSWER, due_at__lt=timezone.now())
    page = keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)
    now = timezone.now()
    for request in page.items:
        request.is_overdue = (
            request.state in AWAITING_ANSWER and request.due_at is not None and request.due_at < now
        )
    return page


def share_request_get(principal: Principal | None, public_id) -> ShareRequest:
    visible = _visible_q(principal)
    try:
        uid = UUID(str(public_id))
    except ValueError:
        raise Http404(_("没有找到该共享申请。")) from None
    request = None if visible is None else _requests().filter(visible, public_id=uid).first()
    if request is None:
        raise Http404(_("没有找到该共享申请。"))
    now = timezone.now()
    request.is_overdue = (
        request.state in AWAITING_ANSWER and request.due_at is not None and request.due_at < now
    )
    return request


def share_request_events(request: ShareRequest) -> list[ShareRequestEvent]:
    events = list(request.events.select_related("department").order_by("seq"))
    for event in events:
        move = MOVES.get(event.action)
        event.label = str(move.label) if move else event.action
    return events


def share_grant_of(request: ShareRequest) -> ShareGrant | None:
    return ShareGrant.objects.filter(request=request).first()


def _grants() -> QuerySet:
    return ShareGrant.objects.select_related("resource", "provider", "requester", "system", "request")


def share_grants_visible(
    principal: Principal | None,
    *,
    tab: str = "",
    status: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """Grants the principal's department holds (held) or gives (given), or all it may see; newest first."""
    visible = _visible_q(principal)
    if visible is None:
        return Page(items=[], next_cursor=None)
    query = _grants().filter(visible)
    department_id = _department_id(principal)
    if tab == "held":
        query = query.filter(requester_id=department_id)
    elif tab == "given":
        query = query.filter(provider_id=department_id)
    if status:
        query = query.filter(status=status)
    return keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)


def share_grant_get(principal: Principal | None, public_id) -> ShareGrant:
    visible = _visible_q(principal)
    try:
        uid = UUID(str(public_id))
    except ValueError:
        raise Http404(_("没有找到该共享授权。")) from None
    grant = None if visible is None else _grants().filter(visible, public_id=uid).first()
    if grant is None:
        raise Http404(_("没有找到该共享授权。"))
    return grant


def share_ratings_of(grant: ShareGrant) -> list[ShareRating]:
    return list(ShareRating.objects.filter(grant=grant).order_by("-period", "side")[:100])


def share_disputes_of(request: ShareRequest) -> list[ShareDispute]:
    return list(
        ShareDispute.objects.filter(request=request).select_related("raised_by").order_by("-created_at")[:50]
    )


def share_disputes_visible(
    principal: Principal | None, *, status: str = "", cursor: str | None = None, limit: int = 50
) -> Page:
    visible = _visible_q(principal)
    if visible is None:
        return Page(items=[], next_cursor=None)
    scope = (
        Q()
        if _is_centre(principal)
        else Q(request__requester_id=_department_id(principal))
        | Q(request__provider_id=_department_id(principal))
    )
    query = ShareDispute.objects.select_related("request", "raised_by", "request__resource").filter(scope)
    if status:
        query = query.filter(status=status)
    return keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)


def share_dispute_get(principal: Principal | None, public_id) -> ShareDispute:
    try:
        uid = UUID(str(public_id))
    except ValueError:
        raise Http404(_("没有找到该争议。")) from None
    dispute = ShareDispute.objects.select_related("request", "raised_by").filter(public_id=uid).first()
    if dispute is None:
        raise Http404(_("没有找到该争议。"))
    share_request_get(principal, dispute.request.public_id)  # 404 unless the request is visible
    return dispute


# --- the request form --------------------------------------------------------------------------------------------
def share_systems_of(principal: Principal | None) -> list[RegisteredSystem]:
    """The active registered systems of the principal's department with the gateway scope (what a request may
    name)."""
    department_id = _department_id(principal)
    if department_id is None:
        return []
    systems = RegisteredSystem.objects.filter(department_id=department_id, is_active=True).order_by(
        "name", "id"
    )
    return [s for s in systems[:200] if DATA_GATEWAY.code in (s.scopes or [])]


def share_system_get(principal: Principal | None, public_id) -> RegisteredSystem | None:
    """One of the principal's department's systems by public id; None otherwise (another department's system
    reads as unknown; the service says what is wrong with one of its own)."""
    try:
        uid = UUID(str(public_id))
    except ValueError:
        return None
    department_id = _department_id(principal)
    if department_id is None:
        return None
    return (
        RegisteredSystem.objects.filter(public_id=uid, department_id=department_id)
        .select_related("department")
        .first()
    )


def share_resource_get(public_id) -> DataResource | None:
    """A published resource by public id with its fields (None when there is none)."""
    try:
        uid = UUID(str(public_id))
    except ValueError:
        return None
    return (
        DataResource.objects.select_related("provider", "provider__division")
        .prefetch_related("fields")
        .filter(public_id=uid, status=DataResource.Status.PUBLISHED)
        .first()
    )


def share_resources_requestable(principal: Principal | None, *, limit: int = 300) -> list[DataResource]:
    """Published resources of other departments (the request form's choice when it names none)."""
    department_id = _department_id(principal)
    query = DataResource.objects.filter(status=DataResource.Status.PUBLISHED).select_related("provider")
    if department_id is not None:
        query = query.exclude(provider_id=department_id)
    return list(query.order_by("code", "-version")[:limit])


# --- receipts -------------------------------------------------------------------------------------------------------
@dataclass
class ReceiptRow:
    entry: AuditEntry
    label: str
    ready: bool


def share_request_receipts(request: ShareRequest) -> list[ReceiptRow]:
    """Each move's audit entry (oldest first) with whether its receipt can be built now."""
    from yiwang.core.evidence.sequencer import tree_head_latest

    events = list(request.events.exclude(audit_uuid=None).order_by("seq")[:MAX_RECEIPTS])
    labels = {e.audit_uuid: MOVES[e.action].label if e.action in MOVES else e.action for e in events}
    head = tree_head_latest()
    covered = head.tree_size if head is not None else 0
    entries = AuditEntry.objects.filter(uuid__in=list(labels)).select_related("leaf").order_by("seq")
    return [
        ReceiptRow(
            entry=e, label=str(labels[e.uuid]), ready=e.leaf_index is not None and e.leaf_index < covered
        )
        for e in entries
    ]


def share_request_receipt_entry(request: ShareRequest, entry_uuid) -> AuditEntry:
    try:
        uid = UUID(str(entry_uuid))
    except ValueError:
        raise Http404(_("没有找到该存证记录。")) from None
    if not request.events.filter(audit_uuid=uid).exists():
        raise Http404(_("没有找到该存证记录。"))
    entry = AuditEntry.objects.filter(uuid=uid).select_related("leaf").first()
    if entry is None:
        raise Http404(_("没有找到该存证记录。"))
    return entry


# --- the scorecard's figures ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShareResponseFigures:
    """How a department answered the share requests it received in [since, until), and how it was rated."""

    department_code: str
    received: int  # requests it had to answer (not decided by rule)
    answered: int
    answered_on_time: int
    overdue_unanswered: int
    average_response_working_days: float | None
    on_time_rate: float | None  # answered on time / (answered + unanswered past due)
    rating_as_provider: float | None  # the requesters' average score of it
    rating_as_provider_count: int
    rating_as_requester: float | None  # the providers' average score of it
    rating_as_requester_count: int


def share_response_figures(department, since: datetime, until: datetime) -> ShareResponseFigures:
    """The scorecard's share figures of a department: average response time in working days (filed → answered),
    the on-time rate against the working-day deadline, and the ratings it received from both directions."""
    now = timezone.now()
    rows = list(
        ShareRequest.objects.filter(
            provider=department, created_at__gte=since, created_at__lt=until, due_at__isnull=False
        ).values_list("created_at", "answered_at", "due_at", "state")[:100_000]
    )
    cal = working_calendar()
    answered = on_time = overdue = 0
    days: list[int] = []
    for created, answered_at, due_at, state in rows:
        if answered_at is not None:
            answered += 1
            days.append(
                working_days_between(
                    timezone.localtime(created).date(), timezone.localtime(answered_at).date(), cal
                )
            )
            if answered_at <= due_at:
                on_time += 1
        elif state in AWAITING_ANSWER and due_at < min(now, until):
            overdue += 1
    ratings = ShareRating.objects.filter(created_at__gte=since, created_at__lt=until)
    as_provider = ratings.filter(grant__provider=department, side=ShareRating.Side.REQUESTER).aggregate(
        avg=Avg("score"), n=Count("id")
    )
    as_requester = ratings.filter(grant__requester=department, side=ShareRating.Side.PROVIDER).aggregate(
        avg=Avg("score"), n=Count("id")
    )
    judged = answered + overdue
    return ShareResponseFigures(
        department_code=department.code,
        received=len(rows),
        answered=answered,
        answered_on_time=on_time,
        overdue_unanswered=overdue,
        average_response_working_days=round(sum(days) / len(days), 2) if days else None,
        on_time_rate=round(on_time / judged, 4) if judged else None,
        rating_as_provider=round(float(as_provider["avg"]), 2) if as_provider["avg"] is not None else None,
        rating_as_provider_count=as_provider["n"],
        rating_as_requester=round(float(as_requester["avg"]), 2) if as_requester["avg"] is not None else None,
        rating_as_requester_count=as_requester["n"],
    )
