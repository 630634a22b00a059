"""公文流转 reads: what a caller may see (scope + confidentiality clearance), lists, one document, and which actions
the caller may take on it.

Scope: the documents of the caller's department; those it holds or its department holds; those where its department
is a party (会签, 承办, 收文单位); those it signed. The district office's registrars (DOCUMENT_REGISTER in the office)
also see every signed 发文 of the district (they number, seal and distribute them). Clearance: a document above
every one of the caller's roles' maxima (RoleClearance, defaults below) is invisible everywhere — lists, pages,
API, workbench — and answers 404 like a document that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import COLLAB_WORK, DOCUMENT_REGISTER, DOCUMENT_SIGN, Role
from yiwang.core.principal import Principal, principal_memo

from ..document_workflow import CLOSED, EDITABLE
from ..models.documents import (
    Confidentiality,
    Document,
    DocumentFile,
    DocumentParty,
    DocumentStep,
    DocumentVersion,
    RoleClearance,
)

Step = Document.Step
Direction = Document.Direction

# Roles that may read 敏感（限定范围） documents when the admin has written no RoleClearance row for them.
DEFAULT_RESTRICTED_ROLES = frozenset({Role.LEADER, Role.OFFICE_CLERK, Role.DEPARTMENT_HEAD})
NO_CLEARANCE = -1


def office_code() -> str:
    """The district government office's department code: it registers, numbers and seals for the district."""
    return getattr(settings, "YIWANG_DISTRICT_OFFICE", "ZFB")


# --- clearance --------------------------------------------------------------------------------------------------
def clearance_for_roles(roles) -> int:
    roles = set(roles or ())
    if not roles:
        return NO_CLEARANCE
    rows = dict(RoleClearance.objects.filter(role__in=roles).values_list("role", "max_level"))
    best = NO_CLEARANCE
    for role in roles:
        if role in rows:
            level = rows[role]
        elif role in DEFAULT_RESTRICTED_ROLES:
            level = Confidentiality.RESTRICTED
        else:
            level = Confidentiality.INTERNAL
        best = max(best, int(level))
    return best


def document_clearance(principal: Principal | None) -> int:
    """The highest confidentiality the caller may see (NO_CLEARANCE: nothing)."""
    if principal is None or principal.staff is None or not principal.has(COLLAB_WORK):
        return NO_CLEARANCE
    return principal_memo(
        principal, "collab.documents.clearance", lambda: clearance_for_roles(principal.roles)
    )


# --- who may act ------------------------------------------------------------------------------------------------
def _dept_id(principal: Principal | None):
    staff = principal.staff if principal is not None else None
    return staff.department_id if staff is not None else None


def is_office(principal: Principal | None) -> bool:
    staff = principal.staff if principal is not None else None
    return bool(
        staff is not None and principal.has(DOCUMENT_REGISTER) and staff.department.code == office_code()
    )


def may_register(principal: Principal | None, department_id) -> bool:
    """收发文 registrar of that department: DOCUMENT_REGISTER there, or in the district office."""
    if principal is None or not principal.has(DOCUMENT_REGISTER):
        return False
    return _dept_id(principal) == department_id or is_office(principal)


def may_sign(principal: Principal | None, department_id, *, leader_too: bool = True) -> bool:
    """Head of that department (DOCUMENT_SIGN there), or a 区领导 when `leader_too`."""
    if principal is None or not principal.has(DOCUMENT_SIGN):
        return False
    if _dept_id(principal) == department_id:
        return True
    return leader_too and Role.LEADER in principal.roles


def may_receive(principal: Principal | None, department_id) -> bool:
    """签收/登记 for a unit: its registrar, or its head where the unit has no registrar of its own."""
    return may_register(principal, department_id) or may_sign(principal, department_id, leader_too=False)


# --- scope ------------------------------------------------------------------------------------------------------
def _scope_q(principal: Principal) -> Q:
    staff = principal.staff
    dept = staff.department_id
    party = DocumentParty.objects.filter(document=OuterRef("pk"), department_id=dept)
    q = (
        Q(department_id=dept)
        | Q(holder_department_id=dept)
        | Q(holder_id=staff.pk)
        | Q(created_by_id=staff.pk)
        | Q(signer_id=staff.pk)
        | Q(Exists(party))
    )
    if is_office(principal):
        q |= Q(direction=Direction.OUTGOING, signed_at__isnull=False)
    return q


def documents_visible(principal: Principal | None) -> QuerySet[Document]:
    level = document_clearance(principal)
    if level == NO_CLEARANCE:
        return Document.objects.none()
    return Document.objects.filter(_scope_q(principal), confidentiality__lte=level)


def document_get_visible(principal: Principal | None, public_id) -> Document:
    """One document the caller may see; Http404 otherwise (unknown, another unit's, above clearance)."""
    try:
        uid = UUID(str(public_id))
    except (TypeError, ValueError):
        raise Http404(_("没有找到该公文。")) from None
    row = (
        documents_visible(principal)
        .select_related(
            "department", "holder", "holder_department", "signer", "created_by", "locked_by", "seal"
        )
        .filter(public_id=uid)
        .first()
    )
    if row is None:
        raise Http404(_("没有找到该公文。"))
    return row


def document_list(
    principal: Principal | None,
    *,
    direction: str | None = None,
    search: str = "",
    step: str = "",
    cursor: str | None = None,
    limit: int = 20,
) -> Page:
    """The caller's documents, newest first, keyset-paged; `search` matches title or number."""
    qs = documents_visible(principal).select_related("department", "holder", "holder_department")
    if direction in (Direction.INCOMING, Direction.OUTGOING):
        qs = qs.filter(direction=direction)
    if step and step in Step.values:
        qs = qs.filter(step=step)
    search = (search or "").strip()[:100]
    if search:
        qs = qs.filter(Q(title__icontains=search) | Q(number__icontains=search))
    return keyset_page(qs, key=("created_at", "public_id"), cursor=cursor, limit=limit, descending=True)


# --- one document's parts ---------------------------------------------------------------------------------------
def document_versions(document: Document) -> list[DocumentVersion]:
    return list(document.versions.select_related("created_by").order_by("number"))


def document_version(document: Document, number: int) -> DocumentVersion:
    row = document.versions.select_related("created_by").filter(number=number).first()
    if row is None:
        raise Http404(_("没有找到该版本。"))
    return row


def document_current_body(document: Document) -> DocumentVersion | None:
    return document.versions.filter(number=document.current_version).first()


def document_trace(document: Document) -> list[DocumentStep]:
    return list(document.trace.select_related("actor", "department", "handed_to").order_by("at", "pk"))


def document_parties(document: Document) -> list[DocumentParty]:
    return list(
        document.parties.select_related("department", "staff", "received").order_by(
            "role", "department__code"
        )
    )


def document_files(document: Document) -> list[DocumentFile]:
    return list(document.files.order_by("kind", "created_at", "pk"))


def document_file_get(document: Document, public_id) -> DocumentFile:
    try:
        uid = UUID(str(public_id))
    except (TypeError, ValueError):
        raise Http404(_("没有找到该文件。")) from None
    row = document.files.filter(public_id=uid).first()
    if row is None:
        raise Http404(_("没有找到该文件。"))
    return row


@dataclass(frozen=True)
class LockState:
    locked: bool
    by_me: bool
    by_name: str
    expires_at: object


def document_lock_state(principal: Principal | None, document: Document) -> LockState:
    now = timezone.now()
    if document.locked_by_id and document.lock_expires_at and document.lock_expires_at > now:
        staff = principal.staff if principal is not None else None
        return LockState(
            True,
            staff is not None and staff.pk == document.locked_by_id,
            document.locked_by.name if document.locked_by else "",
            document.lock_expires_at,
        )
    return LockState(False, False, "", None)


def _pending_party(document: Document, department_id, roles) -> DocumentParty | None:
    for party in getattr(document, "_parties_cache", None) or document.parties.all():
        if (
            party.department_id == department_id
            and party.role in roles
            and party.status == DocumentParty.Status.PENDING
        ):
            return party
    return None


def document_actions(principal: Principal | None, document: Document) -> list[str]:
    """What the caller may do now (the page's forms and the API's `actions`); the services check again."""
    if principal is None or principal.staff is None:
        return []
    staff = principal.staff
    dept = staff.department_id
    step = document.step
    acts: list[str] = []
    own = dept == document.department_id
    if document.direction == Direction.OUTGOING:
        if step == Step.DRAFT and (staff.pk == document.created_by_id or own):
            acts += ["edit", "send_check", "withdraw"]
        elif step == Step.CHECK and may_sign(principal, document.department_id, leader_too=False):
            acts += ["edit", "check"]
        elif step == Step.COUNTERSIGN and principal.has(DOCUMENT_SIGN):
            if _pending_party(document, dept, {DocumentParty.Role.COUNTERSIGN}):
                acts.append("countersign")
        elif step == Step.SIGN_OFF and may_sign(principal, document.department_id):
            acts.append("sign_off")
        elif step == Step.NUMBER and may_register(principal, document.department_id):
            acts.append("number")
        elif step == Step.SEAL and may_register(principal, document.department_id):
            acts.append("seal")
        elif step == Step.DISTRIBUTE and may_register(principal, document.department_id):
            acts.append("distribute")
        elif step == Step.DONE and may_register(principal, document.department_id):
            acts.append("archive")
    else:
        holder_dept = document.holder_department_id or document.department_id
        if step == Step.SIGN_IN and may_receive(principal, holder_dept):
            acts.append("sign_in")
        elif step == Step.REGISTER and may_receive(principal, document.department_id):
            acts.append("register")
        elif step == Step.PROPOSE and may_register(principal, document.department_id):
            acts.append("propose")
        elif step == Step.INSTRUCT and may_sign(principal, document.department_id):
            acts.append("instruct")
        elif step == Step.HANDLE:
            if _pending_party(document, dept, {DocumentParty.Role.LEAD, DocumentParty.Role.CO}):
                acts.append("handle")
            if may_register(principal, document.department_id):
                acts.append("urge")
        elif step == Step.DONE and may_register(principal, document.department_id):
            acts.append("archive")
    if step in EDITABLE and "edit" in acts:
        acts.insert(0, "lock")
    return [a for a in acts if not (step in CLOSED and a not in ("archive",))]


def document_diff(document: Document, a: int, b: int) -> list[str]:
    """A unified diff (lines) of two versions' bodies."""
    import difflib

    older, newer = document_version(document, a), document_version(document, b)
    return list(
        difflib.unified_diff(
            older.body.splitlines(),
            newer.body.splitlines(),
            fromfile=_("第%(n)s版") % {"n": a},
            tofile=_("第%(n)s版") % {"n": b},
            lineterm="",
        )
    )
