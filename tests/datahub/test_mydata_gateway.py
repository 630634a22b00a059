"""End to end with the gateway: a grant that requires the subject's consent releases data while the consent is
live, stops at the next call once the citizen revokes it, and the citizen sees both calls in 我的数据."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.datahub.world_gateway import SCENARIO, call, gworld  # noqa: F401  (fixtures)
from tests.factories import AccountFactory
from yiwang.core.principal import Principal
from yiwang.datahub.models import Consent, GatewayCall, ShareGrant
from yiwang.datahub.selectors.mydata import uses_mine
from yiwang.datahub.services.consent import consent_give, consent_revoke

pytestmark = pytest.mark.django_db


def test_consent_revoked_between_two_gateway_calls_stops_the_second(gworld, call):  # noqa: F811
    ShareGrant.objects.filter(pk=gworld.grant.pk).update(requires_consent=True)
    citizen = AccountFactory(person=gworld.person, username="gw-citizen")
    principal = Principal.for_account(citizen)
    consent = consent_give(
        actor=principal,
        grantee_kind=Consent.GranteeKind.SYSTEM,
        system_client_id=gworld.system.client_id,
        items=[{"resource": gworld.resource.code, "fields": ["name", "gender"]}],
        purpose="高龄津贴申请",
        valid_until=timezone.now() + timedelta(days=30),
    )
    body = {"key": gworld.person.id_number, "purpose": SCENARIO, "fields": ["name", "gender"]}

    without = call("query", body)
    assert without.status_code == 403
    assert GatewayCall.objects.get(request_id=without.json()["request_id"]).outcome == "no_consent"

    first = call("query", body, HTTP_X_CONSENT_ID=str(consent.public_id))
    assert first.status_code == 200, first.content
    logged = GatewayCall.objects.get(request_id=first.json()["request_id"])
    assert logged.consent_id == consent.pk and logged.outcome == "ok"

    outside = call(
        "query", {**body, "fields": ["name", "birth_date"]}, HTTP_X_CONSENT_ID=str(consent.public_id)
    )
    assert outside.status_code == 403

    consent_revoke(actor=principal, consent=consent)
    second = call("query", body, HTTP_X_CONSENT_ID=str(consent.public_id))
    assert second.status_code == 403
    assert "record" not in second.json()
    assert GatewayCall.objects.get(request_id=second.json()["request_id"]).outcome == "no_consent"
    consent.refresh_from_db()
    assert consent.uses == 1

    seen = {r.request_id: r for r in uses_mine(principal).items}
    assert first.json()["request_id"] in seen and second.json()["request_id"] in seen
    assert seen[first.json()["request_id"]].consent_id == str(consent.public_id)
    assert seen[first.json()["request_id"]].purpose == SCENARIO
