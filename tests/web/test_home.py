"""Home page per role, the about page, error pages and query budgets of the web shell."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.shortcuts import resolve_url
from django.urls import reverse

from tests.factories import (
    AccountFactory,
    DepartmentFactory,
    DivisionFactory,
    OrganisationFactory,
    staff_with_roles,
)
from yiwang.core.audit import audit_record
from yiwang.core.evidence.sequencer import sequencer_run_once
from yiwang.core.models import AuditEntry, Division, Representation, Staff
from yiwang.core.principal import Principal
from yiwang.web.selectors import (
    department_overview,
    home_for,
    mask_id_number,
    mask_phone,
    registry_counts,
    system_counts,
)

pytestmark = pytest.mark.django_db

ROLE_HEADINGS = {
    "window_clerk": "综合受理工作台",
    "approver": "审批工作台",
    "department_head": "部门概览",
    "hotline_operator": "12345 热线",
    "grid_worker": "我的网格",
    "dispatcher": "指挥调度",
    "data_officer": "数据中台",
    "district_admin": "系统管理",
}
ALL_HEADINGS = {*ROLE_HEADINGS.values(), "个人服务首页", "法人服务首页", "工作人员首页"}


def h1_of(response) -> str:
    found = re.findall(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), flags=re.S)
    assert len(found) == 1, f"expected exactly one h1, got {found}"
    return found[0].strip()


def get_home(client, account, **params):
    client.force_login(account)
    return client.get(reverse("web:home"), params)


# --- one workspace per role ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(ROLE_HEADINGS))
def test_every_staff_role_gets_its_own_home_heading(client, role):
    staff = staff_with_roles(role)
    response = get_home(client, staff.account)
    assert response.status_code == 200
    assert h1_of(response) == ROLE_HEADINGS[role]
    html = response.content.decode()
    # The header names the person and the role; the department is shown above the heading.
    assert staff.name in html and staff.department.name in html
    assert "layout-staff" in html


@pytest.mark.parametrize("role", ["window_clerk", "approver"])
def test_case_handling_homes_lead_to_the_inbox_instead_of_a_placeholder(client, role):
    html = get_home(client, staff_with_roles(role).account).content.decode()
    assert f'href="{reverse("cases:inbox")}"' in html
    assert "办件模块上线后" not in html


def test_citizen_home_shows_masked_profile_and_upcoming_services(client):
    account = AccountFactory(citizen=True)
    person = account.person
    response = get_home(client, account)
    html = response.content.decode()
    assert h1_of(response) == "个人服务首页"
    masked = person.id_number[:4] + "*" * 10 + person.id_number[-4:]
    assert masked in html
    assert person.id_number not in html, "the full ID number must never reach the page"
    assert person.phone not in html
    assert f"{person.name}，您好" in html
    assert "/incidents/report/" in html and "layout-public" in html  # the 12345 card links to reporting


def test_enterprise_home_shows_the_represented_organisation(client):
    account = AccountFactory(enterprise=True)
    org = account.organisation
    Representation.objects.create(person=account.person, organisation=org, kind="legal_representative")
    response = get_home(client, account)
    html = response.content.decode()
    assert h1_of(response) == "法人服务首页"
    assert org.name in html and org.uscc in html
    assert "存续" in html and "法定代表人" in html


def test_enterprise_home_shows_a_revoked_status(client):
    account = AccountFactory(enterprise=True, organisation=OrganisationFactory(status="revoked"))
    html = get_home(client, account).content.decode()
    assert 'data-testid="org-status">吊销<' in html


def test_staff_without_roles_gets_a_neutral_home(client):
    staff = staff_with_roles()
    response = get_home(client, staff.account)
    assert h1_of(response) == "工作人员首页"
    assert "尚未分配角色" in response.content.decode()


def test_inactive_staff_do_not_get_their_role_workspace(client):
    staff = staff_with_roles("district_admin")
    Staff.objects.filter(pk=staff.pk).update(is_active=False)
    response = get_home(client, staff.account)
    assert h1_of(response) == "工作人员首页"
    assert "/admin/" not in response.content.decode()


def test_department_head_counts_active_staff_of_own_department_only(client):
    dept = DepartmentFactory()
    head = staff_with_roles("department_head", department=dept)
    staff_with_roles("window_clerk", department=dept)
    staff_with_roles("window_clerk", "approver", department=dept)
    gone = staff_with_roles("approver", department=dept)
    Staff.objects.filter(pk=gone.pk).update(is_active=False)
    staff_with_roles("window_clerk")  # another department
    html = get_home(client, head.account).content.decode()
    assert 'data-testid="staff-count">3<' in html
    overview = department_overview(Principal.for_account(head.account))
    assert overview.staff_count == 3
    assert {(str(r.label), r.count) for r in overview.by_role} == {
        ("部门负责人", 1),
        ("综合窗口受理人员", 2),
        ("审批人员", 1),
    }


def test_grid_worker_sees_own_grid(client):
    district = DivisionFactory()
    town = Division.objects.create(code="440199001", name="东湖街道", level=2, parent=district)
    village = Division.objects.create(code="440199001001", name="东湖社区", level=3, parent=town)
    grid = Division.objects.create(code="440199001001001", name="东湖社区第1网格", level=4, parent=village)
    worker = staff_with_roles("grid_worker")
    Staff.objects.filter(pk=worker.pk).update(grid=grid)
    html = get_home(client, worker.account).content.decode()
    assert 'data-testid="grid-name">东湖社区第1网格<' in html
    assert 'data-testid="grid-code">440199001001001<' in html
    assert "东湖社区" in html


def test_grid_worker_without_grid_is_told_so(client):
    worker = staff_with_roles("grid_worker")
    assert "尚未分配网格" in get_home(client, worker.account).content.decode()


def test_district_admin_sees_system_counts(client):
    admin = staff_with_roles("district_admin")
    DepartmentFactory.create_batch(2)
    AccountFactory.create_batch(3, citizen=True)
    for n in range(40 - AuditEntry.objects.count()):
        audit_record(actor=None, action="test.count", object_id=str(n))
    sequencer_run_once()
    audit_record(actor=None, action="test.pending")
    audit_record(actor=None, action="test.pending")  # integrated entries plus pending ones
    counts = system_counts(Principal.for_account(admin.account))
    assert counts.departments == 3
    assert counts.staff == 1
    assert counts.persons == 3
    assert counts.audit_entries == 42
    assert dict((str(c.label), c.count) for c in counts.divisions_by_level)["区/县"] == 1
    html = get_home(client, admin.account).content.decode()
    assert ">42<" in html and "区/县" in html and "网格" in html


# --- multi-role staff and forbidden workspaces -----------------------------------------------------------------


def test_multi_role_staff_land_on_the_first_workspace_and_can_switch(client):
    staff = staff_with_roles("window_clerk", "department_head")
    response = get_home(client, staff.account)
    assert h1_of(response) == "部门概览"
    assert "?workspace=window_clerk" in response.content.decode()
    assert h1_of(client.get(reverse("web:home"), {"workspace": "window_clerk"})) == "综合受理工作台"


def test_a_workspace_one_does_not_hold_is_forbidden(client):
    clerk = staff_with_roles("window_clerk")
    response = get_home(client, clerk.account, workspace="district_admin")
    assert response.status_code == 403
    html = response.content.decode()
    assert "无权访问" in html and "系统概况" not in html


def test_citizen_cannot_open_a_staff_workspace(client):
    response = get_home(client, AccountFactory(citizen=True), workspace="window_clerk")
    assert response.status_code == 403


@pytest.mark.parametrize(
    "selector,role",
    [
        (system_counts, "district_admin"),
        (department_overview, "department_head"),
        (registry_counts, "data_officer"),
    ],
)
def test_home_selectors_check_their_permission(selector, role):
    outsider = Principal.for_account(staff_with_roles("window_clerk").account)
    with pytest.raises(PermissionDenied):
        selector(outsider)
    with pytest.raises(PermissionDenied):
        selector(Principal.for_account(AccountFactory(citizen=True)))
    selector(Principal.for_account(staff_with_roles(role).account))  # allowed


def test_home_for_refuses_an_unknown_workspace():
    principal = Principal.for_account(staff_with_roles("approver").account)
    with pytest.raises(PermissionDenied):
        home_for(principal, workspace_key="nonsense")
    assert str(home_for(principal).workspace.heading) == "审批工作台"


# --- anonymous visitors, about and error pages ---------------------------------------------------------------


def test_anonymous_home_redirects_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(resolve_url(settings.LOGIN_URL))
    assert "next=/" in response.url


def test_about_page_is_public(client):
    response = client.get(reverse("web:about"))
    assert response.status_code == 200
    html = response.content.decode()
    assert h1_of(response) == "一网：开源数字政府平台"
    assert "一网通办" in html and "一网统管" in html and "一网协同" in html
    assert 'class="site-nav"' not in html, "anonymous visitors get no navigation"


def test_home_refuses_post(client):
    client.force_login(AccountFactory(citizen=True))
    assert client.post(reverse("web:home")).status_code == 405


def test_custom_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html and 'href="/static/web/yiwang.css"' in html


def test_500_page_renders_without_a_request_context():
    from django.template import loader

    html = loader.get_template("500.html").render({})
    assert "服务器内部错误" in html


def test_pages_declare_their_permission():
    from yiwang.core.permissions import PUBLIC, SELF_SERVICE
    from yiwang.web import views

    assert views.home.yiwang_permission is SELF_SERVICE
    assert views.about.yiwang_permission is PUBLIC


# --- masking ---------------------------------------------------------------------------------------------------


def test_masking_keeps_first_four_and_last_four():
    assert mask_id_number("44019919900101123X") == "4401**********123X"
    assert mask_id_number(" 440199199001011234 ") == "4401**********1234"
    assert mask_id_number("1234") == "****"
    assert mask_id_number("") == ""
    assert mask_phone("13800001234") == "138****1234"
    assert mask_phone("") == ""


# --- query budgets ---------------------------------------------------------------------------------------------


def _count_home_queries(client, account, django_assert_max_num_queries, budget, **params):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(account)
    with django_assert_max_num_queries(budget), CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("web:home"), params)
    assert response.status_code == 200
    # Whether the session row is re-saved depends on the idle-timeout bookkeeping, not on this page.
    return len(
        [q for q in ctx.captured_queries if "django_session" not in q["sql"] and "SAVEPOINT" not in q["sql"]]
    )


@pytest.mark.parametrize("role", sorted(ROLE_HEADINGS))
def test_staff_home_query_count_does_not_grow_with_data(client, django_assert_max_num_queries, role):
    dept = DepartmentFactory()
    staff = staff_with_roles(role, department=dept)
    before = _count_home_queries(client, staff.account, django_assert_max_num_queries, 14)
    # More colleagues, departments, people and divisions must not cost more queries.
    for _ in range(5):
        staff_with_roles("window_clerk", "approver", department=dept)
    DepartmentFactory.create_batch(5)
    AccountFactory.create_batch(5, citizen=True)
    after = _count_home_queries(client, staff.account, django_assert_max_num_queries, 14)
    assert after == before


@pytest.mark.parametrize("trait", ["citizen", "enterprise"])
def test_public_home_query_budget(client, django_assert_max_num_queries, trait):
    account = AccountFactory(**{trait: True})
    # session + account + person (header) + person (profile) [+ organisation + representation] + session save
    _count_home_queries(client, account, django_assert_max_num_queries, 11)
