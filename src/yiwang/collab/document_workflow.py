"""公文流转's lifecycle: the steps a 收文 and a 发文 pass through, the allowed-transitions table per direction, and the
one function that moves a document (`document_transition`): row lock, table check, the add-only trace row
(DocumentStep), the holder moved, the audit entry.

A document's `step` is the step it is WAITING at (a 发文 at `number` waits to be numbered). The trace row written
by a move names the step that was just performed (拟稿, 核稿, 会签…), its actor, department and opinion.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record

from .models.documents import Document, DocumentStep

Step = Document.Step
Direction = Document.Direction

OUTGOING: dict[str, frozenset[str]] = {
    Step.DRAFT: frozenset({Step.CHECK, Step.WITHDRAWN}),
    Step.CHECK: frozenset({Step.COUNTERSIGN, Step.SIGN_OFF, Step.DRAFT, Step.WITHDRAWN}),
    Step.COUNTERSIGN: frozenset({Step.SIGN_OFF, Step.DRAFT}),
    Step.SIGN_OFF: frozenset({Step.NUMBER, Step.DRAFT}),
    Step.NUMBER: frozenset({Step.SEAL}),
    Step.SEAL: frozenset({Step.DISTRIBUTE}),
    Step.DISTRIBUTE: frozenset({Step.DONE}),
    Step.DONE: frozenset({Step.ARCHIVED}),
}

INCOMING: dict[str, frozenset[str]] = {
    Step.SIGN_IN: frozenset({Step.REGISTER}),
    Step.REGISTER: frozenset({Step.PROPOSE}),
    Step.PROPOSE: frozenset({Step.INSTRUCT}),
    Step.INSTRUCT: frozenset({Step.HANDLE, Step.PROPOSE}),
    Step.HANDLE: frozenset({Step.DONE}),
    Step.DONE: frozenset({Step.ARCHIVED}),
}

TABLES = {Direction.OUTGOING: OUTGOING, Direction.INCOMING: INCOMING}

# Steps at which nobody has anything left to do.
CLOSED = frozenset({Step.DONE, Step.ARCHIVED, Step.WITHDRAWN})
# Steps whose text may still change (under the edit lock).
EDITABLE = frozenset({Step.DRAFT, Step.CHECK})


class DocumentConflict(Exception):
    """The document is not at a step that allows this action (another user acted first): HTTP 409."""


def allowed(document: Document, to: str) -> bool:
    return to in TABLES[document.direction].get(document.step, frozenset())


def document_lock_row(document: Document) -> Document:
    """The document's row, locked for the rest of the transaction (fresh values)."""
    return Document.objects.select_for_update().get(pk=document.pk)


def trace_add(
    document: Document, *, step: str, actor_staff, department=None, opinion: str = "", handed_to=None
) -> DocumentStep:
    return DocumentStep.objects.create(
        document=document,
        step=step,
        actor=actor_staff,
        department=department if department is not None else getattr(actor_staff, "department", None),
        opinion=(opinion or "")[:4000],
        handed_to=handed_to,
        at=timezone.now(),
    )


def document_transition(
    *,
    actor,
    document: Document,
    to: str,
    performed: str | None = None,
    expect: str | frozenset[str] | None = None,
    opinion: str = "",
    holder=None,
    holder_department=None,
    action: str = "",
    trace: bool = True,
    changes: dict | None = None,
) -> Document:
    """Moves `document` (locked here) to step `to` when the table allows it.

    `expect`: the step(s) the caller saw (a move from anything else is a DocumentConflict: someone acted first);
    `performed`: the step the trace row records (default: the step the document was at); `holder` /
    `holder_department`: who has it next; `changes`: other fields to set in the same save. Must run inside a
    transaction (the services open it)."""
    if not transaction.get_connection().in_atomic_block:  # pragma: no cover - a programming error
        raise RuntimeError("document_transition must run inside a transaction")
    row = document_lock_row(document)
    expected = {expect} if isinstance(expect, str) else set(expect or ())
    if expected and row.step not in expected:
        raise DocumentConflict(
            _("公文当前环节为“%(step)s”，不能办理该操作（可能已被他人办理），请刷新后重试。")
            % {"step": row.get_step_display()}
        )
    if not allowed(row, to):
        raise DocumentConflict(
            _("公文当前环节为“%(step)s”，不能转到“%(to)s”。")
            % {"step": row.get_step_display(), "to": Step(to).label}
        )
    before = {"step": row.step, "holder": _pid(row.holder), "holder_department": _code(row.holder_department)}
    staff = getattr(actor, "staff", None)
    if trace:
        trace_add(
            row,
            step=performed or row.step,
            actor_staff=staff,
            opinion=opinion,
            handed_to=holder,
        )
    row.step = to
    row.holder = holder
    row.holder_department = holder_department
    fields = ["step", "holder", "holder_department"]
    for name, value in (changes or {}).items():
        setattr(row, name, value)
        fields.append(name)
    if to in CLOSED and to != Step.ARCHIVED and row.done_at is None:
        row.done_at = timezone.now()
        fields.append("done_at")
    if row.locked_by_id and to not in EDITABLE:
        row.locked_by = None
        row.lock_expires_at = None
        fields += ["locked_by", "lock_expires_at"]
    row.save(update_fields=sorted(set(fields)))
    audit_record(
        actor=actor,
        action=f"collab.document.{action or to}",
        object_type="collab_document",
        object_id=str(row.public_id),
        before=before,
        after={
            "step": row.step,
            "holder": _pid(row.holder),
            "holder_department": _code(row.holder_department),
            "opinion": (opinion or "")[:200],
        },
    )
    refresh(document, row)
    return row


def refresh(target: Document, source: Document) -> None:
    """Keep the caller's instance in step with the locked row."""
    for field in Document._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.fields_cache.clear()
    target._state.fields_cache.update(source._state.fields_cache)


def _pid(staff) -> str:
    return str(staff.public_id) if staff is not None else ""


def _code(department) -> str:
    return department.code if department is not None else ""


def require_step(document: Document, *steps: str) -> None:
    if document.step not in steps:
        raise DocumentConflict(
            _("公文当前环节为“%(step)s”，不能办理该操作。") % {"step": document.get_step_display()}
        )


def invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: message})
