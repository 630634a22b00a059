"""Public verification API (/api/licences/verify, no login).

`GET /?token=` (QR token or live 亮证 token), `GET /?identifier=&code=` (证照标识 with the 核验码 printed on the
document) → the outcome (valid / invalid / revoked / suspended / expired / superseded), issuer, type, identifier,
dates and the face fields the type marks public. `GET /?identifier=` alone reveals nothing personal: for a
person's licence no face field at all (`face_withheld` true), for an organisation's its public face without
personal identifiers (selectors.licence_verification). 404 when there is no such licence, 422 without a token or
identifier, 429 over the `licence_verify` rate limit (per client) or after too many wrong codes for one licence.
`GET /seals` publishes every seal's SM2 public key for offline verification. Answers are never cached
(`Cache-Control: no-store`).

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema
from ninja.decorators import decorate_view
from pydantic import BaseModel

from yiwang.core.apiutils import requires
from yiwang.core.permissions import PUBLIC
from yiwang.core.ratelimit import rate_limit
from yiwang.core.schemas import ProblemOut

from .selectors import seals_published, verify_identifier, verify_token

router = Router(tags=["licences"])


# The verification answer's schemas are plain pydantic models, not ninja Schemas: ninja's Schema wraps every
# value in its ORM getter before validating, which cost a tenth of a verification (docs/performance.md); the view
# returns a dict, which pydantic validates directly.
class CodeName(BaseModel):
    code: str
    name: str


class SealRef(BaseModel):
    name: str
    key_id: str


class FaceOut(BaseModel):
    name: str
    label: str
    value: Any


class VerificationOut(BaseModel):
    result: str = Field(
        description="valid 有效 / invalid 签章无效 / revoked / suspended / expired / superseded"
    )
    result_label: str
    identifier: str
    type: CodeName
    issuer: CodeName = Field(description="签发机关（code 为统一社会信用代码）")
    seal: SealRef
    issued_on: date
    expires_on: date | None = None
    version: int
    status_reason: str = Field("", description="注销、暂停的原因")
    face: list[FaceOut] = Field(
        description="证照类型标为公开的照面要素；仅凭证照标识核验时：自然人证照为空，法人证照不含个人证件号码与手机号"
    )
    face_withheld: bool = Field(
        False, description="true：自然人证照仅凭证照标识核验，照面信息不予显示（需核验码或扫码核验）"
    )
    code_ok: bool | None = Field(None, description="提供了核验码时：是否正确；未提供为 null")


class VerifyQuery(Schema):
    token: str | None = Field(None, max_length=64, description="核验二维码中的令牌或亮证令牌")
    identifier: str | None = Field(None, max_length=80, description="证照标识")
    code: str | None = Field(None, max_length=20, description="证照上印的核验码（与证照标识一起使用）")


class SealOut(Schema):
    key_id: str
    name: str
    department: str
    department_code: str = Field(description="部门统一社会信用代码")
    public_key_hex: str = Field(description="SM2 公钥，未压缩点（04‖x‖y），十六进制")
    status: str
    valid_from: date
    valid_until: date | None = None


@router.get(
    "/",
    response={200: VerificationOut, 404: ProblemOut, 422: ProblemOut, 429: ProblemOut},
    auth=None,
    summary="核验电子证照（按二维码令牌，或证照标识及核验码）",
)
@decorate_view(never_cache)
@requires(PUBLIC)
def verify(request: HttpRequest, q: Query[VerifyQuery]):
    rate_limit(request, scope="licence_verify")
    if q.token:
        result = verify_token(q.token)
    elif q.identifier:
        result = verify_identifier(q.identifier, q.code)
    else:
        raise ValidationError({"token": _("请提供核验令牌或证照标识。")})
    if not result.found:
        raise Http404
    return result.as_dict()


@router.get("/seals", response=list[SealOut], auth=None, summary="电子印章公钥（离线核验用）")
@requires(PUBLIC)
def seals(request: HttpRequest):
    return [
        {
            "key_id": s.key_id,
            "name": s.name,
            "department": s.department.name,
            "department_code": s.department.uscc,
            "public_key_hex": s.public_key_hex,
            "status": s.status,
            "valid_from": s.valid_from,
            "valid_until": s.valid_until,
        }
        for s in seals_published()
    ]
