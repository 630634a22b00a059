"""The sharing demo builder: runs on published resources through the real services, leaves requests in many
states, gives 民政局's 高龄津贴系统 its fixed demo credentials and a masked, district-limited grant on 人口基础信息,
and is idempotent."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password

from tests.datahub.world_sharing import build_sharing_world
from yiwang.core.models import RegisteredSystem
from yiwang.datahub.demo_sharing import DEMO_SYSTEM_CLIENT_ID, DEMO_SYSTEM_SECRET, load_sharing
from yiwang.datahub.models import DataResource, ShareDispute, ShareGrant, ShareRequest

pytestmark = pytest.mark.django_db


def test_nothing_without_published_resources(db):
    assert load_sharing() == {}
    assert not ShareRequest.objects.exists()


def test_demo_builds_requests_in_many_states_once(db, clock, media_and_fast_passwords):
    w = build_sharing_world()
    DataResource.objects.filter(pk=w.core_resource.pk).update(status="draft")
    counts = load_sharing()
    assert counts["requests"] >= 10 and counts["grants"] >= 3
    states = set(ShareRequest.objects.values_list("state", flat=True))
    assert {"active", "requested", "refused"} <= states and len(states) >= 5
    system = RegisteredSystem.objects.get(client_id=DEMO_SYSTEM_CLIENT_ID)
    assert system.department == w.d_mzj and check_password(DEMO_SYSTEM_SECRET, system.secret_hash)
    anchor = ShareGrant.objects.filter(system=system, resource=w.resource).order_by("id").first()
    assert anchor is not None and anchor.status == "active"
    assert anchor.fields["id_number"] == "MASK_SHOW_LAST_4" and anchor.row_filter == {"division": "440199"}
    assert ShareDispute.objects.filter(status="open").count() <= 1
    before = ShareRequest.objects.count()
    assert load_sharing() == {}
    assert ShareRequest.objects.count() == before
