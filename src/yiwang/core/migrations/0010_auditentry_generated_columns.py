"""The entry's displayed columns become stored generated columns of its canonical bytes
(core.evidence.columns): verify then checks their definitions once instead of comparing every row's columns with
its canonical JSON.

On PostgreSQL one ALTER TABLE drops the columns and adds them back as generated ones: a single rewrite of the
table, in which PostgreSQL computes each row's values from `canonical` (about 60 µs a row: budget some ten
minutes per ten million entries, under an exclusive lock). The indexes on those columns are rebuilt after it.
On SQLite the table is rebuilt once. The former chain's entries (format 1) carry no uuid in their canonical
bytes; their uuid becomes the first 128 bits of their leaf hash (it was a random one given by 0004).
Reversible: back, the columns keep their values and stop being generated."""

from django.db import migrations, models

import yiwang.core.evidence.columns

# fmt: off
STATE = [

        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.GeneratedField(db_persist=True, expression=yiwang.core.evidence.columns.CanonicalValue('action', 'text'), output_field=models.CharField(max_length=64, verbose_name='操作'), verbose_name='操作'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='actor_account',
            field=models.GeneratedField(db_persist=True, expression=yiwang.core.evidence.columns.CanonicalValue('actor_account', 'text'), help_text='账户名；系统为 client_id', output_field=models.CharField(max_length=150, verbose_name='账户'), verbose_name='账户'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='actor_department',
            field=models.GeneratedField(db_persist=True, expression=yiwang.core.evidence.columns.CanonicalValue('actor_department', 'text'), output_field=models.CharField(max_length=20, verbose_name='部门'), verbose_name='部门'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='actor_ip',
            field=models.GeneratedField(db_persist=True, expression=yiwang.core.evidence.columns.CanonicalValue('actor_ip', 'text'), output_field=models.CharField(max_length=45, verbose_name='IP'), verbose_name='IP'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='after',
            field=models.GeneratedField(db_persist=True, expression=yiwang.core.evidence.columns.CanonicalValue('after', 'json'), null=True, output_field=models.JSONField(null=True, verbose_name='变更后'), verbose_name='变更后'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='before',
            field=models.GeneratedField(db_persist=True, expression=yiwang.core.evidence.columns.CanonicalValue('before', 'json'), null=True, output_field=models.JSONField(null=True, verbose_name='变更前'), verbose_name='变更前'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='format',
            field=models.GeneratedField(db_persist=True, expression=yiwang.core.evidence.columns.CanonicalValue('format', 'format'), help_text='1 = 原哈希链记录，2 = 存证日志记录', output_field=models.PositiveSmallIntegerField(verbose_name='格式'), verbose_name='格式'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='object_id',
            field=models.GeneratedField(db_persist=True, expression=yiwang.core.evidence.columns.CanonicalValue('object_id', 'text'), output_field=models.CharField(max_length=64, verbose_name='对象标识'), verbose_name='对象标识'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='object_type',
            field=models.GeneratedField(db_persist=True, expression=yiwang.core.evidence.columns.CanonicalValue('object_type', 'text'), output_field=models.CharField(max_length=64, verbose_name='对象类型'), verbose_name='对象类型'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='occurred_at',
            field=models.GeneratedField(db_persist=True, expression=yiwang.core.evidence.columns.CanonicalValue('occurred_at', 'moment'), output_field=models.DateTimeField(verbose_name='时间'), verbose_name='时间'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='prev_hash',
            field=models.GeneratedField(db_persist=True, expression=yiwang.core.evidence.columns.CanonicalValue('prev_hash', 'text'), help_text='仅格式 1：原哈希链的前序哈希', output_field=models.CharField(max_length=64)),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='purpose',
            field=models.GeneratedField(db_persist=True, expression=yiwang.core.evidence.columns.CanonicalValue('purpose', 'text'), help_text='查询个人信息的用途', output_field=models.CharField(max_length=200, verbose_name='用途'), verbose_name='用途'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='request_id',
            field=models.GeneratedField(db_persist=True, expression=yiwang.core.evidence.columns.CanonicalValue('request_id', 'text'), output_field=models.CharField(max_length=64)),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='uuid',
            field=models.GeneratedField(db_persist=True, expression=yiwang.core.evidence.columns.CanonicalValue('uuid', 'uuid'), output_field=models.UUIDField(verbose_name='存证标识'), unique=True, verbose_name='存证标识'),
        ),
]
# fmt: on
NAMES = [op.name for op in STATE]


class GenerateDisplayedColumns(migrations.operations.base.Operation):
    """STATE's AlterFields as one table rewrite (AlterField itself refuses to turn a column into a generated one)."""

    reversible = True

    def state_forwards(self, app_label, state):
        for operation in STATE:
            operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        old = from_state.apps.get_model(app_label, "auditentry")
        new = to_state.apps.get_model(app_label, "auditentry")
        if schema_editor.connection.vendor == "postgresql":
            from yiwang.core.evidence.columns import columns_regenerate

            columns_regenerate(schema_editor, new, NAMES)
        else:
            pairs = [(old._meta.get_field(n), new._meta.get_field(n)) for n in NAMES]
            schema_editor._remake_table(old, alter_fields=pairs)
        _queue_trigger(schema_editor)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        generated = from_state.apps.get_model(app_label, "auditentry")
        plain = to_state.apps.get_model(app_label, "auditentry")
        if schema_editor.connection.vendor == "postgresql":
            quote = schema_editor.quote_name
            changes = ", ".join(f"ALTER COLUMN {quote(n)} DROP EXPRESSION" for n in NAMES)
            schema_editor.execute(f"ALTER TABLE {quote(plain._meta.db_table)} {changes}")
        else:
            pairs = [(generated._meta.get_field(n), plain._meta.get_field(n)) for n in NAMES]
            schema_editor._remake_table(generated, alter_fields=pairs)
        _queue_trigger(schema_editor)

    def describe(self):
        return "The evidence log's displayed columns are generated from the canonical bytes"


def _queue_trigger(schema_editor):
    from yiwang.core.evidence.store import ensure_queue_trigger

    ensure_queue_trigger(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0009_auditentry_leaf_hash_plain_index")]

    operations = [GenerateDisplayedColumns()]
