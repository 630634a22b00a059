"""我的工作台: notices (通知) with read receipts, and the staff activity days the adoption figures count.

The to-do list itself has no table: every module registers a provider in `core.workbench` that answers from its
own indexed rows (cases, incidents, share requests, tasks, forms, documents, meetings).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Notice(models.Model):
    """通知: sent by a staff member to people, roles, departments or divisions; recipients are resolved once, when
    it is published, into NoticeRecipient rows (the read receipts)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        WITHDRAWN = "withdrawn", _("已撤回")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"), max_length=20000)
    sender = models.ForeignKey("core.Staff", on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        "core.Department", verbose_name=_("发布单位"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    requires_receipt = models.BooleanField(_("需回执"), default=True, help_text=_("未读者按提醒间隔收到提醒"))
    remind_every_hours = models.PositiveSmallIntegerField(
        _("提醒间隔（小时）"), default=24, help_text=_("0 表示不提醒")
    )
    read_by = models.DateTimeField(_("阅读截止"), null=True, blank=True)
    recipients_count = models.PositiveIntegerField(default=0)
    read_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        indexes = [models.Index(fields=["department", "-published_at"], name="collab_notice_dept")]

    def __str__(self) -> str:
        return self.title


class NoticeAudience(models.Model):
    """Who a notice is for, as the sender chose it (kept to show the choice; recipients are the resolved rows)."""

    class Kind(models.TextChoices):
        STAFF = "staff", _("人员")
        ROLE = "role", _("角色")
        DEPARTMENT = "department", _("部门")
        DIVISION = "division", _("区划（含下级）")

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="audience")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    value = models.CharField(max_length=64, help_text=_("人员/部门的 public_id、角色代码或区划代码"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notice", "kind", "value"], name="collab_notice_audience_once")
        ]


class NoticeRecipient(models.Model):
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="recipients")
    staff = models.ForeignKey("core.Staff", on_delete=models.CASCADE, related_name="notices")
    read_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    reminders = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notice", "staff"], name="collab_notice_recipient_once")
        ]
        indexes = [
            models.Index(fields=["staff", "read_at", "notice"], name="collab_notice_inbox"),
            models.Index(fields=["notice", "read_at"], name="collab_notice_unread"),
        ]


class StaffActivity(models.Model):
    """One row per staff member and day they used the platform (daily/weekly active, 活跃度)."""

    staff = models.ForeignKey("core.Staff", on_delete=models.CASCADE, related_name="activity_days")
    department = models.ForeignKey("core.Department", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    first_seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["staff", "day"], name="collab_activity_once")]
        indexes = [models.Index(fields=["department", "day"], name="collab_activity_dept_day")]
