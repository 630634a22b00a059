"""The open-data demo builder: datasets with real CSVs through the services, themes, apps, applications, a
negative-list entry; idempotent."""

from __future__ import annotations

import pytest

from tests.datahub.world_opendata import ow_fixture  # noqa: F401  (fixtures)
from tests.factories import AccountFactory, DepartmentFactory, staff_with_roles
from yiwang.core.permissions import Role
from yiwang.datahub.demo_opendata import load_opendata
from yiwang.datahub.models import NegativeListItem, OpenApp, OpenApplication, OpenDataset, OpenTheme
from yiwang.datahub.opendata_store import datastore_query

pytestmark = pytest.mark.django_db


def test_load_opendata_is_idempotent_and_publishes_real_tables(ow):
    AccountFactory(citizen=True, username="citizen")
    AccountFactory(enterprise=True, username="enterprise")
    mzj = DepartmentFactory(code="MZJ", name="示范区民政局")
    staff_with_roles(Role.DATA_OFFICER, department=mzj)
    first = load_opendata(scale=0.05)
    assert first["datasets"] == 15 and first["themes"] == 8 and first["apps"] == 3
    assert OpenDataset.objects.filter(status="published").count() == 15
    assert OpenDataset.objects.filter(tier="conditional", department=mzj).count() >= 1
    assert all(ds.audit_uuid for ds in OpenDataset.objects.all())
    population = OpenDataset.objects.get(name="od-population-2021").resources.get()
    rows = datastore_query(population, limit=3)
    assert rows["total"] == 5 and rows["records"][0]["镇街"].endswith(("街道", "镇"))
    assert OpenApp.objects.filter(status="shown").count() == 3
    assert set(OpenApplication.objects.values_list("status", flat=True)) <= {"approved", "submitted"}
    again = load_opendata(scale=0.05)
    assert again.get("datasets", 0) == 0 and again.get("themes", 0) == 0 and again.get("apps", 0) == 0
    assert OpenDataset.objects.count() == 15 and OpenTheme.objects.count() == 10
    assert NegativeListItem.objects.count() == 1  # the person-registry resource, once
