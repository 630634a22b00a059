"""Selectors for the organisation tree: scoping by principal, keyset paging, bounded query counts."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.core.test_org_services import make_tree
from tests.factories import AccountFactory, DepartmentFactory, staff_with_roles
from yiwang.core.models import Staff
from yiwang.core.principal import Principal
from yiwang.core.selectors import org as selectors
from yiwang.core.services import org as services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # argon2 costs ~0.5 s per account; these tests create many accounts and never check a password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def principal(staff_or_account) -> Principal:
    account = getattr(staff_or_account, "account", staff_or_account)
    return Principal.for_account(account)


@pytest.fixture
def org_chart():
    """Bureau → office → section, plus an unrelated bureau; a head of the office; staff in each."""
    bureau = DepartmentFactory(name="局")
    office = DepartmentFactory(name="科室", parent=bureau)
    section = DepartmentFactory(name="股", parent=office)
    other = DepartmentFactory(name="他局")
    head = staff_with_roles("department_head", department=office)
    in_bureau = staff_with_roles("approver", department=bureau)
    in_office = staff_with_roles("window_clerk", department=office)
    in_section = staff_with_roles("window_clerk", "approver", department=section)
    in_other = staff_with_roles("window_clerk", department=other)
    admin = staff_with_roles("district_admin", department=other)
    return locals()


def codes(page) -> set[str]:
    return {s.employee_no for s in page.items}


def test_district_admin_sees_everyone(org_chart, django_assert_max_num_queries):
    admin = principal(org_chart["admin"])
    with django_assert_max_num_queries(4):
        page = selectors.staff_list_visible_to(admin, limit=200)
        roles = [sorted(r.role for r in s.roles.all()) for s in page.items]
        [s.department.name for s in page.items]
    assert codes(page) == set(Staff.objects.values_list("employee_no", flat=True))
    assert ["approver", "window_clerk"] in roles


def test_department_head_sees_own_department_and_below(org_chart, django_assert_max_num_queries):
    head = principal(org_chart["head"])
    with django_assert_max_num_queries(8):
        page = selectors.staff_list_visible_to(head, limit=200)
        [sorted(r.role for r in s.roles.all()) for s in page.items]
    expected = {org_chart[k].employee_no for k in ("head", "in_office", "in_section")}
    assert codes(page) == expected


def test_clerk_sees_only_themselves(org_chart):
    clerk = principal(org_chart["in_office"])
    page = selectors.staff_list_visible_to(clerk)
    assert codes(page) == {org_chart["in_office"].employee_no}


def test_citizen_cannot_list_staff(org_chart):
    with pytest.raises(PermissionDenied):
        selectors.staff_list_visible_to(principal(AccountFactory(citizen=True)))


def test_staff_list_filters_and_pages(org_chart):
    admin = principal(org_chart["admin"])
    page = selectors.staff_list_visible_to(admin, role="approver")
    assert codes(page) == {org_chart["in_bureau"].employee_no, org_chart["in_section"].employee_no}
    seen, cursor = [], None
    while True:
        page = selectors.staff_list_visible_to(admin, cursor=cursor, limit=2)
        seen += [s.employee_no for s in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == sorted(Staff.objects.values_list("employee_no", flat=True))


def test_division_children_and_path(django_assert_num_queries):
    tree = make_tree()
    viewer = principal(staff_with_roles("window_clerk"))
    with django_assert_num_queries(1):
        top = selectors.division_children(viewer)
    assert [d.code for d in top.items] == ["440199"] and top.items[0].child_count == 1
    with django_assert_num_queries(1):
        villages = selectors.division_children(viewer, parent_code=tree.town.code)
        parents = {d.parent.code for d in villages.items}
    assert [d.code for d in villages.items] == ["440199001001", "440199001002"]
    assert parents == {tree.town.code} and villages.items[0].child_count == 2
    grids = selectors.division_children(viewer, level=4, limit=2)
    assert [d.code for d in grids.items] == ["440199001001001", "440199001001002"] and grids.next_cursor
    rest = selectors.division_children(viewer, level=4, cursor=grids.next_cursor, limit=2)
    assert [d.code for d in rest.items] == ["440199001002001"] and rest.next_cursor is None
    with django_assert_num_queries(1):
        path = selectors.division_path(viewer, tree.g1)
    assert [d.code for d in path] == ["440199", "440199001", "440199001001", "440199001001001"]


def test_grids_geojson_for_town_and_village(django_assert_num_queries):
    tree = make_tree()
    dept = DepartmentFactory()
    worker = services.staff_create(
        actor=None,
        department=dept,
        username="gw1",
        name="网格员甲",
        employee_no="GW1",
        roles=["grid_worker"],
        grid=tree.g1,
    )
    viewer = principal(staff_with_roles("window_clerk"))
    with django_assert_num_queries(3):
        town = selectors.grids_geojson(viewer, tree.town.code)
    assert town["type"] == "FeatureCollection"
    assert [f["id"] for f in town["features"]] == [tree.g1.code, tree.g2.code, tree.g3.code]
    first = town["features"][0]
    assert first["geometry"]["type"] == "Polygon"
    assert first["properties"]["workers"] == [{"id": str(worker.public_id), "name": "网格员甲"}]
    assert first["properties"]["village_name"] == "东社区"
    village = selectors.grids_geojson(viewer, tree.v2.code)
    assert [f["id"] for f in village["features"]] == [tree.g3.code]
    assert selectors.grids_geojson(viewer, "999999") is None
    with pytest.raises(ValidationError):
        selectors.grids_geojson(viewer, tree.district.code)


def test_division_view_needed():
    make_tree()
    with pytest.raises(PermissionDenied):
        selectors.division_children(principal(AccountFactory(citizen=True)))


def test_department_list(django_assert_num_queries):
    bureau = DepartmentFactory()
    DepartmentFactory(parent=bureau)
    DepartmentFactory(is_active=False)
    viewer = principal(staff_with_roles("window_clerk", department=bureau))
    with django_assert_num_queries(1):
        page = selectors.department_list(viewer)
        [(d.parent and d.parent.code, d.division.code) for d in page.items]
    assert len(page.items) == 2
    assert [d.parent for d in selectors.department_list(viewer, parent_code=bureau.code).items] == [bureau]


@pytest.mark.django_db
def test_department_heads_nearest_walks_up_to_the_first_department_with_heads():
    parent = DepartmentFactory()
    child = DepartmentFactory(parent=parent, division=parent.division)
    grandchild = DepartmentFactory(parent=child, division=parent.division)
    head = staff_with_roles("department_head", department=parent)
    staff_with_roles("approver", department=child)  # not a head
    retired = staff_with_roles("department_head", department=child)
    Staff.objects.filter(pk=retired.pk).update(is_active=False)
    assert selectors.department_heads_nearest(grandchild.pk) == [head]
    own = staff_with_roles("department_head", department=grandchild)
    assert selectors.department_heads_nearest(grandchild.pk) == [own]
    assert selectors.department_heads_nearest(None) == []
