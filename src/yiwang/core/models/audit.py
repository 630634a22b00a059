from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """安全审计: an append-only hash chain. `entry_hash` = SM3(prev_hash || canonical fields)."""

    seq = models.BigIntegerField(_("序号"), unique=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    occurred_at = models.DateTimeField(_("时间"))
    actor_account = models.CharField(
        _("账户"), max_length=150, blank=True, help_text=_("账户名；系统为 client_id")
    )
    actor_department = models.CharField(_("部门"), max_length=20, blank=True)
    actor_ip = models.CharField(_("IP"), max_length=45, blank=True)
    action = models.CharField(_("操作"), max_length=64)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象标识"), max_length=64, blank=True)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    purpose = models.CharField(_("用途"), max_length=200, blank=True, help_text=_("查询个人信息的用途"))
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"]),
            models.Index(fields=["actor_account", "seq"]),
            models.Index(fields=["action", "seq"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class AuditHead(models.Model):
    """The single row that points at the chain's last entry; appends lock it, so the chain never forks."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")


class AuditCheckpoint(models.Model):
    """Every N entries (and on demand) the platform's SM2 key signs (seq, entry_hash)."""

    seq = models.BigIntegerField(unique=True)
    entry_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=200, help_text=_("SM2 签名（DER，十六进制）"))
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("审计检查点")
        verbose_name_plural = _("审计检查点")
        ordering = ["seq"]
