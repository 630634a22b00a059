"""Adoption figures (活跃度) per department and per town: staff accounts, activated (ever logged in), daily active
(today), weekly active (the last 7 days, today included) and to-dos overdue.

One grouped query per figure, whatever the number of departments: accounts and activated together, daily active,
weekly active, and for overdue one grouped query per to-do source that offers `overdue_by_department(today)`
(a source's optional method: {department id: overdue items}); then one query for the departments and one for the
towns. Towns sum the departments located in the town or below it (villages, grids).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from yiwang.core.models import Department, Division, Staff
from yiwang.core.permissions import COLLAB_ADOPTION
from yiwang.core.principal import Principal
from yiwang.core.workbench import workbench_sources

from ..models import StaffActivity

WEEK_DAYS = 7


@dataclass
class AdoptionRow:
    code: str
    name: str
    accounts: int = 0
    activated: int = 0
    daily: int = 0
    weekly: int = 0
    overdue: int = 0

    def add(self, other: AdoptionRow) -> None:
        self.accounts += other.accounts
        self.activated += other.activated
        self.daily += other.daily
        self.weekly += other.weekly
        self.overdue += other.overdue

    @staticmethod
    def _pct(n: int, d: int) -> float:
        return round(100.0 * n / d, 1) if d else 0.0

    @property
    def activated_pct(self) -> float:
        return self._pct(self.activated, self.accounts)

    @property
    def daily_pct(self) -> float:
        return self._pct(self.daily, self.accounts)

    @property
    def weekly_pct(self) -> float:
        return self._pct(self.weekly, self.accounts)


@dataclass
class Adoption:
    day: date
    departments: list[AdoptionRow] = field(default_factory=list)
    towns: list[AdoptionRow] = field(default_factory=list)
    total: AdoptionRow = field(default_factory=lambda: AdoptionRow("", ""))


def overdue_by_department(today: date) -> dict[int, int]:
    """Overdue to-dos per department from every source that offers the figure (one grouped query each)."""
    totals: dict[int, int] = defaultdict(int)
    for source in workbench_sources():
        figure = getattr(source, "overdue_by_department", None)
        if figure is None:
            continue
        for department_id, n in figure(today).items():
            if department_id is not None:
                totals[department_id] += n
    return totals


def adoption_figures(principal: Principal, *, today: date | None = None) -> Adoption:
    principal.require(COLLAB_ADOPTION)
    today = today or timezone.localdate()
    week_start = today - timedelta(days=WEEK_DAYS - 1)
    accounts = {
        row["department_id"]: row
        for row in Staff.objects.filter(is_active=True)
        .values("department_id")
        .annotate(n=Count("id"), activated=Count("id", filter=Q(account__last_login__isnull=False)))
        .order_by()
    }
    active = StaffActivity.objects.filter(staff__is_active=True)
    daily = dict(
        active.filter(day=today)
        .values("department_id")
        .annotate(n=Count("staff_id", distinct=True))
        .order_by()
        .values_list("department_id", "n")
    )
    weekly = dict(
        active.filter(day__gte=week_start, day__lte=today)
        .values("department_id")
        .annotate(n=Count("staff_id", distinct=True))
        .order_by()
        .values_list("department_id", "n")
    )
    overdue = overdue_by_department(today)
    wanted = set(accounts) | set(daily) | set(weekly) | set(overdue)
    departments = list(
        Department.objects.filter(pk__in=wanted)
        .order_by("code")
        .values("id", "code", "name", "division_id", "division__parent_id", "division__parent__parent_id")
    )
    towns = {
        row["id"]: row
        for row in Division.objects.filter(level=Division.Level.TOWN)
        .values("id", "code", "name")
        .order_by("code")
    }
    out = Adoption(day=today, total=AdoptionRow("", ""))
    by_town: dict[int, AdoptionRow] = {}
    for dept in departments:
        pk = dept["id"]
        row = AdoptionRow(
            code=dept["code"],
            name=dept["name"],
            accounts=accounts.get(pk, {}).get("n", 0),
            activated=accounts.get(pk, {}).get("activated", 0),
            daily=daily.get(pk, 0),
            weekly=weekly.get(pk, 0),
            overdue=overdue.get(pk, 0),
        )
        out.departments.append(row)
        out.total.add(row)
        for division_id in (
            dept["division_id"],
            dept["division__parent_id"],
            dept["division__parent__parent_id"],
        ):
            if division_id in towns:
                town = by_town.get(division_id)
                if town is None:
                    info = towns[division_id]
                    town = by_town[division_id] = AdoptionRow(info["code"], info["name"])
                town.add(row)
                break
    out.towns = sorted(by_town.values(), key=lambda r: r.code)
    return out


def adoption_chart(figures: Adoption) -> dict:
    """The bar chart's data (ECharts, drawn by collab/adoption.js): per department, the percentages."""
    rows = figures.departments
    return {
        "names": [r.name for r in rows],
        "activated": [r.activated_pct for r in rows],
        "daily": [r.daily_pct for r in rows],
        "weekly": [r.weekly_pct for r in rows],
    }
