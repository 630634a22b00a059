"""API: 数据共享网关 /api/gateway/v1, for registered systems (client-credentials bearer token, scope data.gateway).

Every operation goes through the pipeline of `datahub.gateway` (live grant, rate limit, purpose, fields, row
filter, consent, masks, call log + evidence log) and answers with `request_id` (also the `X-Request-ID` header)
and `response_hash` = SM3(canonical request ‖ canonical response).

Keys: a person's ID number or an organisation's USCC never appears in a URL (nor so in access logs): those are
sent in POST bodies (`POST /resources/{code}/query`, `/verify`, `/compare`). `GET /resources/{code}/records/{key}`
serves only resources whose key is not about a person or organisation (divisions, statistics, licence ids are
refused there too as they name a holder): for the others it answers 400 and the call is logged as invalid.

Purpose: the `purpose` field of the body, else the `X-Purpose` header (percent-encoded UTF-8 for Chinese text):
the grant's scenario, a case number of the calling system's department, or the number of an incident assigned
to it. Consent: `X-Consent-Id` header (or `consent_id` in the body) for grants that require the subject's consent.

Response hash: `response_hash` = SM3(canonical(request) ‖ canonical(response without response_hash)), canonical =
compact JSON, keys sorted, UTF-8 (`datahub.gateway.canonical_json`), where request is
{"operation", "resource", "purpose", then for query "key", "fields" (as sent, or null), "consent_id" (or null); for
verify "key", "claims", "consent_id"; for compare "key", "values", "consent_id"; for batch "after", "limit",
"fields"}. A caller keeps both and can prove later which answer its request got; the call log keeps the hash.

Rate limit: every call under a grant counts against its `rate_per_minute` (moving window, shared by every node
through Redis), refused ones included; over it → 429 with Retry-After, nothing read.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from typing import Any
from urllib.parse import unquote
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema

from yiwang.core.apiutils import principal_of, problem, requires
from yiwang.core.logging import request_id_var
from yiwang.core.permissions import DATA_GATEWAY
from yiwang.core.schemas import ProblemOut

from . import gateway as pipeline
from .gateway_platform import gateway_live_grants

router = Router(tags=["数据共享网关"])
router.add_decorator(never_cache, mode="view")

_ERRORS = {
    400: ProblemOut,
    401: ProblemOut,
    403: ProblemOut,
    404: ProblemOut,
    422: ProblemOut,
    429: ProblemOut,
}


# --- schemas ------------------------------------------------------------------------------------------------------
class QueryIn(Schema):
    key: str = Field(
        max_length=80, description="查询键：身份证号、统一社会信用代码、证照标识、区划代码或统计键"
    )
    fields: list[str] | None = Field(
        None, description="要返回的信息项（须在共享授权内）；不填返回全部授权信息项"
    )
    purpose: str | None = Field(
        None, max_length=200, description="用途：办件编号、工单号或应用场景；也可用 X-Purpose 请求头"
    )
    consent_id: UUID | None = Field(None, description="数据主体授权编号（也可用 X-Consent-Id 请求头）")


class GatewayVerifyIn(Schema):
    key: str = Field(max_length=80, description="查询键")
    claims: dict[str, Any] = Field(
        description='待核验的断言 {信息项: 值}；区划代码类信息项判断是否位于该区划（含下级），如 {"division_code": "440113003001"}'
    )
    purpose: str | None = Field(None, max_length=200)
    consent_id: UUID | None = None


class CompareIn(Schema):
    key: str = Field(max_length=80, description="查询键")
    values: dict[str, Any] = Field(description="提交比对的值 {信息项: 值}")
    purpose: str | None = Field(None, max_length=200)
    consent_id: UUID | None = None


class QueryOut(Schema):
    request_id: UUID = Field(description="调用编号（与响应头 X-Request-ID 相同）")
    resource: str = Field(description="资源代码")
    record: dict[str, Any] = Field(description="按共享授权脱敏后的信息项")
    masks: dict[str, str] = Field(description="各信息项所用脱敏方式（Apache Ranger 名称）")
    response_hash: str = Field(description="SM3(规范化请求 ‖ 规范化应答) 十六进制")


class GatewayVerifyOut(Schema):
    request_id: UUID
    resource: str
    results: dict[str, bool] = Field(description="{信息项: 是否成立}；不返回任何数据（可用不可见）")
    response_hash: str


class CompareOut(Schema):
    request_id: UUID
    resource: str
    results: dict[str, str] = Field(description="{信息项: match / mismatch}")
    response_hash: str


class GatewayBatchOut(Schema):
    request_id: UUID
    resource: str
    items: list[dict[str, Any]]
    masks: dict[str, str]
    next_cursor: str | None = Field(None, description="下一页游标（不透明）；无下一页时为 null")
    response_hash: str


class GrantFieldOut(Schema):
    name: str
    mask: str


class GatewayGrantOut(Schema):
    number: str = Field(description="授权编号")
    resource: str = Field(description="资源代码")
    resource_name: str
    provider: str = Field(description="提供部门编码")
    scenario: str
    fields: list[GrantFieldOut]
    row_filter: dict[str, Any]
    rate_per_minute: int
    requires_consent: bool
    valid_from: str
    valid_until: str


# --- plumbing -----------------------------------------------------------------------------------------------------
def _system(request: HttpRequest):
    principal = principal_of(request)
    if not principal.is_system:
        raise PermissionDenied(_("数据共享网关只接受接入系统的客户端凭证令牌。"))
    return principal.system


def _purpose(request: HttpRequest, given: str | None) -> str | None:
    if given:
        return given
    header = request.headers.get("X-Purpose", "")
    return unquote(header)[:400] if header else None


def _consent_id(request: HttpRequest, given) -> str | None:
    if given:
        return str(given)
    header = request.headers.get("X-Consent-Id", "").strip()
    return header[:64] or None


def _call(request: HttpRequest, operation, **kwargs):
    request_id = pipeline.new_request_id()
    request.request_id = str(request_id)
    token = request_id_var.set(str(request_id))  # the evidence-log entry and log lines carry the call's id
    try:
        result = operation(system=_system(request), request_id=request_id, **kwargs)
    except pipeline.GatewayRefused as refused:
        response = problem(
            request,
            refused.status,
            refused.title,
            refused.detail,
            **refused.extra,
            **({"retry_after": refused.retry_after} if refused.retry_after else {}),
        )
        if refused.retry_after:
            response["Retry-After"] = str(refused.retry_after)
        response["X-Request-ID"] = str(refused.request_id)
        return response
    finally:
        request_id_var.reset(token)
    response = JsonResponse(result.body, json_dumps_params={"ensure_ascii": False})
    response["X-Request-ID"] = str(result.request_id)
    return response


# --- operations ---------------------------------------------------------------------------------------------------
@router.post(
    "/resources/{code}/query",
    response={200: QueryOut, **_ERRORS},
    summary="查询：按查询键返回一条记录（按授权脱敏）",
)
@requires(DATA_GATEWAY)
def query(request: HttpRequest, code: str, payload: QueryIn):
    return _call(
        request,
        pipeline.gateway_query,
        resource_code=code,
        key=payload.key,
        fields=payload.fields,
        purpose=_purpose(request, payload.purpose),
        consent_id=_consent_id(request, payload.consent_id),
    )


@router.get(
    "/resources/{code}/records/{key}",
    response={200: QueryOut, **_ERRORS},
    summary="查询（非个人、非法人键）：区划代码、统计键",
)
@requires(DATA_GATEWAY)
def query_by_path(request: HttpRequest, code: str, key: str, fields: str = "", purpose: str = ""):
    return _call(
        request,
        pipeline.gateway_query,
        resource_code=code,
        key=key,
        fields=[f for f in fields.split(",") if f] or None,
        purpose=_purpose(request, purpose),
        consent_id=_consent_id(request, None),
        key_in_url=True,
    )


@router.post(
    "/resources/{code}/verify",
    response={200: GatewayVerifyOut, **_ERRORS},
    summary="核验：断言是否成立（可用不可见，不返回数据）",
)
@requires(DATA_GATEWAY)
def verify(request: HttpRequest, code: str, payload: GatewayVerifyIn):
    return _call(
        request,
        pipeline.gateway_verify,
        resource_code=code,
        key=payload.key,
        claims=payload.claims,
        purpose=_purpose(request, payload.purpose),
        consent_id=_consent_id(request, payload.consent_id),
    )


@router.post(
    "/resources/{code}/compare",
    response={200: CompareOut, **_ERRORS},
    summary="比对：提交值与登记值逐项比对（match / mismatch）",
)
@requires(DATA_GATEWAY)
def compare(request: HttpRequest, code: str, payload: CompareIn):
    return _call(
        request,
        pipeline.gateway_compare,
        resource_code=code,
        key=payload.key,
        values=payload.values,
        purpose=_purpose(request, payload.purpose),
        consent_id=_consent_id(request, payload.consent_id),
    )


class BatchQuery(Schema):
    after: str | None = Field(None, max_length=400, description="上一页的 next_cursor")
    limit: int = Field(100, ge=1, le=10000, description="每页行数（不超过资源分级的导出上限）")
    fields: str = Field("", max_length=2000, description="逗号分隔的信息项；不填返回全部授权信息项")
    purpose: str = Field("", max_length=400, description="用途（也可用 X-Purpose 请求头）")


@router.get(
    "/resources/{code}/records",
    response={200: GatewayBatchOut, **_ERRORS},
    summary="批量：按授权与行过滤分页返回记录（游标分页）",
)
@requires(DATA_GATEWAY)
def batch(request: HttpRequest, code: str, params: Query[BatchQuery]):
    return _call(
        request,
        pipeline.gateway_batch,
        resource_code=code,
        after=params.after,
        limit=params.limit,
        fields=[f for f in params.fields.split(",") if f] or None,
        purpose=_purpose(request, params.purpose),
    )


@router.get("/grants", response={200: list[GatewayGrantOut], **_ERRORS}, summary="本系统当前有效的共享授权")
@requires(DATA_GATEWAY)
def grants(request: HttpRequest):
    system = _system(request)
    return [
        GatewayGrantOut(
            number=g.number,
            resource=g.resource.code,
            resource_name=g.resource.name,
            provider=g.provider.code,
            scenario=g.scenario,
            fields=[GrantFieldOut(name=str(n), mask=str(m or "none")) for n, m in (g.fields or {}).items()],
            row_filter=g.row_filter or {},
            rate_per_minute=g.rate_per_minute,
            requires_consent=g.requires_consent,
            valid_from=g.valid_from.isoformat(),
            valid_until=g.valid_until.isoformat(),
        )
        for g in gateway_live_grants(system=system)
    ]
