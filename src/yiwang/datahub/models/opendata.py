"""公共数据开放: open datasets (a catalogue resource made public after a desensitisation check), their
downloadable resources (CSV files with a datastore for preview and `datastore_search`), themes (CKAN groups),
the negative list (不予开放清单), API keys, applications for 有条件开放 with usage reports, and the app showcase.

CKAN mapping: OpenDataset → package (`name` is the CKAN slug, `public_id` the CKAN id), OpenResource → resource,
Department → organization (slug = department code, lower case), OpenTheme → group.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class OpenTier(models.TextChoices):
    OPEN = "open", _("无条件开放")
    CONDITIONAL = "conditional", _("有条件开放")


class OpenTheme(models.Model):
    name = models.SlugField(_("标识"), max_length=60, unique=True)
    title = models.CharField(_("主题名称"), max_length=60)
    description = models.TextField(_("说明"), blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("开放主题")
        verbose_name_plural = _("开放主题")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.title


class NegativeListItem(models.Model):
    """不予开放清单: a resource, or any resource field bound to an element, that may never be published."""

    resource = models.ForeignKey(
        "datahub.DataResource", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    element = models.ForeignKey(
        "datahub.DataElement", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    basis = models.TextField(_("依据"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("不予开放清单")
        verbose_name_plural = _("不予开放清单")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(resource__isnull=False) | models.Q(element__isnull=False),
                name="negative_item_names_something",
            )
        ]


class OpenDataset(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        IN_REVIEW = "in_review", _("待审核")
        PUBLISHED = "published", _("已开放")
        WITHDRAWN = "withdrawn", _("已撤回")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.SlugField(_("标识（英文）"), max_length=100, unique=True, help_text=_("CKAN 数据集 name"))
    title = models.CharField(_("数据集名称"), max_length=200)
    notes = models.TextField(_("数据集描述"))
    resource = models.ForeignKey(
        "datahub.DataResource",
        verbose_name=_("目录资源"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="open_datasets",
    )
    department = models.ForeignKey(
        "core.Department", verbose_name=_("开放部门"), on_delete=models.PROTECT, related_name="open_datasets"
    )
    themes = models.ManyToManyField(OpenTheme, verbose_name=_("主题"), blank=True, related_name="datasets")
    tags = models.JSONField(_("标签"), default=list, blank=True)
    tier = models.CharField(_("开放属性"), max_length=16, choices=OpenTier.choices)
    conditions = models.TextField(_("开放条件"), blank=True, help_text=_("有条件开放时必填"))
    licence_id = models.CharField(_("许可协议"), max_length=40, default="odc-by")
    update_cycle = models.CharField(_("更新周期"), max_length=16, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    publication_check = models.JSONField(_("发布检查"), default=dict, blank=True)
    audit_uuid = models.UUIDField(_("发布存证条目"), null=True, blank=True)
    published_at = models.DateTimeField(_("开放时间"), null=True, blank=True)
    modified_at = models.DateTimeField(_("更新时间"), null=True, blank=True)
    view_count = models.PositiveIntegerField(_("浏览量"), default=0)
    download_count = models.PositiveIntegerField(_("下载量"), default=0)
    api_call_count = models.PositiveIntegerField(_("接口调用量"), default=0)
    search_text = models.TextField(blank=True, default="", editable=False)
    row_version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("开放数据集")
        verbose_name_plural = _("开放数据集")
        ordering = ["-modified_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-modified_at", "-id"]),
            models.Index(fields=["department", "status"]),
            models.Index(fields=["tier", "status"]),
        ]

    def __str__(self) -> str:
        return self.title


class OpenResource(models.Model):
    """A file or API of a dataset. Tabular files keep their columns in `fields` ([{id, type, label}]) and are
    queryable through the datastore."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dataset = models.ForeignKey(OpenDataset, on_delete=models.CASCADE, related_name="resources")
    name = models.CharField(_("名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    format = models.CharField(_("格式"), max_length=16, help_text=_("CSV、JSON、XLSX、API"))
    stored_name = models.CharField(max_length=200, blank=True, editable=False)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    sm3 = models.CharField(_("文件摘要（SM3）"), max_length=64, blank=True)
    row_count = models.PositiveIntegerField(_("记录数"), default=0)
    fields = models.JSONField(_("字段"), default=list, blank=True)
    datastore_active = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("开放数据资源")
        verbose_name_plural = _("开放数据资源")
        ordering = ["dataset", "position", "id"]


class OpenApiKey(models.Model):
    """A key for the open-data API: for 无条件开放 any registered user gets one; for 有条件开放 it is issued with
    an approved application and reaches only those datasets. Only the SM3 hash of the key is stored."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey("core.Account", on_delete=models.PROTECT, related_name="open_api_keys")
    label = models.CharField(_("用途"), max_length=120)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    call_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("开放接口密钥")
        verbose_name_plural = _("开放接口密钥")
        ordering = ["-id"]


class OpenApplication(models.Model):
    """有条件开放: purpose and agreement → approval by the opening department → keyed access → usage reports."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待审核")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("未批准")
        REVOKED = "revoked", _("已终止")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("申请编号"), max_length=32, unique=True)
    dataset = models.ForeignKey(OpenDataset, on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey("core.Account", on_delete=models.PROTECT, related_name="open_applications")
    applicant_name = models.CharField(_("申请单位/个人"), max_length=120)
    applicant_uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    purpose = models.TextField(_("使用目的"))
    scenario = models.CharField(_("应用场景"), max_length=200)
    agreement_accepted_at = models.DateTimeField(_("同意协议时间"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    decided_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("审核意见"), blank=True)
    api_key = models.ForeignKey(
        OpenApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    audit_uuid = models.UUIDField(null=True, blank=True)
    row_version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("有条件开放申请")
        verbose_name_plural = _("有条件开放申请")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["applicant", "-id"]),
            models.Index(fields=["dataset", "status"]),
        ]


class OpenUsageReport(models.Model):
    application = models.ForeignKey(OpenApplication, on_delete=models.CASCADE, related_name="usage_reports")
    period = models.CharField(_("报告周期"), max_length=10)
    content = models.TextField(_("使用情况"))
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("数据使用报告")
        verbose_name_plural = _("数据使用报告")
        ordering = ["application", "-id"]


class OpenApp(models.Model):
    """应用展示: an app built on open data, submitted by its developer and shown after review."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待审核")
        SHOWN = "shown", _("展示中")
        HIDDEN = "hidden", _("未展示")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("应用名称"), max_length=120)
    description = models.TextField(_("简介"))
    developer = models.CharField(_("开发者"), max_length=120)
    url = models.URLField(_("访问地址"), blank=True)
    datasets = models.ManyToManyField(OpenDataset, verbose_name=_("使用的数据集"), related_name="apps")
    submitted_by = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("开放数据应用")
        verbose_name_plural = _("开放数据应用")
        ordering = ["-id"]
