"""Authentication plumbing: the account backend, session idle timeout and bearer-token resolution.
(The use cases — login, lockout, TOTP, tokens — live in services/identity.py.)"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.backends import ModelBackend

# Set in the fresh session after an idle logout, so the login page can say why the user was signed out.
IDLE_LOGOUT_FLAG = "yiwang_idle_logout"
# Refresh the "last seen" stamp at most this often: writing the session on every request would cost a
# database write per page view, and a minute of slack on a thirty-minute idle limit does not matter.
LAST_SEEN_RESOLUTION = 60


# Columns a request's account never needs: the TOTP secret is SM4-decrypted when its row is read, and only a
# second-factor check (which reads the account under its row lock) uses it.
PER_REQUEST_DEFERRED = ("totp_secret",)


class AccountBackend(ModelBackend):
    """Password check only; lockout and the second factor are enforced by services.identity.account_login."""

    def get_user(self, user_id):
        # Runs on every signed-in request (the session's account): skip decrypting what it never reads.
        user = get_user_model()._default_manager.defer(*PER_REQUEST_DEFERRED).filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


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


MAX_BEARER_LENGTH = 256  # services.identity.MAX_TOKEN_LENGTH: anything longer is not one of ours


def principal_from_bearer(token: str):
    """The principal a bearer token acts as (None when refused), remembered briefly by core/principal_cache.py:
    an API call then costs no database query while revocation still reaches every node within a second."""
    if not token or len(token) > MAX_BEARER_LENGTH:
        return None
    from .principal_cache import cached_principal
    from .services.identity import api_token_lookup

    return cached_principal("bearer", token, lambda: api_token_lookup(token=token))


def bearer_account(request):
    """The account a request's `Authorization: Bearer` token acts for, for operations that take no authentication
    but show a signed-in account more. None without a token, for a refused one and for a registered system (it
    has no account)."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    principal = principal_from_bearer(token.strip())
    return getattr(principal, "account", None) if principal is not None else None


def principal_for_session(user):
    """The principal of a signed-in page session. The session and its account are checked on every request by
    Django's middleware (a logout or a disabled account ends it at once); what is remembered briefly is the
    staff record, the roles and the permissions they grant."""
    from .principal import Principal
    from .principal_cache import cached_principal

    user.pk  # noqa: B018 — evaluates request.user's lazy wrapper
    user = getattr(user, "_wrapped", user)  # the Account itself: its rows are what is remembered

    def load():
        return Principal.for_account(user), None

    principal = cached_principal("account", str(user.pk), load)
    if principal is not None and principal.account is not user:
        # Act as the request's own user object (the one the session loaded), with the remembered staff record.
        remembered = principal.account._state.fields_cache
        if "staff" in remembered and "staff" not in user._state.fields_cache:
            staff = remembered["staff"]
            user._state.fields_cache["staff"] = staff
            if staff is not None:
                staff._state.fields_cache["account"] = user
        principal = Principal(
            account=user, permissions=principal.permissions, role_codes=principal.role_codes
        )
    return principal
