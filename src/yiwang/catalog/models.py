"""政务服务事项 catalogue: items with their guide, materials, declared form and declared process."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Theme(models.Model):
    """A life event or business theme (生育, 就业, 开办企业…) used to browse and filter items."""

    class Audience(models.TextChoices):
        PERSON = "person", _("个人")
        ORGANISATION = "organisation", _("法人")

    code = models.SlugField(_("主题编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    audience = models.CharField(_("面向"), max_length=16, choices=Audience.choices)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("主题")
        verbose_name_plural = _("主题")
        ordering = ["audience", "sort", "code"]

    def __str__(self) -> str:
        return self.name


class ServiceItem(models.Model):
    """One version of a service item. A published version is immutable; a change is a new version and cases
    keep the version they were filed under."""

    class ItemType(models.TextChoices):
        LICENSING = "licensing", _("行政许可")
        CONFIRMATION = "confirmation", _("行政确认")
        BENEFIT = "benefit", _("行政给付")
        PUBLIC_SERVICE = "public_service", _("公共服务")
        ADJUDICATION = "adjudication", _("行政裁决")
        OTHER_POWER = "other_power", _("其他行政权力")

    class Level(models.TextChoices):
        DISTRICT = "district", _("区级")
        TOWN = "town", _("镇街级")
        VILLAGE = "village", _("村居级")

    class Target(models.TextChoices):
        PERSON = "person", _("自然人")
        ORGANISATION = "organisation", _("法人")
        BOTH = "both", _("自然人和法人")

    class OnlineDepth(models.IntegerChoices):
        INFO = 1, _("一级：网上办事指南")
        PRE_REVIEW = 2, _("二级：网上预审")
        ONLINE_ONCE = 3, _("三级：网上办理、现场核验一次")
        FULLY_ONLINE = 4, _("四级：全程网办")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        SUSPENDED = "suspended", _("已暂停")
        SUPERSEDED = "superseded", _("已被新版本取代")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("事项编码"), max_length=40, help_text=_("同一事项的各版本共用编码"))
    version = models.PositiveIntegerField(_("版本"), default=1)
    name = models.CharField(_("事项名称"), max_length=120)
    department = models.ForeignKey(
        "core.Department", verbose_name=_("实施部门"), on_delete=models.PROTECT, related_name="service_items"
    )
    level = models.CharField(_("行使层级"), max_length=16, choices=Level.choices, default=Level.DISTRICT)
    item_type = models.CharField(_("事项类型"), max_length=20, choices=ItemType.choices)
    legal_basis = models.TextField(_("设定依据"), blank=True)
    statutory_days = models.PositiveSmallIntegerField(_("法定时限（工作日）"))
    committed_days = models.PositiveSmallIntegerField(
        _("承诺时限（工作日）"), help_text=_("不得超过法定时限")
    )
    on_site_visits = models.PositiveSmallIntegerField(_("到现场次数"), default=0, help_text=_("0 或 1"))
    online_depth = models.PositiveSmallIntegerField(
        _("网办深度"), choices=OnlineDepth.choices, default=OnlineDepth.FULLY_ONLINE
    )
    fee = models.CharField(_("收费标准"), max_length=200, blank=True, default="不收费")
    target = models.CharField(_("服务对象"), max_length=16, choices=Target.choices, default=Target.PERSON)
    themes = models.ManyToManyField(Theme, verbose_name=_("主题"), blank=True, related_name="items")
    keywords = models.CharField(_("关键词"), max_length=200, blank=True, help_text=_("空格分隔，用于搜索"))
    conditions = models.TextField(_("受理条件"), blank=True)
    guide = models.TextField(_("办理指南"), blank=True, help_text=_("办理流程说明、注意事项"))
    where_to_apply = models.TextField(_("办理地点与方式"), blank=True)
    form_schema = models.JSONField(
        _("申请表单"), default=dict, blank=True, help_text=_("JSON Schema 与布局提示")
    )
    process = models.JSONField(
        _("办理流程"), default=dict, blank=True, help_text=_("步骤、角色、时限占比、流转")
    )
    tolerant_days = models.PositiveSmallIntegerField(
        _("容缺补交期限（工作日）"), default=10, help_text=_("容缺受理后申请人补交材料的期限")
    )
    pledge_verify_days = models.PositiveSmallIntegerField(
        _("告知承诺核查期限（工作日）"), default=20, help_text=_("以承诺代替材料准予后，部门完成核查的期限")
    )
    produces_licence_type = models.CharField(
        _("产出证照类型"), max_length=40, blank=True, help_text=_("办结后签发的电子证照类型编码（证照模块）")
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("政务服务事项")
        verbose_name_plural = _("政务服务事项")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="item_code_version_once"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(status="published"), name="item_one_published_version"
            ),
            models.CheckConstraint(
                condition=Q(committed_days__lte=F("statutory_days")), name="item_committed_le_statutory"
            ),
            models.CheckConstraint(condition=Q(on_site_visits__lte=1), name="item_visits_0_or_1"),
        ]
        indexes = [
            models.Index(fields=["status", "department", "code"]),
            models.Index(fields=["status", "target", "code"]),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code} v{self.version}）"


class Material(models.Model):
    """申请材料 of one item version."""

    class Form(models.TextChoices):
        ORIGINAL = "original", _("原件")
        COPY = "copy", _("复印件")
        ELECTRONIC = "electronic", _("电子材料")

    class Source(models.TextChoices):
        UPLOAD = "upload", _("申请人上传")
        LICENCE = "licence", _("电子证照")
        REGISTRY = "registry", _("基础库数据")

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="materials")
    code = models.SlugField(_("材料编码"), max_length=40)
    name = models.CharField(_("材料名称"), max_length=120)
    required = models.BooleanField(_("必须提交"), default=True)
    form = models.CharField(_("材料形式"), max_length=16, choices=Form.choices, default=Form.ELECTRONIC)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices, default=Source.UPLOAD)
    licence_type_code = models.CharField(_("证照类型编码"), max_length=40, blank=True)
    registry_field = models.CharField(_("基础库字段"), max_length=60, blank=True)
    tolerant = models.BooleanField(_("可容缺"), default=False, help_text=_("可先受理、后补交"))
    pledge_allowed = models.BooleanField(
        _("可告知承诺"), default=False, help_text=_("申请人可签署承诺代替提交该材料，准予后核查")
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["item", "sort", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "code"], name="material_code_once_per_item")]

    def __str__(self) -> str:
        return self.name


class InstantRuleSet(models.Model):
    """秒批 rules of one item (by item code, across its versions). Add-only: an edit in the admin saves a new
    version and deactivates the old one, so a case keeps the exact version that decided it."""

    item_code = models.CharField(_("事项编码"), max_length=40, db_index=True)
    version = models.PositiveIntegerField(_("规则版本"), default=1)
    rules = models.JSONField(
        _("规则"),
        default=list,
        help_text=_(
            '[{"code": "age", "name": "年满18周岁", "expr": "applicant_age >= 18", "message": "未满18周岁"}]'
        ),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("修改说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("秒批规则集")
        verbose_name_plural = _("秒批规则集")
        ordering = ["item_code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["item_code", "version"], name="instant_rules_version_once"),
            models.UniqueConstraint(
                fields=["item_code"], condition=Q(is_active=True), name="instant_rules_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_code} v{self.version}"


class Bundle(models.Model):
    """一件事一次办: items of several departments applied for with one form, one set of materials, one submission."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        SUSPENDED = "suspended", _("已暂停")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(_("一件事编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=80)
    description = models.TextField(_("说明"), blank=True)
    audience = models.CharField(_("面向"), max_length=16, choices=Theme.Audience.choices)
    lead_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("牵头部门"),
        on_delete=models.PROTECT,
        related_name="led_bundles",
        help_text=_("受理一件事的评价与咨询"),
    )
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("一件事")
        verbose_name_plural = _("一件事")
        ordering = ["audience", "sort", "code"]
        indexes = [models.Index(fields=["status", "audience", "sort"])]

    def __str__(self) -> str:
        return self.name


class BundleItem(models.Model):
    """One item of a bundle, by item code (the published version is used at application time); `after` names
    the items of the same bundle whose approval it waits for (e.g. a permit after the licence)."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="members")
    item_code = models.CharField(_("事项编码"), max_length=40)
    after = models.JSONField(_("前置事项"), default=list, blank=True, help_text=_("须先准予的事项编码列表"))
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("一件事事项")
        verbose_name_plural = _("一件事事项")
        ordering = ["bundle", "sort", "id"]
        constraints = [models.UniqueConstraint(fields=["bundle", "item_code"], name="bundle_item_once")]

    def __str__(self) -> str:
        return self.item_code


class ProactivePolicy(models.Model):
    """免申即享: eligibility rules over the base registries and the item that is granted to those who meet them."""

    class Subject(models.TextChoices):
        PERSON = "person", _("自然人")
        ORGANISATION = "organisation", _("法人")

    class Mode(models.TextChoices):
        CONFIRM = "confirm", _("告知确认后办理")
        AUTOMATIC = "automatic", _("无感办理（自动办结）")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        ACTIVE = "active", _("启用")
        PAUSED = "paused", _("暂停")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(_("政策编码"), max_length=40, unique=True)
    name = models.CharField(_("政策名称"), max_length=80)
    description = models.TextField(_("政策说明"), blank=True, help_text=_("告知申请人的内容"))
    subject = models.CharField(_("享受对象"), max_length=16, choices=Subject.choices)
    item_code = models.CharField(_("兑现事项编码"), max_length=40, help_text=_("资格确认后办理并办结的事项"))
    rules = models.JSONField(
        _("资格规则"), default=list, help_text=_("与秒批规则格式相同，仅可使用基础库字段")
    )
    rules_version = models.PositiveIntegerField(_("规则版本"), default=1, editable=False)
    mode = models.CharField(_("兑现方式"), max_length=16, choices=Mode.choices, default=Mode.CONFIRM)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    evaluated_until = models.DateTimeField(
        _("已评估至"), null=True, blank=True, help_text=_("增量评估的数据变更水位")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("免申即享政策")
        verbose_name_plural = _("免申即享政策")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
