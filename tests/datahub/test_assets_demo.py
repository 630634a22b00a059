"""The data-asset demo: one registered asset (with 税务局's resource through the live grant) and one waiting in the
centre's queue, through the services (audited); running it again creates nothing."""

from __future__ import annotations

import pytest

from tests.datahub.world_assets import build_assets_world
from yiwang.datahub.asset_certificate import asset_file, asset_file_check
from yiwang.datahub.demo_assets import PENDING_NAME, REGISTERED_NAME, load_assets
from yiwang.datahub.models import DataAsset

pytestmark = pytest.mark.django_db


def test_demo_registers_one_asset_queues_another_and_is_idempotent(clock, media_and_fast_passwords):
    w = build_assets_world()
    assert load_assets() == {"assets": 2, "registered": 1}
    registered = DataAsset.objects.get(name=REGISTERED_NAME)
    assert (
        registered.status == "registered"
        and registered.number
        and asset_file_check(asset_file(registered)).ok
    )
    codes = set(registered.sources.values_list("resource__code", flat=True))
    assert w.r_tax.code in codes
    assert DataAsset.objects.get(name=PENDING_NAME).status == "submitted"
    assert load_assets() == {"assets": 0, "registered": 0}
    assert DataAsset.objects.count() == 2


def test_demo_without_officers_does_nothing(db):
    assert load_assets() == {}
