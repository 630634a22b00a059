"""The staged check-character SQL (`sqlchecks.failing_query`) and its modular arithmetic (`weighted_mod`): the same
verdicts as the per-character expression and the platform's Python validators, on DuckDB and (when the suite runs
there) PostgreSQL, and no error on malformed values (the numeric cast sits behind the format test)."""

from __future__ import annotations

import random
from datetime import date

import duckdb
import pytest
from django.db import connection

from yiwang.core.validators import id_number_check_char, make_id_number, make_uscc, uscc_check_char
from yiwang.datahub.quality.sqlchecks import (
    DUCKDB,
    ID_WEIGHTS,
    PORTABLE,
    POSTGRES,
    USCC_ALPHABET,
    USCC_WEIGHTS,
    dialect_of,
    failing,
    failing_query,
    quote,
    weighted_mod,
)

VALID_ID = make_id_number("110105", date(1949, 12, 31), 2)  # check character X
VALID_ID_DIGIT = make_id_number("440106", date(1990, 6, 15), 123)
_LETTERS17 = "91440101MA5CQ7B8Y"  # a letter among the first 17 characters (the character-by-character path)
VALID_USCC_LETTERS = _LETTERS17 + uscc_check_char(_LETTERS17)
VALID_USCC = make_uscc("9", "1", "440106", "12345678")


def _wrong_check(value: str, alphabet: str) -> str:
    return value[:17] + next(c for c in alphabet if c != value[17])


def _id(area: str, birth: str, sequence: str = "123") -> str:
    """An ID number with its right check character and any birth-date digits, possible or not."""
    first17 = area + birth + sequence
    return first17 + id_number_check_char(first17)


# value -> valid as stored (the registry's canonical form: upper-case, no spaces)
ID_CASES = {
    VALID_ID: True,
    VALID_ID_DIGIT: True,
    _wrong_check(VALID_ID, "0123456789X"): False,  # wrong check character
    _wrong_check(VALID_ID_DIGIT, "0123456789X"): False,
    VALID_ID[:17]: False,  # 17 characters
    VALID_ID + "1": False,  # 19 characters
    VALID_ID[:17] + "x": False,  # lower-case x
    " " + VALID_ID[:17]: False,  # a space inside the 18 characters
    VALID_ID_DIGIT[:5] + " " + VALID_ID_DIGIT[6:]: False,
    VALID_ID_DIGIT[:3] + "A" + VALID_ID_DIGIT[4:]: False,  # a letter among the first 17
    "+" + VALID_ID_DIGIT[1:]: False,  # a sign a numeric cast would accept
    VALID_ID_DIGIT[:9] + "-" + VALID_ID_DIGIT[10:]: False,
    "ABCDEFGHIJKLMNOPQR": False,
    "110105194913310021": False,  # month 13
    # the birth-date bounds, each with a right check character (the staged query tests n's remainders)
    _id("440106", "18800101"): True,
    _id("440106", "20991231"): True,
    _id("440106", "18791231"): False,
    _id("440106", "21000101"): False,
    _id("440106", "19900001"): False,  # month 00
    _id("440106", "19901301"): False,
    _id("440106", "19900100"): False,  # day 00
    _id("440106", "19900131"): True,
    _id("440106", "19900132"): False,
    "１１０１０５１９４９１２３１００２Ｘ": False,  # full-width digits
    "": True,  # empty and NULL are the missing rule's business
    None: True,
}
USCC_CASES = {
    VALID_USCC: True,
    VALID_USCC_LETTERS: True,
    _wrong_check(VALID_USCC, USCC_ALPHABET): False,
    _wrong_check(VALID_USCC_LETTERS, USCC_ALPHABET): False,
    VALID_USCC[:17]: False,
    VALID_USCC + "0": False,
    VALID_USCC_LETTERS.lower(): False,  # lower-case letters
    VALID_USCC[:17] + VALID_USCC[17].lower() if VALID_USCC[17].isalpha() else VALID_USCC[:16] + "a0": False,
    " " + VALID_USCC[1:]: False,
    VALID_USCC[:8] + "I" + VALID_USCC[9:]: False,  # I is not in the alphabet
    VALID_USCC[:17] + "Z": False,
    "+" + VALID_USCC[1:]: False,
    "": True,
    None: True,
}


def _duckdb(values: list) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (k VARCHAR, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [[str(n), v] for n, v in enumerate(values)])
    return con


def _failing_keys(fetch, validator: str, values: list, dialect: str = PORTABLE) -> tuple[set, set]:
    """The failing values by the staged query and by the expression."""
    query = failing_query(validator, "t", quote("k"), quote("v"), dialect)
    staged = {values[int(k)] for k, _ in fetch(f"SELECT record_key, value FROM ({query}) f")}
    predicate = failing(validator, quote("v"), dialect)
    expression = {values[int(r[0])] for r in fetch(f"SELECT k FROM t WHERE {predicate}")}
    return staged, expression


@pytest.mark.parametrize("dialect", [PORTABLE, DUCKDB])
@pytest.mark.parametrize("validator, cases", [("gb11643", ID_CASES), ("gb32100", USCC_CASES)])
def test_staged_query_on_duckdb(validator, cases, dialect):
    values = list(cases)
    con = _duckdb(values)
    staged, expression = _failing_keys(lambda sql: con.execute(sql).fetchall(), validator, values, dialect)
    expected = {v for v, ok in cases.items() if not ok}
    assert staged == expected
    assert expression == expected


def _on_postgresql(values: list, use):
    """`use(fetch)` over a temporary table t (k, v) of `values` on the suite's PostgreSQL database."""
    if connection.vendor != "postgresql":
        pytest.skip("runs when the suite runs on PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE t (k varchar, v varchar)")
        cursor.executemany("INSERT INTO t VALUES (%s, %s)", [[str(n), v] for n, v in enumerate(values)])

        def fetch(sql: str) -> list[tuple]:
            cursor.execute(sql)  # no parameters: the driver leaves "%" alone
            return cursor.fetchall()

        try:
            return use(fetch)
        finally:
            cursor.execute("DROP TABLE t")


@pytest.mark.django_db
@pytest.mark.parametrize("dialect", [PORTABLE, POSTGRES])
@pytest.mark.parametrize("validator, cases", [("gb11643", ID_CASES), ("gb32100", USCC_CASES)])
def test_staged_query_on_postgresql(validator, cases, dialect):
    values = list(cases)
    staged, expression = _on_postgresql(
        values, lambda fetch: _failing_keys(fetch, validator, values, dialect)
    )
    expected = {v for v, ok in cases.items() if not ok}
    assert staged == expected
    assert expression == expected


def test_staged_query_agrees_with_the_python_check_characters_on_random_values():
    rng = random.Random(2026)
    ids, usccs = [], []
    for n in range(3000):
        first17 = "".join(rng.choice("0123456789") for _ in range(6)) + "19900101" + f"{n % 1000:03d}"
        ids.append(first17 + rng.choice([id_number_check_char(first17), rng.choice("0123456789X")]))
        body = "".join(rng.choice(USCC_ALPHABET if rng.random() < 0.5 else "0123456789") for _ in range(17))
        usccs.append(body + rng.choice([uscc_check_char(body), rng.choice(USCC_ALPHABET)]))
    for validator, values, check in (
        ("gb11643", ids, lambda v: id_number_check_char(v[:17]) == v[17]),
        ("gb32100", usccs, lambda v: uscc_check_char(v[:17]) == v[17]),
    ):
        con = _duckdb(values)
        fetch = lambda sql, con=con: con.execute(sql).fetchall()  # noqa: E731
        staged, expression = _failing_keys(fetch, validator, values)
        expected = {v for v in values if not check(v)}
        assert staged == expression == expected
        assert _failing_keys(fetch, validator, values, DUCKDB) == (expected, expected)
        assert 0 < len(expected) < len(values)


@pytest.mark.parametrize("weights, modulus", [(ID_WEIGHTS, 11), (USCC_WEIGHTS, 31)])
def test_weighted_mod_is_the_weighted_digit_sum(weights, modulus):
    rng = random.Random(modulus)
    numbers = ["0" * 17, "9" * 17, "1" + "0" * 16, "0" * 16 + "1"]
    numbers += ["".join(rng.choice("0123456789") for _ in range(17)) for _ in range(500)]
    con = duckdb.connect()
    con.execute("CREATE TABLE n (s VARCHAR)")
    con.executemany("INSERT INTO n VALUES (?)", [[s] for s in numbers])
    sql = weighted_mod("CAST(s AS BIGINT)", weights, modulus)
    got = dict(con.execute(f"SELECT s, {sql} FROM n").fetchall())
    assert got == {s: sum(int(d) * w for d, w in zip(s, weights, strict=True)) % modulus for s in numbers}


DIVISIONS_AND_PHONES = {
    "gbt2260": [
        "440103",
        "440103001",
        "440103001002",
        "440103001002003",
        "440100",
        "990103",
        "4401030",
        "44010a",
        "440000001",
        "440103000",
        "44-103",
        " 440103",
        "",
        None,
    ],
    "phone": [
        "13800138000",
        "1380013800",
        "12800138000",
        "020-12345678",
        "02012345678",
        "0755-1234567",
        "020--1234567",
        "13800l38000",
        "+8613800138000",
        " 13800138000",
        "",
        None,
    ],
}


@pytest.mark.parametrize("validator", sorted(DIVISIONS_AND_PHONES))
def test_duckdb_dialect_fails_the_same_values(validator):
    """DuckDB's own character-class test (regexp_full_match) and the portable translate agree value by value."""
    values = DIVISIONS_AND_PHONES[validator]
    con = _duckdb(values)

    def failing_values(dialect: str) -> set:
        rows = con.execute(f"SELECT k FROM t WHERE {failing(validator, quote('v'), dialect)}").fetchall()
        return {values[int(k)] for (k,) in rows}

    portable = failing_values(PORTABLE)
    assert failing_values(DUCKDB) == portable
    assert {"990103", "44010a", "12800138000", "13800l38000", "+8613800138000"} & set(values) <= portable
    assert "440103" not in portable and "13800138000" not in portable and "" not in portable


@pytest.mark.django_db
@pytest.mark.parametrize("validator", sorted(DIVISIONS_AND_PHONES))
def test_postgresql_dialect_fails_the_same_values(validator):
    """PostgreSQL's own character-class test (`~`) and the portable translate agree value by value, a value
    with a line break included (PostgreSQL's `$` is the end of the text, not of a line)."""
    values = [*DIVISIONS_AND_PHONES[validator], "440103\n" if validator == "gbt2260" else "13800138000\n"]

    def failing_values(fetch, dialect: str) -> set:
        rows = fetch(f"SELECT k FROM t WHERE {failing(validator, quote('v'), dialect)}")
        return {values[int(k)] for (k,) in rows}

    portable, own = _on_postgresql(
        values, lambda fetch: (failing_values(fetch, PORTABLE), failing_values(fetch, POSTGRES))
    )
    assert own == portable
    assert values[-1] in portable and "440103" not in portable and "13800138000" not in portable


def test_the_dialect_follows_the_data_source_name():
    assert dialect_of("duckdb/main") == DUCKDB
    assert dialect_of("pg/yiwang/public") == POSTGRES
    assert dialect_of("spark/db/schema") == PORTABLE
