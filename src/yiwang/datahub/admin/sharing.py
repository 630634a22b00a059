"""Admin of 共享申请 and 共享授权: read-mostly. Requests and their events are read-only (moves go through
services.sharing.share_request_transition on the pages and the API); grants can be suspended, resumed or revoked
by the centre with the actions below (the same service, audited); disputes are resolved by writing the resolution
(services.grants.share_dispute_resolve)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.admin.mixins import ReadOnlyAdminMixin
from yiwang.core.admin.org import admin_principal

from ..models import ShareDispute, ShareGrant, ShareRating, ShareRequest, ShareRequestEvent
from ..services.grants import share_dispute_resolve
from ..services.sharing import share_request_transition


class ShareRequestEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ShareRequestEvent
    fields = (
        "seq",
        "action",
        "from_state",
        "to_state",
        "actor_label",
        "department",
        "note",
        "audit_uuid",
        "created_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ShareRequest)
class ShareRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "resource",
        "provider",
        "requester",
        "state",
        "approved_by_rule",
        "due_at",
        "created_at",
    )
    list_filter = ("state", "approved_by_rule", "centre_step")
    search_fields = ("number", "scenario", "resource__name", "resource__code")
    list_select_related = ("resource", "provider", "requester")
    raw_id_fields = ("resource", "provider", "requester", "requested_by", "system")
    inlines = [ShareRequestEventInline]
    show_full_result_count = False


def _grant_action(move: str, reason: str, done: str):
    def action(modeladmin, request, queryset):
        principal = admin_principal(request)
        count = 0
        for grant in queryset.select_related("request")[:200]:
            try:
                share_request_transition(actor=principal, request=grant.request, move=move, note=reason)
            except (ValidationError, PermissionDenied) as exc:
                modeladmin.message_user(
                    request,
                    f"{grant.number}：{' '.join(getattr(exc, 'messages', [str(exc)]))}",
                    messages.ERROR,
                )
            else:
                count += 1
        if count:
            modeladmin.message_user(request, done % {"n": count}, messages.SUCCESS)

    return action


@admin.register(ShareGrant)
class ShareGrantAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "resource",
        "provider",
        "requester",
        "system",
        "status",
        "valid_until",
        "renewed_count",
    )
    list_filter = ("status", "requires_consent")
    search_fields = ("number", "scenario", "resource__name", "system__name")
    list_select_related = ("resource", "provider", "requester", "system")
    raw_id_fields = ("request", "resource", "provider", "requester", "system")
    show_full_result_count = False
    actions = ["suspend_grants", "resume_grants", "revoke_grants"]

    def has_change_permission(
        self, request, obj=None
    ) -> bool:  # the actions need it; the form stays read-only
        return obj is None and request.user.is_active and request.user.is_staff

    @admin.action(description=gettext_lazy("暂停所选授权（大数据中心，管理后台）"))
    def suspend_grants(self, request, queryset):
        _grant_action("suspend", _("大数据中心在管理后台暂停"), _("已暂停 %(n)s 项授权。"))(
            self, request, queryset
        )

    @admin.action(description=gettext_lazy("恢复所选授权"))
    def resume_grants(self, request, queryset):
        _grant_action("resume", "", _("已恢复 %(n)s 项授权。"))(self, request, queryset)

    @admin.action(description=gettext_lazy("撤销所选授权（大数据中心，管理后台）"))
    def revoke_grants(self, request, queryset):
        _grant_action("revoke", _("大数据中心在管理后台撤销"), _("已撤销 %(n)s 项授权。"))(
            self, request, queryset
        )


@admin.register(ShareRating)
class ShareRatingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("grant", "side", "period", "score", "rated_by", "created_at")
    list_filter = ("side", "period", "score")
    list_select_related = ("grant",)
    raw_id_fields = ("grant",)
    show_full_result_count = False


class DisputeResolveForm(forms.ModelForm):
    class Meta:
        model = ShareDispute
        fields = ("resolution",)

    def clean_resolution(self) -> str:
        value = (self.cleaned_data.get("resolution") or "").strip()
        if not value:
            raise ValidationError(_("请填写协调结果。"))
        return value


@admin.register(ShareDispute)
class ShareDisputeAdmin(admin.ModelAdmin):
    form = DisputeResolveForm
    list_display = ("subject", "request", "raised_by", "status", "created_at", "resolved_at")
    list_filter = ("status",)
    search_fields = ("subject", "request__number")
    list_select_related = ("request", "raised_by")
    fields = (
        "request",
        "raised_by",
        "subject",
        "description",
        "status",
        "resolution",
        "resolved_by",
        "resolved_at",
    )
    readonly_fields = (
        "request",
        "raised_by",
        "subject",
        "description",
        "status",
        "resolved_by",
        "resolved_at",
    )
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != ShareDispute.Status.OPEN:
            return (*self.readonly_fields, "resolution")
        return self.readonly_fields

    def save_model(self, request, obj, form, change) -> None:
        """Resolving is the service's job: the resolution written here is handed to it (audited, both told)."""
        resolution = form.cleaned_data.get("resolution", "")
        fresh = ShareDispute.objects.get(pk=obj.pk)
        share_dispute_resolve(actor=admin_principal(request), dispute=fresh, resolution=resolution)
