"""Public pages (no login): verify a sealed 公文 by its 核验码 at /collab/verify/ (a form: the code and, optionally,
the PDF to compare with the sealed file) and by the QR link /collab/verify/<code>/. The answer shows only the
result, the seal's name and status, the 发文字号, title, issuing department and dates; an unknown code answers
exactly like a broken signature. Rate-limited per client (scope `document_verify`, default 30/minute, set with
YIWANG_RATE_LIMITS="document_verify=…"); never cached (collab/urls.py). The API (api_verify) uses the same input
checks and limit from here.

Staff downloads of the sealed PDF and the archive package are pages of views_documents, built with
`collab.document_downloads`."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import PUBLIC
from yiwang.core.ratelimit import client_key, rate_limit_per
from yiwang.core.uploads import MAX_UPLOAD_BYTES

from .services.document_seal import document_verify, verify_code_clean, verify_code_display

TEMPLATE = "collab/verify.html"
RATE_SCOPE = "document_verify"
DEFAULT_RATE = "30/minute"
CODE_MAX = 64


# --- input checks and the limit, shared with the API ------------------------------------------------------------
def verify_rate_limit(request: HttpRequest) -> None:
    """Counts one verification by this client; RateLimited (→ 429 with Retry-After) over the limit."""
    rate = getattr(settings, "YIWANG_RATE_LIMITS", {}).get(RATE_SCOPE) or DEFAULT_RATE
    rate_limit_per(scope=RATE_SCOPE, key=client_key(request), rate=rate)


def verify_code_input(raw: str | None) -> str:
    code = verify_code_clean(raw)
    if not code:
        raise ValidationError({"code": _("请输入公文上印的核验码。")})
    return code


def verify_pdf_input(upload) -> bytes | None:
    """The uploaded PDF's bytes (≤ 10 MB, a PDF by its content); None when no file was given. Only hashed,
    never parsed."""
    if upload is None:
        return None
    too_large = ValidationError({"pdf": _("文件超过 10 MB，不是本平台用印的公文。")})
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise too_large
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise too_large
    if not data:
        raise ValidationError({"pdf": _("文件是空的。")})
    if not data.startswith(b"%PDF-"):
        raise ValidationError({"pdf": _("只接受 PDF 文件（按文件内容识别，与扩展名无关）。")})
    return data


# --- pages ------------------------------------------------------------------------------------------------------
class DocumentVerifyForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("核验码"),
        max_length=CODE_MAX,
        error_messages={"required": gettext_lazy("请输入公文上印的核验码。")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "mono", "placeholder": "XXXX-XXXX-…"}),
    )
    pdf = forms.FileField(
        label=gettext_lazy("公文 PDF（选填）"),
        required=False,
        help_text=gettext_lazy("上传收到的 PDF，核对它是否与用印文件完全一致（不超过 10 MB）"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
    pdf_bytes: bytes | None = None

    def clean_code(self):
        try:
            return verify_code_input(self.cleaned_data.get("code"))
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["code"][0]) from None

    def clean_pdf(self):
        try:
            self.pdf_bytes = verify_pdf_input(self.cleaned_data.get("pdf"))
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["pdf"][0]) from None
        return self.cleaned_data.get("pdf")


def _render(request: HttpRequest, form, result=None, *, code: str = "", status: int = 200) -> HttpResponse:
    return render(
        request,
        TEMPLATE,
        {"form": form, "v": result, "code_display": verify_code_display(code) if code else ""},
        status=status,
    )


@page_requires(PUBLIC)
@require_http_methods(["GET", "POST"])
def document_verify_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        verify_rate_limit(request)
        form = DocumentVerifyForm(request.POST, request.FILES)
        if not form.is_valid():
            return _render(request, form, status=400)
        code = form.cleaned_data["code"]
        return _render(request, form, document_verify(code, pdf_bytes=form.pdf_bytes), code=code)
    code = verify_code_clean((request.GET.get("code") or "")[:CODE_MAX])
    if not code:
        return _render(request, DocumentVerifyForm())
    verify_rate_limit(request)
    return _render(request, DocumentVerifyForm(initial={"code": code}), document_verify(code), code=code)


@page_requires(PUBLIC)
@require_GET
def document_verify_code_page(request: HttpRequest, code: str) -> HttpResponse:
    verify_rate_limit(request)
    code = verify_code_clean(code[:CODE_MAX])
    return _render(request, DocumentVerifyForm(initial={"code": code}), document_verify(code), code=code)


urlpatterns: list = [
    path("verify/", document_verify_page, name="document_verify"),
    path("verify/<str:code>/", document_verify_code_page, name="document_verify_code"),
]
