"""The incident catalogue (事件分类) with its responsibility rules (责任清单), and the 一网统管 settings row.

`category_save()` is the one writer of a category and its rules (the admin calls it): it derives `level` from the
parent (at most three levels), validates with field-level Chinese messages, enforces "no category without a
route" (an active leaf needs at least one active rule) and audits. The model's check constraints (one target per
rule, a whole time window) are checked here first, so they surface as form errors, never as database errors.
"""

from __future__ import annotations

import re
from datetime import time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Department, Division
from yiwang.core.permissions import INCIDENT_MANAGE
from yiwang.core.principal import Principal

from ..models import Incident, IncidentCategory, IncidentSettings, ResponsibilityRule
from .common import incident_settings_invalidate
from .routing import routing_invalidate

MAX_LEVEL = 3
CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,19}$")
EVIDENCE = {IncidentCategory.Evidence.NOTE.value, IncidentCategory.Evidence.PHOTO.value}
CATEGORY_FIELDS = (
    "code",
    "name",
    "parent",
    "deadline_value",
    "deadline_unit",
    "handling",
    "evidence_required",
    "needs_verification",
    "examples",
    "is_active",
    "sort",
)
RULE_FIELDS = ("division", "department", "to_grid", "starts_at", "ends_at", "priority", "is_active")


# --- reading ---------------------------------------------------------------------------------------------------
def _deadline_label(category: IncidentCategory) -> str:
    if category.deadline_unit == IncidentCategory.DeadlineUnit.HOURS:
        return _("%(n)s小时") % {"n": category.deadline_value}
    return _("%(n)s个工作日") % {"n": category.deadline_value}


def category_tree() -> list[dict]:
    """Active categories as a tree for pickers (one query): [{code, name, level, children: [...]}]; leaves carry
    handling, deadline_value, deadline_unit, deadline (label), needs_verification, evidence_required, examples."""
    rows = list(IncidentCategory.objects.filter(is_active=True).order_by("sort", "code"))
    by_parent: dict[int | None, list[IncidentCategory]] = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, []).append(row)

    def node(category: IncidentCategory) -> dict:
        children = [node(child) for child in by_parent.get(category.pk, [])]
        entry = {"code": category.code, "name": category.name, "level": category.level, "children": children}
        if not children:
            entry.update(
                handling=category.handling,
                handling_label=category.get_handling_display(),
                deadline_value=category.deadline_value,
                deadline_unit=category.deadline_unit,
                deadline=_deadline_label(category),
                needs_verification=category.needs_verification,
                evidence_required=list(category.evidence_required or []),
                examples=[line.strip() for line in (category.examples or "").splitlines() if line.strip()][
                    :5
                ],
            )
        return entry

    return [node(row) for row in by_parent.get(None, [])]


# --- categories --------------------------------------------------------------------------------------------
def category_is_leaf(category: IncidentCategory | None) -> bool:
    """A new category, or one without children."""
    return category is None or not category.pk or not category.children.exists()


def _descendant_depth(category: IncidentCategory) -> tuple[int, set[int]]:
    """(levels below the category, ids of all its descendants)."""
    depth, ids, frontier = 0, set(), [category.pk]
    while frontier:
        frontier = list(IncidentCategory.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        if frontier:
            depth += 1
            ids.update(frontier)
    return depth, ids


def _rule_errors(rule: dict) -> dict[str, list[str]]:
    """Field errors of one rule (the model's check constraints and the obvious ones)."""
    errors: dict[str, list[str]] = {}
    if rule.get("division") is None:
        errors["division"] = [_("请选择适用区划。")]
    to_grid, department = bool(rule.get("to_grid")), rule.get("department")
    if to_grid and department is not None:
        errors["department"] = [_("勾选“由所在网格处置”时不填承办部门；二者只能选其一。")]
    elif not to_grid and department is None:
        errors["department"] = [_("请选择承办部门，或勾选“由所在网格处置”。")]
    starts, ends = rule.get("starts_at"), rule.get("ends_at")
    if (starts is None) != (ends is None):
        field = "ends_at" if starts is not None else "starts_at"
        errors[field] = [_("时段开始和结束须同时填写，或都留空表示全天。")]
    elif starts is not None and starts == ends:
        errors["ends_at"] = [_("时段结束不能与开始相同。")]
    for name in ("starts_at", "ends_at"):
        value = rule.get(name)
        if value is not None and not isinstance(value, time):
            errors.setdefault(name, []).append(_("时间格式应为 HH:MM。"))
    division = rule.get("division")
    if isinstance(division, Division) and not division.is_active:
        errors.setdefault("division", []).append(_("区划“%(name)s”已停用。") % {"name": division.name})
    if isinstance(department, Department) and not department.is_active:
        errors.setdefault("department", []).append(_("部门“%(name)s”已撤销。") % {"name": department.name})
    return errors


def rule_validate(rule: dict) -> None:
    """ValidationError (field → messages) for one rule."""
    errors = _rule_errors(rule)
    if errors:
        raise ValidationError(errors)


def category_validate(
    *,
    category: IncidentCategory | None,
    values: dict,
    rules: list[dict] | None = None,
    check_route: bool = True,
) -> dict:
    """Checks a category's values (and, when given, its rules as they will be) and returns them cleaned with the
    derived `level`. ValidationError (field → Chinese messages); rule problems under "rules". `check_route=False`
    leaves the route check to the caller (the admin's rule formset, which sees the rules being entered)."""
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    cleaned = {name: values.get(name) for name in CATEGORY_FIELDS if name in values}
    code = (values.get("code") or (category.code if category else "") or "").strip().upper()
    cleaned["code"] = code
    if category is not None and category.pk and code != category.code:
        fail("code", _("分类编码创建后不能修改（工单和 Open311 服务编码引用它）。"))
    elif not CODE_RE.match(code):
        fail("code", _("分类编码须为 2–20 位大写字母或数字，以字母开头，如 SRHJ01。"))
    elif IncidentCategory.objects.filter(code=code).exclude(pk=getattr(category, "pk", None)).exists():
        fail("code", _("分类编码 %(code)s 已存在。") % {"code": code})
    name = (values.get("name") or "").strip()
    cleaned["name"] = name
    if not name:
        fail("name", _("请填写分类名称。"))
    elif len(name) > 60:
        fail("name", _("名称不能超过 60 字。"))
    deadline = values.get("deadline_value")
    if not isinstance(deadline, int) or isinstance(deadline, bool) or deadline <= 0:
        fail("deadline_value", _("处置时限须为大于 0 的整数。"))
    elif values.get("deadline_unit") == IncidentCategory.DeadlineUnit.HOURS and deadline > 24 * 90:
        fail("deadline_value", _("按小时计的时限不能超过 2160 小时。"))
    elif values.get("deadline_unit") == IncidentCategory.DeadlineUnit.WORKDAYS and deadline > 365:
        fail("deadline_value", _("按工作日计的时限不能超过 365 个工作日。"))
    if values.get("deadline_unit") not in IncidentCategory.DeadlineUnit.values:
        fail("deadline_unit", _("时限单位应为小时或工作日。"))
    if values.get("handling") not in IncidentCategory.Handling.values:
        fail("handling", _("请选择处置方式。"))
    evidence = values.get("evidence_required") or []
    if not isinstance(evidence, list) or any(item not in EVIDENCE for item in evidence):
        fail("evidence_required", _("结案必需材料只能是 note（处置说明）和 photo（现场照片）。"))
    else:
        cleaned["evidence_required"] = sorted(set(evidence), key=["note", "photo"].index)
    examples = "\n".join(line.strip() for line in (values.get("examples") or "").splitlines() if line.strip())
    cleaned["examples"] = examples
    cleaned["is_active"] = bool(values.get("is_active", True))
    cleaned["needs_verification"] = bool(values.get("needs_verification", False))
    cleaned["sort"] = int(values.get("sort") or 0)

    parent = values.get("parent")
    level = 1
    depth, descendants = (0, set())
    has_children = False
    if category is not None and category.pk:
        depth, descendants = _descendant_depth(category)
        has_children = bool(descendants)
    if parent is not None:
        level = parent.level + 1
        if category is not None and category.pk and (parent.pk == category.pk or parent.pk in descendants):
            fail("parent", _("上级分类不能是本分类或它的下级分类。"))
        elif level > MAX_LEVEL:
            fail(
                "parent", _("分类最多三级：“%(parent)s”已是第三级，不能再有下级。") % {"parent": parent.name}
            )
        elif level + depth > MAX_LEVEL:
            fail("parent", _("移到“%(parent)s”下后下级分类将超过三级。") % {"parent": parent.name})
        elif (
            not IncidentCategory.objects.filter(parent=parent)
            .exclude(pk=getattr(category, "pk", None))
            .exists()
            and Incident.objects.filter(category=parent).exists()
        ):
            fail(
                "parent",
                _("“%(parent)s”是末级分类且已有工单，不能再作为上级分类；请新建一个大类。")
                % {"parent": parent.name},
            )
    cleaned["level"] = level
    cleaned["parent"] = parent

    if rules is not None:
        for n, rule in enumerate(r for r in rules if not r.get("delete")):
            for messages in _rule_errors(rule).values():
                for message in messages:
                    fail("rules", _("第 %(n)s 条规则：%(message)s") % {"n": n + 1, "message": message})
    # "no category without a route": an active leaf needs at least one active rule
    if check_route and cleaned["is_active"] and not has_children and not errors:
        if rules is not None:
            routed = any(r.get("is_active", True) and not r.get("delete") for r in rules)
        else:
            routed = bool(category and category.pk and category.rules.filter(is_active=True).exists())
        if not routed:
            fail(
                "rules",
                _(
                    "启用的末级分类至少需要一条启用的责任清单规则，否则工单无处可派。"
                    "（若这是还要添加小类的大类，可先不勾选“启用”保存。）"
                ),
            )
    if errors:
        raise ValidationError(errors)
    return cleaned


def _category_snapshot(category: IncidentCategory) -> dict:
    return {
        "code": category.code,
        "name": category.name,
        "parent": category.parent.code if category.parent_id else "",
        "level": category.level,
        "deadline": f"{category.deadline_value} {category.deadline_unit}",
        "handling": category.handling,
        "evidence_required": list(category.evidence_required or []),
        "needs_verification": category.needs_verification,
        "is_active": category.is_active,
        "rules": [
            {
                "division": r.division.code,
                "target": "grid" if r.to_grid else (r.department.code if r.department_id else ""),
                "window": f"{r.starts_at}-{r.ends_at}" if r.starts_at else "",
                "priority": r.priority,
                "is_active": r.is_active,
            }
            for r in category.rules.select_related("division", "department").order_by("id")
        ]
        if category.pk
        else [],
    }


def _relevel_descendants(category: IncidentCategory) -> None:
    frontier = [category]
    while frontier:
        children = list(IncidentCategory.objects.filter(parent__in=[c.pk for c in frontier]))
        for child in children:
            parent = next(c for c in frontier if c.pk == child.parent_id)
            if child.level != parent.level + 1:
                child.level = parent.level + 1
                child.save(update_fields=["level", "updated_at"])
        frontier = children


def category_save(
    *,
    actor: Principal | None,
    category: IncidentCategory | None,
    values: dict,
    rules: list[dict] | None = None,
) -> IncidentCategory:
    """Creates (category=None) or updates a category and, when `rules` is given, its responsibility rules:
    each {pk (existing rule) or None, division, department, to_grid, starts_at, ends_at, priority, is_active,
    delete}. One transaction, audited as incident.category_save."""
    if actor is not None:
        actor.require(INCIDENT_MANAGE)
    with transaction.atomic():
        if category is not None and category.pk:
            category = IncidentCategory.objects.select_for_update().get(pk=category.pk)
            before = _category_snapshot(category)
        else:
            category, before = IncidentCategory(), None
        cleaned = category_validate(category=category, values=values, rules=rules)
        old_level = category.level
        for name, value in cleaned.items():
            setattr(category, name, value)
        category.save()
        if category.level != old_level and before is not None:
            _relevel_descendants(category)
        if rules is not None:
            _rules_apply(category, rules)
        audit_record(
            actor=actor,
            action="incident.category_save",
            object_type="incident_category",
            object_id=category.code,
            before=before,
            after=_category_snapshot(category),
        )
        transaction.on_commit(routing_invalidate)
    return category


def _rules_apply(category: IncidentCategory, rules: list[dict]) -> None:
    existing = {r.pk: r for r in category.rules.all()}
    for rule in rules:
        pk = rule.get("pk")
        row = existing.get(pk) if pk else None
        if rule.get("delete"):
            if row is not None:
                row.delete()
            continue
        row = row or ResponsibilityRule(category=category)
        for name in RULE_FIELDS:
            if name in rule:
                setattr(row, name, rule[name])
        row.to_grid = bool(rule.get("to_grid"))
        row.priority = int(rule.get("priority") or 0)
        row.is_active = bool(rule.get("is_active", True))
        row.save()


# --- settings ----------------------------------------------------------------------------------------------
SCORE_FIELDS = ("dedup_suggest_score", "dedup_attach_score", "classify_threshold", "yellow_share")
SETTINGS_FIELDS = tuple(
    f.name for f in IncidentSettings._meta.concrete_fields if f.name not in ("id", "updated_at")
)


def settings_validate(values: dict) -> dict:
    """Range checks of the 一网统管 settings; ValidationError (field → Chinese messages)."""
    errors: dict[str, list[str]] = {}
    for name in SCORE_FIELDS:
        value = values.get(name)
        if value is None or not 0 <= float(value) <= 1:
            errors[name] = [_("取值应在 0 到 1 之间。")]
    suggest, attach = values.get("dedup_suggest_score"), values.get("dedup_attach_score")
    if "dedup_attach_score" not in errors and "dedup_suggest_score" not in errors:
        if float(attach) < float(suggest):
            errors["dedup_attach_score"] = [_("自动合并的相似度不能低于提示重复的相似度。")]
    radius = values.get("dedup_radius_m")
    if radius is None or not 1 <= int(radius) <= 5000:
        errors["dedup_radius_m"] = [_("重复判定半径应在 1 到 5000 米之间。")]
    for name, low, high in (
        ("dedup_hours", 1, 24 * 90),
        ("repeat_days", 1, 365),
        ("cluster_hours", 1, 24 * 30),
        ("reopen_days", 0, 365),
    ):
        value = values.get(name)
        if value is not None and not low <= int(value) <= high:
            errors[name] = [_("取值应在 %(low)s 到 %(high)s 之间。") % {"low": low, "high": high}]
    factor = values.get("surge_factor")
    if factor is not None and float(factor) < 1:
        errors["surge_factor"] = [_("激增倍数不能小于 1。")]
    if errors:
        raise ValidationError(errors)
    return values


def incident_settings_save(*, actor: Principal | None, values: dict) -> IncidentSettings:
    """Updates the one settings row (created when missing), audited; the cached copy is dropped at once."""
    if actor is not None:
        actor.require(INCIDENT_MANAGE)
    values = {name: values[name] for name in SETTINGS_FIELDS if name in values}
    with transaction.atomic():
        row = IncidentSettings.objects.select_for_update().order_by("pk").first()
        if row is None:
            row = IncidentSettings.objects.create()
        before = {name: getattr(row, name) for name in SETTINGS_FIELDS}
        settings_validate({**before, **values})
        for name, value in values.items():
            setattr(row, name, value)
        row.save()
        audit_record(
            actor=actor,
            action="incident.settings_save",
            object_type="incident_settings",
            object_id=str(row.pk),
            before=before,
            after={name: getattr(row, name) for name in SETTINGS_FIELDS},
        )
        transaction.on_commit(incident_settings_invalidate)
    incident_settings_invalidate()
    return row
