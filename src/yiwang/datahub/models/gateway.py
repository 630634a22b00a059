"""The gateway's call log: every call through the data-sharing gateway, refused ones too.

It names who called (system, grant), why (the purpose: a case or incident number, or the scenario), whose data
(the person or organisation; never the values) and which fields; each call also appends an entry to the evidence
log (`audit_uuid`). 我的数据 reads it by data subject; covert calls (a grant's `covert_until`) stay hidden from
the subject until that date.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class GatewayCall(models.Model):
    class Operation(models.TextChoices):
        QUERY = "query", _("查询")
        VERIFY = "verify", _("核验")
        COMPARE = "compare", _("比对")
        BATCH = "batch", _("批量")

    class Outcome(models.TextChoices):
        OK = "ok", _("成功")
        NOT_FOUND = "not_found", _("无此数据")
        DENIED = "denied", _("无有效授权")
        NO_CONSENT = "no_consent", _("未获数据主体授权")
        RATE_LIMITED = "rate_limited", _("超出调用频率")
        INVALID = "invalid", _("请求无效")

    id = models.BigAutoField(primary_key=True)
    request_id = models.UUIDField(_("请求标识"), unique=True)
    at = models.DateTimeField(_("调用时间"))
    # The log grows by millions of rows a day and every call inserts one: no single-column index where an
    # (x, id) index of Meta.indexes serves the same lookups.
    system = models.ForeignKey(
        "core.RegisteredSystem", on_delete=models.PROTECT, related_name="gateway_calls", db_index=False
    )
    grant = models.ForeignKey(
        "datahub.ShareGrant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calls",
        db_index=False,
    )
    consent = models.ForeignKey(
        "datahub.Consent", null=True, blank=True, on_delete=models.PROTECT, related_name="calls"
    )
    resource = models.ForeignKey(
        "datahub.DataResource", null=True, blank=True, on_delete=models.PROTECT, related_name="calls"
    )
    operation = models.CharField(_("服务类型"), max_length=8, choices=Operation.choices)
    purpose = models.CharField(_("用途"), max_length=200, help_text=_("办件号、工单号或应用场景"))
    subject_person = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    subject_organisation = models.ForeignKey(
        "core.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    subject_count = models.PositiveIntegerField(_("数据主体数"), default=0)
    fields = models.JSONField(_("返回信息项"), default=list)
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices)
    response_hash = models.CharField(_("应答摘要"), max_length=64, blank=True, help_text=_("SM3(请求‖应答)"))
    covert_until = models.DateField(_("暂缓告知至"), null=True, blank=True)
    audit_uuid = models.UUIDField(_("存证条目"), null=True, blank=True)

    class Meta:
        verbose_name = _("网关调用")
        verbose_name_plural = _("网关调用")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["system", "id"]),
            models.Index(fields=["grant", "id"]),
            models.Index(fields=["subject_person", "id"]),
            models.Index(fields=["subject_organisation", "id"]),
        ]


class GatewayCallSubject(models.Model):
    """The further data subjects of a batch call (the call row names the first)."""

    call = models.ForeignKey(GatewayCall, on_delete=models.CASCADE, related_name="subjects")
    person = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "core.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("网关调用数据主体")
        verbose_name_plural = _("网关调用数据主体")
        indexes = [models.Index(fields=["person", "call"]), models.Index(fields=["organisation", "call"])]
