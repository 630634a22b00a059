"""/api/org: divisions, grid maps, point-in-grid lookup, departments, staff directory."""

from __future__ import annotations

import pytest

from tests.core.test_org_services import LAT, LON, make_tree
from tests.core.test_registry_api import assert_no_integer_ids
from tests.factories import AccountFactory, DepartmentFactory, staff_with_roles
from yiwang.core import geo
from yiwang.core.services import org as services

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
# Per request: session, account, staff, roles, and the session save (savepoint, update, release).
REQUEST_OVERHEAD = 7


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_index():
    geo.grid_index_reset()
    yield
    geo.grid_index_reset()


@pytest.fixture
def tree():
    return make_tree()


@pytest.fixture
def clerk_client(client):
    client.force_login(staff_with_roles("window_clerk").account)
    return client


def test_division_list_pages_with_bounded_queries(clerk_client, tree, django_assert_max_num_queries):
    with django_assert_max_num_queries(REQUEST_OVERHEAD + 1):
        response = clerk_client.get("/api/org/divisions", {"level": 4, "limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert [d["code"] for d in body["items"]] == ["440199001001001", "440199001001002"]
    first = body["items"][0]
    assert first["parent_code"] == "440199001001" and first["level_label"] == "网格"
    assert first["bbox"] == pytest.approx([LON, LAT, LON + 0.01, LAT + 0.01])
    assert_no_integer_ids(body)
    response = clerk_client.get("/api/org/divisions", {"level": 4, "cursor": body["next_cursor"]})
    assert [d["code"] for d in response.json()["items"]] == ["440199001002001"]
    assert response.json()["next_cursor"] is None
    response = clerk_client.get("/api/org/divisions", {"parent": "440199001"})
    assert [(d["code"], d["child_count"]) for d in response.json()["items"]] == [
        ("440199001001", 2),
        ("440199001002", 1),
    ]
    top = clerk_client.get("/api/org/divisions").json()["items"]
    assert [d["code"] for d in top] == ["440199"]


def test_division_list_bad_input_is_422(clerk_client, tree):
    response = clerk_client.get("/api/org/divisions", {"level": 9})
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "level"
    response = clerk_client.get("/api/org/divisions", {"cursor": "!!!"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "分页游标无效，请从第一页重新开始。"


def test_division_detail(clerk_client, tree):
    response = clerk_client.get(f"/api/org/divisions/{tree.g1.code}")
    assert response.status_code == 200
    body = response.json()
    assert body["geometry"]["type"] == "Polygon"
    assert [p["code"] for p in body["path"]] == ["440199", "440199001", "440199001001", "440199001001001"]
    assert clerk_client.get("/api/org/divisions/000000").status_code == 404


def test_grids_geojson(clerk_client, tree, django_assert_max_num_queries):
    services.staff_create(
        actor=None,
        department=DepartmentFactory(),
        username="gw",
        name="网格员乙",
        employee_no="GW2",
        roles=["grid_worker"],
        grid=tree.g2,
    )
    with django_assert_max_num_queries(REQUEST_OVERHEAD + 3):
        response = clerk_client.get(f"/api/org/divisions/{tree.town.code}/grids.geojson")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 3
    by_code = {f["id"]: f["properties"] for f in body["features"]}
    assert [w["name"] for w in by_code[tree.g2.code]["workers"]] == ["网格员乙"]
    assert clerk_client.get(f"/api/org/divisions/{tree.district.code}/grids.geojson").status_code == 422
    assert clerk_client.get("/api/org/divisions/440199999/grids.geojson").status_code == 404


def test_grid_lookup(clerk_client, tree):
    response = clerk_client.get("/api/org/grids/lookup", {"lon": LON + 0.015, "lat": LAT + 0.005})
    assert response.status_code == 200
    assert response.json() == {
        "code": tree.g2.code,
        "name": "东二网格",
        "village_code": tree.v1.code,
        "village_name": "东社区",
    }
    assert clerk_client.get("/api/org/grids/lookup", {"lon": 0, "lat": 0}).status_code == 404
    response = clerk_client.get("/api/org/grids/lookup", {"lon": 200, "lat": 23})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "lon"


def test_org_api_requires_login_and_permission(client, tree):
    for url in (
        "/api/org/divisions",
        "/api/org/departments",
        "/api/org/staff",
        "/api/org/grids/lookup?lon=1&lat=1",
    ):
        response = client.get(url)
        assert response.status_code == 401 and response["Content-Type"] == PROBLEM, url
    client.force_login(AccountFactory(citizen=True))
    for url in (
        "/api/org/divisions",
        "/api/org/departments",
        "/api/org/staff",
        "/api/org/grids/lookup?lon=1&lat=1",
    ):
        response = client.get(url)
        assert response.status_code == 403 and response["Content-Type"] == PROBLEM, url


def test_department_list(clerk_client, django_assert_max_num_queries):
    parent = DepartmentFactory()
    for _ in range(5):
        DepartmentFactory(parent=parent)
    with django_assert_max_num_queries(REQUEST_OVERHEAD + 1):
        response = clerk_client.get("/api/org/departments", {"parent": parent.code})
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 5 and {d["parent_code"] for d in items} == {parent.code}
    assert_no_integer_ids(response.json())


def test_staff_list_scoped_and_without_n_plus_one(client, django_assert_max_num_queries):
    dept = DepartmentFactory()
    for _ in range(6):
        staff_with_roles("window_clerk", "approver", department=dept)
    admin = staff_with_roles("district_admin")
    client.force_login(admin.account)
    # Overhead + the page + the roles prefetch, however many staff are listed.
    with django_assert_max_num_queries(REQUEST_OVERHEAD + 2):
        response = client.get("/api/org/staff")
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 7
    assert {tuple(s["roles"]) for s in items} == {("approver", "window_clerk"), ("district_admin",)}
    assert_no_integer_ids(response.json())
    clerk = staff_with_roles("window_clerk", department=dept)
    client.force_login(clerk.account)
    items = client.get("/api/org/staff").json()["items"]
    assert [s["employee_no"] for s in items] == [clerk.employee_no]
