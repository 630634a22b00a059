"""The cases API: submit, status, timeline, transitions, supply, withdraw — and every error as problem+json."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.factories import AccountFactory
from yiwang.api import api
from yiwang.cases import services
from yiwang.cases.models import Case
from yiwang.core.apiutils import PROBLEM_CONTENT_TYPE
from yiwang.core.permissions import Permission

from .conftest import pdf, principal, submitted_case

pytestmark = pytest.mark.django_db

BASE = "/api/cases"


def post_json(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.content.decode()[:500]
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
    body = response.json()
    assert body["status"] == status and body["title"]
    return body


def submit_body(account, **form) -> dict:
    person = account.person
    return {
        "item_code": "TEST-XK-001",
        "idempotency_key": uuid.uuid4().hex,
        "form_data": {
            "applicant_name": person.name,
            "id_number": person.id_number,
            "phone": "13800138000",
            "reason": "接口申请",
            **form,
        },
    }


@pytest.fixture
def lenient_item(department):
    """An item whose only required upload is tolerant: the API can file without files."""
    from .conftest import make_item

    item = make_item(department, code="TEST-API-001")
    item.materials.filter(code="application").update(tolerant=True)
    return item


# --- declared permissions and documented errors ------------------------------------------------------------------
def _case_operations():
    api.urls  # noqa: B018
    for prefix, router in api._routers:
        if prefix.strip("/") != "cases":
            continue
        for path, path_view in router.path_operations.items():
            for op in path_view.operations:
                yield path, op


def test_every_operation_declares_a_permission_and_documents_its_errors():
    ops = list(_case_operations())
    assert len(ops) >= 9
    for path, op in ops:
        assert isinstance(getattr(op.view_func, "yiwang_permission", None), Permission), path
        codes = set(op.response_models)
        assert {401, 403, 404, 422} <= codes, (path, codes)
        if "POST" in op.methods and "transitions" in path:
            assert 409 in codes


def test_openapi_describes_the_problem_schema(client):
    spec = client.get("/api/openapi.json").json()
    post = spec["paths"]["/api/cases/{case_id}/transitions"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(post["responses"])
    problem = post["responses"]["409"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}  # one problem+json schema for every error


def test_anonymous_gets_401(client, item):
    problem_of(client.get(BASE), 401)
    problem_of(post_json(client, BASE, {"item_code": item.code}), 401)


# --- submit ------------------------------------------------------------------------------------------------------
def test_submit_is_idempotent_and_then_readable(client, lenient_item, citizen):
    client.force_login(citizen)
    body = submit_body(citizen)
    body["item_code"] = lenient_item.code
    first = post_json(client, BASE, body)
    assert first.status_code == 201, first.content
    again = post_json(client, BASE, body)
    assert again.json()["id"] == first.json()["id"]
    assert Case.objects.filter(applicant_account=citizen).count() == 1
    data = first.json()
    assert data["state"] == "submitted" and data["number"].startswith("SCJ-") and data["due_date"]
    assert data["item_code"] == lenient_item.code and data["current_step"] == "intake"
    detail = client.get(f"{BASE}/{data['id']}").json()
    assert detail["version"] == data["version"]
    timeline = client.get(f"{BASE}/{data['id']}/timeline").json()
    assert [e["action"] for e in timeline] == ["submit"]
    listed = client.get(BASE).json()
    assert [c["id"] for c in listed["items"]] == [data["id"]]


def test_submit_errors_are_422_field_errors(client, item, citizen):
    client.force_login(citizen)
    body = submit_body(citizen, phone="123", reason="")
    body["form_data"].pop("reason")
    problem = problem_of(post_json(client, BASE, body), 422)
    fields = {e["field"]: e["message"] for e in problem["errors"]}
    assert fields["reason"] == "此项为必填项。"
    assert "phone" in fields
    assert "material_application" in fields  # a required, non-tolerant upload
    problem = problem_of(post_json(client, BASE, {"item_code": item.code, "idempotency_key": "x"}), 422)
    assert problem["errors"][0]["field"] == "idempotency_key"
    assert not Case.objects.exists()


def test_submit_unknown_item_is_404_and_staff_get_403(client, item, citizen, clerk):
    client.force_login(citizen)
    body = submit_body(citizen)
    body["item_code"] = "NOPE-001"
    problem_of(post_json(client, BASE, body), 404)
    client.force_login(clerk.account)
    problem_of(post_json(client, BASE, submit_body(citizen)), 403)


def test_draft_then_submit(client, lenient_item, citizen):
    client.force_login(citizen)
    draft = post_json(
        client, f"{BASE}/drafts", {"item_code": lenient_item.code, "form_data": {"reason": "草稿"}}
    )
    assert draft.status_code == 201 and draft.json()["state"] == "draft" and draft.json()["number"] is None
    body = submit_body(citizen)
    body["item_code"] = lenient_item.code
    body["draft_id"] = draft.json()["id"]
    submitted = post_json(client, BASE, body)
    assert submitted.status_code == 201 and submitted.json()["id"] == draft.json()["id"]


# --- visibility ----------------------------------------------------------------------------------------------------
def test_other_peoples_cases_are_404(client, item, citizen, other_citizen, far_clerk, other_approver):
    case = submitted_case(item, citizen)
    for account in (other_citizen, far_clerk.account, other_approver.account):
        client.force_login(account)
        problem_of(client.get(f"{BASE}/{case.public_id}"), 404)
        problem_of(client.get(f"{BASE}/{case.public_id}/timeline"), 404)
    client.force_login(other_citizen)
    assert client.get(BASE).json()["items"] == []
    problem_of(post_json(client, f"{BASE}/{case.public_id}/withdraw", {"reason": "x"}), 404)


def test_staff_list_is_their_inbox(client, item, citizen, clerk, approver):
    case = submitted_case(item, citizen)
    client.force_login(clerk.account)
    assert [c["id"] for c in client.get(BASE).json()["items"]] == [str(case.public_id)]
    client.force_login(approver.account)
    assert client.get(BASE).json()["items"] == []
    problem_of(client.get(BASE, {"state": "approved"}), 422)


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_query_counts_are_bounded_and_flat(client, item, citizen, clerk, django_assert_max_num_queries):
    submitted_case(item, citizen)
    client.force_login(citizen)
    _queries(client, BASE)
    one_mine = _queries(client, BASE)
    client.force_login(clerk.account)
    _queries(client, BASE)  # warm the calendar and process caches
    one_inbox = _queries(client, BASE)
    for _ in range(5):
        submitted_case(item, citizen)
    client.force_login(citizen)
    _queries(client, BASE)  # a fresh session's first request writes it
    with django_assert_max_num_queries(6):
        assert len(client.get(BASE).json()["items"]) == 6
    assert _queries(client, BASE) == one_mine
    client.force_login(clerk.account)
    _queries(client, BASE)
    with django_assert_max_num_queries(10):
        assert len(client.get(BASE).json()["items"]) == 6
    assert _queries(client, BASE) == one_inbox


# --- transitions -----------------------------------------------------------------------------------------------------
def test_transition_409_on_stale_version_and_on_illegal_action(client, item, citizen, clerk):
    case = submitted_case(item, citizen)
    client.force_login(clerk.account)
    url = f"{BASE}/{case.public_id}/transitions"
    problem = problem_of(post_json(client, url, {"action": "approve", "opinion": "越级"}), 409)
    assert problem["detail"]
    ok = post_json(client, url, {"action": "accept", "expected_version": case.lock_version})
    assert (
        ok.status_code == 200
        and ok.json()["current_step"] == "review"
        and ok.json()["state"] == "in_progress"
    )
    problem_of(post_json(client, url, {"action": "accept", "expected_version": case.lock_version}), 409)


def test_transition_403_for_applicants_and_422_for_missing_opinion(client, item, citizen, clerk, approver):
    case = submitted_case(item, citizen)
    client.force_login(citizen)
    problem_of(post_json(client, f"{BASE}/{case.public_id}/transitions", {"action": "accept"}), 403)
    services.case_action_take(actor=principal(clerk), case=case, action="accept")
    client.force_login(approver.account)
    problem = problem_of(post_json(client, f"{BASE}/{case.public_id}/transitions", {"action": "review"}), 422)
    assert problem["errors"][0]["field"] == "opinion"
    problem = problem_of(post_json(client, f"{BASE}/{case.public_id}/transitions", {"opinion": "x"}), 422)
    assert problem["errors"][0]["field"] == "action"


def test_wrong_role_in_the_right_department_is_403(client, item, citizen, clerk, head):
    case = submitted_case(item, citizen)
    services.case_action_take(actor=principal(clerk), case=case, action="accept")
    client.force_login(head.account)  # review is the approver's step
    problem_of(
        post_json(client, f"{BASE}/{case.public_id}/transitions", {"action": "review", "opinion": "x"}), 403
    )


def test_actions_endpoint_lists_what_the_caller_may_do(client, item, citizen, clerk):
    case = submitted_case(item, citizen)
    client.force_login(clerk.account)
    actions = {a["action"]: a for a in client.get(f"{BASE}/{case.public_id}/actions").json()}
    assert set(actions) == {"accept", "reject_intake", "request_supplement"}
    assert actions["reject_intake"]["opinion"] == "required"
    client.force_login(citizen)
    assert [a["action"] for a in client.get(f"{BASE}/{case.public_id}/actions").json()] == ["withdraw"]


# --- applicant actions ---------------------------------------------------------------------------------------------
def test_supply_and_withdraw_over_the_api(client, item, citizen, clerk):
    case = submitted_case(item, citizen)
    services.case_action_take(
        actor=principal(clerk),
        case=case,
        action="request_supplement",
        opinion="缺收入证明",
        supplement_items=[{"material": "proof", "note": ""}],
    )
    client.force_login(citizen)
    url = f"{BASE}/{case.public_id}/supply"
    problem = problem_of(client.post(url, {"note": "先说明"}), 422)
    assert problem["errors"][0]["field"] == "material_proof"
    response = client.post(url, {"note": "补交", "proof": pdf("收入证明.pdf")})
    assert response.status_code == 200 and response.json()["state"] == "submitted"
    timeline = client.get(f"{BASE}/{case.public_id}/timeline").json()
    assert [e["action"] for e in timeline] == ["submit", "request_supplement", "supply"]
    problem_of(post_json(client, f"{BASE}/{case.public_id}/withdraw", {"reason": ""}), 422)
    response = post_json(client, f"{BASE}/{case.public_id}/withdraw", {"reason": "不办了"})
    assert response.status_code == 200 and response.json()["state"] == "withdrawn"
    problem_of(post_json(client, f"{BASE}/{case.public_id}/withdraw", {"reason": "再撤"}), 422)


def test_bearer_token_works_too(client, lenient_item, settings):
    from yiwang.core.services.identity import api_token_issue_for_password

    account = AccountFactory(citizen=True)
    issued = api_token_issue_for_password(username=account.username, password="Test-Passw0rd-2026")
    token = issued.token
    body = submit_body(account)
    body["item_code"] = lenient_item.code
    response = client.post(
        BASE, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 201, response.content
