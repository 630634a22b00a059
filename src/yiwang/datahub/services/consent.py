"""授权用数: a holder authorises a registered system or a third party to use named items of their data.

`consent_give` validates the items against the published catalogue, builds the consent record after ISO/IEC TS
27560 and the Kantara consent receipt (v1.1 field names), signs it with the platform's SM2 key and audits it;
`consent_revoke` takes effect at once (the gateway reads the row at every release, nothing is cached).

Contract used by the gateway: `consent_for_release(*, consent_id, system, resource, fields, person_id,
organisation_id)` returns the live Consent that covers this release, or raises `ConsentRefused(reason)`;
the gateway calls it for a grant that `requires_consent` and records the consent on the call. A release counts
one use: the count goes up in one `UPDATE … WHERE uses < max_uses`, so two nodes cannot both take the last use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.masking import mask_id_number
from yiwang.core.models import Account, Organisation, Person, RegisteredSystem, Representation
from yiwang.core.permissions import DATA_CENTRE
from yiwang.core.principal import Principal
from yiwang.core.validators import normalise_uscc, validate_uscc

from ..models import Consent, DataClass, DataResource
from ..vouchers import CONSENT_FORMAT, platform_sign

PURPOSE_MAX = 200
NAME_MAX = 120
CONSENT_MAX_DAYS = 366
DATA_LIFE_MAX_DAYS = 3650
MAX_USES_LIMIT = 1_000_000
MAX_ITEMS = 20
RECORD_VERSION = "ISO/IEC TS 27560:2023; Kantara CR v1.1"
JURISDICTION = "CN"
PERSON_TARGETS = ("core.person", "licences.licence")
ORGANISATION_TARGETS = ("core.organisation", "licences.licence")


class ConsentRefused(Exception):
    """No live consent of the data subject covers this release."""


# --- who holds what ---------------------------------------------------------------------------------------
def consent_holder(principal: Principal | None) -> tuple[Person | None, Organisation | None]:
    """(person, organisation) whose data the signed-in account speaks for: an enterprise account its
    organisation, anyone else their registered person; (None, None) for systems and accounts without either."""
    account = getattr(principal, "account", None)
    if account is None or getattr(principal, "system", None) is not None:
        return None, None
    if account.kind == Account.Kind.ENTERPRISE:
        return (None, account.organisation) if account.organisation_id else (None, None)
    return (account.person, None) if account.person_id else (None, None)


def may_act_for(account: Account, organisation: Organisation) -> bool:
    """The account's person is the organisation's 法定代表人, or an 授权经办人 whose authorisation runs today."""
    if account.person_id is None:
        return False
    today = timezone.localdate()
    return Representation.objects.filter(
        Q(kind=Representation.Kind.LEGAL_REPRESENTATIVE)
        | Q(kind=Representation.Kind.AGENT) & (Q(valid_until__isnull=True) | Q(valid_until__gte=today)),
        person_id=account.person_id,
        organisation_id=organisation.pk,
    ).exists()


def consentable_resources(*, organisation: bool) -> list[DataResource]:
    """The published platform resources a holder may name in a consent (with their fields, one query each)."""
    targets = ORGANISATION_TARGETS if organisation else PERSON_TARGETS
    return list(
        DataResource.objects.filter(
            status=DataResource.Status.PUBLISHED,
            mount_kind=DataResource.MountKind.REGISTRY,
            mount_target__in=targets,
        )
        .select_related("provider")
        .prefetch_related("fields")
        .order_by("code")
    )


# --- validation -------------------------------------------------------------------------------------------
def _clean_items(items, *, organisation: bool) -> tuple[list[dict], list[tuple[DataResource, list]]]:
    """[{resource, fields}] checked against the consentable resources: the stored items and, per item, the
    resource with its ResourceField rows (for the record's PII categories)."""
    if not isinstance(items, list) or not items:
        raise ValidationError({"items": _("请至少选择一项授权数据。")})
    if len(items) > MAX_ITEMS:
        raise ValidationError({"items": _("授权数据项最多 %(n)d 个资源。") % {"n": MAX_ITEMS}})
    resources = {r.code: r for r in consentable_resources(organisation=organisation)}
    merged: dict[str, list[str]] = {}
    for item in items:
        if not isinstance(item, Mapping):
            raise ValidationError({"items": _("授权数据项格式不正确。")})
        code = str(item.get("resource") or "").strip()
        fields = item.get("fields")
        resource = resources.get(code)
        if resource is None:
            raise ValidationError({"items": _("数据资源“%(code)s”不存在或不可授权。") % {"code": code[:40]}})
        if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
            raise ValidationError(
                {"items": _("请为数据资源“%(name)s”选择信息项。") % {"name": resource.name}}
            )
        known = {f.name for f in resource.fields.all()}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise ValidationError(
                {
                    "items": _("数据资源“%(name)s”没有信息项：%(fields)s")
                    % {"name": resource.name, "fields": "、".join(unknown)[:200]}
                }
            )
        bucket = merged.setdefault(code, [])
        bucket.extend(f for f in fields if f not in bucket)
    cleaned = [{"resource": code, "fields": sorted(fields)} for code, fields in sorted(merged.items())]
    detail = [(resources[c["resource"]], c["fields"]) for c in cleaned]
    return cleaned, detail


def _clean_grantee(
    *, grantee_kind, system_client_id, grantee_name, grantee_uscc
) -> tuple[RegisteredSystem | None, str, str]:
    kinds = Consent.GranteeKind
    system = None
    if system_client_id:
        system = (
            RegisteredSystem.objects.select_related("department")
            .filter(client_id=str(system_client_id).strip()[:64], is_active=True)
            .first()
        )
        if system is None:
            raise ValidationError({"system": _("没有找到启用中的接入系统。")})
    if grantee_kind == kinds.SYSTEM:
        if system is None:
            raise ValidationError({"system": _("请选择被授权的接入系统。")})
        return system, system.name, system.department.uscc or ""
    if grantee_kind == kinds.THIRD_PARTY:
        name = (grantee_name or "").strip()
        errors = {}
        if not name:
            errors["grantee_name"] = _("请填写被授权机构名称。")
        elif len(name) > NAME_MAX:
            errors["grantee_name"] = _("机构名称最多 %(n)d 字。") % {"n": NAME_MAX}
        uscc = normalise_uscc(grantee_uscc or "")
        try:
            validate_uscc(uscc)
        except ValidationError as exc:
            errors["grantee_uscc"] = exc.messages[0]
        if errors:
            raise ValidationError(errors)
        return system, name, uscc
    raise ValidationError({"grantee_kind": _("请选择被授权方类型。")})


def _clean_window(valid_until: datetime | None, now: datetime) -> datetime:
    if valid_until is None:
        raise ValidationError({"valid_until": _("请填写授权截止时间。")})
    if valid_until <= now:
        raise ValidationError({"valid_until": _("授权截止时间须晚于现在。")})
    if valid_until > now + timedelta(days=CONSENT_MAX_DAYS):
        raise ValidationError({"valid_until": _("授权期限最长一年。")})
    return valid_until


# --- the record (ISO/IEC TS 27560, Kantara consent receipt) -----------------------------------------------
def _principal_label(person: Person | None, organisation: Organisation | None) -> dict:
    if organisation is not None:
        return {"kind": "organisation", "name": organisation.name, "id": organisation.uscc}
    return {"kind": "person", "name": person.name, "id": mask_id_number(person.id_number)}


def consent_record(consent: Consent, *, person, organisation, detail, method: str) -> dict:
    """The signed consent record (field names after the Kantara consent receipt v1.1 / ISO/IEC TS 27560)."""
    pii_categories, sensitive = [], []
    for resource, fields in detail:
        labels = {f.name: f for f in resource.fields.all()}
        for name in fields:
            field = labels[name]
            pii_categories.append(f"{resource.name}·{field.label}")
            if field.data_class == DataClass.SENSITIVE_PERSONAL:
                sensitive.append(f"{resource.name}·{field.label}")
    controller = {
        "piiController": consent.grantee_name,
        "uscc": consent.grantee_uscc,
        "kind": consent.grantee_kind,
        "system": consent.grantee_system.client_id if consent.grantee_system_id else "",
    }
    return {
        "format": CONSENT_FORMAT,
        "version": RECORD_VERSION,
        "jurisdiction": JURISDICTION,
        "consentTimestamp": int(consent.valid_from.timestamp()),
        "consentTime": consent.valid_from.isoformat(),
        "collectionMethod": method,
        "consentReceiptID": str(consent.public_id),
        "language": "zh-CN",
        "piiPrincipalId": _principal_label(person, organisation),
        "piiControllers": [controller],
        "policyUrl": "/data/consents/",
        "services": [
            {
                "service": consent.purpose,
                "purposes": [
                    {
                        "purpose": consent.purpose,
                        "consentType": "EXPLICIT",
                        "purposeCategory": ["授权用数"],
                        "piiCategory": pii_categories,
                        "primaryPurpose": True,
                        "termination": consent.valid_until.isoformat(),
                        "thirdPartyDisclosure": consent.grantee_kind == Consent.GranteeKind.THIRD_PARTY,
                        "thirdPartyName": consent.grantee_name
                        if consent.grantee_kind == Consent.GranteeKind.THIRD_PARTY
                        else "",
                    }
                ],
            }
        ],
        "items": consent.items,
        "sensitive": bool(sensitive),
        "spiCat": sensitive,
        "mode": consent.mode,
        "validFrom": consent.valid_from.isoformat(),
        "validUntil": consent.valid_until.isoformat(),
        "frequency": {"maxUses": consent.max_uses},
        "dataLifeDays": consent.data_life_days,
        "givenBy": "representative" if organisation is not None else "self",
        "revocation": "/data/consents/",
    }


def _audit(actor, action: str, consent: Consent, **extra):
    return audit_record(
        actor=actor,
        action=action,
        object_type="data_consent",
        object_id=str(consent.public_id),
        after={
            "grantee_kind": consent.grantee_kind,
            "grantee": consent.grantee_name,
            "purpose": consent.purpose,
            "items": consent.items,
            "mode": consent.mode,
            "valid_until": consent.valid_until.isoformat(),
            "max_uses": consent.max_uses,
            **extra,
        },
    )


# --- use cases --------------------------------------------------------------------------------------------
def consent_give(
    *,
    actor: Principal,
    grantee_kind: str,
    items,
    purpose: str,
    valid_until: datetime | None,
    system_client_id: str = "",
    grantee_name: str = "",
    grantee_uscc: str = "",
    mode: str = Consent.Mode.VIEW,
    max_uses: int | None = None,
    data_life_days: int | None = None,
    method: str = "web",
) -> Consent:
    """授权用数 by the holder (a citizen for themselves; for an enterprise its legal representative or an
    authorised 经办人). Returns the signed, audited consent."""
    person, organisation = consent_holder(actor)
    if person is None and organisation is None:
        raise PermissionDenied(_("只有实名认证的个人或法人用户可以授权使用本人（本单位）数据。"))
    if organisation is not None and not may_act_for(actor.account, organisation):
        raise PermissionDenied(_("法人授权须由法定代表人或在授权期内的经办人办理。"))
    now = timezone.now()
    errors: dict[str, str] = {}

    def collect(func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
            return None

    grantee = collect(
        _clean_grantee,
        grantee_kind=grantee_kind,
        system_client_id=system_client_id,
        grantee_name=grantee_name,
        grantee_uscc=grantee_uscc,
    )
    cleaned = collect(_clean_items, items, organisation=organisation is not None)
    valid_until = collect(_clean_window, valid_until, now)
    purpose = (purpose or "").strip()
    if not purpose:
        errors["purpose"] = _("请填写用途。")
    elif len(purpose) > PURPOSE_MAX:
        errors["purpose"] = _("用途最多 %(n)d 字。") % {"n": PURPOSE_MAX}
    if mode not in Consent.Mode.values:
        errors["mode"] = _("请选择使用方式。")
    if max_uses is not None and not (1 <= int(max_uses) <= MAX_USES_LIMIT):
        errors["max_uses"] = _("使用次数上限应在 1 到 %(n)d 之间。") % {"n": MAX_USES_LIMIT}
    if mode == Consent.Mode.STORE:
        if data_life_days is None:
            errors["data_life_days"] = _("可留存方式须填写留存期限。")
        elif not (1 <= int(data_life_days) <= DATA_LIFE_MAX_DAYS):
            errors["data_life_days"] = _("留存期限应在 1 到 %(n)d 天之间。") % {"n": DATA_LIFE_MAX_DAYS}
    else:
        data_life_days = None
    if errors:
        raise ValidationError(errors)
    system, name, uscc = grantee
    items_clean, detail = cleaned
    with transaction.atomic():
        consent = Consent(
            holder_person=person,
            holder_organisation=organisation,
            given_by=actor.account,
            grantee_kind=grantee_kind,
            grantee_system=system,
            grantee_name=name,
            grantee_uscc=uscc,
            purpose=purpose,
            items=items_clean,
            mode=mode,
            valid_from=now,
            valid_until=valid_until,
            max_uses=max_uses,
            data_life_days=data_life_days,
        )
        consent.record = consent_record(
            consent, person=person, organisation=organisation, detail=detail, method=method
        )
        _digest, consent.signature, consent.key_id = platform_sign(consent.record)
        consent.save(force_insert=True)
        entry = _audit(actor, "datahub.consent_give", consent, signature_key=consent.key_id)
        consent.audit_uuid = entry.uuid
        consent.save(update_fields=["audit_uuid"])
    return consent


def consent_revoke(*, actor: Principal, consent: Consent, reason: str = "") -> Consent:
    """撤回授权 by the holder (or by the big-data centre, with a reason: the admin's action): at once; the next
    release through it is refused on every node."""
    reason = (reason or "").strip()
    if len(reason) > PURPOSE_MAX:
        raise ValidationError({"reason": _("原因最多 %(n)d 字。") % {"n": PURPOSE_MAX}})
    person, organisation = consent_holder(actor)
    with transaction.atomic():
        consent = Consent.objects.select_for_update().get(pk=consent.pk)
        own = (person is not None and consent.holder_person_id == person.pk) or (
            organisation is not None and consent.holder_organisation_id == organisation.pk
        )
        operator = not own and actor.has(DATA_CENTRE)
        if not own and not operator:
            raise PermissionDenied(_("只有授权人可以撤回该授权。"))
        if operator and not reason:
            raise ValidationError({"reason": _("大数据中心撤回授权须说明原因。")})
        if own and organisation is not None and not may_act_for(actor.account, organisation):
            raise PermissionDenied(_("法人授权须由法定代表人或在授权期内的经办人撤回。"))
        if consent.status == Consent.Status.REVOKED:
            raise ValidationError({"consent": _("该授权已撤回。")})
        consent.status = Consent.Status.REVOKED
        consent.revoked_at = timezone.now()
        consent.save(update_fields=["status", "revoked_at"])
        _audit(actor, "datahub.consent_revoke", consent, reason=reason, by="holder" if own else "data_centre")
    return consent


def consent_is_live(consent: Consent, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        consent.status == Consent.Status.ACTIVE
        and consent.valid_from <= now < consent.valid_until
        and (consent.max_uses is None or consent.uses < consent.max_uses)
    )


def consent_display_status(consent: Consent, now: datetime | None = None) -> str:
    """active / revoked / expired / used_up, as the holder should read it now."""
    now = now or timezone.now()
    if consent.status == Consent.Status.REVOKED:
        return "revoked"
    if consent.status == Consent.Status.EXPIRED or consent.valid_until <= now:
        return "expired"
    if consent.max_uses is not None and consent.uses >= consent.max_uses:
        return "used_up"
    return "active"


def consent_for_release(
    *,
    consent_id,
    system,
    resource,
    fields: Iterable[str],
    person_id: int | None = None,
    organisation_id: int | None = None,
) -> Consent:
    """The live consent of this release's data subject that lets `system` receive `fields` of `resource`; counts
    one use. Raises ConsentRefused with the reason (in Chinese) otherwise."""
    try:
        public_id = UUID(str(consent_id or "").strip())
    except (TypeError, ValueError):
        raise ConsentRefused(_("未提供有效的授权编号（X-Consent-Id）。")) from None
    consent = Consent.objects.filter(public_id=public_id).first()
    if consent is None:
        raise ConsentRefused(_("授权不存在。"))
    if person_id is None and organisation_id is None:
        raise ConsentRefused(_("本次调用没有确定的数据主体。"))
    if person_id is not None and consent.holder_person_id != person_id:
        raise ConsentRefused(_("该授权不是本次数据主体作出的。"))
    if organisation_id is not None and consent.holder_organisation_id != organisation_id:
        raise ConsentRefused(_("该授权不是本次数据主体作出的。"))
    if consent.status == Consent.Status.REVOKED:
        raise ConsentRefused(_("数据主体已撤回该授权。"))
    now = timezone.now()
    if consent.status == Consent.Status.EXPIRED or consent.valid_until <= now:
        raise ConsentRefused(_("授权已过期。"))
    if consent.valid_from > now:
        raise ConsentRefused(_("授权尚未生效。"))
    if system is None or consent.grantee_system_id != getattr(system, "pk", None):
        raise ConsentRefused(_("该授权未授予本接入系统。"))
    code = getattr(resource, "code", "")
    allowed: set[str] = set()
    for item in consent.items or []:
        if isinstance(item, Mapping) and item.get("resource") == code:
            allowed |= {f for f in item.get("fields") or [] if isinstance(f, str)}
    if not allowed:
        raise ConsentRefused(_("授权不包含该数据资源。"))
    outside = sorted(set(fields) - allowed)
    if outside:
        raise ConsentRefused(_("信息项不在授权范围内：%(fields)s") % {"fields": "、".join(outside)[:200]})
    counted = (
        Consent.objects.filter(pk=consent.pk, status=Consent.Status.ACTIVE, valid_until__gt=now)
        .filter(Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
        .update(uses=F("uses") + 1)
    )
    if not counted:
        consent.refresh_from_db(fields=["status", "uses", "max_uses"])
        if consent.status == Consent.Status.REVOKED:
            raise ConsentRefused(_("数据主体已撤回该授权。"))
        raise ConsentRefused(_("授权的使用次数已用完。"))
    consent.uses += 1
    return consent
