"""Open311 GeoReport v2: an existing 311 client lists services, files a request with its key, reads it back and
sees it closed once Yiwang closes it; errors in Open311's own format."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from yiwang.incidents.models import Incident
from yiwang.incidents.services.intake import IntakeReport, incident_intake

from .factories import point_in
from .test_iot import close_incident
from .test_iot_api import staff_token, system_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_address_names():
    """routing caches division names → pks for 5 minutes; earlier tests' divisions must not linger in it."""
    from django.core.cache import cache

    cache.delete("incidents:division-names:v1")
    yield
    cache.delete("incidents:division-names:v1")


BASE = "/open311/v2"


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body, list) and body[0]["code"] == status and body[0]["description"]
    return body[0]["description"]


def test_open311_client_flow(client, iworld):
    services = client.get(f"{BASE}/services.json")
    assert services.status_code == 200
    by_code = {s["service_code"]: s for s in services.json()}
    assert "SRHJ01" in by_code and "SRHJ" not in by_code  # leaves only
    service = by_code["SRHJ01"]
    assert service["service_name"] == "占道经营" and service["group"] == "市容环境"
    assert service["metadata"] is False and service["type"] == "realtime" and service["description"]
    definition = client.get(f"{BASE}/services/SRHJ01.json").json()
    assert definition == {"service_code": "SRHJ01", "attributes": []}

    key = system_token(client, iworld, "incident.intake")
    lon, lat = point_in("440199001002001")
    created = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": key,
            "service_code": "SRHJ01",
            "lat": lat,
            "long": lon,
            "address_string": "凤岗路 8 号",
            "description": "人行道上有流动摊贩占道经营",
            "first_name": "小明",
            "last_name": "王",
            "phone": "13800002222",
            "email": "wang@example.com",
            "media_url": "http://example.com/p.jpg",
        },
    )
    assert created.status_code == 200, created.content
    [answer] = created.json()
    number = answer["service_request_id"]
    assert answer["account_id"] is None and number in answer["service_notice"]
    incident = Incident.objects.get(number=number)
    assert incident.channel == "open311" and incident.reporter_name == "王小明"
    assert incident.assigned_department == iworld.cgj and incident.reporter_system is not None
    assert "wang@example.com" in incident.events.get(action="intake").note

    [row] = client.get(f"{BASE}/requests/{number}.json").json()
    assert row["status"] == "open" and row["service_code"] == "SRHJ01"
    assert row["agency_responsible"] == iworld.cgj.name and row["address"] == "凤岗路 8 号"
    assert row["lat"] == lat and row["long"] == lon
    assert row["requested_datetime"].endswith("+08:00") and row["expected_datetime"].endswith("+08:00")
    text = str(row)
    assert "13800002222" not in text and "王小明" not in text  # no reporter data

    close_incident(incident)
    [row] = client.get(f"{BASE}/requests.json", {"service_request_id": number}).json()
    assert row["status"] == "closed" and "已抽排" in row["status_notes"]
    closed = client.get(f"{BASE}/requests.json", {"status": "closed", "service_code": "SRHJ01"}).json()
    assert [r["service_request_id"] for r in closed] == [number]
    assert client.get(f"{BASE}/requests.json", {"status": "open"}).json() == []


def test_post_with_json_and_bearer_header(client, iworld):
    key = system_token(client, iworld, "incident.intake")
    response = client.post(
        f"{BASE}/requests.json",
        data={"service_code": "AQYH02", "address_string": "桃源社区 3 栋门口", "description": "路面积水很深"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 200, response.content
    incident = Incident.objects.get(number=response.json()[0]["service_request_id"])
    assert incident.village.name == "桃源社区" and incident.state == Incident.State.PENDING
    assert "待指挥中心分拨" in response.json()[0]["service_notice"]


def test_bad_key_is_403(client, iworld):
    data = {"service_code": "SRHJ01", "address_string": "桃源社区", "description": "占道"}
    _error(client.post(f"{BASE}/requests.json", data), 403)
    _error(client.post(f"{BASE}/requests.json", {**data, "api_key": "nope"}), 403)
    no_scope = system_token(client, iworld, "department.view")
    _error(client.post(f"{BASE}/requests.json", {**data, "api_key": no_scope}), 403)
    assert not Incident.objects.exists()


def test_bad_service_code_and_missing_fields_are_400(client, iworld):
    key = system_token(client, iworld, "incident.intake")
    ok = {"api_key": key, "service_code": "SRHJ01", "address_string": "桃源社区", "description": "占道"}
    assert "service_code" in _error(client.post(f"{BASE}/requests.json", {**ok, "service_code": "NOPE"}), 400)
    assert "service_code" in _error(client.post(f"{BASE}/requests.json", {**ok, "service_code": "SRHJ"}), 400)
    missing = {k: v for k, v in ok.items() if k != "service_code"}
    assert "service_code" in _error(client.post(f"{BASE}/requests.json", missing), 400)
    no_place = {k: v for k, v in ok.items() if k != "address_string"}
    _error(client.post(f"{BASE}/requests.json", no_place), 400)
    _error(client.post(f"{BASE}/requests.json", {**ok, "description": ""}), 400)
    _error(client.post(f"{BASE}/requests.json", {**ok, "lat": "x", "long": "y"}), 400)
    _error(client.post(f"{BASE}/requests.json", {**ok, "phone": "12"}), 400)
    assert not Incident.objects.exists()
    _error(client.get(f"{BASE}/services/NOPE.json"), 404)
    _error(client.get(f"{BASE}/requests/GD0000.json"), 404)
    _error(client.get(f"{BASE}/services.xml"), 400)


def test_query_window_filters_and_confidentiality(client, iworld, clock, django_assert_max_num_queries):
    lon, lat = point_in("440199001001001")

    def file(description, **extra):
        return incident_intake(
            actor=None,
            report=IntakeReport(
                channel="web", description=description, category_code="HJWR01", lon=lon, lat=lat, **extra
            ),
        ).incident

    old = file("上个季度的噪音")
    clock.moment += timedelta(days=120)
    recent = [file(f"工地噪音 {n}") for n in range(3)]
    secret = file("举报偷排", kind=Incident.Kind.REPORT)  # 举报 is confidential
    with django_assert_max_num_queries(3):
        rows = client.get(f"{BASE}/requests.json").json()
    numbers = [r["service_request_id"] for r in rows]
    assert numbers == [i.number for i in reversed(recent)]  # newest first, 90 days, not the 举报
    assert secret.number not in numbers and old.number not in numbers
    _error(client.get(f"{BASE}/requests/{secret.number}.json"), 404)
    start = (timezone.now() - timedelta(days=130)).date().isoformat()
    end = (timezone.now() - timedelta(days=100)).date().isoformat()
    window = client.get(f"{BASE}/requests.json", {"start_date": start, "end_date": end}).json()
    assert [r["service_request_id"] for r in window] == [old.number]
    far = (timezone.now() - timedelta(days=200)).date().isoformat()
    assert "90" in _error(client.get(f"{BASE}/requests.json", {"start_date": far, "end_date": end}), 400)
    _error(client.get(f"{BASE}/requests.json", {"start_date": "yesterday"}), 400)
    _error(client.get(f"{BASE}/requests.json", {"status": "pending"}), 400)
    assert client.get(f"{BASE}/requests.json", {"service_code": "SRHJ01"}).json() == []


def test_staff_token_with_intake_may_post_too(client, iworld):
    response = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": staff_token(iworld.operator),
            "service_code": "ZX01",
            "address_string": "凤岗社区",
            "description": "咨询居住证办理",
        },
    )
    assert response.status_code == 200, response.content


def test_public_feed_masks_numbers_typed_into_the_text():
    from yiwang.incidents.open311 import public_text

    masked = public_text("请联系我 13800138000，身份证 44019919900101123X，门牌 12 号")
    assert "13800138000" not in masked and "44019919900101123X" not in masked
    assert masked.startswith("请联系我 138") and "门牌 12 号" in masked
