"""Pages: 我的数据 (holdings, uses of my data), 授权用数 (consents and receipts), 数据资产凭证, the public voucher
check and the staff audit of a subject's data uses. Views parse, call selectors/services and render."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.core.models import RegisteredSystem
from yiwang.core.pageutils import page_requires
from yiwang.core.pagination import Page
from yiwang.core.permissions import DATA_AUDIT, PUBLIC, SELF_SERVICE
from yiwang.core.ratelimit import rate_limit

from .models import Consent
from .selectors import mydata as sel
from .services.consent import consent_give, consent_revoke, consentable_resources, may_act_for
from .services.mydata import data_uses_audit, voucher_issue, voucher_revoke, voucher_sources
from .vouchers import MAX_VOUCHER_BYTES, platform_public_keys, voucher_file, voucher_file_parse

PAGE_SIZE = 20
SYSTEM_CHOICES_LIMIT = 200
STATUS_LABELS = {
    "active": gettext_lazy("有效"),
    "revoked": gettext_lazy("已撤回"),
    "expired": gettext_lazy("已到期"),
    "used_up": gettext_lazy("次数已用完"),
    "valid": gettext_lazy("有效"),
}
STATUS_BADGES = {
    "active": "badge-success",
    "valid": "badge-success",
    "revoked": "badge-danger",
    "expired": "badge-warning",
    "used_up": "badge-warning",
}
CHECK_LABELS = {
    "valid": gettext_lazy("有效：凭证由本平台签发，内容未被改动"),
    "invalid": gettext_lazy("无效：签名验证失败，内容可能被改动或并非本平台签发"),
    "revoked": gettext_lazy("已作废：签名有效，但持有人已作废该凭证"),
    "expired": gettext_lazy("已过期：签名有效，但凭证已超过有效期"),
    "unknown": gettext_lazy("签名有效，但本平台没有该凭证的签发记录"),
}


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: list(v) for k, v in exc.message_dict.items()}
    return {"__all__": list(exc.messages)}


def _int_or_none(value: str | None):
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return -1  # reported by the service's range check


# --- 我的数据 -----------------------------------------------------------------------------------------------------
@page_requires(SELF_SERVICE)
def mydata(request: HttpRequest) -> HttpResponse:
    holder = sel.holder_of(request.principal)
    sections, uses = [], []
    if holder.exists:
        sections = sel.holdings(request.principal)
        uses = sel.uses_mine(request.principal, limit=5).items
    return render(request, "datahub/mydata/home.html", {"sections": sections, "uses": uses, "holder": holder})


@page_requires(SELF_SERVICE)
def mydata_uses(request: HttpRequest) -> HttpResponse:
    if not sel.holder_of(request.principal).exists:
        page = Page(items=[], next_cursor=None)
    else:
        try:
            page = sel.uses_mine(request.principal, cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
        except ValidationError:
            return redirect("datahub:mydata_uses")
    return render(request, "datahub/mydata/uses.html", {"page": page, "rows": page.items})


# --- 授权用数 -------------------------------------------------------------------------------------------------------
def _give_context(request, *, values=None, errors=None) -> dict:
    holder = sel.holder_of(request.principal)
    organisation = holder.organisation is not None
    resources = consentable_resources(organisation=organisation) if holder.exists else []
    systems = list(
        RegisteredSystem.objects.filter(is_active=True)
        .select_related("department")
        .order_by("name")[:SYSTEM_CHOICES_LIMIT]
    )
    may_give = holder.exists and (
        not organisation or may_act_for(request.principal.account, holder.organisation)
    )
    return {
        "resources": resources,
        "systems": systems,
        "kinds": Consent.GranteeKind.choices,
        "modes": Consent.Mode.choices,
        "values": values or {},
        "chosen": set((values or {}).get("item", [])),
        "errors": errors or {},
        "may_give": may_give,
        "holder": holder,
        "default_until": (timezone.localdate() + timedelta(days=90)).isoformat(),
    }


def _items_from(values: list[str]) -> list[dict]:
    merged: dict[str, list[str]] = {}
    for value in values:
        code, _sep, field = value.partition(":")
        if code and field:
            merged.setdefault(code, []).append(field)
    return [{"resource": code, "fields": fields} for code, fields in merged.items()]


@page_requires(SELF_SERVICE)
@require_http_methods(["GET", "POST"])
def consents(request: HttpRequest) -> HttpResponse:
    status = 200
    values: dict = {}
    errors: dict = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in request.POST if k != "item"}
        values["item"] = request.POST.getlist("item")
        until = parse_date(values.get("valid_until", "") or "")
        try:
            consent = consent_give(
                actor=request.principal,
                grantee_kind=values.get("grantee_kind", ""),
                system_client_id=values.get("system", ""),
                grantee_name=values.get("grantee_name", ""),
                grantee_uscc=values.get("grantee_uscc", ""),
                items=_items_from(values["item"]),
                purpose=values.get("purpose", ""),
                valid_until=timezone.make_aware(datetime.combine(until, time(23, 59, 59))) if until else None,
                mode=values.get("mode", Consent.Mode.VIEW),
                max_uses=_int_or_none(values.get("max_uses")),
                data_life_days=_int_or_none(values.get("data_life_days")),
            )
        except ValidationError as exc:
            errors, status = _errors(exc), 400
        else:
            messages.success(request, _("授权已生效，授权回执已签名保存。"))
            return redirect("datahub:consent_detail", consent_id=consent.public_id)
    try:
        page = sel.consents_mine(request.principal, cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except ValidationError:
        return redirect("datahub:consents")
    rows = [
        {
            "consent": c,
            "status": STATUS_LABELS.get(c.display_status, c.display_status),
            "badge": STATUS_BADGES.get(c.display_status, ""),
        }
        for c in page.items
    ]
    context = {"page": page, "rows": rows, **_give_context(request, values=values, errors=errors)}
    return render(request, "datahub/mydata/consents.html", context, status=status)


@page_requires(SELF_SERVICE)
def consent_detail(request: HttpRequest, consent_id) -> HttpResponse:
    consent = sel.consent_mine_get(request.principal, consent_id)
    receipt = sel.consent_receipt(consent)
    return render(
        request,
        "datahub/mydata/consent_detail.html",
        {
            "consent": consent,
            "receipt": receipt,
            "record_json": json.dumps(consent.record, ensure_ascii=False, indent=1, sort_keys=True),
            "status": STATUS_LABELS.get(consent.display_status, consent.display_status),
            "badge": STATUS_BADGES.get(consent.display_status, ""),
            "calls": sel.consent_calls(consent),
        },
    )


@page_requires(SELF_SERVICE)
def consent_receipt_download(request: HttpRequest, consent_id) -> HttpResponse:
    consent = sel.consent_mine_get(request.principal, consent_id)
    receipt = sel.consent_receipt(consent)
    receipt["revoked_at"] = consent.revoked_at.isoformat() if consent.revoked_at else None
    response = JsonResponse(receipt, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'attachment; filename="consent-{consent.public_id}.json"'
    return response


@page_requires(SELF_SERVICE)
@require_POST
def consent_revoke_page(request: HttpRequest, consent_id) -> HttpResponse:
    consent = sel.consent_mine_get(request.principal, consent_id)
    try:
        consent_revoke(actor=request.principal, consent=consent, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(sum(_errors(exc).values(), [])))
    else:
        messages.success(request, _("授权已撤回，立即生效。"))
    return redirect("datahub:consent_detail", consent_id=consent.public_id)


# --- 数据资产凭证 -----------------------------------------------------------------------------------------------------
@page_requires(SELF_SERVICE)
@require_http_methods(["GET", "POST"])
def vouchers(request: HttpRequest) -> HttpResponse:
    holder = sel.holder_of(request.principal)
    status, errors, values = 200, {}, {}
    if request.method == "POST":
        chosen = request.POST.getlist("item")
        values = {
            "item": chosen,
            "valid_days": request.POST.get("valid_days", ""),
            "purpose": request.POST.get("purpose", ""),
        }
        merged: dict[str, list[str]] = {}
        for value in chosen:
            source, _sep, field = value.partition(":")
            if source and field:
                merged.setdefault(source, []).append(field)
        try:
            voucher = voucher_issue(
                actor=request.principal,
                items=[{"source": s, "fields": f} for s, f in merged.items()],
                valid_days=_int_or_none(values["valid_days"]) or 0,
                purpose=values["purpose"],
            )
        except ValidationError as exc:
            errors, status = _errors(exc), 400
        else:
            messages.success(request, _("数据资产凭证已签发，可下载凭证文件。"))
            return redirect(f"{request.path}#voucher-{voucher.public_id}")
    try:
        page = sel.vouchers_mine(request.principal, cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except ValidationError:
        return redirect("datahub:vouchers")
    now = timezone.now()
    rows = []
    for v in page.items:
        state = sel.voucher_state(v, now)
        rows.append(
            {
                "voucher": v,
                "state": state,
                "status": STATUS_LABELS.get(state, state),
                "badge": STATUS_BADGES.get(state, ""),
            }
        )
    sources = voucher_sources(organisation=holder.organisation is not None) if holder.exists else []
    return render(
        request,
        "datahub/mydata/vouchers.html",
        {
            "page": page,
            "rows": rows,
            "sources": sources,
            "values": values,
            "chosen": set(values.get("item", [])),
            "errors": errors,
            "holder": holder,
        },
        status=status,
    )


@page_requires(SELF_SERVICE)
def voucher_download(request: HttpRequest, voucher_id) -> HttpResponse:
    voucher = sel.voucher_mine_get(request.principal, voucher_id)
    response = JsonResponse(voucher_file(voucher), json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'attachment; filename="data-voucher-{voucher.public_id}.json"'
    return response


@page_requires(SELF_SERVICE)
@require_POST
def voucher_revoke_page(request: HttpRequest, voucher_id) -> HttpResponse:
    voucher = sel.voucher_mine_get(request.principal, voucher_id)
    try:
        voucher_revoke(actor=request.principal, voucher=voucher, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(sum(_errors(exc).values(), [])))
    else:
        messages.success(request, _("凭证已作废，公开核验将显示“已作废”。"))
    return redirect("datahub:vouchers")


# --- public verification ------------------------------------------------------------------------------------------
JSON_TYPES = ("application/json", "text/json", "text/plain", "application/octet-stream", "")


class VoucherUploadForm(forms.Form):
    voucher = forms.FileField(
        label=gettext_lazy("数据资产凭证文件"),
        help_text=gettext_lazy("JSON 文件（.json），不超过 1 MB"),
        error_messages={"required": gettext_lazy("请选择凭证文件。"), "empty": gettext_lazy("文件是空的。")},
    )

    def clean_voucher(self):
        upload = self.cleaned_data["voucher"]
        if upload.size > MAX_VOUCHER_BYTES:
            raise forms.ValidationError(_("文件过大：凭证文件不超过 1 MB。"), code="too_large")
        name = (upload.name or "").lower()
        content_type = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
        if not name.endswith(".json") or content_type not in JSON_TYPES:
            raise forms.ValidationError(_("只接受 JSON 文件（.json）。"), code="type")
        self.document = voucher_file_parse(upload.read(MAX_VOUCHER_BYTES + 1))
        if self.document is None:
            raise forms.ValidationError(_("文件不是有效的凭证文件。"), code="invalid")
        return upload


@page_requires(PUBLIC)
@require_http_methods(["GET", "POST"])
def voucher_verify(request: HttpRequest) -> HttpResponse:
    check, status = None, 200
    if request.method == "POST":
        rate_limit(request, scope="data_voucher_verify")
        form = VoucherUploadForm(request.POST, request.FILES)
        if form.is_valid():
            check = sel.voucher_verify(form.document)
        else:
            status = 400
    else:
        form = VoucherUploadForm()
    return render(
        request,
        "datahub/mydata/voucher_verify.html",
        {
            "form": form,
            "check": check,
            "check_label": CHECK_LABELS.get(check.result, "") if check else "",
            "public_keys": sorted(platform_public_keys().items()),
        },
        status=status,
    )


# --- staff: audit of data uses ------------------------------------------------------------------------------------
@page_requires(DATA_AUDIT)
@require_http_methods(["GET", "POST"])
def data_uses_audit_page(request: HttpRequest) -> HttpResponse:
    result, errors, values, status = None, {}, {}, 200
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("id_number", "uscc", "purpose", "cursor")}
        try:
            result = data_uses_audit(
                actor=request.principal,
                id_number=values["id_number"],
                uscc=values["uscc"],
                purpose=values["purpose"],
                cursor=values["cursor"] or None,
                limit=PAGE_SIZE,
            )
        except ValidationError as exc:
            errors, status = _errors(exc), 400
    return render(
        request,
        "datahub/mydata/uses_audit.html",
        {"result": result, "errors": errors, "values": values},
        status=status,
    )


urlpatterns = [
    path("mydata/", mydata, name="mydata"),
    path("mydata/uses/", mydata_uses, name="mydata_uses"),
    path("consents/", consents, name="consents"),
    path("consents/<uuid:consent_id>/", consent_detail, name="consent_detail"),
    path("consents/<uuid:consent_id>/receipt.json", consent_receipt_download, name="consent_receipt"),
    path("consents/<uuid:consent_id>/revoke/", consent_revoke_page, name="consent_revoke"),
    path("vouchers/", vouchers, name="vouchers"),
    path("vouchers/verify/", voucher_verify, name="voucher_verify"),
    path("vouchers/<uuid:voucher_id>/file.json", voucher_download, name="voucher_download"),
    path("vouchers/<uuid:voucher_id>/revoke/", voucher_revoke_page, name="voucher_revoke"),
    path("uses-audit/", data_uses_audit_page, name="data_uses_audit"),
]
