"""Chinese full-text search over the resource catalogue (jieba tokens in a database full-text index), after
`catalog/search.py`, whose approach it copies:

- SQLite: an FTS5 virtual table `datahub_resource_fts(name, keywords, body)` whose rowid is the resource's id,
  ranked with bm25 (name weighs 10, keywords 5, body 1).
- PostgreSQL: a side table `datahub_resource_search(resource_id, document tsvector)` built with the 'simple'
  configuration (no stemming, no stop words) and weights A/B/C, with a GIN index; ranked with ts_rank.

Columns: name = the resource name; keywords = code, provider department, theme, source system and the field
labels; body = the summary. Every version is indexed whatever its status (drafts are searchable by their own
department and the centre): the selectors join the visible rows, so scoping is theirs. The catalogue services
call `search_index_resources` in the transaction of every change of what is indexed, and keep the model's
`search_text` (the same tokens, for reading and for databases without an index) in step.

The tables are created by migration 0006 and, for databases built without migrations (the test suite's
--no-migrations), by `search_schema_ensure` from the post_migrate hook connected in `DatahubConfig.ready()`.
No foreign key to the resource table (as in the service catalogue: `flush` must be able to truncate it).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection as default_connection
from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from yiwang.core.text import add_domain_words, query_words, search_words

FTS_TABLE = "datahub_resource_fts"
PG_TABLE = "datahub_resource_search"
MAX_QUERY_TOKENS = 12

DOMAIN_WORDS = (
    "低保对象",
    "最低生活保障",
    "高龄津贴",
    "不动产登记",
    "婚姻登记",
    "社保参保",
    "企业年报",
    "行政处罚",
    "出生医学证明",
    "残疾人",
    "统一社会信用代码",
    "公民身份号码",
    "行政区划",
    "电子证照",
    "办件统计",
    "事件统计",
    "人口基础信息",
    "法人基础信息",
    "特困人员",
    "退役军人",
    "公积金",
    "医保参保",
    "学籍",
    "网格",
)

add_domain_words(DOMAIN_WORDS)


def tokens_for_index(text: str) -> list[str]:
    return search_words(text)


def tokens_for_query(q: str) -> list[str]:
    """Words of a query (accurate mode), de-duplicated, at most MAX_QUERY_TOKENS."""
    return query_words(q, MAX_QUERY_TOKENS)


# --- schema ------------------------------------------------------------------------------------------------
def search_schema_ensure(connection=None) -> None:
    """Creates the index table if missing (idempotent), once the resource table exists."""
    connection = connection or default_connection
    if "datahub_dataresource" not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
                "name, keywords, body, tokenize = 'unicode61 remove_diacritics 2')"
            )
        elif connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {PG_TABLE} "
                "(resource_id bigint PRIMARY KEY, document tsvector NOT NULL)"
            )
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {PG_TABLE}_document_gin ON {PG_TABLE} USING gin (document)"
            )


def ensure_after_migrate(sender, using, **kwargs) -> None:
    """post_migrate: databases built without migrations get the index table too (where the datahub
    migrations are recorded, migration 0006 owns it)."""
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    recorder = MigrationRecorder(connection)
    if recorder.has_table() and recorder.migration_qs.filter(app="datahub").exists():
        return
    search_schema_ensure(connection)


def search_supported(connection=None) -> bool:
    return (connection or default_connection).vendor in ("sqlite", "postgresql")


# --- documents -----------------------------------------------------------------------------------------------
def _parts(resource, labels: list[str]) -> tuple[str, str, str]:
    keywords = " ".join(
        [
            resource.code,
            resource.provider.name,
            resource.theme or "",
            resource.source_system or "",
            " ".join(labels),
        ]
    )
    return (
        " ".join(tokens_for_index(resource.name)),
        " ".join(tokens_for_index(keywords)),
        " ".join(tokens_for_index(resource.summary or "")),
    )


def search_text_for(resource, labels: Iterable[str]) -> str:
    """The `search_text` column: every token of name, keywords and summary."""
    return " ".join(part for part in _parts(resource, list(labels)) if part)[:20000]


def search_unindex(resource_ids: Iterable[int], connection=None) -> None:
    ids = [int(pk) for pk in resource_ids]
    connection = connection or default_connection
    if not ids or not search_supported(connection):
        return
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({placeholders})", ids)
        else:
            cursor.execute(f"DELETE FROM {PG_TABLE} WHERE resource_id IN ({placeholders})", ids)


def search_index_resources(resources: Iterable, labels: dict[int, list[str]], connection=None) -> int:
    """(Re)indexes resources (provider selected); `labels` = field labels by resource id."""
    connection = connection or default_connection
    resources = list(resources)
    if not resources or not search_supported(connection):
        return 0
    search_unindex([r.pk for r in resources], connection)
    rows = [(r.pk, *_parts(r, labels.get(r.pk, []))) for r in resources]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.executemany(
                f"INSERT INTO {FTS_TABLE} (rowid, name, keywords, body) VALUES (%s, %s, %s, %s)", rows
            )
        else:
            cursor.executemany(
                f"INSERT INTO {PG_TABLE} (resource_id, document) VALUES (%s, "
                "setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'B') "
                "|| setweight(to_tsvector('simple', %s), 'C'))",
                rows,
            )
    return len(rows)


def search_refresh(resources: Iterable) -> None:
    """Re-tokenises resources after a change: `search_text` and the index row, in the caller's transaction."""
    from .models import DataResource, ResourceField

    resources = list(resources)
    if not resources:
        return
    labels: dict[int, list[str]] = {r.pk: [] for r in resources}
    for resource_id, label in (
        ResourceField.objects.filter(resource_id__in=labels)
        .order_by("position", "id")
        .values_list("resource_id", "label")
    ):
        labels[resource_id].append(label)
    for resource in resources:
        text = search_text_for(resource, labels[resource.pk])
        if text != resource.search_text:
            resource.search_text = text
            DataResource.objects.filter(pk=resource.pk).update(search_text=text)
    search_index_resources(resources, labels)


def search_index_count(connection=None) -> int:
    connection = connection or default_connection
    if not search_supported(connection):
        return 0
    table = FTS_TABLE if connection.vendor == "sqlite" else PG_TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def search_rebuild(connection=None) -> int:
    """Re-indexes every resource from scratch (after a restore, a bulk load or a tokenizer change)."""
    from .models import DataResource

    connection = connection or default_connection
    if not search_supported(connection):
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE if connection.vendor == 'sqlite' else PG_TABLE}")
    total = 0
    batch: list = []
    for resource in DataResource.objects.select_related("provider").order_by("pk").iterator(chunk_size=500):
        batch.append(resource)
        if len(batch) == 500:
            search_refresh(batch)
            total += len(batch)
            batch = []
    search_refresh(batch)
    return total + len(batch)


# --- matching ------------------------------------------------------------------------------------------------
def search_match(
    queryset: QuerySet, tokens: list[str], *, match_all: bool, rank: bool = True
) -> QuerySet | None:
    """`queryset` narrowed to resources matching the tokens (all, or any; each as a prefix). With `rank`, the
    index table is joined and `search_rank` (higher is better) selected from it — one join, not a correlated
    lookup per row, so ranking thousands of matches stays cheap; without it, a semi-join (`id IN …`) that
    composes with aggregates (the facet counts). None on an unsupported database."""
    connection = connections[queryset.db]
    if not tokens or not search_supported(connection):
        return None
    table = queryset.model._meta.db_table
    if connection.vendor == "sqlite":
        expression = (" " if match_all else " OR ").join(f'"{token}"*' for token in tokens)
        if rank:
            return queryset.extra(
                tables=[FTS_TABLE],
                where=[f'{FTS_TABLE}.rowid = "{table}"."id"', f"{FTS_TABLE} MATCH %s"],
                params=[expression],
                select={"search_rank": f"-bm25({FTS_TABLE}, 10.0, 5.0, 1.0)"},
            )
        matching = RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [expression])
    else:
        expression = (" & " if match_all else " | ").join(f"'{token}':*" for token in tokens)
        if rank:
            return queryset.extra(
                tables=[PG_TABLE],
                where=[
                    f'{PG_TABLE}.resource_id = "{table}"."id"',
                    f"{PG_TABLE}.document @@ to_tsquery('simple', %s)",
                ],
                params=[expression],
                select={"search_rank": f"ts_rank({PG_TABLE}.document, to_tsquery('simple', %s))"},
                select_params=[expression],
            )
        matching = RawSQL(
            f"SELECT resource_id FROM {PG_TABLE} WHERE document @@ to_tsquery('simple', %s)", [expression]
        )
    return queryset.filter(id__in=matching)
