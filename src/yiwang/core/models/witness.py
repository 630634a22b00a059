from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class WitnessedHead(models.Model):
    """A signed tree head another node published, as this node's witness saw and checked it (signature, and
    consistency with the previous head it saw from that origin). Append-only; the newest per origin is where the
    next run continues."""

    origin = models.CharField(_("来源"), max_length=200, help_text=_("被见证节点的基础地址"))
    tree_size = models.BigIntegerField(_("树大小"))
    root_hash = models.CharField(_("根哈希"), max_length=64)
    timestamp_ms = models.BigIntegerField(_("时间戳（毫秒）"))
    key_id = models.CharField(_("密钥标识"), max_length=64)
    signature = models.CharField(_("签名"), max_length=400, help_text=_("SM2 签名（DER，十六进制）"))
    seen_at = models.DateTimeField(_("见证时间"))

    class Meta:
        verbose_name = _("见证的签名树头")
        verbose_name_plural = _("见证的签名树头")
        ordering = ["origin", "tree_size"]
        constraints = [
            models.UniqueConstraint(fields=["origin", "tree_size"], name="core_witnessed_head_once"),
        ]

    def __str__(self) -> str:
        return f"{self.origin} {self.tree_size}"


class WitnessAlarm(models.Model):
    """A fork seen by the witness: a head of a size it had seen with another root, a head not consistent with
    the one before, a bad signature, or a head it had seen that the node no longer publishes."""

    class Kind(models.TextChoices):
        FORK = "fork", _("同一大小不同根（分叉）")
        INCONSISTENT = "inconsistent", _("与之前的树头不一致")
        SIGNATURE = "signature", _("树头签名无效")
        WITHDRAWN = "withdrawn", _("已见证的树头被撤下")
        SHRUNK = "shrunk", _("日志变小")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    origin = models.CharField(_("来源"), max_length=200)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    tree_size = models.BigIntegerField(_("树大小"), help_text=_("出问题的树头大小"))
    root_hash = models.CharField(_("根哈希"), max_length=64, blank=True)
    seen_tree_size = models.BigIntegerField(
        _("此前见证的树大小"), null=True, blank=True, help_text=_("与之比较的、此前见证的树头")
    )
    seen_root_hash = models.CharField(_("此前见证的根哈希"), max_length=64, blank=True)
    detail = models.TextField(_("说明"), blank=True)
    detected_at = models.DateTimeField(_("发现时间"))
    last_seen_at = models.DateTimeField(_("最近一次发现"))
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("见证告警")
        verbose_name_plural = _("见证告警")
        ordering = ["-detected_at"]
        indexes = [models.Index(fields=["origin", "resolved_at"])]

    def __str__(self) -> str:
        return f"{self.origin} {self.kind} {self.tree_size}"
