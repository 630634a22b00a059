"""API: 数据资产登记 (/api/datahub/assets).

Data officers (DATA_STEWARD) draft, edit and submit an asset of their department, file a change or a transfer of a
registered one, cancel it; the big-data centre (DATA_CENTRE) returns, rejects or registers, and approves or
rejects changes and transfers. Each step has a receipt (`/{id}/receipts`). The certificate file
(`/{id}/certificate`) is the signed payload with the platform key's id and public key.

Public and rate-limited (no login): `GET /verify?number=&code=` (登记编号 + 核验码) and `POST /verify` (the body
is the certificate file); both answer the result (valid / superseded / cancelled / invalid / unknown / not_found)
and only the registration's public facts.

Scoping (selectors.assets): the holder department's officers (and those of departments above it) and the centre;
anybody else 404. Errors are problem+json: 401, 403, 404, 409 (stale `expected_version` or a step the state does
not allow), 422 (field errors; nothing written).

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, problem, receipt_download, receipt_items, requires
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD, PUBLIC
from yiwang.core.ratelimit import rate_limit_per
from yiwang.core.schemas import ProblemOut

from .asset_certificate import MAX_FILE_BYTES, asset_file, asset_file_parse, verify_code_display
from .models.assets import DataAsset
from .selectors import assets as sel
from .services.assets import (
    AssetConflict,
    asset_actions,
    asset_cancel,
    asset_change_decide,
    asset_change_request,
    asset_create,
    asset_review,
    asset_submit,
    asset_update,
)

router = Router(tags=["数据资产登记"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}
_WRITE = {**_READ, 409: ProblemOut}
VERIFY_SCOPE = "data_asset_verify"
VERIFY_RATE = "30/minute"


# --- schemas -------------------------------------------------------------------------------------------------------
class SourceIn(Schema):
    resource: str = Field(max_length=64, description="资源的 public id（UUID）或资源代码")
    legal_basis: str = Field(max_length=4000, description="来源合法性依据")


class AssetIn(Schema):
    name: str = Field(max_length=200, description="数据产品名称")
    description: str = Field(max_length=4000, description="产品说明")
    producer: str = Field(max_length=120, description="加工单位")
    sources: list[SourceIn] = Field(max_length=20)
    rights: list[str] = Field(
        max_length=3, description="holding / processing / operation（经营权须同时登记加工使用权）"
    )
    valuation_note: str = Field("", max_length=4000)
    compliance_note: str = Field("", max_length=4000)


class AssetPatchIn(Schema):
    expected_version: int | None = Field(None, description="读取时的 version；不一致时 409")
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=4000)
    producer: str | None = Field(None, max_length=120)
    sources: list[SourceIn] | None = Field(None, max_length=20)
    rights: list[str] | None = Field(None, max_length=3)
    valuation_note: str | None = Field(None, max_length=4000)
    compliance_note: str | None = Field(None, max_length=4000)


class AssetVersionIn(Schema):
    expected_version: int | None = None


class AssetReviewIn(Schema):
    expected_version: int | None = None
    review: str = Field(max_length=4000, description="合规审查意见")


class AssetReasonIn(Schema):
    expected_version: int | None = None
    reason: str = Field(max_length=4000)


class ChangeIn(Schema):
    expected_version: int | None = None
    note: str = Field(max_length=4000, description="变更理由")
    description: str | None = Field(None, max_length=4000)
    valuation_note: str | None = Field(None, max_length=4000)
    compliance_note: str | None = Field(None, max_length=4000)
    rights: list[str] | None = Field(None, max_length=3)
    sources: list[SourceIn] | None = Field(None, max_length=20)


class TransferIn(Schema):
    expected_version: int | None = None
    note: str = Field(max_length=4000, description="转让理由")
    to_department: str = Field("", max_length=40, description="受让部门代码（平台部门）")
    to_uscc: str = Field("", max_length=30, description="受让企业统一社会信用代码（GB 32100）")
    to_name: str = Field("", max_length=120, description="受让企业名称（平台法人库有该代码时以库为准）")


class SourceOut(Schema):
    resource_id: UUID
    code: str
    name: str
    provider: str
    legal_basis: str
    grant: str = Field("", description="使用他部门资源时的共享授权编号")


class AssetEventOut(Schema):
    seq: int
    action: str
    label: str
    from_status: str
    to_status: str
    note: str
    actor: str
    at: datetime
    detail: dict[str, Any] = {}
    receipt_entry: UUID | None = None


class AssetOut(Schema):
    id: UUID
    number: str = ""
    name: str
    holder: dict[str, str]
    producer: str
    rights: list[str]
    status: str
    status_label: str
    version: int = Field(description="登记版本（证书版本）")
    row_version: int = Field(description="乐观锁版本：写操作时作为 expected_version 传回")
    registered_at: datetime | None = None
    created_at: datetime


class AssetDetailOut(AssetOut):
    description: str
    valuation_note: str
    compliance_note: str
    compliance_review: str
    pending_change: dict[str, Any] = {}
    verify_code: str = Field("", description="核验码（仅持有部门与中心可见）")
    sources: list[SourceOut]
    events: list[AssetEventOut]
    actions: list[str]


class AssetPageOut(Schema):
    items: list[AssetOut]
    next_cursor: str | None = None


class AssetReceiptItemOut(Schema):
    entry_uuid: UUID
    action: str
    label: str
    occurred_at: datetime
    ready: bool
    download_url: str


class AssetVerifyOut(Schema):
    result: str = Field(description="valid / superseded / cancelled / invalid / unknown / not_found")
    number: str = ""
    version: int | None = None
    current_version: int | None = None
    name: str = ""
    holder_name: str = ""
    holder_uscc: str = ""
    producer: str = ""
    rights: list[str] = []
    sources: list[dict[str, str]] = []
    registered_at: str = ""
    status: str = ""
    code: str = ""


# --- shaping -------------------------------------------------------------------------------------------------------
def _out(asset: DataAsset) -> dict:
    return {
        "id": asset.public_id,
        "number": asset.number or "",
        "name": asset.name,
        "holder": {"code": asset.holder.code, "name": asset.holder_name, "uscc": asset.holder_uscc},
        "producer": asset.producer,
        "rights": list(asset.rights),
        "status": asset.status,
        "status_label": str(DataAsset.Status(asset.status).label),
        "version": asset.version,
        "row_version": asset.row_version,
        "registered_at": asset.registered_at,
        "created_at": asset.created_at,
    }


def _detail(principal, asset: DataAsset) -> dict:
    return {
        **_out(asset),
        "description": asset.description,
        "valuation_note": asset.valuation_note,
        "compliance_note": asset.compliance_note,
        "compliance_review": asset.compliance_review,
        "pending_change": asset.pending_change or {},
        "verify_code": verify_code_display(asset.verify_code),
        "sources": [
            {
                "resource_id": s.resource.public_id,
                "code": s.resource.code,
                "name": s.resource.name,
                "provider": s.resource.provider.name,
                "legal_basis": s.legal_basis,
                "grant": s.grant.number if s.grant else "",
            }
            for s in sel.asset_sources(asset)
        ],
        "events": [
            {
                "seq": e.seq,
                "action": e.action,
                "label": e.label,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
                "actor": e.actor_label,
                "at": e.created_at,
                "detail": _public_detail(e.detail),
                "receipt_entry": e.audit_uuid,
            }
            for e in sel.asset_events(asset)
        ],
        "actions": asset_actions(principal, asset),
    }


def _public_detail(detail: dict) -> dict:
    """An event's detail without the bulky certificate copy (the file endpoint serves the current one)."""
    return {k: v for k, v in (detail or {}).items() if k not in ("certificate", "signature")}


def _sources(items) -> list[dict] | None:
    if items is None:
        return None
    return [{"resource": s.resource, "legal_basis": s.legal_basis} for s in items]


def _run(request: HttpRequest, func, **kwargs):
    """Runs a service step; a stale version or a step the state does not allow answers 409."""
    principal = principal_of(request)
    try:
        asset = func(actor=principal, **kwargs)
    except AssetConflict as exc:
        return problem(request, 409, _("数据资产状态已变化"), " ".join(exc.messages))
    return _detail(principal, sel.asset_get(principal, asset.public_id))


# --- public verification (before the {id} routes) -------------------------------------------------------------
@router.get(
    "/verify",
    response={200: AssetVerifyOut, 404: ProblemOut, 429: ProblemOut},
    auth=None,
    summary="核验数据资产登记证书（登记编号 + 核验码）",
)
@requires(PUBLIC)
def verify_number(
    request: HttpRequest,
    number: str = Query("", max_length=40, description="登记编号"),
    code: str = Query("", max_length=20, description="核验码"),
):
    from yiwang.core.ratelimit import client_key

    rate_limit_per(scope=VERIFY_SCOPE, key=client_key(request), rate=VERIFY_RATE)
    result = sel.asset_verify_number(number, code)
    if result.result == "not_found":  # a wrong code and an unknown number answer alike
        return problem(request, 404, _("没有找到"), _("登记编号或核验码不正确。"))
    return result.as_dict()


@router.post(
    "/verify",
    response={200: AssetVerifyOut, 413: ProblemOut, 422: ProblemOut, 429: ProblemOut},
    auth=None,
    summary=gettext_lazy("核验数据资产登记证书文件（请求体即证书 JSON 文件）"),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "description": "登记证书文件"}}},
        }
    },
)
@requires(PUBLIC)
def verify_file(request: HttpRequest):
    from yiwang.core.ratelimit import client_key

    rate_limit_per(scope=VERIFY_SCOPE, key=client_key(request), rate=VERIFY_RATE)
    body = request.body
    if len(body) > MAX_FILE_BYTES:
        return problem(request, 413, _("请求体过大"), _("证书文件不超过 256 KB。"))
    document = asset_file_parse(body)
    if document is None:
        return problem(request, 422, _("不是有效的证书文件"), _("请求体应为数据资产登记证书 JSON 文件。"))
    return sel.asset_verify_file(document).as_dict()


# --- lists and drafting --------------------------------------------------------------------------------------------
@router.get(
    "", response={200: AssetPageOut, **_READ}, summary="数据资产列表（本部门持有的；中心可看全部与待审）"
)
@requires(DATA_STEWARD, DATA_CENTRE)
def assets_list(
    request: HttpRequest,
    tab: str = Query("", description="mine 本部门 / queue 待中心审核 / all"),
    status: str = Query("", description="状态"),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    if tab and tab not in sel.TABS:
        raise ValidationError({"tab": _("取值不在允许范围内。")})
    if status and status not in DataAsset.Status.values:
        raise ValidationError({"status": _("取值不在允许范围内。")})
    page = sel.assets_visible(principal_of(request), tab=tab, status=status, cursor=cursor, limit=limit)
    return {"items": [_out(a) for a in page.items], "next_cursor": page.next_cursor}


@router.post("", response={201: AssetDetailOut, **_WRITE}, summary="登记数据资产（草稿）")
@requires(DATA_STEWARD)
def assets_create(request: HttpRequest, payload: AssetIn):
    principal = principal_of(request)
    asset = asset_create(
        actor=principal,
        name=payload.name,
        description=payload.description,
        producer=payload.producer,
        sources=_sources(payload.sources),
        rights=payload.rights,
        valuation_note=payload.valuation_note,
        compliance_note=payload.compliance_note,
    )
    return Status(201, _detail(principal, sel.asset_get(principal, asset.public_id)))


@router.get("/{uuid:asset_id}", response={200: AssetDetailOut, **_READ}, summary="数据资产详情（含历史）")
@requires(DATA_STEWARD, DATA_CENTRE)
def assets_get(request: HttpRequest, asset_id: UUID):
    principal = principal_of(request)
    return _detail(principal, sel.asset_get(principal, asset_id))


@router.patch("/{uuid:asset_id}", response={200: AssetDetailOut, **_WRITE}, summary="修改草稿或退回的登记")
@requires(DATA_STEWARD)
def assets_update(request: HttpRequest, asset_id: UUID, payload: AssetPatchIn):
    asset = sel.asset_get(principal_of(request), asset_id)
    values = payload.dict(exclude_unset=True)
    expected = values.pop("expected_version", None)
    if "sources" in values:
        values["sources"] = _sources(payload.sources)
    values = {k: v for k, v in values.items() if v is not None}
    return _run(request, asset_update, asset=asset, expected_version=expected, **values)


@router.post(
    "/{uuid:asset_id}/submit", response={200: AssetDetailOut, **_WRITE}, summary="提交大数据中心审核"
)
@requires(DATA_STEWARD)
def assets_submit(request: HttpRequest, asset_id: UUID, payload: AssetVersionIn):
    asset = sel.asset_get(principal_of(request), asset_id)
    return _run(request, asset_submit, asset=asset, expected_version=payload.expected_version)


def _review(request: HttpRequest, asset_id: UUID, payload: AssetReviewIn, decision: str):
    asset = sel.asset_get(principal_of(request), asset_id)
    return _run(
        request,
        asset_review,
        asset=asset,
        decision=decision,
        review=payload.review,
        expected_version=payload.expected_version,
    )


@router.post("/{uuid:asset_id}/return", response={200: AssetDetailOut, **_WRITE}, summary="中心：退回补正")
@requires(DATA_CENTRE)
def assets_return(request: HttpRequest, asset_id: UUID, payload: AssetReviewIn):
    return _review(request, asset_id, payload, "return")


@router.post("/{uuid:asset_id}/reject", response={200: AssetDetailOut, **_WRITE}, summary="中心：不予登记")
@requires(DATA_CENTRE)
def assets_reject(request: HttpRequest, asset_id: UUID, payload: AssetReviewIn):
    return _review(request, asset_id, payload, "reject")


@router.post(
    "/{uuid:asset_id}/register", response={200: AssetDetailOut, **_WRITE}, summary="中心：准予登记并签发证书"
)
@requires(DATA_CENTRE)
def assets_register(request: HttpRequest, asset_id: UUID, payload: AssetReviewIn):
    return _review(request, asset_id, payload, "register")


# --- after registration ----------------------------------------------------------------------------------------------
@router.post("/{uuid:asset_id}/changes", response={200: AssetDetailOut, **_WRITE}, summary="申请变更登记内容")
@requires(DATA_STEWARD)
def assets_change(request: HttpRequest, asset_id: UUID, payload: ChangeIn):
    asset = sel.asset_get(principal_of(request), asset_id)
    values = payload.dict(exclude_unset=True, exclude={"expected_version", "note"})
    if "sources" in values:
        values["sources"] = _sources(payload.sources)
    values = {k: v for k, v in values.items() if v is not None}
    return _run(
        request,
        asset_change_request,
        asset=asset,
        kind="change",
        note=payload.note,
        values=values,
        expected_version=payload.expected_version,
    )


@router.post("/{uuid:asset_id}/transfer", response={200: AssetDetailOut, **_WRITE}, summary="申请转让")
@requires(DATA_STEWARD)
def assets_transfer(request: HttpRequest, asset_id: UUID, payload: TransferIn):
    asset = sel.asset_get(principal_of(request), asset_id)
    return _run(
        request,
        asset_change_request,
        asset=asset,
        kind="transfer",
        note=payload.note,
        values={
            "to_department": payload.to_department,
            "to_uscc": payload.to_uscc,
            "to_name": payload.to_name,
        },
        expected_version=payload.expected_version,
    )


@router.post(
    "/{uuid:asset_id}/changes/approve",
    response={200: AssetDetailOut, **_WRITE},
    summary="中心：准予变更或转让（签发新版证书）",
)
@requires(DATA_CENTRE)
def assets_change_approve(request: HttpRequest, asset_id: UUID, payload: AssetReviewIn):
    asset = sel.asset_get(principal_of(request), asset_id)
    return _run(
        request,
        asset_change_decide,
        asset=asset,
        approve=True,
        review=payload.review,
        expected_version=payload.expected_version,
    )


@router.post(
    "/{uuid:asset_id}/changes/reject",
    response={200: AssetDetailOut, **_WRITE},
    summary="中心：不予变更或转让",
)
@requires(DATA_CENTRE)
def assets_change_reject(request: HttpRequest, asset_id: UUID, payload: AssetReviewIn):
    asset = sel.asset_get(principal_of(request), asset_id)
    return _run(
        request,
        asset_change_decide,
        asset=asset,
        approve=False,
        review=payload.review,
        expected_version=payload.expected_version,
    )


@router.post(
    "/{uuid:asset_id}/cancel", response={200: AssetDetailOut, **_WRITE}, summary="注销（或撤回草稿）"
)
@requires(DATA_STEWARD, DATA_CENTRE)
def assets_cancel(request: HttpRequest, asset_id: UUID, payload: AssetReasonIn):
    asset = sel.asset_get(principal_of(request), asset_id)
    return _run(
        request, asset_cancel, asset=asset, reason=payload.reason, expected_version=payload.expected_version
    )


# --- certificate and receipts ------------------------------------------------------------------------------------------
@router.get(
    "/{uuid:asset_id}/certificate",
    response={200: dict, **_READ},
    summary="下载登记证书文件（JSON：签名内容、SM2 签名、平台公钥）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def assets_certificate(request: HttpRequest, asset_id: UUID):
    asset = sel.asset_get(principal_of(request), asset_id)
    if not asset.certificate:
        raise ValidationError({"asset": _("该数据资产尚未登记，没有登记证书。")})
    document = asset_file(asset, receipt_entry=sel.asset_registration_entry_uuid(asset))
    response = JsonResponse(document, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = (
        f'attachment; filename="data-asset-{asset.number}-v{asset.version}.json"'
    )
    return response


def receipt_download_path(asset: DataAsset, entry) -> str:
    return f"/api/datahub/assets/{asset.public_id}/receipts/{entry.uuid}"


@router.get(
    "/{uuid:asset_id}/receipts",
    response={200: list[AssetReceiptItemOut], **_READ},
    summary="每一步的存证回执",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def assets_receipts(request: HttpRequest, asset_id: UUID):
    asset = sel.asset_get(principal_of(request), asset_id)
    return receipt_items(sel.asset_receipts(asset), lambda entry: receipt_download_path(asset, entry))


@router.get(
    "/{uuid:asset_id}/receipts/{uuid:entry_uuid}",
    response={200: dict, 409: ProblemOut, **_READ},
    summary="下载存证回执（JSON：记录、包含证明、签名树头）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def assets_receipt_get(request: HttpRequest, asset_id: UUID, entry_uuid: UUID):
    asset = sel.asset_get(principal_of(request), asset_id)
    entry = sel.asset_receipt_entry(asset, entry_uuid)
    return receipt_download(request, entry)
