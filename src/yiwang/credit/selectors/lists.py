"""红黑名单 and 奖惩措施 as staff may reach them: the list entries of departments of the caller's district
(CREDIT_VIEW), filtered by type and status, newest first, keyset-paged on (created_at, public_id); one entry by
its public id (another district's, or a guessed id: 404); the measures catalogue; the credit checks of a case.

A person's entry shows the person's masked name only; the ID number never leaves the registry here."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.masking import mask_name
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import CREDIT_MANAGE, CREDIT_VIEW
from yiwang.core.principal import Principal

from ..models import CreditCheck, CreditFile, ListEntry, ListType, Measure
from ..services.lists import principal_district

PAGE_KEY = ("created_at", "public_id")

__all__ = [
    "EntryView",
    "entry_view",
    "list_entries_visible",
    "list_entry_get_visible",
    "measures_catalogue",
    "case_credit_checks",
]


@dataclass(frozen=True)
class EntryView:
    entry: ListEntry
    subject_kind: str  # "organisation" | "person"
    subject_name: str
    subject_code: str  # USCC for an organisation, "" for a person
    may_manage: bool


def _scoped(principal: Principal):
    principal.require(CREDIT_VIEW)
    district = principal_district(principal)
    if not district:
        return ListEntry.objects.none()
    return ListEntry.objects.filter(department__division__code__startswith=district)


def _related(qs):
    return qs.select_related("department", "file__organisation", "file__person", "record", "created_by").only(
        "public_id",
        "list_type",
        "reason",
        "legal_basis",
        "starts_on",
        "ends_on",
        "status",
        "is_published",
        "published_at",
        "removed_at",
        "removal_reason",
        "created_at",
        "department__code",
        "department__name",
        "file__public_id",
        "file__subject",
        "file__grade",
        "file__organisation__name",
        "file__organisation__uscc",
        "file__person__name",
        "record__public_id",
        "record__title",
        "created_by__name",
    )


def entry_view(principal: Principal, entry: ListEntry) -> EntryView:
    file = entry.file
    if file.subject == CreditFile.Subject.ORGANISATION:
        name, code = file.organisation.name, file.organisation.uscc
    else:
        name, code = mask_name(file.person.name), ""
    return EntryView(
        entry=entry,
        subject_kind=file.subject,
        subject_name=name,
        subject_code=code,
        may_manage=principal.has(CREDIT_MANAGE),
    )


def list_entries_visible(
    principal: Principal,
    *,
    list_type: str = "",
    status: str = "",
    cursor: str | None = None,
    limit: int = 20,
) -> Page[EntryView]:
    """The entries of the caller's district, newest first; unknown filter values are field errors."""
    errors = {}
    if list_type and list_type not in ListType.values:
        errors["type"] = _("名单类型只能是 red 或 black。")
    if status and status not in ListEntry.Status.values:
        errors["status"] = _("状态只能是 active、removed 或 expired。")
    if errors:
        raise ValidationError(errors)
    qs = _scoped(principal)
    if list_type:
        qs = qs.filter(list_type=list_type)
    if status:
        qs = qs.filter(status=status)
    page = keyset_page(_related(qs), key=PAGE_KEY, cursor=cursor, limit=limit, descending=True)
    return Page(items=[entry_view(principal, e) for e in page.items], next_cursor=page.next_cursor)


def list_entry_get_visible(principal: Principal, entry_id) -> ListEntry:
    """One entry of the caller's district by public id; anything else (another district's, a guessed or
    malformed id) is 404."""
    try:
        key = entry_id if isinstance(entry_id, UUID) else UUID(str(entry_id))
    except (TypeError, ValueError):
        raise Http404(_("没有找到该名单条目。")) from None
    entry = _related(_scoped(principal)).filter(public_id=key).first()
    if entry is None:
        raise Http404(_("没有找到该名单条目。"))
    return entry


def measures_catalogue(principal: Principal) -> list[Measure]:
    principal.require(CREDIT_VIEW)
    return list(Measure.objects.order_by("list_type", "code"))


def case_credit_checks(case) -> list[CreditCheck]:
    """The credit checks recorded on a case (for pages that already know the caller may see the case)."""
    return list(CreditCheck.objects.filter(case=case).order_by("id"))
