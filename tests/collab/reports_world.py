"""Test helpers of 填表报数 II: an approved form and an issue built directly as rows (the tree form_issue builds:
district → towns → villages [→ grids], filling units at the target level), on tests/collab/world.py's district."""

from __future__ import annotations

import datetime as dt

from yiwang.collab.models import FormAssignment, FormIssue, FormRow, ReportField, ReportForm
from yiwang.core.models import Division

DEFAULT_FIELDS = (
    {
        "name": "residents",
        "label": "常住人口",
        "kind": "integer",
        "prefill": "residents.count",
        "aggregate": "sum",
    },
    {
        "name": "households",
        "label": "户数",
        "kind": "integer",
        "aggregate": "sum",
        "rule": "households <= residents",
        "rule_message": "户数不能多于常住人口",
    },
    {
        "name": "income",
        "label": "人均收入",
        "kind": "decimal",
        "unit": "元",
        "aggregate": "avg",
        "required": False,
    },
    {"name": "lowest", "label": "最低值", "kind": "integer", "aggregate": "min", "required": False},
    {"name": "highest", "label": "最高值", "kind": "integer", "aggregate": "max", "required": False},
    {
        "name": "kind",
        "label": "类型",
        "kind": "choice",
        "choices": [["city", "城镇"], ["rural", "农村"]],
        "aggregate": "count",
        "required": False,
    },
    {"name": "note", "label": "备注", "kind": "text", "aggregate": "none", "required": False},
)


def make_form(owner, created_by, *, code="F-MONTH", fields=DEFAULT_FIELDS, target_level=3, row_source=""):
    form = ReportForm.objects.create(
        code=code,
        name="村（社区）基本情况月报",
        purpose="测试",
        legal_basis="测试依据",
        owner_department=owner,
        target_level=target_level,
        row_source=row_source,
        status=ReportForm.Status.APPROVED,
        created_by=created_by,
    )
    for position, spec in enumerate(fields):
        ReportField.objects.create(form=form, position=position, **{"required": True, **spec})
    return form


def issue_form(
    w,
    form,
    *,
    issued_by,
    due_on=dt.date(2026, 3, 10),
    period_start=dt.date(2026, 2, 1),
    prefill=None,
    rows=None,
    issued_at=None,
):
    """The tree for `form` over w's district; `prefill(division) -> dict` gives each filling unit's prefilled
    values, `rows(division) -> [(key, label, prefilled)]` its detail rows."""
    from django.utils import timezone

    issue = FormIssue.objects.create(
        form=form,
        form_version=form.version,
        period_label=f"{period_start:%Y年%m月}",
        period_start=period_start,
        period_end=(period_start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        - dt.timedelta(days=1),
        due_on=due_on,
        root_division=w.district,
        issued_by=issued_by,
        issued_at=issued_at or timezone.now(),
    )
    target = form.target_level
    n_fields = form.fields.count()
    prefilled_names = set(form.fields.exclude(prefill="").values_list("name", flat=True))

    def build(division, parent):
        fills = division.level == target
        values = (prefill(division) if prefill else {}) if fills else {}
        kids = (
            list(Division.objects.filter(parent=division).order_by("code")) if division.level < target else []
        )
        a = FormAssignment.objects.create(
            issue=issue,
            division=division,
            level=division.level,
            parent=parent,
            fills=fills,
            prefilled=values,
            prefilled_fields=len(prefilled_names) if fills else 0,
            asked_fields=n_fields - len(prefilled_names) if fills else 0,
            children_count=len(kids),
        )
        if fills and rows:
            FormRow.objects.bulk_create(
                FormRow(assignment=a, position=i, entity_key=key, label=label, prefilled=pre)
                for i, (key, label, pre) in enumerate(rows(division), start=1)
            )
        for kid in kids:
            build(kid, a)
        return a

    build(w.district, None)
    issue.units_count = issue.assignments.filter(fills=True).count()
    issue.save(update_fields=["units_count"])
    return issue


def node(issue, division) -> FormAssignment:
    return FormAssignment.objects.select_related(
        "issue__form", "division", "parent__division", "parent__parent"
    ).get(issue=issue, division=division)
