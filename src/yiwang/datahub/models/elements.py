"""数据元 (一数一源一标准): the dictionary of data elements, their code lists, publication batches and bindings.

Every datum the platform names (a catalogue field, a form field, a licence face field, a registry prefill key, an
incident field) binds to one element, so that the conformance report can find the same datum carried two ways and
the forms that ask an applicant for what the government already holds.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class CodeList(models.Model):
    """代码表: the value domain of a coded element (GB/T 2261.1 性别, GB/T 4761 家庭关系…)."""

    code = models.CharField(_("代码表标识"), max_length=40, unique=True, help_text=_("如 CL_GENDER"))
    name = models.CharField(_("名称"), max_length=100)
    standard = models.CharField(_("依据标准"), max_length=100, blank=True, help_text=_("如 GB/T 2261.1-2003"))
    description = models.TextField(_("说明"), blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("代码表")
        verbose_name_plural = _("代码表")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class CodeListValue(models.Model):
    code_list = models.ForeignKey(CodeList, on_delete=models.CASCADE, related_name="values")
    value = models.CharField(_("代码"), max_length=40)
    label = models.CharField(_("名称"), max_length=100)
    position = models.PositiveIntegerField(_("顺序"), default=0)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("代码值")
        verbose_name_plural = _("代码值")
        ordering = ["code_list", "position", "value"]
        constraints = [models.UniqueConstraint(fields=["code_list", "value"], name="codelist_value_once")]

    def __str__(self) -> str:
        return f"{self.value} {self.label}"


class ElementBatch(models.Model):
    """A publication batch (发布批次): elements are published together, with change notes."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("编制中")
        PUBLISHED = "published", _("已发布")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("批次号"), max_length=20, unique=True, help_text=_("如 2026-03"))
    title = models.CharField(_("标题"), max_length=120)
    change_note = models.TextField(_("变更说明"), blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.CharField(_("发布人"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("数据元发布批次")
        verbose_name_plural = _("数据元发布批次")
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class DataElement(models.Model):
    """数据元: one datum, defined once, supplied by one 数源部门 (共享责任清单)."""

    class DataType(models.TextChoices):
        STRING = "string", _("字符型")
        INTEGER = "integer", _("整数型")
        DECIMAL = "decimal", _("数值型")
        DATE = "date", _("日期型")
        DATETIME = "datetime", _("日期时间型")
        BOOLEAN = "boolean", _("布尔型")
        CODE = "code", _("代码型")
        BINARY = "binary", _("二进制")

    class Validator(models.TextChoices):
        NONE = "", _("无")
        ID_NUMBER = "gb11643", _("公民身份号码（GB 11643）")
        USCC = "gb32100", _("统一社会信用代码（GB 32100）")
        DIVISION = "gbt2260", _("行政区划代码（GB/T 2260）")
        PHONE = "phone", _("手机号码")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        RETIRED = "retired", _("已废止")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    identifier = models.CharField(_("内部标识符"), max_length=20, unique=True, help_text=_("如 DE00001"))
    name = models.CharField(_("中文名称"), max_length=100)
    definition = models.TextField(_("定义"))
    data_type = models.CharField(_("数据类型"), max_length=16, choices=DataType.choices)
    max_length = models.PositiveIntegerField(_("最大长度"), null=True, blank=True)
    format = models.CharField(
        _("表示格式"), max_length=60, blank=True, help_text=_("如 c18、YYYYMMDD、n..10,2")
    )
    code_list = models.ForeignKey(
        CodeList,
        verbose_name=_("值域代码表"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="elements",
    )
    validator = models.CharField(
        _("值域校验"), max_length=16, choices=Validator.choices, blank=True, default=""
    )
    unit = models.CharField(_("计量单位"), max_length=20, blank=True)
    source_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("数源部门"),
        on_delete=models.PROTECT,
        related_name="sourced_elements",
        help_text=_("一数一源：唯一负责采集和提供该数据元的部门"),
    )
    is_collected = models.BooleanField(
        _("列入统一采集目录"),
        default=False,
        help_text=_("政府已掌握该数据：办事表单不得再向申请人索要"),
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    batch = models.ForeignKey(
        ElementBatch,
        verbose_name=_("发布批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="elements",
    )
    pending = models.JSONField(
        _("待发布的修改"),
        default=dict,
        blank=True,
        editable=False,
        help_text=_("已发布数据元的修改，随所在批次发布后生效"),
    )
    retired_at = models.DateTimeField(_("废止时间"), null=True, blank=True, editable=False)
    retire_note = models.TextField(_("废止说明"), blank=True, editable=False)
    search_text = models.TextField(blank=True, default="", editable=False, help_text=_("分词后的检索文本"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("数据元")
        verbose_name_plural = _("数据元")
        ordering = ["identifier"]
        indexes = [
            models.Index(fields=["status", "identifier"]),
            models.Index(fields=["source_department", "identifier"]),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.identifier}）"


class ElementRevision(models.Model):
    """A published version of an element, kept as it was (what a binding made in that version meant)."""

    element = models.ForeignKey(DataElement, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField(_("版本"))
    snapshot = models.JSONField(_("内容"))
    batch = models.ForeignKey(
        ElementBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="revisions"
    )
    change_note = models.TextField(_("变更说明"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("数据元版本")
        verbose_name_plural = _("数据元版本")
        ordering = ["element", "-version"]
        constraints = [models.UniqueConstraint(fields=["element", "version"], name="element_version_once")]


class ElementBinding(models.Model):
    """Where a datum outside the catalogue binds to an element: a form field, a licence face field, a prefill
    key or an incident field (catalogue fields bind through ResourceField.element). Kept in step with its owner
    by the bindings sync, so that the conformance report reads one table."""

    class Kind(models.TextChoices):
        FORM_FIELD = "form_field", _("事项表单字段")
        LICENCE_FACE = "licence_face", _("证照照面要素")
        PREFILL = "prefill", _("基础库预填来源")
        INCIDENT_FIELD = "incident_field", _("事件字段")

    element = models.ForeignKey(
        DataElement, verbose_name=_("数据元"), on_delete=models.PROTECT, related_name="bindings"
    )
    kind = models.CharField(_("绑定对象类型"), max_length=20, choices=Kind.choices)
    owner = models.CharField(
        _("所属对象"), max_length=120, help_text=_("事项编码、证照类型编码、预填来源或事件类别")
    )
    owner_label = models.CharField(_("所属对象名称"), max_length=200, blank=True)
    field_name = models.CharField(_("字段名"), max_length=80)
    label = models.CharField(_("字段中文名"), max_length=120, blank=True)
    data_type = models.CharField(_("数据类型"), max_length=16, blank=True)
    code_list_code = models.CharField(_("代码表"), max_length=40, blank=True)
    unit = models.CharField(_("计量单位"), max_length=20, blank=True)
    asks_applicant = models.BooleanField(
        _("向申请人采集"), default=False, help_text=_("表单要求申请人填写（非基础库预填）")
    )
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("数据元绑定")
        verbose_name_plural = _("数据元绑定")
        ordering = ["kind", "owner", "field_name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "owner", "field_name"], name="element_binding_once")
        ]
        indexes = [models.Index(fields=["element", "kind"])]
