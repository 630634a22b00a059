"""办会: notice → attendance (confirmed or delegated) → agenda and papers → minutes → decisions become tasks."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.models.attachments import Attachment


class Meeting(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("筹备中")
        NOTIFIED = "notified", _("已通知")
        HELD = "held", _("已召开")
        MINUTED = "minuted", _("纪要已印发")
        CANCELLED = "cancelled", _("已取消")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("会议名称"), max_length=200)
    department = models.ForeignKey(
        "core.Department", verbose_name=_("召集单位"), on_delete=models.PROTECT, related_name="+"
    )
    convener = models.ForeignKey("core.Staff", on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    place = models.CharField(_("地点"), max_length=200)
    notice = models.TextField(_("会议通知"), max_length=10000, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    reply_by = models.DateTimeField(_("回执截止"), null=True, blank=True)
    minutes = models.TextField(_("会议纪要"), max_length=50000, blank=True)
    minutes_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("会议")
        verbose_name_plural = _("会议")
        indexes = [models.Index(fields=["department", "-starts_at"], name="collab_meeting_dept")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="collab_meeting_times"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Attendee(models.Model):
    class Response(models.TextChoices):
        PENDING = "pending", _("未回复")
        ATTEND = "attend", _("参加")
        DECLINE = "decline", _("请假")
        DELEGATE = "delegate", _("委派他人")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees")
    staff = models.ForeignKey("core.Staff", on_delete=models.PROTECT, related_name="meeting_invitations")
    response = models.CharField(max_length=12, choices=Response.choices, default=Response.PENDING)
    delegate = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    attended = models.BooleanField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "staff"], name="collab_attendee_once")]
        indexes = [models.Index(fields=["staff", "response"], name="collab_attendee_inbox")]


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(_("议题"), max_length=200)
    presenter = models.ForeignKey(
        "core.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["meeting", "position"]
        constraints = [models.UniqueConstraint(fields=["meeting", "position"], name="collab_agenda_once")]


class MeetingPaper(Attachment):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="papers")
    agenda_item = models.ForeignKey(
        AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="papers"
    )
    file = models.FileField(upload_to="collab/meetings/%Y/%m/")


class Decision(models.Model):
    """议定事项: each becomes a 督办 task for its lead department when the minutes are issued."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    position = models.PositiveSmallIntegerField()
    text = models.TextField(_("议定事项"), max_length=4000)
    lead_department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField(_("办结时限"))
    task = models.OneToOneField(
        "collab.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="decision"
    )

    class Meta:
        ordering = ["meeting", "position"]
        constraints = [models.UniqueConstraint(fields=["meeting", "position"], name="collab_decision_once")]
