"""The audit hash chain becomes the evidence log (存证), an RFC 9162 Merkle log (issue 12 §1).

Schema: entries gain uuid, format, leaf_hash and canonical (the canonical bytes as written); `seq` becomes the
primary key, assigned by the database's sequence at insert (no head row, no lock); entry_hash is folded into
leaf_hash; the chain head and checkpoint tables give way to TreeHead and EvidenceNode. An entry's place in the
tree is an insert-only EvidenceLeaf row (leaf_index → entry, leaf hash); EvidencePending queues the entries not
yet integrated, filled by a trigger on every AuditEntry insert (core.evidence.store.queue_trigger_sql).

Data: every existing chain entry keeps its canonical bytes (which include its seq and prev_hash; format 1),
stored in `canonical`, and becomes a leaf, in seq order, so the former chain is the first part of the tree; the
tree's nodes are built, and a first tree head is signed when a platform key exists (otherwise the sequencer
signs it on its first run).
"""

import logging
import uuid

import django.db.models.deletion
from django.db import migrations, models

log = logging.getLogger("yiwang.evidence")

BATCH = 5000


def legacy_entries_fill(apps, schema_editor):
    """Format 1: canonical bytes, leaf hash and a uuid for every chain entry (checked against its entry_hash)."""
    from yiwang.core.evidence.canonical import RAW_COLUMNS, canonical_from_row
    from yiwang.core.evidence.fasthash import leaf_hash, sm3

    AuditEntry = apps.get_model("core", "AuditEntry")
    connection = schema_editor.connection
    table = AuditEntry._meta.db_table
    postgres = connection.vendor == "postgresql"
    last_seq, broken_links = 0, 0
    prev_entry_hash = "0" * 64
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT {', '.join(RAW_COLUMNS)}, entry_hash FROM {table} WHERE seq > %s ORDER BY seq LIMIT %s",
                [last_seq, BATCH],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            updates = []
            for raw in rows:
                row = (*raw[:2], 1, *raw[3:-1])  # every existing entry is a chain entry (format 1)
                canonical = canonical_from_row(row)
                digest = sm3(canonical).hex()
                # The tree takes the chain as it is; an entry that did not verify as a chain is logged here.
                if row[13] != prev_entry_hash or digest != raw[-1]:
                    broken_links += 1
                prev_entry_hash = digest
                new_uuid = uuid.uuid4()
                updates.append(
                    (
                        new_uuid if postgres else new_uuid.hex,
                        leaf_hash(canonical).hex(),
                        canonical.decode(),
                        row[0],
                    )
                )
            cursor.executemany(
                f"UPDATE {table} SET uuid = %s, leaf_hash = %s, canonical = %s, format = 1 WHERE seq = %s",
                updates,
            )
            last_seq = rows[-1][0]
    if broken_links:
        log.warning("migrating the audit chain: %s entries did not verify as a chain", broken_links)


def legacy_entries_to_leaves(apps, schema_editor):
    """Queues every migrated entry, integrates them in seq order, signs the first head; installs the trigger
    that queues every later insert."""
    from yiwang.core.evidence.sequencer import integrate_pending
    from yiwang.core.evidence.store import ensure_queue_trigger

    AuditEntry = apps.get_model("core", "AuditEntry")
    EvidencePending = apps.get_model("core", "EvidencePending")
    TreeHead = apps.get_model("core", "TreeHead")
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {EvidencePending._meta.db_table} (seq) SELECT seq FROM {AuditEntry._meta.db_table}"
        )
        count = cursor.rowcount
    integrate_pending(using=connection.alias)
    if count:
        _sign_first_head(TreeHead, connection.alias)
    ensure_queue_trigger(connection)


def drop_queue_trigger(apps, schema_editor):
    from yiwang.core.evidence.store import drop_queue_trigger as drop

    drop(schema_editor.connection)


def _sign_first_head(TreeHead, using):
    import time

    from yiwang.core.evidence import merkle, store
    from yiwang.core.keystore import KeystoreError, keystore

    try:
        key = keystore()
    except KeystoreError:
        return  # the sequencer signs the first head once a key exists
    size = store.integrated_size(using)
    root = store.root_at(size, using=using)
    timestamp_ms = int(time.time() * 1000)
    TreeHead.objects.using(using).create(
        tree_size=size,
        root_hash=root.hex(),
        timestamp_ms=timestamp_ms,
        key_id=key.platform_key_id,
        signature=key.platform_sign(merkle.tree_head_payload(size, root, timestamp_ms)).hex(),
    )


def reset_seq_sequence(apps, schema_editor):
    """PostgreSQL: the new identity column on seq must continue after the migrated entries."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    table = apps.get_model("core", "AuditEntry")._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'seq'), COALESCE((SELECT MAX(seq) FROM {table}), 0) + 1, false)",
            [table],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_registry_changes_supervisor_role"),
    ]

    operations = [
        migrations.CreateModel(
            name="TreeHead",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("tree_size", models.BigIntegerField(unique=True, verbose_name="树大小")),
                ("root_hash", models.CharField(max_length=64, verbose_name="根哈希")),
                ("timestamp_ms", models.BigIntegerField(verbose_name="时间戳（毫秒）")),
                ("key_id", models.CharField(max_length=32, verbose_name="密钥标识")),
                (
                    "signature",
                    models.CharField(
                        help_text="SM2 签名（DER，十六进制）", max_length=200, verbose_name="签名"
                    ),
                ),
            ],
            options={
                "verbose_name": "签名树头",
                "verbose_name_plural": "签名树头",
                "ordering": ["tree_size"],
            },
        ),
        migrations.CreateModel(
            name="EvidenceNode",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("level", models.PositiveSmallIntegerField()),
                ("index", models.BigIntegerField()),
                ("hash", models.CharField(max_length=64)),
            ],
            options={
                "verbose_name": "默克尔树节点",
                "verbose_name_plural": "默克尔树节点",
                "constraints": [
                    models.UniqueConstraint(fields=("level", "index"), name="core_evidence_node_once")
                ],
            },
        ),
        migrations.AddField(
            model_name="auditentry",
            name="uuid",
            field=models.UUIDField(null=True, editable=False, verbose_name="存证标识"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="format",
            field=models.PositiveSmallIntegerField(default=1, verbose_name="格式"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="leaf_hash",
            field=models.CharField(default="", max_length=64, verbose_name="叶子哈希"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditentry",
            name="canonical",
            field=models.TextField(
                blank=True,
                default="",
                help_text="写入时的规范化记录（UTF-8 JSON），其 SM3 叶子哈希在树中",
                verbose_name="规范化记录",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(legacy_entries_fill, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="auditentry", name="entry_hash"),
        migrations.AlterField(
            model_name="auditentry",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="存证标识"),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="format",
            field=models.PositiveSmallIntegerField(
                default=2, help_text="1 = 原哈希链记录，2 = 存证日志记录", verbose_name="格式"
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="leaf_hash",
            field=models.CharField(
                db_index=True,
                help_text="SM3(0x00 ‖ 规范化记录)，十六进制",
                max_length=64,
                verbose_name="叶子哈希",
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(blank=True, help_text="仅格式 1：原哈希链的前序哈希", max_length=64),
        ),
        migrations.RemoveField(model_name="auditentry", name="id"),
        migrations.AlterField(
            model_name="auditentry",
            name="seq",
            field=models.BigAutoField(
                help_text="写入顺序号（数据库序列分配）",
                primary_key=True,
                serialize=False,
                verbose_name="序号",
            ),
        ),
        migrations.RunPython(reset_seq_sequence, migrations.RunPython.noop, elidable=False),
        migrations.CreateModel(
            name="EvidenceLeaf",
            fields=[
                (
                    "leaf_index",
                    models.BigIntegerField(primary_key=True, serialize=False, verbose_name="叶子序号"),
                ),
                ("leaf_hash", models.BinaryField(max_length=32, verbose_name="叶子哈希")),
                (
                    "entry",
                    models.OneToOneField(
                        db_column="seq",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="leaf",
                        to="core.auditentry",
                        verbose_name="记录",
                    ),
                ),
            ],
            options={
                "verbose_name": "已上链叶子",
                "verbose_name_plural": "已上链叶子",
                "ordering": ["leaf_index"],
            },
        ),
        migrations.CreateModel(
            name="EvidencePending",
            fields=[("seq", models.BigIntegerField(primary_key=True, serialize=False))],
            options={"verbose_name": "待上链记录", "verbose_name_plural": "待上链记录"},
        ),
        migrations.RunPython(legacy_entries_to_leaves, drop_queue_trigger, elidable=False),
        migrations.DeleteModel(name="AuditCheckpoint"),
        migrations.DeleteModel(name="AuditHead"),
    ]
