"""Evaluation: run a compiled contract with Soda and turn its check results into one outcome per rule, with up to
MAX_FAILED_ROWS failing records (record_key and raw value; the service masks the value before storing it).

`evaluate_resource` snapshots a resource (and the resources its reference/consistency rules point at) into an
in-memory DuckDB and evaluates there; `evaluate_table` evaluates a plain table on the platform's PostgreSQL (or
any DuckDB connection a caller holds, as the benchmark does). Soda computes pass/fail and the metrics; the failing
records are then read with each rule's failed-rows predicate (the same SQL the check used) on the same data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from .contracts import KEY_COLUMN, Contract, RulePlan, Target, compile_contract, rule_validator
from .sqlchecks import quote

log = logging.getLogger("yiwang.datahub.quality")
# Soda prints its result tables at INFO; the platform keeps its own records of every run.
for _name in ("soda", "soda_core"):
    logging.getLogger(_name).setLevel(logging.WARNING)
logging.getLogger("soda_core.plugins").setLevel(logging.ERROR)

MAX_FAILED_ROWS = 1000


@dataclass
class RuleOutcome:
    outcome: str  # passed | failed | error
    rows_tested: int = 0
    failed_count: int = 0
    failed_percent: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    failed_rows: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class Evaluation:
    contract: str
    rows: int
    outcomes: dict[int, RuleOutcome]  # rule id -> outcome
    error: str = ""


# The metric that counts a check's failing rows, by Soda check type.
_COUNT_KEY = {
    "missing": "missing",
    "invalid": "invalid",
    "duplicate": "duplicate",
    "failed_rows": "failed_rows",
}


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _metrics(values: dict | None) -> dict[str, Any]:
    out = {}
    for k, v in (values or {}).items():
        if isinstance(v, (int, float, str, bool)) or v is None:
            out[k] = v
        else:
            out[k] = str(v)
    return out


def _own_parser(source):
    """`source` with a YAML parser of its own. Soda's YamlSource keeps one ruamel parser for every source (a class
    attribute), and ruamel keeps its reader's state in the parser: two sessions parsing at once, as the side-by-side
    PostgreSQL sessions do, read each other's text (IndexError in ruamel's reader)."""
    from soda_core.common.yaml import YamlParser, YamlSource

    # tests/datahub/test_quality_postgres.py checks that the attribute is there
    if hasattr(YamlSource, "_YamlSource__yaml_parser"):
        source._YamlSource__yaml_parser = YamlParser()
    return source


def run_soda(
    contract: Contract, *, data_sources=None, data_source_yamls=None, now: datetime
) -> tuple[dict, str]:
    """Soda's check results by qualifier, and the verification's error text ("" when none)."""
    from soda_core.common.yaml import ContractYamlSource, DataSourceYamlSource
    from soda_core.contracts.contract_verification import ContractVerificationSession

    yamls = [_own_parser(DataSourceYamlSource.from_str(y)) for y in (data_source_yamls or [])]
    result = ContractVerificationSession.execute(
        contract_yaml_sources=[_own_parser(ContractYamlSource.from_str(contract.yaml_text))],
        data_source_impls=data_sources or None,
        data_source_yaml_sources=yamls or None,
        data_timestamp=now.isoformat(),
    )
    by_qualifier: dict[str, Any] = {}
    errors: list[str] = []
    for verification in result.contract_verification_results:
        for check_result in verification.check_results:
            by_qualifier[check_result.check.qualifier] = check_result
        if verification.has_errors:
            errors.append(verification.get_errors_str())
    return by_qualifier, "\n".join(e for e in errors if e)[:2000]


def outcome_of(plan: RulePlan, check_result) -> RuleOutcome:
    if plan.static_outcome:
        return RuleOutcome(outcome=plan.static_outcome, message=plan.message)
    if check_result is None:
        return RuleOutcome(outcome="error", message=_("数据质量引擎未能评估该规则。"))
    values = _metrics(check_result.diagnostic_metric_values)
    name = getattr(check_result.outcome, "value", str(check_result.outcome))
    outcome = {"PASSED": "passed", "FAILED": "failed", "WARN": "passed"}.get(name, "error")
    prefix = _COUNT_KEY.get(getattr(check_result.check, "type", ""), "")
    failed = int(_number(values.get(f"{prefix}_count")) or 0) if prefix else 0
    percent = _number(values.get(f"{prefix}_percent")) if prefix else None
    tested = values.get("check_rows_tested") or values.get("dataset_rows_tested") or 0
    if percent is None and failed and tested:
        percent = 100.0 * failed / float(tested)
    if check_result.threshold_value is not None:
        values["threshold_value"] = _number(check_result.threshold_value)
    message = ""
    if outcome == "error":
        message = _("数据质量引擎未能评估该规则（%(state)s）。") % {"state": name}
    return RuleOutcome(
        outcome=outcome,
        rows_tested=int(_number(tested) or 0),
        failed_count=failed,
        failed_percent=percent,
        metrics=values,
        message=message,
    )


def failed_rows_sql(plan: RulePlan, target: Target, limit: int = MAX_FAILED_ROWS) -> str | None:
    """The query giving (record_key, value) of up to `limit` failing rows of a rule, or None when the rule has no
    rows. No ORDER BY: the engine stops at the limit instead of scanning and sorting the whole table."""
    if plan.failing_query and plan.streams:
        return f"SELECT record_key, value FROM ({plan.failing_query}) f LIMIT {int(limit)}"
    if plan.failing_query:
        # Materialised first: with ORDER BY … LIMIT over the join, PostgreSQL's planner may pick a nested loop.
        return (
            f"WITH f AS MATERIALIZED ({plan.failing_query}) "
            f"SELECT record_key, value FROM f LIMIT {int(limit)}"
        )
    if not plan.failing_where:
        return None
    key = quote(target.key_column)
    value = quote(plan.column) if plan.column else "NULL"
    return (
        f"SELECT CAST({key} AS VARCHAR), {value} FROM {target.sql()} m "
        f"WHERE {plan.failing_where} LIMIT {int(limit)}"
    )


def evaluate_compiled(
    contract: Contract,
    target: Target,
    *,
    fetch: Callable[[str], list[tuple]],
    now: datetime,
    data_sources=None,
    data_source_yamls=None,
    rows: int = 0,
) -> Evaluation:
    results, error = run_soda(
        contract, data_sources=data_sources, data_source_yamls=data_source_yamls, now=now
    )
    outcomes: dict[int, RuleOutcome] = {}
    for q, plan in contract.plans.items():
        outcome = outcome_of(plan, results.get(q))
        if plan.rows_tested_is_table and rows and outcome.outcome != "error" and not outcome.rows_tested:
            outcome.rows_tested = rows
            if outcome.failed_percent is None:
                outcome.failed_percent = 100.0 * outcome.failed_count / rows
        if outcome.outcome == "failed":
            sql = failed_rows_sql(plan, target)
            if sql:
                try:
                    outcome.failed_rows = [(str(r[0] or ""), r[1]) for r in fetch(sql)]
                except Exception:  # noqa: BLE001 - sampling is best effort; the verdict stands
                    log.exception("failed-row sampling failed", extra={"rule": plan.rule_id})
        if outcome.outcome == "error" and not outcome.message and error:
            outcome.message = error[:500]
        outcomes[plan.rule_id] = outcome
    return Evaluation(contract=contract.yaml_text, rows=rows, outcomes=outcomes, error=error)


def evaluate_resource(resource, rules: list, *, now: datetime) -> Evaluation:
    """Snapshots `resource` (and the other resources its reference/consistency rules name) into DuckDB and
    evaluates `rules` there. SnapshotError when the data cannot be read."""
    from .snapshot import snapshot_resource
    from .sources import duckdb_connect, duckdb_source, duckdb_target

    con = duckdb_connect()
    try:
        table = "snapshot"
        snap = snapshot_resource(con, resource, table)
        target = duckdb_target(table)
        present = set(snap.columns)
        # The other resources' columns, each in its own small table.
        from .contracts import aux_table_name

        for rule in rules:
            other = getattr(rule, "_other_resource", None)
            if rule.kind not in ("reference", "consistency") or other is None:
                continue
            options = rule.options or {}
            if rule.kind == "reference":
                names = [str(options.get("column") or "")]
            else:
                names = [
                    str(options.get("other_key") or options.get("key") or ""),
                    str(options.get("column") or rule.column or ""),
                ]
            snapshot_resource(
                con, other, aux_table_name(rule), names=[n for n in dict.fromkeys(names) if n], main=False
            )
        contract = compile_contract(resource, rules, target, present_columns=present)
        from .contracts import UPDATED_COLUMN

        if resource.data_updated_at is None:
            for plan in contract.plans.values():
                if plan.kind == "freshness" and plan.column == UPDATED_COLUMN and not plan.static_outcome:
                    plan.static_outcome, plan.message = "failed", _("资源从未登记数据更新时间。")
        # A reference/consistency rule whose other resource could not be found is an error, not a crash.
        for rule in rules:
            if rule.kind in ("reference", "consistency") and getattr(rule, "_other_resource", None) is None:
                plan = contract.plans.get(f"r{rule.pk}")
                if plan is not None and not plan.static_outcome:
                    plan.static_outcome = "error"
                    plan.message = _("找不到被引用或比对的数据资源。")
        contract = _without_static(contract, resource, rules, target, present)

        def fetch(sql: str) -> list[tuple]:
            return con.execute(sql).fetchall()

        return evaluate_compiled(
            contract, target, fetch=fetch, now=now, data_sources=[duckdb_source(con)], rows=snap.rows
        )
    finally:
        con.close()


def _without_static(contract: Contract, resource, rules, target, present, **options) -> Contract:
    """Recompiles without the rules already decided (so a missing other resource does not break the contract)."""
    decided = {p.rule_id for p in contract.plans.values() if p.static_outcome}
    if not decided:
        return contract
    keep = [r for r in rules if r.pk not in decided]
    fresh = compile_contract(resource, keep, target, present_columns=present, **options)
    fresh.plans.update({q: p for q, p in contract.plans.items() if p.rule_id in decided})
    return fresh


# What a rule costs PostgreSQL per row, relative to the others (measured over 10 million rows, bench/quality.py):
# the staged check-character queries and a duplicate count (a sort of the column; a failing one is read again for
# its rows) dominate; a missing count or a code list is one more aggregate of a scan that is made anyway.
_POSTGRES_COST = {"gb11643": 12.0, "gb32100": 10.0, "duplicate": 6.0, "consistency": 3.0, "reference": 1.0}


def _postgres_cost(rule) -> float:
    if rule.kind == "invalid":
        return _POSTGRES_COST.get(rule_validator(rule), 0.5)
    return _POSTGRES_COST.get(rule.kind, 0.2)


def rule_groups(rules: list, sessions: int) -> list[list]:
    """`rules` in at most `sessions` groups of about equal cost (the costliest first, each to the lightest group),
    each in the rules' own order."""
    groups: list[list] = [[] for _ in range(max(1, min(sessions, len(rules))))]
    loads = [0.0] * len(groups)
    for rule in sorted(rules, key=_postgres_cost, reverse=True):
        lightest = loads.index(min(loads))
        groups[lightest].append(rule)
        loads[lightest] += _postgres_cost(rule)
    order = {id(rule): n for n, rule in enumerate(rules)}
    return [sorted(group, key=lambda r: order[id(r)]) for group in groups]


def _merged(evaluations: list[Evaluation], rows: int) -> Evaluation:
    outcomes: dict[int, RuleOutcome] = {}
    for evaluation in evaluations:
        outcomes.update(evaluation.outcomes)
    return Evaluation(
        contract="---\n".join(e.contract for e in evaluations),
        rows=rows,
        outcomes=outcomes,
        error="\n".join(e.error for e in evaluations if e.error)[:2000],
    )


def evaluate_table(
    resource, rules: list, target: Target, *, now: datetime, engine: str, con=None, params: dict | None = None
) -> Evaluation:
    """Evaluates `rules` on an existing table: on PostgreSQL (`params` from `sources.postgres_params`) or on a
    DuckDB connection `con`.

    On PostgreSQL the rules are split into YIWANG_QUALITY_POSTGRES_SESSIONS groups of about equal cost, each
    verified by its own Soda session on its own connection, side by side: PostgreSQL runs a query on one core and
    Soda runs a contract's queries one after another. The run's contract is then one YAML document per group."""
    from .sources import duckdb_source

    if engine == "duckdb":
        columns = {r[0] for r in con.execute(f"DESCRIBE {target.sql()}").fetchall()}
        contract = compile_contract(resource, rules, target, present_columns=columns)
        contract = _without_static(contract, resource, rules, target, columns)
        rows = con.execute(f"SELECT COUNT(*) FROM {target.sql()}").fetchone()[0]
        return evaluate_compiled(
            contract,
            target,
            fetch=lambda sql: con.execute(sql).fetchall(),
            now=now,
            data_sources=[duckdb_source(con)],
            rows=rows,
        )
    return _evaluate_postgres(resource, rules, target, now=now, params=params)


_TEXT_TYPES = ("text", "character varying", "character")


def _evaluate_postgres(resource, rules: list, target: Target, *, now: datetime, params: dict) -> Evaluation:
    from django.conf import settings
    from django.utils import translation

    from .sources import postgres_connection, postgres_source_yaml

    with postgres_connection(params) as pg:
        types = dict(
            pg.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = %s",
                [target.schema or "public", target.table],
            ).fetchall()
        )
        if not types:
            return Evaluation(
                contract="", rows=0, outcomes={}, error=_("数据表不存在：%(t)s") % {"t": target.table}
            )
        rows = pg.execute(f"SELECT COUNT(*) FROM {target.sql()}").fetchone()[0]
    columns = set(types)
    options = {"byte_order_columns": {c for c, t in types.items() if t in _TEXT_TYPES}}
    language = translation.get_language()

    def compiled(group: list) -> Contract:
        contract = compile_contract(resource, group, target, present_columns=columns, **options)
        return _without_static(contract, resource, group, target, columns, **options)

    def verify(contract: Contract) -> Evaluation:
        # Messages in the caller's language: a worker thread starts with none active.
        with translation.override(language), postgres_connection(params) as pg:
            return evaluate_compiled(
                contract,
                target,
                fetch=lambda sql: pg.execute(sql).fetchall(),
                now=now,
                data_source_yamls=[postgres_source_yaml(params)],
                rows=rows,
            )

    # Compiled here: a rule's code list is read through the ORM, whose connection is this thread's.
    contracts = [compiled(group) for group in rule_groups(rules, settings.YIWANG_QUALITY_POSTGRES_SESSIONS)]
    if len(contracts) == 1:
        return verify(contracts[0])
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(contracts), thread_name_prefix="quality-pg") as pool:
        return _merged(list(pool.map(verify, contracts)), rows)


__all__ = [
    "KEY_COLUMN",
    "Evaluation",
    "RuleOutcome",
    "evaluate_resource",
    "evaluate_table",
    "rule_groups",
    "MAX_FAILED_ROWS",
]
