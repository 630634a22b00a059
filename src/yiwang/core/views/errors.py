"""Error answers Django itself produces, in the caller's language."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.csrf import csrf_failure as django_csrf_failure


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: an API client gets problem+json (a page session without the CSRF token, or a
    route outside the API's own views); a page gets Django's explanation."""
    if request.path.startswith("/api/"):
        from ..apiutils import problem

        return problem(
            request,
            403,
            _("无权访问"),
            _("CSRF 校验失败：以页面会话调用接口时须带 X-CSRFToken 请求头，或改用 Bearer 访问令牌。"),
        )
    return django_csrf_failure(request, reason=reason)
