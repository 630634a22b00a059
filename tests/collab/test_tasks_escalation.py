"""督办 escalation: the pure level function over the working-day calendar (table-driven), and the sweep — raises
only, once per level change even when two sweeps race, with the right people notified at each level."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import Task, TaskEvent
from yiwang.collab.services import task_escalation as esc
from yiwang.collab.services.task_escalation import escalation_level, tasks_escalate_sweep
from yiwang.collab.services.tasks import task_accept, task_issue, task_report, task_review, task_submit
from yiwang.core.models import AuditEntry, Notification
from yiwang.core.workdays import WorkingCalendar

PLAIN = WorkingCalendar()
# A week of holidays (9–13 March) and a worked Saturday (7 March, 调休).
HOLIDAYS = WorkingCalendar(
    holidays=frozenset(date(2026, 3, d) for d in range(9, 14)), workdays=frozenset({date(2026, 3, 7)})
)
D = date


@pytest.mark.parametrize(
    "due, today, report_due, cal, level",
    [
        (D(2026, 3, 6), D(2026, 3, 2), None, PLAIN, 0),  # 4 working days left
        (D(2026, 3, 6), D(2026, 3, 3), None, PLAIN, 0),  # 3 left
        (D(2026, 3, 6), D(2026, 3, 4), None, PLAIN, 1),  # 2 left: 预警
        (D(2026, 3, 6), D(2026, 3, 6), None, PLAIN, 1),  # the due day itself
        (D(2026, 3, 6), D(2026, 3, 7), None, PLAIN, 2),  # a Saturday after the due day: 催办
        (D(2026, 3, 6), D(2026, 3, 10), None, PLAIN, 2),  # 2 working days over
        (D(2026, 3, 6), D(2026, 3, 11), None, PLAIN, 3),  # 3 over: 督办
        (D(2026, 3, 6), D(2026, 3, 19), None, PLAIN, 3),  # 9 over
        (D(2026, 3, 6), D(2026, 3, 20), None, PLAIN, 4),  # 10 over: 通报
        (D(2026, 3, 6), D(2027, 1, 1), None, PLAIN, 4),
        (D(2026, 3, 31), D(2026, 3, 5), D(2026, 3, 4), PLAIN, 1),  # the progress report is overdue
        (D(2026, 3, 31), D(2026, 3, 4), D(2026, 3, 4), PLAIN, 0),  # due today, not yet overdue
        (D(2026, 3, 31), D(2026, 3, 5), None, PLAIN, 0),
        (D(2026, 3, 16), D(2026, 3, 6), None, HOLIDAYS, 1),  # a holiday week: 7 Mar worked, 16 Mar = 2 left
        (D(2026, 3, 17), D(2026, 3, 6), None, HOLIDAYS, 0),  # 3 left
        (D(2026, 3, 6), D(2026, 3, 16), None, HOLIDAYS, 2),  # 7 Mar + 16 Mar = 2 working days over
        (D(2026, 3, 6), D(2026, 3, 17), None, HOLIDAYS, 3),  # 3 over
        (D(2026, 3, 6), D(2026, 3, 7), None, HOLIDAYS, 2),  # the worked Saturday: 1 over
    ],
)
def test_escalation_level(due, today, report_due, cal, level):
    assert escalation_level(due, today, report_due, cal) == level


def test_thresholds_are_ordered():
    assert 0 < esc.WARNING_WITHIN_WORKDAYS < esc.SUPERVISED_AFTER_WORKDAYS < esc.REPORTED_AFTER_WORKDAYS


# --- the sweep -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            world = build_collab_world()
        yield world
        transaction.set_rollback(True)


@pytest.fixture
def w(db, clock, _world):
    return _world


MARCH_31 = D(2026, 3, 31)


def _task(w, due=MARCH_31, **kw) -> Task:
    task = task_issue(
        actor=principal(w.office), title="背街小巷整治", lead_department=w.d_scj, due_on=due, **kw
    )
    task_accept(actor=principal(w.scj_head), task=task)
    task.refresh_from_db()
    return task


def _notified(account_id, task) -> int:
    return Notification.objects.filter(recipient_id=account_id, object_id=str(task.public_id)).count()


def test_sweep_raises_level_by_level_and_notifies(w, clock):
    task = _task(w, report_every_workdays=0)
    clock.set(2026, 3, 26)
    assert tasks_escalate_sweep()["raised"] == 0
    clock.set(2026, 3, 27)  # Friday, 2 working days left
    result = tasks_escalate_sweep()
    assert result["raised"] == 1 and result["level_1"] == 1
    task.refresh_from_db()
    assert task.level == Task.Level.WARNING
    assert tasks_escalate_sweep()["raised"] == 0  # idempotent
    head_before = _notified(w.scj_head.account_id, task)
    clock.set(2026, 4, 1)
    tasks_escalate_sweep()
    task.refresh_from_db()
    assert task.level == Task.Level.URGED
    assert _notified(w.scj_head.account_id, task) == head_before + 1
    office_before = _notified(w.office.account_id, task)
    clock.set(2026, 4, 3)  # 3 working days over
    tasks_escalate_sweep()
    task.refresh_from_db()
    assert task.level == Task.Level.SUPERVISED
    assert _notified(w.office.account_id, task) == office_before + 1  # the issuer
    leader_before = _notified(w.leader.account_id, task)
    clock.set(2026, 4, 14)  # 10 working days over
    tasks_escalate_sweep()
    task.refresh_from_db()
    assert task.level == Task.Level.REPORTED
    assert _notified(w.leader.account_id, task) == leader_before + 1  # the leaders are told
    levels = list(task.events.filter(kind=TaskEvent.Kind.ESCALATED).values_list("level", flat=True))
    assert levels == [1, 2, 3, 4]
    assert (
        AuditEntry.objects.filter(action="collab.task.escalate", object_id=str(task.public_id)).count() == 4
    )


def test_sweep_jumps_to_the_level_reached_in_one_event(w, clock):
    task = _task(w, due=D(2026, 3, 4), report_every_workdays=0)
    clock.set(2026, 3, 30)
    tasks_escalate_sweep()
    task.refresh_from_db()
    assert task.level == Task.Level.REPORTED
    assert list(task.events.filter(kind="escalated").values_list("level", flat=True)) == [4]


def test_report_overdue_warns(w, clock):
    task = _task(w, due=D(2026, 4, 30))  # the first report is due on 16 March
    clock.set(2026, 3, 16)
    tasks_escalate_sweep()
    task.refresh_from_db()
    assert task.level == 0
    clock.set(2026, 3, 17)
    tasks_escalate_sweep()
    task.refresh_from_db()
    assert task.level == Task.Level.WARNING
    assert "进展报送逾期" in task.events.get(kind="escalated").note


def test_a_report_keeps_the_task_normal(w, clock):
    task = _task(w, due=D(2026, 4, 30))
    clock.set(2026, 3, 13)
    task_report(actor=principal(w.scj_head), task=task, body="推进中", progress=30)
    clock.set(2026, 3, 17)
    assert tasks_escalate_sweep()["raised"] == 0


def test_never_lowers_and_skips_closed_and_submitted(w, clock):
    task = _task(w, due=D(2026, 3, 4), report_every_workdays=0)
    submitted = _task(w, due=D(2026, 3, 4), report_every_workdays=0)
    task_submit(actor=principal(w.scj_head), task=submitted)
    done = _task(w, due=D(2026, 3, 4), report_every_workdays=0)
    task_submit(actor=principal(w.scj_head), task=done)
    task_review(actor=principal(w.leader), task=done, approve=True)
    clock.set(2026, 3, 10)
    tasks_escalate_sweep()
    task.refresh_from_db()
    assert task.level == Task.Level.SUPERVISED
    Task.objects.filter(pk=task.pk).update(due_on=D(2026, 6, 30))  # a later due date never lowers the level
    tasks_escalate_sweep()
    task.refresh_from_db()
    assert task.level == Task.Level.SUPERVISED
    for other in (submitted, done):
        other.refresh_from_db()
        assert other.level == 0


def test_two_sweeps_racing_raise_once(w, clock):
    task = _task(w, due=D(2026, 3, 4), report_every_workdays=0)
    clock.set(2026, 3, 5)
    now = timezone.now()
    assert esc._raise(task, 0, 2, now.date(), now) is True
    assert esc._raise(task, 0, 2, now.date(), now) is False  # the second consumer read the old level
    assert task.events.filter(kind="escalated").count() == 1


def test_far_tasks_are_not_read(w, clock, django_assert_max_num_queries):
    for _ in range(3):
        _task(w, due=D(2026, 3, 2) + timedelta(days=200), report_every_workdays=0)
    with django_assert_max_num_queries(3):
        assert tasks_escalate_sweep()["checked"] == 0
