"""填表报数 II reads, scoped: a unit sees its own assignments and its descendants' (a village never a sibling's), the
issuing department (FORM_MANAGE, owner) the whole issue; anything else is a 404.

Completeness and timeliness (DHIS2): expected = filling units; reporting rate = submitted or approved / expected;
on-time rate = submitted by the due date (first submission) / expected. Figures per issue come from one GROUP BY
over the filling units, rolled up the (small) tree of rollups in memory; the aggregate is read from the
precomputed rollup rows, never summed at read time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from yiwang.core.models import Division
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import FORM_MANAGE

from ..models import FormAssignment, FormIssue, ReportField
from ..services.reports import (
    EDITABLE,
    effective_values,
    field_result,
    form_fields,
    may_fill,
    may_review,
    owns_issue,
    unit_division_ids,
)

S = FormAssignment.Status
_RELATED = ("issue__form", "division", "parent__division", "parent__parent")


def _subtree_q(units, prefix: str = "") -> Q:
    """Assignments at one of `units` or below one (the tree is at most four levels deep)."""
    q = Q(pk__in=[])
    path = f"{prefix}division_id__in"
    for _depth in range(4):
        q |= Q(**{path: units})
        path = "parent__" + path
    return q


def visible_q(principal) -> Q:
    q = Q(pk__in=[])
    units = unit_division_ids(principal)
    if units:
        q |= _subtree_q(list(units))
    department = principal.department if principal is not None else None
    if department is not None and principal.has(FORM_MANAGE):
        q |= Q(issue__form__owner_department_id=department.pk)
    return q


def assignment_get(principal, public_id) -> FormAssignment:
    try:
        found = (
            FormAssignment.objects.select_related(*_RELATED, "issue__form__owner_department")
            .filter(visible_q(principal), public_id=public_id)
            .first()
        )
    except (ValueError, TypeError):
        found = None
    if found is None:
        raise Http404
    return found


def issue_get(principal, public_id) -> FormIssue:
    """An issue the caller owns or has an assignment in (its unit's node is the caller's view of it)."""
    try:
        issue = FormIssue.objects.select_related("form", "form__owner_department", "root_division").get(
            public_id=public_id
        )
    except (FormIssue.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if owns_issue(principal, issue):
        return issue
    units = unit_division_ids(principal)
    if units and FormAssignment.objects.filter(issue=issue, division_id__in=units).exists():
        return issue
    raise Http404


def view_roots(principal, issue: FormIssue) -> list[FormAssignment]:
    """The top nodes the caller sees of an issue: the root for the owner, else its unit's own nodes."""
    if owns_issue(principal, issue):
        return list(
            FormAssignment.objects.filter(issue=issue, parent__isnull=True).select_related("division")
        )
    return list(
        FormAssignment.objects.filter(
            issue=issue, division_id__in=unit_division_ids(principal)
        ).select_related("division")
    )


# --- the inbox -------------------------------------------------------------------------------------------------
def _inbox_q(principal) -> Q:
    units = list(unit_division_ids(principal))
    q = Q(pk__in=[])
    if units:
        q |= Q(division_id__in=units, fills=True, status__in=EDITABLE)
        q |= Q(parent__division_id__in=units, status=S.SUBMITTED, parent__division__level__gt=1)
        q |= Q(division_id__in=units, fills=False, status=S.RETURNED)
    department = principal.department if principal is not None else None
    if department is not None and principal.has(FORM_MANAGE):
        owner = Q(issue__form__owner_department_id=department.pk, status=S.SUBMITTED)
        q |= owner & (
            Q(parent__division__level=Division.Level.DISTRICT)
            | Q(parent__isnull=True, division__level__gt=Division.Level.DISTRICT)
        )
    return q & Q(issue__status=FormIssue.Status.OPEN)


def inbox_reaches(principal) -> bool:
    """Whether the caller can have anything in the inbox at all (a unit of the tree, or forms to approve as their
    owner department) — asked first by the workbench, which would otherwise build the whole query for nothing."""
    if unit_division_ids(principal):
        return True
    return principal is not None and principal.department is not None and principal.has(FORM_MANAGE)


def inbox_queryset(principal):
    return (
        FormAssignment.objects.filter(_inbox_q(principal))
        .select_related(*_RELATED)
        .annotate(due=F("issue__due_on"))
    )


def unit_inbox(principal, *, cursor: str | None = None, limit: int = 50) -> Page:
    """Assignments waiting for the caller's unit: to fill (not started, draft, returned) and to review
    (children submitted), earliest deadline first."""
    page = keyset_page(inbox_queryset(principal), key=("due", "public_id"), cursor=cursor, limit=limit)
    for a in page.items:
        a.action = "fill" if a.fills and may_fill(principal, a) else "review"
    return page


def unit_assignments(principal, *, cursor: str | None = None, limit: int = 50) -> Page:
    """Every assignment of the caller's unit (history included), newest due date first."""
    units = list(unit_division_ids(principal))
    qs = (
        FormAssignment.objects.filter(division_id__in=units)
        .select_related(*_RELATED)
        .annotate(due=F("issue__due_on"))
    )
    return keyset_page(qs, key=("due", "public_id"), cursor=cursor, limit=limit, descending=True)


def actions(principal, a: FormAssignment) -> list[str]:
    out = []
    open_ = a.issue.status == FormIssue.Status.OPEN
    if not open_:
        return out
    if a.fills and may_fill(principal, a) and a.status in EDITABLE:
        out += ["save", "submit"]
    if (
        not a.fills
        and a.status == S.RETURNED
        and a.approved_children >= a.children_count
        and a.division_id in unit_division_ids(principal)
    ):
        out.append("submit")
    if may_review(principal, a):
        if a.status == S.SUBMITTED:
            out += ["approve", "return"]
        elif a.status == S.APPROVED and not (
            a.parent and a.parent.status == S.APPROVED and a.parent.parent_id
        ):
            out.append("return")
    return out


# --- the tree ------------------------------------------------------------------------------------------------------
def light(a: FormAssignment, today: dt.date) -> str:
    if a.status in (S.APPROVED, S.SUBMITTED, S.RETURNED):
        return a.status
    if a.issue.due_on < today:
        return "overdue"
    return a.status


@dataclass
class Node:
    assignment: FormAssignment
    light: str
    children: list = field(default_factory=list)
    expected: int = 0
    reported: int = 0
    on_time: int = 0
    approved: int = 0

    @property
    def reporting_rate(self) -> float:
        return round(100.0 * self.reported / self.expected, 1) if self.expected else 0.0

    @property
    def on_time_rate(self) -> float:
        return round(100.0 * self.on_time / self.expected, 1) if self.expected else 0.0


def report_issue_overview(principal, issue: FormIssue, *, depth: int = 4) -> list[Node]:
    """The caller's part of the issue as a tree (roots first) with lights and completeness per node. Reads the
    issue's nodes once (one query) and the filling units' counts grouped by parent (one query)."""
    today = timezone.localdate()
    roots = view_roots(principal, issue)
    if not roots:
        return []
    root_ids = [r.division_id for r in roots]
    rows = list(
        FormAssignment.objects.filter(_subtree_q(root_ids), issue=issue)
        .select_related("division")
        .order_by("level", "division__code")
    )
    nodes: dict[int, Node] = {}
    for a in rows:
        a.issue = issue
        nodes[a.pk] = Node(a, light(a, today))
    tops = []
    for node in nodes.values():
        parent = nodes.get(node.assignment.parent_id)
        if parent is None:
            tops.append(node)
        else:
            parent.children.append(node)
    # Completeness bottom-up (deepest first).
    for node in sorted(nodes.values(), key=lambda n: -n.assignment.level):
        a = node.assignment
        if a.fills:
            node.expected = 1
            node.reported = int(a.status in (S.SUBMITTED, S.APPROVED))
            node.on_time = int(bool(a.on_time) and a.status in (S.SUBMITTED, S.APPROVED))
            node.approved = int(a.status == S.APPROVED)
        else:
            for child in node.children:
                node.expected += child.expected
                node.reported += child.reported
                node.on_time += child.on_time
                node.approved += child.approved
            if a.status not in (S.APPROVED, S.SUBMITTED, S.RETURNED):
                if node.expected and node.reported == node.expected:
                    node.light = "submitted"
    return tops


def issue_completeness(principal, issue: FormIssue, tops: list[Node] | None = None) -> dict:
    """Totals and per child unit of the caller's node(s): expected, reported, on time, approved, rates
    (`tops`: the overview already read for the same caller)."""
    if tops is None:
        tops = report_issue_overview(principal, issue)
    units = []
    total = Node(assignment=None, light="")  # type: ignore[arg-type]
    for top in tops:
        total.expected += top.expected
        total.reported += top.reported
        total.on_time += top.on_time
        total.approved += top.approved
        for child in top.children or [top]:
            units.append(child)
    return {"total": total, "units": units}


def aggregate_figures(issue: FormIssue, assignment: FormAssignment) -> list[dict]:
    """The precomputed rollup of one node, per field: its aggregate method's figure and the raw stats."""
    agg = assignment.aggregate or {}
    out = []
    for f in form_fields(issue):
        if f.aggregate == ReportField.Aggregate.NONE:
            continue
        stats = agg.get(f.name)
        out.append(
            {
                "name": f.name,
                "label": f.label,
                "unit": f.unit,
                "method": f.aggregate,
                "method_label": str(f.get_aggregate_display()),
                "value": field_result(f, stats),
                "reported": (stats or {}).get("n", 0),
                "stats": stats or {},
            }
        )
    return out


def aggregate_node(principal, issue: FormIssue, division_code: str | None = None) -> FormAssignment:
    """The node whose aggregate the caller asks for (default: its top node) — only inside its view."""
    roots = view_roots(principal, issue)
    if not roots:
        raise Http404
    if not division_code:
        return roots[0]
    found = (
        FormAssignment.objects.filter(
            _subtree_q([r.division_id for r in roots]), issue=issue, division__code=division_code
        )
        .select_related("division")
        .first()
    )
    if found is None:
        raise Http404
    return found


# --- export ---------------------------------------------------------------------------------------------------------
def export_rows(principal, issue: FormIssue) -> tuple[list[ReportField], list[FormAssignment]]:
    """The filling units the caller may see, with their answers (for xlsx/CSV)."""
    roots = view_roots(principal, issue)
    if not roots:
        raise Http404
    leaves = list(
        FormAssignment.objects.filter(_subtree_q([r.division_id for r in roots]), issue=issue, fills=True)
        .select_related("division", "parent__division")
        .order_by("division__code")
    )
    return form_fields(issue), leaves


def export_values(a: FormAssignment) -> dict:
    return effective_values(a)


# --- burden ------------------------------------------------------------------------------------------------------------
def burden_divisions(principal) -> Q | None:
    """The villages whose burden the caller may see: FORM_MANAGE holders every village, a town its villages,
    a village itself; None: none."""
    if principal.has(FORM_MANAGE):
        return Q()
    units = list(unit_division_ids(principal))
    if not units:
        return None
    return Q(pk__in=units) | Q(parent_id__in=units)


def village_burden(principal, *, months: int = 6) -> list[dict]:
    """Per village and month (of issue): forms received (filled at the village or its grids), reported, on
    time, and the share of fields prefilled by the system."""
    scope = burden_divisions(principal)
    if scope is None:
        return []
    villages = {
        v.pk: v for v in Division.objects.filter(scope, level=Division.Level.VILLAGE).order_by("code")[:2000]
    }
    if not villages:
        return []
    since = timezone.localdate().replace(day=1)
    for _i in range(months - 1):
        since = (since - dt.timedelta(days=1)).replace(day=1)
    base = FormAssignment.objects.filter(fills=True, issue__period_start__gte=since)
    rows: dict[tuple, dict] = {}
    for level, path in (
        (Division.Level.VILLAGE, "division_id"),
        (Division.Level.GRID, "division__parent_id"),
    ):
        grouped = (
            base.filter(level=level, **{f"{path}__in": list(villages)})
            .annotate(month=TruncMonth("issue__period_start"), village=F(path))
            .values("village", "month")
            .annotate(
                forms=Count("issue", distinct=True),
                assignments=Count("id"),
                reported=Count("id", filter=Q(status__in=(S.SUBMITTED, S.APPROVED))),
                on_time=Count("id", filter=Q(on_time=True, status__in=(S.SUBMITTED, S.APPROVED))),
                prefilled=Sum("prefilled_fields"),
                asked=Sum("asked_fields"),
            )
        )
        for g in grouped:
            month = g["month"].date() if isinstance(g["month"], dt.datetime) else g["month"]
            key = (g["village"], month)
            row = rows.setdefault(
                key,
                defaultdict(int, village=villages[g["village"]], month=month),
            )
            for k in ("forms", "assignments", "reported", "on_time", "prefilled", "asked"):
                row[k] += g[k] or 0
    out = []
    for (_v, _m), row in sorted(rows.items(), key=lambda kv: (kv[1]["village"].code, kv[1]["month"])):
        fields_total = row["prefilled"] + row["asked"]
        row["prefilled_share"] = round(100.0 * row["prefilled"] / fields_total, 1) if fields_total else 0.0
        row["reporting_rate"] = (
            round(100.0 * row["reported"] / row["assignments"], 1) if row["assignments"] else 0.0
        )
        out.append(dict(row))
    return out


def _export_table(principal, issue: FormIssue) -> tuple[list[str], list[list], list[list]]:
    fields, leaves = export_rows(principal, issue)
    unit_fields = [f for f in fields if not f.per_row]
    head = ["区划代码", "单位", "上级", "状态", "提交时间", "按时"] + [
        f"{f.label}（{f.unit}）" if f.unit else f.label for f in unit_fields
    ]
    body = []
    for a in leaves:
        values = export_values(a)
        body.append(
            [
                a.division.code,
                a.division.name,
                a.parent.division.name if a.parent_id else "",
                str(a.get_status_display()),
                timezone.localtime(a.submitted_at).strftime("%Y-%m-%d %H:%M") if a.submitted_at else "",
                "" if a.on_time is None else ("是" if a.on_time else "否"),
            ]
            + [_cell(values.get(f.name)) for f in unit_fields]
        )
    detail = []
    row_fields = [f for f in fields if f.per_row]
    if row_fields and issue.form.row_source:
        from ..models import FormRow
        from ..services.reports import row_values

        detail.append(["区划代码", "单位", "序号", "名称"] + [f.label for f in row_fields])
        rows = FormRow.objects.filter(assignment__in=leaves).select_related("assignment__division")
        for row in rows.order_by("assignment__division__code", "position").iterator(chunk_size=2000):
            rv = row_values(row)
            detail.append(
                [row.assignment.division.code, row.assignment.division.name, row.position + 1, row.label]
                + [_cell(rv.get(f.name)) for f in row_fields]
            )
    return head, body, detail


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def export_file(principal, issue: FormIssue, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, file name) of the issue's answers the caller may see: xlsx (openpyxl; a second
    sheet with the detail rows) or CSV (UTF-8 with BOM, so Excel reads the Chinese)."""
    import csv
    import io

    head, body, detail = _export_table(principal, issue)
    stem = f"{issue.form.code}-{issue.period_start:%Y%m}"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(head)
        writer.writerows([[_csv_value(v) for v in line] for line in body])
        return ("\ufeff" + out.getvalue()).encode("utf-8"), "text/csv; charset=utf-8", f"{stem}.csv"
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("填报结果")
    sheet.append([issue.form.name, issue.period_label])
    sheet.append(head)
    for line in body:
        sheet.append([_xlsx_value(v) for v in line])
    if detail:
        rows_sheet = book.create_sheet("明细行")
        for line in detail:
            rows_sheet.append([_xlsx_value(v) for v in line])
    buffer = io.BytesIO()
    book.save(buffer)
    return (
        buffer.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"{stem}.xlsx",
    )


def _csv_value(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _numeric(value):
        return "'" + value  # a spreadsheet never runs a unit's text as a formula
    return value


def _xlsx_value(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _numeric(value):
        return "'" + value  # never a formula from a unit's text
    if isinstance(value, str) and _numeric(value):
        from decimal import Decimal

        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    return value


def _numeric(text: str) -> bool:
    from decimal import Decimal, InvalidOperation

    try:
        return Decimal(text).is_finite()
    except (InvalidOperation, ValueError):
        return False
