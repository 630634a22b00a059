"""Template context for every page: the acting principal (built once per request), its navigation, the header's
identity line and the URLs of shell actions that may not exist yet (logout belongs to the identity pages)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

from yiwang.core.pageutils import principal_for_request

from .nav import nav_for
from .selectors import identity_of


def _reverse_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _unread(request: HttpRequest) -> int:
    from yiwang.core.selectors.notify import notifications_unread_count

    principal = principal_for_request(request)
    return notifications_unread_count(principal) if principal is not None else 0


def navigation(request: HttpRequest) -> dict:
    """Context processor. Values are lazy: pages that never show the shell (the admin, bare partials) pay no
    query for them."""

    def identity():
        principal = principal_for_request(request)
        return identity_of(principal) if principal is not None else None

    return {
        "nav_items": SimpleLazyObject(lambda: nav_for(principal_for_request(request), request.path)),
        "yw_identity": SimpleLazyObject(identity),
        "logout_url": SimpleLazyObject(lambda: _reverse_or_none("core:logout") or ""),
        "login_url": SimpleLazyObject(lambda: _reverse_or_none("core:login") or ""),
        "setlang_url": SimpleLazyObject(lambda: _reverse_or_none("set_language") or ""),
        "yw_unread": SimpleLazyObject(lambda: _unread(request)),
    }
