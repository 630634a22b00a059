"""Chinese full-text search (jieba tokens in SQLite FTS5 / PostgreSQL tsvector) with filters and paging."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tests.catalog.conftest import make_item, organisation_form, process
from tests.factories import DepartmentFactory
from yiwang.catalog import search, services
from yiwang.catalog.models import Theme
from yiwang.catalog.selectors import RANKED_MAX, departments_with_items, item_search, themes_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(department, other_department, themes):
    """A small catalogue: the food licence (organisations, SCJ), the old-age allowance (persons, MZJ) and a few
    neighbours that share words with them."""
    food = make_item(
        other_department,
        code="SCJ-XK-001",
        name="食品经营许可（仅销售预包装食品备案除外）",
        item_type="licensing",
        target="organisation",
        keywords="餐饮 小餐饮 超市",
        conditions="具有与经营的食品品种、数量相适应的场所。",
        guide="在线申请食品经营许可证。",
        form_schema=organisation_form(),
        process=process("inspect"),
        online_depth=3,
        on_site_visits=1,
        themes=["jyxk"],
    )
    production = make_item(
        other_department,
        code="SCJ-XK-002",
        name="食品生产许可",
        item_type="licensing",
        target="organisation",
        keywords="加工",
        conditions="",
        guide="食品生产企业申请。",
        form_schema=organisation_form(),
        themes=["jyxk"],
    )
    allowance = make_item(department, code="MZJ-GF-001", name="高龄津贴申领", themes=["yanglao"])
    care = make_item(
        department,
        code="MZJ-GF-002",
        name="经济困难老年人养老服务补贴",
        keywords="居家养老 津贴",
        target="both",
    )
    marriage = make_item(
        department,
        code="MZJ-QR-001",
        name="结婚登记",
        item_type="confirmation",
        keywords="领证",
        conditions="男女双方",
        guide="",
    )
    return {
        "food": food,
        "production": production,
        "allowance": allowance,
        "care": care,
        "marriage": marriage,
    }


def codes(page) -> list[str]:
    return [item.code for item in page.items]


def test_tokenizer_segments_chinese():
    assert "食品" in search.tokens_for_index("食品经营许可（仅销售预包装食品备案除外）")
    assert "津贴" in search.tokens_for_index("高龄津贴申领")
    assert search.tokens_for_query("  食品经营！ ") == ["食品经营"]
    assert search.tokens_for_query("高龄津贴 高龄津贴") == ["高龄津贴"]
    assert search.tokens_for_query("？？") == []


def test_chinese_queries_find_items(catalogue):
    assert codes(item_search(q="食品")) == ["SCJ-XK-001", "SCJ-XK-002"]  # twice in the first name
    assert codes(item_search(q="食品经营")) == ["SCJ-XK-001"]
    assert codes(item_search(q="津贴"))[0] == "MZJ-GF-001"  # in the name: ranks above a keyword match
    assert set(codes(item_search(q="津贴"))) == {"MZJ-GF-001", "MZJ-GF-002"}
    assert codes(item_search(q="高龄津贴")) == ["MZJ-GF-001"]
    assert codes(item_search(q="预包装")) == ["SCJ-XK-001"]
    assert codes(item_search(q="餐饮")) == ["SCJ-XK-001"]  # a keyword
    assert codes(item_search(q="领证")) == ["MZJ-QR-001"]
    assert set(codes(item_search(q="民政局"))) == {"MZJ-GF-001", "MZJ-GF-002", "MZJ-QR-001"}  # the department
    assert codes(item_search(q="养老")) and "MZJ-GF-001" in codes(item_search(q="养老"))  # the theme name
    assert codes(item_search(q="SCJ-XK-001")) == ["SCJ-XK-001"]
    assert item_search(q="航天飞机").items == []


def test_any_word_fallback_and_prefixes(catalogue):
    # "食品" and "结婚" never occur together: every word fails, any word finds both groups.
    assert {"SCJ-XK-001", "MZJ-QR-001"} <= set(codes(item_search(q="食品 结婚")))
    assert "MZJ-GF-001" in codes(item_search(q="高龄"))
    assert codes(item_search(q="食")) == ["SCJ-XK-001", "SCJ-XK-002"]
    # A query word hidden inside a longer indexed word falls back to its sub-words.
    assert codes(item_search(q="经营许可证"))[0] == "SCJ-XK-001"
    assert codes(item_search(q="养老补贴"))[0] == "MZJ-GF-002"  # both words; the allowance has only 补贴


def test_filters_narrow(catalogue, other_department):
    assert codes(item_search(q="许可", department="SCJ")) == codes(
        item_search(q="许可", department=other_department)
    )
    assert set(codes(item_search(department="MZJ"))) == {"MZJ-GF-001", "MZJ-GF-002", "MZJ-QR-001"}
    assert codes(item_search(q="食品", theme="jyxk")) == ["SCJ-XK-001", "SCJ-XK-002"]
    assert codes(item_search(theme="yanglao")) == ["MZJ-GF-001"]
    assert codes(item_search(q="食品", depth=3)) == ["SCJ-XK-001"]
    assert codes(item_search(q="津贴", target="organisation")) == [
        "MZJ-GF-002"
    ]  # "both" serves organisations too
    assert set(codes(item_search(q="津贴", target="person"))) == {"MZJ-GF-001", "MZJ-GF-002"}
    assert codes(item_search(target="both")) == ["MZJ-GF-002"]
    assert item_search(q="食品", department="MZJ").items == []


def test_bad_filters_are_field_errors(catalogue):
    with pytest.raises(ValidationError) as exc:
        item_search(target="aliens", depth=7, q="字" * 101)
    assert exc.value.message_dict == {
        "q": ["搜索词太长，最多 100 个字符。"],
        "target": ["服务对象应为 person（自然人）、organisation（法人）或 both。"],
        "depth": ["网办深度应为 1 至 4 级。"],
    }
    with pytest.raises(ValidationError) as exc:
        item_search(q="食品", cursor="garbage")
    assert exc.value.message_dict == {"cursor": ["分页游标无效，请从第一页重新开始。"]}


def test_suspended_and_superseded_vanish(catalogue):
    services.item_suspend(actor=None, item=catalogue["food"])
    assert codes(item_search(q="食品")) == ["SCJ-XK-002"]
    assert "SCJ-XK-001" not in codes(item_search(limit=50))
    draft = services.item_new_version(actor=None, item=catalogue["allowance"])
    services.item_update_draft(actor=None, item=draft, name="长寿津贴申领")
    services.item_publish(actor=None, item=draft)
    assert codes(item_search(q="高龄")) == []  # the old name left the index with the old version
    assert codes(item_search(q="高龄津贴"))[0] == "MZJ-GF-001"  # still found by 津贴, under its new name
    assert codes(item_search(q="长寿")) == ["MZJ-GF-001"]
    assert search.search_index_count() == 4


def test_keyset_pages_by_code_and_ranked_pages(catalogue, django_assert_num_queries):
    with django_assert_num_queries(1):
        first = item_search(limit=2)
    assert codes(first) == ["MZJ-GF-001", "MZJ-GF-002"] and first.next_cursor
    second = item_search(limit=2, cursor=first.next_cursor)
    assert codes(second) == ["MZJ-QR-001", "SCJ-XK-001"]
    third = item_search(limit=2, cursor=second.next_cursor)
    assert codes(third) == ["SCJ-XK-002"] and third.next_cursor is None
    with django_assert_num_queries(1):
        ranked = item_search(q="津贴", limit=1)
    assert codes(ranked) == ["MZJ-GF-001"] and ranked.next_cursor
    rest = item_search(q="津贴", limit=1, cursor=ranked.next_cursor)
    assert codes(rest) == ["MZJ-GF-002"] and rest.next_cursor is None
    with django_assert_num_queries(1):
        for item in item_search(q="食品").items:
            assert item.department.name  # selected with the item


def test_ranked_results_are_bounded(department):
    """More than RANKED_MAX matches: the pages stop at the cap."""
    from yiwang.catalog.models import ServiceItem

    template = make_item(department, code="B-GG-000", name="证明开具")
    rows = [
        ServiceItem(
            code=f"B-GG-{n:03d}",
            name=f"证明开具{n}",
            department=department,
            item_type="public_service",
            statutory_days=5,
            committed_days=1,
            status="published",
            form_schema=template.form_schema,
            process=template.process,
        )
        for n in range(1, RANKED_MAX + 5)
    ]
    ServiceItem.objects.bulk_create(rows)
    search.search_rebuild()
    seen, cursor = 0, None
    for _ in range(10):
        page = item_search(q="证明", limit=50, cursor=cursor)
        seen += len(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == RANKED_MAX
    assert len(item_search(limit=200).items) == 200 and item_search(limit=200).next_cursor


def test_themes_and_departments_with_counts(catalogue, django_assert_num_queries):
    Theme.objects.create(code="empty", name="空主题", audience="person", sort=9)
    with django_assert_num_queries(1):
        themes = {t.code: t.item_count for t in themes_list()}
    assert themes == {"yanglao": 1, "empty": 0, "jyxk": 2}
    DepartmentFactory(code="EMPTY")
    with django_assert_num_queries(1):
        departments = [(d.code, d.item_count) for d in departments_with_items()]
    assert departments == [("MZJ", 3), ("SCJ", 2)]


def test_index_schema_exists_on_this_backend():
    assert search.search_supported(connection)
    table = search.FTS_TABLE if connection.vendor == "sqlite" else search.PG_TABLE
    assert table in connection.introspection.table_names()
    search.search_schema_ensure(connection)  # idempotent


def test_cursor_of_one_kind_is_refused_by_the_other(catalogue):
    ranked = item_search(q="津贴", limit=1).next_cursor
    by_code = item_search(limit=1).next_cursor
    for kwargs in ({"cursor": ranked}, {"q": "津贴", "cursor": by_code}):
        with pytest.raises(ValidationError) as exc:
            item_search(limit=1, **kwargs)
        assert exc.value.message_dict == {"cursor": ["分页游标无效，请从第一页重新开始。"]}


def test_reindex_command(catalogue):
    from io import StringIO

    from django.core.management import call_command

    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {search.FTS_TABLE if connection.vendor == 'sqlite' else search.PG_TABLE}"
        )
    assert item_search(q="长寿金").items == []  # a keyword: only the index knows it
    out = StringIO()
    call_command("catalog_reindex", stdout=out)
    assert out.getvalue().strip() == "已重建索引：5 个已发布事项。"
    assert codes(item_search(q="长寿金")) == ["MZJ-GF-001"]
