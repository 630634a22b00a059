"""/api/catalog: public search, guide detail (materials, form, process), themes; problem+json errors."""

from __future__ import annotations

import pytest

from tests.catalog.test_search import catalogue  # noqa: F401 — fixture
from yiwang.api import api
from yiwang.core.permissions import PUBLIC

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def test_every_catalog_operation_is_public():
    api.urls  # noqa: B018 — binds the routers
    operations = [
        op
        for prefix, router in api._routers
        if prefix.strip("/") == "catalog"
        for view in router.path_operations.values()
        for op in view.operations
        if "PUT"
        not in op.methods  # PUT …/instant-rules (秒批) needs catalog.manage: tests/instant/test_api.py
    ]
    assert len(operations) == 4
    assert all(op.view_func.yiwang_permission is PUBLIC and op.auth_callbacks == [] for op in operations)


def test_search_without_login(client, catalogue, django_assert_max_num_queries):  # noqa: F811
    with django_assert_max_num_queries(1):
        response = client.get("/api/catalog/items", {"q": "食品"})
    assert response.status_code == 200
    body = response.json()
    assert [i["code"] for i in body["items"]] == ["SCJ-XK-001", "SCJ-XK-002"]
    first = body["items"][0]
    assert first["department"] == {"code": "SCJ", "name": "示范区市场监督管理局"}
    assert (
        first["item_type_label"] == "行政许可"
        and first["online_depth"] == 3
        and first["committed_days"] == 10
    )
    assert "id" not in first and "pk" not in first
    assert (
        client.get("/api/catalog/items", {"q": "津贴", "target": "organisation"}).json()["items"][0]["code"]
        == "MZJ-GF-002"
    )
    assert [i["code"] for i in client.get("/api/catalog/items", {"theme": "yanglao"}).json()["items"]] == [
        "MZJ-GF-001"
    ]


def test_search_pages_with_cursor(client, catalogue):  # noqa: F811
    first = client.get("/api/catalog/items", {"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    second = client.get("/api/catalog/items", {"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [i["code"] for i in second["items"]] == ["SCJ-XK-001", "SCJ-XK-002"] and second[
        "next_cursor"
    ] is None


def test_search_bad_input_is_422(client, catalogue):  # noqa: F811
    response = client.get("/api/catalog/items", {"depth": 9})
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "depth"
    response = client.get("/api/catalog/items", {"q": "食品", "cursor": "bad!"})
    assert response.status_code == 422
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [
        ("cursor", "分页游标无效，请从第一页重新开始。")
    ]
    assert client.get("/api/catalog/items", {"target": "martians"}).status_code == 422


def test_item_detail(client, catalogue):  # noqa: F811
    response = client.get("/api/catalog/items/scj-xk-001")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "SCJ-XK-001" and body["version"] == 1
    assert body["themes"] == [{"code": "jyxk", "name": "经营许可"}]
    assert body["materials"][0]["code"] == "jmsfz" and body["materials"][0]["source_label"] == "电子证照"
    assert body["materials"][1]["tolerant"] is True
    assert body["form"]["schema"]["type"] == "object"
    fields = {f["name"]: f for f in body["fields"]}
    assert (
        fields["org_name"]["prefill"] == "organisation.name"
        and fields["org_name"]["prefill_label"] == "来自法人基础库"
    )
    assert fields["online_platform"]["show_if"] == {"field": "online_sales", "equals": True}
    assert fields["business_category"]["options"][0] == {"value": "食品销售经营者", "label": "食品销售经营者"}
    assert [s["code"] for s in body["process"]["steps"]] == [
        "intake",
        "review",
        "inspection",
        "decision",
        "delivery",
    ]
    assert body["process"]["transitions"][0] == {
        "from": "intake",
        "action": "accept",
        "to": "review",
        "label": "受理",
        "opinion": "optional",
        "opinion_public": True,
        "attachments": False,
    }


def test_unknown_or_suspended_item_is_404_problem(client, catalogue):  # noqa: F811
    from yiwang.catalog import services

    response = client.get("/api/catalog/items/NOPE-000")
    assert response.status_code == 404 and response["Content-Type"] == PROBLEM
    assert response.json()["title"] == "未找到"
    services.item_suspend(actor=None, item=catalogue["food"])
    assert client.get("/api/catalog/items/SCJ-XK-001").status_code == 404


def test_themes(client, catalogue):  # noqa: F811
    body = client.get("/api/catalog/themes").json()
    assert body == [
        {"code": "yanglao", "name": "养老", "audience": "person", "item_count": 1},
        {"code": "jyxk", "name": "经营许可", "audience": "organisation", "item_count": 2},
    ]
    assert [t["code"] for t in client.get("/api/catalog/themes", {"audience": "organisation"}).json()] == [
        "jyxk"
    ]


def test_openapi_describes_catalog(client):
    document = client.get("/api/openapi.json").json()
    assert "/api/catalog/items" in document["paths"] and "/api/catalog/items/{code}" in document["paths"]
