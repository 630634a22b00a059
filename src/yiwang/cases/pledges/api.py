"""API: 告知承诺 and 容缺 (/api/pledges).

Verifiers (PLEDGE_VERIFY) list their department tree's pending 核查 (keyset on due date) and record the outcome
once (a failed one revokes the approval); applicants read the pledge text an item would ask them to sign and
upload owed (容缺) materials to their open case. Errors are problem+json: 403 without the permission, 404 for a
verification or case outside the caller's scope, 422 with field errors.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date, datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from yiwang.catalog.selectors import item_get_published
from yiwang.core.apiutils import principal_of, requires
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import PLEDGE_VERIFY, SELF_SERVICE
from yiwang.core.schemas import ProblemOut

from .. import selectors
from ..models import PledgeVerification
from .selectors import pledge_check_visible, pledge_checks_for
from .services import case_owed, case_owed_supply, pledge_text, pledge_verify

router = Router(tags=["pledge"])

_READ_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}
_WRITE_ERRORS = {**_READ_ERRORS, 409: ProblemOut}


# --- schemas ------------------------------------------------------------------------------------------------
class CheckOut(Schema):
    id: UUID = Field(description="核查任务标识")
    case_id: UUID = Field(description="办件标识")
    case_number: str | None = None
    item_code: str
    item_name: str
    department_code: str
    due_date: date = Field(description="核查期限")
    overdue: bool = Field(description="待核查且已超过期限")
    status: str = Field(description="pending 待核查 / passed 核查属实 / failed 核查不实")
    status_label: str
    result: str = Field(description="核查意见")
    verified_at: datetime | None = None
    case_state: str = Field(description="办件状态；核查不实后为 revoked 已撤销准予")

    @staticmethod
    def resolve_id(obj) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_case_id(obj) -> UUID:
        return obj.case.public_id

    @staticmethod
    def resolve_case_number(obj) -> str | None:
        return obj.case.number

    @staticmethod
    def resolve_item_code(obj) -> str:
        return obj.case.item.code

    @staticmethod
    def resolve_item_name(obj) -> str:
        return obj.case.item.name

    @staticmethod
    def resolve_department_code(obj) -> str:
        return obj.department.code

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return obj.status == PledgeVerification.Status.PENDING and obj.due_date < timezone.localdate()

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_case_state(obj) -> str:
        return obj.case.state


class CheckPage(Schema):
    items: list[CheckOut]
    next_cursor: str | None = Field(None, description="下一页游标；为空表示没有更多")


class CheckQuery(Schema):
    status: PledgeVerification.Status = Field(PledgeVerification.Status.PENDING, description="核查状态")
    cursor: str | None = Field(None, max_length=CURSOR_MAX)
    limit: int = Field(20, ge=1, le=100)


class VerifyIn(Schema):
    passed: bool = Field(description="true 承诺属实；false 承诺不实（撤销准予）")
    result: str = Field("", max_length=2000, description="核查意见；不实时必填，作为撤销理由告知申请人")


class PledgeTextOut(Schema):
    item_code: str
    materials: list[str] = Field(description="以承诺代替的材料编码")
    text: str = Field(
        description="告知承诺书全文；提交时以 pledged 列出这些材料并以 pledge_accepted=true 表示同意"
    )


class OwedMaterialOut(Schema):
    code: str
    name: str


class OwedOut(Schema):
    case_id: UUID
    state: str
    owed_deadline: date | None = Field(None, description="容缺补交期限；已无待补交材料时为空")
    owed: list[OwedMaterialOut] = Field(description="仍待补交的材料")


# --- verifications ------------------------------------------------------------------------------------------
@router.get(
    "/checks",
    response={200: CheckPage, **_READ_ERRORS},
    summary="本部门（含上下级部门）的告知承诺核查任务，按核查期限排序（默认待核查）",
)
@requires(PLEDGE_VERIFY)
def check_list(request: HttpRequest, filters: Query[CheckQuery]):
    page = pledge_checks_for(
        principal_of(request), status=filters.status, cursor=filters.cursor, limit=filters.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/checks/{uuid:check_id}", response={200: CheckOut, **_READ_ERRORS}, summary="一项核查任务")
@requires(PLEDGE_VERIFY)
def check_detail(request: HttpRequest, check_id: UUID):
    return pledge_check_visible(principal_of(request), check_id)


@router.post(
    "/checks/{uuid:check_id}/verify",
    response={200: CheckOut, **_WRITE_ERRORS},
    summary="录入核查结果（只能录入一次；不实的撤销办件的准予决定）",
)
@requires(PLEDGE_VERIFY)
def check_verify(request: HttpRequest, check_id: UUID, payload: VerifyIn):
    principal = principal_of(request)
    verification = pledge_check_visible(principal, check_id)
    pledge_verify(actor=principal, verification=verification, passed=payload.passed, result=payload.result)
    return pledge_check_visible(principal, check_id)


# --- applicants ---------------------------------------------------------------------------------------------
@router.get(
    "/text",
    response={200: PledgeTextOut, **_READ_ERRORS},
    summary="告知承诺书文本：事项 item_code，以承诺代替的材料 materials（可多个）",
)
@requires(SELF_SERVICE)
def pledge_text_preview(request: HttpRequest, item_code: str, materials: Query[list[str]] = None):
    item = item_get_published(item_code)
    by_code = {m.code: m for m in item.materials.all()}
    wanted = list(dict.fromkeys(materials or []))
    errors = {}
    for code in wanted:
        material = by_code.get(code)
        if material is None or not material.pledge_allowed:
            errors[f"material_{code}"] = _("“%(code)s”不适用告知承诺。") % {"code": code}
    if not wanted:
        errors["materials"] = _("请列出以承诺代替的材料。")
    if errors:
        raise ValidationError(errors)
    chosen = [m for code, m in by_code.items() if code in wanted]
    return {"item_code": item.code, "materials": [m.code for m in chosen], "text": pledge_text(item, chosen)}


@router.post(
    "/cases/{uuid:case_id}/owed",
    response={200: OwedOut, **_WRITE_ERRORS},
    summary="补交容缺材料（multipart：文件字段名为材料编码；办件办理中可以补交）",
)
@requires(SELF_SERVICE)
def owed_supply(request: HttpRequest, case_id: UUID):
    principal = principal_of(request)
    case = selectors.case_visible(principal, case_id)
    files = {name: request.FILES.getlist(name) for name in request.FILES}
    case = case_owed_supply(actor=principal, case=case, files=files or None)
    return {
        "case_id": case.public_id,
        "state": case.state,
        "owed_deadline": case.owed_deadline,
        "owed": [{"code": m.code, "name": m.name} for m in case_owed(case)],
    }
