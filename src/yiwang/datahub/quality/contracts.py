"""Rules → one Soda Core v4 data contract per resource (YAML), and per rule the SQL that picks its failing rows.

Each rule becomes one check whose `qualifier` is "r<rule id>", so results map back to rules. By kind:

| kind | Soda check | failing rows (sampled after the run) |
|---|---|---|
| schema | `schema` (the resource's fields; extra columns such as `record_key` allowed) | — |
| row_count | `row_count` between min and max | — |
| missing | column `missing` (percent threshold when `max_percent` is set) | value NULL |
| invalid: code list / `valid_values` | column `invalid` with `valid_values` | value not in the list |
| invalid: validator with a check character (GB 11643, GB 32100) | `failed_rows` `query`: the staged `sqlchecks.failing_query` | the same query |
| invalid: validator (GB/T 2260, phone) | `failed_rows` with the `sqlchecks` expression | the same expression |
| duplicate | column `duplicate` | value occurs more than once |
| reference | column `invalid` with `valid_reference_data` (the other resource's column, snapshotted beside) | value not in the other column |
| consistency | `failed_rows` `query`: join on the key, values differ (with `rows_tested_query` for percentages) | the same query |
| freshness | `freshness` on the row timestamp column or `_data_updated_at` (the resource's data_updated_at), in hours | — |

Irregular resources have no freshness window: their freshness rule passes without a check. The same YAML runs on
any Soda data source; only the `dataset` prefix (data source / database / schema) changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.utils.translation import gettext as _

from . import sqlchecks
from .cycles import window_hours
from .sqlchecks import quote

UPDATED_COLUMN = "_data_updated_at"
KEY_COLUMN = "record_key"
COLUMN_KINDS = ("missing", "invalid", "duplicate", "reference", "consistency")


_AMBIGUOUS = re.compile(r"^([-+]?[0-9_.:eE]+|0[xob][0-9a-fA-F_]+|true|false|yes|no|on|off|null|~|)$", re.I)


class _Dumper(yaml.SafeDumper):
    """Quotes every string a YAML 1.2 reader could take for something else: Soda reads "08" unquoted as 8."""


def _str(dumper, value: str):
    style = "'" if _AMBIGUOUS.match(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


@dataclass(frozen=True)
class Target:
    """Where the contract's dataset lives: `prefix` is the Soda dataset prefix ("duckdb/main",
    "pg/yiwang/public"), `schema` the SQL schema for hand-written queries ("" for DuckDB's default)."""

    prefix: str
    table: str
    schema: str = ""
    key_column: str = KEY_COLUMN

    def dataset(self, table: str | None = None) -> str:
        return f"{self.prefix}/{table or self.table}"

    def sql(self, table: str | None = None) -> str:
        name = quote(table or self.table)
        return f"{quote(self.schema)}.{name}" if self.schema else name


@dataclass
class RulePlan:
    rule_id: int
    qualifier: str
    kind: str
    column: str = ""
    failing_where: str = ""  # predicate over the main table: its failing rows
    failing_query: str = ""  # or a whole query giving (record_key, value) of failing rows
    streams: bool = False  # failing_query may be cut at a LIMIT as it is (no join to materialise first)
    rows_tested_is_table: bool = False  # Soda may not count the rows tested: they are the table's rows
    static_outcome: str = ""  # "passed" or "error": decided without Soda
    message: str = ""
    window_hours: float | None = None
    aux_table: str = ""  # reference/consistency: the other resource's snapshot (or table)
    aux_columns: tuple[str, ...] = ()


@dataclass
class Contract:
    yaml_text: str
    plans: dict[str, RulePlan] = field(default_factory=dict)  # qualifier -> plan


def qualifier(rule) -> str:
    return f"r{rule.pk}"


def aux_table_name(rule) -> str:
    return f"aux_r{rule.pk}"


def _literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _percent(options: dict, name: str = "max_percent") -> float:
    try:
        value = float((options or {}).get(name) or 0)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, min(100.0, value))


def _threshold(options: dict) -> dict | None:
    p = _percent(options)
    if p <= 0:
        return None
    return {"metric": "percent", "must_be_less_than_or_equal": p}


def _with_threshold(check: dict, options: dict) -> dict:
    threshold = _threshold(options)
    if threshold:
        check["threshold"] = threshold
    return check


def rule_validator(rule) -> str:
    """The validator an invalid rule applies ("" when it checks a code list or a value list)."""
    options = rule.options or {}
    if options.get("validator"):
        return sqlchecks.validator_name(options["validator"])
    element = rule.element
    if element is not None and element.validator:
        return sqlchecks.validator_name(element.validator)
    return ""


def rule_valid_values(rule) -> list[str] | None:
    """The allowed values of an invalid rule (its own list, else its element's code list), or None."""
    from ..validators import code_values

    options = rule.options or {}
    values = options.get("valid_values")
    if isinstance(values, list) and values:
        return [str(v) for v in values]
    element = rule.element
    if element is not None and element.code_list_id:
        return sorted(code_values(element.code_list))
    return None


def compile_contract(
    resource,
    rules: list,
    target: Target,
    *,
    present_columns: set[str] | None = None,
    byte_order_columns: set[str] | None = None,
) -> Contract:
    """The contract of `rules` over `target`. `present_columns`: the columns the data has (a rule on a column
    it lacks becomes an error result instead of breaking the whole contract); None: trust the rules.
    `byte_order_columns`: PostgreSQL's text columns, whose duplicates are counted in byte order
    (`sqlchecks.byte_order`)."""
    t = target.sql()
    key = quote(target.key_column)
    dialect = sqlchecks.dialect_of(target.prefix)
    columns: dict[str, list[dict]] = {}
    checks: list[dict] = []
    plans: dict[str, RulePlan] = {}
    declared = [f.name for f in resource.fields.all()] if hasattr(resource, "fields") else []

    def column_checks(name: str) -> list[dict]:
        return columns.setdefault(name, [])

    for rule in rules:
        q = qualifier(rule)
        options = rule.options if isinstance(rule.options, dict) else {}
        col = (rule.column or "").strip()
        plan = RulePlan(rule_id=rule.pk, qualifier=q, kind=rule.kind, column=col)
        plans[q] = plan
        base = {"name": rule.name[:100], "qualifier": q}
        if rule.kind in COLUMN_KINDS:
            if not col:
                plan.static_outcome, plan.message = "error", _("规则未指定字段。")
                continue
            if present_columns is not None and col not in present_columns:
                plan.static_outcome = "error"
                plan.message = _("数据中没有字段“%(column)s”。") % {"column": col}
                continue
        c = quote(col) if col else ""
        if rule.kind == "schema":
            checks.append({"schema": {**base, "allow_extra_columns": True}})
            for name in declared:
                columns.setdefault(name, [])
        elif rule.kind == "row_count":
            low = options.get("min", 1)
            high = options.get("max")
            threshold: dict[str, Any] = {}
            if high not in (None, ""):
                threshold["must_be_between"] = {
                    "greater_than_or_equal": int(low or 0),
                    "less_than_or_equal": int(high),
                }
            else:
                threshold["must_be_greater_than_or_equal"] = int(low or 0)
            checks.append({"row_count": {**base, "threshold": threshold}})
        elif rule.kind == "missing":
            column_checks(col).append({"missing": _with_threshold(dict(base), options)})
            plan.failing_where = f"{c} IS NULL"
        elif rule.kind == "duplicate":
            check = dict(base)
            value = c
            if col in (byte_order_columns or ()):
                value = check["column_expression"] = sqlchecks.byte_order(c)
            column_checks(col).append({"duplicate": _with_threshold(check, options)})
            # Every copy of a repeated value: its neighbour in one sort of the column is equal. One sort instead
            # of grouping the column and probing it again (10M rows on PostgreSQL: 6.0 s against 10.4 s).
            plan.failing_query = (
                f"SELECT record_key, value FROM (SELECT CAST({key} AS VARCHAR) AS record_key, {c} AS value,"
                f" lag({c}) OVER (ORDER BY {value}) AS previous, lead({c}) OVER (ORDER BY {value}) AS following"
                f" FROM {t} WHERE {c} IS NOT NULL) d WHERE value = previous OR value = following"
            )
            plan.streams = True
        elif rule.kind == "invalid":
            validator = rule_validator(rule)
            if validator:
                query = sqlchecks.failing_query(validator, t, key, c, dialect)
                if query:  # a check character: the staged query (one cast per row)
                    check = {**base, "query": query}
                    # a percentage needs the rows tested; otherwise the caller knows them (the table's rows)
                    if _threshold(options):
                        check["rows_tested_query"] = f"SELECT COUNT(*) FROM {t}"
                    plan.failing_query, plan.streams, plan.rows_tested_is_table = query, True, True
                else:
                    check = {**base, "expression": sqlchecks.failing(validator, c, dialect)}
                    plan.failing_where = check["expression"]
                checks.append({"failed_rows": _with_threshold(check, options)})
                continue
            values = rule_valid_values(rule)
            if not values:
                plan.static_outcome = "error"
                plan.message = _("无效值规则须指定数据元（代码表或校验规则）、校验规则或取值列表。")
                continue
            column_checks(col).append({"invalid": _with_threshold({**base, "valid_values": values}, options)})
            listed = ", ".join(_literal(v) for v in values)
            plan.failing_where = f"{c} IS NOT NULL AND CAST({c} AS VARCHAR) NOT IN ({listed})"
        elif rule.kind == "reference":
            other_column = str(options.get("column") or "").strip()
            aux = str(options.get("table") or "") or aux_table_name(rule)
            plan.aux_table, plan.aux_columns = aux, (other_column,)
            if not other_column:
                plan.static_outcome, plan.message = "error", _("引用规则须指定被引用资源的字段。")
                continue
            reference = {"dataset": target.dataset(aux), "column": other_column}
            column_checks(col).append(
                {"invalid": _with_threshold({**base, "valid_reference_data": reference}, options)}
            )
            a, oc = target.sql(aux), quote(other_column)
            plan.failing_where = (
                f"{c} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {a} x WHERE CAST(x.{oc} AS VARCHAR) = CAST(m.{c} AS VARCHAR))"
            )
        elif rule.kind == "consistency":
            key_name = str(options.get("key") or "").strip()
            other_key = str(options.get("other_key") or key_name).strip()
            other_column = str(options.get("column") or col).strip()
            aux = str(options.get("table") or "") or aux_table_name(rule)
            plan.aux_table, plan.aux_columns = aux, (other_key, other_column)
            if not key_name:
                plan.static_outcome, plan.message = "error", _("跨源一致规则须指定关联键字段。")
                continue
            a = target.sql(aux)

            def norm(expr: str) -> str:
                return f"upper(trim(CAST({expr} AS VARCHAR)))"

            query = (
                f"SELECT m.{key} AS record_key, m.{c} AS value FROM {t} m JOIN {a} o "
                f"ON {norm('m.' + quote(key_name))} = {norm('o.' + quote(other_key))} "
                f"WHERE {norm('m.' + c)} IS DISTINCT FROM {norm('o.' + quote(other_column))}"
            )
            check = {**base, "query": query, "rows_tested_query": f"SELECT COUNT(*) FROM {t}"}
            checks.append({"failed_rows": _with_threshold(check, options)})
            plan.failing_query = query
        elif rule.kind == "freshness":
            window = options.get("max_age_hours")
            try:
                window = float(window) if window not in (None, "") else window_hours(resource.update_cycle)
            except (TypeError, ValueError):
                window = window_hours(resource.update_cycle)
            plan.window_hours = window
            if window is None:
                plan.static_outcome = "passed"
                plan.message = _("不定期更新的资源不判断及时性。")
                continue
            column = col or str(options.get("column") or "").strip() or UPDATED_COLUMN
            if present_columns is not None and column not in present_columns:
                plan.static_outcome = "error"
                plan.message = _("数据中没有时间字段“%(column)s”。") % {"column": column}
                continue
            plan.column = column
            threshold = {"unit": "hour", "must_be_less_than_or_equal": window}
            checks.append({"freshness": {**base, "column": column, "threshold": threshold}})
        else:
            plan.static_outcome, plan.message = "error", _("未知的规则类型。")

    document: dict[str, Any] = {"dataset": target.dataset()}
    document["columns"] = [
        {"name": name, **({"checks": items} if items else {})} for name, items in columns.items()
    ] or [{"name": target.key_column}]
    if checks:
        document["checks"] = checks
    text = yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
    return Contract(yaml_text=text, plans=plans)
