"""The IoT webhook and device list API, the 感知设备 page and the device admin."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from yiwang.core.models import AuditEntry
from yiwang.core.principal import Principal
from yiwang.core.services.identity import api_token_issue_for_account, registered_system_create
from yiwang.incidents.models import Device, DeviceType, Incident

from .factories import point_in
from .test_iot import iot_types, register

pytestmark = pytest.mark.django_db

READINGS = "/api/incidents/iot/readings"
DEVICES = "/api/incidents/iot/devices"


@pytest.fixture
def types(iworld):
    return iot_types(iworld)


def system_token(client, world, *scopes: str) -> str:
    system, secret = registered_system_create(
        actor=Principal.for_account(world.admin.account),
        name="城市物联感知平台",
        department=world.district_centre,
        scopes=list(scopes),
    )
    response = client.post(
        "/api/auth/token",
        {"grant_type": "client_credentials", "client_id": system.client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def staff_token(staff) -> str:
    return api_token_issue_for_account(account=staff.account).token


def post(client, token, body):
    return client.post(
        READINGS, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_webhook_single_and_batch_readings_report_each_outcome(client, iworld, types):
    register(iworld, "WL-001", "water_level")
    register(iworld, "MH-001", "manhole", grid="440199001002001")
    token = system_token(client, iworld, "incident.intake")
    one = post(client, token, {"device": "WL-001", "value": 1.2, "ts": "2026-03-02T10:00:00+08:00"})
    assert one.status_code == 200, one.content
    assert one.json()["results"][0]["outcome"] == "normal"
    batch = post(
        client,
        token,
        {
            "readings": [
                {"device": "WL-001", "value": 2.8},
                {"device": "WL-001", "value": 3.1},
                {"device": "MH-001", "value": True},
                {"device": "NOPE", "value": 1},
            ]
        },
    )
    assert batch.status_code == 200, batch.content
    results = batch.json()["results"]
    assert [r["outcome"] for r in results] == ["alarm", "repeat", "alarm", "ignored"]
    water = Incident.objects.get(device__code="WL-001")
    assert results[0]["incident_number"] == water.number and results[1]["incident_number"] == water.number
    assert water.number in results[1]["label"] and "NOPE" in results[3]["reason"]
    assert batch.json()["counts"] == {"alarm": 2, "repeat": 1, "ignored": 1}
    assert Incident.objects.get(device__code="MH-001").assigned_department == iworld.cgj


def test_webhook_bad_bodies_are_422_problems(client, iworld, types):
    token = system_token(client, iworld, "incident.intake")
    for body in ({}, {"readings": []}, {"device": "WL-1", "readings": [{"device": "WL-1"}]}, {"device": ""}):
        response = post(client, token, body)
        assert response.status_code == 422, (body, response.content)
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"]
    response = post(client, token, {"readings": [{"device": "WL-1", "value": "high"}]})
    assert response.status_code == 422
    response = client.post(
        READINGS, data="{not json", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code in (400, 422)
    assert not Incident.objects.exists()


def test_webhook_401_and_403(client, iworld, types):
    register(iworld, "WL-001", "water_level")
    assert client.post(READINGS, data="{}", content_type="application/json").status_code == 401
    other = system_token(client, iworld, "department.view")
    assert post(client, other, {"device": "WL-001", "value": 3}).status_code == 403
    # a hotline operator holds incident.intake but does not post sensor readings
    assert post(client, staff_token(iworld.operator), {"device": "WL-001", "value": 3}).status_code == 403
    assert not Incident.objects.exists()
    # a district administrator may (e.g. to test a device)
    response = post(client, staff_token(iworld.admin), {"device": "WL-001", "value": 3})
    assert response.status_code == 200 and response.json()["results"][0]["outcome"] == "alarm"


def test_devices_api_lists_with_state_and_pages(client, iworld, types, django_assert_max_num_queries):
    for n in range(5):
        register(iworld, f"WL-{n:03d}", "water_level")
    register(iworld, "NZ-001", "noise")
    token = system_token(client, iworld, "incident.intake")
    post(client, token, {"device": "WL-002", "value": 3.0})
    auth = {"HTTP_AUTHORIZATION": f"Bearer {staff_token(iworld.dispatcher)}"}
    with django_assert_max_num_queries(8):
        first = client.get(DEVICES, {"limit": 4}, **auth)
    assert first.status_code == 200, first.content
    body = first.json()
    assert [d["code"] for d in body["items"]] == ["WL-000", "WL-001", "WL-002", "WL-003"]
    alarm = body["items"][2]
    assert alarm["state"] == "alarm" and alarm["alarm_incident_number"] and alarm["grid_code"]
    second = client.get(DEVICES, {"limit": 4, "cursor": body["next_cursor"]}, **auth).json()
    assert [d["code"] for d in second["items"]] == ["WL-004", "NZ-001"] and second["next_cursor"] is None
    only = client.get(DEVICES, {"state": "alarm"}, **auth).json()
    assert [d["code"] for d in only["items"]] == ["WL-002"]
    assert [d["code"] for d in client.get(DEVICES, {"type": "noise"}, **auth).json()["items"]] == ["NZ-001"]
    # the town centre of 二镇 sees no device of 一街道
    other = {"HTTP_AUTHORIZATION": f"Bearer {staff_token(iworld.other_town_dispatcher)}"}
    assert client.get(DEVICES, **other).json()["items"] == []


def test_devices_api_401_403(client, iworld, types):
    assert client.get(DEVICES).status_code == 401
    response = client.get(DEVICES, HTTP_AUTHORIZATION=f"Bearer {staff_token(iworld.operator)}")
    assert response.status_code == 403


# --- the page ------------------------------------------------------------------------------------------------------
def test_devices_page_shows_state_and_the_alarm_link(client, iworld, types, django_assert_max_num_queries):
    for n in range(3):
        register(iworld, f"WL-{n:03d}", "water_level")
    from yiwang.incidents.services.iot import reading_ingest

    incident = reading_ingest(device_code="WL-001", payload={"value": 2.9}).incident
    client.force_login(iworld.dispatcher.account)
    session = client.session
    session["mfa_ok"] = True
    session.save()
    url = reverse("incidents:devices")
    with django_assert_max_num_queries(15):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "WL-000" in html and incident.number in html and "报警中" in html and "2.9" in html
    assert "WL-001" in client.get(url, {"state": "alarm"}).content.decode()
    assert "WL-000" not in client.get(url, {"state": "alarm"}).content.decode()


def test_devices_page_permissions(client, iworld, types):
    url = reverse("incidents:devices")
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(iworld.operator.account)
    assert client.get(url).status_code == 403


# --- the admin ------------------------------------------------------------------------------------------------------
@pytest.fixture
def admin_client(client, iworld):
    account = iworld.admin.account
    account.is_staff = True
    account.save(update_fields=["is_staff"])
    client.force_login(account)
    session = client.session
    session["mfa_ok"] = True
    session.save()
    return client


def test_admin_registers_a_device_through_the_service(admin_client, iworld, types):
    lon, lat = point_in("440199002001001")
    data = {
        "code": "WL-ADM",
        "device_type": types["water_level"].pk,
        "name": "龙塘水位计",
        "lon": lon,
        "lat": lat,
        "address": "龙塘村口",
        "threshold": "",
    }
    bad = admin_client.post(reverse("admin:incidents_device_add"), {**data, "lon": 500})
    assert bad.status_code == 200 and "坐标无效" in bad.content.decode()
    assert not Device.objects.exists()
    response = admin_client.post(reverse("admin:incidents_device_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    device = Device.objects.get(code="WL-ADM")
    assert device.grid.code == "440199002001001"
    assert AuditEntry.objects.filter(action="device.registered", object_id="WL-ADM").count() == 1
    change = admin_client.get(reverse("admin:incidents_device_change", args=[device.pk]))
    assert change.status_code == 200 and "龙塘水位计" in change.content.decode()


def test_admin_device_type_errors_land_on_the_form(admin_client, iworld, types):
    data = {
        "code": "smoke",
        "name": "烟感",
        "metric": "smoke",
        "unit": "",
        "comparison": "flag",
        "threshold": "0",
        "trigger_count": "1",
        "debounce_seconds": "900",
        "category": iworld.categories["AQYH"].pk,  # a parent category
        "is_active": "on",
    }
    bad = admin_client.post(reverse("admin:incidents_devicetype_add"), data)
    assert bad.status_code == 200 and "末级事件分类" in bad.content.decode()
    data["category"] = iworld.categories["AQYH01"].pk
    assert admin_client.post(reverse("admin:incidents_devicetype_add"), data).status_code == 302
    assert DeviceType.objects.get(code="smoke").comparison == "flag"
    assert AuditEntry.objects.filter(action="device_type.saved", object_id="smoke").exists()


def test_admin_closed_without_incident_manage(client, iworld, types):
    account = iworld.dispatcher.account
    account.is_staff = True
    account.save(update_fields=["is_staff"])
    client.force_login(account)
    session = client.session
    session["mfa_ok"] = True
    session.save()
    assert client.get(reverse("admin:incidents_device_changelist")).status_code == 403
