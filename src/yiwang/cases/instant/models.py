"""Models of 秒批 (app label `cases`: cases/models.py imports them, so Django registers them there)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class InstantDecision(models.Model):
    """秒批: the rule-set version that was applied to a case and each rule's result, kept for ever (a later rule
    change never re-decides the case)."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("自动准予")
        MANUAL = "manual", _("转人工审核")

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="instant_decision")
    ruleset = models.ForeignKey("catalog.InstantRuleSet", on_delete=models.PROTECT, related_name="decisions")
    ruleset_version = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    results = models.JSONField(default=list, help_text=_("[{code, name, expr, passed, message, error}]"))
    facts = models.JSONField(default=dict, help_text=_("规则使用的事实值（不含证件号码）"))
    evaluated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("秒批决定")
        verbose_name_plural = _("秒批决定")
