from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..fields import EncryptedTextField


class Person(models.Model):
    """自然人基础库. 身份证号 and phone are SM4-encrypted; *_index columns are HMAC-SM3 blind indexes."""

    class Gender(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("姓名"), max_length=50)
    id_number = EncryptedTextField(_("身份证号"), help_text=_("SM4 加密存储"))
    id_number_index = models.CharField(max_length=64, unique=True, editable=False)
    phone = EncryptedTextField(_("联系电话"), blank=True, default="", help_text=_("SM4 加密存储"))
    phone_index = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"), help_text=_("由身份证号推导"))
    division = models.ForeignKey(
        "core.Division",
        verbose_name=_("户籍/居住区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residents",
    )
    address = models.CharField(_("详细地址"), max_length=200, blank=True)
    is_deceased = models.BooleanField(_("已故"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("自然人")
        verbose_name_plural = _("自然人")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["division", "birth_date"]),
            # 免申即享 incremental evaluation reads the rows changed since the last run
            models.Index(fields=["updated_at", "id"], name="person_changed_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Organisation(models.Model):
    """法人基础库: enterprises, public institutions, social organisations."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("企业")
        INDIVIDUAL_BUSINESS = "individual_business", _("个体工商户")
        PUBLIC_INSTITUTION = "public_institution", _("事业单位")
        SOCIAL_ORGANISATION = "social_organisation", _("社会组织")

    class Status(models.TextChoices):
        ACTIVE = "active", _("存续")
        REVOKED = "revoked", _("吊销")
        CANCELLED = "cancelled", _("注销")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(_("类型"), max_length=32, choices=Kind.choices, default=Kind.ENTERPRISE)
    status = models.CharField(_("登记状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    registered_capital = models.DecimalField(
        _("注册资本（万元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    business_scope = models.TextField(_("经营范围"), blank=True)
    division = models.ForeignKey(
        "core.Division",
        verbose_name=_("住所区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organisations",
    )
    address = models.CharField(_("住所"), max_length=200, blank=True)
    employee_count = models.PositiveIntegerField(_("参保职工人数"), default=0)
    employee_count_prev = models.PositiveIntegerField(
        _("上年度参保职工人数"), default=0, help_text=_("社保部门回流，用于稳岗补贴等政策")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("法人")
        verbose_name_plural = _("法人")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["division", "status"]),
            models.Index(fields=["updated_at", "id"], name="organisation_changed_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Representation(models.Model):
    """A person acting for an organisation: 法定代表人 or an authorised agent (经办人)."""

    class Kind(models.TextChoices):
        LEGAL_REPRESENTATIVE = "legal_representative", _("法定代表人")
        AGENT = "agent", _("授权经办人")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="representations")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="representatives")
    kind = models.CharField(_("身份"), max_length=32, choices=Kind.choices)
    valid_until = models.DateField(_("授权截止"), null=True, blank=True, help_text=_("经办人授权的截止日期"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("法人代表/经办人")
        verbose_name_plural = _("法人代表/经办人")
        constraints = [
            models.UniqueConstraint(fields=["person", "organisation", "kind"], name="representation_once"),
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(kind="legal_representative"),
                name="one_legal_representative",
            ),
        ]
        indexes = [models.Index(fields=["person", "organisation"])]

    def __str__(self) -> str:
        return f"{self.person} → {self.organisation}（{self.get_kind_display()}）"
