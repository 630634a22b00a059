"""督办 services: issuing (the contract the indicator sweep and meeting minutes call), 签收, 进展报送 with evidence,
milestones, 申请办结, 审核, 撤销, 批示; who may do each; the transition table; nothing written when refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test.utils import override_settings

from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import Task, TaskEvent, TaskEvidence, TaskReport, TaskUnit
from yiwang.collab.services.tasks import (
    TRANSITIONS,
    TaskStateError,
    task_accept,
    task_actions_for,
    task_cancel,
    task_issue,
    task_milestone_done,
    task_note,
    task_report,
    task_review,
    task_submit,
)
from yiwang.core.models import AuditEntry, Notification

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def png(name="photo.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    """The small world, built once for the module inside a transaction rolled back at its end (each test still
    rolls back its own savepoint)."""
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            world = build_collab_world()
        yield world
        transaction.set_rollback(True)


@pytest.fixture
def w(db, clock, _world):
    return _world


def issue(w, **kw) -> Task:
    args = dict(
        actor=principal(w.leader),
        title="优化营商环境专项行动",
        lead_department=w.d_scj,
        co_departments=[w.d_mzj],
        due_on=date(2026, 3, 31),
        milestones=[("制定方案", date(2026, 3, 10)), ("组织实施", date(2026, 3, 25))],
    )
    args.update(kw)
    return task_issue(**args)


def accepted(w, **kw) -> Task:
    task = issue(w, **kw)
    task_accept(actor=principal(w.scj_head), task=task)
    task.refresh_from_db()
    return task


def test_issue_writes_task_units_milestones_event_audit_and_notifies(w):
    task = issue(w)
    assert task.code == "DB202603020001"
    assert task.status == Task.Status.ISSUED and task.level == 0
    assert task.issuing_department == w.d_office and task.issued_by == w.leader
    assert task.start_on == date(2026, 3, 2)
    assert task.next_report_due == date(2026, 3, 16)  # 10 working days after Monday 2 March
    units = {u.department_id: u.role for u in task.units.all()}
    assert units == {w.d_scj.pk: TaskUnit.Role.LEAD, w.d_mzj.pk: TaskUnit.Role.CO}
    assert [m.title for m in task.milestones.all()] == ["制定方案", "组织实施"]
    assert list(task.events.values_list("kind", flat=True)) == [TaskEvent.Kind.ISSUED]
    assert AuditEntry.objects.filter(action="collab.task.issue", object_id=str(task.public_id)).exists()
    notified = set(Notification.objects.values_list("recipient_id", flat=True))
    assert {w.scj_head.account_id, w.mzj_head.account_id} <= notified
    assert issue(w).code == "DB202603020002"


def test_issue_by_the_system_needs_an_issuing_department(w):
    with pytest.raises(ValidationError) as err:
        issue(w, actor=None)
    assert "issuing_department" in err.value.message_dict
    task = issue(w, actor=None, issuing_department=w.d_office, source=Task.Source.INDICATOR)
    assert task.issued_by is None and task.source == Task.Source.INDICATOR


def test_issue_needs_task_issue_or_convene_for_meetings(w):
    with pytest.raises(PermissionDenied):
        issue(w, actor=principal(w.scj_head))
    task = issue(w, actor=principal(w.mzj_head), source=Task.Source.MEETING, lead_department=w.d_scj)
    assert task.issuing_department == w.d_mzj
    assert not Task.objects.filter(source=Task.Source.MANUAL).exists()


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"title": "  "}, "title"),
        ({"title": "长" * 201}, "title"),
        ({"due_on": date(2026, 3, 1)}, "due_on"),
        ({"milestones": [("晚了", date(2026, 4, 2))]}, "milestones"),
        ({"milestones": [("早了", date(2026, 2, 27))]}, "milestones"),
        ({"milestones": [("", date(2026, 3, 5))]}, "milestones"),
        ({"co_departments": "lead"}, "co_departments"),
        ({"report_every_workdays": -1}, "report_every_workdays"),
        ({"report_every_workdays": 61}, "report_every_workdays"),
    ],
)
def test_issue_refuses_bad_input_and_writes_nothing(w, kw, field):
    if kw.get("co_departments") == "lead":
        kw = {"co_departments": [w.d_scj]}
    with pytest.raises(ValidationError) as err:
        issue(w, **kw)
    assert field in err.value.message_dict
    assert (
        not Task.objects.exists() and not AuditEntry.objects.filter(action__startswith="collab.task").exists()
    )


def test_issue_refuses_inactive_departments(w):
    w.d_mzj.is_active = False
    try:
        with pytest.raises(ValidationError) as err:
            issue(w)
    finally:
        w.d_mzj.is_active = True
    assert "co_departments" in err.value.message_dict


def test_due_today_is_allowed_and_report_due_never_after_due(w):
    task = issue(w, due_on=date(2026, 3, 2), milestones=[])
    assert task.next_report_due == date(2026, 3, 2)
    task = issue(w, report_every_workdays=0, milestones=[])
    assert task.next_report_due is None


def test_lead_accept_moves_to_in_progress_co_accept_only_records(w):
    task = issue(w)
    task_accept(actor=principal(w.mzj_head), task=task)
    task.refresh_from_db()
    assert task.status == Task.Status.ISSUED
    assert task.units.get(department=w.d_mzj).accepted_at is not None
    task_accept(actor=principal(w.scj_approver), task=task)  # any staff of the lead unit
    task.refresh_from_db()
    assert task.status == Task.Status.IN_PROGRESS
    with pytest.raises(TaskStateError):
        task_accept(actor=principal(w.scj_head), task=task)
    kinds = list(task.events.values_list("kind", flat=True))
    assert kinds == ["issued", "accepted", "accepted"]


def test_a_unit_not_on_the_task_cannot_act(w):
    task = issue(w)
    outsider = principal(w.town_heads[0])
    for call in (
        lambda: task_accept(actor=outsider, task=task),
        lambda: task_report(actor=outsider, task=task, body="x", progress=10),
        lambda: task_submit(actor=outsider, task=task),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_report_with_evidence_sets_progress_and_next_due(w, clock):
    task = accepted(w)
    clock.set(2026, 3, 5)
    report = task_report(
        actor=principal(w.scj_head),
        task=task,
        body="方案已印发",
        progress=40,
        milestone_position=1,
        files=[png()],
    )
    task.refresh_from_db()
    assert task.progress == 40
    assert task.next_report_due == date(2026, 3, 19)
    evidence = TaskEvidence.objects.get(report=report)
    assert (
        evidence.content_type == "image/png"
        and evidence.original_name == "photo.png"
        and len(evidence.sm3) == 64
    )
    assert report.milestone.position == 1


def test_co_report_does_not_move_the_tasks_progress(w):
    task = accepted(w)
    with pytest.raises(TaskStateError):  # not signed for yet
        task_report(actor=principal(w.mzj_head), task=task, body="配合", progress=50)
    task_accept(actor=principal(w.mzj_head), task=task)
    task_report(actor=principal(w.mzj_head), task=task, body="配合", progress=50)
    task.refresh_from_db()
    assert task.progress == 0 and TaskReport.objects.count() == 1


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("a.exe", b"MZ\x90\x00" * 100, content_type="application/pdf"),
        SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"),
    ],
)
def test_evidence_of_wrong_type_is_refused_and_nothing_written(w, upload):
    task = accepted(w)
    with pytest.raises(ValidationError) as err:
        task_report(actor=principal(w.scj_head), task=task, body="进展", progress=10, files=[upload])
    assert "files" in err.value.message_dict
    assert not TaskReport.objects.exists()


def test_evidence_too_large_is_refused(w, settings):
    task = accepted(w)
    big = SimpleUploadedFile("big.png", PNG, content_type="image/png")
    big.size = 11 * 1024 * 1024
    with pytest.raises(ValidationError) as err:
        task_report(actor=principal(w.scj_head), task=task, body="进展", progress=10, files=[big])
    assert "10 MB" in err.value.message_dict["files"][0]


@pytest.mark.parametrize("progress", [-1, 101, "50"])
def test_report_progress_bounds(w, progress):
    task = accepted(w)
    with pytest.raises(ValidationError) as err:
        task_report(actor=principal(w.scj_head), task=task, body="进展", progress=progress)
    assert "progress" in err.value.message_dict


def test_milestone_submit_review_done(w):
    task = accepted(w)
    task_milestone_done(actor=principal(w.scj_head), task=task, position=1)
    task_accept(actor=principal(w.mzj_head), task=task)
    with pytest.raises(PermissionDenied):  # a co-handler cannot submit for the lead
        task_submit(actor=principal(w.mzj_head), task=task)
    with pytest.raises(PermissionDenied):
        task_milestone_done(actor=principal(w.mzj_head), task=task, position=2)
    task_submit(actor=principal(w.scj_head), task=task, note="已全部完成")
    task.refresh_from_db()
    assert task.status == Task.Status.SUBMITTED and task.submitted_at is not None
    assert w.leader.account_id in set(Notification.objects.values_list("recipient_id", flat=True))
    task_review(actor=principal(w.office), task=task, approve=True)
    task.refresh_from_db()
    assert task.status == Task.Status.DONE and task.closed_at is not None and task.reviewed_by == w.office


def test_review_return_needs_reasons_and_goes_back(w):
    task = accepted(w)
    task_submit(actor=principal(w.scj_head), task=task)
    with pytest.raises(ValidationError) as err:
        task_review(actor=principal(w.leader), task=task, approve=False, note="")
    assert "note" in err.value.message_dict
    task_review(actor=principal(w.leader), task=task, approve=False, note="佐证材料不足")
    task.refresh_from_db()
    assert task.status == Task.Status.IN_PROGRESS and task.submitted_at is None
    assert task.events.last().kind == TaskEvent.Kind.RETURNED


def test_a_unit_cannot_review_its_own_task(w):
    task = issue(w, lead_department=w.d_office, co_departments=[])
    task_accept(actor=principal(w.office), task=task)
    task_submit(actor=principal(w.office), task=task)
    with pytest.raises(PermissionDenied):
        task_review(actor=principal(w.leader), task=task, approve=True)  # the leader sits in the lead unit
    with pytest.raises(PermissionDenied):
        task_review(actor=principal(w.scj_head), task=task, approve=True)  # no TASK_ISSUE


def test_review_and_submit_in_the_wrong_state(w):
    task = accepted(w)
    with pytest.raises(TaskStateError):
        task_review(actor=principal(w.leader), task=task, approve=True)
    task_submit(actor=principal(w.scj_head), task=task)
    with pytest.raises(TaskStateError):
        task_submit(actor=principal(w.scj_head), task=task)


def test_cancel_and_note(w):
    task = accepted(w)
    task_note(actor=principal(w.leader), task=task, note="请加快进度")
    with pytest.raises(PermissionDenied):
        task_note(actor=principal(w.scj_head), task=task, note="x")
    with pytest.raises(ValidationError):
        task_cancel(actor=principal(w.office), task=task, reason=" ")
    task_cancel(actor=principal(w.office), task=task, reason="任务调整")
    task.refresh_from_db()
    assert task.status == Task.Status.CANCELLED
    with pytest.raises(TaskStateError):
        task_note(actor=principal(w.leader), task=task, note="x")
    with pytest.raises(TaskStateError):
        task_report(actor=principal(w.scj_head), task=task, body="x", progress=1)


def test_actions_per_role(w):
    task = issue(w)
    assert task_actions_for(principal(w.scj_head), task) == ["accept"]
    assert task_actions_for(principal(w.leader), task) == ["cancel", "note"]
    assert task_actions_for(principal(w.town_heads[0]), task) == []
    task_accept(actor=principal(w.scj_head), task=task)
    task.refresh_from_db()
    assert task_actions_for(principal(w.scj_head), task) == ["report", "milestone", "submit"]
    assert task_actions_for(principal(w.mzj_head), task) == ["accept"]


def test_transition_table_is_closed():
    finals = {Task.Status.DONE, Task.Status.CANCELLED}
    for _action, (sources, target, _kind) in TRANSITIONS.items():
        assert not (sources & finals)
        assert target in Task.Status.values


def test_the_issued_due_date_may_be_far(w):
    task = issue(w, due_on=date(2026, 3, 2) + timedelta(days=400), milestones=[])
    assert task.due_on.year == 2027


def test_stats_on_time_closure_per_lead_unit(w, clock):
    from yiwang.collab.selectors.tasks import task_stats

    for due, closed_on in (
        (date(2026, 3, 5), (2026, 3, 5)),
        (date(2026, 3, 5), (2026, 3, 6)),
        (date(2026, 3, 9), None),
    ):
        task = issue(w, due_on=due, milestones=[], co_departments=[])
        task_accept(actor=principal(w.scj_head), task=task)
        task_submit(actor=principal(w.scj_head), task=task)
        if closed_on:
            clock.set(*closed_on, hour=23, minute=30)  # late in the Shanghai day: still that day
            task_review(actor=principal(w.leader), task=task, approve=True)
            clock.set(2026, 3, 2)
    stats = task_stats(principal(w.leader), today=date(2026, 3, 10))
    assert stats["by_status"]["done"] == 2 and stats["by_status"]["submitted"] == 1
    assert stats["overdue"] == 1
    assert stats["departments"] == [
        {"code": "SCJ", "name": w.d_scj.name, "closed": 2, "on_time": 1, "rate": 0.5}
    ]
    assert task_stats(principal(w.town_heads[0]))["departments"] == []
