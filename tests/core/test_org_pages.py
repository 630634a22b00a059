"""The division browser page and the organisation admin (writes through the services, audited)."""

from __future__ import annotations

import json

import pytest
from django.urls import NoReverseMatch, reverse

from tests.core.test_org_services import LAT, LON, make_tree, square
from tests.factories import AccountFactory, DepartmentFactory, staff_with_roles
from yiwang.core.models import Account, AuditEntry, Division, Staff
from yiwang.core.services import org as services
from yiwang.core.validators import make_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def tree():
    return make_tree()


def test_org_browser_top_level(client, tree):
    client.force_login(staff_with_roles("window_clerk").account)
    response = client.get(reverse("core:org"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "示范区" in html and "440199" in html and "grid-map" not in html


def test_org_browser_town_shows_breadcrumb_children_and_map(client, tree):
    services.staff_create(
        actor=None,
        department=DepartmentFactory(),
        username="gw3",
        name="网格员丙",
        employee_no="GW3",
        roles=["grid_worker"],
        grid=tree.g1,
    )
    client.force_login(staff_with_roles("grid_worker").account)
    response = client.get(reverse("core:org"), {"code": tree.town.code})
    assert response.status_code == 200
    html = response.content.decode()
    assert [d.code for d in response.context["path"]] == ["440199", "440199001"]
    assert "东社区" in html and "西社区" in html
    assert (
        'id="grid-map"' in html and "echarts.registerMap" in html and "vendor/echarts/echarts.min.js" in html
    )
    geojson = response.context["grids"]
    assert len(geojson["features"]) == 3
    # The GeoJSON is embedded with json_script, worker names included for the click panel.
    assert 'id="grid-geojson"' in html and "网格员丙" in json.dumps(geojson, ensure_ascii=False)


def test_org_browser_grid_highlights_it_on_its_village_map(client, tree):
    client.force_login(staff_with_roles("window_clerk").account)
    response = client.get(reverse("core:org"), {"code": tree.g3.code})
    assert response.status_code == 200
    assert response.context["map_division"] == tree.v2
    assert response.context["selected_grid"]["grid_name"] == "西一网格"


def test_org_browser_unknown_code_404_and_bad_cursor_recovers(client, tree):
    client.force_login(staff_with_roles("window_clerk").account)
    assert client.get(reverse("core:org"), {"code": "123"}).status_code == 404
    response = client.get(reverse("core:org"), {"cursor": "%%%"})
    assert response.status_code == 200 and "分页游标无效" in response.content.decode()


def test_org_browser_forbidden_for_citizen(client, tree):
    client.force_login(AccountFactory(citizen=True))
    assert client.get(reverse("core:org")).status_code == 403


def test_org_browser_needs_login(client):
    try:
        reverse("core:login")
    except NoReverseMatch:
        pytest.skip("the login page is not mounted yet")
    response = client.get(reverse("core:org"))
    assert response.status_code == 302 and reverse("core:login") in response["Location"]


# --- admin ---------------------------------------------------------------------------------------------
@pytest.fixture
def admin_client(client):
    client.force_login(AccountFactory(username="root", is_superuser=True, is_staff=True))
    return client


def test_admin_division_add_goes_through_the_service(admin_client, tree):
    url = reverse("admin:core_division_add")
    assert admin_client.get(url).status_code == 200
    data = {
        "code": "440199001001003",
        "name": "东三网格",
        "level": 4,
        "parent": tree.v1.pk,
        "geometry": json.dumps(square(LON, LAT - 0.01)),
        "is_active": "on",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    grid = Division.objects.get(code="440199001001003")
    assert grid.min_lat == pytest.approx(LAT - 0.01)
    entry = AuditEntry.objects.get(action="division.create", object_id=grid.code)
    assert entry.actor_account == "root"


def test_admin_division_rejects_overlap_with_a_field_error(admin_client, tree):
    data = {
        "code": "440199001001004",
        "name": "重叠网格",
        "level": 4,
        "parent": tree.v1.pk,
        "geometry": json.dumps(square(LON + 0.005, LAT)),
        "is_active": "on",
    }
    response = admin_client.post(reverse("admin:core_division_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "东一网格" in errors["geometry"][0]
    assert not Division.objects.filter(code="440199001001004").exists()


def test_admin_division_change_and_lists(admin_client, tree):
    url = reverse("admin:core_division_change", args=[tree.g1.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url, {"name": "东一网格（新）", "geometry": json.dumps(tree.g1.geometry), "is_active": "on"}
    )
    assert response.status_code == 302
    tree.g1.refresh_from_db()
    assert tree.g1.name == "东一网格（新）" and tree.g1.code == "440199001001001"
    assert AuditEntry.objects.filter(action="division.update").count() == 1
    listing = admin_client.get(reverse("admin:core_division_changelist"), {"level__exact": 4, "q": "东"})
    assert listing.status_code == 200 and "440199001001002" in listing.content.decode()


def test_admin_department_and_staff_with_roles(admin_client, tree, password):
    response = admin_client.post(
        reverse("admin:core_department_add"),
        {"code": "SCJGJ", "name": "市场监督管理局", "uscc": "123", "division": tree.district.pk},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["uscc"] == ["统一社会信用代码应为18位，当前为3位。"]
    response = admin_client.post(
        reverse("admin:core_department_add"),
        {
            "code": "SCJGJ",
            "name": "市场监督管理局",
            "uscc": make_uscc("1", "1", "440199", "66660001"),
            "division": tree.district.pk,
        },
    )
    assert response.status_code == 302
    dept = services.Department.objects.get(code="SCJGJ")
    assert AuditEntry.objects.filter(action="department.create").count() == 1

    prefix = "roles"
    response = admin_client.post(
        reverse("admin:core_staff_add"),
        {
            "username": "lisi",
            "password": password,
            "department": dept.pk,
            "employee_no": "S0001",
            "name": "李四",
            "title": "科员",
            "grid": "",
            "is_active": "on",
            f"{prefix}-TOTAL_FORMS": "2",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
            f"{prefix}-0-role": "window_clerk",
            f"{prefix}-1-role": "approver",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    staff = Staff.objects.get(employee_no="S0001")
    assert Account.objects.get(username="lisi").kind == Account.Kind.STAFF
    assert sorted(staff.roles.values_list("role", flat=True)) == ["approver", "window_clerk"]
    assert AuditEntry.objects.filter(action="staff.create").count() == 1
    assert AuditEntry.objects.filter(action="staff.roles_set").count() == 1
    assert admin_client.get(reverse("admin:core_staff_changelist")).status_code == 200


def test_admin_writes_refused_for_staff_without_the_role(client, tree):
    clerk = staff_with_roles("window_clerk")
    clerk.account.is_staff = True
    clerk.account.save()
    client.force_login(clerk.account)
    # No Django model permission either: the admin refuses before any service is reached.
    assert client.get(reverse("admin:core_division_add")).status_code == 403
