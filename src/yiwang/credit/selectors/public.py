"""信用公示 and 信用查询 (anonymous readers): published red and black list entries in effect, and organisations by
name or USCC with their public view. Persons are never searchable and never shown but as a masked name (张*) on a
published list entry; no ID number, no person's record, nothing reachable from a guessed id."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.masking import mask_name
from yiwang.core.models import Organisation
from yiwang.core.pagination import Page, keyset_page

from ..models import CreditFile, CreditRecord, ListEntry, ListType
from ..services.evaluation import entry_in_effect_q, in_effect_q

SEARCH_MIN = 2
SEARCH_MAX = 60
SEARCH_LIMIT = 20
USCC_LENGTH = 18


@dataclass(frozen=True)
class PublicEntry:
    id: str
    list_type: str
    list_type_label: str
    subject: str  # organisation name, or a masked person name
    uscc: str  # "" for a person
    reason: str
    legal_basis: str
    department: str
    starts_on: object
    ends_on: object


@dataclass(frozen=True)
class PublicOrganisation:
    organisation: Organisation
    file: CreditFile | None
    entries: list
    records: list


def _published(today):
    return ListEntry.objects.filter(is_published=True).filter(entry_in_effect_q(today))


def public_entries(*, list_type: str | None = None, cursor: str | None = None, limit: int = 20) -> Page:
    """Published list entries in effect (newest first), shaped for the public: no person data but a masked name."""
    if list_type and list_type not in ListType.values:
        raise ValidationError({"type": _("名单类型应为 red 或 black。")}, code="invalid")
    rows = _published(timezone.localdate()).select_related("file__organisation", "file__person", "department")
    if list_type:
        rows = rows.filter(list_type=list_type)
    page = keyset_page(rows, key="id", cursor=cursor, limit=limit, descending=True)
    return Page(items=[_public_entry(e) for e in page.items], next_cursor=page.next_cursor)


def _public_entry(entry: ListEntry) -> PublicEntry:
    file = entry.file
    if file.organisation_id is not None:
        subject, uscc = file.organisation.name, file.organisation.uscc
    else:
        subject, uscc = mask_name(file.person.name), ""
    return PublicEntry(
        id=str(entry.public_id),
        list_type=entry.list_type,
        list_type_label=str(entry.get_list_type_display()),
        subject=subject,
        uscc=uscc,
        reason=entry.reason,
        legal_basis=entry.legal_basis,
        department=entry.department.name,
        starts_on=entry.starts_on,
        ends_on=entry.ends_on,
    )


def public_search(q: str) -> list[tuple[Organisation, CreditFile | None]]:
    """Organisations whose name contains `q` (at least 2 characters) or whose USCC is `q` exactly (at most 20, by
    name). Persons are never searched."""
    q = (q or "").strip()
    if len(q) < SEARCH_MIN:
        raise ValidationError(
            {"q": _("请输入至少 2 个字的名称或 18 位统一社会信用代码。")}, code="min_length"
        )
    if len(q) > SEARCH_MAX:
        raise ValidationError(
            {"q": _("查询内容太长，最多 %(n)s 个字符。") % {"n": SEARCH_MAX}}, code="max_length"
        )
    if len(q) == USCC_LENGTH and q.upper().isalnum():
        match = Q(uscc=q.upper()) | Q(name__contains=q)
    else:
        match = Q(name__contains=q)
    orgs = list(Organisation.objects.filter(match).order_by("name", "id")[:SEARCH_LIMIT])
    files = {f.organisation_id: f for f in CreditFile.objects.filter(organisation__in=orgs)}
    return [(o, files.get(o.pk)) for o in orgs]


def public_organisation(uscc: str) -> PublicOrganisation:
    """The public view of one organisation: grade, published list entries in effect, public records in effect."""
    uscc = (uscc or "").strip().upper()
    org = Organisation.objects.filter(uscc=uscc).first() if len(uscc) == USCC_LENGTH else None
    if org is None:
        raise Http404
    file = CreditFile.objects.filter(organisation=org).first()
    if file is None:
        return PublicOrganisation(org, None, [], [])
    today = timezone.localdate()
    entries = [
        _public_entry(e)
        for e in _published(today)
        .filter(file=file)
        .select_related("file__organisation", "department")
        .order_by("-starts_on", "-id")[:50]
    ]
    records = list(
        CreditRecord.objects.filter(file=file, is_public=True)
        .filter(in_effect_q(today))
        .select_related("department")
        .order_by("-occurred_on", "-id")[:100]
    )
    return PublicOrganisation(org, file, entries, records)
