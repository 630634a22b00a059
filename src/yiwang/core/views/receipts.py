"""Public page: check a receipt (存证回执) at /audit/receipts/verify/ — no login, CSRF-protected upload of one JSON
file (≤ 1 MB), rate-limited per client (`receipt_verify`). The receipt is checked against this node's platform
keys and, online, against the tree heads it has published (core.evidence.receipts.receipt_verify_here); the page
shows the result and the logged entry's fields (what the uploader's own file says, nothing more)."""

from __future__ import annotations

import json

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from ..evidence.receipts import (
    MAX_RECEIPT_BYTES,
    ReceiptInvalid,
    receipt_parse,
    receipt_verify_here,
    timestamp_datetime,
)
from ..keystore import keystore
from ..pageutils import page_requires
from ..permissions import PUBLIC
from ..ratelimit import rate_limit

JSON_TYPES = ("application/json", "text/json", "text/plain", "application/octet-stream", "")


class ReceiptUploadForm(forms.Form):
    receipt = forms.FileField(
        label=_("存证回执文件"),
        help_text=_("JSON 文件（.json），不超过 1 MB"),
        error_messages={"required": _("请选择存证回执文件。"), "empty": _("文件是空的。")},
    )

    def clean_receipt(self):
        upload = self.cleaned_data["receipt"]
        if upload.size > MAX_RECEIPT_BYTES:
            raise forms.ValidationError(_("文件过大：存证回执不超过 1 MB。"), code="too_large")
        name = (upload.name or "").lower()
        content_type = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
        if not name.endswith(".json") or content_type not in JSON_TYPES:
            raise forms.ValidationError(_("只接受 JSON 文件（.json）。"), code="type")
        raw = upload.read(MAX_RECEIPT_BYTES + 1)
        try:
            self.parsed = receipt_parse(raw)
        except ReceiptInvalid as exc:
            self.problems = exc.errors
            raise forms.ValidationError(_("文件不是有效的存证回执。"), code="invalid") from None
        return upload


def _field_rows(fields: dict | None) -> list[tuple[str, str]]:
    """The logged entry's fields, labelled, in a fixed order (JSON values pretty-printed)."""
    if not fields:
        return []
    labels = [
        ("action", _("操作")),
        ("occurred_at", _("时间（UTC）")),
        ("actor_account", _("账户")),
        ("actor_department", _("部门")),
        ("object_type", _("对象类型")),
        ("object_id", _("对象标识")),
        ("before", _("变更前")),
        ("after", _("变更后")),
        ("purpose", _("用途")),
        ("uuid", _("存证标识")),
    ]
    rows = []
    for key, label in labels:
        if key not in fields:
            continue
        value = fields[key]
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)
        rows.append((str(label), "" if value is None else str(value)))
    return rows


@page_requires(PUBLIC)
@require_http_methods(["GET", "POST"])
def receipt_verify_page(request: HttpRequest) -> HttpResponse:
    check = None
    problems: list[dict] = []
    status = 200
    if request.method == "POST":
        rate_limit(request, scope="receipt_verify")
        form = ReceiptUploadForm(request.POST, request.FILES)
        if form.is_valid():
            check = receipt_verify_here(form.parsed)
        else:
            problems = getattr(form, "problems", [])
            status = 400
    else:
        form = ReceiptUploadForm()
    keys = keystore().platform_public_keys()
    return render(
        request,
        "core/receipts/verify.html",
        {
            "form": form,
            "check": check,
            "problems": problems,
            "rows": _field_rows(check.fields if check else None),
            "head_time": timestamp_datetime(check.timestamp_ms if check else None),
            "public_keys": sorted(keys.items()),
        },
        status=status,
    )


urlpatterns = [
    path("verify/", receipt_verify_page, name="receipt_verify"),
]
