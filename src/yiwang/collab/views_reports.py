"""Pages: 一网协同 — 填表报数: filling, review and aggregation.

- `collab:reports` (/collab/reports/): my unit's forms to fill and to review (earliest deadline first), my unit's
  past assignments, and for an issuing department its issues;
- `collab:report_fill` (/collab/reports/a/<id>/): the fill page — system-prefilled values marked 系统预填 with
  their source (editable), last period's values with a button to reuse them, the detail rows table when the
  form has rows; save draft, submit;
- `collab:report_review` (/collab/reports/a/<id>/review/): the parent unit approves or returns (note);
- `collab:report_issue` (/collab/reports/issues/<id>/): the issue's tree with lights, completeness and
  timeliness per unit and the precomputed aggregate; export links (`collab:report_export`, xlsx or csv);
- `collab:report_burden` (/collab/reports/burden/): forms received per village and month, share prefilled.
Every write calls services.reports, the same as the API.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.pageutils import page_requires
from yiwang.core.pagination import keyset_page
from yiwang.core.permissions import COLLAB_WORK, FORM_MANAGE

from .models import FormIssue
from .selectors import reports as sel
from .services.reports import (
    ReportConflict,
    assignment_review,
    assignment_save,
    assignment_submit,
    effective_values,
    form_fields,
    last_values,
    owns_issue,
    row_values,
)


def _prefill_labels() -> dict[str, str]:
    """Prefill source key → label, from the forms part's registry when it is there."""
    try:
        from .prefill import prefill_sources
    except ImportError:  # pragma: no cover - the forms part provides it
        return {}
    try:
        return {key: str(getattr(src, "label", key)) for key, src in prefill_sources().items()}
    except Exception:  # pragma: no cover - a label is a nicety, never a reason to fail the page
        return {}


@require_GET
@page_requires(COLLAB_WORK)
def reports_home(request):
    principal = request.principal
    inbox = sel.unit_inbox(principal, cursor=request.GET.get("cursor") or None, limit=50)
    history = sel.unit_assignments(principal, limit=20)
    issues = None
    department = principal.department
    if department is not None and principal.has(FORM_MANAGE):
        issues = keyset_page(
            FormIssue.objects.filter(form__owner_department=department).select_related("form"),
            key="public_id",
            cursor=request.GET.get("issues") or None,
            limit=30,
        )
    return render(
        request,
        "collab/reports.html",
        {"inbox": inbox, "history": history, "issues": issues, "today": timezone.localdate()},
    )


def _fill_context(principal, a, *, errors=None, posted=None):
    fields = form_fields(a.issue)
    values = effective_values(a)
    prefilled = a.prefilled or {}
    last = last_values(a)
    sources = prefilled.get("_sources") or {}
    labels = _prefill_labels()
    errors = errors or {}
    unit_fields = []
    for f in fields:
        if f.per_row:
            continue
        value = posted.get(f"v_{f.name}") if posted is not None else values.get(f.name)
        unit_fields.append(
            {
                "field": f,
                "value": "" if value is None else value,
                "prefilled": f.name in prefilled and not f.name.startswith("_"),
                "system_value": prefilled.get(f.name),
                "source": sources.get(f.name) or labels.get(f.prefill) or f.prefill,
                "last": last.get(f.name),
                "errors": errors.get(f.name, []),
                "choices": [(str(c[0]), c[1] if len(c) > 1 else c[0]) for c in (f.choices or [])],
            }
        )
    row_fields = [f for f in fields if f.per_row] if a.issue.form.row_source else []
    rows = []
    if row_fields:
        for row in a.rows.all()[:2000]:
            rv = row_values(row)
            rows.append(
                {
                    "row": row,
                    "cells": [
                        {
                            "field": f,
                            "value": "" if rv.get(f.name) is None else rv.get(f.name),
                            "prefilled": f.name in (row.prefilled or {}),
                            "errors": errors.get(f"rows.{row.position}.{f.name}", []),
                        }
                        for f in row_fields
                    ],
                }
            )
    other = [
        m
        for k, ms in errors.items()
        if k not in {f.name for f in fields} and not k.startswith("rows.")
        for m in ms
    ]
    return {
        "a": a,
        "issue": a.issue,
        "unit_fields": unit_fields,
        "row_fields": row_fields,
        "rows": rows,
        "has_last": bool(last),
        "actions": (acts := sel.actions(principal, a)),
        "editable": "save" in acts,
        "errors": errors,
        "other_errors": other,
        "row_errors": [m for k, ms in errors.items() if k.startswith("rows.") for m in ms],
        "overdue": a.issue.due_on < timezone.localdate(),
    }


def _posted_values(request, a):
    fields = form_fields(a.issue)
    values = {}
    for f in fields:
        if f.per_row:
            continue
        key = f"v_{f.name}"
        if f.kind == "boolean":
            values[f.name] = request.POST.get(key) or None
        elif key in request.POST:
            values[f.name] = request.POST.get(key)
    rows = []
    row_fields = [f for f in fields if f.per_row]
    if row_fields and a.issue.form.row_source:
        for row in a.rows.all()[:5000]:
            cells = {}
            for f in row_fields:
                key = f"r_{row.position}_{f.name}"
                if key in request.POST:
                    cells[f.name] = request.POST.get(key)
            if cells:
                rows.append({"position": row.position, "values": cells})
    return values, rows


@require_http_methods(["GET", "POST"])
@page_requires(COLLAB_WORK)
def report_fill(request, public_id):
    principal = request.principal
    a = sel.assignment_get(principal, public_id)
    if request.method == "GET":
        return render(request, "collab/report_fill.html", _fill_context(principal, a))
    action = request.POST.get("action", "save")
    values, rows = _posted_values(request, a)
    if action == "reuse":
        last = last_values(a)
        names = {f.name for f in form_fields(a.issue) if not f.per_row}
        values = {k: v for k, v in last.items() if k in names and k not in (a.prefilled or {})}
        rows = []
    try:
        version = int(request.POST.get("expected_version", ""))
    except ValueError:
        version = None
    try:
        if action in ("save", "submit", "reuse"):
            assignment_save(actor=principal, assignment=a, values=values, rows=rows, expected_version=version)
        if action == "submit":
            assignment_submit(actor=principal, assignment=sel.assignment_get(principal, public_id))
            messages.success(request, _("已提交，等待上级审核。"))
        else:
            messages.success(request, _("已保存。"))
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        a = sel.assignment_get(principal, public_id)
        context = _fill_context(
            principal, a, errors=errors, posted=request.POST if action != "reuse" else None
        )
        return render(request, "collab/report_fill.html", context, status=422)
    except ReportConflict as exc:
        messages.error(request, str(exc))
    except PermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    return redirect("collab:report_fill", public_id=a.public_id)


@require_http_methods(["GET", "POST"])
@page_requires(COLLAB_WORK)
def report_review(request, public_id):
    principal = request.principal
    a = sel.assignment_get(principal, public_id)
    error = ""
    if request.method == "POST":
        try:
            assignment_review(
                actor=principal,
                assignment=a,
                decision=request.POST.get("decision", ""),
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("审核结果已保存。"))
            return redirect("collab:report_review", public_id=a.public_id)
        except ValidationError as exc:
            error = "；".join(exc.messages)
        except ReportConflict as exc:
            error = str(exc)
    context = _fill_context(principal, a)
    children = []
    if not a.fills:
        children = list(a.children.select_related("division").order_by("division__code"))
        for child in children:
            child.issue = a.issue
            child.light = sel.light(child, timezone.localdate())
    context.update(
        {
            "children": children,
            "figures": sel.aggregate_figures(a.issue, a) if not a.fills or a.aggregate else [],
            "review_error": error,
            "note": request.POST.get("note", "") if request.method == "POST" else "",
        }
    )
    return render(request, "collab/report_review.html", context, status=422 if error else 200)


@require_GET
@page_requires(COLLAB_WORK)
def report_issue(request, public_id):
    principal = request.principal
    issue = sel.issue_get(principal, public_id)
    tops = sel.report_issue_overview(principal, issue)
    flat = []

    def walk(node, depth):
        flat.append((node, depth))
        for child in node.children:
            walk(child, depth + 1)

    for top in tops:
        walk(top, 0)
    top_node = sel.aggregate_node(principal, issue, request.GET.get("unit") or None)
    completeness = sel.issue_completeness(principal, issue, tops)
    return render(
        request,
        "collab/report_issue.html",
        {
            "issue": issue,
            "nodes": flat,
            "completeness": completeness,
            "top": top_node,
            "figures": sel.aggregate_figures(issue, top_node),
            "owner": owns_issue(principal, issue),
            "approved_units": (top_node.aggregate or {}).get("_units", 0),
        },
    )


@require_GET
@page_requires(COLLAB_WORK)
def report_export(request, public_id, fmt):
    if fmt not in ("xlsx", "csv"):
        raise Http404
    principal = request.principal
    issue = sel.issue_get(principal, public_id)
    content, content_type, filename = sel.export_file(principal, issue, fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@page_requires(COLLAB_WORK)
def report_burden(request):
    rows = sel.village_burden(request.principal)
    return render(request, "collab/report_burden.html", {"rows": rows})


@require_POST
@page_requires(COLLAB_WORK)
def report_submit_rollup(request, public_id):
    principal = request.principal
    a = sel.assignment_get(principal, public_id)
    try:
        assignment_submit(actor=principal, assignment=a)
        messages.success(request, _("汇总表已重新提交。"))
    except (ReportConflict, ValidationError) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
    return redirect("collab:report_review", public_id=a.public_id)


urlpatterns: list = [
    path("reports/", reports_home, name="reports"),
    path("reports/burden/", report_burden, name="report_burden"),
    path("reports/a/<uuid:public_id>/", report_fill, name="report_fill"),
    path("reports/a/<uuid:public_id>/review/", report_review, name="report_review"),
    path("reports/a/<uuid:public_id>/resubmit/", report_submit_rollup, name="report_resubmit"),
    path("reports/issues/<uuid:public_id>/", report_issue, name="report_issue"),
    path("reports/issues/<uuid:public_id>/export.<str:fmt>", report_export, name="report_export"),
]
