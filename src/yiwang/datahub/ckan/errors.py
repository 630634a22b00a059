"""CKAN's answers: the envelope `{"help", "success", "result"}` and its error objects with CKAN's HTTP codes.

| exception | `__type` | status |
|---|---|---|
| NotFound | Not Found Error | 404 |
| NotAuthorized | Authorization Error | 403 |
| ValidationFailed | Validation Error (field → [messages]) | 409 |
| SearchQueryFailed | Search Query Error | 400 |
| BadRequest (unknown action, a body that is not a JSON object) | — (the body is a JSON string, as CKAN's) | 400 |
| rate limit | Rate Limit Error (plus `Retry-After`) | 429 |

Error answers leave as a one-chunk streaming response: the platform's edge turns any other non-problem error
under /api/ into problem+json, which no CKAN client understands, and it leaves streamed answers alone.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

CONTENT_TYPE = "application/json;charset=utf-8"


class CkanError(Exception):
    status = 400
    type_name = ""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def error_object(self) -> dict:
        return {"__type": self.type_name, "message": self.message}


class NotFound(CkanError):
    status = 404
    type_name = "Not Found Error"

    def error_object(self) -> dict:
        text = _("未找到：%(what)s") % {"what": self.message} if self.message else _("未找到")
        return {"__type": self.type_name, "message": text}


class NotAuthorized(CkanError):
    status = 403
    type_name = "Authorization Error"

    def error_object(self) -> dict:
        text = _("无权访问：%(why)s") % {"why": self.message} if self.message else _("无权访问")
        return {"__type": self.type_name, "message": text}


class ValidationFailed(CkanError):
    """Field-level messages, CKAN style: {"rows": ["..."], ...}."""

    status = 409
    type_name = "Validation Error"

    def __init__(self, errors: dict[str, list[str] | str]) -> None:
        self.errors = {
            key: [str(m) for m in (v if isinstance(v, list) else [v])] for key, v in errors.items()
        }
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()))

    def error_object(self) -> dict:
        return {"__type": self.type_name, **self.errors, "message": _("请按字段提示修改后重试。")}


class SearchQueryFailed(CkanError):
    status = 400
    type_name = "Search Query Error"

    def error_object(self) -> dict:
        return {"__type": self.type_name, "message": _("查询语句无效：%(why)s") % {"why": self.message}}


class BadRequest(CkanError):
    """CKAN answers an unknown action or an unreadable body with a bare JSON string."""

    status = 400


def help_url(request: HttpRequest, name: str) -> str:
    from urllib.parse import quote

    return request.build_absolute_uri("/api/3/action/help_show") + "?name=" + quote(name[:100], safe="")


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def ok(request: HttpRequest, name: str, result: Any) -> HttpResponse:
    body = {"help": help_url(request, name), "success": True, "result": result}
    return HttpResponse(dumps(body), content_type=CONTENT_TYPE)


def streamed(status: int, payload: bytes, headers: dict | None = None) -> HttpResponse:
    response = StreamingHttpResponse([payload], content_type=CONTENT_TYPE, status=status)
    response["Content-Length"] = str(len(payload))
    response["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def failed(request: HttpRequest, name: str, exc: CkanError) -> HttpResponse:
    if isinstance(exc, BadRequest):
        return streamed(400, dumps(_("请求有误：%(why)s") % {"why": exc.message}))
    body = {"help": help_url(request, name), "success": False, "error": exc.error_object()}
    return streamed(exc.status, dumps(body))


def rate_limited(request: HttpRequest, name: str, message: str, retry_after: int) -> HttpResponse:
    body = {
        "help": help_url(request, name),
        "success": False,
        "error": {"__type": "Rate Limit Error", "message": message},
    }
    return streamed(429, dumps(body), {"Retry-After": str(retry_after)})


def internal_error(request: HttpRequest, name: str) -> HttpResponse:
    body = {
        "help": help_url(request, name),
        "success": False,
        "error": {"__type": "Internal Server Error", "message": _("服务器内部错误")},
    }
    return streamed(500, dumps(body))


ACTION_PREFIXES = ("/api/3/action/", "/api/action/")


def edge_refusal(request: HttpRequest, refusal) -> HttpResponse:
    """A request the platform's edge refused (a NUL or lone surrogate in a parameter, JSON nested too deep, a
    body too large), answered as CKAN answers: field problems as a Validation Error (409) naming each parameter,
    an unreadable body as CKAN's bare 400 string, a body too large as 413 in the envelope."""
    name = request.path.rstrip("/").rsplit("/", 1)[-1][:100]
    if refusal.errors:
        errors: dict[str, list[str]] = {}
        for problem in refusal.errors:
            errors.setdefault(problem.get("field") or "__junk", []).append(str(problem.get("message", "")))
        return failed(request, name, ValidationFailed(errors))
    if refusal.status == 413:
        body = {
            "help": help_url(request, name),
            "success": False,
            "error": {"__type": "Validation Error", "message": refusal.detail},
        }
        return streamed(413, dumps(body))
    return failed(request, name, BadRequest(refusal.detail))
