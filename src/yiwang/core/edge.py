"""The edge: what every request must be before any view, form, service or database sees it, on every channel.

One middleware (`EdgeMiddleware`, in settings.MIDDLEWARE right after authentication, before any view reads a
form) and the API's JSON parser (`apiutils.YiwangParser`) apply the same rules:

- text: no lone UTF-16 surrogate (JSON can write "\\ud800"; no UTF-8 page or database can hold it) and no NUL
  character, in any JSON string or object key, form or query field (name or value), upload file name or path;
- JSON: well-formed (no NaN/Infinity), at most `YIWANG_MAX_JSON_DEPTH` levels deep, integers within 64 bits,
  floats finite;
- size: a body over `DATA_UPLOAD_MAX_MEMORY_SIZE` (uploaded files excepted) or a request over
  `YIWANG_MAX_REQUEST_BYTES` (files included) is refused with 413 before it is read;
- multipart: a body that does not parse (no boundary...) is a 400; upload names are at most
  `MAX_UPLOAD_NAME` characters.

The answer speaks the caller's language: RFC 9457 problem+json under /api/ (422 naming each field, 400 for a
body that does not parse, 413 for size), the GeoReport error array under /open311/, a page elsewhere; a channel
with a protocol of its own under /api/ registers its answer (`channel_answer_register`: CKAN's Action API). Under
/api/ every other error response leaves as problem+json too (Django's 405s, a CSRF failure...), so an API
client never has to parse HTML.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

log = logging.getLogger("yiwang.edge")

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_UPLOAD_NAME = 200  # characters; the stored original-name columns hold 200
MAX_REPORTED = 20  # field problems listed in one answer
JSON_ATTR = "_yiwang_json"  # the request's parsed JSON body, kept so the API does not parse it twice

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# OAuth 2.0 endpoints answer malformed requests as RFC 6749 has it: 400 with `"error": "invalid_request"`.
OAUTH_ENDPOINTS = ("/api/auth/token", "/api/auth/revoke")


def max_json_depth() -> int:
    return int(getattr(settings, "YIWANG_MAX_JSON_DEPTH", 32))


def max_request_bytes() -> int:
    return int(getattr(settings, "YIWANG_MAX_REQUEST_BYTES", 64 * 1024 * 1024))


# --- what is wrong -----------------------------------------------------------------------------------------------
class BadInput(Exception):
    """A request the edge refuses: `status` 400 (does not parse), 413 (too large) or 422 (a field's content)."""

    def __init__(self, status: int, title: str, detail: str, errors: list[dict] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []


def printable(name: Any, limit: int = 100) -> str:
    """A field name safe to echo in an answer: surrogates and NUL written as escapes, at most `limit` chars."""
    text = str(name).encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _join(path: str, part: Any) -> str:
    part = printable(part)
    return f"{path}.{part}" if path else part


def text_problem(value: str) -> tuple[str, str] | None:
    """(code, message) when `value` holds a character the platform refuses, else None."""
    if "\x00" in value:
        return "nul_character", _("不能含有空字符（NUL）。")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "lone_surrogate", _("含有无法识别的字符（不成对的 UTF-16 代理项）。")
    return None


def unprocessable(errors: list[dict]) -> BadInput:
    return BadInput(422, _("请求数据有误"), _("请按字段提示修改后重试。"), errors[:MAX_REPORTED])


def not_parsed(detail: str) -> BadInput:
    return BadInput(400, _("请求体无法解析"), detail)


def too_large(limit: int) -> BadInput:
    return BadInput(
        413,
        _("请求体过大"),
        _("请求体超过 %(mb)s MiB 的上限。") % {"mb": f"{limit / (1024 * 1024):g}"},
    )


# --- JSON ------------------------------------------------------------------------------------------------------
def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes | str) -> Any:
    """The JSON document in `raw`, or BadInput(400): malformed, NaN/Infinity, or nested past the C parser."""
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise not_parsed(_("JSON 嵌套过深（最多 %(n)s 层）。") % {"n": max_json_depth()}) from None
    except (ValueError, TypeError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise not_parsed(_("请求体不是有效的 JSON。")) from None


def json_problems(data: Any, *, prefix: str = "") -> list[dict]:
    """Every refused string, key or number in a parsed JSON document, as [{field, message, code}]; raises
    BadInput(400) when it is nested deeper than `YIWANG_MAX_JSON_DEPTH`."""
    limit = max_json_depth()
    problems: list[dict] = []
    stack: list[tuple[Any, str, int]] = [(data, prefix, 0)]
    while stack and len(problems) < MAX_REPORTED:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            found = text_problem(value)
            if found:
                problems.append({"field": path, "message": found[1], "code": found[0]})
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                problems.append(
                    {"field": path, "message": _("数值超出允许范围（64 位整数）。"), "code": "int_range"}
                )
        elif isinstance(value, float):
            if not math.isfinite(value):
                problems.append({"field": path, "message": _("数值超出允许范围。"), "code": "number_range"})
        elif isinstance(value, (dict, list)):
            if depth + 1 > limit:
                raise not_parsed(_("JSON 嵌套过深（最多 %(n)s 层）。") % {"n": limit})
            if isinstance(value, dict):
                for key, item in value.items():
                    found = text_problem(key)
                    if found:
                        problems.append({"field": _join(path, key), "message": found[1], "code": found[0]})
                        continue
                    stack.append((item, _join(path, key), depth + 1))
            else:
                for index, item in enumerate(value):
                    stack.append((item, _join(path, index), depth + 1))
    return problems


def json_checked(raw: bytes | str) -> Any:
    """Parses and checks a JSON body: the document, or BadInput (400 malformed or too deep, 422 by field)."""
    data = parse_json(raw)
    problems = json_problems(data)
    if problems:
        raise unprocessable(problems)
    return data


# --- forms, queries, uploads -------------------------------------------------------------------------------------
def querydict_problems(pairs: Iterable[tuple[str, list]]) -> list[dict]:
    problems: list[dict] = []
    for name, values in pairs:
        found = text_problem(name)
        if found:
            problems.append({"field": printable(name), "message": found[1], "code": found[0]})
            continue
        for value in values:
            found = text_problem(value) if isinstance(value, str) else None
            if found:
                problems.append({"field": printable(name), "message": found[1], "code": found[0]})
                break
    return problems


def upload_problems(files) -> list[dict]:
    problems: list[dict] = []
    for field, uploads in files.lists():
        for upload in uploads:
            name = upload.name or ""
            found = text_problem(name)
            if found:
                problems.append({"field": printable(field), "message": found[1], "code": found[0]})
            elif len(name) > MAX_UPLOAD_NAME:
                problems.append(
                    {
                        "field": printable(field),
                        "message": _("文件名太长，最多 %(n)s 个字符。") % {"n": MAX_UPLOAD_NAME},
                        "code": "file_name_too_long",
                    }
                )
    return problems


def _content_type(request: HttpRequest) -> str:
    return (request.content_type or "").lower()


def is_json_type(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def is_open311(request: HttpRequest) -> bool:
    return request.path.startswith("/open311/")


def inspect_request(request: HttpRequest) -> None:
    """Applies the edge rules to a request; raises BadInput. Parsed JSON bodies are kept on the request."""
    found = text_problem(request.path)
    if found:
        raise BadInput(400, _("请求地址有误"), found[1])
    try:
        problems = querydict_problems(request.GET.lists())
    except SuspiciousOperation:  # TooManyFieldsSent: more query fields than DATA_UPLOAD_MAX_NUMBER_FIELDS
        raise not_parsed(_("表单字段或文件数量过多。")) from None
    if problems:
        raise unprocessable(problems)
    length = _content_length(request)
    if length > max_request_bytes():
        raise too_large(max_request_bytes())
    content_type = _content_type(request)
    if content_type in FORM_TYPES:
        _inspect_form(request)
    elif length or request.META.get("HTTP_TRANSFER_ENCODING"):
        _inspect_body(request, content_type)


def _inspect_form(request: HttpRequest) -> None:
    if request.method != "POST":
        # Django parses form bodies of POST only (other methods' forms reach no view as fields); a multipart
        # body without a boundary is malformed whatever the method.
        if _content_type(request) == "multipart/form-data" and not request.content_params.get("boundary"):
            raise not_parsed(_("multipart/form-data 请求体格式不正确（例如缺少 boundary）。"))
        return
    try:
        post, files = request.POST, request.FILES
    except RequestDataTooBig:
        raise too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) from None
    except MultiPartParserError:
        raise not_parsed(_("multipart/form-data 请求体格式不正确（例如缺少 boundary）。")) from None
    except (TooManyFieldsSent, TooManyFilesSent):
        raise not_parsed(_("表单字段或文件数量过多。")) from None
    except SuspiciousOperation:
        raise not_parsed(_("请求体格式不正确。")) from None
    problems = querydict_problems(post.lists()) + upload_problems(files)
    if problems:
        raise unprocessable(problems)


def _inspect_body(request: HttpRequest, content_type: str) -> None:
    json_typed = is_json_type(content_type)
    if not (json_typed or is_api(request)):
        return  # pages and Open311 read only forms and JSON
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) from None
    if not body.strip():
        return
    try:
        data = parse_json(body)
    except BadInput:
        if json_typed:
            raise
        return  # not JSON and not declared JSON: the API operation decides (it reads JSON or nothing)
    problems = json_problems(data)
    if problems:
        raise unprocessable(problems)
    setattr(request, JSON_ATTR, data)


# --- answers -----------------------------------------------------------------------------------------------------
def status_title(status: int) -> str:
    titles = {
        400: _("请求无法处理"),
        401: _("需要登录"),
        403: _("无权访问"),
        404: _("未找到"),
        405: _("不支持该请求方法"),
        406: _("无法提供所需格式"),
        409: _("与当前状态冲突"),
        413: _("请求体过大"),
        415: _("不支持的请求格式"),
        422: _("请求数据有误"),
        429: _("请求过于频繁"),
        500: _("服务器内部错误"),
        503: _("服务暂不可用"),
    }
    if status in titles:
        return titles[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return str(status)


def _described(exc: BadInput) -> str:
    if not exc.errors:
        return exc.detail
    fields = "；".join(f"{e['field'] or _('请求体')}：{e['message']}" for e in exc.errors)
    return f"{exc.detail} {fields}"


# Channels under /api/ that speak another protocol (CKAN's Action API): path prefixes -> a function answering a
# refusal in that protocol. Registered by the app that owns the channel, so the edge imports no app.
_CHANNEL_ANSWERS: list[tuple[tuple[str, ...], Callable[[HttpRequest, BadInput], HttpResponse]]] = []


def channel_answer_register(
    prefixes: tuple[str, ...], answer: Callable[[HttpRequest, BadInput], HttpResponse]
) -> None:
    """Requests under `prefixes` refused at the edge are answered by `answer(request, refusal)` (idempotent)."""
    if (prefixes, answer) not in _CHANNEL_ANSWERS:
        _CHANNEL_ANSWERS.append((prefixes, answer))


def edge_response(request: HttpRequest, exc: BadInput) -> HttpResponse:
    """The refusal in the caller's language: a registered channel's own protocol (CKAN), problem+json (API),
    GeoReport array (Open311), a page."""
    for prefixes, answer in _CHANNEL_ANSWERS:
        if request.path.startswith(prefixes):
            return answer(request, exc)
    if is_api(request):
        from .apiutils import problem

        extra = {"errors": exc.errors} if exc.errors else {}
        status = exc.status
        if request.path in OAUTH_ENDPOINTS:  # RFC 6749 §5.2: a malformed request is 400 invalid_request
            status = 400 if status == 422 else status
            extra["error"] = "invalid_request"
        return problem(request, status, exc.title, exc.detail, **extra)
    if is_open311(request):
        status = 413 if exc.status == 413 else 400
        return JsonResponse(
            [{"code": status, "description": _described(exc)}],
            status=status,
            safe=False,
            json_dumps_params={"ensure_ascii": False},
        )
    status = 413 if exc.status == 413 else 400
    body = render_to_string(
        "core/bad_request.html",
        {"status": status, "title": exc.title, "detail": exc.detail, "errors": exc.errors},
        request=request,
    )
    return HttpResponse(body, status=status)


def _problem_json(response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "")
    return content_type.startswith("application/problem+json")


_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Cache-Control", "Vary")


def api_error_as_problem(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """An error answer under /api/ that is not problem+json (Django's 405, a CSRF or middleware refusal, a
    handler's plain JSON) becomes one, keeping the headers that matter."""
    if response.status_code < 400 or getattr(response, "streaming", False) or _problem_json(response):
        return response
    content_type = response.get("Content-Type", "")
    if content_type.startswith("application/json"):
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if isinstance(body, dict) and "title" in body and "status" in body:
            response["Content-Type"] = "application/problem+json"
            return response
    from .apiutils import problem

    replacement = problem(request, response.status_code, status_title(response.status_code))
    for header in _KEPT_HEADERS:
        if header in response:
            replacement[header] = response[header]
    for name, cookie in response.cookies.items():
        replacement.cookies[name] = cookie
    return replacement


def exception_as_bad_input(exception: BaseException) -> BadInput | None:
    """Exceptions that mean the request was bad, raised while a view read it."""
    if isinstance(exception, BadInput):
        return exception
    if isinstance(exception, RequestDataTooBig):
        return too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if isinstance(exception, MultiPartParserError):
        return not_parsed(_("multipart/form-data 请求体格式不正确（例如缺少 boundary）。"))
    if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
        return not_parsed(_("表单字段或文件数量过多。"))
    if isinstance(exception, OverflowError):
        return unprocessable(
            [{"field": "", "message": _("数值超出允许范围（64 位整数）。"), "code": "int_range"}]
        )
    return None


class EdgeMiddleware:
    """Refuses bad input before any view runs; keeps /api/ errors in problem+json."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            inspect_request(request)
        except BadInput as exc:
            log.info(
                "request refused at the edge",
                extra={"path": printable(request.path, 200), "status": exc.status, "reason": exc.detail},
            )
            return edge_response(request, exc)
        response = self.get_response(request)
        if is_api(request):
            response = api_error_as_problem(request, response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        bad = exception_as_bad_input(exception)
        if bad is None:
            return None
        log.info(
            "bad input raised in a view", extra={"path": printable(request.path, 200), "status": bad.status}
        )
        return edge_response(request, bad)
