"""纠错: one queue of objections to data values. Filed by a consuming department, a window clerk, the
citizen/enterprise from 我的数据, opened by a failed quality rule, or joined from a licence 质量异议; the 数源部门
verifies within a working-day deadline, then corrects (a new value with provenance, pushed to every consumer that
holds it) or rejects with reasons. Every step is an ObjectionEvent carrying its audit entry (the receipt)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import EncryptedTextField
from yiwang.core.models.history import HistoryEntry


class Objection(models.Model):
    class Origin(models.TextChoices):
        DEPARTMENT = "department", _("使用部门")
        WINDOW = "window", _("窗口人员")
        PERSON = "person", _("群众（我的数据）")
        ORGANISATION = "organisation", _("企业（我的数据）")
        LICENCE = "licence", _("证照质量异议")
        QUALITY = "quality", _("质量检查")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待核实")
        VERIFYING = "verifying", _("核实中")
        CORRECTED = "corrected", _("已更正")
        REJECTED = "rejected", _("不予更正")
        WITHDRAWN = "withdrawn", _("已撤回")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("纠错编号"), max_length=32, unique=True)
    origin = models.CharField(_("来源"), max_length=16, choices=Origin.choices)
    resource = models.ForeignKey(
        "datahub.DataResource",
        verbose_name=_("数据资源"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="objections",
    )
    field_name = models.CharField(_("字段"), max_length=64, blank=True)
    record_key = models.CharField(
        _("记录标识"), max_length=64, blank=True, help_text=_("记录的公开标识（不是身份证号）")
    )
    subject_person = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject_organisation = models.ForeignKey(
        "core.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    current_value = EncryptedTextField(_("现值"), blank=True, default="")
    proposed_value = EncryptedTextField(_("建议值"), blank=True, default="")
    reason = models.TextField(_("异议理由"))
    source_department = models.ForeignKey(
        "core.Department", verbose_name=_("数源部门"), on_delete=models.PROTECT, related_name="objections"
    )
    raised_by = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    raised_by_department = models.ForeignKey(
        "core.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    licence_dispute = models.OneToOneField(
        "licences.LicenceDispute", null=True, blank=True, on_delete=models.PROTECT, related_name="objection"
    )
    quality_result = models.ForeignKey(
        "datahub.QualityResult", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    due_on = models.DateField(_("核实期限"), help_text=_("按工作日计算"))
    resolution = models.TextField(_("处理意见"), blank=True)
    corrected_value = EncryptedTextField(_("更正后值"), blank=True, default="")
    correction_basis = models.CharField(_("更正依据"), max_length=200, blank=True)
    resolved_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    row_version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("数据纠错")
        verbose_name_plural = _("数据纠错")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["source_department", "status", "-id"]),
            models.Index(fields=["raised_by", "-id"]),
            models.Index(fields=["status", "due_on"]),
        ]

    def __str__(self) -> str:
        return self.number


class ObjectionEvent(HistoryEntry):
    objection = models.ForeignKey(Objection, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)
    audit_uuid = models.UUIDField(_("存证条目"), null=True, blank=True)

    class Meta:
        verbose_name = _("纠错记录")
        verbose_name_plural = _("纠错记录")
        ordering = ["objection", "seq"]
        constraints = [models.UniqueConstraint(fields=["objection", "seq"], name="objection_event_seq_once")]


class CorrectionPush(models.Model):
    """回写: the corrected value told to one consumer that holds it (a grant's system, a 回流 store)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待推送")
        SENT = "sent", _("已推送")
        ACKNOWLEDGED = "acknowledged", _("已确认")

    objection = models.ForeignKey(Objection, on_delete=models.CASCADE, related_name="pushes")
    grant = models.ForeignKey(
        "datahub.ShareGrant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consumer = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("渠道"), max_length=32, help_text=_("gateway_notice、returnflow、licence"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("更正推送")
        verbose_name_plural = _("更正推送")
        ordering = ["objection", "id"]
        indexes = [models.Index(fields=["consumer", "status", "-id"])]
