"""数据治理考核 and the CDO roster: chief data officers of the district and each department, and a scorecard
per department and period computed from the platform's own records (census, catalogue, quality, sharing,
grants, open data, corrections) under weights the centre configures."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class CdoAppointment(models.Model):
    """首席数据官: `department` empty means the district's own CDO."""

    class Level(models.TextChoices):
        DISTRICT = "district", _("区级首席数据官")
        DEPARTMENT = "department", _("部门首席数据官")
        DEPUTY = "deputy", _("数据专员（联络人）")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    department = models.ForeignKey(
        "core.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="cdos"
    )
    staff = models.ForeignKey(
        "core.Staff", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("职务"), max_length=60)
    duties = models.TextField(_("职责"), blank=True)
    appointed_on = models.DateField(_("任命日期"))
    ended_on = models.DateField(_("免职日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("首席数据官")
        verbose_name_plural = _("首席数据官")
        ordering = ["level", "department__code", "-appointed_on"]
        constraints = [
            # One serving district CDO and one serving CDO per department (deputies and liaisons: any number).
            # Two partial unique indexes: NULL departments never collide in a unique index (SQLite and PG alike).
            models.UniqueConstraint(
                fields=["level"],
                condition=models.Q(level="district", ended_on__isnull=True),
                name="cdo_one_serving_district",
            ),
            models.UniqueConstraint(
                fields=["department"],
                condition=models.Q(level="department", ended_on__isnull=True),
                name="cdo_one_serving_per_department",
            ),
            models.CheckConstraint(
                condition=models.Q(level="district", department__isnull=True)
                | (~models.Q(level="district") & models.Q(department__isnull=False)),
                name="cdo_department_matches_level",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True) | models.Q(ended_on__gte=models.F("appointed_on")),
                name="cdo_ends_after_appointment",
            ),
        ]
        indexes = [models.Index(fields=["department", "ended_on"])]


class ScoreMetric(models.TextChoices):
    CENSUS = "census", _("普查完成度")
    CATALOGUE = "catalogue", _("目录与挂接覆盖率")
    TIMELINESS = "timeliness", _("更新及时率")
    QUALITY = "quality", _("数据质量得分")
    SHARE_RESPONSE = "share_response", _("共享申请响应时效")
    GRANTS_USED = "grants_used", _("共享授权使用率")
    OPEN_DATA = "open_data", _("开放数据集")
    CORRECTIONS = "corrections", _("纠错按期办结率")


class ScoreWeight(models.Model):
    metric = models.CharField(_("指标"), max_length=24, choices=ScoreMetric.choices, unique=True)
    weight = models.DecimalField(_("权重（%）"), max_digits=5, decimal_places=2)
    target = models.DecimalField(
        _("满分目标"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("计数类指标达到此值得满分，如开放数据集 10 个"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("考核权重")
        verbose_name_plural = _("考核权重")
        ordering = ["metric"]


class Scorecard(models.Model):
    """One department's score for one period; `metrics` = {metric: {"value", "score", "detail"}}."""

    period = models.CharField(_("考核周期"), max_length=10, help_text=_("如 2026-Q4"))
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="scorecards")
    metrics = models.JSONField(_("分项"), default=dict)
    total = models.DecimalField(_("总分"), max_digits=6, decimal_places=2)
    rank = models.PositiveIntegerField(_("排名"), null=True, blank=True)
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("数据治理考核")
        verbose_name_plural = _("数据治理考核")
        ordering = ["period", "rank", "department__code"]
        constraints = [models.UniqueConstraint(fields=["period", "department"], name="scorecard_once")]
        indexes = [models.Index(fields=["period", "rank"])]
