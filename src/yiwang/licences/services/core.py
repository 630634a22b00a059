"""Seals, identifiers, issuing and status changes of licences — the core every other licence service uses."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog.formschema import registry_comparable, registry_name, registry_read
from yiwang.core import crypto
from yiwang.core.audit import audit_record
from yiwang.core.keystore import keystore
from yiwang.core.models import Department, Organisation, Person
from yiwang.core.permissions import LICENCE_ISSUE, LICENCE_MANAGE
from yiwang.core.principal import Principal
from yiwang.core.validators import normalise_id_number, normalise_uscc

from ..models import Licence, LicenceEvent, LicenceSequence, LicenceType, Seal
from ..signing import licence_payload, sign_payload


# --- seals ------------------------------------------------------------------------------------------------------
def seal_create(
    *,
    actor: Principal | None,
    department: Department,
    name: str,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> Seal:
    """A new seal: its SM2 key pair is generated inside the keystore (the private key never leaves it); the
    public key is published on the seal. Audited (without any key material but the public key)."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ValidationError({"name": _("请填写 80 字以内的印章名称。")})
    valid_from = valid_from or timezone.localdate()
    if valid_until is not None and valid_until <= valid_from:
        raise ValidationError({"valid_until": _("有效期至须晚于启用日期。")})
    key_id = f"seal-{secrets.token_hex(8)}"
    with transaction.atomic():
        public = keystore().seal_key_create(key_id)
        seal = Seal.objects.create(
            key_id=key_id,
            department=department,
            name=name,
            public_key_hex=public.hex(),
            valid_from=valid_from,
            valid_until=valid_until,
        )
        audit_record(
            actor=actor,
            action="seal.create",
            object_type="seal",
            object_id=str(seal.public_id),
            after={"department": department.code, "name": name, "public_key": seal.public_key_hex},
        )
    return seal


def seal_usable(seal: Seal, on: date | None = None) -> bool:
    on = on or timezone.localdate()
    return (
        seal.status == Seal.Status.ACTIVE
        and seal.valid_from <= on
        and (seal.valid_until is None or on <= seal.valid_until)
    )


def seal_for(department: Department, on: date | None = None) -> Seal:
    """The department's usable seal (the newest active one), or a clear refusal."""
    for seal in Seal.objects.filter(department=department, status=Seal.Status.ACTIVE).order_by("-id"):
        if seal_usable(seal, on):
            return seal
    raise ValidationError(
        {"seal": _("“%(dept)s”没有可用的电子印章，不能签发证照。") % {"dept": department.name}}
    )


# --- identifiers ------------------------------------------------------------------------------------------------
def _check_char(body: str) -> str:
    # A detection character over the whole identifier (typos in a hand-typed identifier are caught).
    return "0123456789ABCDEFGHJKLMNPQRTUWXY"[int(crypto.sm3_hex(body.encode())[:8], 16) % 31]


def identifier_for(licence_type: LicenceType, issuer: Department, year: int, serial: int) -> str:
    """证照标识 in the spirit of GB/T 36901/36905: type code, issuing authority (统一社会信用代码), year and serial,
    plus a check character."""
    body = f"{licence_type.code.upper()}-{issuer.uscc}-{year}{serial:07d}"
    return f"{body}-{_check_char(body)}"


def identifier_valid(identifier: str) -> bool:
    body, _sep, check = (identifier or "").rpartition("-")
    return bool(body) and len(check) == 1 and _check_char(body) == check


def serials_take(licence_type: LicenceType, issuer: Department, year: int, count: int = 1) -> range:
    """`count` consecutive serials, the counter row locked until the caller's transaction ends."""
    counter = (
        LicenceSequence.objects.select_for_update()
        .filter(licence_type=licence_type, issuer=issuer, year=year)
        .first()
    )
    if counter is None:
        try:
            with transaction.atomic():
                counter = LicenceSequence.objects.create(licence_type=licence_type, issuer=issuer, year=year)
        except IntegrityError:
            counter = LicenceSequence.objects.select_for_update().get(
                licence_type=licence_type, issuer=issuer, year=year
            )
    first = counter.last + 1
    counter.last += count
    counter.save(update_fields=["last"])
    return range(first, first + count)


# --- issuing ----------------------------------------------------------------------------------------------------
def expiry_for(licence_type: LicenceType, issued_on: date, expires_on: date | None) -> date | None:
    if licence_type.validity == LicenceType.Validity.PERMANENT:
        return None
    if licence_type.validity == LicenceType.Validity.UNTIL:
        if expires_on is None or expires_on <= issued_on:
            raise ValidationError({"expires_on": _("请填写晚于签发日期的有效期截止日期。")})
        return expires_on
    years = licence_type.validity_years or 1
    try:
        return issued_on.replace(year=issued_on.year + years) - timezone.timedelta(days=1)
    except ValueError:  # 29 February
        return issued_on.replace(year=issued_on.year + years, day=28)


def face_clean(licence_type: LicenceType, face: Mapping) -> dict:
    """The face values for the type's declared fields: required ones present, only declared names, scalars."""
    declared = {f["name"]: f for f in licence_type.face_fields or []}
    errors: dict[str, str] = {}
    cleaned: dict = {}
    for name, value in (face or {}).items():
        if name not in declared:
            errors[f"face.{name}"] = _("证照类型没有照面要素“%(name)s”。") % {"name": name}
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            errors[f"face.{name}"] = _("照面要素“%(label)s”的值格式无效。") % {
                "label": declared[name].get("label", name)
            }
        elif value not in (None, ""):
            cleaned[name] = value.strip() if isinstance(value, str) else value
    for name, spec in declared.items():
        if spec.get("required") and name not in cleaned and f"face.{name}" not in errors:
            errors[f"face.{name}"] = _("请填写照面要素“%(label)s”。") % {"label": spec.get("label", name)}
    if errors:
        raise ValidationError(errors)
    return cleaned


def face_registry_apply(
    licence_type: LicenceType,
    face: Mapping,
    *,
    person: Person | None,
    organisation: Organisation | None,
    refuse: bool = True,
) -> tuple[dict, dict[str, str]]:
    """Face fields declared "registry:<key>" (the holder's name, ID number, USCC, legal representative…) carry
    the registry's value of the holder (`person` / `organisation`), never one supplied with the request: a
    supplied value that differs (compared as catalog.formschema.registry_comparable) is refused as a
    "face.<name>" error (`refuse=True`) or replaced (`refuse=False`); a missing one is filled. Where the registry
    holds nothing the supplied value stays (the issuing department vouches for it). Returns (face, errors)."""
    out = dict(face or {})
    errors: dict[str, str] = {}
    for spec in licence_type.face_fields or []:
        kind, _sep, key = str(spec.get("source") or "").partition(":")
        if kind != "registry":
            continue
        expected = registry_read(key, person=person, organisation=organisation)
        if expected is None:
            continue
        name = spec["name"]
        given = out.get(name)
        if given not in (None, "") and not (isinstance(given, str) and not given.strip()):
            if registry_comparable(key, given) != registry_comparable(key, expected) and refuse:
                errors[f"face.{name}"] = _(
                    "照面要素“%(label)s”以%(registry)s的登记为准，提交的内容与登记信息不一致。"
                ) % {"label": spec.get("label", name), "registry": registry_name(key)}
        out[name] = expected
    return out, errors


def _holder(licence_type: LicenceType, person: Person | None, organisation: Organisation | None):
    if licence_type.holder_kind == LicenceType.HolderKind.PERSON:
        if person is None or organisation is not None:
            raise ValidationError({"holder": _("该证照的持证主体须为自然人。")})
        return person.name, person.id_number
    if organisation is None or person is not None:
        raise ValidationError({"holder": _("该证照的持证主体须为法人。")})
    return organisation.name, organisation.uscc


def licence_build(
    *,
    licence_type: LicenceType,
    seal: Seal,
    serial: int,
    holder_person: Person | None,
    holder_organisation: Organisation | None,
    face: dict,
    issued_on: date,
    expires_on: date | None,
    case=None,
    version: int = 1,
    supersedes: Licence | None = None,
    identifier: str | None = None,
    store=None,
) -> Licence:
    """An unsaved, signed Licence (cleaned inputs; shared by single issuing and batch imports). The registry
    face fields are the holder's registry values whatever `face` says (face_registry_apply), so nothing signed
    names anyone but the holder the registry knows."""
    holder_name, holder_id = _holder(licence_type, holder_person, holder_organisation)
    face, _errors = face_registry_apply(
        licence_type,
        face,
        person=holder_person or getattr(case, "applicant_person", None),
        organisation=holder_organisation,
        refuse=False,
    )
    issuer = seal.department
    identifier = identifier or identifier_for(licence_type, issuer, issued_on.year, serial)
    payload = licence_payload(
        identifier=identifier,
        type_code=licence_type.code,
        type_name=licence_type.name,
        issuer_code=issuer.uscc,
        issuer_name=issuer.name,
        holder_kind=licence_type.holder_kind,
        holder_name=holder_name,
        holder_id=holder_id,
        face=face,
        issued_on=issued_on,
        expires_on=expires_on,
        version=version,
        seal_key_id=seal.key_id,
    )
    store = store or keystore()
    digest, signature = sign_payload(store, seal.key_id, payload)
    return Licence(
        identifier=identifier,
        verify_token=secrets.token_urlsafe(32),
        licence_type=licence_type,
        issuer=issuer,
        seal=seal,
        holder_person=holder_person,
        holder_organisation=holder_organisation,
        holder_name=holder_name,
        holder_id=holder_id,
        holder_index=store.blind_index(holder_id, purpose="licence_holder"),
        face=face,
        issued_on=issued_on,
        expires_on=expires_on,
        version=version,
        supersedes=supersedes,
        case=case,
        digest=digest,
        signature=signature,
        signed_at=timezone.now(),
    )


def event_add(
    licence: Licence, action: str, *, actor: Principal | None = None, reason: str = ""
) -> LicenceEvent:
    label = _("系统")
    if actor is not None:
        label = (
            actor.staff.name if actor.staff else (actor.system.name if actor.system else str(actor.account))
        )
    return LicenceEvent.objects.create(
        licence=licence,
        action=action,
        reason=reason[:300],
        actor_label=str(label)[:100],
        actor_account=actor.account if actor is not None else None,
    )


def _audit(actor: Principal | None, action: str, licence: Licence, **after) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="licence",
        object_id=licence.identifier,
        after={
            "type": licence.licence_type.code,
            "status": licence.status,
            "version": licence.version,
            **after,
        },
    )


def may_issue(actor: Principal | None, licence_type: LicenceType) -> bool:
    """The system itself (actor None: a concluded case), staff of the issuing department (or a parent), or a
    registered system of that department holding the licence.issue scope."""
    if actor is None:
        return True
    if not actor.has(LICENCE_ISSUE):
        return False
    department = actor.department
    current = licence_type.department
    while current is not None:
        if department is not None and current.pk == department.pk:
            return True
        current = current.parent
    return False


def licence_issue(
    *,
    actor: Principal | None,
    licence_type: LicenceType,
    holder_person: Person | None = None,
    holder_organisation: Organisation | None = None,
    face: Mapping,
    issued_on: date | None = None,
    expires_on: date | None = None,
    case=None,
) -> Licence:
    """签发: a sealed licence of this type for the holder (the issuing department's usable seal), history and
    audit in one transaction."""
    if not may_issue(actor, licence_type):
        raise PermissionDenied(_("只有签发部门可以签发该类证照。"))
    if not licence_type.is_active:
        raise ValidationError({"licence_type": _("该证照类型已停用。")})
    # The registry face fields (the holder's identity) are the holder's registry record: filled when omitted;
    # a different value from an issuer (staff or a registered system) is refused; the platform's own issuing
    # (actor None: a concluded case, the demo) simply gets the registry's value.
    face, registry_errors = face_registry_apply(
        licence_type,
        face,
        person=holder_person or getattr(case, "applicant_person", None),
        organisation=holder_organisation,
        refuse=actor is not None,
    )
    if registry_errors:
        raise ValidationError(registry_errors)
    cleaned = face_clean(licence_type, face)
    issued_on = issued_on or timezone.localdate()
    expires = expiry_for(licence_type, issued_on, expires_on)
    with transaction.atomic():
        seal = seal_for(licence_type.department, issued_on)
        serial = serials_take(licence_type, licence_type.department, issued_on.year)[0]
        licence = licence_build(
            licence_type=licence_type,
            seal=seal,
            serial=serial,
            holder_person=holder_person,
            holder_organisation=holder_organisation,
            face=cleaned,
            issued_on=issued_on,
            expires_on=expires,
            case=case,
        )
        licence.save()
        event_add(licence, "issue", actor=actor, reason=case.number if case is not None else "")
        _audit(actor, "licence.issue", licence, case=case.number if case is not None else "")
    return licence


# --- status -----------------------------------------------------------------------------------------------------
_TRANSITIONS = {
    "suspend": ({Licence.Status.VALID}, Licence.Status.SUSPENDED),
    "resume": ({Licence.Status.SUSPENDED}, Licence.Status.VALID),
    "revoke": ({Licence.Status.VALID, Licence.Status.SUSPENDED}, Licence.Status.REVOKED),
}


def licence_set_status(*, actor: Principal, licence: Licence, action: str, reason: str) -> Licence:
    """暂停 / 恢复 / 注销(吊销) by the issuing department, with a reason; history and audit."""
    if action not in _TRANSITIONS:
        raise ValidationError({"action": _("不支持的操作。")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写原因。")})
    if len(reason) > 300:
        raise ValidationError({"reason": _("原因最多 300 字。")})
    with transaction.atomic():
        licence = (
            Licence.objects.select_for_update(of=("self",))
            .select_related("licence_type__department")
            .get(pk=licence.pk)
        )
        if not may_issue(actor, licence.licence_type) or actor is None:
            raise PermissionDenied(_("只有签发部门可以变更该证照的状态。"))
        allowed, target = _TRANSITIONS[action]
        if licence.status not in allowed:
            raise ValidationError(
                {"action": _("证照当前状态为“%(s)s”，不能执行该操作。") % {"s": licence.get_status_display()}}
            )
        before = licence.status
        licence.status = target
        licence.status_reason = reason
        licence.save(update_fields=["status", "status_reason", "updated_at"])
        event_add(licence, action, actor=actor, reason=reason)
        _audit(actor, f"licence.{action}", licence, before=before, reason=reason)
    return licence


def licence_expire(*, licence: Licence, today: date | None = None) -> bool:
    """过期: the Huey job's step for one licence (conditional update: once, whatever the number of consumers)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        changed = Licence.objects.filter(
            pk=licence.pk, status__in=(Licence.Status.VALID, Licence.Status.SUSPENDED), expires_on__lt=today
        ).update(status=Licence.Status.EXPIRED, updated_at=timezone.now())
        if not changed:
            return False
        licence = Licence.objects.select_related("licence_type").get(pk=licence.pk)
        event_add(licence, "expire", reason=str(licence.expires_on))
        _audit(None, "licence.expire", licence, expires_on=licence.expires_on)
    return True


# --- seal status ------------------------------------------------------------------------------------------------
_SEAL_TRANSITIONS = {
    "suspend": ({Seal.Status.ACTIVE}, Seal.Status.SUSPENDED),
    "resume": ({Seal.Status.SUSPENDED}, Seal.Status.ACTIVE),
    "revoke": ({Seal.Status.ACTIVE, Seal.Status.SUSPENDED}, Seal.Status.REVOKED),
}


def _seal_set_status(*, actor: Principal, seal: Seal, action: str, reason: str) -> Seal:
    if actor is None or not actor.has(LICENCE_MANAGE):
        raise PermissionDenied(_("只有印章管理人员可以变更电子印章的状态。"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写原因。")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("原因最多 200 字。")})
    allowed, target = _SEAL_TRANSITIONS[action]
    with transaction.atomic():
        seal = Seal.objects.select_for_update().get(pk=seal.pk)
        if seal.status not in allowed:
            raise ValidationError(
                {"status": _("印章当前状态为“%(s)s”，不能执行该操作。") % {"s": seal.get_status_display()}}
            )
        before = seal.status
        seal.status = target
        seal.status_reason = reason
        seal.save(update_fields=["status", "status_reason", "updated_at"])
        audit_record(
            actor=actor,
            action=f"seal.{action}",
            object_type="seal",
            object_id=str(seal.public_id),
            before={"status": before},
            after={"status": target, "reason": reason},
        )
    return seal


def seal_suspend(*, actor: Principal, seal: Seal, reason: str) -> Seal:
    """暂停 a seal: it cannot seal new licences until resumed; licences it sealed still verify."""
    return _seal_set_status(actor=actor, seal=seal, action="suspend", reason=reason)


def seal_resume(*, actor: Principal, seal: Seal, reason: str) -> Seal:
    return _seal_set_status(actor=actor, seal=seal, action="resume", reason=reason)


def seal_revoke(*, actor: Principal, seal: Seal, reason: str) -> Seal:
    """注销 a seal for good (its key stays in the keystore for verifying what it sealed)."""
    return _seal_set_status(actor=actor, seal=seal, action="revoke", reason=reason)


# --- licence types ----------------------------------------------------------------------------------------------
FACE_TYPES = ("string", "date", "number", "boolean")
_SOURCE_PREFIXES = ("form:", "registry:", "const:")
_SOURCE_EXACT = ("case:number", "case:concluded_on", "item:name")


def _slug_like(name) -> bool:
    import re

    return isinstance(name, str) and bool(re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name))


def licence_type_validate(values: Mapping) -> dict:
    """Checks a licence type's face-field schema and validity rule; raises ValidationError with Chinese messages
    keyed by form field ("face_fields", "validity", "validity_years"). Returns the cleaned face fields."""
    errors: dict[str, list[str]] = {}
    fields = values.get("face_fields")
    cleaned: list[dict] = []

    def fail(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if not isinstance(fields, list):
        fail("face_fields", _("照面要素须为列表。"))
        fields = []
    seen: set[str] = set()
    for position, spec in enumerate(fields, start=1):
        if not isinstance(spec, dict):
            fail("face_fields", _("第 %(n)s 项须为对象。") % {"n": position})
            continue
        name = spec.get("name")
        where = _("第 %(n)s 项") % {"n": position}
        if not _slug_like(name):
            fail(
                "face_fields",
                _("%(where)s：名称须为小写字母开头的字母、数字或下划线（最多 40 个）。") % {"where": where},
            )
        elif name in seen:
            fail("face_fields", _("%(where)s：名称“%(name)s”重复。") % {"where": where, "name": name})
        else:
            seen.add(name)
        label = spec.get("label")
        if not isinstance(label, str) or not label.strip() or len(label) > 40:
            fail("face_fields", _("%(where)s：请填写 40 字以内的标签。") % {"where": where})
        kind = spec.get("type", "string")
        if kind not in FACE_TYPES:
            fail(
                "face_fields",
                _("%(where)s：类型须为 string、date、number 或 boolean。") % {"where": where},
            )
        for flag in ("required", "public"):
            if flag in spec and not isinstance(spec[flag], bool):
                fail(
                    "face_fields",
                    _("%(where)s：%(flag)s 须为 true 或 false。") % {"where": where, "flag": flag},
                )
        source = spec.get("source")
        if source not in (None, ""):
            ok = isinstance(source, str) and (
                source in _SOURCE_EXACT
                or any(source.startswith(p) and len(source) > len(p) for p in _SOURCE_PREFIXES)
            )
            if not ok:
                fail(
                    "face_fields",
                    _(
                        "%(where)s：来源须为 form:<字段>、registry:<键>、case:number、case:concluded_on、"
                        "item:name 或 const:<文字>。"
                    )
                    % {"where": where},
                )
        element = spec.get("element")
        if element is not None and not (isinstance(element, str) and re.fullmatch(r"DE\d{5}", element)):
            # The data element the face field carries (datahub binds it); only its form is checked here.
            fail("face_fields", _("%(where)s：数据元标识须为 DE 加5位数字，如 DE00002。") % {"where": where})
        unknown = set(spec) - {"name", "label", "type", "required", "public", "source", "element"}
        if unknown:
            fail(
                "face_fields",
                _("%(where)s：不认识的属性 %(keys)s。")
                % {"where": where, "keys": "、".join(sorted(unknown))},
            )
        cleaned.append(
            {
                "name": name,
                "label": (label or "").strip() if isinstance(label, str) else label,
                "type": kind,
                "required": bool(spec.get("required", False)),
                "public": bool(spec.get("public", False)),
                **({"source": source} if source else {}),
                **({"element": element} if element else {}),
            }
        )
    validity = values.get("validity") or LicenceType.Validity.YEARS
    years = values.get("validity_years")
    if validity not in LicenceType.Validity.values:
        fail("validity", _("有效期规则无效。"))
    elif validity == LicenceType.Validity.YEARS:
        if not isinstance(years, int) or not 1 <= years <= 100:
            fail("validity_years", _("固定年限须填写 1 至 100 之间的整数。"))
    elif years not in (None, ""):
        fail("validity_years", _("只有“固定年限”的证照类型填写有效年限。"))
    if errors:
        raise ValidationError(errors)
    return {"face_fields": cleaned}


_TYPE_FIELDS = (
    "code",
    "name",
    "department",
    "holder_kind",
    "face_fields",
    "validity",
    "validity_years",
    "layout",
    "is_reference",
    "is_active",
)


def licence_type_save(*, actor: Principal, licence_type: LicenceType, values: Mapping) -> LicenceType:
    """Creates or changes a licence type (LICENCE_MANAGE) after `licence_type_validate`; audited."""
    if actor is None or not actor.has(LICENCE_MANAGE):
        raise PermissionDenied(_("只有证照类型管理人员可以维护证照类型。"))
    cleaned = licence_type_validate(values)
    with transaction.atomic():
        before = (
            {"face_fields": licence_type.face_fields, "validity": licence_type.validity}
            if licence_type.pk
            else None
        )
        for name in _TYPE_FIELDS:
            if name in values:
                setattr(licence_type, name, values[name])
        licence_type.face_fields = cleaned["face_fields"]
        if licence_type.validity != LicenceType.Validity.YEARS:
            licence_type.validity_years = None
        licence_type.save()
        audit_record(
            actor=actor,
            action="licence_type.save",
            object_type="licence_type",
            object_id=licence_type.code,
            before=before,
            after={
                "name": licence_type.name,
                "department": licence_type.department.code,
                "face_fields": licence_type.face_fields,
                "validity": licence_type.validity,
                "validity_years": licence_type.validity_years,
            },
        )
    return licence_type


# --- holders ----------------------------------------------------------------------------------------------------
def holder_lookup(*, actor: Principal, licence_type: LicenceType, holder_id: str) -> Person | Organisation:
    """The registered person (身份证号, by blind index) or organisation (统一社会信用代码) an issuer names as the
    holder; the lookup is audited. 422 when the registries do not know it."""
    raw = (holder_id or "").strip()
    if not raw:
        raise ValidationError({"holder_id": _("请填写持证主体的证件号码。")})
    if licence_type.holder_kind == LicenceType.HolderKind.PERSON:
        number = normalise_id_number(raw)
        found = Person.objects.filter(
            id_number_index=keystore().blind_index(number, purpose="id_number")
        ).first()
        message = _("自然人基础库中没有该身份证号。")
    else:
        number = normalise_uscc(raw)
        found = Organisation.objects.filter(uscc=number).first()
        message = _("法人基础库中没有该统一社会信用代码。")
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="licence.holder_lookup",
            object_type="person"
            if licence_type.holder_kind == LicenceType.HolderKind.PERSON
            else "organisation",
            object_id=str(found.public_id) if found is not None else "",
            after={"found": found is not None, "type": licence_type.code},
            purpose=_("签发电子证照"),
        )
    if found is None:
        raise ValidationError({"holder_id": message})
    return found


# --- expiry sweep -----------------------------------------------------------------------------------------------
def licences_expire_sweep(*, today: date | None = None, batch: int = 500) -> int:
    """Marks every valid or suspended licence past its expiry date as expired (the daily Huey job)."""
    today = today or timezone.localdate()
    expired = 0
    last_id = 0
    while True:
        rows = list(
            Licence.objects.filter(
                status__in=(Licence.Status.VALID, Licence.Status.SUSPENDED),
                expires_on__lt=today,
                id__gt=last_id,
            )
            .order_by("id")
            .only("id")[:batch]
        )
        if not rows:
            return expired
        for licence in rows:
            expired += licence_expire(licence=licence, today=today)
        last_id = rows[-1].id
