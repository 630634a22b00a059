"""Authentication plumbing: the account backend, session idle timeout and bearer-token resolution.
(The use cases — login, lockout, TOTP, tokens — live in services/identity.py.)"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.backends import ModelBackend

# Set in the fresh session after an idle logout, so the login page can say why the user was signed out.
IDLE_LOGOUT_FLAG = "yiwang_idle_logout"
# Refresh the "last seen" stamp at most this often: writing the session on every request would cost a
# database write per page view, and a minute of slack on a thirty-minute idle limit does not matter.
LAST_SEEN_RESOLUTION = 60


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
                request.session[IDLE_LOGOUT_FLAG] = True
            elif last is None or now - int(last) >= LAST_SEEN_RESOLUTION:
                request.session["last_seen"] = now
        return self.get_response(request)


def principal_from_bearer(token: str):
    from .services.identity import api_token_resolve

    return api_token_resolve(token=token)
