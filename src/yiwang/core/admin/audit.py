"""Admin: audit — read-only views of the evidence log and its signed tree heads.

Nobody edits or deletes audit rows through the admin (not even a superuser); opening the log here is itself
recorded ("audit.view"), as on the audit page and the API."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..audit import audit_record
from ..models import AuditEntry, TreeHead


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None
    show_full_result_count = False  # no second COUNT(*) over a table of millions of rows

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _record_view(self, request, object_id: str = "") -> None:
        if request.method == "GET":
            with transaction.atomic():
                audit_record(
                    actor=request.user,
                    action="audit.view",
                    object_type=self.model._meta.model_name,
                    object_id=object_id,
                    after={"via": "admin", "query": request.GET.urlencode()[:500]},
                    purpose=_("后台查看审计日志"),
                )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if response.status_code == 200:
            self._record_view(request)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:
            self._record_view(request, str(object_id))
        return response


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "seq",
        "occurred_at",
        "actor_account",
        "actor_department",
        "actor_ip",
        "action",
        "object_type",
        "object_id",
        "short_hash",
    )
    list_display_links = ("seq",)
    list_filter = ("action", "object_type")
    search_fields = ("=object_id", "=actor_account")
    search_help_text = gettext_lazy("按对象标识或账户名精确查找")
    ordering = ("-seq",)
    list_per_page = 100
    fields = (
        "seq",
        "occurred_at",
        ("actor_account", "actor_department", "actor_ip"),
        ("action", "object_type", "object_id"),
        "purpose",
        "before",
        "after",
        "request_id",
        ("uuid", "format"),
        ("leaf_index", "leaf_hash"),
        "prev_hash",
    )

    @admin.display(description=gettext_lazy("哈希"))
    def short_hash(self, obj: AuditEntry) -> str:
        return obj.leaf_hash[:12]


@admin.register(TreeHead)
class TreeHeadAdmin(ReadOnlyAdmin):
    list_display = ("tree_size", "timestamp_ms", "key_id", "root_hash")
    ordering = ("-tree_size",)
    fields = ("tree_size", "root_hash", "timestamp_ms", "key_id", "signature")
