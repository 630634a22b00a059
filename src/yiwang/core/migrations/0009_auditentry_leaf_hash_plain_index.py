"""The entry's leaf_hash keeps one plain index (equality lookups only) instead of db_index=True's two on PostgreSQL
(the btree and its varchar_pattern_ops twin): every append of the platform maintained both. The existing btree is
renamed rather than rebuilt, since the log may hold tens of millions of entries."""

from django.db import migrations, models

FIELD = models.CharField(help_text="SM3(0x00 ‖ 规范化记录)，十六进制", max_length=64, verbose_name="叶子哈希")
INDEX = models.Index(fields=["leaf_hash"], name="core_audit_leaf_hash_idx")


def _keep_the_btree(apps, schema_editor):
    model = apps.get_model("core", "AuditEntry")
    table = model._meta.db_table
    old = schema_editor._create_index_name(table, ["leaf_hash"], suffix="")
    quote = schema_editor.quote_name
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {quote(old + '_like')}")
        schema_editor.execute(f"ALTER INDEX IF EXISTS {quote(old)} RENAME TO {quote(INDEX.name)}")
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {quote(INDEX.name)} ON {quote(table)} (leaf_hash)")
    else:
        schema_editor.execute(f"DROP INDEX IF EXISTS {quote(old)}")
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {quote(INDEX.name)} ON {quote(table)} (leaf_hash)")


def _back(apps, schema_editor):
    model = apps.get_model("core", "AuditEntry")
    table = model._meta.db_table
    old = schema_editor._create_index_name(table, ["leaf_hash"], suffix="")
    quote = schema_editor.quote_name
    schema_editor.execute(f"DROP INDEX IF EXISTS {quote(INDEX.name)}")
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {quote(old)} ON {quote(table)} (leaf_hash)")


class Migration(migrations.Migration):
    dependencies = [("core", "0008_alter_staffrole_role")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name="auditentry", name="leaf_hash", field=FIELD),
                migrations.AddIndex(model_name="auditentry", index=INDEX),
            ],
            database_operations=[migrations.RunPython(_keep_the_btree, _back)],
        )
    ]
