"""How an attacker with write access to the database edits an evidence-log entry's displayed columns: they are
generated from the canonical bytes, so the column is first detached from its expression — ALTER TABLE … DROP
EXPRESSION on PostgreSQL, an edit of the table's declaration in sqlite_master on SQLite — then updated. Both are
transactional: the test's rollback puts the generated column back."""

from __future__ import annotations

from django.db import connection

from yiwang.core.evidence.columns import catalogue_problem, columns_regenerate
from yiwang.core.models import AuditEntry

ENTRY = AuditEntry._meta.db_table


def detach_columns(*columns: str) -> None:
    """Turns generated displayed columns (all of them without arguments) into plain ones holding the same
    values."""
    columns = columns or tuple(f.column for f in AuditEntry._meta.concrete_fields if f.generated)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            changes = ", ".join(f"ALTER COLUMN {quote(c)} DROP EXPRESSION IF EXISTS" for c in columns)
            cursor.execute(f"ALTER TABLE {quote(ENTRY)} {changes}")
            return
        text = _sqlite_table_sql(cursor)
        for column in columns:
            if AuditEntry._meta.get_field(column).generated:
                declared, plain = _declarations(column)
                text = text.replace(declared, plain)  # (no match: detached already)
        _sqlite_schema_write(cursor, text)


def _declarations(column: str) -> tuple[str, str]:
    """SQLite: the column's declaration as generated, and as the same column detached (a plain one)."""
    field = AuditEntry._meta.get_field(column)
    declared = connection.schema_editor(collect_sql=True).column_sql(AuditEntry, field)[0]
    plain = declared.replace(f" GENERATED ALWAYS AS ({field.generated_sql(connection)[0]}) STORED", "")
    quoted = connection.ops.quote_name(column)
    return f"{quoted} {declared}", f"{quoted} {plain}"


def _sqlite_table_sql(cursor) -> str:
    cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [ENTRY])
    return cursor.fetchone()[0]


def _sqlite_schema_write(cursor, text: str) -> None:
    cursor.execute("PRAGMA schema_version")
    version = cursor.fetchone()[0]
    cursor.execute("PRAGMA writable_schema = ON")
    cursor.execute("UPDATE sqlite_master SET sql = %s WHERE type = 'table' AND name = %s", [text, ENTRY])
    cursor.execute(f"PRAGMA schema_version = {int(version) + 1}")
    cursor.execute("PRAGMA writable_schema = RESET")  # off, and the schema read again


def forge_column(seq: int, column: str, value_sql: str, params=()) -> None:
    """Detaches `column` and sets it for one entry (value_sql: an SQL literal or a placeholder)."""
    detach_columns(column)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {ENTRY} SET {column} = {value_sql} WHERE seq = %s", [*params, seq])


def reattach_columns() -> None:
    """Puts back the generation of every detached column (for tests that commit: the rollback does it for the
    others). On PostgreSQL the column is dropped and added again, its values recomputed, with its indexes; on
    SQLite the declaration is restored as written (delete the forged rows first: SQLite does not recompute)."""

    detached = catalogue_problem(AuditEntry, connection)
    if not detached:
        return
    if connection.vendor == "postgresql":
        with connection.schema_editor() as editor:
            columns_regenerate(editor, AuditEntry, detached)
        return
    with connection.cursor() as cursor:
        text = _sqlite_table_sql(cursor)
        for column in detached:
            declared, plain = _declarations(column)
            text = text.replace(plain, declared)
        _sqlite_schema_write(cursor, text)
