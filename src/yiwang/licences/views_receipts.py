"""Page: a licence's receipts (存证回执) at /licences/receipts/<licence_id>/ — the events that give one (issued,
corrected, suspended, resumed, revoked; grants given or revoked), each with a download link (the API's receipt
file) or "上链中" while it is not yet in a signed tree head. Loaded with HTMX into the holder's licence page and the
issuer's licence page; a full page without HTMX. Scoped like the licence (holder or issuing department: else 404)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import SELF_SERVICE

from .api_receipts import receipt_download_path
from .selectors_receipts import licence_for_receipts, licence_receipts


# Holders; the issuing department's staff hold SELF_SERVICE too (and are scoped by department).
@page_requires(SELF_SERVICE)
@require_GET
def licence_receipts_page(request: HttpRequest, licence_id) -> HttpResponse:
    licence = licence_for_receipts(request.principal, licence_id)
    rows = [
        {
            "row": row,
            "download_url": receipt_download_path(licence, row.entry),
            "anchor": f"grant-{row.grant_id}" if row.grant_id else f"entry-{row.entry.uuid}",
        }
        for row in licence_receipts(licence)
    ]
    template = "core/receipts/_table.html" if request.htmx else "core/receipts/licence.html"
    return render(request, template, {"licence": licence, "rows": rows})


urlpatterns = [
    path("receipts/<uuid:licence_id>/", licence_receipts_page, name="licence_receipts"),
]
