"""填表报数's aggregation, pure over the stats it keeps (sum, count, min, max, choice counts per field): a unit's
contribution, adding and subtracting contributions up the tree, and the figure a field shows. The writes that
call it are in `services.reports`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from ..models import FormAssignment, ReportField

K = ReportField.Kind
A = ReportField.Aggregate


def num(value: Decimal) -> str:
    """Canonical text of a decimal: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


# --- aggregation -------------------------------------------------------------------------------------------------
def _fold(stats: dict, value, field: ReportField) -> None:
    stats["n"] = stats.get("n", 0) + 1
    if field.kind in (K.INTEGER, K.DECIMAL, K.BOOLEAN):
        number = Decimal(int(value)) if isinstance(value, bool) else Decimal(str(value))
        stats["sum"] = num(Decimal(stats.get("sum", "0")) + number)
        text = num(number)
        if stats.get("min") is None or number < Decimal(stats["min"]):
            stats["min"] = text
        if stats.get("max") is None or number > Decimal(stats["max"]):
            stats["max"] = text
    elif field.kind == K.CHOICE:
        by = stats.setdefault("by", {})
        by[str(value)] = by.get(str(value), 0) + 1


def contribution(fields: Sequence[ReportField], values: Mapping, rows: Iterable[Mapping] = ()) -> dict:
    """What one approved filling unit adds to each ancestor: per field {n, sum, min, max} (numbers) or {n, by}
    (choices) or {n}; per-row fields folded over the detail rows; "_units": 1."""
    out: dict = {"_units": 1}
    unit_fields = [f for f in fields if not f.per_row and f.aggregate != A.NONE]
    row_fields = [f for f in fields if f.per_row and f.aggregate != A.NONE]
    for f in unit_fields:
        value = values.get(f.name)
        if value is not None:
            _fold(out.setdefault(f.name, {}), value, f)
    for row in rows:
        for f in row_fields:
            value = row.get(f.name)
            if value is not None:
                _fold(out.setdefault(f.name, {}), value, f)
    return out


def _add_stats(into: dict, part: dict) -> None:
    into["n"] = into.get("n", 0) + part.get("n", 0)
    if "sum" in part:
        into["sum"] = num(Decimal(into.get("sum", "0")) + Decimal(part["sum"]))
        for key, better in (("min", min), ("max", max)):
            if part.get(key) is not None:
                current = into.get(key)
                into[key] = (
                    part[key] if current is None else num(better(Decimal(current), Decimal(part[key])))
                )
    if "by" in part:
        by = into.setdefault("by", {})
        for k, n in part["by"].items():
            by[k] = by.get(k, 0) + n


def aggregate_add(into: dict, part: dict) -> dict:
    """into + part (both aggregates); returns a new dict."""
    result = {
        k: (
            dict(v, by=dict(v["by"]))
            if isinstance(v, dict) and "by" in v
            else (dict(v) if isinstance(v, dict) else v)
        )
        for k, v in into.items()
    }
    for key, value in part.items():
        if key == "_units":
            result["_units"] = result.get("_units", 0) + value
        else:
            _add_stats(result.setdefault(key, {}), value)
    return result


def aggregate_combine(parts: Iterable[dict]) -> dict:
    result: dict = {}
    for part in parts:
        if part:
            result = aggregate_add(result, part)
    return result


def _subtract(into: dict, part: dict) -> tuple[dict, set[str]]:
    """into − part; the fields whose min or max was part's and must be recomputed from the children."""
    result = aggregate_add(into, {})
    stale: set[str] = set()
    for key, value in part.items():
        if key == "_units":
            result["_units"] = result.get("_units", 0) - value
            if result["_units"] <= 0:
                result.pop("_units")
            continue
        stats = result.get(key)
        if stats is None:
            continue
        stats["n"] = stats.get("n", 0) - value.get("n", 0)
        if stats["n"] <= 0:
            result.pop(key)
            continue
        if "sum" in value:
            stats["sum"] = num(Decimal(stats.get("sum", "0")) - Decimal(value["sum"]))
            if value.get("min") == stats.get("min") or value.get("max") == stats.get("max"):
                stale.add(key)
        if "by" in value:
            by = stats.get("by", {})
            for k, n in value["by"].items():
                left = by.get(k, 0) - n
                if left > 0:
                    by[k] = left
                else:
                    by.pop(k, None)
    return result, stale


def _recompute_extremes(assignment: FormAssignment, stale: set[str]) -> None:
    children = [
        c for c in FormAssignment.objects.filter(parent=assignment).values_list("aggregate", flat=True) if c
    ]
    for key in stale:
        stats = assignment.aggregate.get(key)
        if stats is None:
            continue
        lows = [Decimal(c[key]["min"]) for c in children if c.get(key, {}).get("min") is not None]
        highs = [Decimal(c[key]["max"]) for c in children if c.get(key, {}).get("max") is not None]
        stats["min"] = num(min(lows)) if lows else None
        stats["max"] = num(max(highs)) if highs else None


def field_result(field: ReportField, stats: dict | None):
    """The figure a field's aggregate method gives from its stats (None when nothing was reported)."""
    if not stats:
        return None
    method = field.aggregate
    if method == A.COUNT:
        return stats.get("n", 0)
    if method == A.NONE:
        return None
    if "sum" not in stats:
        return stats.get("by") or stats.get("n", 0)
    if method == A.SUM:
        return stats["sum"]
    if method == A.AVG:
        return num((Decimal(stats["sum"]) / Decimal(stats["n"])).quantize(Decimal("0.01")))
    if method == A.MIN:
        return stats.get("min")
    if method == A.MAX:
        return stats.get("max")
    return None
