"""Pages: 我的工作台 (/collab/) — tabs with counts, toggles, items linking to their module's page, the HTMX "more",
bad input as a message (no 500), query counts constant in the number of items; the navigation entry and the
home cards."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.collab.workbench_rows import (  # noqa: F401  (the autouse fixture)
    _fresh_activity_memo,
    case_at,
    incident,
    review_item,
)
from tests.collab.world import build_collab_world
from tests.factories import AccountFactory
from yiwang.core.workbench import LOCAL

pytestmark = pytest.mark.django_db
URL = "/collab/"


@pytest.fixture
def w(db, clock):
    world = build_collab_world()
    item = review_item(world.d_scj)
    world.cases = [case_at(item, due=date(2026, 2, 27)), case_at(item, due=date(2026, 3, 9))]
    world.incidents = [incident(department=world.d_scj, due=datetime(2026, 3, 3, 12, tzinfo=LOCAL))]
    return world


def _login(client, staff):
    client.force_login(staff.account)
    return client


def test_the_list_with_tabs_lights_and_links(client, w):
    _login(client, w.scj_approver)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "我的工作台" in html
    assert f'href="/cases/{w.cases[0].public_id}/work/"' in html
    assert f'href="/incidents/{w.incidents[0].public_id}/"' in html
    assert 'data-light="red"' in html and 'data-light="yellow"' in html and 'data-light="green"' in html
    assert 'data-count="cases">2<' in html and 'data-count="incidents">1<' in html
    assert response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]


def test_a_count_at_the_cap_shows_a_plus(client, w, monkeypatch):
    from yiwang.collab import views_workbench
    from yiwang.collab.selectors import workbench as selector

    monkeypatch.setattr(selector, "COUNT_CAP", 2)
    monkeypatch.setattr(views_workbench, "COUNT_CAP", 2)
    html = _login(client, w.scj_approver).get(URL).content.decode()
    assert 'data-count="cases">2+<' in html and 'data-count="incidents">1<' in html
    assert 'data-count="">3+<' in html  # 全部: a capped tab makes the sum a lower bound


def test_tabs_and_toggles_filter(client, w):
    _login(client, w.scj_approver)
    html = client.get(URL, {"source": "incidents"}).content.decode()
    assert w.incidents[0].number in html and w.cases[0].number not in html
    html = client.get(URL, {"overdue": "1"}).content.decode()
    assert w.cases[0].number in html and w.cases[1].number not in html and w.incidents[0].number not in html
    html = client.get(URL, {"soon": "1"}).content.decode()
    assert w.cases[0].number in html and w.incidents[0].number in html and w.cases[1].number not in html


def test_more_with_htmx(client, w):
    _login(client, w.scj_approver)
    from tests.collab.world import principal
    from yiwang.collab.selectors.workbench import workbench_page

    _entries, cursor, _counts = workbench_page(principal(w.scj_approver), limit=1)
    response = client.get(URL, {"cursor": cursor}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<tr" in html
    assert w.incidents[0].number in html and w.cases[0].number not in html
    assert 'id="workbench-more"' not in html  # the last page
    first = client.get(URL).content.decode()
    assert 'id="workbench-more"' not in first  # three items: one page


def test_bad_input_is_a_message_not_an_error(client, w):
    _login(client, w.scj_approver)
    response = client.get(URL, {"cursor": "garbage", "source": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_who_may_open_it(client, w):
    assert client.get(URL).status_code == 302  # to the login page
    client.force_login(AccountFactory(citizen=True))
    assert client.get(URL).status_code == 403
    _login(client, w.village_clerks[0])
    response = client.get(URL)
    assert response.status_code == 200
    assert "没有等待您办理的事项" in response.content.decode()


def test_page_queries_are_constant_in_the_items(client, w, django_assert_max_num_queries):
    _login(client, w.scj_approver)
    client.get(URL)
    with django_assert_max_num_queries(60) as few:
        client.get(URL)
    item = w.cases[0].item
    for d in range(10, 28):
        case_at(item, due=date(2026, 3, d))
        incident(department=w.d_scj, due=datetime(2026, 3, d, 9, tzinfo=LOCAL))
    # (+3: per-process memos of a few seconds — the catalogue stamp, department chains — may expire between)
    with django_assert_max_num_queries(len(few.captured_queries) + 3):
        response = client.get(URL)
    assert response.content.decode().count("<tr data-source=") == 20


def test_navigation_and_home_card(client, w):
    _login(client, w.leader)
    response = client.get("/")
    html = response.content.decode()
    assert 'href="/collab/"' in html
    assert "领导工作台" in html
    _login(client, w.scj_approver)
    assert 'href="/collab/"' in client.get("/").content.decode()
    client.force_login(AccountFactory(citizen=True))
    assert 'href="/collab/"' not in client.get("/").content.decode()
