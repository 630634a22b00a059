"""办会 services: create (validation), notify, replies (attend, decline with reason, delegate to a colleague of the
same department only), papers (type checked), hold with attendance, minutes whose decisions become 督办 tasks issued
by the meeting's department, cancel; the convening side only; the selectors' visibility; the workbench source."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from tests.collab.world import build_collab_world, principal
from tests.factories import staff_with_roles
from yiwang.collab.models import Attendee, Decision, Meeting, Task
from yiwang.collab.selectors.meetings import meeting_detail, meeting_get_visible, meeting_list_visible_to
from yiwang.collab.services.meetings import (
    meeting_cancel,
    meeting_create,
    meeting_hold,
    meeting_minutes,
    meeting_notify,
    meeting_paper_add,
    meeting_respond,
)
from yiwang.core.models import AuditEntry, Notification
from yiwang.core.permissions import Role
from yiwang.core.workbench import TodoQuery, workbench_sources_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, clock):
    return build_collab_world()


def pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_meeting(w, clock, *, notify=True, attendees=None, **kwargs) -> Meeting:
    start = clock.moment + timedelta(days=2)
    people = attendees if attendees is not None else [w.scj_head, w.mzj_head, w.town_heads[0]]
    convener = kwargs.pop("actor", w.office)
    meeting = meeting_create(
        actor=principal(convener),
        title=kwargs.pop("title", "一季度重点工作推进会"),
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        place="区政府三楼会议室",
        notice="请各单位主要负责人参加。",
        reply_by=clock.moment + timedelta(days=1),
        attendees=[str(s.public_id) for s in people],
        agenda=["一季度重点工作推进情况", ("市场主体培育", w.d_scj)],
        **kwargs,
    )
    if notify:
        meeting_notify(actor=principal(convener), meeting=meeting)
    return meeting


def test_create_and_notify(w, clock):
    meeting = make_meeting(w, clock, notify=False)
    assert meeting.status == "draft" and meeting.department == w.d_office and meeting.convener == w.office
    assert list(meeting.agenda.values_list("position", "title")) == [
        (1, "一季度重点工作推进情况"),
        (2, "市场主体培育"),
    ]
    assert meeting.attendees.count() == 3
    meeting_notify(actor=principal(w.leader), meeting=meeting)  # a colleague of the convening department
    assert meeting.status == "notified"
    assert (
        Notification.objects.filter(object_type="collab.meeting", object_id=str(meeting.public_id)).count()
        == 3
    )
    with pytest.raises(ValidationError):
        meeting_notify(actor=principal(w.office), meeting=meeting)
    assert AuditEntry.objects.filter(action="collab.meeting.notify").exists()


def test_create_validation(w, clock):
    now = clock.moment
    cases = [
        ({"title": ""}, "title"),
        ({"place": ""}, "place"),
        ({"starts_at": now - timedelta(hours=1)}, "starts_at"),
        ({"ends_at": now + timedelta(days=1)}, "ends_at"),
        ({"reply_by": now + timedelta(days=5)}, "reply_by"),
        ({"attendees": ["not-a-uuid"]}, "attendees"),
    ]
    for change, field in cases:
        values = {
            "title": "会议",
            "place": "会议室",
            "starts_at": now + timedelta(days=2),
            "ends_at": now + timedelta(days=2, hours=1),
            "reply_by": None,
            "attendees": [],
            **change,
        }
        with pytest.raises(ValidationError) as err:
            meeting_create(actor=principal(w.office), **values)
        assert field in err.value.message_dict, (change, err.value.message_dict)
    with pytest.raises(PermissionDenied):
        meeting_create(
            actor=principal(w.scj_approver),
            title="会议",
            place="会议室",
            starts_at=now + timedelta(days=2),
            ends_at=now + timedelta(days=2, hours=1),
        )
    assert not Meeting.objects.exists()


def test_replies_and_delegation(w, clock):
    colleague = staff_with_roles(Role.APPROVER, department=w.d_mzj, username="mzjapprover")
    meeting = make_meeting(w, clock)
    meeting_respond(actor=principal(w.scj_head), meeting=meeting, response="attend")
    with pytest.raises(ValidationError) as err:
        meeting_respond(actor=principal(w.town_heads[0]), meeting=meeting, response="decline")
    assert "reason" in err.value.message_dict
    meeting_respond(actor=principal(w.town_heads[0]), meeting=meeting, response="decline", reason="出差")
    # delegate outside the department refused; then to a colleague
    with pytest.raises(ValidationError) as err:
        meeting_respond(
            actor=principal(w.mzj_head), meeting=meeting, response="delegate", delegate=w.scj_approver
        )
    assert "delegate" in err.value.message_dict
    with pytest.raises(ValidationError):
        meeting_respond(
            actor=principal(w.mzj_head), meeting=meeting, response="delegate", delegate=w.mzj_head
        )
    meeting_respond(actor=principal(w.mzj_head), meeting=meeting, response="delegate", delegate=colleague)
    delegated = Attendee.objects.get(meeting=meeting, staff=colleague)
    assert delegated.response == "pending"
    assert Attendee.objects.get(meeting=meeting, staff=w.mzj_head).delegate == colleague
    with pytest.raises(ValidationError):
        meeting_respond(actor=principal(w.mzj_head), meeting=meeting, response="attend")
    meeting_respond(actor=principal(colleague), meeting=meeting, response="attend")
    # a non-invitee: 404; bad response value
    with pytest.raises(Http404):
        meeting_respond(actor=principal(w.clerk), meeting=meeting, response="attend")
    with pytest.raises(ValidationError):
        meeting_respond(actor=principal(w.scj_head), meeting=meeting, response="maybe")
    d = meeting_detail(principal(w.office), meeting)
    s = d.summary
    assert (s.invited, s.attend, s.decline, s.delegate, s.pending) == (4, 2, 1, 1, 0)
    # the delegating invitee still sees the meeting
    assert meeting_get_visible(principal(w.mzj_head), meeting.public_id) == meeting
    # after the start nobody can reply
    clock.moment = meeting.starts_at + timedelta(minutes=1)
    with pytest.raises(ValidationError):
        meeting_respond(actor=principal(w.scj_head), meeting=meeting, response="decline", reason="临时有事")


def test_papers(w, clock):
    meeting = make_meeting(w, clock)
    item = meeting.agenda.get(position=2)
    paper = meeting_paper_add(
        actor=principal(w.office),
        meeting=meeting,
        upload=SimpleUploadedFile("汇报材料.pdf", pdf_bytes(), content_type="application/pdf"),
        agenda_item=item,
    )
    assert paper.content_type == "application/pdf" and paper.agenda_item == item and len(paper.sm3) == 64
    with pytest.raises(ValidationError) as err:
        meeting_paper_add(
            actor=principal(w.office),
            meeting=meeting,
            upload=SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"),
        )
    assert "file" in err.value.message_dict
    with pytest.raises(PermissionDenied):
        meeting_paper_add(
            actor=principal(w.scj_head),
            meeting=meeting,
            upload=SimpleUploadedFile("a.pdf", pdf_bytes(), content_type="application/pdf"),
        )
    assert meeting.papers.count() == 1


def test_hold_minutes_decisions_become_tasks(w, clock):
    meeting = make_meeting(w, clock)
    meeting_respond(actor=principal(w.scj_head), meeting=meeting, response="attend")
    with pytest.raises(ValidationError):  # not started yet
        meeting_hold(actor=principal(w.office), meeting=meeting, present=[str(w.scj_head.public_id)])
    clock.moment = meeting.ends_at
    with pytest.raises(ValidationError):
        meeting_hold(actor=principal(w.office), meeting=meeting, present=[str(w.clerk.public_id)])
    meeting_hold(actor=principal(w.office), meeting=meeting, present=[str(w.scj_head.public_id)])
    assert meeting.status == "held"
    assert dict(meeting.attendees.values_list("staff_id", "attended"))[w.scj_head.pk] is True
    due = clock.moment.date() + timedelta(days=30)
    with pytest.raises(ValidationError) as err:
        meeting_minutes(
            actor=principal(w.office),
            meeting=meeting,
            minutes="纪要",
            decisions=[("事项", w.d_scj, clock.moment.date() - timedelta(days=1))],
        )
    assert "decisions.0.due_on" in err.value.message_dict
    assert not Task.objects.exists()
    meeting_minutes(
        actor=principal(w.office),
        meeting=meeting,
        minutes="会议听取了一季度重点工作推进情况汇报。",
        decisions=[
            ("市场监管局牵头开展个体工商户培育行动", w.d_scj, due),
            ("民政局完善养老服务补贴发放", w.d_mzj, due),
        ],
    )
    assert meeting.status == "minuted" and meeting.minutes_at
    decisions = list(Decision.objects.filter(meeting=meeting).select_related("task"))
    assert [d.position for d in decisions] == [1, 2]
    task = decisions[0].task
    assert (
        task.source == "meeting" and task.lead_department == w.d_scj and task.issuing_department == w.d_office
    )
    assert task.due_on == due and task.issued_by is None
    with pytest.raises(ValidationError):
        meeting_minutes(actor=principal(w.office), meeting=meeting, minutes="再来一次")


def test_convening_side_only_and_cancel(w, clock):
    meeting = make_meeting(w, clock)
    with pytest.raises(PermissionDenied):
        meeting_cancel(
            actor=principal(w.scj_head), meeting=meeting
        )  # holds MEETING_CONVENE, other department
    with pytest.raises(PermissionDenied):
        meeting_cancel(actor=principal(w.village_clerks[0]), meeting=meeting)
    meeting_cancel(actor=principal(w.office), meeting=meeting, reason="改期")
    assert meeting.status == "cancelled"
    assert Notification.objects.filter(title__startswith="会议取消").count() == 3
    with pytest.raises(ValidationError):
        meeting_notify(actor=principal(w.office), meeting=meeting)


def test_visibility(w, clock):
    meeting = make_meeting(w, clock, attendees=[w.scj_head])
    own = make_meeting(w, clock, actor=w.mzj_head, attendees=[w.mzj_head], title="民政局内部会")
    assert meeting_get_visible(principal(w.scj_head), meeting.public_id) == meeting
    assert meeting_get_visible(principal(w.leader), meeting.public_id) == meeting  # same department
    for outsider in (w.mzj_head, w.scj_approver, w.village_clerks[0]):
        with pytest.raises(Http404):
            meeting_get_visible(principal(outsider), meeting.public_id)
    with pytest.raises(Http404):
        meeting_get_visible(principal(w.leader), own.public_id)
    with pytest.raises(Http404):
        meeting_get_visible(principal(w.leader), "not-a-uuid")
    page = meeting_list_visible_to(principal(w.mzj_head))
    assert [m.title for m in page.items] == ["民政局内部会"]
    invited = meeting_list_visible_to(principal(w.scj_head), scope="invited")
    assert [m.pk for m in invited.items] == [meeting.pk] and invited.items[0].my_response == "pending"


def test_list_paging_and_queries(w, clock, django_assert_max_num_queries):
    for i in range(5):
        make_meeting(w, clock, title=f"会议{i}", notify=False)
    p = principal(w.office)
    seen = []
    cursor = None
    while True:
        with django_assert_max_num_queries(3):
            page = meeting_list_visible_to(p, cursor=cursor, limit=2)
        seen += [m.title for m in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert sorted(seen) == [f"会议{i}" for i in range(5)] and len(set(seen)) == 5
    with pytest.raises(ValidationError):
        meeting_list_visible_to(p, cursor="garbage")


def test_workbench_source(w, clock):
    meeting = make_meeting(w, clock)
    p = principal(w.scj_head)
    source = next(s for s in workbench_sources_for(p) if s.id == "collab.meetings")
    items = source.items(p, TodoQuery(limit=10))
    assert [i.key for i in items] == [str(meeting.public_id)] and items[0].deadline == meeting.reply_by
    assert source.count(p) == 1
    meeting_respond(actor=p, meeting=meeting, response="attend")
    assert source.count(p) == 0
    clock.moment = meeting.ends_at
    meeting_hold(actor=principal(w.office), meeting=meeting, present=[])
    office = principal(w.office)
    items = source.items(office, TodoQuery(limit=10))
    assert [(i.key, i.deadline) for i in items] == [(str(meeting.public_id), None)]
    assert source.count(office) == 1
