"""Working-day arithmetic (工作日计算) for every statutory and committed deadline.

Pure functions over a `WorkingCalendar`: Monday to Friday are working days, except public holidays; Saturdays
and Sundays are rest days, except adjusted working days (调休上班). The calendar itself comes from CalendarDay
rows through `working_calendar()`, cached because every SLA computation needs it.

Counting rule (the usual government rule for 法定时限/承诺时限): the day of acceptance does not count; the
deadline counts from the next working day. So `add_working_days(friday, 1)` is the following Monday in a normal
week, and a case accepted on a holiday gets its first working day at the first working day after the holiday.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

__all__ = [
    "WorkingCalendar",
    "is_working_day",
    "add_working_days",
    "working_days_between",
    "next_working_day",
    "working_calendar",
    "working_calendar_invalidate",
]

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkingCalendar:
    """Exceptions to the Monday–Friday rule. A date may not be both a holiday and an adjusted working day."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)  # 调休上班: weekend days that are worked

    def __post_init__(self) -> None:
        # Accept any iterable of dates but store frozensets, so the calendar is hashable and immutable.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        clash = self.holidays & self.workdays
        if clash:
            raise ValueError(f"dates are both holiday and adjusted working day: {sorted(clash)}")

    @classmethod
    def from_days(cls, days: Iterable[tuple[date, str]]) -> WorkingCalendar:
        """From (date, kind) pairs, kind being "holiday" or "workday" (CalendarDay.Kind values)."""
        holidays: set[date] = set()
        workdays: set[date] = set()
        for day, kind in days:
            (workdays if kind == "workday" else holidays).add(day)
        return cls(frozenset(holidays), frozenset(workdays))


def is_working_day(d: date, cal: WorkingCalendar) -> bool:
    if d in cal.workdays:
        return True
    if d in cal.holidays:
        return False
    return d.weekday() < 5


def next_working_day(d: date, cal: WorkingCalendar) -> date:
    """The first working day strictly after d."""
    d += _ONE_DAY
    while not is_working_day(d, cal):
        d += _ONE_DAY
    return d


def add_working_days(start: date, n: int, cal: WorkingCalendar) -> date:
    """The date of the n-th working day after `start` (start itself never counts; n == 0 returns start).

    The result is always a working day when n > 0, and working_days_between(start, result) == n.
    """
    if n < 0:
        raise ValueError("n must be zero or positive")
    d = start
    for _ in range(n):
        d = next_working_day(d, cal)
    return d


def _weekdays_through(d: date) -> int:
    """Monday–Friday days from 0001-01-01 (a Monday) up to and including d."""
    days = d.toordinal()  # day count 1..; ordinal 1 is a Monday
    weeks, rest = divmod(days, 7)
    return weeks * 5 + min(rest, 5)


def working_days_between(a: date, b: date, cal: WorkingCalendar) -> int:
    """Working days in (a, b]; negative (minus the count in (b, a]) when b < a, zero when equal.

    Computed arithmetically (weekday count corrected by the calendar's exceptions), so long spans stay cheap.
    """
    if b < a:
        return -working_days_between(b, a, cal)
    count = _weekdays_through(b) - _weekdays_through(a)
    count -= sum(1 for h in cal.holidays if a < h <= b and h.weekday() < 5)
    count += sum(1 for w in cal.workdays if a < w <= b and w.weekday() >= 5)
    return count


# --- the calendar from the database, cached ---------------------------------------------------------------
# Two layers: Django's cache (shared across processes when it is Redis) and a short per-process memo so an
# SLA list does not hit the cache once per row. A calendar service clears both after its transaction commits;
# other processes see the change when their memo expires (LOCAL_TTL) and the shared entry is gone. Holiday
# edits are made weeks ahead, so this bounded staleness is harmless.
CACHE_KEY = "yiwang:working_calendar:v1"
CACHE_TTL = 300  # seconds; also bounds staleness with a per-process (locmem) Django cache
LOCAL_TTL = 60.0

_memo_lock = threading.Lock()
_memo: tuple[float, WorkingCalendar] | None = None


def working_calendar() -> WorkingCalendar:
    """The holiday and 调休 calendar from CalendarDay rows (all years; a few dozen rows per year)."""
    global _memo
    now = time.monotonic()
    with _memo_lock:
        if _memo is not None and _memo[0] > now:
            return _memo[1]
    from django.core.cache import cache

    rows = cache.get(CACHE_KEY)
    if rows is None:
        from .models import CalendarDay

        rows = [(d.isoformat(), kind) for d, kind in CalendarDay.objects.values_list("date", "kind")]
        cache.set(CACHE_KEY, rows, CACHE_TTL)
    cal = WorkingCalendar.from_days((date.fromisoformat(d), kind) for d, kind in rows)
    with _memo_lock:
        _memo = (now + LOCAL_TTL, cal)
    return cal


def working_calendar_invalidate() -> None:
    """Forget the cached calendar (call after a calendar write commits)."""
    global _memo
    from django.core.cache import cache

    with _memo_lock:
        _memo = None
    cache.delete(CACHE_KEY)
