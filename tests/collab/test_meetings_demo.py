"""The 通知 and 办会 demo on the small collab world: idempotent; a district-wide notice half read and one to the
towns' heads; an upcoming meeting with every kind of reply and a held one whose decisions became 督办 tasks."""

from __future__ import annotations

import pytest

from tests.collab.world import build_collab_world
from yiwang.collab.demo_meetings import PAST, UPCOMING, load_meetings
from yiwang.collab.models import Attendee, Decision, Meeting, Notice, NoticeRecipient, Task

pytestmark = pytest.mark.django_db


def test_demo_builds_once(db, clock):
    w = build_collab_world()
    counts = load_meetings()
    assert counts["notices"] == 2 and counts["meetings"] == 2 and counts["decisions"] == 3
    wide, towns = Notice.objects.order_by("published_at")
    assert wide.recipients_count > 20 and wide.read_count == (wide.recipients_count + 1) // 2
    assert set(NoticeRecipient.objects.filter(notice=towns).values_list("staff_id", flat=True)) == {
        s.pk for s in w.town_heads
    }
    upcoming = Meeting.objects.get(title=UPCOMING)
    assert upcoming.status == "notified" and upcoming.papers.count() == 1
    responses = set(upcoming.attendees.values_list("response", flat=True))
    assert {"attend", "decline", "delegate", "pending"} <= responses
    delegation = Attendee.objects.get(meeting=upcoming, response="delegate")
    assert delegation.delegate.department_id == delegation.staff.department_id
    assert Attendee.objects.get(meeting=upcoming, staff=w.village_clerks[0]).response == "pending"
    past = Meeting.objects.get(title=PAST)
    assert past.status == "minuted" and past.starts_at < clock.moment
    assert Task.objects.filter(source="meeting").count() == 3
    assert not Decision.objects.filter(task__isnull=True).exists()
    before = (Notice.objects.count(), Meeting.objects.count(), Task.objects.count())
    assert load_meetings() == {}
    assert (Notice.objects.count(), Meeting.objects.count(), Task.objects.count()) == before


def test_the_named_logins_leave_the_district_notice_unread(db, clock):
    w = build_collab_world()
    kept = w.village_clerks[0].account.username
    load_meetings(unread_for=frozenset({kept}))
    wide = Notice.objects.order_by("published_at").first()
    mine = NoticeRecipient.objects.get(notice=wide, staff=w.village_clerks[0])
    assert mine.read_at is None
    others = wide.recipients_count - 1
    assert wide.read_count == (others + 1) // 2
