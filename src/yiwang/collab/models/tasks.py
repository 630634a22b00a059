"""督办: tasks (重点工作) with their units, milestones, progress reports and history; escalation levels
(预警 → 催办 → 督办 → 通报) are set by the working-day SLA sweep, never by a user."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.models.attachments import Attachment


class Task(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", _("已交办")
        IN_PROGRESS = "in_progress", _("办理中")
        SUBMITTED = "submitted", _("申请办结")
        DONE = "done", _("已办结")
        CANCELLED = "cancelled", _("已撤销")

    class Source(models.TextChoices):
        MANUAL = "manual", _("领导交办")
        INDICATOR = "indicator", _("指标预警")
        MEETING = "meeting", _("会议决定")

    class Level(models.IntegerChoices):
        NONE = 0, _("正常")
        WARNING = 1, _("预警")
        URGED = 2, _("催办")
        SUPERVISED = 3, _("督办")
        REPORTED = 4, _("通报")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("任务编号"), max_length=24, unique=True)
    title = models.CharField(_("任务名称"), max_length=200)
    description = models.TextField(_("任务要求"), max_length=20000, blank=True)
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices, default=Source.MANUAL)
    issued_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issuing_department = models.ForeignKey(
        "core.Department", verbose_name=_("交办单位"), on_delete=models.PROTECT, related_name="+"
    )
    lead_department = models.ForeignKey(
        "core.Department", verbose_name=_("牵头单位"), on_delete=models.PROTECT, related_name="lead_tasks"
    )
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.ISSUED)
    level = models.PositiveSmallIntegerField(_("督办等级"), choices=Level.choices, default=Level.NONE)
    start_on = models.DateField(_("开始日期"))
    due_on = models.DateField(_("办结时限"))
    report_every_workdays = models.PositiveSmallIntegerField(
        _("进展报送周期（工作日）"), default=10, help_text=_("0 表示不要求定期报送")
    )
    next_report_due = models.DateField(null=True, blank=True)
    indicator = models.ForeignKey(
        "collab.Indicator", null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    indicator_value = models.ForeignKey(
        "collab.IndicatorValue", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("督办任务")
        verbose_name_plural = _("督办任务")
        indexes = [
            models.Index(fields=["lead_department", "status", "due_on"], name="collab_task_lead"),
            models.Index(fields=["issuing_department", "status", "due_on"], name="collab_task_issuer"),
            models.Index(fields=["status", "due_on"], name="collab_task_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("start_on")), name="collab_task_dates"
            ),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="collab_task_progress"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class TaskUnit(models.Model):
    """牵头 and 协办 units of a task (the lead is also on Task.lead_department, for the indexed lists)."""

    class Role(models.TextChoices):
        LEAD = "lead", _("牵头")
        CO = "co", _("协办")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="units")
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="task_units")
    role = models.CharField(max_length=8, choices=Role.choices)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "department"], name="collab_task_unit_once")]
        indexes = [models.Index(fields=["department", "task"], name="collab_task_unit_dept")]


class TaskMilestone(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="milestones")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(_("节点"), max_length=200)
    due_on = models.DateField(_("节点时限"))
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["task", "position"]
        constraints = [models.UniqueConstraint(fields=["task", "position"], name="collab_milestone_once")]


class TaskReport(models.Model):
    """进展报送: a unit's periodic report with evidence files."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reports")
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="+")
    staff = models.ForeignKey("core.Staff", on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("进展情况"), max_length=10000)
    progress = models.PositiveSmallIntegerField(_("进度（%）"))
    milestone = models.ForeignKey(
        TaskMilestone, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["task", "-created_at"]
        indexes = [models.Index(fields=["task", "-created_at"], name="collab_report_task")]


class TaskEvidence(Attachment):
    report = models.ForeignKey(TaskReport, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to="collab/tasks/%Y/%m/")


class TaskEvent(models.Model):
    """The task's history, add-only: every status change, report, escalation and review."""

    class Kind(models.TextChoices):
        ISSUED = "issued", _("交办")
        ACCEPTED = "accepted", _("签收")
        REPORTED = "reported", _("报送进展")
        MILESTONE = "milestone", _("完成节点")
        ESCALATED = "escalated", _("升级督办")
        SUBMITTED = "submitted", _("申请办结")
        RETURNED = "returned", _("退回")
        DONE = "done", _("审核办结")
        CANCELLED = "cancelled", _("撤销")
        NOTE = "note", _("批示")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    level = models.PositiveSmallIntegerField(default=0)
    actor = models.ForeignKey("core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        "core.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True, max_length=4000)
    at = models.DateTimeField()

    class Meta:
        ordering = ["task", "at", "pk"]
        indexes = [models.Index(fields=["task", "at"], name="collab_task_event")]
