"""API: 一网统观 (operations dashboard figures) and 预警 (warnings), mounted at /api/incidents/ops.

Command-centre dispatchers and district administrators (INCIDENT_SUPERVISE) read the figures of what their centre
oversees (the district centre the whole district, a town centre its town) and acknowledge warnings. The same
functions as the dashboard page: `selectors_ops.py` (reads), `services/warnings.py` (acknowledge). Errors are problem+json: 401
without credentials, 403 without the permission, 404 for a warning outside the caller's scope, 422 with field
errors.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import INCIDENT_SUPERVISE
from yiwang.core.schemas import ProblemOut

from . import selectors_ops as stats
from .services import warnings as warning_services

router = Router(tags=["一网统管"])


_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}
Period = Literal["today", "7d", "30d"]


class PeriodQuery(Schema):
    period: Period = Field("today", description="today 今日 / 7d 近 7 天 / 30d 近 30 天（按登记时间）")


class MapQuery(PeriodQuery):
    town: str | None = Field(None, max_length=12, description="只看某镇街的网格（镇街区划代码）")


class CountOut(Schema):
    code: str
    name: str
    count: int


class SummaryOut(Schema):
    since: datetime = Field(description="统计起点（登记时间）")
    received: int = Field(description="期间内登记的工单")
    open: int = Field(description="当前未结案（待分拨、处置中、待核查）")
    pending: int = Field(description="当前待分拨")
    overdue: int = Field(description="当前超期未办结")
    closed: int = Field(description="期间内结案")
    open_warnings: int = Field(description="待处理预警")
    by_channel: list[CountOut]
    by_category: list[CountOut] = Field(description="按大类")
    by_leaf: list[CountOut] = Field(description="按小类")


class PerformanceRowOut(Schema):
    group: str = Field(description="department 承办单位 / town 镇街")
    code: str = Field(description="部门编码或镇街区划代码（空：网格处置或未定位）")
    name: str
    received: int
    closed: int
    on_time: int
    open: int
    overdue: int
    answered: int = Field(description="有答复的回访（满意、基本满意、不满意）")
    good: int = Field(description="满意与基本满意")
    with_caller: int = Field(description="有来电号码的工单")
    repeats: int = Field(description="来电人前 30 天内另有工单的")
    disposal_rate: float | None = Field(None, description="办结率＝结案÷受理，%")
    on_time_rate: float | None = Field(None, description="按期办结率＝按期结案÷结案，%")
    satisfaction_rate: float | None = Field(None, description="满意率＝（满意＋基本满意）÷有答复的回访，%")
    repeat_rate: float | None = Field(None, description="重复来电率，%")


class PerformanceOut(Schema):
    since: datetime
    departments: list[PerformanceRowOut]
    towns: list[PerformanceRowOut]


class WarningOut(Schema):
    id: int
    kind: str = Field(description="repeat 重复投诉 / cluster 区域聚集 / surge 类别激增")
    kind_label: str
    title: str
    state: str = Field(description="open 待处理 / acknowledged 已处理")
    count: int
    baseline: float | None = None
    category_code: str | None = None
    division_code: str | None = None
    town_code: str | None = None
    created_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    note: str

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_category_code(obj) -> str | None:
        return obj.category.code if obj.category_id else None

    @staticmethod
    def resolve_division_code(obj) -> str | None:
        return obj.division.code if obj.division_id else None

    @staticmethod
    def resolve_town_code(obj) -> str | None:
        return obj.town.code if obj.town_id else None

    @staticmethod
    def resolve_acknowledged_by(obj) -> str | None:
        return obj.acknowledged_by.name if obj.acknowledged_by_id else None


class WarningPage(Schema):
    items: list[WarningOut]
    next_cursor: str | None = None


class WarningQuery(Schema):
    kind: Literal["repeat", "cluster", "surge"] | None = None
    state: Literal["open", "acknowledged"] | None = None
    cursor: str | None = Field(None, max_length=CURSOR_MAX)
    limit: int = Field(50, ge=1, le=200)


class AcknowledgeIn(Schema):
    note: str = Field(max_length=2000, description="核实情况与处理措施")


@router.get(
    "/summary", response={200: SummaryOut, **_ERRORS}, summary="运行态势：受理、在办、超期、结案与来源分布"
)
@requires(INCIDENT_SUPERVISE)
def ops_summary(request: HttpRequest, query: Query[PeriodQuery]):
    principal = principal_of(request)
    summary = stats.ops_summary(principal, since=stats.period_since(query.period))
    return {**summary, "open_warnings": stats.warnings_open_count(principal)}


@router.get(
    "/map",
    response={200: dict, **_ERRORS},
    summary="网格地图：GeoJSON FeatureCollection，每个网格的在办、超期与期间受理件数",
)
@requires(INCIDENT_SUPERVISE)
def ops_map(request: HttpRequest, query: Query[MapQuery]):
    return stats.ops_map(
        principal_of(request), town_code=query.town or None, since=stats.period_since(query.period)
    )


@router.get(
    "/performance",
    response={200: PerformanceOut, **_ERRORS},
    summary="承办单位与镇街的办结率、按期办结率、满意率、重复来电率",
)
@requires(INCIDENT_SUPERVISE)
def ops_performance(request: HttpRequest, query: Query[PeriodQuery]):
    since = stats.period_since(query.period)
    rows = stats.unit_performance(principal_of(request), since=since)
    return {"since": since, "departments": stats.departments_of(rows), "towns": stats.towns_of(rows)}


@router.get("/warnings", response={200: WarningPage, **_ERRORS}, summary="预警列表（新的在前，游标分页）")
@requires(INCIDENT_SUPERVISE)
def warning_list(request: HttpRequest, query: Query[WarningQuery]):
    page = stats.warning_list_visible_to(
        principal_of(request), kind=query.kind, state=query.state, cursor=query.cursor, limit=query.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post(
    "/warnings/{int:warning_id}/acknowledge",
    response={200: WarningOut, **_ERRORS},
    summary="处理预警：填写处理说明（指挥中心）",
)
@requires(INCIDENT_SUPERVISE)
def warning_acknowledge(request: HttpRequest, warning_id: int, payload: AcknowledgeIn):
    principal = principal_of(request)
    warning = stats.warning_get_visible(principal, warning_id)
    warning = warning_services.warning_acknowledge(actor=principal, warning=warning, note=payload.note)
    return stats.warning_get_visible(principal, warning.pk)
