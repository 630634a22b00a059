"""Intake pages: the 12345 hotline desk (with its HTMX helpers: caller lookup, category suggestions, 定位,
一网通答), the citizen report, grid patrol and department referral. Every page files through the one pipeline,
`services.intake.incident_intake`; the reporter's own pages (我的诉求) are in `views_report`.

Views parse the request (forms_intake), call the pipeline or a selector and render. The catalogue, classifier,
knowledge base and handling services are imported where used, so this URLconf loads on its own.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import (
    INCIDENT_HANDLE,
    INCIDENT_INTAKE,
    INCIDENT_WORK,
    SELF_SERVICE,
)

from . import selectors_public, views_report
from .forms_intake import (
    PHOTO_ACCEPT,
    HotlineForm,
    PatrolForm,
    ReferralForm,
    ReportForm,
    errors_of,
    field_errors_known,
)
from .models import Incident
from .services.common import incident_link
from .services.intake import IntakeReport, IntakeResult, incident_intake
from .services.routing import incident_locate

LOCATED_FIELDS = {"category", "description", "lon", "lat", "address", "location", "photos"}


# --- shared helpers ---------------------------------------------------------------------------------------------
def _category_tree() -> list[dict]:
    """The picker's groups: each 大类 with its leaves (a 细类 under a 小类 is labelled "小类 / 细类")."""
    from .services import catalogue

    def leaves(node: dict, prefix: str = "") -> list[dict]:
        label = f"{prefix}{node['name']}"
        if not node.get("children"):
            return [{"code": node["code"], "name": label}]
        return [leaf for child in node["children"] for leaf in leaves(child, f"{label} / ")]

    groups = []
    for top in catalogue.category_tree():
        if top.get("children"):
            groups.append(
                {"name": top["name"], "children": [leaf for c in top["children"] for leaf in leaves(c)]}
            )
        else:
            groups.append({"name": top["name"], "children": [{"code": top["code"], "name": top["name"]}]})
    return groups


def _photos(request: HttpRequest) -> list:
    return request.FILES.getlist("photos")


def _report_from(form, *, channel: str, photos, **extra) -> IntakeReport:
    data = form.cleaned_data
    lon, lat = form.point()
    return IntakeReport(
        channel=channel,
        description=data.get("description") or "",
        category_code=(data.get("category") or "").strip(),
        lon=lon,
        lat=lat,
        address=(data.get("address") or "").strip(),
        photos=photos,
        **extra,
    )


def _result_view(result: IntakeResult) -> dict:
    """What the result panel shows about a filed report: number, state, unit or why it waits, duplicates."""
    incident = result.incident
    unit = ""
    if incident.assigned_department_id:
        unit = incident.assigned_department.name
    elif incident.assigned_grid_id:
        unit = _("%(grid)s网格员") % {"grid": incident.assigned_grid.name}
    if result.attached_to is not None:
        why = _("与工单 %(number)s 重复，已自动合并。") % {"number": result.attached_to.number}
    elif incident.state == Incident.State.PENDING:
        if incident.category_id is None:
            why = _("分类未能自动确定，转调度员人工分拨。")
        elif result.route is not None:
            why = result.route.reason
        else:
            why = _("待指挥中心分拨。")
    else:
        why = result.route.reason if result.route is not None else ""
    return {
        "incident": incident,
        "link": incident_link(incident),
        "unit": unit,
        "why": why,
        "auto_dispatched": result.auto_dispatched,
        "attached_to": result.attached_to,
        "attached_link": incident_link(result.attached_to) if result.attached_to else "",
        "duplicates": [
            {"incident": c.incident, "score": c.score, "link": incident_link(c.incident)}
            for c in result.duplicates
        ],
        "suggestions": result.suggestions,
    }


def _grids(principal) -> dict:
    return selectors_public.intake_grids_geojson(principal)


# --- 12345 hotline desk -----------------------------------------------------------------------------------------
def _hotline_context(request, form, *, errors=None, result=None) -> dict:
    errors = errors or {}
    known = LOCATED_FIELDS | {"reporter_phone", "reporter_name", "kind", "answer"}
    return {
        "form": form,
        "errors": errors,
        "other_errors": field_errors_known(errors, known),
        "categories": _category_tree(),
        "kinds": Incident.Kind.choices,
        "grids": _grids(request.principal),
        "result": result,
        "accept": PHOTO_ACCEPT,
    }


@page_requires(INCIDENT_INTAKE)
@require_http_methods(["GET", "POST"])
def hotline(request: HttpRequest) -> HttpResponse:
    """热线受理: one screen, keyboard first. Submitting files the call and shows the result above a fresh form;
    "答复并办结" files a consultation and answers it from the knowledge base in one transaction."""
    from .services import knowledge

    principal = request.principal
    if request.method != "POST":
        return render(request, "incidents/intake/hotline.html", _hotline_context(request, HotlineForm()))
    form = HotlineForm(request.POST)
    answering = bool(request.POST.get("answer_with")) or request.POST.get("intent") == "answer"
    exc = None
    if form.is_valid():
        data = form.cleaned_data
        report = _report_from(
            form,
            channel=Incident.Channel.HOTLINE,
            photos=_photos(request),
            kind=Incident.Kind.CONSULTATION if answering else data["kind"],
            reporter_name=data.get("reporter_name") or "",
            reporter_phone=data.get("reporter_phone") or "",
        )
        try:
            if answering:
                result = knowledge.consultation_answer(
                    actor=principal,
                    report=report,
                    knowledge=knowledge.knowledge_active_get(request.POST.get("answer_with")),
                    answer=data.get("answer") or "",
                )
            else:
                result = incident_intake(actor=principal, report=report)
        except ValidationError as error:
            exc = error
        else:
            context = _hotline_context(request, HotlineForm(), result=_result_view(result))
            context["answered"] = answering
            return render(request, "incidents/intake/hotline.html", context)
    errors = errors_of(form, exc, aliases={"knowledge": "answer", "action": "answer"})
    return render(
        request,
        "incidents/intake/hotline.html",
        _hotline_context(request, form, errors=errors),
        status=422,
    )


@page_requires(INCIDENT_INTAKE)
@require_POST
def hotline_caller(request: HttpRequest) -> HttpResponse:
    """HTMX: who is calling and their previous tickets. A POST (with the CSRF token): the lookup writes an audit
    entry, and the phone number stays out of URLs, browser history and access logs; GET is refused (405)."""
    phone = request.POST.get("reporter_phone", "")
    history, error = None, ""
    if phone.strip():
        try:
            history = selectors_public.caller_history(request.principal, phone)
        except ValidationError as exc:
            error = " ".join(m for ms in exc.message_dict.values() for m in ms)
    if history is not None:
        for ticket in history.tickets:
            ticket.link = incident_link(ticket)
    return render(request, "incidents/intake/_caller.html", {"history": history, "error": error})


@page_requires(INCIDENT_INTAKE)
@require_GET
def hotline_suggest(request: HttpRequest) -> HttpResponse:
    """HTMX: category suggestions for the description (buttons that fill the category picker)."""
    from .services import classify

    text = (request.GET.get("description") or "").strip()
    suggestions = classify.classify_text(text) if len(text) >= 4 else []
    return render(request, "incidents/intake/_suggest.html", {"suggestions": suggestions, "text": text})


@page_requires(INCIDENT_INTAKE)
@require_GET
def hotline_knowledge(request: HttpRequest) -> HttpResponse:
    """HTMX: 一网通答 — answers from the knowledge base for the operator's search."""
    from .services import knowledge

    q = (request.GET.get("q") or "").strip()[:100]
    answers = knowledge.knowledge_search(q) if q else []
    return render(request, "incidents/intake/_knowledge.html", {"answers": answers, "q": q})


@page_requires(SELF_SERVICE)
@require_GET
def locate(request: HttpRequest) -> HttpResponse:
    """HTMX "定位": the grid, village and town of a point or an address (every intake page uses it)."""
    form = ReportForm(request.GET)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    lon, lat = data.get("lon"), data.get("lat")
    if lon is None or lat is None:
        lon = lat = None
    address = (data.get("address") or "").strip()
    location = incident_locate(lon=lon, lat=lat, address=address) if (lon is not None or address) else None
    return render(
        request, "incidents/intake/_locate.html", {"location": location, "asked": bool(lon or address)}
    )


# --- citizen report ----------------------------------------------------------------------------------------------
def _staff_elsewhere(principal):
    """Staff report through the patrol or hotline pages, never as citizens."""
    if principal.staff is None and getattr(principal.account, "kind", "") != "staff":
        return None
    if principal.has(INCIDENT_HANDLE):
        return redirect("incidents:patrol")
    if principal.has(INCIDENT_INTAKE):
        return redirect("incidents:hotline")
    raise PermissionDenied(_("工作人员请通过巡查上报或热线受理登记事件。"))


@page_requires(SELF_SERVICE)
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """我要上报: category (or 不确定), description, up to 6 photos, a point on the map or an address, phone."""
    principal = request.principal
    elsewhere = _staff_elsewhere(principal)
    if elsewhere is not None:
        return elsewhere
    form, exc, status = ReportForm(), None, 200
    if request.method == "POST":
        form = ReportForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = incident_intake(
                    actor=principal,
                    report=_report_from(
                        form,
                        channel=Incident.Channel.WEB,
                        photos=_photos(request),
                        kind=data["kind"],
                        reporter_phone=data.get("reporter_phone") or "",
                    ),
                )
            except ValidationError as error:
                exc = error
            else:
                return redirect("incidents:report_receipt", public_id=result.incident.public_id)
        status = 422
    errors = errors_of(form, exc)
    return render(
        request,
        "incidents/intake/report.html",
        {
            "form": form,
            "errors": errors,
            "other_errors": field_errors_known(errors, LOCATED_FIELDS | {"kind", "reporter_phone"}),
            "categories": _category_tree(),
            "grids": _grids(principal),
            "accept": PHOTO_ACCEPT,
        },
        status=status,
    )


@page_requires(SELF_SERVICE)
@require_GET
def report_receipt(request: HttpRequest, public_id) -> HttpResponse:
    """The receipt of a citizen report: its number and where it went."""
    incident = selectors_public.incident_mine_get(request.principal, public_id)
    return render(request, "incidents/intake/receipt.html", {"incident": incident})


# --- grid patrol -----------------------------------------------------------------------------------------------
@page_requires(INCIDENT_HANDLE)
@require_http_methods(["GET", "POST"])
def patrol(request: HttpRequest) -> HttpResponse:
    """巡查上报 (phone-sized): report what the worker found; "已现场处置" handles it at once when the incident is
    routed to the worker's own grid (小事一格解决), with the same photos as evidence."""
    from .services import handling

    principal = request.principal
    staff = principal.staff
    form, exc, status, result, handled = PatrolForm(), None, 200, None, False
    if request.method == "POST":
        form = PatrolForm(request.POST)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            photos = _photos(request)
            try:
                result, handled = handling.patrol_report(
                    actor=principal,
                    report=_report_from(form, channel=Incident.Channel.PATROL, photos=photos),
                    handled=bool(data.get("handled")),
                    note=data.get("handle_note") or "",
                )
            except ValidationError as error:
                exc = error
            else:
                form, status = PatrolForm(), 200
    errors = errors_of(form, exc, aliases={"note": "handle_note"})
    return render(
        request,
        "incidents/intake/patrol.html",
        {
            "form": form,
            "errors": errors,
            "other_errors": field_errors_known(errors, LOCATED_FIELDS | {"handled", "handle_note"}),
            "categories": _category_tree(),
            "grid": staff.grid if staff is not None else None,
            "result": _result_view(result) if result is not None else None,
            "handled": handled,
            "handle_wanted": result is not None and bool(request.POST.get("handled")),
            "recent": [
                (incident, incident_link(incident)) for incident in selectors_public.patrol_recent(principal)
            ],
            "accept": PHOTO_ACCEPT,
        },
        status=status,
    )


# --- department referral ---------------------------------------------------------------------------------------
@page_requires(INCIDENT_WORK)
@require_http_methods(["GET", "POST"])
def refer(request: HttpRequest) -> HttpResponse:
    """部门转办: hand a matter to another unit (or the command centre) with a reason."""
    principal = request.principal
    own = principal.department
    departments = selectors_public.referral_departments(principal)
    form = ReferralForm(departments=departments, own_department=own)
    exc, status, result = None, 200, None
    if request.method == "POST":
        form = ReferralForm(request.POST, departments=departments, own_department=own)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = incident_intake(
                    actor=principal,
                    report=_report_from(
                        form,
                        channel=Incident.Channel.REFERRAL,
                        photos=_photos(request),
                        target_department=data["target"],
                        note=data["reason"].strip(),
                    ),
                )
            except ValidationError as error:
                exc = error
            else:
                form, status = ReferralForm(departments=departments, own_department=own), 200
    errors = errors_of(form, exc)
    return render(
        request,
        "incidents/intake/refer.html",
        {
            "form": form,
            "errors": errors,
            "other_errors": field_errors_known(errors, LOCATED_FIELDS | {"target", "reason"}),
            "categories": _category_tree(),
            "departments": departments,
            "own": own,
            "grids": _grids(principal),
            "result": _result_view(result) if result is not None else None,
            "accept": PHOTO_ACCEPT,
        },
        status=status,
    )


urlpatterns = [
    path("hotline/", hotline, name="hotline"),
    path("hotline/caller/", hotline_caller, name="hotline_caller"),
    path("hotline/suggest/", hotline_suggest, name="hotline_suggest"),
    path("hotline/knowledge/", hotline_knowledge, name="hotline_knowledge"),
    path("locate/", locate, name="locate"),
    path("report/", report, name="report"),
    path("report/<uuid:public_id>/receipt/", report_receipt, name="report_receipt"),
    path("patrol/", patrol, name="patrol"),
    path("refer/", refer, name="refer"),
    *views_report.urlpatterns,
]
