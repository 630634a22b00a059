"""授权用证: holders grant and revoke; the one read path checks a live grant covering the reader, logs the use and
audits it; revoked, expired, other-department and other-system reads are refused."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.factories import staff_with_roles
from yiwang.core.audit import AuditEntry
from yiwang.core.principal import Principal
from yiwang.core.services.identity import registered_system_create
from yiwang.licences.models import LicenceGrant, LicenceUse
from yiwang.licences.services.core import licence_set_status
from yiwang.licences.services.grants import grant_create, grant_revoke, licence_read_via_grant

from .grants_world import GW, build_gw

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_and_fast_passwords):
    pass


@pytest.fixture
def gw(clock) -> GW:
    return build_gw()


def _grant(gw, kind="department", **kw):
    args = {"department": gw.world.other_dept} if kind == "department" else {"system": gw.system}
    args.update(kw)
    return grant_create(
        actor=GW.p(gw.world.citizen),
        licence=gw.licence,
        grantee_kind=kind,
        purpose="办理开户",
        expires_at=timezone.now() + timedelta(days=10),
        **args,
    )


def test_department_grant_read_logs_a_use_and_audits(gw):
    grant = _grant(gw)
    reader = GW.p(gw.world.other_approver)
    licence = licence_read_via_grant(actor=reader, licence=gw.licence, purpose="核验健康证明")
    assert licence.pk == gw.licence.pk and licence.used_grant == grant
    use = LicenceUse.objects.get(grant=grant)
    assert use.purpose == "核验健康证明" and gw.world.other_approver.name in use.used_by_label
    assert AuditEntry.objects.filter(action="licence.use", object_id=gw.licence.identifier).exists()
    assert AuditEntry.objects.filter(action="licence.grant", object_id=str(grant.public_id)).exists()


def test_staff_of_a_sub_department_are_covered_but_other_departments_are_not(gw):
    _grant(gw, department=gw.world.item_dept)
    licence_read_via_grant(actor=GW.p(gw.world.sub_approver), licence=gw.licence)
    with pytest.raises(PermissionDenied):
        licence_read_via_grant(actor=GW.p(gw.world.other_approver), licence=gw.licence)
    assert LicenceUse.objects.count() == 1


def test_revoked_grant_is_refused(gw):
    grant = _grant(gw)
    grant_revoke(actor=GW.p(gw.world.citizen), grant=grant, reason="不再需要")
    with pytest.raises(PermissionDenied):
        licence_read_via_grant(actor=GW.p(gw.world.other_approver), licence=gw.licence)
    with pytest.raises(ValidationError):
        grant_revoke(actor=GW.p(gw.world.citizen), grant=grant)
    assert not LicenceUse.objects.exists()


def test_expired_grant_is_refused(gw, clock):
    _grant(gw)
    clock.moment = clock.moment + timedelta(days=11)
    with pytest.raises(PermissionDenied):
        licence_read_via_grant(actor=GW.p(gw.world.other_approver), licence=gw.licence)


def test_system_grant_covers_only_that_system(gw):
    _grant(gw, kind="system")
    licence_read_via_grant(actor=Principal(system=gw.system), licence=gw.licence)
    with pytest.raises(PermissionDenied):
        licence_read_via_grant(actor=Principal(system=gw.other_system), licence=gw.licence)
    with pytest.raises(PermissionDenied):  # a staff member is not the system
        licence_read_via_grant(actor=GW.p(gw.world.other_approver), licence=gw.licence)


def test_holders_of_nothing_cannot_read_or_grant(gw):
    with pytest.raises(PermissionDenied):
        licence_read_via_grant(actor=GW.p(gw.world.approver), licence=gw.licence)
    with pytest.raises(PermissionDenied):
        grant_create(
            actor=GW.p(gw.world.other_citizen),
            licence=gw.licence,
            grantee_kind="department",
            department=gw.world.other_dept,
            purpose="x",
            expires_at=timezone.now() + timedelta(days=1),
        )
    grant = _grant(gw)
    with pytest.raises(PermissionDenied):
        grant_revoke(actor=GW.p(gw.world.other_citizen), grant=grant)


@pytest.mark.parametrize(
    ("days", "field"),
    [(-1, "expires_at"), (400, "expires_at"), (10, "purpose")],
    ids=["past", "long", "purpose"],
)
def test_invalid_grants_are_refused(gw, days, field):
    with pytest.raises(ValidationError) as exc:
        grant_create(
            actor=GW.p(gw.world.citizen),
            licence=gw.licence,
            grantee_kind="department",
            department=gw.world.other_dept,
            purpose="" if field == "purpose" else "用途",
            expires_at=timezone.now() + timedelta(days=days),
        )
    assert field in exc.value.message_dict
    assert not LicenceGrant.objects.exists()


def test_only_valid_licences_can_be_granted(gw):
    head = staff_with_roles("department_head", department=gw.world.item_dept)
    licence_set_status(actor=GW.p(head), licence=gw.licence, action="suspend", reason="核查中")
    with pytest.raises(ValidationError) as exc:
        _grant(gw)
    assert "licence" in exc.value.message_dict


# --- pages ---------------------------------------------------------------------------------------------------
def test_grants_page_lists_uses_and_revokes(client, gw, django_assert_max_num_queries):
    grant = _grant(gw)
    _grant(gw, kind="system")
    licence_read_via_grant(actor=GW.p(gw.world.other_approver), licence=gw.licence, purpose="开户核验")
    client.force_login(gw.world.citizen)
    with django_assert_max_num_queries(12):
        response = client.get("/licences/grants/")
    html = response.content.decode()
    assert response.status_code == 200 and "开户核验" in html and gw.world.other_dept.name in html
    client.force_login(gw.world.other_citizen)
    assert client.post(f"/licences/grants/{grant.public_id}/revoke/").status_code == 404
    assert "开户核验" not in client.get("/licences/grants/").content.decode()
    client.force_login(gw.world.citizen)
    response = client.post(f"/licences/grants/{grant.public_id}/revoke/", {"reason": "办完了"})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_reason == "办完了"


def test_licence_grants_fragment_creates_and_reports_errors(client, gw):
    client.force_login(gw.world.citizen)
    url = f"/licences/mine/{gw.licence.public_id}/grants/"
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    bad = client.post(
        url,
        {"grantee_kind": "department", "department": "NOPE", "purpose": "x", "expires_at": "2026-04-01"},
        HTTP_HX_REQUEST="true",
    )
    assert bad.status_code == 422 and "NOPE" in bad.content.decode()
    ok = client.post(
        url,
        {
            "grantee_kind": "department",
            "department": "RSJ",
            "purpose": "社保核验",
            "expires_at": "2026-04-01",
        },
        HTTP_HX_REQUEST="true",
    )
    assert ok.status_code == 200 and "社保核验" in ok.content.decode()
    assert LicenceGrant.objects.filter(grantee_department=gw.world.other_dept).count() == 1
    client.force_login(gw.world.other_citizen)
    assert client.get(url).status_code == 404


# --- API -----------------------------------------------------------------------------------------------------
def _call(client, method, url, token=None, body=None):
    kwargs = {}
    if token:
        kwargs["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(url, **kwargs)


def _system_token(client, department, *scopes):
    admin = Principal.for_account(staff_with_roles("district_admin").account)
    system, secret = registered_system_create(
        actor=admin, name="电子证照调用系统", department=department, scopes=list(scopes)
    )
    response = client.post(
        "/api/auth/token",
        {"grant_type": "client_credentials", "client_id": system.client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.content
    return system, response.json()["access_token"]


def test_api_create_list_revoke_and_read(client, gw, django_assert_max_num_queries):
    system, token = _system_token(client, gw.world.other_dept, "department.view")
    _other, other_token = _system_token(client, gw.world.other_dept, "department.view")
    base = "/api/licences/grants"
    client.force_login(gw.world.citizen)
    bad = _call(
        client,
        "post",
        f"{base}/",
        body={
            "licence_id": str(gw.licence.public_id),
            "grantee_kind": "system",
            "system_client_id": system.client_id,
            "purpose": "开户",
            "expires_on": "2028-01-01",
        },
    )
    assert bad.status_code == 422
    created = _call(
        client,
        "post",
        f"{base}/",
        body={
            "licence_id": str(gw.licence.public_id),
            "grantee_kind": "system",
            "system_client_id": system.client_id,
            "purpose": "开户",
            "expires_on": "2026-04-01",
        },
    )
    assert created.status_code == 201, created.content
    grant_id = created.json()["id"]
    client.logout()
    read = _call(client, "get", f"{base}/licence/{gw.licence.identifier}?purpose=开户核验", token)
    assert read.status_code == 200, read.content
    assert read.json()["signature_valid"] is True and read.json()["face"]["shop"] == "张三小吃店"
    assert _call(client, "get", f"{base}/licence/{gw.licence.identifier}", other_token).status_code == 403
    assert _call(client, "get", f"{base}/licence/NOPE-1", token).status_code == 404
    client.force_login(gw.world.citizen)
    with django_assert_max_num_queries(10):
        listed = _call(client, "get", f"{base}/")
    item = listed.json()["items"][0]
    assert item["use_count"] == 1 and item["uses"][0]["purpose"] == "开户核验"
    client.force_login(gw.world.other_citizen)
    assert _call(client, "post", f"{base}/{grant_id}/revoke", body={}).status_code == 404
    client.force_login(gw.world.citizen)
    assert _call(client, "post", f"{base}/{grant_id}/revoke", body={"reason": "完"}).json()["live"] is False
    client.logout()
    assert _call(client, "get", f"{base}/licence/{gw.licence.identifier}", token).status_code == 403
