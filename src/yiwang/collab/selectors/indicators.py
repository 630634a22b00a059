"""Reads of the indicator library, its values, the tasks it opened and the performance scores.

Scope: everyone with COLLAB_WORK sees the library and the plans; values and scores of every unit are for
TASK_ISSUE and COLLAB_ADOPTION holders (the office, leaders); anyone else sees only their own unit's — the unit
at the top of their department's tree (a village clerk's unit is the town). Guessing an id that does not exist
answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.models import Department
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import COLLAB_ADOPTION, COLLAB_WORK, TASK_ISSUE
from yiwang.core.principal import Principal, principal_memo

from ..metrics import METRICS
from ..models import Indicator, IndicatorValue, PerformancePlan, PerformanceScore, Task

__all__ = [
    "can_manage",
    "indicator_board",
    "indicator_get",
    "indicator_list",
    "indicator_periods",
    "indicator_tasks",
    "indicator_trend",
    "indicator_values",
    "own_unit_id",
    "performance_periods",
    "performance_ranking",
    "performance_xlsx",
    "plan_get",
    "plan_list",
    "sees_all",
]


def sees_all(principal: Principal) -> bool:
    return principal.has(TASK_ISSUE) or principal.has(COLLAB_ADOPTION)


def can_manage(principal: Principal) -> bool:
    return principal.has(TASK_ISSUE)


def own_unit_id(principal: Principal) -> int | None:
    """The pk of the unit at the top of the caller's department tree (None without a department)."""

    def compute():
        department = principal.department
        if department is None:
            return None
        node, parent = department.pk, department.parent_id
        hops = 0
        while parent is not None and hops < 20:
            node, parent = (
                parent,
                Department.objects.filter(pk=parent).values_list("parent_id", flat=True).first(),
            )
            hops += 1
        return node

    return principal_memo(principal, "collab.indicators.own_unit", compute)


def _require(principal: Principal) -> None:
    principal.require(COLLAB_WORK)


def _value_scope(principal: Principal) -> Q:
    if sees_all(principal):
        return Q()
    unit = own_unit_id(principal)
    return Q(department_id=unit) if unit is not None else Q(pk__in=[])


# --- the library -----------------------------------------------------------------------------------------------
def indicator_list(
    principal: Principal,
    *,
    q: str = "",
    scope: str = "",
    active: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Indicator]:
    _require(principal)
    rows = Indicator.objects.select_related("owner_department")
    if q:
        rows = rows.filter(Q(code__icontains=q[:50]) | Q(name__icontains=q[:50]))
    if scope:
        rows = rows.filter(scope=scope)
    if active is not None:
        rows = rows.filter(is_active=active)
    return keyset_page(rows, key="code", cursor=cursor, limit=limit)


def indicator_get(principal: Principal, ref) -> Indicator:
    """By public id or code; 404 otherwise."""
    _require(principal)
    rows = Indicator.objects.select_related("owner_department")
    try:
        found = rows.filter(public_id=UUID(str(ref))).first()
    except ValueError:
        found = rows.filter(code=str(ref)[:32]).first()
    if found is None:
        raise Http404(_("没有这个指标。"))
    return found


def indicator_periods(
    principal: Principal, indicator: Indicator, *, limit: int = 24
) -> list[tuple[date, date]]:
    """The computed periods, latest first."""
    _require(principal)
    return list(
        IndicatorValue.objects.filter(indicator=indicator)
        .values_list("period_start", "period_end")
        .order_by("-period_start")
        .distinct()[:limit]
    )


def indicator_values(
    principal: Principal,
    indicator: Indicator,
    *,
    period_start: date | None = None,
    department: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[IndicatorValue]:
    """Values (latest period first), scoped to what the caller may see."""
    _require(principal)
    rows = IndicatorValue.objects.filter(_value_scope(principal), indicator=indicator).select_related(
        "department"
    )
    if period_start is not None:
        rows = rows.filter(period_start=period_start)
    if department:
        rows = rows.filter(department__code=department[:20])
    return keyset_page(rows, key=("period_start", "id"), cursor=cursor, limit=limit, descending=True)


@dataclass
class BoardRow:
    value: IndicatorValue
    tasks: list[Task] = field(default_factory=list)


def indicator_board(principal: Principal, indicator: Indicator, period_start: date) -> list[BoardRow]:
    """One period's values per unit (breached first, then by unit code) with the tasks each opened (2 queries)."""
    _require(principal)
    values = list(
        IndicatorValue.objects.filter(_value_scope(principal), indicator=indicator, period_start=period_start)
        .select_related("department")
        .order_by("-breached", "department__code")
    )
    tasks: dict[int, list[Task]] = {}
    for task in Task.objects.filter(indicator_value__in=[v.pk for v in values]).order_by("id"):
        tasks.setdefault(task.indicator_value_id, []).append(task)
    return [BoardRow(value=v, tasks=tasks.get(v.pk, [])) for v in values]


def indicator_trend(principal: Principal, indicator: Indicator, *, limit: int = 12) -> dict:
    """Per visible unit, the values of the latest `limit` periods (oldest first): {"periods": [...], "series":
    [{"unit": name, "values": [...]}]} for a line chart."""
    periods = [p for p, _end in indicator_periods(principal, indicator, limit=limit)][::-1]
    rows = (
        IndicatorValue.objects.filter(_value_scope(principal), indicator=indicator, period_start__in=periods)
        .select_related("department")
        .order_by("department__code", "period_start")
    )
    series: dict[str, dict] = {}
    for row in rows:
        entry = series.setdefault(row.department.code, {"unit": row.department.name, "values": {}})
        entry["values"][row.period_start] = float(row.value) if row.value is not None else None
    return {
        "periods": [p.isoformat() for p in periods],
        "series": [
            {"unit": s["unit"], "values": [s["values"].get(p) for p in periods]} for s in series.values()
        ],
    }


def indicator_tasks(principal: Principal, indicator: Indicator, *, limit: int = 50) -> list[Task]:
    """The tasks the indicator opened (latest first) that the caller's unit leads, or all for the office."""
    _require(principal)
    rows = Task.objects.filter(indicator=indicator).select_related("lead_department", "indicator_value")
    if not sees_all(principal):
        unit = own_unit_id(principal)
        rows = rows.filter(lead_department_id=unit) if unit is not None else rows.none()
    return list(rows.order_by("-id")[:limit])


# --- performance -----------------------------------------------------------------------------------------------
def plan_list(principal: Principal) -> list[PerformancePlan]:
    _require(principal)
    return list(PerformancePlan.objects.prefetch_related("indicators").order_by("code")[:200])


def plan_get(principal: Principal, code: str) -> PerformancePlan:
    _require(principal)
    plan = PerformancePlan.objects.filter(code=str(code)[:32]).first()
    if plan is None:
        raise Http404(_("没有这个考评方案。"))
    return plan


def performance_periods(
    principal: Principal, plan: PerformancePlan, *, limit: int = 24
) -> list[tuple[date, date]]:
    _require(principal)
    return list(
        PerformanceScore.objects.filter(plan=plan)
        .values_list("period_start", "period_end")
        .order_by("-period_start")
        .distinct()[:limit]
    )


def performance_ranking(
    principal: Principal, plan: PerformancePlan, period_start: date
) -> list[PerformanceScore]:
    """The period's scores by rank (the caller's own unit only, unless it sees all)."""
    _require(principal)
    rows = PerformanceScore.objects.filter(_value_scope(principal), plan=plan, period_start=period_start)
    return list(rows.select_related("department").order_by("rank", "department__code"))


def _xlsx_text(value) -> str:
    """Text, never a formula (a cell starting with = + - @ would run in a spreadsheet)."""
    value = str(value or "")
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def performance_xlsx(principal: Principal, plan: PerformancePlan, period_start: date) -> tuple[list, bytes]:
    """The ranking as an Excel workbook: title, header, one row per unit (rank, code, name, score, governance,
    public, each indicator's points), and a sheet with the formula."""
    from io import BytesIO

    from openpyxl import Workbook
    from openpyxl.styles import Font

    rows = performance_ranking(principal, plan, period_start)
    codes: list[tuple[str, str]] = []
    for row in rows:
        for part in row.parts:
            if (part["indicator"], part["name"]) not in codes:
                codes.append((part["indicator"], part["name"]))
    book = Workbook()
    sheet = book.active
    sheet.title = _("考评排名")
    end = rows[0].period_end if rows else period_start
    sheet.append(
        [
            _("%(plan)s（%(start)s 至 %(end)s）")
            % {"plan": _xlsx_text(plan.name), "start": period_start.isoformat(), "end": end.isoformat()}
        ]
    )
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(
        [
            _("公众评价权重：%(w)d%%；导出时间：%(at)s")
            % {"w": plan.public_weight, "at": timezone.localtime().strftime("%Y-%m-%d %H:%M")}
        ]
    )
    sheet.append([])
    sheet.append(
        [
            _("排名"),
            _("单位编码"),
            _("单位"),
            _("总分"),
            _("内部治理"),
            _("公众评价"),
            *[name for _c, name in codes],
        ]
    )
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for row in rows:
        points = {p["indicator"]: p["points"] for p in row.parts}
        sheet.append(
            [
                row.rank,
                _xlsx_text(row.department.code),
                _xlsx_text(row.department.name),
                float(row.score),
                float(row.governance_score),
                float(row.public_score),
                *[points.get(code, _("无数据")) for code, _n in codes],
            ]
        )
    notes = book.create_sheet(_("计分规则"))
    notes.append([_("指标得分：达到目标值 100 分，恰在预警阈值 60 分，其间及以外线性扣分，最低 0 分。")])
    notes.append(
        [
            _(
                "总分 = 内部治理得分 ×（100% − 公众评价权重）+ 公众评价得分 × 公众评价权重；某部分无数据时按另一部分计。"
            )
        ]
    )
    metrics = dict(Indicator.objects.filter(code__in=[c for c, _n in codes]).values_list("code", "metric"))
    for code, name in codes:
        definition = METRICS.get(metrics.get(code, ""))
        notes.append([code, _xlsx_text(name), definition.description if definition else ""])
    buffer = BytesIO()
    book.save(buffer)
    return rows, buffer.getvalue()
