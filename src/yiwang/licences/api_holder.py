"""API: 我的证照 (holder), mounted at /api/licences/mine.

A citizen reads their own licences, an enterprise account its organisation's; anybody else gets 404 for a licence
(issuer staff use /api/licences/issuer, grantees /api/licences/grants). Downloads (PDF, offline file) and 亮证
are audited; 质量异议 are raised here and resolved by the issuing department (LICENCE_ISSUE) under /disputes.
Every answer of this router carries `Cache-Control: no-store` (personal data).

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import LICENCE_ISSUE, SELF_SERVICE
from yiwang.core.schemas import ProblemOut

from . import selectors_holder as sel
from .codes import verify_code_display
from .pdf import ordered_face
from .schemas import LicenceEventOut
from .services import disputes as dispute_services
from .services import holder as holder_services
from .signing import licence_file

router = Router(tags=["licences"])
router.add_decorator(never_cache, mode="view")  # every answer here is personal: never stored by any cache

_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


# --- schemas -------------------------------------------------------------------------------------------------
class FaceFieldOut(Schema):
    label: str
    value: str


class HolderLicenceOut(Schema):
    id: UUID
    identifier: str
    type_code: str
    type_name: str
    issuer_code: str = Field(
        description="已弃用：实为签发部门的部门编码，请改用 issuer_department_code（签发接口的同名字段是统一社会信用代码）",
        json_schema_extra={"deprecated": True},
    )
    issuer_department_code: str = Field(description="签发部门的部门编码")
    issuer_uscc: str = Field(description="签发部门的统一社会信用代码（签名内容中的 issuer.code）")
    issuer_name: str
    holder_name: str
    issued_on: date
    expires_on: date | None = None
    status: str = Field(description="valid / suspended / revoked / expired / superseded")
    status_label: str
    status_reason: str
    version: int

    @staticmethod
    def resolve_id(obj) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_type_code(obj) -> str:
        return obj.licence_type.code

    @staticmethod
    def resolve_type_name(obj) -> str:
        return obj.licence_type.name

    @staticmethod
    def resolve_issuer_code(obj) -> str:
        return obj.issuer.code

    @staticmethod
    def resolve_issuer_department_code(obj) -> str:
        return obj.issuer.code

    @staticmethod
    def resolve_issuer_uscc(obj) -> str:
        return obj.issuer.uscc

    @staticmethod
    def resolve_issuer_name(obj) -> str:
        return obj.issuer.name

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())


class HolderLicenceDetailOut(HolderLicenceOut):
    face: dict = Field(description="照面要素（名称 → 值）")
    face_fields: list[FaceFieldOut] = Field(description="照面要素，按版式顺序（标签、值）")
    seal_name: str
    verify_url: str = Field(description="公开核验页面地址（二维码内容）")
    verify_code: str = Field(
        description="核验码（印在证照上）：他人凭证照标识和核验码可在核验页面查看公开的照面信息"
    )
    supersedes: str | None = Field(None, description="本版本更正自的证照标识")
    superseded_by: str | None = Field(None, description="取代本版本的更正证照标识")
    history: list[LicenceEventOut]

    @staticmethod
    def resolve_face_fields(obj) -> list[dict]:
        return [{"label": label, "value": value} for label, value in ordered_face(obj)]

    @staticmethod
    def resolve_seal_name(obj) -> str:
        return obj.seal.name

    @staticmethod
    def resolve_verify_url(obj, context) -> str:
        return _verify_url(context["request"], obj.verify_token)

    @staticmethod
    def resolve_verify_code(obj) -> str:
        return verify_code_display(obj.verify_code)

    @staticmethod
    def resolve_supersedes(obj) -> str | None:
        return obj.versions["older"].identifier if obj.versions["older"] else None

    @staticmethod
    def resolve_superseded_by(obj) -> str | None:
        return obj.versions["newer"].identifier if obj.versions["newer"] else None

    @staticmethod
    def resolve_history(obj) -> list:
        return sel.licence_history(obj)


class HolderLicencePage(Schema):
    items: list[HolderLicenceOut]
    next_cursor: str | None = None


class LicenceFileSeal(Schema):
    key_id: str
    name: str
    department: str
    public_key_hex: str = Field(description="SM2 公钥，未压缩点（04‖x‖y），十六进制")


class LicenceFileOut(Schema):
    """The offline verification file (format yiwang-licence/1, licences.signing.licence_file)."""

    payload: dict[str, Any] = Field(
        description="签名数据：format、identifier、type、issuer、holder（含证件号码）、face（全部照面要素）、"
        "issued_on、expires_on、version、seal"
    )
    digest_sm3: str
    signature_sm2: str = Field(description="SM2 签名（DER，十六进制）")
    seal: LicenceFileSeal


PDF_RESPONSE = {
    200: {
        "description": "证照 PDF（附件下载）",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class MineQuery(Schema):
    status: str | None = Field(
        None, description="按状态筛选：valid / suspended / revoked / expired / superseded"
    )
    cursor: str | None = Field(None, max_length=CURSOR_MAX)
    limit: int = Field(20, ge=1, le=100)


class ShowOut(Schema):
    token: str
    url: str = Field(description="亮证二维码内容：核验页面地址")
    expires_at: datetime


class DisputeIn(Schema):
    fields: list[str] = Field(
        description="有误的要素名称（照面要素名，或 holder_name / issued_on / expires_on）"
    )
    description: str = Field(description="异议说明（最多 1000 字）")


class DisputeOut(Schema):
    id: UUID
    licence_identifier: str
    fields: list[str]
    description: str
    status: str = Field(description="open 待处理 / corrected 已更正 / rejected 不予更正")
    resolution: str
    created_at: datetime
    resolved_at: datetime | None = None
    corrected_licence: str | None = Field(None, description="更正后新版本的证照标识")

    @staticmethod
    def resolve_id(obj) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_licence_identifier(obj) -> str:
        return obj.licence.identifier

    @staticmethod
    def resolve_corrected_licence(obj) -> str | None:
        return obj.corrected_licence.identifier if obj.corrected_licence_id else None


class DisputePage(Schema):
    items: list[DisputeOut]
    next_cursor: str | None = None


class DisputeQuery(Schema):
    status: str = Field("open", description="open / corrected / rejected / all")
    cursor: str | None = Field(None, max_length=CURSOR_MAX)
    limit: int = Field(20, ge=1, le=100)


class ResolveIn(Schema):
    correct: bool = Field(description="true 更正（签发新版本，原证照被取代）；false 不予更正")
    face: dict[str, str | int | float | bool | None] | None = Field(
        None, description="更正时：要修改的照面要素（名称 → 新值），未给出的沿用原值"
    )
    resolution: str = Field(description="处理意见（不予更正时即理由）")


def _verify_url(request, token: str) -> str:
    from .views_holder import verify_url

    return verify_url(request, token)


def _detail(licence):
    licence.versions = sel.licence_versions(licence)
    return licence


# --- holder --------------------------------------------------------------------------------------------------
@router.get(
    "/", response={200: HolderLicencePage, **_ERRORS}, summary="我的证照（本人或本单位），按签发先后倒序"
)
@requires(SELF_SERVICE)
def licence_mine_list(request: HttpRequest, query: Query[MineQuery]):
    page = sel.licences_mine(
        principal_of(request), status=query.status, cursor=query.cursor, limit=query.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/disputes",
    response={200: DisputePage, **_ERRORS},
    summary="签发部门：本部门（含下属）证照的质量异议",
)
@requires(LICENCE_ISSUE)
def dispute_list(request: HttpRequest, query: Query[DisputeQuery]):
    page = sel.disputes_for_issuer(
        principal_of(request),
        status=None if query.status == "all" else query.status,
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post(
    "/disputes/{uuid:dispute_id}/resolve",
    response={200: DisputeOut, **_ERRORS},
    summary="签发部门处理质量异议：更正（新版本）或不予更正（附理由）",
)
@requires(LICENCE_ISSUE)
def dispute_resolve(request: HttpRequest, dispute_id: UUID, payload: ResolveIn):
    principal = principal_of(request)
    dispute = sel.dispute_for_issuer(principal, dispute_id)
    dispute = dispute_services.dispute_resolve(
        actor=principal,
        dispute=dispute,
        correct=payload.correct,
        face=payload.face,
        resolution=payload.resolution,
    )
    return sel.dispute_for_issuer(principal, dispute.public_id)


@router.get(
    "/{uuid:licence_id}",
    response={200: HolderLicenceDetailOut, **_ERRORS},
    summary="我的一张证照：照面、核验码、记录",
)
@requires(SELF_SERVICE)
def licence_mine_get(request: HttpRequest, licence_id: UUID):
    licence = sel.licence_mine_get(principal_of(request), licence_id)
    return _detail(licence)


@router.get(
    "/{uuid:licence_id}/pdf",
    response=_ERRORS,
    openapi_extra={"responses": PDF_RESPONSE},
    summary="下载证照 PDF（含电子印章、核验码与核验二维码）",
)
@requires(SELF_SERVICE)
def licence_mine_pdf(request: HttpRequest, licence_id: UUID):
    from .pdf import licence_pdf

    principal = principal_of(request)
    licence = sel.licence_mine_get(principal, licence_id)
    holder_services.licence_download(actor=principal, licence=licence, kind="pdf")
    response = HttpResponse(
        licence_pdf(licence, _verify_url(request, licence.verify_token)), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{licence.identifier}.pdf"'
    return response


@router.get(
    "/{uuid:licence_id}/file",
    response={200: LicenceFileOut, **_ERRORS},
    summary="下载离线核验文件（yiwang-licence/1：签名数据、SM3 摘要、SM2 签名、印章公钥）",
)
@requires(SELF_SERVICE)
def licence_mine_file(request: HttpRequest, licence_id: UUID):
    principal = principal_of(request)
    licence = sel.licence_mine_get(principal, licence_id)
    holder_services.licence_download(actor=principal, licence=licence, kind="file")
    response = HttpResponse(
        json.dumps(licence_file(licence), ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{licence.identifier}.json"'
    return response


@router.post(
    "/{uuid:licence_id}/show",
    response={201: ShowOut, **_ERRORS},
    summary="亮证：生成 5 分钟内有效的核验二维码令牌",
)
@requires(SELF_SERVICE)
def licence_mine_show(request: HttpRequest, licence_id: UUID):
    principal = principal_of(request)
    licence = sel.licence_mine_get(principal, licence_id)
    token = holder_services.licence_show(actor=principal, licence=licence)
    return Status(
        201,
        {"token": token.token, "url": _verify_url(request, token.token), "expires_at": token.expires_at},
    )


@router.post(
    "/{uuid:licence_id}/disputes",
    response={201: DisputeOut, **_ERRORS},
    summary="对本人证照提出质量异议（有效证照，每证同一时间一件待处理）",
)
@requires(SELF_SERVICE)
def licence_mine_dispute(request: HttpRequest, licence_id: UUID, payload: DisputeIn):
    principal = principal_of(request)
    licence = sel.licence_mine_get(principal, licence_id)
    dispute = dispute_services.dispute_raise(
        actor=principal, licence=licence, fields=payload.fields, description=payload.description
    )
    return Status(201, dispute)
