"""API: 我的数据 (/api/mydata) — the holder's data space, uses of their data, consents (授权用数) and 数据资产凭证.

Holders (SELF_SERVICE: a citizen, or an enterprise user for its organisation) read what the government holds about
them, every use of their data through the gateway (keyset, newest first; covert uses only once their date has
come), give and revoke consents and get the signed receipt, issue, download and revoke vouchers. Another holder's
consent or voucher answers 404. `POST /vouchers/verify` is public and rate-limited (`data_voucher_verify`): the
body is the voucher file. Staff auditors (DATA_AUDIT) read all uses of a subject with `POST /audit/uses` (the ID
number travels in the body, never in the URL), audited with its purpose.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, problem, requires
from yiwang.core.permissions import DATA_AUDIT, PUBLIC, SELF_SERVICE
from yiwang.core.ratelimit import rate_limit
from yiwang.core.schemas import ProblemOut

from .models import Consent, DataVoucher
from .selectors import mydata as sel
from .services.consent import consent_give, consent_revoke
from .services.mydata import data_uses_audit, voucher_issue, voucher_revoke
from .vouchers import MAX_VOUCHER_BYTES, platform_public_keys, voucher_file, voucher_file_parse

router = Router(tags=["我的数据"])
router.add_decorator(never_cache, mode="view")  # personal data: never cached

_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


# --- schemas ------------------------------------------------------------------------------------------------
class HoldingRowOut(Schema):
    label: str
    value: str = ""
    status: str = ""
    source: str = ""
    updated_at: datetime | None = None
    detail: str = ""


class SectionOut(Schema):
    key: str = Field(description="registry / licences / cases / entitlements")
    title: str
    source: str = Field(description="数源部门（各行另有来源时为空）")
    updated_at: datetime | None = None
    rows: list[HoldingRowOut]


class HoldingsOut(Schema):
    holder_kind: str = Field(description="person / organisation")
    sections: list[SectionOut]


class DataUseOut(Schema):
    request_id: str
    at: datetime
    system: str
    department: str
    resource: str
    operation: str
    purpose: str = Field(description="办件号、工单号或应用场景")
    fields: list[str] = Field(description="返回的信息项（名称）")
    outcome: str
    outcome_code: str
    consent_id: str = ""
    covert_until: date | None = Field(None, description="依法暂缓告知至（已解除时显示）")
    covert_lifted: bool = False
    covert_hidden: bool = Field(False, description="仍在暂缓告知期内（仅审计人员可见）")


class UsePageOut(Schema):
    items: list[DataUseOut]
    next_cursor: str | None = None


class ItemIn(Schema):
    resource: str = Field(max_length=40, description="资源代码")
    fields: list[str] = Field(description="信息项字段名")


class ConsentIn(Schema):
    grantee_kind: str = Field(description="system（接入系统）或 third_party（银行、公用事业等第三方机构）")
    system_client_id: str = Field("", max_length=64, description="被授权接入系统的客户端标识")
    grantee_name: str = Field("", max_length=120, description="第三方机构名称")
    grantee_uscc: str = Field("", max_length=18, description="第三方机构统一社会信用代码")
    items: list[ItemIn] = Field(max_length=20)
    purpose: str = Field(max_length=200)
    valid_until: date = Field(description="授权截止日期（当日 23:59:59 失效；最长一年）")
    mode: str = Field("view", description="view 仅查看 / store 可留存")
    max_uses: int | None = Field(None, ge=1, le=1_000_000)
    data_life_days: int | None = Field(None, ge=1, le=3650, description="可留存方式下的留存期限（天）")


class ConsentOut(Schema):
    id: UUID
    grantee_kind: str
    grantee: str
    grantee_uscc: str = ""
    system_client_id: str = ""
    purpose: str
    items: list[dict[str, Any]]
    mode: str
    valid_from: datetime
    valid_until: datetime
    max_uses: int | None = None
    uses: int
    data_life_days: int | None = None
    status: str = Field(description="active / revoked / expired / used_up")
    revoked_at: datetime | None = None


class ConsentPageOut(Schema):
    items: list[ConsentOut]
    next_cursor: str | None = None


class ReceiptOut(Schema):
    record: dict[str, Any] = Field(description="授权记录（ISO/IEC TS 27560 / Kantara 字段）")
    signature_sm2: str
    key_id: str
    public_key_hex: str
    status: str
    revoked_at: datetime | None = None
    audit_uuid: str = ""


class MydataRevokeIn(Schema):
    reason: str = Field("", max_length=200)


class VoucherItemIn(Schema):
    source: str = Field(
        description="person（人口基础信息）/ organisation（法人基础信息）/ licences（电子证照）"
    )
    fields: list[str] = Field(default_factory=list, description="信息项；空表示该来源的全部信息项")


class VoucherIn(Schema):
    items: list[VoucherItemIn] = Field(max_length=5)
    valid_days: int = Field(90, ge=1, le=366)
    purpose: str = Field("", max_length=200)


class VoucherOut(Schema):
    id: UUID
    items: list[dict[str, Any]]
    digest: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    status: str = Field(description="valid / revoked / expired")


class VoucherPageOut(Schema):
    items: list[VoucherOut]
    next_cursor: str | None = None


class CheckItemOut(Schema):
    name: str
    provider: str
    records: list[list[dict[str, str]]]


class VoucherCheckOut(Schema):
    result: str = Field(
        description="valid 有效 / invalid 签名无效 / revoked 已作废 / expired 已过期 / unknown 非本平台签发"
    )
    code: str
    voucher_id: str = ""
    issuer: str = ""
    issued_at: str = ""
    expires_at: str = ""
    revoked_at: datetime | None = None
    key_id: str = ""
    holder: str = Field("", description="持有人（自然人姓名已脱敏）")
    items: list[CheckItemOut] = Field(default_factory=list)


class KeyOut(Schema):
    key_id: str
    public_key_hex: str = Field(description="SM2 公钥，未压缩点（04‖x‖y），十六进制")


class AuditIn(Schema):
    id_number: str = Field("", max_length=20, description="公民身份号码（二者填一）")
    uscc: str = Field("", max_length=18, description="统一社会信用代码（二者填一）")
    purpose: str = Field(max_length=200, description="查询用途（记入审计日志）")
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)


class AuditOut(Schema):
    subject: str
    found: bool
    items: list[DataUseOut]
    next_cursor: str | None = None


# --- helpers ------------------------------------------------------------------------------------------------
def _consent_out(c: Consent) -> dict:
    return {
        "id": c.public_id,
        "grantee_kind": c.grantee_kind,
        "grantee": c.grantee_name,
        "grantee_uscc": c.grantee_uscc,
        "system_client_id": c.grantee_system.client_id if c.grantee_system_id else "",
        "purpose": c.purpose,
        "items": c.items,
        "mode": c.mode,
        "valid_from": c.valid_from,
        "valid_until": c.valid_until,
        "max_uses": c.max_uses,
        "uses": c.uses,
        "data_life_days": c.data_life_days,
        "status": getattr(c, "display_status", None) or sel.consent_display_status(c),
        "revoked_at": c.revoked_at,
    }


def _voucher_out(v: DataVoucher) -> dict:
    return {
        "id": v.public_id,
        "items": v.items,
        "digest": v.digest,
        "issued_at": v.issued_at,
        "expires_at": v.expires_at,
        "revoked_at": v.revoked_at,
        "status": sel.voucher_state(v),
    }


def _use_out(row) -> dict:
    return {
        "request_id": row.request_id,
        "at": row.at,
        "system": row.system,
        "department": row.department,
        "resource": row.resource,
        "operation": str(row.operation),
        "purpose": row.purpose,
        "fields": row.fields,
        "outcome": str(row.outcome),
        "outcome_code": row.outcome_code,
        "consent_id": row.consent_id,
        "covert_until": row.covert_until,
        "covert_lifted": row.covert_lifted,
        "covert_hidden": row.covert_hidden,
    }


# --- holdings and uses --------------------------------------------------------------------------------------
@router.get("/holdings", response={200: HoldingsOut, **_ERRORS}, summary="政府掌握的本人（本单位）数据")
@requires(SELF_SERVICE)
def holdings(request: HttpRequest):
    principal = principal_of(request)
    sections = sel.holdings(principal)
    return {
        "holder_kind": sel.holder_of(principal).kind,
        "sections": [
            {
                "key": s.key,
                "title": str(s.title),
                "source": str(s.source),
                "updated_at": s.updated_at,
                "rows": [
                    {k: (str(v) if k in ("label", "value", "status", "detail") else v) for k, v in r.items()}
                    for r in s.rows
                ],
            }
            for s in sections
        ],
    }


@router.get(
    "/uses", response={200: UsePageOut, **_ERRORS}, summary="本人（本单位）数据的使用记录，按时间倒序"
)
@requires(SELF_SERVICE)
def uses(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.uses_mine(principal_of(request), cursor=cursor, limit=limit)
    return {"items": [_use_out(r) for r in page.items], "next_cursor": page.next_cursor}


# --- consents -----------------------------------------------------------------------------------------------
@router.get("/consents", response={200: ConsentPageOut, **_ERRORS}, summary="我的授权用数")
@requires(SELF_SERVICE)
def consents_list(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.consents_mine(principal_of(request), cursor=cursor, limit=limit)
    return {"items": [_consent_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/consents",
    response={201: ConsentOut, **_ERRORS},
    summary="授权接入系统或第三方机构使用本人（本单位）数据",
)
@requires(SELF_SERVICE)
def consents_give(request: HttpRequest, payload: ConsentIn):
    consent = consent_give(
        actor=principal_of(request),
        grantee_kind=payload.grantee_kind,
        system_client_id=payload.system_client_id,
        grantee_name=payload.grantee_name,
        grantee_uscc=payload.grantee_uscc,
        items=[{"resource": i.resource, "fields": i.fields} for i in payload.items],
        purpose=payload.purpose,
        valid_until=timezone.make_aware(datetime.combine(payload.valid_until, time(23, 59, 59))),
        mode=payload.mode,
        max_uses=payload.max_uses,
        data_life_days=payload.data_life_days,
        method="api",
    )
    return Status(201, _consent_out(consent))


@router.get("/consents/{consent_id}", response={200: ConsentOut, **_ERRORS}, summary="一项授权")
@requires(SELF_SERVICE)
def consents_get(request: HttpRequest, consent_id: str):
    return _consent_out(sel.consent_mine_get(principal_of(request), consent_id))


@router.get(
    "/consents/{consent_id}/receipt",
    response={200: ReceiptOut, **_ERRORS},
    summary="授权回执（签名的授权记录，可下载保存）",
)
@requires(SELF_SERVICE)
def consents_receipt(request: HttpRequest, consent_id: str):
    consent = sel.consent_mine_get(principal_of(request), consent_id)
    return sel.consent_receipt(consent)


@router.post(
    "/consents/{consent_id}/revoke", response={200: ConsentOut, **_ERRORS}, summary="撤回授权（立即生效）"
)
@requires(SELF_SERVICE)
def consents_revoke(request: HttpRequest, consent_id: str, payload: MydataRevokeIn):
    principal = principal_of(request)
    consent = consent_revoke(
        actor=principal, consent=sel.consent_mine_get(principal, consent_id), reason=payload.reason
    )
    return _consent_out(consent)


# --- vouchers -----------------------------------------------------------------------------------------------
@router.get("/vouchers", response={200: VoucherPageOut, **_ERRORS}, summary="我的数据资产凭证")
@requires(SELF_SERVICE)
def vouchers_list(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.vouchers_mine(principal_of(request), cursor=cursor, limit=limit)
    return {"items": [_voucher_out(v) for v in page.items], "next_cursor": page.next_cursor}


@router.post("/vouchers", response={201: VoucherOut, **_ERRORS}, summary="申领数据资产凭证（签名数据包）")
@requires(SELF_SERVICE)
def vouchers_issue(request: HttpRequest, payload: VoucherIn):
    voucher = voucher_issue(
        actor=principal_of(request),
        items=[{"source": i.source, "fields": i.fields} for i in payload.items],
        valid_days=payload.valid_days,
        purpose=payload.purpose,
    )
    return Status(201, _voucher_out(voucher))


@router.get("/vouchers/keys", response=list[KeyOut], auth=None, summary="平台签名公钥（离线核验凭证用）")
@requires(PUBLIC)
def vouchers_keys(request: HttpRequest):
    return [{"key_id": k, "public_key_hex": v} for k, v in sorted(platform_public_keys().items())]


@router.post(
    "/vouchers/verify",
    response={200: VoucherCheckOut, 400: ProblemOut, 413: ProblemOut, 422: ProblemOut, 429: ProblemOut},
    auth=None,
    summary=gettext_lazy("核验数据资产凭证（请求体即凭证 JSON 文件）"),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object", "description": "数据资产凭证文件"}}
            },
        }
    },
)
@requires(PUBLIC)
def vouchers_verify(request: HttpRequest):
    rate_limit(request, scope="data_voucher_verify")
    body = request.body
    if len(body) > MAX_VOUCHER_BYTES:
        return problem(request, 413, _("请求体过大"), _("凭证文件不超过 1 MB。"))
    document = voucher_file_parse(body)
    if document is None:
        return problem(request, 422, _("不是有效的凭证文件"), _("请求体应为数据资产凭证 JSON 文件。"))
    return sel.voucher_verify(document).as_dict()


@router.get("/vouchers/{voucher_id}", response={200: VoucherOut, **_ERRORS}, summary="一份凭证")
@requires(SELF_SERVICE)
def vouchers_get(request: HttpRequest, voucher_id: str):
    return _voucher_out(sel.voucher_mine_get(principal_of(request), voucher_id))


@router.get("/vouchers/{voucher_id}/file", response={200: dict, **_ERRORS}, summary="下载凭证文件（JSON）")
@requires(SELF_SERVICE)
def vouchers_file(request: HttpRequest, voucher_id: str):
    voucher = sel.voucher_mine_get(principal_of(request), voucher_id)
    response = JsonResponse(voucher_file(voucher), json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'attachment; filename="data-voucher-{voucher.public_id}.json"'
    return response


@router.post("/vouchers/{voucher_id}/revoke", response={200: VoucherOut, **_ERRORS}, summary="作废凭证")
@requires(SELF_SERVICE)
def vouchers_revoke(request: HttpRequest, voucher_id: str, payload: MydataRevokeIn):
    principal = principal_of(request)
    voucher = voucher_revoke(
        actor=principal, voucher=sel.voucher_mine_get(principal, voucher_id), reason=payload.reason
    )
    return _voucher_out(voucher)


# --- staff audit --------------------------------------------------------------------------------------------
@router.post(
    "/audit/uses",
    response={200: AuditOut, **_ERRORS},
    summary="审计：某一数据主体的全部数据使用记录（含暂缓告知的调用；查询记入审计）",
)
@requires(DATA_AUDIT)
def audit_uses(request: HttpRequest, payload: AuditIn):
    result = data_uses_audit(
        actor=principal_of(request),
        id_number=payload.id_number,
        uscc=payload.uscc,
        purpose=payload.purpose,
        cursor=payload.cursor,
        limit=payload.limit,
    )
    return {
        "subject": result.subject_label,
        "found": result.found,
        "items": [_use_out(r) for r in result.page.items],
        "next_cursor": result.page.next_cursor,
    }
