"""API: 一件事一次办 (bundles). The published bundles are public; applicants apply once (multipart: the combined
form as JSON plus one file field per material code) and follow their applications; staff who may see one of the
sub-cases may read the application. Another's application is 404, never 403.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

import json
from datetime import date, datetime
from typing import Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Form, Query, Router, Schema, Status

from yiwang.catalog.bundles.services import (
    build_form,
    build_materials,
    bundle_get_published,
    bundle_items,
    bundles_published,
)
from yiwang.core.apiutils import principal_of, requires, requires_any
from yiwang.core.permissions import CASE_APPROVE, CASE_INTAKE, CASE_SUPERVISE, PUBLIC, SELF_SERVICE
from yiwang.core.schemas import ProblemOut

from ..models import BundlePart
from . import selectors
from .services import bundle_submit, part_result

router = Router(tags=["bundles"])

_READ_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


# --- schemas ------------------------------------------------------------------------------------------------------
class BundleItemOut(Schema):
    code: str = Field(description="事项编码")
    name: str
    department_code: str
    department_name: str
    committed_days: int = Field(description="承诺时限（工作日）")
    after: list[str] = Field(description="须先准予的事项编码；为空表示提交后立即办理")


class BundleOut(Schema):
    code: str = Field(description="一件事编码")
    name: str
    description: str
    audience: str = Field(description="person 个人 / organisation 法人")
    lead_department_code: str
    items: list[BundleItemOut]


class BundleFieldOut(Schema):
    name: str = Field(description="字段名（提交时 form_data 的键）")
    label: str
    type: str = Field(description="string / integer / number / boolean")
    widget: str
    required: bool = Field(description="任一事项必填即为必填")
    section: str
    options: list[list] = Field(description="可选项 [[值, 名称]…]")
    prefill: str = Field(description="预填来源（基础库字段），为空表示需申请人填写")
    items: list[str] = Field(description="需要该字段的事项名称")


class BundleMaterialOut(Schema):
    code: str = Field(description="材料编码（提交时的文件字段名）")
    name: str
    required: bool
    tolerant: bool = Field(description="可容缺：可先不交，受理后补交")
    upload: bool = Field(description="需申请人上传；否则由系统从电子证照或基础库调取")
    items: list[str] = Field(description="需要该材料的事项名称：共用的材料只上传一次")


class BundleDetailOut(BundleOut):
    fields: list[BundleFieldOut]
    materials: list[BundleMaterialOut]


class BundlePartOut(Schema):
    item_code: str
    item_name: str
    department_code: str
    department_name: str
    after: list[str]
    state: str = Field(description="waiting 等待前置事项 / filed 已分送办理 / cancelled 未办理")
    case_id: UUID | None = Field(None, description="子办件标识")
    case_number: str | None = None
    case_state: str | None = Field(None, description="子办件状态（见办件接口）")
    case_state_label: str | None = None
    due_date: date | None = None
    result: str = Field(description="结果说明（含不予许可、不予受理的理由或未办理的原因）")


class BundleCaseOut(Schema):
    id: UUID = Field(description="一件事办件标识")
    number: str = Field(description="一件事编号 YJS-日期-序号")
    bundle_code: str
    bundle_name: str
    state: str = Field(
        description="in_progress 办理中 / supplement 待补正 / concluded 已办结 / withdrawn 已撤回"
    )
    state_label: str
    outcome: str = Field(
        description="all_approved 全部准予 / partly 部分准予 / none_approved 均未准予；未办结为空"
    )
    due_date: date | None = Field(None, description="各事项承诺日期中最晚者（待办理事项为预计）")
    submitted_at: datetime
    concluded_at: datetime | None = None
    parts: list[BundlePartOut]


class BundleCasePage(Schema):
    items: list[BundleCaseOut]
    next_cursor: str | None = None


def _part_out(part: BundlePart) -> dict:
    case = part.case
    return {
        "item_code": part.item.code,
        "item_name": part.item.name,
        "department_code": part.item.department.code,
        "department_name": part.item.department.name,
        "after": list(part.after),
        "state": part.state,
        "case_id": case.public_id if case else None,
        "case_number": case.number if case else None,
        "case_state": case.state if case else None,
        "case_state_label": str(case.get_state_display()) if case else None,
        "due_date": case.due_date if case else None,
        "result": part_result(part),
    }


def _case_out(bc) -> dict:
    return {
        "id": bc.public_id,
        "number": bc.number,
        "bundle_code": bc.bundle.code,
        "bundle_name": bc.bundle.name,
        "state": bc.state,
        "state_label": str(bc.get_state_display()),
        "outcome": bc.outcome,
        "due_date": bc.due_date,
        "submitted_at": bc.submitted_at,
        "concluded_at": bc.concluded_at,
        "parts": [_part_out(p) for p in bc.parts.all()],
    }


def _bundle_out(bundle, rows) -> dict:
    return {
        "code": bundle.code,
        "name": bundle.name,
        "description": bundle.description,
        "audience": bundle.audience,
        "lead_department_code": bundle.lead_department.code,
        "items": [
            {
                "code": item.code,
                "name": item.name,
                "department_code": item.department.code,
                "department_name": item.department.name,
                "committed_days": item.committed_days,
                "after": list(after),
            }
            for after, item in rows
        ],
    }


# --- applicant's applications (before /{code}: "cases" is not a bundle code) -----------------------------------
@router.get(
    "/cases",
    response={200: BundleCasePage, **_READ_ERRORS},
    summary="本人的一件事申请（按提交先后倒序，游标分页）",
)
@requires(SELF_SERVICE)
def bundle_case_list(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(20, ge=1, le=100),
):
    page = selectors.bundle_cases_of_applicant(principal_of(request), cursor=cursor, limit=limit)
    return {"items": [_case_out(bc) for bc in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/cases/{uuid:bundle_case_id}",
    response={200: BundleCaseOut, **_READ_ERRORS},
    summary="一件事办件：整体状态、期限与各事项结果（申请人本人，或可查看其中子办件的工作人员）",
)
@requires_any(SELF_SERVICE, CASE_INTAKE, CASE_APPROVE, CASE_SUPERVISE)
def bundle_case_detail(request: HttpRequest, bundle_case_id: UUID):
    return _case_out(selectors.bundle_case_visible(principal_of(request), bundle_case_id))


# --- the public catalogue of bundles ----------------------------------------------------------------------------
@router.get("", response=list[BundleOut], auth=None, summary="已发布的一件事")
@requires(PUBLIC)
def bundle_list(request: HttpRequest, audience: Literal["person", "organisation"] | None = Query(None)):
    out = []
    for bundle in bundles_published(audience=audience):
        after = {m.item_code: m.after or [] for m in bundle.members.all()}
        out.append(_bundle_out(bundle, [(after[item.code], item) for item in bundle.item_rows]))
    return out


@router.get(
    "/{code}",
    response={200: BundleDetailOut, 404: ProblemOut},
    auth=None,
    summary="一件事详情：事项、合并表单与合并材料",
)
@requires(PUBLIC)
def bundle_detail(request: HttpRequest, code: str):
    bundle = bundle_get_published(code)
    rows = bundle_items(bundle)
    items = [item for _m, item in rows]
    form = build_form(items)
    sections = dict(form.sections)
    return {
        **_bundle_out(bundle, [(member.after, item) for member, item in rows]),
        "fields": [
            {
                "name": spec.name,
                "label": spec.label,
                "type": spec.type,
                "widget": spec.widget,
                "required": spec.required,
                "section": str(sections.get(spec.section, "")),
                "options": [[value, label] for value, label in spec.options],
                "prefill": spec.prefill,
                "items": form.field_items.get(spec.name, []),
            }
            for spec in form.fields
        ],
        "materials": [
            {
                "code": m.code,
                "name": m.name,
                "required": m.required,
                "tolerant": m.tolerant,
                "upload": m.source == "upload",
                "items": m.items,
            }
            for m in build_materials(items)
        ],
    }


@router.post(
    "/{code}/apply",
    response={201: BundleCaseOut, **_READ_ERRORS},
    summary="申请一件事（multipart：form_data 为合并表单的 JSON，idempotency_key 幂等键，文件字段名为材料编码；可容缺材料可以不交）",
)
@requires(SELF_SERVICE)
def bundle_apply(
    request: HttpRequest,
    code: str,
    idempotency_key: Form[str],
    form_data: Form[str] = "{}",
):
    principal = principal_of(request)
    bundle = bundle_get_published(code)
    try:
        data = json.loads(form_data or "{}")
    except (ValueError, RecursionError):  # (nested past the parser's depth)
        raise ValidationError({"form_data": _("form_data 应为 JSON 对象。")}) from None
    if not isinstance(data, dict):
        raise ValidationError({"form_data": _("form_data 应为 JSON 对象。")})
    files = {name: request.FILES.getlist(name) for name in request.FILES}
    items = [item for _m, item in bundle_items(bundle)]
    tolerant = [m.code for m in build_materials(items) if m.tolerant and m.code not in files]
    bc = bundle_submit(
        actor=principal,
        bundle=bundle,
        form_data=data,
        files=files,
        idempotency_key=idempotency_key,
        tolerant_missing=tolerant,
    )
    bc = selectors.bundle_case_visible(principal, bc.public_id)
    return Status(201, _case_out(bc))
