"""Public verification pages (no login): a licence by its QR token (/licences/verify/<token>/) or by its
identifier (/licences/verify/?identifier=...), and the published seal keys for offline verification
(/licences/seals/). Only the outcome, issuer, type, identifier, dates and the public face fields are shown."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import PUBLIC

from .seal_image import seal_svg
from .selectors import seals_published, verify_identifier, verify_token


def _render(
    request: HttpRequest, verification, *, identifier: str = "", searched: bool = True
) -> HttpResponse:
    return render(
        request,
        "licences/verify.html",
        {"v": verification, "identifier": identifier, "searched": searched},
        status=404 if searched and not verification.found else 200,
    )


@page_requires(PUBLIC)
@require_GET
def verify(request: HttpRequest, token: str) -> HttpResponse:
    return _render(request, verify_token(token))


@page_requires(PUBLIC)
@require_GET
def verify_lookup(request: HttpRequest) -> HttpResponse:
    identifier = (request.GET.get("identifier") or "").strip()[:80]
    if not identifier:
        return render(request, "licences/verify.html", {"v": None, "identifier": "", "searched": False})
    return _render(request, verify_identifier(identifier), identifier=identifier)


@page_requires(PUBLIC)
@require_GET
def seals(request: HttpRequest) -> HttpResponse:
    rows = [{"seal": s, "svg": mark_safe(seal_svg(s, size=72))} for s in seals_published()]  # noqa: S308 - escaped
    return render(request, "licences/seals.html", {"rows": rows})


urlpatterns: list = [
    path("verify/", verify_lookup, name="verify_lookup"),
    path("verify/<str:token>/", verify, name="verify"),
    path("seals/", seals, name="seals"),
]
