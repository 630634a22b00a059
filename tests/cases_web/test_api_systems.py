"""Registered systems work the staff side of the cases API with a client-credentials token: case.intake as a
window clerk of its department's district, case.approve as an approver and head of its own department."""

from __future__ import annotations

import json

import pytest

from tests.factories import DepartmentFactory, DivisionFactory, staff_with_roles
from yiwang.cases import services
from yiwang.cases.models import Case
from yiwang.core.principal import Principal
from yiwang.core.services.identity import registered_system_create

from .conftest import principal, submitted_case

pytestmark = pytest.mark.django_db

BASE = "/api/cases"


def token_for(client, department, *scopes: str, name: str = "业务系统") -> str:
    admin = Principal.for_account(staff_with_roles("district_admin").account)
    registered, secret = registered_system_create(
        actor=admin, name=name, department=department, scopes=list(scopes)
    )
    response = client.post(
        "/api/auth/token",
        {"grant_type": "client_credentials", "client_id": registered.client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def call(client, method: str, url: str, token: str, body: dict | None = None):
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(url, **kwargs)


def status_of(response, status: int) -> dict:
    assert response.status_code == status, response.content.decode()[:500]
    return response.json()


def test_intake_system_lists_its_inbox_and_accepts(client, item, citizen, window_department):
    case = submitted_case(item, citizen)
    token = token_for(client, window_department, "case.intake", name="不动产登记系统")
    listed = status_of(call(client, "get", BASE, token), 200)
    assert [c["id"] for c in listed["items"]] == [str(case.public_id)]
    actions = status_of(call(client, "get", f"{BASE}/{case.public_id}/actions", token), 200)
    assert {a["action"] for a in actions} == {"accept", "reject_intake"}
    accepted = status_of(
        call(
            client,
            "post",
            f"{BASE}/{case.public_id}/transitions",
            token,
            {"action": "accept", "opinion": "接口受理", "expected_version": case.lock_version},
        ),
        200,
    )
    assert accepted["state"] == "in_progress" and accepted["current_step"] == "review"
    status = Case.objects.get(pk=case.pk).history.get(action="accept")
    assert status.actor_label == "接入系统：不动产登记系统" and status.actor_staff is None
    timeline = status_of(call(client, "get", f"{BASE}/{case.public_id}/timeline", token), 200)
    assert timeline[-1]["actor"] == "接入系统：不动产登记系统"
    assert status_of(call(client, "get", BASE, token), 200)["items"] == []  # now the approver's
    status_of(call(client, "post", f"{BASE}/{case.public_id}/claim", token), 403)
    # The applicant sees who accepted it.
    client.force_login(citizen)
    mine = client.get(f"{BASE}/{case.public_id}/timeline").json()
    assert mine[-1]["actor"] == "接入系统：不动产登记系统"


def test_a_system_without_the_scope_gets_403(client, item, citizen, window_department):
    case = submitted_case(item, citizen)
    token = token_for(client, window_department, "division.view")
    status_of(call(client, "get", BASE, token), 403)
    status_of(call(client, "get", f"{BASE}/{case.public_id}", token), 403)
    status_of(call(client, "post", f"{BASE}/{case.public_id}/transitions", token, {"action": "accept"}), 403)
    assert Case.objects.get(pk=case.pk).state == Case.State.SUBMITTED


def test_systems_of_other_districts_and_departments_see_404(client, item, citizen, district):
    case = submitted_case(item, citizen)
    far = DepartmentFactory(division=DivisionFactory(code="440299", name="远方区"))
    other = DepartmentFactory(division=district)
    for token in (
        token_for(client, far, "case.intake", "case.approve"),
        token_for(client, other, "case.approve"),
    ):
        assert status_of(call(client, "get", BASE, token), 200)["items"] == []
        status_of(call(client, "get", f"{BASE}/{case.public_id}", token), 404)
        status_of(
            call(client, "post", f"{BASE}/{case.public_id}/transitions", token, {"action": "accept"}), 404
        )
    assert Case.objects.get(pk=case.pk).state == Case.State.SUBMITTED


def test_approve_system_decides_in_its_own_department_only(client, item, citizen, clerk, approver, district):
    case = submitted_case(item, citizen)
    token = token_for(client, item.department, "case.approve", name="审批系统")
    url = f"{BASE}/{case.public_id}/transitions"
    status_of(call(client, "post", url, token, {"action": "accept"}), 403)  # the window's step
    services.case_action_take(actor=principal(clerk), case=case, action="accept")
    services.case_action_take(actor=principal(approver), case=case, action="review", opinion="材料齐全")
    assert [c["id"] for c in status_of(call(client, "get", BASE, token), 200)["items"]] == [
        str(case.public_id)
    ]
    other = token_for(client, DepartmentFactory(division=district), "case.approve")
    status_of(call(client, "post", url, other, {"action": "approve", "opinion": "越权"}), 404)
    status_of(call(client, "post", url, token, {"action": "approve"}), 422)  # opinion required
    decided = status_of(call(client, "post", url, token, {"action": "approve", "opinion": "准予"}), 200)
    assert decided["decision"] == "approved" and decided["current_step"] == "delivery"
    assert Case.objects.get(pk=case.pk).history.get(action="approve").actor_label == "接入系统：审批系统"


def test_system_inbox_query_count_is_bounded_and_flat(client, item, citizen, window_department):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    submitted_case(item, citizen)
    token = token_for(client, window_department, "case.intake")

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            items = status_of(call(client, "get", BASE, token), 200)["items"]
        return len(items), len(ctx.captured_queries)

    queries()  # warm the calendar and process caches
    one = queries()
    for _ in range(5):
        submitted_case(item, citizen)
    queries()  # the catalogue stamp is unchanged, but warm anyway
    six = queries()
    assert one[0] == 1 and six[0] == 6
    assert six[1] == one[1] <= 8
