"""指标算法: the registry of indicator formulas over the platform's own records.

An indicator in the library (`collab.Indicator.metric`) names one of these. Each metric is registered with
`@metric(code, label=..., unit=..., scopes=..., direction=..., category=...)` on a **batch** function
`(units, start, end, *, today) -> {unit pk: MetricResult}` that answers for every unit at once with one grouped
query (plus one query for the department tree), never a query per unit. `metric_value(code, unit, start, end)`
is the single-unit form. A unit missing from the answer has no data for the period (无数据).

Units (考核对象):
- a department (区直部门): an active department at the district's division, with no parent and not a command
  centre; its figures include the departments below it;
- a town (镇街): an active department at a TOWN division with no parent (the town office); its incidents are
  those located in the town's division (`Incident.town`, set from the grid at intake), its other figures those of
  the town office and every department below it (command centre, village committees).

The period is `start`..`end`, both inclusive local dates (Asia/Shanghai). Rates are in %, two decimals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core.models import Department, Division
from yiwang.core.workdays import working_calendar, working_days_between

__all__ = [
    "METRICS",
    "MetricDef",
    "MetricResult",
    "metric",
    "metric_batch",
    "metric_get",
    "metric_value",
    "scope_units",
]


@dataclass(frozen=True)
class MetricResult:
    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None


@dataclass(frozen=True)
class MetricDef:
    code: str
    label: str
    unit: str
    scopes: tuple[str, ...]
    direction: str  # "higher" | "lower": the natural direction (a library row may choose)
    category: str  # "governance" | "public"
    description: str
    batch: Callable[..., dict[int, MetricResult]]


METRICS: dict[str, MetricDef] = {}


def metric(
    code: str,
    *,
    label,
    unit: str = "%",
    scopes: tuple[str, ...] = ("department", "town"),
    direction: str = "higher",
    category: str = "governance",
):
    """Registers a batch metric function under `code` (its docstring is the formula shown to users)."""

    def decorate(func):
        METRICS[code] = MetricDef(
            code=code,
            label=label,
            unit=unit,
            scopes=tuple(scopes),
            direction=direction,
            category=category,
            description=" ".join((func.__doc__ or "").split()),
            batch=func,
        )
        return func

    return decorate


def metric_get(code: str) -> MetricDef | None:
    return METRICS.get(code)


def metric_batch(
    code: str, units: Iterable[Department], start: date, end: date, *, today: date | None = None
) -> dict[int, MetricResult]:
    """Every unit's result for the period (units without data are left out)."""
    units = list(units)
    if not units:
        return {}
    # "today" within the period: a deadline before it has passed (for a closed period, every deadline in it).
    today = min(today or timezone.localdate(), end + timedelta(days=1))
    return METRICS[code].batch(units, start, end, today=today)


def metric_value(
    code: str, unit: Department, start: date, end: date, *, today: date | None = None
) -> MetricResult:
    """One unit's result (value None when it has no data)."""
    return metric_batch(code, [unit], start, end, today=today).get(unit.pk, MetricResult(None))


# --- units ---------------------------------------------------------------------------------------------------
def scope_units(scope: str):
    """The units an indicator of `scope` is computed for (a queryset ordered by code)."""
    units = Department.objects.filter(is_active=True, parent__isnull=True).select_related("division")
    if scope == "town":
        return units.filter(division__level=Division.Level.TOWN)
    return units.filter(division__level=Division.Level.DISTRICT, is_command_centre=False)


def _is_town(unit: Department) -> bool:
    return unit.parent_id is None and unit.division.level == Division.Level.TOWN


def _department_owner(units: list[Department]) -> dict[int, int]:
    """department pk → the unit (of `units`) whose subtree holds it; one query over the department tree."""
    parents = dict(Department.objects.values_list("id", "parent_id"))
    wanted = {u.pk for u in units}
    owner: dict[int, int] = {}
    for dept in parents:
        node, hops = dept, 0
        while node is not None and hops < 20:
            if node in wanted:
                owner[dept] = node
                break
            node, hops = parents.get(node), hops + 1
    return owner


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in local time."""
    return (
        timezone.make_aware(datetime.combine(start, time.min)),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min)),
    )


def _q2(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _rate(numerator, denominator) -> MetricResult:
    return MetricResult(
        value=_q2(Decimal(100) * Decimal(numerator) / Decimal(denominator)),
        numerator=Decimal(numerator),
        denominator=Decimal(denominator),
    )


def _fold(rows, owner: dict, keys: tuple[str, ...]) -> dict[int, dict[str, int]]:
    """Sums grouped rows {"k": group key, counts...} into their units."""
    out: dict[int, dict[str, int]] = {}
    for row in rows:
        unit = owner.get(row["k"])
        if unit is None:
            continue
        acc = out.setdefault(unit, dict.fromkeys(keys, 0))
        for key in keys:
            acc[key] += row[key] or 0
    return out


# --- 12345 -----------------------------------------------------------------------------------------------------
def _appeals(units: list[Department], start: date, end: date):
    """Citizen appeals (12345 hotline, web, Open311) closed in the period, grouped by unit key; and the key → unit
    map: towns by the incident's town division, departments by the assigned department's subtree."""
    from yiwang.incidents.models import Incident

    begin, stop = _bounds(start, end)
    rows = Incident.objects.filter(
        state=Incident.State.CLOSED,
        channel__in=(Incident.Channel.HOTLINE, Incident.Channel.WEB, Incident.Channel.OPEN311),
        closed_at__gte=begin,
        closed_at__lt=stop,
    )
    towns = [u for u in units if _is_town(u)]
    departments = [u for u in units if not _is_town(u)]
    parts = []
    if towns:
        parts.append(
            (
                rows.filter(town_id__in=[u.division_id for u in towns]),
                "town_id",
                {u.division_id: u.pk for u in towns},
            )
        )
    if departments:
        parts.append(
            (rows.exclude(assigned_department=None), "assigned_department_id", _department_owner(departments))
        )
    return parts


APPEAL_GOOD = ("satisfied", "basic")
APPEAL_ANSWERED = ("satisfied", "basic", "unsatisfied")


@metric(
    "hotline_on_time_rate",
    label=_("12345 诉求按期办结率"),
    direction="higher",
    category="public",
)
def hotline_on_time_rate(units, start, end, *, today):
    """12345 热线、网上及 Open311 诉求中本期结案的工单，按期办结（结案不晚于处置期限）的比例：按期办结 ÷ 结案。
    区直部门按承办单位（含下属单位），镇街按事件所在镇街。"""
    out: dict[int, MetricResult] = {}
    for rows, key, owner in _appeals(units, start, end):
        grouped = (
            rows.values(k=F(key))
            .annotate(closed=Count("id"), on_time=Count("id", filter=Q(closed_on_time=True)))
            .order_by()
        )
        for unit, c in _fold(grouped, owner, ("closed", "on_time")).items():
            if c["closed"]:
                out[unit] = _rate(c["on_time"], c["closed"])
    return out


@metric(
    "hotline_satisfaction_rate",
    label=_("12345 诉求满意率"),
    direction="higher",
    category="public",
)
def hotline_satisfaction_rate(units, start, end, *, today):
    """本期结案的 12345 诉求中回访有结果的工单（满意、基本满意、不满意；未联系上不计），满意与基本满意的比例，
    按工单最近一次回访。"""
    out: dict[int, MetricResult] = {}
    for rows, key, owner in _appeals(units, start, end):
        grouped = (
            rows.values(k=F(key))
            .annotate(
                answered=Count("id", filter=Q(satisfaction__in=APPEAL_ANSWERED)),
                good=Count("id", filter=Q(satisfaction__in=APPEAL_GOOD)),
            )
            .order_by()
        )
        for unit, c in _fold(grouped, owner, ("answered", "good")).items():
            if c["answered"]:
                out[unit] = _rate(c["good"], c["answered"])
    return out


# --- 一网通办 ----------------------------------------------------------------------------------------------------
@metric("review_satisfaction_rate", label=_("好差评满意率"), direction="higher", category="public")
def review_satisfaction_rate(units, start, end, *, today):
    """本期收到的好差评（有效评价，被申请人本人评价取代的窗口评价不计）中，总体评价为“满意”“非常满意”（4–5 分）
    的比例。按受评部门（含下属单位）。"""
    from yiwang.cases.reviews.models import Review

    begin, stop = _bounds(start, end)
    owner = _department_owner(units)
    grouped = (
        Review.objects.filter(
            superseded_at__isnull=True,
            created_at__gte=begin,
            created_at__lt=stop,
            department_id__in=list(owner),
        )
        .values(k=F("department_id"))
        .annotate(n=Count("id"), good=Count("id", filter=Q(overall__gte=4)))
        .order_by()
    )
    return {
        unit: _rate(c["good"], c["n"]) for unit, c in _fold(grouped, owner, ("n", "good")).items() if c["n"]
    }


@metric("case_on_time_rate", label=_("办件按承诺时限办结率"), direction="higher")
def case_on_time_rate(units, start, end, *, today):
    """本期办结的办件（有承诺办结日期）中，办结日期不晚于承诺办结日期的比例。按办理部门（含下属单位）。"""
    from yiwang.cases.models import Case

    begin, stop = _bounds(start, end)
    owner = _department_owner(units)
    grouped = (
        Case.objects.filter(
            concluded_at__gte=begin,
            concluded_at__lt=stop,
            due_date__isnull=False,
            department_id__in=list(owner),
        )
        .values(k=F("department_id"))
        .annotate(n=Count("id"), on_time=Count("id", filter=Q(concluded_at__date__lte=F("due_date"))))
        .order_by()
    )
    return {
        unit: _rate(c["on_time"], c["n"])
        for unit, c in _fold(grouped, owner, ("n", "on_time")).items()
        if c["n"]
    }


# --- 数据中台 ----------------------------------------------------------------------------------------------------
@metric("data_quality_score", label=_("数据质量得分"), unit=_("分"), direction="higher")
def data_quality_score(units, start, end, *, today):
    """本部门（含下属单位）提供的数据资源最近一次质量评估得分（0–100）的平均值，只计期末之前评估过的资源。"""
    from yiwang.datahub.models import QualityScore

    _begin, stop = _bounds(start, end)
    owner = _department_owner(units)
    rows = (
        QualityScore.objects.filter(measured_at__lt=stop, provider_id__in=list(owner))
        .values(k=F("provider_id"))
        .annotate(n=Count("id"), avg=Avg("quality"))
        .order_by()
    )
    sums: dict[int, list[Decimal]] = {}
    for row in rows:
        unit = owner.get(row["k"])
        if unit is None or not row["n"]:
            continue
        acc = sums.setdefault(unit, [Decimal(0), Decimal(0)])
        acc[0] += Decimal(str(row["avg"])) * row["n"]
        acc[1] += row["n"]
    return {
        unit: MetricResult(value=_q2(total / n), numerator=_q2(total), denominator=n)
        for unit, (total, n) in sums.items()
    }


@metric("share_response_days", label=_("共享申请平均答复时长"), unit=_("工作日"), direction="lower")
def share_response_days(units, start, end, *, today):
    """本期答复的共享申请（作为提供方），从申请到答复经过的工作日数的平均值（按节假日与调休日历）。"""
    from yiwang.datahub.models import ShareRequest

    begin, stop = _bounds(start, end)
    owner = _department_owner(units)
    cal = working_calendar()
    totals: dict[int, list[int]] = {}
    rows = ShareRequest.objects.filter(
        answered_at__gte=begin, answered_at__lt=stop, provider_id__in=list(owner)
    ).values_list("provider_id", "created_at", "answered_at")
    for provider_id, created_at, answered_at in rows.iterator(chunk_size=2000):
        unit = owner.get(provider_id)
        if unit is None:
            continue
        days = working_days_between(
            timezone.localtime(created_at).date(), timezone.localtime(answered_at).date(), cal
        )
        acc = totals.setdefault(unit, [0, 0])
        acc[0] += max(days, 0)
        acc[1] += 1
    return {
        unit: MetricResult(value=_q2(Decimal(total) / n), numerator=Decimal(total), denominator=Decimal(n))
        for unit, (total, n) in totals.items()
    }


# --- 一网协同 ----------------------------------------------------------------------------------------------------
@metric("forms_overdue", label=_("逾期未报表格数"), unit=_("份"), scopes=("town",), direction="lower")
def forms_overdue(units, start, end, *, today):
    """截止日在本期且已过（截止日早于今天）的下发表格中，本镇街及其村（社区）、网格应填而未提交（未填报、
    填报中、已退回）的份数；分母为截止日已过的应填份数。"""
    from django.db.models import Case, When

    from yiwang.collab.models import FormAssignment

    towns = {u.division_id: u.pk for u in units if _is_town(u)}
    if not towns:
        return {}
    town_of = Case(
        When(division__level=Division.Level.TOWN, then=F("division_id")),
        When(division__level=Division.Level.VILLAGE, then=F("division__parent_id")),
        When(division__level=Division.Level.GRID, then=F("division__parent__parent_id")),
    )
    late = Q(
        status__in=(
            FormAssignment.Status.NOT_STARTED,
            FormAssignment.Status.DRAFT,
            FormAssignment.Status.RETURNED,
        )
    )
    grouped = (
        FormAssignment.objects.filter(
            fills=True, issue__due_on__gte=start, issue__due_on__lte=end, issue__due_on__lt=today
        )
        .annotate(k=town_of)
        .filter(k__in=list(towns))
        .values("k")
        .annotate(n=Count("id"), late=Count("id", filter=late))
        .order_by()
    )
    return {
        unit: MetricResult(
            value=Decimal(c["late"]), numerator=Decimal(c["late"]), denominator=Decimal(c["n"])
        )
        for unit, c in _fold(grouped, towns, ("n", "late")).items()
    }


@metric("tasks_overdue", label=_("逾期督办任务数"), unit=_("件"), direction="lower")
def tasks_overdue(units, start, end, *, today):
    """办结时限在本期且已过的督办任务（未撤销）中，由本单位牵头、到期未审核办结（仍在办，或办结晚于时限）的件数；
    分母为本期到期的牵头任务数。"""
    from yiwang.collab.models import Task

    owner = {u.pk: u.pk for u in units}
    late = ~Q(status=Task.Status.DONE) | Q(closed_at__date__gt=F("due_on"))
    grouped = (
        Task.objects.filter(
            lead_department_id__in=list(owner), due_on__gte=start, due_on__lte=end, due_on__lt=today
        )
        .exclude(status=Task.Status.CANCELLED)
        .values(k=F("lead_department_id"))
        .annotate(n=Count("id"), late=Count("id", filter=late))
        .order_by()
    )
    return {
        unit: MetricResult(
            value=Decimal(c["late"]), numerator=Decimal(c["late"]), denominator=Decimal(c["n"])
        )
        for unit, c in _fold(grouped, owner, ("n", "late")).items()
    }
