"""The published item a submission reads is remembered per process under the catalogue stamp
(cases.selectors.item_for_application): no queries once warm, a copy per caller, and a publish, new version or
suspension is seen at once in this process and within the stamp's second in another."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Max
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from yiwang.cases import selectors
from yiwang.catalog import services as catalog_services
from yiwang.catalog.models import Material, ServiceItem


def test_a_warm_item_costs_no_query_and_keeps_its_department_and_materials(world):
    first = selectors.item_for_application(world.item.code.lower())
    with CaptureQueriesContext(connection) as queries:
        again = selectors.item_for_application(f"  {world.item.code}  ")
        department = again.department.name
        materials = [m.code for m in again.materials.all()]
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert again.pk == first.pk == world.item.pk
    assert department == world.item.department.name
    assert materials == [m.code for m in world.item.materials.order_by("sort", "id")]
    assert {world.id_card.code, world.licence.code} <= set(materials)


def test_each_caller_gets_its_own_copy(world):
    first = selectors.item_for_application(world.item.code)
    first.name = "被调用方改过的名称"
    first.department = world.other_dept
    again = selectors.item_for_application(world.item.code)
    assert again is not first
    assert again.name == world.item.name
    assert again.department_id == world.item.department_id
    assert again.department.pk == world.item.department.pk


def test_an_unknown_code_is_404(world):
    with pytest.raises(Http404):
        selectors.item_for_application("NO-SUCH-ITEM")
    with pytest.raises(Http404):
        selectors.item_for_application("")


def test_a_suspension_in_this_process_is_seen_at_once(world):
    selectors.item_for_application(world.item.code)
    catalog_services.item_suspend(
        actor=None, item=ServiceItem.objects.get(pk=world.item.pk), reason="政策调整"
    )
    with pytest.raises(Http404):
        selectors.item_for_application(world.item.code)


def test_a_suspension_by_another_process_is_seen_once_the_stamp_is_read_again(world):
    selectors.item_for_application(world.item.code)
    # Another process's write: no signal reaches this one, only the stamp (the latest updated_at) moves.
    latest = ServiceItem.objects.aggregate(latest=Max("updated_at"))["latest"]
    ServiceItem.objects.filter(pk=world.item.pk).update(
        status=ServiceItem.Status.SUSPENDED, updated_at=latest + timedelta(seconds=1)
    )
    assert selectors.item_for_application(world.item.code).pk == world.item.pk  # within the stamp's second
    selectors._STAMP_MEMO.clear()  # the second has passed
    with pytest.raises(Http404):
        selectors.item_for_application(world.item.code)


def test_a_new_published_version_replaces_the_remembered_one(world):
    old = selectors.item_for_application(world.item.code)
    draft = catalog_services.item_new_version(actor=None, item=ServiceItem.objects.get(pk=world.item.pk))
    # (the factory's licence material names no licence type, which publishing asks for)
    draft.materials.filter(source=Material.Source.LICENCE, licence_type_code="").update(
        licence_type_code="yyzz"
    )
    assert selectors.item_for_application(world.item.code).pk == old.pk  # the draft is not published yet
    catalog_services.item_publish(actor=None, item=draft)
    current = selectors.item_for_application(world.item.code)
    assert current.pk == draft.pk != old.pk
    assert current.version == old.version + 1
