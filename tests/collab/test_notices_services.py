"""通知 services: audience resolution for each kind (staff, role, department with its sub-departments, division with
its departments and grid workers), the sender's reach, receipts (idempotent, F() count), withdrawal, reminders once
per interval (two sweeps at one instant remind once), the workbench source."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import Notice, NoticeRecipient
from yiwang.collab.services.notices import (
    notice_create,
    notice_publish,
    notice_read,
    notice_withdraw,
    notices_remind_sweep,
)
from yiwang.core.models import AuditEntry, Notification
from yiwang.core.permissions import Role
from yiwang.core.workbench import TodoQuery, workbench_sources_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, clock):
    return build_collab_world()


def _send(sender, audience, **kwargs) -> Notice:
    kwargs.setdefault("title", "关于报送年度工作总结的通知")
    kwargs.setdefault("body", "请于月底前报送。")
    return notice_create(actor=principal(sender), audience=audience, publish=True, **kwargs)


def _recipients(notice) -> set[int]:
    return set(NoticeRecipient.objects.filter(notice=notice).values_list("staff_id", flat=True))


def test_staff_and_role_audiences(w):
    notice = _send(w.office, [("staff", str(w.scj_head.public_id)), ("role", Role.VILLAGE_CLERK)])
    assert _recipients(notice) == {w.scj_head.pk, *(c.pk for c in w.village_clerks)}
    assert notice.status == "published" and notice.recipients_count == 5 and notice.published_at
    assert (
        Notification.objects.filter(object_type="collab.notice", object_id=str(notice.public_id)).count() == 5
    )
    assert AuditEntry.objects.filter(action="collab.notice.publish", object_id=str(notice.public_id)).exists()


def test_department_audience_includes_sub_departments(w):
    town = w.town_offices[0]
    notice = _send(w.office, [("department", str(town.public_id))])
    expected = {
        w.town_heads[0].pk,
        *(c.pk for c in w.village_clerks[:2]),
        *(g.pk for g in w.grid_workers[:4]),
    }
    assert _recipients(notice) == expected


def test_division_audience_includes_grid_workers_below(w):
    village = w.villages[0]
    notice = _send(w.office, [("division", village.code)])
    # the village committee's clerk, and the grid workers of its two grids (their department is the town centre)
    assert _recipients(notice) == {w.village_clerks[0].pk, w.grid_workers[0].pk, w.grid_workers[1].pk}
    town_notice = _send(w.leader, [("division", w.towns[1].code)])
    assert w.town_heads[1].pk in _recipients(town_notice) and w.town_heads[0].pk not in _recipients(
        town_notice
    )


def test_sender_is_never_a_recipient_and_duplicates_collapse(w):
    notice = _send(w.office, [("department", str(w.d_office.public_id)), ("staff", str(w.leader.public_id))])
    assert _recipients(notice) == {w.leader.pk}
    assert NoticeRecipient.objects.filter(notice=notice).count() == 1


def test_department_head_reaches_own_town_only(w):
    head = w.town_heads[0]
    notice = _send(head, [("division", w.towns[0].code)])
    assert w.grid_workers[0].pk in _recipients(notice)
    with pytest.raises(ValidationError) as err:
        _send(head, [("division", w.towns[1].code)])
    assert "audience" in err.value.message_dict
    with pytest.raises(ValidationError):
        _send(head, [("staff", str(w.scj_head.public_id))])
    # a role means its holders within the head's reach
    notice = _send(head, [("role", Role.VILLAGE_CLERK)])
    assert _recipients(notice) == {c.pk for c in w.village_clerks[:2]}


def test_district_department_head_reaches_only_its_department(w):
    with pytest.raises(ValidationError):
        _send(w.scj_head, [("division", w.towns[0].code)])
    notice = _send(w.scj_head, [("department", str(w.d_scj.public_id))])
    assert _recipients(notice) == {w.scj_approver.pk, w.dataofficer.pk}


def test_permission_and_validation(w):
    with pytest.raises(PermissionDenied):
        _send(w.scj_approver, [("role", Role.LEADER)])
    for audience, field in [
        ([], "audience"),
        ([("team", "x")], "audience"),
        ([("staff", "not-a-uuid")], "audience"),
        ([("division", "999999")], "audience"),
        ([("role", "wizard")], "audience"),
    ]:
        with pytest.raises(ValidationError) as err:
            _send(w.office, audience)
        assert field in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        _send(w.office, [("role", Role.LEADER)], title="", remind_every_hours=10_000)
    assert {"title", "remind_every_hours"} <= set(err.value.message_dict)
    assert not Notice.objects.exists()


def test_empty_resolution_refused_and_draft_publish(w):
    draft = notice_create(
        actor=principal(w.office), title="草稿", body="正文", audience=[("role", Role.DISTRICT_ADMIN)]
    )
    assert draft.status == "draft"
    with pytest.raises(ValidationError):
        notice_publish(actor=principal(w.office), notice=draft)
    draft.audience.update(value=Role.LEADER)
    notice_publish(actor=principal(w.office), notice=draft)
    assert draft.status == "published" and draft.recipients_count == 1
    with pytest.raises(Http404):
        notice_publish(actor=principal(w.scj_head), notice=draft)


def test_read_is_idempotent_and_counts(w):
    notice = _send(w.office, [("role", Role.VILLAGE_CLERK)])
    clerk = w.village_clerks[0]
    assert notice_read(actor=principal(clerk), notice=notice) is True
    assert notice_read(actor=principal(clerk), notice=notice) is False
    notice.refresh_from_db()
    assert notice.read_count == 1
    assert not Notification.objects.filter(
        recipient=clerk.account, object_id=str(notice.public_id), read_at__isnull=True
    ).exists()
    with pytest.raises(Http404):
        notice_read(actor=principal(w.scj_head), notice=notice)


def test_withdraw(w):
    notice = _send(w.office, [("role", Role.VILLAGE_CLERK)])
    with pytest.raises(Http404):
        notice_withdraw(actor=principal(w.scj_head), notice=notice)
    notice_withdraw(actor=principal(w.leader), notice=notice)  # same department
    assert notice.status == "withdrawn"
    assert notice_read(actor=principal(w.village_clerks[0]), notice=notice) is False
    with pytest.raises(ValidationError):
        notice_withdraw(actor=principal(w.office), notice=notice)


def test_reminders_once_per_interval(w, clock):
    notice = _send(w.office, [("role", Role.VILLAGE_CLERK)], remind_every_hours=24)
    quiet = _send(w.office, [("role", Role.VILLAGE_CLERK)], requires_receipt=False)
    notice_read(actor=principal(w.village_clerks[0]), notice=notice)
    assert notices_remind_sweep() == 0
    clock.moment += timedelta(hours=23)
    assert notices_remind_sweep() == 0
    clock.moment += timedelta(hours=1)
    assert notices_remind_sweep() == 3
    assert notices_remind_sweep() == 0  # a second consumer at the same instant reminds nobody again
    reminded = NoticeRecipient.objects.filter(notice=notice, reminders=1)
    assert (
        reminded.count() == 3 and not NoticeRecipient.objects.filter(notice=quiet, reminders__gt=0).exists()
    )
    clock.moment += timedelta(hours=24)
    notice_read(actor=principal(w.village_clerks[1]), notice=notice)
    assert notices_remind_sweep() == 2
    assert Notification.objects.filter(object_id=str(notice.public_id), title__startswith="提醒").count() == 5
    notice_withdraw(actor=principal(w.office), notice=notice)
    clock.moment += timedelta(hours=48)
    assert notices_remind_sweep() == 0


def test_workbench_source_lists_unread_receipts(w, clock):
    later = clock.moment + timedelta(days=3)
    first = _send(w.office, [("role", Role.VILLAGE_CLERK)], title="甲", read_by=later)
    _send(w.office, [("role", Role.VILLAGE_CLERK)], title="乙")
    _send(w.office, [("role", Role.VILLAGE_CLERK)], title="丙", requires_receipt=False)
    p = principal(w.village_clerks[0])
    source = next(s for s in workbench_sources_for(p) if s.id == "collab.notices")
    items = source.items(p, TodoQuery(limit=10))
    assert [i.title for i in items] == ["甲", "乙"] and items[0].deadline == later
    assert source.count(p) == 2 and source.count(p, due_before=later + timedelta(hours=1)) == 1
    from yiwang.core.workbench import Cursor

    rest = source.items(p, TodoQuery(after=Cursor.of(items[0]), limit=10))
    assert [i.title for i in rest] == ["乙"]
    notice_read(actor=p, notice=first)
    assert source.count(p) == 1
