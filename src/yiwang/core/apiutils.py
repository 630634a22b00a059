"""API plumbing shared by every app's router: authentication, declared permissions, problem+json errors."""

from __future__ import annotations

import functools
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer

from .logging import current_request_id
from .permissions import PUBLIC, Permission
from .principal import Principal

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
        return Principal.for_account(user)

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

    @api.exception_handler(HttpError)
    def on_http_error(request, exc):
        return problem(request, exc.status_code, str(exc.message) if hasattr(exc, "message") else str(exc))

    @api.exception_handler(Exception)
    def on_unexpected(request, exc):
        log.exception("unhandled API error", extra={"path": request.path})
        return problem(
            request, 500, _("服务器内部错误"), _("请稍后重试；如持续出现，请提供请求编号联系运维。")
        )


def api_not_found(request: HttpRequest) -> JsonResponse:
    """Unknown /api/ paths answer in problem+json too, not with the HTML 404 page."""
    return problem(request, 404, _("未找到"), _("没有这个接口：%(path)s") % {"path": request.path})
