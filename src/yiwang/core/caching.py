"""Personal answers are never stored by a browser or a proxy.

Every response to a request made as someone — a page session or a bearer token — is personal by default:
my cases, my licences and their PDFs, /api/registry/me, a clerk's work queue. This middleware marks them
`Cache-Control: private, no-store` unless the view already chose a policy, so a new personal page cannot
forget it. Anonymous public pages (the catalogue, Open311's public feed, verification) keep their own policy.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

PERSONAL = "private, no-store"


def _as_someone(request: HttpRequest) -> bool:
    if request.META.get("HTTP_AUTHORIZATION"):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class PersonalNoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _as_someone(request) and not response.has_header("Cache-Control"):
            response["Cache-Control"] = (
                PERSONAL  # what patch_cache_control writes on an empty header, directly
            )
        return response
