"""Unified identity (统一身份认证): login with lockout, the TOTP second factor, passwords, API tokens and
registered systems (client credentials).

Failures that must be remembered (a wrong password raises the failure counter, the attempt is audited) are
committed before the caller hears about them: the functions either return a result object or raise only after
their transaction has committed, so an exception never rolls the counter back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import crypto
from ..audit import audit_record
from ..models import Account, ApiToken, RegisteredSystem
from ..permissions import DEPARTMENT_MANAGE, SECOND_FACTOR_ROLES, SYSTEM_MANAGE
from ..principal import Principal
from ..principal_cache import principal_cache_invalidate
from ..ratelimit import RateLimited, rate_check, rate_clear, rate_hit, rate_limit
from .systems import (  # noqa: F401 — re-exported: callers import the registered-system services from here
    _validate_system_scopes,
    registered_system_create,
    registered_system_rotate_secret,
    registered_system_update,
)

TOTP_ISSUER = "Yiwang 一网"
TOTP_VALID_WINDOW = 1  # one 30-second step either side: phone clocks drift
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 256  # anything longer is not one of ours; refuse before hashing


# --- results and errors ------------------------------------------------------------------------------------
class LoginStatus(StrEnum):
    OK = "ok"  # fully authenticated
    SECOND_FACTOR = "second_factor"  # password right, the TOTP step must follow
    INVALID = "invalid"
    THROTTLED = "throttled"  # this name and source must wait `retry_after` seconds


@dataclass(frozen=True)
class LoginResult:
    status: LoginStatus
    account: Account | None = None
    message: str = ""
    locked_until: datetime | None = None
    retry_after: int = 0

    @property
    def ok(self) -> bool:
        return self.status in (LoginStatus.OK, LoginStatus.SECOND_FACTOR)

    @property
    def needs_second_factor(self) -> bool:
        return self.status == LoginStatus.SECOND_FACTOR

    @property
    def totp_enrolled(self) -> bool:
        return self.account is not None and self.account.totp_confirmed_at is not None


class AuthFailure(Exception):
    """A refused token request; `status` and `error` (the OAuth 2.0 error code) shape the problem+json reply."""

    status = 401
    error = "invalid_grant"

    def __init__(self, message: str, *, locked_until: datetime | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.locked_until = locked_until


class InvalidCredentials(AuthFailure):
    status, error = 401, "invalid_grant"


class InvalidClient(AuthFailure):
    status, error = 401, "invalid_client"


class SecondFactorRequired(AuthFailure):
    status, error = 401, "second_factor_required"


class InvalidScope(AuthFailure):
    status, error = 400, "invalid_scope"


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown to the caller once; only its SM3 digest is stored
    record: ApiToken
    scopes: list[str] = field(default_factory=list)

    @property
    def expires_in(self) -> int:
        return max(0, int((self.record.expires_at - timezone.now()).total_seconds()))


# --- messages ----------------------------------------------------------------------------------------------
def _generic_failure() -> str:
    # Same text for an unknown user, a wrong password and a disabled account: no user enumeration.
    return _("用户名或密码不正确。")


def _throttled_message(seconds: int) -> str:
    # Same text whether the name exists or not.
    return _("尝试次数过多，请 %(seconds)s 秒后再试。") % {"seconds": seconds}


def _account_ref(account: Account) -> str:
    return str(account.public_id)


def _audit_account(actor, action: str, account: Account, *, before=None, after=None, ip: str = "") -> None:
    """An audit entry about an account (the login events, unlocks, TOTP changes)."""
    if ip:
        after = {**(after or {}), "ip": ip}
    audit_record(
        actor=actor,
        action=action,
        object_type="account",
        object_id=_account_ref(account),
        before=before,
        after=after,
    )


def token_ref(record: ApiToken) -> str:
    """A short public reference to a token (a prefix of its digest); never the token itself."""
    return record.digest[:16]


# --- throttling (rate limits by account and source together; no lock an attacker controls) -------------------
# A failed password or code counts against three keys: the account name *with* the client address (a handful of
# tries, then that source waits), the client address across all names (password spraying) and the account name
# from everywhere (a distributed guesser). The last never locks the account: above its threshold each further
# attempt for that name must wait a short interval, so the holder can still log in while an attack goes on. The
# keys are the *submitted* name, so an unknown name is counted and refused exactly like a known one.
def _login_keys(username: str, ip: str) -> tuple[str, str, str]:
    name = username.strip().casefold()[:150]
    source = ip or "unknown"
    return f"{name}|{source}", source, name


def _login_throttle(username: str, ip: str) -> None:
    """Raises RateLimited when this name and source must wait; counts nothing itself."""
    pair, source, name = _login_keys(username, ip)
    rate_check(scope="login_pair", key=pair)
    rate_check(scope="login_client", key=source)
    try:
        rate_check(scope="login_account", key=name)
    except RateLimited:
        rate_limit(None, scope="login_account_slow", key=name)


def _login_failure_counted(username: str, ip: str) -> None:
    pair, source, name = _login_keys(username, ip)
    rate_hit(scope="login_pair", key=pair)
    rate_hit(scope="login_client", key=source)
    rate_hit(scope="login_account", key=name)


def _login_success_counted(username: str, ip: str) -> None:
    """The holder got in from this source: its own earlier typos no longer count there."""
    pair, _source, _name = _login_keys(username, ip)
    rate_clear(scope="login_pair", key=pair)


def _throttled(exc: RateLimited, *, username: str, action: str, ip: str) -> LoginResult:
    audit_record(
        actor=None,
        action=action,
        object_type="account",
        after={"username": username[:150], "reason": "throttled", **({"ip": ip} if ip else {})},
    )
    return LoginResult(
        LoginStatus.THROTTLED, None, _throttled_message(exc.retry_after), None, exc.retry_after
    )


def _lock_account(account_id: int) -> Account:
    return Account.objects.select_for_update().get(pk=account_id)


def _record_failure(account: Account, *, action: str, reason: str, ip: str) -> LoginResult:
    # failed_logins is kept for the administrator's view of an account under attack; it locks nothing.
    account.failed_logins += 1
    _audit_account(
        account, action, account, after={"reason": reason, "failed_logins": account.failed_logins}, ip=ip
    )
    account.save(update_fields=["failed_logins"])
    _login_failure_counted(account.username, ip)
    return LoginResult(LoginStatus.INVALID, None, _generic_failure())


def _reset_failures(account: Account) -> None:
    if account.failed_logins or account.locked_until is not None:
        account.failed_logins = 0
        account.locked_until = None
        account.save(update_fields=["failed_logins", "locked_until"])


# --- login ----------------------------------------------------------------------------------------------------
def account_needs_second_factor(account: Account) -> bool:
    """Staff holding an administrator or dispatcher role must pass TOTP (等保三级: two factors for admins)."""
    if account.kind != Account.Kind.STAFF:
        return False
    staff = getattr(account, "staff", None)
    if staff is None:
        return False
    return staff.roles.filter(role__in=[str(r) for r in SECOND_FACTOR_ROLES]).exists()


def account_login(*, username: str, password: str, ip: str = "") -> LoginResult:
    """Checks the password under the account's row lock, after the throttle for this name and source.

    OK: fully logged in (audited as account.login, failure counter reset). SECOND_FACTOR: the password was right
    but TOTP must follow; the throttle counts are deliberately NOT cleared yet, otherwise someone holding the
    password could alternate password and code guesses forever. An unknown name, a wrong password, a disabled
    account and an account an administrator locked all answer INVALID after the same password hashing, and a
    throttled attempt answers THROTTLED before any hashing whether the name exists or not: the answer and its
    timing reveal nothing about which names exist.
    """
    now = timezone.now()
    try:
        _login_throttle(username, ip)
    except RateLimited as exc:
        with transaction.atomic():
            return _throttled(exc, username=username, action="account.login_failed", ip=ip)
    with transaction.atomic():
        account = Account.objects.select_for_update().filter(username=username).first()
        if account is None:
            # Hash anyway so an unknown name costs the same time as a wrong password.
            make_password(password)
            audit_record(
                actor=None,
                action="account.login_failed",
                object_type="account",
                after={"username": username[:150], "reason": "unknown_user", **({"ip": ip} if ip else {})},
            )
            _login_failure_counted(username, ip)
            return LoginResult(LoginStatus.INVALID, None, _generic_failure())
        if not account.check_password(password):
            return _record_failure(account, action="account.login_failed", reason="bad_password", ip=ip)
        if not account.is_active or (account.locked_until is not None and account.locked_until > now):
            reason = "inactive" if not account.is_active else "locked_by_administrator"
            _audit_account(account, "account.login_failed", account, after={"reason": reason}, ip=ip)
            _login_failure_counted(username, ip)
            return LoginResult(LoginStatus.INVALID, None, _generic_failure())
        if account_needs_second_factor(account):
            _audit_account(
                account, "account.password_verified", account, after={"second_factor": "totp"}, ip=ip
            )
            return LoginResult(LoginStatus.SECOND_FACTOR, account)
        _reset_failures(account)
        _login_success_counted(username, ip)
        _audit_account(account, "account.login", account, after={"method": "password"}, ip=ip)
        return LoginResult(LoginStatus.OK, account)


def account_login_complete(*, account: Account, method: str = "password+totp", ip: str = "") -> Account:
    """Marks a two-step login as complete once the second factor passed: audit entry, counter reset."""
    with transaction.atomic():
        locked = _lock_account(account.pk)
        _reset_failures(locked)
        _login_success_counted(locked.username, ip)
        _audit_account(locked, "account.login", locked, after={"method": method}, ip=ip)
    return locked


def account_logout(*, account: Account) -> None:
    with transaction.atomic():
        _audit_account(account, "account.logout", account)


def account_unlock(*, actor: Principal, account: Account) -> Account:
    actor.require(DEPARTMENT_MANAGE)
    with transaction.atomic():
        locked = _lock_account(account.pk)
        before = {"failed_logins": locked.failed_logins, "locked_until": locked.locked_until}
        locked.failed_logins = 0
        locked.locked_until = None
        locked.save(update_fields=["failed_logins", "locked_until"])
        _audit_account(
            actor, "account.unlocked", locked, before=before, after={"failed_logins": 0, "locked_until": None}
        )
    # The account-wide slow-down ends too; each source's own few tries run out by themselves.
    _pair, _source, name = _login_keys(locked.username, "")
    rate_clear(scope="login_account", key=name)
    rate_clear(scope="login_account_slow", key=name)
    return locked


# --- TOTP second factor -------------------------------------------------------------------------------------
def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret)


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step the code belongs to (within the valid window), or None. Knowing the step lets us refuse
    a code that was already used, which pyotp's verify() alone cannot."""
    code = (code or "").strip().replace(" ", "")
    if not secret or len(code) != 6 or not code.isdecimal():
        return None
    totp = _totp(secret)
    current = totp.timecode(now)
    for offset in range(-TOTP_VALID_WINDOW, TOTP_VALID_WINDOW + 1):
        if pyotp.utils.strings_equal(code, totp.generate_otp(current + offset)):
            return current + offset
    return None


def totp_provisioning_uri(account: Account) -> str:
    return _totp(account.totp_secret).provisioning_uri(name=account.username, issuer_name=TOTP_ISSUER)


def totp_enrol_begin(*, account: Account) -> tuple[str, str]:
    """A fresh secret (stored SM4-encrypted, unconfirmed) and its otpauth:// URI for the authenticator app.

    An account that already has a confirmed authenticator cannot start over here: otherwise anyone holding
    only the password could replace the second factor. An administrator resets it (account_totp_reset).
    """
    secret = pyotp.random_base32()
    with transaction.atomic():
        locked = _lock_account(account.pk)
        if locked.totp_confirmed_at is not None:
            raise ValidationError({"code": _("已绑定动态口令；如需更换设备，请联系管理员重置。")})
        locked.totp_secret = secret
        locked.totp_last_step = 0
        locked.save(update_fields=["totp_secret", "totp_last_step"])
        _audit_account(locked, "account.totp_enrol_started", locked)
    account.totp_secret, account.totp_confirmed_at, account.totp_last_step = secret, None, 0
    return secret, totp_provisioning_uri(account)


def totp_enrol_confirm(*, account: Account, code: str) -> Account:
    """Confirms enrolment with a first code from the app. Raises ValidationError({"code": ...}) when wrong."""
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_account(account.pk)
        if locked.totp_confirmed_at is not None:
            raise ValidationError({"code": _("已绑定动态口令。")})
        if not locked.totp_secret:
            raise ValidationError({"code": _("请先扫描二维码开始绑定。")})
        step = _totp_step(locked.totp_secret, code, now)
        if step is None:
            # Not counted towards lockout: whoever is here sees the secret on screen, a miss is a typo.
            raise ValidationError({"code": _("动态口令不正确，请核对手机上显示的 6 位数字。")})
        locked.totp_confirmed_at = now
        locked.totp_last_step = step
        locked.save(update_fields=["totp_confirmed_at", "totp_last_step"])
        _audit_account(locked, "account.totp_enrolled", locked, after={"confirmed_at": now})
    account.totp_confirmed_at, account.totp_last_step = now, step
    return locked


def totp_verify(*, account: Account, code: str, ip: str = "") -> LoginResult:
    """Checks a TOTP code: ±1 step, a step never accepted twice, failures counted by the login throttle."""
    now = timezone.now()
    try:
        _login_throttle(account.username, ip)
    except RateLimited as exc:
        with transaction.atomic():
            return _throttled(exc, username=account.username, action="account.totp_failed", ip=ip)
    with transaction.atomic():
        locked = _lock_account(account.pk)
        if locked.totp_confirmed_at is None:
            return _record_failure(locked, action="account.totp_failed", reason="not_enrolled", ip=ip)
        step = _totp_step(locked.totp_secret, code, now)
        if step is None:
            return _record_failure(locked, action="account.totp_failed", reason="bad_code", ip=ip)
        if step <= locked.totp_last_step:
            return _record_failure(locked, action="account.totp_failed", reason="replayed_code", ip=ip)
        locked.totp_last_step = step
        locked.failed_logins = 0
        locked.save(update_fields=["totp_last_step", "failed_logins"])
        _audit_account(locked, "account.totp_verified", locked)
    account.totp_last_step, account.failed_logins = step, 0
    return LoginResult(LoginStatus.OK, locked)


def account_totp_reset(*, actor: Principal, account: Account) -> Account:
    """An administrator clears a lost authenticator; the holder enrols again at the next login."""
    actor.require(DEPARTMENT_MANAGE)
    with transaction.atomic():
        locked = _lock_account(account.pk)
        before = {"totp_confirmed_at": locked.totp_confirmed_at}
        locked.totp_secret = ""
        locked.totp_confirmed_at = None
        locked.totp_last_step = 0
        locked.save(update_fields=["totp_secret", "totp_confirmed_at", "totp_last_step"])
        _audit_account(actor, "account.totp_reset", locked, before=before, after={"totp_confirmed_at": None})
    return locked


# --- passwords -------------------------------------------------------------------------------------------------
def _password_message(error: ValidationError) -> str:
    """Our own Chinese text per validator code: Django's zh-hans catalogue lags behind some of its messages."""
    params = error.params or {}
    messages = {
        "password_too_short": _("密码太短，至少需要 %(min_length)d 个字符。"),
        "password_too_common": _("这个密码太常见，容易被猜到。"),
        "password_entirely_numeric": _("密码不能全部是数字。"),
        "password_too_similar": _("密码与您的账户信息（%(verbose_name)s）过于相似。"),
    }
    template = messages.get(error.code or "")
    if template is None:
        return error.messages[0]
    try:
        return template % params
    except (KeyError, TypeError, ValueError):
        return error.messages[0]


def password_change(*, account: Account, old: str, new: str) -> Account:
    """Changes the password after checking the old one and Django's validators; revokes the API tokens."""
    if not account.check_password(old):
        raise ValidationError({"old_password": _("原密码不正确。")})
    if new == old:
        raise ValidationError({"new_password": _("新密码不能与原密码相同。")})
    try:
        validate_password(new, user=account)
    except ValidationError as exc:
        raise ValidationError({"new_password": [_password_message(e) for e in exc.error_list]}) from exc
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_account(account.pk)
        locked.set_password(new)
        locked.password_changed_at = now
        locked.save(update_fields=["password", "password_changed_at"])
        revoked = ApiToken.objects.filter(account=locked, revoked_at__isnull=True).update(revoked_at=now)
        principal_cache_invalidate()  # a bulk update sends no signal
        _audit_account(
            locked,
            "account.password_changed",
            locked,
            after={"changed_at": now, "api_tokens_revoked": revoked},
        )
    account.password, account.password_changed_at = locked.password, now
    return locked


# --- API tokens ------------------------------------------------------------------------------------------------
def _digest(token: str) -> str:
    return crypto.sm3_hex(token.encode())


def _new_token(*, account: Account | None, system: RegisteredSystem | None, scopes: list[str]) -> IssuedToken:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    record = ApiToken.objects.create(
        digest=_digest(token),
        account=account,
        system=system,
        scopes=scopes,
        expires_at=timezone.now() + timedelta(hours=settings.YIWANG_API_TOKEN_HOURS),
    )
    return IssuedToken(token=token, record=record, scopes=scopes)


def api_token_issue_for_account(*, account: Account) -> IssuedToken:
    """A bearer token acting as the account (its roles decide what it may do). Caller has authenticated it."""
    if not account.is_active:
        raise InvalidCredentials(_generic_failure())
    scopes = sorted(p.code for p in Principal.for_account(account).permissions)
    with transaction.atomic():
        issued = _new_token(account=account, system=None, scopes=scopes)
        audit_record(
            actor=account,
            action="api_token.issued",
            object_type="api_token",
            object_id=token_ref(issued.record),
            after={"owner": "account", "expires_at": issued.record.expires_at},
        )
    return issued


def api_token_issue_for_password(
    *, username: str, password: str, totp: str | None = None, ip: str = ""
) -> IssuedToken:
    """The OAuth 2.0 password grant: the same login rules as the web page, second factor included."""
    result = account_login(username=username, password=password, ip=ip)
    if result.status == LoginStatus.THROTTLED:
        raise RateLimited(result.retry_after, "login")
    if not result.ok:
        raise InvalidCredentials(result.message)
    account = result.account
    if result.needs_second_factor:
        if not result.totp_enrolled:
            raise SecondFactorRequired(_("该账户须使用动态口令，请先在网页登录并完成动态口令绑定。"))
        if not totp:
            raise SecondFactorRequired(_("该账户须提供动态口令：请在 totp 参数中填写验证器上的 6 位数字。"))
        second = totp_verify(account=account, code=totp, ip=ip)
        if second.status == LoginStatus.THROTTLED:
            raise RateLimited(second.retry_after, "login")
        if not second.ok:
            raise SecondFactorRequired(_("动态口令不正确或已被使用。"))
        account = account_login_complete(account=account, method="api:password+totp", ip=ip)
    return api_token_issue_for_account(account=account)


_DUMMY_SECRET_HASH: str | None = None


def _dummy_check(secret: str) -> None:
    """Spends one argon2 verification on an unknown client id, so timing does not tell which ids exist."""
    global _DUMMY_SECRET_HASH
    if _DUMMY_SECRET_HASH is None:
        _DUMMY_SECRET_HASH = make_password(secrets.token_urlsafe(16))
    check_password(secret, _DUMMY_SECRET_HASH)


def api_token_issue_for_system(*, client_id: str, client_secret: str, scopes=None) -> IssuedToken:
    """The OAuth 2.0 client-credentials grant. `scopes` (None = all granted) must be a subset of the grant."""
    failure: AuthFailure | None = None
    issued: IssuedToken | None = None
    with transaction.atomic():
        system = (
            RegisteredSystem.objects.select_related("department").filter(client_id=client_id or "").first()
        )
        if system is None:
            _dummy_check(client_secret or "")
            reason = "unknown_client"
        elif not check_password(client_secret or "", system.secret_hash):
            reason = "bad_secret"
        elif not system.is_active:
            reason = "inactive"
        else:
            reason = ""
        if reason:
            audit_record(
                actor=system,
                action="system.auth_failed",
                object_type="registered_system",
                object_id=str(system.public_id) if system else "",
                after={"client_id": (client_id or "")[:64], "reason": reason},
            )
            failure = InvalidClient(_("客户端标识或密钥不正确，或该接入系统已停用。"))
        else:
            requested = sorted(set(scopes)) if scopes else sorted(system.scopes)
            beyond = sorted(set(requested) - set(system.scopes))
            if beyond:
                audit_record(
                    actor=system,
                    action="system.auth_failed",
                    object_type="registered_system",
                    object_id=str(system.public_id),
                    after={"reason": "scope_escalation", "requested": requested},
                )
                failure = InvalidScope(
                    _("申请的授权范围超出该系统的授权：%(codes)s") % {"codes": "、".join(beyond)}
                )
            else:
                issued = _new_token(account=None, system=system, scopes=requested)
                audit_record(
                    actor=system,
                    action="api_token.issued",
                    object_type="api_token",
                    object_id=token_ref(issued.record),
                    after={"owner": "system", "scopes": requested, "expires_at": issued.record.expires_at},
                )
    # Raised after the commit, so the failure stays in the audit chain.
    if failure is not None:
        raise failure
    return issued


def _live_token(token: str) -> ApiToken | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    # Every API call runs this: one unordered lookup by the unique digest, liveness checked in Python.
    rows = list(
        ApiToken.objects.select_related("account__staff__department", "system__department")
        .defer("account__totp_secret")  # decrypted only where a second factor is checked
        .filter(digest=_digest(token))[:1]
    )
    record = rows[0] if rows else None
    if record is None or record.revoked_at is not None or record.expires_at <= timezone.now():
        return None
    owner = record.account if record.account_id else record.system
    if owner is None or not owner.is_active:
        return None
    return record


def api_token_lookup(*, token: str) -> tuple[Principal | None, float | None]:
    """(the principal a bearer token acts as, seconds until the token expires), or (None, None) when it is
    unknown, expired, revoked or its owner disabled. The principal cache (core/principal_cache.py) keeps the
    answer no longer than the token lives."""
    record = _live_token(token)
    if record is None:
        return None, None
    left = (record.expires_at - timezone.now()).total_seconds()
    if record.account_id:
        return Principal.for_account(record.account), left
    return Principal.for_system(record.system, record.scopes), left


def api_token_resolve(*, token: str) -> Principal | None:
    """The principal a bearer token acts as, or None (unknown, expired, revoked, or owner disabled)."""
    return api_token_lookup(token=token)[0]


def api_token_revoke(*, actor: Principal, token: ApiToken) -> ApiToken:
    """Revokes a token: its owner may, and so may a holder of SYSTEM_MANAGE. Revoking twice is a no-op."""
    own = (actor.account is not None and token.account_id == getattr(actor.account, "pk", None)) or (
        actor.system is not None and token.system_id == getattr(actor.system, "pk", None)
    )
    if not own:
        actor.require(SYSTEM_MANAGE)
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor,
                action="api_token.revoked",
                object_type="api_token",
                object_id=token_ref(locked),
                after={"revoked_at": locked.revoked_at},
            )
    token.revoked_at = locked.revoked_at
    return locked


def api_token_revoke_presented(*, token: str) -> bool:
    """Revokes the token the caller presents (RFC 7009 style: holding it is the authority). False if not live."""
    record = _live_token(token)
    if record is None:
        return False
    principal = (
        Principal.for_account(record.account)
        if record.account_id
        else Principal.for_system(record.system, record.scopes)
    )
    api_token_revoke(actor=principal, token=record)
    return True


# --- profile of the signed-in principal (read of one's own account; nothing to scope) -------------------------
@dataclass(frozen=True)
class AccountProfile:
    kind: str
    kind_label: str
    username: str
    name: str
    roles: list[dict]
    permissions: list[str]
    department: dict | None
    organisation: dict | None
    second_factor_required: bool
    totp_enrolled: bool


def account_profile(*, principal: Principal) -> AccountProfile:
    account = principal.account
    if account is None:
        raise ValidationError(_("接入系统没有个人账户信息。"))
    staff = principal.staff
    person = account.person if account.person_id else None
    name = (staff.name if staff else "") or (person.name if person else "") or account.get_full_name()
    department = principal.department
    organisation = account.organisation if account.organisation_id else None
    roles = sorted({(r.role, r.get_role_display()) for r in staff.roles.all()}) if staff else []
    return AccountProfile(
        kind=account.kind,
        kind_label=str(account.get_kind_display()),
        username=account.username,
        name=name or account.username,
        roles=[{"code": code, "label": str(label)} for code, label in roles],
        permissions=sorted(p.code for p in principal.permissions),
        department={"code": department.code, "name": department.name} if department else None,
        organisation={"uscc": organisation.uscc, "name": organisation.name} if organisation else None,
        second_factor_required=account_needs_second_factor(account),
        totp_enrolled=account.totp_confirmed_at is not None,
    )
