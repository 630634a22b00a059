"""Open311 GeoReport v2: an existing 311 client lists services, files a request with its key, reads it back and
sees it closed once Yiwang closes it; XML (the spec's required format) and JSON with the spec's element names,
the discovery document, tokens, media_url, address_id, 4,000-character descriptions; errors in Open311's own
format (more in test_open311_errors.py); the public feed masks what reporters type about themselves."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

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
    assert row["agency_responsible"] == iworld.cgj.name and row["address"] == "凤岗路"  # street level
    assert row["address_id"] == "440199001002"  # the community (凤岗社区)
    assert row["lat"] == round(lat, 3) and row["long"] == round(lon, 3)
    assert row["media_url"] == "http://example.com/p.jpg"
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
    # the spec: an unknown service_code is 404 (a 大类 is no service: only leaves are)
    assert "NOPE" in _error(client.post(f"{BASE}/requests.json", {**ok, "service_code": "NOPE"}), 404)
    assert "SRHJ" in _error(client.post(f"{BASE}/requests.json", {**ok, "service_code": "SRHJ"}), 404)
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
    start = timezone.localdate(clock.moment - timedelta(days=130)).isoformat()
    end = timezone.localdate(clock.moment - timedelta(days=100)).isoformat()
    window = client.get(f"{BASE}/requests.json", {"start_date": start, "end_date": end}).json()
    assert [r["service_request_id"] for r in window] == [old.number]
    far = timezone.localdate(clock.moment - timedelta(days=200)).isoformat()
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
    [answer] = response.json()
    incident = Incident.objects.get(number=answer["service_request_id"])
    assert answer["account_id"] is None and incident.number in answer["service_notice"]
    # filed in the staff member's name (not a system's), through the same pipeline: routed by the 责任清单
    assert incident.channel == "open311" and incident.category.code == "ZX01"
    assert incident.reporter_staff == iworld.operator and incident.reporter_system is None
    assert incident.village.name == "凤岗社区" and incident.assigned_department == iworld.zsj


# --- XML and JSON, with the spec's names ------------------------------------------------------------------------
LIST_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}


def _spark(element):
    """An XML element as the JSON the Spark convention maps it to (scalars as text)."""
    if element.tag in LIST_TAGS:
        assert all(child.tag == LIST_TAGS[element.tag] for child in element), element.tag
        return [_spark(child) for child in element]
    if len(element):
        return {child.tag: _spark(child) for child in element}
    return element.text or ""


def _texty(value):
    if isinstance(value, dict):
        return {k: _texty(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_texty(v) for v in value]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _file(description="路灯不亮，晚上很黑", grid="440199001002001", category="SRHJ01", **extra):
    lon, lat = point_in(grid)
    return incident_intake(
        actor=None,
        report=IntakeReport(
            channel="web", description=description, category_code=category, lon=lon, lat=lat, **extra
        ),
    ).incident


ENDPOINTS = [  # (path without the format suffix, XML root element)
    ("/open311/discovery", "discovery"),
    (f"{BASE}/discovery", "discovery"),
    (f"{BASE}/services", "services"),
    (f"{BASE}/services/SRHJ01", "service_definition"),
    (f"{BASE}/requests", "service_requests"),
    (f"{BASE}/requests/{{number}}", "service_requests"),
    (f"{BASE}/tokens/{{number}}", "service_requests"),
]


@pytest.mark.parametrize(("path", "root"), ENDPOINTS)
def test_every_endpoint_answers_xml_and_json_alike_in_utf8(client, iworld, path, root):
    incident = _file()
    path = path.format(number=incident.number)
    as_json = client.get(f"{path}.json")
    as_xml = client.get(f"{path}.xml")
    assert as_json.status_code == as_xml.status_code == 200, (as_json.content, as_xml.content)
    assert as_json["Content-Type"] == "application/json; charset=utf-8"
    assert as_xml["Content-Type"] == "text/xml; charset=utf-8"
    assert as_xml.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    document = ElementTree.fromstring(as_xml.content)
    assert document.tag == root
    assert _spark(document) == _texty(as_json.json())
    assert as_json.json()  # never empty: a world with services and one request


def test_a_request_filed_as_xml_answers_in_xml(client, iworld):
    key = system_token(client, iworld, "incident.intake")
    lon, lat = point_in("440199001002001")
    response = client.post(
        f"{BASE}/requests.xml",
        {"api_key": key, "service_code": "SRHJ01", "lat": lat, "long": lon, "description": "占道经营"},
    )
    assert response.status_code == 200 and response["Content-Type"] == "text/xml; charset=utf-8"
    document = ElementTree.fromstring(response.content)
    assert document.tag == "service_requests"
    [request] = document.findall("request")
    assert [child.tag for child in request] == ["service_request_id", "service_notice", "account_id"]
    number = request.findtext("service_request_id")
    assert Incident.objects.filter(number=number, channel="open311").exists()
    assert request.findtext("account_id") == ""


def test_discovery_document(client, iworld):
    for path in ("/open311/discovery.json", f"{BASE}/discovery.json"):
        body = client.get(path).json()
        assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
        assert body["contact"] and body["key_service"] and body["changeset"]
        [endpoint] = body["endpoints"]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"] == "http://testserver/open311/v2" and endpoint["type"] == "production"
        assert endpoint["formats"] == ["text/xml", "application/json"]
    document = ElementTree.fromstring(client.get("/open311/discovery.xml").content)
    assert [f.text for f in document.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]


def test_tokens_answer_the_request_id_of_public_requests_only(client, iworld):
    incident = _file()
    secret = _file("举报有人偷排", kind=Incident.Kind.REPORT)
    assert client.get(f"{BASE}/tokens/{incident.number}.json").json() == [
        {"service_request_id": incident.number, "token": incident.number}
    ]
    document = ElementTree.fromstring(client.get(f"{BASE}/tokens/{incident.number}.xml").content)
    assert document.findtext("request/service_request_id") == incident.number
    assert document.findtext("request/token") == incident.number
    for token in (secret.number, "GD0000", "x" * 200):
        for fmt in ("json", "xml"):
            response = client.get(f"{BASE}/tokens/{token}.{fmt}")
            assert response.status_code == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_code_is_404_on_every_method(client, iworld, fmt):
    key = system_token(client, iworld, "incident.intake")
    for code in ("NOPE", "SRHJ", "x" * 30):
        assert client.get(f"{BASE}/services/{code}.{fmt}").status_code == 404
        response = client.post(
            f"{BASE}/requests.{fmt}",
            {"api_key": key, "service_code": code, "address_string": "桃源社区", "description": "占道"},
        )
        assert response.status_code == 404, response.content
        assert code in response.content.decode()
    assert client.get(f"{BASE}/requests.json", {"service_code": "NOPE"}).json() == []
    assert not Incident.objects.exists()


def test_descriptions_up_to_4000_characters(client, iworld):
    key = system_token(client, iworld, "incident.intake")
    ok = {"api_key": key, "service_code": "SRHJ01", "address_string": "桃源社区"}
    long = "占道经营" * 1000
    response = client.post(f"{BASE}/requests.json", {**ok, "description": long})
    assert response.status_code == 200, response.content
    number = response.json()[0]["service_request_id"]
    assert Incident.objects.get(number=number).description == long
    [row] = client.get(f"{BASE}/requests/{number}.json").json()
    assert row["description"] == long
    assert "description" in _error(
        client.post(f"{BASE}/requests.json", {**ok, "description": long + "占"}), 400
    )
    assert Incident.objects.count() == 1


def test_media_url_is_accepted_and_returned_and_must_be_a_plain_web_address(client, iworld):
    key = system_token(client, iworld, "incident.intake")
    ok = {"api_key": key, "service_code": "SRHJ01", "address_string": "桃源社区", "description": "占道"}
    url = "https://photos.example.org/2212426634_5ed477a060.jpg?size=large"
    response = client.post(f"{BASE}/requests.json", {**ok, "media_url": url})
    number = response.json()[0]["service_request_id"]
    [row] = client.get(f"{BASE}/requests/{number}.json").json()
    assert row["media_url"] == url
    xml = ElementTree.fromstring(client.get(f"{BASE}/requests/{number}.xml").content)
    assert xml.findtext("request/media_url") == url
    other = _file()  # no media: null / empty element
    assert client.get(f"{BASE}/requests/{other.number}.json").json()[0]["media_url"] is None
    for bad in (
        "javascript:alert(1)",
        "ftp://example.org/p.jpg",
        "https://user:pw@example.org/p.jpg",
        "p.jpg",
    ):
        assert "media_url" in _error(client.post(f"{BASE}/requests.json", {**ok, "media_url": bad}), 400)
    assert Incident.objects.count() == 2


@pytest.mark.parametrize(
    ("code", "grid", "village", "town"),
    [
        ("440199001002001", "440199001002001", "440199001002", "440199001"),  # a grid
        ("440199001002", None, "440199001002", "440199001"),  # a community
        ("440199002", None, None, "440199002"),  # a town
    ],
)
def test_address_id_is_a_location(client, iworld, code, grid, village, town):
    key = system_token(client, iworld, "incident.intake")
    response = client.post(
        f"{BASE}/requests.json",
        {"api_key": key, "service_code": "SRHJ01", "address_id": code, "description": "人行道上占道经营"},
    )
    assert response.status_code == 200, response.content
    incident = Incident.objects.get(number=response.json()[0]["service_request_id"])
    assert (incident.grid.code if incident.grid else None) == grid
    assert (incident.village.code if incident.village else None) == village
    assert (incident.town.code if incident.town else None) == town
    [row] = client.get(f"{BASE}/requests/{incident.number}.json").json()
    assert row["address_id"] == (village or town) and row["address"]


def test_unknown_address_id_is_400(client, iworld):
    key = system_token(client, iworld, "incident.intake")
    for code in ("440199", "999999999", "440199001002001x"):  # the district itself is no address
        response = client.post(
            f"{BASE}/requests.json",
            {"api_key": key, "service_code": "SRHJ01", "address_id": code, "description": "占道"},
        )
        assert "address_id" in _error(response, 400)
    assert not Incident.objects.exists()


# --- the public feed publishes nothing a reporter typed about themselves ----------------------------------------
SECRETS = (
    "13912345678",
    "1234.5678",
    "1234/5678",
    "1234 5678",
    "8888-1234",
    "44019919900101123X",
    "wang.xm@example.com",
    "example.com",
    "li@corp.cn",
    "1806",
    "2单元",
    "8 号",
)


def test_every_public_output_masks_personal_data_and_cuts_addresses(client, iworld):
    incident = _file(
        "我家在幸福小区3栋2单元1806室，电话 139.1234.5678 或 139/1234/5678 或 139 1234 5678，"
        "座机 (020) 8888-1234，身份证 44019919900101123X，邮箱 wang.xm@example.com，楼下占道经营",
        address="凤岗路 8 号 3 栋 1806 房（13912345678）",
    )
    close_incident(incident)
    Incident.objects.filter(pk=incident.pk).update(resolution="已联系 13912345678 和 li@corp.cn，已劝离")
    outputs = {
        "list.json": client.get(f"{BASE}/requests.json"),
        "list.xml": client.get(f"{BASE}/requests.xml"),
        "ids.json": client.get(f"{BASE}/requests.json", {"service_request_id": incident.number}),
        "detail.json": client.get(f"{BASE}/requests/{incident.number}.json"),
        "detail.xml": client.get(f"{BASE}/requests/{incident.number}.xml"),
    }
    for name, response in outputs.items():
        text = response.content.decode()
        assert incident.number in text, name
        leaked = [secret for secret in SECRETS if secret in text]
        assert leaked == [], (name, leaked)
    [row] = outputs["detail.json"].json()
    assert row["address"] == "凤岗路" and "幸福小区*栋*单元*室" in row["description"]
    assert "139********78" in row["description"] and "w***@***.com" in row["description"]
    assert "l***@***.cn" in row["status_notes"] and "已劝离" in row["status_notes"]
    lon, lat = point_in("440199001002001")
    assert row["lat"] == round(lat, 3) and row["long"] == round(lon, 3)


def test_an_uploaded_media_file_becomes_a_report_photo_and_is_never_published(client, iworld):
    from .test_report_pages import png

    key = system_token(client, iworld, "incident.intake")
    ok = {"api_key": key, "service_code": "SRHJ01", "address_string": "桃源社区", "description": "占道"}
    response = client.post(f"{BASE}/requests.json", {**ok, "media": png()})
    assert response.status_code == 200, response.content
    incident = Incident.objects.get(number=response.json()[0]["service_request_id"])
    assert incident.attachments.get().purpose == "report"
    [row] = client.get(f"{BASE}/requests/{incident.number}.json").json()
    assert row["media_url"] is None
    not_an_image = png().__class__("a.png", b"GIF89a....", content_type="image/png")
    assert "media" in _error(client.post(f"{BASE}/requests.json", {**ok, "media": not_an_image}), 400)
    assert Incident.objects.count() == 1
