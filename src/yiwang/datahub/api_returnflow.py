"""API: 回流与离岸库 (/api/datahub/return).

Grass-roots staff (DATA_RETURN) read the resources designated for their town, village or grid: the list with
counts, a resource's rows in their area (keyset, masked by the fields' default masks; every page is audited) and
statistics summed for their area. The big-data centre (DATA_CENTRE) lists harvesters and their runs and asks for
a harvest now (queued; 202).

Row cursors are opaque and encrypted: a row's key (a 身份证号) never appears in a URL.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.permissions import DATA_CENTRE, DATA_RETURN
from yiwang.core.schemas import ProblemOut

from .selectors import returnflow as sel
from .services.returnflow import harvest_request, return_levels_of

router = Router(tags=["回流与离岸库"])
router.add_decorator(never_cache, mode="view")  # personal rows and the centre's view: never cached

_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


class AreaOut(Schema):
    code: str = Field(description="区划代码")
    name: str
    level: int = Field(description="2 镇街、3 村社区、4 网格")
    figures_code: str = Field("", description="统计数字所用区划（网格员为所在村社区）")


class ReturnResourceOut(Schema):
    id: UUID = Field(description="资源标识（public id）")
    code: str
    name: str
    provider: str = Field(description="数源部门")
    data_updated_at: datetime | None = None
    return_levels: list[int]
    count: int | None = Field(None, description="本辖区记录数；统计类资源为空")
    figures: bool = Field(description="统计类资源（按月份与类别汇总）")


class ReturnHomeOut(Schema):
    area: AreaOut | None = Field(None, description="本人所在的回流区划；区级部门为空")
    items: list[ReturnResourceOut]


class ColumnOut(Schema):
    name: str
    label: str
    mask: str = Field(description="默认脱敏（Ranger 名称）")


class ReturnRowsOut(Schema):
    resource: ReturnResourceOut
    area: AreaOut
    columns: list[ColumnOut]
    rows: list[dict[str, Any]]
    page: int
    next_cursor: str | None = None


class MeasureOut(Schema):
    name: str
    label: str


class ReturnFiguresOut(Schema):
    resource: ReturnResourceOut
    area: AreaOut
    dimension: MeasureOut
    measures: list[MeasureOut]
    totals: dict[str, int]
    by_month: list[dict[str, Any]]
    by_dimension: list[dict[str, Any]]
    truncated: bool


class HarvestRunOut(Schema):
    id: int
    status: str
    status_label: str
    started_at: datetime
    finished_at: datetime | None = None
    rows_read: int
    rows_written: int
    error: str
    source_digest: str
    provenance: dict[str, Any]


class HarvesterOut(Schema):
    id: UUID
    name: str
    plugin: str
    source_name: str
    resource_code: str
    resource_name: str
    options: dict[str, Any] = Field(description="插件参数（令牌等已隐藏）")
    interval_minutes: int
    is_active: bool
    next_run_at: datetime | None = None
    current_run: HarvestRunOut | None = Field(None, description="当前在用的数据所属采集")
    last_run: HarvestRunOut | None = Field(None, description="最近一次采集（失败时保留当前数据）")


class HarvesterPageOut(Schema):
    items: list[HarvesterOut]
    next_cursor: str | None = None


class RunPageOut(Schema):
    items: list[HarvestRunOut]
    next_cursor: str | None = None


class HarvestQueuedOut(Schema):
    queued: bool
    harvester: UUID


def _area(area) -> dict:
    return {"code": area.code, "name": area.name, "level": area.level, "figures_code": area.figures_code}


def _resource(resource, count=None) -> dict:
    return {
        "id": resource.public_id,
        "code": resource.code,
        "name": resource.name,
        "provider": resource.provider.name,
        "data_updated_at": resource.data_updated_at,
        "return_levels": sorted(return_levels_of(resource)),
        "count": count,
        "figures": sel.is_figures(resource),
    }


def _run(run) -> dict | None:
    if run is None:
        return None
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "rows_read": run.rows_read,
        "rows_written": run.rows_written,
        "error": run.error,
        "source_digest": run.source_digest,
        "provenance": run.provenance or {},
    }


def _harvester(h) -> dict:
    return {
        "id": h.public_id,
        "name": h.name,
        "plugin": h.plugin,
        "source_name": h.source_name,
        "resource_code": h.resource.code,
        "resource_name": h.resource.name,
        "options": sel.public_options(h.options),
        "interval_minutes": h.interval_minutes,
        "is_active": h.is_active,
        "next_run_at": h.next_run_at,
        "current_run": _run(h.current_run),
        "last_run": _run(getattr(h, "last_run", None)),
    }


@router.get("/resources", response={200: ReturnHomeOut, **_ERRORS}, summary="本辖区可用的回流数据资源")
@requires(DATA_RETURN)
def return_resources(request: HttpRequest):
    area, items = sel.return_resources_for(principal_of(request))
    return {
        "area": _area(area) if area else None,
        "items": [_resource(i.resource, i.count) for i in items],
    }


@router.get(
    "/resources/{resource_id}/rows",
    response={200: ReturnRowsOut, **_ERRORS},
    summary="本辖区的回流记录（按默认脱敏，分页；每页查看记入审计）",
)
@requires(DATA_RETURN)
def return_resource_rows(
    request: HttpRequest,
    resource_id: UUID,
    cursor: str | None = Query(None, max_length=2000),
    limit: int = Query(50, ge=1, le=200),
):
    result = sel.return_rows(principal_of(request), resource_id, cursor=cursor, limit=limit)
    names = [c.name for c in result.columns]
    return {
        "resource": _resource(result.resource),
        "area": _area(result.area),
        "columns": [{"name": c.name, "label": c.label, "mask": result.masks[c.name]} for c in result.columns],
        "rows": [dict(zip(names, values, strict=True)) for values in result.rows],
        "page": result.page,
        "next_cursor": result.next_cursor,
    }


@router.get(
    "/resources/{resource_id}/figures",
    response={200: ReturnFiguresOut, **_ERRORS},
    summary="本辖区的办件或事件统计（按月份与类别汇总）",
)
@requires(DATA_RETURN)
def return_resource_figures(request: HttpRequest, resource_id: UUID):
    f = sel.return_figures(principal_of(request), resource_id)
    return {
        "resource": _resource(f.resource),
        "area": _area(f.area),
        "dimension": {"name": f.dimension[0], "label": f.dimension[1]},
        "measures": [{"name": n, "label": label} for n, label in f.measures],
        "totals": f.totals,
        "by_month": f.by_month,
        "by_dimension": f.by_dimension,
        "truncated": f.truncated,
    }


@router.get("/harvesters", response={200: HarvesterPageOut, **_ERRORS}, summary="采集器及最近采集情况")
@requires(DATA_CENTRE)
def harvesters_list(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.harvesters_for_centre(principal_of(request), cursor=cursor, limit=limit)
    return {"items": [_harvester(h) for h in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/harvesters/{harvester_id}/runs", response={200: RunPageOut, **_ERRORS}, summary="采集记录（新的在前）"
)
@requires(DATA_CENTRE)
def harvester_runs(
    request: HttpRequest,
    harvester_id: UUID,
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(20, ge=1, le=200),
):
    principal = principal_of(request)
    harvester = sel.harvester_for_centre(principal, harvester_id)
    page = sel.harvest_runs_for_centre(principal, harvester, cursor=cursor, limit=limit)
    return {"items": [_run(r) for r in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/harvesters/{harvester_id}/run",
    response={202: HarvestQueuedOut, **_ERRORS},
    summary="立即采集（排队执行；失败时保留上次数据）",
)
@requires(DATA_CENTRE)
def harvester_run_now(request: HttpRequest, harvester_id: UUID):
    principal = principal_of(request)
    harvester = sel.harvester_for_centre(principal, harvester_id)
    harvest_request(actor=principal, harvester=harvester)
    return Status(202, {"queued": True, "harvester": harvester.public_id})
