"""Reads of 数据质量, scoped by the Principal.

Who sees what (one rule, `quality_resources_q`): the big-data centre (DATA_CENTRE) every resource's rules, runs,
failed rows and scores; a data officer (DATA_STEWARD) those of the resources its department and the departments
below it provide; anyone else nothing (PermissionDenied). Failed rows carry the record's public key and the value
masked (as stored); nothing here decrypts anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.models import Department
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.principal import Principal

from ..models import DataResource, QualityFailedRow, QualityResult, QualityRule, QualityRun, QualityScore
from .catalogue import is_centre, resource_may_manage, steward_department_ids

TREND_RUNS = 30


def quality_reader_check(principal: Principal | None) -> Principal:
    if principal is None or not (principal.has(DATA_STEWARD) or principal.has(DATA_CENTRE)):
        raise PermissionDenied(_("数据质量仅向数据专员和大数据中心开放。"))
    return principal


def quality_resources_q(principal: Principal, prefix: str = "") -> Q:
    """The one visibility rule, as a filter on DataResource (or, with `prefix`, on a model pointing at it)."""
    quality_reader_check(principal)
    if is_centre(principal):
        return Q()
    return Q(**{f"{prefix}provider_id__in": steward_department_ids(principal)})


def _uuid(value) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise Http404 from None


def quality_resource_get(principal: Principal, ref) -> DataResource:
    """A resource by public id (or code: the newest version) whose quality the caller may see; Http404."""
    rows = DataResource.objects.filter(quality_resources_q(principal)).select_related("provider")
    text = str(ref or "").strip()
    try:
        lookup = Q(public_id=UUID(text))
    except ValueError:
        lookup = Q(code=text)
    resource = rows.filter(lookup).order_by("-version").first()
    if resource is None:
        raise Http404(_("没有找到这个数据资源，或您无权查看。"))
    return resource


def quality_may_manage(principal: Principal, resource: DataResource) -> bool:
    return resource_may_manage(principal, resource)


def quality_rules_for(
    principal: Principal, resource: DataResource, *, active_only: bool = False
) -> list[QualityRule]:
    quality_resource_get(principal, resource.public_id)
    rows = QualityRule.objects.filter(resource=resource).select_related("element").order_by("id")
    if active_only:
        rows = rows.filter(is_active=True)
    return list(rows[:500])


def quality_rule_get(principal: Principal, public_id) -> QualityRule:
    rule = (
        QualityRule.objects.filter(public_id=_uuid(public_id))
        .filter(quality_resources_q(principal, "resource__"))
        .select_related("resource__provider", "element")
        .first()
    )
    if rule is None:
        raise Http404(_("没有找到这条质量规则，或您无权查看。"))
    return rule


def quality_runs_for(
    principal: Principal, resource: DataResource | None = None, *, cursor: str | None = None, limit: int = 20
) -> Page[QualityRun]:
    """Runs, newest first: of one resource, or of every resource the caller may see."""
    rows = QualityRun.objects.filter(quality_resources_q(principal, "resource__")).select_related(
        "resource__provider"
    )
    if resource is not None:
        rows = rows.filter(resource=resource)
    return keyset_page(rows, key="id", cursor=cursor, limit=limit, descending=True)


def quality_run_get(principal: Principal, public_id) -> QualityRun:
    run = (
        QualityRun.objects.filter(public_id=_uuid(public_id))
        .filter(quality_resources_q(principal, "resource__"))
        .select_related("resource__provider", "requested_by")
        .first()
    )
    if run is None:
        raise Http404(_("没有找到这次质量检查，或您无权查看。"))
    return run


def quality_results_of(run: QualityRun) -> list[QualityResult]:
    """A run's results with their rules and correction tasks (the caller got `run` through a selector)."""
    return list(QualityResult.objects.filter(run=run).select_related("rule", "objection").order_by("rule_id"))


def quality_failed_rows(
    principal: Principal, run: QualityRun, rule_public_id, *, cursor: str | None = None, limit: int = 50
) -> tuple[QualityResult, Page[QualityFailedRow]]:
    quality_run_get(principal, run.public_id)
    result = (
        QualityResult.objects.filter(run=run, rule__public_id=_uuid(rule_public_id))
        .select_related("rule")
        .first()
    )
    if result is None:
        raise Http404(_("这次检查没有该规则的结果。"))
    page = keyset_page(QualityFailedRow.objects.filter(result=result), key="id", cursor=cursor, limit=limit)
    return result, page


def failed_rows_page(
    result: QualityResult, *, cursor: str | None = None, limit: int = 20
) -> Page[QualityFailedRow]:
    """A page of one result's failed rows (the caller got the result's run through a selector)."""
    return keyset_page(QualityFailedRow.objects.filter(result=result), key="id", cursor=cursor, limit=limit)


# --- scores -----------------------------------------------------------------------------------------------------
def quality_scores(
    principal: Principal, *, department: str = "", cursor: str | None = None, limit: int = 50
) -> Page[QualityScore]:
    """The resources' latest scores (by resource id), optionally of one provider department (by code)."""
    rows = QualityScore.objects.filter(quality_resources_q(principal, "resource__")).select_related(
        "resource__provider", "provider", "run"
    )
    if department:
        rows = rows.filter(provider__code=department)
    return keyset_page(rows, key="id", cursor=cursor, limit=limit)


def quality_score_of(resource: DataResource) -> QualityScore | None:
    """The resource's latest scores (the caller got `resource` through a selector)."""
    return QualityScore.objects.filter(resource=resource).first()


@dataclass
class DepartmentQuality:
    department: Department
    resources: int
    quality: Decimal
    freshness: Decimal


def department_quality_averages(department_ids=None) -> dict[int, tuple[Decimal, Decimal, int]]:
    """Department → (average quality, average freshness, resources scored), over its resources' latest scores.
    Unscoped: for the scorecard's computation; pages use `quality_departments`."""
    rows = QualityScore.objects.all()
    if department_ids is not None:
        rows = rows.filter(provider_id__in=list(department_ids))
    out = {}
    for row in rows.values("provider_id").annotate(q=Avg("quality"), f=Avg("freshness"), n=Count("id")):
        out[row["provider_id"]] = (
            Decimal(str(row["q"])).quantize(Decimal("0.01")),
            Decimal(str(row["f"])).quantize(Decimal("0.01")),
            row["n"],
        )
    return out


def quality_departments(principal: Principal) -> list[DepartmentQuality]:
    """Per provider department the caller may see: how many resources are scored and their average scores,
    best quality first."""
    quality_reader_check(principal)
    ids = None if is_centre(principal) else steward_department_ids(principal)
    averages = department_quality_averages(ids)
    departments = Department.objects.in_bulk(list(averages))
    out = [
        DepartmentQuality(departments[pk], n, q, f) for pk, (q, f, n) in averages.items() if pk in departments
    ]
    out.sort(key=lambda d: (-d.quality, -d.freshness, d.department.code))
    return out


def quality_trend(
    principal: Principal, resource: DataResource, *, limit: int = TREND_RUNS
) -> list[QualityRun]:
    """The resource's last finished runs, oldest first (for the trend chart)."""
    quality_resource_get(principal, resource.public_id)
    rows = list(
        QualityRun.objects.filter(resource=resource, quality_score__isnull=False)
        .only("public_id", "finished_at", "quality_score", "freshness_score", "status", "resource_id")
        .order_by("-id")[:limit]
    )
    rows.reverse()
    return rows


def quality_resources_with_rules(
    principal: Principal, *, cursor: str | None = None, limit: int = 50
) -> Page[DataResource]:
    """Resources the caller may see that have rules, with their rule counts (by code)."""
    rows = (
        DataResource.objects.filter(quality_resources_q(principal))
        .filter(Exists(QualityRule.objects.filter(resource=OuterRef("pk"))))
        .annotate(rule_count=Count("quality_rules", filter=Q(quality_rules__is_active=True)))
        .select_related("provider")
    )
    return keyset_page(rows, key=("code", "id"), cursor=cursor, limit=limit)


def resource_choices(principal: Principal) -> QuerySet[DataResource]:
    """Resources the caller may write rules for (mounted or published, current versions)."""
    rows = DataResource.objects.filter(quality_resources_q(principal)).exclude(
        status__in=(DataResource.Status.SUPERSEDED, DataResource.Status.RETIRED)
    )
    return rows.exclude(mount_kind="").order_by("code")
