"""Pages: 回流与离岸库.

- `datahub:return_home` (DATA_RETURN): the resources designated for my town, village or grid, with counts.
- `datahub:return_resource` (DATA_RETURN): a resource's rows in my area (keyset, masked; every page audited), or
  for statistics resources the figures summed for my area (table and chart).
- `datahub:harvesters`, `datahub:harvester_detail`, `datahub:harvester_run` (DATA_CENTRE): the harvesters with
  their last run and provenance, a harvester's run history, and 立即采集. Harvesters are created and edited in
  the admin (plugin and options validated by the plugin's schema).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import DATA_CENTRE, DATA_RETURN

from .selectors import returnflow as sel
from .services.returnflow import harvest_request

RUNS_PAGE = 20


@page_requires(DATA_RETURN)
def return_home(request: HttpRequest) -> HttpResponse:
    area, items = sel.return_resources_for(request.principal)
    return render(request, "datahub/returnflow/home.html", {"area": area, "items": items})


@page_requires(DATA_RETURN)
def return_resource(request: HttpRequest, resource_id) -> HttpResponse:
    area, resource = sel.return_resource_for(request.principal, resource_id)
    if sel.is_figures(resource):
        figures = sel.return_figures(request.principal, resource_id)
        chart = {
            "months": [row["month"] for row in figures.by_month],
            "series": [
                {"name": str(label), "data": [row.get(name, 0) for row in figures.by_month]}
                for name, label in figures.measures
            ],
        }
        return render(
            request, "datahub/returnflow/figures.html", {"area": area, "figures": figures, "chart": chart}
        )
    try:
        result = sel.return_rows(request.principal, resource_id, cursor=request.GET.get("cursor"))
    except ValidationError:
        return redirect("datahub:return_resource", resource_id=resource.public_id)
    return render(request, "datahub/returnflow/rows.html", {"area": area, "result": result})


@page_requires(DATA_CENTRE)
def harvesters(request: HttpRequest) -> HttpResponse:
    try:
        page = sel.harvesters_for_centre(request.principal, cursor=request.GET.get("cursor"))
    except ValidationError:
        return redirect("datahub:harvesters")
    return render(request, "datahub/returnflow/harvesters.html", {"page": page})


@page_requires(DATA_CENTRE)
def harvester_detail(request: HttpRequest, harvester_id) -> HttpResponse:
    harvester = sel.harvester_for_centre(request.principal, harvester_id)
    try:
        runs = sel.harvest_runs_for_centre(
            request.principal, harvester, cursor=request.GET.get("cursor"), limit=RUNS_PAGE
        )
    except ValidationError:
        return redirect("datahub:harvester_detail", harvester_id=harvester.public_id)
    return render(
        request,
        "datahub/returnflow/harvester_detail.html",
        {"harvester": harvester, "runs": runs, "options": sel.public_options(harvester.options)},
    )


@require_POST
@page_requires(DATA_CENTRE)
def harvester_run(request: HttpRequest, harvester_id) -> HttpResponse:
    harvester = sel.harvester_for_centre(request.principal, harvester_id)
    try:
        harvest_request(actor=request.principal, harvester=harvester)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已提交立即采集，完成后刷新本页查看结果。"))
    return redirect("datahub:harvester_detail", harvester_id=harvester.public_id)


urlpatterns = [
    path("return/", return_home, name="return_home"),
    path("return/<uuid:resource_id>/", return_resource, name="return_resource"),
    path("harvesters/", harvesters, name="harvesters"),
    path("harvesters/<uuid:harvester_id>/", harvester_detail, name="harvester_detail"),
    path("harvesters/<uuid:harvester_id>/run", harvester_run, name="harvester_run"),
]
