"""API: audit — read the chain, verify it, sign a checkpoint (district administrators only)."""

# No `from __future__ import annotations` here: ninja resolves Query[...] parameter annotations at import.
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from ..apiutils import principal_of, requires
from ..audit import AuditChainBroken, audit_checkpoint_create
from ..permissions import AUDIT_CHECKPOINT, AUDIT_VIEW
from ..selectors.audit import audit_chain_verify, audit_entries_visible_to

router = Router(tags=["audit"])


class AuditEntryOut(Schema):
    seq: int = Field(description="链上序号（自 1 起连续）")
    occurred_at: datetime
    actor_account: str = Field(description="账户名；接入系统为 system:<client_id>；后台任务为 system")
    actor_department: str
    actor_ip: str
    action: str
    object_type: str
    object_id: str
    before: dict | list | None = None
    after: dict | list | None = None
    purpose: str
    request_id: str
    prev_hash: str = Field(description="前一条记录的 SM3 哈希")
    entry_hash: str = Field(description="本条记录的 SM3 哈希")


class AuditEntryPage(Schema):
    items: list[AuditEntryOut]
    next_cursor: str | None = Field(None, description="下一页游标；为空表示没有更多记录")


class AuditFilters(Schema):
    actor: str | None = Field(None, max_length=150, description="账户名（精确匹配）")
    action: str | None = Field(None, max_length=64, description="操作，如 person.lookup")
    object_type: str | None = Field(None, max_length=64)
    object_id: str | None = Field(None, max_length=64)
    cursor: str | None = Field(None, max_length=200, description="上一页返回的 next_cursor")
    limit: int = Field(50, ge=1, le=200)


class VerifyOut(Schema):
    ok: bool
    entries: int = Field(description="已校验的记录数")
    checkpoints: int = Field(description="已验证签名的检查点数")
    broken_seq: int | None = Field(None, description="第一条被破坏的记录序号")
    reason: str
    message: str


class CheckpointOut(Schema):
    seq: int
    entry_hash: str
    key_id: str = Field(description="平台 SM2 签名密钥标识")
    signature: str = Field(description="SM2 签名（DER，十六进制），签名内容见 core/audit.py")
    created_at: datetime


@router.get("/entries", response=AuditEntryPage, summary=gettext_lazy("审计记录（最新在前，游标分页）"))
@requires(AUDIT_VIEW)
def list_entries(request, filters: Query[AuditFilters]):
    page = audit_entries_visible_to(principal_of(request), **filters.dict())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/verify", response=VerifyOut, summary=gettext_lazy("重新校验整条审计链"))
@requires(AUDIT_VIEW)
def verify_chain(request):
    return audit_chain_verify(principal_of(request)).as_dict()


@router.post(
    "/checkpoints", response={201: CheckpointOut}, summary=gettext_lazy("立即签名审计链头（生成检查点）")
)
@requires(AUDIT_CHECKPOINT)
def create_checkpoint(request):
    # The request is itself recorded before signing, so the chain is never empty here.
    try:
        return Status(201, audit_checkpoint_create(actor=principal_of(request)))
    except AuditChainBroken as exc:
        raise HttpError(409, _("审计链校验未通过，拒绝签名：%(m)s") % {"m": exc.result.message()}) from exc
