"""我的诉求: a reporter's own incidents — the list, one incident's progress (public steps only), its photos, and
the satisfaction form once it is closed (回访 by the reporter; "不满意并要求重新处理" reopens within the limits).

Mounted through `views_intake.urlpatterns`. Other people's incidents and their photos are 404 (the selectors
only ever look among the caller's own reports).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import SELF_SERVICE

from . import selectors_public
from .forms_intake import SatisfactionForm, errors_of
from .models import Callback, Incident

PAGE_SIZE = 20


def _unit_name(incident: Incident) -> str:
    if incident.assigned_department_id:
        return incident.assigned_department.name
    if incident.assigned_grid_id:
        return _("%(grid)s网格员") % {"grid": incident.assigned_grid.name}
    return ""


@page_requires(SELF_SERVICE)
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """我的诉求: the caller's own reports, newest first, keyset-paged."""
    try:
        page = selectors_public.incident_mine_list(
            request.principal, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE
        )
    except ValidationError:  # a tampered cursor: start again
        return redirect("incidents:mine")
    rows = [(incident, _unit_name(incident)) for incident in page.items]
    return render(request, "incidents/mine/list.html", {"page": page, "rows": rows})


def _detail_context(request, incident: Incident, *, form=None, errors=None) -> dict:
    principal = request.principal
    evaluated = selectors_public.incident_mine_rated(principal, incident)
    merged_into = incident.duplicate_of if incident.state == Incident.State.MERGED else None
    return {
        "incident": incident,
        "unit": _unit_name(incident),
        "events": selectors_public.incident_mine_events(incident),
        "photos": selectors_public.incident_mine_photos(incident),
        "merged_into": merged_into,
        "merged_unit": _unit_name(merged_into) if merged_into is not None else "",
        "merged_events": selectors_public.incident_mine_events(merged_into) if merged_into else [],
        "can_evaluate": incident.state == Incident.State.CLOSED
        and incident.closure != Incident.Closure.DUPLICATE
        and not evaluated,
        "evaluated": evaluated,
        "satisfaction_label": dict(Callback.Satisfaction.choices).get(incident.satisfaction, ""),
        "form": form or SatisfactionForm(),
        "errors": errors or {},
    }


@page_requires(SELF_SERVICE)
@require_http_methods(["GET", "POST"])
def mine_detail(request: HttpRequest, public_id) -> HttpResponse:
    """One of the caller's reports: status, category, unit, public history, photos; the satisfaction form."""
    principal = request.principal
    incident = selectors_public.incident_mine_get(principal, public_id)
    if request.method != "POST":
        return render(request, "incidents/mine/detail.html", _detail_context(request, incident))
    form = SatisfactionForm(request.POST)
    exc = None
    if form.is_valid():
        from .services import handling

        data = form.cleaned_data
        try:
            handling.incident_callback(
                actor=principal,
                incident=incident,
                satisfaction=data["satisfaction"],
                note=(data.get("note") or "").strip(),
                reopen=bool(data.get("reopen")),
            )
        except ValidationError as error:
            exc = error
        else:
            if data.get("reopen"):
                messages.success(request, _("已收到您的评价，工单已重新交办理单位处理。"))
            else:
                messages.success(request, _("感谢您的评价。"))
            return redirect("incidents:mine_detail", public_id=incident.public_id)
    errors = errors_of(form, exc, aliases={"action": "__all__", "reopen": "__all__"})
    context = _detail_context(request, incident, form=form, errors=errors)
    context["can_evaluate"] = True
    context["other_errors"] = [
        m for name, ms in errors.items() if name not in {"satisfaction", "note"} for m in ms
    ]
    return render(request, "incidents/mine/detail.html", context, status=422)


@page_requires(SELF_SERVICE)
@require_GET
def mine_attachment(request: HttpRequest, public_id, attachment_id) -> HttpResponse:
    """A photo of one of the caller's own reports (their photos or the closing evidence)."""
    attachment = selectors_public.incident_mine_attachment(request.principal, public_id, attachment_id)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=request.GET.get("download") == "1",
        filename=attachment.original_name,
    )
    response["Content-Type"] = attachment.content_type
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("mine/", mine, name="mine"),
    path("mine/<uuid:public_id>/", mine_detail, name="mine_detail"),
    path(
        "mine/<uuid:public_id>/photos/<uuid:attachment_id>/",
        mine_attachment,
        name="mine_attachment",
    ),
]
