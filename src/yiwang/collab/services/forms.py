"""填表报数 I: the form register (表格目录清单), the centre's admission (准入) and issuing a form down the tree.

Who:
- a department's FORM_MANAGE holder registers forms for their own department (`form_create`), edits them while
  draft or rejected (`form_update`), submits them for admission (`form_submit`), revises an admitted form into
  a new version (`form_revise`), retires it (`form_retire`) and issues it (`form_issue`). Another department's
  form is invisible to them (selectors) and refused here (PermissionDenied).
- the big-data centre (FORM_ADMIT) admits or rejects submitted forms (`form_admit`).

Versions: ReportForm.code is unique, so a revision is a new row whose code is "<family>.v<n>" (the first version's
code is the family code, which never contains a dot); `form_family(code)` gives it. Admitting version n retires
the older admitted versions of the family. "Last period" (below) is looked up across the family.

Fields (`fields: Sequence[dict]`): name (lower-case identifier), label, kind (ReportField.Kind), unit, required,
choices ([[value, label], …], choice fields only), per_row (only when the form has a row_source), element (a
DataElement identifier such as "DE00001", or None), prefill (a key of `prefill.prefill_sources()` for a summary
field, "<row source>.<column>" for a per-row field), aggregate (ReportField.Aggregate; sum/avg/min/max only for
integer and decimal; default sum for numbers, none otherwise), rule (platform rule language, `catalog.rules`, over
`field_rule_symbols`), rule_message. Errors are ValidationError keyed "fields.<i>.<attr>" (i from 0).

Rules (for the "reports" part): a summary field's rule may use every summary field's name as a symbol; a per-row
field's rule every per-row field's name. `field_rule_symbols(fields, per_row=...)` is that symbol table and
`field_ruleset(field)` the one-rule list for `catalog.rules.ruleset_compile(raw, symbols=...)`. Facts: numbers as
float, booleans as bool, dates as datetime, text and choices as str (`field_fact(field, value)`).

What `form_issue` builds (one transaction, bulk inserts in batches):
- FormIssue (form_version, root_division, units_count = number of filling units);
- one FormAssignment per division from the root down to form.target_level (branches that never reach the target
  level are left out), `parent` set, `level` = the division level, `fills=True` at the target level,
  `children_count` = number of child assignments;
- for filling units: `prefilled` = {field name: system value} for every summary field with a prefill key (one
  grouped query per key for all units, `prefill.prefill_values`), and `values` starts as a copy of it (the
  unit may change any of them; `prefilled` keeps what the system said). `prefilled["_last"]`, when the same
  form family was issued for an earlier period and this unit's assignment there was approved:
  {"issue": <that FormIssue.public_id>, "period_label": …, "values": <its values>} — offered for reuse, never
  copied into `values`. Keys of `prefilled` starting with "_" are metadata, not fields;
- `prefilled_fields` = fields with a system value (summary fields with prefill, per-row fields with a row
  column), `asked_fields` = the other fields;
- detail rows (FormRow) for forms with a row_source: one per registry entity of the unit (`prefill_rows_batch`),
  `prefilled` = {per-row field name: column value}, `values` a copy;
- one in-app notification per active staff member of each filling unit (`unit_staff_q`): a village's or town's
  own office (a non-command-centre Department at that division; for a town, the one without parent), a grid's
  grid worker (Staff.grid); bulk-inserted;
- one audit entry "collab.form.issue".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog.rules import ruleset_validate
from yiwang.core.audit import audit_record
from yiwang.core.models import Division, Notification, Staff
from yiwang.core.permissions import COLLAB_WORK, FORM_ADMIT, FORM_MANAGE, ROLE_PERMISSIONS
from yiwang.core.principal import Principal

from .. import prefill
from ..models import FormAssignment, FormIssue, FormRow, Period, ReportField, ReportForm
from .form_fields import (
    NUMERIC,
    Kind,
    _rule_type,  # noqa: F401  (also imported from here)
    field_fact,  # noqa: F401  (also imported from here)
    field_rule_symbols,  # noqa: F401  (also imported from here)
    field_ruleset,  # noqa: F401  (also imported from here)
)

__all__ = [
    "EDITABLE",
    "field_as_dict",
    "field_fact",
    "field_rule_symbols",
    "field_ruleset",
    "form_admit",
    "form_create",
    "form_family",
    "form_issue",
    "form_retire",
    "form_revise",
    "form_submit",
    "form_update",
    "unit_staff_q",
]

FS = ReportForm.Status
Agg = ReportField.Aggregate
EDITABLE = (FS.DRAFT, FS.REJECTED)
MAX_FIELDS = 200
BATCH = 1000
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,23}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_FIELD_KEYS = {
    "name",
    "label",
    "kind",
    "unit",
    "required",
    "choices",
    "per_row",
    "element",
    "prefill",
    "aggregate",
    "rule",
    "rule_message",
}
_TEXT_CHANGES = {"name": 200, "purpose": 4000, "legal_basis": 500}


# --- who ------------------------------------------------------------------------------------------------------
def _require_manager(actor: Principal, form: ReportForm | None = None) -> None:
    if actor is None or actor.staff is None or not actor.has(FORM_MANAGE):
        raise PermissionDenied(_("需要“填表报数：登记表格、按层级下发”的权限。"))
    if form is not None and form.owner_department_id != actor.staff.department_id:
        raise PermissionDenied(_("只能管理本部门登记的表格。"))


def _require_centre(actor: Principal) -> None:
    if actor is None or actor.staff is None or not actor.has(FORM_ADMIT):
        raise PermissionDenied(_("只有大数据中心可以进行表格准入审核。"))


def _locked(form: ReportForm) -> ReportForm:
    return ReportForm.objects.select_for_update().get(pk=form.pk)


# --- versions -------------------------------------------------------------------------------------------------
def form_family(code: str) -> str:
    """The family code of a form version: "JCYB" for "JCYB" and "JCYB.v3"."""
    return code.split(".v", 1)[0]


def _family_q(code: str) -> Q:
    family = form_family(code)
    return Q(code=family) | Q(code__startswith=f"{family}.v")


def _clean_fields(raw, *, row_source: str) -> list[dict]:
    from yiwang.datahub.models import DataElement

    if not isinstance(raw, list | tuple) or not raw:
        raise ValidationError({"fields": _("请至少登记一个字段。")})
    if len(raw) > MAX_FIELDS:
        raise ValidationError({"fields": _("字段最多 %(n)d 个。") % {"n": MAX_FIELDS}})
    errors: dict[str, list[str]] = defaultdict(list)
    cleaned: list[dict] = []
    seen: set[str] = set()
    identifiers = {str(f.get("element")).strip() for f in raw if isinstance(f, dict) and f.get("element")}
    elements = {e.identifier: e for e in DataElement.objects.filter(identifier__in=identifiers)}
    summary_keys = prefill.prefill_sources()
    row_columns = prefill.row_source_columns(row_source)
    for i, f in enumerate(raw):
        at = f"fields.{i}"
        if not isinstance(f, dict):
            errors[at].append(_("字段格式应为对象。"))
            continue
        unknown = set(f) - _FIELD_KEYS
        if unknown:
            errors[at].append(_("不认识的键：%(keys)s。") % {"keys": "、".join(sorted(unknown))})
        name = str(f.get("name") or "").strip()
        label = str(f.get("label") or "").strip()
        kind = str(f.get("kind") or "").strip()
        if not _NAME.match(name):
            errors[f"{at}.name"].append(_("字段标识须为小写字母开头的小写字母、数字或下划线（50 字以内）。"))
        elif name in seen:
            errors[f"{at}.name"].append(_("字段标识“%(name)s”重复。") % {"name": name})
        seen.add(name)
        if not label or len(label) > 200:
            errors[f"{at}.label"].append(_("请填写 200 字以内的字段名称。"))
        if kind not in Kind.values:
            errors[f"{at}.kind"].append(
                _("字段类型须为：%(kinds)s。") % {"kinds": "、".join(str(k) for k in Kind.values)}
            )
        unit = str(f.get("unit") or "").strip()
        if len(unit) > 16:
            errors[f"{at}.unit"].append(_("计量单位最多 16 个字。"))
        choices = f.get("choices") or []
        if kind == Kind.CHOICE:
            ok = (
                isinstance(choices, list)
                and choices
                and all(
                    isinstance(c, list | tuple) and len(c) == 2 and str(c[0]).strip() and str(c[1]).strip()
                    for c in choices
                )
            )
            if not ok:
                errors[f"{at}.choices"].append(_("单选字段须列出选项：[[值, 名称], …]。"))
                choices = []
            else:
                choices = [[str(c[0]).strip()[:50], str(c[1]).strip()[:100]] for c in choices]
                if len({c[0] for c in choices}) != len(choices):
                    errors[f"{at}.choices"].append(_("选项的值不能重复。"))
        elif choices:
            errors[f"{at}.choices"].append(_("只有单选字段可以列出选项。"))
            choices = []
        per_row = bool(f.get("per_row", False))
        if per_row and not row_source:
            errors[f"{at}.per_row"].append(_("表格没有明细行来源，不能设明细行字段。"))
        element_id = str(f.get("element") or "").strip()
        element = None
        if element_id:
            element = elements.get(element_id)
            if element is None:
                errors[f"{at}.element"].append(_("数据元“%(id)s”不存在。") % {"id": element_id})
        key = str(f.get("prefill") or "").strip()
        if key:
            if per_row:
                source, _dot, column = key.partition(".")
                if source != row_source or column not in row_columns:
                    errors[f"{at}.prefill"].append(
                        _("明细行字段的预填来源须为：%(keys)s。")
                        % {"keys": "、".join(f"{row_source}.{c}" for c in row_columns) or "—"}
                    )
            elif key not in summary_keys:
                errors[f"{at}.prefill"].append(
                    _("预填来源须为平台登记的来源：%(keys)s。") % {"keys": "、".join(summary_keys)}
                )
        aggregate = str(f.get("aggregate") or "").strip() or (Agg.SUM if kind in NUMERIC else Agg.NONE)
        if aggregate not in Agg.values:
            errors[f"{at}.aggregate"].append(_("汇总方式不正确。"))
        elif aggregate in (Agg.SUM, Agg.AVG, Agg.MIN, Agg.MAX) and kind not in NUMERIC and kind:
            errors[f"{at}.aggregate"].append(_("只有整数和数值字段可以求和、平均、取最小或最大。"))
        rule = str(f.get("rule") or "").strip()
        message = str(f.get("rule_message") or "").strip()
        if len(rule) > 500:
            errors[f"{at}.rule"].append(_("校验规则最多 500 个字符。"))
        if len(message) > 200:
            errors[f"{at}.rule_message"].append(_("校验提示最多 200 字。"))
        cleaned.append(
            {
                "name": name,
                "label": label,
                "kind": kind,
                "unit": unit,
                "required": bool(f.get("required", True)),
                "choices": choices,
                "per_row": per_row,
                "element": element,
                "prefill": key,
                "aggregate": aggregate,
                "rule": rule,
                "rule_message": message,
            }
        )
    if not errors:
        for i, f in enumerate(cleaned):
            raw_rules = field_ruleset(f)
            if not raw_rules:
                continue
            symbols = field_rule_symbols(cleaned, per_row=f["per_row"])
            try:
                ruleset_validate(raw_rules, symbols=symbols)
            except ValidationError as exc:
                messages = exc.message_dict.get("rules", exc.messages)
                errors[f"fields.{i}.rule"].extend(m.split("：", 1)[-1] for m in messages)
    if errors:
        raise ValidationError(dict(errors))
    return cleaned


def _write_fields(form: ReportForm, cleaned: list[dict]) -> None:
    form.fields.all().delete()
    ReportField.objects.bulk_create(
        [ReportField(form=form, position=i, **f) for i, f in enumerate(cleaned, start=1)]
    )


def field_as_dict(field: ReportField) -> dict:
    return {
        "name": field.name,
        "label": field.label,
        "kind": field.kind,
        "unit": field.unit,
        "required": field.required,
        "choices": field.choices,
        "per_row": field.per_row,
        "element": field.element.identifier if field.element_id else None,
        "prefill": field.prefill,
        "aggregate": field.aggregate,
        "rule": field.rule,
        "rule_message": field.rule_message,
    }


def _clean_head(*, name, purpose, legal_basis, frequency, target_level, row_source) -> dict:
    errors: dict[str, str] = {}
    values = {"name": name, "purpose": purpose, "legal_basis": legal_basis}
    for key, limit in _TEXT_CHANGES.items():
        text = str(values[key] or "").strip()
        if not text or len(text) > limit:
            errors[key] = _("请填写 %(n)d 字以内的内容。") % {"n": limit}
        values[key] = text
    if frequency not in Period.values:
        errors["frequency"] = _("频次不正确。")
    try:
        level = int(target_level)
    except (TypeError, ValueError):
        level = 0
    if level not in (Division.Level.TOWN, Division.Level.VILLAGE, Division.Level.GRID):
        errors["target_level"] = _("填报层级须为镇街（2）、村社区（3）或网格（4）。")
    row_source = row_source or ""
    if row_source not in ReportForm.RowSource.values:
        errors["row_source"] = _("明细行来源不正确。")
    if errors:
        raise ValidationError(errors)
    return {**values, "frequency": frequency, "target_level": level, "row_source": row_source}


def _form_after(form: ReportForm) -> dict:
    return {
        "code": form.code,
        "name": form.name,
        "status": form.status,
        "version": form.version,
        "fields": form.fields.count(),
    }


# --- the register ---------------------------------------------------------------------------------------------
def form_create(
    *,
    actor: Principal,
    code: str,
    name: str,
    purpose: str,
    legal_basis: str,
    frequency: str,
    target_level: int,
    row_source: str = "",
    fields: Sequence[dict],
    source: str = ReportForm.Source.MANUAL,
) -> ReportForm:
    """Registers a draft form of the actor's department."""
    _require_manager(actor)
    code = str(code or "").strip().upper()
    if not _CODE.match(code):
        raise ValidationError({"code": _("表格编码须为 2～24 位大写字母、数字或连字符。")})
    head = _clean_head(
        name=name,
        purpose=purpose,
        legal_basis=legal_basis,
        frequency=frequency,
        target_level=target_level,
        row_source=row_source,
    )
    cleaned = _clean_fields(list(fields), row_source=head["row_source"])
    with transaction.atomic():
        if ReportForm.objects.filter(_family_q(code)).exists():
            raise ValidationError({"code": _("表格编码“%(code)s”已被使用。") % {"code": code}})
        form = ReportForm.objects.create(
            code=code,
            owner_department=actor.staff.department,
            created_by=actor.staff,
            source=source,
            **head,
        )
        _write_fields(form, cleaned)
        audit_record(
            actor=actor,
            action="collab.form.create",
            object_type="collab.reportform",
            object_id=str(form.public_id),
            after=_form_after(form),
        )
    return form


def form_update(*, actor: Principal, form: ReportForm, **changes) -> ReportForm:
    """Edits a draft or rejected form (a rejected one goes back to draft); `fields` replaces all fields."""
    _require_manager(actor, form)
    allowed = {"name", "purpose", "legal_basis", "frequency", "target_level", "row_source", "fields"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({k: _("不能修改此项。") for k in sorted(unknown)})
    with transaction.atomic():
        form = _locked(form)
        if form.status not in EDITABLE:
            raise ValidationError(
                {"status": _("只有草稿或不予准入的表格可以修改；已准入的表格请修订为新版本。")}
            )
        before = _form_after(form)
        head = _clean_head(
            **{
                k: changes.get(k, getattr(form, k))
                for k in ("name", "purpose", "legal_basis", "frequency", "target_level", "row_source")
            }
        )
        if "fields" in changes:
            cleaned = _clean_fields(list(changes["fields"] or []), row_source=head["row_source"])
        else:
            cleaned = _clean_fields(
                [field_as_dict(f) for f in form.fields.select_related("element")],
                row_source=head["row_source"],
            )
        for key, value in head.items():
            setattr(form, key, value)
        form.status = FS.DRAFT
        form.save()
        _write_fields(form, cleaned)
        audit_record(
            actor=actor,
            action="collab.form.update",
            object_type="collab.reportform",
            object_id=str(form.public_id),
            before=before,
            after=_form_after(form),
        )
    return form


def form_submit(*, actor: Principal, form: ReportForm) -> ReportForm:
    """Draft/rejected → submitted for admission; computes the review findings."""
    from .form_review import form_review_findings

    _require_manager(actor, form)
    with transaction.atomic():
        form = _locked(form)
        if form.status not in EDITABLE:
            raise ValidationError({"status": _("只有草稿或不予准入的表格可以提交准入审核。")})
        if not form.fields.exists():
            raise ValidationError({"fields": _("请至少登记一个字段。")})
        form.review_findings = form_review_findings(form)
        form.status = FS.SUBMITTED
        form.reviewed_by, form.reviewed_at, form.review_note = None, None, ""
        form.save(update_fields=["review_findings", "status", "reviewed_by", "reviewed_at", "review_note"])
        audit_record(
            actor=actor,
            action="collab.form.submit",
            object_type="collab.reportform",
            object_id=str(form.public_id),
            after={"status": form.status, "findings": form.review_findings.get("summary", {})},
        )
    return form


def form_admit(*, actor: Principal, form: ReportForm, decision: str, note: str = "") -> ReportForm:
    """The centre admits (approve) or refuses (reject, a note is required) a submitted form."""
    from .form_review import form_review_findings

    _require_centre(actor)
    note = str(note or "").strip()
    if decision not in ("approve", "reject"):
        raise ValidationError({"decision": _("审核结论须为 approve（准入）或 reject（不予准入）。")})
    if decision == "reject" and not note:
        raise ValidationError({"note": _("不予准入时请写明理由。")})
    if len(note) > 2000:
        raise ValidationError({"note": _("审核意见最多 2000 字。")})
    with transaction.atomic():
        form = _locked(form)
        if form.status != FS.SUBMITTED:
            raise ValidationError({"status": _("只有待准入审核的表格可以审核。")})
        form.review_findings = form_review_findings(form)
        form.status = FS.APPROVED if decision == "approve" else FS.REJECTED
        form.reviewed_by, form.reviewed_at, form.review_note = actor.staff, timezone.now(), note
        form.save(update_fields=["review_findings", "status", "reviewed_by", "reviewed_at", "review_note"])
        if form.status == FS.APPROVED:
            ReportForm.objects.filter(_family_q(form.code), status=FS.APPROVED).exclude(pk=form.pk).update(
                status=FS.RETIRED
            )
        audit_record(
            actor=actor,
            action="collab.form.admit",
            object_type="collab.reportform",
            object_id=str(form.public_id),
            after={"decision": decision, "status": form.status, "note": note},
        )
    return form


def form_revise(*, actor: Principal, form: ReportForm) -> ReportForm:
    """A new draft version ("<family>.v<n>") of an admitted form, with its fields copied."""
    _require_manager(actor, form)
    with transaction.atomic():
        form = _locked(form)
        if form.status != FS.APPROVED:
            raise ValidationError({"status": _("只有已准入的表格可以修订为新版本。")})
        family = list(ReportForm.objects.select_for_update().filter(_family_q(form.code)))
        if any(f.status in (FS.DRAFT, FS.SUBMITTED, FS.REJECTED) for f in family):
            raise ValidationError({"status": _("该表已有未准入的新版本，请先处理。")})
        version = max(f.version for f in family) + 1
        new = ReportForm.objects.create(
            code=f"{form_family(form.code)}.v{version}",
            name=form.name,
            purpose=form.purpose,
            legal_basis=form.legal_basis,
            owner_department=form.owner_department,
            frequency=form.frequency,
            target_level=form.target_level,
            row_source=form.row_source,
            source=form.source,
            version=version,
            created_by=actor.staff,
        )
        fields = list(form.fields.all())
        for f in fields:
            f.pk, f.form = None, new
        ReportField.objects.bulk_create(fields)
        audit_record(
            actor=actor,
            action="collab.form.revise",
            object_type="collab.reportform",
            object_id=str(new.public_id),
            after={**_form_after(new), "from": str(form.public_id)},
        )
    return new


def form_retire(*, actor: Principal, form: ReportForm) -> ReportForm:
    """Takes a form out of use (it can no longer be issued); issued periods stay as they are."""
    _require_manager(actor, form)
    with transaction.atomic():
        form = _locked(form)
        if form.status in (FS.RETIRED, FS.SUBMITTED):
            raise ValidationError({"status": _("待审核或已停用的表格不能停用。")})
        before = form.status
        form.status = FS.RETIRED
        form.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="collab.form.retire",
            object_type="collab.reportform",
            object_id=str(form.public_id),
            before={"status": before},
            after={"status": form.status},
        )
    return form


# --- issuing --------------------------------------------------------------------------------------------------
_WORK_ROLES = [role for role, perms in ROLE_PERMISSIONS.items() if COLLAB_WORK in perms]


def unit_staff_q(divisions) -> Q:
    """Staff who fill for these divisions: a town's own office, a village's committee, a grid's grid worker."""
    by_level: dict[int, list[int]] = defaultdict(list)
    for d in divisions:
        by_level[d.level].append(d.pk)
    q = Q(pk__in=[])
    if by_level.get(Division.Level.GRID):
        q |= Q(grid_id__in=by_level[Division.Level.GRID])
    if by_level.get(Division.Level.VILLAGE):
        q |= Q(
            department__division_id__in=by_level[Division.Level.VILLAGE],
            department__is_command_centre=False,
        )
    if by_level.get(Division.Level.TOWN):
        q |= Q(
            department__division_id__in=by_level[Division.Level.TOWN],
            department__parent__isnull=True,
            department__is_command_centre=False,
        )
    return q


def _district_of(division: Division) -> Division:
    while division.parent_id is not None:
        division = division.parent
    return division


# The reports part's inbox (collab:reports). A constant, not reverse(): the first reverse() in a process imports
# the whole URLconf and API (seconds), which must not land inside an issue's transaction; a test keeps them equal.
INBOX_PATH = "/collab/reports/"


def _last_answers(form: ReportForm, period_start: date, root: Division, divisions) -> tuple[dict, dict]:
    previous = (
        FormIssue.objects.filter(form__in=ReportForm.objects.filter(_family_q(form.code)))
        .filter(period_start__lt=period_start, root_division=root)
        .order_by("-period_start", "-id")
        .first()
    )
    if previous is None:
        return {}, {}
    rows = FormAssignment.objects.filter(
        issue=previous, fills=True, status=FormAssignment.Status.APPROVED, division__in=divisions
    ).values_list("division_id", "values")
    meta = {"issue": str(previous.public_id), "period_label": previous.period_label}
    return meta, dict(rows)


def form_issue(
    *,
    actor: Principal,
    form: ReportForm,
    period_label: str,
    period_start: date,
    period_end: date,
    due_on: date,
    root_division: Division | None = None,
) -> FormIssue:
    """Sends an admitted form down the division tree for one period (see the module docstring)."""
    _require_manager(actor, form)
    errors: dict[str, str] = {}
    period_label = str(period_label or "").strip()
    if not period_label or len(period_label) > 32:
        errors["period_label"] = _("请填写 32 字以内的报告期。")
    if not all(isinstance(d, date) for d in (period_start, period_end, due_on)):
        raise ValidationError({"period_start": _("请填写报告期起止日期和填报截止日。")})
    if period_end < period_start:
        errors["period_end"] = _("报告期结束日不能早于开始日。")
    if due_on < period_start:
        errors["due_on"] = _("填报截止日不能早于报告期开始日。")
    if due_on < timezone.localdate():
        errors["due_on"] = _("填报截止日不能早于今天。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        form = _locked(form)
        if form.status != FS.APPROVED:
            raise ValidationError({"status": _("表格尚未通过准入审核，不能下发。")})
        root = root_division or _district_of(actor.staff.department.division)
        if root.level > form.target_level:
            raise ValidationError({"root_division": _("下发范围须在填报层级之上或同级。")})
        if FormIssue.objects.filter(form=form, period_start=period_start, root_division=root).exists():
            raise ValidationError({"period_start": _("该表在此报告期已经下发。")})
        now = timezone.now()
        divisions = list(
            Division.objects.filter(
                code__startswith=root.code,
                level__gte=root.level,
                level__lte=form.target_level,
                is_active=True,
            ).order_by("level", "code")
        )
        # keep only the branches that reach the target level
        keep = {d.pk for d in divisions if d.level == form.target_level}
        by_pk = {d.pk: d for d in divisions}
        for d in sorted(divisions, key=lambda d: -d.level):
            if d.pk in keep and d.parent_id in by_pk:
                keep.add(d.parent_id)
        divisions = [d for d in divisions if d.pk in keep]
        if not any(d.level == form.target_level for d in divisions):
            raise ValidationError({"root_division": _("下发范围内没有填报层级的单位。")})
        units = [d for d in divisions if d.level == form.target_level]
        issue = FormIssue.objects.create(
            form=form,
            form_version=form.version,
            period_label=period_label,
            period_start=period_start,
            period_end=period_end,
            due_on=due_on,
            root_division=root,
            issued_by=actor.staff,
            issued_at=now,
            units_count=len(units),
        )
        fields = list(form.fields.all())
        summary = [f for f in fields if not f.per_row and f.prefill]
        row_fields = [f for f in fields if f.per_row and f.prefill]
        values = prefill.prefill_values({f.prefill for f in summary}, units, period_start, period_end)
        rows = prefill.prefill_rows_batch(form.row_source, units) if form.row_source else {}
        last_meta, last_values = _last_answers(form, period_start, root, units)
        n_prefilled = len(summary) + (len(row_fields) if form.row_source else 0)
        children: dict[int, int] = defaultdict(int)
        for d in divisions:
            if d.parent_id in keep and d.pk != root.pk:
                children[d.parent_id] += 1
        created: dict[int, FormAssignment] = {}
        for level in sorted({d.level for d in divisions}):
            batch = []
            for d in divisions:
                if d.level != level:
                    continue
                fills = level == form.target_level
                pre: dict[str, Any] = {}
                if fills:
                    unit_values = values.get(d.pk, {})
                    pre = {f.name: unit_values.get(f.prefill) for f in summary}
                    if d.pk in last_values:
                        pre["_last"] = {**last_meta, "values": last_values[d.pk]}
                batch.append(
                    FormAssignment(
                        issue=issue,
                        division=d,
                        level=level,
                        parent=created.get(d.parent_id) if d.pk != root.pk else None,
                        fills=fills,
                        values={k: v for k, v in pre.items() if not k.startswith("_")},
                        prefilled=pre,
                        prefilled_fields=n_prefilled if fills else 0,
                        asked_fields=(len(fields) - n_prefilled) if fills else 0,
                        children_count=children.get(d.pk, 0),
                    )
                )
            for a in FormAssignment.objects.bulk_create(batch, batch_size=BATCH):
                created[a.division_id] = a
        if rows:
            row_objects = []
            for d in units:
                assignment = created[d.pk]
                for position, (key, label, row_values) in enumerate(rows.get(d.pk, []), start=1):
                    pre = {f.name: row_values.get(f.prefill.partition(".")[2]) for f in row_fields}
                    row_objects.append(
                        FormRow(
                            assignment=assignment,
                            position=position,
                            entity_key=key,
                            label=label,
                            values=dict(pre),
                            prefilled=pre,
                        )
                    )
                    if len(row_objects) >= BATCH:
                        FormRow.objects.bulk_create(row_objects)
                        row_objects = []
            if row_objects:
                FormRow.objects.bulk_create(row_objects)
        recipients = Staff.objects.filter(unit_staff_q(units), is_active=True, roles__role__in=_WORK_ROLES)
        accounts = sorted(set(recipients.values_list("account_id", flat=True)))
        title = _("请填报：%(name)s（%(period)s）") % {"name": form.name, "period": period_label}
        body = _("%(dept)s下发，请于 %(due)s 前填报。") % {
            "dept": form.owner_department.name,
            "due": due_on.isoformat(),
        }
        link = INBOX_PATH
        Notification.objects.bulk_create(
            [
                Notification(
                    recipient_id=account,
                    title=title[:120],
                    body=body,
                    link=link,
                    object_type="collab.formissue",
                    object_id=str(issue.public_id),
                )
                for account in accounts
            ],
            batch_size=BATCH,
        )
        audit_record(
            actor=actor,
            action="collab.form.issue",
            object_type="collab.formissue",
            object_id=str(issue.public_id),
            after={
                "form": form.code,
                "version": form.version,
                "period": period_label,
                "due_on": due_on,
                "root": root.code,
                "units": len(units),
                "assignments": len(divisions),
                "notified": len(accounts),
            },
        )
    return issue
