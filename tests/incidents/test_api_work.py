"""/api/incidents: the list (filters, keyset, bounded queries), the detail with events, and each step, with the
401/403/404/409/422 paths as problem+json."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from yiwang.core.apiutils import PROBLEM_CONTENT_TYPE
from yiwang.incidents.models import Callback, Incident

from .test_work_support import STREET_GRID, TOWN2_GRID, closed, filed, fresh, pending, photo

pytestmark = pytest.mark.django_db
BASE = "/api/incidents"
S = Incident.State


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def problem(response, status):
    assert response.status_code == status, response.content.decode()[:600]
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
    return response.json()


def as_user(client, who):
    client.force_login(who.account if hasattr(who, "account") else who)
    return client


def test_list_and_detail(client, iworld, django_assert_max_num_queries):
    mine = [filed(iworld) for _ in range(4)]
    filed(iworld, "HJWR01")
    as_user(client, iworld.cgj_handler)
    client.get(f"{BASE}/")
    with django_assert_max_num_queries(12):
        body = client.get(f"{BASE}/", {"limit": 2}).json()
    assert [i["number"] for i in body["items"]] == [mine[3].number, mine[2].number]
    body = client.get(f"{BASE}/", {"limit": 2, "cursor": body["next_cursor"]}).json()
    assert [i["number"] for i in body["items"]] == [mine[1].number, mine[0].number] and body[
        "next_cursor"
    ] is None
    assert client.get(f"{BASE}/", {"department": "STHJ"}).json()["items"] == []
    item = client.get(f"{BASE}/", {"light": "green"}).json()["items"][0]
    assert item["light"] == "green" and item["department_code"] == "CGJ" and item["version"] >= 1
    detail = client.get(f"{BASE}/{mine[0].public_id}").json()
    assert [e["action"] for e in detail["events"]] == ["intake", "dispatch"]
    assert set(detail["actions"]) == {"handle", "return", "extension_request"}
    assert detail["reporter_phone"] == "138****1111"
    problem(client.get(f"{BASE}/", {"state": "nope"}), 422)
    problem(client.get(f"{BASE}/", {"cursor": "!!"}), 422)


def test_auth_scope_and_permissions(client, iworld):
    incident = filed(iworld, "HJWR01")  # 生态环境
    problem(client.get(f"{BASE}/"), 401)
    as_user(client, iworld.citizen)
    problem(client.get(f"{BASE}/"), 403)
    as_user(client, iworld.cgj_handler)
    problem(client.get(f"{BASE}/{incident.public_id}"), 404)
    problem(post(client, f"{BASE}/{incident.public_id}/return", {"reason": "不归我们"}), 404)
    problem(post(client, f"{BASE}/{incident.public_id}/dispatch", {}), 403)  # not a dispatcher
    as_user(client, iworld.sthj_handler)
    problem(post(client, f"{BASE}/{incident.public_id}/close", {"closure": "invalid", "note": "x"}), 403)


def test_dispatch_handle_verify_callback_by_api(client, iworld):
    incident = pending(iworld)
    as_user(client, iworld.town_dispatcher)
    url = f"{BASE}/{incident.public_id}"
    err = problem(post(client, f"{url}/dispatch", {"department_code": "CGJ"}), 422)
    assert err["errors"][0]["field"] == "category_code"
    body = post(
        client,
        f"{url}/dispatch",
        {"department_code": "CGJ", "category_code": "SRHJ01", "version": incident.lock_version},
    )
    assert body.status_code == 200, body.content
    assert body.json()["state"] == "dispatched"
    version = body.json()["version"]
    as_user(client, iworld.cgj_handler)
    err = problem(client.post(f"{url}/handle", {"note": "已处理", "version": version}), 422)
    assert {e["field"] for e in err["errors"]} == {"note", "photos"}
    problem(
        client.post(
            f"{url}/handle", {"note": "已劝离摊贩并清理", "version": version - 1, "photos": [photo()]}
        ),
        409,
    )
    body = client.post(f"{url}/handle", {"note": "已劝离摊贩并清理", "version": version, "photos": [photo()]})
    assert body.status_code == 200, body.content
    assert body.json()["state"] == "handled" and len(body.json()["photos"]) == 1
    as_user(client, iworld.grid_workers[STREET_GRID])
    body = client.post(f"{url}/verify", {"passed": "true", "note": "现场已恢复"})
    assert body.status_code == 200, body.content
    assert body.json()["state"] == "closed" and body.json()["closed_on_time"] is True
    as_user(client, iworld.operator)
    problem(post(client, f"{url}/callback", {"satisfaction": "meh"}), 422)
    response = post(client, f"{url}/callback", {"satisfaction": "satisfied", "note": "满意"})
    assert response.status_code == 201 and response.json()["incident_number"] == incident.number
    assert Callback.objects.get().satisfaction == "satisfied"


def test_return_reassign_extension_close_merge_by_api(client, iworld):
    incident = filed(iworld)
    url = f"{BASE}/{incident.public_id}"
    as_user(client, iworld.cgj_handler)
    due = fresh(incident).due_at
    response = post(client, f"{url}/extension", {"requested_due_at": (due.isoformat()), "reason": "协调"})
    assert problem(response, 422)["errors"][0]["field"] == "requested_due_at"
    later = due + timedelta(hours=1)  # an hour past the deadline, whatever hour or day the deadline falls on
    response = post(client, f"{url}/extension", {"requested_due_at": later.isoformat(), "reason": "需要协调"})
    assert response.status_code == 201, response.content
    as_user(client, iworld.town_dispatcher)
    response = post(client, f"{url}/extension/decide", {"approve": True})
    assert response.status_code == 200 and response.json()["state"] == "approved"
    problem(post(client, f"{url}/extension/decide", {"approve": True}), 422)
    as_user(client, iworld.cgj_handler)
    response = post(client, f"{url}/return", {"reason": "不属于本单位职责"})
    assert response.status_code == 200 and response.json()["state"] == "pending"
    as_user(client, iworld.town_dispatcher)
    response = post(client, f"{url}/dispatch", {"department_code": "CGJ"})
    assert response.status_code == 200
    response = post(client, f"{url}/reassign", {"department_code": "STHJ", "reason": "油烟问题"})
    assert response.status_code == 200 and response.json()["department_code"] == "STHJ"
    main = filed(iworld)
    response = post(client, f"{url}/merge", {"into": main.number})
    assert response.status_code == 200 and response.json()["state"] == "merged"
    problem(post(client, f"{BASE}/{main.public_id}/merge", {"into": "GD000"}), 404)
    response = post(client, f"{BASE}/{main.public_id}/close", {"closure": "handled", "note": "已现场处理"})
    assert response.status_code == 200 and response.json()["state"] == "closed"
    assert fresh(incident).events.order_by("-seq").first().action == "duplicate_closed"
    other = filed(iworld, grid=TOWN2_GRID)
    problem(post(client, f"{BASE}/{other.public_id}/close", {"closure": "handled", "note": "x"}), 404)
    assert closed(iworld).state == S.CLOSED
