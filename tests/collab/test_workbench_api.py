"""API /api/collab/workbench: the list (filters, cursor, limit), the sources, the adoption figures; problem+json for
bad input (Chinese, English with Accept-Language: en), 401 anonymous, 403 without the permission; bounded
queries."""

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
BASE = "/api/collab/workbench"


@pytest.fixture
def w(db, clock):
    world = build_collab_world()
    item = review_item(world.d_scj)
    world.cases = [case_at(item, due=date(2026, 3, d)) for d in (3, 4, 5)]
    world.incidents = [
        incident(department=world.d_scj, due=datetime(2026, 3, 4, 12, tzinfo=LOCAL)),
        incident(department=world.d_scj, due=None),
    ]
    return world


def _login(client, staff):
    client.force_login(staff.account)
    return client


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def test_list_pages_through_everything(client, w):
    _login(client, w.scj_approver)
    body = client.get(BASE, {"limit": 2}).json()
    assert [i["reference"] for i in body["items"]] == [w.cases[0].number, w.incidents[0].number]
    first = body["items"][0]
    assert first["source"] == "cases" and first["source_label"] == "办件" and first["action"] == "审查"
    assert first["url"] == f"/cases/{w.cases[0].public_id}/work/"
    assert first["light"] == "yellow" and first["deadline"].startswith("2026-03-03T")
    assert "key" not in first  # internal ordering keys stay inside the cursor
    assert body["counts"]["cases"] == 3 and body["counts"]["incidents"] == 2
    refs = [i["reference"] for i in body["items"]]
    cursor = body["next_cursor"]
    while cursor:
        page = client.get(BASE, {"limit": 2, "cursor": cursor}).json()
        assert page["counts"] == {}
        refs += [i["reference"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert refs == [
        w.cases[0].number,
        w.incidents[0].number,
        w.cases[1].number,
        w.cases[2].number,
        w.incidents[1].number,
    ]


def test_filters(client, w):
    _login(client, w.scj_approver)
    only = client.get(BASE, {"source": "incidents"}).json()
    assert {i["source"] for i in only["items"]} == {"incidents"}
    soon = client.get(BASE, {"soon": "true"}).json()
    assert [i["reference"] for i in soon["items"]] == [w.cases[0].number]
    assert client.get(BASE, {"overdue": "true"}).json()["items"] == []


def test_sources(client, w):
    _login(client, w.scj_approver)
    ids = {s["id"] for s in client.get(f"{BASE}/sources").json()}
    assert {"cases", "incidents"} <= ids and "datahub.share" not in ids


@pytest.mark.parametrize(
    "params,field",
    [
        ({"cursor": "garbage!"}, "cursor"),
        ({"source": "nope"}, "source"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"overdue": "maybe"}, "overdue"),
    ],
)
def test_bad_input_is_422(client, w, params, field):
    _login(client, w.scj_approver)
    body = _problem(client.get(BASE, params), 422)
    assert any(e["field"].endswith(field) for e in body["errors"]), body


def test_bad_cursor_in_english(client, w):
    _login(client, w.scj_approver)
    body = _problem(client.get(BASE, {"cursor": "garbage!"}, HTTP_ACCEPT_LANGUAGE="en"), 422)
    message = body["errors"][0]["message"]
    assert message and not any("\u4e00" <= ch <= "\u9fff" for ch in message), message


def test_anonymous_and_citizens(client, w):
    _problem(client.get(BASE), 401)
    client.force_login(AccountFactory(citizen=True))
    _problem(client.get(BASE), 403)
    _problem(client.get(f"{BASE}/sources"), 403)


def test_adoption_needs_the_permission(client, w):
    _login(client, w.scj_approver)
    _problem(client.get(f"{BASE}/adoption"), 403)
    _login(client, w.office)
    body = client.get(f"{BASE}/adoption").json()
    assert body["day"] == "2026-03-02"
    scj = next(r for r in body["departments"] if r["code"] == "SCJ")
    assert scj["accounts"] == 3 and scj["overdue"] == 0
    assert {t["code"] for t in body["towns"]} == {"440199001", "440199002"}


def test_list_queries_do_not_grow_with_items(client, w, django_assert_max_num_queries):
    _login(client, w.scj_approver)
    client.get(BASE)  # warm the session, the principal cache and the inbox scope memo
    with django_assert_max_num_queries(40) as few:
        client.get(BASE, {"limit": 100})
    item = w.cases[0].item
    for d in range(1, 20):
        case_at(item, due=date(2026, 4, d))
        incident(department=w.d_scj, due=datetime(2026, 4, d, 9, tzinfo=LOCAL))
    # (+3: per-process memos of a few seconds — the catalogue stamp, department chains — may expire between)
    with django_assert_max_num_queries(len(few.captured_queries) + 3):
        response = client.get(BASE, {"limit": 100})
    assert len(response.json()["items"]) == 43
