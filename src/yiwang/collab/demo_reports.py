"""Demo: 填表报数 II on top of the forms demo's issued monthly form (CJYB, last month, to every village).

Through the services, as the units themselves: half the villages (in division-code order, so whole towns first)
fill, submit and are approved by their town office; the next ones are submitted and waiting, a couple returned
with a note, a couple in draft, the rest not started. A town whose villages are all approved has its rollup
approved by the issuing office. Answers are deterministic per village (seeded by its code) and keep the form's
rules. Idempotent: once any filling unit of the issue has moved, a second call returns {}.
"""

from __future__ import annotations

import random

from django.core.exceptions import ValidationError
from django.utils import timezone

from yiwang.core.models import Staff
from yiwang.core.permissions import FORM_MANAGE, ROLE_PERMISSIONS
from yiwang.core.principal import Principal

from .models import FormAssignment, ReportField
from .services.reports import (
    ReportConflict,
    assignment_review,
    assignment_save,
    assignment_submit,
    effective_values,
    form_fields,
    unit_staff_accounts,
)

S = FormAssignment.Status
K = ReportField.Kind


def _issue():
    try:
        from .demo_forms import demo_issue
    except ImportError:  # pragma: no cover - the forms part provides it
        return None
    return demo_issue()


def _answers(fields, assignment, rng: random.Random) -> dict:
    current = effective_values(assignment)
    residents = current.get("residents")
    ceiling = max(0, min(int(residents), 60)) if isinstance(residents, int) else 30
    out = {}
    for f in fields:
        if f.per_row or f.name in (assignment.prefilled or {}):
            continue
        if f.kind == K.INTEGER:
            out[f.name] = rng.randint(0, ceiling)
        elif f.kind == K.DECIMAL:
            out[f.name] = f"{rng.randint(0, 9999) / 10:.1f}"
        elif f.kind == K.BOOLEAN:
            out[f.name] = rng.random() < 0.8
        elif f.kind == K.CHOICE and f.choices:
            out[f.name] = str(rng.choice(f.choices[:2])[0])
        elif f.kind == K.DATE:
            out[f.name] = timezone.localdate().isoformat()
        elif f.kind == K.TEXT and f.required:
            out[f.name] = "无"
    return out


def _principal(account) -> Principal:
    return Principal.for_account(account)


def load_reports(stdout=None) -> dict[str, int]:
    issue = _issue()
    if issue is None:
        return {}
    leaves = list(
        FormAssignment.objects.filter(issue=issue, fills=True)
        .select_related("issue__form", "division", "parent__division")
        .order_by("division__code")
    )
    if not leaves or any(a.status != S.NOT_STARTED for a in leaves):
        return {}
    fields = form_fields(issue)
    staff = unit_staff_accounts(
        {a.division_id for a in leaves} | {a.parent.division_id for a in leaves if a.parent}
    )
    n = len(leaves)
    approved_n, submitted_n = n // 2, max(1, n // 8)
    returned_n, draft_n = max(1, n // 16), n // 16
    counts = {"approved": 0, "submitted": 0, "returned": 0, "draft": 0, "rollups_approved": 0}
    for index, a in enumerate(leaves):
        if index >= approved_n + submitted_n + returned_n + draft_n:
            break
        filler = staff.get(a.division_id)
        reviewer = staff.get(a.parent.division_id) if a.parent else None
        if not filler or not reviewer:
            continue
        rng = random.Random(a.division.code)
        actor, head = _principal(filler[0]), _principal(reviewer[0])
        try:
            a = assignment_save(actor=actor, assignment=a, values=_answers(fields, a, rng))
            if index >= approved_n + submitted_n + returned_n:
                counts["draft"] += 1
                continue
            a = assignment_submit(actor=actor, assignment=_reload(a))
            if index < approved_n:
                assignment_review(actor=head, assignment=_reload(a), decision="approve")
                counts["approved"] += 1
            elif index < approved_n + submitted_n:
                counts["submitted"] += 1
            else:
                assignment_review(
                    actor=head,
                    assignment=_reload(a),
                    decision="return",
                    note="走访独居老人户次与台账不一致，请核对后重报。",
                )
                counts["returned"] += 1
        except (ValidationError, ReportConflict):
            continue
    owner = (
        Staff.objects.filter(
            department_id=issue.form.owner_department_id,
            is_active=True,
            roles__role__in=[r for r, perms in ROLE_PERMISSIONS.items() if FORM_MANAGE in perms],
        )
        .select_related("account")
        .order_by("employee_no")
        .first()
    )
    if owner is not None:
        actor = _principal(owner.account)
        for rollup in FormAssignment.objects.filter(issue=issue, fills=False, status=S.SUBMITTED).order_by(
            "division__code"
        ):
            try:
                assignment_review(actor=actor, assignment=_reload(rollup), decision="approve")
                counts["rollups_approved"] += 1
            except (ValidationError, ReportConflict):
                continue
    if stdout is not None:
        stdout.write(f"填表报数：{counts}\n")
    return counts


def _reload(a: FormAssignment) -> FormAssignment:
    return FormAssignment.objects.select_related(
        "issue__form", "division", "parent__division", "parent__parent"
    ).get(pk=a.pk)
