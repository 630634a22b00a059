"""Pages: 一网协同 — 指标与绩效考评.

- `collab:indicators` (/collab/indicators/): the library (filter by scope, keyset-paged).
- `collab:indicator_detail` (/collab/indicators/<code>/): one indicator — the period picker, each unit's value with
  its breach light and the tasks it opened, the trend chart; 立即计算 (TASK_ISSUE, `collab:indicator_compute`).
- `collab:performance` (/collab/performance/): a plan's scorecard — ranking table, ECharts bar chart, 导出 Excel
  (`collab:performance_export`) and 计算 (TASK_ISSUE, `collab:performance_compute`).
Everyone with COLLAB_WORK reads them (values and scores of their own unit; the office and leaders see all units).
Every write is a service of services.indicators / services.performance, the same the API calls.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import COLLAB_WORK, TASK_ISSUE

from .metrics import METRICS
from .models import Indicator
from .selectors import indicators as sel
from .services.indicators import indicator_compute, period_bounds, period_label
from .services.performance import performance_compute


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(str(text or "")[:10])
    except ValueError:
        return None


@page_requires(COLLAB_WORK)
@require_GET
def indicators(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    scope = request.GET.get("scope") or ""
    if scope not in Indicator.Scope.values:
        scope = ""
    q = (request.GET.get("q") or "").strip()[:50]
    try:
        page = sel.indicator_list(principal, q=q, scope=scope, cursor=request.GET.get("cursor"), limit=50)
    except ValidationError:
        return redirect("collab:indicators")
    rows = [{"indicator": i, "metric": METRICS.get(i.metric)} for i in page.items]
    return render(
        request,
        "collab/indicators.html",
        {
            "rows": rows,
            "scope": scope,
            "q": q,
            "scopes": Indicator.Scope.choices,
            "next_query": urlencode({"scope": scope, "q": q, "cursor": page.next_cursor})
            if page.next_cursor
            else "",
            "can_manage": sel.can_manage(principal),
            "tab": "library",
        },
    )


@page_requires(COLLAB_WORK)
@require_GET
def indicator_detail(request: HttpRequest, code: str) -> HttpResponse:
    principal = request.principal
    indicator = sel.indicator_get(principal, code)
    periods = sel.indicator_periods(principal, indicator)
    wanted = _date(request.GET.get("period"))
    current = period_bounds(indicator.period, timezone.localdate())
    if wanted is not None:
        chosen = period_bounds(indicator.period, wanted)
    elif periods:
        chosen = periods[0]
    else:
        chosen = current
    if chosen not in periods:
        periods = sorted([*periods, chosen], reverse=True)
    board = sel.indicator_board(principal, indicator, chosen[0])
    return render(
        request,
        "collab/indicator_detail.html",
        {
            "indicator": indicator,
            "metric": METRICS.get(indicator.metric),
            "periods": [(p, period_label(indicator.period, p, e)) for p, e in periods],
            "chosen": chosen,
            "chosen_label": period_label(indicator.period, *chosen),
            "board": board,
            "tasks": sel.indicator_tasks(principal, indicator, limit=20),
            "trend": sel.indicator_trend(principal, indicator),
            "can_manage": sel.can_manage(principal),
            "sees_all": sel.sees_all(principal),
            "tab": "library",
        },
    )


@require_POST
@page_requires(TASK_ISSUE)
def indicator_compute_view(request: HttpRequest, code: str) -> HttpResponse:
    principal = request.principal
    indicator = sel.indicator_get(principal, code)
    day = _date(request.POST.get("period")) or timezone.localdate()
    start, end = period_bounds(indicator.period, day)
    try:
        done = indicator_compute(actor=principal, indicator=indicator, period_start=start, period_end=end)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(
            request,
            _("已计算%(period)s：%(units)d 个单位，%(breached)d 个越限，新交办 %(opened)d 件督办任务。")
            % {
                "period": period_label(indicator.period, start, end),
                "units": len(done.values),
                "breached": done.breached,
                "opened": len(done.opened),
            },
        )
    return redirect(f"{reverse('collab:indicator_detail', args=[indicator.code])}?period={start.isoformat()}")


def _plan_and_period(request: HttpRequest):
    principal = request.principal
    plans = sel.plan_list(principal)
    code = request.GET.get("plan") or request.POST.get("plan") or ""
    plan = next((p for p in plans if p.code == code), plans[0] if plans else None)
    periods = sel.performance_periods(principal, plan) if plan else []
    wanted = _date(request.GET.get("period") or request.POST.get("period"))
    if wanted is not None:
        chosen = period_bounds("monthly", wanted)
    elif periods:
        chosen = periods[0]
    else:
        chosen = period_bounds("monthly", timezone.localdate())
    return plans, plan, periods, chosen


@page_requires(COLLAB_WORK)
@require_GET
def performance(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    plans, plan, periods, chosen = _plan_and_period(request)
    ranking = sel.performance_ranking(principal, plan, chosen[0]) if plan else []
    if chosen not in periods:
        periods = sorted([*periods, chosen], reverse=True)
    chart = {
        "units": [r.department.name for r in ranking],
        "scores": [float(r.score) for r in ranking],
        "governance": [float(r.governance_score) for r in ranking],
        "public": [float(r.public_score) for r in ranking],
        "labels": {"score": _("总分"), "governance": _("内部治理"), "public": _("公众评价")},
    }
    columns: list[tuple[str, str]] = []
    for row in ranking:
        for part in row.parts:
            if (part["indicator"], part["name"]) not in columns:
                columns.append((part["indicator"], part["name"]))
    table = [
        {"score": r, "cells": [next((p for p in r.parts if p["indicator"] == c), None) for c, _n in columns]}
        for r in ranking
    ]
    return render(
        request,
        "collab/performance.html",
        {
            "plans": plans,
            "plan": plan,
            "periods": [(p, period_label("monthly", p, e)) for p, e in periods],
            "chosen": chosen,
            "chosen_label": period_label("monthly", *chosen),
            "ranking": ranking,
            "columns": columns,
            "table": table,
            "chart": chart,
            "can_manage": sel.can_manage(principal),
            "sees_all": sel.sees_all(principal),
            "tab": "performance",
        },
    )


@require_POST
@page_requires(TASK_ISSUE)
def performance_compute_view(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    _plans, plan, _periods, chosen = _plan_and_period(request)
    if plan is None:
        messages.error(request, _("还没有考评方案。"))
        return redirect("collab:performance")
    try:
        rows = performance_compute(actor=principal, plan=plan, period_start=chosen[0], period_end=chosen[1])
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已计算：%(n)d 个单位参加排名。") % {"n": len(rows)})
    query = urlencode({"plan": plan.code, "period": chosen[0].isoformat()})
    return redirect(f"{reverse('collab:performance')}?{query}")


@page_requires(COLLAB_WORK)
@require_GET
def performance_export(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    _plans, plan, _periods, chosen = _plan_and_period(request)
    if plan is None:
        return redirect("collab:performance")
    _rows, data = sel.performance_xlsx(principal, plan, chosen[0])
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="performance-{plan.code}-{chosen[0]}.xlsx"'
    return response


urlpatterns = [
    path("indicators/", indicators, name="indicators"),
    path("indicators/<str:code>/", indicator_detail, name="indicator_detail"),
    path("indicators/<str:code>/compute", indicator_compute_view, name="indicator_compute"),
    path("performance/", performance, name="performance"),
    path("performance/compute", performance_compute_view, name="performance_compute"),
    path("performance/export.xlsx", performance_export, name="performance_export"),
]
