"""API /api/collab/documents: the 发文 flow end to end, the 收文 flow, lock and versions, problem+json errors
(401, 403, 404 for others' documents and guessed ids, 409, 422 with field messages), bounded queries."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.collab.documents_world import documents_world, draft, received
from tests.collab.world import principal
from yiwang.collab.models.documents import Document
from yiwang.collab.services import documents as svc

pytestmark = pytest.mark.django_db
BASE = "/api/collab/documents"


@pytest.fixture
def w(clock):
    return documents_world()


def _login(client, staff):
    client.logout()
    client.force_login(staff.account)
    return client


def _post(client, url, body=None, method="post"):
    return getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json")


def _act(client, doc_id, action, **extra):
    return _post(client, f"{BASE}/{doc_id}/actions", {"action": action, **extra})


def _ok(response, status=200):
    assert response.status_code == status, response.content.decode()
    return response.json()


def _problem(response, status):
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def test_outgoing_flow_over_the_api(client, w):
    _login(client, w.scj_approver)
    created = _ok(
        _post(
            client,
            BASE,
            {
                "title": "关于开展食品安全检查的通知",
                "body": "各单位：\n请开展检查。",
                "kind": "notice",
                "recipients": ["MZJ", "ZSJ"],
                "countersign": ["MZJ"],
            },
        ),
        201,
    )
    doc_id = created["id"]
    assert created["step"] == "draft" and created["current_version"] == 1
    assert "send_check" in created["actions"] and "lock" in created["actions"]
    assert _ok(_post(client, f"{BASE}/{doc_id}/lock"))["by_me"] is True
    edited = _ok(
        _post(client, f"{BASE}/{doc_id}", {"body": "各单位：\n请认真开展检查。", "note": "润色"}, "put")
    )
    assert edited["current_version"] == 2 and len(edited["versions"]) == 2
    diff = _ok(client.get(f"{BASE}/{doc_id}/diff?a=1&b=2"))
    assert any(line.startswith("+") and "认真" in line for line in diff["lines"])
    assert _ok(client.get(f"{BASE}/{doc_id}/versions/1"))["body"] == "各单位：\n请开展检查。"
    assert _ok(_act(client, doc_id, "send_check"))["step"] == "check"
    _login(client, w.scj_head)
    assert _ok(_act(client, doc_id, "check", agree=True, opinion="同意"))["step"] == "countersign"
    _login(client, w.mzj_head)
    assert "countersign" in _ok(client.get(f"{BASE}/{doc_id}"))["actions"]
    _problem(_act(client, doc_id, "countersign"), 422)
    assert _ok(_act(client, doc_id, "countersign", agree=True))["step"] == "sign_off"
    _problem(_act(client, doc_id, "sign_off"), 403)  # a countersigner cannot sign off
    _login(client, w.scj_head)
    assert _ok(_act(client, doc_id, "sign_off", opinion="同意"))["step"] == "number"
    _login(client, w.office)
    numbered = _ok(_act(client, doc_id, "number"))
    assert numbered["number"] == "示市监〔2026〕1号" and numbered["step"] == "seal"
    sealed = _ok(_act(client, doc_id, "seal"))
    assert sealed["step"] == "distribute" and sealed["verify_code"]
    assert any(f["kind"] == "sealed" for f in sealed["files"])
    done = _ok(_act(client, doc_id, "distribute"))
    assert done["step"] == "done"
    assert {p["status"] for p in done["parties"] if p["role"] == "recipient"} == {"delivered"}
    _problem(_act(client, doc_id, "distribute"), 409)
    # the recipient signs in its 收文
    _login(client, w.mzj_head)
    inbox = _ok(client.get(f"{BASE}?direction=incoming"))
    assert [d["number"] for d in inbox["items"]] == ["示市监〔2026〕1号"]
    incoming_id = inbox["items"][0]["id"]
    detail = _ok(client.get(f"{BASE}/{incoming_id}"))
    assert detail["step"] == "sign_in" and detail["source"] == doc_id and "sign_in" in detail["actions"]
    assert _ok(_act(client, incoming_id, "sign_in"))["step"] == "register"


def test_incoming_flow_over_the_api(client, w):
    _login(client, w.office)
    created = _ok(
        _post(
            client,
            f"{BASE}/received",
            {"title": "关于防汛工作的通知", "origin": "市应急管理局", "number": "市应急〔2026〕3号"},
        ),
        201,
    )
    doc_id = created["id"]
    assert created["step"] == "propose"
    _problem(_act(client, doc_id, "propose", lead="NOPE", due_days=3), 422)
    assert _ok(_act(client, doc_id, "propose", lead="SCJ", co=["MZJ"], due_days=3))["step"] == "instruct"
    _login(client, w.leader)
    assert _ok(_act(client, doc_id, "instruct", opinion="同意"))["step"] == "handle"
    _login(client, w.mzj_head)
    assert _ok(_act(client, doc_id, "handle", opinion="已配合"))["step"] == "handle"
    _login(client, w.office)
    assert _ok(_act(client, doc_id, "urge"))["step"] == "handle"
    _login(client, w.scj_head)
    assert _ok(_act(client, doc_id, "handle", opinion="已完成"))["step"] == "done"


def test_errors(client, w):
    response = client.get(BASE)
    assert _problem(response, 401)["status"] == 401
    _login(client, w.scj_approver)
    body = _problem(_post(client, BASE, {"title": "【机密】某事项"}), 422)
    assert body["errors"][0]["field"] == "title" and "非涉密" in body["errors"][0]["message"]
    body = _problem(_post(client, BASE, {"title": "通知", "confidentiality": "绝密"}), 422)
    assert body["errors"][0]["field"] == "confidentiality"
    body = _problem(_post(client, BASE, {"title": "通知", "recipients": ["NOPE"]}), 422)
    assert body["errors"][0]["field"] == "recipients"
    _problem(_post(client, BASE, {"title": "x" * 201}), 422)
    _problem(_post(client, BASE, {"title": "通知", "due_on": "2026-02-30"}), 422)
    # 收文登记 needs a registrar
    _problem(_post(client, f"{BASE}/received", {"title": "来文", "origin": "市局"}), 403)
    # guessed and malformed ids: 404
    _problem(client.get(f"{BASE}/{uuid.uuid4()}"), 404)
    _problem(client.get(f"{BASE}/not-a-uuid"), 404)
    _problem(_act(client, uuid.uuid4(), "check"), 404)
    _problem(_act(client, "x", "explode"), 422)
    _problem(client.get(f"{BASE}?cursor=@@@"), 422)
    assert Document.objects.count() == 0


def test_another_department_cannot_see_or_act(client, w):
    doc = draft(w, countersign=[], recipients=[])
    other = received(w)
    _login(client, w.mzj_head)
    _problem(client.get(f"{BASE}/{doc.public_id}"), 404)
    _problem(_act(client, doc.public_id, "send_check"), 404)
    _problem(_post(client, f"{BASE}/{doc.public_id}/lock"), 404)
    _problem(client.get(f"{BASE}/{other.public_id}"), 404)
    assert _ok(client.get(BASE))["items"] == []


def test_lock_conflict_is_409_naming_the_holder(client, w):
    doc = draft(w)
    from tests.factories import staff_with_roles
    from yiwang.core.permissions import Role

    colleague = staff_with_roles(Role.APPROVER, department=w.d_scj)
    svc.document_lock(actor=principal(w.scj_approver), document=doc)
    _login(client, colleague)
    body = _problem(_post(client, f"{BASE}/{doc.public_id}/lock"), 409)
    assert w.scj_approver.name in body["detail"]
    _problem(_post(client, f"{BASE}/{doc.public_id}", {"body": "x"}, "put"), 409)
    detail = _ok(client.get(f"{BASE}/{doc.public_id}"))
    assert (
        detail["lock"]["locked"]
        and not detail["lock"]["by_me"]
        and detail["lock"]["by"] == w.scj_approver.name
    )


def test_list_pages_and_bounded_queries(client, w, django_assert_max_num_queries):
    for n in range(5):
        draft(w, title=f"通知第{n}号", countersign=[], recipients=[])
    _login(client, w.scj_approver)
    first = _ok(client.get(f"{BASE}?direction=outgoing&limit=3"))
    assert len(first["items"]) == 3 and first["next_cursor"]
    second = _ok(client.get(f"{BASE}?direction=outgoing&limit=3&cursor={first['next_cursor']}"))
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    assert _ok(client.get(f"{BASE}?q=第3号"))["items"][0]["title"] == "通知第3号"
    with django_assert_max_num_queries(12):
        client.get(f"{BASE}?limit=50")
    doc_id = first["items"][0]["id"]
    with django_assert_max_num_queries(16):
        _ok(client.get(f"{BASE}/{doc_id}"))
