"""Validity of national identifiers as SQL conditions that run unchanged on DuckDB and PostgreSQL (and any engine
with `length`, `substr`, `strpos`, `translate`, `upper`, `trim`, `%` and `IN`: Spark SQL and Trino have them).

No regular expressions (their dialects differ) and no casts that could raise on bad input: a character's digit
value is `strpos('0123456789', c) - 1` (-1 for a non-digit), and "only these characters" is
`translate(v, allowed, '') = ''`; a digit's value is `ascii(c) - 48` once the value is known to be all digits
(the sum of a non-digit value is never compared: its format test is already false). Values are checked as stored:
the canonical form (upper-case X, no surrounding spaces) is what a registry must hold, so " 1101…" or a lower-case
x fail here although the interactive validators (which normalise input) accept them. Each function takes a SQL expression (a quoted column) and returns a boolean SQL
condition that is TRUE when the (non-empty) value is valid. `failing(kind, column)` wraps it as the failed-rows
predicate: a value that is present and not valid.

- GB 11643 身份证号: 18 characters, 17 digits then a digit or X, a plausible birth date (year 1880-2099, month
  01-12, day 01-31) and the ISO 7064 MOD 11-2 check character.
- GB 32100 统一社会信用代码: 18 characters of the code alphabet (no I, O, S, V, Z), MOD 31 check character.
- GB/T 2260 区划代码: 6, 9 or 12 digits (15 for the platform's grids) with a real province prefix, no town or
  village code under a province directly, no 000 town or village part.
- phone: a mobile number (1[3-9] and 9 more digits) or a landline 0 + 2-3 digit area code, optional hyphen,
  7-8 digits.
"""

from __future__ import annotations

DIGITS = "0123456789"
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
PROVINCES = "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
VALIDATORS = ("gb11643", "gb32100", "gbt2260", "phone")
ALIASES = {"gb2260": "gbt2260", "id_number": "gb11643", "uscc": "gb32100", "division": "gbt2260"}


def quote(name: str) -> str:
    """A column name as a double-quoted SQL identifier (both engines)."""
    return '"' + str(name).replace('"', '""') + '"'


def _text(column: str) -> str:
    return f"CAST({column} AS VARCHAR)"


def _only(expr: str, allowed: str) -> str:
    return f"translate({expr}, '{allowed}', '') = ''"


def id_number_valid(column: str) -> str:
    v = _text(column)
    terms = " + ".join(f"(ascii(substr({v}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(ID_WEIGHTS))
    return (
        f"(length({v}) = 18 AND {_only(f'substr({v}, 1, 17)', DIGITS)}"
        f" AND {_only(f'substr({v}, 18, 1)', DIGITS + 'X')}"
        f" AND substr({v}, 7, 4) BETWEEN '1880' AND '2099'"
        f" AND substr({v}, 11, 2) BETWEEN '01' AND '12'"
        f" AND substr({v}, 13, 2) BETWEEN '01' AND '31'"
        f" AND substr('{ID_CHECK}', (({terms}) % 11) + 1, 1) = substr({v}, 18, 1))"
    )


def uscc_valid(column: str) -> str:
    v = _text(column)
    terms = " + ".join(
        f"(strpos('{USCC_ALPHABET}', substr({v}, {i + 1}, 1)) - 1) * {w}" for i, w in enumerate(USCC_WEIGHTS)
    )
    return (
        f"(length({v}) = 18 AND {_only(v, USCC_ALPHABET)}"
        f" AND substr('{USCC_ALPHABET}', ((31 - (({terms}) % 31)) % 31) + 1, 1) = substr({v}, 18, 1))"
    )


def division_valid(column: str) -> str:
    v = _text(column)
    provinces = ", ".join(f"'{p}'" for p in PROVINCES)
    return (
        f"({_only(v, DIGITS)} AND length({v}) IN (6, 9, 12, 15)"
        f" AND substr({v}, 1, 2) IN ({provinces})"
        f" AND NOT (length({v}) > 6 AND substr({v}, 3, 4) = '0000')"
        f" AND NOT (length({v}) >= 9 AND substr({v}, 7, 3) = '000')"
        f" AND NOT (length({v}) >= 12 AND substr({v}, 10, 3) = '000'))"
    )


def phone_valid(column: str) -> str:
    v = _text(column)
    mobile = (
        f"(length({v}) = 11 AND {_only(v, DIGITS)} AND substr({v}, 1, 1) = '1'"
        f" AND substr({v}, 2, 1) IN ('3', '4', '5', '6', '7', '8', '9'))"
    )
    bare = f"replace({v}, '-', '')"
    hyphen = f"strpos({v}, '-')"
    landline = (
        f"(substr({v}, 1, 1) = '0' AND {_only(bare, DIGITS)}"
        f" AND length({v}) - length({bare}) <= 1"
        f" AND ((({hyphen}) = 0 AND length({v}) BETWEEN 10 AND 12)"
        f" OR (({hyphen}) IN (4, 5) AND length({v}) - ({hyphen}) BETWEEN 7 AND 8)))"
    )
    return f"({mobile} OR {landline})"


_VALID = {
    "gb11643": id_number_valid,
    "gb32100": uscc_valid,
    "gbt2260": division_valid,
    "phone": phone_valid,
}


def validator_name(name: str) -> str:
    """The canonical validator name ("gb2260" → "gbt2260"), or "" when unknown."""
    name = ALIASES.get(str(name or "").strip().lower(), str(name or "").strip().lower())
    return name if name in _VALID else ""


def present(column: str) -> str:
    return f"({column} IS NOT NULL AND trim(CAST({column} AS VARCHAR)) <> '')"


def failing(validator: str, column: str) -> str:
    """The failed-rows predicate of a validator: the value is present and not valid."""
    valid = _VALID[validator_name(validator)]
    return f"({present(column)} AND NOT {valid(column)})"
