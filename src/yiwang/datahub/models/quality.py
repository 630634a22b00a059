"""数据质量: rules per resource, compiled into a Soda Core data contract and evaluated by Soda over DuckDB
(snapshots, files) or PostgreSQL; each run keeps its results, the failed rows with their record identifiers, and
the resource's quality and freshness scores. A failed rule opens a correction task (an Objection of origin
`quality`) for the 数源部门."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleKind(models.TextChoices):
    SCHEMA = "schema", _("结构（字段与类型）")
    ROW_COUNT = "row_count", _("记录数")
    MISSING = "missing", _("缺失值")
    INVALID = "invalid", _("无效值（代码表、校验位）")
    DUPLICATE = "duplicate", _("重复值")
    REFERENCE = "reference", _("引用一致（外键）")
    CONSISTENCY = "consistency", _("跨源一致")
    FRESHNESS = "freshness", _("更新及时")


class QualityRule(models.Model):
    """One rule on one resource. `options` by kind: row_count {min,max}; missing/duplicate {max_percent};
    invalid {element} or {valid_values} or {validator: gb11643|gb32100|gb2260|phone}; reference
    {resource, column}; consistency {resource, column, key, other_key}; freshness {column, max_age_hours}
    (default: the resource's update cycle)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    resource = models.ForeignKey(
        "datahub.DataResource",
        verbose_name=_("数据资源"),
        on_delete=models.CASCADE,
        related_name="quality_rules",
    )
    kind = models.CharField(_("规则类型"), max_length=16, choices=RuleKind.choices)
    column = models.CharField(_("字段"), max_length=64, blank=True, help_text=_("资源信息项的字段名"))
    element = models.ForeignKey(
        "datahub.DataElement",
        verbose_name=_("数据元"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    options = models.JSONField(_("规则参数"), default=dict, blank=True)
    name = models.CharField(_("规则名称"), max_length=120)
    weight = models.PositiveSmallIntegerField(_("权重"), default=1)
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("质量规则")
        verbose_name_plural = _("质量规则")
        ordering = ["resource", "id"]
        indexes = [models.Index(fields=["resource", "is_active"])]

    def __str__(self) -> str:
        return self.name


class QualityRun(models.Model):
    """One evaluation of a resource's contract (on schedule or on demand), with its progress."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("定时")
        DEMAND = "demand", _("手动")

    class Engine(models.TextChoices):
        DUCKDB = "duckdb", _("DuckDB")
        POSTGRES = "postgres", _("PostgreSQL")

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("检查中")
        PASSED = "passed", _("全部通过")
        FAILED = "failed", _("存在问题")
        ERROR = "error", _("运行出错")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    resource = models.ForeignKey(
        "datahub.DataResource", on_delete=models.CASCADE, related_name="quality_runs"
    )
    trigger = models.CharField(_("触发方式"), max_length=16, choices=Trigger.choices)
    engine = models.CharField(_("执行引擎"), max_length=16, choices=Engine.choices, default=Engine.DUCKDB)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    total_rules = models.PositiveIntegerField(_("规则数"), default=0)
    done_rules = models.PositiveIntegerField(_("已完成"), default=0)
    rows_scanned = models.PositiveBigIntegerField(_("检查记录数"), default=0)
    quality_score = models.DecimalField(_("质量得分"), max_digits=5, decimal_places=2, null=True, blank=True)
    freshness_score = models.DecimalField(
        _("及时性得分"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    contract = models.TextField(_("数据契约（Soda YAML）"), blank=True)
    error = models.TextField(_("错误"), blank=True)
    requested_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("质量检查")
        verbose_name_plural = _("质量检查")
        ordering = ["-id"]
        indexes = [models.Index(fields=["resource", "-id"]), models.Index(fields=["status", "id"])]

    def __str__(self) -> str:
        return f"{self.resource_id}#{self.pk}"


class QualityResult(models.Model):
    class Outcome(models.TextChoices):
        PASSED = "passed", _("通过")
        FAILED = "failed", _("未通过")
        ERROR = "error", _("无法评估")

    run = models.ForeignKey(QualityRun, on_delete=models.CASCADE, related_name="results")
    rule = models.ForeignKey(QualityRule, on_delete=models.CASCADE, related_name="results")
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices)
    rows_tested = models.PositiveBigIntegerField(_("检查记录数"), default=0)
    failed_count = models.PositiveBigIntegerField(_("问题记录数"), default=0)
    metrics = models.JSONField(_("度量"), default=dict, blank=True)
    message = models.TextField(_("说明"), blank=True)
    objection = models.ForeignKey(
        "datahub.Objection",
        verbose_name=_("整改任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("质量检查结果")
        verbose_name_plural = _("质量检查结果")
        ordering = ["run", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "rule"], name="quality_result_once")]


class QualityFailedRow(models.Model):
    """A row that failed a rule, kept by its record identifier (the registry's public id, never a personal
    identifier) and the offending value masked."""

    result = models.ForeignKey(QualityResult, on_delete=models.CASCADE, related_name="failed_rows")
    record_key = models.CharField(_("记录标识"), max_length=64)
    column = models.CharField(_("字段"), max_length=64, blank=True)
    value_masked = models.CharField(_("问题值（脱敏）"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("问题记录")
        verbose_name_plural = _("问题记录")
        ordering = ["result", "id"]


class QualityScore(models.Model):
    """A resource's latest scores (one row per resource, rewritten by each finished run)."""

    resource = models.OneToOneField(
        "datahub.DataResource", on_delete=models.CASCADE, related_name="quality_score"
    )
    provider = models.ForeignKey("core.Department", on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(QualityRun, on_delete=models.SET_NULL, null=True, related_name="+")
    quality = models.DecimalField(_("质量得分"), max_digits=5, decimal_places=2)
    freshness = models.DecimalField(_("及时性得分"), max_digits=5, decimal_places=2)
    measured_at = models.DateTimeField(_("评估时间"))

    class Meta:
        verbose_name = _("资源质量得分")
        verbose_name_plural = _("资源质量得分")
        indexes = [models.Index(fields=["provider"])]
