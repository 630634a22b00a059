"""API /api/collab/notices: create and publish, inbox (unread first, keyset), read receipts, sent with figures, who
has not read, the audience picker, withdraw; problem+json 422 with field errors (English with Accept-Language: en),
404 for a non-recipient or a guessed id, 403 without COLLAB_NOTICE, 401 anonymous; bounded queries."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import Notice
from yiwang.collab.services.notices import notice_create
from yiwang.core.permissions import Role

pytestmark = pytest.mark.django_db
BASE = "/api/collab/notices"


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


def _send(w, title="防汛通知", **kwargs):
    return notice_create(
        actor=principal(w.office),
        title=title,
        body="请做好防汛准备。",
        audience=[("role", Role.VILLAGE_CLERK)],
        publish=True,
        **kwargs,
    )


def test_create_publish_and_figures(client, w):
    _login(client, w.office)
    response = _post(
        client,
        BASE,
        {
            "title": "关于开展安全生产检查的通知",
            "body": "各单位：请于本周内完成自查。",
            "audience": [{"kind": "department", "value": str(w.town_offices[0].public_id)}],
            "remind_every_hours": 12,
            "publish": True,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "published" and body["recipients_count"] == 7 and body["manages"] is True
    assert body["audience"][0]["label"] == w.town_offices[0].name
    sent = client.get(f"{BASE}/sent").json()
    assert sent["items"][0]["id"] == body["id"] and sent["items"][0]["read_count"] == 0
    unread = client.get(f"{BASE}/{body['id']}/unread?limit=5").json()
    assert len(unread["items"]) == 5 and unread["next_cursor"]
    rest = client.get(f"{BASE}/{body['id']}/unread?limit=5&cursor={unread['next_cursor']}").json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None


def test_invalid_input_is_422_with_fields(client, w):
    _login(client, w.office)
    body = _problem(_post(client, BASE, {"title": "", "body": "x", "audience": []}), 422)
    assert {e["field"] for e in body["errors"]} >= {"title", "audience"}
    body = _problem(
        _post(client, BASE, {"title": "t", "body": "x", "audience": [{"kind": "galaxy", "value": "x"}]}), 422
    )
    assert body["errors"][0]["field"] == "audience"
    body = _problem(
        _post(
            client,
            BASE,
            {"title": "t", "body": "x", "audience": []},
            HTTP_ACCEPT_LANGUAGE="en",
        ),
        422,
    )
    assert any("recipient" in e["message"].lower() for e in body["errors"]), body
    assert not Notice.objects.exists()


def test_inbox_read_and_unread_first(client, w, clock, django_assert_max_num_queries):
    first = _send(w, title="甲")
    clock.moment += timedelta(minutes=1)
    second = _send(w, title="乙")
    clock.moment += timedelta(minutes=1)
    third = _send(w, title="丙")
    clerk = w.village_clerks[0]
    _login(client, clerk)
    assert _post(client, f"{BASE}/{second.public_id}/read").json()["stamped"] is True
    assert _post(client, f"{BASE}/{second.public_id}/read").json()["stamped"] is False
    with django_assert_max_num_queries(8):
        page = client.get(f"{BASE}/inbox?limit=2").json()
    assert [i["title"] for i in page["items"]] == ["丙", "乙"]
    rest = client.get(f"{BASE}/inbox?limit=2&cursor={page['next_cursor']}").json()
    assert [i["title"] for i in rest["items"]] == ["甲"] and rest["next_cursor"] is None
    page = client.get(f"{BASE}/inbox?limit=2&unread_first=true").json()
    assert [i["title"] for i in page["items"]] == ["丙", "甲"]
    rest = client.get(f"{BASE}/inbox?limit=2&unread_first=true&cursor={page['next_cursor']}").json()
    assert [i["title"] for i in rest["items"]] == ["乙"]
    detail = client.get(f"{BASE}/{first.public_id}").json()
    assert detail["is_recipient"] and detail["read_at"] is None and detail["audience"] == []
    _problem(client.get(f"{BASE}/inbox?cursor=zzz"), 422)
    assert third.read_count == 0


def test_forbidden_paths(client, w):
    notice = _send(w)
    _login(client, w.scj_head)  # not a recipient, another department
    _problem(client.get(f"{BASE}/{notice.public_id}"), 404)
    _problem(_post(client, f"{BASE}/{notice.public_id}/read"), 404)
    _problem(_post(client, f"{BASE}/{notice.public_id}/withdraw"), 404)
    _problem(client.get(f"{BASE}/{uuid.uuid4()}"), 404)
    _problem(client.get(f"{BASE}/not-a-uuid"), 404)
    _problem(
        _post(
            client,
            BASE,
            {"title": "t", "body": "b", "audience": [{"kind": "division", "value": w.towns[0].code}]},
        ),
        422,
    )
    _login(client, w.village_clerks[0])  # a recipient without COLLAB_NOTICE
    _problem(client.get(f"{BASE}/sent"), 403)
    _problem(_post(client, f"{BASE}/{notice.public_id}/withdraw"), 403)
    _problem(client.get(f"{BASE}/{notice.public_id}/unread"), 403)
    client.logout()
    _problem(client.get(f"{BASE}/inbox"), 401)


def test_audience_picker_and_withdraw(client, w):
    _login(client, w.town_heads[0])
    options = client.get(f"{BASE}/audience?kind=division&q=示范").json()
    codes = {o["value"] for o in options}
    assert w.towns[0].code in codes and w.towns[1].code not in codes and w.district.code not in codes
    roles = client.get(f"{BASE}/audience?kind=role&q=网格").json()
    assert [o["value"] for o in roles] == [Role.GRID_WORKER]
    _problem(client.get(f"{BASE}/audience?kind=nope"), 422)
    notice = _send(w)
    _login(client, w.leader)
    body = _post(client, f"{BASE}/{notice.public_id}/withdraw", {"reason": "内容有误"}).json()
    assert body["status"] == "withdrawn"
    _login(client, w.village_clerks[0])
    assert client.get(f"{BASE}/inbox").json()["items"] == []


def test_draft_then_publish(client, w):
    _login(client, w.office)
    created = _post(
        client, BASE, {"title": "草稿", "body": "b", "audience": [{"kind": "role", "value": Role.LEADER}]}
    ).json()
    assert created["status"] == "draft"
    _login(client, w.leader)  # the audience cannot see a draft unless they manage it: the leader is in ZFB
    assert client.get(f"{BASE}/{created['id']}").json()["is_recipient"] is False
    _login(client, w.scj_head)
    _problem(client.get(f"{BASE}/{created['id']}"), 404)
    _login(client, w.office)
    published = _post(client, f"{BASE}/{created['id']}/publish").json()
    assert published["status"] == "published" and published["recipients_count"] == 1
    _problem(_post(client, f"{BASE}/{created['id']}/publish"), 422)
