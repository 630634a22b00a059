# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""The gateway pipeline as services: consent, the hot path's query budget, rate limits, 回流 grants, the log."""

from __future__ import annotations

import pytest

from tests.datahub.factories import ConsentFactory
from tests.datahub.world_gateway import SCENARIO, call, gworld  # noqa: F401
from tests.factories import AccountFactory
from yiwang.core.models import AuditEntry, RegisteredSystem
from yiwang.datahub import gateway
from yiwang.datahub.gateway import GatewayRefused, gateway_batch, gateway_query, gateway_verify
from yiwang.datahub.models import Consent, GatewayCall, ShareGrant
from yiwang.datahub.services import consent as consent_service
from yiwang.datahub.services.returnflow import ImplicitGrant

pytestmark = pytest.mark.django_db


def _system(world):
    return RegisteredSystem.objects.select_related("department").get(pk=world.system.pk)


def _query(world, **kwargs):
    args = dict(
        system=_system(world), resource_code=world.resource.code, key=world.person.id_number, purpose=SCENARIO
    )
    args.update(kwargs)
    return gateway_query(**args)


# --- consent ----------------------------------------------------------------------------------------------------------
def _consent(world) -> Consent:
    account = AccountFactory(username="holder-zsf", kind="citizen", person=world.person)
    return ConsentFactory(
        holder_person=world.person,
        given_by=account,
        grantee_system=world.system,
        items=[{"resource": world.resource.code, "fields": ["name", "gender"]}],
    )


def _contract_consent(*, consent_id, system, resource, fields, person_id=None, organisation_id=None):
    """The contract of services.consent.consent_for_release, as the my-data part implements it."""
    consent = Consent.objects.filter(
        public_id=consent_id or None, status="active", grantee_system=system
    ).first()
    if consent is None or consent.holder_person_id != person_id:
        raise consent_service.ConsentRefused("no live consent")
    return consent


def test_consent_required_absent_then_revoked_between_two_calls(gworld, monkeypatch):
    monkeypatch.setattr(consent_service, "consent_for_release", _contract_consent)
    ShareGrant.objects.filter(pk=gworld.grant.pk).update(requires_consent=True)
    with pytest.raises(GatewayRefused) as refused:
        _query(gworld, fields=["name"])
    assert refused.value.status == 403 and refused.value.outcome == "no_consent"
    consent = _consent(gworld)
    result = _query(gworld, fields=["name"], consent_id=str(consent.public_id))
    assert result.call.consent_id == consent.pk and result.body["record"] == {"name": "张三丰"}
    Consent.objects.filter(pk=consent.pk).update(status="revoked")
    with pytest.raises(GatewayRefused) as refused:
        _query(gworld, fields=["name"], consent_id=str(consent.public_id))
    assert refused.value.outcome == "no_consent"
    assert GatewayCall.objects.filter(outcome="no_consent").count() == 2


def test_consent_with_the_real_check(gworld):
    """The my-data part's consent_for_release: a live consent releases; revoked between two calls, it refuses."""
    ShareGrant.objects.filter(pk=gworld.grant.pk).update(requires_consent=True)
    consent = _consent(gworld)
    assert (
        _query(gworld, fields=["name"], consent_id=str(consent.public_id)).body["record"]["name"] == "张三丰"
    )
    Consent.objects.filter(pk=consent.pk).update(status="revoked")
    with pytest.raises(GatewayRefused):
        _query(gworld, fields=["name"], consent_id=str(consent.public_id))


def test_consent_grant_refuses_batches(gworld):
    ShareGrant.objects.filter(pk=gworld.grant.pk).update(requires_consent=True)
    with pytest.raises(GatewayRefused) as refused:
        gateway_batch(system=_system(gworld), resource_code=gworld.resource.code, limit=5, purpose=SCENARIO)
    assert refused.value.outcome == "no_consent"


# --- the hot path -----------------------------------------------------------------------------------------------------
def test_query_hot_path_query_budget(gworld, django_assert_max_num_queries):
    system = _system(gworld)
    _query(gworld)  # warm: keystore, readers
    # grant (1), person (1), then in one transaction: audit entry (1), call (1) + savepoint/release in tests
    with django_assert_max_num_queries(6):
        result = gateway_query(
            system=system, resource_code=gworld.resource.code, key=gworld.person.id_number, purpose=SCENARIO
        )
    assert result.body["record"]["name"] == "张三丰"


def test_verify_hot_path_query_budget(gworld, django_assert_max_num_queries):
    system = _system(gworld)
    with django_assert_max_num_queries(6):
        gateway_verify(
            system=system,
            resource_code=gworld.resource.code,
            key=gworld.person.id_number,
            claims={"division_code": "440199001"},
            purpose=SCENARIO,
        )


def test_batch_query_budget_does_not_grow_with_rows(gworld, django_assert_max_num_queries):
    from tests.factories import PersonFactory

    for i in range(30):
        PersonFactory(name=f"居民{i}", division=gworld.person.division)
    system = _system(gworld)
    # grant, grade policy, page, audit, call, subjects (bulk) + savepoint/release
    with django_assert_max_num_queries(8):
        result = gateway_batch(system=system, resource_code=gworld.resource.code, limit=25, purpose=SCENARIO)
    assert len(result.body["items"]) == 25 and result.call.subject_count == 25
    assert result.call.subjects.count() == 24


def test_rate_limit_is_exact_per_grant(gworld):
    ShareGrant.objects.filter(pk=gworld.grant.pk).update(rate_per_minute=25)
    ok = limited = 0
    for _ in range(40):
        try:
            _query(gworld, fields=["name"])
            ok += 1
        except GatewayRefused as refused:
            assert refused.status == 429 and refused.retry_after >= 1
            limited += 1
    assert (ok, limited) == (25, 15)
    assert GatewayCall.objects.filter(outcome="rate_limited").count() == 15


def test_rate_limits_are_per_grant(gworld):
    ShareGrant.objects.filter(pk=gworld.grant.pk).update(rate_per_minute=1)
    _query(gworld, fields=["name"])
    with pytest.raises(GatewayRefused):
        _query(gworld, fields=["name"])
    from tests.datahub.factories import ShareGrantFactory, ShareRequestFactory, person_resource

    other = person_resource(provider=gworld.gaj, code="440199-GAJ-00002")
    ShareGrantFactory(
        request=ShareRequestFactory(
            resource=other,
            requester=gworld.mzj,
            system=gworld.system,
            fields=["name"],
            scenario=SCENARIO,
            state="active",
        ),
        rate_per_minute=1,
    )
    assert _query(gworld, resource_code=other.code, fields=["name"]).body["record"]["name"] == "张三丰"


# --- purposes -----------------------------------------------------------------------------------------------------------
def test_case_number_of_the_requesting_department_is_a_purpose(gworld):
    from tests.cases.factories import ServiceItemFactory
    from yiwang.cases.models import Case

    item = ServiceItemFactory(department=gworld.mzj)
    own = Case.objects.create(item=item, department=gworld.mzj, number="MZJT202612060001", state="submitted")
    other = Case.objects.create(
        item=item, department=gworld.gaj, number="GAJT202612060002", state="submitted"
    )
    assert _query(gworld, purpose=own.number).call.purpose == own.number
    with pytest.raises(GatewayRefused) as refused:
        _query(gworld, purpose=other.number)
    assert refused.value.status == 422


# --- 回流 -------------------------------------------------------------------------------------------------------------
def test_return_flow_grant_is_used_without_a_share_grant(gworld, monkeypatch):
    implicit = ImplicitGrant(fields={"name": "none", "id_number": "MASK"}, division_prefix="440199001")
    seen = {}

    def fake(*, system, resource):
        seen["resource"] = resource.code
        return implicit if system.pk == gworld.other_system.pk else None

    monkeypatch.setattr(gateway.returnflow_service, "return_flow_grant", fake)
    system = RegisteredSystem.objects.select_related("department").get(pk=gworld.other_system.pk)
    result = gateway_query(
        system=system,
        resource_code=gworld.resource.code,
        key=gworld.person.id_number,
        purpose=gateway.IMPLICIT_SCENARIO,
    )
    expected_id = "".join("X" if c == "X" else "n" for c in gworld.person.id_number)
    assert result.body["record"] == {"name": "张三丰", "id_number": expected_id}
    assert result.call.grant_id is None and result.call.resource_id == gworld.resource.pk
    entry = AuditEntry.objects.get(uuid=result.call.audit_uuid)
    assert entry.object_id == f"return_flow:{gworld.resource.code}"
    with pytest.raises(GatewayRefused) as refused:
        gateway_query(
            system=system,
            resource_code=gworld.resource.code,
            key=gworld.outsider.id_number,
            purpose=gateway.IMPLICIT_SCENARIO,
        )
    assert refused.value.status == 404


def test_covert_until_is_copied_from_the_grant(gworld):
    from datetime import date

    ShareGrant.objects.filter(pk=gworld.grant.pk).update(covert_until=date(2027, 6, 30), covert_basis="侦查")
    assert _query(gworld).call.covert_until == date(2027, 6, 30)


def test_inactive_system_is_refused(gworld):
    system = _system(gworld)
    system.is_active = False
    with pytest.raises(GatewayRefused) as refused:
        gateway_query(
            system=system, resource_code=gworld.resource.code, key=gworld.person.id_number, purpose=SCENARIO
        )
    assert refused.value.status == 403
