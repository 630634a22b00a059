"""Reads of the incident work: the unit work list, the dispatch queue, one incident, the callbacks due, pending
extension requests — and who may take which action on an incident (`actions_for` and the `may_*` predicates the
services check too). Every read is filtered through `scope.incident_scope_q`; an incident outside the caller's
scope is a 404, never a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.masking import mask_name, mask_phone
from yiwang.core.pagination import DEFAULT_LIMIT, Page, keyset_page
from yiwang.core.permissions import (
    INCIDENT_DISPATCH,
    INCIDENT_HANDLE,
    INCIDENT_INTAKE,
    INCIDENT_SUPERVISE,
    INCIDENT_WORK,
)
from yiwang.core.principal import Principal

from .models import (
    Callback,
    Escalation,
    ExtensionRequest,
    Incident,
    IncidentAttachment,
    IncidentCategory,
    IncidentEvent,
)
from .scope import NOTHING, incident_scope_q, is_assigned_unit, is_dispatch_centre_for
from .services.common import incident_settings
from .services.dedup import duplicates_find
from .services.routing import incident_locate
from .workflow import GREEN, RED, YELLOW

S = Incident.State
WORKING_STATES = (S.DISPATCHED, S.HANDLED)  # states with a unit and a running deadline
STAFF_PERMISSIONS = (INCIDENT_WORK, INCIDENT_HANDLE, INCIDENT_DISPATCH, INCIDENT_INTAKE, INCIDENT_SUPERVISE)
LIST_RELATED = ("category", "assigned_department", "assigned_grid", "grid", "village", "town")
# Lists never show the caller's phone: left unloaded, it is not decrypted (SM4) for every row of every page.
LIST_DEFERRED = ("reporter_phone",)
STATE_FILTERS = (*S.values, "open", "all")
LIGHTS = (GREEN, YELLOW, RED)

# Action names offered on the pages and the API (each one a service in services/dispatch.py or handling.py).
ACTIONS = (
    "dispatch",
    "return",
    "reassign",
    "extension_request",
    "extension_decide",
    "handle",
    "verify",
    "close",
    "merge",
    "callback",
)


# --- who may act --------------------------------------------------------------------------------------------
def is_incident_staff(principal: Principal) -> bool:
    """Staff who work incidents (any of the incident permissions)."""
    return principal.staff is not None and any(principal.has(p) for p in STAFF_PERMISSIONS)


def may_dispatch(principal: Principal, incident: Incident) -> bool:
    """A dispatcher of a command centre over the incident (district: all; town: its town)."""
    return principal.has(INCIDENT_DISPATCH) and is_dispatch_centre_for(principal, incident)


def may_work(principal: Principal, incident: Incident) -> bool:
    """Someone of the unit the incident is assigned to (department handlers, the grid's worker)."""
    return (principal.has(INCIDENT_WORK) or principal.has(INCIDENT_HANDLE)) and is_assigned_unit(
        principal, incident
    )


def may_verify(principal: Principal, incident: Incident) -> bool:
    """The grid worker of the incident's grid, or a dispatcher of the centre over it."""
    staff = principal.staff
    if staff is None or not staff.is_active:
        return False
    if principal.has(INCIDENT_HANDLE) and incident.grid_id is not None and staff.grid_id == incident.grid_id:
        return True
    return may_dispatch(principal, incident)


def is_reporter(principal: Principal, incident: Incident) -> bool:
    account = principal.account
    return account is not None and incident.reporter_account_id == account.pk


def may_call_back(principal: Principal, incident: Incident) -> bool:
    """The reporter themselves, a hotline operator who may see it, or a dispatcher of the centre over it."""
    if is_reporter(principal, incident):
        return True
    if principal.staff is None:
        return False
    if principal.has(INCIDENT_INTAKE) and incident_visible_to(principal, incident):
        return True
    return may_dispatch(principal, incident)


def incident_visible_to(principal: Principal, incident: Incident) -> bool:
    return Incident.objects.filter(incident_scope_q(principal), pk=incident.pk).exists()


def actions_for(principal: Principal, incident: Incident) -> list[str]:
    """The actions the caller may take on the incident now (its state and the caller's role and unit)."""
    state = incident.state
    out: list[str] = []
    dispatcher = may_dispatch(principal, incident)
    unit = state in WORKING_STATES and may_work(principal, incident)
    if dispatcher and state == S.PENDING:
        out.append("dispatch")
    if unit and state == S.DISPATCHED:
        out += ["handle", "return"]
        if not ExtensionRequest.objects.filter(incident=incident).exists():
            out.append("extension_request")
    if dispatcher and state in WORKING_STATES:
        out.append("reassign")
        if _pending_extensions(incident).exists():
            out.append("extension_decide")
    if state == S.HANDLED and may_verify(principal, incident):
        out.append("verify")
    if dispatcher and state in Incident.OPEN_STATES:
        out.append("close")
    if dispatcher and state in (S.PENDING, S.DISPATCHED):
        out.append("merge")
    if state == S.CLOSED and may_call_back(principal, incident):
        out.append("callback")
    return out


# --- lists -------------------------------------------------------------------------------------------------
def _visible(principal: Principal) -> QuerySet[Incident]:
    if principal.staff is None and not principal.is_system:
        return Incident.objects.filter(NOTHING)
    return Incident.objects.filter(incident_scope_q(principal))


def _with_lights(queryset: QuerySet[Incident], *, now, share: float) -> QuerySet[Incident]:
    """Annotates `time_left` (due − now) and `yellow_span` (share × (due − dispatched)) so the traffic light of
    `workflow.light` can be filtered in the database: red when due < now, yellow when time_left < yellow_span."""
    return queryset.annotate(
        time_left=ExpressionWrapper(
            F("due_at") - Value(now, output_field=DateTimeField()), output_field=DurationField()
        ),
        yellow_span=ExpressionWrapper(
            (F("due_at") - F("dispatched_at")) * Value(float(share)), output_field=DurationField()
        ),
    )


def light_q(light: str, *, now) -> Q:
    """A Q for open incidents of one traffic light (needs `_with_lights`)."""
    working = Q(state__in=WORKING_STATES, due_at__isnull=False, dispatched_at__isnull=False)
    if light == RED:
        return working & Q(due_at__lt=now)
    if light == YELLOW:
        return working & Q(due_at__gte=now, time_left__lt=F("yellow_span"))
    return working & Q(due_at__gte=now, time_left__gte=F("yellow_span"))


def incident_filters(
    *,
    state: str | None = None,
    overdue: bool | None = None,
    category: str | None = None,
    town: str | None = None,
    department: str | None = None,
    grid: str | None = None,
    channel: str | None = None,
    now=None,
) -> Q:
    """The work-list filters as one Q (ValidationError for an unknown state or channel)."""
    errors: dict[str, list[str]] = {}
    q = Q()
    if state and state != "all":
        if state not in STATE_FILTERS:
            errors["state"] = [_("未知的工单状态：%(state)s") % {"state": state}]
        elif state == "open":
            q &= Q(state__in=Incident.OPEN_STATES)
        else:
            q &= Q(state=state)
    if channel:
        if channel not in Incident.Channel.values:
            errors["channel"] = [_("未知的来源渠道：%(channel)s") % {"channel": channel}]
        else:
            q &= Q(channel=channel)
    if errors:
        raise ValidationError(errors)
    if overdue:
        q &= Q(state__in=WORKING_STATES, due_at__lt=now or timezone.now())
    if category:
        q &= Q(category__code=category) | Q(category__parent__code=category)
    if town:
        q &= Q(town__code=town)
    if department:
        q &= Q(assigned_department__code=department)
    if grid:
        q &= Q(grid__code=grid)
    return q


def incident_list_visible_to(
    principal: Principal,
    *,
    state: str | None = None,
    light: str | None = None,
    overdue: bool | None = None,
    category: str | None = None,
    town: str | None = None,
    department: str | None = None,
    grid: str | None = None,
    channel: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page:
    """The work list: incidents the caller may see, newest first (keyset on id), filtered. `state` is a state,
    "open" or "all"; `light` green/yellow/red (open incidents with a deadline); `overdue` past the deadline."""
    moment = timezone.now()
    q = incident_filters(
        state=state,
        overdue=overdue,
        category=category,
        town=town,
        department=department,
        grid=grid,
        channel=channel,
        now=moment,
    )
    queryset = _visible(principal).filter(q).select_related(*LIST_RELATED).defer(*LIST_DEFERRED)
    if light:
        if light not in LIGHTS:
            raise ValidationError({"light": [_("信号灯应为 green、yellow 或 red。")]})
        queryset = _with_lights(queryset, now=moment, share=incident_settings().yellow_share).filter(
            light_q(light, now=moment)
        )
    return keyset_page(queryset, key="id", cursor=cursor, limit=limit, descending=True)


def incident_counts(principal: Principal) -> dict[str, int]:
    """Counts over what the caller may see: per open state, overdue, and red/yellow lights (one query)."""
    moment = timezone.now()
    queryset = _with_lights(_visible(principal), now=moment, share=incident_settings().yellow_share)
    return queryset.aggregate(
        pending=Count("id", filter=Q(state=S.PENDING)),
        dispatched=Count("id", filter=Q(state=S.DISPATCHED)),
        handled=Count("id", filter=Q(state=S.HANDLED)),
        overdue=Count("id", filter=light_q(RED, now=moment)),
        yellow=Count("id", filter=light_q(YELLOW, now=moment)),
    )


def incident_get_visible(principal: Principal, public_id) -> Incident:
    """One incident the caller may see (404 otherwise, also for a malformed id)."""
    try:
        public_id = public_id if isinstance(public_id, UUID) else UUID(str(public_id))
    except ValueError as exc:
        raise Http404(_("没有找到该工单。")) from exc
    incident = (
        _visible(principal)
        .select_related(*LIST_RELATED, "category__parent", "reporter_staff", "duplicate_of", "referred_from")
        .filter(public_id=public_id)
        .first()
    )
    if incident is None:
        raise Http404(_("没有找到该工单。"))
    return incident


def incident_by_number_visible(principal: Principal, number: str) -> Incident:
    incident = _visible(principal).filter(number=(number or "").strip()).first()
    if incident is None:
        raise Http404(_("没有找到该工单。"))
    return incident


def dispatch_queue(principal: Principal, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> Page:
    """待分拨 incidents the caller dispatches (a town centre: its town; the district centre: all), oldest first."""
    if not principal.has(INCIDENT_DISPATCH):
        return Page(items=[], next_cursor=None)
    queryset = _visible(principal).filter(state=S.PENDING).select_related(*LIST_RELATED).defer(*LIST_DEFERRED)
    page = keyset_page(queryset, key="id", cursor=cursor, limit=limit)
    page.items = [i for i in page.items if is_dispatch_centre_for(principal, i)]
    return page


def callbacks_due_queryset(principal: Principal):
    """Closed incidents with no callback yet whose reporter can be reached (a phone or an account), handled or
    answered (not invalid), that the caller may see; None when the caller makes no callbacks."""
    if principal.staff is None or not (principal.has(INCIDENT_INTAKE) or principal.has(INCIDENT_DISPATCH)):
        return None
    return (
        _visible(principal)
        .filter(state=S.CLOSED, callbacks__isnull=True)
        .filter(closure__in=(Incident.Closure.HANDLED, Incident.Closure.ANSWERED))
        .filter(~Q(reporter_phone_index="") | Q(reporter_account__isnull=False))
    )


def callbacks_due(principal: Principal, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> Page:
    """The callbacks due (callbacks_due_queryset), oldest closure first (keyset on id)."""
    queryset = callbacks_due_queryset(principal)
    if queryset is None:
        return Page(items=[], next_cursor=None)
    return keyset_page(queryset.select_related(*LIST_RELATED), key="id", cursor=cursor, limit=limit)


def extensions_pending(
    principal: Principal, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page:
    """Pending extension requests of incidents the caller dispatches, oldest first."""
    if not principal.has(INCIDENT_DISPATCH) or principal.staff is None:
        return Page(items=[], next_cursor=None)
    queryset = (
        ExtensionRequest.objects.filter(
            state=ExtensionRequest.State.PENDING,
            incident__in=_visible(principal).filter(state__in=WORKING_STATES).values("pk"),
        )
        .select_related(
            "incident",
            "incident__category",
            "incident__town",
            "incident__assigned_department",
            "incident__assigned_grid",
            "requested_by",
            "department",
        )
        .defer(*(f"incident__{name}" for name in LIST_DEFERRED))
    )
    page = keyset_page(queryset, key="id", cursor=cursor, limit=limit)
    page.items = [r for r in page.items if is_dispatch_centre_for(principal, r.incident)]
    return page


def _pending_extensions(incident: Incident) -> QuerySet[ExtensionRequest]:
    return incident.extension_requests.filter(state=ExtensionRequest.State.PENDING)


def extension_pending_get(incident: Incident, *, field: str = "action") -> ExtensionRequest:
    """The incident's extension request awaiting a decision; ValidationError under `field` (the name the
    caller's form gives the decision) when there is none."""
    request = _pending_extensions(incident).first()
    if request is None:
        raise ValidationError({field: _("该工单没有待审批的延期申请。")})
    return request


def extension_get_visible(principal: Principal, request_id: int) -> ExtensionRequest:
    request = (
        ExtensionRequest.objects.filter(pk=request_id, incident__in=_visible(principal).values("pk"))
        .select_related("incident")
        .first()
    )
    if request is None:
        raise Http404(_("没有找到该延期申请。"))
    return request


# --- one incident's details ---------------------------------------------------------------------------------
@dataclass
class ReporterView:
    """Who reported, as the caller may see it: nothing for a confidential report shown to the unit, else the
    masked name and phone, the reporting staff member's name and whether an account filed it."""

    hidden: bool
    name: str = ""
    phone: str = ""
    staff: str = ""
    account: bool = False


@dataclass
class IncidentDetail:
    """An incident's page and its API detail: the same reads, one place."""

    incident: Incident
    actions: list[str]
    reporter: ReporterView
    timeline: list[IncidentEvent]
    attachments: list[IncidentAttachment]
    escalations: list[Escalation]
    extension: ExtensionRequest | None


def reporter_view(principal: Principal, incident: Incident) -> ReporterView:
    if reporter_hidden_from(principal, incident):
        return ReporterView(hidden=True)
    return ReporterView(
        hidden=False,
        name=mask_name(incident.reporter_name) if incident.reporter_name else "",
        phone=mask_phone(incident.reporter_phone) if incident.reporter_phone else "",
        staff=incident.reporter_staff.name if incident.reporter_staff_id else "",
        account=bool(incident.reporter_account_id),
    )


def incident_detail_get(principal: Principal, incident: Incident) -> IncidentDetail:
    """The details of an incident the caller sees (call after `incident_get_visible`)."""
    return IncidentDetail(
        incident=incident,
        actions=actions_for(principal, incident),
        reporter=reporter_view(principal, incident),
        timeline=incident_timeline(principal, incident),
        attachments=incident_attachments(principal, incident),
        escalations=incident_escalations(incident),
        extension=incident_extension(incident),
    )


def incident_timeline(principal: Principal, incident: Incident) -> list[IncidentEvent]:
    """The history with each step's photos (two queries)."""
    return list(
        incident.events.select_related("department", "grid")
        .prefetch_related(Prefetch("attachments", queryset=IncidentAttachment.objects.order_by("id")))
        .order_by("seq")
    )


def incident_attachments(principal: Principal, incident: Incident) -> list[IncidentAttachment]:
    return list(incident.attachments.order_by("id"))


def incident_attachment_get(principal: Principal, incident: Incident, attachment_id) -> IncidentAttachment:
    """A photo of an incident the caller may see (call after `incident_get_visible`); 404 otherwise."""
    try:
        attachment_id = UUID(str(attachment_id))
    except ValueError as exc:
        raise Http404 from exc
    attachment = incident.attachments.filter(public_id=attachment_id).first()
    if attachment is None:
        raise Http404(_("没有找到该附件。"))
    return attachment


def incident_escalations(incident: Incident) -> list[Escalation]:
    return list(incident.escalations.select_related("division").order_by("level"))


def incident_extension(incident: Incident) -> ExtensionRequest | None:
    return incident.extension_requests.select_related("requested_by", "decided_by").first()


def incident_callbacks(incident: Incident) -> list[Callback]:
    return list(incident.callbacks.select_related("by_staff").order_by("id"))


def incident_duplicates(incident: Incident) -> list[Incident]:
    return list(incident.duplicates.order_by("id"))


def reporter_hidden_from(principal: Principal, incident: Incident) -> bool:
    """A confidential report's reporter is hidden from the unit (only command centres and the intake staff see it)."""
    if not incident.confidential:
        return False
    if may_dispatch(principal, incident) or principal.has(INCIDENT_INTAKE):
        return False
    return not (principal.staff is not None and incident.reporter_staff_id == principal.staff.pk)


def duplicate_suggestions_visible_to(
    principal: Principal, *, category_code: str, lon: float | None, lat: float | None, address: str, text: str
) -> list:
    """Open incidents that a new report would duplicate (above the suggestion score), best first, limited to
    those the caller may see: the same search the intake pipeline runs (`dedup.duplicates_find`)."""
    category = IncidentCategory.objects.filter(code=category_code.strip().upper(), is_active=True).first()
    if category is None:
        raise ValidationError(
            {"category": [_("事件分类 %(code)s 不存在或已停用。") % {"code": category_code}]}
        )
    if lon is None and not address.strip():
        raise ValidationError({"location": [_("请提供经纬度或地址。")]})
    location = incident_locate(lon=lon, lat=lat, address=address)
    threshold = incident_settings().dedup_suggest_score
    found = [
        candidate
        for candidate in duplicates_find(
            category=category,
            lon=lon,
            lat=lat,
            text=text,
            at=timezone.now(),
            grid_id=location.grid.pk if location.grid else None,
        )
        if candidate.score >= threshold
    ]
    if not found:
        return []
    visible = set(
        _visible(principal).filter(pk__in=[c.incident.pk for c in found]).values_list("pk", flat=True)
    )
    return [c for c in found if c.incident.pk in visible]
