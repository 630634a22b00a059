"""Models of 好差评 (app label `cases`: cases/models.py imports them, so Django registers them there)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WindowReviewCode(models.Model):
    """窗口评价确认码: the one-time code a window clerk has sent to the applicant before recording a rating the
    applicant gives at the window. The applicant reads it out (or shows it); the clerk types it in. Only a hash is
    kept (HMAC-SM3 under the keystore's blind-index key, salted with the row's id), the code expires after a few
    minutes and allows a few tries; a newer code for the same subject replaces the older ones."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待验证")
        USED = "used", _("已使用")
        LOCKED = "locked", _("错误次数过多")
        REPLACED = "replaced", _("已重新发送")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="window_review_codes"
    )
    bundle_case = models.ForeignKey(
        "cases.BundleCase",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="window_review_codes",
    )
    clerk = models.ForeignKey(
        "core.Staff",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("发送验证码的窗口人员；只有该人员可以使用此验证码"),
    )
    code_hash = models.CharField(max_length=64, help_text=_("验证码的 HMAC-SM3 摘要（不保存明文）"))
    sent_to = models.CharField(_("发送至"), max_length=80, help_text=_("脱敏后的接收方式"))
    expires_at = models.DateTimeField(_("有效期至"))
    attempts = models.PositiveSmallIntegerField(_("错误次数"), default=0)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("窗口评价确认码")
        verbose_name_plural = _("窗口评价确认码")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(case__isnull=False) & Q(bundle_case__isnull=True))
                | (Q(case__isnull=True) & Q(bundle_case__isnull=False)),
                name="window_review_code_one_subject",
            ),
        ]
        indexes = [
            models.Index(fields=["case", "created_at"], name="window_code_case_idx"),
            models.Index(fields=["bundle_case", "created_at"], name="window_code_bundle_idx"),
            models.Index(fields=["clerk", "created_at"], name="window_code_clerk_idx"),
        ]


class Review(models.Model):
    """好差评: the rating of a concluded case (or of a whole 一件事), online or assisted at the window.

    One rating of record per subject (`superseded_at` empty). A window rating (with the applicant's code) may be
    followed by the applicant's own online rating, which supersedes it: the window rating stays on record,
    marked superseded, and no longer counts. So a subject has at most one rating per channel."""

    class Channel(models.TextChoices):
        ONLINE = "online", _("网上评价")
        WINDOW = "window", _("窗口协助评价")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="reviews"
    )
    bundle_case = models.ForeignKey(
        "cases.BundleCase", null=True, blank=True, on_delete=models.PROTECT, related_name="reviews"
    )
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="reviews")
    item_code = models.CharField(max_length=40, db_index=True)
    item_name = models.CharField(max_length=120)
    staff = models.ForeignKey(
        "core.Staff",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviews",
        help_text=_("作出决定或办结的工作人员"),
    )
    account = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.ONLINE)
    assisted_by = models.ForeignKey(
        "core.Staff",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("窗口协助评价的工作人员"),
    )
    window_code = models.OneToOneField(
        WindowReviewCode,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="review",
        help_text=_("申请人在窗口确认评价所用的验证码记录"),
    )
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        help_text=_("申请人本人评价所取代的窗口协助评价"),
    )
    superseded_at = models.DateTimeField(
        _("被取代时间"), null=True, blank=True, help_text=_("申请人本人评价后，窗口协助评价不再计入统计")
    )
    overall = models.PositiveSmallIntegerField(_("总体评价"))
    scores = models.JSONField(_("分项评价"), default=dict)
    comment = models.TextField(_("评价内容"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("好差评")
        verbose_name_plural = _("好差评")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(overall__gte=1) & Q(overall__lte=5), name="review_overall_1_5"
            ),
            models.CheckConstraint(
                condition=(Q(case__isnull=False) & Q(bundle_case__isnull=True))
                | (Q(case__isnull=True) & Q(bundle_case__isnull=False)),
                name="review_one_subject",
            ),
            # one rating of record per subject, and at most one rating per channel
            models.UniqueConstraint(
                fields=["case"], condition=Q(superseded_at__isnull=True), name="review_case_current_once"
            ),
            models.UniqueConstraint(
                fields=["bundle_case"],
                condition=Q(superseded_at__isnull=True),
                name="review_bundle_current_once",
            ),
            models.UniqueConstraint(fields=["case", "channel"], name="review_case_channel_once"),
            models.UniqueConstraint(fields=["bundle_case", "channel"], name="review_bundle_channel_once"),
            # only a window rating is ever superseded (by the applicant's own)
            models.CheckConstraint(
                condition=Q(superseded_at__isnull=True) | Q(channel="window"),
                name="review_only_window_superseded",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "created_at"], name="review_department_idx"),
            models.Index(fields=["staff", "created_at"], name="review_staff_idx"),
        ]


class Rectification(models.Model):
    """整改 of a bad rating (差评): the department replies by a deadline, the applicant confirms or rejects the
    reply, a supervisor closes it. When the applicant's own rating supersedes the window rating it belongs to, a
    rectification not yet closed ends as SUPERSEDED (the applicant's own rating opens its own if it is bad)."""

    class Status(models.TextChoices):
        OPEN = "open", _("待整改")
        REPLIED = "replied", _("已答复")
        CONFIRMED = "confirmed", _("申请人认可")
        REJECTED = "rejected", _("申请人不认可")
        CLOSED = "closed", _("已办结")
        SUPERSEDED = "superseded", _("申请人已重新评价")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    review = models.OneToOneField(Review, on_delete=models.PROTECT, related_name="rectification")
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="rectifications")
    deadline = models.DateField(_("整改期限"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.OPEN)
    rounds = models.PositiveSmallIntegerField(_("答复轮次"), default=0)
    reply = models.TextField(_("整改答复"), blank=True)
    replied_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    replied_at = models.DateTimeField(null=True, blank=True)
    applicant_note = models.TextField(_("申请人意见"), blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    close_note = models.TextField(_("办结说明"), blank=True)
    closed_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(
        null=True, blank=True, help_text=_("本期限的超期提醒已发出的时间；重新设定期限时清空")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("差评整改")
        verbose_name_plural = _("差评整改")
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["department", "status", "deadline", "id"], name="rectification_idx")]
