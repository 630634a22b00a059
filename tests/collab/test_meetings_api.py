"""API /api/collab/meetings: convene, notify, replies (delegate within the department only), papers (multipart, type
checked), hold, minutes whose decisions become tasks, cancel, the list (keyset, bounded queries); problem+json 422
with field errors, 404 for a meeting of another department I am not invited to, 403 without MEETING_CONVENE or
from another department, 401 anonymous."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.collab.test_meetings_services import pdf_bytes
from tests.collab.world import build_collab_world
from yiwang.collab.models import Decision, Meeting, Task

pytestmark = pytest.mark.django_db
BASE = "/api/collab/meetings"


@pytest.fixture
def w(db, clock):
    return build_collab_world()


def _login(client, staff):
    client.force_login(staff.account)
    return client


def _post(client, url, body=None, **extra):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json", **extra)


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def _create(client, w, clock, **changes):
    start = clock.moment + timedelta(days=2)
    body = {
        "title": "安全生产专题会",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "place": "区政府第一会议室",
        "notice": "请准时参加。",
        "reply_by": (clock.moment + timedelta(days=1)).isoformat(),
        "attendees": [str(w.scj_head.public_id), str(w.mzj_head.public_id)],
        "agenda": [{"title": "通报检查情况", "presenter": "SCJ"}, {"title": "部署下阶段工作"}],
        **changes,
    }
    return _post(client, BASE, body)


def test_full_flow(client, w, clock):
    _login(client, w.office)
    response = _create(client, w, clock)
    assert response.status_code == 201, response.content
    meeting = response.json()
    mid = meeting["id"]
    assert meeting["status"] == "draft" and [a["presenter"] for a in meeting["agenda"]] == [
        {"code": "SCJ", "name": w.d_scj.name},
        None,
    ]
    assert meeting["actions"] == ["notify", "paper", "cancel"]
    upload = SimpleUploadedFile("检查通报.pdf", pdf_bytes(), content_type="application/pdf")
    response = client.post(f"{BASE}/{mid}/papers", {"file": upload, "agenda": 1})
    assert response.status_code == 201, response.content
    paper = response.json()
    assert paper["agenda"] == 1 and paper["content_type"] == "application/pdf"
    body = _problem(
        client.post(
            f"{BASE}/{mid}/papers", {"file": SimpleUploadedFile("a.pdf", b"hello", "application/pdf")}
        ),
        422,
    )
    assert body["errors"][0]["field"] == "file"
    assert _post(client, f"{BASE}/{mid}/notify").json()["status"] == "notified"
    _login(client, w.scj_head)
    body = _post(client, f"{BASE}/{mid}/respond", {"response": "attend"}).json()
    assert body["my_response"] == "attend" and body["summary"]["attend"] == 1
    assert client.get(paper["download_url"]).status_code == 200
    _login(client, w.mzj_head)
    body = _problem(_post(client, f"{BASE}/{mid}/respond", {"response": "decline"}), 422)
    assert body["errors"][0]["field"] == "reason"
    body = _problem(
        _post(
            client,
            f"{BASE}/{mid}/respond",
            {"response": "delegate", "delegate": str(w.scj_approver.public_id)},
        ),
        422,
    )
    assert body["errors"][0]["field"] == "delegate"
    _post(client, f"{BASE}/{mid}/respond", {"response": "decline", "reason": "另有公务"})
    clock.moment += timedelta(days=2, minutes=30)
    _login(client, w.office)
    body = _post(client, f"{BASE}/{mid}/hold", {"present": [str(w.scj_head.public_id)]}).json()
    assert body["status"] == "held" and body["summary"]["present"] == 1 and body["summary"]["absent"] == 1
    due = (clock.moment.date() + timedelta(days=20)).isoformat()
    body = _problem(
        _post(
            client,
            f"{BASE}/{mid}/minutes",
            {"minutes": "纪要", "decisions": [{"text": "整改", "lead_department": "NOPE", "due_on": due}]},
        ),
        422,
    )
    assert body["errors"][0]["field"] == "decisions.0.lead_department"
    body = _post(
        client,
        f"{BASE}/{mid}/minutes",
        {
            "minutes": "会议通报了安全生产检查情况，部署了下阶段工作。",
            "decisions": [
                {"text": "市场监管局牵头完成重点企业复查", "lead_department": "SCJ", "due_on": due}
            ],
        },
    ).json()
    assert body["status"] == "minuted" and body["decisions"][0]["task_code"].startswith("DB")
    task = Task.objects.get(public_id=body["decisions"][0]["task"])
    assert task.source == "meeting" and Decision.objects.get(task=task).meeting.public_id == uuid.UUID(mid)


def test_validation_and_forbidden(client, w, clock):
    _login(client, w.office)
    body = _problem(_create(client, w, clock, title="", place=""), 422)
    assert {"title", "place"} <= {e["field"] for e in body["errors"]}
    _problem(_create(client, w, clock, attendees=["nope"]), 422)
    _problem(_create(client, w, clock, agenda=[{"title": "x", "presenter": "NOPE"}]), 422)
    assert not Meeting.objects.exists()
    mid = _create(client, w, clock).json()["id"]
    _login(client, w.town_heads[0])  # holds MEETING_CONVENE, another department, not invited: cannot see it
    _problem(client.get(f"{BASE}/{mid}"), 404)
    _problem(_post(client, f"{BASE}/{mid}/cancel"), 404)
    _problem(client.get(f"{BASE}/{uuid.uuid4()}"), 404)
    _login(client, w.scj_head)  # invited, may see, but is not the convening department
    assert client.get(f"{BASE}/{mid}").status_code == 200
    _problem(_post(client, f"{BASE}/{mid}/cancel"), 403)
    _login(client, w.village_clerks[0])
    _problem(_create(client, w, clock), 403)
    _problem(client.get(f"{BASE}/{mid}"), 404)
    client.logout()
    _problem(client.get(BASE), 401)


def test_list_keyset_and_queries(client, w, clock, django_assert_max_num_queries):
    _login(client, w.office)
    for i in range(4):
        clock.moment += timedelta(minutes=1)
        assert _create(client, w, clock, title=f"会议{i}").status_code == 201
    with django_assert_max_num_queries(8):
        page = client.get(f"{BASE}?limit=3").json()
    assert [m["title"] for m in page["items"]] == ["会议3", "会议2", "会议1"]
    rest = client.get(f"{BASE}?limit=3&cursor={page['next_cursor']}").json()
    assert [m["title"] for m in rest["items"]] == ["会议0"]
    _problem(client.get(f"{BASE}?scope=bogus"), 422)
    _login(client, w.scj_head)
    assert len(client.get(f"{BASE}?scope=invited").json()["items"]) == 4
    assert client.get(f"{BASE}?scope=convened").json()["items"] == []


def test_detail_queries_do_not_grow_with_attendees(client, w, clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.collab.test_meetings_services import make_meeting

    small = make_meeting(w, clock, attendees=[w.scj_head])
    large = make_meeting(w, clock, attendees=[w.scj_head, *w.village_clerks, *w.grid_workers[:4], w.mzj_head])
    _login(client, w.scj_head)
    client.get(f"{BASE}/{small.public_id}")  # the first request of a session loads more (session, account)
    counts = []
    for meeting in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{BASE}/{meeting.public_id}").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] and counts[0] <= 14, counts
