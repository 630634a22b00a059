# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""Readers of the platform's registries: fetch by key, keyset pages, division filters, one query per page."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.datahub.world_gateway import OTHER_VILLAGE, TOWN, VILLAGE, gworld  # noqa: F401
from tests.factories import OrganisationFactory, PersonFactory
from yiwang.core.models import Division, Representation
from yiwang.datahub.readers import reader_for, reader_names

pytestmark = pytest.mark.django_db


def test_every_platform_reader_is_registered():
    assert {
        "core.person",
        "core.organisation",
        "licences.licence",
        "core.division",
        "cases.statistics",
        "incidents.statistics",
    } <= set(reader_names())


def test_person_fetch_by_id_number_through_the_blind_index(gworld, django_assert_num_queries):
    reader = reader_for("core.person")
    with django_assert_num_queries(1):
        row = reader.fetch(gworld.resource, gworld.person.id_number.lower())
    assert row.key == gworld.person.id_number and row.person_id == gworld.person.pk
    assert row.division_code == VILLAGE
    assert row.values["gender"] in ("1", "2") and row.values["phone"] == "13812345678"
    assert set(row.values) == {
        "id_number",
        "name",
        "gender",
        "birth_date",
        "division_code",
        "address",
        "phone",
        "is_deceased",
    }
    assert reader.fetch(gworld.resource, "440199199001011234") is None
    assert reader.fetch(gworld.resource, "") is None


def test_person_pages_are_keyset_and_filtered(gworld, django_assert_num_queries):
    reader = reader_for("core.person")
    village = Division.objects.get(code=VILLAGE)
    for i in range(5):
        PersonFactory(name=f"居民{i}", division=village)
    keys, after = [], None
    while True:
        with django_assert_num_queries(1):
            rows = reader.page(gworld.resource, after=after, limit=2, division_prefix=TOWN)
        if not rows:
            break
        keys += [r.key for r in rows]
        after = rows[-1].key
    assert len(keys) == len(set(keys)) == 6
    assert gworld.outsider.id_number not in keys
    everyone = reader.page(gworld.resource, after=None, limit=100)
    assert len(everyone) == 7


def test_organisation_reader(gworld, django_assert_num_queries):
    village = Division.objects.get(code=VILLAGE)
    org = OrganisationFactory(
        name="示范贸易有限公司",
        division=village,
        registered_capital=Decimal("100.50"),
        established_on=date(2020, 5, 1),
        employee_count=12,
    )
    Representation.objects.create(person=gworld.person, organisation=org, kind="legal_representative")
    other = OrganisationFactory(division=Division.objects.get(code=OTHER_VILLAGE))
    reader = reader_for("core.organisation")
    with django_assert_num_queries(1):
        row = reader.fetch(None, org.uscc.lower())
    assert row.organisation_id == org.pk and row.values["legal_representative"] == "张三丰"
    assert row.values["registered_capital"] == Decimal("100.50") and row.division_code == VILLAGE
    with django_assert_num_queries(1):
        rows = reader.page(None, after=None, limit=10, division_prefix=TOWN)
    assert [r.key for r in rows] == [org.uscc]
    assert [r.key for r in reader.page(None, after=org.uscc if org.uscc < other.uscc else None, limit=10)][
        -1
    ] == max(org.uscc, other.uscc)


def test_licence_reader(gworld):
    from yiwang.licences.models import Licence, LicenceType, Seal

    seal = Seal.objects.create(
        key_id="test-seal-gw",
        department=gworld.gaj,
        name="章",
        public_key_hex="00",
        valid_from=date(2026, 1, 1),
    )
    kind = LicenceType.objects.create(code="jzz", name="居住证", department=gworld.gaj, holder_kind="person")
    licence = Licence.objects.create(
        identifier="440199-JZZ-0001",
        verify_token="t" * 43,
        licence_type=kind,
        issuer=gworld.gaj,
        seal=seal,
        holder_person=gworld.person,
        holder_name=gworld.person.name,
        holder_id=gworld.person.id_number,
        holder_index="x",
        face={"number": "JZZ0001"},
        issued_on=date(2026, 1, 5),
        expires_on=date(2031, 1, 4),
        digest="0" * 64,
        signature="s",
        signed_at=timezone.now(),
    )
    reader = reader_for("licences.licence")
    row = reader.fetch(None, licence.identifier)
    assert row.values["holder_key"] == gworld.person.id_number and row.values["number"] == "JZZ0001"
    assert row.values["type_code"] == "jzz" and row.person_id == gworld.person.pk
    assert row.division_code == VILLAGE
    assert [r.key for r in reader.page(None, after=None, limit=5, division_prefix=TOWN)] == [
        licence.identifier
    ]
    assert reader.page(None, after=None, limit=5, division_prefix="440199002") == []


def test_division_reader(gworld):
    reader = reader_for("core.division")
    row = reader.fetch(None, VILLAGE)
    assert row.values == {"code": VILLAGE, "name": "幸福社区", "level": 3, "parent_code": TOWN}
    codes = [r.key for r in reader.page(None, after="440199001", limit=10, division_prefix="440199")]
    assert codes == [VILLAGE, "440199002", OTHER_VILLAGE]


def test_case_statistics_one_aggregate_query_per_page(gworld, django_assert_num_queries):
    from tests.cases.factories import ServiceItemFactory
    from yiwang.cases.models import Case

    item = ServiceItemFactory(department=gworld.mzj, code="ITEM-A")
    item_b = ServiceItemFactory(department=gworld.mzj, code="ITEM-B")
    village = Division.objects.get(code=VILLAGE)
    march = timezone.make_aware(timezone.datetime(2026, 3, 10, 10, 0))
    for n, (it, concluded, on_time) in enumerate(
        [(item, True, True), (item, True, False), (item, False, False), (item_b, True, True)]
    ):
        Case.objects.create(
            item=it,
            department=gworld.mzj,
            division=village,
            number=f"MZJT2026031000{n}",
            state="submitted",
            submitted_at=march,
            due_date=date(2026, 3, 20),
            concluded_at=(march + timedelta(days=3 if on_time else 30)) if concluded else None,
        )
    reader = reader_for("cases.statistics")
    with django_assert_num_queries(1):
        rows = reader.page(None, after=None, limit=10)
    assert [r.key for r in rows] == ["2026-03:MZJT:ITEM-A", "2026-03:MZJT:ITEM-B"]
    assert (rows[0].values["submitted"], rows[0].values["concluded"], rows[0].values["on_time"]) == (3, 2, 1)
    with django_assert_num_queries(1):
        after = reader.page(None, after="2026-03:MZJT:ITEM-A", limit=10)
    assert [r.key for r in after] == ["2026-03:MZJT:ITEM-B"]
    one = reader.fetch(None, "2026-03:MZJT:ITEM-A")
    assert one.values["submitted"] == 3
    assert reader.fetch(None, "2026-04:MZJT:ITEM-A") is None
    assert reader.fetch(None, "garbage") is None
    assert reader.page(None, after=None, limit=10, division_prefix="440199002") == []


def test_incident_statistics(gworld, django_assert_num_queries):
    from yiwang.incidents.models import Incident, IncidentCategory

    category = IncidentCategory.objects.create(code="SRHJ01", name="占道经营")
    village = Division.objects.get(code=VILLAGE)
    for n, closed in enumerate([True, False]):
        Incident.objects.create(
            number=f"GD2026030200{n}",
            channel="hotline",
            category=category,
            title="占道",
            description="占道经营",
            village=village,
            town=village.parent,
            closed_at=timezone.now() if closed else None,
            closed_on_time=True if closed else None,
        )
    reader = reader_for("incidents.statistics")
    with django_assert_num_queries(1):
        rows = reader.page(None, after=None, limit=10, division_prefix=TOWN)
    assert len(rows) == 1
    values = rows[0].values
    assert (values["division_code"], values["category_code"], values["reported"], values["closed"]) == (
        VILLAGE,
        "SRHJ01",
        2,
        1,
    )
    assert rows[0].division_code == VILLAGE
    assert reader.fetch(None, rows[0].key).values["on_time"] == 1
