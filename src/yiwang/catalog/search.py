"""Chinese full-text search over published service items (jieba tokens in a database full-text index).

Neither SQLite nor PostgreSQL segments Chinese, so the text is segmented here with jieba and stored as
space-separated tokens; the database then only has to split on spaces:

- SQLite: an FTS5 virtual table `catalog_item_fts(name, keywords, body)` whose rowid is the item's id,
  ranked with bm25 (name weighs 10, keywords 5, body 1).
- PostgreSQL: a side table `catalog_item_search(item_id, document tsvector)` built with the 'simple'
  configuration (no stemming, no stop words) and weights A/B/C, with a GIN index; ranked with ts_rank.

Columns: name = the item name; keywords = keywords, code, department, themes and item type; body = conditions
and guide. Only published items are indexed: the services call `search_index_items` on publish and
`search_unindex` on supersede/suspend, in the same transaction as the status change.

The index tables are created by migration 0002 and, for databases built without migrations (the test suite
runs with --no-migrations, `migrate --run-syncdb`), by `search_schema_ensure` from a post_migrate hook. They
have no foreign key to the item table on purpose: `flush` truncates only model tables, and a foreign key would
make PostgreSQL refuse to truncate catalog_serviceitem. A row left behind for a deleted item matches nothing,
because every search joins the published items.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection as default_connection
from django.db import connections
from django.db.models import FloatField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import translation

from yiwang.core.text import add_domain_words, query_words, search_words

FTS_TABLE = "catalog_item_fts"
PG_TABLE = "catalog_item_search"
MAX_QUERY_TOKENS = 12

# Terms jieba's default dictionary splits or misses; as whole words they rank higher when typed whole.
DOMAIN_WORDS = (
    "营业执照",
    "食品经营许可",
    "食品经营",
    "预包装食品",
    "高龄津贴",
    "最低生活保障",
    "低保",
    "居住证",
    "社保卡",
    "社会保障卡",
    "失业登记",
    "就业困难人员",
    "结婚登记",
    "离婚登记",
    "户口迁移",
    "出生登记",
    "容缺受理",
    "告知承诺",
    "一件事",
    "公积金",
    "残疾人证",
    "退役军人",
    "优待证",
    "施工许可",
    "户外广告",
    "排污许可",
    "道路运输",
    "网约车",
    "医师执业",
    "护士执业",
    "生育登记",
    "出生医学证明",
    "二手房",
    "不动产登记",
    "人才引进",
)

add_domain_words(DOMAIN_WORDS)


def tokens_for_index(text: str) -> list[str]:
    """Search-mode segmentation: whole words and their dictionary sub-words (食品经营许可 → 食品, 经营, 许可, …)."""
    return search_words(text)


def tokens_for_query(q: str) -> list[str]:
    """Words of a query (accurate mode), de-duplicated, at most MAX_QUERY_TOKENS."""
    return query_words(q, MAX_QUERY_TOKENS)


# --- schema ------------------------------------------------------------------------------------------------
def _vendor(connection) -> str:
    return connection.vendor


def search_schema_ensure(connection=None) -> None:
    """Creates the index table if missing (idempotent). Only once the item table exists."""
    connection = connection or default_connection
    if "catalog_serviceitem" not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        if _vendor(connection) == "sqlite":
            cursor.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
                "name, keywords, body, tokenize = 'unicode61 remove_diacritics 2')"
            )
        elif _vendor(connection) == "postgresql":
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {PG_TABLE} (item_id bigint PRIMARY KEY, document tsvector NOT NULL)"
            )
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {PG_TABLE}_document_gin ON {PG_TABLE} USING gin (document)"
            )


def search_supported(connection=None) -> bool:
    return _vendor(connection or default_connection) in ("sqlite", "postgresql")


# --- documents -----------------------------------------------------------------------------------------------
def _document(item) -> tuple[str, str, str]:
    """(name, keywords, body) as space-separated tokens."""
    with translation.override("zh-hans"):
        item_type = str(item.get_item_type_display())
    themes = " ".join(theme.name for theme in item.themes.all())
    keywords = " ".join([item.keywords or "", item.code, item.department.name, themes, item_type])
    body = "\n".join([item.conditions or "", item.guide or ""])
    return (
        " ".join(tokens_for_index(item.name)),
        " ".join(tokens_for_index(keywords)),
        " ".join(tokens_for_index(body)),
    )


def search_unindex(item_ids: Iterable[int], connection=None) -> None:
    ids = [int(pk) for pk in item_ids]
    connection = connection or default_connection
    if not ids or not search_supported(connection):
        return
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        if _vendor(connection) == "sqlite":
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({placeholders})", ids)
        else:
            cursor.execute(f"DELETE FROM {PG_TABLE} WHERE item_id IN ({placeholders})", ids)


def search_index_items(items: Iterable, connection=None) -> int:
    """(Re)indexes items; pass them with department selected and themes prefetched to avoid extra queries."""
    connection = connection or default_connection
    items = list(items)
    if not items or not search_supported(connection):
        return 0
    search_unindex([item.pk for item in items], connection)
    rows = [(item.pk, *_document(item)) for item in items]
    with connection.cursor() as cursor:
        if _vendor(connection) == "sqlite":
            cursor.executemany(
                f"INSERT INTO {FTS_TABLE} (rowid, name, keywords, body) VALUES (%s, %s, %s, %s)", rows
            )
        else:
            cursor.executemany(
                f"INSERT INTO {PG_TABLE} (item_id, document) VALUES (%s, "
                "setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'B') "
                "|| setweight(to_tsvector('simple', %s), 'C'))",
                rows,
            )
    return len(rows)


def search_index_count(connection=None) -> int:
    connection = connection or default_connection
    if not search_supported(connection):
        return 0
    table = FTS_TABLE if _vendor(connection) == "sqlite" else PG_TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def search_rebuild(connection=None) -> int:
    """Re-indexes every published item from scratch (after a restore, or a change of the tokenizer)."""
    from .models import ServiceItem

    connection = connection or default_connection
    if not search_supported(connection):
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE if _vendor(connection) == 'sqlite' else PG_TABLE}")
    items = (
        ServiceItem.objects.filter(status=ServiceItem.Status.PUBLISHED)
        .select_related("department")
        .prefetch_related("themes")
        .order_by("pk")
    )
    total = 0
    batch: list = []
    for item in items.iterator(chunk_size=500):
        batch.append(item)
        if len(batch) == 500:
            total += search_index_items(batch, connection)
            batch = []
    return total + search_index_items(batch, connection)


# --- matching ------------------------------------------------------------------------------------------------
def search_match(queryset: QuerySet, tokens: list[str], *, match_all: bool) -> QuerySet | None:
    """`queryset` narrowed to items matching the tokens (all of them, or any), annotated with `search_rank`
    (higher is better). Every token matches as a prefix, so 食 finds 食品. None on an unsupported database."""
    connection = connections[queryset.db]
    if not tokens or not search_supported(connection):
        return None
    table = queryset.model._meta.db_table
    if _vendor(connection) == "sqlite":
        expression = (" " if match_all else " OR ").join(f'"{token}"*' for token in tokens)
        rank = (
            f"SELECT -bm25({FTS_TABLE}, 10.0, 5.0, 1.0) FROM {FTS_TABLE} "
            f'WHERE {FTS_TABLE} MATCH %s AND {FTS_TABLE}.rowid = "{table}"."id"'
        )
        matching = RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [expression])
    else:
        expression = (" & " if match_all else " | ").join(f"'{token}':*" for token in tokens)
        rank = (
            f"SELECT ts_rank(s.document, to_tsquery('simple', %s)) FROM {PG_TABLE} s "
            f'WHERE s.item_id = "{table}"."id"'
        )
        matching = RawSQL(
            f"SELECT item_id FROM {PG_TABLE} WHERE document @@ to_tsquery('simple', %s)", [expression]
        )
    return queryset.filter(id__in=matching).annotate(
        search_rank=RawSQL(rank, [expression], output_field=FloatField())
    )
