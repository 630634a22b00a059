"""政务信息资源目录: data resources, their fields, classification and grading, and the lifecycle history.

A resource is registered by its provider department, 挂接 (mounted) on the real thing — a registry table of the
platform, a registered external API, an uploaded dataset or an offshore store fed by a harvester — reviewed by the
big-data centre, published, versioned (a new row whose `previous` is the one it replaces) and retired with
notice to the holders of its grants.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.models.history import HistoryEntry


class ShareType(models.TextChoices):
    UNCONDITIONAL = "unconditional", _("无条件共享")
    CONDITIONAL = "conditional", _("有条件共享")
    NONE = "none", _("不予共享")


class OpenType(models.TextChoices):
    OPEN = "open", _("无条件开放")
    CONDITIONAL = "conditional", _("有条件开放")
    CLOSED = "closed", _("不予开放")


class DataClass(models.TextChoices):
    """分类 of a resource or field (what kind of data it is)."""

    PUBLIC = "public", _("公共数据")
    LEGAL_PERSON = "legal_person", _("法人信息")
    PERSONAL = "personal", _("个人信息")
    SENSITIVE_PERSONAL = "sensitive_personal", _("敏感个人信息")
    GOVERNMENT = "government", _("政务运行数据")


class Grade(models.TextChoices):
    """分级 after GB/T 43697-2024 (数据安全技术 数据分类分级规则)."""

    GENERAL = "general", _("一般数据")
    IMPORTANT = "important", _("重要数据")
    CORE = "core", _("核心数据")


class Mask(models.TextChoices):
    """Masking types, named as Apache Ranger names them; MASK_HASH is HMAC-SM3 under the platform's key."""

    NONE = "none", _("不脱敏")
    MASK = "MASK", _("全部遮盖")
    MASK_SHOW_LAST_4 = "MASK_SHOW_LAST_4", _("仅显示后4位")
    MASK_SHOW_FIRST_4 = "MASK_SHOW_FIRST_4", _("仅显示前4位")
    MASK_HASH = "MASK_HASH", _("哈希（HMAC-SM3）")
    MASK_NULL = "MASK_NULL", _("置空")
    MASK_DATE_SHOW_YEAR = "MASK_DATE_SHOW_YEAR", _("日期仅显示年份")


class GradePolicy(models.Model):
    """What a grade sets by default: masking, who may request, the approval level, exports and logging."""

    class Requesters(models.TextChoices):
        ANY_DEPARTMENT = "any", _("任一部门")
        SAME_DIVISION = "same_division", _("同一区划内部门")
        CENTRE_APPROVED = "centre", _("须经大数据中心同意")

    class Approval(models.TextChoices):
        RULE = "rule", _("按规则自动通过（无条件共享字段）")
        PROVIDER = "provider", _("提供部门审核")
        PROVIDER_AND_CENTRE = "provider_centre", _("提供部门审核后报大数据中心审批")

    class LogLevel(models.TextChoices):
        SUMMARY = "summary", _("记录调用概要")
        FULL = "full", _("记录调用、字段与数据主体")

    grade = models.CharField(_("分级"), max_length=16, choices=Grade.choices, unique=True)
    default_mask = models.CharField(_("默认脱敏"), max_length=24, choices=Mask.choices, default=Mask.NONE)
    requesters = models.CharField(_("可申请范围"), max_length=16, choices=Requesters.choices)
    approval = models.CharField(_("审批层级"), max_length=16, choices=Approval.choices)
    export_limit = models.PositiveIntegerField(
        _("单次导出上限（行）"), default=10000, help_text=_("批量接口单页与页面导出的最大行数")
    )
    watermark = models.BooleanField(
        _("导出加水印"), default=False, help_text=_("导出文件带可追溯到申请方的水印")
    )
    log_level = models.CharField(
        _("日志级别"), max_length=16, choices=LogLevel.choices, default=LogLevel.FULL
    )

    class Meta:
        verbose_name = _("分级管控策略")
        verbose_name_plural = _("分级管控策略")
        ordering = ["grade"]

    def __str__(self) -> str:
        return self.get_grade_display()


class DataResource(models.Model):
    """数据资源: one catalogue entry (core metadata after 《政务信息资源目录编制指南》)."""

    class ResourceClass(models.TextChoices):
        BASE = "base", _("基础信息资源")
        THEME = "theme", _("主题信息资源")
        DEPARTMENT = "department", _("部门信息资源")

    class MountKind(models.TextChoices):
        NONE = "", _("未挂接")
        REGISTRY = "registry", _("平台基础库")
        EXTERNAL_API = "external_api", _("外部接口")
        DATASET = "dataset", _("上传数据集")
        OFFSHORE = "offshore", _("离岸库（上游回流）")

    class UpdateCycle(models.TextChoices):
        REALTIME = "realtime", _("实时")
        DAILY = "daily", _("每日")
        WEEKLY = "weekly", _("每周")
        MONTHLY = "monthly", _("每月")
        QUARTERLY = "quarterly", _("每季度")
        YEARLY = "yearly", _("每年")
        IRREGULAR = "irregular", _("不定期")

    class Format(models.TextChoices):
        DATABASE = "database", _("数据库")
        API = "api", _("接口")
        FILE = "file", _("文件")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        MOUNTED = "mounted", _("已挂接")
        IN_REVIEW = "in_review", _("待审核")
        PUBLISHED = "published", _("已发布")
        SUPERSEDED = "superseded", _("已被新版本替代")
        RETIRED = "retired", _("已下线")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("资源代码"), max_length=40, help_text=_("如 440113-GAJ-00001；各版本共用"))
    version = models.PositiveIntegerField(_("版本"), default=1)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("上一版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_version",
    )
    name = models.CharField(_("资源名称"), max_length=200)
    summary = models.TextField(_("资源摘要"))
    provider = models.ForeignKey(
        "core.Department", verbose_name=_("提供部门"), on_delete=models.PROTECT, related_name="data_resources"
    )
    resource_class = models.CharField(_("资源分类"), max_length=16, choices=ResourceClass.choices)
    theme = models.CharField(
        _("主题"), max_length=60, blank=True, help_text=_("如 人口、法人、社会保障、民生服务")
    )
    source_system = models.CharField(_("来源系统"), max_length=120, blank=True)
    format = models.CharField(_("资源格式"), max_length=16, choices=Format.choices, default=Format.DATABASE)
    share_type = models.CharField(_("共享类型"), max_length=16, choices=ShareType.choices)
    share_condition = models.TextField(_("共享条件"), blank=True, help_text=_("有条件共享时必填"))
    no_share_basis = models.TextField(
        _("不予共享依据"), blank=True, help_text=_("不予共享时必填：法律、法规依据")
    )
    open_type = models.CharField(
        _("开放类型"), max_length=16, choices=OpenType.choices, default=OpenType.CLOSED
    )
    update_cycle = models.CharField(_("更新周期"), max_length=16, choices=UpdateCycle.choices)
    data_class = models.CharField(_("数据分类"), max_length=24, choices=DataClass.choices)
    grade = models.CharField(_("数据分级"), max_length=16, choices=Grade.choices, default=Grade.GENERAL)
    mount_kind = models.CharField(
        _("挂接类型"), max_length=16, choices=MountKind.choices, blank=True, default=""
    )
    mount_target = models.CharField(
        _("挂接对象"),
        max_length=300,
        blank=True,
        help_text=_("平台基础库键（如 core.person）、接入系统接口地址、数据集或离岸库标识"),
    )
    mount_options = models.JSONField(_("挂接参数"), default=dict, blank=True)
    return_levels = models.JSONField(
        _("回流层级"),
        default=list,
        blank=True,
        help_text=_("按区划下沉到的层级（2 镇街、3 村社区、4 网格），空表示不回流"),
    )
    released_on = models.DateField(_("发布日期"), null=True, blank=True)
    data_updated_at = models.DateTimeField(_("数据更新时间"), null=True, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话（办公）"), max_length=30, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    review_note = models.TextField(_("审核意见"), blank=True)
    retire_notice = models.TextField(_("下线说明"), blank=True)
    is_platform = models.BooleanField(_("平台自有资源"), default=False, editable=False)
    search_text = models.TextField(blank=True, default="", editable=False, help_text=_("分词后的检索文本"))
    row_version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("数据资源")
        verbose_name_plural = _("数据资源")
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="resource_code_version_once")]
        indexes = [
            models.Index(fields=["status", "code"]),
            models.Index(fields=["provider", "status", "code"]),
            models.Index(fields=["resource_class", "status"]),
            models.Index(fields=["share_type", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code} v{self.version}）"


class ResourceField(models.Model):
    """A field (信息项) of a resource, bound to its data element, with its own share type, class and grade."""

    resource = models.ForeignKey(DataResource, on_delete=models.CASCADE, related_name="fields")
    name = models.CharField(_("字段名"), max_length=64, help_text=_("接口中的字段名，如 id_number"))
    label = models.CharField(_("信息项名称"), max_length=120)
    element = models.ForeignKey(
        "datahub.DataElement",
        verbose_name=_("数据元"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resource_fields",
    )
    data_type = models.CharField(_("数据类型"), max_length=16, blank=True)
    share_type = models.CharField(_("共享类型"), max_length=16, choices=ShareType.choices)
    share_condition = models.TextField(_("共享条件"), blank=True)
    no_share_basis = models.TextField(
        _("不予共享依据"), blank=True, default="", help_text=_("不予共享时必填：法律、法规依据")
    )
    data_class = models.CharField(_("数据分类"), max_length=24, choices=DataClass.choices)
    grade = models.CharField(_("数据分级"), max_length=16, choices=Grade.choices, default=Grade.GENERAL)
    default_mask = models.CharField(_("默认脱敏"), max_length=24, choices=Mask.choices, default=Mask.NONE)
    is_key = models.BooleanField(
        _("查询键"), default=False, help_text=_("可按此字段查询（身份证号、统一社会信用代码…）")
    )
    position = models.PositiveIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("信息项")
        verbose_name_plural = _("信息项")
        ordering = ["resource", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["resource", "name"], name="resource_field_once")]

    def __str__(self) -> str:
        return f"{self.label}（{self.name}）"


class ResourceEvent(HistoryEntry):
    """The add-only lifecycle of a resource: registered, mounted, submitted, published, returned, versioned, retired."""

    resource = models.ForeignKey(DataResource, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)
    audit_uuid = models.UUIDField(_("存证条目"), null=True, blank=True)

    class Meta:
        verbose_name = _("资源目录记录")
        verbose_name_plural = _("资源目录记录")
        ordering = ["resource", "seq"]
        constraints = [models.UniqueConstraint(fields=["resource", "seq"], name="resource_event_seq_once")]
