"""One journey per demo login: log in through the real pages (second factor where the role needs it) and land
on that role's own home page."""

from __future__ import annotations

import pyotp
import pytest

from yiwang.demo import DEMO_PASSWORD, demo_load, demo_totp_secret

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# username → the heading of the home page that role must see
EXPECTED_HOME = {
    "citizen": "个人服务首页",
    "enterprise": "法人服务首页",
    "clerk": "综合受理工作台",
    "approver": "审批工作台",
    "head": "部门概览",
    "grid": "我的网格",
    "hotline": "12345 热线",
    "dispatcher": "指挥调度",
    "dataofficer": "数据中台",
    "admin": "系统管理",
}
SECOND_FACTOR = {"dispatcher", "admin"}


@pytest.fixture
def demo_district(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    demo_load(scale=0.02)


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/")
    assert "/login" in page.url, "an anonymous visitor must be sent to the login page"
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    if username in SECOND_FACTOR:
        page.wait_for_selector("input[name=code]")
        page.fill("input[name=code]", pyotp.TOTP(demo_totp_secret(username)).now())
        page.click("main button[type=submit]")
    page.wait_for_selector("h1")


def test_each_demo_login_reaches_its_own_home(page, live_server, demo_district):
    base = live_server.url
    for username, heading in EXPECTED_HOME.items():
        _log_in(page, base, username)
        assert page.locator("h1").first.inner_text().strip() == heading, username
        # logging out returns to the login page and the home page is closed again
        page.click("header form[action*=logout] button")
        page.wait_for_url("**/login/**")
        page.goto(f"{base}/")
        assert "/login" in page.url


def test_wrong_password_keeps_the_visitor_out(page, live_server, demo_district):
    page.goto(f"{live_server.url}/")
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", "not-the-password")
    page.click("main button[type=submit]")
    page.wait_for_selector(".alert, .errorlist, [role=alert]")
    assert "/login" in page.url
    assert page.locator("h1").first.inner_text().strip() != EXPECTED_HOME["clerk"]


def test_admin_without_second_factor_is_not_logged_in(page, live_server, demo_district):
    page.goto(f"{live_server.url}/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("input[name=code]")
    page.goto(f"{live_server.url}/")
    assert "/login" in page.url, "a half-authenticated session must not open the home page"
