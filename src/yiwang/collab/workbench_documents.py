"""The workbench source “公文”: documents waiting for the caller — held by them, or by their unit at a step their
permissions act on (核稿/签发/批办 for heads, 签收/登记/拟办/编号/用印/分发 for registrars), 会签 and 承办 parties pending
for their unit — within their confidentiality clearance; deadline = 办理时限 (due_on)."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from yiwang.core.memo import ProcessMemo
from yiwang.core.permissions import COLLAB_WORK, DOCUMENT_REGISTER, DOCUMENT_SIGN
from yiwang.core.workbench import (
    COUNT_CAP,
    TodoItem,
    TodoQuery,
    after_sql,
    day_end,
    url_pattern,
    uuid_key,
    workbench_source,
)

from .document_workflow import CLOSED
from .models.documents import Document, DocumentParty, RoleClearance
from .selectors.documents import NO_CLEARANCE, clearance_for_roles, office_code

Step = Document.Step
SOURCE = "collab.documents"

SIGN_STEPS = (Step.CHECK, Step.SIGN_OFF, Step.INSTRUCT, Step.SIGN_IN, Step.REGISTER)
REGISTER_STEPS = (Step.NUMBER, Step.SEAL, Step.DISTRIBUTE, Step.SIGN_IN, Step.REGISTER, Step.PROPOSE)
ACTIONS = {
    Step.DRAFT: _("拟稿"),
    Step.CHECK: _("核稿"),
    Step.COUNTERSIGN: _("会签"),
    Step.SIGN_OFF: _("签发"),
    Step.NUMBER: _("编号"),
    Step.SEAL: _("用印"),
    Step.DISTRIBUTE: _("分发"),
    Step.SIGN_IN: _("签收"),
    Step.REGISTER: _("登记"),
    Step.PROPOSE: _("拟办"),
    Step.INSTRUCT: _("批办"),
    Step.HANDLE: _("承办"),
}


STEP_LABELS = dict(Step.choices)  # lazy labels: translated when shown
DIRECTION_LABELS = dict(Document.Direction.choices)

# --- the source's own SQL ---------------------------------------------------------------------------------------
# `documents_todo` as hand-written SQL: building the union's querysets cost the ORM several times what PostgreSQL
# spends running it (bench/workbench.py). The same branches, the same filters, one statement per call.

_DOC = f'"{Document._meta.db_table}"'
_PARTY = f'"{DocumentParty._meta.db_table}"'
_COLUMNS = 'd."public_id", d."title", d."number", d."step", d."due_on", d."direction"'
_ORDER = 'ORDER BY {t}."due_on" ASC NULLS LAST, {t}."public_id"'

# Facts that change about never but cost a query per page each: the clearance of a set of roles (admin-edited
# RoleClearance rows) and whether a department is the district office, kept 5 s per process. Saving or deleting a
# RoleClearance clears the memo at once in that process (the signals below); other processes, and a
# QuerySet.update() (no signal), catch up within 5 s. A badge showing a document 5 s longer is acceptable: the
# document's own page checks the clearance afresh.
_CLEARANCES = ProcessMemo(5.0)
_OFFICES = ProcessMemo(5.0)


@receiver([post_save, post_delete], sender=RoleClearance, dispatch_uid="collab.workbench_documents.clearance")
def _forget_clearances(**kwargs) -> None:
    _CLEARANCES.clear()


def _clearance(principal) -> int:
    """`document_clearance`, from the memo."""
    if principal is None or principal.staff is None or not principal.has(COLLAB_WORK):
        return NO_CLEARANCE
    roles = frozenset(principal.roles)
    return _CLEARANCES.get(roles, lambda: clearance_for_roles(roles))


def _is_office(principal) -> bool:
    """`is_office`, from the memo (it reads the staff member's department)."""
    if not principal.has(DOCUMENT_REGISTER):
        return False
    staff = principal.staff
    office = office_code()
    return _OFFICES.get((staff.department_id, office), lambda: staff.department.code == office)


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _pending_party(department_id: int, roles: list[str]) -> tuple[str, list]:
    sql = (
        f'EXISTS (SELECT 1 FROM {_PARTY} AS p WHERE p."document_id" = d."id" AND p."department_id" = %s'
        f' AND p."status" = %s AND p."role" IN ({_marks(roles)}))'
    )
    return sql, [department_id, DocumentParty.Status.PENDING, *roles]


def _branch_conditions(principal, staff) -> list[tuple[str, list]]:
    """The ways a document reaches the caller (documents_todo's branches), as SQL conditions on `d`."""
    dept = staff.department_id
    branches: list[tuple[str, list]] = [('d."holder_id" = %s', [staff.pk])]
    steps: set[str] = set()
    if principal.has(DOCUMENT_SIGN):
        steps |= set(SIGN_STEPS)
        party, params = _pending_party(dept, [DocumentParty.Role.COUNTERSIGN])
        branches.append((f'd."step" = %s AND {party}', [Step.COUNTERSIGN, *params]))
    if principal.has(DOCUMENT_REGISTER):
        steps |= set(REGISTER_STEPS)
    if steps:
        ordered = sorted(steps)
        branches.append(
            (
                f'd."holder_id" IS NULL AND d."holder_department_id" = %s AND d."step" IN ({_marks(ordered)})',
                [dept, *ordered],
            )
        )
    if _is_office(principal):
        office_steps = [Step.NUMBER, Step.SEAL, Step.DISTRIBUTE]
        branches.append(
            (
                f'd."direction" = %s AND d."step" IN ({_marks(office_steps)})',
                [Document.Direction.OUTGOING, *office_steps],
            )
        )
    party, params = _pending_party(dept, [DocumentParty.Role.LEAD, DocumentParty.Role.CO])
    branches.append((f'd."step" = %s AND {party}', [Step.HANDLE, *params]))
    return branches


def _union(
    principal, query: TodoQuery, *, columns: str, ordered: bool, limit: int
) -> tuple[str, list] | None:
    """The branches as one UNION (it drops a document reached twice), each member its own index range cut to
    `limit` rows — in page order when `ordered` — so the union never gathers a clerk's every open document.
    None when the caller can see no document."""
    staff = principal.staff if principal is not None else None
    level = _clearance(principal)
    if staff is None or level == NO_CLEARANCE:
        return None
    after, after_params = after_sql(
        query, SOURCE, 'd."due_on"', 'd."public_id"', dates=True, key=uuid_key(Document)
    )
    closed = sorted(CLOSED)
    base = f'd."confidentiality" <= %s AND d."step" NOT IN ({_marks(closed)}) AND ({after})'
    base_params = [level, *closed, *after_params]
    order = _ORDER.format(t="d") if ordered else ""
    members, params = [], []
    for number, (condition, condition_params) in enumerate(_branch_conditions(principal, staff)):
        members.append(
            f"SELECT * FROM (SELECT {columns} FROM {_DOC} AS d WHERE {base} AND ({condition}) {order} LIMIT %s)"
            f" AS b{number}"
        )
        params += [*base_params, *condition_params, limit]
    return " UNION ".join(members), params


def _as_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _item(row, url: str) -> TodoItem:
    public_id, title, number, step, due_on, direction = row
    public_id = _as_uuid(public_id)
    return TodoItem(
        source=SOURCE,
        key=str(public_id),
        title=title,
        action=str(ACTIONS.get(step) or STEP_LABELS.get(step, step)),
        url=url.format(public_id),
        deadline=day_end(due_on) if due_on else None,
        reference=number,
        state=f"{DIRECTION_LABELS.get(direction, direction)} · {STEP_LABELS.get(step, step)}",
    )


@workbench_source
class DocumentsSource:
    id = SOURCE
    label = _("公文")

    def applies(self, principal) -> bool:
        return principal is not None and principal.has(COLLAB_WORK)

    def items(self, principal, query: TodoQuery) -> list[TodoItem]:
        union = _union(principal, query, columns=_COLUMNS, ordered=True, limit=query.limit)
        if union is None:
            return []
        sql, params = union
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT * FROM ({sql}) AS u {_ORDER.format(t='u')} LIMIT %s", [*params, query.limit]
            )
            rows = cursor.fetchall()
        url = url_pattern("collab:document_detail")
        return [_item(row, url) for row in rows]

    def count(self, principal, *, due_before: datetime | None = None) -> int:
        """Stops at COUNT_CAP (the workbench shows "1000+"): each member reads at most that many rows."""
        query = TodoQuery(due_before=due_before)
        union = _union(principal, query, columns='d."id"', ordered=False, limit=COUNT_CAP)
        if union is None:
            return 0
        sql, params = union
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM ({sql}) AS u LIMIT %s) AS c", [*params, COUNT_CAP]
            )
            return cursor.fetchone()[0]
