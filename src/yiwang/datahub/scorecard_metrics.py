"""数据治理考核: the periods and the eight metrics, each computed from the platform's own records.

Every metric is one function `(window, *, departments=None, target=None) -> {department id: MetricResult}` over
ALL departments at once: one or two aggregate queries whatever the number of departments (a scorecard is never a
loop of per-department queries). `departments` narrows the result to some ids (a detail recomputed on its own);
a department missing from a metric's answer has nothing to be scored on (无数据), and the scorecard then hands
that metric's weight to the metrics it does have (services.scorecard).

A score is 0–100. Rates count a late answer half ("late counts half"): census returns submitted after the deadline,
share requests answered after theirs, objections resolved after their due date. What is not yet due is not
counted against anyone. State metrics (catalogue, timeliness, open data) read the state at the moment of
computation, limited to what existed by the period's end; the scheduled job recomputes each period at its close.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    CensusDataItem,
    CensusReturn,
    CensusRound,
    DataResource,
    GatewayCall,
    Objection,
    OpenDataset,
    OpenType,
    QualityRun,
    QualityScore,
    ScoreMetric,
    ShareGrant,
    ShareRequest,
)
from .workflow import AWAITING_ANSWER

__all__ = [
    "METRICS",
    "CYCLE_ALLOWANCE",
    "MetricResult",
    "Period",
    "ScoreWindow",
    "period_current",
    "period_parse",
    "metric_results",
]

PERIOD_RE = re.compile(r"^(?P<year>\d{4})(?:-Q(?P<quarter>[1-4]))?$")
MIN_YEAR, MAX_YEAR = 2000, 2100
LATE_CREDIT = Decimal("0.5")
DEFAULT_OPEN_TARGET = Decimal(10)

# How old a published resource's data may be and still count as updated on time: its cycle plus one day of grace
# (a daily resource refreshed at 02:00 is on time until the day after). Irregular resources are not scored.
CYCLE_ALLOWANCE: dict[str, timedelta] = {
    DataResource.UpdateCycle.REALTIME: timedelta(days=1),
    DataResource.UpdateCycle.DAILY: timedelta(days=2),
    DataResource.UpdateCycle.WEEKLY: timedelta(days=8),
    DataResource.UpdateCycle.MONTHLY: timedelta(days=32),
    DataResource.UpdateCycle.QUARTERLY: timedelta(days=93),
    DataResource.UpdateCycle.YEARLY: timedelta(days=367),
}


# --- periods -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """A scoring period: a quarter ("2026-Q4") or a year ("2026"); `end` is the last day, inclusive."""

    code: str
    year: int
    quarter: int | None

    @property
    def start(self) -> date:
        return date(self.year, 1 + 3 * (self.quarter - 1), 1) if self.quarter else date(self.year, 1, 1)

    @property
    def end(self) -> date:
        if not self.quarter:
            return date(self.year, 12, 31)
        if self.quarter == 4:
            return date(self.year, 12, 31)
        return date(self.year, 1 + 3 * self.quarter, 1) - timedelta(days=1)

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_at(self) -> datetime:
        """The instant the period ends (midnight after its last day, local time; exclusive)."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    @property
    def is_quarter(self) -> bool:
        return self.quarter is not None

    @property
    def label(self) -> str:
        if self.quarter:
            return _("%(year)d 年第 %(q)d 季度") % {"year": self.year, "q": self.quarter}
        return _("%(year)d 年度") % {"year": self.year}

    def previous(self) -> Period:
        if not self.quarter:
            return Period(str(self.year - 1), self.year - 1, None)
        if self.quarter == 1:
            return Period(f"{self.year - 1}-Q4", self.year - 1, 4)
        return Period(f"{self.year}-Q{self.quarter - 1}", self.year, self.quarter - 1)

    def __str__(self) -> str:
        return self.code


def period_parse(code: str | Period) -> Period:
    """ "2026-Q4" or "2026" → Period; ValidationError on the field `period` otherwise."""
    if isinstance(code, Period):
        return code
    match = PERIOD_RE.match(str(code or "").strip())
    if match is None or not MIN_YEAR <= int(match["year"]) <= MAX_YEAR:
        raise ValidationError(
            {"period": _("考核周期格式应为“2026-Q4”（季度）或“2026”（年度），年份在 2000–2100 之间。")},
            code="period",
        )
    year, quarter = int(match["year"]), int(match["quarter"]) if match["quarter"] else None
    return Period(f"{year}-Q{quarter}" if quarter else str(year), year, quarter)


def period_current(kind: str = "quarter", today: date | None = None) -> Period:
    today = today or timezone.localdate()
    if kind == "year":
        return Period(str(today.year), today.year, None)
    quarter = (today.month - 1) // 3 + 1
    return Period(f"{today.year}-Q{quarter}", today.year, quarter)


@dataclass(frozen=True)
class ScoreWindow:
    """What one computation looks at: the period and the moment "now" stands for (the period's end, or the
    present when the period is still running)."""

    period: Period
    now: datetime
    # Aggregates several metrics share (the published resources by provider), computed once per window.
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, period: Period, now: datetime | None = None) -> ScoreWindow:
        now = now or timezone.now()
        return cls(period=period, now=min(now, period.end_at))

    @property
    def start_at(self) -> datetime:
        return self.period.start_at

    @property
    def end_at(self) -> datetime:
        return self.period.end_at

    @property
    def today(self) -> date:
        """The last day that has (at least partly) passed within the period."""
        return min(timezone.localtime(self.now).date(), self.period.end)


# --- results -------------------------------------------------------------------------------------------------
@dataclass
class MetricResult:
    """One metric of one department: `value` in the metric's own unit, `score` 0–100, `detail` the counts."""

    value: Decimal | None
    score: Decimal
    detail: dict = field(default_factory=dict)


def _d(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _rate(full: int, late: int, total: int) -> Decimal:
    """100 × (on time + half of late) / total, two decimals."""
    return _d(Decimal(100) * (Decimal(full) + LATE_CREDIT * Decimal(late)) / Decimal(total))


def _only(query, name: str, departments: Iterable[int] | None):
    return query if departments is None else query.filter(**{f"{name}__in": list(departments)})


# --- the eight metrics ---------------------------------------------------------------------------------------
def census_completeness(window: ScoreWindow, *, departments=None, target=None) -> dict[int, MetricResult]:
    """普查完成度: the returns of census rounds whose deadline falls in the period (rounds being prepared aside).
    On time = submitted (or accepted) by the end of the deadline day; late submissions count half; returns whose
    deadline has not come yet count only once submitted. Value: the on-time share in %."""
    period = window.period
    rows = _only(
        CensusReturn.objects.filter(round__due_on__gte=period.start, round__due_on__lte=period.end).exclude(
            round__status=CensusRound.Status.DRAFT
        ),
        "unit_id",
        departments,
    ).values_list("unit_id", "status", "submitted_at", "round__due_on")
    done_states = (CensusReturn.Status.SUBMITTED, CensusReturn.Status.ACCEPTED)
    counts: dict[int, dict[str, int]] = {}
    for unit_id, status, submitted_at, due_on in rows.iterator(chunk_size=2000):
        done = status in done_states and submitted_at is not None
        if not done and due_on >= window.today:
            continue  # not due yet
        c = counts.setdefault(
            unit_id, {"returns": 0, "on_time": 0, "late": 0, "accepted": 0, "returned": 0, "missing": 0}
        )
        c["returns"] += 1
        due_end = timezone.make_aware(datetime.combine(due_on + timedelta(days=1), time.min))
        if done:
            c["on_time" if submitted_at < due_end else "late"] += 1
            c["accepted"] += status == CensusReturn.Status.ACCEPTED
        elif status == CensusReturn.Status.RETURNED:
            c["returned"] += 1
        else:
            c["missing"] += 1
    return {
        unit: MetricResult(
            value=_d(Decimal(100) * c["on_time"] / c["returns"]),
            score=_rate(c["on_time"], c["late"], c["returns"]),
            detail=c,
        )
        for unit, c in counts.items()
    }


def _resource_figures(window: ScoreWindow, departments) -> dict[int, dict]:
    """One aggregate over the published resources by provider: how many, mounted, scored for timeliness and
    fresh, open-typed. Shared by the catalogue, timeliness and open-data metrics (memoised per window)."""
    fresh = Q()
    for cycle, allowance in CYCLE_ALLOWANCE.items():
        fresh |= Q(update_cycle=cycle, data_updated_at__gte=window.now - allowance)
    timed = ~Q(update_cycle=DataResource.UpdateCycle.IRREGULAR)
    rows = _only(
        DataResource.objects.filter(status=DataResource.Status.PUBLISHED, created_at__lt=window.end_at),
        "provider_id",
        departments,
    ).values("provider_id")
    rows = rows.annotate(
        published=Count("id"),
        mounted=Count("id", filter=~Q(mount_kind="")),
        timed=Count("id", filter=timed),
        fresh=Count("id", filter=timed & fresh),
        openable=Count("id", filter=~Q(open_type=OpenType.CLOSED)),
    ).order_by()
    return {row.pop("provider_id"): row for row in rows}


def _memo(window: ScoreWindow, key: str, departments, compute: Callable[[], dict]) -> dict:
    memo = window.memo
    name = (key, None if departments is None else tuple(sorted(departments)))
    if name not in memo:
        memo[name] = compute()
    return memo[name]


def catalogue_coverage(window: ScoreWindow, *, departments=None, target=None) -> dict[int, MetricResult]:
    """目录与挂接覆盖率: (a) of the data the department declared in its latest census return (rounds due by the
    period's end), the share already in the catalogue; (b) of its published resources, the share mounted (挂接)
    on real data. Score: the mean of the ratios it has. Value: the same, in %."""
    items = _only(
        CensusDataItem.objects.filter(census_return__round__due_on__lte=window.period.end).exclude(
            census_return__round__status=CensusRound.Status.DRAFT
        ),
        "census_return__unit_id",
        departments,
    )
    latest: dict[int, tuple] = {}
    for row in (
        items.values("census_return__unit_id", "census_return__round_id", "census_return__round__due_on")
        .annotate(n=Count("id"), linked=Count("id", filter=Q(resource__isnull=False)))
        .order_by()
    ):
        unit = row["census_return__unit_id"]
        rank = (row["census_return__round__due_on"], row["census_return__round_id"])
        if unit not in latest or rank > latest[unit][0]:
            latest[unit] = (rank, row["n"], row["linked"])
    resources = _memo(window, "resources", departments, lambda: _resource_figures(window, departments))
    out = {}
    for unit in set(latest) | set(resources):
        ratios = []
        detail = {"items": 0, "linked": 0, "published": 0, "mounted": 0}
        if unit in latest and latest[unit][1]:
            detail["items"], detail["linked"] = latest[unit][1], latest[unit][2]
            ratios.append(Decimal(detail["linked"]) / detail["items"])
        figures = resources.get(unit)
        if figures and figures["published"]:
            detail["published"], detail["mounted"] = figures["published"], figures["mounted"]
            ratios.append(Decimal(detail["mounted"]) / detail["published"])
        if ratios:
            score = _d(Decimal(100) * sum(ratios) / len(ratios))
            out[unit] = MetricResult(value=score, score=score, detail=detail)
    return out


def update_timeliness(window: ScoreWindow, *, departments=None, target=None) -> dict[int, MetricResult]:
    """更新及时率: of the department's published resources with a regular update cycle, the share whose
    `data_updated_at` is within the cycle (CYCLE_ALLOWANCE) of the window's moment. Value: that share in %."""
    resources = _memo(window, "resources", departments, lambda: _resource_figures(window, departments))
    out = {}
    for unit, f in resources.items():
        if f["timed"]:
            score = _d(Decimal(100) * f["fresh"] / f["timed"])
            out[unit] = MetricResult(
                value=score, score=score, detail={"resources": f["timed"], "fresh": f["fresh"]}
            )
    return out


def quality_score(window: ScoreWindow, *, departments=None, target=None) -> dict[int, MetricResult]:
    """数据质量得分: the mean quality score of the department's resources, each by its latest finished quality run
    in the period (a resource's QualityScore without a run, measured in the period, counts too). Value = score."""
    in_period = Q(finished_at__gte=window.start_at, finished_at__lt=window.end_at)
    finished = (QualityRun.Status.PASSED, QualityRun.Status.FAILED)
    latest = (
        QualityRun.objects.filter(in_period, resource=OuterRef("resource"), status__in=finished)
        .exclude(quality_score__isnull=True)
        .order_by("-finished_at", "-id")
        .values("id")[:1]
    )
    runs = _only(
        QualityRun.objects.filter(in_period, status__in=finished)
        .exclude(quality_score__isnull=True)
        .filter(id__in=latest),
        "resource__provider_id",
        departments,
    )
    sums: dict[int, list] = {}
    for row in (
        runs.values("resource__provider_id").annotate(avg=Avg("quality_score"), n=Count("id")).order_by()
    ):
        sums[row["resource__provider_id"]] = [Decimal(str(row["avg"])) * row["n"], row["n"]]
    loose = _only(
        QualityScore.objects.filter(
            run__isnull=True, measured_at__gte=window.start_at, measured_at__lt=window.end_at
        ),
        "provider_id",
        departments,
    )
    for row in loose.values("provider_id").annotate(avg=Avg("quality"), n=Count("id")).order_by():
        total = sums.setdefault(row["provider_id"], [Decimal(0), 0])
        total[0] += Decimal(str(row["avg"])) * row["n"]
        total[1] += row["n"]
    out = {}
    for unit, (total, n) in sums.items():
        score = min(Decimal(100), max(Decimal(0), _d(total / n)))
        out[unit] = MetricResult(value=score, score=score, detail={"resources": n})
    return out


def share_response(window: ScoreWindow, *, departments=None, target=None) -> dict[int, MetricResult]:
    """共享申请响应时效: requests filed in the period that waited for the provider's answer (those decided by rule
    never did). Hours from filing to the provider's first answer (offer, approval or refusal: `answered_at`)
    against the working-day deadline (`due_at`); unanswered requests past the deadline count as missed, late
    answers half. Value: the mean hours to the first answer."""
    waited = ExpressionWrapper(F("answered_at") - F("created_at"), output_field=DurationField())
    answered = Q(answered_at__isnull=False)
    rows = _only(
        ShareRequest.objects.filter(
            created_at__gte=window.start_at, created_at__lt=window.end_at, due_at__isnull=False
        ),
        "provider_id",
        departments,
    ).values("provider_id")
    rows = rows.annotate(
        received=Count("id"),
        answered=Count("id", filter=answered),
        on_time=Count("id", filter=answered & Q(answered_at__lte=F("due_at"))),
        overdue=Count(
            "id", filter=Q(answered_at__isnull=True, state__in=AWAITING_ANSWER, due_at__lt=window.now)
        ),
        waited=Avg(waited, filter=answered),
    ).order_by()
    out = {}
    for row in rows:
        judged = row["answered"] + row["overdue"]
        if not judged:
            continue
        late = row["answered"] - row["on_time"]
        hours = _d(Decimal(row["waited"].total_seconds()) / 3600) if row["waited"] is not None else None
        detail = {k: row[k] for k in ("received", "answered", "on_time", "overdue")}
        detail["late"] = late
        out[row["provider_id"]] = MetricResult(
            value=hours, score=_rate(row["on_time"], late, judged), detail=detail
        )
    return out


def grants_used(window: ScoreWindow, *, departments=None, target=None) -> dict[int, MetricResult]:
    """共享授权使用率: of the grants the department gave that were in force during the period (valid then, and not
    suspended or revoked before it began), the share called through the gateway in the period (answered calls:
    data returned or none found). Value: that share in %."""
    calls = GatewayCall.objects.filter(
        grant=OuterRef("pk"),
        at__gte=window.start_at,
        at__lt=window.end_at,
        outcome__in=(GatewayCall.Outcome.OK, GatewayCall.Outcome.NOT_FOUND),
    )
    in_force = Q(status__in=(ShareGrant.Status.ACTIVE, ShareGrant.Status.EXPIRED)) | Q(
        updated_at__gte=window.start_at
    )
    rows = (
        _only(
            ShareGrant.objects.filter(
                in_force,
                valid_from__lt=window.end_at,
                valid_until__gt=window.start_at,
                created_at__lt=window.end_at,
            ),
            "provider_id",
            departments,
        )
        .values("provider_id")
        .annotate(grants=Count("id"), used=Count("id", filter=Q(Exists(calls))))
        .order_by()
    )
    out = {}
    for row in rows:
        score = _d(Decimal(100) * row["used"] / row["grants"])
        out[row["provider_id"]] = MetricResult(
            value=score, score=score, detail={"grants": row["grants"], "used": row["used"]}
        )
    return out


def open_datasets(window: ScoreWindow, *, departments=None, target=None) -> dict[int, MetricResult]:
    """开放数据集: datasets the department has open (published by the period's end) against the target (the
    weight's 满分目标, default 10). A department with no dataset and no resource typed for opening has nothing
    to open (无数据). Value: the number of datasets."""
    goal = Decimal(str(target)) if target else DEFAULT_OPEN_TARGET
    counts = {
        row["department_id"]: row["n"]
        for row in _only(
            OpenDataset.objects.filter(status=OpenDataset.Status.PUBLISHED, published_at__lt=window.end_at),
            "department_id",
            departments,
        )
        .values("department_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    resources = _memo(window, "resources", departments, lambda: _resource_figures(window, departments))
    out = {}
    for unit in set(counts) | {u for u, f in resources.items() if f["openable"]}:
        n = counts.get(unit, 0)
        score = min(Decimal(100), _d(Decimal(100) * n / goal))
        openable = resources.get(unit, {}).get("openable", 0)
        out[unit] = MetricResult(
            value=Decimal(n), score=score, detail={"datasets": n, "target": int(goal), "openable": openable}
        )
    return out


def corrections_on_time(window: ScoreWindow, *, departments=None, target=None) -> dict[int, MetricResult]:
    """纠错按期办结率: objections to the department's data (as 数源部门) due in the period, not withdrawn: resolved
    (corrected or rejected with reasons) by the due date, late (half), or still open past it (missed). Open ones not
    yet due are not counted. Value: the on-time share in %."""
    period = window.period
    resolved = Q(
        status__in=(Objection.Status.CORRECTED, Objection.Status.REJECTED), resolved_at__isnull=False
    )
    rows = (
        _only(
            Objection.objects.filter(due_on__gte=period.start, due_on__lte=period.end).exclude(
                status=Objection.Status.WITHDRAWN
            ),
            "source_department_id",
            departments,
        )
        .annotate(resolved_on=TruncDate("resolved_at"))
        .values("source_department_id")
        .annotate(
            on_time=Count("id", filter=resolved & Q(resolved_on__lte=F("due_on"))),
            late=Count("id", filter=resolved & Q(resolved_on__gt=F("due_on"))),
            open_overdue=Count(
                "id",
                filter=Q(
                    status__in=(Objection.Status.SUBMITTED, Objection.Status.VERIFYING),
                    due_on__lt=window.today,
                ),
            ),
        )
        .order_by()
    )
    out = {}
    for row in rows:
        judged = row["on_time"] + row["late"] + row["open_overdue"]
        if not judged:
            continue
        detail = {"due": judged, "on_time": row["on_time"], "late": row["late"], "open": row["open_overdue"]}
        out[row["source_department_id"]] = MetricResult(
            value=_d(Decimal(100) * row["on_time"] / judged),
            score=_rate(row["on_time"], row["late"], judged),
            detail=detail,
        )
    return out


METRICS: dict[str, Callable[..., dict[int, MetricResult]]] = {
    ScoreMetric.CENSUS: census_completeness,
    ScoreMetric.CATALOGUE: catalogue_coverage,
    ScoreMetric.TIMELINESS: update_timeliness,
    ScoreMetric.QUALITY: quality_score,
    ScoreMetric.SHARE_RESPONSE: share_response,
    ScoreMetric.GRANTS_USED: grants_used,
    ScoreMetric.OPEN_DATA: open_datasets,
    ScoreMetric.CORRECTIONS: corrections_on_time,
}


def metric_results(
    window: ScoreWindow,
    *,
    metrics: Iterable[str] | None = None,
    targets: dict | None = None,
    departments=None,
) -> dict[str, dict[int, MetricResult]]:
    """Every metric's results for all departments (or `departments`): {metric: {department id: result}}."""
    targets = targets or {}
    names = list(metrics) if metrics is not None else list(METRICS)
    return {name: METRICS[name](window, departments=departments, target=targets.get(name)) for name in names}
