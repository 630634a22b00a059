"""Unified identity services: login and lockout, the TOTP second factor, passwords, registered systems, tokens."""

from __future__ import annotations

import threading
from datetime import timedelta

import pyotp
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.utils import timezone

from tests.factories import PASSWORD, AccountFactory, DepartmentFactory, staff_with_roles
from yiwang.core.models import Account, ApiToken, AuditEntry, RegisteredSystem
from yiwang.core.permissions import DIVISION_VIEW, PERSON_LOOKUP
from yiwang.core.principal import Principal
from yiwang.core.ratelimit import DEFAULT_LIMITS
from yiwang.core.services.identity import (
    InvalidClient,
    InvalidScope,
    LoginStatus,
    account_login,
    account_needs_second_factor,
    account_totp_reset,
    account_unlock,
    api_token_issue_for_account,
    api_token_issue_for_system,
    api_token_resolve,
    api_token_revoke,
    password_change,
    registered_system_create,
    registered_system_rotate_secret,
    registered_system_update,
    totp_enrol_begin,
    totp_enrol_confirm,
    totp_verify,
)

pytestmark = pytest.mark.django_db
PAIR_LIMIT = int(DEFAULT_LIMITS["login_pair"].split("/")[0])
CLIENT_LIMIT = int(DEFAULT_LIMITS["login_client"].split("/")[0])
ACCOUNT_LIMIT = int(DEFAULT_LIMITS["login_account"].split("/")[0])
THRESHOLD = PAIR_LIMIT


class Clock:
    """Freezes django.utils.timezone.now (which every service reads) at a moment tests move by hand."""

    def __init__(self, monkeypatch):
        self.now = timezone.now().replace(microsecond=0)
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)

    def code(self, secret: str, offset_steps: int = 0) -> str:
        return pyotp.TOTP(secret).at(self.now + timedelta(seconds=30 * offset_steps))


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


def actions(**filters) -> list[str]:
    return list(AuditEntry.objects.filter(**filters).order_by("seq").values_list("action", flat=True))


def enrolled(account: Account, clock: Clock) -> str:
    secret, uri = totp_enrol_begin(account=account)
    assert uri.startswith("otpauth://totp/") and "secret=" + secret in uri
    totp_enrol_confirm(account=account, code=clock.code(secret))
    return secret


def admin_principal() -> Principal:
    return Principal.for_account(staff_with_roles("district_admin").account)


# --- login and lockout ------------------------------------------------------------------------------------------
def test_login_with_the_right_password_is_audited_and_resets_the_counter():
    account = AccountFactory(citizen=True, failed_logins=2)
    result = account_login(username=account.username, password=PASSWORD, ip="10.0.0.7")
    assert result.status == LoginStatus.OK and result.account == account
    account.refresh_from_db()
    assert account.failed_logins == 0
    entry = AuditEntry.objects.get(action="account.login")
    assert entry.actor_account == account.username and entry.after["ip"] == "10.0.0.7"
    assert entry.object_id == str(account.public_id)


def test_a_source_that_fails_five_times_waits_for_that_account_only(clock):
    account = AccountFactory(citizen=True)
    for n in range(1, PAIR_LIMIT + 1):
        result = account_login(username=account.username, password="wrong-password", ip="10.0.0.1")
        assert result.status == LoginStatus.INVALID
        account.refresh_from_db()
        assert account.failed_logins == n and account.locked_until is None
    throttled = account_login(username=account.username, password=PASSWORD, ip="10.0.0.1")
    assert throttled.status == LoginStatus.THROTTLED and throttled.retry_after > 0
    assert "秒后再试" in throttled.message
    # The holder, from anywhere else, is not locked out by someone else's guesses.
    assert account_login(username=account.username, password=PASSWORD, ip="10.0.0.2").status == LoginStatus.OK
    # Nothing ever sets a lock the attacker controls.
    account.refresh_from_db()
    assert account.locked_until is None
    assert not AuditEntry.objects.filter(action="account.locked").exists()


def test_a_throttled_unknown_name_and_a_throttled_real_account_answer_alike(clock):
    account = AccountFactory(citizen=True)
    for name in (account.username, "nobody-here"):
        for _ in range(PAIR_LIMIT):
            assert account_login(username=name, password="wrong-password", ip="10.0.0.9").status == (
                LoginStatus.INVALID
            )
    real = account_login(username=account.username, password="wrong-password", ip="10.0.0.9")
    ghost = account_login(username="nobody-here", password="wrong-password", ip="10.0.0.9")
    assert real.status == ghost.status == LoginStatus.THROTTLED
    assert real.message.split("请")[0] == ghost.message.split("请")[0]
    assert real.account is None and ghost.account is None


def test_password_spraying_from_one_source_is_slowed_across_names(clock, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # 30 attempts
    names = [f"sprayed-{n}" for n in range(CLIENT_LIMIT)]
    for name in names:
        assert (
            account_login(username=name, password="Summer2026!", ip="10.9.9.9").status == LoginStatus.INVALID
        )
    account = AccountFactory(citizen=True)
    result = account_login(username=account.username, password="Summer2026!", ip="10.9.9.9")
    assert result.status == LoginStatus.THROTTLED


def test_a_distributed_guesser_slows_the_account_but_never_locks_it(clock, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # 20 attempts
    account = AccountFactory(citizen=True)
    for n in range(ACCOUNT_LIMIT):
        ip = f"10.1.{n // 200}.{n % 200}"
        assert account_login(username=account.username, password="wrong", ip=ip).status == LoginStatus.INVALID
    # Over the account-wide threshold: one attempt per interval for that name, from anywhere ...
    first = account_login(username=account.username, password=PASSWORD, ip="10.2.0.1")
    assert first.status == LoginStatus.OK
    second = account_login(username=account.username, password=PASSWORD, ip="10.2.0.2")
    assert second.status == LoginStatus.THROTTLED
    # ... and an administrator's unlock ends the slow-down at once.
    account_unlock(actor=admin_principal(), account=account)
    assert account_login(username=account.username, password=PASSWORD, ip="10.2.0.3").status == LoginStatus.OK


def test_an_account_locked_by_an_administrator_answers_like_a_wrong_password():
    account = AccountFactory(citizen=True, locked_until=timezone.now() + timedelta(hours=1))
    result = account_login(username=account.username, password=PASSWORD)
    assert result.status == LoginStatus.INVALID and result.message == "用户名或密码不正确。"


def test_unknown_username_gets_the_same_message_as_a_wrong_password():
    account = AccountFactory(citizen=True)
    wrong = account_login(username=account.username, password="wrong-password")
    unknown = account_login(username="nobody-here", password="wrong-password")
    assert unknown.status == wrong.status == LoginStatus.INVALID
    assert unknown.message == wrong.message == "用户名或密码不正确。"
    entry = AuditEntry.objects.filter(action="account.login_failed").order_by("seq").last()
    assert entry.actor_account == "system" and entry.after == {
        "username": "nobody-here",
        "reason": "unknown_user",
    }


def test_disabled_account_is_refused_with_the_generic_message():
    account = AccountFactory(citizen=True, is_active=False)
    result = account_login(username=account.username, password=PASSWORD)
    assert result.status == LoginStatus.INVALID and result.message == "用户名或密码不正确。"


@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_are_all_counted():
    """Each failure increments under the account's row lock, so parallel guesses cannot lose counts."""
    account = AccountFactory(citizen=True)
    errors: list[BaseException] = []

    def attempt():
        try:
            account_login(username=account.username, password="wrong-password")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    account.refresh_from_db()
    assert account.failed_logins == 6


def test_unlock_needs_department_manage_and_is_audited():
    account = AccountFactory(
        citizen=True, failed_logins=THRESHOLD, locked_until=timezone.now() + timedelta(hours=1)
    )
    clerk = Principal.for_account(staff_with_roles("window_clerk").account)
    with pytest.raises(PermissionDenied):
        account_unlock(actor=clerk, account=account)
    account_unlock(actor=admin_principal(), account=account)
    account.refresh_from_db()
    assert account.locked_until is None and account.failed_logins == 0
    assert actions(action="account.unlocked") == ["account.unlocked"]
    assert account_login(username=account.username, password=PASSWORD).ok


# --- second factor ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("roles", "needed"),
    [
        (("district_admin",), True),
        (("dispatcher",), True),
        (("window_clerk",), False),
        (("window_clerk", "dispatcher"), True),
        ((), False),
    ],
)
def test_second_factor_is_required_for_admin_and_dispatcher_roles(roles, needed):
    assert account_needs_second_factor(staff_with_roles(*roles).account) is needed


def test_citizens_never_need_the_second_factor():
    assert not account_needs_second_factor(AccountFactory(citizen=True))


def test_password_step_of_an_admin_asks_for_the_second_factor_without_logging_in():
    account = staff_with_roles("district_admin").account
    result = account_login(username=account.username, password=PASSWORD)
    assert result.status == LoginStatus.SECOND_FACTOR and not result.totp_enrolled
    assert actions() == ["account.password_verified"]


def test_totp_secret_is_encrypted_at_rest_and_confirmation_is_audited(clock):
    account = staff_with_roles("dispatcher").account
    secret = enrolled(account, clock)
    with connection.cursor() as cur:
        cur.execute("SELECT totp_secret FROM core_account WHERE id = %s", [account.pk])
        raw = cur.fetchone()[0]
    assert raw.startswith("sm4:") and secret not in raw
    account.refresh_from_db()
    assert account.totp_secret == secret and account.totp_confirmed_at == clock.now
    assert actions() == ["account.totp_enrol_started", "account.totp_enrolled"]


def test_wrong_enrolment_code_is_refused_with_a_field_error(clock):
    account = staff_with_roles("dispatcher").account
    secret, _uri = totp_enrol_begin(account=account)
    accepted = {clock.code(secret, step) for step in (-1, 0, 1)}  # the server's window
    wrong = next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)
    with pytest.raises(ValidationError) as exc:
        totp_enrol_confirm(account=account, code=wrong)
    assert "code" in exc.value.message_dict
    account.refresh_from_db()
    assert account.totp_confirmed_at is None


def test_a_confirmed_authenticator_cannot_be_replaced_by_starting_over(clock):
    account = staff_with_roles("dispatcher").account
    secret = enrolled(account, clock)
    with pytest.raises(ValidationError):
        totp_enrol_begin(account=account)
    account.refresh_from_db()
    assert account.totp_secret == secret


def test_replayed_totp_code_is_refused(clock):
    account = staff_with_roles("district_admin").account
    secret = enrolled(account, clock)
    # The enrolment code's step is used up already.
    assert totp_verify(account=account, code=clock.code(secret)).status == LoginStatus.INVALID
    clock.advance(seconds=30)
    code = clock.code(secret)
    assert totp_verify(account=account, code=code).status == LoginStatus.OK
    replay = totp_verify(account=account, code=code)
    assert replay.status == LoginStatus.INVALID
    reasons = [
        e.after["reason"] for e in AuditEntry.objects.filter(action="account.totp_failed").order_by("seq")
    ]
    assert reasons == ["replayed_code", "replayed_code"]
    assert "account.totp_verified" in actions()


def test_totp_accepts_one_step_of_clock_drift_but_not_two(clock):
    account = staff_with_roles("district_admin").account
    secret = enrolled(account, clock)
    clock.advance(minutes=5)
    assert totp_verify(account=account, code=clock.code(secret, offset_steps=2)).status == LoginStatus.INVALID
    assert totp_verify(account=account, code=clock.code(secret, offset_steps=-1)).status == LoginStatus.OK


def test_totp_failures_count_towards_the_throttle(clock):
    account = staff_with_roles("district_admin").account
    secret = enrolled(account, clock)
    clock.advance(minutes=1)
    for _ in range(THRESHOLD - 1):
        assert totp_verify(account=account, code="12345x", ip="10.0.0.5").status == LoginStatus.INVALID
    # The password step does not clear the count for a two-factor account ...
    assert account_login(username=account.username, password=PASSWORD, ip="10.0.0.5").needs_second_factor
    # ... so after the next wrong code this source must wait, even with the right code.
    assert totp_verify(account=account, code="000001", ip="10.0.0.5").status == LoginStatus.INVALID
    assert (
        totp_verify(account=account, code=clock.code(secret), ip="10.0.0.5").status == LoginStatus.THROTTLED
    )
    account.refresh_from_db()
    assert account.locked_until is None and account.failed_logins == THRESHOLD


def test_admin_can_reset_a_lost_authenticator(clock):
    account = staff_with_roles("dispatcher").account
    enrolled(account, clock)
    with pytest.raises(PermissionDenied):
        account_totp_reset(actor=Principal.for_account(AccountFactory(citizen=True)), account=account)
    account_totp_reset(actor=admin_principal(), account=account)
    account.refresh_from_db()
    assert account.totp_confirmed_at is None and account.totp_secret == ""
    assert "account.totp_reset" in actions()


# --- passwords -----------------------------------------------------------------------------------------------------
def test_password_change_checks_old_password_and_validators():
    account = AccountFactory(citizen=True)
    with pytest.raises(ValidationError) as exc:
        password_change(account=account, old="not-my-password", new="Another-Passw0rd-1")
    assert exc.value.message_dict == {"old_password": ["原密码不正确。"]}
    with pytest.raises(ValidationError) as exc:
        password_change(account=account, old=PASSWORD, new="1234")
    assert exc.value.message_dict["new_password"] == [
        "密码太短，至少需要 10 个字符。",
        "这个密码太常见，容易被猜到。",
        "密码不能全部是数字。",
    ]
    with pytest.raises(ValidationError) as exc:
        password_change(account=account, old=PASSWORD, new=PASSWORD)
    assert exc.value.message_dict == {"new_password": ["新密码不能与原密码相同。"]}
    assert not AuditEntry.objects.filter(action="account.password_changed").exists()


def test_password_change_revokes_api_tokens_and_is_audited():
    account = AccountFactory(citizen=True)
    issued = api_token_issue_for_account(account=account)
    password_change(account=account, old=PASSWORD, new="Brand-New-Passw0rd")
    account.refresh_from_db()
    assert account.check_password("Brand-New-Passw0rd") and account.password.startswith("argon2")
    assert account.password_changed_at is not None
    assert api_token_resolve(token=issued.token) is None
    assert AuditEntry.objects.get(action="account.password_changed").after["api_tokens_revoked"] == 1


# --- registered systems and tokens -----------------------------------------------------------------------------------
def test_registering_a_system_needs_system_manage_and_valid_scopes():
    department = DepartmentFactory()
    clerk = Principal.for_account(staff_with_roles("window_clerk").account)
    with pytest.raises(PermissionDenied):
        registered_system_create(
            actor=clerk, name="市场监管系统", department=department, scopes=["division.view"]
        )
    with pytest.raises(ValidationError) as exc:
        registered_system_create(
            actor=admin_principal(), name="", department=department, scopes=["division.view", "audit.view"]
        )
    assert set(exc.value.message_dict) == {"name", "scopes"}
    assert "audit.view" in exc.value.message_dict["scopes"][0]
    assert not RegisteredSystem.objects.exists()


def test_client_secret_is_shown_once_and_stored_as_argon2():
    system, secret = registered_system_create(
        actor=admin_principal(),
        name="不动产登记系统",
        department=DepartmentFactory(),
        scopes=["division.view"],
    )
    system.refresh_from_db()
    assert system.secret_hash.startswith("argon2") and secret not in system.secret_hash
    assert system.client_id.startswith("ywsys-") and system.scopes == ["division.view"]
    entry = AuditEntry.objects.get(action="system.registered")
    assert secret not in str(entry.after)


def test_system_token_carries_only_the_requested_scopes():
    system, secret = registered_system_create(
        actor=admin_principal(),
        name="公安人口系统",
        department=DepartmentFactory(),
        scopes=["division.view", "person.lookup"],
    )
    issued = api_token_issue_for_system(
        client_id=system.client_id, client_secret=secret, scopes=["division.view"]
    )
    record = ApiToken.objects.get(pk=issued.record.pk)
    assert record.digest != issued.token and len(record.digest) == 64 and record.system == system
    principal = api_token_resolve(token=issued.token)
    assert principal.is_system and principal.has(DIVISION_VIEW) and not principal.has(PERSON_LOOKUP)
    everything = api_token_issue_for_system(client_id=system.client_id, client_secret=secret)
    assert everything.scopes == ["division.view", "person.lookup"]


def test_scope_escalation_wrong_secret_and_inactive_system_are_refused():
    admin = admin_principal()
    system, secret = registered_system_create(
        actor=admin, name="园区系统", department=DepartmentFactory(), scopes=["division.view"]
    )
    with pytest.raises(InvalidScope):
        api_token_issue_for_system(client_id=system.client_id, client_secret=secret, scopes=["person.lookup"])
    with pytest.raises(InvalidClient):
        api_token_issue_for_system(client_id=system.client_id, client_secret="guess")
    with pytest.raises(InvalidClient):
        api_token_issue_for_system(client_id="ywsys-unknown", client_secret=secret)
    registered_system_update(
        actor=admin, system=system, name=system.name, scopes=system.scopes, is_active=False
    )
    with pytest.raises(InvalidClient):
        api_token_issue_for_system(client_id=system.client_id, client_secret=secret)
    reasons = [
        e.after["reason"] for e in AuditEntry.objects.filter(action="system.auth_failed").order_by("seq")
    ]
    assert reasons == ["scope_escalation", "bad_secret", "unknown_client", "inactive"]
    assert not ApiToken.objects.exists()


def test_rotating_the_secret_invalidates_the_old_secret_and_its_tokens():
    admin = admin_principal()
    system, old = registered_system_create(
        actor=admin, name="社保系统", department=DepartmentFactory(), scopes=["division.view"]
    )
    issued = api_token_issue_for_system(client_id=system.client_id, client_secret=old)
    new = registered_system_rotate_secret(actor=admin, system=system)
    assert new != old
    assert api_token_resolve(token=issued.token) is None
    with pytest.raises(InvalidClient):
        api_token_issue_for_system(client_id=system.client_id, client_secret=old)
    assert api_token_issue_for_system(client_id=system.client_id, client_secret=new).token


def test_expired_revoked_and_disabled_owner_tokens_resolve_to_nobody():
    account = staff_with_roles("window_clerk").account
    expired = api_token_issue_for_account(account=account)
    ApiToken.objects.filter(pk=expired.record.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_token_resolve(token=expired.token) is None

    revoked = api_token_issue_for_account(account=account)
    assert api_token_resolve(token=revoked.token).account == account
    api_token_revoke(actor=Principal.for_account(account), token=revoked.record)
    assert api_token_resolve(token=revoked.token) is None
    assert "api_token.revoked" in actions()

    live = api_token_issue_for_account(account=account)
    Account.objects.filter(pk=account.pk).update(is_active=False)
    assert api_token_resolve(token=live.token) is None
    assert api_token_resolve(token="") is None and api_token_resolve(token="x" * 1000) is None


def test_only_the_owner_or_a_system_manager_may_revoke_a_token():
    token = api_token_issue_for_account(account=AccountFactory(citizen=True))
    with pytest.raises(PermissionDenied):
        api_token_revoke(actor=Principal.for_account(AccountFactory(citizen=True)), token=token.record)
    api_token_revoke(actor=admin_principal(), token=token.record)
    assert ApiToken.objects.get(pk=token.record.pk).revoked_at is not None


def test_narrowing_a_systems_scopes_revokes_its_tokens():
    admin = admin_principal()
    system, secret = registered_system_create(
        actor=admin,
        name="统计系统",
        department=DepartmentFactory(),
        scopes=["division.view", "department.view"],
    )
    issued = api_token_issue_for_system(client_id=system.client_id, client_secret=secret)
    registered_system_update(
        actor=admin, system=system, name="统计系统", scopes=["division.view"], is_active=True
    )
    assert api_token_resolve(token=issued.token) is None


def test_every_answer_costs_the_same_hashing_for_real_and_unknown_names(monkeypatch):
    """Timing reveals nothing: one password hash per attempt for any name, none once throttled (for any name)."""
    from yiwang.core.services import identity as identity_services

    hashed: list[str] = []
    real_make, real_check = identity_services.make_password, Account.check_password
    monkeypatch.setattr(
        identity_services, "make_password", lambda raw: hashed.append("make") or real_make(raw)
    )
    monkeypatch.setattr(
        Account, "check_password", lambda self, raw: hashed.append("check") or real_check(self, raw)
    )
    account = AccountFactory(citizen=True)
    costs = {}
    for name in (account.username, "nobody-here"):
        per_attempt = []
        for _ in range(PAIR_LIMIT + 2):
            hashed.clear()
            account_login(username=name, password="wrong-password", ip="10.3.3.3")
            per_attempt.append(len(hashed))
        costs[name] = per_attempt
    assert costs[account.username] == costs["nobody-here"] == [1] * PAIR_LIMIT + [0, 0]
