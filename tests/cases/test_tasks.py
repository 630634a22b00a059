"""Periodic sweeps: overdue escalation (once per case per step) and 补正 expiry (中止)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from tests.factories import staff_with_roles
from yiwang.cases import services, tasks
from yiwang.cases.models import Case
from yiwang.core.models import AuditEntry, Notification, OutboxMessage

from .factories import World, make_case

p = World.p


def overdue_notices(staff):
    return Notification.objects.filter(recipient=staff.account, title="办件超期提醒")


def test_overdue_case_notifies_department_heads_once_per_step(world, clock):
    case = make_case(world, "in_review")  # Monday 2 March; review due Monday 9 March
    other_head = world.other_head
    assert tasks.cases_overdue_sweep(today=date(2026, 3, 9)) == 0  # due today is not overdue
    assert tasks.cases_overdue_sweep(today=date(2026, 3, 10)) == 1
    case.refresh_from_db()
    assert case.overdue_notified_at is not None
    notice = overdue_notices(world.head).get()
    assert case.number in notice.body and "审查" in notice.body and notice.object_id == str(case.public_id)
    assert notice.link == f"/cases/{case.public_id}/work/"
    assert not overdue_notices(other_head).exists()
    assert not overdue_notices(world.approver).exists()  # heads only
    assert AuditEntry.objects.filter(action="case.overdue", object_id=str(case.public_id)).count() == 1
    # Running again (another consumer, the next quarter hour) does not notify again.
    assert tasks.cases_overdue_sweep(today=date(2026, 3, 11)) == 0
    assert overdue_notices(world.head).count() == 1
    # A new step is escalated afresh when it runs late too.
    clock.set(2026, 3, 11)
    case = services.case_action_take(actor=p(world.approver), case=case, action="review", opinion="同意")
    assert case.overdue_notified_at is None
    assert case.step_due_date == date(2026, 3, 16)  # capped at the case's own due date
    assert tasks.cases_overdue_sweep(today=date(2026, 3, 17)) == 1
    assert overdue_notices(world.head).count() == 2


def test_overdue_ignores_paused_and_closed_cases(world, clock):
    make_case(world, "supplement")
    make_case(world, "approved")
    make_case(world, "rejected")
    assert tasks.cases_overdue_sweep(today=date(2026, 6, 1)) == 0


def test_overdue_at_a_window_step_also_tells_the_window_heads(world):
    window_head = staff_with_roles("department_head", department=world.window_dept)
    case = make_case(world, "submitted")
    services.case_claim(actor=p(world.clerk), case=case)
    assert tasks.cases_overdue_sweep(today=date(2026, 3, 4)) == 1
    assert overdue_notices(world.head).count() == 1
    assert overdue_notices(window_head).count() == 1


def test_mark_overdue_is_exactly_once(world):
    case = make_case(world, "in_review")
    assert services.case_mark_overdue(case=case, today=date(2026, 3, 10)) is True
    assert services.case_mark_overdue(case=case, today=date(2026, 3, 10)) is False
    assert overdue_notices(world.head).count() == 1


def test_overdue_periodic_task_runs(world, clock):
    make_case(world, "in_review")
    clock.set(2026, 3, 10)
    assert tasks.cases_overdue_periodic.call_local() == 1


def test_supplement_deadline_expiry_suspends(world, clock):
    case = make_case(world, "supplement")  # requested Monday 2 March: deadline Monday 9 March
    assert case.supplements.get().deadline == date(2026, 3, 9)
    assert tasks.cases_supplement_expiry_sweep(today=date(2026, 3, 9)) == 0
    assert tasks.cases_supplement_expiry_sweep(today=date(2026, 3, 10)) == 1
    case.refresh_from_db()
    assert case.state == Case.State.SUSPENDED and case.current_step == ""
    last = case.history.latest("seq")
    assert last.action == "suspend" and last.actor_label == "系统" and "2026-03-09" in last.opinion
    assert Notification.objects.filter(recipient=world.citizen, title="办件已中止").exists()
    assert OutboxMessage.objects.filter(body__contains="办件已中止").exists()
    assert AuditEntry.objects.get(action="case.suspend").actor_account == "system"
    # Suspended is final for the applicant and for staff.
    with pytest.raises(ValidationError):
        services.case_supply(actor=p(world.citizen), case=case, note="晚了")
    assert tasks.cases_supplement_expiry_sweep(today=date(2026, 3, 11)) == 0


def test_supplied_in_time_is_not_suspended(world, clock):
    case = make_case(world, "supplement")
    clock.set(2026, 3, 9)
    from .factories import pdf

    services.case_supply(actor=p(world.citizen), case=case, files={"id_card": [pdf()]})
    assert tasks.cases_supplement_expiry_sweep(today=date(2026, 3, 20)) == 0


def test_supplement_expiry_periodic_task_runs(world, clock):
    make_case(world, "supplement")
    clock.set(2026, 3, 10)
    assert tasks.cases_supplement_expiry_periodic.call_local() == 1
