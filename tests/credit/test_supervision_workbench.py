"""我的工作台 sources of 双随机: an inspector's assigned tasks (only theirs), a department's results waiting for
publication (only its own); the periodic job's entry point."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.credit.test_draws_services import build_world, create, principal
from yiwang.core.workbench import Cursor, TodoQuery, workbench_sources
from yiwang.credit.services.draws import draw_execute
from yiwang.credit.services.inspections import inspection_record
from yiwang.credit.tasks_supervision import inspections_publish_remind_periodic
from yiwang.credit.workbench_inspections import PUBLISH, TASKS

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, clock, media_and_fast_passwords):
    return build_world()


def _source(source_id):
    return next(s for s in workbench_sources() if s.id == source_id)


def test_sources_are_registered_and_scoped(w):
    draw = draw_execute(actor=principal(w.planner), draw=create(w, count=4))
    tasks = _source(TASKS)
    publish = _source(PUBLISH)
    inspector = draw.tasks.order_by("position").first().inspectors.select_related("staff").first().staff
    p = principal(inspector)
    assert tasks.applies(p) and not publish.applies(p)
    assert publish.applies(principal(w.planner)) and not tasks.applies(principal(w.planner))
    mine = set(draw.tasks.filter(inspectors__staff=inspector).values_list("public_id", flat=True))
    items = tasks.items(p, TodoQuery(limit=50))
    assert {i.key for i in items} == {str(k) for k in mine}
    assert tasks.count(p) == len(mine)
    assert all(i.url.startswith("/credit/inspections/") and i.reference == draw.number for i in items)
    # paging by cursor: the rest follow the first
    if len(items) > 1:
        rest = tasks.items(p, TodoQuery(after=Cursor.of(items[0]), limit=50))
        assert [i.key for i in rest] == [i.key for i in items[1:]]
    # results waiting for publication: the department's, not another's
    task = draw.tasks.filter(inspectors__staff=inspector).first()
    inspection_record(actor=p, task=task, result="compliant", findings="未发现问题。")
    assert tasks.count(p) == len(mine) - 1
    waiting = publish.items(principal(w.planner), TodoQuery(limit=50))
    assert [i.key for i in waiting] == [str(task.public_id)]
    assert publish.count(principal(w.other_planner)) == 0
    soon = datetime(2026, 12, 31, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert publish.count(principal(w.planner), due_before=soon) == 1


def test_periodic_job_runs_the_sweep(w):
    assert inspections_publish_remind_periodic.call_local() == 0
