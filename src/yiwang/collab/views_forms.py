"""Pages: 一网协同 — 填表报数 I, the form register.

- `collab:forms` (/collab/forms/): the register the caller may see (own department's forms, admitted ones; the
  centre: everything past draft), filters, keyset pages;
- `collab:form_new`: register a form (head and a fields editor; `collab:form_field_row` gives one more field
  row by HTMX);
- `collab:form_detail` (/collab/forms/<id or code>/): head, fields (editable while draft/rejected by the owner
  department), the 准入 findings and the centre's note, the issues; actions (`collab:form_action`): submit,
  revise, retire; export XLSForm (the API's /xlsform);
- `collab:form_admission` (centre): the queue; `collab:form_review`: one form's findings with admit / reject;
- `collab:form_import`: upload an XLSForm;
- `collab:form_issue`: issue an admitted form for a period (period, due date, scope).
Every write calls the same services as the API.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.models import Division
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import COLLAB_WORK, FORM_ADMIT, FORM_MANAGE

from . import prefill
from .models import Period, ReportField, ReportForm
from .selectors import forms as sel
from .services import forms as services
from .xlsform import xlsform_import

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_LEVELS = [(2, gettext_lazy("镇街")), (3, gettext_lazy("村（社区）")), (4, gettext_lazy("网格"))]
_FIELD_KEYS = ("name", "label", "kind", "unit", "required", "choices", "per_row", "element", "prefill",
               "aggregate", "rule", "rule_message")  # fmt: skip


class FormHead(forms.Form):
    code = forms.CharField(label=gettext_lazy("表格编码"), max_length=24, help_text=gettext_lazy("如 CJYB"))
    name = forms.CharField(label=gettext_lazy("表格名称"), max_length=200)
    purpose = forms.CharField(
        label=gettext_lazy("填报目的"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    legal_basis = forms.CharField(label=gettext_lazy("依据"), max_length=500)
    frequency = forms.ChoiceField(label=gettext_lazy("频次"), choices=Period.choices, initial=Period.MONTHLY)
    target_level = forms.TypedChoiceField(
        label=gettext_lazy("填报层级"), choices=_LEVELS, coerce=int, initial=3
    )
    row_source = forms.ChoiceField(
        label=gettext_lazy("明细行来源"), choices=ReportForm.RowSource.choices, required=False
    )


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("XLSForm 文件（.xlsx）"))
    code = forms.CharField(label=gettext_lazy("表格编码"), max_length=24, required=False,
                           help_text=gettext_lazy("留空则取 settings 表的 form_id"))  # fmt: skip
    name = forms.CharField(label=gettext_lazy("表格名称"), max_length=200, required=False,
                           help_text=gettext_lazy("留空则取 settings 表的 form_title"))  # fmt: skip
    purpose = forms.CharField(
        label=gettext_lazy("填报目的"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    legal_basis = forms.CharField(label=gettext_lazy("依据"), max_length=500)
    frequency = forms.ChoiceField(label=gettext_lazy("频次"), choices=Period.choices, initial=Period.MONTHLY)
    target_level = forms.TypedChoiceField(
        label=gettext_lazy("填报层级"), choices=_LEVELS, coerce=int, initial=3
    )


class IssueForm(forms.Form):
    period_label = forms.CharField(
        label=gettext_lazy("报告期"), max_length=32, help_text=gettext_lazy("如 2026年2月")
    )
    period_start = forms.DateField(label=gettext_lazy("报告期起"), widget=_DATE)
    period_end = forms.DateField(label=gettext_lazy("报告期止"), widget=_DATE)
    due_on = forms.DateField(label=gettext_lazy("填报截止日"), widget=_DATE)
    root_division = forms.CharField(
        label=gettext_lazy("下发范围（区划代码）"), max_length=15, required=False,
        help_text=gettext_lazy("留空为全区；填镇街代码只发该镇街"),
    )  # fmt: skip


def _apply_errors(form: forms.Form, exc: ValidationError) -> list[str]:
    """Puts a service's errors on the page form; returns those that belong to no form field (the field rows)."""
    rest = []
    for key, errs in exc.message_dict.items() if hasattr(exc, "error_dict") else [("", exc.messages)]:
        if key in form.fields:
            for e in errs:
                form.add_error(key, e)
        else:
            rest.extend(f"{_field_where(key)}{e}" for e in errs)
    return rest


def _field_where(key: str) -> str:
    parts = key.split(".")
    if parts[0] == "fields" and len(parts) > 1 and parts[1].isdecimal():
        return _("第 %(n)d 个字段：") % {"n": int(parts[1]) + 1}
    if parts[0] == "survey" and len(parts) > 1:
        return ""
    return ""


def _choices_text(choices) -> str:
    return "；".join(f"{v}={label}" for v, label in choices or [])


def _parse_choices(text: str) -> list:
    out = []
    for part in (text or "").replace(";", "；").split("；"):
        if part.strip():
            value, _sep, label = part.partition("=")
            out.append([value.strip(), (label or value).strip()])
    return out


def _posted_fields(request: HttpRequest) -> list[dict]:
    lists = {k: request.POST.getlist(f"field_{k}") for k in _FIELD_KEYS}
    count = len(lists["name"])
    fields = []
    for i in range(count):
        row = {k: (v[i] if i < len(v) else "").strip() for k, v in lists.items()}
        get = row.__getitem__
        if not get("name") and not get("label"):
            continue
        fields.append(
            {
                "name": get("name"),
                "label": get("label"),
                "kind": get("kind"),
                "unit": get("unit"),
                "required": get("required") != "no",
                "choices": _parse_choices(get("choices")),
                "per_row": get("per_row") == "yes",
                "element": get("element") or None,
                "prefill": get("prefill"),
                "aggregate": get("aggregate"),
                "rule": get("rule"),
                "rule_message": get("rule_message"),
            }
        )
    return fields


def _row_context(field: dict | None = None) -> dict:
    field = dict(field or {})
    field["choices_text"] = _choices_text(field.get("choices"))
    return {"f": field}


def _editor_context() -> dict:
    keys = [(s.key, s.label) for s in prefill.prefill_sources().values()]
    for source in prefill.ROW_SOURCES.values():
        keys += [(f"{source.key}.{c}", f"{source.label}：{label}") for c, label in source.columns.items()]
    return {
        "kinds": ReportField.Kind.choices,
        "aggregates": ReportField.Aggregate.choices,
        "prefill_keys": keys,
    }


# --- register -------------------------------------------------------------------------------------------------
@require_GET
@page_requires(COLLAB_WORK)
def form_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    status = request.GET.get("status", "")
    status = status if status in ReportForm.Status.values else ""
    q = request.GET.get("q", "")[:50]
    page = sel.form_register(
        principal, status=status, q=q, cursor=request.GET.get("cursor") or None, limit=50
    )
    next_query = urlencode({"status": status, "q": q, "cursor": page.next_cursor or ""})
    return render(
        request,
        "collab/forms.html",
        {
            "page": page,
            "status": status,
            "q": q,
            "statuses": ReportForm.Status.choices,
            "next_query": next_query,
            "may_manage": principal.has(FORM_MANAGE),
            "is_centre": principal.has(FORM_ADMIT),
        },
    )


@require_http_methods(["GET", "POST"])
@page_requires(FORM_MANAGE)
def form_new(request: HttpRequest) -> HttpResponse:
    head = FormHead(request.POST or None)
    fields = _posted_fields(request) if request.method == "POST" else [{"kind": "integer"}]
    row_errors: list[str] = []
    if request.method == "POST" and head.is_valid():
        try:
            form = services.form_create(actor=request.principal, fields=fields, **head.cleaned_data)
        except ValidationError as exc:
            row_errors = _apply_errors(head, exc)
        else:
            messages.success(request, _("表格已登记为草稿。"))
            return redirect("collab:form_detail", ref=form.code)
    return render(
        request,
        "collab/form_new.html",
        {
            "head": head,
            "rows": [_row_context(f) for f in fields],
            "row_errors": row_errors,
            **_editor_context(),
        },
    )


@require_GET
@page_requires(FORM_MANAGE)
def form_field_row(request: HttpRequest) -> HttpResponse:
    return render(
        request, "collab/form_field_row.html", {**_row_context({"kind": "integer"}), **_editor_context()}
    )


@require_http_methods(["GET", "POST"])
@page_requires(COLLAB_WORK)
def form_detail(request: HttpRequest, ref: str) -> HttpResponse:
    principal = request.principal
    form = sel.form_get(principal, ref)
    may_manage = sel.form_may_manage(principal, form)
    editable = may_manage and form.status in services.EDITABLE
    fields = [services.field_as_dict(f) for f in form.fields.all()]
    row_errors: list[str] = []
    head = None
    if editable:
        initial = {k: getattr(form, k) for k in ("code", "name", "purpose", "legal_basis", "frequency",
                                                 "target_level", "row_source")}  # fmt: skip
        head = FormHead(request.POST or None, initial=initial)
        head.fields["code"].disabled = True
        if request.method == "POST":
            fields = _posted_fields(request)
            if head.is_valid():
                data = {k: v for k, v in head.cleaned_data.items() if k != "code"}
                try:
                    services.form_update(actor=principal, form=form, fields=fields, **data)
                except ValidationError as exc:
                    row_errors = _apply_errors(head, exc)
                else:
                    messages.success(request, _("已保存。"))
                    return redirect("collab:form_detail", ref=form.code)
    elif request.method == "POST":
        raise PermissionDenied(_("只能修改本部门草稿或不予准入的表格。"))
    sees_review = may_manage or principal.has(FORM_ADMIT)
    issues = sel.form_issues(principal, form, limit=20) if sees_review else None
    return render(
        request,
        "collab/form_detail.html",
        {
            "form": form,
            "fields": fields,
            "may_manage": may_manage,
            "editable": editable,
            "head": head,
            "rows": [_row_context(f) for f in fields],
            "row_errors": row_errors,
            "sees_review": sees_review,
            "findings": form.review_findings if sees_review else {},
            "issues": issues,
            "is_centre": principal.has(FORM_ADMIT),
            **_editor_context(),
        },
    )


_ACTIONS = {"submit": services.form_submit, "revise": services.form_revise, "retire": services.form_retire}


@require_POST
@page_requires(FORM_MANAGE)
def form_action(request: HttpRequest, ref: str, action: str) -> HttpResponse:
    form = sel.form_get(request.principal, ref)
    service = _ACTIONS.get(action)
    if service is None:
        from django.http import Http404

        raise Http404
    try:
        result = service(actor=request.principal, form=form)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("collab:form_detail", ref=form.code)
    done = {"submit": _("已提交准入审核。"), "revise": _("已生成新版本草稿。"), "retire": _("表格已停用。")}
    messages.success(request, done[action])
    return redirect("collab:form_detail", ref=result.code)


# --- admission ------------------------------------------------------------------------------------------------
@require_GET
@page_requires(FORM_ADMIT)
def form_admission(request: HttpRequest) -> HttpResponse:
    page = sel.form_admission_queue(request.principal, cursor=request.GET.get("cursor") or None)
    return render(request, "collab/form_admission.html", {"page": page})


@require_http_methods(["GET", "POST"])
@page_requires(FORM_ADMIT)
def form_review(request: HttpRequest, ref: str) -> HttpResponse:
    form = sel.form_get(request.principal, ref)
    error = ""
    if request.method == "POST":
        try:
            services.form_admit(
                actor=request.principal,
                form=form,
                decision=request.POST.get("decision", ""),
                note=request.POST.get("note", ""),
            )
        except ValidationError as exc:
            error = "；".join(exc.messages)
        else:
            messages.success(request, _("审核结论已保存。"))
            return redirect("collab:form_admission")
    return render(
        request,
        "collab/form_review.html",
        {
            "form": form,
            "fields": list(form.fields.all()),
            "findings": form.review_findings,
            "error": error,
            "note": request.POST.get("note", ""),
        },
    )


# --- import and issue -----------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@page_requires(FORM_MANAGE)
def form_import(request: HttpRequest) -> HttpResponse:
    page_form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and page_form.is_valid():
        data = page_form.cleaned_data
        try:
            form = xlsform_import(
                actor=request.principal,
                upload=data["file"],
                purpose=data["purpose"],
                legal_basis=data["legal_basis"],
                frequency=data["frequency"],
                target_level=data["target_level"],
                code=data["code"],
                name=data["name"],
            )
        except ValidationError as exc:
            errors = _apply_errors(page_form, exc)
        else:
            messages.success(request, _("XLSForm 已导入为草稿表格，请核对字段后提交准入审核。"))
            return redirect("collab:form_detail", ref=form.code)
    return render(request, "collab/form_import.html", {"page_form": page_form, "errors": errors})


@require_http_methods(["GET", "POST"])
@page_requires(FORM_MANAGE)
def form_issue(request: HttpRequest, ref: str) -> HttpResponse:
    form = sel.form_get(request.principal, ref)
    if not sel.form_may_manage(request.principal, form):
        raise PermissionDenied(_("只能下发本部门的表格。"))
    page_form = IssueForm(request.POST or None)
    if request.method == "POST" and page_form.is_valid():
        data = dict(page_form.cleaned_data)
        code = data.pop("root_division")
        root = Division.objects.filter(code=code, is_active=True).first() if code else None
        if code and root is None:
            page_form.add_error("root_division", _("区划代码“%(code)s”不存在。") % {"code": code})
        else:
            try:
                issue = services.form_issue(actor=request.principal, form=form, root_division=root, **data)
            except ValidationError as exc:
                for message in _apply_errors(page_form, exc):
                    page_form.add_error(None, message)
            else:
                messages.success(
                    request,
                    _("已下发到 %(n)d 个填报单位。") % {"n": issue.units_count},
                )
                return redirect("collab:form_detail", ref=form.code)
    return render(request, "collab/form_issue.html", {"form": form, "page_form": page_form})


urlpatterns: list = [
    path("forms/", form_list, name="forms"),
    path("forms/new/", form_new, name="form_new"),
    path("forms/field-row/", form_field_row, name="form_field_row"),
    path("forms/admission/", form_admission, name="form_admission"),
    path("forms/import/", form_import, name="form_import"),
    path("forms/<str:ref>/", form_detail, name="form_detail"),
    path("forms/<str:ref>/review/", form_review, name="form_review"),
    path("forms/<str:ref>/issue/", form_issue, name="form_issue"),
    path("forms/<str:ref>/<str:action>/", form_action, name="form_action"),
]
