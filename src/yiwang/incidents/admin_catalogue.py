"""Admin of the incident catalogue (事件分类 with its 责任清单 inline), the 一网统管 settings, the 一网通答 knowledge base
and the category classifier. Every write goes through the services (services/catalogue.py, knowledge.py,
classify.py): validated with field-level Chinese messages, audited. All of it needs INCIDENT_MANAGE."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal, adopt
from yiwang.core.permissions import INCIDENT_MANAGE

from .models import ClassifierModel, IncidentCategory, IncidentSettings, KnowledgeAnswer, ResponsibilityRule
from .services import catalogue as catalogue_services
from .services.classify import classifier_set_active
from .services.common import incident_settings
from .services.knowledge import knowledge_save, knowledge_validate
from .services.routing import categories_without_route


def _may_manage(request) -> bool:
    return admin_principal(request).has(INCIDENT_MANAGE)


class _ManagePermission:
    """INCIDENT_MANAGE for every admin permission; nothing is deleted (deactivate instead)."""

    def has_module_permission(self, request):
        return _may_manage(request)

    def has_view_permission(self, request, obj=None):
        return _may_manage(request)

    def has_add_permission(self, request, *args):
        return _may_manage(request)

    def has_change_permission(self, request, obj=None):
        return _may_manage(request)

    def has_delete_permission(self, request, obj=None):
        return False


def _errors_to_form(form, exc: ValidationError) -> None:
    for field, problems in exc.message_dict.items():
        for message in problems:
            form.add_error(field if field in form.fields else None, message)


# --- 事件分类 + 责任清单 ---------------------------------------------------------------------------------------
class RuleForm(forms.ModelForm):
    class Meta:
        model = ResponsibilityRule
        fields = ("division", "to_grid", "department", "starts_at", "ends_at", "priority", "is_active")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("DELETE"):
            return cleaned
        fields_ok = {name: cleaned.get(name) for name in ("division", "department", "starts_at", "ends_at")}
        try:
            catalogue_services.rule_validate({**fields_ok, "to_grid": cleaned.get("to_grid")})
        except ValidationError as exc:
            for field, problems in exc.message_dict.items():
                if field in self.errors:
                    continue  # the field's own parsing already failed
                for message in problems:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned


class RuleFormSet(forms.BaseInlineFormSet):
    """“No category without a route”: an active leaf category needs at least one active rule."""

    def rows(self) -> list[dict]:
        out = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or (not form.has_changed() and not form.instance.pk):
                continue  # an untouched extra row
            row = {name: data.get(name) for name in catalogue_services.RULE_FIELDS}
            row["pk"] = form.instance.pk
            row["delete"] = bool(data.get("DELETE"))
            out.append(row)
        return out

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        category = self.instance
        if not category.is_active or not catalogue_services.category_is_leaf(category):
            return
        if not any(r.get("is_active") and not r["delete"] for r in self.rows()):
            raise ValidationError(
                _(
                    "启用的末级分类至少需要一条启用的责任清单规则，否则工单无处可派。"
                    "（若这是还要添加小类的大类，可先不勾选“启用”保存。）"
                )
            )


class RuleInline(admin.TabularInline):
    model = ResponsibilityRule
    form = RuleForm
    formset = RuleFormSet
    extra = 1
    fields = ("division", "to_grid", "department", "starts_at", "ends_at", "priority", "is_active")
    raw_id_fields = ("division", "department")

    def has_view_permission(self, request, obj=None):
        return _may_manage(request)

    def has_add_permission(self, request, obj=None):
        return _may_manage(request)

    def has_change_permission(self, request, obj=None):
        return _may_manage(request)

    def has_delete_permission(self, request, obj=None):
        return _may_manage(request)


class CategoryForm(forms.ModelForm):
    evidence_required = forms.MultipleChoiceField(
        label=gettext_lazy("结案必需材料"),
        choices=IncidentCategory.Evidence.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = IncidentCategory
        fields = catalogue_services.CATEGORY_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "parent" in self.fields:
            self.fields["parent"].queryset = IncidentCategory.objects.filter(level__lt=3).order_by("code")

    def clean(self):
        cleaned = super().clean()
        values = {name: cleaned.get(name) for name in self.Meta.fields if name in cleaned}
        if "code" not in self.fields:
            values["code"] = self.instance.code
        try:
            values = catalogue_services.category_validate(
                category=self.instance if self.instance.pk else None, values=values, check_route=False
            )
        except ValidationError as exc:
            for field, problems in exc.message_dict.items():
                if field in self.errors:
                    continue
                for message in problems:
                    self.add_error(field if field in self.fields else None, message)
        else:
            cleaned.update({k: v for k, v in values.items() if k in self.fields})
        return cleaned


@admin.register(IncidentCategory)
class IncidentCategoryAdmin(_ManagePermission, admin.ModelAdmin):
    form = CategoryForm
    inlines = (RuleInline,)
    list_display = (
        "code",
        "name",
        "parent",
        "level",
        "deadline_display",
        "handling",
        "needs_verification",
        "is_active",
    )
    list_filter = ("level", "handling", "is_active")
    search_fields = ("code", "name", "examples")
    list_select_related = ("parent",)
    ordering = ("code",)

    def get_readonly_fields(self, request, obj=None):
        return ("code", "level") if obj is not None else ("level",)

    @admin.display(description=gettext_lazy("处置时限"))
    def deadline_display(self, obj) -> str:
        return f"{obj.deadline_value} {obj.get_deadline_unit_display()}"

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            missing = categories_without_route()
            if missing:
                self.message_user(
                    request,
                    _("以下启用的末级分类没有启用的责任清单规则，工单将只能交指挥中心人工分拨：%(list)s")
                    % {"list": "、".join(str(c) for c in missing)},
                    messages.WARNING,
                )
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        pass  # written with its rules in save_related, in one service call

    def save_related(self, request, form, formsets, change):
        rules = next((fs.rows() for fs in formsets if isinstance(fs, RuleFormSet)), None)
        values = {
            name: form.cleaned_data.get(name) for name in CategoryForm.Meta.fields if name in form.fields
        }
        if change:
            values["code"] = form.instance.code
        saved = catalogue_services.category_save(
            actor=admin_principal(request),
            category=IncidentCategory.objects.get(pk=form.instance.pk) if change else None,
            values=values,
            rules=rules,
        )
        adopt(form.instance, saved)
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


# --- 一网统管参数 ----------------------------------------------------------------------------------------------
class SettingsForm(forms.ModelForm):
    class Meta:
        model = IncidentSettings
        fields = catalogue_services.SETTINGS_FIELDS

    def clean(self):
        cleaned = super().clean()
        values = {name: cleaned.get(name) for name in self.Meta.fields}
        if any(v is None for v in values.values()):
            return cleaned  # a field's own parsing failed
        try:
            catalogue_services.settings_validate(values)
        except ValidationError as exc:
            _errors_to_form(self, exc)
        return cleaned


@admin.register(IncidentSettings)
class IncidentSettingsAdmin(_ManagePermission, admin.ModelAdmin):
    form = SettingsForm
    fieldsets = (
        (
            gettext_lazy("重复件与分类"),
            {
                "fields": (
                    "dedup_radius_m",
                    "dedup_hours",
                    "dedup_suggest_score",
                    "dedup_attach_score",
                    "classify_threshold",
                )
            },
        ),
        (
            gettext_lazy("退回、改派与重启"),
            {"fields": ("max_returns", "max_reassigns", "reopen_days", "max_reopens", "yellow_share")},
        ),
        (
            gettext_lazy("预警"),
            {
                "fields": (
                    "repeat_count",
                    "repeat_days",
                    "cluster_count",
                    "cluster_hours",
                    "surge_factor",
                    "surge_minimum",
                )
            },
        ),
    )

    def has_add_permission(self, request, *args):
        return False  # one row, created on first use

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        row = IncidentSettings.objects.order_by("pk").first() or incident_settings()
        return HttpResponseRedirect(reverse("admin:incidents_incidentsettings_change", args=[row.pk]))

    def save_model(self, request, obj, form, change):
        saved = catalogue_services.incident_settings_save(
            actor=admin_principal(request), values=dict(form.cleaned_data)
        )
        adopt(obj, saved)


# --- 一网通答 --------------------------------------------------------------------------------------------------
class KnowledgeForm(forms.ModelForm):
    class Meta:
        model = KnowledgeAnswer
        fields = ("question", "answer", "keywords", "category", "department", "is_active")

    def clean(self):
        cleaned = super().clean()
        probe = KnowledgeAnswer(
            question=cleaned.get("question") or "",
            answer=cleaned.get("answer") or "",
            keywords=cleaned.get("keywords") or "",
        )
        try:
            knowledge_validate(probe)
        except ValidationError as exc:
            for field, problems in exc.message_dict.items():
                if field not in self.errors:
                    for message in problems:
                        self.add_error(field, message)
        return cleaned


@admin.register(KnowledgeAnswer)
class KnowledgeAnswerAdmin(_ManagePermission, admin.ModelAdmin):
    form = KnowledgeForm
    list_display = ("question", "category", "department", "use_count", "is_active", "updated_at")
    list_filter = ("is_active", "category")
    search_fields = ("question", "keywords", "tokens")
    search_help_text = gettext_lazy("按问题、关键词或分词查找")
    list_select_related = ("category", "department")
    raw_id_fields = ("department",)
    readonly_fields = ("use_count", "updated_at")

    def save_model(self, request, obj, form, change):
        saved = knowledge_save(actor=admin_principal(request), answer=obj)
        adopt(obj, saved)


# --- 分类模型 ----------------------------------------------------------------------------------------------------
RETRAIN_TEMPLATE = """{% extends "admin/base_site.html" %}{% load i18n %}
{% block content %}<div id="content-main"><form method="post">{% csrf_token %}
<p>{{ intro }}</p><p>{{ status }}</p>
<input type="submit" class="default" value="{{ button }}"></form></div>{% endblock %}"""


@admin.register(ClassifierModel)
class ClassifierModelAdmin(_ManagePermission, admin.ModelAdmin):
    list_display = (
        "version",
        "samples",
        "labels",
        "accuracy_display",
        "trained_at",
        "trained_by",
        "is_active",
    )
    list_filter = ("is_active",)
    list_select_related = ("trained_by",)
    fields = ("version", "samples", "labels", "accuracy", "trained_at", "trained_by", "sm3", "is_active")
    readonly_fields = fields
    actions = ("retrain", "activate", "deactivate")

    def has_add_permission(self, request, *args):
        return False  # trained, never typed in

    def has_change_permission(self, request, obj=None):
        return False  # rows are read-only; the actions activate or deactivate them

    @admin.display(description=gettext_lazy("留出集准确率"))
    def accuracy_display(self, obj) -> str:
        return "—" if obj.accuracy is None else f"{obj.accuracy:.1%}"

    def get_urls(self):
        return [
            path(
                "retrain/",
                self.admin_site.admin_view(self.retrain_view),
                name="incidents_classifiermodel_retrain",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and _may_manage(request):
            self.message_user(
                request,
                format_html(
                    '{} <a class="button" href="{}">{}</a>',
                    _("分类模型由分类示例和已确认分类的工单训练，每晚自动更新；使用最新的启用版本。"),
                    reverse("admin:incidents_classifiermodel_retrain"),
                    _("重新训练"),
                ),
                messages.INFO,
            )
        return super().changelist_view(request, extra_context)

    def _enqueue(self, request) -> None:
        from .tasks_intake import classifier_train_task

        classifier_train_task(request.user.pk)
        self.message_user(
            request, _("已提交训练任务；完成后新版本出现在列表中并立即启用。"), messages.SUCCESS
        )

    def retrain_view(self, request):
        if not _may_manage(request):
            raise PermissionDenied
        if request.method == "POST":
            self._enqueue(request)
            return HttpResponseRedirect(reverse("admin:incidents_classifiermodel_changelist"))
        current = ClassifierModel.objects.filter(is_active=True).order_by("-version").first()
        context = {
            **self.admin_site.each_context(request),
            "title": _("重新训练分类模型"),
            "intro": _("用全部启用末级分类的示例诉求和已确认分类的历史工单训练一个新版本。"),
            "status": _("当前使用版本：v%(v)s") % {"v": current.version}
            if current
            else _("当前没有可用的模型。"),
            "button": _("重新训练"),
            "opts": self.model._meta,
        }
        template = engines["django"].from_string(RETRAIN_TEMPLATE)
        return TemplateResponse(request, template, context)

    @admin.action(description=gettext_lazy("重新训练"))
    def retrain(self, request, queryset):
        self._enqueue(request)

    def _set_active(self, request, queryset, active: bool) -> None:
        actor = admin_principal(request)
        for model in queryset:
            try:
                classifier_set_active(actor=actor, model=model, active=active)
            except (ValidationError, PermissionDenied) as exc:
                problems = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
                self.message_user(request, f"{model}：{'；'.join(problems)}", messages.ERROR)
            else:
                done = _("已启用：%(model)s") if active else _("已停用：%(model)s")
                self.message_user(request, done % {"model": model}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("启用所选版本"))
    def activate(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description=gettext_lazy("停用所选版本（改用较早的启用版本）"))
    def deactivate(self, request, queryset):
        self._set_active(request, queryset, False)
