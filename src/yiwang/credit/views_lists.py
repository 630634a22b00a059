"""Pages: 公共信用：红黑名单与奖惩措施.

- `credit:lists` (/credit/lists/): the entries of my district, filtered by type and status, keyset-paged;
- `credit:list_new`: list a subject found by USCC or ID number (CREDIT_MANAGE);
- `credit:list_detail`: one entry; managers publish (公示) or remove it with a reason (`credit:list_act`);
- `credit:measures`: the measures catalogue (edited in the admin) with each measure's legal basis.
Every write calls the same services as the API (services.lists).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.forms import add_service_errors
from yiwang.core.models import Department
from yiwang.core.pageutils import page_requires
from yiwang.core.pagination import Page
from yiwang.core.permissions import CREDIT_MANAGE, CREDIT_VIEW

from .models import ListEntry, ListType
from .selectors import lists as sel
from .services.lists import (
    list_entry_create_for,
    list_entry_publish,
    list_entry_remove,
    principal_district,
)


class ListEntryForm(forms.Form):
    list_type = forms.ChoiceField(label=gettext_lazy("名单类型"), choices=ListType.choices)
    uscc = forms.CharField(
        label=gettext_lazy("统一社会信用代码"),
        max_length=30,
        required=False,
        help_text=gettext_lazy("法人填写；自然人请填写身份证号"),
    )
    id_number = forms.CharField(
        label=gettext_lazy("身份证号"),
        max_length=30,
        required=False,
        help_text=gettext_lazy("自然人填写（查询记入审计）"),
    )
    reason = forms.CharField(label=gettext_lazy("列入事由"), max_length=300)
    legal_basis = forms.CharField(label=gettext_lazy("认定依据"), max_length=300)
    department = forms.ModelChoiceField(
        label=gettext_lazy("认定部门"), queryset=Department.objects.none(), to_field_name="code"
    )
    starts_on = forms.DateField(
        label=gettext_lazy("列入日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=gettext_lazy("有效期至"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("空表示直至移出"),
    )
    publish = forms.BooleanField(label=gettext_lazy("立即公示"), required=False)

    def __init__(self, *args, district: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(
            division__code__startswith=district or "-"
        ).order_by("code")

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("有效期不能早于列入日期。"))
        return data


@page_requires(CREDIT_VIEW)
@require_GET
def lists(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    list_type = request.GET.get("type") or ""
    status = request.GET.get("status") or ""
    if list_type not in ListType.values:
        list_type = ""
    if status not in ListEntry.Status.values:
        status = ""
    error = ""
    try:
        page = sel.list_entries_visible(
            principal, list_type=list_type, status=status, cursor=request.GET.get("cursor") or None
        )
    except ValidationError:
        error = _("分页游标无效，请从第一页重新开始。")
        page = Page(items=[], next_cursor=None)
    next_query = ""
    if page.next_cursor:
        next_query = urlencode({"type": list_type, "status": status, "cursor": page.next_cursor})
    return render(
        request,
        "credit/lists/index.html",
        {
            "page": page,
            "list_type": list_type,
            "status": status,
            "types": ListType.choices,
            "statuses": ListEntry.Status.choices,
            "next_query": next_query,
            "error": error,
            "manages": principal.has(CREDIT_MANAGE),
        },
    )


@page_requires(CREDIT_MANAGE)
@require_http_methods(["GET", "POST"])
def list_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    district = principal_district(principal)
    initial = {
        "starts_on": timezone.localdate(),
        "department": principal.department.code if principal.department else None,
        "list_type": request.GET.get("type") or ListType.BLACK,
    }
    form = ListEntryForm(request.POST or None, initial=initial, district=district)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = list_entry_create_for(
                actor=principal,
                uscc=data["uscc"],
                id_number=data["id_number"],
                list_type=data["list_type"],
                reason=data["reason"],
                legal_basis=data["legal_basis"],
                department=data["department"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                publish=data["publish"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已列入名单。"))
            return redirect("credit:list_detail", entry_id=entry.public_id)
    return render(
        request,
        "credit/lists/new.html",
        {"form": form},
        status=422 if request.method == "POST" else 200,
    )


@page_requires(CREDIT_VIEW)
@require_GET
def list_detail(request: HttpRequest, entry_id) -> HttpResponse:
    principal = request.principal
    view = sel.entry_view(principal, sel.list_entry_get_visible(principal, entry_id))
    return render(request, "credit/lists/detail.html", {"view": view, "entry": view.entry})


@page_requires(CREDIT_MANAGE)
@require_POST
def list_act(request: HttpRequest, entry_id) -> HttpResponse:
    principal = request.principal
    entry = sel.list_entry_get_visible(principal, entry_id)
    action = request.POST.get("action")
    try:
        if action == "publish":
            list_entry_publish(actor=principal, entry=entry)
            messages.success(request, _("已公示。"))
        elif action == "remove":
            list_entry_remove(actor=principal, entry=entry, reason=request.POST.get("reason", ""))
            messages.success(request, _("已移出名单。"))
        else:
            messages.error(request, _("未知的操作。"))
    except ValidationError as exc:
        for msgs in getattr(exc, "message_dict", {"": exc.messages}).values():
            for message in msgs:
                messages.error(request, message)
        view = sel.entry_view(principal, sel.list_entry_get_visible(principal, entry_id))
        return render(
            request,
            "credit/lists/detail.html",
            {"view": view, "entry": view.entry, "remove_reason": request.POST.get("reason", "")},
            status=422,
        )
    return redirect("credit:list_detail", entry_id=entry.public_id)


@page_requires(CREDIT_VIEW)
@require_GET
def measures(request: HttpRequest) -> HttpResponse:
    rows = sel.measures_catalogue(request.principal)
    return render(
        request,
        "credit/lists/measures.html",
        {
            "black": [m for m in rows if m.list_type == ListType.BLACK],
            "red": [m for m in rows if m.list_type == ListType.RED],
            "admin": request.user.is_staff and request.principal.has(CREDIT_MANAGE),
        },
    )


urlpatterns = [
    path("lists/", lists, name="lists"),
    path("lists/new/", list_new, name="list_new"),
    path("lists/<uuid:entry_id>/", list_detail, name="list_detail"),
    path("lists/<uuid:entry_id>/act/", list_act, name="list_act"),
    path("measures/", measures, name="measures"),
]
