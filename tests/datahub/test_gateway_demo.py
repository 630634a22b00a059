# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""The gateway demo builder: uses through the real pipeline, idempotent, deterministic."""

from __future__ import annotations

import pytest

from tests.datahub.world_gateway import gworld  # noqa: F401
from yiwang.datahub.demo_gateway import load_gateway
from yiwang.datahub.models import GatewayCall

pytestmark = pytest.mark.django_db


def test_load_gateway_twice(gworld):
    first = load_gateway()
    assert first["calls"] >= 4 and first["refused"] >= 1
    assert GatewayCall.objects.filter(outcome="ok", grant=gworld.grant).count() == first["calls"]
    assert GatewayCall.objects.filter(outcome="invalid").exists()
    ids = set(GatewayCall.objects.values_list("request_id", flat=True))
    second = load_gateway()
    assert second["calls"] == 0 and second["refused"] == 0
    assert set(GatewayCall.objects.values_list("request_id", flat=True)) == ids
    # only subjects inside the row filter were used
    assert not GatewayCall.objects.filter(subject_person=gworld.outsider).exists()
