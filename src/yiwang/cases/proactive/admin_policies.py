"""Admin of 免申即享 policies: declared and validated on save through cases.proactive.services (rule errors
shown on the rules field in Chinese, `rules_version` bumped when the rules change, audited); the actions
“立即全量评估” / “增量评估” queue a Huey job."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.catalog.admin import PrettyJSONField
from yiwang.catalog.models import ProactivePolicy
from yiwang.catalog.rules import subject_symbols, symbol_labels
from yiwang.core.admin.org import admin_principal, adopt
from yiwang.core.permissions import CATALOG_MANAGE, POLICY_VIEW

FIELDS = ("code", "name", "description", "subject", "item_code", "rules", "mode", "status")


class ProactivePolicyAdminForm(forms.ModelForm):
    rules = PrettyJSONField(
        label=gettext_lazy("资格规则"),
        widget=forms.Textarea(attrs={"rows": 16, "cols": 100, "class": "vLargeTextField"}),
        help_text=gettext_lazy(
            '规则列表，例如 [{"code": "age", "name": "年满80周岁", "expr": "applicant_age >= 80", '
            '"message": "未满80周岁"}]；只能使用享受对象的基础库字段（见下方“可用字段”）。'
        ),
    )

    class Meta:
        model = ProactivePolicy
        fields = FIELDS

    def clean(self):
        from yiwang.cases.proactive.services import policy_validate

        cleaned = super().clean()
        candidate = ProactivePolicy(pk=self.instance.pk)
        for name in FIELDS:
            setattr(candidate, name, cleaned.get(name, getattr(self.instance, name, None)))
        candidate.code = (candidate.code or "").strip()
        candidate.item_code = (candidate.item_code or "").strip().upper()
        try:
            policy_validate(candidate)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                if field in self.errors:
                    continue
                for message in errors:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned


@admin.register(ProactivePolicy)
class ProactivePolicyAdmin(admin.ModelAdmin):
    form = ProactivePolicyAdminForm
    list_display = (
        "code",
        "name",
        "subject",
        "item_code",
        "mode",
        "status",
        "rules_version",
        "evaluated_until",
    )
    list_filter = ("status", "subject", "mode")
    search_fields = ("code", "name", "item_code")
    readonly_fields = ("rules_version", "evaluated_until", "available_facts")
    actions = ("evaluate_full", "evaluate_incremental")

    @admin.display(description=gettext_lazy("可用字段"))
    def available_facts(self, obj):
        subject = getattr(obj, "subject", None) or ProactivePolicy.Subject.PERSON
        return format_html_join("", "<div><code>{}</code> {}</div>", symbol_labels(subject_symbols(subject)))

    def has_module_permission(self, request):
        return admin_principal(request).has(CATALOG_MANAGE)

    def has_view_permission(self, request, obj=None):
        actor = admin_principal(request)
        return actor.has(CATALOG_MANAGE) or actor.has(POLICY_VIEW)

    def has_add_permission(self, request):
        return admin_principal(request).has(CATALOG_MANAGE)

    def has_change_permission(self, request, obj=None):
        return admin_principal(request).has(CATALOG_MANAGE)

    def has_delete_permission(self, request, obj=None):
        return False  # entitlements and runs refer to it; pause it instead

    def save_model(self, request, obj, form, change):
        from yiwang.cases.proactive.services import policy_save

        data = form.cleaned_data
        target = ProactivePolicy.objects.get(pk=obj.pk) if change else ProactivePolicy()
        saved = policy_save(
            actor=admin_principal(request),
            policy=target,
            values={name: data[name] for name in FIELDS if name in data},
        )
        adopt(obj, saved)

    def _evaluate(self, request, queryset, full: bool) -> None:
        from yiwang.cases.proactive.services import policy_evaluate_enqueue

        actor = admin_principal(request)
        for policy in queryset:
            try:
                policy_evaluate_enqueue(actor=actor, policy=policy, full=full)
            except (ValidationError, PermissionDenied) as exc:
                problems = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
                self.message_user(request, f"{policy}：{'；'.join(problems)}", messages.ERROR)
            else:
                self.message_user(request, _("已提交评估：%(policy)s") % {"policy": policy}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("立即全量评估"))
    def evaluate_full(self, request, queryset):
        self._evaluate(request, queryset, True)

    @admin.action(description=gettext_lazy("增量评估"))
    def evaluate_incremental(self, request, queryset):
        self._evaluate(request, queryset, False)
