"""Who calls the CKAN API: an API key in `Authorization` (CKAN's convention: the bare key; `Bearer <key>` and
the older `X-CKAN-API-Key` header are accepted too), else the signed-in session, else nobody.

Keys are the open-data portal's keys (`services/opendata.open_api_key_lookup`: only the SM3 hash is stored). A
key that is presented but unknown or revoked is refused (403 Authorization Error) rather than silently treated
as anonymous, so a client learns its key stopped working.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from ..selectors.opendata_access import ANONYMOUS, OpenViewer, open_viewer
from .errors import NotAuthorized


def presented_key(request: HttpRequest) -> str:
    raw = request.headers.get("Authorization") or request.headers.get("X-CKAN-API-Key") or ""
    raw = raw.strip()
    if raw.lower().startswith("bearer "):
        raw = raw[7:].strip()
    return raw


def request_viewer(request: HttpRequest) -> tuple[OpenViewer, object | None]:
    """(viewer, api key or None). Raises NotAuthorized for a key that is not live."""
    from ..services.opendata import open_api_key_lookup

    raw = presented_key(request)
    if raw:
        key = open_api_key_lookup(raw)
        if key is None:
            raise NotAuthorized(_("API 密钥无效或已吊销。"))
        return open_viewer(api_key=key), key
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return open_viewer(account=user), None
    return ANONYMOUS, None
