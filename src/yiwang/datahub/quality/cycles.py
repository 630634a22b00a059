"""Freshness windows of the declared update cycles and the quality and freshness score formulas.

Window (how old the data may be before it is stale): realtime 1 h, daily 36 h, weekly 8 d, monthly 32 d,
quarterly 93 d, yearly 366 d; irregular: never stale.

Quality score (0-100) of a run: the weighted mean of the rules' marks over the non-freshness rules,
    quality = 100 × Σ wᵢ·mᵢ / Σ wᵢ
where a rule's mark mᵢ is 1 when it passed; when it failed, 0.5 × (1 − pᵢ/100) with pᵢ the percentage of rows that
failed it (a failed rule loses at least half its weight, the rest in proportion to its bad rows); 0 for a failed
rule that has no row percentage (schema, row count) and for a rule that could not be evaluated. No such rules: 100.

Freshness score (0-100): 100 while the data is within its window; past it, it decays linearly with the lateness
and reaches 0 when the data is twice the window old: 100 × max(0, 1 − (age − window) / window). Never updated: 0.
Irregular resources: 100.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CYCLE_HOURS: dict[str, float | None] = {
    "realtime": 1,
    "daily": 36,
    "weekly": 8 * 24,
    "monthly": 32 * 24,
    "quarterly": 93 * 24,
    "yearly": 366 * 24,
    "irregular": None,
}

# How often the scheduled sweep re-runs a resource's rules, by its update cycle (hours; default daily).
RERUN_HOURS: dict[str, float] = {"realtime": 24, "daily": 24, "weekly": 24 * 7, "monthly": 24 * 7}
DEFAULT_RERUN_HOURS = 24.0


def window_hours(cycle: str) -> float | None:
    """The freshness window of an update cycle in hours, None for irregular (never stale)."""
    return CYCLE_HOURS.get(cycle, None)


def rerun_hours(cycle: str) -> float:
    return RERUN_HOURS.get(cycle, DEFAULT_RERUN_HOURS)


def _score(value: float) -> Decimal:
    value = max(0.0, min(100.0, value))
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rule_mark(outcome: str, failed_percent: float | None) -> float:
    if outcome == "passed":
        return 1.0
    if outcome == "failed" and failed_percent is not None:
        return 0.5 * max(0.0, 1.0 - float(failed_percent) / 100.0)
    return 0.0


def quality_score(marks: list[tuple[int, float]]) -> Decimal:
    """`marks`: (weight, mark) of each non-freshness rule."""
    total = sum(max(0, w) for w, _m in marks)
    if not total:
        return _score(100.0)
    return _score(100.0 * sum(max(0, w) * m for w, m in marks) / total)


def freshness_score(age_hours: float | None, window: float | None) -> Decimal:
    if window is None:
        return _score(100.0)
    if age_hours is None:
        return _score(0.0)
    if age_hours <= window:
        return _score(100.0)
    return _score(100.0 * (1.0 - (age_hours - window) / window))
