"""Pages: the public catalogue (search and filters) and the service guide (办事指南) of one item."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import PUBLIC

from . import selectors
from .diagram import department_label, process_diagram, role_label
from .formschema import form_fields
from .models import Material, ServiceItem
from .process import process_of


def apply_url(code: str) -> str:
    """The online application page of an item (cases:apply), or "#" while the cases module has none."""
    for kwargs in ({"item_code": code}, {"code": code}):
        try:
            return reverse("cases:apply", kwargs=kwargs)
        except NoReverseMatch:
            continue
    try:
        return reverse("cases:apply", args=[code])
    except NoReverseMatch:
        return "#"


def _filters(request: HttpRequest) -> tuple[selectors.SearchFilters, dict[str, str]]:
    params = request.GET
    try:
        return (
            selectors.search_filters(
                q=params.get("q", ""),
                department=params.get("department") or None,
                theme=params.get("theme") or None,
                target=params.get("target") or None,
                depth=params.get("depth") or None,
            ),
            {},
        )
    except ValidationError as exc:
        return selectors.SearchFilters(), {k: v[0] for k, v in exc.message_dict.items()}


@page_requires(PUBLIC)
def catalog_index(request: HttpRequest) -> HttpResponse:
    filters, errors = _filters(request)
    search = {
        "q": filters.q,
        "department": filters.department or None,
        "theme": filters.theme or None,
        "target": filters.target or None,
        "depth": filters.depth,
    }
    try:
        page = selectors.item_search(**search, cursor=request.GET.get("cursor") or None)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        page = selectors.item_search(**search)
    query = {k: v for k, v in {**search, "depth": filters.depth or ""}.items() if v}
    context = {
        "filters": filters,
        "errors": errors,
        "page": page,
        "next_url": f"?{urlencode({**query, 'cursor': page.next_cursor})}" if page.next_cursor else "",
        "filtered": bool(query),
    }
    # htmx (search-as-you-type, filter changes) swaps the results only.
    if request.htmx and request.htmx.target == "catalog-results":
        return render(request, "catalog/_results.html", context)
    themes = selectors.themes_list()
    context.update(
        {
            "person_themes": [t for t in themes if t.audience == "person"],
            "organisation_themes": [t for t in themes if t.audience == "organisation"],
            "departments": selectors.departments_with_items(),
            "targets": ServiceItem.Target.choices,
            "depths": ServiceItem.OnlineDepth.choices,
        }
    )
    return render(request, "catalog/index.html", context)


@page_requires(PUBLIC)
def catalog_guide(request: HttpRequest, code: str) -> HttpResponse:
    item = selectors.item_get_published(code)
    process = process_of(item)
    steps = [
        {
            "step": step,
            "role": role_label(step.role),
            "department": department_label(step.department),
            "days": process.step_days(step.code, item.committed_days),
            "transitions": process.transitions_from(step.code),
        }
        for step in process.steps
    ]
    fields = form_fields(item)
    materials = list(item.materials.all())
    return render(
        request,
        "catalog/guide.html",
        {
            "item": item,
            "themes": list(item.themes.all()),
            "materials": materials,
            "tolerant_count": sum(1 for m in materials if m.tolerant),
            "free_count": sum(1 for m in materials if m.source != Material.Source.UPLOAD),
            "prefilled_count": sum(1 for f in fields if f.prefill),
            "field_count": len(fields),
            "steps": steps,
            "diagram": process_diagram(process, item.committed_days),
            "apply_url": apply_url(item.code),
        },
    )
