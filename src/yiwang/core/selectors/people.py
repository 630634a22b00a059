"""Selectors for the base registries. Staff reads of personal data are audited with their stated purpose."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..audit import audit_record
from ..keystore import keystore
from ..masking import mask_id_number, mask_phone
from ..models import Organisation, Person, Representation
from ..permissions import ORGANISATION_LOOKUP, PERSON_LOOKUP, SELF_SERVICE
from ..principal import Principal
from ..validators import (
    normalise_id_number,
    normalise_phone,
    normalise_uscc,
    validate_id_number,
    validate_phone,
    validate_uscc,
)

MAX_REPRESENTED = 200
MAX_PHONE_MATCHES = 50  # a phone number is not unique (family members), but never a list worth browsing


# --- persons ---------------------------------------------------------------------------------------------
def person_find_by_id_number(principal: Principal, id_number: str, purpose: str) -> Person | None:
    """Looks a person up by 身份证号 through the blind index. The read is audited with its purpose, found or not."""
    principal.require(PERSON_LOOKUP)
    id_number = normalise_id_number(id_number)
    purpose = (purpose or "").strip()
    errors: dict[str, str] = {}
    if not id_number:
        errors["id_number"] = _("请填写身份证号。")
    else:
        try:
            validate_id_number(id_number)
        except ValidationError as exc:
            errors["id_number"] = exc.messages[0]
    if not purpose:
        errors["purpose"] = _("请填写查询用途，查询将记入审计日志。")
    elif len(purpose) > 200:
        errors["purpose"] = _("查询用途最多200个字符。")
    if errors:
        raise ValidationError(errors)
    index = keystore().blind_index(id_number, purpose="id_number")
    person = Person.objects.select_related("division").filter(id_number_index=index).first()
    with transaction.atomic():
        audit_record(
            actor=principal,
            action="person.read",
            object_type="person",
            object_id=str(person.public_id) if person else "",
            after={"id_number": mask_id_number(id_number), "found": person is not None},
            purpose=purpose,
        )
    return person


def persons_find_by_phone(principal: Principal, phone: str, purpose: str) -> list[Person]:
    """The people registered with a phone number, through its blind index (at most MAX_PHONE_MATCHES). The read
    is audited with its purpose, found or not, naming who was found."""
    principal.require(PERSON_LOOKUP)
    phone = normalise_phone(phone)
    purpose = (purpose or "").strip()
    try:
        validate_phone(phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages[0]}) from exc
    if not purpose:
        raise ValidationError({"purpose": _("请填写查询用途，查询将记入审计日志。")})
    index = keystore().blind_index(phone, purpose="phone")
    people = list(Person.objects.select_related("division").filter(phone_index=index)[:MAX_PHONE_MATCHES])
    with transaction.atomic():
        audit_record(
            actor=principal,
            action="person.read",
            object_type="person",
            object_id=str(people[0].public_id) if len(people) == 1 else "",
            after={"phone": mask_phone(phone), "found": [str(p.public_id) for p in people]},
            purpose=purpose[:200],
        )
    return people


def person_self(principal: Principal) -> Person | None:
    """The caller's own real-name record (citizens and enterprise users), or None."""
    principal.require(SELF_SERVICE)
    account = principal.account
    if account is None or not getattr(account, "person_id", None):
        return None
    return Person.objects.select_related("division").filter(pk=account.person_id).first()


# --- organisations ---------------------------------------------------------------------------------------
def organisation_find(principal: Principal, uscc: str) -> Organisation | None:
    """An organisation by 统一社会信用代码, with its current representatives prefetched."""
    principal.require(ORGANISATION_LOOKUP)
    uscc = normalise_uscc(uscc)
    if not uscc:
        raise ValidationError({"uscc": _("请填写统一社会信用代码。")})
    try:
        validate_uscc(uscc)
    except ValidationError as exc:
        raise ValidationError({"uscc": exc.messages[0]}) from exc
    reps = Representation.objects.select_related("person").order_by("kind", "id")
    return (
        Organisation.objects.select_related("division")
        .prefetch_related(Prefetch("representatives", queryset=reps))
        .filter(uscc=uscc)
        .first()
    )


def organisations_represented_by(principal: Principal) -> list[Representation]:
    """The caller's current representations (法定代表人 or unexpired 经办人) of active organisations."""
    principal.require(SELF_SERVICE)
    account = principal.account
    if account is None or not getattr(account, "person_id", None):
        return []
    today = timezone.localdate()
    return list(
        Representation.objects.filter(
            person_id=account.person_id, organisation__status=Organisation.Status.ACTIVE
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("organisation", "organisation__division")
        .order_by("organisation__uscc", "kind")[:MAX_REPRESENTED]
    )
