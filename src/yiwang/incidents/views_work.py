"""Incident work pages (mounted under /incidents/, namespace "incidents"): the unit work list, the dispatch queue,
an incident's page with the action forms `selectors.actions_for` allows, the callbacks due, pending extension
requests, and the photos (served after the scope check).

Scoping lives in the selectors (an incident outside the caller's scope is a 404), the rules in the services;
these views parse, call and render. Action forms are plain POST + redirect; errors come back by field (422),
a stale version as 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiwang.core.models import Department, Division
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import INCIDENT_DISPATCH, INCIDENT_INTAKE
from yiwang.core.principal import Principal

from . import selectors
from .models import Callback, Incident, IncidentAttachment, IncidentCategory
from .services.common import IncidentConflict, incident_settings
from .views_work_actions import ACTION_LABELS, run_action
from .workflow import TRANSITIONS, light

PAGE_SIZE = 30
FILTER_NAMES = ("state", "light", "overdue", "category", "town", "department", "grid", "channel")


def _staff_only(principal: Principal) -> None:
    if not selectors.is_incident_staff(principal):
        raise PermissionDenied(_("只有一网统管工作人员可以使用工单处置页面。"))


def error_dict(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: list(v) for k, v in exc.message_dict.items()}
    return {"__all__": list(exc.messages)}


def light_of(incident: Incident, now=None) -> str | None:
    if incident.state not in selectors.WORKING_STATES:
        return None
    return light(
        started=incident.dispatched_at,
        due=incident.due_at,
        now=now or timezone.now(),
        yellow_share=incident_settings().yellow_share,
    )


@dataclass
class Row:
    incident: Incident
    light: str | None


def _rows(items) -> list[Row]:
    moment = timezone.now()
    return [Row(incident=i, light=light_of(i, moment)) for i in items]


def _next_query(request: HttpRequest, cursor: str | None) -> str:
    if not cursor:
        return ""
    params = {k: v for k, v in request.GET.items() if k != "cursor" and v}
    params["cursor"] = cursor
    return urlencode(params)


# --- the work list -------------------------------------------------------------------------------------------
@page_requires(*selectors.STAFF_PERMISSIONS)  # the selector scopes
def work(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    _staff_only(principal)
    filters = {name: (request.GET.get(name) or "").strip() for name in FILTER_NAMES}
    if "state" not in request.GET:
        filters["state"] = "open"
    errors: dict[str, list[str]] = {}
    page = None
    try:
        page = selectors.incident_list_visible_to(
            principal,
            state=filters["state"] or None,
            light=filters["light"] or None,
            overdue=filters["overdue"] in ("1", "true", "on"),
            category=filters["category"] or None,
            town=filters["town"] or None,
            department=filters["department"] or None,
            grid=filters["grid"] or None,
            channel=filters["channel"] or None,
            cursor=request.GET.get("cursor") or None,
            limit=PAGE_SIZE,
        )
    except ValidationError as exc:
        errors = error_dict(exc)
    return render(
        request,
        "incidents/work/list.html",
        {
            "filters": filters,
            "errors": errors,
            "rows": _rows(page.items if page else []),
            "page": page,
            "next_query": _next_query(request, page.next_cursor if page else None),
            "counts": selectors.incident_counts(principal),
            "states": Incident.State.choices,
            "channels": Incident.Channel.choices,
            "categories": IncidentCategory.objects.filter(is_active=True).order_by("sort", "code"),
            "towns": Division.objects.filter(level=Division.Level.TOWN, is_active=True).order_by("code"),
        },
        status=422 if errors else 200,
    )


# --- the dispatch queue ----------------------------------------------------------------------------------------
@page_requires(INCIDENT_DISPATCH)
def dispatch_queue(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    try:
        page = selectors.dispatch_queue(principal, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE)
    except ValidationError:
        page = selectors.dispatch_queue(principal, limit=PAGE_SIZE)
    from .services.dispatch import location_of
    from .services.routing import route_for

    rows = []
    for incident in page.items:
        route = (
            route_for(incident.category, location_of(incident), at=timezone.now())
            if incident.category
            else None
        )
        rows.append({"incident": incident, "route": route})
    return render(
        request,
        "incidents/work/queue.html",
        {"rows": rows, "page": page, "next_query": _next_query(request, page.next_cursor)},
    )


# --- one incident ----------------------------------------------------------------------------------------------
def detail_context(
    principal: Principal, incident: Incident, *, errors=None, posted=None, conflict=False
) -> dict:
    from .services.dispatch import location_of
    from .services.routing import route_for

    detail = selectors.incident_detail_get(principal, incident)
    actions = detail.actions
    errors = errors or {}
    posted = posted or {}
    route = None
    if "dispatch" in actions or "reassign" in actions:
        if incident.category_id:
            route = route_for(incident.category, location_of(incident), at=timezone.now())
    for event in detail.timeline:
        transition = TRANSITIONS.get(event.action)
        event.label = transition.label if transition else event.action
    need_units = bool({"dispatch", "reassign"} & set(actions))
    return {
        "incident": incident,
        "light": light_of(incident),
        "reporter": detail.reporter,
        "photos": detail.attachments,
        "timeline": detail.timeline,
        "escalations": detail.escalations,
        "extension": detail.extension,
        "callbacks": selectors.incident_callbacks(incident),
        "duplicates": selectors.incident_duplicates(incident),
        "actions": [(a, ACTION_LABELS[a]) for a in actions],
        "action_names": actions,
        "route": route,
        "errors": errors,
        "general_errors": [
            m for k, msgs in errors.items() if k in ("__all__", "action", "version") for m in msgs
        ],
        "posted": posted,
        "conflict": conflict,
        "departments": Department.objects.filter(is_active=True).order_by("code") if need_units else [],
        "grids": _grids_for(incident) if need_units else [],
        "categories": IncidentCategory.objects.filter(is_active=True, children__isnull=True).order_by("code")
        if "dispatch" in actions
        else [],
        "closures": [
            (v, label) for v, label in Incident.Closure.choices if v in ("handled", "invalid", "duplicate")
        ],
        "satisfactions": Callback.Satisfaction.choices,
        "satisfaction_label": dict(Callback.Satisfaction.choices).get(incident.satisfaction, ""),
        "evidence": set(incident.category.evidence_required or []) if incident.category_id else set(),
    }


def _grids_for(incident: Incident):
    grids = Division.objects.filter(level=Division.Level.GRID, is_active=True).select_related("parent")
    if incident.town_id:
        grids = grids.filter(parent__parent_id=incident.town_id)
    return grids.order_by("code")[:300]


@page_requires(
    *selectors.STAFF_PERMISSIONS
)  # the selector scopes (404 outside), the services check each action
@require_http_methods(["GET", "POST"])
def detail(request: HttpRequest, public_id) -> HttpResponse:
    principal = request.principal
    _staff_only(principal)
    incident = selectors.incident_get_visible(principal, public_id)
    if request.method == "GET":
        return render(request, "incidents/work/detail.html", detail_context(principal, incident))
    action = request.POST.get("action", "")
    try:
        done = run_action(principal, incident, action, request.POST, request.FILES)
    except IncidentConflict:
        incident = selectors.incident_get_visible(principal, public_id)
        context = detail_context(principal, incident, conflict=True)
        return render(request, "incidents/work/detail.html", context, status=409)
    except ValidationError as exc:
        incident = selectors.incident_get_visible(principal, public_id)
        context = detail_context(
            principal, incident, errors=error_dict(exc), posted={"action": action, **request.POST.dict()}
        )
        return render(request, "incidents/work/detail.html", context, status=422)
    messages.success(request, done)
    try:
        selectors.incident_get_visible(principal, public_id)
    except Exception:  # returned or reassigned away: no longer visible to this unit
        return redirect("incidents:work")
    return redirect("incidents:detail", public_id=incident.public_id)


@page_requires(*selectors.STAFF_PERMISSIONS)  # the incident's scope decides (404 outside)
def attachment(request: HttpRequest, public_id, attachment_id) -> HttpResponse:
    principal = request.principal
    _staff_only(principal)
    incident = selectors.incident_get_visible(principal, public_id)
    photo: IncidentAttachment = selectors.incident_attachment_get(principal, incident, attachment_id)
    response = FileResponse(photo.file.open("rb"), filename=photo.original_name)
    response["Content-Type"] = photo.content_type
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- callbacks and extensions ------------------------------------------------------------------------------------
@page_requires(INCIDENT_INTAKE, INCIDENT_DISPATCH)  # hotline operators and dispatchers
@require_http_methods(["GET", "POST"])
def callbacks(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    _staff_only(principal)
    errors: dict[str, list[str]] = {}
    failed_id = ""
    if request.method == "POST":
        failed_id = request.POST.get("incident", "")
        incident = selectors.incident_get_visible(principal, failed_id)
        try:
            done = run_action(principal, incident, "callback", request.POST, request.FILES)
        except ValidationError as exc:
            errors = error_dict(exc)
        else:
            messages.success(request, done)
            return redirect("incidents:callbacks")
    page = selectors.callbacks_due(principal, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE)
    from yiwang.core.masking import mask_phone

    rows = [
        {"incident": i, "phone": mask_phone(i.reporter_phone) if i.reporter_phone else ""} for i in page.items
    ]
    return render(
        request,
        "incidents/work/callbacks.html",
        {
            "rows": rows,
            "page": page,
            "next_query": _next_query(request, page.next_cursor),
            "satisfactions": Callback.Satisfaction.choices,
            "errors": errors,
            "failed_id": failed_id,
        },
        status=422 if errors else 200,
    )


@page_requires(INCIDENT_DISPATCH)
@require_http_methods(["GET", "POST"])
def extensions(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    errors: dict[str, list[str]] = {}
    failed_id = ""
    if request.method == "POST":
        failed_id = request.POST.get("request", "")
        try:
            ext = selectors.extension_get_visible(principal, int(failed_id or 0))
        except ValueError as exc:
            raise PermissionDenied from exc
        try:
            done = run_action(principal, ext.incident, "extension_decide", request.POST, request.FILES)
        except ValidationError as exc:
            errors = error_dict(exc)
        else:
            messages.success(request, done)
            return redirect("incidents:extensions")
    page = selectors.extensions_pending(principal, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE)
    return render(
        request,
        "incidents/work/extensions.html",
        {
            "rows": page.items,
            "page": page,
            "next_query": _next_query(request, page.next_cursor),
            "errors": errors,
            "failed_id": failed_id,
        },
        status=422 if errors else 200,
    )


urlpatterns = [
    path("work/", work, name="work"),
    path("dispatch/", dispatch_queue, name="dispatch_queue"),
    path("callbacks/", callbacks, name="callbacks"),
    path("extensions/", extensions, name="extensions"),
    path("<uuid:public_id>/", detail, name="detail"),
    path("<uuid:public_id>/photos/<uuid:attachment_id>/", attachment, name="attachment"),
]
