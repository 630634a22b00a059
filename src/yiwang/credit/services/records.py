"""信用记录: adding one (from the platform's own events, by hand, or by an import), each with its audit entry and
the file's re-evaluation in the same transaction. A platform record names the object it came from (ref_type,
ref_id) and is written once however often the event is seen."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Department, Organisation, Person
from yiwang.core.principal import Principal

from ..models import CreditRecord
from .evaluation import credit_file_refresh
from .files import credit_file_of

K = CreditRecord.Kind
POSITIVE_KINDS = frozenset({K.COMMENDATION, K.TAX_A})
# Kinds published (公示) for organisations; nothing about a person is ever public.
PUBLIC_KINDS = frozenset({K.PENALTY, K.LICENCE_REVOKED, K.INSPECTION, K.COURT, K.COMMENDATION, K.TAX_A})
# Default period of effect in years, from the day it occurred (None: until removed).
EFFECT_YEARS = {
    K.PLEDGE_FALSE: 3,
    K.LICENCE_REVOKED: 3,
    K.COMPLAINT_VERIFIED: 1,
    K.INSPECTION: 1,
    K.PENALTY: 3,
    K.OWED_OVERDUE: 1,
    K.COURT: None,
    K.TAX: 3,
    K.SOCIAL_SECURITY: 1,
    K.UTILITIES: 1,
    K.COMMENDATION: 3,
    K.TAX_A: 1,
    K.OTHER: 1,
}
TITLE_MAX = 200


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def record_snapshot(record: CreditRecord) -> dict:
    return {
        "kind": record.kind,
        "polarity": record.polarity,
        "title": record.title,
        "occurred_on": record.occurred_on,
        "effective_until": record.effective_until,
        "status": record.status,
        "department": record.department.code,
    }


def credit_record_add(
    *,
    actor: Principal | None,
    kind: str,
    department: Department,
    title: str,
    legal_basis: str,
    occurred_on: date,
    organisation: Organisation | None = None,
    person: Person | None = None,
    detail: str = "",
    effective_until: date | None = None,
    source: str = CreditRecord.Source.PLATFORM,
    ref_type: str = "",
    ref_id: str = "",
    batch=None,
    refresh: bool = True,
) -> CreditRecord | None:
    """Adds a record to the subject's file (an organisation's, else the person's; made when missing) and
    re-grades it. Returns None when a record of this kind for the same ref already exists (idempotent).

    `refresh=False` leaves the re-grading to the caller, who must call `credit_file_refresh` on every file it
    touched before its transaction ends (an import adds many rows to a file and grades it once)."""
    if kind not in K.values:
        raise ValidationError({"kind": _("未知的信用记录类别。")}, code="invalid")
    if organisation is None and person is None:
        raise ValidationError({"subject": _("请指定信用主体（法人或自然人）。")}, code="required")
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("请填写事由。")}, code="required")
    if not (legal_basis or "").strip():
        raise ValidationError({"legal_basis": _("请填写法律依据。")}, code="required")
    if effective_until is not None and effective_until < occurred_on:
        raise ValidationError({"effective_until": _("有效期不能早于发生日期。")}, code="invalid")
    with transaction.atomic():
        if ref_id and CreditRecord.objects.filter(kind=kind, ref_type=ref_type, ref_id=str(ref_id)).exists():
            return None
        file = credit_file_of(
            organisation_id=organisation.pk if organisation is not None else None,
            person_id=person.pk if person is not None and organisation is None else None,
            create=True,
        )
        years = EFFECT_YEARS.get(kind)
        if effective_until is None and years is not None:
            effective_until = _years_after(occurred_on, years)
        try:
            # Two writers seeing the same event: the unique ref lets one win, the other reads None.
            with transaction.atomic():
                record = CreditRecord.objects.create(
                    file=file,
                    kind=kind,
                    polarity=CreditRecord.Polarity.POSITIVE
                    if kind in POSITIVE_KINDS
                    else CreditRecord.Polarity.NEGATIVE,
                    source=source,
                    department=department,
                    title=title[:TITLE_MAX],
                    detail=detail or "",
                    legal_basis=legal_basis.strip()[:300],
                    occurred_on=occurred_on,
                    effective_until=effective_until,
                    is_public=file.subject == file.Subject.ORGANISATION and kind in PUBLIC_KINDS,
                    ref_type=ref_type,
                    ref_id=str(ref_id),
                    batch=batch,
                    created_by=actor.staff if actor is not None else None,
                )
        except IntegrityError:
            if ref_id:
                return None
            raise
        audit_record(
            actor=actor,
            action="credit.record_add",
            object_type="credit_record",
            object_id=str(record.public_id),
            after={**record_snapshot(record), "file": str(file.public_id), "ref": f"{ref_type}:{ref_id}"},
        )
        if refresh:
            credit_file_refresh(file)
    return record


def kind_of(text: str) -> str | None:
    """A CreditRecord.Kind from its value (court) or its Chinese label (法院失信被执行人)."""
    text = (text or "").strip()
    if text in K.values:
        return text
    for value, label in K.choices:
        if text == str(label):
            return value
    return None


def credit_record_add_manual(
    *,
    actor: Principal,
    kind: str,
    title: str,
    legal_basis: str,
    occurred_on: date | None,
    uscc: str = "",
    id_number: str = "",
    detail: str = "",
    effective_until: date | None = None,
) -> CreditRecord:
    """人工录入: a credit officer adds a record for a subject of their district, named by its USCC or ID
    number and taken from the base registry (never from the caller). Every field error at once; nothing is
    written unless all are right. The record's department is the officer's (objections go to it)."""
    from yiwang.core.keystore import keystore
    from yiwang.core.permissions import CREDIT_MANAGE
    from yiwang.core.validators import normalise_id_number, normalise_uscc, validate_id_number, validate_uscc

    from ..selectors.files import subject_in_district

    actor.require(CREDIT_MANAGE)
    if actor.staff is None:
        raise PermissionDenied(_("信用记录须由工作人员录入。"))
    errors: dict[str, str] = {}
    uscc, id_number = normalise_uscc(uscc or ""), normalise_id_number(id_number or "")
    organisation = person = None
    if uscc and id_number:
        errors["uscc"] = _("统一社会信用代码与身份证号只能填写一项。")
    elif uscc:
        try:
            validate_uscc(uscc)
        except ValidationError as exc:
            errors["uscc"] = exc.messages[0]
        else:
            organisation = Organisation.objects.select_related("division").filter(uscc=uscc).first()
            if organisation is None:
                errors["uscc"] = _("法人库中没有该统一社会信用代码。")
            elif not subject_in_district(actor, organisation=organisation):
                errors["uscc"] = _("该法人不在本区登记，不能录入其信用记录。")
    elif id_number:
        try:
            validate_id_number(id_number)
        except ValidationError as exc:
            errors["id_number"] = exc.messages[0]
        else:
            index = keystore().blind_index(id_number, purpose="id_number")
            person = Person.objects.select_related("division").filter(id_number_index=index).first()
            if person is None:
                errors["id_number"] = _("人口库中没有该身份证号。")
            elif not subject_in_district(actor, person=person):
                errors["id_number"] = _("该自然人不在本区登记，不能录入其信用记录。")
    else:
        errors["uscc"] = _("请填写统一社会信用代码或身份证号。")
    kind_value = kind_of(kind)
    if kind_value is None:
        errors["kind"] = _("未知的信用记录类别。")
    if not (title or "").strip():
        errors["title"] = _("请填写事由。")
    elif len(title.strip()) > TITLE_MAX:
        errors["title"] = _("事由最多 200 字。")
    if not (legal_basis or "").strip():
        errors["legal_basis"] = _("请填写法律依据。")
    elif len(legal_basis.strip()) > 300:
        errors["legal_basis"] = _("法律依据最多 300 字。")
    if occurred_on is None:
        errors["occurred_on"] = _("请填写发生日期。")
    elif effective_until is not None and effective_until < occurred_on:
        errors["effective_until"] = _("有效期不能早于发生日期。")
    if len(detail or "") > 2000:
        errors["detail"] = _("内容最多 2000 字。")
    if errors:
        raise ValidationError(errors)
    return credit_record_add(
        actor=actor,
        kind=kind_value,
        department=actor.staff.department,
        title=title,
        detail=detail,
        legal_basis=legal_basis,
        occurred_on=occurred_on,
        effective_until=effective_until,
        organisation=organisation,
        person=person,
        source=CreditRecord.Source.MANUAL,
    )
