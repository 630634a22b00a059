"""The evidence log's displayed columns as generated columns of the canonical bytes.

An entry's action, actor, object, before/after, occurred_at, uuid, ... are what its canonical JSON says: the
database computes them from `canonical` when the row is written (stored generated columns) and recomputes them
whenever `canonical` changes; no statement can set them on their own. Verify therefore checks their definitions
in the catalogue once (`catalogue_problem`) instead of comparing every row's columns with its canonical bytes,
which cost more than half of verify's CPU. Only when a definition is missing or changed (a column detached with
DROP EXPRESSION, the table rebuilt) does verify compare rows, to name the first entry that disagrees.

The expressions use only the database's own immutable functions (no function of ours that a role could redefine
between a table rewrite and a verify): on PostgreSQL json ->> / -> and make_timestamp at UTC, on SQLite
json_extract and ->.
"""

from __future__ import annotations

import re

from django.db import connection as default_connection
from django.db import transaction
from django.db.models import F, Func

# key in the canonical JSON -> kind of value (how the column's SQL reads it)
TEXT, JSON, MOMENT, UUID, FORMAT = "text", "json", "moment", "uuid", "format"


class CanonicalValue(Func):
    """SQL for one key of the entry's canonical JSON text, for a GeneratedField. Keys missing from the JSON give
    '' (text), NULL (json) or 1 (format); the former chain's entries carry no format and no uuid key, their UUID
    is the first 128 bits of their leaf hash."""

    def __init__(self, key: str, kind: str = TEXT):
        if not re.fullmatch(r"[a-z_]+", key) or kind not in (TEXT, JSON, MOMENT, UUID, FORMAT):
            raise ValueError(f"unsupported canonical value {key!r} ({kind})")
        self.key, self.kind = key, kind
        super().__init__(F("canonical"), F("leaf_hash"))

    def _column(self, compiler, connection, position: int = 0) -> str:
        sql, params = compiler.compile(self.source_expressions[position])
        if params:  # a column reference has none
            raise ValueError("column reference expected")
        return sql

    def as_postgresql(self, compiler, connection, **extra):
        value = f"(({self._column(compiler, connection)})::json ->> '{self.key}')"
        if self.kind == TEXT:
            return f"COALESCE({value}, '')", []
        if self.kind == JSON:
            item = f"(({self._column(compiler, connection)})::json -> '{self.key}')::jsonb"
            return f"NULLIF({item}, 'null'::jsonb)", []
        if self.kind == UUID:  # the former chain's entries: the UUID of their leaf hash's first 128 bits
            return (
                f"COALESCE(({value})::uuid, (substr({self._column(compiler, connection, 1)}, 1, 32))::uuid)",
                [],
            )
        if self.kind == FORMAT:
            return f"COALESCE(({value})::smallint, 1::smallint)", []
        # "YYYY-MM-DDTHH:MM:SS.ffffffZ" (canonical.iso): text -> timestamptz is only stable (it reads DateStyle
        # and TimeZone), make_timestamp of the parts at UTC is immutable and exact to the microsecond.
        parts = ", ".join(
            f"substr({value}, {start}, {length})::{cast}"
            for start, length, cast in (
                (1, 4, "int"),
                (6, 2, "int"),
                (9, 2, "int"),
                (12, 2, "int"),
                (15, 2, "int"),
            )
        )
        return f"timezone('UTC', make_timestamp({parts}, substr({value}, 18, 9)::float8))", []

    def as_sqlite(self, compiler, connection, **extra):
        column = self._column(compiler, connection)
        value = f"json_extract({column}, '$.{self.key}')"
        if self.kind == TEXT:
            return f"COALESCE({value}, '')", []
        if self.kind == JSON:
            return f"NULLIF({column} -> '$.{self.key}', 'null')", []
        if self.kind == UUID:  # Django keeps UUIDs as 32 hex characters on SQLite
            return (
                f"COALESCE(replace({value}, '-', ''), substr({self._column(compiler, connection, 1)}, 1, 32))",
                [],
            )
        if self.kind == FORMAT:
            return f"COALESCE({value}, 1)", []
        # Django's SQLite datetime text: "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC, no fraction when it is zero
        return f"replace(replace(replace({value}, 'T', ' '), 'Z', ''), '.000000', '')", []

    def as_sql(self, compiler, connection, **extra):  # pragma: no cover - other databases are not supported
        raise NotImplementedError(f"generated evidence columns on {connection.vendor}")


def generated_fields(model) -> list:
    return [f for f in model._meta.concrete_fields if getattr(f, "generated", False)]


def _postgres_installed(cursor, table: str) -> dict[str, str]:
    cursor.execute(
        "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = 's'",
        [table],
    )
    return dict(cursor.fetchall())


def _declarations(model, connection) -> dict[str, str]:
    """column -> its declaration as the schema editor writes it (type, GENERATED ALWAYS AS (...) STORED, ...)."""
    editor = connection.schema_editor(collect_sql=True)
    return {f.column: editor.column_sql(model, f)[0] for f in generated_fields(model)}


def _postgres_problem(model, connection) -> list[str]:
    """Columns whose stored generation differs from the definition."""
    declarations = _declarations(model, connection)
    with connection.cursor() as cursor:
        installed = _postgres_installed(cursor, model._meta.db_table)
    reference = _postgres_reference(model, connection, declarations)
    return sorted(c for c in declarations if c not in installed or installed[c] != reference.get(c))


# (server version, declarations) -> PostgreSQL's print of them: the same for every verify of a process.
_REFERENCES: dict[tuple, dict[str, str]] = {}


def _postgres_reference(model, connection, declarations: dict[str, str]) -> dict[str, str]:
    """PostgreSQL keeps a generation expression as a parse tree and prints it back in its own form, so the
    expected text is PostgreSQL's print of the same declarations on a temporary table (rolled back with its
    savepoint)."""
    key = (connection.pg_version, tuple(declarations.items()))
    if key in _REFERENCES:
        return _REFERENCES[key]
    quote = connection.ops.quote_name
    editor = connection.schema_editor(collect_sql=True)
    sources = [  # the columns the expressions read, typed as in the table
        f"{quote(f.column)} {editor.column_sql(model, f)[0]}"
        for f in model._meta.concrete_fields
        if f.column in ("canonical", "leaf_hash")
    ]
    columns = ", ".join([*sources, *(f"{quote(c)} {d}" for c, d in declarations.items())])
    reference: dict[str, str] = {}
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE yiwang_evidence_columns ({columns})")
            reference = _postgres_installed(cursor, "yiwang_evidence_columns")
            raise _Rollback
    except _Rollback:
        pass
    _REFERENCES[key] = reference
    return reference


class _Rollback(Exception):
    pass


def _sqlite_problem(model, connection) -> list[str]:
    """SQLite keeps the CREATE TABLE text as written: each column must be declared exactly as the schema editor
    writes it, and be stored (PRAGMA table_xinfo: hidden = 3)."""
    table = model._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
        row = cursor.fetchone()
        cursor.execute(f"PRAGMA table_xinfo({quote(table)})")
        stored = {r[1] for r in cursor.fetchall() if r[6] == 3}
    text = row[0] if row else ""
    return sorted(
        c
        for c, d in _declarations(model, connection).items()
        if c not in stored or f"{quote(c)} {d}" not in text
    )


def columns_regenerate(schema_editor, model, columns) -> None:
    """PostgreSQL: (re)makes `columns` generated columns of the model's table in one ALTER TABLE (one rewrite, the
    values computed from `canonical`), then rebuilds the indexes dropped with them. Used by the 0010 migration;
    also puts back a column an attacker detached (`catalogue_problem` names them)."""
    quote = schema_editor.quote_name
    changes = []
    for name in columns:
        field = model._meta.get_field(name)
        changes.append(f"DROP COLUMN {quote(field.column)}")
        changes.append(f"ADD COLUMN {quote(field.column)} {schema_editor.column_sql(model, field)[0]}")
    schema_editor.execute(f"ALTER TABLE {quote(model._meta.db_table)} {', '.join(changes)}")
    for index in model._meta.indexes:  # dropped with their columns
        if set(index.fields) & set(columns):
            schema_editor.add_index(model, index)


def catalogue_problem(model, connection=None) -> list[str]:
    """The displayed columns whose generation is not (any more) the one defined here; [] when all are intact."""
    connection = connection or default_connection
    if connection.vendor == "postgresql":
        return _postgres_problem(model, connection)
    if connection.vendor == "sqlite":
        return _sqlite_problem(model, connection)
    return [f.column for f in generated_fields(model)]
