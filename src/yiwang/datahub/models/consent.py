"""授权用数: a holder's consent for a service or a third party to use named data, and 数据资产凭证.

The consent record follows ISO/IEC TS 27560 and the Kantara consent receipt (controller, purpose, items, mode,
window, frequency, data life), like an Account Aggregator consent artefact; it is SM2-signed, checked by the
gateway at every release, and revocable at once.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Consent(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("有效")
        REVOKED = "revoked", _("已撤回")
        EXPIRED = "expired", _("已到期")

    class Mode(models.TextChoices):
        VIEW = "view", _("仅查看，不留存")
        STORE = "store", _("可留存")

    class GranteeKind(models.TextChoices):
        SYSTEM = "system", _("政务服务系统")
        THIRD_PARTY = "third_party", _("第三方机构（银行、公用事业等）")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    holder_person = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="data_consents"
    )
    holder_organisation = models.ForeignKey(
        "core.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="data_consents"
    )
    given_by = models.ForeignKey(
        "core.Account",
        verbose_name=_("授权人"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("本人；法人授权为法定代表人或被授权的经办人"),
    )
    grantee_kind = models.CharField(_("被授权方类型"), max_length=16, choices=GranteeKind.choices)
    grantee_system = models.ForeignKey(
        "core.RegisteredSystem", null=True, blank=True, on_delete=models.PROTECT, related_name="data_consents"
    )
    grantee_name = models.CharField(_("被授权方"), max_length=120)
    grantee_uscc = models.CharField(_("被授权方统一社会信用代码"), max_length=18, blank=True)
    purpose = models.CharField(_("用途"), max_length=200)
    items = models.JSONField(
        _("授权数据项"), default=list, help_text=_('[{"resource": 资源代码, "fields": [字段名…]}]')
    )
    mode = models.CharField(_("使用方式"), max_length=8, choices=Mode.choices, default=Mode.VIEW)
    valid_from = models.DateTimeField(_("生效时间"))
    valid_until = models.DateTimeField(_("失效时间"))
    max_uses = models.PositiveIntegerField(_("使用次数上限"), null=True, blank=True)
    uses = models.PositiveIntegerField(_("已使用次数"), default=0)
    data_life_days = models.PositiveIntegerField(
        _("留存期限（天）"), null=True, blank=True, help_text=_("可留存方式下数据的保存期限")
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    revoked_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    record = models.JSONField(_("授权记录（ISO/IEC TS 27560）"), default=dict, editable=False)
    signature = models.CharField(_("SM2 签名"), max_length=256, blank=True, editable=False)
    key_id = models.CharField(max_length=64, blank=True, editable=False)
    audit_uuid = models.UUIDField(_("存证条目"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("授权用数")
        verbose_name_plural = _("授权用数")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(holder_person__isnull=False, holder_organisation__isnull=True)
                | models.Q(holder_person__isnull=True, holder_organisation__isnull=False),
                name="consent_has_one_holder",
            )
        ]
        indexes = [
            models.Index(fields=["holder_person", "status", "id"]),
            models.Index(fields=["holder_organisation", "status", "id"]),
            models.Index(fields=["grantee_system", "status"]),
        ]


class DataVoucher(models.Model):
    """数据资产凭证: a signed data package the holder downloads and presents elsewhere, verifiable offline and on a
    public page (like the offline licence file)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    holder_person = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="data_vouchers"
    )
    holder_organisation = models.ForeignKey(
        "core.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="data_vouchers"
    )
    issued_by = models.ForeignKey("core.Account", on_delete=models.PROTECT, related_name="+")
    items = models.JSONField(_("数据项"), default=list)
    digest = models.CharField(_("内容摘要（SM3）"), max_length=64)
    payload = models.JSONField(
        _("签名内容"), default=dict, editable=False, help_text=_("规范化 JSON 签名的内容")
    )
    signature = models.CharField(_("SM2 签名"), max_length=256, blank=True, editable=False)
    key_id = models.CharField(_("签名密钥"), max_length=64, blank=True, editable=False)
    issued_at = models.DateTimeField(_("签发时间"))
    expires_at = models.DateTimeField(_("有效期至"))
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("数据资产凭证")
        verbose_name_plural = _("数据资产凭证")
        ordering = ["-issued_at"]
        indexes = [
            models.Index(fields=["holder_person", "-issued_at"]),
            models.Index(fields=["holder_organisation", "-issued_at"]),
        ]
