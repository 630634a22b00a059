"""Public verification pages (no login): a licence by its QR token (/licences/verify/<token>/) or by its
identifier and 核验码 (/licences/verify/?identifier=...&code=...), and the published seal keys for offline
verification (/licences/seals/). What is shown is decided in selectors.licence_verification (by identifier alone
nothing personal). Verification answers are rate-limited per client (`licence_verify`) and never cached
(urls.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import PUBLIC
from yiwang.core.ratelimit import rate_limit

from .seal_image import seal_svg
from .selectors import seals_published, verify_identifier, verify_token


def _render(
    request: HttpRequest, verification, *, identifier: str = "", code: str = "", searched: bool = True
) -> HttpResponse:
    return render(
        request,
        "licences/verify.html",
        {"v": verification, "identifier": identifier, "code": code, "searched": searched},
        status=404 if searched and not verification.found else 200,
    )


@page_requires(PUBLIC)
@require_GET
def verify(request: HttpRequest, token: str) -> HttpResponse:
    rate_limit(request, scope="licence_verify")
    return _render(request, verify_token(token))


@page_requires(PUBLIC)
@require_GET
def verify_lookup(request: HttpRequest) -> HttpResponse:
    identifier = (request.GET.get("identifier") or "").strip()[:80]
    code = (request.GET.get("code") or "").strip()[:20]
    if not identifier:
        return render(request, "licences/verify.html", {"v": None, "identifier": "", "searched": False})
    rate_limit(request, scope="licence_verify")
    return _render(request, verify_identifier(identifier, code), identifier=identifier, code=code)


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
