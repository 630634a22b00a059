"""Issuer API (/api/licences/issuer): staff of the issuing department or a registered system with the scope
licence.issue issue licences (the holder named by 身份证号 / 统一社会信用代码 and looked up in the registries),
list and read their department tree's licences and suspend / resume / revoke them with a reason. Another
department's licence is a 404; without the permission a 403; invalid input a 422 with field errors.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import LICENCE_ISSUE
from yiwang.core.schemas import ProblemOut

from .models import Licence, LicenceType
from .schemas import LicenceEventOut
from .selectors import issuable_type_get, licence_history, licence_issued_get, licences_issued
from .services.core import holder_lookup, licence_issue, licence_set_status
from .signing import licence_verify_signature

router = Router(tags=["licences"])
router.add_decorator(never_cache, mode="view")  # holders' names, ID numbers and face fields: never cached

_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


class IssuerLicenceOut(Schema):
    id: UUID = Field(description="证照记录标识")
    identifier: str
    verify_token: str = Field(description="核验令牌（/licences/verify/<token>/）")
    type_code: str
    type_name: str
    issuer_code: str = Field(
        description="已弃用：实为签发部门的统一社会信用代码，请改用 issuer_uscc（持证人接口的同名字段是部门编码）",
        json_schema_extra={"deprecated": True},
    )
    issuer_uscc: str = Field(description="签发部门的统一社会信用代码（签名内容中的 issuer.code）")
    issuer_department_code: str = Field(description="签发部门的部门编码")
    holder_name: str
    face: dict[str, Any]
    issued_on: date
    expires_on: date | None = None
    status: str
    status_reason: str
    version: int
    seal_key_id: str
    signature_sm2: str
    digest_sm3: str

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
        return obj.issuer.uscc

    @staticmethod
    def resolve_issuer_uscc(obj) -> str:
        return obj.issuer.uscc

    @staticmethod
    def resolve_issuer_department_code(obj) -> str:
        return obj.issuer.code

    @staticmethod
    def resolve_seal_key_id(obj) -> str:
        return obj.seal.key_id

    @staticmethod
    def resolve_signature_sm2(obj) -> str:
        return obj.signature

    @staticmethod
    def resolve_digest_sm3(obj) -> str:
        return obj.digest


class IssuerLicenceDetailOut(IssuerLicenceOut):
    signature_ok: bool
    history: list[LicenceEventOut]


class IssuerLicencePage(Schema):
    items: list[IssuerLicenceOut]
    next_cursor: str | None = None


class IssuerListQuery(Schema):
    status: Licence.Status | None = None
    type_code: str | None = Field(None, max_length=40)
    cursor: str | None = Field(None, max_length=CURSOR_MAX)
    limit: int = Field(30, ge=1, le=200)


class IssueIn(Schema):
    type_code: str = Field(max_length=40, description="证照类型代码")
    holder_id: str = Field(max_length=30, description="持证人身份证号或持证单位统一社会信用代码")
    face: dict[str, Any] = Field(description="照面要素：名称 → 值")
    issued_on: date | None = Field(None, description="签发日期，默认今天")
    expires_on: date | None = Field(None, description="“签发时指定截止日期”的类型必填")


class StatusIn(Schema):
    action: Literal["suspend", "resume", "revoke"]
    reason: str = Field(max_length=300)


def _detail(licence: Licence) -> Licence:
    licence.signature_ok = licence_verify_signature(licence)
    licence.history = licence_history(licence)
    return licence


@router.post("/", response={201: IssuerLicenceDetailOut, **_ERRORS}, summary="签发一张电子证照")
@requires(LICENCE_ISSUE)
def issue(request: HttpRequest, payload: IssueIn):
    principal = principal_of(request)
    licence_type = issuable_type_get(principal, payload.type_code)
    holder = holder_lookup(actor=principal, licence_type=licence_type, holder_id=payload.holder_id)
    is_person = licence_type.holder_kind == LicenceType.HolderKind.PERSON
    licence = licence_issue(
        actor=principal,
        licence_type=licence_type,
        holder_person=holder if is_person else None,
        holder_organisation=None if is_person else holder,
        face=payload.face,
        issued_on=payload.issued_on,
        expires_on=payload.expires_on,
    )
    return Status(201, _detail(licence_issued_get(principal, licence.public_id)))


@router.get(
    "/", response={200: IssuerLicencePage, **_ERRORS}, summary="本部门（含下级部门）签发的证照，最新的在前"
)
@requires(LICENCE_ISSUE)
def issued(request: HttpRequest, q: Query[IssuerListQuery]):
    page = licences_issued(
        principal_of(request), status=q.status, type_code=q.type_code, cursor=q.cursor, limit=q.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/{uuid:licence_id}", response={200: IssuerLicenceDetailOut, **_ERRORS}, summary="一张证照、签章与记录"
)
@requires(LICENCE_ISSUE)
def detail(request: HttpRequest, licence_id: UUID):
    return _detail(licence_issued_get(principal_of(request), licence_id))


@router.post(
    "/{uuid:licence_id}/status",
    response={200: IssuerLicenceDetailOut, **_ERRORS},
    summary="暂停（suspend）、恢复（resume）或注销（revoke）证照，须填写原因",
)
@requires(LICENCE_ISSUE)
def set_status(request: HttpRequest, licence_id: UUID, payload: StatusIn):
    principal = principal_of(request)
    licence = licence_issued_get(principal, licence_id)
    licence_set_status(actor=principal, licence=licence, action=payload.action, reason=payload.reason)
    return _detail(licence_issued_get(principal, licence_id))
