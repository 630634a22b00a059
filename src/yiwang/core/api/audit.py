"""API: the evidence log (存证) — entries and verification for district administrators; signed tree heads and
RFC 9162 proofs for anyone (they reveal only hashes), rate-limited per client address."""

# No `from __future__ import annotations` here: ninja resolves Query[...] parameter annotations at import.
from datetime import datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.errors import HttpError

from ..apiutils import principal_of, requires
from ..permissions import AUDIT_CHECKPOINT, AUDIT_VIEW, PUBLIC
from ..ratelimit import rate_limit
from ..schemas import ProblemOut
from ..selectors.audit import (
    audit_chain_verify,
    audit_entries_visible_to,
    evidence_consistency,
    evidence_inclusion,
    tree_head_sign_now,
    tree_heads_after,
)

router = Router(tags=["audit"])


class AuditEntryOut(Schema):
    seq: int = Field(description="写入顺序号（数据库序列分配，可能有空号）")
    uuid: UUID = Field(description="存证标识（写入规范化记录）")
    format: int = Field(description="1 = 原哈希链记录，2 = 存证日志记录")
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
    leaf_hash: str = Field(description="叶子哈希 SM3(0x00 ‖ 规范化记录)，十六进制")
    leaf_index: int | None = Field(None, description="在默克尔树中的位置；为空表示尚未上链")


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
    entries: int = Field(description="已上链并校验的记录数")
    pending: int = Field(description="尚未上链、已校验叶子哈希的记录数")
    heads: int = Field(description="已验证的签名树头数")
    broken_index: int | None = Field(None, description="第一条被破坏的记录的叶子序号")
    broken_seq: int | None = Field(None, description="第一条被破坏的记录的序号")
    broken_head: int | None = Field(None, description="第一个未通过验证的签名树头的树大小")
    reason: str
    message: str


class TreeHeadOut(Schema):
    tree_size: int
    root_hash: str = Field(description="根哈希（SM3，十六进制）")
    timestamp_ms: int = Field(description="签名时间（Unix 毫秒）")
    key_id: str = Field(description="平台 SM2 签名密钥标识")
    signature: str = Field(
        description="SM2 签名（DER，十六进制），签名内容见 core.evidence.merkle.tree_head_payload"
    )


class TreeHeadPage(Schema):
    items: list[TreeHeadOut]
    next_after: int | None = Field(None, description="下一页的 after 参数；为空表示没有更多")


class TreeHeadsQuery(Schema):
    after: int = Field(0, ge=0, description="只返回树大小大于该值的签名树头")
    limit: int = Field(100, ge=1, le=1000)


class InclusionQuery(Schema):
    entry: str = Field(..., max_length=64, description="记录的叶子哈希（64 位十六进制）或叶子序号")
    tree_size: int = Field(..., ge=1, description="树大小（须已上链）")


class InclusionOut(Schema):
    leaf_index: int
    leaf_hash: str
    tree_size: int
    root_hash: str = Field(description="该树大小的根哈希")
    audit_path: list[str] = Field(description="RFC 9162 §2.1.3 包含证明，十六进制，自叶子向上")


class ConsistencyQuery(Schema):
    first: int = Field(..., ge=0)
    second: int = Field(..., ge=0)


class ConsistencyOut(Schema):
    first: int
    second: int
    first_root: str
    second_root: str
    consistency_path: list[str] = Field(description="RFC 9162 §2.1.4 一致性证明，十六进制")


def _head_dict(head) -> dict:
    return {
        "tree_size": head.tree_size,
        "root_hash": head.root_hash,
        "timestamp_ms": head.timestamp_ms,
        "key_id": head.key_id,
        "signature": head.signature,
    }


@router.get("/entries", response=AuditEntryPage, summary=gettext_lazy("审计记录（最新在前，游标分页）"))
@requires(AUDIT_VIEW)
def list_entries(request, filters: Query[AuditFilters]):
    page = audit_entries_visible_to(principal_of(request), **filters.dict())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/verify", response=VerifyOut, summary=gettext_lazy("重新校验整个存证日志"))
@requires(AUDIT_VIEW)
def verify_log(request):
    return audit_chain_verify(principal_of(request)).as_dict()


@router.post(
    "/tree-heads",
    response={201: TreeHeadOut, 409: ProblemOut},
    summary=gettext_lazy("立即签名当前已上链的默克尔树（生成签名树头）"),
)
@requires(AUDIT_CHECKPOINT)
def sign_tree_head(request):
    head = tree_head_sign_now(principal_of(request))
    if head is None:
        raise HttpError(409, _("没有新上链的记录可签名，或存证日志校验未通过（详见日志）。"))
    return Status(201, _head_dict(head))


@router.get(
    "/tree-heads/latest",
    response={200: TreeHeadOut, 404: ProblemOut, 429: ProblemOut},
    auth=None,
    summary=gettext_lazy("最新签名树头（公开）"),
)
@decorate_view(never_cache)
@requires(PUBLIC)
def latest_tree_head(request: HttpRequest):
    rate_limit(request, scope="audit_proof")
    heads = tree_heads_after(None, limit=1)
    if not heads:
        raise Http404
    return _head_dict(heads[0])


@router.get(
    "/tree-heads",
    response={200: TreeHeadPage, 422: ProblemOut, 429: ProblemOut},
    auth=None,
    summary=gettext_lazy("签名树头列表（公开，按树大小递增，供见证节点拉取）"),
)
@decorate_view(never_cache)
@requires(PUBLIC)
def list_tree_heads(request: HttpRequest, q: Query[TreeHeadsQuery]):
    rate_limit(request, scope="audit_proof")
    heads = tree_heads_after(q.after, limit=q.limit + 1)
    more = len(heads) > q.limit
    heads = heads[: q.limit]
    return {
        "items": [_head_dict(h) for h in heads],
        "next_after": heads[-1].tree_size if more and heads else None,
    }


@router.get(
    "/proofs/inclusion",
    response={200: InclusionOut, 404: ProblemOut, 422: ProblemOut, 429: ProblemOut},
    auth=None,
    summary=gettext_lazy("包含证明（公开，RFC 9162）"),
)
@decorate_view(never_cache)
@requires(PUBLIC)
def inclusion(request: HttpRequest, q: Query[InclusionQuery]):
    rate_limit(request, scope="audit_proof")
    entry = q.entry.strip()
    if entry.isdecimal():
        leaf_index, leaf_hash = int(entry), None
    elif len(entry) == 64 and all(c in "0123456789abcdefABCDEF" for c in entry):
        leaf_index, leaf_hash = None, entry.lower()
    else:
        raise ValidationError({"entry": _("请提供 64 位十六进制的叶子哈希或叶子序号。")})
    return evidence_inclusion(leaf_index=leaf_index, leaf_hash=leaf_hash, tree_size=q.tree_size)


@router.get(
    "/proofs/consistency",
    response={200: ConsistencyOut, 422: ProblemOut, 429: ProblemOut},
    auth=None,
    summary=gettext_lazy("一致性证明（公开，RFC 9162）"),
)
@decorate_view(never_cache)
@requires(PUBLIC)
def consistency(request: HttpRequest, q: Query[ConsistencyQuery]):
    rate_limit(request, scope="audit_proof")
    return evidence_consistency(first=q.first, second=q.second)
