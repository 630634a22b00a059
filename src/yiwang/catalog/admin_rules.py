"""Admin of 秒批 rule sets. Every write goes through catalog.rulesets (validated against the item's facts,
authorised by department, audited); saving an existing rule set makes a NEW version and the old one stays,
read-only, with the cases it decided. The form lists the facts the item's rules may use."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal, adopt
from yiwang.core.permissions import CATALOG_MANAGE

from . import rulesets
from .admin import PrettyJSONField
from .models import InstantRuleSet, ServiceItem
from .selectors import instant_rulesets_maintainable_by
from .services import item_may_manage

EXAMPLE = (
    '[{"code": "age", "name": "年满80周岁", "expr": "applicant_age >= 80", "message": "申请人未满80周岁"},\n'
    ' {"code": "local", "name": "本区户籍", "expr": "applicant_district == \\"440199\\"", '
    '"message": "申请人非本区户籍"}]'
)


def _facts_help(item: ServiceItem | None) -> str:
    """The facts an item's rules may use, as the rules field's help (escaped HTML)."""
    intro = _(
        "JSON 列表，每条规则含 code（小写字母编码）、name（名称）、expr（判断表达式）、message（不通过时告诉申请人的说明）。"
        '表达式示例：applicant_age >= 80、applicant_district == "440199"、not applicant_deceased、'
        "approved_before == 0；文本须加英文双引号，条件可用 and / or / not 组合。"
    )
    if item is None:
        return format_html(
            "{}<br>{}", intro, _("填写事项编码并保存后，此处列出该事项可用的字段（含申请表字段 form_…）。")
        )
    rows = format_html_join(
        "",
        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
        ((f["symbol"], f["label"], f["type"]) for f in rulesets.instant_rules_facts(item)),
    )
    return format_html(
        '{}<br><strong>{}</strong><table class="instant-facts"><thead><tr><th>{}</th><th>{}</th><th>{}</th>'
        "</tr></thead><tbody>{}</tbody></table>",
        intro,
        _("“%(name)s”（%(code)s）可用的字段：") % {"name": item.name, "code": item.code},
        _("字段"),
        _("含义"),
        _("类型"),
        rows,
    )


class InstantRuleSetForm(forms.ModelForm):
    rules = PrettyJSONField(
        label=gettext_lazy("规则"),
        widget=forms.Textarea(attrs={"rows": 16, "cols": 100, "class": "vLargeTextField"}),
    )

    class Meta:
        model = InstantRuleSet
        fields = ("item_code", "rules", "note")

    def __init__(self, *args, item: ServiceItem | None = None, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        if self.instance.pk is None and not self.is_bound:
            self.initial.setdefault("rules", json.loads(EXAMPLE))
        if self.instance.pk is not None:
            self.initial["note"] = ""  # a note explains the NEW version
        self.fields["rules"].help_text = _facts_help(item)

    def clean(self):
        cleaned = super().clean()
        if "rules" in self.errors:
            return cleaned  # not JSON: the field already says so
        code = cleaned.get("item_code") or self.instance.item_code
        try:
            item, rules = rulesets.instant_ruleset_check(
                item_code=code, rules=cleaned.get("rules"), note=cleaned.get("note") or ""
            )
        except ValidationError as exc:
            for field, problems in exc.message_dict.items():
                for message in problems:
                    self.add_error(field if field in self.fields else None, message)
        else:
            cleaned["item_code"], cleaned["rules"] = item.code, rules
            if self.actor is not None and not item_may_manage(self.actor, item.department):
                self.add_error(
                    "item_code" if "item_code" in self.fields else None,
                    _("只能维护本部门事项的秒批规则：“%(department)s”不是您所在的部门。")
                    % {"department": item.department.name},
                )
        return cleaned

    def validate_unique(self):
        # Versions and the one-active rule are the service's (it deactivates the old version in the same
        # transaction); the model's constraints would refuse a second version here.
        return


@admin.register(InstantRuleSet)
class InstantRuleSetAdmin(admin.ModelAdmin):
    form = InstantRuleSetForm
    list_display = ("item_code", "version", "is_active", "rule_count", "note", "created_by", "created_at")
    list_filter = ("is_active",)
    search_fields = ("item_code",)
    search_help_text = gettext_lazy("按事项编码查找，如 MZJ-GF-001")
    list_select_related = ("created_by",)
    ordering = ("item_code", "-version")
    show_full_result_count = False
    actions = ("deactivate",)
    readonly_fields = ("version", "is_active", "created_by", "created_at", "decided_cases")

    # --- permissions: the platform permission and the item's department decide -----------------------------
    def _item(self, obj) -> ServiceItem | None:
        if obj is None:
            return None
        cached = getattr(obj, "_rules_item", None)
        if cached is None:
            cached = rulesets.instant_rules_item(obj.item_code)
            obj._rules_item = cached
        return cached

    def _may_manage(self, request, obj) -> bool:
        actor = admin_principal(request)
        if obj is None:
            return actor.has(CATALOG_MANAGE)
        item = self._item(obj)
        return item is not None and item_may_manage(actor, item.department)

    def has_module_permission(self, request):
        return admin_principal(request).has(CATALOG_MANAGE)

    def has_view_permission(self, request, obj=None):
        return admin_principal(request).has(CATALOG_MANAGE)

    def has_add_permission(self, request):
        return admin_principal(request).has(CATALOG_MANAGE)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.is_active:
            return False  # an old version is history: cases point at it
        return self._may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return instant_rulesets_maintainable_by(admin_principal(request), super().get_queryset(request))

    # --- form ----------------------------------------------------------------------------------------------
    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return (*self.readonly_fields, "item_code")  # a new version belongs to the same item
        return ()

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("item_code", "rules", "note")
        return (
            "item_code",
            "version",
            "is_active",
            "rules",
            "note",
            "created_by",
            "created_at",
            "decided_cases",
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        item = self._item(obj)
        if item is None and request.method == "POST":
            item = rulesets.instant_rules_item(request.POST.get("item_code", ""))

        actor = admin_principal(request)

        class BoundItemForm(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, item=item, actor=actor, **inner)

        return BoundItemForm

    @admin.display(description=gettext_lazy("规则数"))
    def rule_count(self, obj) -> int:
        return len(obj.rules) if isinstance(obj.rules, list) else 0

    @admin.display(description=gettext_lazy("依此版本判定的办件数"))
    def decided_cases(self, obj) -> int:
        return obj.decisions.count() if obj.pk else 0

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = rulesets.instant_ruleset_save(
            actor=admin_principal(request),
            item_code=data.get("item_code") or obj.item_code,
            rules=data["rules"],
            note=data.get("note") or "",
        )
        adopt(obj, saved)

    def response_change(self, request, obj):
        self.message_user(
            request,
            _("已保存为第 %(version)d 版并启用；此前的版本保留，已判定的办件不受影响。")
            % {"version": obj.version},
            messages.INFO,
        )
        return super().response_change(request, obj)

    @admin.action(description=gettext_lazy("停用所选事项的秒批"))
    def deactivate(self, request, queryset):
        actor = admin_principal(request)
        for ruleset in queryset.filter(is_active=True):
            try:
                rulesets.instant_ruleset_deactivate(actor=actor, item_code=ruleset.item_code)
            except (ValidationError, PermissionDenied) as exc:
                problems = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
                self.message_user(request, f"{ruleset}：{'；'.join(problems)}", messages.ERROR)
            else:
                self.message_user(request, _("已停用：%(rules)s") % {"rules": ruleset}, messages.SUCCESS)
