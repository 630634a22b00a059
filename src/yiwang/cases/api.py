"""API: cases (办件). Applicants submit and follow their own cases; staff and registered systems list their
inbox and perform the transitions the item's declared process allows.

Scoping is the selectors' (another applicant's or another department's case is 404, never 403: its existence is
not disclosed); rules are the services'. Errors are problem+json: 401 without credentials, 403 without the
permission, 404 for invisible cases, 409 for a stale version or an action the current step does not allow,
422 with field errors for bad input.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from yiwang.catalog.selectors import item_get_published
from yiwang.core.apiutils import principal_of, problem, requires, requires_any
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import CASE_APPROVE, CASE_INTAKE, CASE_SUPERVISE, SELF_SERVICE
from yiwang.core.principal import Principal
from yiwang.core.schemas import ProblemOut

from . import selectors, services
from .models import Case
from .schemas import (
    CASE_OUT_FIELDS,
    ActionOut,
    CaseDetailOut,
    CaseDraftIn,
    CaseFileOut,
    CaseOut,
    CasePage,
    CaseSubmitIn,
    TimelineEntryOut,
    TransitionIn,
    WithdrawIn,
)
from .services.online import case_submit_online
from .workflow import CaseConflict, actions_for

router = Router(tags=["cases"])

STAFF_PERMISSIONS = (CASE_INTAKE, CASE_APPROVE, CASE_SUPERVISE)

# Documented on every operation: the errors the problem handlers can produce.
_READ_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}
_WRITE_ERRORS = {**_READ_ERRORS, 409: ProblemOut}


def _is_staff_side(principal: Principal) -> bool:
    return principal.is_system or any(principal.has(p) for p in STAFF_PERMISSIONS)


def _conflict(request: HttpRequest, detail: str):
    return problem(request, 409, _("办件状态冲突"), detail)


class CaseListQuery(Schema):
    """Filters apply to the staff inbox; an applicant's list ignores them (only cursor and limit)."""

    state: Case.State | None = Field(None, description="submitted / in_progress / supplement（默认前两者）")
    step: str | None = Field(None, max_length=40, description="环节编码")
    item_code: str | None = Field(None, max_length=40)
    due_before: date | None = Field(None, description="本环节到期日不晚于")
    applicant: str | None = Field(None, max_length=50, description="申请人姓名、单位名称、身份证号或办件编号")
    mine_only: bool = Field(False, description="只看本人签收的")
    cursor: str | None = Field(None, max_length=CURSOR_MAX)
    limit: int = Field(20, ge=1, le=100)


# --- read ----------------------------------------------------------------------------------------------------
@router.get(
    "",
    response={200: CasePage, **_READ_ERRORS},
    summary="办件列表：申请人为本人的办件，工作人员为本岗位本部门的待办（可筛选）",
)
@requires_any(SELF_SERVICE, CASE_INTAKE, CASE_APPROVE)
def case_list(request: HttpRequest, filters: Query[CaseListQuery]):
    principal = principal_of(request)
    limit = filters.limit
    if _is_staff_side(principal):
        page = selectors.inbox_for(
            principal,
            state=filters.state,
            step=filters.step,
            item_code=filters.item_code,
            due_before=filters.due_before,
            applicant=filters.applicant,
            mine_only=filters.mine_only,
            cursor=filters.cursor,
            limit=limit,
            fields=CASE_OUT_FIELDS,
        )
    else:
        page = selectors.cases_of_applicant(principal, cursor=filters.cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/{uuid:case_id}",
    response={200: CaseDetailOut, **_READ_ERRORS},
    summary="办件状态（含秒批判定：结果、规则版本与逐条结果）",
)
@requires_any(SELF_SERVICE, CASE_INTAKE, CASE_APPROVE)
def case_detail(request: HttpRequest, case_id: UUID):
    return selectors.case_visible(principal_of(request), case_id)


@router.get(
    "/{uuid:case_id}/timeline",
    response={200: list[TimelineEntryOut], **_READ_ERRORS},
    summary="办理过程（时间线）",
)
@requires_any(SELF_SERVICE, CASE_INTAKE, CASE_APPROVE)
def case_timeline(request: HttpRequest, case_id: UUID):
    principal = principal_of(request)
    case = selectors.case_visible(principal, case_id)
    return selectors.case_timeline(principal, case)


@router.get(
    "/{uuid:case_id}/actions",
    response={200: list[ActionOut], **_READ_ERRORS},
    summary="调用方当前可以执行的动作（流程声明 + 岗位 + 部门）",
)
@requires_any(SELF_SERVICE, CASE_INTAKE, CASE_APPROVE)
def case_actions(request: HttpRequest, case_id: UUID):
    principal = principal_of(request)
    case = selectors.case_visible(principal, case_id)
    return actions_for(case, principal)


# --- applicant -----------------------------------------------------------------------------------------------
@router.post(
    "",
    response={201: CaseDetailOut, **_WRITE_ERRORS},
    summary="提交申请（同一幂等键只生成一个办件；可由草稿提交，草稿上已有的材料计入；可容缺材料可以不交）；"
    "启用秒批的事项当场判定，instant_decision 给出结果",
)
@requires(SELF_SERVICE)
def case_submit(request: HttpRequest, payload: CaseSubmitIn):
    principal = principal_of(request)
    item = selectors.item_for_application(payload.item_code)
    draft = _own_draft(principal, payload.draft_id)
    case = case_submit_online(
        actor=principal,
        item=item,
        form_data=payload.form_data,
        files=None,
        idempotency_key=payload.idempotency_key,
        draft=draft,
        pledged=payload.pledged,
        pledge_accepted=payload.pledge_accepted,
        licences=payload.licences,
    )
    return Status(201, case)


@router.post(
    "/drafts", response={201: CaseOut, **_WRITE_ERRORS}, summary="保存草稿（仅检查类型，不校验必填）"
)
@requires(SELF_SERVICE)
def case_draft(request: HttpRequest, payload: CaseDraftIn):
    principal = principal_of(request)
    item = item_get_published(payload.item_code)
    draft = _own_draft(principal, payload.draft_id)
    case = services.case_draft_save(actor=principal, item=item, form_data=payload.form_data, case=draft)
    return Status(201, case)


def _own_draft(principal: Principal, draft_id: UUID | None) -> Case | None:
    if draft_id is None:
        return None
    case = selectors.case_visible(principal, draft_id)
    if case.state != Case.State.DRAFT:
        raise ValidationError({"draft_id": _("该办件已提交，不是草稿。")})
    return case


@router.post(
    "/{uuid:case_id}/files",
    response={201: CaseFileOut, **_WRITE_ERRORS},
    summary="向本人草稿上传一份申请材料（multipart：material_code 材料编码，file 文件；按文件内容检查类型）",
)
@requires(SELF_SERVICE)
def case_draft_file_add(
    request: HttpRequest,
    case_id: UUID,
    material_code: Form[str],
    # Optional here so a missing file gets the service's field message ("file"), not a framework location.
    file: File[UploadedFile] = None,
):
    principal = principal_of(request)
    case = selectors.case_visible(principal, case_id)
    record = services.case_draft_file_add(
        actor=principal, case=case, material_code=material_code, upload=file
    )
    return Status(201, record)


@router.delete(
    "/{uuid:case_id}/files/{uuid:file_id}",
    response={204: None, **_WRITE_ERRORS},
    summary="从本人草稿删除一份已上传的材料",
)
@requires(SELF_SERVICE)
def case_draft_file_remove(request: HttpRequest, case_id: UUID, file_id: UUID):
    principal = principal_of(request)
    case = selectors.case_visible(principal, case_id)
    services.case_draft_file_remove(actor=principal, case=case, file_id=file_id)
    return Status(204, None)


@router.post(
    "/{uuid:case_id}/supply",
    response={200: CaseOut, **_WRITE_ERRORS},
    summary="补正（multipart：note 说明；文件字段名为需补正的材料编码）",
)
@requires(SELF_SERVICE)
def case_supply(request: HttpRequest, case_id: UUID, note: Form[str] = ""):
    principal = principal_of(request)
    case = selectors.case_visible(principal, case_id)
    files = {name: request.FILES.getlist(name) for name in request.FILES}
    return services.case_supply(actor=principal, case=case, files=files or None, note=note)


@router.post(
    "/{uuid:case_id}/withdraw", response={200: CaseOut, **_WRITE_ERRORS}, summary="撤回申请（作出决定前）"
)
@requires(SELF_SERVICE)
def case_withdraw(request: HttpRequest, case_id: UUID, payload: WithdrawIn):
    principal = principal_of(request)
    case = selectors.case_visible(principal, case_id)
    return services.case_withdraw(actor=principal, case=case, reason=payload.reason)


# --- staff and registered systems -------------------------------------------------------------------------------
@router.post(
    "/{uuid:case_id}/transitions",
    response={200: CaseOut, **_WRITE_ERRORS},
    summary="办理动作（受理、补正告知、审查、准予、不予许可……）；expected_version 过期或当前环节不允许时返回 409",
)
@requires_any(CASE_INTAKE, CASE_APPROVE)
def case_transition(request: HttpRequest, case_id: UUID, payload: TransitionIn):
    principal = principal_of(request)
    case = selectors.case_visible(principal, case_id)
    try:
        return services.case_action_take(
            actor=principal,
            case=case,
            action=payload.action,
            opinion=payload.opinion,
            expected_version=payload.expected_version,
            supplement_items=[i.dict() for i in payload.supplement_items]
            if payload.supplement_items
            else None,
            supplement_days=payload.supplement_days,
        )
    except CaseConflict:
        return _conflict(request, _("该办件已被他人处理或更新，请重新读取后再试。"))
    except ValidationError as exc:
        # The action itself is not allowed now (wrong step, closed case): a conflict with the case's state,
        # not bad input. Field errors (a missing opinion…) stay 422.
        if hasattr(exc, "error_dict") and set(exc.error_dict) == {"action"}:
            return _conflict(request, " ".join(exc.message_dict["action"]))
        raise


@router.post("/{uuid:case_id}/claim", response={200: CaseOut, **_WRITE_ERRORS}, summary="签收办件")
@requires_any(CASE_INTAKE, CASE_APPROVE)
def case_claim(request: HttpRequest, case_id: UUID):
    principal = principal_of(request)
    case = selectors.case_visible(principal, case_id)
    return services.case_claim(actor=principal, case=case)


@router.post("/{uuid:case_id}/release", response={200: CaseOut, **_WRITE_ERRORS}, summary="退回签收")
@requires_any(CASE_INTAKE, CASE_APPROVE)
def case_release(request: HttpRequest, case_id: UUID):
    principal = principal_of(request)
    case = selectors.case_visible(principal, case_id)
    return services.case_release(actor=principal, case=case)


__all__ = ["router", "requires_any"]
