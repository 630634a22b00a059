"""Admin: the base registries. 身份证号 and phone are never listed in plain text; searching by an exact ID
number or phone goes through the platform's audited lookups (core.selectors.people), and every record view is
audited. The person list shows masked ID numbers, which is still personal data shown to someone: each list
page shown is one audit entry naming the people on it (auditing the page, not each row, keeps a 100-row page
one INSERT). Only holders of PERSON_LOOKUP or PERSON_MANAGE see persons at all."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ..audit import audit_record
from ..forms import OrganisationAdminForm, PersonAdminForm, add_service_errors
from ..masking import mask_id_number, mask_phone
from ..models import Organisation, Person, Representation
from ..permissions import PERSON_LOOKUP, PERSON_MANAGE
from ..selectors.people import person_find_by_id_number, persons_find_by_phone
from ..services import people as services
from ..validators import normalise_id_number, normalise_phone, validate_id_number, validate_phone
from .org import admin_principal, adopt


def _audit_admin_read(request, *, object_id: str, after: dict, purpose: str) -> None:
    with transaction.atomic():
        audit_record(
            actor=admin_principal(request),
            action="person.read",
            object_type="person",
            object_id=object_id,
            after=after,
            purpose=purpose,
        )


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    form = PersonAdminForm
    list_display = ("name", "masked_id_number", "gender", "birth_date", "division", "is_deceased")
    list_filter = ("gender", "is_deceased")
    # The search box takes a name, or an exact 身份证号/phone (matched through the blind index).
    search_fields = ("name",)
    search_help_text = _("输入姓名，或完整的身份证号、手机号精确查找（记入审计）。")
    raw_id_fields = ("division",)
    list_select_related = ("division",)
    readonly_fields = ("public_id", "masked_id_number", "masked_phone", "gender", "birth_date")
    show_full_result_count = False

    @admin.display(description=_("身份证号（脱敏）"))
    def masked_id_number(self, obj: Person) -> str:
        return mask_id_number(obj.id_number)

    @admin.display(description=_("联系电话（脱敏）"))
    def masked_phone(self, obj: Person) -> str:
        return mask_phone(obj.phone)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        entry = ["name", "id_number_input", "phone_input", "division", "address"]
        if obj is None:
            return entry
        return [*self.readonly_fields, *entry, "is_deceased"]

    # --- who may see persons: the platform permissions, on top of Django's model permissions --------------
    def _may_see_persons(self, request) -> bool:
        actor = admin_principal(request)
        return actor.has(PERSON_LOOKUP) or actor.has(PERSON_MANAGE)

    def has_module_permission(self, request):
        return super().has_module_permission(request) and self._may_see_persons(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._may_see_persons(request)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and admin_principal(request).has(PERSON_MANAGE)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and admin_principal(request).has(PERSON_MANAGE)

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        id_number = normalise_id_number(term)
        try:
            validate_id_number(id_number)
        except ValidationError:
            pass
        else:
            person = person_find_by_id_number(
                admin_principal(request), id_number, str(_("后台按身份证号检索"))
            )
            return (queryset.filter(pk=person.pk) if person else queryset.none()), False
        phone = normalise_phone(term)
        try:
            validate_phone(phone)
        except ValidationError:
            pass
        else:
            people = persons_find_by_phone(admin_principal(request), phone, str(_("后台按电话检索")))
            return queryset.filter(pk__in=[p.pk for p in people]), False
        return queryset.filter(name__startswith=term), False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if response.status_code == 200 and changelist is not None:
            shown = [str(person.public_id) for person in changelist.result_list]
            if shown:
                with transaction.atomic():
                    audit_record(
                        actor=admin_principal(request),
                        action="person.list",
                        object_type="person",
                        after={"people": shown},
                        purpose=str(_("后台自然人列表（脱敏显示）")),
                    )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            person = self.get_object(request, object_id)
            # Audited when shown: a refused page shows nothing.
            if person is not None and self.has_view_or_change_permission(request, person):
                _audit_admin_read(
                    request,
                    object_id=str(person.public_id),
                    after={"id_number": mask_id_number(person.id_number)},
                    purpose=str(_("后台查看自然人记录")),
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        actor = admin_principal(request)
        data = form.cleaned_data
        if change:
            changes = {
                "name": data["name"],
                "division": data.get("division"),
                "address": data.get("address", ""),
                "is_deceased": data.get("is_deceased", False),
            }
            if data.get("id_number_input"):
                changes["id_number"] = data["id_number_input"]
            if data.get("phone_input"):
                changes["phone"] = data["phone_input"]
            saved = services.person_update(actor=actor, person=obj, **changes)
        else:
            saved = services.person_register(
                actor=actor,
                name=data["name"],
                id_number=data["id_number_input"],
                phone=data.get("phone_input", ""),
                division=data.get("division"),
                address=data.get("address", ""),
            )
        adopt(obj, saved)

    def has_delete_permission(self, request, obj=None):
        # The base registry keeps its records; mark a person deceased instead.
        return False


class RepresentationInline(admin.TabularInline):
    model = Representation
    extra = 0
    can_delete = False
    fields = ("person", "kind", "valid_until", "created_at")
    readonly_fields = fields
    verbose_name = _("法人代表/经办人")
    verbose_name_plural = _("法人代表/经办人（在“法人代表/经办人”中登记或解除）")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    form = OrganisationAdminForm
    inlines = (RepresentationInline,)
    list_display = ("uscc", "name", "kind", "status", "division", "employee_count")
    list_filter = ("kind", "status")
    search_fields = ("=uscc", "name")
    raw_id_fields = ("division",)
    list_select_related = ("division",)
    readonly_fields = ("public_id",)
    show_full_result_count = False

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def get_fields(self, request, obj=None):
        fields = [
            "uscc",
            "name",
            "kind",
            "status",
            "established_on",
            "registered_capital",
            "business_scope",
            "division",
            "address",
            "employee_count",
        ]
        if obj is None:
            fields.remove("status")  # a new registration is always 存续
            return fields
        return ["public_id", *fields]

    def get_readonly_fields(self, request, obj=None):
        # The USCC is the organisation's identity.
        return ("public_id", "uscc") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        actor = admin_principal(request)
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "kind": data["kind"],
            "established_on": data.get("established_on"),
            "registered_capital": data.get("registered_capital"),
            "business_scope": data.get("business_scope", ""),
            "division": data.get("division"),
            "address": data.get("address", ""),
            "employee_count": data.get("employee_count") or 0,
        }
        if change:
            saved = services.organisation_update(
                actor=actor, organisation=obj, status=data.get("status", obj.status), **fields
            )
        else:
            saved = services.organisation_register(actor=actor, uscc=data["uscc"], **fields)
        adopt(obj, saved)

    def has_delete_permission(self, request, obj=None):
        return False


class RepresentationAdminForm(forms.ModelForm):
    class Meta:
        model = Representation
        fields = ["person", "organisation", "kind", "valid_until"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            services.representation_validate(
                person=data.get("person"),
                organisation=data.get("organisation"),
                kind=data.get("kind") or "",
                valid_until=data.get("valid_until"),
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
        return data

    def validate_unique(self):
        # The service's own checks above give the clearer message for the same constraints.
        pass


@admin.register(Representation)
class RepresentationAdmin(admin.ModelAdmin):
    form = RepresentationAdminForm
    list_display = ("organisation", "person", "kind", "valid_until", "created_at")
    list_filter = ("kind",)
    search_fields = ("=organisation__uscc", "organisation__name", "person__name")
    raw_id_fields = ("person", "organisation")
    list_select_related = ("organisation", "person")

    def has_change_permission(self, request, obj=None):
        # A representation is registered or removed, never edited in place (the audit shows both events).
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.representation_add(
            actor=admin_principal(request),
            person=data["person"],
            organisation=data["organisation"],
            kind=data["kind"],
            valid_until=data.get("valid_until"),
        )
        adopt(obj, saved)

    def delete_model(self, request, obj):
        services.representation_remove(actor=admin_principal(request), representation=obj)

    def delete_queryset(self, request, queryset):
        actor = admin_principal(request)
        for rep in queryset:
            services.representation_remove(actor=actor, representation=rep)
