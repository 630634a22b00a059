"""一网统管: the incident catalogue and responsibility lists (三清单), incidents (事件/工单) with their add-only history,
dispatch, extensions, supervision (督办), callbacks (回访), the knowledge base (一网通答), IoT devices, warnings and the
classifier that suggests a category."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import EncryptedTextField
from yiwang.core.models.attachments import Attachment
from yiwang.core.models.history import HistoryEntry


# --- catalogue and responsibility lists -------------------------------------------------------------------
class IncidentCategory(models.Model):
    """事件分类: 大类 → 小类 (→ 细类). Incidents are filed under a leaf; parents only group."""

    class DeadlineUnit(models.TextChoices):
        HOURS = "hours", _("小时")
        WORKDAYS = "workdays", _("工作日")

    class Handling(models.TextChoices):
        GRID = "grid", _("网格内处置（小事一格解决）")
        DEPARTMENT = "department", _("派职能部门处置")

    class Evidence(models.TextChoices):
        NOTE = "note", _("处置说明")
        PHOTO = "photo", _("现场照片")

    code = models.CharField(_("分类编码"), max_length=20, unique=True, help_text=_("如 SRHJ、SRHJ01"))
    name = models.CharField(_("名称"), max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.PositiveSmallIntegerField(
        _("层级"), default=1, editable=False, help_text=_("1 大类，2 小类，3 细类")
    )
    deadline_value = models.PositiveIntegerField(_("处置时限"), default=5)
    deadline_unit = models.CharField(
        _("时限单位"), max_length=10, choices=DeadlineUnit.choices, default=DeadlineUnit.WORKDAYS
    )
    handling = models.CharField(
        _("处置方式"), max_length=12, choices=Handling.choices, default=Handling.DEPARTMENT
    )
    evidence_required = models.JSONField(
        _("结案必需材料"), default=list, blank=True, help_text=_("note 处置说明、photo 现场照片")
    )
    needs_verification = models.BooleanField(
        _("需网格员核查"), default=True, help_text=_("处置完成后由所在网格的网格员现场核查再结案")
    )
    examples = models.TextField(
        _("示例诉求"), blank=True, help_text=_("每行一条典型诉求文本，用于训练分类模型和提示话务员")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("事件分类")
        verbose_name_plural = _("事件分类")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class ResponsibilityRule(models.Model):
    """责任清单: category × division (× time window) → the responsible unit. The most specific division wins, then
    the higher priority; with no matching rule the incident goes to its town's command centre."""

    category = models.ForeignKey(
        IncidentCategory, verbose_name=_("事件分类"), on_delete=models.CASCADE, related_name="rules"
    )
    division = models.ForeignKey(
        "core.Division",
        verbose_name=_("适用区划"),
        on_delete=models.PROTECT,
        related_name="incident_rules",
        help_text=_("区、镇街、村社区或网格；事件位于其中时适用"),
    )
    to_grid = models.BooleanField(
        _("由所在网格处置"), default=False, help_text=_("勾选时派给事件所在网格的网格员，不填承办部门")
    )
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("承办部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incident_rules",
    )
    starts_at = models.TimeField(_("时段开始"), null=True, blank=True, help_text=_("留空为全天"))
    ends_at = models.TimeField(_("时段结束"), null=True, blank=True, help_text=_("可跨零点，如 22:00–06:00"))
    priority = models.IntegerField(_("优先级"), default=0, help_text=_("同一区划有多条时数值大者优先"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("责任清单规则")
        verbose_name_plural = _("责任清单规则")
        ordering = ["category", "-priority", "id"]
        indexes = [models.Index(fields=["category", "is_active"], name="incident_rule_cat_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(to_grid=True, department__isnull=True)
                | Q(to_grid=False, department__isnull=False),
                name="incident_rule_one_target",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True, ends_at__isnull=True)
                | Q(starts_at__isnull=False, ends_at__isnull=False),
                name="incident_rule_window_whole",
            ),
        ]

    def __str__(self) -> str:
        target = _("所在网格") if self.to_grid else str(self.department)
        return f"{self.category.name} @ {self.division.name} → {target}"


class IncidentSettings(models.Model):
    """One row of tunables for 一网统管 (edited in the admin; `incident_settings()` reads it, cached)."""

    dedup_radius_m = models.PositiveIntegerField(_("重复判定半径（米）"), default=100)
    dedup_hours = models.PositiveIntegerField(_("重复判定时间窗（小时）"), default=72)
    dedup_suggest_score = models.FloatField(_("提示重复的相似度"), default=0.35)
    dedup_attach_score = models.FloatField(_("自动合并的相似度"), default=0.75)
    classify_threshold = models.FloatField(
        _("自动分拨的分类置信度"), default=0.55, help_text=_("低于此值的工单转调度员人工分拨")
    )
    max_returns = models.PositiveSmallIntegerField(_("最多退回次数"), default=2)
    max_reassigns = models.PositiveSmallIntegerField(_("最多改派次数"), default=3)
    reopen_days = models.PositiveSmallIntegerField(
        _("可重启天数"), default=7, help_text=_("结案后多少天内回访不满意可重启")
    )
    max_reopens = models.PositiveSmallIntegerField(_("最多重启次数"), default=1)
    yellow_share = models.FloatField(_("黄灯剩余时限比例"), default=0.2)
    repeat_count = models.PositiveSmallIntegerField(_("重复投诉预警次数"), default=3)
    repeat_days = models.PositiveSmallIntegerField(_("重复投诉统计天数"), default=30)
    cluster_count = models.PositiveSmallIntegerField(_("聚集预警件数"), default=5)
    cluster_hours = models.PositiveSmallIntegerField(_("聚集统计小时数"), default=24)
    surge_factor = models.FloatField(_("激增倍数"), default=3.0, help_text=_("当日件数超过近28天日均的倍数"))
    surge_minimum = models.PositiveSmallIntegerField(_("激增最少件数"), default=10)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("一网统管参数")
        verbose_name_plural = _("一网统管参数")

    def __str__(self) -> str:
        return str(_("一网统管参数"))


# --- incidents --------------------------------------------------------------------------------------------
class Incident(models.Model):
    """事件/工单: one report from any channel, moved by `incidents.workflow`."""

    class State(models.TextChoices):
        PENDING = "pending", _("待分拨")
        DISPATCHED = "dispatched", _("处置中")
        HANDLED = "handled", _("待核查")
        CLOSED = "closed", _("已结案")
        MERGED = "merged", _("已合并")

    OPEN_STATES = (State.PENDING, State.DISPATCHED, State.HANDLED)

    class Channel(models.TextChoices):
        HOTLINE = "hotline", _("12345热线")
        WEB = "web", _("群众上报")
        PATROL = "patrol", _("网格巡查")
        REFERRAL = "referral", _("部门转办")
        IOT = "iot", _("物联感知")
        OPEN311 = "open311", _("Open311 接入")

    class Kind(models.TextChoices):
        CONSULTATION = "consultation", _("咨询")
        HELP = "help", _("求助")
        COMPLAINT = "complaint", _("投诉")
        REPORT = "report", _("举报")
        SUGGESTION = "suggestion", _("建议")

    class Closure(models.TextChoices):
        NONE = "", _("未结案")
        HANDLED = "handled", _("已处置")
        ANSWERED = "answered", _("直接答复")
        DUPLICATE = "duplicate", _("重复件")
        INVALID = "invalid", _("无效诉求")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("工单号"), max_length=24, unique=True, help_text=_("GD+日期+序号"))
    channel = models.CharField(_("来源渠道"), max_length=12, choices=Channel.choices)
    kind = models.CharField(_("诉求类型"), max_length=16, choices=Kind.choices, default=Kind.COMPLAINT)
    category = models.ForeignKey(
        IncidentCategory,
        verbose_name=_("事件分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    classified_by = models.CharField(
        _("分类来源"),
        max_length=12,
        blank=True,
        help_text=_("model 模型、reporter 上报人、staff 工作人员、device 设备"),
    )
    confidence = models.FloatField(_("分类置信度"), null=True, blank=True)
    suggestions = models.JSONField(
        _("分类建议"), default=list, blank=True, help_text=_("[{code, name, score}]")
    )
    title = models.CharField(_("标题"), max_length=120)
    description = models.TextField(_("诉求内容"))
    # where
    lon = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    located_by = models.CharField(
        _("定位方式"),
        max_length=12,
        blank=True,
        help_text=_("point 坐标落网格、address 地址匹配、device 设备位置"),
    )
    grid = models.ForeignKey(
        "core.Division",
        verbose_name=_("所在网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    village = models.ForeignKey(
        "core.Division",
        verbose_name=_("所在村社区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    town = models.ForeignKey(
        "core.Division",
        verbose_name=_("所在镇街"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # who reported
    reporter_account = models.ForeignKey(
        "core.Account",
        verbose_name=_("上报账户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    reporter_staff = models.ForeignKey(
        "core.Staff",
        verbose_name=_("登记/上报人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registered_incidents",
        help_text=_("话务员、网格员或转办人员"),
    )
    reporter_system = models.ForeignKey(
        "core.RegisteredSystem",
        verbose_name=_("接入系统"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    reporter_name = models.CharField(_("诉求人"), max_length=50, blank=True)
    reporter_phone = EncryptedTextField(_("联系电话"), blank=True, default="", help_text=_("SM4 加密存储"))
    reporter_phone_index = models.CharField(max_length=64, blank=True, default="", editable=False)
    confidential = models.BooleanField(_("保密"), default=False, help_text=_("举报人信息对承办单位保密"))
    device = models.ForeignKey(
        "Device",
        verbose_name=_("感知设备"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    referred_from = models.ForeignKey(
        "core.Department",
        verbose_name=_("转办来源部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referred_incidents",
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("重复于"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )
    duplicate_score = models.FloatField(_("重复相似度"), null=True, blank=True)
    # workflow position
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.PENDING)
    assigned_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("承办单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_incidents",
    )
    assigned_grid = models.ForeignKey(
        "core.Division",
        verbose_name=_("承办网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("小事一格解决：由该网格的网格员处置"),
    )
    dispatch_mode = models.CharField(
        _("分拨方式"), max_length=8, blank=True, help_text=_("auto 自动、manual 人工")
    )
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("处置期限"), null=True, blank=True)
    extended = models.BooleanField(_("已延期"), default=False)
    return_count = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    reassign_count = models.PositiveSmallIntegerField(_("改派次数"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("重启次数"), default=0)
    escalation_level = models.PositiveSmallIntegerField(
        _("督办层级"), default=0, help_text=_("0 未督办；否则为已通知的最高区划层级（4 网格…1 区）的序号")
    )
    handled_at = models.DateTimeField(_("处置完成时间"), null=True, blank=True)
    resolution = models.TextField(_("处置结果"), blank=True)
    verified_at = models.DateTimeField(_("核查时间"), null=True, blank=True)
    closure = models.CharField(_("结案方式"), max_length=12, choices=Closure.choices, blank=True, default="")
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    closed_on_time = models.BooleanField(_("按期办结"), null=True, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=12, blank=True, help_text=_("最近一次回访结果"))
    lock_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("事件工单")
        verbose_name_plural = _("事件工单")
        ordering = ["-id"]
        indexes = [
            # unit work lists: open incidents of a unit by deadline (keyset on (due_at, id))
            models.Index(fields=["assigned_department", "state", "due_at", "id"], name="incident_unit_idx"),
            models.Index(fields=["assigned_grid", "state", "due_at", "id"], name="incident_grid_idx"),
            # command-centre lists scoped by town, and the district list
            models.Index(fields=["town", "state", "id"], name="incident_town_idx"),
            models.Index(fields=["state", "due_at"], name="incident_overdue_idx"),
            models.Index(fields=["created_at", "id"], name="incident_created_idx"),
            # caller history and repeat warnings
            models.Index(fields=["reporter_phone_index", "-id"], name="incident_caller_idx"),
            models.Index(fields=["reporter_account", "-id"], name="incident_mine_idx"),
            # de-duplication: open incidents of a category near a point (coarse lat band, then distance)
            models.Index(fields=["category", "state", "lat"], name="incident_dedup_idx"),
            # warnings after intake: clusters per village and category, surges and address repeats per category
            models.Index(fields=["village", "category", "created_at"], name="incident_cluster_idx"),
            models.Index(fields=["category", "created_at"], name="incident_cat_time_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class IncidentEvent(HistoryEntry):
    """Add-only history of an incident: one row per step (intake, dispatch, return, handle, verify, callback…)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("动作"), max_length=24)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, choices=Incident.State.choices)
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("承办单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    grid = models.ForeignKey(
        "core.Division",
        verbose_name=_("承办网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("说明"), blank=True)
    public = models.BooleanField(_("诉求人可见"), default=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("工单流转记录")
        verbose_name_plural = _("工单流转记录")
        ordering = ["incident", "seq"]
        constraints = [models.UniqueConstraint(fields=["incident", "seq"], name="incident_event_seq_once")]


class IncidentAttachment(Attachment):
    """A photo or document: from the report, as closing evidence or from the verification."""

    class Purpose(models.TextChoices):
        REPORT = "report", _("上报照片")
        EVIDENCE = "evidence", _("处置证明")
        VERIFICATION = "verification", _("核查照片")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        IncidentEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    purpose = models.CharField(_("用途"), max_length=16, choices=Purpose.choices)
    file = models.FileField(_("文件"), upload_to="incidents/%Y/%m/")
    content_type = models.CharField(max_length=60)  # photos only: shorter than the base's, as first migrated

    class Meta:
        verbose_name = _("工单附件")
        verbose_name_plural = _("工单附件")
        ordering = ["incident", "id"]


class ExtensionRequest(models.Model):
    """延期申请: a unit may ask once per incident; a dispatcher approves or refuses."""

    class State(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("不予批准")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="extension_requests")
    requested_by = models.ForeignKey("core.Staff", on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        "core.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_due_at = models.DateTimeField(_("申请延至"))
    reason = models.TextField(_("延期理由"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["incident"], name="incident_extension_once")]
        indexes = [models.Index(fields=["state", "id"], name="incident_ext_state_idx")]


class Escalation(models.Model):
    """督办: an overdue incident raised to the next division level up (grid → village → town → district)."""

    class Outcome(models.TextChoices):
        OPEN = "", _("督办中")
        HANDLED = "handled", _("督办后办结")
        ESCALATED = "escalated", _("已升级督办")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="escalations")
    level = models.PositiveSmallIntegerField(
        _("督办层级"), help_text=_("Division.Level：3 村社区、2 镇街、1 区")
    )
    division = models.ForeignKey(
        "core.Division", verbose_name=_("督办区划"), on_delete=models.PROTECT, related_name="+"
    )
    notified = models.JSONField(_("已通知人员"), default=list, blank=True, help_text=_("员工工号列表"))
    reason = models.CharField(_("督办原因"), max_length=200)
    outcome = models.CharField(_("结果"), max_length=12, choices=Outcome.choices, blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("督办记录")
        verbose_name_plural = _("督办记录")
        ordering = ["incident", "level"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "level"], name="incident_escalation_level_once")
        ]


class Callback(models.Model):
    """回访: the reporter's satisfaction after closure; unsatisfied within the limit may reopen the incident."""

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASIC = "basic", _("基本满意")
        UNSATISFIED = "unsatisfied", _("不满意")
        UNREACHABLE = "unreachable", _("未联系上")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="callbacks")
    satisfaction = models.CharField(_("满意度"), max_length=12, choices=Satisfaction.choices)
    note = models.TextField(_("回访记录"), blank=True)
    by_staff = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    by_account = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reopened = models.BooleanField(_("已重启"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("回访记录")
        verbose_name_plural = _("回访记录")
        ordering = ["incident", "id"]


# --- 一网通答 ------------------------------------------------------------------------------------------------
class KnowledgeAnswer(models.Model):
    """一网通答: a vetted answer an operator can give and close a consultation with at once."""

    question = models.CharField(_("问题"), max_length=200)
    answer = models.TextField(_("答复口径"))
    keywords = models.CharField(_("关键词"), max_length=200, blank=True, help_text=_("空格分隔，补充检索用"))
    category = models.ForeignKey(
        IncidentCategory,
        verbose_name=_("相关分类"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("口径提供部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    tokens = models.TextField(editable=False, default="", help_text=_("jieba 分词结果，空格分隔，用于检索"))
    is_active = models.BooleanField(_("启用"), default=True)
    use_count = models.PositiveIntegerField(_("使用次数"), default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("知识库答复")
        verbose_name_plural = _("知识库答复（一网通答）")
        ordering = ["-use_count", "id"]

    def __str__(self) -> str:
        return self.question


# --- IoT ----------------------------------------------------------------------------------------------------
class DeviceType(models.Model):
    """A kind of sensor: its MQTT topic segment, the reading compared and the alarm threshold."""

    class Comparison(models.TextChoices):
        ABOVE = "above", _("高于阈值报警")
        BELOW = "below", _("低于阈值报警")
        FLAG = "flag", _("报警标志为真")

    code = models.SlugField(
        _("类型编码"), max_length=32, unique=True, help_text=_("MQTT 主题段，如 water_level")
    )
    name = models.CharField(_("名称"), max_length=60)
    metric = models.CharField(
        _("读数字段"), max_length=40, default="value", help_text=_("消息 JSON 中读数的字段名")
    )
    unit = models.CharField(_("单位"), max_length=12, blank=True)
    comparison = models.CharField(
        _("判定方式"), max_length=8, choices=Comparison.choices, default=Comparison.ABOVE
    )
    threshold = models.FloatField(_("阈值"), default=0)
    trigger_count = models.PositiveSmallIntegerField(
        _("连续超限次数"), default=1, help_text=_("连续多少条超限读数才报警，抑制瞬时抖动")
    )
    debounce_seconds = models.PositiveIntegerField(
        _("去抖时间（秒）"), default=1800, help_text=_("报警工单未结案或结案后该时间内的再次报警并入同一工单")
    )
    category = models.ForeignKey(
        IncidentCategory,
        verbose_name=_("生成事件分类"),
        on_delete=models.PROTECT,
        related_name="device_types",
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("设备类型")
        verbose_name_plural = _("设备类型")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Device(models.Model):
    """A registered sensor with its location; alarm state is kept on the row for debounce."""

    code = models.CharField(_("设备编号"), max_length=64, unique=True)
    device_type = models.ForeignKey(
        DeviceType, verbose_name=_("设备类型"), on_delete=models.PROTECT, related_name="devices"
    )
    name = models.CharField(_("名称"), max_length=100, blank=True)
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    address = models.CharField(_("安装地址"), max_length=200, blank=True)
    grid = models.ForeignKey(
        "core.Division",
        verbose_name=_("所在网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    threshold = models.FloatField(_("阈值（覆盖类型设置）"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    last_seen_at = models.DateTimeField(_("最近上报"), null=True, blank=True)
    last_value = models.FloatField(_("最近读数"), null=True, blank=True)
    over_count = models.PositiveIntegerField(default=0, editable=False, help_text=_("连续超限读数"))
    alarm_incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    last_alarm_at = models.DateTimeField(null=True, blank=True, editable=False)
    alarm_repeats = models.PositiveIntegerField(
        default=0, editable=False, help_text=_("并入当前报警工单的重复报警数")
    )

    class Meta:
        verbose_name = _("感知设备")
        verbose_name_plural = _("感知设备")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name or self.device_type.name}（{self.code}）"


# --- warnings ------------------------------------------------------------------------------------------------
class IncidentWarning(models.Model):
    """预警 for the command centre: repeat complaints, clusters in an area, sudden rises of a category."""

    class Kind(models.TextChoices):
        REPEAT = "repeat", _("重复投诉")
        CLUSTER = "cluster", _("区域聚集")
        SURGE = "surge", _("类别激增")

    class State(models.TextChoices):
        OPEN = "open", _("待处理")
        ACKNOWLEDGED = "acknowledged", _("已处理")

    kind = models.CharField(_("预警类型"), max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=120, help_text=_("同一对象同一时段只预警一次"))
    title = models.CharField(_("标题"), max_length=200)
    category = models.ForeignKey(
        IncidentCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    division = models.ForeignKey(
        "core.Division", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    town = models.ForeignKey(
        "core.Division", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    count = models.PositiveIntegerField(_("件数"), default=0)
    baseline = models.FloatField(_("基线"), null=True, blank=True)
    incidents = models.ManyToManyField(Incident, related_name="warnings", blank=True)
    state = models.CharField(_("状态"), max_length=14, choices=State.choices, default=State.OPEN)
    acknowledged_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("处理说明"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="incident_warning_once")]
        indexes = [models.Index(fields=["state", "-id"], name="incident_warning_state_idx")]


# --- classification ------------------------------------------------------------------------------------------
class ClassifierModel(models.Model):
    """A trained category classifier (jieba tokens → TF-IDF → linear model), stored with its SM3 digest;
    the newest active one is used."""

    version = models.PositiveIntegerField(_("版本"), unique=True)
    trained_at = models.DateTimeField(_("训练时间"), auto_now_add=True)
    trained_by = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    samples = models.PositiveIntegerField(_("样本数"), default=0)
    labels = models.PositiveIntegerField(_("分类数"), default=0)
    accuracy = models.FloatField(_("留出集准确率"), null=True, blank=True)
    blob = models.BinaryField(editable=False)
    sm3 = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("分类模型")
        verbose_name_plural = _("分类模型")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"


class IncidentSequence(models.Model):
    """Per-day counter for readable incident numbers (row-locked when incremented)."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)
