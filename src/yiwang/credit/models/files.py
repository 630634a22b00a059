"""信用档案: one credit file per organisation (by USCC) or person (the registry row, whose ID number is encrypted),
its records, and the versioned evaluation model that grades it A/B/C/D."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Grade(models.TextChoices):
    A = "A", _("A 级（诚信）")
    B = "B", _("B 级（守信）")
    C = "C", _("C 级（关注）")
    D = "D", _("D 级（失信）")


class CreditModel(models.Model):
    """评价模型: a documented, versioned way of turning records into a score and a grade. Exactly one version is
    active; a file keeps the version it was graded with, so a grade can always be explained."""

    version = models.PositiveIntegerField(unique=True)
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), help_text=_("公开的评价方法：起始分、各类记录的分值、等级分界"))
    base_score = models.PositiveSmallIntegerField(_("起始分"), default=100)
    weights = models.JSONField(
        _("记录分值"), default=dict, help_text=_("{记录类别: 分值}，负面记录为负分，正面记录为正分")
    )
    thresholds = models.JSONField(
        _("等级分界"), default=dict, help_text=_('{"A": 95, "B": 80, "C": 60}：不低于该分为该级，其余为 D')
    )
    black_grade = models.CharField(
        _("黑名单主体等级"),
        max_length=1,
        choices=Grade.choices,
        default=Grade.D,
        help_text=_("列入黑名单的主体至多为此级"),
    )
    is_active = models.BooleanField(_("启用"), default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("信用评价模型")
        verbose_name_plural = _("信用评价模型")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="credit_model_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class CreditFile(models.Model):
    """信用档案 of one subject, with its current evaluation and what the joint measures need at a decision
    (`effects`, `lists`: kept up to date whenever a record or list entry changes, so the check inside an approval
    is one indexed read)."""

    class Subject(models.TextChoices):
        ORGANISATION = "organisation", _("法人")
        PERSON = "person", _("自然人")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subject = models.CharField(_("主体类型"), max_length=16, choices=Subject.choices)
    organisation = models.OneToOneField(
        "core.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_file"
    )
    person = models.OneToOneField(
        "core.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_file"
    )
    grade = models.CharField(_("信用等级"), max_length=1, choices=Grade.choices, default=Grade.A)
    score = models.SmallIntegerField(_("信用分"), default=100)
    model_version = models.PositiveIntegerField(_("评价模型版本"), default=0)
    reasons = models.JSONField(_("评价理由"), default=list, blank=True, help_text=_("[{记录, 类别, 分值}]"))
    effects = models.JSONField(
        _("适用措施"),
        default=list,
        blank=True,
        help_text=_("当前有效的红黑名单所适用的措施（cases.hooks.CreditEffect）"),
    )
    lists = models.JSONField(_("名单"), default=list, blank=True, help_text=_("当前有效的名单条目摘要"))
    is_black = models.BooleanField(_("黑名单"), default=False)
    is_red = models.BooleanField(_("红名单"), default=False)
    records_active = models.PositiveIntegerField(_("有效记录数"), default=0)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("信用档案")
        verbose_name_plural = _("信用档案")
        constraints = [
            models.CheckConstraint(
                condition=(Q(subject="organisation", organisation__isnull=False, person__isnull=True))
                | (Q(subject="person", person__isnull=False, organisation__isnull=True)),
                name="credit_file_one_subject",
            )
        ]
        indexes = [
            models.Index(fields=["grade", "id"], name="credit_file_grade_idx"),
            models.Index(fields=["is_black", "id"], name="credit_file_black_idx"),
        ]


class CreditRecord(models.Model):
    """信用记录: one fact in a file, from the platform itself (a false pledge, a licence revoked, a verified 举报,
    an inspection, a penalty, an overdue 容缺 promise) or imported (court, tax, social security, utilities), with
    its source, legal basis, date and period of effect."""

    class Kind(models.TextChoices):
        PLEDGE_FALSE = "pledge_false", _("虚假承诺")
        LICENCE_REVOKED = "licence_revoked", _("证照被吊销、撤销")
        COMPLAINT_VERIFIED = "complaint_verified", _("投诉举报查证属实")
        INSPECTION = "inspection", _("监督检查结果")
        PENALTY = "penalty", _("行政处罚")
        OWED_OVERDUE = "owed_overdue", _("容缺承诺逾期未履行")
        COURT = "court", _("法院失信被执行人")
        TAX = "tax", _("税收违法、欠税")
        SOCIAL_SECURITY = "social_security", _("欠缴社会保险费")
        UTILITIES = "utilities", _("欠缴水电气费")
        COMMENDATION = "commendation", _("表彰奖励")
        TAX_A = "tax_a", _("纳税信用 A 级")
        OTHER = "other", _("其他")

    class Polarity(models.TextChoices):
        NEGATIVE = "negative", _("失信")
        POSITIVE = "positive", _("守信")
        NEUTRAL = "neutral", _("中性")

    class Source(models.TextChoices):
        PLATFORM = "platform", _("本平台")
        IMPORT = "import", _("导入")
        MANUAL = "manual", _("人工录入")

    class Status(models.TextChoices):
        ACTIVE = "active", _("有效")
        CORRECTED = "corrected", _("已更正")
        REMOVED = "removed", _("已撤销")
        REPAIRED = "repaired", _("已修复")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    file = models.ForeignKey(CreditFile, on_delete=models.PROTECT, related_name="records")
    kind = models.CharField(_("类别"), max_length=24, choices=Kind.choices)
    polarity = models.CharField(_("性质"), max_length=8, choices=Polarity.choices, default=Polarity.NEGATIVE)
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices, default=Source.PLATFORM)
    department = models.ForeignKey(
        "core.Department",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("提供该记录的部门（异议由其核实）"),
    )
    title = models.CharField(_("事由"), max_length=200)
    detail = models.TextField(_("内容"), blank=True)
    legal_basis = models.CharField(_("法律依据"), max_length=300)
    occurred_on = models.DateField(_("发生日期"))
    effective_until = models.DateField(_("有效期至"), null=True, blank=True, help_text=_("空表示长期有效"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.ACTIVE)
    is_public = models.BooleanField(
        _("公示"), default=False, help_text=_("法人的行政处罚等依法公示；自然人的记录不公示")
    )
    ref_type = models.CharField(max_length=32, blank=True, help_text=_("产生该记录的对象类型（本平台来源）"))
    ref_id = models.CharField(
        max_length=64, blank=True, help_text=_("产生该记录的对象标识；同一对象只记一次")
    )
    batch = models.ForeignKey(
        "credit.ImportBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="records"
    )
    created_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("信用记录")
        verbose_name_plural = _("信用记录")
        ordering = ["-occurred_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "ref_type", "ref_id"],
                condition=~Q(ref_id=""),
                name="credit_record_once_per_ref",
            )
        ]
        indexes = [
            models.Index(fields=["file", "status", "occurred_on"], name="credit_record_file_idx"),
            models.Index(fields=["department", "status", "id"], name="credit_record_dept_idx"),
        ]


class ImportBatch(models.Model):
    """An import of outside records (CSV upload or an API harvester run): what came, what was taken, what was
    refused and why (row by row)."""

    class Channel(models.TextChoices):
        CSV = "csv", _("CSV 文件")
        HARVESTER = "harvester", _("接口采集")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    source_name = models.CharField(_("来源"), max_length=100, help_text=_("如：区人民法院、区税务局"))
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="+")
    file_sm3 = models.CharField(max_length=64, blank=True)
    rows = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text=_("[{行号, 字段, 原因}]（至多 200 条）"))
    created_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("信用记录导入批次")
        verbose_name_plural = _("信用记录导入批次")
        ordering = ["-id"]
