"""Case deadlines in working days (承诺时限 and per-step limits): pure functions over a WorkingCalendar.

Nothing here reads the database or the clock; callers pass `today` and the calendar (core.workdays), so every
rule is table-tested under a fixed calendar. Counting follows core.workdays: the start day never counts.
"""

from __future__ import annotations

from datetime import date

from yiwang.core.workdays import WorkingCalendar, add_working_days, working_days_between

__all__ = [
    "GREEN",
    "YELLOW",
    "RED",
    "PAUSED",
    "NEAR_DUE_SHARE",
    "sla_light",
    "due_after",
    "paused_days",
    "push_due",
]

GREEN, YELLOW, RED, PAUSED = "green", "yellow", "red", "paused"
# Yellow when fewer than this share of the step's working days are left (issue 3: "less than 20%").
NEAR_DUE_SHARE = 0.2


def sla_light(
    *, step_started: date, step_due: date | None, today: date, paused: bool, cal: WorkingCalendar
) -> str | None:
    """The traffic light of a case's current step.

    None without a step deadline (drafts, closed cases); "paused" while the clock is stopped (补正); "red"
    once `today` is past the due date; "yellow" when fewer than 20% of the step's working days are left (the
    due day itself always counts as yellow: nothing is left after it); otherwise "green".
    """
    if step_due is None:
        return None
    if paused:
        return PAUSED
    if today > step_due:
        return RED
    total = max(working_days_between(step_started, step_due, cal), 1)
    left = max(working_days_between(today, step_due, cal), 0)
    if left < NEAR_DUE_SHARE * total:
        return YELLOW
    return GREEN


def due_after(start: date, working_days: int, cal: WorkingCalendar) -> date:
    """The deadline `working_days` working days after `start` (start itself does not count)."""
    return add_working_days(start, max(int(working_days), 0), cal)


def paused_days(*, paused_on: date, resumed_on: date, cal: WorkingCalendar) -> int:
    """Working days the clock stood still: those in (paused_on, resumed_on]. Supplying on the same day, or
    over a weekend or holiday, costs the applicant's case nothing."""
    return max(working_days_between(paused_on, resumed_on, cal), 0)


def push_due(due: date | None, days: int, cal: WorkingCalendar) -> date | None:
    """A deadline moved `days` working days later (after a pause of that many working days)."""
    if due is None or days <= 0:
        return due
    return add_working_days(due, days, cal)
