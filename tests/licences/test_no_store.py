# ruff: noqa: F811  (the shared `hw` fixture is imported, then requested by name)
"""`Cache-Control: no-store` on every personal licence answer (issue 11, section 6): the licence PDF, the offline
file, 我的证照 pages and API, 亮证, grants, issuer and import pages, verification answers — and, as a rule, on every
licence page and API operation but the published seal keys (any answer, even a redirect to the login page)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, reverse

from yiwang.api import api
from yiwang.core.principal import Principal
from yiwang.licences import urls as licence_urls
from yiwang.licences.services.imports import licence_import

from .test_holder_support import hw  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


HOLDER_ANSWERS = {
    "page: my licences": lambda c, w: c.get(reverse("licences:mine")),
    "page: licence detail": lambda c, w: c.get(reverse("licences:detail", args=[w.licence.public_id])),
    "page: licence PDF": lambda c, w: c.get(reverse("licences:pdf", args=[w.licence.public_id])),
    "page: offline file": lambda c, w: c.get(reverse("licences:file", args=[w.licence.public_id])),
    "page: 亮证": lambda c, w: c.post(reverse("licences:show", args=[w.licence.public_id])),
    "page: dispute form": lambda c, w: c.get(reverse("licences:dispute", args=[w.licence.public_id])),
    "page: my grants": lambda c, w: c.get(reverse("licences:grants")),
    "page: licence grants": lambda c, w: c.get(
        reverse("licences:licence_grants", args=[w.licence.public_id])
    ),
    "api: my licences": lambda c, w: c.get("/api/licences/mine/"),
    "api: licence detail": lambda c, w: c.get(f"/api/licences/mine/{w.licence.public_id}"),
    "api: licence PDF": lambda c, w: c.get(f"/api/licences/mine/{w.licence.public_id}/pdf"),
    "api: offline file": lambda c, w: c.get(f"/api/licences/mine/{w.licence.public_id}/file"),
    "api: 亮证": lambda c, w: c.post(f"/api/licences/mine/{w.licence.public_id}/show"),
    "api: my grants": lambda c, w: c.get("/api/licences/grants/"),
}


@pytest.mark.parametrize("ask", HOLDER_ANSWERS.values(), ids=HOLDER_ANSWERS.keys())
def test_every_holder_answer_is_never_stored(client, hw, ask):
    client.force_login(hw.citizen)
    response = ask(client, hw)
    assert response.status_code in (200, 201), response.status_code
    assert _no_store(response)


def _import(hw):
    text = f"holder_id,holder_name,spouse,registered_on\n{hw.citizen.person.id_number},x,y,2026-01-01\n"
    return licence_import(
        actor=Principal.for_account(hw.issuer.account),
        licence_type=hw.person_type,
        file=SimpleUploadedFile("a.csv", text.encode()),
        dry_run=True,
    )


STAFF_ANSWERS = {
    "page: issued licences": lambda c, w: c.get(reverse("licences:issued")),
    "page: issued licence": lambda c, w: c.get(reverse("licences:issued_detail", args=[w.licence.public_id])),
    "page: imports": lambda c, w: c.get(reverse("licences:imports")),
    "page: import report": lambda c, w: c.get(reverse("licences:import_detail", args=[_import(w).public_id])),
    "page: disputes": lambda c, w: c.get(reverse("licences:disputes")),
    "api: issued licences": lambda c, w: c.get("/api/licences/issuer/"),
    "api: issued licence": lambda c, w: c.get(f"/api/licences/issuer/{w.licence.public_id}"),
    "api: imports": lambda c, w: c.get("/api/licences/imports"),
    "api: import report": lambda c, w: c.get(f"/api/licences/imports/{_import(w).public_id}"),
}


@pytest.mark.parametrize("ask", STAFF_ANSWERS.values(), ids=STAFF_ANSWERS.keys())
def test_every_issuer_answer_is_never_stored(client, hw, ask):
    client.force_login(hw.issuer.account)
    response = ask(client, hw)
    assert response.status_code == 200, response.status_code
    assert _no_store(response)


@pytest.mark.parametrize(
    "ask",
    [
        lambda c, w: c.get(reverse("licences:verify", args=[w.licence.verify_token])),
        lambda c, w: c.get(reverse("licences:verify_lookup"), {"identifier": w.licence.identifier}),
        lambda c, w: c.get("/api/licences/verify/", {"token": w.licence.verify_token}),
        lambda c, w: c.get("/api/licences/verify/", {"identifier": w.licence.identifier}),
    ],
    ids=["page-token", "page-identifier", "api-token", "api-identifier"],
)
def test_verification_answers_are_never_stored(client, hw, ask):
    response = ask(client, hw)
    assert response.status_code == 200 and _no_store(response)


# --- the rule, for every page and operation -------------------------------------------------------------------
def _page_paths():
    for pattern in licence_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        path = re.sub(r"<uuid:\w+>", str(uuid.uuid4()), route)
        path = re.sub(r"<(?:str|slug):\w+>", "x", path)
        yield pytest.param(pattern.name, "/licences/" + path, id=pattern.name)


@pytest.mark.parametrize(("name", "path"), list(_page_paths()))
def test_every_licence_page_but_the_seal_keys_is_no_store(client, name, path):
    response = client.get(path)
    assert _no_store(response) is (name not in licence_urls.NO_STORE_EXEMPT), (path, response.status_code)


def _operations():
    schema = api.get_openapi_schema(path_prefix="/api/")
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/licences/"):
            continue
        for method in operations:
            concrete = re.sub(r"\{\w+\}", str(uuid.uuid4()), path)
            yield pytest.param(method, path, concrete, id=f"{method} {path}")


@pytest.mark.parametrize(("method", "template", "path"), list(_operations()))
def test_every_licence_operation_but_the_seal_keys_is_no_store(client, method, template, path):
    response = getattr(client, method)(
        path
    )  # anonymous: 401 / 404 / 422 / 200 — whatever it is, never stored
    assert _no_store(response) is (template != "/api/licences/verify/seals"), (path, response.status_code)
