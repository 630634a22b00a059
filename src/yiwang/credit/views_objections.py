"""Pages: 公共信用：我的信用、信用异议与信用修复.

我的信用 (SELF_SERVICE):
- `credit:mine` (/credit/mine/): my file's grade with its reasons, records (keyset), list entries, the credit checks
  on my cases, my objections and repairs; from a record: 异议 and (when allowed) 修复, with the reason when not;
- `credit:mine_objection` (/credit/mine/records/<uuid>/objection/): reason + evidence upload;
- `credit:mine_repair` (/credit/mine/repair/?record=<uuid> or ?entry=<uuid>): statement + proof upload.
Staff:
- `credit:objections` (/credit/objections/): my department's queue (CREDIT_HANDLE), by deadline;
- `credit:objection_detail` (/credit/objections/<uuid>/): the objection (its objector sees it too) and, for the
  verifying department, the decide form (correct — withdraw the record or change its values — or reject);
- `credit:repairs` (/credit/repairs/), `credit:repair_detail` (/credit/repairs/<uuid>/): the review (CREDIT_MANAGE);
- `credit:objection_receipt`, `credit:repair_receipt`: the decision's 存证回执 for the applicant and staff.
Every write calls the same services as the API.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.core.apiutils import receipt_download
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import CREDIT_HANDLE, CREDIT_MANAGE, SELF_SERVICE

from .models import CreditObjection, CreditRepair
from .selectors import mine as mine_sel
from .selectors import objections as sel
from .services.objections import CORRECTABLE_FIELDS, objection_decide, objection_file
from .services.repairs import repair_apply, repair_decide, repair_eligibility

EVIDENCE_HELP = gettext_lazy("PDF、JPEG、PNG 或 OFD 文件，不超过 10 MB（按文件内容识别格式）。")


class ObjectionForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("异议理由"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": gettext_lazy("请填写异议理由。")},
    )
    evidence = forms.FileField(label=gettext_lazy("证明材料"), required=False, help_text=EVIDENCE_HELP)


class RepairForm(forms.Form):
    statement = forms.CharField(
        label=gettext_lazy("信用修复承诺与说明"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("说明已履行的法定义务、纠正失信行为的情况，并承诺今后守法诚信。"),
        error_messages={"required": gettext_lazy("请填写信用修复承诺与说明。")},
    )
    evidence = forms.FileField(label=gettext_lazy("履行证明"), required=False, help_text=EVIDENCE_HELP)


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("核实结果"),
        choices=[
            ("corrected", gettext_lazy("异议成立，更正记录")),
            ("rejected", gettext_lazy("异议不成立，驳回")),
        ],
        widget=forms.RadioSelect,
    )
    decision = forms.CharField(
        label=gettext_lazy("核实意见"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": gettext_lazy("请填写核实意见。")},
    )
    title = forms.CharField(label=gettext_lazy("更正后的事由"), max_length=200, required=False)
    legal_basis = forms.CharField(label=gettext_lazy("更正后的法律依据"), max_length=300, required=False)
    occurred_on = forms.DateField(
        label=gettext_lazy("更正后的发生日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    effective_until = forms.DateField(
        label=gettext_lazy("更正后的有效期至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    detail = forms.CharField(
        label=gettext_lazy("更正后的内容"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class RepairDecideForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("审核结果"),
        choices=[("approved", gettext_lazy("准予修复")), ("rejected", gettext_lazy("不予修复"))],
        widget=forms.RadioSelect,
    )
    decision = forms.CharField(
        label=gettext_lazy("审核意见"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": gettext_lazy("请填写审核意见。")},
    )


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, msgs in exc.message_dict.items():
        name = key.split(".", 1)[-1] if key.startswith("correction.") else key
        form.add_error(name if name in form.fields else None, msgs)


def _next_query(cursor: str | None, **extra) -> str:
    return urlencode({**{k: v for k, v in extra.items() if v}, "cursor": cursor}) if cursor else ""


# --- 我的信用 ----------------------------------------------------------------------------------------------------
@page_requires(SELF_SERVICE)
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    subject = mine_sel.mine_subject(principal)
    file = mine_sel.mine_file(principal)
    try:
        page = mine_sel.mine_records(principal, cursor=request.GET.get("cursor") or None)
    except ValidationError:
        return redirect("credit:mine")
    black = mine_sel.mine_black_record_ids(principal)
    records = [(r, repair_eligibility(record=r, backs_black=r.pk in black)) for r in page.items]
    entries = [(e, repair_eligibility(entry=e)) for e in mine_sel.mine_entries(principal)]
    return render(
        request,
        "credit/mine/index.html",
        {
            "subject": subject,
            "file": file,
            "records": records,
            "entries": entries,
            "next_query": _next_query(page.next_cursor),
            "checks": mine_sel.mine_checks(principal),
            "objections": sel.objections_mine(principal, limit=10).items,
            "repairs": sel.repairs_mine(principal, limit=10).items,
        },
    )


@page_requires(SELF_SERVICE)
@require_http_methods(["GET", "POST"])
def mine_objection(request: HttpRequest, record_id) -> HttpResponse:
    principal = request.principal
    record = mine_sel.mine_record_get(principal, record_id)
    form = ObjectionForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                objection = objection_file(
                    actor=principal,
                    record=record,
                    reason=form.cleaned_data["reason"],
                    evidence=form.cleaned_data["evidence"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("异议已提交，编号 %(n)s，核实期限 %(d)s。")
                    % {"n": objection.number, "d": objection.due_date},
                )
                return redirect("credit:objection_detail", objection_id=objection.public_id)
        status = 422
    return render(request, "credit/mine/objection_form.html", {"form": form, "record": record}, status=status)


@page_requires(SELF_SERVICE)
@require_http_methods(["GET", "POST"])
def mine_repair(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    params = request.POST if request.method == "POST" else request.GET
    record_id, entry_id = params.get("record") or "", params.get("entry") or ""
    if bool(record_id) == bool(entry_id):
        raise Http404
    record = mine_sel.mine_record_get(principal, record_id) if record_id else None
    entry = mine_sel.mine_entry_get(principal, entry_id) if entry_id else None
    target = record or entry
    verdict = repair_eligibility(record=record, entry=entry)
    form = RepairForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                repair = repair_apply(
                    actor=principal,
                    file=target.file,
                    record=record,
                    entry=entry,
                    statement=form.cleaned_data["statement"],
                    evidence=form.cleaned_data["evidence"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("信用修复申请已提交，编号 %(n)s。") % {"n": repair.number})
                return redirect("credit:repair_detail", repair_id=repair.public_id)
        status = 422
    return render(
        request,
        "credit/mine/repair_form.html",
        {"form": form, "record": record, "entry": entry, "verdict": verdict},
        status=status,
    )


# --- objections ------------------------------------------------------------------------------------------------
@page_requires(CREDIT_HANDLE)
@require_GET
def objections(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or CreditObjection.Status.PENDING
    if status not in CreditObjection.Status.values and status != "all":
        status = CreditObjection.Status.PENDING
    try:
        page = sel.objection_queue(
            request.principal,
            status=None if status == "all" else status,
            cursor=request.GET.get("cursor") or None,
        )
    except ValidationError:
        return redirect("credit:objections")
    return render(
        request,
        "credit/objections/queue.html",
        {
            "page": page,
            "status": status,
            "statuses": CreditObjection.Status.choices,
            "next_query": _next_query(page.next_cursor, status=status),
        },
    )


def _objection_page(request, objection, handles, form=None, status=200) -> HttpResponse:
    if form is None and handles and objection.status == CreditObjection.Status.PENDING:
        form = DecideForm()
    return render(
        request,
        "credit/objections/detail.html",
        {"o": objection, "r": objection.record, "handles": handles, "form": form},
        status=status,
    )


@page_requires(SELF_SERVICE)
@require_http_methods(["GET", "POST"])
def objection_detail(request: HttpRequest, objection_id) -> HttpResponse:
    principal = request.principal
    objection, handles = sel.objection_get(principal, objection_id)
    if request.method == "GET":
        return _objection_page(request, objection, handles)
    if not handles:
        raise Http404
    form = DecideForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        corrected = data["outcome"] == "corrected"
        correction = {f: data[f] for f in CORRECTABLE_FIELDS if data.get(f) not in (None, "")}
        try:
            objection_decide(
                actor=principal,
                objection=objection,
                corrected=corrected,
                decision=data["decision"],
                correction=correction or None,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已办结，异议人已收到通知。"))
            return redirect("credit:objection_detail", objection_id=objection.public_id)
    return _objection_page(request, objection, handles, form=form, status=422)


@page_requires(SELF_SERVICE)
@require_GET
def objection_receipt(request: HttpRequest, objection_id) -> HttpResponse:
    objection, _handles = sel.objection_get(request.principal, objection_id)
    return receipt_download(request, sel.receipt_entry_of(objection))


# --- repairs ---------------------------------------------------------------------------------------------------
@page_requires(CREDIT_MANAGE)
@require_GET
def repairs(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or CreditRepair.Status.PENDING
    if status not in CreditRepair.Status.values and status != "all":
        status = CreditRepair.Status.PENDING
    try:
        page = sel.repair_queue(
            request.principal,
            status=None if status == "all" else status,
            cursor=request.GET.get("cursor") or None,
        )
    except ValidationError:
        return redirect("credit:repairs")
    return render(
        request,
        "credit/objections/repairs.html",
        {
            "page": page,
            "status": status,
            "statuses": CreditRepair.Status.choices,
            "next_query": _next_query(page.next_cursor, status=status),
        },
    )


@page_requires(SELF_SERVICE)
@require_http_methods(["GET", "POST"])
def repair_detail(request: HttpRequest, repair_id) -> HttpResponse:
    principal = request.principal
    repair, reviews = sel.repair_get(principal, repair_id)
    form = RepairDecideForm() if reviews and repair.status == CreditRepair.Status.PENDING else None
    status = 200
    if request.method == "POST":
        if not reviews:
            raise Http404
        form = RepairDecideForm(request.POST)
        if form.is_valid():
            try:
                repair_decide(
                    actor=principal,
                    repair=repair,
                    approved=form.cleaned_data["outcome"] == "approved",
                    decision=form.cleaned_data["decision"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("已审核，申请人已收到通知。"))
                return redirect("credit:repair_detail", repair_id=repair.public_id)
        status = 422
    return render(
        request,
        "credit/objections/repair_detail.html",
        {"x": repair, "reviews": reviews, "form": form},
        status=status,
    )


@page_requires(SELF_SERVICE)
@require_GET
def repair_receipt(request: HttpRequest, repair_id) -> HttpResponse:
    repair, _reviews = sel.repair_get(request.principal, repair_id)
    return receipt_download(request, sel.receipt_entry_of(repair))


urlpatterns: list = [
    path("mine/", mine, name="mine"),
    path("mine/records/<uuid:record_id>/objection/", mine_objection, name="mine_objection"),
    path("mine/repair/", mine_repair, name="mine_repair"),
    path("objections/", objections, name="objections"),
    path("objections/<uuid:objection_id>/", objection_detail, name="objection_detail"),
    path("objections/<uuid:objection_id>/receipt/", objection_receipt, name="objection_receipt"),
    path("repairs/", repairs, name="repairs"),
    path("repairs/<uuid:repair_id>/", repair_detail, name="repair_detail"),
    path("repairs/<uuid:repair_id>/receipt/", repair_receipt, name="repair_receipt"),
]
