"""API: 授权用证 (/api/licences/grants).

Holders (SELF_SERVICE) list their grants (keyset, newest first), create and revoke them. A registered system or a
staff member holding a live grant reads a licence by its identifier (`GET /licence/{identifier}`): the read goes
through `licence_read_via_grant`, so it is logged as a use the holder sees; without a live grant → 403.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date, datetime, time
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import (
    CASE_APPROVE,
    CASE_INTAKE,
    DEPARTMENT_VIEW,
    LICENCE_ISSUE,
    ORGANISATION_LOOKUP,
    PERSON_LOOKUP,
    SELF_SERVICE,
)
from yiwang.core.schemas import ProblemOut

from .models import LicenceGrant
from .selectors_grants import grant_of_holder, grantee_named, grants_of_holder, licence_of_holder
from .services.grants import grant_create, grant_revoke, licence_by_identifier_via_grant
from .signing import licence_verify_signature

router = Router(tags=["licences"])
router.add_decorator(never_cache, mode="view")  # grants, uses and licence data: personal, never cached


_READ_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


class UseOut(Schema):
    at: datetime
    by: str
    purpose: str


class GrantOut(Schema):
    id: UUID = Field(description="授权标识")
    licence_id: UUID
    licence_identifier: str
    licence_type: str
    grantee_kind: str = Field(description="department / case / system")
    grantee: str = Field(description="被授权方名称（部门、办件编号或接入系统）")
    purpose: str
    expires_at: datetime
    revoked_at: datetime | None = None
    material_code: str = ""
    live: bool
    use_count: int = 0
    uses: list[UseOut] = Field(default_factory=list, description="最近的用证记录")


class GrantPageOut(Schema):
    items: list[GrantOut]
    next_cursor: str | None = None


class GrantIn(Schema):
    licence_id: UUID = Field(description="本人证照的标识（public id）")
    grantee_kind: str = Field(description="department（部门）或 system（接入系统）；办件授权在申请时自动生成")
    department_code: str = Field("", max_length=40, description="被授权部门编码")
    system_client_id: str = Field("", max_length=64, description="被授权接入系统的客户端标识")
    purpose: str = Field(max_length=200)
    expires_on: date = Field(description="授权截止日期（当日 23:59:59 失效；最长一年）")


class RevokeIn(Schema):
    reason: str = Field("", max_length=200)


class LicenceReadOut(Schema):
    identifier: str
    licence_type: str
    licence_type_name: str
    issuer: str
    holder_name: str
    face: dict
    issued_on: date
    expires_on: date | None = None
    status: str
    version: int
    signature_valid: bool = Field(description="电子印章签名核验结果")
    grant_id: UUID


def _grant_out(grant: LicenceGrant) -> dict:
    grantee = ""
    if grant.grantee_department_id:
        grantee = grant.grantee_department.name
    elif grant.grantee_case_id:
        grantee = grant.grantee_case.number or ""
    elif grant.grantee_system_id:
        grantee = grant.grantee_system.name
    return {
        "id": grant.public_id,
        "licence_id": grant.licence.public_id,
        "licence_identifier": grant.licence.identifier,
        "licence_type": grant.licence.licence_type.code,
        "grantee_kind": grant.grantee_kind,
        "grantee": grantee,
        "purpose": grant.purpose,
        "expires_at": grant.expires_at,
        "revoked_at": grant.revoked_at,
        "material_code": grant.material_code,
        "live": getattr(grant, "live", False),
        "use_count": getattr(grant, "use_count", 0),
        "uses": [
            {"at": u.created_at, "by": u.used_by_label, "purpose": u.purpose}
            for u in getattr(grant, "recent_uses", [])
        ],
    }


@router.get("/", response={200: GrantPageOut, **_READ_ERRORS}, summary="我的授权（含用证记录），按时间倒序")
@requires(SELF_SERVICE)
def grants_list(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(20, ge=1, le=100),
):
    page = grants_of_holder(principal_of(request), cursor=cursor, limit=limit)
    return {"items": [_grant_out(g) for g in page.items], "next_cursor": page.next_cursor}


def _reload(principal, grant) -> dict:
    page = grants_of_holder(principal, licence=grant.licence, limit=100)
    found = next((g for g in page.items if g.pk == grant.pk), grant)
    return _grant_out(found)


@router.post("/", response={201: GrantOut, **_READ_ERRORS}, summary="授权部门或接入系统使用本人证照")
@requires(SELF_SERVICE)
def grants_create(request: HttpRequest, payload: GrantIn):
    principal = principal_of(request)
    licence = licence_of_holder(principal, payload.licence_id)
    try:
        grantee = grantee_named(
            kind=payload.grantee_kind,
            department_code=payload.department_code,
            system_client_id=payload.system_client_id,
        )
    except ValidationError as exc:  # reported under the request's own field names
        fields = {"department": "department_code", "system": "system_client_id"}
        raise ValidationError({fields.get(k, k): v for k, v in exc.message_dict.items()}) from None
    kind = payload.grantee_kind if payload.grantee_kind != LicenceGrant.GranteeKind.CASE else ""
    grant = grant_create(
        actor=principal,
        licence=licence,
        grantee_kind=kind,
        purpose=payload.purpose,
        expires_at=timezone.make_aware(datetime.combine(payload.expires_on, time(23, 59, 59))),
        **grantee,
    )
    return Status(201, _reload(principal, grant))


@router.post("/{grant_id}/revoke", response={200: GrantOut, **_READ_ERRORS}, summary="撤销授权")
@requires(SELF_SERVICE)
def grants_revoke(request: HttpRequest, grant_id: UUID, payload: RevokeIn):
    principal = principal_of(request)
    grant = grant_revoke(actor=principal, grant=grant_of_holder(principal, grant_id), reason=payload.reason)
    return _reload(principal, grant)


@router.get(
    "/licence/{identifier}",
    response={200: LicenceReadOut, **_READ_ERRORS},
    summary="凭有效授权调取证照（接入系统或被授权部门、办件的工作人员；记录用证）",
)
@requires(
    SELF_SERVICE,
    DEPARTMENT_VIEW,
    CASE_INTAKE,
    CASE_APPROVE,
    LICENCE_ISSUE,
    PERSON_LOOKUP,
    ORGANISATION_LOOKUP,
)
def grants_read(request: HttpRequest, identifier: str, purpose: str = Query("", max_length=200)):
    licence = licence_by_identifier_via_grant(
        actor=principal_of(request), identifier=identifier, purpose=purpose
    )
    return {
        "identifier": licence.identifier,
        "licence_type": licence.licence_type.code,
        "licence_type_name": licence.licence_type.name,
        "issuer": licence.issuer.name,
        "holder_name": licence.holder_name,
        "face": licence.face,
        "issued_on": licence.issued_on,
        "expires_on": licence.expires_on,
        "status": licence.status,
        "version": licence.version,
        "signature_valid": licence_verify_signature(licence),
        "grant_id": licence.used_grant.public_id,
    }
