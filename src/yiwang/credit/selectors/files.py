"""Reads of credit files by staff (CREDIT_VIEW), scoped to the staff member's district: the organisations and
persons registered in divisions under it (division code prefix). A file outside the scope is "not found".

A person's file is personal data: the list shows it with the masked name only, and opening it needs a stated
purpose and is audited (credit.file_read), as every staff read of personal data is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.keystore import keystore
from yiwang.core.masking import mask_id_number, mask_name
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import CREDIT_MANAGE, CREDIT_VIEW
from yiwang.core.principal import Principal, principal_memo
from yiwang.core.validators import normalise_id_number, normalise_uscc, validate_id_number, validate_uscc

from ..models import (
    CreditCheck,
    CreditFile,
    CreditObjection,
    CreditRecord,
    CreditRepair,
    Grade,
    ImportBatch,
    ListEntry,
)
from ..services.lists import principal_district

PURPOSE_MAX = 200
CHECKS_SHOWN = 50
LIST_FACETS = ("black", "red")


# --- scope ----------------------------------------------------------------------------------------------------
def district_code(principal: Principal) -> str:
    """The six-digit district code of the caller's department ("" for none: sees nothing)."""

    return principal_memo(principal, "credit:district", lambda: principal_district(principal))


def _scope_q(code: str) -> Q:
    if not code:
        return Q(pk__in=[])
    return Q(organisation__division__code__startswith=code) | Q(person__division__code__startswith=code)


def credit_files_scoped(principal: Principal) -> QuerySet[CreditFile]:
    principal.require(CREDIT_VIEW)
    return CreditFile.objects.filter(_scope_q(district_code(principal)))


def subject_in_district(principal: Principal, *, organisation=None, person=None) -> bool:
    code = district_code(principal)
    subject = organisation if organisation is not None else person
    division = getattr(subject, "division", None)
    return bool(code) and division is not None and division.code.startswith(code)


# --- list -----------------------------------------------------------------------------------------------------
@dataclass
class FileRow:
    file: CreditFile
    name: str
    code: str  # USCC, or the masked ID number of a person


def file_row(file: CreditFile) -> FileRow:
    if file.organisation_id is not None:
        return FileRow(file=file, name=file.organisation.name, code=file.organisation.uscc)
    person = file.person
    return FileRow(file=file, name=mask_name(person.name), code=mask_id_number(person.id_number))


def _search_q(principal: Principal, q: str) -> Q:
    """An organisation by name (contains) or exact USCC; a person only by the full ID number (blind index)."""
    q = (q or "").strip()[:100]
    if not q:
        return Q()
    code = normalise_uscc(q)
    if len(code) == 18:
        try:
            validate_uscc(code)
        except ValidationError:
            pass
        else:
            return Q(organisation__uscc=code)
        id_number = normalise_id_number(q)
        try:
            validate_id_number(id_number)
        except ValidationError:
            pass
        else:
            index = keystore().blind_index(id_number, purpose="id_number")
            with transaction.atomic():
                audit_record(
                    actor=principal,
                    action="credit.person_search",
                    object_type="person",
                    object_id="",
                    after={"id_number": mask_id_number(id_number)},
                    purpose=_("信用档案查询"),
                )
            return Q(person__id_number_index=index)
    return Q(organisation__name__icontains=q)


def credit_file_list(
    principal: Principal,
    *,
    q: str = "",
    grade: str = "",
    list_: str = "",
    cursor: str | None = None,
    limit: int = 20,
) -> Page[FileRow]:
    """The district's files, newest first, keyset-paged; q by organisation name or USCC (or a person's full ID
    number), facets grade (A–D) and list (black/red). Unknown facet values are field errors."""
    errors = {}
    if grade and grade not in Grade.values:
        errors["grade"] = _("信用等级应为 A、B、C 或 D。")
    if list_ and list_ not in LIST_FACETS:
        errors["list"] = _("名单应为 black（黑名单）或 red（红名单）。")
    if errors:
        raise ValidationError(errors)
    rows = credit_files_scoped(principal).filter(_search_q(principal, q))
    if grade:
        rows = rows.filter(grade=grade)
    if list_ == "black":
        rows = rows.filter(is_black=True)
    elif list_ == "red":
        rows = rows.filter(is_red=True)
    rows = rows.select_related("organisation", "person")
    page = keyset_page(rows, key="id", cursor=cursor, limit=limit, descending=True)
    return Page(items=[file_row(f) for f in page.items], next_cursor=page.next_cursor)


# --- one file -------------------------------------------------------------------------------------------------
@dataclass
class FileView:
    file: CreditFile
    name: str
    code: str
    is_person: bool
    records: list[CreditRecord] = field(default_factory=list)
    entries: list[ListEntry] = field(default_factory=list)
    checks: list[CreditCheck] = field(default_factory=list)
    objections: list[CreditObjection] = field(default_factory=list)
    repairs: list[CreditRepair] = field(default_factory=list)
    may_manage: bool = False


class PurposeRequired(ValidationError):
    """A person's file is opened with a stated purpose (the read is audited)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__({"purpose": message or _("查看自然人信用档案须填写查询用途，查询将记入审计日志。")})


def credit_file_find(principal: Principal, file_id: UUID | str) -> CreditFile | None:
    """The file if the caller's district holds its subject, else None (a guessed id is "not found")."""
    try:
        file_id = UUID(str(file_id))
    except ValueError:
        return None
    return (
        credit_files_scoped(principal)
        .select_related("organisation", "person")
        .filter(public_id=file_id)
        .first()
    )


def credit_file_view(principal: Principal, file_id: UUID | str, *, purpose: str = "") -> FileView | None:
    """One file with its records, list entries, the credit checks made on cases, objections and repairs.
    A person's file needs `purpose` (PurposeRequired otherwise) and its read is audited."""
    file = credit_file_find(principal, file_id)
    if file is None:
        return None
    is_person = file.person_id is not None
    if is_person:
        purpose = (purpose or "").strip()
        if not purpose:
            raise PurposeRequired()
        if len(purpose) > PURPOSE_MAX:
            raise PurposeRequired(_("查询用途最多 200 个字符。"))
        with transaction.atomic():
            audit_record(
                actor=principal,
                action="credit.file_read",
                object_type="credit_file",
                object_id=str(file.public_id),
                after={"subject": "person", "person": str(file.person.public_id)},
                purpose=purpose,
            )
    row = file_row(file)
    records = list(
        CreditRecord.objects.filter(file=file)
        .select_related("department", "batch")
        .order_by("-occurred_on", "-id")
    )
    entries = list(
        ListEntry.objects.filter(file=file).select_related("department").order_by("-starts_on", "-id")
    )
    checks = list(CreditCheck.objects.filter(file=file).select_related("case").order_by("-id")[:CHECKS_SHOWN])
    objections = list(
        CreditObjection.objects.filter(record__file=file)
        .select_related("record", "department")
        .order_by("-id")
    )
    repairs = list(CreditRepair.objects.filter(file=file).select_related("record", "entry").order_by("-id"))
    return FileView(
        file=file,
        name=row.name,
        code=row.code,
        is_person=is_person,
        records=records,
        entries=entries,
        checks=checks,
        objections=objections,
        repairs=repairs,
        may_manage=principal.has(CREDIT_MANAGE),
    )


# --- imports --------------------------------------------------------------------------------------------------
def import_batches_scoped(principal: Principal) -> QuerySet[ImportBatch]:
    """Batches of the caller's district (by the importing department's division)."""
    principal.require(CREDIT_MANAGE)
    code = district_code(principal)
    if not code:
        return ImportBatch.objects.none()
    return ImportBatch.objects.filter(department__division__code__startswith=code).select_related(
        "department"
    )


def import_batch_find(principal: Principal, batch_id: UUID | str) -> ImportBatch | None:
    try:
        batch_id = UUID(str(batch_id))
    except ValueError:
        return None
    return import_batches_scoped(principal).filter(public_id=batch_id).first()


def import_batch_list(
    principal: Principal, *, cursor: str | None = None, limit: int = 20
) -> Page[ImportBatch]:
    return keyset_page(
        import_batches_scoped(principal), key="id", cursor=cursor, limit=limit, descending=True
    )
