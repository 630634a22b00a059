"""Models of 告知承诺 and 容缺 (app label `cases`: cases/models.py imports them, so Django registers them there)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Pledge(models.Model):
    """告知承诺: the applicant's signed commitment in place of some materials (text and its SM3 digest kept)."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="pledge")
    materials = models.JSONField(default=list, help_text=_("以承诺代替的材料编码"))
    text = models.TextField(_("承诺内容"))
    text_sm3 = models.CharField(max_length=64)
    account = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pledged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("告知承诺")
        verbose_name_plural = _("告知承诺")


class PledgeVerification(models.Model):
    """核查 after approval on a pledge; a failed verification revokes the decision."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待核查")
        PASSED = "passed", _("核查属实")
        FAILED = "failed", _("核查不实")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="pledge_verification")
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(_("核查期限"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    result = models.TextField(_("核查意见"), blank=True)
    verified_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(
        null=True, blank=True, help_text=_("超期提醒已发出的时间（每次核查只提醒一次）")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("承诺核查")
        verbose_name_plural = _("承诺核查")
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["department", "status", "due_date", "id"], name="pledge_check_idx")]
