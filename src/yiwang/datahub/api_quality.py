"""API: 数据质量 (/api/datahub/quality).

Data officers (DATA_STEWARD: their department's and sub-departments' resources) and the big-data centre
(DATA_CENTRE: every resource) list resources with rules, read and write a resource's rules (the provider's officer
or the centre), ask for a run now (202: queued for the worker), follow a run's progress and results, page the
failed rows of a rule (record keys and masked values only) and read the quality and freshness scores per resource
and per department.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.schemas import ProblemOut

from .models import RuleKind
from .selectors import quality as sel
from .services import quality as services

router = Router(tags=["数据质量"])
router.add_decorator(never_cache, mode="view")

_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut, 422: ProblemOut}


class RuleIn(Schema):
    kind: str = Field(
        description="schema, row_count, missing, invalid, duplicate, reference, consistency, freshness"
    )
    name: str = Field(max_length=200)
    column: str = Field("", max_length=64, description="资源信息项的字段名")
    element: str = Field(
        "", max_length=20, description="数据元标识（如 DE00001；无效值规则可用其代码表或校验规则）"
    )
    options: dict[str, Any] = Field(default_factory=dict, description="规则参数（见 QualityRule 说明）")
    weight: int = Field(1, description="权重 1-100")
    is_active: bool = True


class RulePatch(Schema):
    kind: str | None = None
    name: str | None = Field(None, max_length=200)
    column: str | None = Field(None, max_length=64)
    element: str | None = Field(None, max_length=20)
    options: dict[str, Any] | None = None
    weight: int | None = None
    is_active: bool | None = None


class QualityRuleOut(Schema):
    id: UUID
    resource: str = Field(description="资源代码")
    kind: str
    kind_label: str
    name: str
    column: str
    element: str
    options: dict[str, Any]
    weight: int
    is_active: bool


class QualityResourceOut(Schema):
    id: UUID
    code: str
    version: int
    name: str
    provider: str
    provider_code: str
    update_cycle: str
    data_updated_at: datetime | None = None
    rule_count: int | None = None


class ResourcePageOut(Schema):
    items: list[QualityResourceOut]
    next_cursor: str | None = None


class ResultOut(Schema):
    rule: UUID
    rule_name: str
    kind: str
    column: str
    outcome: str
    outcome_label: str
    rows_tested: int
    failed_count: int
    metrics: dict[str, Any]
    message: str
    objection: str | None = Field(None, description="整改任务（纠错编号）")


class QualityRunOut(Schema):
    id: UUID
    resource: QualityResourceOut
    trigger: str
    engine: str
    status: str
    status_label: str
    total_rules: int
    done_rules: int
    rows_scanned: int
    quality_score: Decimal | None = None
    freshness_score: Decimal | None = None
    error: str
    queued_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class RunDetailOut(QualityRunOut):
    contract: str = Field(description="本次检查使用的 Soda 数据契约（YAML）")
    results: list[ResultOut]


class QualityRunPageOut(Schema):
    items: list[QualityRunOut]
    next_cursor: str | None = None


class FailedRowOut(Schema):
    record_key: str = Field(description="记录的公开标识（不是身份证号）")
    column: str
    value_masked: str


class FailedRowPageOut(Schema):
    rule: UUID
    outcome: str
    failed_count: int
    items: list[FailedRowOut]
    next_cursor: str | None = None


class ScoreOut(Schema):
    resource: QualityResourceOut
    quality: Decimal
    freshness: Decimal
    measured_at: datetime
    run: UUID | None = None


class ScorePageOut(Schema):
    items: list[ScoreOut]
    next_cursor: str | None = None


class QualityDepartmentOut(Schema):
    code: str
    name: str
    resources: int
    quality: Decimal
    freshness: Decimal


def _resource(r) -> dict:
    return {
        "id": r.public_id,
        "code": r.code,
        "version": r.version,
        "name": r.name,
        "provider": r.provider.name,
        "provider_code": r.provider.code,
        "update_cycle": r.update_cycle,
        "data_updated_at": r.data_updated_at,
        "rule_count": getattr(r, "rule_count", None),
    }


def _rule(rule, resource=None) -> dict:
    resource = resource or rule.resource
    return {
        "id": rule.public_id,
        "resource": resource.code,
        "kind": rule.kind,
        "kind_label": str(RuleKind(rule.kind).label) if rule.kind in RuleKind.values else rule.kind,
        "name": rule.name,
        "column": rule.column,
        "element": rule.element.identifier if rule.element_id else "",
        "options": rule.options or {},
        "weight": rule.weight,
        "is_active": rule.is_active,
    }


def _run(run) -> dict:
    return {
        "id": run.public_id,
        "resource": _resource(run.resource),
        "trigger": run.trigger,
        "engine": run.engine,
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "total_rules": run.total_rules,
        "done_rules": run.done_rules,
        "rows_scanned": run.rows_scanned,
        "quality_score": run.quality_score,
        "freshness_score": run.freshness_score,
        "error": run.error,
        "queued_at": run.queued_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


def _result(result) -> dict:
    return {
        "rule": result.rule.public_id,
        "rule_name": result.rule.name,
        "kind": result.rule.kind,
        "column": result.rule.column,
        "outcome": result.outcome,
        "outcome_label": str(result.get_outcome_display()),
        "rows_tested": result.rows_tested,
        "failed_count": result.failed_count,
        "metrics": result.metrics or {},
        "message": result.message,
        "objection": result.objection.number if result.objection_id else None,
    }


@router.get("/resources", response={200: ResourcePageOut, **_ERRORS}, summary="设有质量规则的数据资源")
@requires(DATA_STEWARD, DATA_CENTRE)
def quality_resources(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.quality_resources_with_rules(principal_of(request), cursor=cursor, limit=limit)
    return {"items": [_resource(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/resources/{resource_id}/rules",
    response={200: list[QualityRuleOut], **_ERRORS},
    summary="资源的质量规则",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def quality_rules(request: HttpRequest, resource_id: UUID):
    principal = principal_of(request)
    resource = sel.quality_resource_get(principal, resource_id)
    return [_rule(r, resource) for r in sel.quality_rules_for(principal, resource)]


@router.post(
    "/resources/{resource_id}/rules",
    response={201: QualityRuleOut, **_ERRORS},
    summary="新建质量规则（提供部门数据专员或大数据中心）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def quality_rule_create(request: HttpRequest, resource_id: UUID, payload: RuleIn):
    principal = principal_of(request)
    resource = sel.quality_resource_get(principal, resource_id)
    rule = services.quality_rule_save(actor=principal, resource=resource, values=payload.dict())
    return Status(201, _rule(rule, resource))


@router.patch("/rules/{rule_id}", response={200: QualityRuleOut, **_ERRORS}, summary="修改质量规则")
@requires(DATA_STEWARD, DATA_CENTRE)
def quality_rule_update(request: HttpRequest, rule_id: UUID, payload: RulePatch):
    principal = principal_of(request)
    rule = sel.quality_rule_get(principal, rule_id)
    values = {
        "kind": rule.kind,
        "name": rule.name,
        "column": rule.column,
        "element": rule.element.identifier if rule.element_id else "",
        "options": rule.options,
        "weight": rule.weight,
        "is_active": rule.is_active,
    }
    values.update({k: v for k, v in payload.dict().items() if v is not None})
    rule = services.quality_rule_save(actor=principal, resource=rule.resource, values=values, rule=rule)
    return _rule(rule)


@router.post("/rules/{rule_id}/deactivate", response={200: QualityRuleOut, **_ERRORS}, summary="停用质量规则")
@requires(DATA_STEWARD, DATA_CENTRE)
def quality_rule_off(request: HttpRequest, rule_id: UUID):
    principal = principal_of(request)
    rule = services.quality_rule_deactivate(actor=principal, rule=sel.quality_rule_get(principal, rule_id))
    return _rule(rule)


@router.post(
    "/resources/{resource_id}/runs",
    response={202: QualityRunOut, **_ERRORS},
    summary="立即检查（排队执行，进度见检查详情）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def quality_run_now(request: HttpRequest, resource_id: UUID):
    principal = principal_of(request)
    resource = sel.quality_resource_get(principal, resource_id)
    run = services.quality_run_request(actor=principal, resource=resource)
    return Status(202, _run(sel.quality_run_get(principal, run.public_id)))


@router.get("/runs", response={200: QualityRunPageOut, **_ERRORS}, summary="质量检查记录（新的在前）")
@requires(DATA_STEWARD, DATA_CENTRE)
def quality_runs(
    request: HttpRequest,
    resource: UUID | None = None,
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(20, ge=1, le=200),
):
    principal = principal_of(request)
    target = sel.quality_resource_get(principal, resource) if resource else None
    page = sel.quality_runs_for(principal, target, cursor=cursor, limit=limit)
    return {"items": [_run(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/runs/{run_id}", response={200: RunDetailOut, **_ERRORS}, summary="一次质量检查：进度、结果与契约"
)
@requires(DATA_STEWARD, DATA_CENTRE)
def quality_run_detail(request: HttpRequest, run_id: UUID):
    run = sel.quality_run_get(principal_of(request), run_id)
    return {
        **_run(run),
        "contract": run.contract,
        "results": [_result(r) for r in sel.quality_results_of(run)],
    }


@router.get(
    "/runs/{run_id}/rules/{rule_id}/failed-rows",
    response={200: FailedRowPageOut, **_ERRORS},
    summary="一条规则的问题记录（记录标识与脱敏值）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def quality_failed_rows(
    request: HttpRequest,
    run_id: UUID,
    rule_id: UUID,
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=200),
):
    principal = principal_of(request)
    run = sel.quality_run_get(principal, run_id)
    result, page = sel.quality_failed_rows(principal, run, rule_id, cursor=cursor, limit=limit)
    return {
        "rule": result.rule.public_id,
        "outcome": result.outcome,
        "failed_count": result.failed_count,
        "items": [
            {"record_key": r.record_key, "column": r.column, "value_masked": r.value_masked}
            for r in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.get("/scores", response={200: ScorePageOut, **_ERRORS}, summary="资源的质量与及时性得分")
@requires(DATA_STEWARD, DATA_CENTRE)
def quality_scores(
    request: HttpRequest,
    department: str = Query("", max_length=40),
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=200),
):
    page = sel.quality_scores(principal_of(request), department=department, cursor=cursor, limit=limit)
    return {
        "items": [
            {
                "resource": _resource(s.resource),
                "quality": s.quality,
                "freshness": s.freshness,
                "measured_at": s.measured_at,
                "run": s.run.public_id if s.run_id else None,
            }
            for s in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/departments", response={200: list[QualityDepartmentOut], **_ERRORS}, summary="部门质量得分（资源平均）"
)
@requires(DATA_STEWARD, DATA_CENTRE)
def quality_department_scores(request: HttpRequest):
    return [
        {
            "code": d.department.code,
            "name": d.department.name,
            "resources": d.resources,
            "quality": d.quality,
            "freshness": d.freshness,
        }
        for d in sel.quality_departments(principal_of(request))
    ]
