"""红黑名单: list entries created, published, removed and expired — each write locks the subject's credit file,
appends its audit entry and re-evaluates the file (grade, lists, the joint measures the check inside approvals
reads) in the same transaction.

Scope: a credit officer (CREDIT_MANAGE) lists and removes in the name of a department of their own district;
`actor=None` is the platform itself (a repair granted, the daily expiry)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.workflow import district_of
from yiwang.core.audit import audit_record
from yiwang.core.models import Department
from yiwang.core.permissions import CREDIT_MANAGE
from yiwang.core.principal import Principal
from yiwang.core.selectors.people import organisation_find, person_find_by_id_number

from ..models import CreditFile, CreditRecord, ListEntry, ListType
from .evaluation import credit_file_refresh
from .files import credit_file_of

TEXT_MAX = 300
LOOKUP_PURPOSE = "信用管理：认定红黑名单"

__all__ = [
    "list_entries_expire",
    "list_entry_create",
    "list_entry_publish",
    "list_entry_create_for",
    "list_entry_remove",
    "list_subject",
    "list_subject_file",
    "principal_district",
]


def principal_district(principal: Principal | None) -> str:
    """The six-digit district code of the principal's department ("" without one)."""
    department = principal.department if principal is not None else None
    if department is None or department.division_id is None:
        return ""
    return district_of(department)


def _require_manager(actor: Principal | None) -> None:
    if actor is None:
        return
    actor.require(CREDIT_MANAGE)
    if actor.staff is None or not principal_district(actor):
        raise PermissionDenied(_("只有本区信用管理人员可以认定红黑名单。"))


def _in_district(actor: Principal | None, department: Department) -> bool:
    return actor is None or district_of(department) == principal_district(actor)


def entry_snapshot(entry: ListEntry) -> dict:
    return {
        "list_type": entry.list_type,
        "status": entry.status,
        "reason": entry.reason,
        "legal_basis": entry.legal_basis,
        "department": entry.department.code,
        "starts_on": entry.starts_on,
        "ends_on": entry.ends_on,
        "is_published": entry.is_published,
        "file": str(entry.file.public_id),
    }


def _audit(actor, action: str, entry: ListEntry, before: dict | None = None, **extra) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="credit_list_entry",
        object_id=str(entry.public_id),
        before=before,
        after={**entry_snapshot(entry), **extra},
    )


def _text(errors: dict, field: str, value, required_message: str) -> str:
    value = (value or "").strip()
    if not value:
        errors[field] = required_message
    elif len(value) > TEXT_MAX:
        errors[field] = _("最多 %(n)d 个字符。") % {"n": TEXT_MAX}
    return value


def list_subject(*, actor: Principal, uscc: str = "", id_number: str = "") -> dict[str, int]:
    """The registry's subject named by 统一社会信用代码 (an organisation) or 身份证号 (a person; the lookup is
    audited with its purpose), as {"organisation_id": pk} or {"person_id": pk}. A subject the registry does not
    know is a field error, never a file of its own."""
    uscc, id_number = (uscc or "").strip(), (id_number or "").strip()
    if bool(uscc) == bool(id_number):
        raise ValidationError(
            {"uscc": _("请填写统一社会信用代码（法人）或身份证号（自然人）之一。")}, code="required"
        )
    if uscc:
        organisation = organisation_find(actor, uscc)  # refuses a malformed code on the field "uscc"
        if organisation is None:
            raise ValidationError({"uscc": _("法人基础库中没有该统一社会信用代码的单位。")}, code="unknown")
        return {"organisation_id": organisation.pk}
    try:
        person = person_find_by_id_number(actor, id_number, LOOKUP_PURPOSE)
    except ValidationError as exc:
        messages = getattr(exc, "message_dict", {}).get("id_number") or exc.messages
        raise ValidationError({"id_number": messages[0]}, code="invalid") from exc
    if person is None:
        raise ValidationError({"id_number": _("自然人基础库中没有该身份证号的人员。")}, code="unknown")
    return {"person_id": person.pk}


def list_subject_file(*, actor: Principal, uscc: str = "", id_number: str = "") -> CreditFile:
    """The credit file of the subject named by USCC or ID number, made when missing."""
    return credit_file_of(**list_subject(actor=actor, uscc=uscc, id_number=id_number), create=True)


def list_entry_create_for(
    *,
    actor: Principal,
    uscc: str = "",
    id_number: str = "",
    list_type: str,
    reason: str,
    legal_basis: str,
    department: Department | None,
    starts_on: date,
    ends_on: date | None = None,
    publish: bool = False,
) -> ListEntry:
    """list_entry_create for a subject named by USCC or ID number (pages and API): every field error at once,
    and on any error nothing is written (no file made for a refused listing)."""
    _require_manager(actor)
    errors: dict[str, str] = {}
    subject = None
    try:
        subject = list_subject(actor=actor, uscc=uscc, id_number=id_number)
    except ValidationError as exc:
        errors.update({key: messages[0] for key, messages in exc.message_dict.items()})
    field_errors, *_cleaned = _validate_entry(
        actor, list_type, reason, legal_basis, department, starts_on, ends_on
    )
    errors.update(field_errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        file = credit_file_of(**subject, create=True)
        return list_entry_create(
            actor=actor,
            file=file,
            list_type=list_type,
            reason=reason,
            legal_basis=legal_basis,
            department=department,
            starts_on=starts_on,
            ends_on=ends_on,
            publish=publish,
        )


def _validate_entry(actor, list_type, reason, legal_basis, department, starts_on, ends_on):
    errors: dict[str, str] = {}
    if list_type not in ListType.values:
        errors["list_type"] = _("请选择红名单或黑名单。")
    reason = _text(errors, "reason", reason, _("请填写列入事由。"))
    legal_basis = _text(errors, "legal_basis", legal_basis, _("请填写认定依据。"))
    if starts_on is None:
        errors["starts_on"] = _("请填写列入日期。")
    elif ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = _("有效期不能早于列入日期。")
    if department is None:
        errors["department"] = _("请选择认定部门。")
    elif not _in_district(actor, department):
        errors["department"] = _("只能以本区（县）部门的名义认定。")
    return errors, reason, legal_basis


def _locked_file(file: CreditFile) -> CreditFile:
    return CreditFile.objects.select_for_update().get(pk=file.pk)


def list_entry_create(
    *,
    actor: Principal | None,
    file: CreditFile,
    list_type: str,
    reason: str,
    legal_basis: str,
    department: Department,
    starts_on: date,
    ends_on: date | None = None,
    record: CreditRecord | None = None,
    publish: bool = False,
) -> ListEntry:
    """Lists a subject (red: 守信激励, black: 失信惩戒) in the name of `department` from `starts_on` (to
    `ends_on`, or until removed). Refused: an unknown type, no reason or legal basis, an end before the start,
    a department outside the actor's district, a record of another file, the same department listing the same
    subject in the same list for the same record (or, without one, the same reason) twice, and a red listing of
    a black-listed subject."""
    _require_manager(actor)
    errors, reason, legal_basis = _validate_entry(
        actor, list_type, reason, legal_basis, department, starts_on, ends_on
    )
    if record is not None and record.file_id != file.pk:
        errors["record"] = _("该信用记录不属于此主体。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        file = _locked_file(file)
        active = ListEntry.objects.filter(file=file, status=ListEntry.Status.ACTIVE)
        same = active.filter(list_type=list_type, department=department)
        same = same.filter(record=record) if record is not None else same.filter(reason=reason)
        if same.exists():
            raise ValidationError(
                {"list_type": _("该部门已将此主体列入该名单，请勿重复认定。")}, code="duplicate"
            )
        if list_type == ListType.RED and active.filter(list_type=ListType.BLACK).exists():
            raise ValidationError({"list_type": _("该主体在黑名单有效期内，不能列入红名单。")}, code="black")
        now = timezone.now()
        entry = ListEntry.objects.create(
            file=file,
            list_type=list_type,
            reason=reason,
            legal_basis=legal_basis,
            department=department,
            starts_on=starts_on,
            ends_on=ends_on,
            record=record,
            is_published=bool(publish),
            published_at=now if publish else None,
            created_by=actor.staff if actor is not None else None,
        )
        _audit(actor, "credit.list_create", entry)
        credit_file_refresh(file)
    return entry


def _locked_entry(entry: ListEntry) -> ListEntry:
    return (
        ListEntry.objects.select_for_update(of=("self",))
        .select_related("file", "department__division")
        .get(pk=entry.pk)
    )


def _managed(actor: Principal | None, entry: ListEntry) -> None:
    _require_manager(actor)
    if not _in_district(actor, entry.department):
        raise PermissionDenied(_("只能管理本区（县）部门认定的名单。"))


def list_entry_publish(*, actor: Principal | None, entry: ListEntry) -> ListEntry:
    """公示: an active entry appears on the public 信用公示 pages (a person's name masked)."""
    with transaction.atomic():
        entry = _locked_entry(entry)
        _managed(actor, entry)
        if entry.status != ListEntry.Status.ACTIVE:
            raise ValidationError({"entry": _("只有有效的名单条目可以公示。")}, code="state")
        if entry.is_published:
            raise ValidationError({"entry": _("该名单条目已公示。")}, code="published")
        before = entry_snapshot(entry)
        entry.is_published, entry.published_at = True, timezone.now()
        entry.save(update_fields=["is_published", "published_at"])
        _audit(actor, "credit.list_publish", entry, before)
        credit_file_refresh(entry.file)
    return entry


def list_entry_remove(*, actor: Principal | None, entry: ListEntry, reason: str) -> ListEntry:
    """移出: an active entry ends now, with the reason (a repair granted, an error found); its measures stop
    applying at once (the file is re-evaluated in this transaction)."""
    errors: dict[str, str] = {}
    reason = _text(errors, "reason", reason, _("请填写移出原因。"))
    with transaction.atomic():
        entry = _locked_entry(entry)
        _managed(actor, entry)
        if errors:
            raise ValidationError(errors)
        if entry.status != ListEntry.Status.ACTIVE:
            raise ValidationError(
                {"entry": _("该名单条目已是“%(s)s”状态。") % {"s": entry.get_status_display()}}, code="state"
            )
        list_entry_end(actor=actor, entry=entry, reason=reason)
        credit_file_refresh(entry.file)
    return entry


def list_entry_end(*, actor: Principal | None, entry: ListEntry, reason: str) -> ListEntry:
    """Ends one active, locked entry (移出, and no longer published) with its audit entry, inside the caller's
    transaction; the caller decided that it may and refreshes the file once afterwards. Used by 移出 and by the
    decisions that take an entry's ground away (an objection upheld, a repair granted)."""
    before = entry_snapshot(entry)
    entry.status = ListEntry.Status.REMOVED
    entry.removed_at = timezone.now()
    entry.removal_reason = reason[:300]
    entry.is_published = False
    entry.save(update_fields=["status", "removed_at", "removal_reason", "is_published"])
    _audit(actor, "credit.list_remove", entry, before)
    return entry


EXPIRE_BATCH = 200


def list_entries_expire(*, today: date | None = None) -> int:
    """Marks EXPIRED every active entry whose period ended before `today` and re-evaluates its file. Batches are
    claimed with SKIP LOCKED, so two consumers never expire one entry twice. Returns how many expired."""
    today = today or timezone.localdate()
    total = 0
    while True:
        with transaction.atomic():
            batch = list(
                ListEntry.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=ListEntry.Status.ACTIVE, ends_on__lt=today)
                .select_related("file", "department")
                .order_by("id")[:EXPIRE_BATCH]
            )
            if not batch:
                return total
            files: dict[int, CreditFile] = {}
            for entry in batch:
                before = entry_snapshot(entry)
                entry.status = ListEntry.Status.EXPIRED
                entry.save(update_fields=["status"])
                _audit(None, "credit.list_expire", entry, before)
                files[entry.file_id] = entry.file
            for file in files.values():
                credit_file_refresh(file, today=today)
            total += len(batch)
