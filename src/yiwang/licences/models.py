"""电子证照 and 电子印章: seals, licence types, licences with their SM2 seal signature, history, authorised use
(授权用证), disputes (质量异议) and batch imports."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import EncryptedTextField

from .codes import verify_code_new


class Seal(models.Model):
    """电子印章: an SM2 key pair held in the keystore (`seal_key_create(key_id)`), never leaving it; the public key
    is published here for offline verification."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("有效")
        SUSPENDED = "suspended", _("已暂停")
        REVOKED = "revoked", _("已注销")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    key_id = models.CharField(_("密钥标识"), max_length=64, unique=True, editable=False)
    department = models.ForeignKey(
        "core.Department", verbose_name=_("所属部门"), on_delete=models.PROTECT, related_name="seals"
    )
    name = models.CharField(
        _("印章名称"), max_length=80, help_text=_("如：云岭区市场监督管理局行政审批专用章")
    )
    image = models.FileField(
        _("印章图片"), upload_to="seals/", blank=True, help_text=_("留空则按部门名称生成圆形红色印章")
    )
    public_key_hex = models.CharField(_("SM2 公钥"), max_length=130, editable=False)
    valid_from = models.DateField(_("启用日期"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(_("状态说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("电子印章")
        verbose_name_plural = _("电子印章")
        ordering = ["department", "id"]

    def __str__(self) -> str:
        return self.name


class LicenceType(models.Model):
    """证照类型: what a licence of this type says (face fields), who issues it, how long it is valid."""

    class HolderKind(models.TextChoices):
        PERSON = "person", _("自然人")
        ORGANISATION = "organisation", _("法人")

    class Validity(models.TextChoices):
        YEARS = "years", _("固定年限")
        PERMANENT = "permanent", _("长期有效")
        UNTIL = "until", _("签发时指定截止日期")

    code = models.SlugField(_("证照类型代码"), max_length=40, unique=True, help_text=_("如 yyzz 营业执照"))
    name = models.CharField(_("证照名称"), max_length=60)
    department = models.ForeignKey(
        "core.Department", verbose_name=_("签发部门"), on_delete=models.PROTECT, related_name="licence_types"
    )
    holder_kind = models.CharField(_("持证主体"), max_length=16, choices=HolderKind.choices)
    face_fields = models.JSONField(
        _("照面要素"),
        default=list,
        help_text=_(
            '[{"name": "shop_name", "label": "经营者名称", "type": "string", "required": true, '
            '"public": true, "source": "form:shop_name"}]'
        ),
    )
    validity = models.CharField(
        _("有效期规则"), max_length=16, choices=Validity.choices, default=Validity.YEARS
    )
    validity_years = models.PositiveSmallIntegerField(_("有效年限"), null=True, blank=True)
    layout = models.JSONField(
        _("版式"), default=dict, blank=True, help_text=_("打印版式：标题、颜色、要素顺序")
    )
    is_reference = models.BooleanField(
        _("参照类型"), default=False, help_text=_("由其他系统签发、本平台只登记的证照（如居民身份证）")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("证照类型")
        verbose_name_plural = _("证照类型")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Licence(models.Model):
    """电子证照: one version of a licence. The seal signature covers the canonical serialisation of the identifier,
    type, issuer, holder, face fields, dates and version (licences.signing); a correction is a new version and
    the old one is superseded."""

    class Status(models.TextChoices):
        VALID = "valid", _("有效")
        SUSPENDED = "suspended", _("已暂停")
        REVOKED = "revoked", _("已注销")
        EXPIRED = "expired", _("已过期")
        SUPERSEDED = "superseded", _("已被更正版本取代")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    identifier = models.CharField(_("证照标识"), max_length=80, unique=True)
    verify_token = models.CharField(
        max_length=43, unique=True, editable=False, help_text=_("核验二维码中的随机令牌")
    )
    verify_code = EncryptedTextField(
        _("核验码"),
        default=verify_code_new,
        editable=False,
        help_text=_("印在证照上的 8 位随机核验码，SM4 加密；凭证照标识和核验码可公开核验照面信息"),
    )
    licence_type = models.ForeignKey(LicenceType, on_delete=models.PROTECT, related_name="licences")
    issuer = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="issued_licences")
    seal = models.ForeignKey(Seal, on_delete=models.PROTECT, related_name="licences")
    holder_person = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="licences"
    )
    holder_organisation = models.ForeignKey(
        "core.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="licences"
    )
    holder_name = models.CharField(_("持证主体名称"), max_length=120)
    holder_id = EncryptedTextField(_("持证主体证件号码"), help_text=_("身份证号或统一社会信用代码，SM4 加密"))
    holder_index = models.CharField(max_length=64, db_index=True, editable=False)
    face = models.JSONField(_("照面信息"), default=dict)
    issued_on = models.DateField(_("签发日期"))
    expires_on = models.DateField(_("有效期至"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.VALID)
    status_reason = models.CharField(_("状态说明"), max_length=300, blank=True)
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="licences",
        help_text=_("产生该证照的办件"),
    )
    digest = models.CharField(_("SM3 摘要"), max_length=64)
    signature = models.CharField(_("SM2 签名"), max_length=200)
    signed_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(holder_person__isnull=False) & Q(holder_organisation__isnull=True))
                | (Q(holder_person__isnull=True) & Q(holder_organisation__isnull=False)),
                name="licence_one_holder",
            ),
        ]
        indexes = [
            models.Index(fields=["holder_person", "-id"], name="licence_person_idx"),
            models.Index(fields=["holder_organisation", "-id"], name="licence_org_idx"),
            models.Index(fields=["issuer", "status", "-id"], name="licence_issuer_idx"),
            models.Index(fields=["status", "expires_on"], name="licence_expiry_idx"),
        ]

    def __str__(self) -> str:
        return self.identifier


class LicenceEvent(models.Model):
    """Add-only history of a licence: issued, suspended, resumed, revoked, expired, corrected, superseded,
    disputed, shown, used."""

    licence = models.ForeignKey(Licence, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("动作"), max_length=32)
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    actor_label = models.CharField(_("经办"), max_length=100, blank=True)
    actor_account = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("证照记录")
        verbose_name_plural = _("证照记录")
        ordering = ["licence", "id"]


class LicenceShowToken(models.Model):
    """亮证: a short-lived token behind the QR code the holder shows; verification by it works until it expires."""

    token = models.CharField(max_length=43, unique=True)
    licence = models.ForeignKey(Licence, on_delete=models.CASCADE, related_name="show_tokens")
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]


class LicenceGrant(models.Model):
    """授权用证: the holder lets a department, a case or a registered system use a licence for a purpose until an
    expiry; revocable; every use is logged (LicenceUse) and visible to the holder."""

    class GranteeKind(models.TextChoices):
        DEPARTMENT = "department", _("部门")
        CASE = "case", _("办件")
        SYSTEM = "system", _("接入系统")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="grants")
    grantee_kind = models.CharField(_("被授权方类型"), max_length=16, choices=GranteeKind.choices)
    grantee_department = models.ForeignKey(
        "core.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="licence_grants"
    )
    grantee_case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="licence_grants"
    )
    grantee_system = models.ForeignKey(
        "core.RegisteredSystem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="licence_grants",
    )
    purpose = models.CharField(_("用途"), max_length=200)
    expires_at = models.DateTimeField(_("授权截止"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    material_code = models.CharField(
        max_length=40, blank=True, help_text=_("免证办：该授权代替的申请材料编码")
    )
    created_by = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("授权用证")
        verbose_name_plural = _("授权用证")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(grantee_kind="department") & Q(grantee_department__isnull=False))
                | (Q(grantee_kind="case") & Q(grantee_case__isnull=False))
                | (Q(grantee_kind="system") & Q(grantee_system__isnull=False)),
                name="licence_grant_grantee",
            ),
        ]
        indexes = [
            models.Index(fields=["licence", "-id"], name="licence_grant_idx"),
            models.Index(fields=["grantee_case"], name="licence_grant_case_idx"),
        ]


class LicenceUse(models.Model):
    """One read of a licence through a grant (who, when, for what)."""

    grant = models.ForeignKey(LicenceGrant, on_delete=models.PROTECT, related_name="uses")
    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="uses")
    used_by_label = models.CharField(max_length=120)
    used_by_account = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    used_by_system = models.ForeignKey(
        "core.RegisteredSystem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("用证记录")
        verbose_name_plural = _("用证记录")
        ordering = ["-id"]
        indexes = [models.Index(fields=["licence", "-id"], name="licence_use_idx")]


class LicenceDispute(models.Model):
    """质量异议: the holder reports wrong data; the issuer corrects it (a new version) or rejects with reasons."""

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        CORRECTED = "corrected", _("已更正")
        REJECTED = "rejected", _("不予更正")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="disputes")
    raised_by = models.ForeignKey("core.Account", on_delete=models.PROTECT, related_name="+")
    fields = models.JSONField(_("有误的要素"), default=list)
    description = models.TextField(_("异议说明"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.OPEN)
    resolution = models.TextField(_("处理意见"), blank=True)
    resolved_by = models.ForeignKey(
        "core.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    corrected_licence = models.ForeignKey(
        Licence, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("证照质量异议")
        verbose_name_plural = _("证照质量异议")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "id"], name="licence_dispute_idx")]


class LicenceImport(models.Model):
    """A CSV batch of licences of one type, run as a background job (services.imports): the request stores the
    file (SM4-encrypted) and queues it; the job checks every row (a dry run stops there and reports the row
    errors) and, for a real run without errors, issues every row. Progress: `processed_rows` of `total_rows`."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        CHECKING = "checking", _("检查中")
        ISSUING = "issuing", _("签发中")
        CHECKED = "checked", _("已预检")
        IMPORTED = "imported", _("已导入")
        FAILED = "failed", _("导入失败")
        ERROR = "error", _("处理出错")

    RUNNING = (Status.QUEUED, Status.CHECKING, Status.ISSUING)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    licence_type = models.ForeignKey(LicenceType, on_delete=models.PROTECT, related_name="imports")
    uploaded_by = models.ForeignKey(
        "core.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_by_system = models.ForeignKey(
        "core.RegisteredSystem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("经接口上传的接入系统"),
    )
    file_name = models.CharField(max_length=200)
    file_sm3 = models.CharField(max_length=64)
    upload = models.FileField(
        upload_to="licence_imports/",
        blank=True,
        help_text=_("待处理的文件（SM4 加密），任务结束后删除"),
    )
    dry_run = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0, help_text=_("已检查的数据行数（进度）"))
    ok_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, help_text=_("[{row, field, message}]，最多 500 条"))
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("证照批量导入")
        verbose_name_plural = _("证照批量导入")
        ordering = ["-id"]

    @property
    def running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def progress(self) -> int:
        """Percent done (0–100)."""
        if not self.running:
            return 100
        if self.status == self.Status.ISSUING:
            return 99
        if not self.total_rows:
            return 0
        return min(98, self.processed_rows * 100 // self.total_rows)


class LicenceSequence(models.Model):
    """Serial counter per licence type, issuer and year (row-locked; batch imports take a block at once)."""

    licence_type = models.ForeignKey(LicenceType, on_delete=models.CASCADE, related_name="+")
    issuer = models.ForeignKey("core.Department", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["licence_type", "issuer", "year"], name="licence_sequence_once")
        ]
