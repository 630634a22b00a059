"""Working-day arithmetic: table-driven over the real 2026 schedule, and property tests over random calendars."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.core.calendar_data import HOLIDAY, PROVISIONAL_YEARS, WORKDAY, known_years, schedule
from yiwang.core.workdays import (
    WorkingCalendar,
    add_working_days,
    is_working_day,
    next_working_day,
    working_days_between,
)

D = date
CAL = WorkingCalendar.from_days((s.date, s.kind) for y in known_years() for s in schedule(y))
PLAIN = WorkingCalendar()  # no holidays at all: Monday to Friday


# --- the schedule data ------------------------------------------------------------------------------------------


def test_2026_schedule_matches_the_state_council_notice():
    days = schedule(2026)
    holidays = [s.date for s in days if s.kind == HOLIDAY]
    workdays = sorted(s.date for s in days if s.kind == WORKDAY)
    assert len(holidays) == 3 + 9 + 3 + 5 + 3 + 3 + 7  # 元旦3 春节9 清明3 劳动5 端午3 中秋3 国庆7
    assert workdays == [
        D(2026, 1, 4),
        D(2026, 2, 14),
        D(2026, 2, 28),
        D(2026, 5, 9),
        D(2026, 9, 20),
        D(2026, 10, 10),
    ]
    assert all(d.weekday() >= 5 for d in workdays)  # 调休上班 is always a weekend day
    assert len({s.date for s in days}) == len(days)  # no date twice
    names = {s.name for s in days}
    assert names == {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}
    assert 2026 not in PROVISIONAL_YEARS and 2027 in PROVISIONAL_YEARS


def test_2027_provisional_schedule_is_consistent():
    days = schedule(2027)
    assert all(s.date.year == 2027 for s in days)
    assert len({s.date for s in days}) == len(days)
    assert D(2027, 2, 6) in {s.date for s in days if s.name == "春节"}  # 正月初一


# --- table-driven over 2026 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 1, 1), False),  # 元旦 (Thu)
        (D(2026, 1, 2), False),  # 元旦调休 (Fri)
        (D(2026, 1, 4), True),  # Sunday worked (调休上班)
        (D(2026, 1, 5), True),
        (D(2026, 2, 13), True),  # Friday before 春节
        (D(2026, 2, 14), True),  # Saturday worked
        (D(2026, 2, 15), False),  # 腊月二十八, first day off
        (D(2026, 2, 17), False),  # 正月初一 (Tue)
        (D(2026, 2, 23), False),  # 正月初七 (Mon), last day off
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),  # Saturday worked
        (D(2026, 3, 1), False),  # ordinary Sunday
        (D(2026, 3, 7), False),  # ordinary Saturday
        (D(2026, 3, 9), True),  # ordinary Monday
        (D(2026, 4, 6), False),  # 清明 (Mon)
        (D(2026, 5, 5), False),  # 劳动节 (Tue)
        (D(2026, 5, 6), True),
        (D(2026, 5, 9), True),  # Saturday worked
        (D(2026, 6, 19), False),  # 端午 (Fri)
        (D(2026, 9, 20), True),  # Sunday worked before 国庆
        (D(2026, 9, 25), False),  # 中秋 (Fri)
        (D(2026, 10, 1), False),
        (D(2026, 10, 7), False),  # 国庆 last day (Wed)
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),  # Saturday worked
        (D(2026, 10, 11), False),
    ],
)
def test_is_working_day_2026(day, working):
    assert is_working_day(day, CAL) is working


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2026, 3, 6), 0, D(2026, 3, 6)),  # zero days: the same day
        (D(2026, 3, 5), 1, D(2026, 3, 6)),  # Thu + 1 = Fri
        (D(2026, 3, 6), 1, D(2026, 3, 9)),  # Fri + 1 = next Mon: acceptance day does not count
        (D(2026, 3, 7), 1, D(2026, 3, 9)),  # accepted on a Saturday
        (D(2026, 3, 6), 5, D(2026, 3, 13)),  # a full week
        (D(2025, 12, 31), 1, D(2026, 1, 4)),  # over 元旦 onto the worked Sunday
        (D(2026, 2, 13), 1, D(2026, 2, 14)),  # the worked Saturday before 春节
        (D(2026, 2, 13), 2, D(2026, 2, 24)),  # over the nine days of 春节
        (D(2026, 2, 13), 6, D(2026, 2, 28)),  # onto the worked Saturday after 春节
        (D(2026, 2, 13), 7, D(2026, 3, 2)),
        (D(2026, 2, 16), 1, D(2026, 2, 24)),  # accepted on a holiday
        (D(2026, 4, 30), 1, D(2026, 5, 6)),  # over 劳动节
        (D(2026, 4, 30), 4, D(2026, 5, 9)),  # the worked Saturday
        (D(2026, 4, 30), 5, D(2026, 5, 11)),
        (D(2026, 9, 18), 1, D(2026, 9, 20)),  # the worked Sunday before 国庆
        (D(2026, 9, 30), 1, D(2026, 10, 8)),  # over 国庆
        (D(2026, 9, 30), 3, D(2026, 10, 10)),
        (D(2026, 9, 30), 4, D(2026, 10, 12)),
        (D(2026, 9, 15), 20, D(2026, 10, 19)),  # a 20-working-day 承诺时限 across 中秋 and 国庆
    ],
)
def test_add_working_days_2026(start, n, expected):
    assert add_working_days(start, n, CAL) == expected
    assert working_days_between(start, expected, CAL) == n


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (D(2026, 3, 6), D(2026, 3, 6), 0),
        (D(2026, 3, 6), D(2026, 3, 9), 1),
        (D(2026, 3, 9), D(2026, 3, 6), -1),
        (D(2026, 3, 7), D(2026, 3, 8), 0),  # an ordinary weekend
        (D(2026, 2, 13), D(2026, 2, 24), 2),
        (D(2026, 2, 24), D(2026, 2, 13), -2),
        (D(2026, 9, 30), D(2026, 10, 8), 1),
        (D(2026, 10, 3), D(2026, 10, 4), 0),  # a weekend inside 国庆
        (D(2026, 10, 9), D(2026, 10, 10), 1),  # the worked Saturday counts
        # The whole of 2026: 261 weekdays − 19 weekday holidays + 6 worked weekend days.
        (D(2025, 12, 31), D(2026, 12, 31), 248),
    ],
)
def test_working_days_between_2026(a, b, expected):
    assert working_days_between(a, b, CAL) == expected


def test_plain_calendar_is_monday_to_friday():
    monday = D(2026, 3, 2)
    assert [is_working_day(monday + timedelta(days=i), PLAIN) for i in range(7)] == [True] * 5 + [False] * 2
    assert add_working_days(monday, 10, PLAIN) == D(2026, 3, 16)
    assert working_days_between(monday, D(2026, 3, 16), PLAIN) == 10
    assert working_days_between(D(2000, 1, 1), D(2100, 1, 1), PLAIN) == _naive_between(
        D(2000, 1, 1), D(2100, 1, 1), PLAIN
    )


def test_invalid_arguments():
    with pytest.raises(ValueError):
        add_working_days(D(2026, 3, 6), -1, CAL)
    with pytest.raises(ValueError, match="both"):
        WorkingCalendar(holidays={D(2026, 3, 7)}, workdays={D(2026, 3, 7)})


def test_calendar_is_immutable_and_hashable():
    cal = WorkingCalendar(holidays=[D(2026, 1, 1)], workdays=[D(2026, 1, 4)])
    assert isinstance(cal.holidays, frozenset) and hash(cal) == hash(
        WorkingCalendar({D(2026, 1, 1)}, {D(2026, 1, 4)})
    )
    with pytest.raises(AttributeError):
        cal.holidays = frozenset()  # type: ignore[misc]


# --- properties ---------------------------------------------------------------------------------------------------

LOW, HIGH = D(2025, 11, 1), D(2028, 3, 1)
dates = st.dates(min_value=D(2025, 12, 1), max_value=D(2027, 12, 31))


@st.composite
def calendars(draw) -> WorkingCalendar:
    """Random calendars: holidays on any day (weekends too), adjusted working days on any day (weekdays too)."""
    marked = draw(st.sets(st.dates(min_value=LOW, max_value=HIGH), max_size=120))
    workdays = draw(st.sets(st.sampled_from(sorted(marked)), max_size=len(marked) // 3)) if marked else set()
    return WorkingCalendar(holidays=frozenset(marked - workdays), workdays=frozenset(workdays))


any_calendar = st.one_of(st.just(CAL), st.just(PLAIN), calendars())


def _naive_between(a: date, b: date, cal: WorkingCalendar) -> int:
    sign, (lo, hi) = (1, (a, b)) if a <= b else (-1, (b, a))
    count, d = 0, lo
    while d < hi:
        d += timedelta(days=1)
        count += is_working_day(d, cal)
    return sign * count


@settings(max_examples=300, deadline=None)
@given(cal=any_calendar, a=dates, n=st.integers(min_value=0, max_value=120))
def test_add_then_count_round_trips(cal, a, n):
    end = add_working_days(a, n, cal)
    assert working_days_between(a, end, cal) == n
    if n > 0:
        assert end > a and is_working_day(end, cal)
        # it is the first date that reaches n: the day before still counts n - 1
        assert working_days_between(a, end - timedelta(days=1), cal) == n - 1
    else:
        assert end == a


@settings(max_examples=300, deadline=None)
@given(cal=any_calendar, a=dates, b=dates)
def test_between_matches_day_by_day_count_and_is_antisymmetric(cal, a, b):
    count = working_days_between(a, b, cal)
    assert count == _naive_between(a, b, cal)
    assert working_days_between(b, a, cal) == -count


@settings(max_examples=200, deadline=None)
@given(cal=any_calendar, a=dates, b=dates, c=dates)
def test_between_is_additive(cal, a, b, c):
    assert working_days_between(a, b, cal) + working_days_between(b, c, cal) == working_days_between(
        a, c, cal
    )


@settings(max_examples=200, deadline=None)
@given(
    cal=any_calendar,
    a=dates,
    b=dates,
    n=st.integers(min_value=0, max_value=60),
    m=st.integers(min_value=0, max_value=60),
)
def test_add_is_monotonic(cal, a, b, n, m):
    a, b = min(a, b), max(a, b)
    n, m = min(n, m), max(n, m)
    assert add_working_days(a, n, cal) <= add_working_days(a, m, cal)
    assert add_working_days(a, n, cal) <= add_working_days(b, n, cal)
    if n < m:
        assert add_working_days(a, n, cal) < add_working_days(a, m, cal)


@settings(max_examples=200, deadline=None)
@given(
    cal=any_calendar,
    a=dates,
    n=st.integers(min_value=0, max_value=40),
    m=st.integers(min_value=0, max_value=40),
)
def test_add_composes(cal, a, n, m):
    assert add_working_days(add_working_days(a, n, cal), m, cal) == add_working_days(a, n + m, cal)


@settings(max_examples=200, deadline=None)
@given(cal=any_calendar, a=dates)
def test_next_working_day_is_add_one(cal, a):
    nxt = next_working_day(a, cal)
    assert nxt == add_working_days(a, 1, cal)
    assert all(not is_working_day(a + timedelta(days=i), cal) for i in range(1, (nxt - a).days))
