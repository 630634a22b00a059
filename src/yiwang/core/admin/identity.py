"""Admin: identity — accounts (read-only, unlock and TOTP reset actions), registered systems, API tokens.

Every write goes through services/identity.py, so the admin is audited like the API. Password hashes and
TOTP secrets are never shown. The admin's own login page is replaced by the platform login, so signing into
the admin passes the same lockout and second factor as everything else.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import Account, ApiToken, RegisteredSystem
from ..permissions import SYSTEM_MANAGE, SYSTEM_SCOPES
from ..principal import Principal
from ..services.identity import (
    account_totp_reset,
    account_unlock,
    api_token_revoke,
    registered_system_create,
    registered_system_rotate_secret,
    registered_system_update,
    token_ref,
)


# --- the admin signs in through the platform login ---------------------------------------------------------------
def admin_login_redirect(request: HttpRequest, extra_context=None) -> HttpResponseRedirect:
    """Replaces AdminSite.login: send the visitor to core:login (password, lockout, TOTP) and back."""
    next_url = request.GET.get("next") or reverse("admin:index")
    return HttpResponseRedirect(f"{reverse('core:login')}?{urlencode({'next': next_url})}")


admin.site.login = admin_login_redirect
admin.site.site_header = gettext_lazy("一网 · 管理后台")
admin.site.site_title = gettext_lazy("一网管理后台")
admin.site.index_title = gettext_lazy("系统配置")


def _principal(request: HttpRequest) -> Principal:
    return Principal.for_account(request.user)


def _run(modeladmin: admin.ModelAdmin, request: HttpRequest, func, *args, **kwargs):
    """Calls a service and turns refusals into admin messages instead of error pages."""
    try:
        return func(*args, **kwargs)
    except PermissionDenied as exc:
        modeladmin.message_user(request, str(exc) or _("您没有执行此操作的权限。"), messages.ERROR)
    except ValidationError as exc:
        modeladmin.message_user(request, "；".join(exc.messages), messages.ERROR)
    return None


# --- accounts -------------------------------------------------------------------------------------------------
@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("username", "kind", "is_active", "locked_until", "failed_logins", "totp_confirmed")
    list_filter = ("kind", "is_active")
    search_fields = ("username",)
    ordering = ("username",)
    show_full_result_count = False
    # Explicit list: the password hash and the TOTP secret are never on the page.
    fields = (
        "username",
        "kind",
        "first_name",
        "last_name",
        "person",
        "organisation",
        "is_active",
        "is_staff",
        "is_superuser",
        "date_joined",
        "last_login",
        "password_changed_at",
        "failed_logins",
        "locked_until",
        "totp_confirmed_at",
    )
    readonly_fields = fields
    actions = ("unlock_accounts", "reset_totp")

    @admin.display(boolean=True, description=gettext_lazy("已绑定动态口令"), ordering="totp_confirmed_at")
    def totp_confirmed(self, obj: Account) -> bool:
        return obj.totp_confirmed_at is not None

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # view only: changes go through the actions below (audited services)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Accounts come from registration, staff onboarding and `yiwang createadmin`, each an audited service.
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description=gettext_lazy("解除锁定"))
    def unlock_accounts(self, request: HttpRequest, queryset) -> None:
        done = 0
        for account in queryset:
            if _run(self, request, account_unlock, actor=_principal(request), account=account) is None:
                return
            done += 1
        self.message_user(request, _("已解除 %(n)d 个账户的锁定。") % {"n": done}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("重置动态口令（下次登录重新绑定）"))
    def reset_totp(self, request: HttpRequest, queryset) -> None:
        done = 0
        for account in queryset:
            if _run(self, request, account_totp_reset, actor=_principal(request), account=account) is None:
                return
            done += 1
        self.message_user(request, _("已重置 %(n)d 个账户的动态口令。") % {"n": done}, messages.SUCCESS)


# --- registered systems -----------------------------------------------------------------------------------------
def _scope_choices() -> list[tuple[str, str]]:
    return sorted((p.code, f"{p.code} — {p.description}") for p in SYSTEM_SCOPES)


class RegisteredSystemForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("授权范围"),
        choices=_scope_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("请至少选择一项授权范围。")},
    )

    class Meta:
        model = RegisteredSystem
        fields = ("name", "department", "scopes", "is_active")


@admin.register(RegisteredSystem)
class RegisteredSystemAdmin(admin.ModelAdmin):
    form = RegisteredSystemForm
    list_display = ("name", "client_id", "department", "scope_list", "is_active", "created_at")
    list_filter = ("is_active",)
    list_select_related = ("department",)
    search_fields = ("name", "client_id")
    readonly_fields = ("client_id", "created_at")
    actions = ("rotate_secret",)

    @admin.display(description=gettext_lazy("授权范围"))
    def scope_list(self, obj: RegisteredSystem) -> str:
        return " ".join(obj.scopes)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "department", "scopes")
        return ("client_id", "name", "department", "scopes", "is_active", "created_at")

    def get_readonly_fields(self, request, obj=None):
        # The responsible department is fixed once credentials exist: register a new system instead.
        return ("client_id", "department", "created_at") if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # deactivate instead; tokens and the audit trail refer to the system

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            registered_system_update(
                actor=_principal(request),
                system=obj,
                name=data["name"],
                scopes=data["scopes"],
                is_active=data.get("is_active", obj.is_active),
            )
            obj.refresh_from_db()
            return
        system, secret = registered_system_create(
            actor=_principal(request), name=data["name"], department=data["department"], scopes=data["scopes"]
        )
        # The admin continues with `obj` (change-log entry, redirect): make it the saved row.
        obj.pk = system.pk
        obj.refresh_from_db()
        obj._state.adding = False
        messages.success(
            request,
            format_html(
                _(
                    "接入系统已创建。客户端标识：<code>{}</code>；客户端密钥：<code>{}</code>。密钥只显示这一次，请立即妥善保存。"
                ),
                system.client_id,
                secret,
            ),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Django's model permission plus the platform's own: registering systems needs SYSTEM_MANAGE.
        return super().has_add_permission(request) and _principal(request).has(SYSTEM_MANAGE)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and _principal(request).has(SYSTEM_MANAGE)

    @admin.action(description=gettext_lazy("轮换客户端密钥（旧密钥与已签发令牌立即失效）"))
    def rotate_secret(self, request: HttpRequest, queryset) -> None:
        for system in queryset:
            secret = _run(
                self, request, registered_system_rotate_secret, actor=_principal(request), system=system
            )
            if secret is None:
                return
            messages.success(
                request,
                format_html(
                    _("{} 的新客户端密钥：<code>{}</code>。密钥只显示这一次，请立即妥善保存。"),
                    system.name,
                    secret,
                ),
            )


# --- API tokens -------------------------------------------------------------------------------------------------
@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("reference", "owner", "scope_list", "created_at", "expires_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("account", "system")
    ordering = ("-created_at",)
    show_full_result_count = False
    fields = ("reference", "owner", "scope_list", "created_at", "expires_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke",)

    @admin.display(description=gettext_lazy("令牌编号"))
    def reference(self, obj: ApiToken) -> str:
        return token_ref(obj)

    @admin.display(description=gettext_lazy("持有者"))
    def owner(self, obj: ApiToken) -> str:
        return str(obj.account) if obj.account_id else _("接入系统：%(name)s") % {"name": obj.system}

    @admin.display(description=gettext_lazy("授权范围"))
    def scope_list(self, obj: ApiToken) -> str:
        return " ".join(obj.scopes) if obj.system_id else _("按账户角色")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description=gettext_lazy("吊销所选令牌"))
    def revoke(self, request: HttpRequest, queryset) -> None:
        done = 0
        for token in queryset.filter(revoked_at__isnull=True):
            if _run(self, request, api_token_revoke, actor=_principal(request), token=token) is None:
                return
            done += 1
        self.message_user(request, _("已吊销 %(n)d 个令牌。") % {"n": done}, messages.SUCCESS)
