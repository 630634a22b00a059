"""Pages: the public 一件事 catalogue (cards of published bundles by audience) and one bundle's guide (which
items, which departments, in what order, the merged materials, the deadline, the apply button)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import PUBLIC

from ..models import Material, Theme
from .services import (
    build_form,
    build_materials,
    bundle_estimated_days,
    bundle_get_published,
    bundle_items,
    bundles_published,
)


def _apply_url(code: str) -> str:
    try:
        return reverse("cases:bundle_apply", args=[code])
    except NoReverseMatch:
        return "#"


@page_requires(PUBLIC)
def bundles_index(request: HttpRequest) -> HttpResponse:
    bundles = bundles_published()
    groups = [
        (label, [b for b in bundles if b.audience == value])
        for value, label in (
            (Theme.Audience.PERSON, Theme.Audience.PERSON.label),
            (Theme.Audience.ORGANISATION, Theme.Audience.ORGANISATION.label),
        )
    ]
    return render(
        request, "catalog/bundles.html", {"groups": [(label, rows) for label, rows in groups if rows]}
    )


@page_requires(PUBLIC)
def bundle_guide(request: HttpRequest, code: str) -> HttpResponse:
    bundle = bundle_get_published(code)
    rows = bundle_items(bundle)
    items = [item for _member, item in rows]
    names = {item.code: item.name for item in items}
    materials = build_materials(items)
    form = build_form(items)
    return render(
        request,
        "catalog/bundle.html",
        {
            "bundle": bundle,
            "rows": [
                {"item": item, "after": [names.get(code, code) for code in member.after]}
                for member, item in rows
            ],
            "departments": sorted({item.department.name for item in items}),
            "materials": materials,
            "upload_count": sum(1 for m in materials if m.source == Material.Source.UPLOAD),
            "shared_count": sum(1 for m in materials if len(m.items) > 1),
            "field_count": len(form.fields),
            "asked_count": sum(len(v) for v in form.field_items.values()),
            "days": bundle_estimated_days(rows),
            "apply_url": _apply_url(bundle.code),
        },
    )
