# ruff: noqa: F811  (the lworld and hw fixtures are imported, then requested by name)
"""`issuer_code` carried the issuing department's 统一社会信用代码 in the issuer API and its department code in the
holder API. Both keep the field for existing clients (marked deprecated in the OpenAPI document) and both answer
the clearly named `issuer_uscc` and `issuer_department_code`."""

from __future__ import annotations

import pytest

from yiwang.api import api

from .test_core_world import lworld  # noqa: F401
from .test_holder_support import hw  # noqa: F401

pytestmark = pytest.mark.django_db


def test_issuer_api_names_what_it_carries(client, lworld):
    client.force_login(lworld.issuer.account)
    payload = {
        "type_code": "yyzz",
        "holder_id": lworld.org.uscc,
        "face": {"name": lworld.org.name, "legal_rep": "张三"},
    }
    body = client.post("/api/licences/issuer/", payload, content_type="application/json").json()
    issuer = lworld.scj
    assert issuer.code != issuer.uscc
    assert body["issuer_code"] == issuer.uscc  # unchanged for existing clients
    assert body["issuer_uscc"] == issuer.uscc
    assert body["issuer_department_code"] == issuer.code
    listed = client.get("/api/licences/issuer/").json()["items"][0]
    assert (listed["issuer_code"], listed["issuer_uscc"], listed["issuer_department_code"]) == (
        issuer.uscc,
        issuer.uscc,
        issuer.code,
    )


def test_holder_api_names_what_it_carries(client, hw):
    client.force_login(hw.citizen)
    issuer = hw.licence.issuer
    assert issuer.code != issuer.uscc
    for body in (
        client.get("/api/licences/mine/").json()["items"][0],
        client.get(f"/api/licences/mine/{hw.licence.public_id}").json(),
    ):
        assert body["issuer_code"] == issuer.code  # unchanged for existing clients
        assert body["issuer_department_code"] == issuer.code
        assert body["issuer_uscc"] == issuer.uscc


@pytest.mark.parametrize(
    "schema, meant", [("IssuerLicenceOut", "issuer_uscc"), ("HolderLicenceOut", "issuer_department_code")]
)
def test_openapi_marks_issuer_code_deprecated_and_names_its_replacement(schema, meant):
    properties = api.get_openapi_schema()["components"]["schemas"][schema]["properties"]
    assert properties["issuer_code"].get("deprecated") is True
    assert meant in properties["issuer_code"]["description"]
    for name in ("issuer_uscc", "issuer_department_code"):
        assert not properties[name].get("deprecated") and properties[name]["description"]
