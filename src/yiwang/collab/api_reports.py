"""API: 一网协同 — 填表报数: filling, review and aggregation (mounted at /api/collab/reports).

- `GET /mine`: the caller's unit's assignments waiting (to fill, to review), earliest deadline first (keyset);
- `GET /assignments/{id}`: one assignment (fields, values, what was prefilled and from where, last period's
  answers, detail rows, the caller's actions); `POST …/save` (draft; `expected_version`), `POST …/submit`,
  `POST …/review` ({decision: approve|return, note});
- `GET /issues/{id}/overview` (the tree with lights and completeness per node), `/aggregate?unit=<division code>`
  (the precomputed rollup), `/completeness`, `/export?format=xlsx|csv`; `GET /burden` (per village and month).

Scoping: a unit sees its own assignments and its descendants' (404 for a sibling's); the issuing department the
whole issue. 409 for a step the state does not allow or a stale version; 422 with field errors.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from ninja import Query, Router, Schema

from yiwang.core.apiutils import principal_of, problem, requires
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import COLLAB_WORK
from yiwang.core.schemas import ProblemOut

from .selectors import reports as sel
from .services.reports import (
    ReportConflict,
    assignment_review,
    assignment_save,
    assignment_submit,
    effective_values,
    form_fields,
    last_values,
    row_values,
)

router = Router(tags=["一网协同：填表报数（填报与审核）"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}
_WRITE = {**_READ, 409: ProblemOut}


# --- schemas ---------------------------------------------------------------------------------------------------------
class ReportUnitRef(Schema):
    code: str
    name: str
    level: int


class ReportAssignmentOut(Schema):
    id: UUID
    issue: UUID
    form_code: str
    form_name: str
    period_label: str
    due_on: dt.date
    unit: ReportUnitRef
    fills: bool
    status: str
    status_label: str
    action: str = ""
    version: int
    submitted_at: dt.datetime | None = None
    on_time: bool | None = None
    review_note: str = ""
    children_count: int
    approved_children: int


class ReportAssignmentPageOut(Schema):
    items: list[ReportAssignmentOut]
    next_cursor: str | None = None


class ReportFieldOut(Schema):
    name: str
    label: str
    kind: str
    unit: str
    required: bool
    choices: list = []
    per_row: bool
    aggregate: str
    prefill: str
    rule: str
    rule_message: str


class ReportFormRowOut(Schema):
    position: int
    entity_key: str
    label: str
    values: dict[str, Any]
    prefilled: dict[str, Any]


class ReportAssignmentDetailOut(ReportAssignmentOut):
    fields: list[ReportFieldOut]
    values: dict[str, Any]
    entered: dict[str, Any]
    prefilled: dict[str, Any]
    last_period: dict[str, Any]
    rows: list[ReportFormRowOut]
    aggregate: dict[str, Any]
    actions: list[str]


class ReportFormRowIn(Schema):
    position: int
    values: dict[str, Any]


class ReportSaveIn(Schema):
    values: dict[str, Any] = {}
    rows: list[ReportFormRowIn] | None = None
    expected_version: int | None = None


class ReportVersionIn(Schema):
    expected_version: int | None = None


class ReportReviewIn(Schema):
    decision: Literal["approve", "return"]
    note: str = ""


class ReportFigureOut(Schema):
    name: str
    label: str
    unit: str
    method: str
    method_label: str
    value: Any = None
    reported: int
    stats: dict[str, Any]


class ReportAggregateOut(Schema):
    issue: UUID
    unit: ReportUnitRef
    approved_units: int
    complete: bool
    figures: list[ReportFigureOut]


class ReportNodeOut(Schema):
    id: UUID
    unit: ReportUnitRef
    parent: str | None = None
    depth: int
    fills: bool
    status: str
    light: str
    expected: int
    reported: int
    on_time: int
    approved: int
    reporting_rate: float
    on_time_rate: float


class ReportOverviewOut(Schema):
    issue: UUID
    form_code: str
    form_name: str
    period_label: str
    due_on: dt.date
    units_count: int
    approved_count: int
    nodes: list[ReportNodeOut]


class ReportCompletenessOut(Schema):
    issue: UUID
    expected: int
    reported: int
    on_time: int
    approved: int
    reporting_rate: float
    on_time_rate: float
    units: list[ReportNodeOut]


class ReportBurdenOut(Schema):
    village: ReportUnitRef
    month: dt.date
    forms: int
    assignments: int
    reported: int
    on_time: int
    reporting_rate: float
    prefilled_fields: int
    asked_fields: int
    prefilled_share: float


# --- shaping -----------------------------------------------------------------------------------------------------------
def _unit(division) -> dict:
    return {"code": division.code, "name": division.name, "level": division.level}


def _assignment_out(a, action: str = "") -> dict:
    issue = a.issue
    return {
        "id": a.public_id,
        "issue": issue.public_id,
        "form_code": issue.form.code,
        "form_name": issue.form.name,
        "period_label": issue.period_label,
        "due_on": issue.due_on,
        "unit": _unit(a.division),
        "fills": a.fills,
        "status": a.status,
        "status_label": str(a.get_status_display()),
        "action": action or getattr(a, "action", ""),
        "version": a.version,
        "submitted_at": a.submitted_at,
        "on_time": a.on_time,
        "review_note": a.review_note,
        "children_count": a.children_count,
        "approved_children": a.approved_children,
    }


def _detail(principal, a) -> dict:
    fields = form_fields(a.issue)
    prefilled = a.prefilled or {}
    rows = []
    if a.issue.form.row_source:
        rows = [
            {
                "position": r.position,
                "entity_key": r.entity_key,
                "label": r.label,
                "values": row_values(r),
                "prefilled": r.prefilled or {},
            }
            for r in a.rows.all()[:5000]
        ]
    return {
        **_assignment_out(a),
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "kind": f.kind,
                "unit": f.unit,
                "required": f.required,
                "choices": list(f.choices or []),
                "per_row": f.per_row,
                "aggregate": f.aggregate,
                "prefill": f.prefill,
                "rule": f.rule,
                "rule_message": f.rule_message,
            }
            for f in fields
        ],
        "values": effective_values(a),
        "entered": a.values or {},
        "prefilled": {k: v for k, v in prefilled.items() if not str(k).startswith("_")},
        "last_period": last_values(a),
        "rows": rows,
        "aggregate": a.aggregate or {},
        "actions": sel.actions(principal, a),
    }


def _node_out(node, depth: int, parent_code: str | None) -> dict:
    a = node.assignment
    return {
        "id": a.public_id,
        "unit": _unit(a.division),
        "parent": parent_code,
        "depth": depth,
        "fills": a.fills,
        "status": a.status,
        "light": node.light,
        "expected": node.expected,
        "reported": node.reported,
        "on_time": node.on_time,
        "approved": node.approved,
        "reporting_rate": node.reporting_rate,
        "on_time_rate": node.on_time_rate,
    }


def _conflict(request: HttpRequest, exc: ReportConflict):
    from django.utils.translation import gettext as _

    return problem(request, 409, _("状态冲突"), str(exc))


# --- assignments -----------------------------------------------------------------------------------------------------------
@router.get("/mine", response={200: ReportAssignmentPageOut, **_READ}, summary="本单位待填报、待审核的报表")
@requires(COLLAB_WORK)
def reports_mine(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.unit_inbox(principal_of(request), cursor=cursor, limit=limit)
    return {"items": [_assignment_out(a) for a in page.items], "next_cursor": page.next_cursor}


@router.get("/assignments/{id}", response={200: ReportAssignmentDetailOut, **_READ}, summary="一份填报任务")
@requires(COLLAB_WORK)
def reports_assignment(request: HttpRequest, id: UUID):
    principal = principal_of(request)
    return _detail(principal, sel.assignment_get(principal, id))


@router.post(
    "/assignments/{id}/save", response={200: ReportAssignmentDetailOut, **_WRITE}, summary="保存草稿"
)
@requires(COLLAB_WORK)
def reports_save(request: HttpRequest, id: UUID, payload: ReportSaveIn):
    principal = principal_of(request)
    a = sel.assignment_get(principal, id)
    try:
        assignment_save(
            actor=principal,
            assignment=a,
            values=payload.values,
            rows=[r.dict() for r in payload.rows] if payload.rows is not None else None,
            expected_version=payload.expected_version,
        )
    except ReportConflict as exc:
        return _conflict(request, exc)
    return _detail(principal, sel.assignment_get(principal, id))


@router.post(
    "/assignments/{id}/submit", response={200: ReportAssignmentDetailOut, **_WRITE}, summary="提交上级审核"
)
@requires(COLLAB_WORK)
def reports_submit(request: HttpRequest, id: UUID, payload: ReportVersionIn):
    principal = principal_of(request)
    a = sel.assignment_get(principal, id)
    try:
        assignment_submit(actor=principal, assignment=a, expected_version=payload.expected_version)
    except ReportConflict as exc:
        return _conflict(request, exc)
    return _detail(principal, sel.assignment_get(principal, id))


@router.post(
    "/assignments/{id}/review",
    response={200: ReportAssignmentDetailOut, **_WRITE},
    summary="上级审核：通过（逐级汇总）或退回",
)
@requires(COLLAB_WORK)
def reports_review(request: HttpRequest, id: UUID, payload: ReportReviewIn):
    principal = principal_of(request)
    a = sel.assignment_get(principal, id)
    try:
        assignment_review(actor=principal, assignment=a, decision=payload.decision, note=payload.note)
    except ReportConflict as exc:
        return _conflict(request, exc)
    return _detail(principal, sel.assignment_get(principal, id))


# --- issues -------------------------------------------------------------------------------------------------------------------
@router.get(
    "/issues/{id}/overview", response={200: ReportOverviewOut, **_READ}, summary="下发报表的填报树（状态灯）"
)
@requires(COLLAB_WORK)
def reports_overview(request: HttpRequest, id: UUID):
    principal = principal_of(request)
    issue = sel.issue_get(principal, id)
    nodes: list[dict] = []

    def walk(node, depth, parent_code):
        nodes.append(_node_out(node, depth, parent_code))
        for child in node.children:
            walk(child, depth + 1, node.assignment.division.code)

    for top in sel.report_issue_overview(principal, issue):
        walk(top, 0, None)
    return {
        "issue": issue.public_id,
        "form_code": issue.form.code,
        "form_name": issue.form.name,
        "period_label": issue.period_label,
        "due_on": issue.due_on,
        "units_count": issue.units_count,
        "approved_count": issue.approved_count,
        "nodes": nodes,
    }


@router.get("/issues/{id}/aggregate", response={200: ReportAggregateOut, **_READ}, summary="预计算的汇总值")
@requires(COLLAB_WORK)
def reports_aggregate(request: HttpRequest, id: UUID, unit: str | None = Query(None, max_length=20)):
    principal = principal_of(request)
    issue = sel.issue_get(principal, id)
    top = sel.aggregate_node(principal, issue, unit)
    approved = (top.aggregate or {}).get("_units", 0)
    return {
        "issue": issue.public_id,
        "unit": _unit(top.division),
        "approved_units": approved,
        "complete": top.status == "approved"
        or (not top.parent_id and issue.approved_count >= issue.units_count),
        "figures": sel.aggregate_figures(issue, top),
    }


@router.get(
    "/issues/{id}/completeness", response={200: ReportCompletenessOut, **_READ}, summary="上报率与及时率"
)
@requires(COLLAB_WORK)
def reports_completeness(request: HttpRequest, id: UUID):
    principal = principal_of(request)
    issue = sel.issue_get(principal, id)
    figures = sel.issue_completeness(principal, issue)
    total = figures["total"]
    return {
        "issue": issue.public_id,
        "expected": total.expected,
        "reported": total.reported,
        "on_time": total.on_time,
        "approved": total.approved,
        "reporting_rate": total.reporting_rate,
        "on_time_rate": total.on_time_rate,
        "units": [_node_out(n, 1, None) for n in figures["units"]],
    }


@router.get(
    "/issues/{id}/export",
    response={200: None, **_READ},
    summary="导出填报结果（xlsx 或 CSV，UTF-8 带 BOM）",
)
@requires(COLLAB_WORK)
def reports_export(request: HttpRequest, id: UUID, format: Literal["xlsx", "csv"] = Query("xlsx")):
    principal = principal_of(request)
    issue = sel.issue_get(principal, id)
    content, content_type, filename = sel.export_file(principal, issue, format)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.get(
    "/burden", response={200: list[ReportBurdenOut], **_READ}, summary="基层填报负担（按村社区、月份）"
)
@requires(COLLAB_WORK)
def reports_burden(request: HttpRequest, months: int = Query(6, ge=1, le=24)):
    rows = sel.village_burden(principal_of(request), months=months)
    return [
        {
            "village": _unit(r["village"]),
            "month": r["month"],
            "forms": r["forms"],
            "assignments": r["assignments"],
            "reported": r["reported"],
            "on_time": r["on_time"],
            "reporting_rate": r["reporting_rate"],
            "prefilled_fields": r["prefilled"],
            "asked_fields": r["asked"],
            "prefilled_share": r["prefilled_share"],
        }
        for r in rows
    ]
