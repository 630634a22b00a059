"""Models of 免申即享 (app label `cases`: cases/models.py imports them, so Django registers them there)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Entitlement(models.Model):
    """免申即享: one person's or organisation's standing under one policy. At most one per subject and policy,
    so nobody is granted twice."""

    class Status(models.TextChoices):
        ELIGIBLE = "eligible", _("符合条件")
        NOTIFIED = "notified", _("已告知")
        CONFIRMED = "confirmed", _("已确认")
        GRANTED = "granted", _("已兑现")
        DECLINED = "declined", _("已放弃")
        EXCLUDED = "excluded", _("不再符合")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    policy = models.ForeignKey(
        "catalog.ProactivePolicy", on_delete=models.PROTECT, related_name="entitlements"
    )
    person = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="entitlements"
    )
    organisation = models.ForeignKey(
        "core.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="entitlements"
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ELIGIBLE)
    reason = models.CharField(_("原因"), max_length=300, blank=True, help_text=_("放弃或不再符合的原因"))
    rules_version = models.PositiveIntegerField(default=1)
    results = models.JSONField(default=list, blank=True)
    case = models.OneToOneField(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="entitlement"
    )
    eligible_since = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    granted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("免申即享资格")
        verbose_name_plural = _("免申即享资格")
        ordering = ["policy", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "person"], name="entitlement_person_once"),
            models.UniqueConstraint(fields=["policy", "organisation"], name="entitlement_org_once"),
            models.CheckConstraint(
                condition=(Q(person__isnull=False) & Q(organisation__isnull=True))
                | (Q(person__isnull=True) & Q(organisation__isnull=False)),
                name="entitlement_one_subject",
            ),
        ]
        indexes = [
            models.Index(fields=["policy", "status", "id"], name="entitlement_status_idx"),
        ]


class PolicyRun(models.Model):
    """One evaluation of a policy over the registries (full or incremental) and what it found."""

    class Kind(models.TextChoices):
        FULL = "full", _("全量")
        INCREMENTAL = "incremental", _("增量")

    policy = models.ForeignKey("catalog.ProactivePolicy", on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    rules_version = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    evaluated = models.PositiveIntegerField(default=0)
    newly_eligible = models.PositiveIntegerField(default=0)
    newly_excluded = models.PositiveIntegerField(default=0)
    notified = models.PositiveIntegerField(default=0)
    granted = models.PositiveIntegerField(default=0)
    fail_counts = models.JSONField(default=dict, help_text=_("{规则编码: 未通过人数}"))

    class Meta:
        verbose_name = _("政策评估记录")
        verbose_name_plural = _("政策评估记录")
        ordering = ["policy", "-started_at"]
