"""办件: applications filed under one item version, moved through the item's declared process."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Case(models.Model):
    class State(models.TextChoices):
        """Coarse lifecycle, set only by the workflow service; the fine position is `current_step`."""

        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待受理")
        IN_PROGRESS = "in_progress", _("办理中")
        SUPPLEMENT = "supplement", _("待补正")
        APPROVED = "approved", _("办结（准予）")
        DENIED = "denied", _("办结（不予许可）")
        REJECTED = "rejected", _("不予受理")
        WITHDRAWN = "withdrawn", _("已撤回")
        SUSPENDED = "suspended", _("已中止")
        REVOKED = "revoked", _("已撤销准予")

    OPEN_STATES = (State.SUBMITTED, State.IN_PROGRESS, State.SUPPLEMENT)
    CLOSED_STATES = (
        State.APPROVED,
        State.DENIED,
        State.REJECTED,
        State.WITHDRAWN,
        State.SUSPENDED,
        State.REVOKED,
    )

    class Channel(models.TextChoices):
        ONLINE = "online", _("网上申请")
        WINDOW = "window", _("窗口代办")
        API = "api", _("接入系统")
        PROACTIVE = "proactive", _("免申即享")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(
        _("办件编号"),
        max_length=40,
        unique=True,
        null=True,
        blank=True,
        help_text=_("部门编码+日期+序号，提交时生成"),
    )
    item = models.ForeignKey(
        "catalog.ServiceItem", verbose_name=_("事项（版本）"), on_delete=models.PROTECT, related_name="cases"
    )
    department = models.ForeignKey(
        "core.Department", verbose_name=_("办理部门"), on_delete=models.PROTECT, related_name="cases"
    )
    division = models.ForeignKey(
        "core.Division",
        verbose_name=_("办理区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    applicant_account = models.ForeignKey(
        "core.Account",
        verbose_name=_("申请账户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    applicant_person = models.ForeignKey(
        "core.Person",
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    applicant_organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("申请单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    filed_by = models.ForeignKey(
        "core.Staff",
        verbose_name=_("代办窗口人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="filed_cases",
    )
    channel = models.CharField(_("申请渠道"), max_length=16, choices=Channel.choices, default=Channel.ONLINE)
    idempotency_key = models.CharField(max_length=64, blank=True, default="", help_text=_("防止重复提交"))
    bundle_case = models.ForeignKey(
        "BundleCase",
        verbose_name=_("所属一件事"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    owed_deadline = models.DateField(
        _("容缺补交期限"), null=True, blank=True, help_text=_("容缺受理时确定；逾期未补交则中止")
    )
    form_data = models.JSONField(_("申请表数据"), default=dict, blank=True)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.DRAFT)
    current_step = models.CharField(_("当前环节"), max_length=40, blank=True)
    claimed_by = models.ForeignKey(
        "core.Staff",
        verbose_name=_("签收人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="claimed_cases",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    due_date = models.DateField(_("承诺办结日期"), null=True, blank=True)
    step_due_date = models.DateField(_("本环节到期日"), null=True, blank=True)
    step_started_at = models.DateTimeField(_("本环节开始"), null=True, blank=True)
    paused_since = models.DateTimeField(_("计时暂停自"), null=True, blank=True, help_text=_("补正期间暂停"))
    paused_working_days = models.PositiveIntegerField(_("累计暂停工作日"), default=0)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    class Decision(models.TextChoices):
        NONE = "", _("未决定")
        APPROVED = "approved", _("准予")
        DENIED = "denied", _("不予许可")

    decision = models.CharField(_("决定"), max_length=16, choices=Decision.choices, blank=True, default="")
    decision_reason = models.TextField(
        _("决定理由"), blank=True, help_text=_("不予受理/不予许可的理由，申请人可见")
    )
    concluded_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    lock_version = models.PositiveIntegerField(default=0, help_text=_("乐观锁版本"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant_account", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="case_idempotency_once",
            ),
        ]
        indexes = [
            # staff inbox: one department, filtered by state/step, ordered by due date (keyset on (due, id))
            models.Index(fields=["department", "state", "step_due_date", "id"], name="case_inbox_idx"),
            models.Index(
                fields=["department", "current_step", "step_due_date", "id"], name="case_inbox_step_idx"
            ),
            models.Index(fields=["applicant_account", "-id"], name="case_mine_idx"),
            models.Index(fields=["state", "step_due_date"], name="case_overdue_idx"),
            # 容缺 sweep: open cases past their owed-materials deadline
            models.Index(
                fields=["owed_deadline", "id"], condition=Q(owed_deadline__isnull=False), name="case_owed_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"草稿 {self.public_id}"


class CaseStatus(models.Model):
    """Add-only history: one row per transition, never edited."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="history")
    seq = models.PositiveIntegerField()
    action = models.CharField(_("动作"), max_length=40)
    from_step = models.CharField(max_length=40, blank=True)
    to_step = models.CharField(max_length=40, blank=True)
    state = models.CharField(max_length=16, choices=Case.State.choices)
    actor_account = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_staff = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(_("经办人"), max_length=100, blank=True)
    opinion = models.TextField(_("意见"), blank=True)
    opinion_public = models.BooleanField(_("申请人可见"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("办件流转记录")
        verbose_name_plural = _("办件流转记录")
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="case_status_seq_once")]


class CaseFile(models.Model):
    """An uploaded file: a material of the application, a supplement, or an attachment to an opinion."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="files")
    material = models.ForeignKey(
        "catalog.Material", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.ForeignKey(
        CaseStatus,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="files",
        help_text=_("随审查意见上传的附件"),
    )
    file = models.FileField(upload_to="cases/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sm3 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("办件材料")
        verbose_name_plural = _("办件材料")
        indexes = [models.Index(fields=["case", "material"])]


class SupplementRequest(models.Model):
    """补正: what the applicant must supply, by when; the SLA clock pauses until it is supplied."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supplements")
    requested_by = models.ForeignKey("core.Staff", on_delete=models.PROTECT, related_name="+")
    items = models.JSONField(
        _("需补正内容"), default=list, help_text=_("[{material: code|null, note: 文本}]")
    )
    note = models.TextField(_("补正说明"), blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    deadline = models.DateField(_("补正期限"))
    supplied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("补正通知")
        verbose_name_plural = _("补正通知")
        ordering = ["case", "-requested_at"]


class CaseSequence(models.Model):
    """Per department and day counter for readable case numbers (row-locked when incremented)."""

    department = models.ForeignKey("core.Department", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["department", "day"], name="case_sequence_once")]


class BundleCase(models.Model):
    """一件事 application: one form, one set of materials, one submission; a sub-case (Case) per item, each in
    its own department. State and deadline aggregate the parts (bundle_sync keeps them current)."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", _("办理中")
        SUPPLEMENT = "supplement", _("待补正")
        CONCLUDED = "concluded", _("已办结")
        WITHDRAWN = "withdrawn", _("已撤回")

    class Outcome(models.TextChoices):
        NONE = "", _("未办结")
        ALL_APPROVED = "all_approved", _("全部准予")
        PARTLY = "partly", _("部分准予")
        NONE_APPROVED = "none_approved", _("均未准予")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("一件事编号"), max_length=40, unique=True)
    bundle = models.ForeignKey(
        "catalog.Bundle", verbose_name=_("一件事"), on_delete=models.PROTECT, related_name="cases"
    )
    applicant_account = models.ForeignKey(
        "core.Account", on_delete=models.PROTECT, related_name="bundle_cases", verbose_name=_("申请账户")
    )
    applicant_person = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="bundle_cases"
    )
    applicant_organisation = models.ForeignKey(
        "core.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="bundle_cases"
    )
    idempotency_key = models.CharField(max_length=64, help_text=_("防止重复提交"))
    form_data = models.JSONField(_("合并申请表数据"), default=dict, blank=True)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices, blank=True, default="")
    due_date = models.DateField(
        _("承诺办结日期"), null=True, blank=True, help_text=_("各事项承诺日期的最晚者")
    )
    submitted_at = models.DateTimeField(_("提交时间"))
    concluded_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    lock_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("一件事办件")
        verbose_name_plural = _("一件事办件")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant_account", "idempotency_key"], name="bundle_case_idempotency_once"
            )
        ]
        indexes = [models.Index(fields=["applicant_account", "-id"], name="bundle_case_mine_idx")]

    def __str__(self) -> str:
        return self.number


class BundlePart(models.Model):
    """One item of a bundle application: filed at once, or waiting for the items it comes after; cancelled
    when one of those is not approved."""

    class State(models.TextChoices):
        WAITING = "waiting", _("等待前置事项")
        FILED = "filed", _("已分送办理")
        CANCELLED = "cancelled", _("未办理")

    bundle_case = models.ForeignKey(BundleCase, on_delete=models.CASCADE, related_name="parts")
    item = models.ForeignKey("catalog.ServiceItem", on_delete=models.PROTECT, related_name="+")
    case = models.OneToOneField(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="bundle_part"
    )
    after = models.JSONField(default=list, blank=True, help_text=_("须先准予的事项编码"))
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.WAITING)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("一件事事项办理")
        verbose_name_plural = _("一件事事项办理")
        ordering = ["bundle_case", "sort", "id"]
        constraints = [models.UniqueConstraint(fields=["bundle_case", "item"], name="bundle_part_once")]


class InstantDecision(models.Model):
    """秒批: the rule-set version that was applied to a case and each rule's result, kept for ever (a later rule
    change never re-decides the case)."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("自动准予")
        MANUAL = "manual", _("转人工审核")

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="instant_decision")
    ruleset = models.ForeignKey("catalog.InstantRuleSet", on_delete=models.PROTECT, related_name="decisions")
    ruleset_version = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    results = models.JSONField(default=list, help_text=_("[{code, name, expr, passed, message, error}]"))
    facts = models.JSONField(default=dict, help_text=_("规则使用的事实值（不含证件号码）"))
    evaluated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("秒批决定")
        verbose_name_plural = _("秒批决定")


class Entitlement(models.Model):
    """免申即享: one person's or organisation's standing under one policy. At most one per subject and policy,
    so nobody is granted twice."""

    class Status(models.TextChoices):
        ELIGIBLE = "eligible", _("符合条件")
        NOTIFIED = "notified", _("已告知")
        CONFIRMED = "confirmed", _("已确认")
        GRANTED = "granted", _("已兑现")
        DECLINED = "declined", _("已放弃")
        EXCLUDED = "excluded", _("不再符合")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    policy = models.ForeignKey(
        "catalog.ProactivePolicy", on_delete=models.PROTECT, related_name="entitlements"
    )
    person = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="entitlements"
    )
    organisation = models.ForeignKey(
        "core.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="entitlements"
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ELIGIBLE)
    reason = models.CharField(_("原因"), max_length=300, blank=True, help_text=_("放弃或不再符合的原因"))
    rules_version = models.PositiveIntegerField(default=1)
    results = models.JSONField(default=list, blank=True)
    case = models.OneToOneField(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="entitlement"
    )
    eligible_since = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    granted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("免申即享资格")
        verbose_name_plural = _("免申即享资格")
        ordering = ["policy", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "person"], name="entitlement_person_once"),
            models.UniqueConstraint(fields=["policy", "organisation"], name="entitlement_org_once"),
            models.CheckConstraint(
                condition=(Q(person__isnull=False) & Q(organisation__isnull=True))
                | (Q(person__isnull=True) & Q(organisation__isnull=False)),
                name="entitlement_one_subject",
            ),
        ]
        indexes = [
            models.Index(fields=["policy", "status", "id"], name="entitlement_status_idx"),
        ]


class PolicyRun(models.Model):
    """One evaluation of a policy over the registries (full or incremental) and what it found."""

    class Kind(models.TextChoices):
        FULL = "full", _("全量")
        INCREMENTAL = "incremental", _("增量")

    policy = models.ForeignKey("catalog.ProactivePolicy", on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    rules_version = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    evaluated = models.PositiveIntegerField(default=0)
    newly_eligible = models.PositiveIntegerField(default=0)
    newly_excluded = models.PositiveIntegerField(default=0)
    notified = models.PositiveIntegerField(default=0)
    granted = models.PositiveIntegerField(default=0)
    fail_counts = models.JSONField(default=dict, help_text=_("{规则编码: 未通过人数}"))

    class Meta:
        verbose_name = _("政策评估记录")
        verbose_name_plural = _("政策评估记录")
        ordering = ["policy", "-started_at"]


class Pledge(models.Model):
    """告知承诺: the applicant's signed commitment in place of some materials (text and its SM3 digest kept)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="pledge")
    materials = models.JSONField(default=list, help_text=_("以承诺代替的材料编码"))
    text = models.TextField(_("承诺内容"))
    text_sm3 = models.CharField(max_length=64)
    account = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pledged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("告知承诺")
        verbose_name_plural = _("告知承诺")


class PledgeVerification(models.Model):
    """核查 after approval on a pledge; a failed verification revokes the decision."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待核查")
        PASSED = "passed", _("核查属实")
        FAILED = "failed", _("核查不实")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="pledge_verification")
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(_("核查期限"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    result = models.TextField(_("核查意见"), blank=True)
    verified_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(
        null=True, blank=True, help_text=_("超期提醒已发出的时间（每次核查只提醒一次）")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("承诺核查")
        verbose_name_plural = _("承诺核查")
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["department", "status", "due_date", "id"], name="pledge_check_idx")]


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
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="window_review_codes"
    )
    bundle_case = models.ForeignKey(
        BundleCase, null=True, blank=True, on_delete=models.CASCADE, related_name="window_review_codes"
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
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="reviews")
    bundle_case = models.ForeignKey(
        BundleCase, null=True, blank=True, on_delete=models.PROTECT, related_name="reviews"
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
