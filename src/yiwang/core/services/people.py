"""Services for the base registries: natural persons (自然人), organisations (法人) and who represents whom.

身份证号 and phone are stored SM4-encrypted (EncryptedTextField); the `*_index` columns hold the HMAC-SM3 blind
index of the normalised value, which is what uniqueness and lookups use. Audit entries carry masked values only.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..audit import audit_record
from ..keystore import keystore
from ..masking import mask_id_number, mask_phone
from ..models import Division, Organisation, Person, Representation
from ..permissions import ORGANISATION_MANAGE, PERSON_MANAGE
from ..principal import Principal
from ..validators import (
    id_number_birth_date,
    id_number_gender,
    normalise_id_number,
    normalise_phone,
    normalise_uscc,
    validate_id_number,
    validate_phone,
    validate_uscc,
)
from .org import UNSET, first_message, require


def id_number_index(id_number: str) -> str:
    return keystore().blind_index(normalise_id_number(id_number), purpose="id_number")


def phone_index(phone: str) -> str:
    phone = normalise_phone(phone)
    return keystore().blind_index(phone, purpose="phone") if phone else ""


def person_snapshot(person: Person) -> dict:
    """What the audit chain keeps about a person: never the plain ID number or phone."""
    return {
        "public_id": str(person.public_id),
        "name": person.name,
        "id_number": mask_id_number(person.id_number),
        "phone": mask_phone(person.phone),
        "gender": person.gender,
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "division": person.division.code if person.division_id else None,
        "address": person.address,
        "is_deceased": person.is_deceased,
    }


def _duplicate_person() -> str:
    return _("该身份证号已登记，请勿重复登记。")


def _check_person_fields(
    errors: dict[str, str],
    *,
    name: str,
    id_number: str,
    phone: str,
    division: Division | None,
    exclude_pk=None,
) -> None:
    if not name:
        errors["name"] = _("请填写姓名。")
    elif len(name) > 50:
        errors["name"] = _("姓名最多50个字符。")
    try:
        validate_id_number(id_number)
    except ValidationError as exc:
        errors["id_number"] = first_message(exc)
    else:
        clash = Person.objects.filter(id_number_index=id_number_index(id_number))
        if exclude_pk is not None:
            clash = clash.exclude(pk=exclude_pk)
        if clash.exists():
            errors["id_number"] = _duplicate_person()
    if phone:
        try:
            validate_phone(phone)
        except ValidationError as exc:
            errors["phone"] = first_message(exc)
    if division is not None and not division.is_active:
        errors["division"] = _("行政区划“%(name)s”已停用。") % {"name": division.name}


def person_validate(
    *,
    name: str,
    id_number: str,
    phone: str = "",
    division: Division | None = None,
    address: str = "",
    instance: Person | None = None,
) -> None:
    """The person rules without writing anything (the admin form calls this before saving)."""
    errors: dict[str, str] = {}
    _check_person_fields(
        errors,
        name=(name or "").strip(),
        id_number=normalise_id_number(id_number),
        phone=normalise_phone(phone),
        division=division,
        exclude_pk=instance.pk if instance is not None else None,
    )
    if len((address or "").strip()) > 200:
        errors["address"] = _("详细地址最多200个字符。")
    if errors:
        raise ValidationError(errors)


def person_register(
    *,
    actor: Principal | None,
    name: str,
    id_number: str,
    phone: str = "",
    division: Division | None = None,
    address: str = "",
) -> Person:
    """Registers a natural person; birth date and gender come from the ID number."""
    require(actor, PERSON_MANAGE)
    name, id_number, phone = (name or "").strip(), normalise_id_number(id_number), normalise_phone(phone)
    address = (address or "").strip()
    errors: dict[str, str] = {}
    _check_person_fields(errors, name=name, id_number=id_number, phone=phone, division=division)
    if len(address) > 200:
        errors["address"] = _("详细地址最多200个字符。")
    if errors:
        raise ValidationError(errors)
    person = Person(
        name=name,
        id_number=id_number,
        id_number_index=id_number_index(id_number),
        phone=phone,
        phone_index=phone_index(phone),
        gender=id_number_gender(id_number),
        birth_date=id_number_birth_date(id_number),
        division=division,
        address=address,
    )
    try:
        with transaction.atomic():
            person.save()
            audit_record(
                actor=actor,
                action="person.create",
                object_type="person",
                object_id=str(person.public_id),
                after=person_snapshot(person),
            )
    except IntegrityError as exc:
        # Someone registered the same ID number between our check and the insert.
        raise ValidationError({"id_number": _duplicate_person()}) from exc
    return person


def person_update(
    *,
    actor: Principal | None,
    person: Person,
    name: str = UNSET,
    id_number: str = UNSET,
    phone: str = UNSET,
    division: Division | None = UNSET,
    address: str = UNSET,
    is_deceased: bool = UNSET,
) -> Person:
    """Corrects a person's record. A corrected ID number re-derives birth date and gender."""
    require(actor, PERSON_MANAGE)
    try:
        with transaction.atomic():
            person = (
                Person.objects.select_for_update(of=("self",)).select_related("division").get(pk=person.pk)
            )
            before = person_snapshot(person)
            new_name = person.name if name is UNSET else (name or "").strip()
            new_id = person.id_number if id_number is UNSET else normalise_id_number(id_number)
            new_phone = person.phone if phone is UNSET else normalise_phone(phone)
            new_division = person.division if division is UNSET else division
            new_address = person.address if address is UNSET else (address or "").strip()
            errors: dict[str, str] = {}
            _check_person_fields(
                errors,
                name=new_name,
                id_number=new_id,
                phone=new_phone,
                division=new_division if division is not UNSET else None,
                exclude_pk=person.pk,
            )
            if len(new_address) > 200:
                errors["address"] = _("详细地址最多200个字符。")
            if errors:
                raise ValidationError(errors)
            person.name, person.address, person.division = new_name, new_address, new_division
            if new_id != person.id_number:
                person.id_number = new_id
                person.id_number_index = id_number_index(new_id)
                person.gender = id_number_gender(new_id)
                person.birth_date = id_number_birth_date(new_id)
            if new_phone != person.phone:
                person.phone, person.phone_index = new_phone, phone_index(new_phone)
            if is_deceased is not UNSET:
                person.is_deceased = bool(is_deceased)
            person.save()
            after = person_snapshot(person)
            if after != before:
                audit_record(
                    actor=actor,
                    action="person.update",
                    object_type="person",
                    object_id=str(person.public_id),
                    before=before,
                    after=after,
                )
    except IntegrityError as exc:
        raise ValidationError({"id_number": _duplicate_person()}) from exc
    return person


# --- organisations -------------------------------------------------------------------------------------
def organisation_snapshot(organisation: Organisation) -> dict:
    return {
        "public_id": str(organisation.public_id),
        "uscc": organisation.uscc,
        "name": organisation.name,
        "kind": organisation.kind,
        "status": organisation.status,
        "established_on": organisation.established_on.isoformat() if organisation.established_on else None,
        "registered_capital": str(organisation.registered_capital)
        if organisation.registered_capital is not None
        else None,
        "division": organisation.division.code if organisation.division_id else None,
        "address": organisation.address,
        "employee_count": organisation.employee_count,
    }


def _duplicate_org(uscc: str) -> str:
    return _("统一社会信用代码 %(uscc)s 已登记。") % {"uscc": uscc}


def _check_organisation_fields(
    errors: dict[str, str],
    *,
    name: str,
    kind: str,
    status: str,
    established_on: date | None,
    registered_capital: Decimal | None,
    division: Division | None,
    employee_count: int,
) -> None:
    if not name:
        errors["name"] = _("请填写法人名称。")
    elif len(name) > 120:
        errors["name"] = _("法人名称最多120个字符。")
    if kind not in Organisation.Kind.values:
        errors["kind"] = _("法人类型无效。")
    if status not in Organisation.Status.values:
        errors["status"] = _("登记状态无效。")
    if established_on is not None and established_on > timezone.localdate():
        errors["established_on"] = _("成立日期不能晚于今天。")
    if registered_capital is not None and registered_capital < 0:
        errors["registered_capital"] = _("注册资本不能为负数。")
    if employee_count is None or employee_count < 0:
        errors["employee_count"] = _("参保职工人数不能为负数。")
    if division is not None and not division.is_active:
        errors["division"] = _("行政区划“%(name)s”已停用。") % {"name": division.name}


def organisation_validate(
    *,
    uscc: str,
    name: str,
    kind: str = Organisation.Kind.ENTERPRISE,
    status: str = Organisation.Status.ACTIVE,
    established_on: date | None = None,
    registered_capital: Decimal | None = None,
    division: Division | None = None,
    employee_count: int = 0,
    instance: Organisation | None = None,
) -> None:
    """The organisation rules without writing anything (the admin form calls this before saving)."""
    errors: dict[str, str] = {}
    if instance is None:
        uscc = normalise_uscc(uscc)
        try:
            validate_uscc(uscc)
        except ValidationError as exc:
            errors["uscc"] = first_message(exc)
        else:
            if Organisation.objects.filter(uscc=uscc).exists():
                errors["uscc"] = _duplicate_org(uscc)
    _check_organisation_fields(
        errors,
        name=(name or "").strip(),
        kind=str(kind),
        status=str(status),
        established_on=established_on,
        registered_capital=registered_capital,
        division=division,
        employee_count=employee_count,
    )
    if errors:
        raise ValidationError(errors)


def organisation_register(
    *,
    actor: Principal | None,
    uscc: str,
    name: str,
    kind: str = Organisation.Kind.ENTERPRISE,
    established_on: date | None = None,
    registered_capital: Decimal | None = None,
    business_scope: str = "",
    division: Division | None = None,
    address: str = "",
    employee_count: int = 0,
) -> Organisation:
    require(actor, ORGANISATION_MANAGE)
    uscc, name = normalise_uscc(uscc), (name or "").strip()
    errors: dict[str, str] = {}
    try:
        validate_uscc(uscc)
    except ValidationError as exc:
        errors["uscc"] = first_message(exc)
    else:
        if Organisation.objects.filter(uscc=uscc).exists():
            errors["uscc"] = _duplicate_org(uscc)
    _check_organisation_fields(
        errors,
        name=name,
        kind=str(kind),
        status=Organisation.Status.ACTIVE,
        established_on=established_on,
        registered_capital=registered_capital,
        division=division,
        employee_count=employee_count,
    )
    if errors:
        raise ValidationError(errors)
    organisation = Organisation(
        uscc=uscc,
        name=name,
        kind=str(kind),
        established_on=established_on,
        registered_capital=registered_capital,
        business_scope=(business_scope or "").strip(),
        division=division,
        address=(address or "").strip(),
        employee_count=employee_count,
    )
    try:
        with transaction.atomic():
            organisation.save()
            audit_record(
                actor=actor,
                action="organisation.create",
                object_type="organisation",
                object_id=organisation.uscc,
                after=organisation_snapshot(organisation),
            )
    except IntegrityError as exc:
        raise ValidationError({"uscc": _duplicate_org(uscc)}) from exc
    return organisation


_ORG_FIELDS = (
    "name",
    "kind",
    "status",
    "established_on",
    "registered_capital",
    "business_scope",
    "division",
    "address",
    "employee_count",
)


def organisation_update(
    *,
    actor: Principal | None,
    organisation: Organisation,
    name: str = UNSET,
    kind: str = UNSET,
    status: str = UNSET,
    established_on: date | None = UNSET,
    registered_capital: Decimal | None = UNSET,
    business_scope: str = UNSET,
    division: Division | None = UNSET,
    address: str = UNSET,
    employee_count: int = UNSET,
) -> Organisation:
    """Updates a registered organisation. The USCC is its identity and never changes."""
    require(actor, ORGANISATION_MANAGE)
    changes = {
        "name": name,
        "kind": kind,
        "status": status,
        "established_on": established_on,
        "registered_capital": registered_capital,
        "business_scope": business_scope,
        "division": division,
        "address": address,
        "employee_count": employee_count,
    }
    with transaction.atomic():
        organisation = (
            Organisation.objects.select_for_update(of=("self",))
            .select_related("division")
            .get(pk=organisation.pk)
        )
        before = organisation_snapshot(organisation)
        for field in _ORG_FIELDS:
            value = changes[field]
            if value is UNSET:
                continue
            if isinstance(value, str):
                value = value.strip()
            setattr(organisation, field, value)
        errors: dict[str, str] = {}
        _check_organisation_fields(
            errors,
            name=organisation.name,
            kind=str(organisation.kind),
            status=str(organisation.status),
            established_on=organisation.established_on,
            registered_capital=organisation.registered_capital,
            division=organisation.division if division is not UNSET else None,
            employee_count=organisation.employee_count,
        )
        if errors:
            raise ValidationError(errors)
        organisation.save()
        after = organisation_snapshot(organisation)
        if after != before:
            audit_record(
                actor=actor,
                action="organisation.update",
                object_type="organisation",
                object_id=organisation.uscc,
                before=before,
                after=after,
            )
    return organisation


# --- representation ----------------------------------------------------------------------------------
def representation_snapshot(rep: Representation) -> dict:
    return {
        "person": str(rep.person.public_id),
        "person_name": rep.person.name,
        "organisation": rep.organisation.uscc,
        "kind": rep.kind,
        "valid_until": rep.valid_until.isoformat() if rep.valid_until else None,
    }


def _legal_rep_taken(organisation: Organisation) -> ValidationError:
    current = (
        Representation.objects.filter(
            organisation=organisation, kind=Representation.Kind.LEGAL_REPRESENTATIVE
        )
        .select_related("person")
        .first()
    )
    who = current.person.name if current else ""
    return ValidationError(
        {
            "kind": _("“%(org)s”已登记法定代表人%(who)s，一个法人只能有一名法定代表人，请先解除原登记。")
            % {"org": organisation.name, "who": f"“{who}”" if who else ""}
        }
    )


def representation_validate(
    *, person: Person | None, organisation: Organisation | None, kind: str, valid_until: date | None = None
) -> None:
    """The representation rules without writing anything (the admin form calls this before saving)."""
    errors: dict[str, str] = {}
    if kind not in Representation.Kind.values:
        errors["kind"] = _("身份无效，应为法定代表人或授权经办人。")
    if person is None:
        errors["person"] = _("请选择自然人。")
    elif person.is_deceased:
        errors["person"] = _("“%(name)s”已登记为已故，不能代表法人。") % {"name": person.name}
    if organisation is None:
        errors["organisation"] = _("请选择法人。")
    elif organisation.status != Organisation.Status.ACTIVE:
        errors["organisation"] = _("“%(name)s”的登记状态为%(status)s，不能登记代表人。") % {
            "name": organisation.name,
            "status": organisation.get_status_display(),
        }
    if kind == Representation.Kind.LEGAL_REPRESENTATIVE and valid_until is not None:
        errors["valid_until"] = _("法定代表人无需设置授权截止日期。")
    elif valid_until is not None and valid_until < timezone.localdate():
        errors["valid_until"] = _("授权截止日期不能早于今天。")
    if errors:
        raise ValidationError(errors)
    if Representation.objects.filter(person=person, organisation=organisation, kind=kind).exists():
        raise ValidationError(
            {"kind": _("该人员已是此法人的%(kind)s。") % {"kind": Representation.Kind(kind).label}}
        )
    if (
        kind == Representation.Kind.LEGAL_REPRESENTATIVE
        and Representation.objects.filter(
            organisation=organisation, kind=Representation.Kind.LEGAL_REPRESENTATIVE
        ).exists()
    ):
        raise _legal_rep_taken(organisation)


def representation_add(
    *,
    actor: Principal | None,
    person: Person,
    organisation: Organisation,
    kind: str,
    valid_until: date | None = None,
) -> Representation:
    """Records that `person` acts for `organisation` as its legal representative or an authorised agent.

    An organisation has at most one legal representative (also a partial unique index in the database).
    """
    require(actor, ORGANISATION_MANAGE)
    representation_validate(person=person, organisation=organisation, kind=kind, valid_until=valid_until)
    rep = Representation(person=person, organisation=organisation, kind=kind, valid_until=valid_until)
    try:
        with transaction.atomic():
            rep.save()
            audit_record(
                actor=actor,
                action="representation.add",
                object_type="organisation",
                object_id=organisation.uscc,
                after=representation_snapshot(rep),
            )
    except IntegrityError as exc:
        # A concurrent insert won: the partial unique index (one legal representative) or the pair constraint.
        if kind == Representation.Kind.LEGAL_REPRESENTATIVE:
            raise _legal_rep_taken(organisation) from exc
        raise ValidationError({"kind": _("该人员已是此法人的授权经办人。")}) from exc
    return rep


def representation_remove(*, actor: Principal | None, representation: Representation) -> None:
    require(actor, ORGANISATION_MANAGE)
    with transaction.atomic():
        rep = Representation.objects.select_related("person", "organisation").get(pk=representation.pk)
        before = representation_snapshot(rep)
        rep.delete()
        audit_record(
            actor=actor,
            action="representation.remove",
            object_type="organisation",
            object_id=before["organisation"],
            before=before,
        )
