"""Official public-holiday (放假) and adjusted-working-day (调休上班) schedules, by year.

Loaded into CalendarDay rows by `services.calendar.calendar_load_year`; edit rows in the admin afterwards for
local changes. Holiday spans include the weekend days inside them, as the notices state them ("共9天").

Sources:
- 2026: 国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日，新华社全文发布）.
- 2027: PROVISIONAL. The State Council publishes each year's notice around November of the year before; the
  2027 notice was not available when this file was written. The 2027 entries apply the rule of
  《全国年节及纪念日放假办法》(2024 revision): the statutory days (元旦1, 春节4 from 除夕, 清明1, 劳动节2, 端午1,
  中秋1, 国庆3) plus, for a statutory day falling on a Saturday or Sunday, a 补休 on the next working day.
  No 调休 working weekends are assumed. Replace with the official notice when it appears, then reload the year
  with `calendar_load_year(..., replace=True)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

HOLIDAY = "holiday"
WORKDAY = "workday"


@dataclass(frozen=True)
class ScheduledDay:
    date: date
    kind: str  # HOLIDAY or WORKDAY (CalendarDay.Kind values)
    name: str


def _off(name: str, first: date, last: date) -> list[ScheduledDay]:
    days = []
    d = first
    while d <= last:
        days.append(ScheduledDay(d, HOLIDAY, name))
        d += timedelta(days=1)
    return days


def _work(name: str, *dates: date) -> list[ScheduledDay]:
    return [ScheduledDay(d, WORKDAY, name) for d in dates]


D = date

_2026 = [
    # 一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
    *_off("元旦", D(2026, 1, 1), D(2026, 1, 3)),
    *_work("元旦", D(2026, 1, 4)),
    # 二、春节：2月15日（腊月二十八、周日）至23日（正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
    *_off("春节", D(2026, 2, 15), D(2026, 2, 23)),
    *_work("春节", D(2026, 2, 14), D(2026, 2, 28)),
    # 三、清明节：4月4日（周六）至6日（周一）放假，共3天。
    *_off("清明节", D(2026, 4, 4), D(2026, 4, 6)),
    # 四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
    *_off("劳动节", D(2026, 5, 1), D(2026, 5, 5)),
    *_work("劳动节", D(2026, 5, 9)),
    # 五、端午节：6月19日（周五）至21日（周日）放假，共3天。
    *_off("端午节", D(2026, 6, 19), D(2026, 6, 21)),
    # 六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
    *_off("中秋节", D(2026, 9, 25), D(2026, 9, 27)),
    # 七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
    *_off("国庆节", D(2026, 10, 1), D(2026, 10, 7)),
    *_work("国庆节", D(2026, 9, 20), D(2026, 10, 10)),
]

# PROVISIONAL (see the module docstring): statutory days + 补休, no 调休 weekends.
_2027 = [
    # 元旦 1月1日（周五）, then the weekend.
    *_off("元旦", D(2027, 1, 1), D(2027, 1, 1)),
    # 春节: 除夕 2月5日（周五）, 初一至初三 2月6日–8日; 初一、初二 fall on Sat/Sun → 补休 2月9日、10日.
    *_off("春节", D(2027, 2, 5), D(2027, 2, 10)),
    # 清明节 4月5日（周一）, with the weekend before it.
    *_off("清明节", D(2027, 4, 3), D(2027, 4, 5)),
    # 劳动节 5月1日–2日 (Sat/Sun) → 补休 5月3日、4日.
    *_off("劳动节", D(2027, 5, 1), D(2027, 5, 4)),
    # 端午节 6月9日（周三，农历五月初五）.
    *_off("端午节", D(2027, 6, 9), D(2027, 6, 9)),
    # 中秋节 9月15日（周三，农历八月十五）.
    *_off("中秋节", D(2027, 9, 15), D(2027, 9, 15)),
    # 国庆节 10月1日–3日 (Fri/Sat/Sun) → 补休 10月4日、5日.
    *_off("国庆节", D(2027, 10, 1), D(2027, 10, 5)),
]

SCHEDULES: dict[int, list[ScheduledDay]] = {2026: _2026, 2027: _2027}
PROVISIONAL_YEARS = frozenset({2027})


def schedule(year: int) -> list[ScheduledDay]:
    """The schedule for a year; KeyError when none is known."""
    return list(SCHEDULES[year])


def known_years() -> list[int]:
    return sorted(SCHEDULES)
