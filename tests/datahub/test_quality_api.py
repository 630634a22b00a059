# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""API /api/datahub/quality: rules, runs on demand (202), run detail with results, failed rows, scores per resource
and department; forbidden and invalid paths answer problem+json and write nothing."""

from __future__ import annotations

import pytest

from tests.datahub.world_quality import add_rules, execute, qworld  # noqa: F401
from yiwang.datahub.models import QualityRule, QualityRun

pytestmark = pytest.mark.django_db

BASE = "/api/datahub/quality"


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def _post(client, url, body=None, **extra):
    return client.post(url, body or {}, content_type="application/json", **extra)


def test_rules_written_and_read_by_the_provider(client, qworld):
    client.force_login(qworld.steward.account)
    url = f"{BASE}/resources/{qworld.elder.public_id}/rules"
    created = _post(client, url, {"kind": "invalid", "name": "性别代码", "column": "gender"})
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["element"] == "DE00003" and rule["kind_label"] and rule["resource"] == qworld.elder.code
    patched = client.patch(
        f"{BASE}/rules/{rule['id']}",
        {"options": {"max_percent": 10}, "weight": 3},
        content_type="application/json",
    )
    assert patched.status_code == 200 and patched.json()["options"] == {"max_percent": 10}
    assert patched.json()["weight"] == 3
    listed = client.get(url).json()
    assert [r["name"] for r in listed] == ["性别代码"]
    off = _post(client, f"{BASE}/rules/{rule['id']}/deactivate")
    assert off.status_code == 200 and off.json()["is_active"] is False


def test_run_now_results_and_failed_rows(
    client, qworld, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    add_rules(qworld)
    client.force_login(qworld.steward.account)
    with django_capture_on_commit_callbacks(execute=True):
        queued = _post(client, f"{BASE}/resources/{qworld.elder.public_id}/runs")
    assert queued.status_code == 202, queued.content
    assert queued.json()["status"] == "queued" and queued.json()["total_rules"] == 7
    run_id = queued.json()["id"]
    with django_assert_max_num_queries(10):
        detail = client.get(f"{BASE}/runs/{run_id}")
    body = detail.json()
    assert body["status"] == "failed" and body["done_rules"] == 7 and body["contract"].startswith("dataset:")
    failed = {r["rule_name"]: r for r in body["results"] if r["outcome"] == "failed"}
    assert set(failed) == {"姓名不得缺失", "身份证号校验位", "性别代码", "身份证号不重复"}
    assert all(r["objection"].startswith("JC") for r in failed.values())
    rows = client.get(
        f"{BASE}/runs/{run_id}/rules/{failed['身份证号校验位']['rule']}/failed-rows", {"limit": 1}
    )
    page = rows.json()
    assert page["failed_count"] == 2 and len(page["items"]) == 1 and page["next_cursor"]
    assert page["items"][0]["value_masked"].startswith("nnnn") and page["items"][0]["record_key"].startswith(
        "row-"
    )
    more = client.get(
        f"{BASE}/runs/{run_id}/rules/{failed['身份证号校验位']['rule']}/failed-rows",
        {"limit": 1, "cursor": page["next_cursor"]},
    ).json()
    assert len(more["items"]) == 1 and more["items"][0]["record_key"] != page["items"][0]["record_key"]
    with django_assert_max_num_queries(10):
        runs = client.get(f"{BASE}/runs", {"resource": str(qworld.elder.public_id)}).json()
    assert [r["id"] for r in runs["items"]] == [run_id]
    scores = client.get(f"{BASE}/scores").json()["items"]
    assert [s["resource"]["code"] for s in scores] == [qworld.elder.code]
    departments = client.get(f"{BASE}/departments").json()
    assert [d["code"] for d in departments] == ["MZJ"] and departments[0]["resources"] == 1
    assert client.get(f"{BASE}/resources").json()["items"][0]["rule_count"] == 7


def test_lists_keep_their_query_count(client, qworld, django_assert_max_num_queries):
    add_rules(qworld, [{"kind": "missing", "name": "姓名", "column": "name"}])
    add_rules(qworld, [{"kind": "row_count", "name": "记录数"}], resource=qworld.registry)
    for _ in range(3):
        execute(qworld.elder)
    execute(qworld.registry)
    client.force_login(qworld.centre.account)
    for url in ("/resources", "/runs", "/scores", "/departments"):
        with django_assert_max_num_queries(10):
            assert client.get(BASE + url).status_code == 200


def test_invalid_input_in_chinese_and_english_and_nothing_written(client, qworld):
    client.force_login(qworld.steward.account)
    url = f"{BASE}/resources/{qworld.elder.public_id}/rules"
    body = _problem(_post(client, url, {"kind": "missing", "name": "x", "column": "ghost"}), 422)
    assert "ghost" in {e["field"]: e["message"] for e in body["errors"]}["column"]
    body = _problem(
        _post(client, url, {"kind": "missing", "name": "", "column": ""}, HTTP_ACCEPT_LANGUAGE="en"), 422
    )
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert "name" in messages and not any("\u4e00" <= ch <= "\u9fff" for ch in messages["name"]), messages
    _problem(_post(client, url, {"kind": "row_count", "name": "x", "options": {"min": "many"}}), 422)
    _problem(_post(client, url, {"name": "x"}), 422)
    _problem(
        _post(client, url, {"kind": "invalid", "name": "x", "column": "name", "options": "not a dict"}), 422
    )
    _problem(_post(client, f"{BASE}/resources/{qworld.elder.public_id}/runs"), 422)  # no rule yet
    _problem(client.get(f"{BASE}/runs", {"cursor": "%%%"}), 422)
    _problem(client.get(f"{BASE}/runs/not-a-uuid"), 422)
    assert not QualityRule.objects.exists() and not QualityRun.objects.exists()


def test_forbidden_to_other_departments_clerks_citizens_and_anonymous(client, qworld):
    rule = add_rules(qworld, [{"kind": "missing", "name": "姓名", "column": "name"}])[0]
    run = execute(qworld.elder)
    urls = [
        f"{BASE}/resources/{qworld.elder.public_id}/rules",
        f"{BASE}/runs/{run.public_id}",
        f"{BASE}/runs/{run.public_id}/rules/{rule.public_id}/failed-rows",
    ]
    for url in urls:
        _problem(client.get(url), 401)
    client.force_login(qworld.citizen)
    for url in urls:
        _problem(client.get(url), 403)
    client.force_login(qworld.clerk.account)
    _problem(client.get(urls[0]), 403)
    client.force_login(qworld.other_steward.account)
    for url in urls:
        _problem(client.get(url), 404)
    _problem(_post(client, f"{BASE}/resources/{qworld.elder.public_id}/runs"), 404)
    _problem(_post(client, f"{BASE}/rules/{rule.public_id}/deactivate"), 404)
    assert client.get(f"{BASE}/scores").json()["items"] == []
    assert client.get(f"{BASE}/departments").json() == []
    # The sub-department's officer sees its parent's resource? No: the subtree goes down, not up.
    client.force_login(qworld.sub_steward.account)
    _problem(client.get(urls[0]), 404)
    # The centre sees and runs everything.
    client.force_login(qworld.centre.account)
    assert client.get(urls[1]).status_code == 200
    assert QualityRun.objects.count() == 1
