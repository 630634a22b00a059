"""Every error under /open311/ is the GeoReport error array (`[{"code", "description"}]`, or `<errors>` for .xml)
with the same HTTP status — 400, 403, 404, 405, 413, 429, 500 — and bad input never reaches a 500 nor gets
stored: impossible dates, NUL and lone surrogates in any parameter (400 naming it), overlong parameters, wrong
JSON types, malformed bodies; reads and writes are rate-limited with Retry-After."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest

from yiwang.incidents import open311
from yiwang.incidents.models import Incident

from .factories import point_in
from .test_iot_api import system_token

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"


def georeport_error(response, status: int, fmt: str = "json") -> str:
    """Asserts the GeoReport error form with `status` in `fmt`; returns the descriptions joined."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    if fmt == "xml":
        assert response["Content-Type"] == "text/xml; charset=utf-8"
        document = ElementTree.fromstring(response.content)
        assert document.tag == "errors"
        errors = [
            {"code": int(e.findtext("code")), "description": e.findtext("description")}
            for e in document.findall("error")
        ]
    else:
        assert response["Content-Type"] == "application/json; charset=utf-8"
        errors = json.loads(response.content)
        assert isinstance(errors, list)
    assert errors and all(e["code"] == status and e["description"] for e in errors), errors
    return " ".join(e["description"] for e in errors)


def _send(client, method: str, path: str, **kwargs):
    return getattr(client, method.lower())(path, **kwargs)


# (method, path without suffix or with {fmt}, request kwargs, status)
BAD_REQUESTS = [
    ("GET", "/open311/", {}, 404),
    ("GET", f"{BASE}/", {}, 404),
    ("GET", f"{BASE}/nothing.{{fmt}}", {}, 404),
    ("GET", f"{BASE}/services.csv", {}, 404),
    ("GET", f"{BASE}/services.json/", {}, 404),
    ("GET", f"{BASE}/requests/GD0000.{{fmt}}", {}, 404),
    ("GET", f"{BASE}/services/NOPE.{{fmt}}", {}, 404),
    ("GET", f"{BASE}/requests/{'9' * 100}.{{fmt}}", {}, 404),
    ("POST", f"{BASE}/services.{{fmt}}", {}, 405),
    ("POST", f"{BASE}/discovery.{{fmt}}", {}, 405),
    ("POST", f"{BASE}/requests/GD0000.{{fmt}}", {}, 405),
    ("DELETE", f"{BASE}/requests.{{fmt}}", {}, 405),
    ("PUT", f"{BASE}/tokens/GD0000.{{fmt}}", {}, 405),
    ("GET", f"{BASE}/requests.{{fmt}}", {"data": {"start_date": "9999-12-31"}}, 400),
    ("GET", f"{BASE}/requests.{{fmt}}", {"data": {"end_date": "9999-12-31"}}, 400),
    ("GET", f"{BASE}/requests.{{fmt}}", {"data": {"start_date": "0001-01-01"}}, 400),
    ("GET", f"{BASE}/requests.{{fmt}}", {"data": {"end_date": "9999-12-31T23:59:59-14:00"}}, 400),
    ("GET", f"{BASE}/requests.{{fmt}}", {"data": {"start_date": "2026-02-30"}}, 400),
    ("GET", f"{BASE}/requests.{{fmt}}", {"data": {"start_date": "2026-03-02T25:00:00"}}, 400),
    ("GET", f"{BASE}/requests.{{fmt}}", {"data": {"start_date": "2026-03-02T10:00:00+99:00"}}, 400),
    ("GET", f"{BASE}/requests.{{fmt}}", {"data": {"start_date": "yesterday"}}, 400),
    (
        "GET",
        f"{BASE}/requests.{{fmt}}",
        {"data": {"start_date": "2026-06-01", "end_date": "2026-03-01"}},
        400,
    ),
    ("GET", f"{BASE}/requests.{{fmt}}", {"data": {"status": "pending"}}, 400),
    ("POST", f"{BASE}/requests.{{fmt}}", {"data": {"service_code": "SRHJ01"}}, 403),
    ("POST", f"{BASE}/requests.{{fmt}}", {"data": {"service_code": "SRHJ01", "api_key": "nope"}}, 403),
    ("POST", f"{BASE}/requests.{{fmt}}", {"data": "x", "content_type": "multipart/form-data"}, 400),
    ("POST", f"{BASE}/requests.{{fmt}}", {"data": "{not json", "content_type": "application/json"}, 400),
    ("POST", f"{BASE}/requests.{{fmt}}", {"data": "[1, 2]", "content_type": "application/json"}, 400),
    ("POST", f"{BASE}/requests.{{fmt}}", {"data": b"\xff\xfe", "content_type": "application/json"}, 400),
    (
        "POST",
        f"{BASE}/requests.{{fmt}}",
        {"data": "[" * 100_000 + "]" * 100_000, "content_type": "application/json"},
        400,
    ),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(("method", "path", "kwargs", "status"), BAD_REQUESTS)
def test_every_error_is_the_georeport_array(client, iworld, fmt, method, path, kwargs, status):
    url = path.format(fmt=fmt)
    answered_as = "xml" if url.endswith(".xml") else "json"
    response = _send(client, method, url, **kwargs)
    georeport_error(response, status, answered_as)
    if status == 405:
        assert "GET" in response["Allow"]
    assert not Incident.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_too_large_a_body_is_413(client, iworld, settings, fmt):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    key = system_token(client, iworld, "incident.intake")
    body = {
        "api_key": key,
        "service_code": "SRHJ01",
        "address_string": "桃源社区",
        "description": "长" * 3000,
    }
    georeport_error(client.post(f"{BASE}/requests.{fmt}", body), 413, fmt)
    response = client.post(f"{BASE}/requests.{fmt}", json.dumps(body), content_type="application/json")
    georeport_error(response, 413, fmt)
    assert not Incident.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unexpected_failure_is_500_in_the_georeport_form(client, iworld, monkeypatch, fmt):
    def broken():
        raise RuntimeError("database went away")

    monkeypatch.setattr(open311, "_services", broken)
    description = georeport_error(client.get(f"{BASE}/services.{fmt}"), 500, fmt)
    assert "database" not in description  # no internals leak


# --- bad characters and sizes in every parameter --------------------------------------------------------------
POST_FIELDS = [
    "service_code",
    "description",
    "address_string",
    "address_id",
    "lat",
    "long",
    "first_name",
    "last_name",
    "phone",
    "email",
    "media_url",
    "device_id",
    "account_id",
    "jurisdiction_id",
    "attribute[WHISPAWN]",
]


def _valid(key: str) -> dict:
    lon, lat = point_in("440199001002001")
    return {
        "api_key": key,
        "service_code": "SRHJ01",
        "lat": str(lat),
        "long": str(lon),
        "address_string": "凤岗路",
        "description": "人行道上有流动摊贩占道经营",
    }


@pytest.mark.parametrize("field", POST_FIELDS)
@pytest.mark.parametrize("bad", ["\x00", "\ud800", "\x1b"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_nul_surrogates_and_controls_are_refused_naming_the_field(client, iworld, field, bad, fmt):
    key = system_token(client, iworld, "incident.intake")
    body = {**_valid(key), field: f"前{bad}后"}
    response = client.post(f"{BASE}/requests.{fmt}", json.dumps(body), content_type="application/json")
    assert field in georeport_error(response, 400, fmt)
    if bad != "\ud800":  # a form cannot carry a lone surrogate (its bytes decode to U+FFFD)
        assert field in georeport_error(client.post(f"{BASE}/requests.{fmt}", body), 400, fmt)
    assert not Incident.objects.exists()


def test_a_bad_character_in_a_json_key_or_nested_value_is_refused(client, iworld):
    key = system_token(client, iworld, "incident.intake")
    for body in ({**_valid(key), "x\x00": "1"}, {**_valid(key), "attribute": {"A": ["ok", "\ud800"]}}):
        response = client.post(f"{BASE}/requests.json", json.dumps(body), content_type="application/json")
        georeport_error(response, 400)
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "field", ["service_request_id", "service_code", "start_date", "end_date", "status", "jurisdiction_id"]
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_query_parameters_with_nul_are_refused_naming_the_field(client, iworld, field, fmt):
    response = client.get(f"{BASE}/requests.{fmt}", {field: "GD\x00"})
    assert field in georeport_error(response, 400, fmt)


@pytest.mark.parametrize("path", ["services/SRHJ%00", "requests/GD%00", "tokens/GD%00", "services/%1B"])
def test_path_parameters_with_nul_or_controls_are_refused(client, iworld, path):
    for fmt in ("json", "xml"):
        georeport_error(client.get(f"{BASE}/{path}.{fmt}"), 400, fmt)


OVERLONG = {name: limit for name, limit in open311.FIELD_MAX.items() if name in POST_FIELDS}


@pytest.mark.parametrize(("field", "limit"), sorted(OVERLONG.items()))
def test_overlong_parameters_are_refused_naming_the_field(client, iworld, field, limit):
    key = system_token(client, iworld, "incident.intake")
    response = client.post(f"{BASE}/requests.json", {**_valid(key), field: "1" * (limit + 1)})
    assert field in georeport_error(response, 400)
    assert not Incident.objects.exists()


def test_names_together_longer_than_the_register_takes_are_refused(client, iworld):
    key = system_token(client, iworld, "incident.intake")
    response = client.post(
        f"{BASE}/requests.json", {**_valid(key), "first_name": "名" * 30, "last_name": "姓" * 30}
    )
    assert "first_name" in georeport_error(response, 400)


@pytest.mark.parametrize(
    "changes",
    [
        {"lat": True, "long": True},
        {"lat": "nan", "long": "113.2"},
        {"lat": "23.0", "long": "inf"},
        {"lat": "91", "long": "113.2"},
        {"lat": "23.0", "long": "-181"},
        {"lat": "23.0", "long": ""},
        {"description": ["a", "b"]},
        {"description": {"text": "占道"}},
        {"service_code": 1},
        {"phone": "12"},
        {"email": "not-an-address"},
    ],
)
def test_wrong_types_and_values_are_400_and_nothing_is_stored(client, iworld, changes):
    key = system_token(client, iworld, "incident.intake")
    body = {**_valid(key), **changes}
    response = client.post(f"{BASE}/requests.json", json.dumps(body), content_type="application/json")
    assert response.status_code in (400, 404), response.content  # 404: service_code 1 does not exist
    georeport_error(response, response.status_code)
    assert not Incident.objects.exists()


def test_pipeline_errors_name_the_open311_parameter(client, iworld):
    key = system_token(client, iworld, "incident.intake")
    description = georeport_error(client.post(f"{BASE}/requests.json", {**_valid(key), "phone": "12"}), 400)
    assert description.startswith("phone：")


# --- rate limits ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_reads_over_the_limit_are_429_with_retry_after(client, iworld, settings, fmt):
    settings.YIWANG_RATE_LIMITS = {"open311_read": "3/minute", "open311_write": "2/minute"}
    paths = [f"{BASE}/services.{fmt}", f"{BASE}/requests.{fmt}", "/open311/discovery.json"]
    for path in paths:
        assert client.get(path).status_code == 200
    for path in (f"{BASE}/services/SRHJ01.{fmt}", f"{BASE}/tokens/GD1.{fmt}", f"{BASE}/nothing.{fmt}"):
        response = client.get(path)
        georeport_error(response, 429, fmt)
        assert int(response["Retry-After"]) >= 1
    # another client address has its own count
    assert client.get(f"{BASE}/services.{fmt}", REMOTE_ADDR="127.0.0.2").status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_writes_over_the_limit_are_429_with_retry_after_and_store_nothing(client, iworld, settings, fmt):
    key = system_token(client, iworld, "incident.intake")
    settings.YIWANG_RATE_LIMITS = {"open311_read": "100/minute", "open311_write": "2/minute"}
    assert client.post(f"{BASE}/requests.{fmt}", _valid(key)).status_code == 200
    georeport_error(client.post(f"{BASE}/requests.{fmt}", {"api_key": "guess"}), 403, fmt)  # counts too
    response = client.post(f"{BASE}/requests.{fmt}", {**_valid(key), "description": "另一处占道经营"})
    georeport_error(response, 429, fmt)
    assert int(response["Retry-After"]) >= 1
    assert Incident.objects.count() == 1
    assert client.get(f"{BASE}/requests.{fmt}").status_code == 200  # reads have their own limit


# --- errors made outside the Open311 views ----------------------------------------------------------------------
def test_an_error_answer_made_by_any_other_layer_is_rewritten_in_the_georeport_form(rf):
    from django.http import HttpResponse, JsonResponse

    from yiwang.incidents.open311_format import Open311ErrorMiddleware

    def layer(response):
        return Open311ErrorMiddleware(lambda request: response)

    html = HttpResponse("<h1>Forbidden</h1>", status=403)
    html["Retry-After"] = "7"
    response = layer(html)(rf.get(f"{BASE}/requests.xml"))
    assert georeport_error(response, 403, "xml") and response["Retry-After"] == "7"
    problem = JsonResponse(
        {"title": "请求数据有误", "detail": "description：不能含有空字符（NUL）。"}, status=422
    )
    problem["Content-Type"] = "application/problem+json"
    response = layer(problem)(rf.post(f"{BASE}/requests.json"))
    assert "description" in georeport_error(response, 400)  # the spec's 400 for any other error
    plain = JsonResponse([{"code": 429, "description": "请求过于频繁"}], status=429, safe=False)
    assert georeport_error(layer(plain)(rf.get("/open311/discovery.xml")), 429, "xml") == "请求过于频繁"
    # other paths and successful answers pass untouched
    assert layer(html)(rf.get("/incidents/hotline/")) is html
    ok = HttpResponse("[]", content_type="application/json; charset=utf-8")
    assert layer(ok)(rf.get(f"{BASE}/services.json")) is ok


def test_open311_errors_keep_the_platform_security_headers(client, iworld):
    for path in (f"{BASE}/nothing.json", f"{BASE}/requests.xml?start_date=9999-12-31"):
        response = client.get(path)
        assert response.status_code in (400, 404)
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "Content-Security-Policy" in response and response["Cache-Control"] == "no-store"
