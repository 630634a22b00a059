"""The workbench demo on the small world: activity rows over two weeks, idempotent, valid on any day (1 January)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.collab.workbench_rows import _fresh_activity_memo  # noqa: F401  (the autouse fixture)
from tests.collab.world import build_collab_world, principal
from yiwang.collab.demo_workbench import load_workbench
from yiwang.collab.models import StaffActivity
from yiwang.collab.selectors.adoption import adoption_figures

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("day", [(2026, 3, 2), (2027, 1, 1)])
def test_demo_activity_is_idempotent(db, clock, day):
    clock.set(*day)
    w = build_collab_world()
    counts = load_workbench()
    assert counts["staff_activity"] > 0 and counts["accounts_activated"] > 0
    today = date(*day)
    assert StaffActivity.objects.filter(day__gt=today).count() == 0
    assert load_workbench() == {}
    figures = adoption_figures(principal(w.leader), today=today)
    assert figures.total.weekly > 0 and figures.total.activated >= figures.total.weekly
