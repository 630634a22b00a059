"""Every personal answer is `no-store`: pages and API operations reached as someone (session or token)."""

from __future__ import annotations

import pytest

from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

PERSONAL = [
    "/api/registry/me",
    "/api/auth/me",
    "/api/cases",
    "/api/licences/mine/",
    "/api/notifications",
    "/cases/mine/",
    "/licences/mine/",
    "/notifications/",
]


@pytest.mark.parametrize("path", PERSONAL)
def test_personal_pages_and_operations_are_never_stored(client, path):
    client.force_login(AccountFactory(citizen=True))
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert "no-store" in response["Cache-Control"], path


def test_a_bearer_token_answer_is_never_stored(client, password):
    account = AccountFactory(citizen=True)
    token = client.post(
        "/api/auth/token",
        {"grant_type": "password", "username": account.username, "password": password},
    ).json()["access_token"]
    response = client.get("/api/registry/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]


def test_public_pages_keep_their_own_policy(client):
    response = client.get("/services/")
    assert response.status_code == 200 and "no-store" not in response.get("Cache-Control", "")
