"""The API shell: declared permissions everywhere, problem+json errors, request ids, health."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import AccountFactory, staff_with_roles
from yiwang.api import api
from yiwang.core.permissions import SELF_SERVICE, Permission


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


# SELF_SERVICE means "any signed-in user": citizens and enterprise users as much as staff. A staff page declares the
# permissions of its audience instead (`page_requires(CASE_INTAKE, CASE_APPROVE, ...)`), so the declaration says
# who may use it. Pages with URL parameters cannot be opened blind, so those a citizen or enterprise user uses as
# their own are listed here, each with why; any other SELF_SERVICE page with parameters fails the test below.
SELF_SERVICE_PAGES_WITH_PARAMETERS = {
    # 在线申请, 我的办件 (the applicant's own case: detail, receipt, 补正, withdrawal, notices, 补交, rating)
    "cases/apply/<str:item_code>/",
    "cases/<uuid:case_id>/",
    "cases/<uuid:case_id>/receipt/",
    "cases/<uuid:case_id>/supply/",
    "cases/<uuid:case_id>/withdraw/",
    "cases/<uuid:case_id>/notice/",
    "cases/<uuid:case_id>/owed-supply/",
    "cases/reviews/case/<uuid:case_id>/",
    # a case's files: the applicant and the staff who may see the case (case_visible decides)
    "cases/<uuid:case_id>/files/<uuid:file_id>/",
    # 一件事: apply, follow, rate
    "cases/bundles/apply/<slug:code>/",
    "cases/bundles/<uuid:bundle_case_id>/",
    "cases/reviews/bundle/<uuid:bundle_id>/",
    # 免申即享: the applicant confirms or declines an entitlement
    "cases/entitlements/<uuid:entitlement_id>/confirm/",
    "cases/entitlements/<uuid:entitlement_id>/decline/",
    # 差评整改: the rater reads the thread and accepts or rejects the reply (staff act through their own pages)
    "cases/rectifications/<uuid:rect_id>/",
    "cases/rectifications/<uuid:rect_id>/respond/",
    # 我的证照 and 授权用证 (the holder's licences, grants and receipts)
    "licences/mine/<uuid:licence_id>/",
    "licences/mine/<uuid:licence_id>/pdf/",
    "licences/mine/<uuid:licence_id>/file/",
    "licences/mine/<uuid:licence_id>/show/",
    "licences/mine/<uuid:licence_id>/dispute/",
    "licences/mine/<uuid:licence_id>/grants/",
    "licences/grants/<uuid:grant_id>/revoke/",
    "licences/receipts/<uuid:licence_id>/",
    # 我要上报, 我的诉求 (the reporter's own incidents)
    "incidents/report/<uuid:public_id>/receipt/",
    "incidents/mine/<uuid:public_id>/",
    "incidents/mine/<uuid:public_id>/photos/<uuid:attachment_id>/",
    # 我的数据: the holder's own consents (receipt, download, revoke) and 数据资产凭证 (download, revoke)
    "data/consents/<uuid:consent_id>/",
    "data/consents/<uuid:consent_id>/receipt.json",
    "data/consents/<uuid:consent_id>/revoke/",
    "data/vouchers/<uuid:voucher_id>/file.json",
    "data/vouchers/<uuid:voucher_id>/revoke/",
    # 我的纠错: the objector's own objection (detail, withdraw, receipts)
    "data/my/objections/<uuid:objection_id>/",
    "data/my/objections/<uuid:objection_id>/receipts/",
    # 公共数据开放: the applicant's own 有条件开放 application and key, and applying for a dataset
    "open/dataset/<slug:name>/apply/",
    "open/me/keys/<uuid:key_id>/revoke",
    "open/me/applications/<uuid:application_id>/",
    "open/me/applications/<uuid:application_id>/key",
    # 我的信用: the subject's own 异议 and 修复 (filing from a record, detail, receipts); the detail pages also serve
    # the staff who verify or review them (the selector decides)
    "credit/mine/records/<uuid:record_id>/objection/",
    "credit/objections/<uuid:objection_id>/",
    "credit/objections/<uuid:objection_id>/receipt/",
    "credit/repairs/<uuid:repair_id>/",
    "credit/repairs/<uuid:repair_id>/receipt/",
}


def _has_parameters(path: str) -> bool:
    return "<" in path or "(" in path


def _self_service_pages() -> list[tuple[str, object]]:
    return [
        (path, view)
        for path, view in _page_views()
        if getattr(view, "yiwang_permission", None) == SELF_SERVICE
        and getattr(view, "yiwang_permissions", (SELF_SERVICE,)) == (SELF_SERVICE,)
    ]


def test_self_service_pages_with_parameters_are_listed():
    unlisted = [
        path
        for path, _view in _self_service_pages()
        if _has_parameters(path) and path not in SELF_SERVICE_PAGES_WITH_PARAMETERS
    ]
    assert unlisted == [], (
        f"pages declared SELF_SERVICE that are not citizen pages: {unlisted} — declare the permissions of "
        "their audience, or (for a citizen's own page) add them to SELF_SERVICE_PAGES_WITH_PARAMETERS"
    )


@pytest.mark.django_db
def test_self_service_pages_open_to_a_citizen(client):
    client.force_login(AccountFactory(citizen=True))
    refused = []
    for path, _view in _self_service_pages():
        if _has_parameters(path):
            continue
        url = "/" + path
        response = client.get(url)
        if response.status_code == 405:  # a form target: post nothing, which must not be refused either
            response = client.post(url)
        to_login = response.status_code == 302 and response["Location"].startswith(settings.LOGIN_URL)
        if response.status_code == 403 or to_login or response.status_code >= 500:
            refused.append(f"{url} ({response.status_code})")
    assert refused == [], (
        f"pages declared SELF_SERVICE that refuse a signed-in citizen: {refused} — declare the permissions of "
        "their audience instead"
    )


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


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


# Like the other live-service tests: skipped, saying which service is missing, where it is not running
# (CI's .ci/run starts both).
@pytest.mark.skipif(not _listening(6379), reason="no Redis at 127.0.0.1:6379")
@pytest.mark.skipif(not _listening(1883), reason="no MQTT broker at 127.0.0.1:1883")
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
