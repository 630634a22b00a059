"""The former ORM definitions of the "公文" and "督办" to-do sources, kept as the tests' reference: the sources now
write their SQL by hand (collab/workbench_documents.py, collab/workbench_tasks.py) and must answer exactly what these
querysets answer."""

from __future__ import annotations

from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, When

from yiwang.collab.document_workflow import CLOSED
from yiwang.collab.models import Task, TaskUnit
from yiwang.collab.models.documents import Document, DocumentParty
from yiwang.collab.selectors.documents import NO_CLEARANCE, document_clearance, is_office
from yiwang.collab.services.tasks import ACTIVE
from yiwang.collab.workbench_documents import REGISTER_STEPS, SIGN_STEPS
from yiwang.core.permissions import DOCUMENT_REGISTER, DOCUMENT_SIGN, TASK_ISSUE

Step = Document.Step
S = Task.Status


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


def tasks_todo(principal) -> QuerySet[Task]:
    """Every task waiting for the caller (one row per task), annotated with `wb_due` (its deadline here) and
    `wb_accept` (the caller's unit has not signed for it)."""
    staff = principal.staff if principal is not None else None
    if staff is None or not staff.is_active:
        return Task.objects.none()
    dept = staff.department_id
    to_accept = TaskUnit.objects.filter(task=OuterRef("pk"), department_id=dept, accepted_at__isnull=True)
    q = Q(Exists(to_accept), status__in=ACTIVE) | Q(lead_department_id=dept, status=S.IN_PROGRESS)
    if principal.has(TASK_ISSUE):
        on_task = TaskUnit.objects.filter(task=OuterRef("pk"), department_id=dept)
        q |= Q(~Exists(on_task), status=S.SUBMITTED, issuing_department_id=dept)
    lead_report = Q(
        lead_department_id=dept,
        status=S.IN_PROGRESS,
        next_report_due__isnull=False,
        next_report_due__lt=F("due_on"),
    )
    return Task.objects.filter(q).annotate(
        wb_due=Case(When(lead_report, then=F("next_report_due")), default=F("due_on")),
        wb_accept=Exists(to_accept),
    )
