"""Pages: login (password, then the TOTP step or TOTP enrolment), logout, my account, password change.

A login that still owes its second factor is NOT a Django login: the session only carries the pending
account's public id with a short expiry, and `django.contrib.auth.login` runs once the second factor passed.
So a half-authenticated session is anonymous to every `login_required` page and to the API.
"""

from __future__ import annotations

import time

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from ..identity import IDLE_LOGOUT_FLAG
from ..models import Account
from ..pageutils import page_requires
from ..permissions import PUBLIC, SELF_SERVICE
from ..principal import Principal
from ..ratelimit import client_key
from ..services.identity import (
    LoginStatus,
    account_login,
    account_login_complete,
    account_logout,
    account_profile,
    password_change,
    totp_enrol_begin,
    totp_enrol_confirm,
    totp_provisioning_uri,
    totp_verify,
)

PENDING_KEY = "yiwang_pending_login"
PENDING_SECONDS = 300  # the second step must follow within five minutes
BACKEND = "yiwang.core.identity.AccountBackend"


# --- declared permissions for pages ---------------------------------------------------------------------------
page = page_requires  # one shared page decorator (core.pageutils)


# --- forms ----------------------------------------------------------------------------------------------------
class LoginForm(forms.Form):
    username = forms.CharField(
        label=gettext_lazy("用户名"),
        max_length=150,
        error_messages={"required": gettext_lazy("请输入用户名。")},
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=gettext_lazy("密码"),
        strip=False,
        error_messages={"required": gettext_lazy("请输入密码。")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TotpForm(forms.Form):
    code = forms.RegexField(
        label=gettext_lazy("动态口令"),
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        error_messages={
            "required": gettext_lazy("请输入验证器上显示的 6 位数字。"),
            "invalid": gettext_lazy("动态口令为 6 位数字。"),
        },
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"[0-9 ]*",
                "maxlength": 7,
                "autofocus": True,
            }
        ),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=gettext_lazy("原密码"),
        strip=False,
        error_messages={"required": gettext_lazy("请输入原密码。")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=gettext_lazy("新密码"),
        strip=False,
        error_messages={"required": gettext_lazy("请输入新密码。")},
        help_text=gettext_lazy("至少 10 位，不能是常见密码，不能全为数字。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("确认新密码"),
        strip=False,
        error_messages={"required": gettext_lazy("请再次输入新密码。")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("new_password")
            and data.get("new_password2")
            and data["new_password"] != data["new_password2"]
        ):
            self.add_error("new_password2", _("两次输入的新密码不一致。"))
        return data


def _apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Puts a service's field-level ValidationError onto the form (unknown fields become form errors)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- helpers --------------------------------------------------------------------------------------------------
def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    """`next` only when it is a local URL on this host; anything else falls back to the home page."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _client_ip(request: HttpRequest) -> str:
    return client_key(request)


def _set_pending(request: HttpRequest, account: Account, next_url: str) -> None:
    # A fresh session key for the pending state too, so a planted session id never carries a login forward.
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "account": str(account.public_id),
        "expires": int(time.time()) + PENDING_SECONDS,
        "next": next_url,
    }


def _pending(request: HttpRequest) -> tuple[Account | None, str]:
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None, ""
    if int(data.get("expires", 0)) < time.time():
        request.session.pop(PENDING_KEY, None)
        return None, ""
    account = Account.objects.filter(public_id=data.get("account"), is_active=True).first()
    if account is None:
        request.session.pop(PENDING_KEY, None)
    return account, data.get("next", "")


def _pending_lost(request: HttpRequest) -> HttpResponse:
    messages.warning(request, _("登录已超时，请重新输入用户名和密码。"))
    return redirect("core:login")


def _finish_login(request: HttpRequest, account: Account, next_url: str) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    # auth.login rotates the session key again (session fixation) and records last_login.
    auth_login(request, account, backend=BACKEND)
    request.session["last_seen"] = int(time.time())
    return redirect(_safe_next(request, next_url))


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


# --- pages ----------------------------------------------------------------------------------------------------
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
@page(PUBLIC)
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    idle = request.session.pop(IDLE_LOGOUT_FLAG, False)
    form = LoginForm(request.POST or None)
    throttled = False
    if request.method == "POST" and form.is_valid():
        result = account_login(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            ip=_client_ip(request),
        )
        if result.status == LoginStatus.OK:
            return _finish_login(request, result.account, next_url)
        if result.status == LoginStatus.SECOND_FACTOR:
            _set_pending(request, result.account, next_url)
            return redirect("core:login_totp" if result.totp_enrolled else "core:totp_enrol")
        throttled = result.status == LoginStatus.THROTTLED
        form.add_error(None, result.message)
    context = {
        "form": form,
        "next": next_url if next_url and _safe_next(request, next_url) == next_url else "",
        "idle_logout": idle,
        "locked": throttled,
    }
    response = render(request, "core/identity/login.html", context, status=429 if throttled else 200)
    if throttled:
        response["Retry-After"] = str(result.retry_after)
    return response


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
@page(PUBLIC)
def login_totp_view(request: HttpRequest) -> HttpResponse:
    account, next_url = _pending(request)
    if account is None:
        return _pending_lost(request)
    if account.totp_confirmed_at is None:
        return redirect("core:totp_enrol")
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = totp_verify(account=account, code=form.cleaned_data["code"], ip=_client_ip(request))
        if result.status == LoginStatus.OK:
            account = account_login_complete(account=account, method="password+totp", ip=_client_ip(request))
            return _finish_login(request, account, next_url)
        if result.status == LoginStatus.THROTTLED:
            request.session.pop(PENDING_KEY, None)
            messages.error(request, result.message)
            return redirect("core:login")
        form.add_error("code", _("动态口令不正确或已被使用，请等待验证器刷新后重试。"))
    return render(request, "core/identity/login_totp.html", {"form": form, "account": account})


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
@page(PUBLIC)
def totp_enrol_view(request: HttpRequest) -> HttpResponse:
    """First login of an account that must use TOTP: show the secret and QR code, confirm with a first code."""
    account, next_url = _pending(request)
    if account is None:
        return _pending_lost(request)
    if account.totp_confirmed_at is not None:
        return redirect("core:login_totp")
    form = TotpForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                totp_enrol_confirm(account=account, code=form.cleaned_data["code"])
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                account = account_login_complete(
                    account=account, method="password+totp_enrol", ip=_client_ip(request)
                )
                messages.success(request, _("动态口令绑定成功。以后登录时请输入验证器上的 6 位数字。"))
                return _finish_login(request, account, next_url)
        secret = account.totp_secret
        uri = totp_provisioning_uri(account) if secret else ""
    elif request.session[PENDING_KEY].get("enrolling") and account.totp_secret:
        # A reload within the same login attempt shows the same secret, so a code already scanned still works.
        secret, uri = account.totp_secret, totp_provisioning_uri(account)
    else:
        # A new secret per login attempt: nobody can pre-read a secret the holder is about to bind.
        secret, uri = totp_enrol_begin(account=account)
        request.session[PENDING_KEY] = {**request.session[PENDING_KEY], "enrolling": True}
    context = {
        "form": form,
        "account": account,
        "secret": secret,
        "qr_svg": mark_safe(_qr_svg(uri)) if uri else "",
    }
    return render(request, "core/identity/totp_enrol.html", context)


@require_POST
@csrf_protect
@page(PUBLIC)
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        account_logout(account=request.user)
    auth_logout(request)  # flushes the session, pending second-factor state included
    messages.info(request, _("您已安全退出。"))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@never_cache
@page(SELF_SERVICE)
def account_view(request: HttpRequest) -> HttpResponse:
    profile = account_profile(principal=Principal.for_account(request.user))
    return render(request, "core/identity/account.html", {"profile": profile, "account": request.user})


@sensitive_post_parameters("old_password", "new_password", "new_password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
@page(SELF_SERVICE)
def password_change_view(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = password_change(
                account=request.user,
                old=form.cleaned_data["old_password"],
                new=form.cleaned_data["new_password"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            # Keeps this session; every other session of the account ends (its auth hash no longer matches).
            update_session_auth_hash(request, account)
            messages.success(request, _("密码已修改；其他设备上的登录和接口令牌已失效。"))
            return redirect("core:account")
    return render(request, "core/identity/password_change.html", {"form": form})


urlpatterns = [
    path("login/", login_view, name="login"),
    path("login/totp/", login_totp_view, name="login_totp"),
    path("login/totp/enrol/", totp_enrol_view, name="totp_enrol"),
    path("logout/", logout_view, name="logout"),
    path("account/", account_view, name="account"),
    path("account/password/", password_change_view, name="password_change"),
]
