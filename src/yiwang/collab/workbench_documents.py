"""The workbench source “公文”: documents waiting for the caller — held by them, or by their unit at a step their
permissions act on (核稿/签发/批办 for heads, 签收/登记/拟办/编号/用印/分发 for registrars), 会签 and 承办 parties pending
for their unit — within their confidentiality clearance; deadline = 办理时限 (due_on)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yiwang.core.permissions import COLLAB_WORK, DOCUMENT_REGISTER, DOCUMENT_SIGN
from yiwang.core.workbench import TodoItem, TodoQuery, after_q, day_end, workbench_source

from .document_workflow import CLOSED
from .models.documents import Document, DocumentParty
from .selectors.documents import NO_CLEARANCE, document_clearance, is_office

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


def documents_todo(principal, *extra: Q) -> list[QuerySet[Document]]:
    """Every open document waiting for the caller, as one query per way a document reaches them (held by them,
    by their unit at a step they act on, 会签/承办 pending for their unit, the office's 编号/用印/分发), each
    narrowed by `extra`: one OR over them would scan every document (the EXISTS branches use no index), while
    each branch alone is an index range; the caller unites them (UNION drops a document reached twice)."""
    staff = principal.staff if principal is not None else None
    level = document_clearance(principal)
    if staff is None or level == NO_CLEARANCE:
        return []
    dept = staff.department_id
    base = Document.objects.filter(*extra, confidentiality__lte=level).exclude(step__in=sorted(CLOSED))
    branches = [base.filter(holder_id=staff.pk)]
    steps: set[str] = set()
    if principal.has(DOCUMENT_SIGN):
        steps |= set(SIGN_STEPS)
        countersign = DocumentParty.objects.filter(
            document=OuterRef("pk"),
            department_id=dept,
            role=DocumentParty.Role.COUNTERSIGN,
            status=DocumentParty.Status.PENDING,
        )
        branches.append(base.filter(Exists(countersign), step=Step.COUNTERSIGN))
    if principal.has(DOCUMENT_REGISTER):
        steps |= set(REGISTER_STEPS)
    if steps:
        branches.append(base.filter(holder__isnull=True, holder_department_id=dept, step__in=sorted(steps)))
    if is_office(principal):
        branches.append(
            base.filter(
                direction=Document.Direction.OUTGOING, step__in=[Step.NUMBER, Step.SEAL, Step.DISTRIBUTE]
            )
        )
    handling = DocumentParty.objects.filter(
        document=OuterRef("pk"),
        department_id=dept,
        role__in=[DocumentParty.Role.LEAD, DocumentParty.Role.CO],
        status=DocumentParty.Status.PENDING,
    )
    branches.append(base.filter(Exists(handling), step=Step.HANDLE))
    return branches


STEP_LABELS = dict(Step.choices)  # lazy labels: translated when shown
DIRECTION_LABELS = dict(Document.Direction.choices)
COLUMNS = ("public_id", "title", "number", "step", "due_on", "direction")


def _united(branches: list[QuerySet[Document]]):
    first, *rest = [branch.values_list(*COLUMNS) for branch in branches]
    return first.union(*rest) if rest else first


@workbench_source
class DocumentsSource:
    id = SOURCE
    label = _("公文")

    def applies(self, principal) -> bool:
        return principal is not None and principal.has(COLLAB_WORK)

    def items(self, principal, query: TodoQuery) -> list[TodoItem]:
        branches = documents_todo(principal, after_q(query, SOURCE, "due_on", "public_id", dates=True))
        if not branches:
            return []
        rows = _united(branches).order_by(F("due_on").asc(nulls_last=True), "public_id")[: query.limit]
        return [
            TodoItem(
                source=SOURCE,
                key=str(public_id),
                title=title,
                action=str(ACTIONS.get(step) or STEP_LABELS.get(step, step)),
                url=reverse("collab:document_detail", args=[public_id]),
                deadline=day_end(due_on) if due_on else None,
                reference=number,
                state=f"{DIRECTION_LABELS.get(direction, direction)} · {STEP_LABELS.get(step, step)}",
            )
            for public_id, title, number, step, due_on, direction in rows
        ]

    def count(self, principal, *, due_before: datetime | None = None) -> int:
        branches = documents_todo(
            principal, after_q(TodoQuery(due_before=due_before), SOURCE, "due_on", "public_id", dates=True)
        )
        return _united(branches).count() if branches else 0
