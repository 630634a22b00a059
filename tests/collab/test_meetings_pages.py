"""Pages of 办会: the office convenes a meeting (staff search, agenda lines), uploads a paper and sends the notice;
an invitee answers with the HTMX RSVP panel (attend; a refused delegation stays 422 in the panel); the office
records attendance and issues minutes whose decisions link to their tasks; a meeting of another department is 404
to a non-invitee, the new page is 403 without MEETING_CONVENE."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.collab.test_meetings_services import make_meeting, pdf_bytes
from tests.collab.world import build_collab_world
from yiwang.collab.models import Attendee, Decision, Meeting

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def w(db, clock):
    return build_collab_world()


def _login(client, staff):
    client.force_login(staff.account)
    return client


def _local(moment) -> str:
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_convene_and_run_a_meeting(client, w, clock):
    _login(client, w.office)
    url = reverse("collab:meeting_new")
    assert client.get(url).status_code == 200
    found = client.get(reverse("collab:meeting_staff"), {"q": "市场监督"}, **HX).content.decode()
    assert str(w.scj_head.public_id) in found
    start = clock.moment + timedelta(days=1)
    values = {
        "title": "",
        "starts_at": _local(start),
        "ends_at": _local(start + timedelta(hours=1)),
        "place": "二楼会议室",
        "agenda": "通报情况 | SCJ\n研究部署",
        "attendees": [str(w.scj_head.public_id), str(w.mzj_head.public_id)],
    }
    response = client.post(url, values)
    assert response.status_code == 422 and not Meeting.objects.exists()
    assert str(w.scj_head.public_id) in response.content.decode()  # the chosen attendees stay chosen
    response = client.post(url, {**values, "title": "专题会", "agenda": "通报 | NOPE"})
    assert response.status_code == 422
    response = client.post(url, {**values, "title": "专题会"})
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert meeting.agenda.count() == 2 and meeting.attendees.count() == 2
    detail_url = reverse("collab:meeting_detail", args=[meeting.public_id])
    upload = SimpleUploadedFile("材料.pdf", pdf_bytes(), content_type="application/pdf")
    assert (
        client.post(
            reverse("collab:meeting_paper_add", args=[meeting.public_id]), {"file": upload, "agenda": "1"}
        ).status_code
        == 302
    )
    assert meeting.papers.count() == 1
    client.post(reverse("collab:meeting_act", args=[meeting.public_id]), {"action": "notify"})
    meeting.refresh_from_db()
    assert meeting.status == "notified"
    # the invitee answers through the HTMX panel
    _login(client, w.scj_head)
    page = client.get(detail_url).content.decode()
    assert 'data-testid="rsvp-attend"' in page and "材料.pdf" in page
    panel = client.post(
        reverse("collab:meeting_respond", args=[meeting.public_id]),
        {"response": "delegate", "delegate": str(w.mzj_head.public_id)},
        **HX,
    )
    assert panel.status_code == 422 and 'data-testid="rsvp-errors"' in panel.content.decode()
    panel = client.post(
        reverse("collab:meeting_respond", args=[meeting.public_id]), {"response": "attend"}, **HX
    )
    assert panel.status_code == 200 and 'data-response="attend"' in panel.content.decode()
    assert Attendee.objects.get(meeting=meeting, staff=w.scj_head).response == "attend"
    paper = meeting.papers.get()
    assert (
        client.get(reverse("collab:meeting_paper", args=[meeting.public_id, paper.public_id])).status_code
        == 200
    )
    # hold and minutes
    clock.moment = meeting.ends_at
    _login(client, w.office)
    client.post(
        reverse("collab:meeting_hold", args=[meeting.public_id]), {"present": [str(w.scj_head.public_id)]}
    )
    meeting.refresh_from_db()
    assert meeting.status == "held"
    due = (clock.moment.date() + timedelta(days=15)).isoformat()
    minutes_url = reverse("collab:meeting_minutes", args=[meeting.public_id])
    response = client.post(
        minutes_url,
        {
            "minutes": "纪要",
            "decision_0_text": "复查",
            "decision_0_department": "SCJ",
            "decision_0_due_on": "x",
        },
    )
    assert response.status_code == 422 and 'data-testid="minutes-errors"' in response.content.decode()
    response = client.post(
        minutes_url,
        {
            "minutes": "会议研究部署了下阶段工作。",
            "decision_0_text": "市场监管局完成重点企业复查",
            "decision_0_department": "SCJ",
            "decision_0_due_on": due,
        },
    )
    assert response.status_code == 302
    decision = Decision.objects.get()
    page = client.get(detail_url).content.decode()
    assert (
        decision.task.code in page and reverse("collab:task_detail", args=[decision.task.public_id]) in page
    )
    listing = client.get(reverse("collab:meetings"), {"scope": "convened"}).content.decode()
    assert "专题会" in listing


def test_forbidden_pages(client, w, clock):
    meeting = make_meeting(w, clock, attendees=[w.scj_head])
    _login(client, w.mzj_head)
    assert client.get(reverse("collab:meeting_detail", args=[meeting.public_id])).status_code == 404
    assert (
        client.post(reverse("collab:meeting_act", args=[meeting.public_id]), {"action": "cancel"}).status_code
        == 404
    )
    _login(client, w.scj_head)
    assert (
        client.post(reverse("collab:meeting_act", args=[meeting.public_id]), {"action": "cancel"}).status_code
        == 403
    )
    _login(client, w.village_clerks[0])
    assert client.get(reverse("collab:meeting_new")).status_code == 403
    assert client.get(reverse("collab:meetings")).status_code == 200
    assert client.get(reverse("collab:meetings"), {"cursor": "!!"}).status_code == 200


def test_admin_read_only_lists(client, w, clock):
    from tests.collab.world import principal
    from yiwang.collab.services.notices import notice_create
    from yiwang.core.permissions import Role

    mine = make_meeting(w, clock)
    other = make_meeting(w, clock, actor=w.mzj_head, attendees=[w.mzj_head], title="民政局内部会")
    notice = notice_create(
        actor=principal(w.office), title="t", body="b", audience=[("role", Role.LEADER)], publish=True
    )
    for staff in (w.office, w.scj_head, w.mzj_head):
        staff.account.is_staff = True
        staff.account.save(update_fields=["is_staff"])
    _login(client, w.office)
    listing = client.get(reverse("admin:collab_meeting_changelist")).content.decode()
    assert mine.title in listing and other.title in listing
    assert client.get(reverse("admin:collab_meeting_change", args=[mine.pk])).status_code == 200
    assert client.get(reverse("admin:collab_notice_changelist")).status_code == 200
    assert client.get(reverse("admin:collab_notice_change", args=[notice.pk])).status_code == 200
    response = client.post(
        reverse("admin:collab_notice_changelist"), {"action": "remind_now", "_selected_action": [notice.pk]}
    )
    assert response.status_code == 302
    _login(client, w.mzj_head)
    listing = client.get(reverse("admin:collab_meeting_changelist")).content.decode()
    assert other.title in listing and mine.title not in listing
    assert client.get(reverse("admin:collab_notice_changelist")).status_code == 403
