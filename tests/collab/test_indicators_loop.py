"""指标 → 任务 → 督办 → 指标: a breach opens exactly one task, recomputing opens no second, recovery is noted."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.cases.factories import at
from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import Indicator, IndicatorValue, Task, TaskEvent
from yiwang.collab.services.indicators import (
    RECOVERY_MARK,
    indicator_compute,
    indicator_create,
    indicator_update,
    indicators_compute_due,
    period_bounds,
)
from yiwang.core.models import AuditEntry
from yiwang.incidents.models import Incident

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)


@pytest.fixture
def w(db, clock):
    clock.set(2026, 3, 10)
    return build_collab_world()


def hotline(w, dept, *, on_time: bool, closed):
    return Incident.objects.create(
        number=f"GDL{next(_seq):08d}",
        channel="hotline",
        title="占道经营",
        description="路边摊",
        town=w.towns[0],
        assigned_department=dept,
        state=Incident.State.CLOSED,
        closed_at=closed,
        closed_on_time=on_time,
    )


def make_indicator(w, **kw) -> Indicator:
    data = {
        "code": "RX-ONTIME",
        "name": "12345 按期办结率",
        "definition": "按期办结工单 ÷ 结案工单",
        "metric": "hotline_on_time_rate",
        "owner_department": w.d_office,
        "target": Decimal(95),
        "threshold": Decimal(80),
        "weight": Decimal(2),
    }
    data.update(kw)
    return indicator_create(actor=principal(w.office), **data)


def test_create_validates_and_needs_task_issue(w):
    with pytest.raises(PermissionDenied):
        indicator_create(
            actor=principal(w.scj_head),
            code="X1",
            name="x",
            definition="x",
            metric="hotline_on_time_rate",
            owner_department=w.d_office,
            target=95,
            threshold=80,
        )
    with pytest.raises(ValidationError) as exc:
        make_indicator(w, metric="nope", threshold=Decimal(99), code="?")
    assert "code" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        make_indicator(w, metric="nope")
    assert set(exc.value.message_dict) == {"metric"}
    with pytest.raises(ValidationError) as exc:
        make_indicator(w, threshold=Decimal(99))
    assert "threshold" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        make_indicator(w, metric="forms_overdue", direction="lower", target=0, threshold=2)
    assert "scope" in exc.value.message_dict  # forms_overdue is for towns only
    indicator = make_indicator(w)
    assert indicator.category == "public" and indicator.unit == "%"
    changed = indicator_update(actor=principal(w.office), indicator=indicator, threshold=Decimal(85))
    assert changed.threshold == Decimal("85.00")
    with pytest.raises(ValidationError):
        indicator_update(actor=principal(w.office), indicator=indicator, code="NEW")
    assert AuditEntry.objects.filter(action__startswith="collab.indicator.").count() == 2


def test_breach_opens_one_task_and_recompute_opens_no_second(w):
    for on_time in (True, False, False):  # SCJ: 33.33 % — breached; MZJ: 100 %
        hotline(w, w.d_scj, on_time=on_time, closed=at(2026, 2, 10))
    hotline(w, w.d_mzj, on_time=True, closed=at(2026, 2, 11))
    indicator = make_indicator(w)
    start, end = period_bounds("monthly", date(2026, 2, 15))
    done = indicator_compute(indicator=indicator, period_start=start, period_end=end)
    assert done.breached == 1 and len(done.opened) == 1
    task = done.opened[0]
    assert task.source == Task.Source.INDICATOR and task.lead_department == w.d_scj
    assert task.issuing_department == w.d_office and task.indicator == indicator
    assert task.indicator_value.department == w.d_scj and task.indicator_value.value == Decimal("33.33")
    assert task.title.startswith("指标预警：") and task.due_on > date(2026, 3, 10)
    values = {v.department.code: v for v in IndicatorValue.objects.filter(indicator=indicator)}
    assert values["SCJ"].breached and not values["MZJ"].breached
    assert values["ZSJ"].value is None and not values["ZSJ"].breached  # no data is never a breach
    again = indicator_compute(indicator=indicator, period_start=start, period_end=end)
    assert again.opened == [] and Task.objects.filter(indicator=indicator).count() == 1
    assert IndicatorValue.objects.filter(indicator=indicator, period_start=start).count() == 4  # replaced
    # the schedule for March (current) and February (previous) opens nothing new either
    counts = indicators_compute_due()
    assert counts["tasks_opened"] == 0 and counts["indicators"] == 1
    assert Task.objects.filter(indicator=indicator).count() == 1


def test_recovery_in_a_later_closed_period_is_noted_once(w, clock):
    for on_time in (False, False, True):
        hotline(w, w.d_scj, on_time=on_time, closed=at(2026, 2, 10))
    indicator = make_indicator(w)
    feb = period_bounds("monthly", date(2026, 2, 1))
    task = indicator_compute(indicator=indicator, period_start=feb[0], period_end=feb[1]).opened[0]
    mar = period_bounds("monthly", date(2026, 3, 1))
    hotline(w, w.d_scj, on_time=True, closed=at(2026, 3, 5))
    # March is still running on 10 March: no recovery note yet
    assert indicator_compute(indicator=indicator, period_start=mar[0], period_end=mar[1]).recovered == []
    clock.set(2026, 4, 2)
    done = indicator_compute(indicator=indicator, period_start=mar[0], period_end=mar[1])
    assert [t.pk for t in done.recovered] == [task.pk] and done.opened == []
    note = TaskEvent.objects.get(task=task, kind=TaskEvent.Kind.NOTE)
    assert note.note.startswith(RECOVERY_MARK) and "100" in note.note
    again = indicator_compute(indicator=indicator, period_start=mar[0], period_end=mar[1])
    assert again.recovered == [] and TaskEvent.objects.filter(task=task, kind="note").count() == 1


def test_indicator_without_opens_task_only_flags(w):
    hotline(w, w.d_scj, on_time=False, closed=at(2026, 2, 10))
    indicator = make_indicator(w, opens_task=False)
    done = indicator_compute(indicator=indicator, period_start=date(2026, 2, 1), period_end=date(2026, 2, 28))
    assert done.breached == 1 and done.opened == [] and not Task.objects.exists()


def test_compute_refuses_bad_periods(w):
    indicator = make_indicator(w)
    with pytest.raises(ValidationError):
        indicator_compute(indicator=indicator, period_start=date(2026, 3, 1), period_end=date(2026, 2, 1))
    with pytest.raises(ValidationError):
        indicator_compute(indicator=indicator, period_start=date(2026, 4, 1), period_end=date(2026, 4, 30))
    with pytest.raises(PermissionDenied):
        indicator_compute(
            actor=principal(w.scj_head),
            indicator=indicator,
            period_start=date(2026, 2, 1),
            period_end=date(2026, 2, 28),
        )
