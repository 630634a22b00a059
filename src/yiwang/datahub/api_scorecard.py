"""API: 数据治理考核 and the CDO roster (/api/datahub/scorecard).

Scorecards: the periods (computed ones and this quarter, the last, this year), the ranking of a period with every
department's metric scores, one department's breakdown with its trend, the ranking as xlsx (通报), and a
recomputation now (the centre). Weights: read (data officers), set (the centre). CDOs: the roster (serving, ended
or all; keyset), one appointment, appoint, correct the title and duties, end a term (the centre).

Everyone with DATA_STEWARD reads everything here (通报 is public inside government); writes need DATA_CENTRE.
Periods are "2026-Q4" or "2026"; anything else is 422 with a field message. Errors are problem+json.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.models import Department, Staff
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.schemas import ProblemOut

from .models import CdoAppointment, ScoreMetric
from .selectors import scorecard as sel
from .services.scorecard import cdo_appoint, cdo_end, cdo_update, score_weight_update, scorecard_compute

router = Router(tags=["数据治理考核"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_RESPONSE = {
    200: {
        "description": "考核排名 Excel（附件下载）",
        "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
    }
}


# --- schemas -----------------------------------------------------------------------------------------------------
class DepartmentRef(Schema):
    code: str
    name: str


class PeriodOut(Schema):
    period: str = Field(description="考核周期：2026-Q4（季度）或 2026（年度）")
    label: str
    start: date
    end: date
    computed: bool
    departments: int = Field(description="参加排名的部门数")
    computed_at: datetime | None = None


class MetricOut(Schema):
    metric: str
    label: str
    value: float | None = Field(None, description="指标原值（% 、分、小时或个数，见 value_text）")
    value_text: str
    score: float | None = Field(None, description="0–100；无数据时为空")
    weight: float = Field(description="设定权重")
    share: float = Field(description="实际权重（%）：无数据指标的权重按比例分给其他指标")
    detail: dict[str, Any]
    summary: str


class CardOut(Schema):
    department: DepartmentRef
    rank: int | None = None
    total: float
    metrics: list[MetricOut]


class WeightOut(Schema):
    metric: str
    label: str
    weight: float
    target: float | None = None
    is_active: bool
    rule: str


class RankingOut(Schema):
    period: PeriodOut
    weights: list[WeightOut]
    items: list[CardOut]


class TrendOut(Schema):
    period: str
    total: float
    rank: int | None = None
    of: int = Field(description="该期参加排名的部门数")


class ScorecardDepartmentOut(Schema):
    period: PeriodOut
    card: CardOut
    ranked: int
    trend: list[TrendOut]


class ComputedOut(Schema):
    period: PeriodOut
    departments: int


class WeightIn(Schema):
    weight: Decimal = Field(description="0–100")
    target: Decimal | None = Field(None, description="计数类指标（开放数据集）的满分目标")
    is_active: bool = True


class StaffRef(Schema):
    id: UUID
    name: str
    department: DepartmentRef


class CdoOut(Schema):
    id: UUID
    level: str
    level_label: str
    department: DepartmentRef | None = None
    staff: StaffRef
    title: str
    duties: str
    appointed_on: date
    ended_on: date | None = None
    serving: bool


class CdoPageOut(Schema):
    items: list[CdoOut]
    next_cursor: str | None = None


class CdoIn(Schema):
    level: str = Field(description="district / department / deputy", max_length=16)
    department: str | None = Field(None, description="部门编码；区级首席数据官为空", max_length=20)
    staff: UUID = Field(description="人员标识（public id）")
    title: str = Field(max_length=60)
    duties: str = Field("", max_length=4000)
    appointed_on: date
    replace: bool = Field(False, description="替换在任的区级或部门首席数据官（其任期于任命日结束）")


class CdoPatchIn(Schema):
    title: str = Field(max_length=60)
    duties: str = Field("", max_length=4000)


class CdoEndIn(Schema):
    ended_on: date | None = Field(None, description="免职日期，默认今天")
    note: str = Field("", max_length=500)


# --- shaping ----------------------------------------------------------------------------------------------------
def _period(period, summary=None) -> dict:
    return {
        "period": period.code,
        "label": period.label,
        "start": period.start,
        "end": period.end,
        "computed": bool(summary and summary.computed),
        "departments": summary.departments if summary else 0,
        "computed_at": summary.computed_at if summary else None,
    }


def _card(card) -> dict:
    return {
        "department": {"code": card.department.code, "name": card.department.name},
        "rank": card.rank,
        "total": float(card.total),
        "metrics": [
            {
                "metric": row.metric,
                "label": row.label,
                "value": row.entry.get("value"),
                "value_text": row.value_text,
                "score": row.score,
                "weight": row.weight or 0,
                "share": row.share or 0,
                "detail": row.entry.get("detail") or {},
                "summary": row.summary,
            }
            for row in sel.metric_rows(card)
        ],
    }


def _weight(w) -> dict:
    return {
        "metric": w.metric,
        "label": str(ScoreMetric(w.metric).label),
        "weight": float(w.weight),
        "target": float(w.target) if w.target is not None else None,
        "is_active": w.is_active,
        "rule": sel.metric_rule(w.metric),
    }


def _ranking_summary(ranking):
    return sel.PeriodSummary(ranking.period, len(ranking.cards), ranking.computed_at)


def _cdo(a: CdoAppointment) -> dict:
    return {
        "id": a.public_id,
        "level": a.level,
        "level_label": str(a.get_level_display()),
        "department": {"code": a.department.code, "name": a.department.name} if a.department_id else None,
        "staff": {
            "id": a.staff.public_id,
            "name": a.staff.name,
            "department": {"code": a.staff.department.code, "name": a.staff.department.name},
        },
        "title": a.title,
        "duties": a.duties,
        "appointed_on": a.appointed_on,
        "ended_on": a.ended_on,
        "serving": a.ended_on is None,
    }


# --- scorecards ----------------------------------------------------------------------------------------------
@router.get(
    "/periods",
    response={200: list[PeriodOut], **_READ},
    summary="考核周期（已计算的与本季度、上季度、本年度）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def periods_list(request: HttpRequest):
    return [_period(s.period, s) for s in sel.scorecard_periods(principal_of(request))]


@router.get(
    "/periods/{period}", response={200: RankingOut, **_READ}, summary="某一周期的部门考核排名与分项得分"
)
@requires(DATA_STEWARD, DATA_CENTRE)
def ranking_get(request: HttpRequest, period: str):
    ranking = sel.scorecard_ranking(principal_of(request), period)
    return {
        "period": _period(ranking.period, _ranking_summary(ranking)),
        "weights": [_weight(w) for w in ranking.weights],
        "items": [_card(c) for c in ranking.cards],
    }


@router.get(
    "/periods/{period}/departments/{code}",
    response={200: ScorecardDepartmentOut, **_READ},
    summary="某部门某一周期的分项得分与历次趋势",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def department_get(request: HttpRequest, period: str, code: str):
    view = sel.scorecard_department(principal_of(request), period, code)
    return {
        "period": _period(view.period, sel.PeriodSummary(view.period, view.ranked, view.card.computed_at)),
        "card": _card(view.card),
        "ranked": view.ranked,
        "trend": [
            {"period": p.period, "total": float(p.total), "rank": p.rank, "of": p.of} for p in view.trend
        ],
    }


@router.get(
    "/periods/{period}/export",
    response=_READ,
    openapi_extra={"responses": XLSX_RESPONSE},
    summary="导出考核排名（xlsx，用于通报）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def ranking_export(request: HttpRequest, period: str):
    ranking, data = sel.scorecard_xlsx(principal_of(request), period)
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="scorecard-{ranking.period.code}.xlsx"'
    return response


@router.post(
    "/periods/{period}/compute", response={200: ComputedOut, **_READ}, summary="立即重新计算该周期的考核结果"
)
@requires(DATA_CENTRE)
def ranking_compute(request: HttpRequest, period: str):
    done = scorecard_compute(actor=principal_of(request), period=period)
    summary = sel.PeriodSummary(done.period, len(done.cards), done.computed_at)
    return {"period": _period(done.period, summary), "departments": len(done.cards)}


@router.get("/weights", response={200: list[WeightOut], **_READ}, summary="考核指标权重与计分规则")
@requires(DATA_STEWARD, DATA_CENTRE)
def weights_list(request: HttpRequest):
    sel.scorecard_require_viewer(principal_of(request))
    return [_weight(w) for w in sel.score_weights_current()]


@router.put("/weights/{metric}", response={200: WeightOut, **_READ}, summary="设定一项指标的权重与满分目标")
@requires(DATA_CENTRE)
def weight_put(request: HttpRequest, metric: str, payload: WeightIn):
    if metric not in ScoreMetric.values:
        raise ValidationError({"metric": _("没有这个考核指标。")})
    row = score_weight_update(
        actor=principal_of(request),
        metric=metric,
        weight=payload.weight,
        target=payload.target,
        is_active=payload.is_active,
    )
    return _weight(row)


# --- CDO roster -----------------------------------------------------------------------------------------------
class RosterQuery(Schema):
    status: str = Field("serving", description="serving 在任 / ended 已离任 / all 全部", max_length=10)
    level: str = Field("", description="district / department / deputy", max_length=16)
    department: str = Field("", description="部门编码", max_length=20)
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)


@router.get("/cdos", response={200: CdoPageOut, **_READ}, summary="首席数据官名册（按任命先后，分页）")
@requires(DATA_STEWARD, DATA_CENTRE)
def cdos_list(request: HttpRequest, q: Query[RosterQuery]):
    serving = {"serving": True, "ended": False, "all": None}
    if q.status not in serving:
        raise ValidationError({"status": _("取值应为 serving、ended 或 all。")})
    if q.level and q.level not in CdoAppointment.Level.values:
        raise ValidationError({"level": _("取值应为 district、department 或 deputy。")})
    page = sel.cdo_roster_page(
        principal_of(request),
        serving=serving[q.status],
        level=q.level,
        department_code=q.department,
        cursor=q.cursor,
        limit=q.limit,
    )
    return {"items": [_cdo(a) for a in page.items], "next_cursor": page.next_cursor}


@router.get("/cdos/{uuid:cdo_id}", response={200: CdoOut, **_READ}, summary="一条任职记录")
@requires(DATA_STEWARD, DATA_CENTRE)
def cdo_get(request: HttpRequest, cdo_id: UUID):
    return _cdo(sel.cdo_get(principal_of(request), cdo_id))


@router.post("/cdos", response={201: CdoOut, **_READ}, summary="任命首席数据官或数据专员（联络人）")
@requires(DATA_CENTRE)
def cdo_create(request: HttpRequest, payload: CdoIn):
    department = None
    if payload.department:
        department = Department.objects.filter(code=payload.department).first()
        if department is None:
            raise ValidationError({"department": _("没有这个部门。")})
    staff = Staff.objects.filter(public_id=payload.staff).select_related("department").first()
    if staff is None:
        raise ValidationError({"staff": _("没有这个人员。")})
    appointment = cdo_appoint(
        actor=principal_of(request),
        level=payload.level,
        department=department,
        staff=staff,
        title=payload.title,
        duties=payload.duties,
        appointed_on=payload.appointed_on,
        replace=payload.replace,
    )
    return Status(201, _cdo(sel.cdo_get(principal_of(request), appointment.public_id)))


@router.patch("/cdos/{uuid:cdo_id}", response={200: CdoOut, **_READ}, summary="修改职务与职责")
@requires(DATA_CENTRE)
def cdo_patch(request: HttpRequest, cdo_id: UUID, payload: CdoPatchIn):
    principal = principal_of(request)
    row = cdo_update(
        actor=principal,
        appointment=sel.cdo_get(principal, cdo_id),
        title=payload.title,
        duties=payload.duties,
    )
    return _cdo(sel.cdo_get(principal, row.public_id))


@router.post("/cdos/{uuid:cdo_id}/end", response={200: CdoOut, **_READ}, summary="免职（结束任期）")
@requires(DATA_CENTRE)
def cdo_end_post(request: HttpRequest, cdo_id: UUID, payload: CdoEndIn):
    principal = principal_of(request)
    row = cdo_end(
        actor=principal,
        appointment=sel.cdo_get(principal, cdo_id),
        ended_on=payload.ended_on,
        note=payload.note,
    )
    return _cdo(sel.cdo_get(principal, row.public_id))
