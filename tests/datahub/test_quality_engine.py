"""The quality engine's pure parts: the identifier checks as SQL (the same text on DuckDB and, when the suite runs
there, PostgreSQL — both agree with the platform's Python validators), the compiled Soda contract, the score
formulas."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import duckdb
import pytest
import yaml
from django.core.exceptions import ValidationError
from django.db import connection

from yiwang.core.validators import (
    make_id_number,
    make_uscc,
    validate_id_number,
    validate_phone,
    validate_uscc,
)
from yiwang.datahub.quality import cycles
from yiwang.datahub.quality.contracts import Target, compile_contract
from yiwang.datahub.quality.sqlchecks import failing, quote, validator_name


def _ok(check, value: str) -> bool:
    try:
        check(value)
    except ValidationError:
        return False
    return True


def _samples() -> dict[str, tuple[list[str], object]]:
    rng = random.Random(15)
    ids, usccs, phones = [], [], []
    for n in range(600):
        v = make_id_number(
            "440106", date(1900 + rng.randrange(120), 1 + rng.randrange(12), 1 + rng.randrange(28)), n
        )
        if rng.random() < 0.3:
            p = rng.randrange(18)
            v = v[:p] + rng.choice("0123456789X") + v[p + 1 :]
        ids.append(v[: rng.choice([18, 18, 18, 17])])
        u = make_uscc(rng.choice("912"), rng.choice("1239"), "440106", f"{rng.randrange(10**8):08d}")
        if rng.random() < 0.3:
            p = rng.randrange(18)
            u = u[:p] + rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXYIOZ") + u[p + 1 :]
        usccs.append(u)
        prefix = rng.choice(["13", "19", "12", "010-", "0755", "020-", "0", "1"])
        phones.append(prefix + "".join(rng.choice("0123456789") for _ in range(rng.randrange(6, 11))))
    ids += ["11010519491231002X", "ABCDEFGHIJKLMNOPQR", "110105194913310021"]
    return {
        "gb11643": (ids, validate_id_number),
        "gb32100": (usccs, validate_uscc),
        "phone": (phones, validate_phone),
    }


@pytest.mark.parametrize("validator", ["gb11643", "gb32100", "phone"])
def test_sql_checks_agree_with_the_python_validators_on_duckdb(validator):
    values, check = _samples()[validator]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    bad = {r[0] for r in con.execute(f"SELECT v FROM t WHERE {failing(validator, quote('v'))}").fetchall()}
    assert bad == {v for v in values if not _ok(check, v)}
    assert bad and len(bad) < len(values)


@pytest.mark.django_db
@pytest.mark.parametrize("validator", ["gb11643", "gb32100", "phone"])
def test_the_same_sql_on_postgresql(validator):
    if connection.vendor != "postgresql":
        pytest.skip("runs when the suite runs on PostgreSQL")
    values, check = _samples()[validator]
    rows = ", ".join(["(%s)"] * len(values))
    with connection.cursor() as cursor:
        predicate = failing(validator, quote("v")).replace("%", "%%")  # the driver's placeholders
        cursor.execute(f"SELECT v FROM (VALUES {rows}) t(v) WHERE {predicate}", values)
        bad = {r[0] for r in cursor.fetchall()}
    assert bad == {v for v in values if not _ok(check, v)}


def test_division_codes():
    con = duckdb.connect()
    cases = {
        "440199": True,
        "440199001": True,
        "440199001002": True,
        "440199001002003": True,
        "990199": False,  # no such province
        "440000001": False,  # town right under a province
        "440199000": False,  # town part 000
        "44019900100": False,  # 11 digits
        "44019A": False,
        "": True,  # empty is the missing rule's business
    }
    for code, valid in cases.items():
        found = con.execute(
            f"SELECT COUNT(*) FROM (SELECT ? AS v) t WHERE {failing('gbt2260', quote('v'))}", [code]
        )
        assert found.fetchone()[0] == (0 if valid else 1), code
    assert validator_name("gb2260") == "gbt2260" and validator_name("nope") == ""


def _rule(pk, kind, column="", options=None, name=None):
    return SimpleNamespace(
        pk=pk, kind=kind, column=column, options=options or {}, element=None, name=name or kind
    )


def test_contract_names_every_rule_by_qualifier_and_quotes_codes():
    fields = SimpleNamespace(all=lambda: [SimpleNamespace(name=n) for n in ("id_number", "nation")])
    resource = SimpleNamespace(update_cycle="irregular", fields=fields)
    rules = [
        _rule(1, "schema"),
        _rule(2, "invalid", "nation", {"valid_values": ["01", "08", "56"]}),
        _rule(3, "invalid", "id_number", {"validator": "gb11643", "max_percent": 2}),
        _rule(4, "freshness"),
        _rule(5, "missing", "absent"),
    ]
    contract = compile_contract(
        resource, rules, Target(prefix="duckdb/main", table="t"), present_columns={"id_number", "nation"}
    )
    document = yaml.safe_load(contract.yaml_text)
    assert document["dataset"] == "duckdb/main/t"
    assert "'08'" in contract.yaml_text  # a YAML 1.2 reader must not take it for the number 8
    nation = next(c for c in document["columns"] if c["name"] == "nation")
    assert nation["checks"][0]["invalid"]["qualifier"] == "r2"
    failed_rows = document["checks"][1]["failed_rows"]
    assert failed_rows["qualifier"] == "r3" and failed_rows["threshold"] == {
        "metric": "percent",
        "must_be_less_than_or_equal": 2,
    }
    assert contract.plans["r4"].static_outcome == "passed"  # irregular: never stale
    assert contract.plans["r5"].static_outcome == "error" and "absent" in contract.plans["r5"].message


@pytest.mark.parametrize(
    "age, window, expected",
    [
        (1, 36, "100.00"),
        (36, 36, "100.00"),
        (54, 36, "50.00"),
        (72, 36, "0.00"),
        (500, 36, "0.00"),
        (None, 36, "0.00"),
        (None, None, "100.00"),
    ],
)
def test_freshness_score(age, window, expected):
    assert cycles.freshness_score(age, window) == Decimal(expected)


def test_quality_score_weights_marks():
    assert cycles.quality_score([]) == Decimal("100.00")
    assert cycles.rule_mark("passed", None) == 1.0
    assert cycles.rule_mark("failed", 10.0) == pytest.approx(0.45)
    assert cycles.rule_mark("failed", None) == 0.0 and cycles.rule_mark("error", None) == 0.0
    assert cycles.quality_score([(1, 1.0), (3, 0.5)]) == Decimal("62.50")
    assert cycles.window_hours("weekly") == 192 and cycles.window_hours("irregular") is None
