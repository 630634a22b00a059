# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""回流 scoping: who sees which division's rows (grid, town, district, citizen), masks, audit of views, the implicit
grant the gateway uses, statistics figures, pages and query counts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from tests.datahub.factories import RegisteredSystemFactory
from tests.datahub.world_returnflow import (  # noqa: F401  (fixtures)
    GRID_A1,
    TOWN_A,
    TOWN_B,
    VILLAGE_A,
    harvest_dir,
    harvested,
    principal_of,
    rworld,
)
from yiwang.core.models import AuditEntry, Staff
from yiwang.datahub import readers
from yiwang.datahub.masking import mask_value
from yiwang.datahub.models import DataResource, Mask, ResourceField
from yiwang.datahub.readers import RegistryReader, Row
from yiwang.datahub.selectors import returnflow as sel
from yiwang.datahub.services.returnflow import ImplicitGrant, return_flow_grant

pytestmark = pytest.mark.django_db


def _keys(result) -> set[str]:
    index = [c.name for c in result.columns].index("name")
    return {row[index] for row in result.rows}


# --- the area ----------------------------------------------------------------------------------------------------
def test_areas_by_role(rworld):
    assert sel.return_area_for(principal_of(rworld.grid_worker)).code == GRID_A1
    assert sel.return_area_for(principal_of(rworld.town_clerk)).code == TOWN_A
    assert sel.return_area_for(principal_of(rworld.town_dispatcher)).code == TOWN_A
    assert sel.return_area_for(principal_of(rworld.town_b_clerk)).code == TOWN_B
    assert sel.return_area_for(principal_of(rworld.district_dispatcher)) is None
    with pytest.raises(PermissionDenied):
        sel.return_area_for(principal_of(rworld.citizen))
    with pytest.raises(PermissionDenied):
        sel.return_area_for(principal_of(rworld.steward))


def test_a_grid_worker_without_a_grid_sees_nothing(rworld):
    Staff.objects.filter(pk=rworld.grid_worker.pk).update(grid=None)
    assert sel.return_area_for(principal_of(rworld.grid_worker)) is None


def test_an_inactive_staff_member_has_no_permission(rworld):
    Staff.objects.filter(pk=rworld.town_clerk.pk).update(is_active=False)
    with pytest.raises(PermissionDenied):
        sel.return_area_for(principal_of(rworld.town_clerk))


# --- rows --------------------------------------------------------------------------------------------------------
def test_grid_worker_sees_only_their_grid(harvested):
    result = sel.return_rows(principal_of(harvested.grid_worker), harvested.resource.public_id)
    assert _keys(result) == {f"低保边缘户{n}" for n in range(1, 6)}


def test_town_staff_see_their_town_only(harvested):
    town_a = sel.return_rows(principal_of(harvested.town_clerk), harvested.resource.public_id)
    assert _keys(town_a) == {f"低保边缘户{n}" for n in range(1, 9)}
    town_b = sel.return_rows(principal_of(harvested.town_b_clerk), harvested.resource.public_id)
    assert _keys(town_b) == {f"低保边缘户{n}" for n in range(9, 13)}


def test_district_department_and_citizen_get_nothing(harvested):
    with pytest.raises(Http404):
        sel.return_rows(principal_of(harvested.district_dispatcher), harvested.resource.public_id)
    assert sel.return_resources_for(principal_of(harvested.district_dispatcher)) == (None, [])
    with pytest.raises(PermissionDenied):
        sel.return_rows(principal_of(harvested.citizen), harvested.resource.public_id)


def test_masks_are_applied_and_unshared_fields_never_flow(harvested):
    result = sel.return_rows(principal_of(harvested.grid_worker), harvested.resource.public_id)
    names = [c.name for c in result.columns]
    assert "income_note" not in names  # 不予共享
    first = dict(zip(names, result.rows[0], strict=True))
    source = harvested.rows[0]
    assert first["id_number"] == mask_value(Mask.MASK_SHOW_LAST_4, source["id_number"])
    assert first["id_number"].endswith(source["id_number"][-4:]) and source["id_number"] not in first.values()
    assert first["address"] == mask_value(Mask.MASK, source["address"]) != source["address"]
    assert first["name"] == source["name"]


def test_every_page_view_is_audited_without_values(harvested):
    principal = principal_of(harvested.town_clerk)
    first = sel.return_rows(principal, harvested.resource.public_id, limit=3)
    second = sel.return_rows(principal, harvested.resource.public_id, cursor=first.next_cursor, limit=3)
    assert second.page == 2
    entries = list(AuditEntry.objects.filter(action="datahub.return.view").order_by("occurred_at", "uuid"))
    assert len(entries) == 2
    assert entries[0].object_id == str(harvested.resource.public_id)
    assert entries[0].actor_account == harvested.town_clerk.account.username
    assert {e.after["page"] for e in entries} == {1, 2}
    assert entries[0].after["division"] == TOWN_A and entries[0].after["rows"] == 3
    text = " ".join(e.canonical for e in entries)
    for row in harvested.rows:
        assert row["name"] not in text and row["id_number"] not in text


def test_keyset_paging_covers_the_area_once_and_the_cursor_is_opaque(harvested):
    principal = principal_of(harvested.town_clerk)
    seen, cursor = [], None
    while True:
        page = sel.return_rows(principal, harvested.resource.public_id, cursor=cursor, limit=3)
        seen.extend(_keys(page))
        for row in harvested.rows:
            assert row["id_number"] not in (page.next_cursor or "")
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"低保边缘户{n}" for n in range(1, 9))
    with pytest.raises(ValidationError):
        sel.return_rows(principal, harvested.resource.public_id, cursor="bm90LWEtY3Vyc29y")


def test_a_resource_not_designated_for_my_level_is_not_found(harvested):
    DataResource.objects.filter(pk=harvested.resource.pk).update(return_levels=[2])
    with pytest.raises(Http404):
        sel.return_rows(principal_of(harvested.grid_worker), harvested.resource.public_id)
    assert sel.return_rows(principal_of(harvested.town_clerk), harvested.resource.public_id).rows
    DataResource.objects.filter(pk=harvested.resource.pk).update(return_levels=[2, 3, 4], status="retired")
    with pytest.raises(Http404):
        sel.return_rows(principal_of(harvested.town_clerk), harvested.resource.public_id)


def test_home_lists_designated_resources_with_counts(harvested):
    other = DataResource.objects.create(
        code="440199-X-1",
        name="不回流的资源",
        summary="x",
        provider=harvested.district_dept,
        resource_class="base",
        share_type="conditional",
        update_cycle="daily",
        data_class="personal",
        status="published",
        mount_target="datahub.offshore",
    )
    area, items = sel.return_resources_for(principal_of(harvested.grid_worker))
    assert area.code == GRID_A1
    assert [(i.resource.code, i.count) for i in items] == [(harvested.resource.code, 5)]
    assert other.code not in {i.resource.code for i in items}
    _area, town_items = sel.return_resources_for(principal_of(harvested.town_clerk))
    assert town_items[0].count == 8


# --- the implicit grant (gateway contract) ---------------------------------------------------------------------
def test_implicit_grant_for_a_town_system(harvested):
    system = RegisteredSystemFactory(department=harvested.town_a_office)
    grant = return_flow_grant(system=system, resource=harvested.resource)
    assert isinstance(grant, ImplicitGrant)
    assert grant.division_prefix == TOWN_A
    assert grant.fields == {
        "id_number": Mask.MASK_SHOW_LAST_4,
        "name": Mask.NONE,
        "division_code": Mask.NONE,
        "address": Mask.MASK,
        "family_size": Mask.NONE,
    }


def test_implicit_grant_refusals(harvested):
    resource = harvested.resource
    village = RegisteredSystemFactory(department=harvested.village_a_committee)
    assert return_flow_grant(system=village, resource=resource).division_prefix == VILLAGE_A
    # District-level departments file share requests.
    assert (
        return_flow_grant(
            system=RegisteredSystemFactory(department=harvested.district_dept), resource=resource
        )
        is None
    )
    # An inactive system.
    inactive = RegisteredSystemFactory(department=harvested.town_a_office, is_active=False)
    assert return_flow_grant(system=inactive, resource=resource) is None
    # A level the resource is not designated for.
    DataResource.objects.filter(pk=resource.pk).update(return_levels=[4])
    resource.refresh_from_db()
    assert return_flow_grant(system=village, resource=resource) is None
    # Not designated at all, or not published.
    DataResource.objects.filter(pk=resource.pk).update(return_levels=[])
    resource.refresh_from_db()
    town = RegisteredSystemFactory(department=harvested.town_a_office)
    assert return_flow_grant(system=town, resource=resource) is None
    DataResource.objects.filter(pk=resource.pk).update(return_levels=[2, 3, 4], status="draft")
    resource.refresh_from_db()
    assert return_flow_grant(system=town, resource=resource) is None


def test_implicit_grant_query_count(harvested, django_assert_max_num_queries):
    system = RegisteredSystemFactory(department=harvested.town_a_office)
    resource = DataResource.objects.get(pk=harvested.resource.pk)
    from yiwang.core.models import RegisteredSystem

    system = RegisteredSystem.objects.select_related("department__division").get(pk=system.pk)
    with django_assert_max_num_queries(1):
        assert return_flow_grant(system=system, resource=resource) is not None


# --- figures -------------------------------------------------------------------------------------------------------
@dataclass
class _FakeStats(RegistryReader):
    rows: tuple = ()
    key_field = "key"

    def fetch(self, resource, key):
        return None

    def page(self, resource, *, after, limit, division_prefix=""):
        rows = [r for r in self.rows if r.division_code.startswith(division_prefix)]
        if after:
            rows = [r for r in rows if r.key > after]
        return sorted(rows, key=lambda r: r.key)[:limit]


def _stat(month, division, category, reported, closed):
    key = f"{month}:{division}:{category}"
    values = {
        "key": key,
        "month": month,
        "division_code": division,
        "category_code": category,
        "reported": reported,
        "closed": closed,
        "on_time": closed,
    }
    return Row(key=key, values=values, division_code=division)


@pytest.fixture
def stats_resource(rworld, monkeypatch):
    rows = (
        _stat("2026-09", VILLAGE_A, "ROAD", 3, 2),
        _stat("2026-10", VILLAGE_A, "ROAD", 4, 4),
        _stat("2026-10", VILLAGE_A, "NOISE", 2, 1),
        _stat("2026-10", "440199002001", "ROAD", 9, 9),
    )
    monkeypatch.setitem(readers._READERS, "incidents.statistics", _FakeStats(rows=rows))
    resource = DataResource.objects.create(
        code="440199-ZHZX-00001",
        name="事件统计",
        summary="x",
        provider=rworld.district_dept,
        resource_class="theme",
        share_type="unconditional",
        update_cycle="monthly",
        data_class="public",
        status="published",
        mount_kind="registry",
        mount_target="incidents.statistics",
        return_levels=[2, 3, 4],
    )
    for i, (name, label) in enumerate(
        [
            ("key", "键"),
            ("month", "统计月份"),
            ("division_code", "区划"),
            ("category_code", "事件类别代码"),
            ("reported", "事件数"),
            ("closed", "结案数"),
            ("on_time", "按时结案数"),
        ]
    ):
        ResourceField.objects.create(
            resource=resource,
            name=name,
            label=label,
            share_type="unconditional",
            data_class="public",
            position=i,
        )
    return resource


def test_figures_are_summed_for_my_area(rworld, stats_resource):
    figures = sel.return_figures(principal_of(rworld.town_clerk), stats_resource.public_id)
    assert figures.totals == {"reported": 9, "closed": 7, "on_time": 7}
    assert figures.by_month == [
        {"month": "2026-09", "reported": 3, "closed": 2, "on_time": 2},
        {"month": "2026-10", "reported": 6, "closed": 5, "on_time": 5},
    ]
    assert [d["code"] for d in figures.by_dimension] == ["ROAD", "NOISE"]
    assert figures.measures[0] == ("reported", "事件数")
    # Figures go down to villages: a grid worker sees the grid's village.
    grid = sel.return_figures(principal_of(rworld.grid_worker), stats_resource.public_id)
    assert grid.totals == figures.totals and grid.area.figures_code == VILLAGE_A
    town_b = sel.return_figures(principal_of(rworld.town_b_clerk), stats_resource.public_id)
    assert town_b.totals["reported"] == 9 and len(town_b.by_month) == 1
    with pytest.raises(ValidationError):
        sel.return_rows(principal_of(rworld.town_clerk), stats_resource.public_id)


def test_figures_page(client, rworld, stats_resource):
    client.force_login(rworld.town_clerk.account)
    response = client.get(reverse("datahub:return_resource", args=[stats_resource.public_id]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-measure="reported">9<' in body and "2026-10" in body and "return-chart-data" in body
    assert "<script>" not in body.replace("<script nonce", "")  # CSP: no inline script without a nonce


# --- pages -------------------------------------------------------------------------------------------------------
def test_home_and_rows_pages(client, harvested, django_assert_max_num_queries):
    client.force_login(harvested.grid_worker.account)
    with django_assert_max_num_queries(14):
        home = client.get(reverse("datahub:return_home"))
    assert home.status_code == 200
    body = home.content.decode()
    assert harvested.resource.name in body and "data-count>5<" in body
    url = reverse("datahub:return_resource", args=[harvested.resource.public_id])
    with django_assert_max_num_queries(16):
        rows = client.get(url)
    assert rows.status_code == 200
    body = rows.content.decode()
    assert "低保边缘户1" in body and "低保边缘户6" not in body
    assert harvested.rows[0]["id_number"] not in body
    assert harvested.resource.provider.name in body
    assert rows["Cache-Control"].startswith("max-age=0") or "no-store" in rows["Cache-Control"]
    # A bad cursor goes back to the first page.
    assert client.get(url, {"cursor": "garbage"}).status_code == 302


def test_pages_refuse_the_wrong_people(client, harvested):
    url = reverse("datahub:return_resource", args=[harvested.resource.public_id])
    assert client.get(url).status_code == 302  # anonymous → login
    client.force_login(harvested.citizen)
    assert client.get(reverse("datahub:return_home")).status_code == 403
    assert client.get(url).status_code == 403
    client.force_login(harvested.district_dispatcher.account)
    home = client.get(reverse("datahub:return_home"))
    assert home.status_code == 200 and "return-no-area" in home.content.decode()
    assert client.get(url).status_code == 404
    client.force_login(harvested.town_b_clerk.account)
    body = client.get(url).content.decode()
    assert "低保边缘户1<" not in body and "低保边缘户9" in body
