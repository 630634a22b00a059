"""Pages: 一网协同 — 我的工作台 and the adoption figures.

- `collab:workbench` (/collab/): every item waiting for me from every module, most urgent first, with its deadline
  light; tabs per source (with counts), overdue / due-soon toggles; "more" loads the next page with HTMX (the
  cursor), without HTMX it is a plain next-page link. Every item links to its module's own page.
- `collab:adoption` (/collab/adoption/, COLLAB_ADOPTION): per department and per town — accounts, activated, daily
  and weekly active, to-dos overdue — with a bar chart (ECharts, static/collab/adoption.js).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import COLLAB_ADOPTION, COLLAB_WORK
from yiwang.core.workbench import COUNT_CAP

from .selectors.adoption import adoption_chart, adoption_figures
from .selectors.workbench import workbench_page, workbench_sources_of


def _flag(request: HttpRequest, name: str) -> bool:
    return request.GET.get(name, "") in ("1", "true", "on")


@require_GET
@page_requires(COLLAB_WORK)
def workbench(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    source = request.GET.get("source", "")[:64]
    overdue, soon = _flag(request, "overdue"), _flag(request, "soon")
    cursor = request.GET.get("cursor", "")[:512]
    sources = workbench_sources_of(principal)
    error = ""
    try:
        entries, next_cursor, counts = workbench_page(
            principal, source=source or None, overdue=overdue, soon=soon, after=cursor or None
        )
    except ValidationError as exc:
        error = " ".join(m for messages in exc.message_dict.values() for m in messages)
        entries, next_cursor, counts = [], None, {}
    filters = {
        k: v
        for k, v in (("source", source), ("overdue", "1" if overdue else ""), ("soon", "1" if soon else ""))
        if v
    }
    next_query = urlencode({**filters, "cursor": next_cursor}) if next_cursor else ""
    context = {
        "entries": entries,
        "next_query": next_query,
        "error": error,
    }
    if request.htmx and cursor:
        return render(request, "collab/workbench_rows.html", context)

    def tab_query(**changes) -> str:
        merged = {**filters, **changes}
        return urlencode({k: v for k, v in merged.items() if v})

    tabs = [
        {
            "id": "",
            "label": _("全部"),
            "count": sum(counts.values()) if counts else None,
            "capped": any(n >= COUNT_CAP for n in counts.values()),
            "query": tab_query(source=""),
            "current": not source,
        }
    ] + [
        {
            "id": s.id,
            "label": s.label,
            "count": counts.get(s.id),
            "capped": counts.get(s.id, 0) >= COUNT_CAP,
            "query": tab_query(source=s.id),
            "current": s.id == source,
        }
        for s in sources
    ]
    context.update(
        tabs=tabs,
        source=source,
        overdue=overdue,
        soon=soon,
        overdue_query=tab_query(overdue="" if overdue else "1", soon=""),
        soon_query=tab_query(soon="" if soon else "1", overdue=""),
        is_first_page=not cursor,
    )
    return render(request, "collab/workbench.html", context)


@require_GET
@page_requires(COLLAB_ADOPTION)
def adoption(request: HttpRequest) -> HttpResponse:
    figures = adoption_figures(request.principal)
    chart = adoption_chart(figures)
    chart["labels"] = [_("激活率"), _("日活跃率"), _("周活跃率")]
    return render(request, "collab/adoption.html", {"figures": figures, "chart": chart})


urlpatterns: list = [
    path("", workbench, name="workbench"),
    path("adoption/", adoption, name="adoption"),
]
