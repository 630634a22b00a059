"""API plumbing shared by every app's router: authentication, declared permissions, problem+json errors."""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation, ValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer

from . import edge
from .logging import current_request_id
from .permissions import PUBLIC, Permission
from .principal import Principal
from .ratelimit import RateLimited, too_many_requests
from .urltree import url_tree

log = logging.getLogger("yiwang.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"


# --- authentication --------------------------------------------------------------------------------------
class BearerAuth(HttpBearer):
    """`Authorization: Bearer <token>` from POST /api/auth/token (account password or client credentials)."""

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        from .identity import principal_from_bearer

        return principal_from_bearer(token)


class SessionAuth(APIKeyCookie):
    """The page session, so the pages' own HTMX calls can use the API. Unsafe methods need the CSRF token."""

    param_name = "sessionid"

    def _get_key(self, request: HttpRequest):
        return None

    def authenticate(self, request: HttpRequest, key) -> Principal | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not request.session.get("mfa_ok", True):
            return None
        from .identity import principal_for_session

        return principal_for_session(user)

    def __call__(self, request: HttpRequest):
        # Always run authenticate (the cookie name may differ); CSRF is enforced for unsafe methods.
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            from django.middleware.csrf import CsrfViewMiddleware

            reason = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
            if reason is not None:
                return None
        return self.authenticate(request, None)


API_AUTH = [BearerAuth(), SessionAuth()]


# --- declared permissions --------------------------------------------------------------------------------
def requires(perm: Permission, *alternatives: Permission):
    """Declares (and enforces) the permission an API operation needs. Every operation must carry one.

    `alternatives` open the operation to holders of any of several permissions (a window clerk and an approver
    both act on cases); the first is the declared one, all of them are listed in `yiwang_permissions`."""
    perms = (perm, *alternatives)

    def decorate(func):
        @functools.wraps(func)
        def wrapper(request, *args, **kwargs):
            if perm is not PUBLIC:
                principal = getattr(request, "auth", None)
                if not isinstance(principal, Principal):
                    raise AuthenticationError()
                if not any(principal.has(p) for p in perms):
                    principal.require(perm)  # raises PermissionDenied naming the declared permission
            return func(request, *args, **kwargs)

        wrapper.yiwang_permission = perm
        wrapper.yiwang_permissions = perms
        return wrapper

    return decorate


def requires_any(*perms: Permission):
    """`requires(first, *rest)`: readable at call sites that list several permissions."""
    return requires(*perms)


def principal_of(request: HttpRequest) -> Principal:
    return request.auth


# --- problem+json ----------------------------------------------------------------------------------------
def problem(
    request: HttpRequest, status: int, title: str, detail: str = "", *, type_: str = "about:blank", **extra
) -> JsonResponse:
    body = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body["request_id"] = getattr(request, "request_id", "") or current_request_id()
    body.update(extra)
    return JsonResponse(
        body, status=status, content_type=PROBLEM_CONTENT_TYPE, json_dumps_params={"ensure_ascii": False}
    )


RECEIPT_RETRY_AFTER_SECONDS = 2


def receipt_items(rows, download_path) -> list[dict]:
    """The receipt list every API answers for an object's steps: one item per row (`entry`, `label`, `ready`, as the
    selectors' receipt rows carry them), with the download URL `download_path(entry)` gives."""
    return [
        {
            "entry_uuid": row.entry.uuid,
            "action": row.entry.action,
            "label": row.label,
            "occurred_at": row.entry.occurred_at,
            "ready": row.ready,
            "download_url": download_path(row.entry),
        }
        for row in rows
    ]


def receipt_download(request: HttpRequest, entry) -> HttpResponse:
    """The 存证回执 of one evidence entry as a JSON file (entry, inclusion proof, signed tree head); 409 with
    Retry-After while the sequencer has not integrated the entry into a signed head yet."""
    from .evidence.receipts import HEADS_PATH, receipt_build, receipt_filename, receipt_json

    receipt = receipt_build(entry, heads_url=request.build_absolute_uri(HEADS_PATH))
    if receipt is None:
        response = problem(
            request,
            409,
            _("存证尚未上链，请稍后"),
            _("该记录还未写入签名树头，通常一秒到一分钟内完成，请稍后再下载。"),
        )
        response["Retry-After"] = str(RECEIPT_RETRY_AFTER_SECONDS)
        return response
    response = HttpResponse(receipt_json(receipt), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{receipt_filename(receipt)}"'
    return response


def _field_errors_from_ninja(errors: list[dict]) -> list[dict]:
    out = []
    for err in errors:
        loc = [
            str(p)
            for p in err.get("loc", [])
            if p not in ("body", "query", "path", "payload", "form", "file")
        ]
        out.append(
            {"field": ".".join(loc), "message": _translate_pydantic(err), "code": err.get("type", "invalid")}
        )
    return out


def _translate_pydantic(err: dict) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    messages = {
        "missing": _("此项为必填项。"),
        "string_too_short": _("内容太短，至少 %(n)s 个字符。") % {"n": ctx.get("min_length", "")},
        "string_too_long": _("内容太长，最多 %(n)s 个字符。") % {"n": ctx.get("max_length", "")},
        "int_parsing": _("请输入整数。"),
        "float_parsing": _("请输入数字。"),
        "bool_parsing": _("请输入是或否。"),
        "date_from_datetime_parsing": _("日期格式应为 YYYY-MM-DD。"),
        "date_parsing": _("日期格式应为 YYYY-MM-DD。"),
        "uuid_parsing": _("标识格式不正确。"),
        "json_invalid": _("请求体不是有效的 JSON。"),
        "greater_than_equal": _("数值应不小于 %(n)s。") % {"n": ctx.get("ge", "")},
        "less_than_equal": _("数值应不大于 %(n)s。") % {"n": ctx.get("le", "")},
        "literal_error": _("取值不在允许范围内。"),
        "enum": _("取值不在允许范围内。"),
    }
    return messages.get(kind, err.get("msg", _("格式不正确。")))


def _field_errors_from_django(exc: ValidationError) -> list[dict]:
    if hasattr(exc, "error_dict"):
        return [
            {
                "field": field if field != "__all__" else "",
                "message": e.message % (e.params or {}) if e.params else e.message,
                "code": e.code or "invalid",
            }
            for field, errs in exc.error_dict.items()
            for e in errs
        ]
    return [
        {
            "field": "",
            "message": e.message % (e.params or {}) if e.params else e.message,
            "code": e.code or "invalid",
        }
        for e in exc.error_list
    ]


def _on_bad_input(request, exc):
    bad = edge.exception_as_bad_input(exc)
    if bad is None:  # another SuspiciousOperation (e.g. a disallowed host): a plain 400
        bad = edge.not_parsed(_("请求格式不正确。"))
    return edge.edge_response(request, bad)


def install_problem_handlers(api) -> None:
    @api.exception_handler(NinjaValidationError)
    def on_validation(request, exc):
        return problem(
            request,
            422,
            _("请求数据有误"),
            _("请按字段提示修改后重试。"),
            errors=_field_errors_from_ninja(exc.errors),
        )

    @api.exception_handler(ValidationError)
    def on_django_validation(request, exc):
        return problem(
            request,
            422,
            _("请求数据有误"),
            _("请按字段提示修改后重试。"),
            errors=_field_errors_from_django(exc),
        )

    @api.exception_handler(AuthenticationError)
    def on_auth(request, exc):
        response = problem(request, 401, _("需要登录"), _("请提供有效的访问令牌或先登录。"))
        response["WWW-Authenticate"] = 'Bearer realm="yiwang"'
        return response

    @api.exception_handler(PermissionDenied)
    def on_forbidden(request, exc):
        return problem(request, 403, _("无权访问"), str(exc) or _("您没有执行此操作的权限。"))

    @api.exception_handler(Http404)
    def on_not_found(request, exc):
        return problem(request, 404, _("未找到"), _("请求的资源不存在或您无权查看。"))

    @api.exception_handler(RateLimited)
    def on_rate_limited(request, exc):
        return too_many_requests(request, exc)

    @api.exception_handler(HttpError)
    def on_http_error(request, exc):
        # The body parser's refusals arrive wrapped by ninja ("Cannot parse request body"): answer the edge's own.
        if isinstance(exc.__cause__, edge.BadInput):
            return edge.edge_response(request, exc.__cause__)
        if exc.status_code == 400 and str(getattr(exc, "message", "")).startswith(
            "Cannot parse request body"
        ):
            return problem(request, 400, _("请求体无法解析"), _("请求体不是有效的 JSON。"))
        return problem(request, exc.status_code, str(exc.message) if hasattr(exc, "message") else str(exc))

    # Bad input found while an operation read the request (see core/edge.py): 400, 413 or 422, never a 500.
    for bad_input in (
        edge.BadInput,
        RequestDataTooBig,
        MultiPartParserError,
        SuspiciousOperation,
        OverflowError,
    ):
        api.add_exception_handler(bad_input, _on_bad_input)

    @api.exception_handler(DataError)
    def on_data_error(request, exc):
        # A value the database cannot hold (out of range, too long) that validation let through: the request's
        # fault as far as the caller can tell; logged so the missing validation gets added.
        log.warning("database refused a value", extra={"path": request.path, "error": str(exc)[:200]})
        return problem(
            request,
            422,
            _("请求数据有误"),
            _("提交的数值超出允许范围或内容过长。"),
            errors=[{"field": "", "message": _("数值超出允许范围或内容过长。"), "code": "out_of_range"}],
        )

    @api.exception_handler(Exception)
    def on_unexpected(request, exc):
        log.exception("unhandled API error", extra={"path": request.path})
        return problem(
            request, 500, _("服务器内部错误"), _("请稍后重试；如持续出现，请提供请求编号联系运维。")
        )


@csrf_exempt  # it acts on nothing; a POST with a valid token to an unknown route is a 404, not a CSRF 403
def api_not_found(request: HttpRequest) -> JsonResponse:
    """Unknown /api/ paths answer in problem+json too, not with the HTML 404 page."""
    return problem(request, 404, _("未找到"), _("没有这个接口：%(path)s") % {"path": request.path})


# --- the API's JSON parser: the edge rules, and the document's types -------------------------------------------
class YiwangParser(Parser):
    """Parses JSON bodies with the edge rules (core/edge.py) whatever the Content-Type (ninja reads any body as
    JSON), and refuses a boolean where the operation's OpenAPI request schema wants a number: pydantic's lax mode
    would read `true` as 1 (a rating, a coordinate, a message id)."""

    api: NinjaAPI | None = None

    def parse_body(self, request: HttpRequest):
        data = getattr(request, edge.JSON_ATTR, None)
        if data is None:
            data = edge.json_checked(request.body)
        api = self.api
        if api is not None and getattr(request, "path", None):
            schema = request_body_schema(api, request.method, request.path)
            if schema is not None:
                problems = boolean_problems(data, schema, api_components(api))
                if problems:
                    raise edge.unprocessable(problems)
        return data


def _openapi_document(api) -> dict:
    cached = getattr(api, "_yiwang_openapi_cache", None)
    if cached is None:
        cached = api.get_openapi_schema()
        api._yiwang_openapi_cache = cached
    return cached


def api_components(api) -> dict:
    return _openapi_document(api).get("components", {}).get("schemas", {})


def _body_routes(api) -> list[tuple[str, re.Pattern, dict]]:
    routes = getattr(api, "_yiwang_body_routes", None)
    if routes is None:
        routes = []
        for path, operations in _openapi_document(api).get("paths", {}).items():
            for method, operation in operations.items():
                content = (operation.get("requestBody") or {}).get("content") or {}
                schema = (content.get("application/json") or {}).get("schema")
                if schema is None:
                    continue
                pattern = re.compile(
                    "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$",
                )
                routes.append((method.upper(), pattern, schema, path.count("{")))
        routes.sort(key=lambda r: r[3])  # literal segments before parameters
        api._yiwang_body_routes = routes = [(m, p, s) for m, p, s, _n in routes]
    return routes


def request_body_schema(api, method: str, path: str) -> dict | None:
    for route_method, pattern, schema in _body_routes(api):
        if route_method == method and pattern.match(path):
            return schema
    return None


def _resolve(schema: Any, defs: dict) -> dict:
    for _hop in range(20):
        if not isinstance(schema, dict) or "$ref" not in schema:
            break
        schema = defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema if isinstance(schema, dict) else {}


def _alternatives(schema: dict, defs: dict) -> list[dict]:
    schema = _resolve(schema, defs)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return [alt for sub in schema[key] for alt in _alternatives(sub, defs)]
    return [schema]


def _admits_boolean(schema: dict, defs: dict) -> bool:
    for alt in _alternatives(schema, defs):
        kind = alt.get("type")
        if kind is None or kind == "boolean" or (isinstance(kind, list) and "boolean" in kind):
            return True
    return False


def _numeric(schema: dict, defs: dict) -> bool:
    return any(alt.get("type") in ("integer", "number") for alt in _alternatives(schema, defs))


def boolean_problems(data: Any, schema: dict, defs: dict) -> list[dict]:
    """[{field, message, code}] for each JSON true/false where `schema` admits no boolean."""
    problems: list[dict] = []
    stack: list[tuple[Any, dict, str, int]] = [(data, schema, "", 0)]
    while stack and len(problems) < edge.MAX_REPORTED:
        value, sub, path, depth = stack.pop()
        if depth > 64:
            continue
        if isinstance(value, bool):
            if not _admits_boolean(sub, defs):
                message = _("应为数字，不能是 true/false。") if _numeric(sub, defs) else _("取值类型不正确。")
                problems.append({"field": path, "message": message, "code": "type"})
            continue
        alternatives = _alternatives(sub, defs)
        if isinstance(value, dict):
            for alt in alternatives:
                if alt.get("type") == "object" or "properties" in alt:
                    properties = alt.get("properties") or {}
                    extra = alt.get("additionalProperties")
                    for key, item in value.items():
                        item_schema = properties.get(key, extra if isinstance(extra, dict) else None)
                        if item_schema is not None:
                            stack.append((item, item_schema, edge._join(path, key), depth + 1))
                    break
        elif isinstance(value, list):
            for alt in alternatives:
                if alt.get("type") == "array" and isinstance(alt.get("items"), dict):
                    for index, item in enumerate(value):
                        stack.append((item, alt["items"], edge._join(path, index), depth + 1))
                    break
    return problems


# --- the API object and its OpenAPI document -------------------------------------------------------------------
PROBLEM_SCHEMA_NAME = "Problem"
PROBLEM_REF = {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"}
PROBLEM_SCHEMAS = {
    PROBLEM_SCHEMA_NAME: {
        "title": "Problem",
        "description": "RFC 9457 application/problem+json；每个错误都带请求编号 request_id，便于查日志。",
        "type": "object",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string", "default": "about:blank"},
            "title": {"type": "string", "description": "中文错误标题"},
            "status": {"type": "integer", "description": "HTTP 状态码"},
            "detail": {"type": "string", "description": "中文错误说明"},
            "instance": {"type": "string", "description": "请求路径"},
            "request_id": {"type": "string", "description": "请求编号（与响应头 X-Request-ID 相同）"},
            "errors": {
                "type": "array",
                "description": "422 等：逐字段的错误",
                "items": {"$ref": "#/components/schemas/ProblemFieldError"},
            },
            "retry_after": {"type": "integer", "description": "429：多少秒后可重试"},
        },
        "additionalProperties": True,
    },
    "ProblemFieldError": {
        "title": "ProblemFieldError",
        "type": "object",
        "required": ["field", "message", "code"],
        "properties": {
            "field": {"type": "string", "description": "出错的字段（以 . 连接的路径）；为空表示整体错误"},
            "message": {"type": "string", "description": "中文错误说明"},
            "code": {"type": "string", "description": "错误代码"},
        },
    },
}
ERROR_DESCRIPTIONS = {
    400: "请求无法解析（JSON 格式或嵌套层数、multipart 格式）",
    401: "需要登录：缺少或无效的访问令牌",
    403: "无权访问：缺少所需权限",
    404: "资源不存在或无权查看",
    409: "与资源当前状态冲突",
    413: "请求体过大",
    422: "请求数据有误：逐字段说明见 errors",
    429: "请求过于频繁：按 Retry-After 秒后重试",
}
_ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer 认证方式"}},
    429: {"Retry-After": {"schema": {"type": "integer"}, "description": "多少秒后可重试"}},
}


def _problem_response(status: int, description: str | None = None) -> dict:
    response = {
        "description": description or ERROR_DESCRIPTIONS.get(status) or edge.status_title(status),
        "content": {PROBLEM_CONTENT_TYPE: {"schema": dict(PROBLEM_REF)}},
    }
    if status in _ERROR_HEADERS:
        response["headers"] = _ERROR_HEADERS[status]
    return response


def operation_error_statuses(operation) -> set[int]:
    """The error statuses an operation can answer whatever its own code does: the edge's 400/413/422, the
    rate limiter's 429, 401 when it authenticates, 403 when it needs a permission, 404 when a path names a
    resource."""
    statuses = {400, 413, 422, 429}
    permission = getattr(operation.view_func, "yiwang_permission", None)
    public = permission == PUBLIC
    if operation.auth_callbacks or not public:
        statuses.add(401)
    if not public:
        statuses.add(403)
    if any(getattr(model, "__ninja_param_source__", None) == "path" for model in operation.models):
        statuses.add(404)
    return statuses


class YiwangOpenAPISchema(OpenAPISchema):
    """The OpenAPI document as the API behaves: every error is application/problem+json (one `Problem`
    schema), and every operation lists the error statuses the platform may answer (`operation_error_statuses`)."""

    def operation_details(self, operation) -> dict:
        result = super().operation_details(operation)
        responses = result["responses"]
        for status in list(responses):
            if int(status) >= 400:
                responses[status] = _problem_response(int(status), responses[status].get("description"))
        for status in operation_error_statuses(operation):
            if status not in responses and str(status) not in responses:
                responses[status] = _problem_response(status)
        result["responses"] = dict(sorted(responses.items(), key=lambda item: int(item[0])))
        return result

    def get_components(self) -> dict:
        components = super().get_components()
        components.setdefault("schemas", {}).update(PROBLEM_SCHEMAS)
        return components


class YiwangAPI(NinjaAPI):
    """NinjaAPI with the edge's JSON parser and an OpenAPI document that declares every error it answers."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("parser", YiwangParser())
        super().__init__(*args, **kwargs)
        if isinstance(self.parser, YiwangParser):
            self.parser.api = self

    def _get_urls(self):
        return url_tree(super()._get_urls())

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None):
        """Built once per path prefix and process: the routers are fixed at import, and building the document
        walks every operation's schemas (seconds). Its texts are lazy translations, rendered per request."""
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        cache = self.__dict__.setdefault("_yiwang_openapi_by_prefix", {})
        document = cache.get(path_prefix)
        if document is None:
            document = cache[path_prefix] = YiwangOpenAPISchema(api=self, path_prefix=path_prefix)
        return document
