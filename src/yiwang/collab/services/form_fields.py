"""填表报数 form fields and the platform rule language: the symbols a field's rule may name, its compiled rule
set and the fact a value gives (shared by the register's checks and by filling)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import rule_engine
from django.utils import timezone

from ..models import ReportField

Kind = ReportField.Kind
NUMERIC = (Kind.INTEGER, Kind.DECIMAL)


# --- fields ---------------------------------------------------------------------------------------------------
def _rule_type(kind: str):
    if kind in NUMERIC:
        return rule_engine.DataType.FLOAT
    if kind == Kind.BOOLEAN:
        return rule_engine.DataType.BOOLEAN
    if kind == Kind.DATE:
        return rule_engine.DataType.DATETIME
    return rule_engine.DataType.STRING


def field_rule_symbols(fields, *, per_row: bool = False) -> dict[str, Any]:
    """The symbols a field rule may use: the names of the form's summary fields (or of its per-row fields)."""
    out = {}
    for f in fields:
        f_per_row = f.get("per_row", False) if isinstance(f, dict) else f.per_row
        if bool(f_per_row) == per_row:
            name = f["name"] if isinstance(f, dict) else f.name
            kind = f["kind"] if isinstance(f, dict) else f.kind
            out[name] = _rule_type(kind)
    return out


def field_ruleset(field) -> list[dict]:
    """A field's rule as a `catalog.rules` rule list (empty when it has none)."""
    get = field.get if isinstance(field, dict) else lambda k, d="": getattr(field, k, d)
    expr = (get("rule", "") or "").strip()
    if not expr:
        return []
    name = (str(get("label", "")) or str(get("name", "")))[:60]
    return [{"code": "rule", "name": name, "expr": expr, "message": get("rule_message", "") or ""}]


def field_fact(field, value):
    """A value as the rule engine's typed fact (None when empty or unreadable)."""
    kind = field["kind"] if isinstance(field, dict) else field.kind
    if value is None or value == "":
        return None
    try:
        if kind in NUMERIC:
            return float(value)
        if kind == Kind.BOOLEAN:
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "是")
        if kind == Kind.DATE:
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
            return datetime(day.year, day.month, day.day, tzinfo=timezone.get_default_timezone())
    except (TypeError, ValueError):
        return None
    return str(value)
