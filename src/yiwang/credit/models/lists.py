"""红黑名单 and 联合奖惩: list entries, the measures catalogue keyed by list type, and the record of every credit
check made inside a workflow (what was checked, what applied, why)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class ListType(models.TextChoices):
    RED = "red", _("红名单（守信激励）")
    BLACK = "black", _("黑名单（失信惩戒）")


class Measure(models.Model):
    """奖惩措施: what a list type brings inside the workflows (`effect` is one of cases.hooks.CreditEffect)."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    list_type = models.CharField(_("名单类型"), max_length=8, choices=ListType.choices)
    effect = models.CharField(
        _("作用"), max_length=24, help_text=_("在审批流程中的作用（见 cases.hooks.CreditEffect）")
    )
    legal_basis = models.CharField(_("依据"), max_length=300)
    description = models.TextField(_("说明"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("奖惩措施")
        verbose_name_plural = _("奖惩措施")
        ordering = ["list_type", "code"]


class ListEntry(models.Model):
    """A red- or black-list entry: legal basis, issuing department, period and publication."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("有效")
        REMOVED = "removed", _("已移出")
        EXPIRED = "expired", _("已到期")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    file = models.ForeignKey("credit.CreditFile", on_delete=models.PROTECT, related_name="list_entries")
    list_type = models.CharField(_("名单类型"), max_length=8, choices=ListType.choices)
    reason = models.CharField(_("列入事由"), max_length=300)
    legal_basis = models.CharField(_("认定依据"), max_length=300)
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="+")
    starts_on = models.DateField(_("列入日期"))
    ends_on = models.DateField(_("有效期至"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    is_published = models.BooleanField(_("已公示"), default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removal_reason = models.CharField(_("移出原因"), max_length=300, blank=True)
    record = models.ForeignKey(
        "credit.CreditRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="list_entries",
        help_text=_("据以列入的信用记录（如有）"),
    )
    created_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("红黑名单")
        verbose_name_plural = _("红黑名单")
        ordering = ["-starts_on", "-id"]
        indexes = [
            models.Index(fields=["file", "status"], name="credit_list_file_idx"),
            models.Index(fields=["list_type", "status", "is_published", "id"], name="credit_list_public_idx"),
        ]


class CreditCheck(models.Model):
    """联合奖惩核查: the credit check made at one decision of a case (application, 秒批, 免申即享), kept on the
    case and shown to staff and to the applicant."""

    class Moment(models.TextChoices):
        SUBMIT = "submit", _("申请受理")
        INSTANT = "instant", _("秒批")
        PROACTIVE = "proactive", _("免申即享")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="credit_checks")
    moment = models.CharField(_("环节"), max_length=12, choices=Moment.choices)
    file = models.ForeignKey(
        "credit.CreditFile", null=True, blank=True, on_delete=models.PROTECT, related_name="checks"
    )
    grade = models.CharField(_("信用等级"), max_length=1, blank=True)
    lists = models.JSONField(_("名单"), default=list, blank=True)
    applied = models.JSONField(_("适用措施"), default=list, blank=True, help_text=_("[{作用, 说明}]"))
    outcome = models.CharField(_("核查结果"), max_length=500)
    checked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("信用核查")
        verbose_name_plural = _("信用核查")
        ordering = ["case", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "moment"], name="credit_check_once_per_moment")
        ]
