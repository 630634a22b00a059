from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..permissions import Role


class Division(models.Model):
    """行政区划: district → town/street → village/community → grid, with statistical division codes."""

    class Level(models.IntegerChoices):
        DISTRICT = 1, _("区/县")
        TOWN = 2, _("镇/街道")
        VILLAGE = 3, _("村/社区")
        GRID = 4, _("网格")

    # Code lengths per level: 6 (GB/T 2260 county), 9 (town), 12 (village, 统计用区划代码), 15 (grid).
    CODE_LENGTH = {Level.DISTRICT: 6, Level.TOWN: 9, Level.VILLAGE: 12, Level.GRID: 15}

    code = models.CharField(
        _("区划代码"), max_length=15, unique=True, help_text=_("区6位、街镇9位、村社区12位、网格15位")
    )
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    geometry = models.JSONField(
        _("边界"),
        null=True,
        blank=True,
        help_text=_("GeoJSON Polygon 或 MultiPolygon，WGS84 经纬度；网格必填"),
    )
    # Bounding box columns let a map page or a coarse filter skip the JSON.
    min_lon = models.FloatField(null=True, blank=True, editable=False)
    min_lat = models.FloatField(null=True, blank=True, editable=False)
    max_lon = models.FloatField(null=True, blank=True, editable=False)
    max_lat = models.FloatField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("有效"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "code"]), models.Index(fields=["level", "code"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level=1, parent__isnull=True)
                | models.Q(level__gt=1, parent__isnull=False),
                name="division_parent_matches_level",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Department(models.Model):
    """部门: a government department serving a division."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(
        _("部门编码"), max_length=20, unique=True, help_text=_("简短编码，用于办件编号、工单号等（如 SCJGJ）")
    )
    name = models.CharField(_("名称"), max_length=100)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    division = models.ForeignKey(
        Division, verbose_name=_("服务区划"), on_delete=models.PROTECT, related_name="departments"
    )
    is_command_centre = models.BooleanField(
        _("指挥中心"), default=False, help_text=_("镇街或区级综合指挥中心")
    )
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Staff(models.Model):
    """公务人员: an account working in one department, with roles."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.OneToOneField("core.Account", on_delete=models.PROTECT, related_name="staff")
    department = models.ForeignKey(
        Department, verbose_name=_("所属部门"), on_delete=models.PROTECT, related_name="staff"
    )
    employee_no = models.CharField(_("工号"), max_length=32, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    title = models.CharField(_("职务"), max_length=50, blank=True)
    grid = models.ForeignKey(
        Division,
        verbose_name=_("负责网格"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="grid_workers",
        help_text=_("网格员负责的网格"),
    )
    is_active = models.BooleanField(_("在岗"), default=True)

    class Meta:
        verbose_name = _("公务人员")
        verbose_name_plural = _("公务人员")
        ordering = ["employee_no"]
        indexes = [models.Index(fields=["department", "employee_no"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.department}）"


class StaffRole(models.Model):
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)

    class Meta:
        verbose_name = _("人员角色")
        verbose_name_plural = _("人员角色")
        constraints = [models.UniqueConstraint(fields=["staff", "role"], name="staff_role_once")]
        indexes = [models.Index(fields=["role", "staff"])]

    def __str__(self) -> str:
        return self.get_role_display()
