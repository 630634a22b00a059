"""Prefill registry: counts per unit subtree in one grouped query per key; detail rows with identifiers masked."""

from __future__ import annotations

from datetime import date

import pytest

from tests.collab.world import build_collab_world
from tests.factories import OrganisationFactory, PersonFactory
from yiwang.collab.prefill import prefill_rows, prefill_rows_batch, prefill_sources, prefill_values
from yiwang.incidents.models import Incident

FEB = (date(2026, 2, 1), date(2026, 2, 28))


@pytest.fixture
def w(db, clock):
    return build_collab_world()


def _incident(n, **where):
    return Incident.objects.create(
        number=f"GD20260201{n:04d}", channel="hotline", title="噪音", description="夜间施工噪音", **where
    )


def test_registry_lists_the_sources():
    assert set(prefill_sources()) == {
        "residents.count",
        "organisations.count",
        "incidents.count",
        "cases.count",
        "benefits.count",
    }


def test_counts_one_query_per_key(w, clock, django_assert_num_queries):
    PersonFactory.create_batch(2, division=w.villages[0])
    PersonFactory(division=w.grids[1])  # grid of village 0
    PersonFactory(division=w.towns[0])  # on the town: no village's
    OrganisationFactory(division=w.villages[2])
    clock.set(2026, 2, 10)
    _incident(1, grid=w.grids[0], village=w.villages[0], town=w.towns[0])
    _incident(2, village=w.villages[3], town=w.towns[1])
    _incident(3, town=w.towns[0])
    clock.set(2026, 3, 2)
    _incident(4, village=w.villages[0], town=w.towns[0])  # outside February
    keys = ["residents.count", "organisations.count", "incidents.count", "cases.count", "benefits.count"]
    with django_assert_num_queries(5):
        values = prefill_values(keys, w.villages, *FEB)
    v = [values[d.pk] for d in w.villages]
    assert [x["residents.count"] for x in v] == [3, 0, 0, 0]
    assert [x["organisations.count"] for x in v] == [0, 0, 1, 0]
    assert [x["incidents.count"] for x in v] == [1, 0, 0, 1]
    assert [x["cases.count"] for x in v] == [0, 0, 0, 0]
    assert [x["benefits.count"] for x in v] == [0, 0, 0, 0]
    towns = prefill_values(["incidents.count", "residents.count"], w.towns, *FEB)
    assert towns[w.towns[0].pk] == {"incidents.count": 2, "residents.count": 4}
    grids = prefill_values(["residents.count"], w.grids, *FEB)
    assert grids[w.grids[1].pk]["residents.count"] == 1


def test_unknown_keys_ignored(w):
    assert prefill_values(["nope"], w.villages, *FEB) == {d.pk: {} for d in w.villages}


def test_organisation_rows(w, django_assert_max_num_queries):
    orgs = OrganisationFactory.create_batch(3, division=w.grids[0], employee_count=5)
    OrganisationFactory(division=w.grids[0], status="cancelled")
    OrganisationFactory(division=w.grids[2])
    with django_assert_max_num_queries(2):
        rows = prefill_rows_batch("organisations", w.villages)
    assert len(rows[w.villages[0].pk]) == 3 and len(rows[w.villages[1].pk]) == 1
    key, label, values = rows[w.villages[0].pk][0]
    assert key in {str(o.public_id) for o in orgs}
    assert values["employee_count"] == 5 and values["uscc"]
    assert prefill_rows("organisations", w.grids[0])[0][0] == key


def test_resident_rows_are_masked(w):
    person = PersonFactory(division=w.villages[0], name="张三丰")
    PersonFactory(division=w.villages[0], is_deceased=True)
    rows = prefill_rows("residents", w.villages[0])
    assert len(rows) == 1
    key, label, values = rows[0]
    assert key == str(person.public_id)
    assert person.id_number not in str(values) and "*" in values["id_number"]
    assert values["name"] != "张三丰" and label == values["name"]
    assert person.phone not in str(values)
    assert values["birth_date"] == person.birth_date.isoformat()
