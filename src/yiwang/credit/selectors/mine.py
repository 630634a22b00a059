"""我的信用: what a citizen or an enterprise account sees of its own credit — the file of the account's real-name
person (a citizen) or of the organisation it acts for (an enterprise account), the file's records and list
entries, and the credit checks made on its cases. Nothing here reaches another subject's file: a record or entry
of any other file is a 404, whatever id is guessed."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from yiwang.core.pagination import Page, keyset_page
from yiwang.core.principal import Principal, principal_memo

from ..models import CreditCheck, CreditFile, CreditRecord, ListEntry

MAX_CHECKS = 20
MAX_ENTRIES = 50


@dataclass(frozen=True)
class Subject:
    """Whose credit an account sees: an organisation (enterprise account) or a person (citizen)."""

    organisation_id: int | None = None
    person_id: int | None = None

    @property
    def exists(self) -> bool:
        return self.organisation_id is not None or self.person_id is not None

    def owns(self, file: CreditFile) -> bool:
        if self.organisation_id is not None:
            return file.organisation_id == self.organisation_id
        if self.person_id is not None:
            return file.organisation_id is None and file.person_id == self.person_id
        return False


def mine_subject(principal: Principal | None) -> Subject:
    account = getattr(principal, "account", None)
    if account is None:
        return Subject()
    if account.kind == "enterprise":
        return Subject(organisation_id=account.organisation_id) if account.organisation_id else Subject()
    if account.kind == "citizen" and account.person_id:
        return Subject(person_id=account.person_id)
    return Subject()


def mine_file(principal: Principal) -> CreditFile | None:
    """The principal's own credit file (None: no subject, or no record was ever written)."""

    def compute():
        subject = mine_subject(principal)
        if subject.organisation_id is not None:
            return CreditFile.objects.filter(organisation_id=subject.organisation_id).first()
        if subject.person_id is not None:
            return CreditFile.objects.filter(person_id=subject.person_id).first()
        return None

    return principal_memo(principal, "credit.mine_file", compute)


def mine_records(principal: Principal, *, cursor: str | None = None, limit: int = 50) -> Page[CreditRecord]:
    """My file's records, every status (newest first), with their department."""
    file = mine_file(principal)
    if file is None:
        return Page(items=[], next_cursor=None)
    rows = CreditRecord.objects.filter(file=file).select_related("department")
    return keyset_page(rows, key=("occurred_on", "id"), cursor=cursor, limit=limit, descending=True)


def mine_entries(principal: Principal) -> list[ListEntry]:
    file = mine_file(principal)
    if file is None:
        return []
    return list(
        ListEntry.objects.filter(file=file)
        .select_related("department")
        .order_by("-starts_on", "-id")[:MAX_ENTRIES]
    )


def mine_black_record_ids(principal: Principal) -> frozenset[int]:
    """The records of my file that support a black-list entry in effect (one query; for repair eligibility)."""
    from django.utils import timezone

    from ..services.evaluation import entry_in_effect_q

    file = mine_file(principal)
    if file is None:
        return frozenset()
    return frozenset(
        ListEntry.objects.filter(file=file, list_type="black", record__isnull=False)
        .filter(entry_in_effect_q(timezone.localdate()))
        .values_list("record_id", flat=True)
    )


def mine_checks(principal: Principal) -> list[CreditCheck]:
    """The credit checks made on my cases (the newest first)."""
    account = getattr(principal, "account", None)
    if account is None:
        return []
    return list(
        CreditCheck.objects.filter(case__applicant_account=account)
        .select_related("case")
        .order_by("-id")[:MAX_CHECKS]
    )


def mine_record_get(principal: Principal, record_id) -> CreditRecord:
    """One record of my file; 404 for any other (another subject's, unknown, malformed)."""
    file = mine_file(principal)
    if file is None:
        raise Http404
    record = (
        CreditRecord.objects.filter(file=file, public_id=str(record_id))
        .select_related("department", "file")
        .first()
        if _is_uuid(record_id)
        else None
    )
    if record is None:
        raise Http404
    return record


def mine_entry_get(principal: Principal, entry_id) -> ListEntry:
    file = mine_file(principal)
    if file is None or not _is_uuid(entry_id):
        raise Http404
    entry = (
        ListEntry.objects.filter(file=file, public_id=str(entry_id))
        .select_related("department", "file")
        .first()
    )
    if entry is None:
        raise Http404
    return entry


def _is_uuid(value) -> bool:
    import uuid

    if isinstance(value, uuid.UUID):
        return True
    try:
        uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return False
    return True
