"""Pages: 纠错.

Staff (data officers, the centre, window clerks):
- `datahub:objection_queue` (/data/objections/): the queue, tabs source (待本部门核实) / filed (本部门提出), filters
  status / origin / overdue, the deadline light, keyset pages;
- `datahub:objection_new` (/data/objections/new/?channel=&resource=): pick a resource, then the field, the record
  and the proposed value (a department's data officer: resources its department holds a live grant of; a window
  clerk: the platform registries);
- `datahub:objection_detail` (/data/objections/<id>/): the values, the history, the pushes, the 数源部门's forms
  (start, correct, reject), withdraw for the filer, the receipts (loaded with HTMX from `objection_receipts`);
- `datahub:objection_pushes` (/data/objections/pushes/): corrections pushed to my department, to acknowledge.
Citizens and enterprise users (我的数据 → 我的纠错):
- `datahub:objection_mine` (/data/my/objections/), `objection_mine_new` (…/new/?field=), `objection_mine_detail`.
Every write calls the same services as the API (services.objections).
"""

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
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.forms import add_service_errors
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import CASE_INTAKE, DATA_CENTRE, DATA_STEWARD, SELF_SERVICE

from .api_objections import actions_for, receipt_download_path
from .models.objections import CorrectionPush, Objection
from .selectors import objections as sel
from .services import objections as svc

STAFF = (DATA_STEWARD, DATA_CENTRE, CASE_INTAKE)
_TEXT = forms.Textarea(attrs={"rows": 2})


# --- forms ------------------------------------------------------------------------------------------------------
class FileForm(forms.Form):
    field_name = forms.ChoiceField(label=gettext_lazy("有误的信息项"))
    record_key = forms.CharField(
        label=gettext_lazy("记录标识"),
        max_length=64,
        help_text=gettext_lazy("身份证号、统一社会信用代码或离岸库主键；现值由平台从数源读取"),
    )
    proposed_value = forms.CharField(label=gettext_lazy("建议值"), max_length=1000, required=False)
    reason = forms.CharField(label=gettext_lazy("异议理由"), max_length=2000, widget=_TEXT)

    def __init__(self, *args, resource, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field_name"].choices = [
            (f.name, f"{f.label}（{f.name}）") for f in resource.fields.all()
        ]


class SelfFileForm(forms.Form):
    field_name = forms.ChoiceField(label=gettext_lazy("有误的信息项"))
    proposed_value = forms.CharField(label=gettext_lazy("正确的内容"), max_length=1000)
    reason = forms.CharField(label=gettext_lazy("说明"), max_length=2000, widget=_TEXT)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field_name"].choices = choices


class CorrectForm(forms.Form):
    corrected_value = forms.CharField(label=gettext_lazy("更正后的值"), max_length=1000)
    correction_basis = forms.CharField(
        label=gettext_lazy("更正依据"), max_length=200, help_text=gettext_lazy("如 户籍档案、登记材料")
    )
    resolution = forms.CharField(
        label=gettext_lazy("处理意见"), max_length=2000, required=False, widget=_TEXT
    )


class RejectForm(forms.Form):
    resolution = forms.CharField(label=gettext_lazy("不予更正的理由"), max_length=2000, widget=_TEXT)


def _expected(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("expected_version") or 0) or None
    except ValueError:
        return None


# --- the queue --------------------------------------------------------------------------------------------------------
@page_requires(*STAFF)
@require_GET
def objection_queue(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    steward = principal.has(DATA_STEWARD) or principal.has(DATA_CENTRE)
    tab = request.GET.get("tab") or ("source" if steward else "filed")
    if tab not in ("source", "filed") or (tab == "source" and not steward):
        tab = "filed"
    status = request.GET.get("status") or ""
    if status not in Objection.Status.values:
        status = ""
    origin = request.GET.get("origin") or ""
    if origin not in Objection.Origin.values:
        origin = ""
    overdue = request.GET.get("overdue") == "1"
    try:
        page = sel.objections_queue(
            principal,
            tab=tab,
            status=status,
            origin=origin,
            overdue=overdue,
            cursor=request.GET.get("cursor"),
        )
    except ValidationError:
        return redirect("datahub:objection_queue")
    query = {
        "tab": tab,
        **({"status": status} if status else {}),
        **({"origin": origin} if origin else {}),
        **({"overdue": "1"} if overdue else {}),
    }
    next_query = urlencode({**query, "cursor": page.next_cursor}) if page.next_cursor else ""
    tabs = [("source", _("待本部门核实")), ("filed", _("本人或本部门提出"))] if steward else []
    return render(
        request,
        "datahub/objections/queue.html",
        {
            "page": page,
            "tab": tab,
            "tabs": tabs,
            "status": status,
            "origin": origin,
            "overdue": overdue,
            "statuses": Objection.Status.choices,
            "origins": Objection.Origin.choices,
            "next_query": next_query,
            "steward": steward,
        },
    )


# --- filing -----------------------------------------------------------------------------------------------------------
def _channels(principal) -> list[tuple[str, str]]:
    out = []
    if principal.has(DATA_STEWARD) or principal.has(DATA_CENTRE):
        out.append(("department", _("使用部门（持有共享授权）")))
    if principal.has(CASE_INTAKE):
        out.append(("window", _("窗口人员（办件中发现）")))
    return out


@page_requires(*STAFF)
@require_http_methods(["GET", "POST"])
def objection_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    channels = _channels(principal)
    wanted = request.GET.get("channel") or request.POST.get("channel") or ""
    channel = wanted if wanted in dict(channels) else channels[0][0]
    resource = sel.objection_resource_get(
        principal, channel, request.GET.get("resource") or request.POST.get("resource") or ""
    )
    if resource is None:
        return render(
            request,
            "datahub/objections/pick.html",
            {
                "channel": channel,
                "channels": channels,
                "resources": sel.objection_resources_for(principal, channel),
            },
        )
    form = FileForm(request.POST or None, resource=resource)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = svc.objection_file(
                    principal=principal, channel=channel, resource=resource, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("纠错已提交：%(number)s") % {"number": created.number})
                return redirect("datahub:objection_detail", objection_id=created.public_id)
        status = 422
    return render(
        request,
        "datahub/objections/new.html",
        {"resource": resource, "form": form, "channel": channel, "channels": channels},
        status=status,
    )


# --- one objection ------------------------------------------------------------------------------------------------------
def _detail(request: HttpRequest, objection: Objection, *, bound: dict | None = None, status: int = 200):
    principal = request.principal
    forms_ = {"correct": CorrectForm(), "reject": RejectForm()}
    forms_.update(bound or {})
    pushes = sel.objection_pushes(objection)
    department = principal.department
    return render(
        request,
        "datahub/objections/detail.html",
        {
            "o": objection,
            "values": sel.objection_values_shown(principal, objection),
            "events": sel.objection_events(objection),
            "pushes": [
                {
                    "n": i,
                    "push": p,
                    "can_ack": (
                        department is not None
                        and p.consumer_id == department.pk
                        and p.status != CorrectionPush.Status.ACKNOWLEDGED
                        and principal.has(DATA_STEWARD)
                    ),
                }
                for i, p in enumerate(pushes, start=1)
            ],
            "actions": actions_for(principal, objection),
            "forms": forms_,
        },
        status=status,
    )


@page_requires(*STAFF)
@require_GET
def objection_detail(request: HttpRequest, objection_id) -> HttpResponse:
    return _detail(request, sel.objection_get(request.principal, objection_id))


@page_requires(*STAFF)
@require_POST
def objection_act(request: HttpRequest, objection_id) -> HttpResponse:
    """One step from the detail page: `action` names it, `expected_version` is the version the page showed."""
    principal = request.principal
    objection = sel.objection_get(principal, objection_id)
    action = request.POST.get("action", "")
    expected = _expected(request)
    form = None
    try:
        if action == "start":
            svc.objection_start(principal=principal, objection=objection, expected_version=expected)
        elif action == "withdraw":
            svc.objection_withdraw(principal=principal, objection=objection, expected_version=expected)
        elif action == "correct":
            form = CorrectForm(request.POST)
            if not form.is_valid():
                return _detail(request, objection, bound={"correct": form}, status=422)
            svc.objection_correct(
                principal=principal, objection=objection, expected_version=expected, **form.cleaned_data
            )
        elif action == "reject":
            form = RejectForm(request.POST)
            if not form.is_valid():
                return _detail(request, objection, bound={"reject": form}, status=422)
            svc.objection_reject(
                principal=principal, objection=objection, expected_version=expected, **form.cleaned_data
            )
        else:
            messages.error(request, _("未知的操作。"))
            return _detail(request, objection, status=422)
    except svc.ObjectionConflict as exc:
        messages.error(request, " ".join(exc.messages))
        return _detail(request, sel.objection_get(principal, objection_id), status=409)
    except ValidationError as exc:
        if form is None:
            raise
        add_service_errors(form, exc)
        return _detail(request, objection, bound={action: form}, status=422)
    messages.success(request, _("操作已完成。"))
    return redirect("datahub:objection_detail", objection_id=objection.public_id)


@page_requires(*STAFF)
@require_GET
def objection_receipts(request: HttpRequest, objection_id) -> HttpResponse:
    objection = sel.objection_get(request.principal, objection_id)
    return _receipts(request, objection, mine=False)


def _receipts(request: HttpRequest, objection: Objection, *, mine: bool) -> HttpResponse:
    rows = [
        {
            "row": row,
            "download_url": receipt_download_path(objection, row.entry, mine=mine),
            "anchor": f"entry-{row.entry.uuid}",
        }
        for row in sel.objection_receipts(objection)
    ]
    template = "core/receipts/_table.html" if request.htmx else "datahub/objections/receipts.html"
    return render(request, template, {"o": objection, "rows": rows, "mine": mine})


# --- pushes -------------------------------------------------------------------------------------------------------------
@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def objection_pushes(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or ""
    if status not in CorrectionPush.Status.values:
        status = ""
    try:
        page = sel.pushes_for(request.principal, status=status, cursor=request.GET.get("cursor"))
    except ValidationError:
        return redirect("datahub:objection_pushes")
    numbers = sel.push_numbers(page.items)
    values = sel.push_values_shown(page.items)
    department = request.principal.department
    rows = [
        {
            "push": p,
            "n": numbers[p.pk],
            "value": values[p.pk],
            "can_ack": department is not None
            and p.consumer_id == department.pk
            and p.status != CorrectionPush.Status.ACKNOWLEDGED
            and request.principal.has(DATA_STEWARD),
        }
        for p in page.items
    ]
    next_query = urlencode({"status": status, "cursor": page.next_cursor}) if page.next_cursor else ""
    return render(
        request,
        "datahub/objections/pushes.html",
        {
            "rows": rows,
            "page": page,
            "status": status,
            "statuses": CorrectionPush.Status.choices,
            "next_query": next_query,
        },
    )


@page_requires(DATA_STEWARD)
@require_POST
def objection_push_ack(request: HttpRequest, objection_id, n: int) -> HttpResponse:
    principal = request.principal
    objection = sel.objection_get(principal, objection_id)
    push = sel.push_get(principal, objection, n)
    try:
        svc.correction_push_acknowledge(principal=principal, push=push)
    except svc.ObjectionConflict as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已确认更新。"))
    if request.POST.get("next") == "detail":
        return redirect("datahub:objection_detail", objection_id=objection.public_id)
    return redirect("datahub:objection_pushes")


# --- 我的纠错 ------------------------------------------------------------------------------------------------------------
@page_requires(SELF_SERVICE)
@require_GET
def objection_mine(request: HttpRequest) -> HttpResponse:
    page = sel.objections_mine(request.principal, cursor=request.GET.get("cursor"))
    next_query = urlencode({"cursor": page.next_cursor}) if page.next_cursor else ""
    return render(request, "datahub/objections/mine.html", {"page": page, "next_query": next_query})


def _self_choices(principal) -> list[tuple[str, str]]:
    """The fields a holder may object to (none for an account without a registered person or organisation)."""
    from .services.consent import consent_holder

    person, organisation = consent_holder(principal)
    if person is None and organisation is None:
        return []
    return svc.self_fields(organisation is not None)


@page_requires(SELF_SERVICE)
@require_http_methods(["GET", "POST"])
def objection_mine_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    choices = _self_choices(principal)
    initial = {"field_name": request.GET.get("field", "")}
    form = SelfFileForm(request.POST or None, choices=choices, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = svc.objection_file_self(principal=principal, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("纠错已提交：%(number)s") % {"number": created.number})
                return redirect("datahub:objection_mine_detail", objection_id=created.public_id)
        status = 422
    return render(
        request, "datahub/objections/mine_new.html", {"form": form, "available": bool(choices)}, status=status
    )


@page_requires(SELF_SERVICE)
@require_http_methods(["GET", "POST"])
def objection_mine_detail(request: HttpRequest, objection_id) -> HttpResponse:
    principal = request.principal
    objection = sel.objection_get(principal, objection_id, mine=True)
    if request.method == "POST":
        try:
            svc.objection_withdraw(
                principal=principal, objection=objection, expected_version=_expected(request)
            )
        except svc.ObjectionConflict as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("纠错已撤回。"))
        return redirect("datahub:objection_mine_detail", objection_id=objection.public_id)
    return render(
        request,
        "datahub/objections/mine_detail.html",
        {
            "values": sel.objection_values_shown(principal, objection),
            "o": objection,
            "events": sel.objection_events(objection),
            "can_withdraw": "withdraw" in actions_for(principal, objection),
        },
    )


@page_requires(SELF_SERVICE)
@require_GET
def objection_mine_receipts(request: HttpRequest, objection_id) -> HttpResponse:
    return _receipts(request, sel.objection_get(request.principal, objection_id, mine=True), mine=True)


urlpatterns: list = [
    path("objections/", objection_queue, name="objection_queue"),
    path("objections/new/", objection_new, name="objection_new"),
    path("objections/pushes/", objection_pushes, name="objection_pushes"),
    path("objections/<uuid:objection_id>/", objection_detail, name="objection_detail"),
    path("objections/<uuid:objection_id>/act/", objection_act, name="objection_act"),
    path("objections/<uuid:objection_id>/receipts/", objection_receipts, name="objection_receipts"),
    path(
        "objections/<uuid:objection_id>/pushes/<int:n>/acknowledge/",
        objection_push_ack,
        name="objection_push_ack",
    ),
    path("my/objections/", objection_mine, name="objection_mine"),
    path("my/objections/new/", objection_mine_new, name="objection_mine_new"),
    path("my/objections/<uuid:objection_id>/", objection_mine_detail, name="objection_mine_detail"),
    path(
        "my/objections/<uuid:objection_id>/receipts/", objection_mine_receipts, name="objection_mine_receipts"
    ),
]
