"""秒批 (instant approval) rule sets: one per item code, add-only versions, at most one active.

Services (`instant_ruleset_save`, `instant_ruleset_deactivate`) validate, authorise and audit every change; the
selectors (`instant_ruleset_active`, `instant_ruleset_history`, `instant_rules_item`, `instant_rules_facts`) are
what the case services, the admin and the API read. A rule set is checked against the facts of the item's
published version (else its latest version): an unknown field, a type mismatch, a syntax error or an expression
that is not a yes/no question is refused when the administrator saves, with a message naming the rule.

A change never touches a case already decided: each case keeps an InstantDecision pointing at the exact version
that judged it (the row is never edited; PROTECT keeps it from being deleted).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core import crypto
from yiwang.core.audit import audit_record
from yiwang.core.permissions import CATALOG_MANAGE
from yiwang.core.principal import Principal

from .models import InstantRuleSet, ServiceItem
from .rules import item_symbols, ruleset_validate, symbol_labels
from .services import item_may_manage

NOTE_MAX = 200
HISTORY_LIMIT = 50
RULE_KEYS = ("code", "name", "expr", "message")
_TYPE_NAMES = {
    "FLOAT": gettext_lazy("数字"),
    "STRING": gettext_lazy("文本"),
    "BOOLEAN": gettext_lazy("是/否"),
    "DATETIME": gettext_lazy("日期"),
}


# --- selectors -------------------------------------------------------------------------------------------------
def _code(item_code: str) -> str:
    return (item_code or "").strip().upper()


def instant_ruleset_active(item_code: str) -> InstantRuleSet | None:
    """The active rule set of an item code (one indexed query; None when the item has no 秒批)."""
    code = _code(item_code)
    if not code:
        return None
    return InstantRuleSet.objects.filter(item_code=code, is_active=True).first()


def instant_ruleset_history(item_code: str, *, limit: int = HISTORY_LIMIT) -> list[InstantRuleSet]:
    """Every version of an item's rule sets, newest first (bounded)."""
    return list(
        InstantRuleSet.objects.filter(item_code=_code(item_code))
        .select_related("created_by")
        .order_by("-version")[:limit]
    )


def instant_rules_item(item_code: str) -> ServiceItem | None:
    """The item version rules are written against: the published one, else the newest version of the code."""
    code = _code(item_code)
    if not code:
        return None
    versions = ServiceItem.objects.select_related("department").filter(code=code)
    return (
        versions.filter(status=ServiceItem.Status.PUBLISHED).first() or versions.order_by("-version").first()
    )


def instant_rules_facts(item: ServiceItem | None) -> list[dict[str, str]]:
    """The facts a rule of this item may use, with their Chinese labels and types (the admin's help list)."""
    if item is None:
        return []
    symbols = item_symbols(item)
    labels = dict(symbol_labels(symbols))
    form_labels = ((item.form_schema or {}).get("layout") or {}).get("fields") or {}
    rows = []
    for symbol in sorted(symbols):
        label = labels.get(symbol, "")
        if symbol.startswith("form_"):
            field = form_labels.get(symbol[len("form_") :]) or {}
            label = _("申请表：%(label)s") % {"label": field.get("label") or symbol[len("form_") :]}
        type_name = getattr(symbols[symbol], "name", "")
        rows.append(
            {"symbol": symbol, "label": label, "type": str(_TYPE_NAMES.get(type_name) or _("文本列表"))}
        )
    return rows


# --- validation ------------------------------------------------------------------------------------------------
def _parse_rules(rules: Any) -> Any:
    if isinstance(rules, str):
        try:
            return json.loads(rules)
        except (ValueError, RecursionError):
            raise ValidationError({"rules": _("规则须为 JSON 列表。")}, code="invalid") from None
    return rules


def instant_ruleset_check(*, item_code: str, rules: Any, note: str = "") -> tuple[ServiceItem, list[dict]]:
    """Validates a declaration without saving: (item, normalised rules) or ValidationError with every problem,
    by field ("item_code", "rules", "note"). The admin form and the API show these messages as they are."""
    errors: dict[str, list[str]] = {}
    code = _code(item_code)
    item = instant_rules_item(code) if code else None
    if not code:
        errors["item_code"] = [_("请填写事项编码。")]
    elif item is None:
        errors["item_code"] = [_("没有编码为“%(code)s”的政务服务事项。") % {"code": code}]
    if len(note or "") > NOTE_MAX:
        errors["note"] = [_("修改说明最多 %(n)d 个字。") % {"n": NOTE_MAX}]
    cleaned: list[dict] = []
    if item is not None:
        try:
            parsed = ruleset_validate(_parse_rules(rules), symbols=item_symbols(item))
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            cleaned = [{key: getattr(rule, key) for key in RULE_KEYS} for rule in parsed]
    if errors:
        raise ValidationError(errors)
    return item, cleaned


def instant_rules_digest(rules) -> str:
    return crypto.sm3_hex(json.dumps(rules, sort_keys=True, ensure_ascii=False).encode())


def _authorise(actor: Principal | None, item: ServiceItem) -> None:
    if actor is None:
        return  # the platform itself (demo loader, data migrations)
    actor.require(CATALOG_MANAGE)
    if not item_may_manage(actor, item.department):
        raise PermissionDenied(
            _("只能维护本部门事项的秒批规则：“%(department)s”不是您所在的部门。")
            % {"department": item.department.name}
        )


def _audit_id(ruleset: InstantRuleSet) -> str:
    return f"{ruleset.item_code}/v{ruleset.version}"


def _snapshot(ruleset: InstantRuleSet | None) -> dict | None:
    if ruleset is None:
        return None
    return {
        "item_code": ruleset.item_code,
        "version": ruleset.version,
        "active": ruleset.is_active,
        "rules": [r.get("code") for r in ruleset.rules if isinstance(r, Mapping)],
        "rules_sm3": instant_rules_digest(ruleset.rules),
    }


# --- services --------------------------------------------------------------------------------------------------
def instant_ruleset_save(
    *, actor: Principal | None, item_code: str, rules: Any, note: str = ""
) -> InstantRuleSet:
    """Declares an item's 秒批 rules as a NEW version (max + 1) and deactivates the previously active one.

    Saving rules identical to the active version changes nothing and returns it (no empty versions)."""
    item, cleaned = instant_ruleset_check(item_code=item_code, rules=rules, note=note)
    _authorise(actor, item)
    note = (note or "").strip()
    with transaction.atomic():
        # Two administrators saving one item's rules serialise on the item's versions (rows that always exist).
        list(ServiceItem.objects.select_for_update().filter(code=item.code).values_list("pk", flat=True))
        active = InstantRuleSet.objects.filter(item_code=item.code, is_active=True).first()
        if active is not None and active.rules == cleaned:
            return active
        number = (
            InstantRuleSet.objects.filter(item_code=item.code).aggregate(m=Max("version"))["m"] or 0
        ) + 1
        if active is not None:
            # One active per item (a partial unique constraint): the old one steps down first.
            active.is_active = False
            active.save(update_fields=["is_active"])
        ruleset = InstantRuleSet.objects.create(
            item_code=item.code,
            version=number,
            rules=cleaned,
            is_active=True,
            note=note,
            created_by=actor.account if actor is not None else None,
        )
        audit_record(
            actor=actor,
            action="instant_rules.save",
            object_type="instant_ruleset",
            object_id=_audit_id(ruleset),
            before=_snapshot(active),
            after={**_snapshot(ruleset), "item_version": item.version, "note": note},
        )
    return ruleset


def instant_ruleset_deactivate(*, actor: Principal | None, item_code: str, note: str = "") -> InstantRuleSet:
    """Switches an item's 秒批 off: new cases go to manual handling; decided cases keep their decisions."""
    code = _code(item_code)
    item = instant_rules_item(code)
    if item is None:
        raise ValidationError({"item_code": _("没有编码为“%(code)s”的政务服务事项。") % {"code": code}})
    if len(note or "") > NOTE_MAX:
        raise ValidationError({"note": _("修改说明最多 %(n)d 个字。") % {"n": NOTE_MAX}})
    _authorise(actor, item)
    with transaction.atomic():
        list(ServiceItem.objects.select_for_update().filter(code=code).values_list("pk", flat=True))
        active = InstantRuleSet.objects.filter(item_code=code, is_active=True).first()
        if active is None:
            raise ValidationError(
                {"item_code": _("事项“%(code)s”没有启用中的秒批规则。") % {"code": code}}, code="inactive"
            )
        before = _snapshot(active)
        active.is_active = False
        active.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="instant_rules.deactivate",
            object_type="instant_ruleset",
            object_id=_audit_id(active),
            before=before,
            after=_snapshot(active),
            purpose=(note or "").strip(),
        )
    return active
