"""双随机、一公开: 监管事项清单, the inspector roster (执法检查人员名录库) with conflicts of interest, random draws
with a seed commitment written to the evidence log before the draw and the seed revealed after, and the
inspection tasks with their findings and publication. The object roster (检查对象名录库) is the organisation
registry itself (core.Organisation), filtered by the draw's parameters."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class InspectionMatter(models.Model):
    """监管事项: what may be inspected, by which department, under which law."""

    code = models.CharField(_("事项编码"), max_length=32, unique=True)
    name = models.CharField(_("事项名称"), max_length=200)
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="+")
    legal_basis = models.CharField(_("检查依据"), max_length=300)
    method = models.CharField(_("检查方式"), max_length=100, default="现场检查")
    object_kinds = models.JSONField(
        _("检查对象类型"), default=list, blank=True, help_text=_("core.Organisation.Kind 的值；空为不限")
    )
    publish_days = models.PositiveSmallIntegerField(
        _("公示时限（工作日）"), default=20, help_text=_("检查结果自办结起应在此期限内公示")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("监管事项")
        verbose_name_plural = _("监管事项清单")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Inspector(models.Model):
    """执法检查人员: a staff member with a law-enforcement certificate, inspecting for the matters of their
    department."""

    staff = models.OneToOneField("core.Staff", on_delete=models.PROTECT, related_name="inspector")
    certificate_no = models.CharField(_("执法证号"), max_length=32, unique=True)
    qualifications = models.JSONField(
        _("执法领域"), default=list, blank=True, help_text=_("可检查的监管事项编码；空为本部门全部")
    )
    is_active = models.BooleanField(_("在岗"), default=True)

    class Meta:
        verbose_name = _("执法检查人员")
        verbose_name_plural = _("执法检查人员名录库")


class Conflict(models.Model):
    """A recorded conflict of interest: this inspector may never be drawn for this organisation."""

    inspector = models.ForeignKey(Inspector, on_delete=models.CASCADE, related_name="conflicts")
    organisation = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("回避事由"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("回避关系")
        verbose_name_plural = _("回避关系")
        constraints = [
            models.UniqueConstraint(fields=["inspector", "organisation"], name="credit_conflict_once")
        ]


class Draw(models.Model):
    """随机抽取: parameters and seed commitment go to the evidence log before the draw (COMMITTED); the draw itself
    is a pure function of the parameters, the candidate lists as they stood and the seed (DRAWN), and the seed is
    revealed after (REVEALED), so anyone can recompute it. A draw runs once: there is no re-draw."""

    class Status(models.TextChoices):
        COMMITTED = "committed", _("已承诺种子")
        DRAWN = "drawn", _("已抽取")
        REVEALED = "revealed", _("已公开种子")
        PUBLISHED = "published", _("结果已公示")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("抽查编号"), max_length=24, unique=True)
    title = models.CharField(_("抽查计划"), max_length=200)
    matter = models.ForeignKey(InspectionMatter, on_delete=models.PROTECT, related_name="draws")
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="+")
    parameters = models.JSONField(
        _("抽取参数"),
        default=dict,
        help_text=_("对象范围（镇街、类型）、抽取数量、每个对象的检查人员数、按信用等级和风险的权重"),
    )
    parameters_sm3 = models.CharField(max_length=64)
    seed_commitment = models.CharField(_("种子承诺（SM3）"), max_length=64)
    seed = models.CharField(_("随机种子"), max_length=64, blank=True, help_text=_("抽取后公开"))
    candidates_sm3 = models.CharField(
        max_length=64, blank=True, help_text=_("抽取时候选对象与人员名单的 SM3（按编码排序）")
    )
    commitment_entry = models.BigIntegerField(null=True, blank=True, help_text=_("写入种子承诺的存证条目"))
    draw_entry = models.BigIntegerField(null=True, blank=True)
    reveal_entry = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.COMMITTED)
    due_date = models.DateField(_("检查完成期限"))
    created_by = models.ForeignKey("core.Staff", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    drawn_at = models.DateTimeField(null=True, blank=True)
    revealed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("随机抽取")
        verbose_name_plural = _("随机抽取")
        ordering = ["-id"]


class InspectionTask(models.Model):
    """One drawn object with its drawn inspectors (at least two); findings, result and publication (一公开)."""

    class Status(models.TextChoices):
        ASSIGNED = "assigned", _("待检查")
        DONE = "done", _("已检查")
        PUBLISHED = "published", _("已公示")

    class Result(models.TextChoices):
        COMPLIANT = "compliant", _("未发现问题")
        RECTIFIED = "rectified", _("发现问题已责令整改")
        PENALTY = "penalty", _("发现问题依法处罚")
        NOT_FOUND = "not_found", _("未发现经营（下落不明）")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="tasks")
    organisation = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="+")
    inspectors = models.ManyToManyField(Inspector, related_name="tasks")
    position = models.PositiveIntegerField(help_text=_("抽中顺序"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.ASSIGNED)
    result = models.CharField(_("检查结果"), max_length=12, choices=Result.choices, blank=True)
    findings = models.TextField(_("检查情况"), blank=True)
    penalty_amount = models.DecimalField(
        _("罚款金额（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    due_date = models.DateField(_("检查期限"))
    inspected_at = models.DateTimeField(null=True, blank=True)
    publish_by = models.DateField(_("公示期限"), null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    record = models.ForeignKey(
        "credit.CreditRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("检查任务")
        verbose_name_plural = _("检查任务")
        ordering = ["draw", "position"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "organisation"], name="credit_task_once_per_draw"),
            models.CheckConstraint(
                condition=~Q(status="done") | ~Q(result=""), name="credit_task_done_has_result"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date", "id"], name="credit_task_todo_idx"),
            models.Index(fields=["status", "published_at", "id"], name="credit_task_public_idx"),
        ]


class InspectionPhoto(models.Model):
    task = models.ForeignKey(InspectionTask, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="credit/inspections/%Y/%m/")
    content_type = models.CharField(max_length=64)
    sm3 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey("core.Staff", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("检查照片")
        verbose_name_plural = _("检查照片")
