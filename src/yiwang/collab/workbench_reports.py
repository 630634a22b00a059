"""The workbench source "报表": the forms the principal's unit has to fill (not started, draft, returned) and the
submitted assignments it has to review, each due at its issue's due date (the end of that day)."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.permissions import COLLAB_WORK
from yiwang.core.workbench import TodoItem, TodoQuery, after_q, day_end, workbench_source

from .models import FormAssignment
from .selectors.reports import inbox_queryset, inbox_reaches
from .services.reports import EDITABLE

SOURCE_ID = "collab.reports"


@workbench_source
class ReportsSource:
    id = SOURCE_ID
    label = gettext_lazy("报表")

    def applies(self, principal) -> bool:
        return principal is not None and principal.has(COLLAB_WORK)

    def _queryset(self, principal):
        return inbox_queryset(principal)

    def items(self, principal, query: TodoQuery) -> list[TodoItem]:
        if not inbox_reaches(principal):
            return []
        rows = (
            self._queryset(principal)
            .filter(after_q(query, self.id, "issue__due_on", "public_id", dates=True))
            .order_by("issue__due_on", "public_id")[: query.limit]
        )
        out = []
        for a in rows:
            fill = a.fills and a.status in EDITABLE
            out.append(
                TodoItem(
                    source=self.id,
                    key=str(a.public_id),
                    title=f"{a.issue.form.name} · {a.issue.period_label} · {a.division.name}",
                    action=_("填报") if fill else _("审核"),
                    url=reverse("collab:report_fill" if fill else "collab:report_review", args=[a.public_id]),
                    deadline=day_end(a.issue.due_on),
                    reference=a.issue.form.code,
                    state=str(FormAssignment.Status(a.status).label),
                )
            )
        return out

    def count(self, principal, *, due_before: datetime | None = None) -> int:
        if not inbox_reaches(principal):
            return 0
        return (
            self._queryset(principal)
            .filter(
                after_q(TodoQuery(due_before=due_before), self.id, "issue__due_on", "public_id", dates=True)
            )
            .count()
        )
