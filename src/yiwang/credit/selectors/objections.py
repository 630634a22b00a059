"""What staff and applicants may see of 信用异议 and 信用修复.

- The objection queue: CREDIT_HANDLE staff see the objections of records their department (or a department below
  it) provided; an objection outside that is a 404.
- The repair queue: CREDIT_MANAGE staff (the district's 信用办) see every application.
- An applicant sees their own objections and repairs (by account); anyone else's is a 404.
A staff member opening an objection or repair about a person's record reads personal data: the read is audited
with its purpose.
"""

from __future__ import annotations

import uuid

from django.http import Http404

from yiwang.core.audit import audit_record
from yiwang.core.models import AuditEntry
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import CREDIT_HANDLE, CREDIT_MANAGE
from yiwang.core.principal import Principal
from yiwang.core.selectors.org import department_subtree_ids

from ..models import CreditObjection, CreditRepair
from ..services.objections import objection_handles

OBJECTION_RELATED = ("record", "record__file", "record__department", "department", "decided_by")
REPAIR_RELATED = ("file", "file__organisation", "file__person", "record", "entry", "decided_by")


def _uuid(value) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError, AttributeError):
        return None


def objection_queue(
    principal: Principal, *, status: str | None = None, cursor: str | None = None, limit: int = 20
) -> Page[CreditObjection]:
    if principal.staff is None or not principal.has(CREDIT_HANDLE):
        return Page(items=[], next_cursor=None)
    rows = CreditObjection.objects.filter(
        department_id__in=department_subtree_ids(principal.staff.department)
    ).select_related(*OBJECTION_RELATED, "record__file__organisation")
    if status in CreditObjection.Status.values:
        rows = rows.filter(status=status)
    return keyset_page(rows, key=("due_date", "id"), cursor=cursor, limit=limit)


def objections_mine(
    principal: Principal, *, cursor: str | None = None, limit: int = 20
) -> Page[CreditObjection]:
    account = principal.account
    if account is None:
        return Page(items=[], next_cursor=None)
    rows = CreditObjection.objects.filter(account=account).select_related(*OBJECTION_RELATED)
    return keyset_page(rows, key="id", cursor=cursor, limit=limit, descending=True)


def _audit_person_read(principal: Principal, file, object_type: str, object_id: str, purpose: str) -> None:
    if file.subject == file.Subject.PERSON:
        audit_record(
            actor=principal,
            action="credit.person_file_read",
            object_type=object_type,
            object_id=object_id,
            purpose=purpose,
        )


def objection_get(principal: Principal, objection_id) -> tuple[CreditObjection, bool]:
    """(objection, handles): the objector's own, or one this staff member verifies; 404 otherwise."""
    key = _uuid(objection_id)
    objection = (
        CreditObjection.objects.filter(public_id=key).select_related(*OBJECTION_RELATED, "account").first()
        if key
        else None
    )
    if objection is None:
        raise Http404
    handles = objection_handles(principal, objection.department_id)
    if not handles and (principal.account is None or objection.account_id != principal.account.pk):
        raise Http404
    if handles and objection.account_id != getattr(principal.account, "pk", None):
        _audit_person_read(principal, objection.record.file, "credit_objection", key, "信用异议核实")
    return objection, handles


def repair_queue(
    principal: Principal, *, status: str | None = None, cursor: str | None = None, limit: int = 20
) -> Page[CreditRepair]:
    if principal.staff is None or not principal.has(CREDIT_MANAGE):
        return Page(items=[], next_cursor=None)
    rows = CreditRepair.objects.select_related(*REPAIR_RELATED)
    if status in CreditRepair.Status.values:
        rows = rows.filter(status=status)
    return keyset_page(rows, key=("due_date", "id"), cursor=cursor, limit=limit)


def repairs_mine(principal: Principal, *, cursor: str | None = None, limit: int = 20) -> Page[CreditRepair]:
    account = principal.account
    if account is None:
        return Page(items=[], next_cursor=None)
    rows = CreditRepair.objects.filter(account=account).select_related(*REPAIR_RELATED)
    return keyset_page(rows, key="id", cursor=cursor, limit=limit, descending=True)


def repair_get(principal: Principal, repair_id) -> tuple[CreditRepair, bool]:
    """(repair, reviews): the applicant's own, or any for CREDIT_MANAGE staff; 404 otherwise."""
    key = _uuid(repair_id)
    repair = (
        CreditRepair.objects.filter(public_id=key).select_related(*REPAIR_RELATED).first() if key else None
    )
    if repair is None:
        raise Http404
    reviews = principal.staff is not None and principal.has(CREDIT_MANAGE)
    if not reviews and (principal.account is None or repair.account_id != principal.account.pk):
        raise Http404
    if reviews and repair.account_id != getattr(principal.account, "pk", None):
        _audit_person_read(principal, repair.file, "credit_repair", key, "信用修复审核")
    return repair, reviews


def receipt_entry_of(obj) -> AuditEntry:
    """The decision's audit entry of an objection or repair (404 before a decision)."""
    if obj.receipt_entry is None:
        raise Http404
    entry = AuditEntry.objects.filter(pk=obj.receipt_entry).first()
    if entry is None:
        raise Http404
    return entry
