"""我的数据 writes: 数据资产凭证 (issue, revoke) and the staff audit of a subject's data uses.

A voucher is the holder's chosen items of their own data (人口基础信息 or 法人基础信息 fields, their licences),
taken from the registries at the moment of issue (never from the client), signed with the platform's SM2 key as
canonical JSON (`datahub/vouchers.py`) and stored, so that the download is the same file every time and the public
page can tell a revoked voucher.

`data_uses_audit` is how a staff auditor (DATA_AUDIT) reads every use of one subject's data, covert ones
included: the subject is found through the blind index, the purpose is required, the search is audited and every
covert use shown is audited again, one entry each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.keystore import keystore
from yiwang.core.masking import mask_id_number
from yiwang.core.models import Organisation, Person
from yiwang.core.pagination import DEFAULT_LIMIT, Page
from yiwang.core.permissions import DATA_AUDIT
from yiwang.core.principal import Principal
from yiwang.core.validators import normalise_id_number, normalise_uscc, validate_id_number, validate_uscc
from yiwang.licences.models import Licence

from ..models import DataResource, DataVoucher
from ..selectors.mydata import holder_of, subject_calls_page, use_rows
from ..vouchers import VOUCHER_FORMAT, platform_sign

VOUCHER_DEFAULT_DAYS = 90
VOUCHER_MAX_DAYS = 366
PURPOSE_MAX = 200

# What a voucher may carry, per source: field name -> label (the reader contract's field names).
PERSON_FIELDS: dict[str, str] = {
    "name": "姓名",
    "id_number": "公民身份号码（脱敏）",
    "gender": "性别",
    "birth_date": "出生日期",
    "division_code": "行政区划代码",
    "division_name": "区划名称",
    "address": "居住地址",
}
ORGANISATION_FIELDS: dict[str, str] = {
    "uscc": "统一社会信用代码",
    "name": "单位名称",
    "kind": "法人类型",
    "status": "登记状态",
    "established_on": "成立日期",
    "registered_capital": "注册资本（万元）",
    "business_scope": "经营范围",
    "division_code": "行政区划代码",
    "address": "住所",
    "employee_count": "参保职工人数",
}
LICENCE_FIELDS: dict[str, str] = {
    "licence_id": "证照标识",
    "type_code": "证照类型代码",
    "type_name": "证照类型",
    "status": "证照状态",
    "issued_on": "发证日期",
    "valid_until": "有效期截止日期",
    "issuer": "发证机关",
}
SOURCES = {
    "person": ("core.person", "人口基础信息", PERSON_FIELDS),
    "organisation": ("core.organisation", "法人基础信息", ORGANISATION_FIELDS),
    "licences": ("licences.licence", "电子证照", LICENCE_FIELDS),
}
LICENCE_LIMIT = 100


def voucher_sources(*, organisation: bool) -> list[tuple[str, str, dict[str, str]]]:
    """(source key, title, {field: label}) a holder of this kind may put in a voucher."""
    keys = ("organisation", "licences") if organisation else ("person", "licences")
    return [(k, SOURCES[k][1], SOURCES[k][2]) for k in keys]


def _provider_names() -> dict[str, tuple[str, str]]:
    """{mount target: (resource code, provider name)} of the published platform resources."""
    out: dict[str, tuple[str, str]] = {}
    for target, code, name in (
        DataResource.objects.filter(
            status=DataResource.Status.PUBLISHED,
            mount_kind=DataResource.MountKind.REGISTRY,
            mount_target__in=[s[0] for s in SOURCES.values()],
        )
        .order_by("code", "-version")
        .values_list("mount_target", "code", "provider__name")
    ):
        out.setdefault(target, (code, name))
    return out


def _person_record(person: Person) -> dict:
    return {
        "name": person.name,
        # masked: the voucher is stored (JSON, not encrypted) and travels; the full number never leaves the registry
        "id_number": mask_id_number(person.id_number),
        "gender": person.get_gender_display(),
        "birth_date": person.birth_date.isoformat(),
        "division_code": person.division.code if person.division_id else "",
        "division_name": person.division.name if person.division_id else "",
        "address": person.address,
    }


def _organisation_record(org: Organisation) -> dict:
    return {
        "uscc": org.uscc,
        "name": org.name,
        "kind": org.get_kind_display(),
        "status": org.get_status_display(),
        "established_on": org.established_on.isoformat() if org.established_on else "",
        "registered_capital": str(org.registered_capital) if org.registered_capital is not None else "",
        "business_scope": org.business_scope,
        "division_code": org.division.code if org.division_id else "",
        "address": org.address,
        "employee_count": org.employee_count,
    }


def _licence_records(q) -> list[dict]:
    rows = (
        Licence.objects.filter(q, status=Licence.Status.VALID)
        .select_related("licence_type", "issuer")
        .order_by("-issued_on", "-id")[:LICENCE_LIMIT]
    )
    return [
        {
            "licence_id": lic.identifier,
            "type_code": lic.licence_type.code,
            "type_name": lic.licence_type.name,
            "status": lic.get_status_display(),
            "issued_on": lic.issued_on.isoformat(),
            "valid_until": lic.expires_on.isoformat() if lic.expires_on else "",
            "issuer": lic.issuer.name,
        }
        for lic in rows
    ]


def _clean_voucher_items(items, *, organisation: bool) -> list[tuple[str, list[str]]]:
    allowed = {k: fields for k, _title, fields in voucher_sources(organisation=organisation)}
    if not isinstance(items, list) or not items:
        raise ValidationError({"items": _("请至少选择一项数据。")})
    chosen: dict[str, list[str]] = {}
    for item in items:
        if not isinstance(item, dict):
            raise ValidationError({"items": _("数据项格式不正确。")})
        source = str(item.get("source") or "")
        if source not in allowed:
            raise ValidationError({"items": _("不能放入凭证的数据：%(s)s") % {"s": source[:40]}})
        fields = item.get("fields") or list(allowed[source])
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise ValidationError({"items": _("数据项格式不正确。")})
        unknown = sorted(set(fields) - set(allowed[source]))
        if unknown:
            raise ValidationError({"items": _("没有信息项：%(f)s") % {"f": "、".join(unknown)[:200]}})
        bucket = chosen.setdefault(source, [])
        bucket.extend(f for f in fields if f not in bucket)
    return [(source, [f for f in allowed[source] if f in fields]) for source, fields in chosen.items()]


def voucher_issue(
    *, actor: Principal, items, valid_days: int = VOUCHER_DEFAULT_DAYS, purpose: str = ""
) -> DataVoucher:
    """数据资产凭证: the holder's chosen data, from the registries now, signed and stored."""
    holder = holder_of(actor)
    if not holder.exists:
        raise PermissionDenied(_("只有实名认证的个人或法人用户可以申领数据资产凭证。"))
    errors: dict[str, str] = {}
    try:
        chosen = _clean_voucher_items(items, organisation=holder.organisation is not None)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        chosen = []
    try:
        valid_days = int(valid_days)
    except (TypeError, ValueError):
        valid_days = 0
    if not 1 <= valid_days <= VOUCHER_MAX_DAYS:
        errors["valid_days"] = _("有效期应在 1 到 %(n)d 天之间。") % {"n": VOUCHER_MAX_DAYS}
    purpose = (purpose or "").strip()
    if len(purpose) > PURPOSE_MAX:
        errors["purpose"] = _("用途最多 %(n)d 字。") % {"n": PURPOSE_MAX}
    if errors:
        raise ValidationError(errors)
    now = timezone.now().replace(microsecond=0)
    providers = _provider_names()
    if holder.organisation is not None:
        org = Organisation.objects.select_related("division").get(pk=holder.organisation.pk)
        holder_doc = {"kind": "organisation", "name": org.name, "id": org.uscc}
        registry_record = _organisation_record(org)
        licence_q = {"holder_organisation_id": org.pk}
    else:
        person = Person.objects.select_related("division").get(pk=holder.person.pk)
        holder_doc = {"kind": "person", "name": person.name, "id": mask_id_number(person.id_number)}
        registry_record = _person_record(person)
        licence_q = {"holder_person_id": person.pk}
    from django.db.models import Q

    payload_items = []
    for source, fields in chosen:
        target, title, labels = SOURCES[source]
        code, provider = providers.get(target, ("", ""))
        if source == "licences":
            records = [{f: r[f] for f in fields} for r in _licence_records(Q(**licence_q))]
        else:
            records = [{f: registry_record[f] for f in fields}]
        payload_items.append(
            {
                "source": source,
                "resource": code,
                "name": title,
                "provider": provider,
                "labels": {f: labels[f] for f in fields},
                "records": records,
            }
        )
    voucher = DataVoucher(
        holder_person=holder.person,
        holder_organisation=holder.organisation,
        issued_by=actor.account,
        items=[{"source": s, "fields": f} for s, f in chosen],
        issued_at=now,
        expires_at=now + timedelta(days=valid_days),
    )
    voucher.payload = {
        "format": VOUCHER_FORMAT,
        "voucher_id": str(voucher.public_id),
        "issuer": {"name": _("一网数据中台"), "key_id": ""},
        "holder": holder_doc,
        "purpose": purpose,
        "items": payload_items,
        "issued_at": now.isoformat(),
        "expires_at": voucher.expires_at.isoformat(),
        "key_id": keystore().platform_key_id,
    }
    voucher.payload["issuer"]["key_id"] = voucher.payload["key_id"]
    voucher.digest, voucher.signature, voucher.key_id = platform_sign(voucher.payload)
    with transaction.atomic():
        voucher.save(force_insert=True)
        audit_record(
            actor=actor,
            action="datahub.voucher_issue",
            object_type="data_voucher",
            object_id=str(voucher.public_id),
            after={
                "items": voucher.items,
                "digest": voucher.digest,
                "key_id": voucher.key_id,
                "expires_at": voucher.expires_at.isoformat(),
            },
            purpose=purpose,
        )
    return voucher


def voucher_revoke(*, actor: Principal, voucher: DataVoucher, reason: str = "") -> DataVoucher:
    """作废 by the holder: the public check says "已作废" from now on."""
    reason = (reason or "").strip()
    if len(reason) > PURPOSE_MAX:
        raise ValidationError({"reason": _("原因最多 %(n)d 字。") % {"n": PURPOSE_MAX}})
    holder = holder_of(actor)
    with transaction.atomic():
        voucher = DataVoucher.objects.select_for_update().get(pk=voucher.pk)
        own = (holder.person is not None and voucher.holder_person_id == holder.person.pk) or (
            holder.organisation is not None and voucher.holder_organisation_id == holder.organisation.pk
        )
        if not own:
            raise PermissionDenied(_("只有凭证持有人可以作废凭证。"))
        if voucher.revoked_at is not None:
            raise ValidationError({"voucher": _("该凭证已作废。")})
        voucher.revoked_at = timezone.now()
        voucher.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="datahub.voucher_revoke",
            object_type="data_voucher",
            object_id=str(voucher.public_id),
            after={"reason": reason},
        )
    return voucher


# --- staff audit of a subject's data uses ------------------------------------------------------------------
@dataclass
class AuditedUses:
    subject_label: str  # masked ID number or the organisation's name
    found: bool
    page: Page


def data_uses_audit(
    *,
    actor: Principal,
    id_number: str = "",
    uscc: str = "",
    purpose: str,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> AuditedUses:
    """All uses of one subject's data, covert ones included and marked. The search is audited with its purpose
    (found or not); each covert use on the page is audited again (who looked at a covert use, and why)."""
    actor.require(DATA_AUDIT)
    purpose = (purpose or "").strip()
    id_number = normalise_id_number(id_number or "")
    uscc = normalise_uscc(uscc or "")
    errors: dict[str, str] = {}
    if not id_number and not uscc:
        errors["id_number"] = _("请填写公民身份号码或统一社会信用代码。")
    elif id_number:
        try:
            validate_id_number(id_number)
        except ValidationError as exc:
            errors["id_number"] = exc.messages[0]
    else:
        try:
            validate_uscc(uscc)
        except ValidationError as exc:
            errors["uscc"] = exc.messages[0]
    if not purpose:
        errors["purpose"] = _("请填写查询用途，查询将记入审计日志。")
    elif len(purpose) > PURPOSE_MAX:
        errors["purpose"] = _("用途最多 %(n)d 字。") % {"n": PURPOSE_MAX}
    if errors:
        raise ValidationError(errors)
    if id_number:
        index = keystore().blind_index(id_number, purpose="id_number")
        person = Person.objects.filter(id_number_index=index).only("pk", "public_id").first()
        subject = {"person_id": person.pk if person else None, "organisation_id": None}
        label, object_type, object_id = (
            mask_id_number(id_number),
            "person",
            str(person.public_id) if person else "",
        )
        found = person is not None
    else:
        org = Organisation.objects.filter(uscc=uscc).only("pk", "public_id", "name").first()
        subject = {"person_id": None, "organisation_id": org.pk if org else None}
        label, object_type, object_id = (
            (org.name if org else uscc),
            "organisation",
            str(org.public_id) if org else "",
        )
        found = org is not None
    today = timezone.localdate()
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="datahub.data_uses_audit",
            object_type=object_type,
            object_id=object_id,
            after={"subject": label, "found": found, "cursor": bool(cursor)},
            purpose=purpose,
        )
        if not found:
            return AuditedUses(subject_label=label, found=False, page=Page(items=[], next_cursor=None))
        raw = subject_calls_page(**subject, cursor=cursor, limit=limit)
        rows = use_rows(raw.items, today=today)
        for row in rows:
            if row.covert_until is not None:
                audit_record(
                    actor=actor,
                    action="datahub.covert_use_view",
                    object_type="gateway_call",
                    object_id=row.request_id,
                    after={
                        "subject": label,
                        "covert_until": row.covert_until.isoformat(),
                        "still_covert": row.covert_hidden,
                    },
                    purpose=purpose,
                )
    return AuditedUses(subject_label=label, found=True, page=Page(items=rows, next_cursor=raw.next_cursor))
