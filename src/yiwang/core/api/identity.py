"""API: identity — the OAuth 2.0-style token endpoint, token revocation and "who am I".

POST /api/auth/token accepts JSON or application/x-www-form-urlencoded (what OAuth client libraries send):
- grant_type=password: username, password, and totp when the account must use the second factor;
- grant_type=client_credentials: client_id and client_secret (in the body or as HTTP Basic), optional scope
  (space separated, a subset of the system's grant).
"""

from __future__ import annotations

import base64
import binascii
import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema

from ..apiutils import principal_of, problem, requires
from ..permissions import PUBLIC, SELF_SERVICE
from ..ratelimit import client_key, rate_limit
from ..schemas import ProblemOut
from ..services.identity import (
    AuthFailure,
    IssuedToken,
    account_profile,
    api_token_issue_for_password,
    api_token_issue_for_system,
    api_token_revoke_presented,
)

router = Router(tags=["identity"])


class TokenOut(Schema):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str


class NamedCode(Schema):
    code: str
    label: str


class DepartmentRef(Schema):
    code: str
    name: str


class OrganisationRef(Schema):
    uscc: str
    name: str


class MeOut(Schema):
    kind: str
    kind_label: str
    username: str
    name: str
    roles: list[NamedCode]
    permissions: list[str]
    department: DepartmentRef | None = None
    organisation: OrganisationRef | None = None
    second_factor_required: bool
    totp_enrolled: bool


_TOKEN_FIELDS = {
    "grant_type": {"type": "string", "enum": ["password", "client_credentials"]},
    "username": {"type": "string", "description": "password 模式：用户名"},
    "password": {"type": "string", "description": "password 模式：口令"},
    "totp": {"type": "string", "description": "password 模式：须双因素的账户填写 6 位动态口令"},
    "client_id": {"type": "string", "description": "client_credentials 模式：客户端标识"},
    "client_secret": {"type": "string", "description": "client_credentials 模式：客户端密钥"},
    "scope": {"type": "string", "description": "client_credentials 模式：以空格分隔的授权范围，缺省为全部"},
}
_TOKEN_BODY = {"type": "object", "required": ["grant_type"], "properties": _TOKEN_FIELDS}
_TOKEN_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _TOKEN_BODY},
            "application/x-www-form-urlencoded": {"schema": _TOKEN_BODY},
        },
    }
}


def _params(request: HttpRequest) -> dict[str, str] | None:
    """The request's parameters from JSON or a form body; None when a JSON body does not parse."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict):
            return None
        return {k: v if isinstance(v, str) else str(v) for k, v in data.items() if v is not None}
    return {k: request.POST.get(k, "") for k in request.POST}


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    """client_secret_basic (RFC 6749 §2.3.1): `Authorization: Basic base64(client_id:client_secret)`."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def _bad_request(request: HttpRequest, detail: str, error: str, missing: list[str] | None = None):
    extra = {"error": error}
    if missing:
        extra["errors"] = [{"field": f, "message": _("此项为必填项。"), "code": "missing"} for f in missing]
    return problem(request, 400, _("令牌请求有误"), detail, **extra)


def _token_response(issued: IssuedToken) -> JsonResponse:
    response = JsonResponse(
        {
            "access_token": issued.token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": " ".join(issued.scopes),
        }
    )
    # RFC 6749 §5.1: token responses must not be cached.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def _failure_response(request: HttpRequest, exc: AuthFailure) -> JsonResponse:
    titles = {401: _("认证失败"), 400: _("授权范围无效")}
    extra = {"error": exc.error}
    response = problem(request, exc.status, titles.get(exc.status, _("认证失败")), exc.message, **extra)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="yiwang"'
    response["Cache-Control"] = "no-store"
    return response


@router.post(
    "/token",
    auth=None,
    response={200: TokenOut, 400: ProblemOut, 401: ProblemOut, 429: ProblemOut},
    summary="换取访问令牌（账户口令或接入系统客户端凭证）",
    openapi_extra=_TOKEN_OPENAPI,
)
@requires(PUBLIC)
def token(request: HttpRequest):
    rate_limit(request, scope="token")
    params = _params(request)
    if params is None:
        return _bad_request(request, _("请求体不是有效的 JSON 对象。"), "invalid_request")
    grant = params.get("grant_type", "")
    ip = client_key(request)
    try:
        if grant == "password":
            missing = [f for f in ("username", "password") if not params.get(f)]
            if missing:
                return _bad_request(request, _("请填写用户名和口令。"), "invalid_request", missing)
            issued = api_token_issue_for_password(
                username=params["username"],
                password=params["password"],
                totp=params.get("totp") or None,
                ip=ip,
            )
        elif grant == "client_credentials":
            basic = _basic_credentials(request)
            client_id, secret = basic or (params.get("client_id", ""), params.get("client_secret", ""))
            missing = [f for f, v in (("client_id", client_id), ("client_secret", secret)) if not v]
            if missing:
                return _bad_request(request, _("请提供客户端标识和密钥。"), "invalid_request", missing)
            scopes = params.get("scope", "").split() or None
            issued = api_token_issue_for_system(client_id=client_id, client_secret=secret, scopes=scopes)
        else:
            return _bad_request(
                request,
                _("grant_type 应为 password 或 client_credentials。"),
                "unsupported_grant_type" if grant else "invalid_request",
                None if grant else ["grant_type"],
            )
    except AuthFailure as exc:
        return _failure_response(request, exc)
    return _token_response(issued)


@router.post("/revoke", auth=None, response={204: None, 401: ProblemOut}, summary="吊销本次请求所用的令牌")
@requires(PUBLIC)
def revoke(request: HttpRequest):
    # Public at the framework level: presenting the live token is the authority to revoke it (RFC 7009).
    header = request.headers.get("Authorization", "")
    scheme, _sep, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not api_token_revoke_presented(token=presented.strip()):
        response = problem(request, 401, _("需要登录"), _("请在 Authorization 头中提供要吊销的有效令牌。"))
        response["WWW-Authenticate"] = 'Bearer realm="yiwang"'
        return response
    return HttpResponse(status=204)


@router.get("/me", response=MeOut, summary="当前登录账户")
@requires(SELF_SERVICE)
def me(request: HttpRequest):
    return account_profile(principal=principal_of(request))
