"""The 秒批 API: public read of an item's active rules, PUT (CATALOG_MANAGE) makes a new version with 422 field
errors for bad rules and 401/403 for the wrong caller; the case API carries the instant decision."""

from __future__ import annotations

import json

import pytest

from tests.cases.factories import GOOD_FORM, World, required_files
from yiwang.cases import services
from yiwang.catalog.models import InstantRuleSet
from yiwang.core.apiutils import PROBLEM_CONTENT_TYPE
from yiwang.core.models import AuditEntry

from .conftest import RULES

pytestmark = pytest.mark.django_db


def url(code: str) -> str:
    return f"/api/catalog/items/{code}/instant-rules"


def put(client, code, body):
    return client.put(url(code), data=json.dumps(body, ensure_ascii=False), content_type="application/json")


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content.decode()[:500]
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
    return response.json()


def test_public_read_of_the_active_rules(client, world, rules):
    response = client.get(url(world.item.code.lower()))
    assert response.status_code == 200
    body = response.json()
    assert (body["item_code"], body["active"], body["version"]) == (world.item.code, True, 1)
    assert body["rules"][0] == {
        "code": "age",
        "name": "年满18周岁",
        "expr": "applicant_age >= 18",
        "message": "申请人未满18周岁",
    }


def test_an_item_without_rules_and_an_unknown_item(client, world):
    body = client.get(url(world.item.code)).json()
    assert (body["active"], body["version"], body["rules"]) == (False, None, [])
    problem(client.get(url("NO-SUCH-001")), 404)


def test_put_saves_a_new_version(client, world, rules):
    client.force_login(world.head.account)
    response = put(client, world.item.code, {"rules": RULES[:2], "note": "只保留两条"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["version"], body["active"], len(body["rules"])) == (2, True, 2)
    assert list(InstantRuleSet.objects.order_by("version").values_list("version", "is_active")) == [
        (1, False),
        (2, True),
    ]
    entry = AuditEntry.objects.filter(action="instant_rules.save").latest("seq")
    assert entry.after["note"] == "只保留两条" and entry.actor_account


def test_put_with_bearer_token(client, world):
    from yiwang.core.services.identity import api_token_issue_for_account

    token = api_token_issue_for_account(account=world.head.account).token
    response = client.put(
        url(world.item.code),
        data=json.dumps({"rules": RULES}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200 and response.json()["version"] == 1


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("applicant_agee >= 18", "未知字段"),
        ('applicant_age > "x"', "类型不匹配"),
        ("applicant_age >", "语法错误"),
        ("applicant_age", "须为判断"),
    ],
)
def test_put_bad_rules_is_422_with_field_errors(client, world, expr, fragment):
    client.force_login(world.head.account)
    body = problem(
        put(client, world.item.code, {"rules": [{"code": "r", "name": "规则", "expr": expr}]}), 422
    )
    assert body["errors"][0]["field"] == "rules"
    assert fragment in body["errors"][0]["message"] and "第 1 条规则" in body["errors"][0]["message"]
    assert not InstantRuleSet.objects.exists()


def test_put_schema_errors_are_422_too(client, world):
    client.force_login(world.head.account)
    body = problem(put(client, world.item.code, {"rules": [{"code": "r", "name": "规则"}]}), 422)
    assert any(e["field"].endswith("expr") for e in body["errors"])


def test_put_forbidden_and_unauthenticated(client, world):
    problem(put(client, world.item.code, {"rules": RULES}), 401)
    client.force_login(world.citizen)
    problem(put(client, world.item.code, {"rules": RULES}), 403)
    client.force_login(world.other_head.account)  # holds CATALOG_MANAGE, but not for this department
    body = problem(put(client, world.item.code, {"rules": RULES}), 403)
    assert "部门" in body["detail"]
    client.force_login(world.head.account)
    problem(put(client, "NO-SUCH-001", {"rules": RULES}), 404)
    assert not InstantRuleSet.objects.exists()


def test_case_api_carries_the_instant_decision(client, world, rules):
    case = services.case_submit(
        actor=World.p(world.citizen),
        item=world.item,
        form_data=dict(GOOD_FORM),
        files=required_files(),
        idempotency_key="api-1",
    )
    client.force_login(world.citizen)
    body = client.get(f"/api/cases/{case.public_id}").json()
    assert body["state"] == "approved"
    decision = body["instant_decision"]
    assert (decision["outcome"], decision["ruleset_version"]) == ("approved", 1)
    assert [r["code"] for r in decision["results"]] == ["age", "local", "alive", "staff", "first"]
    assert all(r["passed"] for r in decision["results"])
    # staff of the department see the same; another applicant does not see the case at all
    client.force_login(world.approver.account)
    staff_body = client.get(f"/api/cases/{case.public_id}").json()
    assert staff_body["instant_decision"]["results"] == decision["results"]
    client.force_login(world.other_citizen)
    problem(client.get(f"/api/cases/{case.public_id}"), 404)


def test_submit_through_the_api_answers_with_the_decision(client, world, rules):
    world.item.materials.filter(required=True, source="upload").update(tolerant=True)
    client.force_login(world.citizen)
    response = client.post(
        "/api/cases",
        data=json.dumps(
            {
                "item_code": world.item.code,
                "form_data": {**GOOD_FORM, "staff_count": 30},
                "idempotency_key": "a" * 12,
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "submitted"
    assert body["instant_decision"]["outcome"] == "manual"
    failed = [r for r in body["instant_decision"]["results"] if not r["passed"]]
    assert [(r["code"], r["message"]) for r in failed] == [("staff", "从业人数超过10人")]


def test_case_without_rules_has_no_decision(client, world):
    case = services.case_submit(
        actor=World.p(world.citizen),
        item=world.item,
        form_data=dict(GOOD_FORM),
        files=required_files(),
        idempotency_key="api-none",
    )
    client.force_login(world.citizen)
    assert client.get(f"/api/cases/{case.public_id}").json()["instant_decision"] is None
