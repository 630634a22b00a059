"""指标: the indicator library, computed values per unit and period, and 公共绩效考评 (performance scores).

An indicator's formula is a metric registered in `collab.metrics` (a function over platform data for one unit and
period); the library row chooses it and adds target, threshold, weight and owner. A value past the threshold
opens a 督办 task for the unit (指标 → 任务 → 督办 → 指标).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from .common import Period


class Indicator(models.Model):
    class Direction(models.TextChoices):
        HIGHER = "higher", _("越高越好")
        LOWER = "lower", _("越低越好")

    class Scope(models.TextChoices):
        DEPARTMENT = "department", _("区直部门")
        TOWN = "town", _("镇街")

    class Category(models.TextChoices):
        GOVERNANCE = "governance", _("内部治理")
        PUBLIC = "public", _("公众评价")  # 好差评, 12345: weighted by the plan's public-evaluation weight

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("指标编码"), max_length=32, unique=True)
    name = models.CharField(_("指标名称"), max_length=100)
    definition = models.TextField(_("指标定义"), max_length=4000)
    metric = models.CharField(_("计算公式"), max_length=64, help_text=_("平台登记的指标算法"))
    unit = models.CharField(_("单位"), max_length=16, default="%")
    direction = models.CharField(_("方向"), max_length=8, choices=Direction.choices, default=Direction.HIGHER)
    scope = models.CharField(_("考核对象"), max_length=12, choices=Scope.choices, default=Scope.DEPARTMENT)
    category = models.CharField(
        _("类别"), max_length=12, choices=Category.choices, default=Category.GOVERNANCE
    )
    owner_department = models.ForeignKey(
        "core.Department", verbose_name=_("责任部门"), on_delete=models.PROTECT, related_name="+"
    )
    period = models.CharField(_("统计周期"), max_length=12, choices=Period.choices, default=Period.MONTHLY)
    target = models.DecimalField(_("目标值"), max_digits=12, decimal_places=2)
    threshold = models.DecimalField(
        _("预警阈值"), max_digits=12, decimal_places=2, help_text=_("越过即为本单位自动生成督办任务")
    )
    weight = models.DecimalField(_("权重"), max_digits=5, decimal_places=2, default=1)
    opens_task = models.BooleanField(_("越限自动生成督办任务"), default=True)
    task_workdays = models.PositiveSmallIntegerField(_("整改时限（工作日）"), default=10)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标库")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class IndicatorValue(models.Model):
    """One computed value of an indicator for one unit and period; recomputing the period replaces it."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="values")
    department = models.ForeignKey(
        "core.Department", on_delete=models.CASCADE, related_name="indicator_values"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    numerator = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    denominator = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    breached = models.BooleanField(default=False)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "department", "period_start"], name="collab_indicator_value_once"
            )
        ]
        indexes = [
            models.Index(fields=["period_start", "indicator"], name="collab_ivalue_period"),
            models.Index(fields=["department", "period_start"], name="collab_ivalue_dept"),
        ]


class PerformancePlan(models.Model):
    """公共绩效考评方案: which indicators count and how much the public's evaluation (好差评, 12345) weighs."""

    code = models.CharField(_("方案编码"), max_length=32, unique=True)
    name = models.CharField(_("方案名称"), max_length=100)
    scope = models.CharField(
        max_length=12, choices=Indicator.Scope.choices, default=Indicator.Scope.DEPARTMENT
    )
    public_weight = models.PositiveSmallIntegerField(
        _("公众评价权重（%）"), default=30, help_text=_("好差评、12345 类指标合计占总分的比例")
    )
    indicators = models.ManyToManyField(Indicator, related_name="plans", blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("绩效考评方案")
        verbose_name_plural = _("绩效考评方案")

    def __str__(self) -> str:
        return self.name


class PerformanceScore(models.Model):
    """A unit's score under a plan for one period, with its rank and the per-indicator parts."""

    plan = models.ForeignKey(PerformancePlan, on_delete=models.CASCADE, related_name="scores")
    department = models.ForeignKey("core.Department", on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    score = models.DecimalField(max_digits=6, decimal_places=2)
    governance_score = models.DecimalField(max_digits=6, decimal_places=2)
    public_score = models.DecimalField(max_digits=6, decimal_places=2)
    rank = models.PositiveSmallIntegerField()
    parts = models.JSONField(default=list, help_text=_("[{indicator, value, points, weight}]"))
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "department", "period_start"], name="collab_performance_once"
            )
        ]
        indexes = [models.Index(fields=["plan", "period_start", "rank"], name="collab_perf_rank")]
