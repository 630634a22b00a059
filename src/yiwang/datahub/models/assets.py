"""数据资产登记: a data product built from catalogue resources is registered with its holder, producer, sources
(each with its legal basis), compliance review and claimed rights; an approved registration gets an SM2-signed
certificate with its receipt, verifiable like a licence (public page, offline file). Changes and transfers are
add-only DataAssetEvents."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.models.history import HistoryEntry


class AssetRight(models.TextChoices):
    HOLDING = "holding", _("数据资源持有权")
    PROCESSING = "processing", _("数据加工使用权")
    OPERATION = "operation", _("数据产品经营权")


class DataAsset(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待审核")
        RETURNED = "returned", _("退回补正")
        REGISTERED = "registered", _("已登记")
        REJECTED = "rejected", _("不予登记")
        CANCELLED = "cancelled", _("已注销")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("登记编号"), max_length=32, unique=True, null=True, blank=True)
    name = models.CharField(_("数据产品名称"), max_length=200)
    description = models.TextField(_("产品说明"))
    holder = models.ForeignKey(
        "core.Department", verbose_name=_("持有单位"), on_delete=models.PROTECT, related_name="data_assets"
    )
    holder_name = models.CharField(_("持有人名称"), max_length=120)
    holder_uscc = models.CharField(_("持有人统一社会信用代码"), max_length=18)
    producer = models.CharField(_("加工单位"), max_length=120)
    rights = models.JSONField(_("登记权利"), default=list, help_text=_("holding、processing、operation"))
    valuation_note = models.TextField(_("价值评估说明"), blank=True)
    compliance_note = models.TextField(_("合规说明"), blank=True)
    compliance_review = models.TextField(_("合规审查意见"), blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(_("登记版本"), default=0)
    certificate = models.JSONField(_("登记证书内容"), default=dict, blank=True, editable=False)
    signature = models.CharField(_("SM2 签名"), max_length=256, blank=True, editable=False)
    key_id = models.CharField(max_length=64, blank=True, editable=False)
    registered_at = models.DateTimeField(_("登记时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verify_code = models.CharField(
        _("核验码"),
        max_length=8,
        blank=True,
        editable=False,
        help_text=_("登记时生成，印在登记证书上；公众凭登记编号和核验码核验"),
    )
    pending_change = models.JSONField(
        _("待审核的变更或转让"),
        default=dict,
        blank=True,
        editable=False,
        help_text=_("登记后提出、尚待大数据中心审核的变更（kind=change）或转让（kind=transfer）"),
    )
    row_version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("数据资产")
        verbose_name_plural = _("数据资产")
        ordering = ["-id"]
        indexes = [models.Index(fields=["holder", "status", "-id"]), models.Index(fields=["status", "-id"])]

    def __str__(self) -> str:
        return self.name


class DataAssetSource(models.Model):
    asset = models.ForeignKey(DataAsset, on_delete=models.CASCADE, related_name="sources")
    resource = models.ForeignKey("datahub.DataResource", on_delete=models.PROTECT, related_name="+")
    legal_basis = models.TextField(_("来源合法性依据"))
    grant = models.ForeignKey(
        "datahub.ShareGrant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("使用他部门资源时的共享授权"),
    )

    class Meta:
        verbose_name = _("数据来源")
        verbose_name_plural = _("数据来源")
        constraints = [models.UniqueConstraint(fields=["asset", "resource"], name="asset_source_once")]


class DataAssetEvent(HistoryEntry):
    asset = models.ForeignKey(DataAsset, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(
        _("操作"), max_length=32, help_text=_("submit、return、register、change、transfer…")
    )
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)
    detail = models.JSONField(default=dict, blank=True)
    audit_uuid = models.UUIDField(_("存证条目"), null=True, blank=True)

    class Meta:
        verbose_name = _("资产登记记录")
        verbose_name_plural = _("资产登记记录")
        ordering = ["asset", "seq"]
        constraints = [models.UniqueConstraint(fields=["asset", "seq"], name="asset_event_seq_once")]
