"""API: 一网协同 — 我的工作台 (mounted at /api/collab/workbench).

- GET /api/collab/workbench?source=&overdue=&soon=&cursor=&limit= — the caller's to-do list, most urgent first,
  each item with its deadline light and the module page that handles it; `counts` per source on the first page.
- GET /api/collab/workbench/sources — the sources that apply to the caller (the filter tabs).
- GET /api/collab/workbench/adoption — adoption figures per department and town (COLLAB_ADOPTION).

Errors are problem+json: 401, 403 (missing permission), 422 (unknown source, bad cursor, bad limit).

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.permissions import COLLAB_ADOPTION, COLLAB_WORK
from yiwang.core.schemas import ProblemOut

from .selectors.adoption import AdoptionRow, adoption_figures
from .selectors.workbench import workbench_page, workbench_sources_of

router = Router(tags=["一网协同：我的工作台"])

_READ = {401: ProblemOut, 403: ProblemOut, 422: ProblemOut}


class WorkbenchItemOut(Schema):
    source: str = Field(description="待办来源：cases、incidents、datahub.share…")
    source_label: str
    title: str
    action: str = Field(description="等待的操作：受理、审查、处置、签收、填报…")
    url: str = Field(description="办理该事项的页面")
    reference: str = Field(description="办件编号、工单号、任务编号等")
    state: str
    deadline: datetime | None = Field(None, description="办理时限（无时限为 null）")
    light: str = Field(description="red 已逾期、yellow 一个工作日内到期、green 正常、grey 无时限")


class WorkbenchPageOut(Schema):
    items: list[WorkbenchItemOut]
    next_cursor: str | None
    counts: dict[str, int] = Field(
        description="各来源的待办数（仅第一页；计到 1000 为止，1000 表示 1000 件及以上）"
    )


class WorkbenchSourceOut(Schema):
    id: str
    label: str


class AdoptionRowOut(Schema):
    code: str
    name: str
    accounts: int
    activated: int
    daily: int
    weekly: int
    overdue: int
    activated_pct: float
    daily_pct: float
    weekly_pct: float


class AdoptionOut(Schema):
    day: date
    departments: list[AdoptionRowOut]
    towns: list[AdoptionRowOut]
    total: AdoptionRowOut


@router.get("", response={200: WorkbenchPageOut, **_READ}, summary="我的待办（按办理时限排序，游标分页）")
@requires(COLLAB_WORK)
def workbench_list(
    request: HttpRequest,
    source: str | None = Query(None, max_length=64),
    overdue: bool = Query(False),
    soon: bool = Query(False),
    cursor: str | None = Query(None, max_length=512),
    limit: int = Query(20, ge=1, le=100),
):
    entries, next_cursor, counts = workbench_page(
        principal_of(request), source=source, overdue=overdue, soon=soon, after=cursor, limit=limit
    )
    return {
        "items": [
            {
                "source": e.item.source,
                "source_label": e.source_label,
                "title": e.item.title,
                "action": e.item.action,
                "url": e.item.url,
                "reference": e.item.reference,
                "state": e.item.state,
                "deadline": e.item.deadline,
                "light": e.light,
            }
            for e in entries
        ],
        "next_cursor": next_cursor,
        "counts": counts,
    }


@router.get("/sources", response={200: list[WorkbenchSourceOut], **_READ}, summary="适用于我的待办来源")
@requires(COLLAB_WORK)
def workbench_sources(request: HttpRequest):
    return [{"id": s.id, "label": s.label} for s in workbench_sources_of(principal_of(request))]


def _row(row: AdoptionRow) -> dict:
    return {
        "code": row.code,
        "name": row.name,
        "accounts": row.accounts,
        "activated": row.activated,
        "daily": row.daily,
        "weekly": row.weekly,
        "overdue": row.overdue,
        "activated_pct": row.activated_pct,
        "daily_pct": row.daily_pct,
        "weekly_pct": row.weekly_pct,
    }


@router.get("/adoption", response={200: AdoptionOut, **_READ}, summary="使用情况：账号激活、活跃与待办逾期")
@requires(COLLAB_ADOPTION)
def workbench_adoption(request: HttpRequest):
    figures = adoption_figures(principal_of(request))
    return {
        "day": figures.day,
        "departments": [_row(r) for r in figures.departments],
        "towns": [_row(r) for r in figures.towns],
        "total": _row(figures.total),
    }
