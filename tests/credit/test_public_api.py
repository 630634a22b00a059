"""Public API /api/credit/public (anonymous): published list entries in effect only (persons by a masked name, no
ID number anywhere), organisations by name (2+ characters) or exact USCC, an organisation's public view (public
records in effect only); persons are never searchable; the rate limit answers 429 problem+json with Retry-After;
lists in a bounded number of queries."""

from __future__ import annotations

from datetime import date

import pytest

from tests.credit.test_objections_services import add, build_world
from yiwang.credit.models import CreditRecord, ListEntry, ListType
from yiwang.credit.services.evaluation import credit_file_refresh

pytestmark = pytest.mark.django_db
BASE = "/api/credit/public"


@pytest.fixture(autouse=True)
def _media(media_and_fast_passwords):
    return None


@pytest.fixture
def w(db, clock):
    world = build_world()
    person_file = world.person_record.file
    # a published black entry of the person, an unpublished one of the company, a removed one
    world.person_entry = ListEntry.objects.create(
        file=person_file,
        list_type=ListType.BLACK,
        reason="拒不履行",
        legal_basis="依据",
        department=world.other,
        starts_on=date(2026, 1, 10),
        is_published=True,
    )
    ListEntry.objects.create(
        file=world.penalty.file,
        list_type=ListType.RED,
        reason="未公示的红名单",
        legal_basis="依据",
        department=world.scj,
        starts_on=date(2026, 1, 1),
    )
    ListEntry.objects.create(
        file=world.penalty.file,
        list_type=ListType.BLACK,
        reason="已移出的黑名单",
        legal_basis="依据",
        department=world.scj,
        starts_on=date(2025, 1, 1),
        is_published=True,
        status=ListEntry.Status.REMOVED,
    )
    credit_file_refresh(person_file)
    credit_file_refresh(world.penalty.file)
    return world


def test_lists_show_published_entries_with_persons_masked(client, w):
    items = client.get(f"{BASE}/lists").json()["items"]
    assert {i["reason"] for i in items} == {"严重违法失信", "拒不履行"}
    person = next(i for i in items if i["reason"] == "拒不履行")
    assert person["subject"] == "张*明" and person["uscc"] == ""
    org = next(i for i in items if i["reason"] == "严重违法失信")
    assert org["uscc"] == w.company.organisation.uscc
    raw = client.get(f"{BASE}/lists").content.decode()
    assert w.citizen.person.id_number not in raw and "张小明" not in raw
    assert [i["reason"] for i in client.get(f"{BASE}/lists?type=red").json()["items"]] == []
    body = client.get(f"{BASE}/lists?type=grey")
    assert body.status_code == 422 and body.json()["errors"][0]["field"] == "type"


def test_search_organisations_never_persons(client, w):
    org = w.company.organisation
    found = client.get(f"{BASE}/organisations", {"q": org.name[2:6]}).json()
    assert [o["uscc"] for o in found] == [org.uscc] and found[0]["is_black"] and found[0]["grade"] == "D"
    assert [o["uscc"] for o in client.get(f"{BASE}/organisations", {"q": org.uscc}).json()] == [org.uscc]
    assert client.get(f"{BASE}/organisations", {"q": "张小明"}).json() == []
    assert client.get(f"{BASE}/organisations", {"q": w.citizen.person.id_number}).json() == []
    body = client.get(f"{BASE}/organisations", {"q": "示"})
    assert body.status_code == 422 and body.json()["errors"][0]["field"] == "q"


def test_organisation_view_shows_public_records_only(client, w):
    org = w.company.organisation
    add(CreditRecord.Kind.TAX, w.scj, "欠税（不公示）", date(2026, 1, 1), organisation=org)
    view = client.get(f"{BASE}/organisations/{org.uscc}").json()
    assert view["grade"] == "D" and view["name"] == org.name
    assert [e["reason"] for e in view["entries"]] == ["严重违法失信"]
    assert {r["title"] for r in view["records"]} == {"未按规定公示年度报告", "失信被执行人"}
    assert client.get(f"{BASE}/organisations/{'9' * 18}").status_code == 404
    assert client.get(f"{BASE}/organisations/{w.citizen.person.id_number}").status_code == 404
    assert client.get(f"{BASE}/organisations/x").status_code == 404


def test_rate_limited(client, w, settings):
    settings.YIWANG_RATE_LIMITS = {**settings.YIWANG_RATE_LIMITS, "credit_public": "2/minute"}
    assert client.get(f"{BASE}/lists").status_code == 200
    assert client.get(f"{BASE}/organisations", {"q": "示范"}).status_code == 200
    response = client.get(f"{BASE}/lists")
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert response["Content-Type"].startswith("application/problem+json")


def test_lists_are_bounded(client, w, django_assert_max_num_queries):
    org_file = w.penalty.file
    for n in range(5):
        ListEntry.objects.create(
            file=org_file,
            list_type=ListType.RED,
            reason=f"守信{n}",
            legal_basis="依据",
            department=w.scj,
            starts_on=date(2026, 2, 1),
            is_published=True,
        )
    client.get(f"{BASE}/lists")
    with django_assert_max_num_queries(3):
        page = client.get(f"{BASE}/lists?limit=4").json()
    assert len(page["items"]) == 4 and page["next_cursor"]
    rest = client.get(f"{BASE}/lists?limit=4&cursor={page['next_cursor']}").json()
    assert len(rest["items"]) == 3 and not rest["next_cursor"]
    with django_assert_max_num_queries(3):
        client.get(f"{BASE}/organisations", {"q": "示范"})
