"""API: 一网协同 — 填表报数 I, the form register (mounted at /api/collab/forms).

Register: list (scoped: own department's forms, the centre's queue, everyone's admitted names), create, read (by
public id or code), change head and fields while draft/rejected, submit for admission, admit/reject (the centre),
revise into a new version, retire; import an XLSForm (multipart) and export one; issue a form for a period and
list its issues; the registered prefill sources.

Errors are problem+json: 401, 403 (missing permission, another department's form), 404 (a form the caller may
not see), 422 (field errors; nothing written).

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.models import Division
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import COLLAB_WORK, FORM_ADMIT, FORM_MANAGE
from yiwang.core.schemas import ProblemOut

from . import prefill
from .models import FormIssue, ReportForm
from .selectors import forms as sel
from .services import forms as services
from .xlsform import XLSX, xlsform_export, xlsform_import

router = Router(tags=["一网协同：填表报数"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


# --- schemas --------------------------------------------------------------------------------------------------
class RegisterFieldIn(Schema):
    name: str = Field(..., max_length=50)
    label: str = Field(..., max_length=200)
    kind: str = Field(..., description="integer, decimal, text, choice, date, boolean")
    unit: str = Field("", max_length=16)
    required: bool = True
    choices: list[list[str]] = Field(default_factory=list, description="单选选项：[[值, 名称], …]")
    per_row: bool = False
    element: str | None = Field(None, max_length=20, description="数据元标识，如 DE00001")
    prefill: str = Field("", max_length=64, description="预填来源（见 /prefill-sources）")
    aggregate: str = Field("", max_length=8, description="sum avg min max count none；默认数值求和")
    rule: str = Field("", max_length=500, description="平台规则语言表达式，字段标识为符号")
    rule_message: str = Field("", max_length=200)


class RegisterFieldOut(Schema):
    name: str
    label: str
    kind: str
    unit: str
    required: bool
    choices: list[list[str]]
    per_row: bool
    element: str | None
    prefill: str
    aggregate: str
    rule: str
    rule_message: str


class RegisterFormIn(Schema):
    code: str = Field(..., max_length=24)
    name: str = Field(..., max_length=200)
    purpose: str = Field(..., max_length=4000)
    legal_basis: str = Field(..., max_length=500)
    frequency: str = "monthly"
    target_level: int = Field(3, description="2 镇街、3 村社区、4 网格")
    row_source: str = Field("", description="''、organisations、residents")
    fields: list[RegisterFieldIn]


class RegisterFormPatch(Schema):
    name: str | None = Field(None, max_length=200)
    purpose: str | None = Field(None, max_length=4000)
    legal_basis: str | None = Field(None, max_length=500)
    frequency: str | None = None
    target_level: int | None = None
    row_source: str | None = None
    fields: list[RegisterFieldIn] | None = None


class RegisterFieldsIn(Schema):
    fields: list[RegisterFieldIn]


class RegisterAdmitIn(Schema):
    decision: str = Field(..., description="approve 准入 / reject 不予准入")
    note: str = Field("", max_length=2000)


class RegisterDepartmentOut(Schema):
    code: str
    name: str


class RegisterFormOut(Schema):
    id: str
    code: str
    name: str
    status: str
    status_label: str
    version: int
    frequency: str
    target_level: int
    row_source: str
    source: str
    owner_department: RegisterDepartmentOut
    fields_count: int
    issues_count: int
    may_manage: bool


class RegisterFormDetailOut(RegisterFormOut):
    purpose: str
    legal_basis: str
    review_note: str
    reviewed_at: Any = None
    review_findings: dict
    fields: list[RegisterFieldOut]


class RegisterFormPageOut(Schema):
    items: list[RegisterFormOut]
    next_cursor: str | None


class RegisterIssueIn(Schema):
    period_label: str = Field(..., max_length=32)
    period_start: date
    period_end: date
    due_on: date
    root_division: str | None = Field(None, max_length=15, description="下发范围的区划代码（默认本区）")


class RegisterIssueOut(Schema):
    id: str
    form: str
    form_version: int
    period_label: str
    period_start: date
    period_end: date
    due_on: date
    root_division: str
    status: str
    units_count: int
    approved_count: int
    issued_at: Any


class RegisterIssuePageOut(Schema):
    items: list[RegisterIssueOut]
    next_cursor: str | None


class PrefillSourceOut(Schema):
    key: str
    label: str
    kind: str
    unit: str
    row_source: str


# --- shaping --------------------------------------------------------------------------------------------------
def _form_out(principal, form: ReportForm) -> dict:
    return {
        "id": str(form.public_id),
        "code": form.code,
        "name": form.name,
        "status": form.status,
        "status_label": str(form.get_status_display()),
        "version": form.version,
        "frequency": form.frequency,
        "target_level": form.target_level,
        "row_source": form.row_source,
        "source": form.source,
        "owner_department": {"code": form.owner_department.code, "name": form.owner_department.name},
        "fields_count": getattr(form, "n_fields", None) if hasattr(form, "n_fields") else form.fields.count(),
        "issues_count": getattr(form, "n_issues", None) if hasattr(form, "n_issues") else form.issues.count(),
        "may_manage": sel.form_may_manage(principal, form),
    }


def _detail(principal, form: ReportForm) -> dict:
    form = sel.form_get(principal, form.public_id)
    fields = list(form.fields.all())
    out = _form_out(principal, form)
    sees_review = sel.form_may_manage(principal, form) or principal.has(FORM_ADMIT)
    out.update(
        fields_count=len(fields),
        purpose=form.purpose,
        legal_basis=form.legal_basis,
        review_note=form.review_note if sees_review else "",
        reviewed_at=form.reviewed_at if sees_review else None,
        review_findings=form.review_findings if sees_review else {},
        fields=[services.field_as_dict(f) for f in fields],
    )
    return out


def _issue_out(issue: FormIssue, form: ReportForm) -> dict:
    return {
        "id": str(issue.public_id),
        "form": form.code,
        "form_version": issue.form_version,
        "period_label": issue.period_label,
        "period_start": issue.period_start,
        "period_end": issue.period_end,
        "due_on": issue.due_on,
        "root_division": issue.root_division.code,
        "status": issue.status,
        "units_count": issue.units_count,
        "approved_count": issue.approved_count,
        "issued_at": issue.issued_at,
    }


def _fields(items) -> list[dict]:
    return [f.dict() for f in items]


# --- register -------------------------------------------------------------------------------------------------
@router.get("/prefill-sources", response={200: list[PrefillSourceOut], **_READ}, summary="系统预填来源")
@requires(COLLAB_WORK)
def prefill_sources_list(request: HttpRequest):
    out = [
        {"key": s.key, "label": str(s.label), "kind": s.kind, "unit": str(s.unit), "row_source": ""}
        for s in prefill.prefill_sources().values()
    ]
    for source in prefill.ROW_SOURCES.values():
        for column, label in source.columns.items():
            out.append(
                {
                    "key": f"{source.key}.{column}",
                    "label": str(label),
                    "kind": source.kinds.get(column, "text"),
                    "unit": "",
                    "row_source": source.key,
                }
            )
    return out


@router.get("", response={200: RegisterFormPageOut, **_READ}, summary="表格目录清单（按权限范围）")
@requires(COLLAB_WORK)
def forms_list(
    request: HttpRequest,
    status: str = Query(""),
    mine: bool = Query(False),
    q: str = Query("", max_length=50),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    principal = principal_of(request)
    page = sel.form_register(principal, status=status, mine=mine, q=q, cursor=cursor, limit=limit)
    return {"items": [_form_out(principal, f) for f in page.items], "next_cursor": page.next_cursor}


@router.post("", response={201: RegisterFormDetailOut, **_READ}, summary="登记表格（草稿）")
@requires(FORM_MANAGE)
def forms_create(request: HttpRequest, payload: RegisterFormIn):
    principal = principal_of(request)
    data = payload.dict()
    data["fields"] = _fields(payload.fields)
    form = services.form_create(actor=principal, **data)
    return Status(201, _detail(principal, form))


@router.get(
    "/admission", response={200: RegisterFormPageOut, **_READ}, summary="待准入审核的表格（大数据中心）"
)
@requires(FORM_ADMIT)
def forms_admission(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    principal = principal_of(request)
    page = sel.form_admission_queue(principal, cursor=cursor, limit=limit)
    return {"items": [_form_out(principal, f) for f in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/import", response={201: RegisterFormDetailOut, **_READ}, summary="导入 XLSForm（.xlsx）为草稿表格"
)
@requires(FORM_MANAGE)
def forms_import(
    request: HttpRequest,
    file: File[UploadedFile],
    purpose: Form[str],
    legal_basis: Form[str],
    frequency: Form[str] = "monthly",
    target_level: Form[int] = 3,
    code: Form[str] = "",
    name: Form[str] = "",
):
    principal = principal_of(request)
    form = xlsform_import(
        actor=principal,
        upload=file,
        purpose=purpose,
        legal_basis=legal_basis,
        frequency=frequency,
        target_level=target_level,
        code=code,
        name=name,
    )
    return Status(201, _detail(principal, form))


@router.get("/{ref}", response={200: RegisterFormDetailOut, **_READ}, summary="表格详情（id 或编码）")
@requires(COLLAB_WORK)
def forms_get(request: HttpRequest, ref: str):
    principal = principal_of(request)
    return _detail(principal, sel.form_get(principal, ref))


@router.patch("/{ref}", response={200: RegisterFormDetailOut, **_READ}, summary="修改草稿或不予准入的表格")
@requires(FORM_MANAGE)
def forms_update(request: HttpRequest, ref: str, payload: RegisterFormPatch):
    principal = principal_of(request)
    changes = payload.dict(exclude_unset=True)
    if "fields" in changes:
        changes["fields"] = _fields(payload.fields or [])
    for key in [k for k, v in changes.items() if v is None]:
        raise ValidationError({key: _("不能为空。")})
    form = services.form_update(actor=principal, form=sel.form_get(principal, ref), **changes)
    return _detail(principal, form)


@router.put("/{ref}/fields", response={200: RegisterFormDetailOut, **_READ}, summary="替换全部字段")
@requires(FORM_MANAGE)
def forms_fields(request: HttpRequest, ref: str, payload: RegisterFieldsIn):
    principal = principal_of(request)
    form = services.form_update(
        actor=principal, form=sel.form_get(principal, ref), fields=_fields(payload.fields)
    )
    return _detail(principal, form)


@router.post("/{ref}/submit", response={200: RegisterFormDetailOut, **_READ}, summary="提交准入审核")
@requires(FORM_MANAGE)
def forms_submit(request: HttpRequest, ref: str):
    principal = principal_of(request)
    return _detail(principal, services.form_submit(actor=principal, form=sel.form_get(principal, ref)))


@router.post("/{ref}/admit", response={200: RegisterFormDetailOut, **_READ}, summary="准入审核（大数据中心）")
@requires(FORM_ADMIT)
def forms_admit(request: HttpRequest, ref: str, payload: RegisterAdmitIn):
    principal = principal_of(request)
    form = services.form_admit(
        actor=principal, form=sel.form_get(principal, ref), decision=payload.decision, note=payload.note
    )
    return _detail(principal, form)


@router.post("/{ref}/revise", response={201: RegisterFormDetailOut, **_READ}, summary="修订为新版本（草稿）")
@requires(FORM_MANAGE)
def forms_revise(request: HttpRequest, ref: str):
    principal = principal_of(request)
    form = services.form_revise(actor=principal, form=sel.form_get(principal, ref))
    return Status(201, _detail(principal, form))


@router.post("/{ref}/retire", response={200: RegisterFormDetailOut, **_READ}, summary="停用表格")
@requires(FORM_MANAGE)
def forms_retire(request: HttpRequest, ref: str):
    principal = principal_of(request)
    return _detail(principal, services.form_retire(actor=principal, form=sel.form_get(principal, ref)))


@router.get("/{ref}/xlsform", response={200: None, **_READ}, summary="导出为 XLSForm（.xlsx）")
@requires(COLLAB_WORK)
def forms_export(request: HttpRequest, ref: str):
    form = sel.form_get(principal_of(request), ref)
    response = HttpResponse(xlsform_export(form), content_type=XLSX)
    name = form.code.replace(".", "_")
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


# --- issues ---------------------------------------------------------------------------------------------------
@router.get("/{ref}/issues", response={200: RegisterIssuePageOut, **_READ}, summary="表格的下发记录")
@requires(FORM_MANAGE, FORM_ADMIT)
def issues_list(
    request: HttpRequest,
    ref: str,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    principal = principal_of(request)
    form = sel.form_get(principal, ref)
    page = sel.form_issues(principal, form, cursor=cursor, limit=limit)
    return {"items": [_issue_out(i, form) for i in page.items], "next_cursor": page.next_cursor}


@router.post("/{ref}/issues", response={201: RegisterIssueOut, **_READ}, summary="按层级下发（含系统预填）")
@requires(FORM_MANAGE)
def issues_create(request: HttpRequest, ref: str, payload: RegisterIssueIn):
    principal = principal_of(request)
    form = sel.form_get(principal, ref)
    root = None
    if payload.root_division:
        root = Division.objects.filter(code=payload.root_division, is_active=True).first()
        if root is None:
            raise ValidationError(
                {"root_division": _("区划代码“%(code)s”不存在。") % {"code": payload.root_division}}
            )
    issue = services.form_issue(
        actor=principal,
        form=form,
        period_label=payload.period_label,
        period_start=payload.period_start,
        period_end=payload.period_end,
        due_on=payload.due_on,
        root_division=root,
    )
    issue = FormIssue.objects.select_related("root_division").get(pk=issue.pk)
    return Status(201, _issue_out(issue, form))
