"""Issuer pages (LICENCE_ISSUE, scoped to the department tree): the issued licences (/licences/issued/), one licence
with its face, history, signature check and the suspend/resume/revoke form (/licences/issued/<uuid>/), and the
issue-one-licence form for staff (/licences/issue/<type code>/)."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.core.forms import add_service_errors
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import LICENCE_ISSUE

from .models import Licence, LicenceType
from .selectors import (
    issuable_type_get,
    issuable_types,
    licence_history,
    licence_issued_get,
    licences_issued,
)
from .services.core import holder_lookup, licence_issue, licence_set_status
from .signing import licence_verify_signature


class StatusForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("操作"),
        choices=[
            ("suspend", gettext_lazy("暂停")),
            ("resume", gettext_lazy("恢复")),
            ("revoke", gettext_lazy("注销")),
        ],
    )
    reason = forms.CharField(
        label=gettext_lazy("原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


def issue_form_class(licence_type: LicenceType) -> type[forms.Form]:
    """A form with the holder's ID number, the face fields of the type and, for "until" types, the end date."""
    holder_label = (
        gettext_lazy("持证人身份证号")
        if licence_type.holder_kind == LicenceType.HolderKind.PERSON
        else gettext_lazy("持证单位统一社会信用代码")
    )
    attrs: dict = {"holder_id": forms.CharField(label=holder_label, max_length=30)}
    for spec in licence_type.face_fields or []:
        # A registry face field (the holder's identity) is filled from the holder's registry record.
        from_registry = str(spec.get("source") or "").startswith("registry:")
        required = bool(spec.get("required")) and not from_registry
        label = spec.get("label") or spec["name"]
        kind = spec.get("type", "string")
        if kind == "date":
            field = forms.DateField(
                label=label,
                required=required,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
        elif kind == "number":
            field = forms.DecimalField(label=label, required=required)
        elif kind == "boolean":
            field = forms.BooleanField(label=label, required=False)
        else:
            field = forms.CharField(label=label, required=required, max_length=500)
        if from_registry:
            field.help_text = gettext_lazy("可留空：按持证主体在基础库中的登记填写")
        attrs[f"face_{spec['name']}"] = field
    if licence_type.validity == LicenceType.Validity.UNTIL:
        attrs["expires_on"] = forms.DateField(
            label=gettext_lazy("有效期至"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        )
    return type("IssueForm", (forms.Form,), attrs)


def _face_values(licence_type: LicenceType, data: dict) -> dict:
    face = {}
    for spec in licence_type.face_fields or []:
        value = data.get(f"face_{spec['name']}")
        if value in (None, ""):
            continue
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif spec.get("type") == "number":
            value = int(value) if value == value.to_integral_value() else float(value)
        face[spec["name"]] = value
    return face


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    # The service names face fields "face.<key>"; the form's fields are "face_<key>".
    rename = {key: key.replace("face.", "face_") for key in getattr(exc, "error_dict", {})}
    add_service_errors(form, exc, rename)


@page_requires(LICENCE_ISSUE)
def issued(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or ""
    if status not in Licence.Status.values:
        status = ""
    try:
        page = licences_issued(request.principal, status=status or None, cursor=request.GET.get("cursor"))
    except ValidationError:
        return redirect("licences:issued")
    next_query = ""
    if page.next_cursor:
        next_query = urlencode({"cursor": page.next_cursor, **({"status": status} if status else {})})
    return render(
        request,
        "licences/issuer_list.html",
        {
            "page": page,
            "status": status,
            "statuses": Licence.Status.choices,
            "next_query": next_query,
            "types": issuable_types(request.principal),
        },
    )


def _detail(request, licence, form, status=200) -> HttpResponse:
    return render(
        request,
        "licences/issuer_detail.html",
        {
            "licence": licence,
            "events": licence_history(licence),
            "signature_ok": licence_verify_signature(licence),
            "face": [
                {
                    "label": spec.get("label", spec["name"]),
                    "value": licence.face.get(spec["name"]),
                    "public": spec.get("public"),
                }
                for spec in licence.licence_type.face_fields or []
                if spec["name"] in licence.face
            ],
            "form": form,
        },
        status=status,
    )


@page_requires(LICENCE_ISSUE)
def issued_detail(request: HttpRequest, licence_id) -> HttpResponse:
    licence = licence_issued_get(request.principal, licence_id)
    return _detail(request, licence, StatusForm())


@page_requires(LICENCE_ISSUE)
@require_POST
def issued_status(request: HttpRequest, licence_id) -> HttpResponse:
    licence = licence_issued_get(request.principal, licence_id)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            licence_set_status(
                actor=request.principal,
                licence=licence,
                action=form.cleaned_data["action"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("证照状态已变更。"))
            return redirect("licences:issued_detail", licence_id=licence.public_id)
    return _detail(request, licence, form, status=422)


@page_requires(LICENCE_ISSUE)
@require_http_methods(["GET", "POST"])
def issue(request: HttpRequest, type_code: str) -> HttpResponse:
    principal = request.principal
    licence_type = issuable_type_get(principal, type_code)
    form = issue_form_class(licence_type)(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                holder = holder_lookup(
                    actor=principal, licence_type=licence_type, holder_id=data["holder_id"]
                )
                is_person = licence_type.holder_kind == LicenceType.HolderKind.PERSON
                licence = licence_issue(
                    actor=principal,
                    licence_type=licence_type,
                    holder_person=holder if is_person else None,
                    holder_organisation=None if is_person else holder,
                    face=_face_values(licence_type, data),
                    expires_on=data.get("expires_on"),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("证照已签发：%(id)s") % {"id": licence.identifier})
                return redirect("licences:issued_detail", licence_id=licence.public_id)
        status = 422
    return render(
        request, "licences/issuer_issue.html", {"licence_type": licence_type, "form": form}, status=status
    )


urlpatterns: list = [
    path("issued/", issued, name="issued"),
    path("issued/<uuid:licence_id>/", issued_detail, name="issued_detail"),
    path("issued/<uuid:licence_id>/status/", issued_status, name="issued_status"),
    path("issue/<slug:type_code>/", issue, name="issue"),
]
