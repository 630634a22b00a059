# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""The harvester admin: plugin options validated by the plugin's schema, saved through `harvester_save` (audited);
runs read-only; only the big-data centre."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.datahub.world_returnflow import harvest_dir, harvested, rworld  # noqa: F401
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import Harvester, HarvestRun

pytestmark = pytest.mark.django_db


def _staff(client, staff):
    staff.account.is_staff = True
    staff.account.save(update_fields=["is_staff"])
    client.force_login(staff.account)


def _form(world, **overrides) -> dict:
    data = {
        "name": "市级低保边缘家庭（第二通道）",
        "plugin": "file_drop",
        "options": json.dumps({"directory": "dibao"}),
        "source_name": "市民政局",
        "resource": world.resource.pk,
        "key_field": "id_number",
        "division_field": "division_code",
        "interval_minutes": "60",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_centre_adds_a_harvester_with_validated_options(client, rworld):
    _staff(client, rworld.centre)
    response = client.post(reverse("admin:datahub_harvester_add"), _form(rworld))
    assert response.status_code == 302, response.content.decode()[-2000:]
    harvester = Harvester.objects.get(name="市级低保边缘家庭（第二通道）")
    assert harvester.options["format"] == "auto" and harvester.next_run_at is not None
    assert AuditEntry.objects.filter(
        action="datahub.harvester.save", object_id=str(harvester.public_id)
    ).exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"options": json.dumps({"directory": "../../etc"})}, "目录名"),
        ({"plugin": "http_pull", "options": json.dumps({"url": "file:///etc/passwd"})}, "http://"),
        ({"options": json.dumps({"directory": "dibao", "max_invalid_percent": 500})}, "max_invalid_percent"),
    ],
)
def test_invalid_options_are_refused_in_chinese(client, rworld, overrides, message):
    _staff(client, rworld.centre)
    response = client.post(reverse("admin:datahub_harvester_add"), _form(rworld, **overrides))
    assert response.status_code == 200 and message in response.content.decode()
    assert Harvester.objects.count() == 1


def test_runs_are_read_only_and_only_the_centre_sees_the_admin(client, harvested):
    _staff(client, harvested.centre)
    run = HarvestRun.objects.get()
    assert client.get(reverse("admin:datahub_harvestrun_change", args=[run.pk])).status_code == 200
    assert client.post(reverse("admin:datahub_harvestrun_delete", args=[run.pk])).status_code == 403
    _staff(client, harvested.steward)
    assert client.get(reverse("admin:datahub_harvester_changelist")).status_code == 403
