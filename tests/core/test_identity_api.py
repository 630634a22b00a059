"""The token endpoint (password and client-credentials grants), revocation and /api/auth/me."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pyotp
import pytest
from django.conf import settings
from django.utils import timezone

from tests.factories import PASSWORD, AccountFactory, DepartmentFactory, staff_with_roles
from yiwang.core.models import ApiToken, AuditEntry
from yiwang.core.principal import Principal
from yiwang.core.ratelimit import DEFAULT_LIMITS
from yiwang.core.services.identity import registered_system_create, totp_enrol_begin, totp_enrol_confirm

PAIR_LIMIT = int(DEFAULT_LIMITS["login_pair"].split("/")[0])
pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/auth/token"


def post_json(client, url, data, **headers):
    return client.post(url, data=json.dumps(data), content_type="application/json", **headers)


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def assert_problem(response, status: int, error: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"]
    if error:
        assert body["error"] == error
    return body


@pytest.fixture
def system():
    admin = Principal.for_account(staff_with_roles("district_admin").account)
    return registered_system_create(
        actor=admin,
        name="市场监管业务系统",
        department=DepartmentFactory(),
        scopes=["division.view", "department.view", "organisation.lookup"],
    )


# --- password grant -------------------------------------------------------------------------------------------
def test_password_grant_issues_a_bearer_token_for_me(client):
    staff = staff_with_roles("window_clerk")
    response = post_json(
        client,
        TOKEN_URL,
        {"grant_type": "password", "username": staff.account.username, "password": PASSWORD},
    )
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and len(body["access_token"]) >= 40
    assert 0 < body["expires_in"] <= settings.YIWANG_API_TOKEN_HOURS * 3600
    assert "case.intake" in body["scope"].split()

    me = client.get("/api/auth/me", **bearer(body["access_token"]))
    assert me.status_code == 200, me.content
    data = me.json()
    assert (
        data["kind"] == "staff" and data["username"] == staff.account.username and data["name"] == staff.name
    )
    assert [r["code"] for r in data["roles"]] == ["window_clerk"]
    assert "case.intake" in data["permissions"] and "audit.view" not in data["permissions"]
    assert data["department"] == {"code": staff.department.code, "name": staff.department.name}
    assert "id_number" not in me.content.decode()
    assert {"account.login", "api_token.issued"} <= set(AuditEntry.objects.values_list("action", flat=True))


def test_password_grant_accepts_a_form_body(client):
    account = AccountFactory(enterprise=True)
    response = client.post(
        TOKEN_URL, {"grant_type": "password", "username": account.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    me = client.get("/api/auth/me", **bearer(response.json()["access_token"])).json()
    assert me["organisation"]["uscc"] == account.organisation.uscc
    assert me["name"] == account.person.name and me["department"] is None
    assert account.person.id_number not in json.dumps(me, ensure_ascii=False)


def test_wrong_password_is_401_and_too_many_are_429_for_real_and_unknown_names_alike(client):
    account = AccountFactory(citizen=True)
    for name in (account.username, "ghost"):
        for _ in range(PAIR_LIMIT):
            response = post_json(
                client, TOKEN_URL, {"grant_type": "password", "username": name, "password": "nope-nope"}
            )
            body = assert_problem(response, 401, "invalid_grant")
            assert body["detail"] == "用户名或密码不正确。"
    real = post_json(
        client, TOKEN_URL, {"grant_type": "password", "username": account.username, "password": PASSWORD}
    )
    ghost = post_json(client, TOKEN_URL, {"grant_type": "password", "username": "ghost", "password": "x"})
    for response in (real, ghost):
        assert response.status_code == 429 and response["Content-Type"] == "application/problem+json"
        assert int(response["Retry-After"]) > 0 and "秒后再试" in response.json()["detail"]
    assert set(real.json()) == set(ghost.json())


def test_the_token_endpoint_is_rate_limited_per_client(client, settings):
    settings.YIWANG_RATE_LIMITS = {"token": "3/minute"}
    for _ in range(3):
        assert post_json(client, TOKEN_URL, {"grant_type": "nope"}).status_code == 400
    response = post_json(client, TOKEN_URL, {"grant_type": "nope"})
    assert response.status_code == 429 and response["Retry-After"]


def test_password_grant_for_an_admin_needs_the_totp(client, clock):
    account = staff_with_roles("district_admin").account
    request = {"grant_type": "password", "username": account.username, "password": PASSWORD}
    body = assert_problem(post_json(client, TOKEN_URL, request), 401, "second_factor_required")
    assert "绑定" in body["detail"]  # not enrolled yet: bind on the web first

    secret, _uri = totp_enrol_begin(account=account)
    totp = pyotp.TOTP(secret)
    # a fixed clock: enrolled with the previous step's code, the current step stays free for the API call
    totp_enrol_confirm(account=account, code=totp.at(clock.moment - timedelta(seconds=30)))
    body = assert_problem(post_json(client, TOKEN_URL, request), 401, "second_factor_required")
    assert "totp" in body["detail"]
    accepted = {totp.at(clock.moment + timedelta(seconds=30 * step)) for step in (-1, 0, 1)}
    bad = next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)
    wrong = assert_problem(post_json(client, TOKEN_URL, {**request, "totp": bad}), 401)
    assert wrong["error"] == "second_factor_required"

    response = post_json(client, TOKEN_URL, {**request, "totp": totp.at(clock.moment)})
    assert response.status_code == 200, response.content
    assert "system.manage" in response.json()["scope"].split()
    logins = AuditEntry.objects.filter(action="account.login")
    assert [e.after["method"] for e in logins] == ["api:password+totp"]


def test_bad_or_missing_grant_is_400(client):
    assert_problem(
        post_json(client, TOKEN_URL, {"grant_type": "authorization_code"}), 400, "unsupported_grant_type"
    )
    body = assert_problem(post_json(client, TOKEN_URL, {}), 400, "invalid_request")
    assert body["errors"][0]["field"] == "grant_type"
    body = assert_problem(post_json(client, TOKEN_URL, {"grant_type": "password"}), 400, "invalid_request")
    assert {e["field"] for e in body["errors"]} == {"username", "password"}
    broken = client.post(TOKEN_URL, data="{not json", content_type="application/json")
    assert_problem(broken, 400, "invalid_request")


# --- client credentials --------------------------------------------------------------------------------------------
def test_client_credentials_with_a_scope_subset(client, system):
    registered, secret = system
    response = client.post(
        TOKEN_URL,
        {
            "grant_type": "client_credentials",
            "client_id": registered.client_id,
            "client_secret": secret,
            "scope": "division.view department.view",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == "department.view division.view"
    record = ApiToken.objects.get(system=registered)
    assert record.scopes == ["department.view", "division.view"]
    # A system is not a person: it has no "me".
    assert_problem(client.get("/api/auth/me", **bearer(body["access_token"])), 403)


def test_client_credentials_default_to_the_full_grant_and_accept_http_basic(client, system):
    registered, secret = system
    basic = base64.b64encode(f"{registered.client_id}:{secret}".encode()).decode()
    response = client.post(
        TOKEN_URL, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "department.view division.view organisation.lookup"


def test_scope_escalation_is_refused(client, system):
    registered, secret = system
    response = post_json(
        client,
        TOKEN_URL,
        {
            "grant_type": "client_credentials",
            "client_id": registered.client_id,
            "client_secret": secret,
            "scope": "division.view person.lookup",
        },
    )
    body = assert_problem(response, 400, "invalid_scope")
    assert "person.lookup" in body["detail"]
    assert not ApiToken.objects.exists()


def test_wrong_client_secret_is_401(client, system):
    registered, _secret = system
    response = post_json(
        client,
        TOKEN_URL,
        {"grant_type": "client_credentials", "client_id": registered.client_id, "client_secret": "guess"},
    )
    assert_problem(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert AuditEntry.objects.filter(action="system.auth_failed", after__reason="bad_secret").exists()


# --- token lifecycle -----------------------------------------------------------------------------------------------
def _token_for(client, account) -> str:
    response = post_json(
        client, TOKEN_URL, {"grant_type": "password", "username": account.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def test_revoked_token_is_401_on_me(client):
    account = AccountFactory(citizen=True)
    token = _token_for(client, account)
    assert client.get("/api/auth/me", **bearer(token)).status_code == 200
    assert client.post("/api/auth/revoke", **bearer(token)).status_code == 204
    assert_problem(client.get("/api/auth/me", **bearer(token)), 401)
    # A revoked (or made-up) token cannot be revoked again.
    assert_problem(client.post("/api/auth/revoke", **bearer(token)), 401)
    assert_problem(client.post("/api/auth/revoke"), 401)
    assert AuditEntry.objects.filter(action="api_token.revoked").count() == 1


def test_expired_token_is_401_on_me(client):
    account = AccountFactory(citizen=True)
    token = _token_for(client, account)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/auth/me", **bearer(token))
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_me_without_credentials_is_401(client):
    assert_problem(client.get("/api/auth/me"), 401)
    assert_problem(client.get("/api/auth/me", **bearer("made-up-token")), 401)


def test_token_operations_are_in_the_openapi_document():
    from yiwang.api import api

    api.urls  # noqa: B018 — binds the routers
    paths = {
        f"{prefix}{path}": path_view
        for prefix, router in api._routers
        for path, path_view in router.path_operations.items()
    }
    token = next(v for k, v in paths.items() if k.endswith("auth/token"))
    operation = token.operations[0]
    assert operation.auth_callbacks == [] and operation.openapi_extra["requestBody"]["content"].keys() == {
        "application/json",
        "application/x-www-form-urlencoded",
    }
