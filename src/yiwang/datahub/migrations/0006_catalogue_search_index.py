"""Full-text index of the resource catalogue (see yiwang.datahub.search).

Vendor-specific: an FTS5 virtual table on SQLite; a tsvector side table with a GIN index on PostgreSQL.
The SQL is written out here (not imported from the app) so the migration stays what it was when applied.
"""

from django.db import migrations

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS datahub_resource_fts USING fts5("
    "name, keywords, body, tokenize = 'unicode61 remove_diacritics 2')"
)
SQLITE_DROP = "DROP TABLE IF EXISTS datahub_resource_fts"
POSTGRES_CREATE = (
    "CREATE TABLE IF NOT EXISTS datahub_resource_search "
    "(resource_id bigint PRIMARY KEY, document tsvector NOT NULL)",
    "CREATE INDEX IF NOT EXISTS datahub_resource_search_document_gin "
    "ON datahub_resource_search USING gin (document)",
)
POSTGRES_DROP = "DROP TABLE IF EXISTS datahub_resource_search"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
    elif vendor == "postgresql":
        for statement in POSTGRES_CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)


class Migration(migrations.Migration):
    dependencies = [("datahub", "0005_catalogue_field_basis")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
