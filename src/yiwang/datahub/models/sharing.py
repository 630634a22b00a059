"""共享申请 and 共享授权: a department asks for fields of a resource for one of its registered systems; the
negotiation ends in a grant (the agreement) that the gateway enforces at every call."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.models.history import HistoryEntry


class ShareRequest(models.Model):
    """共享申请. States and moves: datahub.workflow (requested → offered/answered → agreed → active →
    suspended/expired/revoked, or refused/withdrawn)."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("已申请")
        OFFERED = "offered", _("提供方已答复")
        AGREED = "agreed", _("双方已同意")
        ACTIVE = "active", _("已生效")
        SUSPENDED = "suspended", _("已暂停")
        EXPIRED = "expired", _("已到期")
        REVOKED = "revoked", _("已撤销")
        REFUSED = "refused", _("不予共享")
        WITHDRAWN = "withdrawn", _("申请方已撤回")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("申请编号"), max_length=32, unique=True)
    resource = models.ForeignKey(
        "datahub.DataResource",
        verbose_name=_("数据资源"),
        on_delete=models.PROTECT,
        related_name="share_requests",
    )
    provider = models.ForeignKey(
        "core.Department",
        verbose_name=_("提供部门"),
        on_delete=models.PROTECT,
        related_name="share_requests_received",
    )
    requester = models.ForeignKey(
        "core.Department",
        verbose_name=_("申请部门"),
        on_delete=models.PROTECT,
        related_name="share_requests_made",
    )
    requested_by = models.ForeignKey(
        "core.Staff",
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    system = models.ForeignKey(
        "core.RegisteredSystem",
        verbose_name=_("使用系统"),
        on_delete=models.PROTECT,
        related_name="share_requests",
    )
    fields = models.JSONField(_("申请信息项"), default=list, help_text=_("字段名列表"))
    scenario = models.CharField(_("应用场景"), max_length=120)
    purpose = models.TextField(_("用途"))
    legal_basis = models.TextField(_("依据"))
    frequency = models.CharField(_("使用频度"), max_length=60, help_text=_("如 每日约 500 次"))
    term_start = models.DateField(_("使用期限自"))
    term_end = models.DateField(_("使用期限至"))
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.REQUESTED)
    approved_by_rule = models.BooleanField(_("按规则自动通过"), default=False)
    centre_step = models.BooleanField(
        _("须大数据中心审批"), default=False, help_text=_("按资源分级策略：双方同意后由大数据中心审批生效")
    )
    offer = models.JSONField(
        _("提供方条件"), default=dict, blank=True, help_text=_("答复时提出的脱敏、行过滤、限流与期限")
    )
    answer_note = models.TextField(_("答复意见"), blank=True)
    refusal_basis = models.TextField(_("不予共享依据"), blank=True)
    due_at = models.DateTimeField(_("答复时限"), null=True, blank=True, help_text=_("按工作日计算"))
    overdue_notified_at = models.DateTimeField(_("超期已通知大数据中心"), null=True, blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    row_version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("共享申请")
        verbose_name_plural = _("共享申请")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["provider", "state", "id"]),
            models.Index(fields=["requester", "state", "id"]),
            models.Index(fields=["state", "due_at"]),
        ]

    def __str__(self) -> str:
        return self.number


class ShareRequestEvent(HistoryEntry):
    """One move of a share request; both sides get a receipt of its evidence-log entry."""

    request = models.ForeignKey(ShareRequest, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=32)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    department = models.ForeignKey(
        "core.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("说明"), blank=True)
    audit_uuid = models.UUIDField(_("存证条目"), null=True, blank=True)

    class Meta:
        verbose_name = _("共享申请记录")
        verbose_name_plural = _("共享申请记录")
        ordering = ["request", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["request", "seq"], name="share_request_event_seq_once")
        ]


class ShareGrant(models.Model):
    """共享授权: the agreement the gateway enforces — fields with their masks, a row filter, a rate limit, a
    validity period and the scenario, for one registered system."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("有效")
        SUSPENDED = "suspended", _("已暂停")
        EXPIRED = "expired", _("已到期")
        REVOKED = "revoked", _("已撤销")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("授权编号"), max_length=32, unique=True)
    request = models.OneToOneField(ShareRequest, on_delete=models.PROTECT, related_name="grant")
    resource = models.ForeignKey("datahub.DataResource", on_delete=models.PROTECT, related_name="grants")
    provider = models.ForeignKey(
        "core.Department", on_delete=models.PROTECT, related_name="share_grants_given"
    )
    requester = models.ForeignKey(
        "core.Department", on_delete=models.PROTECT, related_name="share_grants_held"
    )
    system = models.ForeignKey("core.RegisteredSystem", on_delete=models.PROTECT, related_name="share_grants")
    scenario = models.CharField(_("应用场景"), max_length=120)
    fields = models.JSONField(_("信息项与脱敏"), default=dict, help_text=_("{字段名: 脱敏类型}"))
    row_filter = models.JSONField(
        _("行过滤"),
        default=dict,
        blank=True,
        help_text=_('如 {"division": "440113003"}：只返回该区划（含下级）内的数据主体'),
    )
    rate_per_minute = models.PositiveIntegerField(_("每分钟调用上限"), default=600)
    valid_from = models.DateTimeField(_("生效时间"))
    valid_until = models.DateTimeField(_("失效时间"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField(_("暂停或撤销原因"), blank=True)
    requires_consent = models.BooleanField(
        _("须数据主体授权"),
        default=False,
        help_text=_("授权用数场景：每次调用须出示数据主体有效的授权（授权编号）"),
    )
    covert_until = models.DateField(
        _("暂缓告知至"),
        null=True,
        blank=True,
        help_text=_("依法不告知数据主体的调用（如侦查），到期前在“我的数据”中不显示"),
    )
    covert_basis = models.TextField(_("暂缓告知依据"), blank=True)
    renewed_count = models.PositiveIntegerField(_("续期次数"), default=0)
    expiry_reminded_at = models.DateTimeField(
        _("到期提醒时间"),
        null=True,
        blank=True,
        help_text=_("到期前 10 个工作日提醒申请方（每个有效期一次）"),
    )
    row_version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("共享授权")
        verbose_name_plural = _("共享授权")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["system", "resource", "status"]),
            models.Index(fields=["provider", "status", "id"]),
            models.Index(fields=["requester", "status", "id"]),
            models.Index(fields=["status", "valid_until"]),
        ]

    def __str__(self) -> str:
        return self.number


class ShareRating(models.Model):
    """双向评价: each side rates the other once per period (provider: lawful, careful use; requester: timely,
    accurate data and answers)."""

    class Side(models.TextChoices):
        PROVIDER = "provider", _("提供方")
        REQUESTER = "requester", _("使用方")

    grant = models.ForeignKey(ShareGrant, on_delete=models.CASCADE, related_name="ratings")
    side = models.CharField(_("评价方"), max_length=16, choices=Side.choices)
    period = models.CharField(_("评价周期"), max_length=10, help_text=_("如 2026-Q4"))
    score = models.PositiveSmallIntegerField(_("评分（1–5）"))
    comment = models.TextField(_("评价意见"), blank=True)
    rated_by = models.CharField(_("评价人"), max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("共享评价")
        verbose_name_plural = _("共享评价")
        constraints = [
            models.UniqueConstraint(fields=["grant", "side", "period"], name="share_rating_once_per_period"),
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="share_rating_score_range"
            ),
        ]


class ShareDispute(models.Model):
    """A dispute between the two sides of a request or grant, coordinated by the big-data centre."""

    class Status(models.TextChoices):
        OPEN = "open", _("协调中")
        RESOLVED = "resolved", _("已协调")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(ShareRequest, on_delete=models.PROTECT, related_name="disputes")
    raised_by = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="+")
    subject = models.CharField(_("事由"), max_length=200)
    description = models.TextField(_("说明"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.OPEN)
    resolution = models.TextField(_("协调结果"), blank=True)
    resolved_by = models.CharField(_("协调人"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("共享争议")
        verbose_name_plural = _("共享争议")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]


class ShareSequence(models.Model):
    """Per-day counters for readable numbers: GX (申请) and SQ (授权) + date + sequence."""

    kind = models.CharField(max_length=2)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "day"], name="share_sequence_once")]
