"""The API shell: declared permissions everywhere, problem+json errors, request ids, health."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import staff_with_roles
from yiwang.api import api
from yiwang.core.permissions import Permission


def _api_operations():
    api.urls  # noqa: B018 — building the URLs binds every router
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                yield f"{prefix}{path}", operation


def test_every_api_operation_declares_a_permission():
    operations = list(_api_operations())
    assert len(operations) >= 1
    missing = [
        f"{','.join(op.methods)} {path}"
        for path, op in operations
        if not isinstance(getattr(op.view_func, "yiwang_permission", None), Permission)
    ]
    assert missing == [], f"API operations without @requires(...): {missing}"


def _page_views(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if (
                entry.app_name == "admin"
                or str(entry.pattern).startswith("api/")
                or entry.urlconf_name == "django.conf.urls.i18n"
            ):
                continue
            yield from _page_views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.callback.__module__.startswith("yiwang."):
            yield prefix + str(entry.pattern), entry.callback


def test_every_page_declares_a_permission():
    pages = list(_page_views())
    assert pages, "no pages found"
    missing = [
        path
        for path, view in pages
        if getattr(view, "__module__", "") != "yiwang.core.apiutils"
        and not isinstance(getattr(view, "yiwang_permission", None), Permission)
    ]
    assert missing == [], f"pages without @page_requires(...): {missing}"


@pytest.fixture
def operator_client(client):
    client.force_login(staff_with_roles("district_admin").account)
    return client


@pytest.mark.django_db
def test_public_health_is_liveness_only(client):
    response = client.get("/api/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert client.get("/api/health/details").status_code == 401


@pytest.mark.django_db
def test_health_details_need_the_platform_health_permission(client):
    client.force_login(staff_with_roles("window_clerk").account)
    response = client.get("/api/health/details")
    assert response.status_code == 403 and response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_health_details_report_each_component(operator_client):
    response = operator_client.get("/api/health/details")
    assert response.status_code == 200
    body = response.json()
    assert set(body["components"]) == {"database", "huey", "redis", "mqtt"}
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["huey"]["status"] == "ok"
    assert body["status"] in {"ok", "degraded"}


@pytest.mark.django_db
def test_health_is_degraded_when_a_component_is_unreachable(operator_client):
    with override_settings(MQTT_URL="mqtt://127.0.0.1:1", REDIS_URL="redis://127.0.0.1:1/0"):
        body = operator_client.get("/api/health/details").json()
    assert body["status"] == "degraded"
    assert body["components"]["mqtt"]["status"] == "down"
    assert body["components"]["redis"]["status"] == "down"
    assert body["components"]["database"]["status"] == "ok"


@pytest.mark.django_db
def test_health_sees_live_redis_and_mqtt(operator_client):
    with override_settings(MQTT_URL="mqtt://127.0.0.1:1883", REDIS_URL="redis://127.0.0.1:6379/15"):
        body = operator_client.get("/api/health/details").json()
    assert body["components"]["redis"]["status"] == "ok", body
    assert body["components"]["mqtt"]["status"] == "ok", body
    assert body["status"] == "ok"


@pytest.mark.django_db
def test_unknown_api_path_is_problem_json_with_request_id(client):
    response = client.get("/api/no-such-thing", HTTP_X_REQUEST_ID="req-test-12345678")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["status"] == 404 and body["title"]
    assert body["request_id"] == "req-test-12345678" == response["X-Request-ID"]


@pytest.mark.django_db
def test_protected_operation_without_credentials_is_401_problem(client):
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["request_id"] == response["X-Request-ID"]


@pytest.mark.django_db
def test_garbage_bearer_token_is_401(client):
    response = client.get("/api/auth/me", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401


def test_openapi_document_is_served(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert "/api/health" in doc["paths"]
    docs_page = client.get("/api/docs")
    assert docs_page.status_code == 200
