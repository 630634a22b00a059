"""The Action API endpoint: `/api/3/action/<name>` and `/api/action/<name>` (GET or POST).

Request data as CKAN reads it: GET query parameters (a parameter given twice becomes a list); a POST body of
JSON (an object), or a form (CKAN's quirk included: a form whose only field is a JSON text with an empty or "1"
value is that JSON). Every call is counted against the `ckan_action` rate limit (per client address; configured
by YIWANG_RATE_LIMITS, default DEFAULT_RATE); over it the answer is 429 with Retry-After in CKAN's envelope.
PUBLIC: what a caller sees is decided per dataset by the open-data visibility rule (see `ckan/__init__.py`).
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from yiwang.core.edge import JSON_ATTR
from yiwang.core.permissions import PUBLIC
from yiwang.core.ratelimit import RateLimited, client_key, rate_limit_per

from .actions import ACTIONS, ActionContext
from .auth import request_viewer
from .errors import BadRequest, CkanError, dumps, failed, internal_error, ok, rate_limited, streamed

log = logging.getLogger("yiwang.ckan")

DEFAULT_RATE = "1200/minute"
METHODS = ("GET", "HEAD", "POST")


def ckan_rate(scope: str, default: str) -> str:
    return getattr(settings, "YIWANG_RATE_LIMITS", {}).get(scope, default)


def _mixed(querydict) -> dict:
    out: dict = {}
    for key, values in querydict.lists():
        out[key] = values[0] if len(values) == 1 else values
    return out


def request_data(request: HttpRequest) -> dict:
    if request.method in ("GET", "HEAD"):
        return _mixed(request.GET)
    content_type = (request.content_type or "").lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = request.POST
        values = list(form.values())
        if len(values) == 1 and values[0] in ("1", ""):
            try:
                data = json.loads(next(iter(form.keys())))
            except (ValueError, RecursionError) as exc:
                raise BadRequest(_("JSON 错误：%(error)s") % {"error": str(exc)[:200]}) from None
        else:
            data = _mixed(form)
    else:
        data = getattr(request, JSON_ATTR, None)
        if data is None:
            body = request.body
            if not body.strip():
                return {}
            try:
                data = json.loads(body)
            except (ValueError, RecursionError) as exc:
                raise BadRequest(_("JSON 错误：%(error)s") % {"error": str(exc)[:200]}) from None
    if not isinstance(data, dict):
        raise BadRequest(_("JSON 错误：请求数据须为 JSON 对象。"))
    return data


def ckan_endpoint(view):
    """Marks a view as the public CKAN endpoint (its permission is PUBLIC, checked per dataset) and exempts it
    from CSRF: every action is read-only and a key, not a cookie, is the API's credential."""
    view.yiwang_permission = PUBLIC
    view.csrf_exempt = True
    return view


@ckan_endpoint
def action_view(request: HttpRequest, name: str, ver: str | None = None) -> HttpResponse:
    try:
        if request.method not in METHODS:
            return streamed(
                405,
                dumps(_("请求有误：不支持 %(method)s 方法。") % {"method": request.method[:10]}),
                {"Allow": ", ".join(METHODS)},
            )
        rate_limit_per(
            scope="ckan_action", key=client_key(request), rate=ckan_rate("ckan_action", DEFAULT_RATE)
        )
        function = ACTIONS.get(name)
        if function is None:
            raise BadRequest(_("未知的接口名称：%(name)s") % {"name": name[:60]})
        data = request_data(request)
        data.pop("callback", None)
        viewer, key = request_viewer(request)
        base = request.build_absolute_uri("/").rstrip("/")
        result = function(ActionContext(viewer=viewer, base=base, api_key=key), data)
        if key is not None:
            from ..services.opendata import open_api_key_used

            open_api_key_used(key)
        return ok(request, name, result)
    except CkanError as exc:
        return failed(request, name, exc)
    except RateLimited as exc:
        return rate_limited(request, name, exc.message, exc.retry_after)
    except Exception:
        log.exception("ckan action failed", extra={"action": name[:60]})
        return internal_error(request, name)
