from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..fields import EncryptedTextField


class Account(AbstractUser):
    """统一身份认证: one login for citizens, enterprise users and staff."""

    class Kind(models.TextChoices):
        CITIZEN = "citizen", _("个人用户")
        ENTERPRISE = "enterprise", _("法人用户")
        STAFF = "staff", _("公务人员")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("账户类型"), max_length=16, choices=Kind.choices, default=Kind.CITIZEN)
    person = models.OneToOneField(
        "core.Person",
        verbose_name=_("实名自然人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="account",
    )
    organisation = models.ForeignKey(
        "core.Organisation",
        verbose_name=_("所代表法人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
        help_text=_("法人用户登录后代表的单位"),
    )
    totp_secret = EncryptedTextField(_("动态口令密钥"), blank=True, default="", help_text=_("SM4 加密存储"))
    totp_confirmed_at = models.DateTimeField(_("动态口令绑定时间"), null=True, blank=True)
    totp_last_step = models.BigIntegerField(
        default=0, editable=False, help_text=_("防止同一动态口令被重复使用")
    )
    failed_logins = models.PositiveSmallIntegerField(_("连续失败次数"), default=0)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("账户")
        verbose_name_plural = _("账户")

    def __str__(self) -> str:
        return self.username


class RegisteredSystem(models.Model):
    """接入系统: another government application calling the API machine to machine (client credentials)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client_id = models.CharField(_("客户端标识"), max_length=64, unique=True)
    name = models.CharField(_("系统名称"), max_length=100)
    department = models.ForeignKey(
        "core.Department", verbose_name=_("责任部门"), on_delete=models.PROTECT, related_name="systems"
    )
    secret_hash = models.CharField(
        max_length=256, editable=False, help_text=_("argon2 摘要，明文只在创建时显示一次")
    )
    scopes = models.JSONField(_("授权范围"), default=list, help_text=_("权限代码列表，如 division.view"))
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("接入系统")
        verbose_name_plural = _("接入系统")

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token for the API. Only the SM3 digest of the token is stored."""

    digest = models.CharField(max_length=64, unique=True, editable=False)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens"
    )
    system = models.ForeignKey(
        RegisteredSystem, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens"
    )
    scopes = models.JSONField(default=list, help_text=_("系统令牌的授权范围；账户令牌按角色授权"))
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(account__isnull=False, system__isnull=True)
                | models.Q(account__isnull=True, system__isnull=False),
                name="token_has_one_owner",
            )
        ]
