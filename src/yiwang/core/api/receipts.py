"""API: check a receipt (存证回执) — public, rate-limited (`receipt_verify`), mounted at /api/audit/receipts.

The body is the receipt file itself (JSON, ≤ 1 MB). 200 with `ok` true or false for a receipt that could be read
(false names the reason: foreign key, forged proof, altered entry, bad signature, a head not consistent with the
published ones); 422 problem+json naming the fields of a file that is not a receipt.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Router, Schema

from ..apiutils import problem, requires
from ..evidence.receipts import MAX_RECEIPT_BYTES, receipt_verify_here, timestamp_datetime
from ..permissions import PUBLIC
from ..ratelimit import rate_limit
from ..schemas import ProblemOut

router = Router(tags=["audit"])

_ERRORS = {413: ProblemOut, 422: ProblemOut, 429: ProblemOut}


class ReceiptCheckOut(Schema):
    ok: bool
    code: str = Field(
        description="ok / unknown_key / foreign_key / entry_altered / proof / signature / fork / inconsistent / "
        "not_published"
    )
    reason: str
    message: str
    online: bool = Field(description="是否已与本节点公开的签名树头核对")
    entry_uuid: str
    leaf_index: int | None = None
    leaf_hash: str
    tree_size: int | None = None
    root_hash: str
    timestamp_ms: int | None = None
    head_time: datetime | None = None
    key_id: str
    fields: dict[str, Any] | None = Field(None, description="回执中记录的内容（规范化 JSON 解码）")


@router.post(
    "/verify",
    response={200: ReceiptCheckOut, **_ERRORS},
    auth=None,
    summary=gettext_lazy("核验存证回执（请求体即回执 JSON 文件）"),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "description": "存证回执文件"}}},
        }
    },
)
@requires(PUBLIC)
def receipt_verify_api(request: HttpRequest):
    rate_limit(request, scope="receipt_verify")
    body = request.body
    if len(body) > MAX_RECEIPT_BYTES:
        return problem(request, 413, _("请求体过大"), _("存证回执不超过 1 MB。"))
    check = receipt_verify_here(body)
    if check.code == "malformed":
        return problem(request, 422, _("不是有效的存证回执"), check.reason, errors=check.errors)
    out = check.as_dict()
    out["head_time"] = timestamp_datetime(check.timestamp_ms)
    return out
