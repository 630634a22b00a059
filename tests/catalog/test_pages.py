"""The public catalogue pages: search with filters, the guide with materials and the process diagram."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.catalog.test_search import catalogue  # noqa: F401 — fixture
from tests.factories import AccountFactory
from yiwang.catalog import services, views
from yiwang.core.permissions import PUBLIC

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_pages_are_public():
    assert views.catalog_index.yiwang_permission is PUBLIC
    assert views.catalog_guide.yiwang_permission is PUBLIC
    assert (
        reverse("catalog:index") == "/services/"
        and reverse("catalog:guide", args=["SCJ-XK-001"]) == "/services/SCJ-XK-001/"
    )


def test_index_lists_and_filters(client, catalogue, django_assert_max_num_queries):  # noqa: F811
    # themes, departments and one page of items; nothing per row.
    with django_assert_max_num_queries(4):
        response = client.get(reverse("catalog:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "高龄津贴申领" in html and "食品经营许可（仅销售预包装食品备案除外）" in html
    assert 'href="/services/MZJ-GF-001/"' in html and "示范区民政局" in html
    assert "全程网办" in html and "最多跑一次" in html  # depth badges
    assert "承诺 10 个工作日" in html
    assert '<option value="yanglao">养老（1）</option>' in html
    assert '<option value="SCJ">示范区市场监督管理局（2）</option>' in html


def test_index_search_in_chinese(client, catalogue):  # noqa: F811
    response = client.get(reverse("catalog:index"), {"q": "津贴", "target": "person"})
    items = [i.code for i in response.context["page"].items]
    assert items == ["MZJ-GF-001", "MZJ-GF-002"]
    html = response.content.decode()
    assert "与“津贴”相关的事项" in html and 'value="津贴"' in html
    response = client.get(reverse("catalog:index"), {"q": "食品", "department": "MZJ"})
    assert "没有找到与“食品”相关的事项。" in response.content.decode()


def test_index_htmx_returns_the_results_only(client, catalogue, django_assert_max_num_queries):  # noqa: F811
    with django_assert_max_num_queries(1):
        response = client.get(
            reverse("catalog:index"),
            {"q": "食品"},
            headers={"HX-Request": "true", "HX-Target": "catalog-results"},
        )
    html = response.content.decode()
    assert html.strip().startswith('<div id="catalog-results"') and "<html" not in html
    assert "食品生产许可" in html


def test_index_bad_filters_show_messages(client, catalogue):  # noqa: F811
    response = client.get(reverse("catalog:index"), {"depth": "9", "cursor": "zzz"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "网办深度应为 1 至 4 级。" in html


def test_index_pages_with_next_link(client, catalogue):  # noqa: F811
    from yiwang.catalog.models import ServiceItem

    template = catalogue["allowance"]
    ServiceItem.objects.bulk_create(
        ServiceItem(
            code=f"MZJ-GG-{n:03d}",
            name=f"殡葬服务{n}",
            department=template.department,
            item_type="public_service",
            statutory_days=5,
            committed_days=1,
            status="published",
            form_schema=template.form_schema,
            process=template.process,
        )
        for n in range(1, 21)
    )
    first = client.get(reverse("catalog:index"), {"department": "MZJ"})
    assert len(first.context["page"].items) == 20
    next_url = first.context["next_url"]
    assert (
        next_url.startswith("?department=MZJ&cursor=")
        and f'href="/services/{next_url}"'.replace("&", "&amp;") in first.content.decode()
    )
    second = client.get(reverse("catalog:index") + next_url)
    assert [i.code for i in second.context["page"].items] == ["MZJ-GG-019", "MZJ-GG-020", "MZJ-QR-001"]


def test_index_for_a_logged_in_citizen(client, catalogue, django_assert_max_num_queries):  # noqa: F811
    client.force_login(AccountFactory(citizen=True))
    with django_assert_max_num_queries(
        10
    ):  # session, account, its person, nav, unread badge + 3 catalogue reads
        response = client.get(reverse("catalog:index"), {"q": "食品"})
    assert response.status_code == 200
    # the same results as for a visitor, under the signed-in header (messages, log out) instead of "登录"
    assert [i.code for i in response.context["page"].items] == ["SCJ-XK-001", "SCJ-XK-002"]
    html = response.content.decode()
    assert "与“食品”相关的事项" in html and 'href="/services/SCJ-XK-002/"' in html
    assert "高龄津贴申领" not in html
    assert 'data-unread="0"' in html and "退出登录" in html and ">登录</a>" not in html


def test_guide_page(client, catalogue, django_assert_max_num_queries):  # noqa: F811
    with django_assert_max_num_queries(4):  # item, themes, materials (+ no per-row queries)
        response = client.get(reverse("catalog:guide", args=["SCJ-XK-001"]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "食品经营许可（仅销售预包装食品备案除外）",
        "具有与经营的食品品种、数量相适应的场所。",  # conditions
        "居民身份证",
        "可容缺",
        "免提交",
        "法定时限",
        "承诺时限",
        "现场核查",
        "办理地点与方式",
        "在线申请",
        "SCJ-XK-001",
    ):
        assert text in html, text
    # The process diagram: one box per step and the branches as pills.
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert svg.count('class="n-step"') == 5
    assert "不予受理" in svg and "补正告知 ↺" in svg and "不予许可" in svg and "退回重审" in svg
    assert 'class="n-approved"' in svg
    assert re.search(r'viewBox="0 0 470 \d+(\.\d+)?"', svg)
    assert 'href="/cases/apply/SCJ-XK-001/"' in html or 'href="#"' in html


def test_guide_apply_url_falls_back(monkeypatch):
    from django.urls import NoReverseMatch

    def boom(*args, **kwargs):
        raise NoReverseMatch("no cases yet")

    monkeypatch.setattr(views, "reverse", boom)
    assert views.apply_url("SCJ-XK-001") == "#"


def test_guide_404_for_unknown_and_suspended(client, catalogue):  # noqa: F811
    assert client.get(reverse("catalog:guide", args=["NOPE-1"])).status_code == 404
    services.item_suspend(actor=None, item=catalogue["allowance"])
    assert client.get(reverse("catalog:guide", args=["MZJ-GF-001"])).status_code == 404


@pytest.mark.parametrize("key", ["std", "instant", "public"])
def test_guide_diagram_for_each_template(client, department, key):
    from tests.catalog.conftest import make_item, process

    make_item(department, code=f"P-{key.upper()}-1", process=process(key))
    response = client.get(reverse("catalog:guide", args=[f"P-{key.upper()}-1"]))
    assert response.status_code == 200
    diagram = response.context["diagram"]
    steps = [n for n in diagram.nodes if n.kind == "step"]
    assert len(steps) == len(process(key)["steps"])
    # Boxes never overlap and everything fits in the drawing.
    for a, b in zip(steps, steps[1:], strict=False):
        assert b.y >= a.y + a.h
    assert all(n.y + n.h <= diagram.height and n.x + n.w <= diagram.width for n in diagram.nodes)
