"""公共绩效考评: performance plans and their scores per unit, ranked.

A plan (TASK_ISSUE) picks indicators of one scope (区直部门 or 镇街) and sets the weight of public evaluation
(`public_weight`, %: indicators of category 公众评价 — 好差评, 12345).

`performance_compute(plan=, period_start=, period_end=)` computes each of the plan's indicators for the window
(one grouped metric query per indicator, over every unit of the scope) and scores it:

    points (0–100) — direction aware, from the value against the target and the threshold:
      shortfall = target − value (higher is better) or value − target (lower is better)
      shortfall ≤ 0 (target reached)          → 100
      otherwise 100 − 40 × shortfall / gap    (gap = |target − threshold|, or max(|target|, 1) when they are equal)
      — exactly 60 at the warning threshold, falling linearly, never below 0.

    governance score = Σ points × weight ÷ Σ weight over the unit's governance indicators with data;
    public score     = the same over its public-evaluation indicators;
    score            = governance × (100 − public_weight)% + public × public_weight%; when one part has no data
                       the other part alone is the score; a unit with no data at all is not ranked.
    rank: by score, highest first; equal scores share a rank (1, 1, 3).

The period's scores are replaced as a whole (one row per unit with its parts JSON).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.permissions import TASK_ISSUE
from yiwang.core.principal import Principal

from ..metrics import metric_batch, metric_get, scope_units
from ..models import Indicator, PerformancePlan, PerformanceScore

__all__ = [
    "THRESHOLD_POINTS",
    "indicator_points",
    "performance_compute",
    "plan_create",
    "plan_update",
]

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{2,32}$")
THRESHOLD_POINTS = Decimal(60)
HUNDRED = Decimal(100)


def _q2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def indicator_points(indicator: Indicator, value: Decimal | None) -> Decimal | None:
    """The 0–100 points of a value (None: no data). See the module doc for the formula."""
    if value is None:
        return None
    target, threshold = Decimal(indicator.target), Decimal(indicator.threshold)
    if indicator.direction == Indicator.Direction.LOWER:
        shortfall = Decimal(value) - target
    else:
        shortfall = target - Decimal(value)
    if shortfall <= 0:
        return HUNDRED
    gap = abs(target - threshold) or max(abs(target), Decimal(1))
    points = HUNDRED - (HUNDRED - THRESHOLD_POINTS) * shortfall / gap
    return _q2(max(Decimal(0), points))


# --- plans -----------------------------------------------------------------------------------------------------
def _clean_plan(*, name: str, scope: str, public_weight, indicators) -> dict:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("请填写方案名称。")]
    elif len(name) > 100:
        errors["name"] = [_("方案名称不能超过 100 个字。")]
    if scope not in Indicator.Scope.values:
        errors["scope"] = [_("考核对象只能是区直部门或镇街。")]
    if not isinstance(public_weight, int) or isinstance(public_weight, bool) or not 0 <= public_weight <= 100:
        errors["public_weight"] = [_("公众评价权重应为 0 至 100 的整数。")]
    indicators = list(indicators or [])
    wrong = [i.code for i in indicators if i.scope != scope]
    if wrong:
        errors["indicators"] = [
            _("这些指标的考核对象与方案不同：%(codes)s") % {"codes": "、".join(sorted(wrong)[:10])}
        ]
    elif not indicators:
        errors["indicators"] = [_("请至少选择一个指标。")]
    if errors:
        raise ValidationError(errors)
    return {"name": name, "scope": scope, "public_weight": public_weight, "indicators": indicators}


def _plan_snapshot(plan: PerformancePlan, indicators) -> dict:
    return {
        "code": plan.code,
        "name": plan.name,
        "scope": plan.scope,
        "public_weight": plan.public_weight,
        "indicators": sorted(i.code for i in indicators),
        "is_active": plan.is_active,
    }


def plan_create(
    *,
    actor: Principal,
    code: str,
    name: str,
    scope: str = Indicator.Scope.DEPARTMENT,
    public_weight: int = 30,
    indicators=(),
    is_active: bool = True,
) -> PerformancePlan:
    """A new 绩效考评方案 (TASK_ISSUE)."""
    actor.require(TASK_ISSUE)
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise ValidationError({"code": _("方案编码应为 2–32 位字母、数字、下划线或连字符。")}, code="invalid")
    data = _clean_plan(name=name, scope=scope, public_weight=public_weight, indicators=indicators)
    with transaction.atomic():
        if PerformancePlan.objects.filter(code=code).exists():
            raise ValidationError({"code": _("方案编码已存在。")}, code="unique")
        plan = PerformancePlan.objects.create(
            code=code,
            name=data["name"],
            scope=data["scope"],
            public_weight=data["public_weight"],
            is_active=bool(is_active),
        )
        plan.indicators.set(data["indicators"])
        audit_record(
            actor=actor,
            action="collab.performance_plan.create",
            object_type="collab.performance_plan",
            object_id=plan.code,
            after=_plan_snapshot(plan, data["indicators"]),
        )
    return plan


def plan_update(
    *,
    actor: Principal,
    plan: PerformancePlan,
    name: str | None = None,
    public_weight: int | None = None,
    indicators=None,
    is_active: bool | None = None,
) -> PerformancePlan:
    """Changes a plan (TASK_ISSUE); its scope stays. Scores already computed stay until recomputed."""
    actor.require(TASK_ISSUE)
    with transaction.atomic():
        locked = PerformancePlan.objects.select_for_update().get(pk=plan.pk)
        current = list(locked.indicators.all())
        before = _plan_snapshot(locked, current)
        data = _clean_plan(
            name=locked.name if name is None else name,
            scope=locked.scope,
            public_weight=locked.public_weight if public_weight is None else public_weight,
            indicators=current if indicators is None else indicators,
        )
        locked.name, locked.public_weight = data["name"], data["public_weight"]
        if is_active is not None:
            locked.is_active = bool(is_active)
        locked.save()
        locked.indicators.set(data["indicators"])
        audit_record(
            actor=actor,
            action="collab.performance_plan.update",
            object_type="collab.performance_plan",
            object_id=locked.code,
            before=before,
            after=_plan_snapshot(locked, data["indicators"]),
        )
    return locked


# --- scores ----------------------------------------------------------------------------------------------------
def _weighted(parts: list[dict]) -> Decimal | None:
    total = sum((Decimal(str(p["weight"])) for p in parts), Decimal(0))
    if not parts or total <= 0:
        return None
    return _q2(
        sum((Decimal(str(p["points"])) * Decimal(str(p["weight"])) for p in parts), Decimal(0)) / total
    )


def performance_compute(
    *,
    plan: PerformancePlan,
    period_start: date,
    period_end: date,
    now: datetime | None = None,
    actor: Principal | None = None,
) -> list[PerformanceScore]:
    """Scores and ranks every unit of the plan's scope for the window (see the module doc); returns the rows by
    rank. `actor`: a TASK_ISSUE holder on demand, or None (the schedule)."""
    if actor is not None:
        actor.require(TASK_ISSUE)
    if not isinstance(period_start, date) or not isinstance(period_end, date):
        raise ValidationError({"period_start": _("请填写考评周期。")}, code="required")
    if period_end < period_start:
        raise ValidationError({"period_end": _("考评周期结束日不能早于开始日。")}, code="invalid")
    if (period_end - period_start).days > 366:
        raise ValidationError({"period_end": _("考评周期不能超过一年。")}, code="invalid")
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    if period_start > today:
        raise ValidationError({"period_start": _("考评周期尚未开始。")}, code="invalid")
    indicators = [i for i in plan.indicators.filter(is_active=True).order_by("code") if metric_get(i.metric)]
    units = list(scope_units(plan.scope))
    by_unit: dict[int, list[dict]] = {u.pk: [] for u in units}
    for indicator in indicators:
        results = metric_batch(indicator.metric, units, period_start, period_end, today=today)
        for unit in units:
            result = results.get(unit.pk)
            value = result.value if result else None
            points = indicator_points(indicator, value)
            if points is None:
                continue
            by_unit[unit.pk].append(
                {
                    "indicator": indicator.code,
                    "name": indicator.name,
                    "category": indicator.category,
                    "unit": indicator.unit,
                    "direction": indicator.direction,
                    "value": float(value),
                    "target": float(indicator.target),
                    "threshold": float(indicator.threshold),
                    "points": float(points),
                    "weight": float(indicator.weight),
                }
            )
    share = Decimal(plan.public_weight) / HUNDRED
    scored = []
    for unit in units:
        parts = by_unit[unit.pk]
        governance = _weighted([p for p in parts if p["category"] != Indicator.Category.PUBLIC])
        public = _weighted([p for p in parts if p["category"] == Indicator.Category.PUBLIC])
        if governance is None and public is None:
            continue
        if governance is None:
            score = public
        elif public is None:
            score = governance
        else:
            score = _q2(governance * (1 - share) + public * share)
        scored.append((unit, score, governance, public, parts))
    scored.sort(key=lambda s: (-s[1], s[0].code))
    rows: list[PerformanceScore] = []
    previous, rank = None, 0
    for position, (unit, score, governance, public, parts) in enumerate(scored, start=1):
        if score != previous:
            rank, previous = position, score
        rows.append(
            PerformanceScore(
                plan=plan,
                department=unit,
                period_start=period_start,
                period_end=period_end,
                score=score,
                governance_score=governance if governance is not None else Decimal(0),
                public_score=public if public is not None else Decimal(0),
                rank=rank,
                parts=parts,
                computed_at=now,
            )
        )
    with transaction.atomic():
        PerformancePlan.objects.select_for_update().filter(pk=plan.pk).first()
        PerformanceScore.objects.filter(plan=plan, period_start=period_start).delete()
        PerformanceScore.objects.bulk_create(rows)
        audit_record(
            actor=actor,
            action="collab.performance.compute",
            object_type="collab.performance_plan",
            object_id=plan.code,
            after={
                "period_start": period_start,
                "period_end": period_end,
                "units": len(rows),
                "top": [(r.department.code, r.score) for r in rows[:3]],
            },
        )
    return rows
