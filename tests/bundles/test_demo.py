"""The demo bundles: at least 8 realistic, valid, published bundles over the demo catalogue; idempotent; a
demo citizen and enterprise can apply for them."""

from __future__ import annotations

import pytest
from django.db import transaction

from yiwang.cases.demo_bundles import BUNDLES, demo_load_bundles
from yiwang.catalog.bundles.services import bundle_form, bundle_validate, bundles_published
from yiwang.catalog.models import Bundle
from yiwang.demo import demo_load


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        with transaction.atomic():
            demo_load(
                scale=0.02, upto="services"
            )  # the district, the catalogue and the issue-4 extras (bundles included)
            yield
            transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_demo_loads_at_least_eight_valid_published_bundles(demo):
    bundles = bundles_published()
    assert len(bundles) >= 8 and len(bundles) == len(BUNDLES)
    assert {b.audience for b in bundles} == {"person", "organisation"}
    for bundle in bundles:
        bundle_validate(bundle, bundle.members.all())
        assert len(bundle.item_rows) == bundle.members.count() >= 2
        assert len({item.department_id for item in bundle.item_rows}) >= 1
        assert bundle_form(bundle).conflicts == []
    restaurant = Bundle.objects.get(code="restaurant")
    after = {m.item_code: m.after for m in restaurant.members.all()}
    assert after == {"SCJ-QR-001": [], "SCJ-XK-001": ["SCJ-QR-001"], "CGJ-XK-007": []}


@pytest.mark.django_db
def test_the_demo_bundles_load_once(demo):
    assert demo_load_bundles() == 0
    assert Bundle.objects.count() == len(BUNDLES)
