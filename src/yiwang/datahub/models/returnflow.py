"""回流 and the 离岸库: upstream data (city, province, vertical systems) harvested into an offshore store that
feeds a catalogue resource; a failed harvest keeps the previous data and says why."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import EncryptedTextField


class Harvester(models.Model):
    """采集器: a plugin (`plugin` names a registered harvester kind) with its options and schedule."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("名称"), max_length=120)
    plugin = models.CharField(
        _("采集方式"), max_length=32, help_text=_("已注册的采集插件，如 file_drop、http_pull")
    )
    options = models.JSONField(_("插件参数"), default=dict, blank=True)
    source_name = models.CharField(
        _("上游来源"), max_length=120, help_text=_("如 市人口综合库、省市场监管局")
    )
    resource = models.ForeignKey(
        "datahub.DataResource",
        verbose_name=_("供给资源"),
        on_delete=models.PROTECT,
        related_name="harvesters",
    )
    key_field = models.CharField(_("主键字段"), max_length=64, help_text=_("记录的唯一键，如 id_number"))
    division_field = models.CharField(
        _("区划字段"), max_length=64, blank=True, help_text=_("按区划回流时使用的字段，如 division_code")
    )
    interval_minutes = models.PositiveIntegerField(_("采集间隔（分钟）"), default=1440)
    is_active = models.BooleanField(_("启用"), default=True)
    current_run = models.ForeignKey(
        "datahub.HarvestRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    next_run_at = models.DateTimeField(_("下次采集"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("采集器")
        verbose_name_plural = _("采集器")
        ordering = ["name"]
        indexes = [models.Index(fields=["is_active", "next_run_at"])]

    def __str__(self) -> str:
        return self.name


class HarvestRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("采集中")
        SUCCEEDED = "succeeded", _("成功")
        FAILED = "failed", _("失败（保留上次数据）")

    harvester = models.ForeignKey(Harvester, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.RUNNING)
    rows_read = models.PositiveIntegerField(_("读取行数"), default=0)
    rows_written = models.PositiveIntegerField(_("入库行数"), default=0)
    error = models.TextField(_("失败原因"), blank=True)
    source_digest = models.CharField(_("来源摘要（SM3）"), max_length=64, blank=True)
    provenance = models.JSONField(_("来源信息"), default=dict, blank=True)

    class Meta:
        verbose_name = _("采集记录")
        verbose_name_plural = _("采集记录")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["harvester", "-started_at"])]


class OffshoreRecord(models.Model):
    """One row of the 离岸库, as harvested in one run; the payload is SM4-encrypted (it may carry personal data),
    looked up by the HMAC-SM3 blind index of its key."""

    run = models.ForeignKey(HarvestRun, on_delete=models.CASCADE, related_name="records")
    resource = models.ForeignKey(
        "datahub.DataResource", on_delete=models.PROTECT, related_name="offshore_records"
    )
    key_index = models.CharField(max_length=64, editable=False)
    division_code = models.CharField(_("区划代码"), max_length=15, blank=True)
    payload = EncryptedTextField(_("数据（JSON，SM4 加密）"))

    class Meta:
        verbose_name = _("离岸库记录")
        verbose_name_plural = _("离岸库记录")
        constraints = [models.UniqueConstraint(fields=["run", "key_index"], name="offshore_key_once_per_run")]
        indexes = [models.Index(fields=["resource", "division_code", "id"])]
