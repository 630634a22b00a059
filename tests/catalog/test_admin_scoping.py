"""Which items the back office shows and lets a department head touch: one selector
(catalog.selectors.items_maintainable_by) behind the list, the change pages, the actions and the 秒批 rule sets."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.catalog.conftest import make_item, principal_of
from tests.factories import AccountFactory, DepartmentFactory, staff_with_roles
from yiwang.catalog.models import InstantRuleSet, ServiceItem
from yiwang.catalog.selectors import instant_rulesets_maintainable_by, items_maintainable_by
from yiwang.core.admin.org import admin_principal
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(department, other_department):
    sub = DepartmentFactory(
        code="MZJ-1", name="民政局社会救助科", parent=department, division=department.division
    )
    subsub = DepartmentFactory(code="MZJ-1-1", name="救助站", parent=sub, division=department.division)
    return {
        "own": make_item(department),
        "sub": make_item(sub, code="MZJ-JZ-001", name="临时救助"),
        "subsub": make_item(subsub, code="MZJ-JZ-002", name="流浪救助", publish=False),
        "other": make_item(other_department, code="SCJ-XK-001", name="食品经营许可", publish=False),
    }


def head_of(department, client=None):
    staff = staff_with_roles("department_head", department=department)
    staff.account.is_staff = True
    staff.account.save()
    if client is not None:
        client.force_login(staff.account)
    return staff


def test_the_selector_scopes_by_department_tree(world, department):
    head = principal_of(head_of(department))
    assert set(items_maintainable_by(head).values_list("code", flat=True)) == {
        "T-GF-001",
        "MZJ-JZ-001",
        "MZJ-JZ-002",
    }
    district = principal_of(staff_with_roles("district_admin", department=department))
    assert items_maintainable_by(district).count() == 4
    clerk = principal_of(staff_with_roles("window_clerk", department=department))
    assert not items_maintainable_by(clerk).exists()


def test_a_department_head_cannot_see_or_change_another_departments_item(client, world, department):
    head = head_of(department, client)
    other = world["other"]
    listed = client.get(reverse("admin:catalog_serviceitem_changelist"))
    assert listed.status_code == 200
    assert other.code not in {i.code for i in listed.context["cl"].result_list}
    assert {i.code for i in listed.context["cl"].result_list} == {"T-GF-001", "MZJ-JZ-001", "MZJ-JZ-002"}
    # The change page does not exist for them (the admin redirects to its index with "not found").
    url = reverse("admin:catalog_serviceitem_change", args=[other.pk])
    assert client.get(url).status_code == 302
    response = client.post(url, {"name": "改掉了", "code": other.code})
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.name == "食品经营许可" and other.status == ServiceItem.Status.DRAFT
    # Nor can an action reach it through a crafted selection.
    response = client.post(
        reverse("admin:catalog_serviceitem_changelist"),
        {"action": "publish", "_selected_action": [other.pk], "index": 0},
    )
    assert response.status_code in (200, 302)
    other.refresh_from_db()
    assert other.status == ServiceItem.Status.DRAFT
    assert not AuditEntry.objects.filter(actor_account=head.account.username).exists()
    # Their own draft two levels down is theirs to open.
    own = client.get(reverse("admin:catalog_serviceitem_change", args=[world["subsub"].pk]))
    assert own.status_code == 200


def test_superuser_sees_every_item(client, world):
    client.force_login(AccountFactory(username="root", is_superuser=True, is_staff=True))
    listed = client.get(reverse("admin:catalog_serviceitem_changelist"))
    assert len(listed.context["cl"].result_list) == 4


def test_rule_sets_follow_the_same_rule(world, department, other_department):
    for item in world.values():
        InstantRuleSet.objects.create(item_code=item.code, rules=[])
    head = principal_of(head_of(department))
    assert set(instant_rulesets_maintainable_by(head).values_list("item_code", flat=True)) == {
        "T-GF-001",
        "MZJ-JZ-001",
        "MZJ-JZ-002",
    }
    outsider = principal_of(head_of(other_department))
    assert list(instant_rulesets_maintainable_by(outsider).values_list("item_code", flat=True)) == [
        "SCJ-XK-001"
    ]
    district = principal_of(staff_with_roles("district_admin"))
    assert instant_rulesets_maintainable_by(district).count() == 4


def test_the_admin_principal_is_built_once_per_request(rf, department, django_assert_num_queries):
    staff = head_of(department)
    request = rf.get("/admin/")
    request.user = staff.account
    first = admin_principal(request)
    with django_assert_num_queries(0):
        assert admin_principal(request) is first
