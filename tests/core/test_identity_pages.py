"""Login pages (password, TOTP step, TOTP enrolment), session rules, account pages and the identity admin."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD, AccountFactory, DepartmentFactory, staff_with_roles
from yiwang.core.models import Account, ApiToken, AuditEntry, RegisteredSystem
from yiwang.core.principal import Principal
from yiwang.core.ratelimit import DEFAULT_LIMITS
from yiwang.core.services.identity import (
    api_token_issue_for_account,
    registered_system_create,
    totp_enrol_begin,
    totp_enrol_confirm,
)
from yiwang.core.views.identity import PENDING_KEY

PAIR_LIMIT = int(DEFAULT_LIMITS["login_pair"].split("/")[0])
pytestmark = pytest.mark.django_db
LOGIN = reverse("core:login")
HOME = reverse(settings.LOGIN_REDIRECT_URL)


def login(client, username: str, password: str = PASSWORD, next_url: str | None = None):
    data = {"username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post(LOGIN, data)


def is_logged_in(client) -> bool:
    return SESSION_KEY in client.session


def enrol(account: Account) -> pyotp.TOTP:
    """Enrols with a code from the previous step, so the current step is still unused for the test's login.
    Tests that enrol take the `clock` fixture: the step is then fixed, not the wall clock's, which could move
    on between this code and the server's check."""
    secret, _uri = totp_enrol_begin(account=account)
    totp = pyotp.TOTP(secret)
    totp_enrol_confirm(account=account, code=totp.at(timezone.now() - timedelta(seconds=30)))
    return totp


def current_code(totp: pyotp.TOTP) -> str:
    """The code of the step the server is in (its clock is the `clock` fixture's)."""
    return totp.at(timezone.now())


def wrong_code(totp: pyotp.TOTP) -> str:
    """Six digits that are none of the codes the server accepts now (one step either side)."""
    accepted = {totp.at(timezone.now() + timedelta(seconds=30 * step)) for step in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


# --- password login -------------------------------------------------------------------------------------------------
def test_login_page_renders_a_chinese_form(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert "统一身份认证" in html and 'name="username"' in html and 'autocomplete="current-password"' in html


def test_clerk_logs_in_with_password_only_and_the_session_key_rotates(client):
    staff = staff_with_roles("window_clerk")
    client.get(LOGIN)
    before = client.session.session_key
    response = login(client, staff.account.username)
    assert response.status_code == 302 and response["Location"] == HOME
    assert is_logged_in(client) and client.session.session_key != before
    assert AuditEntry.objects.filter(action="account.login", actor_account=staff.account.username).exists()


def test_empty_fields_get_field_level_messages(client):
    response = client.post(LOGIN, {"username": "", "password": ""})
    html = response.content.decode()
    assert "请输入用户名。" in html and "请输入密码。" in html
    assert not AuditEntry.objects.exists()


def test_wrong_password_and_unknown_user_show_the_same_message(client):
    account = AccountFactory(citizen=True)
    wrong = login(client, account.username, "wrong-password").content.decode()
    unknown = login(client, "no-such-user", "wrong-password").content.decode()
    assert "用户名或密码不正确。" in wrong and "用户名或密码不正确。" in unknown
    assert not is_logged_in(client)


def test_too_many_failures_answer_429_on_the_page_without_a_lock(client):
    account = AccountFactory(citizen=True)
    for _ in range(PAIR_LIMIT):
        assert login(client, account.username, "wrong-password").status_code == 200
    response = login(client, account.username)
    html = response.content.decode()
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "秒后再试" in html and not is_logged_in(client)
    account.refresh_from_db()
    assert account.locked_until is None


@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_unsafe_next_is_ignored(client, unsafe):
    account = AccountFactory(citizen=True)
    response = login(client, account.username, next_url=unsafe)
    assert response.status_code == 302 and response["Location"] == HOME


def test_safe_local_next_is_followed(client):
    account = AccountFactory(citizen=True)
    response = client.post(f"{LOGIN}?next=/account/", {"username": account.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/account/"


# --- second factor in the browser ----------------------------------------------------------------------------------
def test_admin_without_totp_enrols_before_being_logged_in(client, clock):
    account = staff_with_roles("district_admin").account
    response = login(client, account.username, next_url="/account/")
    assert response.status_code == 302 and response["Location"] == reverse("core:totp_enrol")
    assert not is_logged_in(client) and client.session[PENDING_KEY]["account"] == str(account.public_id)

    page = client.get(reverse("core:totp_enrol"))
    html = page.content.decode()
    account.refresh_from_db()
    assert account.totp_secret and account.totp_secret in html and "<svg" in html
    assert "Yiwang" in html or "动态口令" in html

    # Reloading within the same login attempt keeps the secret the holder may already have scanned.
    assert account.totp_secret in client.get(reverse("core:totp_enrol")).content.decode()
    bad = client.post(reverse("core:totp_enrol"), {"code": "12345"})
    assert "动态口令为 6 位数字。" in bad.content.decode() and not is_logged_in(client)

    done = client.post(reverse("core:totp_enrol"), {"code": current_code(pyotp.TOTP(account.totp_secret))})
    assert done.status_code == 302 and done["Location"] == "/account/"
    assert is_logged_in(client) and PENDING_KEY not in client.session
    account.refresh_from_db()
    assert account.totp_confirmed_at is not None
    logins = AuditEntry.objects.filter(action="account.login")
    assert [e.after["method"] for e in logins] == ["password+totp_enrol"]


def test_a_new_login_attempt_gets_a_new_enrolment_secret(client):
    account = staff_with_roles("dispatcher").account
    login(client, account.username)
    client.get(reverse("core:totp_enrol"))
    first = Account.objects.get(pk=account.pk).totp_secret
    login(client, account.username)
    client.get(reverse("core:totp_enrol"))
    second = Account.objects.get(pk=account.pk).totp_secret
    assert first and second and first != second


def test_enrolled_dispatcher_passes_the_totp_step(client, clock):
    account = staff_with_roles("dispatcher").account
    totp = enrol(account)
    response = login(client, account.username)
    assert response["Location"] == reverse("core:login_totp") and not is_logged_in(client)
    pending_key = client.session.session_key

    wrong = client.post(reverse("core:login_totp"), {"code": wrong_code(totp)})
    assert "动态口令不正确" in wrong.content.decode() and not is_logged_in(client)

    ok = client.post(reverse("core:login_totp"), {"code": current_code(totp)})
    assert ok.status_code == 302 and ok["Location"] == HOME
    assert is_logged_in(client) and client.session.session_key != pending_key
    assert AuditEntry.objects.filter(action="account.totp_verified").exists()
    assert AuditEntry.objects.filter(action="account.totp_failed").exists()


def test_half_authenticated_session_cannot_open_protected_pages_or_the_api(client, clock):
    account = staff_with_roles("district_admin").account
    enrol(account)
    login(client, account.username)
    assert PENDING_KEY in client.session
    for url in (reverse("core:account"), HOME):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(LOGIN), url
    assert client.get("/api/auth/me").status_code == 401


def test_pending_second_factor_expires(client, clock):
    account = staff_with_roles("dispatcher").account
    totp = enrol(account)
    login(client, account.username)
    session = client.session
    session[PENDING_KEY] = {**session[PENDING_KEY], "expires": int(time.time()) - 1}
    session.save()
    response = client.post(reverse("core:login_totp"), {"code": current_code(totp)})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not is_logged_in(client)


def test_totp_step_without_a_pending_login_goes_back_to_login(client):
    for name in ("core:login_totp", "core:totp_enrol"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"] == LOGIN


# --- session lifetime and logout -------------------------------------------------------------------------------------
def test_idle_session_is_logged_out(client):
    account = AccountFactory(citizen=True)
    login(client, account.username)
    assert client.get(reverse("core:account")).status_code == 200
    session = client.session
    session["last_seen"] = int(time.time()) - settings.SESSION_IDLE_SECONDS - 5
    session.save()
    response = client.get(reverse("core:account"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert not is_logged_in(client)
    assert "长时间未操作" in client.get(LOGIN).content.decode()


def test_active_session_stays_logged_in(client):
    account = AccountFactory(citizen=True)
    login(client, account.username)
    session = client.session
    session["last_seen"] = int(time.time()) - settings.SESSION_IDLE_SECONDS + 60
    session.save()
    assert client.get(reverse("core:account")).status_code == 200


def test_logout_is_post_only(client):
    account = AccountFactory(citizen=True)
    login(client, account.username)
    assert client.get(reverse("core:logout")).status_code == 405
    assert is_logged_in(client)
    response = client.post(reverse("core:logout"))
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not is_logged_in(client)
    assert AuditEntry.objects.filter(action="account.logout").exists()


# --- account pages -----------------------------------------------------------------------------------------------------
def test_account_page_shows_my_account_without_the_id_number(client):
    account = AccountFactory(citizen=True)
    login(client, account.username)
    html = client.get(reverse("core:account")).content.decode()
    assert account.username in html and account.person.name in html
    assert "您的角色不要求动态口令" in html
    assert account.person.id_number not in html


def test_account_page_needs_a_login(client):
    response = client.get(reverse("core:account"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_password_change_page(client):
    account = AccountFactory(citizen=True)
    token = api_token_issue_for_account(account=account)
    login(client, account.username)
    url = reverse("core:password_change")
    mismatch = client.post(
        url, {"old_password": PASSWORD, "new_password": "Fresh-Passw0rd-9", "new_password2": "x"}
    )
    assert "两次输入的新密码不一致。" in mismatch.content.decode()
    short = client.post(url, {"old_password": PASSWORD, "new_password": "short", "new_password2": "short"})
    assert "密码太短" in short.content.decode()
    wrong_old = client.post(
        url, {"old_password": "nope", "new_password": "Fresh-Passw0rd-9", "new_password2": "Fresh-Passw0rd-9"}
    )
    assert "原密码不正确。" in wrong_old.content.decode()
    done = client.post(
        url,
        {"old_password": PASSWORD, "new_password": "Fresh-Passw0rd-9", "new_password2": "Fresh-Passw0rd-9"},
    )
    assert done.status_code == 302 and done["Location"] == reverse("core:account")
    assert is_logged_in(client)  # this session survives; the API token does not
    assert ApiToken.objects.get(pk=token.record.pk).revoked_at is not None
    account.refresh_from_db()
    assert account.check_password("Fresh-Passw0rd-9")


# --- admin ---------------------------------------------------------------------------------------------------------------
@pytest.fixture
def admin_client(client):
    staff = staff_with_roles("district_admin")
    Account.objects.filter(pk=staff.account.pk).update(is_staff=True, is_superuser=True)
    client.force_login(Account.objects.get(pk=staff.account.pk))
    return client


def test_admin_login_redirects_to_the_platform_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    admin_login = client.get(response["Location"])
    assert admin_login.status_code == 302
    assert admin_login["Location"] == f"{LOGIN}?next=%2Fadmin%2F"


def test_admin_site_has_chinese_titles(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "一网 · 管理后台" in html


def test_admin_unlock_action(admin_client):
    locked = AccountFactory(
        citizen=True, failed_logins=5, locked_until=timezone.now() + timedelta(minutes=10)
    )
    url = reverse("admin:core_account_changelist")
    listing = admin_client.get(url)
    assert listing.status_code == 200 and locked.username in listing.content.decode()
    response = admin_client.post(url, {"action": "unlock_accounts", "_selected_action": [locked.pk]})
    assert response.status_code == 302
    locked.refresh_from_db()
    assert locked.locked_until is None and locked.failed_logins == 0
    assert AuditEntry.objects.filter(action="account.unlocked", object_id=str(locked.public_id)).exists()


def test_admin_account_page_never_shows_secrets(admin_client, clock):
    account = staff_with_roles("dispatcher").account
    enrol(account)
    account.refresh_from_db()
    html = admin_client.get(reverse("admin:core_account_change", args=[account.pk])).content.decode()
    assert account.username in html
    assert account.password not in html and account.totp_secret not in html


def test_admin_registers_a_system_and_shows_the_secret_once(admin_client):
    department = DepartmentFactory()
    response = admin_client.post(
        reverse("admin:core_registeredsystem_add"),
        {"name": "医保结算系统", "department": department.pk, "scopes": ["division.view", "person.lookup"]},
        follow=True,
    )
    assert response.status_code == 200
    system = RegisteredSystem.objects.get(name="医保结算系统")
    html = response.content.decode()
    match = re.search(r"客户端密钥：<code>([^<]+)</code>", html)
    assert match and system.client_id in html
    secret = match.group(1)
    assert system.secret_hash.startswith("argon2") and secret not in system.secret_hash
    assert system.scopes == ["division.view", "person.lookup"]
    again = admin_client.get(reverse("admin:core_registeredsystem_change", args=[system.pk])).content.decode()
    assert secret not in again
    assert AuditEntry.objects.filter(action="system.registered").exists()


def test_admin_refuses_scopes_outside_the_system_scopes(admin_client):
    response = admin_client.post(
        reverse("admin:core_registeredsystem_add"),
        {"name": "越权系统", "department": DepartmentFactory().pk, "scopes": ["audit.view"]},
    )
    assert response.status_code == 200 and not RegisteredSystem.objects.exists()


def test_admin_without_system_manage_cannot_register_systems(client):
    staff = staff_with_roles("window_clerk")
    Account.objects.filter(pk=staff.account.pk).update(is_staff=True, is_superuser=True)
    client.force_login(Account.objects.get(pk=staff.account.pk))
    assert client.get(reverse("admin:core_registeredsystem_add")).status_code == 403


def test_admin_revokes_tokens(admin_client):
    admin = Principal.for_account(staff_with_roles("district_admin").account)
    system, secret = registered_system_create(
        actor=admin, name="档案系统", department=DepartmentFactory(), scopes=["division.view"]
    )
    from yiwang.core.services.identity import api_token_issue_for_system

    issued = api_token_issue_for_system(client_id=system.client_id, client_secret=secret)
    url = reverse("admin:core_apitoken_changelist")
    assert issued.token not in admin_client.get(url).content.decode()
    admin_client.post(url, {"action": "revoke", "_selected_action": [issued.record.pk]})
    assert ApiToken.objects.get(pk=issued.record.pk).revoked_at is not None
