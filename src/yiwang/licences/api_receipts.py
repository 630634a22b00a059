"""API: receipts (存证回执) of a licence, mounted at /api/licences — `GET /{licence_id}/receipts` lists the events
that give one (issued, corrected, suspended, resumed, revoked; grants given or revoked) and
`GET /{licence_id}/receipts/{entry_uuid}` returns the receipt file (JSON: the entry, its inclusion proof and the
signed tree head; check it with `yiwang audit verify-receipt` or at /audit/receipts/verify/). 409 problem+json
while the entry is not yet in a signed tree head (a second or so after the event).

Scoped exactly as the licence: the holder, or the issuing department's staff; anybody else gets 404.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from django.views.decorators.cache import never_cache
from ninja import Field, Router, Schema

from yiwang.core.apiutils import principal_of, receipt_download, requires
from yiwang.core.permissions import LICENCE_ISSUE, SELF_SERVICE
from yiwang.core.schemas import ProblemOut

from .selectors_receipts import licence_for_receipts, licence_receipt_entry, licence_receipts

router = Router(tags=["licences"])
router.add_decorator(never_cache, mode="view")  # receipts carry the logged entry (names, face fields)

_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut}


class LicenceReceiptItemOut(Schema):
    entry_uuid: UUID = Field(description="存证标识（审计记录的 uuid）")
    action: str = Field(
        description="licence.issue / correct / suspend / resume / revoke / grant / grant_revoke"
    )
    label: str
    occurred_at: datetime
    object_type: str = Field(description="licence 或 licence_grant")
    object_id: str = Field(description="证照标识，或授权标识")
    ready: bool = Field(description="是否已上链并有签名树头（可下载回执）")
    leaf_index: int | None = None
    download_url: str


class ReceiptListOut(Schema):
    licence_id: UUID
    identifier: str
    items: list[LicenceReceiptItemOut]


def receipt_download_path(licence, entry) -> str:
    return f"/api/licences/{licence.public_id}/receipts/{entry.uuid}"


@router.get(
    "/{uuid:licence_id}/receipts",
    response={200: ReceiptListOut, **_ERRORS},
    summary="证照的存证回执：签发、更正、暂停、恢复、注销与授权用证记录",
)
@requires(SELF_SERVICE, LICENCE_ISSUE)
def licence_receipt_list(request: HttpRequest, licence_id: UUID):
    licence = licence_for_receipts(principal_of(request), licence_id)
    rows = licence_receipts(licence)
    return {
        "licence_id": licence.public_id,
        "identifier": licence.identifier,
        "items": [
            {
                "entry_uuid": row.entry.uuid,
                "action": row.entry.action,
                "label": row.label,
                "occurred_at": row.entry.occurred_at,
                "object_type": row.entry.object_type,
                "object_id": row.entry.object_id,
                "ready": row.ready,
                "leaf_index": row.entry.leaf_index,
                "download_url": receipt_download_path(licence, row.entry),
            }
            for row in rows
        ],
    }


@router.get(
    "/{uuid:licence_id}/receipts/{uuid:entry_uuid}",
    response={200: dict, 409: ProblemOut, **_ERRORS},
    summary="下载存证回执（JSON 文件：记录、包含证明、签名树头）",
)
@requires(SELF_SERVICE, LICENCE_ISSUE)
def licence_receipt_get(request: HttpRequest, licence_id: UUID, entry_uuid: UUID):
    licence = licence_for_receipts(principal_of(request), licence_id)
    entry = licence_receipt_entry(licence, entry_uuid)
    return receipt_download(request, entry)
