"""The indicator demo on the small world: ten indicators, three months of values plus the current one, a breach
that opened a task, one plan per scope with scores; idempotent; valid on 1 January."""

from __future__ import annotations

import pytest

from tests.cases.factories import at
from tests.collab.world import build_collab_world
from yiwang.collab.demo_indicators import load_indicators
from yiwang.collab.models import Indicator, IndicatorValue, PerformancePlan, PerformanceScore, Task
from yiwang.incidents.models import Incident

pytestmark = pytest.mark.django_db


def test_demo_builds_the_library_values_tasks_and_plans_once(db, clock):
    clock.set(2027, 1, 1, 9)  # 元旦: the previous months are in the previous year
    w = build_collab_world()
    for n, on_time in enumerate((False, False, True)):
        Incident.objects.create(
            number=f"GDD{n:08d}",
            channel="hotline",
            title="t",
            description="d",
            town=w.towns[0],
            assigned_department=w.d_scj,
            state="closed",
            closed_at=at(2026, 12, 10),
            closed_on_time=on_time,
            satisfaction="satisfied",
        )
    counts = load_indicators()
    assert counts["indicators"] == Indicator.objects.count() == 10
    assert counts["plans"] == 2 and set(PerformancePlan.objects.values_list("scope", flat=True)) == {
        "department",
        "town",
    }
    starts = set(IndicatorValue.objects.values_list("period_start", flat=True))
    assert {s.isoformat() for s in starts} == {"2026-10-01", "2026-11-01", "2026-12-01", "2027-01-01"}
    task = Task.objects.get(indicator__code="ZB-RX-ONTIME-D")
    assert task.lead_department == w.d_scj and task.source == "indicator"
    assert Task.objects.filter(indicator__code="ZB-RX-ONTIME-T", lead_department=w.town_offices[0]).exists()
    assert counts["tasks_opened"] == Task.objects.count() >= 2
    assert PerformanceScore.objects.filter(plan__code="KP-DEPT", department=w.d_scj).exists()
    before = (IndicatorValue.objects.count(), Task.objects.count(), PerformanceScore.objects.count())
    assert load_indicators() == {}
    assert (IndicatorValue.objects.count(), Task.objects.count(), PerformanceScore.objects.count()) == before
