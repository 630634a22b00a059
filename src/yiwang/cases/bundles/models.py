"""Models of 一件事 (app label `cases`: cases/models.py imports them, so Django registers them there)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class BundleCase(models.Model):
    """一件事 application: one form, one set of materials, one submission; a sub-case (Case) per item, each in
    its own department. State and deadline aggregate the parts (bundle_sync keeps them current)."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", _("办理中")
        SUPPLEMENT = "supplement", _("待补正")
        CONCLUDED = "concluded", _("已办结")
        WITHDRAWN = "withdrawn", _("已撤回")

    class Outcome(models.TextChoices):
        NONE = "", _("未办结")
        ALL_APPROVED = "all_approved", _("全部准予")
        PARTLY = "partly", _("部分准予")
        NONE_APPROVED = "none_approved", _("均未准予")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("一件事编号"), max_length=40, unique=True)
    bundle = models.ForeignKey(
        "catalog.Bundle", verbose_name=_("一件事"), on_delete=models.PROTECT, related_name="cases"
    )
    applicant_account = models.ForeignKey(
        "core.Account", on_delete=models.PROTECT, related_name="bundle_cases", verbose_name=_("申请账户")
    )
    applicant_person = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="bundle_cases"
    )
    applicant_organisation = models.ForeignKey(
        "core.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="bundle_cases"
    )
    idempotency_key = models.CharField(max_length=64, help_text=_("防止重复提交"))
    form_data = models.JSONField(_("合并申请表数据"), default=dict, blank=True)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices, blank=True, default="")
    due_date = models.DateField(
        _("承诺办结日期"), null=True, blank=True, help_text=_("各事项承诺日期的最晚者")
    )
    submitted_at = models.DateTimeField(_("提交时间"))
    concluded_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    lock_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("一件事办件")
        verbose_name_plural = _("一件事办件")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant_account", "idempotency_key"], name="bundle_case_idempotency_once"
            )
        ]
        indexes = [models.Index(fields=["applicant_account", "-id"], name="bundle_case_mine_idx")]

    def __str__(self) -> str:
        return self.number


class BundlePart(models.Model):
    """One item of a bundle application: filed at once, or waiting for the items it comes after; cancelled
    when one of those is not approved."""

    class State(models.TextChoices):
        WAITING = "waiting", _("等待前置事项")
        FILED = "filed", _("已分送办理")
        CANCELLED = "cancelled", _("未办理")

    bundle_case = models.ForeignKey(BundleCase, on_delete=models.CASCADE, related_name="parts")
    item = models.ForeignKey("catalog.ServiceItem", on_delete=models.PROTECT, related_name="+")
    case = models.OneToOneField(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="bundle_part"
    )
    after = models.JSONField(default=list, blank=True, help_text=_("须先准予的事项编码"))
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.WAITING)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("一件事事项办理")
        verbose_name_plural = _("一件事事项办理")
        ordering = ["bundle_case", "sort", "id"]
        constraints = [models.UniqueConstraint(fields=["bundle_case", "item"], name="bundle_part_once")]
