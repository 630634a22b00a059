"""信用异议 (an objection to a record, verified by its source department within a deadline) and 信用修复 (repair
after the period and conditions of a measure: application, review, removal from lists, publication, receipt)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class CreditObjection(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待核实")
        CORRECTED = "corrected", _("已更正")
        REJECTED = "rejected", _("已驳回")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("异议编号"), max_length=24, unique=True)
    record = models.ForeignKey("credit.CreditRecord", on_delete=models.PROTECT, related_name="objections")
    department = models.ForeignKey(
        "core.Department", on_delete=models.PROTECT, related_name="+", help_text=_("核实部门：记录的提供部门")
    )
    account = models.ForeignKey("core.Account", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("异议理由"))
    evidence = models.FileField(_("证明材料"), upload_to="credit/objections/%Y/%m/", blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PENDING)
    due_date = models.DateField(_("核实期限"))
    decided_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision = models.TextField(_("核实意见"), blank=True)
    correction = models.JSONField(_("更正内容"), default=dict, blank=True)
    receipt_entry = models.BigIntegerField(null=True, blank=True, help_text=_("办结时的存证条目"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("信用异议")
        verbose_name_plural = _("信用异议")
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["department", "status", "due_date", "id"], name="credit_objection_todo_idx")
        ]


class CreditRepair(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已修复")
        REJECTED = "rejected", _("未通过")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("修复编号"), max_length=24, unique=True)
    file = models.ForeignKey("credit.CreditFile", on_delete=models.PROTECT, related_name="repairs")
    record = models.ForeignKey(
        "credit.CreditRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="repairs"
    )
    entry = models.ForeignKey(
        "credit.ListEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="repairs"
    )
    account = models.ForeignKey("core.Account", on_delete=models.PROTECT, related_name="+")
    statement = models.TextField(_("信用修复承诺与说明"))
    evidence = models.FileField(_("履行证明"), upload_to="credit/repairs/%Y/%m/", blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PENDING)
    due_date = models.DateField(_("审核期限"))
    decided_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision = models.TextField(_("审核意见"), blank=True)
    receipt_entry = models.BigIntegerField(null=True, blank=True, help_text=_("修复决定的存证条目"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("信用修复")
        verbose_name_plural = _("信用修复")
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["status", "due_date", "id"], name="credit_repair_todo_idx")]


class CreditSequence(models.Model):
    """Readable numbers: YY (异议) / XF (修复) / CC (抽查) + date + sequence per day."""

    kind = models.CharField(max_length=8)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "day"], name="credit_sequence_once")]
