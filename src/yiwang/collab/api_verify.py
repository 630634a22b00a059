"""API: 公文 public verification (mounted at /api/collab/verify; no login, rate-limited).

`POST /api/collab/verify` (multipart or form: `code` the 核验码 printed on the document, optional `pdf` the file to
compare with the sealed one) → 200 with `result` valid / invalid / revoked and, only when the signature verifies,
the public facts (发文字号, title, issuing department, dates, the seal's name and status). An unknown code answers
exactly like a broken signature (200, `invalid`, empty facts). 422 problem+json without a code or with a file that
is not a PDF or is over 10 MB; 429 with Retry-After over the `document_verify` limit (per client). Never cached.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date

from django.http import HttpRequest
from django.views.decorators.cache import never_cache
from ninja import Field, File, Form, Router, UploadedFile
from ninja.decorators import decorate_view
from pydantic import BaseModel

from yiwang.core.apiutils import requires
from yiwang.core.permissions import PUBLIC
from yiwang.core.schemas import ProblemOut

from .services.document_seal import document_verify
from .views_verify import verify_code_input, verify_pdf_input, verify_rate_limit

router = Router(tags=["一网协同：公文核验"])


class DocumentVerifySealOut(BaseModel):
    name: str = Field("", description="印章名称（签章无效时为空）")
    status: str = Field("", description="active 有效 / suspended 已暂停 / revoked 已注销（签章无效时为空）")
    status_label: str = ""


class DocumentVerifyOut(BaseModel):
    result: str = Field(
        description="valid 有效 / invalid 无效（核验码不存在或内容与签章不符）/ revoked 印章已注销"
    )
    result_label: str
    valid: bool = Field(description="签章（SM2）是否与公文当前内容相符")
    seal: DocumentVerifySealOut
    number: str = Field("", description="发文字号")
    title: str = ""
    department: str = Field("", description="发文机关")
    signed_on: date | None = Field(None, description="成文（签发）日期")
    sealed_on: date | None = Field(None, description="用印日期")
    pdf_checked: bool = Field(description="是否上传了 PDF")
    pdf_matches: bool | None = Field(None, description="上传的 PDF 是否与用印文件完全一致（未上传为 null）")


@router.post(
    "",
    response={200: DocumentVerifyOut, 422: ProblemOut, 429: ProblemOut},
    auth=None,
    summary="核验公文（核验码，可附 PDF 文件比对）",
)
@decorate_view(never_cache)
@requires(PUBLIC)
def document_verify_api(request: HttpRequest, code: Form[str] = "", pdf: File[UploadedFile] = None):
    verify_rate_limit(request)
    cleaned = verify_code_input(code)
    pdf_bytes = verify_pdf_input(pdf)
    return document_verify(cleaned, pdf_bytes=pdf_bytes).as_dict()
