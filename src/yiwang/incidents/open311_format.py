"""The wire formats of Open311 GeoReport v2: XML (the spec's required format) and JSON, with the spec's element
names, UTF-8 with `charset=utf-8` on every response, and the spec's error array for every error.

JSON follows the Spark convention the spec prescribes (https://wiki.open311.org/JSON_and_XML_Conversion): a list
is a JSON array, and in XML a list becomes a parent element with one child per item named after the list
(`services` → `service`, `service_requests` → `request`, `errors` → `error`…). `None` is an empty element in
XML and `null` in JSON; booleans are `true`/`false`.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from xml.etree import ElementTree

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

FORMATS = ("json", "xml")
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# The element of each item of a list, by the list's element name.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}
# Characters XML 1.0 cannot carry (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF).
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def format_of(request: HttpRequest) -> str:
    """The format a request asked for: the URL's `.json`/`.xml` suffix (JSON when it names neither)."""
    chosen = getattr(request, "open311_format", None)
    if chosen in FORMATS:
        return chosen
    return "xml" if request.path.lower().endswith(".xml") else "json"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return XML_INVALID.sub("\ufffd", str(value))


def _fill(element: ElementTree.Element, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ElementTree.SubElement(element, key), item)
    elif isinstance(value, list | tuple):
        tag = ITEM_TAGS.get(element.tag, "item")
        for item in value:
            _fill(ElementTree.SubElement(element, tag), item)
    else:
        element.text = _text(value)


def to_xml(root: str, data) -> bytes:
    """`data` as a GeoReport XML document whose root element is `root`."""
    element = ElementTree.Element(root)
    _fill(element, data)
    return (XML_DECLARATION + ElementTree.tostring(element, encoding="unicode")).encode("utf-8")


def to_json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8", "replace")


def respond(
    request: HttpRequest, root: str, data, *, status: int = 200, headers: dict | None = None
) -> HttpResponse:
    """`data` in the format the request asked for; `root` names the XML root element."""
    if format_of(request) == "xml":
        response = HttpResponse(to_xml(root, data), status=status, content_type=XML_CONTENT_TYPE)
    else:
        response = HttpResponse(to_json(data), status=status, content_type=JSON_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(
    request: HttpRequest, status: int, *descriptions: str, headers: dict | None = None
) -> HttpResponse:
    """The GeoReport error answer: `[{"code": status, "description": …}, …]` (XML: `<errors><error>…`) with the
    same HTTP status. Anything answering for a path under /open311/ (a middleware too) answers through this."""
    errors = [{"code": status, "description": str(d)} for d in descriptions if d] or [
        {"code": status, "description": _status_text(status)}
    ]
    response = respond(request, "errors", errors, status=status, headers=headers)
    response["Cache-Control"] = "no-store"
    response.open311_error = True
    return response


def _status_text(status: int) -> str:
    texts = {
        400: _("请求有误，无法处理。"),
        401: _("需要有效的 api_key。"),
        403: _("无权访问：api_key 无效或缺少所需授权。"),
        404: _("没有这个 Open311 资源。"),
        405: _("不支持该请求方法。"),
        413: _("请求体过大。"),
        422: _("请求数据有误。"),
        429: _("请求过于频繁，请稍后再试。"),
        500: _("服务器内部错误，请稍后再试。"),
        503: _("服务暂不可用，请稍后再试。"),
    }
    if status in texts:
        return texts[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return str(status)


def _descriptions_of(response: HttpResponse) -> list[str]:
    """What another layer said in its error answer (a GeoReport array, problem+json), to say it again."""
    if not response.get("Content-Type", "").startswith(("application/json", "application/problem+json")):
        return []
    try:
        body = json.loads(response.content)
    except ValueError:
        return []
    if isinstance(body, list):
        return [str(e["description"]) for e in body if isinstance(e, dict) and e.get("description")]
    if isinstance(body, dict):
        return [str(body.get("detail") or body.get("title") or "")]
    return []


class Open311ErrorMiddleware:
    """Every error answer under /open311/ leaves in the GeoReport format the URL asked for — whoever made it: an
    Open311 view, a refusal at the edge (bad input, too large a body), a rate limit, a CSRF failure, Django's
    own 404 or 500 — keeping what it said and the headers that matter. In settings.MIDDLEWARE right after
    LocaleMiddleware: inside the security and CSP headers, outside everything that may refuse a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not request.path.startswith("/open311/")
            or response.status_code < 400
            or getattr(response, "open311_error", False)
            or getattr(response, "streaming", False)
        ):
            return response
        status = 400 if response.status_code == 422 else response.status_code  # the spec's "any other error"
        replacement = error_response(request, status, *_descriptions_of(response))
        for header, value in response.items():  # Allow, Retry-After, X-Frame-Options, Vary…
            if header.lower() not in ("content-type", "content-length", "cache-control"):
                replacement[header] = value
        for name, cookie in response.cookies.items():
            replacement.cookies[name] = cookie
        return replacement
