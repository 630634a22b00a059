"""Hand-written statements on the hot paths, and the few conversions a plain cursor needs on both databases.

Where building a statement through the ORM costs more than running it (every evidence-log append, the
data-sharing gateway's calls, the workbench, the credit check), the statement is written once as text. These
helpers give back what the ORM would have: a plain cursor returns JSON columns as text (SQLite, and PostgreSQL
under Django's no-op jsonb loader), dates as ISO text and booleans as 0/1 on SQLite, timestamps naive UTC on
SQLite. Values written go through the field's own `get_db_prep_value`, so the stored bytes are the ORM's.
"""

from __future__ import annotations

import functools
import json
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime

from django.db import connection
from django.db.models import DEFERRED


def db_json(value):
    """A JSON column read by a plain cursor."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def db_date(value) -> date | None:
    """A date column read by a plain cursor."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def db_bool(value) -> bool | None:
    return None if value is None else bool(value)


def aware(value: datetime | None) -> datetime | None:
    """A timestamp read by a plain cursor: aware on PostgreSQL, naive UTC on SQLite."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def db_instance(model, values: dict):
    """A model instance from the named values of a plain cursor's row (attnames: "resource_id"), its other fields
    deferred as with .only()."""
    row = [values.get(f.attname, DEFERRED) for f in model._meta.concrete_fields]
    return model.from_db(connection.alias, tuple(values), row)


def db_value(model, field_name: str, value):
    """`value` as the ORM would send it for `model.field_name` (UUIDs as hex text on SQLite, datetimes adapted,
    encrypted fields encrypted)."""
    return model._meta.get_field(field_name).get_db_prep_save(value, connection)


@functools.cache
def _insert_sql(
    vendor: str, table: str, columns: tuple[str, ...], json_columns: frozenset, returning: str
) -> str:
    quote = connection.ops.quote_name
    cast = "::jsonb" if vendor == "postgresql" else ""
    values = ", ".join(f"%s{cast}" if c in json_columns else "%s" for c in columns)
    sql = f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES ({values})"
    return f"{sql} RETURNING {quote(returning)}" if returning else sql


def insert_sql(model, columns: tuple[str, ...], *, json_columns=(), returning: str = "") -> str:
    """One INSERT of `columns` into the model's table (JSON columns take their value as encoded text); with
    `returning`, the statement gives that column back where the database can (else use cursor.lastrowid)."""
    if returning and not connection.features.can_return_columns_from_insert:
        returning = ""
    return _insert_sql(connection.vendor, model._meta.db_table, columns, frozenset(json_columns), returning)


def inserted(instance, cursor):
    """Marks an instance written by a hand-written INSERT … RETURNING <pk> as stored, with the key the statement
    gave back (or the cursor's lastrowid where the database returns nothing)."""
    row = cursor.fetchone() if cursor.description else None
    instance.pk = row[0] if row else cursor.lastrowid
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


@contextmanager
def bound_cursor():
    """A cursor for a hand-written statement: on PostgreSQL one that sends the parameters apart from the text
    (server-side binding) instead of quoting each into the SQL in Python, which cost more than the rest of the
    gateway's 32-parameter log INSERT; elsewhere Django's own. In Django's transaction, with its errors
    (IntegrityError…) and, when queries are logged (tests, DEBUG), in connection.queries like any other."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as raw:
        yield _LoggedCursor(raw) if connection.queries_logged else raw


class _LoggedCursor:
    """The server-bound cursor's statements in connection.queries, as Django's debug cursor records them."""

    def __init__(self, cursor) -> None:
        self._cursor = cursor

    def execute(self, sql, params=None):
        start = time.monotonic()
        try:
            return self._cursor.execute(sql, params)
        finally:
            connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - start:.3f}"})

    def __getattr__(self, name):
        return getattr(self._cursor, name)
