"""一网统观 pages: the operations dashboard (/incidents/ops/) and the warnings list with its acknowledge form
(/incidents/warnings/). Views parse, read through selectors_ops.py, write through services/warnings.py, and render;
scoping lives in scope.py (incident_scope_q, warning_scope_q)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import INCIDENT_SUPERVISE

from . import selectors_ops as stats
from .models import IncidentWarning
from .services import warnings as warning_services

PERIOD_LABELS = (
    ("today", gettext_lazy("今日")),
    ("7d", gettext_lazy("近 7 天")),
    ("30d", gettext_lazy("近 30 天")),
)
PAGE_SIZE = 30


def _work_url() -> str:
    try:
        return reverse("incidents:work")
    except NoReverseMatch:  # the work list is another module's page; without it cells are plain numbers
        return ""


def _link(base: str, **params) -> str:
    if not base:
        return ""
    return base + "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _with_links(rows: list[dict], work: str, key: str) -> list[dict]:
    out = []
    for row in rows:
        code = row["code"]
        links = {}
        if code and work:
            base = {key: code}
            links = {
                "received": _link(work, **base),
                "closed": _link(work, **base, state="closed"),
                "open": _link(work, **base, state="dispatched"),
                "overdue": _link(work, **base, overdue=1),
            }
        out.append({**row, "links": links})
    return out


@page_requires(INCIDENT_SUPERVISE)
def ops_dashboard(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    period = request.GET.get("period") or "today"
    if period not in stats.PERIODS:
        period = "today"
    since = stats.period_since(period)
    summary = stats.ops_summary(principal, since=since)
    grid_map = stats.ops_map(principal, since=since)
    rows = stats.unit_performance(principal, since=since)
    work = _work_url()
    open_warnings = stats.warning_list_visible_to(principal, state=IncidentWarning.State.OPEN, limit=6).items
    chart = {
        "channels": [{"name": c["name"], "value": c["count"]} for c in summary["by_channel"]],
        "categories": {
            "labels": [c["name"] for c in summary["by_category"]],
            "values": [c["count"] for c in summary["by_category"]],
        },
        "work_url": work,
        "text": {
            "open": _("在办"),
            "overdue": _("超期"),
            "received": _("期间受理"),
            "count": _("件数"),
            "drill": _("点击网格查看工单列表"),
        },
    }
    return render(
        request,
        "incidents/ops/dashboard.html",
        {
            "period": period,
            "periods": PERIOD_LABELS,
            "summary": summary,
            "grid_map": grid_map,
            "chart": chart,
            "departments": _with_links(stats.departments_of(rows), work, "department"),
            "towns": _with_links(stats.towns_of(rows), work, "town"),
            "open_warnings": open_warnings,
            "work_url": work,
            "overdue_url": _link(work, overdue=1),
        },
    )


def _warnings_context(request: HttpRequest, **extra) -> dict:
    principal = request.principal
    kind = request.GET.get("kind") or ""
    state = request.GET.get("state")
    state = "open" if state is None else state
    page = stats.warning_list_visible_to(
        principal, kind=kind or None, state=state or None, cursor=request.GET.get("cursor"), limit=PAGE_SIZE
    )
    next_query = (
        urlencode({"kind": kind, "state": state, "cursor": page.next_cursor}) if page.next_cursor else ""
    )
    return {
        "page": page,
        "kind": kind,
        "state": state,
        "kinds": IncidentWarning.Kind.choices,
        "states": IncidentWarning.State.choices,
        "next_query": next_query,
        "errors": {},
        "failed_id": None,
        "posted_note": "",
        **extra,
    }


@page_requires(INCIDENT_SUPERVISE)
def warning_list(request: HttpRequest) -> HttpResponse:
    try:
        context = _warnings_context(request)
    except ValidationError:
        return redirect("incidents:warnings")
    return render(request, "incidents/ops/warnings.html", context)


@page_requires(INCIDENT_SUPERVISE)
@require_POST
def warning_acknowledge(request: HttpRequest, warning_id: int) -> HttpResponse:
    principal = request.principal
    warning = stats.warning_get_visible(principal, warning_id)
    note = request.POST.get("note", "")
    try:
        warning_services.warning_acknowledge(actor=principal, warning=warning, note=note)
    except ValidationError as exc:
        errors = {k: list(v) for k, v in exc.message_dict.items()} if hasattr(exc, "error_dict") else {}
        context = _warnings_context(request, errors=errors, failed_id=warning.pk, posted_note=note)
        for msgs in errors.values():
            for m in msgs:
                messages.error(request, m)
        return render(request, "incidents/ops/warnings.html", context, status=422)
    messages.success(request, _("预警已处理：%(title)s") % {"title": warning.title})
    back = request.POST.get("back") or ""
    if back.startswith("/incidents/") and "//" not in back:
        return redirect(back)
    return redirect("incidents:warnings")


urlpatterns = [
    path("ops/", ops_dashboard, name="ops"),
    path("warnings/", warning_list, name="warnings"),
    path("warnings/<int:warning_id>/acknowledge/", warning_acknowledge, name="warning_acknowledge"),
]
