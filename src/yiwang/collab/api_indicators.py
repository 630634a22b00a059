"""API: 一网协同 — 指标与绩效考评 (mounted at /api/collab/indicators).

- `GET /metrics`: the registered formulas; `GET ""`, `GET /{ref}` (public id or code): the library (COLLAB_WORK);
  `POST ""`, `PATCH /{ref}` (TASK_ISSUE).
- `GET /{ref}/values?period_start=&department=`: computed values, keyset-paged, scoped (own unit unless the caller
  holds TASK_ISSUE or COLLAB_ADOPTION); `POST /{ref}/compute` (TASK_ISSUE): compute a period now (default: the
  current one), breaches open 督办 tasks.
- `GET /plans`, `POST /plans`, `PATCH /plans/{code}` (TASK_ISSUE); `POST /plans/{code}/compute` (TASK_ISSUE);
  `GET /plans/{code}/scores?period_start=` (ranking, scoped); `GET /plans/{code}/scores.xlsx?period_start=`.

Errors are problem+json: 401, 403, 404 (unknown id or code), 422 (field errors; nothing written).

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.models import Department
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import COLLAB_WORK, TASK_ISSUE
from yiwang.core.schemas import ProblemOut

from .metrics import METRICS
from .models import Indicator, IndicatorValue, PerformancePlan, PerformanceScore
from .selectors import indicators as sel
from .services.indicators import indicator_compute, indicator_create, indicator_update, period_bounds
from .services.performance import performance_compute, plan_create, plan_update

router = Router(tags=["一网协同：指标与绩效考评"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


# --- schemas -------------------------------------------------------------------------------------------------------
class IndicatorUnitRef(Schema):
    code: str
    name: str


class IndicatorMetricOut(Schema):
    code: str
    label: str
    unit: str
    scopes: list[str]
    direction: str
    category: str
    description: str


class IndicatorOut(Schema):
    id: UUID
    code: str
    name: str
    definition: str
    metric: str
    unit: str
    direction: str
    scope: str
    category: str
    owner_department: IndicatorUnitRef
    period: str
    target: Decimal
    threshold: Decimal
    weight: Decimal
    opens_task: bool
    task_workdays: int
    is_active: bool


class IndicatorPageOut(Schema):
    items: list[IndicatorOut]
    next_cursor: str | None = None


class IndicatorIn(Schema):
    code: str = Field(max_length=32, description="指标编码")
    name: str = Field(max_length=100)
    definition: str = Field(max_length=4000)
    metric: str = Field(max_length=64, description="指标算法（GET /metrics）")
    owner_department: str = Field(max_length=20, description="责任部门编码")
    target: Decimal
    threshold: Decimal
    scope: str = "department"
    period: str = "monthly"
    unit: str = ""
    direction: str = ""
    category: str = ""
    weight: Decimal = Decimal(1)
    opens_task: bool = True
    task_workdays: int = 10
    is_active: bool = True


class IndicatorPatchIn(Schema):
    name: str | None = Field(None, max_length=100)
    definition: str | None = Field(None, max_length=4000)
    metric: str | None = Field(None, max_length=64)
    owner_department: str | None = Field(None, max_length=20)
    target: Decimal | None = None
    threshold: Decimal | None = None
    scope: str | None = None
    period: str | None = None
    unit: str | None = None
    direction: str | None = None
    category: str | None = None
    weight: Decimal | None = None
    opens_task: bool | None = None
    task_workdays: int | None = None
    is_active: bool | None = None


class IndicatorValueOut(Schema):
    indicator: str
    department: IndicatorUnitRef
    period_start: date
    period_end: date
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    breached: bool
    computed_at: datetime


class IndicatorValuePageOut(Schema):
    items: list[IndicatorValueOut]
    next_cursor: str | None = None


class IndicatorComputeIn(Schema):
    period_start: date | None = Field(None, description="周期内任一日期；空为当前周期")


class IndicatorTaskRef(Schema):
    id: UUID
    code: str
    lead_department: str


class IndicatorComputeOut(Schema):
    indicator: str
    period_start: date
    period_end: date
    units: int
    breached: int
    tasks_opened: list[IndicatorTaskRef]
    recovered: list[IndicatorTaskRef]


class PerformancePlanOut(Schema):
    code: str
    name: str
    scope: str
    public_weight: int
    indicators: list[str]
    is_active: bool


class PerformancePlanIn(Schema):
    code: str = Field(max_length=32)
    name: str = Field(max_length=100)
    scope: str = "department"
    public_weight: int = 30
    indicators: list[str] = Field(default_factory=list, description="指标编码")
    is_active: bool = True


class PerformancePlanPatchIn(Schema):
    name: str | None = Field(None, max_length=100)
    public_weight: int | None = None
    indicators: list[str] | None = None
    is_active: bool | None = None


class PerformanceComputeIn(Schema):
    period_start: date
    period_end: date


class PerformancePartOut(Schema):
    indicator: str
    name: str
    category: str
    value: float
    points: float
    weight: float


class PerformanceScoreOut(Schema):
    department: IndicatorUnitRef
    period_start: date
    period_end: date
    score: Decimal
    governance_score: Decimal
    public_score: Decimal
    rank: int
    parts: list[PerformancePartOut]


class PerformanceRankingOut(Schema):
    plan: str
    period_start: date
    items: list[PerformanceScoreOut]


# --- shaping -------------------------------------------------------------------------------------------------------
def _ref(d: Department) -> dict:
    return {"code": d.code, "name": d.name}


def _indicator_out(i: Indicator) -> dict:
    return {
        "id": i.public_id,
        "code": i.code,
        "name": i.name,
        "definition": i.definition,
        "metric": i.metric,
        "unit": i.unit,
        "direction": i.direction,
        "scope": i.scope,
        "category": i.category,
        "owner_department": _ref(i.owner_department),
        "period": i.period,
        "target": i.target,
        "threshold": i.threshold,
        "weight": i.weight,
        "opens_task": i.opens_task,
        "task_workdays": i.task_workdays,
        "is_active": i.is_active,
    }


def _value_out(indicator: Indicator, v: IndicatorValue) -> dict:
    return {
        "indicator": indicator.code,
        "department": _ref(v.department),
        "period_start": v.period_start,
        "period_end": v.period_end,
        "value": v.value,
        "numerator": v.numerator,
        "denominator": v.denominator,
        "breached": v.breached,
        "computed_at": v.computed_at,
    }


def _plan_out(p: PerformancePlan) -> dict:
    return {
        "code": p.code,
        "name": p.name,
        "scope": p.scope,
        "public_weight": p.public_weight,
        "indicators": sorted(i.code for i in p.indicators.all()),
        "is_active": p.is_active,
    }


def _score_out(s: PerformanceScore) -> dict:
    return {
        "department": _ref(s.department),
        "period_start": s.period_start,
        "period_end": s.period_end,
        "score": s.score,
        "governance_score": s.governance_score,
        "public_score": s.public_score,
        "rank": s.rank,
        "parts": s.parts,
    }


def _department(code: str | None, field: str = "owner_department") -> Department:
    department = Department.objects.filter(code=(code or "").strip()[:20]).first()
    if department is None:
        raise ValidationError({field: _("没有这个部门。")}, code="invalid")
    return department


def _indicators(codes: list[str]) -> list[Indicator]:
    codes = [c.strip() for c in codes[:100]]
    found = list(Indicator.objects.filter(code__in=codes))
    unknown = set(codes) - {i.code for i in found}
    if unknown:
        raise ValidationError(
            {"indicators": _("没有这些指标：%(codes)s") % {"codes": "、".join(sorted(unknown)[:10])}}
        )
    return found


# --- the library ---------------------------------------------------------------------------------------------------
@router.get("/metrics", response={200: list[IndicatorMetricOut], **_READ}, summary="可用的指标算法")
@requires(COLLAB_WORK)
def metrics_list(request: HttpRequest):
    return [
        {
            "code": m.code,
            "label": str(m.label),
            "unit": str(m.unit),
            "scopes": list(m.scopes),
            "direction": m.direction,
            "category": m.category,
            "description": m.description,
        }
        for m in METRICS.values()
    ]


# Plans come before /{ref} so "plans" is never read as an indicator code.
@router.get("/plans", response={200: list[PerformancePlanOut], **_READ}, summary="绩效考评方案")
@requires(COLLAB_WORK)
def plans_list(request: HttpRequest):
    return [_plan_out(p) for p in sel.plan_list(principal_of(request))]


@router.post("/plans", response={201: PerformancePlanOut, **_READ}, summary="新建绩效考评方案")
@requires(TASK_ISSUE)
def plans_create(request: HttpRequest, payload: PerformancePlanIn):
    plan = plan_create(
        actor=principal_of(request),
        code=payload.code,
        name=payload.name,
        scope=payload.scope,
        public_weight=payload.public_weight,
        indicators=_indicators(payload.indicators),
        is_active=payload.is_active,
    )
    return Status(201, _plan_out(plan))


@router.patch("/plans/{code}", response={200: PerformancePlanOut, **_READ}, summary="修改绩效考评方案")
@requires(TASK_ISSUE)
def plans_update(request: HttpRequest, code: str, payload: PerformancePlanPatchIn):
    principal = principal_of(request)
    plan = sel.plan_get(principal, code)
    plan = plan_update(
        actor=principal,
        plan=plan,
        name=payload.name,
        public_weight=payload.public_weight,
        indicators=_indicators(payload.indicators) if payload.indicators is not None else None,
        is_active=payload.is_active,
    )
    return _plan_out(plan)


@router.post(
    "/plans/{code}/compute", response={200: PerformanceRankingOut, **_READ}, summary="计算考评得分与排名"
)
@requires(TASK_ISSUE)
def plans_compute(request: HttpRequest, code: str, payload: PerformanceComputeIn):
    principal = principal_of(request)
    plan = sel.plan_get(principal, code)
    performance_compute(
        actor=principal, plan=plan, period_start=payload.period_start, period_end=payload.period_end
    )
    rows = sel.performance_ranking(principal, plan, payload.period_start)
    return {"plan": plan.code, "period_start": payload.period_start, "items": [_score_out(s) for s in rows]}


@router.get("/plans/{code}/scores", response={200: PerformanceRankingOut, **_READ}, summary="考评得分与排名")
@requires(COLLAB_WORK)
def plans_scores(request: HttpRequest, code: str, period_start: date | None = None):
    principal = principal_of(request)
    plan = sel.plan_get(principal, code)
    if period_start is None:
        periods = sel.performance_periods(principal, plan, limit=1)
        period_start = periods[0][0] if periods else timezone.localdate().replace(day=1)
    rows = sel.performance_ranking(principal, plan, period_start)
    return {"plan": plan.code, "period_start": period_start, "items": [_score_out(s) for s in rows]}


@router.get("/plans/{code}/scores.xlsx", response={200: None, **_READ}, summary="导出考评排名（xlsx）")
@requires(COLLAB_WORK)
def plans_scores_xlsx(request: HttpRequest, code: str, period_start: date):
    principal = principal_of(request)
    plan = sel.plan_get(principal, code)
    _rows, data = sel.performance_xlsx(principal, plan, period_start)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="performance-{plan.code}-{period_start}.xlsx"'
    return response


@router.get("", response={200: IndicatorPageOut, **_READ}, summary="指标库")
@requires(COLLAB_WORK)
def indicators_list(
    request: HttpRequest,
    q: str = Query("", max_length=50),
    scope: str = Query(""),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.indicator_list(principal_of(request), q=q, scope=scope, cursor=cursor, limit=limit)
    return {"items": [_indicator_out(i) for i in page.items], "next_cursor": page.next_cursor}


@router.post("", response={201: IndicatorOut, **_READ}, summary="新增指标")
@requires(TASK_ISSUE)
def indicators_create(request: HttpRequest, payload: IndicatorIn):
    data = payload.dict()
    data["owner_department"] = _department(data["owner_department"])
    indicator = indicator_create(actor=principal_of(request), **data)
    return Status(201, _indicator_out(indicator))


@router.get("/{ref}", response={200: IndicatorOut, **_READ}, summary="指标（id 或编码）")
@requires(COLLAB_WORK)
def indicators_get(request: HttpRequest, ref: str):
    return _indicator_out(sel.indicator_get(principal_of(request), ref))


@router.patch("/{ref}", response={200: IndicatorOut, **_READ}, summary="修改指标")
@requires(TASK_ISSUE)
def indicators_update(request: HttpRequest, ref: str, payload: IndicatorPatchIn):
    principal = principal_of(request)
    indicator = sel.indicator_get(principal, ref)
    changes = payload.dict(exclude_unset=True)
    changes = {k: v for k, v in changes.items() if v is not None}
    if "owner_department" in changes:
        changes["owner_department"] = _department(changes["owner_department"])
    return _indicator_out(indicator_update(actor=principal, indicator=indicator, **changes))


@router.get("/{ref}/values", response={200: IndicatorValuePageOut, **_READ}, summary="指标值（按单位、周期）")
@requires(COLLAB_WORK)
def indicators_values(
    request: HttpRequest,
    ref: str,
    period_start: date | None = None,
    department: str = Query("", max_length=20),
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    principal = principal_of(request)
    indicator = sel.indicator_get(principal, ref)
    page = sel.indicator_values(
        principal, indicator, period_start=period_start, department=department, cursor=cursor, limit=limit
    )
    return {"items": [_value_out(indicator, v) for v in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/{ref}/compute", response={200: IndicatorComputeOut, **_READ}, summary="立即计算（越限自动交办）"
)
@requires(TASK_ISSUE)
def indicators_compute(request: HttpRequest, ref: str, payload: IndicatorComputeIn):
    principal = principal_of(request)
    indicator = sel.indicator_get(principal, ref)
    start, end = period_bounds(indicator.period, payload.period_start or timezone.localdate())
    done = indicator_compute(actor=principal, indicator=indicator, period_start=start, period_end=end)

    def refs(tasks):
        return [{"id": t.public_id, "code": t.code, "lead_department": t.lead_department.code} for t in tasks]

    return {
        "indicator": indicator.code,
        "period_start": start,
        "period_end": end,
        "units": len(done.values),
        "breached": done.breached,
        "tasks_opened": refs(done.opened),
        "recovered": refs(done.recovered),
    }
