"""django-csp's middleware with the policy of a plain response built once, not on every request.

The Content-Security-Policy header is the same on every response whose view set no per-view policy
(`@csp_update`, `@csp_replace`...) and whose template used no nonce: django-csp nevertheless rebuilds it twice per
request (enforced and report-only), converting its settings with `dataclasses.asdict` each time — about a tenth
of the time of a bare view on this machine (docs/performance.md). This subclass remembers those two strings per
settings and hands every other response (a nonce, a per-view policy, the debug pages) to django-csp unchanged, so
the headers are byte-for-byte what django-csp writes.
"""

from __future__ import annotations

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as _CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponseBase

_PER_VIEW = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
_plain: dict[str, tuple[str, tuple[str, ...]]] = {}


def _plain_policy(report_only: bool) -> tuple[str, tuple[str, ...]]:
    """(the policy string, the excluded URL prefixes) when nothing per response changes it."""
    key = HEADER_REPORT_ONLY if report_only else HEADER
    found = _plain.get(key)
    if found is None:
        setting = "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY"
        policy = getattr(settings, setting, None) or {}
        found = (
            build_policy(report_only=report_only),
            tuple(policy.get("EXCLUDE_URL_PREFIXES", None) or ()),
        )
        _plain[key] = found
    return found


def _forget(setting, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _plain.clear()


setting_changed.connect(_forget, dispatch_uid="yiwang-csp-plain-policy")


class CSPMiddleware(_CSPMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(hasattr(response, a) for a in _PER_VIEW):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (404, 500):
            return super().process_response(request, response)
        for header, exempt_attr, report_only in (
            (HEADER, "_csp_exempt", False),
            (HEADER_REPORT_ONLY, "_csp_exempt_ro", True),
        ):
            policy, prefixes = _plain_policy(report_only)
            if (
                policy
                and header not in response
                and getattr(response, exempt_attr, False) is False
                and not request.path_info.startswith(prefixes)
            ):
                response[header] = policy
        # As django-csp does: a nonce asked for after the header was written is an error, not a silent gap.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
