from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..evidence.columns import FORMAT, JSON, MOMENT, TEXT, UUID, CanonicalValue


def _generated(key: str, kind: str, output_field, **options):
    """A displayed column: the value of `key` in the entry's canonical JSON, stored by the database."""
    return models.GeneratedField(
        expression=CanonicalValue(key, kind),
        output_field=output_field,
        db_persist=True,
        verbose_name=output_field.verbose_name,
        null=output_field.null,
        **options,
    )


class AuditEntry(models.Model):
    """存证 / 安全审计: one entry of the evidence log, an RFC 9162 Merkle log over SM3 (core/evidence/).

    An entry is inserted inside the transaction of the change it records, with the SM3 leaf hash of its
    canonical bytes computed in the process (`leaf_hash`), and those bytes as written (`canonical`); nothing is
    read or locked for that. A database trigger queues the new row in EvidencePending (same transaction). The
    sequencer later gives it its place in the tree with an insert-only EvidenceLeaf row (`leaf_index`, None while
    pending), so integration never rewrites this wide, many-indexed row. Format 1 rows are the former hash
    chain's entries: their canonical bytes include `seq` and `prev_hash`; they are the tree's first leaves.

    The displayed columns (action, actor_account, before, after, occurred_at, uuid, ...) are generated columns of
    `canonical` (core.evidence.columns): the database computes them when the row is written and recomputes them
    when `canonical` changes, so they cannot say anything else; `log_verify` checks their definitions."""

    FORMAT_CHAIN = 1
    FORMAT_LOG = 2

    seq = models.BigAutoField(_("序号"), primary_key=True, help_text=_("写入顺序号（数据库序列分配）"))
    leaf_hash = models.CharField(
        _("叶子哈希"), max_length=64, help_text=_("SM3(0x00 ‖ 规范化记录)，十六进制")
    )
    canonical = models.TextField(
        _("规范化记录"), blank=True, help_text=_("写入时的规范化记录（UTF-8 JSON），其 SM3 叶子哈希在树中")
    )
    # Generated from `canonical` by the database (core.evidence.columns): written with it, never on their own.
    uuid = _generated("uuid", UUID, models.UUIDField(_("存证标识")), unique=True)
    format = _generated(
        "format",
        FORMAT,
        models.PositiveSmallIntegerField(_("格式")),
        help_text=_("1 = 原哈希链记录，2 = 存证日志记录"),
    )
    prev_hash = _generated(
        "prev_hash", TEXT, models.CharField(max_length=64), help_text=_("仅格式 1：原哈希链的前序哈希")
    )
    occurred_at = _generated("occurred_at", MOMENT, models.DateTimeField(_("时间")))
    actor_account = _generated(
        "actor_account",
        TEXT,
        models.CharField(_("账户"), max_length=150),
        help_text=_("账户名；系统为 client_id"),
    )
    actor_department = _generated("actor_department", TEXT, models.CharField(_("部门"), max_length=20))
    actor_ip = _generated("actor_ip", TEXT, models.CharField(_("IP"), max_length=45))
    action = _generated("action", TEXT, models.CharField(_("操作"), max_length=64))
    object_type = _generated("object_type", TEXT, models.CharField(_("对象类型"), max_length=64))
    object_id = _generated("object_id", TEXT, models.CharField(_("对象标识"), max_length=64))
    before = _generated("before", JSON, models.JSONField(_("变更前"), null=True))
    after = _generated("after", JSON, models.JSONField(_("变更后"), null=True))
    purpose = _generated(
        "purpose", TEXT, models.CharField(_("用途"), max_length=200), help_text=_("查询个人信息的用途")
    )
    request_id = _generated("request_id", TEXT, models.CharField(max_length=64))

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"]),
            models.Index(fields=["actor_account", "seq"]),
            models.Index(fields=["action", "seq"]),
            # Looked up by equality only (a receipt's entry): a plain index, without the pattern-ops twin that
            # db_index=True adds on PostgreSQL and every append of the platform would maintain.
            models.Index(fields=["leaf_hash"], name="core_audit_leaf_hash_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    @property
    def leaf_index(self) -> int | None:
        """The entry's place in the Merkle tree, None while pending. Lists select_related("leaf")."""
        try:
            return self.leaf.leaf_index
        except EvidenceLeaf.DoesNotExist:
            return None


class EvidenceLeaf(models.Model):
    """An integrated entry's place in the tree: insert-only, written in bulk by the sequencer. `leaf_hash` is the
    tree's copy of the entry's leaf hash (32 bytes); verify checks both copies and the entry's canonical bytes."""

    leaf_index = models.BigIntegerField(_("叶子序号"), primary_key=True)
    entry = models.OneToOneField(
        AuditEntry, on_delete=models.PROTECT, db_column="seq", related_name="leaf", verbose_name=_("记录")
    )
    leaf_hash = models.BinaryField(_("叶子哈希"), max_length=32)

    class Meta:
        verbose_name = _("已上链叶子")
        verbose_name_plural = _("已上链叶子")
        ordering = ["leaf_index"]


class EvidencePending(models.Model):
    """Entries not yet integrated: a row per AuditEntry, inserted by a database trigger on the entry's insert
    (same transaction, so an uncommitted entry stays invisible to the sequencer) and deleted by the sequencer
    when it integrates the entry."""

    seq = models.BigIntegerField(primary_key=True)

    class Meta:
        verbose_name = _("待上链记录")
        verbose_name_plural = _("待上链记录")


class TreeHead(models.Model):
    """签名树头: the platform's SM2 signature over (tree_size, root_hash, timestamp_ms), see
    core.evidence.merkle.tree_head_payload. Published at /api/audit/tree-heads for witnesses."""

    tree_size = models.BigIntegerField(_("树大小"), unique=True)
    root_hash = models.CharField(_("根哈希"), max_length=64)
    timestamp_ms = models.BigIntegerField(_("时间戳（毫秒）"))
    key_id = models.CharField(_("密钥标识"), max_length=32)
    signature = models.CharField(_("签名"), max_length=200, help_text=_("SM2 签名（DER，十六进制）"))

    class Meta:
        verbose_name = _("签名树头")
        verbose_name_plural = _("签名树头")
        ordering = ["tree_size"]

    def __str__(self) -> str:
        return f"{self.tree_size} {self.root_hash[:12]}"


class EvidenceNode(models.Model):
    """A stored interior node: the hash of the complete aligned subtree of 2**level leaves starting at leaf
    index * 2**level. Only levels >= 8 are stored; lower ones are recomputed from at most 256 leaf hashes."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("默克尔树节点")
        verbose_name_plural = _("默克尔树节点")
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="core_evidence_node_once")]
