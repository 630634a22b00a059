"""/api/pledges: the verifiers' queue, verify, the pledge text, 补交 of owed materials; and a submission with a
pledge through /api/cases. Every error is problem+json."""

from __future__ import annotations

import json

import pytest

from tests.cases.factories import GOOD_FORM, pdf
from yiwang.api import api
from yiwang.cases import services
from yiwang.cases.models import Case, Pledge, PledgeVerification
from yiwang.core.apiutils import PROBLEM_CONTENT_TYPE
from yiwang.core.permissions import Permission

from .conftest import advance, p, submit_owing, submit_pledged

pytestmark = pytest.mark.django_db

BASE = "/api/pledges"


def post_json(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.content.decode()[:500]
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
    return response.json()


def test_every_operation_declares_a_permission():
    api.urls  # noqa: B018
    ops = [
        (path, op)
        for prefix, router in api._routers
        if prefix.strip("/") == "pledges"
        for path, view in router.path_operations.items()
        for op in view.operations
    ]
    assert len(ops) == 5
    for path, op in ops:
        assert isinstance(getattr(op.view_func, "yiwang_permission", None), Permission), path
        assert {401, 403, 404, 422} <= set(op.response_models), path


def test_checks_list_is_scoped_and_keyset_paged(client, world, django_assert_max_num_queries):
    ids = [
        str(PledgeVerification.objects.get(case=advance(world, submit_pledged(world), "approved")).public_id)
        for _ in range(3)
    ]
    client.force_login(world.approver.account)
    with django_assert_max_num_queries(11):
        first = client.get(f"{BASE}/checks?limit=2")
    assert first.status_code == 200
    body = first.json()
    assert [c["id"] for c in body["items"]] == ids[:2] and body["next_cursor"]
    assert body["items"][0]["status"] == "pending" and body["items"][0]["due_date"] == "2026-03-30"
    rest = client.get(f"{BASE}/checks", {"limit": 2, "cursor": body["next_cursor"]}).json()
    assert [c["id"] for c in rest["items"]] == ids[2:] and rest["next_cursor"] is None
    problem_of(client.get(f"{BASE}/checks?cursor=garbage"), 422)
    problem_of(client.get(f"{BASE}/checks?status=nope"), 422)
    client.force_login(world.other_approver.account)
    assert client.get(f"{BASE}/checks").json()["items"] == []
    problem_of(client.get(f"{BASE}/checks/{ids[0]}"), 404)
    client.force_login(world.citizen)
    problem_of(client.get(f"{BASE}/checks"), 403)
    client.logout()
    problem_of(client.get(f"{BASE}/checks"), 401)


def test_verify_paths(client, world):
    case = advance(world, submit_pledged(world), "approved")
    check = PledgeVerification.objects.get(case=case)
    url = f"{BASE}/checks/{check.public_id}/verify"
    client.force_login(world.clerk.account)
    problem_of(post_json(client, url, {"passed": True}), 403)
    client.force_login(world.other_approver.account)
    problem_of(post_json(client, url, {"passed": True}), 404)
    client.force_login(world.approver.account)
    body = problem_of(post_json(client, url, {"passed": False}), 422)
    assert body["errors"][0]["field"] == "result"
    problem_of(post_json(client, url, {"passed": "maybe"}), 422)
    response = post_json(client, url, {"passed": False, "result": "核查发现虚假承诺"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "failed" and response.json()["case_state"] == "revoked"
    problem_of(post_json(client, url, {"passed": True}), 422)  # once
    case.refresh_from_db()
    assert case.state == Case.State.REVOKED and case.decision_reason == "核查发现虚假承诺"


def test_pledge_text(client, world):
    client.force_login(world.citizen)
    response = client.get(f"{BASE}/text", {"item_code": world.item.code, "materials": ["id_card"]})
    assert response.status_code == 200
    assert "“身份证明”" in response.json()["text"] and response.json()["materials"] == ["id_card"]
    body = problem_of(
        client.get(f"{BASE}/text", {"item_code": world.item.code, "materials": ["premises"]}), 422
    )
    assert body["errors"][0]["field"] == "material_premises"
    problem_of(client.get(f"{BASE}/text", {"item_code": "NOPE-1"}), 404)


def test_submit_with_a_pledge_through_the_cases_api(client, world):
    client.force_login(world.citizen)
    draft = services.case_draft_save(actor=p(world.citizen), item=world.item, form_data=dict(GOOD_FORM))
    body = {
        "item_code": world.item.code,
        "idempotency_key": "api-pledge-1",
        "form_data": dict(GOOD_FORM),
        "draft_id": str(draft.public_id),
        "pledged": ["id_card"],
    }
    problem_of(post_json(client, "/api/cases", body), 422)  # not accepted
    response = post_json(client, "/api/cases", {**body, "pledge_accepted": True})
    assert response.status_code == 201, response.content
    assert Pledge.objects.get(case__public_id=response.json()["id"]).materials == ["id_card"]


def test_owed_supply_paths(client, world):
    case = services.case_action_take(actor=p(world.clerk), case=submit_owing(world), action="accept")
    url = f"{BASE}/cases/{case.public_id}/owed"
    client.force_login(world.other_citizen)
    problem_of(client.post(url, {"premises": pdf()}), 404)
    client.force_login(world.approver.account)
    problem_of(client.post(url, {"premises": pdf()}), 403)
    client.force_login(world.citizen)
    body = problem_of(client.post(url, {}), 422)
    assert body["errors"][0]["field"] == "files"
    response = client.post(url, {"premises": pdf()})
    assert response.status_code == 200, response.content
    assert response.json()["owed"] == [] and response.json()["owed_deadline"] is None
    problem_of(client.post(url, {"premises": pdf()}), 422)
