"""Pages and API of 免申即享: the applicant's list and actions, the data officers' statistics; forbidden paths
(another person's entitlement 404, a citizen on the policy pages 403), invalid input 422, query counts."""

from __future__ import annotations

import pytest

from yiwang.cases.models import Case, Entitlement
from yiwang.cases.proactive.services import policy_evaluate

pytestmark = pytest.mark.django_db
S = Entitlement.Status


@pytest.fixture
def evaluated(registry, policy, clock):
    for n in range(6):
        registry.person(80 + n, name=f"李四{n}号")
    clock.set(2026, 3, 2, 10)
    policy_evaluate(policy=policy, full=True)
    return Entitlement.objects.get(policy=policy, person=registry.citizen.person)


def test_entitlements_page_shows_why_and_confirm_concludes(client, registry, evaluated):
    client.force_login(registry.citizen)
    page = client.get("/cases/entitlements/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "高龄津贴" in html and "年满80周岁" in html and "确认享受" in html
    response = client.post(f"/cases/entitlements/{evaluated.public_id}/confirm/", follow=True)
    html = response.content.decode()
    evaluated.refresh_from_db()
    assert evaluated.status == S.GRANTED
    assert "已为您办结" in html and evaluated.case.number in html
    assert f"/cases/{evaluated.case.public_id}/" in html


def test_decline_page_requires_a_reason(client, registry, evaluated):
    client.force_login(registry.citizen)
    response = client.post(f"/cases/entitlements/{evaluated.public_id}/decline/", {"reason": ""}, follow=True)
    assert "请说明放弃的原因" in response.content.decode()
    client.post(f"/cases/entitlements/{evaluated.public_id}/decline/", {"reason": "暂不需要"})
    evaluated.refresh_from_db()
    assert evaluated.status == S.DECLINED


def test_another_persons_entitlement_is_404_on_pages_and_api(client, registry, evaluated):
    client.force_login(registry.other_citizen)
    assert client.post(f"/cases/entitlements/{evaluated.public_id}/confirm/").status_code == 404
    response = client.post(f"/api/proactive/entitlements/{evaluated.public_id}/confirm")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert client.get("/api/proactive/mine").json()["items"] == []
    evaluated.refresh_from_db()
    assert evaluated.status == S.NOTIFIED


def test_citizen_may_not_see_policy_statistics(client, registry, evaluated):
    client.force_login(registry.citizen)
    assert client.get("/cases/policies/").status_code == 403
    assert client.get("/cases/policies/gaoling/").status_code == 403
    assert client.get("/api/proactive/policies").status_code == 403
    assert (
        client.post(
            "/api/proactive/policies/gaoling/evaluate", {"full": True}, "application/json"
        ).status_code
        == 403
    )


def test_anonymous_is_401_on_the_api_and_sent_to_login_on_pages(client, evaluated):
    assert client.get("/api/proactive/mine").status_code == 401
    assert client.get("/cases/entitlements/").status_code == 302


def test_api_mine_confirm_twice_and_decline_validation(client, registry, evaluated):
    client.force_login(registry.citizen)
    mine = client.get("/api/proactive/mine").json()["items"]
    assert [m["status"] for m in mine] == ["notified"]
    assert [r["name"] for r in mine[0]["rules"]] == ["年满80周岁", "本区户籍", "未登记死亡"]
    bad = client.post(
        f"/api/proactive/entitlements/{evaluated.public_id}/decline", {"reason": ""}, "application/json"
    )
    assert bad.status_code == 422
    first = client.post(f"/api/proactive/entitlements/{evaluated.public_id}/confirm")
    assert first.status_code == 200 and first.json()["status"] == "granted" and first.json()["case_number"]
    again = client.post(f"/api/proactive/entitlements/{evaluated.public_id}/confirm")
    assert again.status_code == 422
    assert Case.objects.filter(channel=Case.Channel.PROACTIVE).count() == 1


def test_data_officer_sees_stats_reasons_and_masked_names(
    client, registry, evaluated, django_assert_max_num_queries
):
    client.force_login(registry.officer.account)
    with django_assert_max_num_queries(12):
        listing = client.get("/api/proactive/policies")
    stats = listing.json()
    assert stats[0]["code"] == "gaoling" and stats[0]["notified"] == 7 and stats[0]["eligible_total"] == 7
    assert stats[0]["runs"][0]["kind"] == "full"
    detail = client.get("/api/proactive/policies/gaoling").json()
    assert {r["code"]: r["count"] for r in detail["reasons"]} == {"age80": 2}
    assert detail["reasons"][0]["name"] == "年满80周岁"
    with django_assert_max_num_queries(14):
        page = client.get("/cases/policies/")
    assert page.status_code == 200 and "高龄津贴" in page.content.decode()
    with django_assert_max_num_queries(16):
        page = client.get("/cases/policies/gaoling/?status=notified")
    html = page.content.decode()
    assert "李**号" in html and "李四0号" not in html and "张*山" in html
    assert "年满80周岁" in html
    assert client.get("/cases/policies/nope/").status_code == 404


def test_evaluate_is_queued(client, registry, evaluated, django_capture_on_commit_callbacks):
    client.force_login(registry.officer.account)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/api/proactive/policies/gaoling/evaluate", {"full": False}, "application/json"
        )
    assert response.status_code == 202 and response.json() == {
        "queued": True,
        "policy": "gaoling",
        "full": False,
    }
    assert len(callbacks) == 1
    bad = client.post("/api/proactive/policies/gaoling/evaluate", {"full": "maybe"}, "application/json")
    assert bad.status_code == 422
    page = client.post("/cases/policies/gaoling/evaluate/", {"full": "1"}, follow=True)
    assert "已提交全量评估" in page.content.decode()


def test_mine_list_query_count(client, registry, clock, django_assert_max_num_queries):
    from .conftest import make_policy

    for n in range(4):
        make_policy(code=f"p{n}")
    clock.set(2026, 3, 2, 10)
    from yiwang.catalog.models import ProactivePolicy

    for p in ProactivePolicy.objects.all():
        policy_evaluate(policy=p, full=True)
    client.force_login(registry.citizen)
    with django_assert_max_num_queries(10):
        page = client.get("/cases/entitlements/")
    assert page.content.decode().count("确认享受") == 4
    with django_assert_max_num_queries(8):
        assert len(client.get("/api/proactive/mine").json()["items"]) == 4
