"""/api/docs: Swagger UI served from this origin (the npm package `swagger-ui-dist`, STATICFILES_DIRS
vendor/swagger-ui) instead of django-ninja's CDN page, so the Content-Security-Policy needs no third-party origin
and the page has no inline script (the settings travel as JSON, web/swagger-init.js starts the UI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.openapi.docs import Swagger, _csrf_needed

if TYPE_CHECKING:
    from ninja import NinjaAPI


class LocalSwagger(Swagger):
    template = "web/api_docs.html"

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        context = {"swagger_settings": settings, "api": api, "add_csrf": _csrf_needed(api)}
        return render(request, self.template, context)
