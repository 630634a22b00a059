"""Navigation per role, the header and the base layout."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from tests.factories import AccountFactory, staff_with_roles
from yiwang.core.permissions import AUDIT_VIEW, SELF_SERVICE
from yiwang.core.principal import Principal
from yiwang.web.context import navigation, principal_for_request
from yiwang.web.nav import NAV_ITEMS, NavItem, nav_for

pytestmark = pytest.mark.django_db


def nav_urls(response) -> list[str]:
    return [item.url for item in response.context["nav_items"]]


def resolves(name: str) -> bool:
    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


def test_admin_link_only_for_district_admins(client):
    admin_url = reverse("admin:index")
    client.force_login(staff_with_roles("district_admin").account)
    response = client.get("/")
    assert admin_url in nav_urls(response)
    assert f'class="nav-admin" href="{admin_url}"' in response.content.decode()

    for account in (
        staff_with_roles("window_clerk").account,
        staff_with_roles("dispatcher", "data_officer", "department_head").account,
        AccountFactory(citizen=True),
        AccountFactory(enterprise=True),
    ):
        client.force_login(account)
        response = client.get("/")
        assert admin_url not in nav_urls(response), account.username
        assert 'class="nav-admin"' not in response.content.decode()


def test_nav_is_filtered_by_permission():
    clerk = Principal.for_account(staff_with_roles("window_clerk").account)
    citizen = Principal.for_account(AccountFactory(citizen=True))
    admin = Principal.for_account(staff_with_roles("district_admin").account)
    clerk_names = {i.url_name for i in nav_for(clerk)}
    citizen_names = {i.url_name for i in nav_for(citizen)}
    admin_names = {i.url_name for i in nav_for(admin)}
    assert "web:home" in clerk_names and "web:home" in citizen_names
    assert "admin:index" in admin_names and "admin:index" not in clerk_names
    # Every name shown is one the principal holds the permission for, and resolves.
    by_name = {i.url_name: i for i in NAV_ITEMS}
    for principal, names in ((clerk, clerk_names), (citizen, citizen_names), (admin, admin_names)):
        for name in names:
            # (a URL may be listed under several permissions; the first one the principal holds shows it)
            assert any(principal.has(i.permission) for i in NAV_ITEMS if i.url_name == name) and resolves(
                name
            )
    # Citizens only ever see self-service items.
    assert all(by_name[n].permission is SELF_SERVICE for n in citizen_names)
    if resolves("core:audit"):
        assert "core:audit" in admin_names and "core:audit" not in clerk_names


def test_anonymous_gets_no_navigation():
    assert nav_for(None) == []


def test_unresolvable_items_are_skipped_silently():
    principal = Principal.for_account(staff_with_roles("district_admin").account)
    items = (
        NavItem("首页", "web:home", SELF_SERVICE),
        NavItem("未来模块", "nowhere:index", SELF_SERVICE),
        NavItem("审计", "web:about", AUDIT_VIEW),
    )
    resolved = nav_for(principal, "/about/", items)
    assert [i.url_name for i in resolved] == ["web:home", "web:about"]
    assert [i.is_current for i in resolved] == [False, True]


def test_home_item_is_current_only_on_home(client):
    client.force_login(AccountFactory(citizen=True))
    html = client.get("/").content.decode()
    assert 'href="/" aria-current="page"' in html


def test_principal_is_built_once_per_request(django_assert_num_queries):
    account = staff_with_roles("approver").account
    request = RequestFactory().get("/")
    request.user = account
    with django_assert_num_queries(2):  # staff row (with department and grid) + roles
        first = principal_for_request(request)
        context = navigation(request)
        list(context["nav_items"])
        assert context["yw_identity"].name == account.staff.name
        assert principal_for_request(request) is first
    assert first.roles == {"approver"}


def test_header_shows_name_role_language_switch_and_csrf_header(client):
    staff = staff_with_roles("hotline_operator")
    client.force_login(staff.account)
    html = client.get("/").content.decode()
    assert staff.name in html and "12345热线话务员" in html
    assert f'action="{reverse("set_language")}"' in html
    assert 'name="language" value="en"' in html and 'name="language" value="zh-hans"' in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "django_htmx/htmx-2.min.js" in html
    assert 'href="#main"' in html and '<main id="main"' in html
    assert "<footer" in html


def test_logout_is_a_post_form_when_the_view_exists(client):
    client.force_login(AccountFactory(citizen=True))
    html = client.get("/").content.decode()
    try:
        logout_url = reverse("core:logout")
    except NoReverseMatch:
        assert "退出登录" not in html
    else:
        assert f'<form class="inline-form" action="{logout_url}" method="post">' in html
        assert "退出登录" in html


def test_messages_are_rendered_as_alerts(client, rf):
    from django.contrib.messages import constants
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.template.loader import render_to_string

    request = rf.get("/about/")
    request.user = AccountFactory(citizen=True)
    request.session = client.session
    storage = FallbackStorage(request)
    storage.add(constants.SUCCESS, "已保存")
    storage.add(constants.ERROR, "保存失败")
    request._messages = storage
    html = render_to_string("web/about.html", request=request)
    assert '<div class="alert alert-success" role="status">已保存</div>' in html
    assert '<div class="alert alert-error" role="alert">保存失败</div>' in html


def test_anonymous_header_offers_login_except_on_the_login_page(client):
    try:
        login_url = reverse("core:login")
    except NoReverseMatch:
        pytest.skip("the login page is not mounted in this checkout")
    link = f'<a class="btn-quiet" href="{login_url}">'
    assert link in client.get(reverse("web:about")).content.decode()
    assert link not in client.get(login_url).content.decode()
