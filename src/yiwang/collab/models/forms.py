"""填表报数: the form register (表格目录清单) with the centre's admission review (准入), forms issued down the
division tree for a period, one assignment per unit, and the aggregation precomputed up the tree.

The tree of assignments mirrors the divisions: the district's root assignment, then towns, villages and grids
down to the form's target level. Units at the target level fill; every unit above reviews its children and
holds `aggregate`, updated when a child is approved (DHIS2-style), so a district total is one row read.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from .common import Period


class ReportForm(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待准入审核")
        APPROVED = "approved", _("已准入")
        REJECTED = "rejected", _("不予准入")
        RETIRED = "retired", _("已停用")

    class Source(models.TextChoices):
        MANUAL = "manual", _("在线登记")
        XLSFORM = "xlsform", _("XLSForm 导入")

    class RowSource(models.TextChoices):
        NONE = "", _("汇总表（无明细行）")
        ORGANISATIONS = "organisations", _("本单位辖区企业明细")
        RESIDENTS = "residents", _("本单位辖区居民明细")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("表格编码"), max_length=32, unique=True)
    name = models.CharField(_("表格名称"), max_length=200)
    purpose = models.TextField(_("填报目的"), max_length=4000)
    legal_basis = models.CharField(_("依据"), max_length=500)
    owner_department = models.ForeignKey(
        "core.Department", verbose_name=_("发起部门"), on_delete=models.PROTECT, related_name="report_forms"
    )
    frequency = models.CharField(_("频次"), max_length=12, choices=Period.choices, default=Period.MONTHLY)
    target_level = models.PositiveSmallIntegerField(
        _("填报层级"), help_text=_("镇街 2、村社区 3、网格 4（行政区划层级）")
    )
    row_source = models.CharField(
        _("明细行来源"), max_length=16, choices=RowSource.choices, default=RowSource.NONE, blank=True
    )
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    version = models.PositiveIntegerField(default=1)
    review_findings = models.JSONField(
        default=dict, blank=True, help_text=_("准入审核发现：与其他表重复的字段、平台已有数据的字段")
    )
    reviewed_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True, max_length=2000)
    created_by = models.ForeignKey("core.Staff", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("报表")
        verbose_name_plural = _("表格目录清单")
        indexes = [models.Index(fields=["owner_department", "status"], name="collab_form_owner")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ReportField(models.Model):
    class Kind(models.TextChoices):
        INTEGER = "integer", _("整数")
        DECIMAL = "decimal", _("数值")
        TEXT = "text", _("文本")
        CHOICE = "choice", _("单选")
        DATE = "date", _("日期")
        BOOLEAN = "boolean", _("是/否")

    class Aggregate(models.TextChoices):
        SUM = "sum", _("求和")
        AVG = "avg", _("平均")
        MIN = "min", _("最小")
        MAX = "max", _("最大")
        COUNT = "count", _("计数（已填）")
        NONE = "none", _("不汇总")

    form = models.ForeignKey(ReportForm, on_delete=models.CASCADE, related_name="fields")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("字段标识"), max_length=50, help_text=_("小写字母、数字和下划线"))
    label = models.CharField(_("字段名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    unit = models.CharField(_("计量单位"), max_length=16, blank=True)
    required = models.BooleanField(_("必填"), default=True)
    choices = models.JSONField(default=list, blank=True, help_text=_("单选的选项：[[值, 名称], …]"))
    per_row = models.BooleanField(
        _("明细行字段"), default=False, help_text=_("按明细行填写（有明细行来源时）")
    )
    element = models.ForeignKey(
        "datahub.DataElement", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prefill = models.CharField(
        _("系统预填"), max_length=64, blank=True, help_text=_("平台登记的预填来源（如 residents.count）")
    )
    aggregate = models.CharField(
        _("汇总方式"), max_length=8, choices=Aggregate.choices, default=Aggregate.SUM
    )
    rule = models.CharField(_("校验规则"), max_length=500, blank=True, help_text=_("平台规则语言表达式"))
    rule_message = models.CharField(_("校验提示"), max_length=200, blank=True)

    class Meta:
        ordering = ["form", "position"]
        constraints = [
            models.UniqueConstraint(fields=["form", "name"], name="collab_field_name_once"),
            models.UniqueConstraint(fields=["form", "position"], name="collab_field_position_once"),
        ]


class FormIssue(models.Model):
    """A registered, admitted form sent down the tree for one period."""

    class Status(models.TextChoices):
        OPEN = "open", _("填报中")
        CLOSED = "closed", _("已截止")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    form = models.ForeignKey(ReportForm, on_delete=models.PROTECT, related_name="issues")
    form_version = models.PositiveIntegerField()
    period_label = models.CharField(_("报告期"), max_length=32)
    period_start = models.DateField()
    period_end = models.DateField()
    due_on = models.DateField(_("填报截止日"))
    root_division = models.ForeignKey("core.Division", on_delete=models.PROTECT, related_name="+")
    issued_by = models.ForeignKey("core.Staff", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    issued_at = models.DateTimeField()
    units_count = models.PositiveIntegerField(default=0, help_text=_("填报单位数（目标层级）"))
    approved_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("报表下发")
        verbose_name_plural = _("报表下发")
        constraints = [
            models.UniqueConstraint(
                fields=["form", "period_start", "root_division"], name="collab_issue_once"
            )
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="collab_issue_due")]


class FormAssignment(models.Model):
    """One unit's part of an issued form: its answers (at the target level) or its children's rollup (above)."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("未填报")
        DRAFT = "draft", _("填报中")
        SUBMITTED = "submitted", _("待审核")
        RETURNED = "returned", _("已退回")
        APPROVED = "approved", _("已审核")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    issue = models.ForeignKey(FormIssue, on_delete=models.CASCADE, related_name="assignments")
    division = models.ForeignKey("core.Division", on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField()
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    fills = models.BooleanField(default=False, help_text=_("目标层级的单位填报；上级单位审核汇总"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    values = models.JSONField(default=dict, blank=True)
    prefilled = models.JSONField(
        default=dict, blank=True, help_text=_("系统预填的字段值（填报人可核对修改）")
    )
    prefilled_fields = models.PositiveSmallIntegerField(default=0)
    asked_fields = models.PositiveSmallIntegerField(default=0)
    aggregate = models.JSONField(default=dict, blank=True, help_text=_("已审核下级与本级的汇总（预计算）"))
    children_count = models.PositiveIntegerField(default=0)
    approved_children = models.PositiveIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.TextField(blank=True, max_length=2000)
    on_time = models.BooleanField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issue", "division"], name="collab_assignment_once")]
        indexes = [
            models.Index(fields=["issue", "parent", "status"], name="collab_assign_tree"),
            models.Index(fields=["division", "status", "issue"], name="collab_assign_unit"),
        ]


class FormRow(models.Model):
    """A detail row of an entity-list form (an organisation or resident of the unit), prefilled from the registry."""

    assignment = models.ForeignKey(FormAssignment, on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveIntegerField()
    entity_key = models.CharField(max_length=64, help_text=_("登记实体的公开标识（不是证件号码）"))
    label = models.CharField(max_length=200)
    values = models.JSONField(default=dict, blank=True)
    prefilled = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["assignment", "position"]
        constraints = [models.UniqueConstraint(fields=["assignment", "position"], name="collab_row_once")]
