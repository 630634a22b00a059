"""Pages: 数据资产登记 for the departments' data officers and the big-data centre, and the public verification.

- `datahub:asset_list` (/data/assets/): my department's assets; the centre's queue (submitted, or a change or
  transfer waiting) and all; a status filter; keyset pages;
- `datahub:asset_new` (/data/assets/new/), `datahub:asset_edit` (/data/assets/<id>/edit/): the registration form
  (name, description, producer, up to five sources each with its legal basis, rights, valuation and compliance
  notes); the holder is the officer's department, taken from the registry;
- `datahub:asset_detail` (/data/assets/<id>/): facts, sources, the pending change, the buttons of the caller, the
  history and the receipts; `datahub:asset_act` runs a step; `datahub:asset_change` files a change or transfer;
- `datahub:asset_certificate` (/data/assets/<id>/certificate/): the printable certificate with its QR code to the
  public verification, and `datahub:asset_certificate_file` (the offline JSON file);
- `datahub:asset_verify` (/data/assets/verify/): PUBLIC, no login; by 登记编号 + 核验码 or by uploading the file;
  rate-limited; shows only the registration's public facts.
Every write calls the same services as the API (services.assets).
"""

from __future__ import annotations

import io
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD, PUBLIC
from yiwang.core.ratelimit import client_key, rate_limit_per

from .api_assets import VERIFY_RATE, VERIFY_SCOPE, receipt_download_path
from .asset_certificate import MAX_FILE_BYTES, asset_file, asset_file_parse, verify_code_display
from .models.assets import AssetRight, DataAsset
from .selectors import assets as sel
from .services.assets import (
    AssetConflict,
    asset_actions,
    asset_cancel,
    asset_change_decide,
    asset_change_request,
    asset_create,
    asset_review,
    asset_submit,
    asset_update,
)

SOURCE_ROWS = 5
_TEXT = {"rows": 3}

RESULT_LABELS = {
    "valid": gettext_lazy("有效：登记证书由本平台签发，内容未被改动，登记现行有效"),
    "superseded": gettext_lazy("已被新版本替代：签名有效，但登记内容已变更或转让，请以最新版本为准"),
    "cancelled": gettext_lazy("已注销：签名有效，但该数据资产登记已注销"),
    "invalid": gettext_lazy("无效：签名验证失败，内容可能被改动或并非本平台签发"),
    "unknown": gettext_lazy("签名有效，但本平台没有该版本证书的登记记录"),
    "not_found": gettext_lazy("没有找到：登记编号或核验码不正确"),
}


# --- forms -------------------------------------------------------------------------------------------------------------
class SourceRowsMixin:
    """Up to SOURCE_ROWS (resource, legal basis) rows; the resources the officer's department may name."""

    def add_source_rows(self, options) -> None:
        choices = [("", "—")] + [
            (
                str(r.public_id),
                f"{r.name}（{r.code}）· {r.provider.name}" + (_("（共享授权）") if granted else ""),
            )
            for r, granted in options
        ]
        for i in range(1, SOURCE_ROWS + 1):
            self.fields[f"source_{i}"] = forms.ChoiceField(
                label=_("数据来源 %(n)s") % {"n": i}, choices=choices, required=False
            )
            self.fields[f"basis_{i}"] = forms.CharField(
                label=_("来源合法性依据 %(n)s") % {"n": i},
                max_length=4000,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def sources(self) -> list[dict]:
        data = self.cleaned_data
        return [
            {"resource": data[f"source_{i}"], "legal_basis": data[f"basis_{i}"]}
            for i in range(1, SOURCE_ROWS + 1)
            if data.get(f"source_{i}")
        ]


def source_initial(asset: DataAsset) -> dict:
    initial: dict = {}
    for i, source in enumerate(sel.asset_sources(asset)[:SOURCE_ROWS], start=1):
        initial[f"source_{i}"] = str(source.resource.public_id)
        initial[f"basis_{i}"] = source.legal_basis
    return initial


class AssetForm(SourceRowsMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("数据产品名称"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("产品说明"), max_length=4000, widget=forms.Textarea(attrs=_TEXT)
    )
    producer = forms.CharField(
        label=gettext_lazy("加工单位"), max_length=120, help_text=gettext_lazy("承担数据加工的单位")
    )
    rights = forms.MultipleChoiceField(
        label=gettext_lazy("登记权利"),
        choices=AssetRight.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("至少一项；数据产品经营权须同时登记数据加工使用权"),
    )
    valuation_note = forms.CharField(
        label=gettext_lazy("价值评估说明"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs=_TEXT),
    )
    compliance_note = forms.CharField(
        label=gettext_lazy("合规说明"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs=_TEXT),
        help_text=gettext_lazy("提交审核前必填：数据来源合法、个人信息处理、安全保护等情况"),
    )

    def __init__(self, *args, options=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.add_source_rows(options)


class ReviewForm(forms.Form):
    review = forms.CharField(
        label=gettext_lazy("审查意见或原因"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs=_TEXT),
    )


class ChangeForm(SourceRowsMixin, forms.Form):
    note = forms.CharField(
        label=gettext_lazy("变更理由"), max_length=4000, widget=forms.Textarea(attrs=_TEXT)
    )
    description = forms.CharField(
        label=gettext_lazy("产品说明"), max_length=4000, widget=forms.Textarea(attrs=_TEXT)
    )
    valuation_note = forms.CharField(
        label=gettext_lazy("价值评估说明"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs=_TEXT),
    )
    compliance_note = forms.CharField(
        label=gettext_lazy("合规说明"), max_length=4000, required=False, widget=forms.Textarea(attrs=_TEXT)
    )
    rights = forms.MultipleChoiceField(
        label=gettext_lazy("登记权利"), choices=AssetRight.choices, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, options=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.add_source_rows(options)


class TransferForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("转让理由"), max_length=4000, widget=forms.Textarea(attrs=_TEXT)
    )
    to_department = forms.CharField(
        label=gettext_lazy("受让部门代码"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("转让给平台内部门时填写"),
    )
    to_uscc = forms.CharField(label=gettext_lazy("受让企业统一社会信用代码"), max_length=30, required=False)
    to_name = forms.CharField(label=gettext_lazy("受让企业名称"), max_length=120, required=False)


class LookupForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("登记编号"), max_length=40)
    code = forms.CharField(
        label=gettext_lazy("核验码"), max_length=20, help_text=gettext_lazy("印在登记证书上，如 ABCD-1234")
    )


JSON_TYPES = ("application/json", "text/json", "text/plain", "application/octet-stream", "")


class UploadForm(forms.Form):
    certificate = forms.FileField(
        label=gettext_lazy("登记证书文件"),
        help_text=gettext_lazy("JSON 文件（.json），不超过 256 KB"),
        error_messages={"required": gettext_lazy("请选择证书文件。"), "empty": gettext_lazy("文件是空的。")},
    )

    def clean_certificate(self):
        upload = self.cleaned_data["certificate"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(_("文件过大：证书文件不超过 256 KB。"), code="too_large")
        name = (upload.name or "").lower()
        content_type = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
        if not name.endswith(".json") or content_type not in JSON_TYPES:
            raise forms.ValidationError(_("只接受 JSON 文件（.json）。"), code="type")
        self.document = asset_file_parse(upload.read(MAX_FILE_BYTES + 1))
        if self.document is None:
            raise forms.ValidationError(_("文件不是有效的证书文件。"), code="invalid")
        return upload


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, msgs in exc.message_dict.items():
        if field == "sources":
            field = "source_1" if "source_1" in form.fields else None
        form.add_error(field if field in form.fields else None, msgs)


# --- lists ----------------------------------------------------------------------------------------------------------
@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def asset_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    is_centre = principal.has(DATA_CENTRE)
    tab = request.GET.get("tab") or ("queue" if is_centre else "mine")
    if tab not in sel.TABS or (tab == "queue" and not is_centre):
        tab = "mine"
    status = request.GET.get("status") or ""
    if status not in DataAsset.Status.values:
        status = ""
    try:
        page = sel.assets_visible(principal, tab=tab, status=status, cursor=request.GET.get("cursor"))
    except ValidationError:
        return redirect("datahub:asset_list")
    query = {"tab": tab, **({"status": status} if status else {})}
    next_query = urlencode({**query, "cursor": page.next_cursor}) if page.next_cursor else ""
    tabs = [("mine", _("本部门"))]
    if is_centre:
        tabs += [("queue", _("待审核")), ("all", _("全部"))]
    return render(
        request,
        "datahub/assets/list.html",
        {
            "page": page,
            "tab": tab,
            "tabs": tabs,
            "status": status,
            "statuses": DataAsset.Status.choices,
            "next_query": next_query,
        },
    )


# --- the form ---------------------------------------------------------------------------------------------------------
def _form_page(request, form, *, asset=None, status=200) -> HttpResponse:
    return render(
        request,
        "datahub/assets/form.html",
        {
            "form": form,
            "asset": asset,
            "department": request.principal.department,
            "rows": range(1, SOURCE_ROWS + 1),
        },
        status=status,
    )


@page_requires(DATA_STEWARD)
@require_http_methods(["GET", "POST"])
def asset_new(request: HttpRequest) -> HttpResponse:
    options = sel.asset_source_options(request.principal)
    form = AssetForm(request.POST or None, options=options)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                asset = asset_create(
                    actor=request.principal,
                    name=data["name"],
                    description=data["description"],
                    producer=data["producer"],
                    sources=form.sources(),
                    rights=data["rights"],
                    valuation_note=data["valuation_note"],
                    compliance_note=data["compliance_note"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("已保存草稿，核对无误后请提交审核。"))
                return redirect("datahub:asset_detail", asset_id=asset.public_id)
        return _form_page(request, form, status=422)
    return _form_page(request, form)


@page_requires(DATA_STEWARD)
@require_http_methods(["GET", "POST"])
def asset_edit(request: HttpRequest, asset_id) -> HttpResponse:
    asset = sel.asset_get(request.principal, asset_id)
    if "edit" not in asset_actions(request.principal, asset):
        messages.error(request, _("当前状态下不能修改。"))
        return redirect("datahub:asset_detail", asset_id=asset.public_id)
    options = sel.asset_source_options(request.principal)
    initial = {
        "name": asset.name,
        "description": asset.description,
        "producer": asset.producer,
        "rights": asset.rights,
        "valuation_note": asset.valuation_note,
        "compliance_note": asset.compliance_note,
    }
    initial.update(source_initial(asset))
    form = AssetForm(request.POST or None, initial=initial, options=options)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                asset_update(
                    actor=request.principal,
                    asset=asset,
                    expected_version=_int(request.POST.get("expected_version")),
                    name=data["name"],
                    description=data["description"],
                    producer=data["producer"],
                    sources=form.sources(),
                    rights=data["rights"],
                    valuation_note=data["valuation_note"],
                    compliance_note=data["compliance_note"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("已保存修改。"))
                return redirect("datahub:asset_detail", asset_id=asset.public_id)
        return _form_page(request, form, asset=asset, status=422)
    return _form_page(request, form, asset=asset)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- detail and steps ---------------------------------------------------------------------------------------------------
def _detail(request: HttpRequest, asset: DataAsset, *, review_form=None, status=200) -> HttpResponse:
    rows = [
        {
            "row": row,
            "download_url": receipt_download_path(asset, row.entry),
            "anchor": f"entry-{row.entry.uuid}",
        }
        for row in sel.asset_receipts(asset)
    ]
    return render(
        request,
        "datahub/assets/detail.html",
        {
            "a": asset,
            "sources": sel.asset_sources(asset),
            "events": sel.asset_events(asset),
            "actions": asset_actions(request.principal, asset),
            "review_form": review_form or ReviewForm(),
            "rows": rows,
            "verify_code": verify_code_display(asset.verify_code),
        },
        status=status,
    )


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def asset_detail(request: HttpRequest, asset_id) -> HttpResponse:
    return _detail(request, sel.asset_get(request.principal, asset_id))


STEP_MESSAGES = {
    "submit": gettext_lazy("已提交大数据中心审核。"),
    "return": gettext_lazy("已退回补正。"),
    "reject": gettext_lazy("已决定不予登记。"),
    "register": gettext_lazy("已准予登记，登记证书已签发。"),
    "change_approve": gettext_lazy("已准予，新版登记证书已签发。"),
    "change_reject": gettext_lazy("已决定不予变更。"),
    "cancel": gettext_lazy("已注销。"),
}


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_POST
def asset_act(request: HttpRequest, asset_id) -> HttpResponse:
    principal = request.principal
    asset = sel.asset_get(principal, asset_id)
    action = request.POST.get("action", "")
    form = ReviewForm(request.POST)
    if action not in STEP_MESSAGES or action not in asset_actions(principal, asset) or not form.is_valid():
        messages.error(request, _("当前不能执行该操作，请刷新后重试。"))
        return redirect("datahub:asset_detail", asset_id=asset.public_id)
    expected = _int(request.POST.get("expected_version"))
    text = form.cleaned_data["review"]
    try:
        if action == "submit":
            asset_submit(actor=principal, asset=asset, expected_version=expected)
        elif action in ("return", "reject", "register"):
            asset_review(
                actor=principal, asset=asset, decision=action, review=text, expected_version=expected
            )
        elif action in ("change_approve", "change_reject"):
            asset_change_decide(
                actor=principal,
                asset=asset,
                approve=action == "change_approve",
                review=text,
                expected_version=expected,
            )
        else:
            asset_cancel(actor=principal, asset=asset, reason=text, expected_version=expected)
    except AssetConflict as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("datahub:asset_detail", asset_id=asset.public_id)
    except ValidationError as exc:
        form.add_error(
            None, exc.messages if not hasattr(exc, "error_dict") else sum(exc.message_dict.values(), [])
        )
        return _detail(request, sel.asset_get(principal, asset.public_id), review_form=form, status=422)
    messages.success(request, STEP_MESSAGES[action])
    return redirect("datahub:asset_detail", asset_id=asset.public_id)


@page_requires(DATA_STEWARD)
@require_http_methods(["GET", "POST"])
def asset_change(request: HttpRequest, asset_id) -> HttpResponse:
    principal = request.principal
    asset = sel.asset_get(principal, asset_id)
    kind = "transfer" if (request.GET.get("kind") or request.POST.get("kind")) == "transfer" else "change"
    if kind not in asset_actions(principal, asset):
        messages.error(request, _("当前状态下不能提出变更或转让。"))
        return redirect("datahub:asset_detail", asset_id=asset.public_id)
    options = sel.asset_source_options(principal)
    if kind == "transfer":
        form = TransferForm(request.POST or None)
    else:
        initial = {
            "description": asset.description,
            "valuation_note": asset.valuation_note,
            "compliance_note": asset.compliance_note,
            "rights": asset.rights,
            **source_initial(asset),
        }
        form = ChangeForm(request.POST or None, initial=initial, options=options)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            note = data.pop("note")
            if kind == "change":
                data = {k: v for k, v in data.items() if not k.startswith(("source_", "basis_"))}
                data["sources"] = form.sources()
            try:
                asset_change_request(
                    actor=principal,
                    asset=asset,
                    kind=kind,
                    note=note,
                    values=data,
                    expected_version=_int(request.POST.get("expected_version")),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("已提交大数据中心审核。"))
                return redirect("datahub:asset_detail", asset_id=asset.public_id)
        status = 422
    return render(
        request,
        "datahub/assets/change.html",
        {"a": asset, "form": form, "kind": kind, "options": options},
        status=status,
    )


# --- certificate ----------------------------------------------------------------------------------------------------------
def qr_svg(data: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue().decode("utf-8").split("?>", 1)[-1]


def verify_link(request: HttpRequest, asset: DataAsset) -> str:
    query = urlencode({"number": asset.number, "code": verify_code_display(asset.verify_code)})
    return request.build_absolute_uri(f"{reverse('datahub:asset_verify')}?{query}")


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def asset_certificate(request: HttpRequest, asset_id) -> HttpResponse:
    asset = sel.asset_get(request.principal, asset_id)
    if not asset.certificate:
        messages.error(request, _("该数据资产尚未登记，没有登记证书。"))
        return redirect("datahub:asset_detail", asset_id=asset.public_id)
    link = verify_link(request, asset)
    document = asset_file(asset, receipt_entry=sel.asset_registration_entry_uuid(asset))
    return render(
        request,
        "datahub/assets/certificate.html",
        {
            "a": asset,
            "c": asset.certificate,
            "file": document,
            "verify_code": verify_code_display(asset.verify_code),
            "link": link,
            "qr": mark_safe(qr_svg(link)),  # noqa: S308 - generated SVG, no user markup
        },
    )


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def asset_certificate_file(request: HttpRequest, asset_id) -> HttpResponse:
    asset = sel.asset_get(request.principal, asset_id)
    if not asset.certificate:
        return redirect("datahub:asset_detail", asset_id=asset.public_id)
    document = asset_file(asset, receipt_entry=sel.asset_registration_entry_uuid(asset))
    response = JsonResponse(document, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = (
        f'attachment; filename="data-asset-{asset.number}-v{asset.version}.json"'
    )
    return response


# --- public verification ----------------------------------------------------------------------------------------------------
@page_requires(PUBLIC)
@require_http_methods(["GET", "POST"])
def asset_verify(request: HttpRequest) -> HttpResponse:
    result, status = None, 200
    lookup = LookupForm(request.GET or None)
    upload = UploadForm()
    if request.method == "POST":
        rate_limit_per(scope=VERIFY_SCOPE, key=client_key(request), rate=VERIFY_RATE)
        upload = UploadForm(request.POST, request.FILES)
        lookup = LookupForm()
        if upload.is_valid():
            result = sel.asset_verify_file(upload.document)
        else:
            status = 400
    elif request.GET:
        rate_limit_per(scope=VERIFY_SCOPE, key=client_key(request), rate=VERIFY_RATE)
        if lookup.is_valid():
            result = sel.asset_verify_number(lookup.cleaned_data["number"], lookup.cleaned_data["code"])
            if result.result == "not_found":
                status = 404
        else:
            status = 400
    return render(
        request,
        "datahub/assets/verify.html",
        {
            "lookup": lookup,
            "upload": upload,
            "result": result,
            "label": RESULT_LABELS.get(result.result, "") if result else "",
        },
        status=status,
    )


urlpatterns: list = [
    path("assets/", asset_list, name="asset_list"),
    path("assets/new/", asset_new, name="asset_new"),
    path("assets/verify/", asset_verify, name="asset_verify"),
    path("assets/<uuid:asset_id>/", asset_detail, name="asset_detail"),
    path("assets/<uuid:asset_id>/edit/", asset_edit, name="asset_edit"),
    path("assets/<uuid:asset_id>/act/", asset_act, name="asset_act"),
    path("assets/<uuid:asset_id>/change/", asset_change, name="asset_change"),
    path("assets/<uuid:asset_id>/certificate/", asset_certificate, name="asset_certificate"),
    path("assets/<uuid:asset_id>/certificate.json", asset_certificate_file, name="asset_certificate_file"),
]
