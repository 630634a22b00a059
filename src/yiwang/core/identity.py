"""Authentication plumbing: the account backend, session idle timeout and bearer-token resolution.
(The use cases — login, lockout, TOTP, tokens — live in services/identity.py.)"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.backends import ModelBackend


class AccountBackend(ModelBackend):
    """Password check only; lockout and the second factor are enforced by services.identity.account_login."""


class SessionIdleTimeoutMiddleware:
    """Logs a session out after SESSION_IDLE_SECONDS without a request (absolute expiry is SESSION_COOKIE_AGE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get("last_seen")
            if last is not None and now - int(last) > settings.SESSION_IDLE_SECONDS:
                logout(request)
            else:
                request.session["last_seen"] = now
        return self.get_response(request)


def principal_from_bearer(token: str):
    from .services.identity import api_token_resolve

    return api_token_resolve(token=token)
