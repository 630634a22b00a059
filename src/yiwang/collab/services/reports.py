"""填表报数 II: filling an issued form, review up the tree, the aggregation precomputed as units approve, reminders.

Who acts on an assignment (the tree built by `services.forms.form_issue`):
- the *unit* of an assignment fills it (target level) or signs off its children's rollup: for a town or village
  division the Department at that division that is the unit itself (a town office: no parent; a 村（居）民委员会:
  its parent is the town office), for a grid the grid worker whose Staff.grid is that grid (`unit_division_ids`);
- the *reviewer* of an assignment is the unit of its parent; an assignment whose parent is the district (or the
  root itself when the issue was sent below the district) is reviewed by the issuing department (FORM_MANAGE).

Aggregation (DHIS2-style, never by scanning at read time). A filling assignment's `aggregate` is its own
contribution once approved (per field: n, sum, min, max, and counts per choice; the detail rows' per-row fields
folded in) and {} otherwise; every assignment above holds the combination of its direct children's aggregates.
Approving a filling unit adds its contribution into each ancestor (O(depth × fields)); returning an approved one
subtracts it again, and an ancestor whose min or max was that value recomputes them from its direct children's
aggregates (bottom-up, so they are current). Approving a rollup is the parent unit's sign-off and moves no figure.
The ancestors are locked root first, then down the path, so two approvals in one issue serialise on the root row.
Numbers are kept as canonical decimal text ("12.5", "3") so sums and differences are exact.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog.rules import T, ruleset_compile
from yiwang.core.audit import audit_record
from yiwang.core.memo import ProcessMemo
from yiwang.core.models import Department, Division, Staff
from yiwang.core.notify import notify
from yiwang.core.permissions import COLLAB_WORK, FORM_MANAGE, ROLE_PERMISSIONS, Role
from yiwang.core.principal import principal_memo
from yiwang.core.workdays import working_calendar, working_days_between

from ..models import FormAssignment, FormIssue, FormRow, ReportField
from .report_aggregation import (
    _add_stats,  # noqa: F401  (also imported from here)
    _fold,  # noqa: F401  (also imported from here)
    _recompute_extremes,  # noqa: F401  (also imported from here)
    _subtract,  # noqa: F401  (also imported from here)
    aggregate_add,  # noqa: F401  (also imported from here)
    aggregate_combine,  # noqa: F401  (also imported from here)
    contribution,  # noqa: F401  (also imported from here)
    field_result,  # noqa: F401  (also imported from here)
    num,  # noqa: F401  (also imported from here)
)

S = FormAssignment.Status
K = ReportField.Kind
A = ReportField.Aggregate
EDITABLE = (S.NOT_STARTED, S.DRAFT, S.RETURNED)
MAX_TEXT = 2000
MAX_ROWS = 5000
REMIND_DAYS_BEFORE = 2


class ReportConflict(Exception):
    """A step the assignment's state does not allow, or a stale version (409)."""


# --- who is who ------------------------------------------------------------------------------------------------
# A department's unit (its town or village) for 5 s per process: asked by every workbench page.
_DEPARTMENT_UNITS = ProcessMemo(5.0)


def _department_unit(department_id: int | None) -> frozenset[int]:
    department = (
        Department.objects.select_related("division", "parent").filter(pk=department_id).first()
        if department_id is not None
        else None
    )
    found: set[int] = set()
    if department is not None and department.division_id:
        division = department.division
        if division.level == Division.Level.TOWN and department.parent_id is None:
            found.add(division.pk)
        elif division.level == Division.Level.VILLAGE:
            parent = department.parent
            if parent is not None and parent.division_id == division.parent_id:
                found.add(division.pk)
    return frozenset(found)


def _unit_divisions(staff) -> frozenset[int]:
    if staff is None or not staff.is_active:
        return frozenset()
    found = set(_DEPARTMENT_UNITS.get(staff.department_id, lambda: _department_unit(staff.department_id)))
    if staff.grid_id:
        found.add(staff.grid_id)
    return frozenset(found)


def unit_division_ids(principal) -> frozenset[int]:
    """The divisions whose assignments this principal fills or signs off as their unit."""
    if principal is None or not principal.has(COLLAB_WORK):
        return frozenset()
    return principal_memo(principal, "collab.reports.units", lambda: _unit_divisions(principal.staff))


def owns_issue(principal, issue: FormIssue) -> bool:
    """The issuing department (FORM_MANAGE): sees the whole issue, reviews the district's direct children."""
    department = principal.department if principal is not None else None
    return (
        department is not None
        and principal.has(FORM_MANAGE)
        and issue.form.owner_department_id == department.pk
    )


def _reviewed_by_owner(assignment: FormAssignment) -> bool:
    parent = assignment.parent
    if parent is None:
        return assignment.division.level != Division.Level.DISTRICT
    return parent.division.level == Division.Level.DISTRICT


def may_fill(principal, assignment: FormAssignment) -> bool:
    return assignment.fills and assignment.division_id in unit_division_ids(principal)


def may_review(principal, assignment: FormAssignment) -> bool:
    if _reviewed_by_owner(assignment):
        return owns_issue(principal, assignment.issue)
    return assignment.parent is not None and assignment.parent.division_id in unit_division_ids(principal)


def unit_staff_accounts(division_ids: Iterable[int]) -> dict[int, list]:
    """division id → the accounts of the staff who act as that division's unit (batched, one query)."""
    ids = list(set(division_ids))
    if not ids:
        return {}
    town = Q(
        department__division_id__in=ids,
        department__division__level=Division.Level.TOWN,
        department__parent__isnull=True,
    )
    village = Q(
        department__division_id__in=ids,
        department__division__level=Division.Level.VILLAGE,
        department__parent__division_id=F("department__division__parent_id"),
    )
    rows = (
        Staff.objects.filter(town | village | Q(grid_id__in=ids), is_active=True, roles__isnull=False)
        .select_related("account", "department")
        .distinct()
    )
    out: dict[int, list] = defaultdict(list)
    wanted = set(ids)
    for staff in rows:
        if staff.grid_id in wanted:
            out[staff.grid_id].append(staff.account)
        if staff.department.division_id in wanted and staff.grid_id != staff.department.division_id:
            out[staff.department.division_id].append(staff.account)
    return out


# --- values ------------------------------------------------------------------------------------------------------
def form_fields(issue: FormIssue) -> list[ReportField]:
    return list(issue.form.fields.order_by("position"))


def effective_values(assignment: FormAssignment) -> dict:
    """The unit's answers: system prefill (keys not starting with "_") overlaid by what the unit entered."""
    base = {k: v for k, v in (assignment.prefilled or {}).items() if not str(k).startswith("_")}
    base.update(assignment.values or {})
    return base


def last_values(assignment: FormAssignment) -> dict:
    """Last period's approved answers offered for reuse: `prefilled["_last"]` = {"issue", "period_label",
    "values"} as form_issue stores it."""
    last = (assignment.prefilled or {}).get("_last") or {}
    if not isinstance(last, Mapping):
        return {}
    values = last.get("values")
    return dict(values) if isinstance(values, Mapping) else {}


def row_values(row: FormRow) -> dict:
    base = {k: v for k, v in (row.prefilled or {}).items() if not str(k).startswith("_")}
    base.update(row.values or {})
    return base


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def coerce(field: ReportField, value):
    """The stored form of one answer, or ValidationError (Chinese message) when it is not of the field's kind."""
    if _blank(value):
        return None
    kind = field.kind
    if kind == K.INTEGER:
        if isinstance(value, bool):
            raise ValidationError(_("请输入整数。"))
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError(_("请输入整数。")) from None
        if not number.is_finite() or number != number.to_integral_value():
            raise ValidationError(_("请输入整数。"))
        if abs(number) > 10**15:
            raise ValidationError(_("数值超出允许范围。"))
        return int(number)
    if kind == K.DECIMAL:
        if isinstance(value, bool):
            raise ValidationError(_("请输入数字。"))
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError(_("请输入数字。")) from None
        if not number.is_finite() or abs(number) > 10**15:
            raise ValidationError(_("请输入数字。"))
        return num(number)
    if kind == K.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on", "是"):
            return True
        if text in ("0", "false", "no", "off", "否"):
            return False
        raise ValidationError(_("请选择是或否。"))
    if kind == K.DATE:
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValidationError(_("日期格式应为 YYYY-MM-DD。")) from None
    text = str(value).strip()
    if kind == K.CHOICE:
        allowed = [str(c[0]) if isinstance(c, (list, tuple)) else str(c) for c in (field.choices or [])]
        if text not in allowed:
            raise ValidationError(_("请从给定选项中选择。"))
        return text
    if len(text) > MAX_TEXT:
        raise ValidationError(_("内容太长，最多 %(n)d 个字符。") % {"n": MAX_TEXT})
    return text


def _rule_symbols(fields: Sequence[ReportField]) -> dict:
    types = {
        K.INTEGER: T.FLOAT,
        K.DECIMAL: T.FLOAT,
        K.BOOLEAN: T.BOOLEAN,
        K.DATE: T.DATETIME,
        K.TEXT: T.STRING,
        K.CHOICE: T.STRING,
    }
    symbols = {}
    for f in fields:
        symbols[f.name] = types.get(f.kind, T.STRING)
        symbols[f"form_{f.name}"] = types.get(f.kind, T.STRING)
    return symbols


def _rule_facts(fields: Sequence[ReportField], values: Mapping) -> dict:
    facts = {}
    for f in fields:
        value = values.get(f.name)
        if value is None:
            fact = None
        elif f.kind in (K.INTEGER, K.DECIMAL):
            fact = Decimal(str(value))
        elif f.kind == K.DATE:
            fact = dt.datetime.combine(
                dt.date.fromisoformat(value), dt.time(), tzinfo=timezone.get_default_timezone()
            )
        else:
            fact = value
        facts[f.name] = fact
        facts[f"form_{f.name}"] = fact
    return facts


def _check_rules(fields, scope_fields, values, prefix, errors) -> None:
    """The `rule` of each field in scope_fields, evaluated over `values` (field-level messages)."""
    symbols = _rule_symbols(fields)
    for f in scope_fields:
        if not f.rule or values.get(f.name) is None:
            continue
        try:
            compiled = ruleset_compile(
                [{"code": "r", "name": f.label[:60] or f.name, "expr": f.rule, "message": f.rule_message}],
                symbols=symbols,
            )
        except ValidationError:
            errors[f"{prefix}{f.name}"].append(_("该字段的校验规则无效，请联系发起部门。"))
            continue
        (result,) = compiled.evaluate(_rule_facts(fields, values))
        if not result.passed and not result.error:
            errors[f"{prefix}{f.name}"].append(
                f.rule_message or _("不符合校验规则：%(rule)s") % {"rule": f.rule}
            )


def _clean(fields, raw: Mapping, *, prefix: str, errors) -> dict:
    by_name = {f.name: f for f in fields}
    cleaned = {}
    for name, value in raw.items():
        field = by_name.get(str(name))
        if field is None:
            errors[f"{prefix}{name}"].append(_("表中没有这个字段。"))
            continue
        try:
            cleaned[field.name] = coerce(field, value)
        except ValidationError as exc:
            errors[f"{prefix}{field.name}"].extend(exc.messages)
    return cleaned


def _raise(errors) -> None:
    if errors:
        raise ValidationError({k: v for k, v in errors.items() if v})


# --- locking ------------------------------------------------------------------------------------------------------
def _ancestor_ids(assignment: FormAssignment) -> list[int]:
    """The path's pks, root first (≤ 3 small queries: the tree is at most district → grid)."""
    ids: list[int] = []
    parent_id = assignment.parent_id
    while parent_id is not None:
        ids.append(parent_id)
        parent_id = FormAssignment.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    return list(reversed(ids))


def _lock_path(assignment: FormAssignment) -> tuple[list[FormAssignment], FormAssignment]:
    """Locks root → … → parent → the assignment, in that order; returns (ancestors root first, assignment)."""
    locked = []
    for pk in _ancestor_ids(assignment):
        locked.append(FormAssignment.objects.select_for_update().get(pk=pk))
    me = (
        FormAssignment.objects.select_for_update(of=("self",))
        .select_related("issue__form", "division", "parent__division")
        .get(pk=assignment.pk)
    )
    return locked, me


def _lock_one(assignment: FormAssignment) -> FormAssignment:
    return (
        FormAssignment.objects.select_for_update(of=("self",))
        .select_related("issue__form", "division", "parent__division")
        .get(pk=assignment.pk)
    )


def _check_version(assignment: FormAssignment, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != assignment.version:
        raise ReportConflict(
            _("报表已被他人修改（当前版本 %(v)d），请刷新后重试。") % {"v": assignment.version}
        )


def _snapshot(a: FormAssignment) -> dict:
    return {"status": a.status, "version": a.version}


# --- filling ---------------------------------------------------------------------------------------------------
def _apply_rows(assignment, fields, rows, errors) -> list[FormRow]:
    row_fields = [f for f in fields if f.per_row]
    if not rows:
        return []
    if len(rows) > MAX_ROWS:
        errors["rows"].append(_("明细行太多。"))
        return []
    existing = {r.position: r for r in assignment.rows.all()}
    changed = []
    for index, item in enumerate(rows):
        if not isinstance(item, Mapping):
            errors[f"rows.{index}"].append(_("明细行格式不正确。"))
            continue
        position = item.get("position")
        row = existing.get(position) if isinstance(position, int) else None
        if row is None:
            errors[f"rows.{index}.position"].append(_("没有这一明细行。"))
            continue
        values = item.get("values") or {}
        if not isinstance(values, Mapping):
            errors[f"rows.{position}"].append(_("明细行格式不正确。"))
            continue
        cleaned = _clean(row_fields, values, prefix=f"rows.{position}.", errors=errors)
        row.values = {**(row.values or {}), **cleaned}
        changed.append(row)
    return changed


def assignment_save(
    *,
    actor,
    assignment: FormAssignment,
    values: Mapping,
    rows: list[dict] | None = None,
    expected_version: int | None = None,
) -> FormAssignment:
    """Saves the unit's draft answers (type-checked; `required` and rules are checked on submit)."""
    if not may_fill(actor, assignment):
        raise PermissionDenied(_("只有本单位的工作人员可以填报。"))
    if not isinstance(values, Mapping):
        raise ValidationError({"values": _("格式不正确。")})
    with transaction.atomic():
        a = _lock_one(assignment)
        _check_version(a, expected_version)
        if a.issue.status != FormIssue.Status.OPEN:
            raise ReportConflict(_("该报表已截止，不能再修改。"))
        if a.status not in EDITABLE:
            raise ReportConflict(_("报表已提交，退回后才能修改。"))
        fields = form_fields(a.issue)
        errors: dict[str, list] = defaultdict(list)
        unit_fields = [f for f in fields if not f.per_row]
        cleaned = _clean(unit_fields, values, prefix="", errors=errors)
        changed_rows = _apply_rows(a, fields, rows, errors)
        _raise(errors)
        before = _snapshot(a)
        a.values = {**(a.values or {}), **cleaned}
        if a.status == S.NOT_STARTED:
            a.status = S.DRAFT
        a.version += 1
        a.save(update_fields=["values", "status", "version"])
        if changed_rows:
            FormRow.objects.bulk_update(changed_rows, ["values"], batch_size=500)
        audit_record(
            actor=actor,
            action="collab.report.save",
            object_type="collab.FormAssignment",
            object_id=str(a.public_id),
            before=before,
            after={**_snapshot(a), "fields": sorted(cleaned), "rows": len(changed_rows)},
        )
    return a


def _validate_for_submit(a: FormAssignment, fields) -> None:
    errors: dict[str, list] = defaultdict(list)
    unit_fields = [f for f in fields if not f.per_row]
    values = effective_values(a)
    typed = {}
    for f in unit_fields:
        try:
            typed[f.name] = coerce(f, values.get(f.name))
        except ValidationError as exc:
            errors[f.name].extend(exc.messages)
            continue
        if f.required and typed[f.name] is None:
            errors[f.name].append(_("“%(label)s”为必填项。") % {"label": f.label})
    _check_rules(fields, unit_fields, typed, "", errors)
    row_fields = [f for f in fields if f.per_row]
    if row_fields and a.issue.form.row_source:
        for row in a.rows.all():
            rv = row_values(row)
            typed_row = dict(typed)
            for f in row_fields:
                try:
                    typed_row[f.name] = coerce(f, rv.get(f.name))
                except ValidationError as exc:
                    errors[f"rows.{row.position}.{f.name}"].extend(exc.messages)
                    continue
                if f.required and typed_row[f.name] is None:
                    errors[f"rows.{row.position}.{f.name}"].append(
                        _("第 %(n)d 行（%(row)s）“%(label)s”为必填项。")
                        % {"n": row.position, "row": row.label, "label": f.label}
                    )
            _check_rules(fields, row_fields, typed_row, f"rows.{row.position}.", errors)
    _raise(errors)
    a.values = {**(a.values or {}), **{k: v for k, v in typed.items() if v is not None}}


def assignment_submit(
    *, actor, assignment: FormAssignment, expected_version: int | None = None
) -> FormAssignment:
    """A filling unit submits its answers (every field validated: kind, required, choices, rule); a rollup unit
    whose return was answered submits its rollup again once all its children are approved."""
    if assignment.fills:
        if not may_fill(actor, assignment):
            raise PermissionDenied(_("只有本单位的工作人员可以提交。"))
    elif assignment.division_id not in unit_division_ids(actor):
        raise PermissionDenied(_("只有本单位的工作人员可以提交。"))
    with transaction.atomic():
        a = _lock_one(assignment)
        _check_version(a, expected_version)
        if a.issue.status != FormIssue.Status.OPEN:
            raise ReportConflict(_("该报表已截止，不能再提交。"))
        if a.fills:
            if a.status not in EDITABLE:
                raise ReportConflict(_("报表已提交，不能重复提交。"))
            _validate_for_submit(a, form_fields(a.issue))
        elif a.status != S.RETURNED or a.approved_children < a.children_count:
            raise ReportConflict(_("下级尚未全部审核通过，汇总表不能提交。"))
        before = _snapshot(a)
        now = timezone.now()
        a.status = S.SUBMITTED
        a.submitted_at = now
        a.submitted_by = actor.staff
        if a.on_time is None:
            a.on_time = timezone.localtime(now).date() <= a.issue.due_on
        a.version += 1
        a.save(update_fields=["values", "status", "submitted_at", "submitted_by", "on_time", "version"])
        audit_record(
            actor=actor,
            action="collab.report.submit",
            object_type="collab.FormAssignment",
            object_id=str(a.public_id),
            before=before,
            after=_snapshot(a),
        )
        _notify_reviewers(a)
    return a


def _notify_reviewers(a: FormAssignment) -> None:
    link = reverse("collab:report_review", args=[a.public_id])
    title = _("报表待审核：%(unit)s《%(form)s》%(period)s") % {
        "unit": a.division.name,
        "form": a.issue.form.name,
        "period": a.issue.period_label,
    }
    if _reviewed_by_owner(a):
        accounts = [
            s.account
            for s in Staff.objects.filter(
                department_id=a.issue.form.owner_department_id,
                is_active=True,
                roles__role__in=[r for r in Role.values if FORM_MANAGE in _perms_of(r)],
            )
            .select_related("account")
            .distinct()
        ]
    else:
        accounts = unit_staff_accounts([a.parent.division_id]).get(a.parent.division_id, [])
    for account in accounts:
        notify(
            recipient=account, title=title, link=link, object_type="collab.report", object_id=str(a.public_id)
        )


def _perms_of(role: str):
    return ROLE_PERMISSIONS.get(role, frozenset())


# --- review and aggregation ---------------------------------------------------------------------------------------
def _leaf_contribution(a: FormAssignment, fields) -> dict:
    rows = [row_values(r) for r in a.rows.all()] if a.issue.form.row_source else []
    typed_rows = []
    row_fields = [f for f in fields if f.per_row]
    for rv in rows:
        typed_rows.append({f.name: coerce(f, rv.get(f.name)) for f in row_fields})
    values = {}
    for f in fields:
        if not f.per_row:
            try:
                values[f.name] = coerce(f, effective_values(a).get(f.name))
            except ValidationError:
                values[f.name] = None
    return contribution(fields, values, typed_rows)


def _settle_parent(parent: FormAssignment) -> None:
    """A rollup's own status from its children's: all approved → ready for its review (the district: complete)."""
    if parent.status == S.APPROVED and parent.parent_id is not None:
        return
    if parent.children_count and parent.approved_children >= parent.children_count:
        if parent.parent_id is None and parent.division.level == Division.Level.DISTRICT:
            parent.status = S.APPROVED
            parent.reviewed_at = timezone.now()
        elif parent.status != S.RETURNED:
            parent.status = S.SUBMITTED
            parent.submitted_at = timezone.now()
            if parent.on_time is None:
                parent.on_time = timezone.localdate() <= parent.issue.due_on
    else:
        parent.status = S.DRAFT if (parent.approved_children or parent.aggregate) else S.NOT_STARTED


def assignment_review(*, actor, assignment: FormAssignment, decision: str, note: str = "") -> FormAssignment:
    """The parent unit approves or returns a submitted assignment (and may return an approved one while its own
    rollup is not approved). Approving a filling unit adds its contribution into every ancestor's aggregate."""
    if decision not in ("approve", "return"):
        raise ValidationError({"decision": _("审核结论只能是 approve（通过）或 return（退回）。")})
    note = (note or "").strip()
    if decision == "return" and not note:
        raise ValidationError({"note": _("退回时请写明原因。")})
    if len(note) > 2000:
        raise ValidationError({"note": _("内容太长，最多 %(n)d 个字符。") % {"n": 2000}})
    if not may_review(actor, assignment):
        raise PermissionDenied(_("只有上级单位可以审核。"))
    with transaction.atomic():
        ancestors, a = _lock_path(assignment)
        issue = FormIssue.objects.select_for_update(of=("self",)).select_related("form").get(pk=a.issue_id)
        a.issue = issue
        if issue.status != FormIssue.Status.OPEN:
            raise ReportConflict(_("该报表已截止。"))
        parent = ancestors[-1] if ancestors else None
        if parent is not None:
            parent.issue = issue
        before = _snapshot(a)
        fields = form_fields(issue)
        was_approved = a.status == S.APPROVED
        if decision == "approve":
            if a.status != S.SUBMITTED:
                raise ReportConflict(_("只有待审核的报表可以审核通过。"))
            a.status = S.APPROVED
            if a.fills:
                a.aggregate = _leaf_contribution(a, fields)
                for ancestor in ancestors:
                    ancestor.aggregate = aggregate_add(ancestor.aggregate or {}, a.aggregate)
                issue.approved_count += 1
            if parent is not None:
                parent.approved_children += 1
        else:
            if a.status not in (S.SUBMITTED, S.APPROVED):
                raise ReportConflict(_("只有待审核或已通过的报表可以退回。"))
            if was_approved and parent is not None and parent.status == S.APPROVED and parent.parent_id:
                raise ReportConflict(_("上级汇总已审核通过，请先由其上级退回汇总表。"))
            a.status = S.RETURNED
            if was_approved:
                if a.fills:
                    part = a.aggregate or {}
                    a.aggregate = {}
                    for ancestor in reversed(ancestors):  # bottom-up: children's aggregates are current
                        ancestor.aggregate, stale = _subtract(ancestor.aggregate or {}, part)
                        if stale:
                            if ancestor is parent:
                                a.save(update_fields=["aggregate"])
                            else:
                                child = ancestors[ancestors.index(ancestor) + 1]
                                child.save(update_fields=["aggregate"])
                            _recompute_extremes(ancestor, stale)
                    issue.approved_count -= 1
                if parent is not None:
                    parent.approved_children -= 1
        a.reviewed_at = timezone.now()
        a.reviewed_by = actor.staff
        a.review_note = note
        a.version += 1
        a.save(update_fields=["status", "aggregate", "reviewed_at", "reviewed_by", "review_note", "version"])
        if parent is not None:
            _settle_parent(parent)
        for ancestor in ancestors[:-1]:  # above the parent only the figures moved
            if ancestor.status in (S.NOT_STARTED, S.DRAFT):
                ancestor.status = (
                    S.DRAFT if (ancestor.aggregate or ancestor.approved_children) else S.NOT_STARTED
                )
        for ancestor in ancestors:
            ancestor.save(
                update_fields=[
                    "aggregate",
                    "approved_children",
                    "status",
                    "submitted_at",
                    "reviewed_at",
                    "on_time",
                ]
            )
        issue.save(update_fields=["approved_count"])
        audit_record(
            actor=actor,
            action=f"collab.report.{decision}",
            object_type="collab.FormAssignment",
            object_id=str(a.public_id),
            before=before,
            after={**_snapshot(a), "note": note},
        )
        if parent is not None and parent.status == S.SUBMITTED and parent.parent_id is not None:
            parent.issue = issue
            _notify_reviewers(parent)
        if decision == "return":
            link = reverse("collab:report_fill", args=[a.public_id])
            title = _("报表被退回：《%(form)s》%(period)s") % {
                "form": issue.form.name,
                "period": issue.period_label,
            }
            for account in unit_staff_accounts([a.division_id]).get(a.division_id, []):
                notify(
                    recipient=account,
                    title=title,
                    body=note,
                    link=link,
                    object_type="collab.report",
                    object_id=str(a.public_id),
                )
    return a


# --- reminders ----------------------------------------------------------------------------------------------------
def reports_remind_sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """Daily: units that have not submitted an open issue due within two working days, or overdue, get one
    reminder a day (each unit's staff notified; `reminded_at` marks the day)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    calendar = working_calendar()
    start_of_day = dt.datetime.combine(today, dt.time(), tzinfo=timezone.get_default_timezone())
    horizon = today + dt.timedelta(days=14)
    issues = [
        issue
        for issue in FormIssue.objects.filter(
            status=FormIssue.Status.OPEN, due_on__lte=horizon
        ).select_related("form")
        if issue.due_on < today or working_days_between(today, issue.due_on, calendar) <= REMIND_DAYS_BEFORE
    ]
    sent = units = 0
    for issue in issues:
        with transaction.atomic():
            pending = list(
                FormAssignment.objects.select_for_update(skip_locked=True)
                .filter(issue=issue, fills=True, status__in=EDITABLE)
                .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=start_of_day))
                .only("pk", "public_id", "division_id")
            )
            if not pending:
                continue
            overdue = issue.due_on < today
            staff = unit_staff_accounts(a.division_id for a in pending)
            title = (
                _("报表已逾期：《%(form)s》%(period)s，截止 %(due)s")
                if overdue
                else _("报表即将到期：《%(form)s》%(period)s，截止 %(due)s")
            ) % {"form": issue.form.name, "period": issue.period_label, "due": issue.due_on.isoformat()}
            for a in pending:
                link = reverse("collab:report_fill", args=[a.public_id])
                for account in staff.get(a.division_id, []):
                    notify(
                        recipient=account,
                        title=title,
                        link=link,
                        object_type="collab.report",
                        object_id=str(a.public_id),
                    )
                    sent += 1
            FormAssignment.objects.filter(pk__in=[a.pk for a in pending]).update(reminded_at=now)
            units += len(pending)
            audit_record(
                actor=None,
                action="collab.report.remind",
                object_type="collab.FormIssue",
                object_id=str(issue.public_id),
                after={"units": len(pending), "overdue": overdue},
            )
    return {"issues": len(issues), "units": units, "notifications": sent}
