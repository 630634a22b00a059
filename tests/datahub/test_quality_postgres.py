"""数据质量 on a PostgreSQL table: the rules split into side-by-side Soda sessions (one connection each), duplicates
counted in byte order, and the engine's session settings. The verdicts and failing rows must be the ones DuckDB
gives for the same rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import yaml
from django.db import connection
from django.utils import translation

from yiwang.datahub.quality.contracts import Target, compile_contract
from yiwang.datahub.quality.evaluate import evaluate_table, rule_groups
from yiwang.datahub.quality.sources import (
    SESSION_OPTIONS,
    duckdb_connect,
    duckdb_target,
    postgres_connection,
    postgres_params,
    postgres_source_yaml,
    postgres_target,
)

NOW = datetime(2026, 12, 6, tzinfo=UTC)
COLUMNS = ("record_key", "id_number", "gender", "name", "division_code")
# Two ID numbers held twice (the second copies are the duplicates), one bad check character, a gender 3, a name
# missing and one that the other source spells differently, a division code no division has.
ROWS = [
    ("K1", "11010519491231002X", "1", "张三", "440103001001"),
    ("K2", "11010519491231002X", "2", "李四", "440103001001"),
    ("K3", "110105194912310021", "1", "王五", "440103001002"),
    ("K4", "440103199001010014", "3", None, "440103001002"),
    ("K5", "440103199001010014", "1", "赵六", "990000000000"),
    ("K6", "440103199001010030", "2", "钱七", "440103001001"),
]
OTHER = [("11010519491231002X", "张三"), ("440103199001010030", "钱八")]
DIVISIONS = [("440103001001",), ("440103001002",)]


def _rule(pk, kind, field="", **options):
    return SimpleNamespace(
        pk=pk, kind=kind, column=field, options=options, element=None, name=f"r{pk} {kind}", weight=1
    )


def _rules(other: str, divisions: str) -> list:
    return [
        _rule(1, "row_count", min=1),
        _rule(2, "missing", "name"),
        _rule(3, "invalid", "id_number", validator="gb11643"),
        _rule(4, "invalid", "gender", valid_values=["0", "1", "2", "9"]),
        _rule(5, "duplicate", "id_number"),
        _rule(6, "duplicate", "record_key"),
        _rule(7, "reference", "division_code", table=divisions, column="code"),
        _rule(8, "consistency", "name", table=other, column="name", key="id_number", other_key="id_number"),
        _rule(9, "missing", "absent"),
    ]


RESOURCE = SimpleNamespace(
    update_cycle="irregular",
    fields=SimpleNamespace(all=lambda: [SimpleNamespace(name=c) for c in COLUMNS]),
    data_updated_at=None,
)


def _verdicts(evaluation) -> dict[int, tuple]:
    return {
        pk: (o.outcome, o.failed_count, sorted(key for key, _value in o.failed_rows))
        for pk, o in evaluation.outcomes.items()
    }


def test_rules_are_split_by_cost_and_each_group_keeps_their_order():
    rules = [
        _rule(1, "missing", "name"),
        _rule(2, "invalid", "id_number", validator="gb11643"),
        _rule(3, "duplicate", "id_number"),
        _rule(4, "invalid", "uscc", validator="gb32100"),
        _rule(5, "invalid", "gender", valid_values=["1", "2"]),
        _rule(6, "consistency", "name"),
    ]
    first, second = rule_groups(rules, 2)
    assert sorted(r.pk for r in first + second) == [1, 2, 3, 4, 5, 6]
    # the two check-character validators, the costliest, are verified side by side
    assert {2, 4} & {r.pk for r in first} and {2, 4} & {r.pk for r in second}
    assert [r.pk for r in first] == sorted(r.pk for r in first)
    assert [r.pk for r in second] == sorted(r.pk for r in second)
    assert rule_groups(rules, 1) == [rules]
    assert [len(g) for g in rule_groups(rules[:2], 8)] == [1, 1]  # never an empty session
    assert rule_groups([], 2) == [[]]


def test_postgresql_counts_duplicates_of_text_columns_in_byte_order():
    target = Target(prefix="pg/yiwang/public", table="t", schema="public")
    rule = _rule(5, "duplicate", "id_number")
    plain = compile_contract(RESOURCE, [rule], target, present_columns=set(COLUMNS))
    assert "COLLATE" not in plain.yaml_text and "COLLATE" not in plain.plans["r5"].failing_query
    contract = compile_contract(
        RESOURCE, [rule], target, present_columns=set(COLUMNS), byte_order_columns={"id_number"}
    )
    column = next(c for c in yaml.safe_load(contract.yaml_text)["columns"] if c["name"] == "id_number")
    assert column["checks"][0]["duplicate"]["column_expression"] == '"id_number" COLLATE "C"'
    assert contract.plans["r5"].failing_query.count('OVER (ORDER BY "id_number" COLLATE "C")') == 2


def test_each_soda_source_parses_with_a_parser_of_its_own():
    from soda_core.common.yaml import ContractYamlSource, YamlSource

    from yiwang.datahub.quality.evaluate import _own_parser

    assert hasattr(YamlSource, "_YamlSource__yaml_parser")  # where Soda keeps the parser it shares
    first, second = (_own_parser(ContractYamlSource.from_str("dataset: a/b\n")) for _ in range(2))
    assert first._YamlSource__yaml_parser is not second._YamlSource__yaml_parser
    assert first.parse().yaml_dict == {"dataset": "a/b"}


def test_sources_parsed_at_once_in_many_threads_each_read_their_own_text():
    from concurrent.futures import ThreadPoolExecutor

    from soda_core.common.yaml import ContractYamlSource

    from yiwang.datahub.quality.evaluate import _own_parser

    def parse(n: int) -> str:
        text = f"dataset: pg/db/public/t{n}\ncolumns:\n" + "".join(f"  - name: c{n}_{k}\n" for k in range(40))
        return _own_parser(ContractYamlSource.from_str(text)).parse().yaml_dict["dataset"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(parse, range(200))) == [f"pg/db/public/t{n}" for n in range(200)]


def test_the_engine_sessions_hash_their_joins():
    assert "enable_mergejoin=off" in SESSION_OPTIONS
    params = {"host": "127.0.0.1", "port": 5432, "database": "d", "user": "u", "password": ""}
    assert yaml.safe_load(postgres_source_yaml(params))["connection"]["options"] == SESSION_OPTIONS
    if connection.vendor != "postgresql":
        pytest.skip("needs the platform database to be PostgreSQL")
    with postgres_connection(postgres_params()) as pg:
        assert pg.execute("SHOW enable_mergejoin").fetchone()[0] == "off"
        assert pg.execute("SHOW work_mem").fetchone()[0] == "16MB"


@pytest.fixture
def pg_tables():
    """The rows as committed tables of the test database (Soda reads them on its own connections)."""
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL engine needs the platform database to be PostgreSQL")
    suffix = uuid.uuid4().hex[:8]
    names = SimpleNamespace(
        main=f"qpg_main_{suffix}", other=f"qpg_other_{suffix}", divisions=f"qpg_div_{suffix}"
    )
    params = postgres_params()
    with postgres_connection(params) as pg:
        pg.execute(f"CREATE TABLE {names.main} ({', '.join(c + ' text' for c in COLUMNS)})")
        pg.cursor().executemany(f"INSERT INTO {names.main} VALUES (%s, %s, %s, %s, %s)", ROWS)
        pg.execute(f"CREATE TABLE {names.other} (id_number text, name text)")
        pg.cursor().executemany(f"INSERT INTO {names.other} VALUES (%s, %s)", OTHER)
        pg.execute(f"CREATE TABLE {names.divisions} (code varchar(12))")
        pg.cursor().executemany(f"INSERT INTO {names.divisions} VALUES (%s)", DIVISIONS)
    try:
        yield names, params
    finally:
        with postgres_connection(params) as pg:
            for name in vars(names).values():
                pg.execute(f"DROP TABLE IF EXISTS {name}")


def _duckdb_verdicts(names) -> dict[int, tuple]:
    con = duckdb_connect()
    try:
        con.execute(f"CREATE TABLE {names.main} ({', '.join(c + ' VARCHAR' for c in COLUMNS)})")
        con.executemany(f"INSERT INTO {names.main} VALUES (?, ?, ?, ?, ?)", ROWS)
        con.execute(f"CREATE TABLE {names.other} (id_number VARCHAR, name VARCHAR)")
        con.executemany(f"INSERT INTO {names.other} VALUES (?, ?)", OTHER)
        con.execute(f"CREATE TABLE {names.divisions} (code VARCHAR)")
        con.executemany(f"INSERT INTO {names.divisions} VALUES (?)", DIVISIONS)
        rules = _rules(names.other, names.divisions)
        evaluation = evaluate_table(
            RESOURCE, rules, duckdb_target(names.main), now=NOW, engine="duckdb", con=con
        )
        return _verdicts(evaluation)
    finally:
        con.close()


@pytest.mark.django_db
@pytest.mark.parametrize("sessions", [1, 2, 3])
def test_side_by_side_sessions_give_duckdbs_verdicts_and_rows(pg_tables, settings, sessions):
    names, params = pg_tables
    settings.YIWANG_QUALITY_POSTGRES_SESSIONS = sessions
    target = postgres_target(names.main, database=params["database"])
    evaluation = evaluate_table(
        RESOURCE, _rules(names.other, names.divisions), target, now=NOW, engine="postgres", params=params
    )
    verdicts = _verdicts(evaluation)
    assert verdicts == _duckdb_verdicts(names)
    assert verdicts[3] == ("failed", 1, ["K3"])  # the bad check character
    assert verdicts[5] == ("failed", 2, ["K1", "K2", "K4", "K5"])  # two extra copies; every holder sampled
    assert verdicts[6][:2] == ("passed", 0)
    assert verdicts[7] == ("failed", 1, ["K5"])
    assert verdicts[8] == ("failed", 2, ["K2", "K6"])  # K2 shares K1's ID number, the other source has 张三
    assert verdicts[9][0] == "error"
    assert evaluation.rows == len(ROWS) and not evaluation.error
    documents = list(yaml.safe_load_all(evaluation.contract))
    assert len(documents) == sessions  # one contract per session, each over the same dataset
    assert {d["dataset"] for d in documents} == {target.dataset()}


@pytest.mark.django_db
def test_messages_of_side_by_side_sessions_are_in_the_callers_language(pg_tables, settings):
    names, params = pg_tables
    settings.YIWANG_QUALITY_POSTGRES_SESSIONS = 2
    target = postgres_target(names.main, database=params["database"])
    rules = [_rule(1, "missing", "absent"), _rule(2, "invalid", "gender")]
    with translation.override("en"):
        evaluation = evaluate_table(RESOURCE, rules, target, now=NOW, engine="postgres", params=params)
    assert evaluation.outcomes[1].message == "The data has no field “absent”."
    assert evaluation.outcomes[2].outcome == "error"
    assert evaluation.outcomes[2].message.startswith("An invalid-value rule needs a data element")
    missing = postgres_target("no_such_table", database=params["database"])
    with translation.override("en"):
        gone = evaluate_table(RESOURCE, rules, missing, now=NOW, engine="postgres", params=params)
    assert (gone.outcomes, gone.error) == ({}, "No such table: no_such_table")
