"""办件: applications filed under one item version, moved through the item's declared process."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiwang.core.models.attachments import Attachment
from yiwang.core.models.history import HistoryEntry


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
        db_index=False,  # case_person_item_idx leads with it
    )
    applicant_organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("申请单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,  # case_organisation_item_idx leads with it
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
            # 我的工作台 of a unit-wide role (a window clerk over a district's departments): one step's open cases
            # in due order, whatever their department (cases.workbench: one member per step, not per department);
            # the department last, so the member filters its departments from the index alone — else the planner
            # prefers case_open_dept_step_idx there and sorts every open case at the step (14 ms for a clerk).
            models.Index(
                fields=["current_step", "step_due_date", "id", "department"],
                condition=Q(state__in=["submitted", "in_progress"]),
                name="case_open_step_idx",
            ),
            # The workbench's and the inbox's per-(department, step) members: open steps only (a tenth of the
            # cases), so the planner reads one department's queue in order — and counts it from the index alone —
            # instead of fetching every row of case_inbox_step_idx to check its state (bench/workbench.py). item
            # last: the members that exclude some items of a department filter on it without the heap.
            models.Index(
                fields=["department", "current_step", "step_due_date", "id", "item"],
                condition=Q(state__in=["submitted", "in_progress"], step_due_date__isnull=False),
                name="case_open_dept_step_idx",
            ),
            # 容缺 sweep: open cases past their owed-materials deadline
            models.Index(
                fields=["owed_deadline", "id"], condition=Q(owed_deadline__isnull=False), name="case_owed_idx"
            ),
            # an applicant's cases of an item (秒批's history facts, at every submission): without them PostgreSQL
            # AND-ed the item's index (every applicant's cases of the item) with the applicant's. They lead with
            # the applicant, so they also serve the foreign keys' lookups (which have no index of their own).
            models.Index(fields=["applicant_person", "item"], name="case_person_item_idx"),
            models.Index(fields=["applicant_organisation", "item"], name="case_organisation_item_idx"),
        ]

    def __str__(self) -> str:
        return self.number or f"草稿 {self.public_id}"


class CaseStatus(HistoryEntry):
    """Add-only history: one row per transition, never edited."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="history")
    action = models.CharField(_("动作"), max_length=40)
    from_step = models.CharField(max_length=40, blank=True)
    to_step = models.CharField(max_length=40, blank=True)
    state = models.CharField(max_length=16, choices=Case.State.choices)
    opinion = models.TextField(_("意见"), blank=True)
    opinion_public = models.BooleanField(_("申请人可见"), default=True)

    class Meta:
        verbose_name = _("办件流转记录")
        verbose_name_plural = _("办件流转记录")
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="case_status_seq_once")]


class CaseFile(Attachment):
    """An uploaded file: a material of the application, a supplement, or an attachment to an opinion."""

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
    original_name = models.CharField(max_length=200)  # as first migrated, without a verbose name

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


# --- feature models (app label `cases`; imported here so Django registers them) --------------------
from .bundles.models import BundleCase, BundlePart  # noqa: E402,F401
from .instant.models import InstantDecision  # noqa: E402,F401
from .pledges.models import Pledge, PledgeVerification  # noqa: E402,F401
from .proactive.models import Entitlement, PolicyRun  # noqa: E402,F401
from .reviews.models import Rectification, Review, WindowReviewCode  # noqa: E402,F401
