"""The 督办 demo on the small world: idempotent, every state and every level, reports with evidence, dates moved
back and still consistent, the demo roles' workbench not empty."""

from __future__ import annotations

from datetime import date

import pytest

from tests.collab.world import build_collab_world, principal
from yiwang.collab.demo_tasks import load_tasks
from yiwang.collab.models import Task, TaskEvent, TaskEvidence
from yiwang.collab.workbench_tasks import TasksSource
from yiwang.core.workbench import TodoQuery

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("day", [date(2026, 3, 2), date(2027, 1, 1), date(2026, 10, 1)])
def test_demo_builds_every_state_and_level_once(db, clock, media_and_fast_passwords, day):
    w = build_collab_world()
    clock.set(day.year, day.month, day.day)
    counts = load_tasks()
    assert counts["tasks"] == 12 and counts["evidence"] >= 4 and counts["escalated"] >= 4
    assert set(Task.objects.values_list("status", flat=True)) == set(Task.Status.values)
    assert set(Task.objects.values_list("level", flat=True)) >= {1, 2, 3, 4}
    assert TaskEvidence.objects.exists()
    for task in Task.objects.all():
        assert task.start_on <= task.due_on
        ats = list(task.events.values_list("at", flat=True))
        assert ats == sorted(ats) and ats[0].date() <= day
        if task.status == Task.Status.DONE:
            assert task.closed_at is not None and task.closed_at.date() <= task.due_on
    assert TaskEvent.objects.filter(kind="escalated", level=4).exists()
    source = TasksSource()
    for staff in (w.leader, w.scj_head, w.scj_approver):
        assert source.items(principal(staff), TodoQuery(limit=5)), staff
    before = Task.objects.count(), TaskEvent.objects.count()
    assert load_tasks() == {}
    assert (Task.objects.count(), TaskEvent.objects.count()) == before
