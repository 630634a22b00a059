"""Naming a grantee (授权用证) is one rule for the grants page and the API: `selectors_grants.grantee_named`.
A switched-off registered system, or a department no longer active, is unknown on both channels."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from yiwang.core.models import Department, RegisteredSystem
from yiwang.licences.models import LicenceGrant
from yiwang.licences.selectors_grants import grantee_named

from .grants_world import GW, build_gw

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_and_fast_passwords):
    pass


@pytest.fixture
def gw(clock) -> GW:
    return build_gw()


def _switch_off(system: RegisteredSystem) -> None:
    RegisteredSystem.objects.filter(pk=system.pk).update(is_active=False)


def test_selector_names_departments_and_active_systems_only(gw):
    assert grantee_named(kind="department", department_code="RSJ") == {"department": gw.world.other_dept}
    assert grantee_named(kind="system", system_client_id=f" {gw.system.client_id} ") == {"system": gw.system}
    assert grantee_named(kind="system") == {"system": None}  # the service says what is missing
    assert grantee_named(kind="case", department_code="RSJ") == {}
    with pytest.raises(ValidationError) as unknown:
        grantee_named(kind="department", department_code="NOPE")
    assert set(unknown.value.message_dict) == {"department"}
    _switch_off(gw.system)
    with pytest.raises(ValidationError) as inactive:
        grantee_named(kind="system", system_client_id=gw.system.client_id)
    assert set(inactive.value.message_dict) == {"system"}
    Department.objects.filter(pk=gw.world.other_dept.pk).update(is_active=False)
    with pytest.raises(ValidationError) as closed:
        grantee_named(kind="department", department_code="RSJ")
    assert set(closed.value.message_dict) == {"department"}


def _api_grant(client, gw, system_client_id: str):
    body = {
        "licence_id": str(gw.licence.public_id),
        "grantee_kind": "system",
        "system_client_id": system_client_id,
        "purpose": "开户",
        "expires_on": "2026-04-01",
    }
    return client.post("/api/licences/grants/", data=json.dumps(body), content_type="application/json")


def test_api_does_not_offer_an_inactive_system(client, gw):
    client.force_login(gw.world.citizen)
    _switch_off(gw.system)
    response = _api_grant(client, gw, gw.system.client_id)
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    # Answered like an unknown system, under the request's own field name.
    assert [e["field"] for e in errors] == ["system_client_id"]
    assert gw.system.client_id in errors[0]["message"]
    unknown = _api_grant(client, gw, "no-such-client").json()["errors"]
    assert [e["field"] for e in unknown] == ["system_client_id"] and "no-such-client" in unknown[0]["message"]
    assert not LicenceGrant.objects.exists()
    assert _api_grant(client, gw, gw.other_system.client_id).status_code == 201


def test_api_reports_an_unknown_department_under_department_code(client, gw):
    client.force_login(gw.world.citizen)
    body = {
        "licence_id": str(gw.licence.public_id),
        "grantee_kind": "department",
        "department_code": "NOPE",
        "purpose": "开户",
        "expires_on": "2026-04-01",
    }
    response = client.post("/api/licences/grants/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["department_code"]


def test_page_does_not_offer_an_inactive_system_either(client, gw):
    client.force_login(gw.world.citizen)
    _switch_off(gw.system)
    response = client.post(
        f"/licences/mine/{gw.licence.public_id}/grants/",
        {
            "grantee_kind": "system",
            "system": gw.system.client_id,
            "purpose": "开户",
            "expires_at": "2026-04-01",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422 and gw.system.client_id in response.content.decode()
    assert not LicenceGrant.objects.exists()
