"""数据资源普查 and the three lists: each unit (department, town, public enterprise) declares, per census round,
its information systems (系统清单), the data each holds (数据清单) and the data it needs from others (需求清单).

A round is opened by the big-data centre for a period; every unit in scope gets one CensusReturn, prefilled from
its accepted return of the previous round (`carried_from` on each line). The centre accepts or returns each
return, turns data lines into catalogue drafts (`resource`) and needs into share requests (`share_request`).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from .resources import DataResource, OpenType, ShareType


class CensusRound(models.Model):
    """普查轮次: one period of the census (e.g. 2026 年度)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("准备中")
        OPEN = "open", _("填报中")
        CLOSED = "closed", _("已结束")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("轮次代码"), max_length=20, unique=True, help_text=_("如 2026 或 2026-H2"))
    name = models.CharField(_("名称"), max_length=120)
    period_start = models.DateField(_("统计期起"))
    period_end = models.DateField(_("统计期止"))
    due_on = models.DateField(_("填报截止日"))
    previous = models.ForeignKey(
        "self", verbose_name=_("上一轮"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    instructions = models.TextField(_("填报说明"), blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("普查轮次")
        verbose_name_plural = _("普查轮次")
        ordering = ["-period_start", "-id"]

    def __str__(self) -> str:
        return self.name


class CensusReturn(models.Model):
    """One unit's answer to one round: its three lists, submitted, then accepted or returned by the centre."""

    class UnitKind(models.TextChoices):
        DEPARTMENT = "department", _("区直部门")
        TOWN = "town", _("镇街")
        ENTERPRISE = "enterprise", _("公共企事业单位")

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("未填报")
        IN_PROGRESS = "in_progress", _("填报中")
        SUBMITTED = "submitted", _("已提交")
        RETURNED = "returned", _("已退回修改")
        ACCEPTED = "accepted", _("已通过")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(CensusRound, on_delete=models.CASCADE, related_name="returns")
    unit = models.ForeignKey(
        "core.Department", verbose_name=_("填报单位"), on_delete=models.PROTECT, related_name="census_returns"
    )
    unit_kind = models.CharField(
        _("单位类型"), max_length=16, choices=UnitKind.choices, default=UnitKind.DEPARTMENT
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.NOT_STARTED)
    prefilled_from = models.ForeignKey(
        "self", verbose_name=_("预填自"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.TextField(_("审核意见"), blank=True)
    audit_uuid = models.UUIDField(_("最近一次存证条目"), null=True, blank=True)
    row_version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("普查填报")
        verbose_name_plural = _("普查填报")
        ordering = ["round", "unit__code"]
        constraints = [models.UniqueConstraint(fields=["round", "unit"], name="census_return_once")]
        indexes = [models.Index(fields=["round", "status"]), models.Index(fields=["unit", "-round"])]

    def __str__(self) -> str:
        return f"{self.unit}·{self.round}"


class CensusSystem(models.Model):
    """系统清单: one information system of the unit."""

    class Deployment(models.TextChoices):
        LOCAL = "local", _("本级自建")
        VERTICAL = "vertical", _("上级垂管")

    class Hosting(models.TextChoices):
        GOV_CLOUD = "gov_cloud", _("政务云")
        OWN_ROOM = "own_room", _("自建机房")
        UPPER = "upper", _("上级部署")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        IN_USE = "in_use", _("在用")
        BUILDING = "building", _("在建")
        RETIRED = "retired", _("停用")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    census_return = models.ForeignKey(CensusReturn, on_delete=models.CASCADE, related_name="systems")
    name = models.CharField(_("系统名称"), max_length=120)
    owner_name = models.CharField(_("系统责任人"), max_length=50)
    builder = models.CharField(_("建设单位/承建商"), max_length=120, blank=True)
    deployment = models.CharField(_("建设方式"), max_length=16, choices=Deployment.choices)
    vertical_owner = models.CharField(
        _("垂管上级单位"), max_length=120, blank=True, help_text=_("上级垂管系统必填，如 省公安厅")
    )
    hosting = models.CharField(_("部署位置"), max_length=16, choices=Hosting.choices)
    status = models.CharField(_("运行状态"), max_length=16, choices=Status.choices, default=Status.IN_USE)
    users = models.CharField(_("使用范围"), max_length=120, blank=True)
    carried_from = models.ForeignKey(
        "self", verbose_name=_("沿用上期"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("系统清单")
        verbose_name_plural = _("系统清单")
        ordering = ["census_return", "position", "id"]

    def __str__(self) -> str:
        return self.name


class CensusDataItem(models.Model):
    """数据清单: one body of data the unit holds; `fields` are [{name, label, element}] (element = DE code)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    census_return = models.ForeignKey(CensusReturn, on_delete=models.CASCADE, related_name="data_items")
    system = models.ForeignKey(
        CensusSystem,
        verbose_name=_("所在系统"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="data_items",
    )
    name = models.CharField(_("数据名称"), max_length=200)
    summary = models.TextField(_("数据摘要"), blank=True)
    fields = models.JSONField(_("信息项"), default=list, blank=True)
    record_count = models.PositiveBigIntegerField(_("数据量（条）"), null=True, blank=True)
    update_cycle = models.CharField(_("更新周期"), max_length=16, choices=DataResource.UpdateCycle.choices)
    share_type = models.CharField(_("拟共享类型"), max_length=16, choices=ShareType.choices)
    open_type = models.CharField(
        _("拟开放类型"), max_length=16, choices=OpenType.choices, default=OpenType.CLOSED
    )
    resource = models.ForeignKey(
        DataResource,
        verbose_name=_("对应目录资源"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="census_items",
    )
    carried_from = models.ForeignKey(
        "self", verbose_name=_("沿用上期"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("数据清单")
        verbose_name_plural = _("数据清单")
        ordering = ["census_return", "position", "id"]

    def __str__(self) -> str:
        return self.name


class CensusNeed(models.Model):
    """需求清单: data the unit needs from another; the centre matches it to a resource and files the request."""

    class Status(models.TextChoices):
        OPEN = "open", _("待对接")
        MATCHED = "matched", _("已匹配资源")
        REQUESTED = "requested", _("已发起共享申请")
        UNMATCHED = "unmatched", _("暂无资源")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    census_return = models.ForeignKey(CensusReturn, on_delete=models.CASCADE, related_name="needs")
    name = models.CharField(_("需求名称"), max_length=200)
    description = models.TextField(_("需求说明"), blank=True)
    wanted_from = models.ForeignKey(
        "core.Department",
        verbose_name=_("期望提供部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    wanted_fields = models.JSONField(_("所需信息项"), default=list, blank=True)
    scenario = models.CharField(_("应用场景"), max_length=120)
    legal_basis = models.TextField(_("依据"), blank=True)
    status = models.CharField(_("对接状态"), max_length=16, choices=Status.choices, default=Status.OPEN)
    match_note = models.TextField(
        _("对接说明"), blank=True, help_text=_("大数据中心的对接意见，如暂无资源的原因")
    )
    resource = models.ForeignKey(
        DataResource,
        verbose_name=_("匹配资源"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="census_needs",
    )
    share_request = models.ForeignKey(
        "datahub.ShareRequest",
        verbose_name=_("共享申请"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="census_needs",
    )
    carried_from = models.ForeignKey(
        "self", verbose_name=_("沿用上期"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("需求清单")
        verbose_name_plural = _("需求清单")
        ordering = ["census_return", "position", "id"]
        indexes = [models.Index(fields=["status", "id"])]

    def __str__(self) -> str:
        return self.name
