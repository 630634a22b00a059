"""A public Open311 client, unmodified, against a live server: `three` (PyPI) discovers the endpoint, lists the
services, files a request with a registered system's key, reads it back, finds it in the list and resolves its
token. `three` 0.8.0 was written for Python 2: it imports `itertools.ifilter` (Python 3's `filter`), so the test
gives Python 3 that one name back before importing it; the client's own code is not touched. It speaks JSON (its
default): its XML mode needs `relaxml`, which no longer runs on Python 3.9+; the XML side of the same endpoints is
tested in test_open311.py."""

from __future__ import annotations

import importlib
import itertools

import pytest

from yiwang.incidents.models import Incident

from .factories import point_in
from .test_iot_api import system_token

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def three():
    if not hasattr(itertools, "ifilter"):
        itertools.ifilter = filter  # the Python 2 name `three` imports; nothing else in the process uses it
    return pytest.importorskip(
        "three", reason="the Open311 client `three` is not installed (requirements.lock)"
    )


@pytest.fixture
def city(three, live_server, client, iworld):
    key = system_token(client, iworld, "incident.intake")
    return importlib.import_module("three.core").Three(f"{live_server.url}/open311/v2", api_key=key)


def test_three_discovers_files_and_follows_a_request(city, iworld):
    discovery = city.discovery()
    [endpoint] = discovery["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and "application/json" in endpoint["formats"]
    assert city._request.status_code == 200

    services = city.services()
    assert "SRHJ01" in [s["service_code"] for s in services]
    assert city.services("SRHJ01") == {"service_code": "SRHJ01", "attributes": []}

    lon, lat = point_in("440199001002001")
    [created] = city.post(
        "SRHJ01",
        lat=lat,
        long=lon,
        address="凤岗路 8 号",
        description="人行道上有流动摊贩占道经营，电话 139.1234.5678",
        first_name="小明",
        last_name="王",
        phone="13800002222",
        media_url="https://photos.example.org/1.jpg",
    )
    assert city.post_response.status_code == 200, city.post_response.content
    number = created["service_request_id"]
    assert Incident.objects.get(number=number).channel == "open311"

    [row] = city.request(number)
    assert row["service_code"] == "SRHJ01" and row["status"] == "open" and row["address"] == "凤岗路"
    assert (
        row["media_url"] == "https://photos.example.org/1.jpg" and "139.1234.5678" not in row["description"]
    )
    assert number in [r["service_request_id"] for r in city.requests("SRHJ01")]

    assert city.token(number) == [{"service_request_id": number, "token": number}]
    assert city._request.status_code == 200
    city.token("GD0000")
    assert city._request.status_code == 404
    assert city._request.headers["Content-Type"] == "application/json; charset=utf-8"
