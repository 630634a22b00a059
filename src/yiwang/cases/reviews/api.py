"""API: 好差评 (service ratings) and 差评整改 (rectification), mounted at /api/reviews.

Applicants rate their own concluded case or 一件事 once and answer the department's reply (their own rating
supersedes a window rating); window clerks record a rating given at the window — for a case their hall handled,
addressed by its public id, with the one-time code the applicant received (two steps: /window/code, /window); department heads reply to the rectifications of their department; supervisors
close them and read the reports. Rules are cases.reviews.services, scoping cases.reviews.selectors.
Errors are problem+json: 401 without credentials, 403 without the permission or for another department's
rectification, 404 for an invisible case, 422 with field errors for bad input or a step the state forbids.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, requires, requires_any
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import CASE_INTAKE, REVIEW_RECTIFY, REVIEW_SUPERVISE, SELF_SERVICE
from yiwang.core.schemas import ProblemOut

from .. import selectors
from ..bundles.selectors import bundle_case_visible
from ..models import Rectification, Review
from . import selectors as review_selectors
from . import services as review_services
from . import window as window_services

router = Router(tags=["reviews"])

_READ_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


# --- schemas -------------------------------------------------------------------------------------------------
class ReviewIn(Schema):
    case_id: UUID | None = Field(None, description="办件标识（与 bundle_case_id 二选一）")
    bundle_case_id: UUID | None = Field(None, description="一件事办件标识（与 case_id 二选一）")
    overall: int = Field(description="总体评价 1—5：1 非常不满意、2 不满意、3 基本满意、4 满意、5 非常满意")
    scores: dict[str, int] = Field(
        description="分项评价 1—5，各项必填：guide 办事指南清晰、process 办理流程便捷、timeliness 办理时效、"
        "attitude 服务态度、result 办理结果"
    )
    comment: str = Field("", description="评价内容（选填，最多 500 字）")


class WindowSubjectIn(Schema):
    case_id: UUID | None = Field(None, description="办件标识（与 bundle_case_id 二选一）")
    bundle_case_id: UUID | None = Field(None, description="一件事办件标识（与 case_id 二选一）")


class WindowCodeOut(Schema):
    expires_at: datetime = Field(description="验证码有效期至")
    sent_to: str = Field(description="发送方式（脱敏），验证码本身不返回")
    tries: int = Field(description="可输错次数")


class WindowReviewIn(WindowSubjectIn):
    code: str = Field(max_length=12, description="申请人收到并告知窗口人员的 6 位验证码")
    overall: int = Field(description="总体评价 1—5")
    scores: dict[str, int] = Field(description="分项评价 1—5，各项必填")
    comment: str = Field("", description="评价内容（选填，最多 500 字）")


class WindowSubjectOut(Schema):
    kind: Literal["case", "bundle"]
    id: UUID = Field(description="办件或一件事办件标识（评价时作为 case_id 或 bundle_case_id）")
    number: str
    item_name: str
    department: str
    state_label: str
    concluded_at: datetime | None = None
    applicant: str = Field(description="申请人（脱敏）")
    rateable: bool = Field(description="现在能否录入窗口评价")
    reason: str = Field(description="不能评价的原因")
    rated: bool = Field(description="是否已有评价")
    code_expires_at: datetime | None = Field(None, description="本人发送、仍有效的验证码的有效期")

    @staticmethod
    def resolve_id(obj) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_rated(obj) -> bool:
        return obj.review is not None

    @staticmethod
    def resolve_code_expires_at(obj):
        return obj.code.expires_at if obj.code is not None else None


class WindowSubjectQuery(Schema):
    number: str = Field(min_length=1, max_length=40, description="办件编号或一件事编号（回执上的编号）")


class RectificationOut(Schema):
    id: UUID
    review_id: UUID
    status: str = Field(
        description="open 待整改 / replied 已答复 / confirmed 申请人认可 / rejected 申请人不认可 / closed 已办结"
    )
    status_label: str
    department_code: str
    department_name: str
    deadline: date = Field(description="整改期限（工作日计算；申请人不认可后重新计算）")
    overdue: bool
    rounds: int = Field(description="部门答复轮次")
    reply: str
    replied_at: datetime | None = None
    applicant_note: str
    responded_at: datetime | None = None
    close_note: str
    closed_at: datetime | None = None
    case_number: str | None = None
    item_name: str
    overall: int

    @staticmethod
    def resolve_id(obj) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_review_id(obj) -> UUID:
        return obj.review.public_id

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_department_code(obj) -> str:
        return obj.department.code

    @staticmethod
    def resolve_department_name(obj) -> str:
        return obj.department.name

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return obj.status in (Rectification.Status.OPEN, Rectification.Status.REJECTED) and (
            obj.deadline < timezone.localdate()
        )

    @staticmethod
    def resolve_case_number(obj) -> str | None:
        review = obj.review
        return review.case.number if review.case_id else review.bundle_case.number

    @staticmethod
    def resolve_item_name(obj) -> str:
        return obj.review.item_name

    @staticmethod
    def resolve_overall(obj) -> int:
        return obj.review.overall


class ReviewOut(Schema):
    id: UUID
    case_id: UUID | None = None
    case_number: str | None = None
    bundle_case_id: UUID | None = None
    bundle_case_number: str | None = None
    department_code: str
    department_name: str
    item_code: str
    item_name: str
    staff_name: str | None = Field(None, description="作出决定或办结的工作人员（一件事为空）")
    channel: str = Field(description="online 网上评价 / window 窗口协助评价")
    assisted: bool = Field(description="是否由窗口人员协助录入")
    overall: int
    overall_label: str
    scores: dict[str, int]
    comment: str
    created_at: datetime
    rectification: RectificationOut | None = None

    @staticmethod
    def resolve_id(obj) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_case_id(obj) -> UUID | None:
        return obj.case.public_id if obj.case_id else None

    @staticmethod
    def resolve_case_number(obj) -> str | None:
        return obj.case.number if obj.case_id else None

    @staticmethod
    def resolve_bundle_case_id(obj) -> UUID | None:
        return obj.bundle_case.public_id if obj.bundle_case_id else None

    @staticmethod
    def resolve_bundle_case_number(obj) -> str | None:
        return obj.bundle_case.number if obj.bundle_case_id else None

    @staticmethod
    def resolve_department_code(obj) -> str:
        return obj.department.code

    @staticmethod
    def resolve_department_name(obj) -> str:
        return obj.department.name

    @staticmethod
    def resolve_staff_name(obj) -> str | None:
        return obj.staff.name if obj.staff_id else None

    @staticmethod
    def resolve_assisted(obj) -> bool:
        return obj.channel == Review.Channel.WINDOW

    @staticmethod
    def resolve_overall_label(obj) -> str:
        return str(review_services.OVERALL_LEVELS.get(obj.overall, ""))

    @staticmethod
    def resolve_rectification(obj):
        try:
            return obj.rectification
        except Rectification.DoesNotExist:
            return None


class ReviewPage(Schema):
    items: list[ReviewOut]
    next_cursor: str | None = None


class RectificationPage(Schema):
    items: list[RectificationOut]
    next_cursor: str | None = None


class ReplyIn(Schema):
    reply: str = Field(description="核实情况与整改措施")


class RespondIn(Schema):
    accepted: bool = Field(
        description="true 认可整改答复；false 不认可（须填写 note，部门须在新期限内重新答复）"
    )
    note: str = ""


class RectificationCloseIn(Schema):
    note: str = Field("", description="办结说明；申请人未认可（已答复或不认可）时必填")


class ReportRowOut(Schema):
    key: str = Field(description="部门标识、事项编码或工作人员标识（空为自动办结）")
    label: str
    detail: str = ""
    concluded: int = Field(description="期间内办结件数")
    ratings: int
    good: int = Field(description="满意及非常满意（4—5）")
    bad: int = Field(description="差评（1—2）")
    rectified: int = Field(description="整改已办结的差评")
    average: float | None = None
    rating_rate: float | None = Field(None, description="评价率＝评价数÷办结件数")
    satisfaction_rate: float | None = Field(None, description="满意率＝满意及非常满意÷评价数")
    rectification_rate: float | None = Field(None, description="差评整改率＝整改已办结÷差评数")


class ReportOut(Schema):
    group_by: str
    start: date
    end: date
    rows: list[ReportRowOut]
    totals: ReportRowOut
    distribution: dict[str, int] = Field(description="总体评价 1—5 各档数量")


class RectificationQuery(Schema):
    status: str = Field("active", description="active 待处理（默认）/ closed / all / 具体状态")
    cursor: str | None = Field(None, max_length=CURSOR_MAX)
    limit: int = Field(20, ge=1, le=100)


class ReportQuery(Schema):
    group_by: Literal["department", "item", "staff"] = "department"
    start: date | None = Field(None, description="开始日期（办结时间，含），默认 90 天前")
    end: date | None = Field(None, description="结束日期（含），默认今天")


class ReviewMineQuery(Schema):
    cursor: str | None = Field(None, max_length=CURSOR_MAX)
    limit: int = Field(20, ge=1, le=100)


def _review(review: Review) -> Review:
    return Review.objects.select_related(*review_selectors.REVIEW_RELATED).get(pk=review.pk)


def _row(r) -> dict:
    return {
        "key": r.key,
        "label": r.label,
        "detail": r.detail,
        "concluded": r.concluded,
        "ratings": r.ratings,
        "good": r.good,
        "bad": r.bad,
        "rectified": r.rectified,
        "average": r.average,
        "rating_rate": r.rating_rate,
        "satisfaction_rate": r.satisfaction_rate,
        "rectification_rate": r.rectification_rate,
    }


# --- ratings -------------------------------------------------------------------------------------------------
@router.post(
    "/",
    response={201: ReviewOut, **_READ_ERRORS},
    summary="评价本人已办结的办件或一件事（每件一次；1—2 分为差评，自动转部门整改）",
)
@requires(SELF_SERVICE)
def review_create(request: HttpRequest, payload: ReviewIn):
    principal = principal_of(request)
    if (payload.case_id is None) == (payload.bundle_case_id is None):
        raise ValidationError({"case_id": _("请指定要评价的办件或一件事（二选一）。")})
    case = bundle_case = None
    if payload.case_id is not None:
        case = selectors.case_visible(principal, payload.case_id)
    else:  # as for a case: whoever may see it gets this far, the service lets only its applicant rate it
        bundle_case = bundle_case_visible(principal, payload.bundle_case_id)
    review = review_services.review_submit(
        actor=principal,
        case=case,
        bundle_case=bundle_case,
        overall=payload.overall,
        scores=payload.scores,
        comment=payload.comment,
    )
    return Status(201, _review(review))


@router.get(
    "/mine", response={200: ReviewPage, **_READ_ERRORS}, summary="我的评价（含窗口协助评价）及整改答复"
)
@requires(SELF_SERVICE)
def review_mine(request: HttpRequest, query: Query[ReviewMineQuery]):
    page = review_selectors.reviews_mine(principal_of(request), cursor=query.cursor, limit=query.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


def _window_target(request: HttpRequest, payload: WindowSubjectIn) -> dict:
    subject = review_selectors.review_window_subject(
        principal_of(request), case_id=payload.case_id, bundle_case_id=payload.bundle_case_id
    )
    return {"case": subject.obj} if subject.kind == "case" else {"bundle_case": subject.obj}


@router.get(
    "/window/subject",
    response={200: WindowSubjectOut, **_READ_ERRORS},
    summary="窗口评价：按回执上的编号查找本窗口（本大厅）经办的已办结办件或一件事（其他大厅的办件返回 404）",
)
@requires(CASE_INTAKE)
def review_window_subject(request: HttpRequest, query: Query[WindowSubjectQuery]):
    return review_selectors.review_window_find(principal_of(request), query.number)


@router.post(
    "/window/code",
    response={201: WindowCodeOut, 429: ProblemOut, **_READ_ERRORS},
    summary="窗口评价第一步：向申请人发送一次性验证码（站内消息和短信；限本窗口经办的办件，发送频率受限）",
)
@requires(CASE_INTAKE)
def review_window_code(request: HttpRequest, payload: WindowSubjectIn):
    row = window_services.review_window_code_send(
        actor=principal_of(request), **_window_target(request, payload)
    )
    return Status(
        201,
        {"expires_at": row.expires_at, "sent_to": row.sent_to, "tries": window_services.WINDOW_CODE_TRIES},
    )


@router.post(
    "/window",
    response={201: ReviewOut, **_READ_ERRORS},
    summary="窗口评价第二步：录入申请人在窗口作出的评价，附申请人收到的验证码（限本窗口经办的已办结办件或一件事；"
    "申请人此后仍可网上评价，以其本人评价为准）",
)
@requires(CASE_INTAKE)
def review_window(request: HttpRequest, payload: WindowReviewIn):
    review = window_services.review_submit_at_window(
        actor=principal_of(request),
        code=payload.code,
        overall=payload.overall,
        scores=payload.scores,
        comment=payload.comment,
        **_window_target(request, payload),
    )
    return Status(201, _review(review))


# --- rectifications --------------------------------------------------------------------------------------------
@router.get(
    "/rectifications",
    response={200: RectificationPage, **_READ_ERRORS},
    summary="差评整改列表（部门负责人：本部门及下属部门；监督员：全区），按整改期限排序",
)
@requires_any(REVIEW_RECTIFY, REVIEW_SUPERVISE)
def rectification_list(request: HttpRequest, query: Query[RectificationQuery]):
    page = review_selectors.rectifications_for(
        principal_of(request), status=query.status, cursor=query.cursor, limit=query.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post(
    "/rectifications/{uuid:rect_id}/reply",
    response={200: RectificationOut, **_READ_ERRORS},
    summary="部门答复整改（待整改或申请人不认可时）",
)
@requires(REVIEW_RECTIFY)
def rectification_reply(request: HttpRequest, rect_id: UUID, payload: ReplyIn):
    rect = review_selectors.rectification_get(rect_id)
    return review_services.rectification_reply(
        actor=principal_of(request), rectification=rect, reply=payload.reply
    )


@router.post(
    "/rectifications/{uuid:rect_id}/respond",
    response={200: RectificationOut, **_READ_ERRORS},
    summary="评价人认可或不认可部门的整改答复",
)
@requires(SELF_SERVICE)
def rectification_respond(request: HttpRequest, rect_id: UUID, payload: RespondIn):
    rect = review_selectors.rectification_get(rect_id)
    return review_services.rectification_respond(
        actor=principal_of(request), rectification=rect, accepted=payload.accepted, note=payload.note
    )


@router.post(
    "/rectifications/{uuid:rect_id}/close",
    response={200: RectificationOut, **_READ_ERRORS},
    summary="监督员办结整改（申请人认可后；或已答复、不认可时附说明）",
)
@requires(REVIEW_SUPERVISE)
def rectification_close(request: HttpRequest, rect_id: UUID, payload: RectificationCloseIn):
    rect = review_selectors.rectification_get(rect_id)
    return review_services.rectification_close(
        actor=principal_of(request), rectification=rect, note=payload.note
    )


# --- report --------------------------------------------------------------------------------------------------
@router.get(
    "/report",
    response={200: ReportOut, **_READ_ERRORS},
    summary="好差评统计：按部门、事项或人员的办结件数、评价率、满意率、差评整改率",
)
@requires_any(REVIEW_SUPERVISE, REVIEW_RECTIFY)
def review_report(request: HttpRequest, query: Query[ReportQuery]):
    report = review_selectors.review_report(
        principal_of(request), group_by=query.group_by, start=query.start, end=query.end
    )
    return {
        "group_by": report.group_by,
        "start": report.start,
        "end": report.end,
        "rows": [_row(r) for r in report.rows],
        "totals": _row(report.totals),
        "distribution": {str(k): v for k, v in report.distribution.items()},
    }
