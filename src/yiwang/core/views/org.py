"""Pages: the division browser with the grid map of a town/street or village/community."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from ..models import Division
from ..pageutils import page_requires
from ..permissions import DIVISION_VIEW
from ..selectors import org as selectors


@page_requires(DIVISION_VIEW)
def org_browser(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    code = (request.GET.get("code") or "").strip() or None
    selected = None
    if code:
        selected = selectors.division_get(principal, code)
        if selected is None:
            raise Http404
    cursor_error = ""
    try:
        page = selectors.division_children(
            principal, parent_code=code, cursor=request.GET.get("cursor") or None
        )
    except ValidationError as exc:
        cursor_error = exc.messages[0]
        page = selectors.division_children(principal, parent_code=code)

    # The map shows the grids of the selected town or village; for a grid, its village with it highlighted.
    map_division, highlight = None, ""
    if selected is not None:
        if selected.level in (Division.Level.TOWN, Division.Level.VILLAGE):
            map_division = selected
        elif selected.level == Division.Level.GRID:
            map_division, highlight = selected.parent, selected.code
    grids = selectors.grids_geojson(principal, map_division.code) if map_division else None
    selected_grid = None
    if highlight and grids:
        selected_grid = next((f["properties"] for f in grids["features"] if f["id"] == highlight), None)

    return render(
        request,
        "core/org/browser.html",
        {
            "selected": selected,
            "path": selectors.division_path(principal, selected) if selected else [],
            "page": page,
            "cursor_error": cursor_error,
            "map_division": map_division,
            "grids": grids,
            "highlight": highlight,
            "selected_grid": selected_grid,
        },
    )


urlpatterns = [
    path("", org_browser, name="org"),
]
