# ruff: noqa: F811  (the lworld fixture is imported from test_core_world and requested by name)
"""Issuer pages and API: department-tree scoping (another department's licence is a 404), 403 without
LICENCE_ISSUE, issuing by form and API with the holder looked up in the registries, status changes with reason."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yiwang.core.models import RegisteredSystem
from yiwang.core.principal import Principal
from yiwang.licences.models import Licence
from yiwang.licences.selectors import licence_issued_get, licences_issued

from .test_core_world import LWorld, lworld  # noqa: F401

p = LWorld.p
API = "/api/licences/issuer/"


def test_list_is_scoped_keyset_and_bounded(client, lworld, django_assert_max_num_queries):
    issuer = p(lworld.issuer)
    mine = [lworld.issue_org(actor=issuer) for _ in range(5)]
    other = lworld.issue_person()  # MZJ
    client.force_login(lworld.issuer.account)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("licences:issued"))
    html = response.content.decode()
    assert response.status_code == 200
    assert all(str(x.public_id) in html for x in mine) and str(other.public_id) not in html
    first = licences_issued(issuer, limit=3)
    second = licences_issued(issuer, limit=3, cursor=first.next_cursor)
    assert [x.pk for x in first.items + second.items] == sorted((x.pk for x in mine), reverse=True)
    assert second.next_cursor is None
    # the sub-department's issuer sees none of the parent's licences; the outsider sees only MZJ's
    assert licences_issued(p(lworld.sub_issuer)).items == []
    assert [x.pk for x in licences_issued(p(lworld.outsider)).items] == [other.pk]
    assert licences_issued(p(lworld.clerk)).items == []


def test_list_status_filter_and_bad_cursor(client, lworld):
    from yiwang.licences.services.core import licence_set_status

    issuer = p(lworld.issuer)
    a, b = lworld.issue_org(actor=issuer), lworld.issue_org(actor=issuer)
    licence_set_status(actor=issuer, licence=a, action="revoke", reason="吊销")
    client.force_login(lworld.issuer.account)
    html = client.get(reverse("licences:issued"), {"status": "revoked"}).content.decode()
    assert str(a.public_id) in html and str(b.public_id) not in html
    assert client.get(reverse("licences:issued"), {"cursor": "!!!"}).status_code == 302


def test_pages_forbidden_and_not_found(client, lworld):
    licence = lworld.issue_org(actor=p(lworld.issuer))
    client.force_login(lworld.clerk.account)
    assert client.get(reverse("licences:issued")).status_code == 403
    assert client.get(reverse("licences:issued_detail", args=[licence.public_id])).status_code == 403
    client.force_login(lworld.outsider.account)
    assert client.get(reverse("licences:issued_detail", args=[licence.public_id])).status_code == 404
    assert client.get(reverse("licences:issue", args=["yyzz"])).status_code == 404
    response = client.post(
        reverse("licences:issued_status", args=[licence.public_id]), {"action": "revoke", "reason": "越权"}
    )
    assert response.status_code == 404
    assert Licence.objects.get(pk=licence.pk).status == Licence.Status.VALID
    client.logout()
    assert client.get(reverse("licences:issued")).status_code == 302


def test_detail_and_status_form(client, lworld):
    licence = lworld.issue_org(actor=p(lworld.issuer))
    client.force_login(lworld.issuer.account)
    url = reverse("licences:issued_detail", args=[licence.public_id])
    html = client.get(url).content.decode()
    assert 'data-signature="ok"' in html and "张三" in html and 'data-action="issue"' in html
    status_url = reverse("licences:issued_status", args=[licence.public_id])
    response = client.post(status_url, {"action": "suspend", "reason": ""})
    assert response.status_code == 422 and Licence.objects.get(pk=licence.pk).status == Licence.Status.VALID
    response = client.post(status_url, {"action": "resume", "reason": "不在暂停中"})
    assert response.status_code == 422 and "不能执行该操作" in response.content.decode()
    response = client.post(status_url, {"action": "suspend", "reason": "待核查"})
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert 'data-status="suspended"' in html and 'data-action="suspend"' in html and "待核查" in html


def test_issue_form(client, lworld):
    client.force_login(lworld.issuer.account)
    url = reverse("licences:issue", args=["yyzz"])
    page = client.get(url).content.decode()
    assert 'name="face_legal_rep"' in page and 'name="holder_id"' in page
    response = client.post(url, {"holder_id": "91440199MA00000000", "face_name": "x", "face_legal_rep": "y"})
    assert response.status_code == 422 and "法人基础库中没有" in response.content.decode()
    response = client.post(url, {"holder_id": lworld.org.uscc, "face_name": lworld.org.name})
    assert response.status_code == 422 and not Licence.objects.exists()
    response = client.post(
        url, {"holder_id": lworld.org.uscc, "face_name": lworld.org.name, "face_legal_rep": "王五"}
    )
    licence = Licence.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"{licence.public_id}/")
    assert licence.holder_organisation == lworld.org and licence.face["legal_rep"] == "王五"
    assert licence.issuer == lworld.scj and licence.seal == lworld.scj_seal


# --- API --------------------------------------------------------------------------------------------------------
def test_api_issue_list_detail_status(client, lworld):
    client.force_login(lworld.issuer.account)
    payload = {
        "type_code": "yyzz",
        "holder_id": lworld.org.uscc,
        "face": {"name": lworld.org.name, "legal_rep": "张三"},
    }
    response = client.post(API, payload, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["signature_ok"] and body["status"] == "valid" and body["history"][0]["action"] == "issue"
    listed = client.get(API, {"status": "valid"}).json()
    assert [x["id"] for x in listed["items"]] == [body["id"]]
    detail = client.get(f"{API}{body['id']}").json()
    assert detail["identifier"] == body["identifier"]
    response = client.post(
        f"{API}{body['id']}/status", {"action": "revoke", "reason": "吊销"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert [e["action"] for e in response.json()["history"]] == ["issue", "revoke"]


def test_api_errors(client, lworld):
    licence = lworld.issue_org(actor=p(lworld.issuer))
    assert client.get(API).status_code == 401
    client.force_login(lworld.clerk.account)
    assert client.get(API).status_code == 403
    client.force_login(lworld.outsider.account)
    assert client.get(f"{API}{licence.public_id}").status_code == 404
    response = client.post(
        f"{API}{licence.public_id}/status",
        {"action": "revoke", "reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 404
    response = client.post(
        API, {"type_code": "yyzz", "holder_id": lworld.org.uscc, "face": {}}, content_type="application/json"
    )
    assert response.status_code == 404  # not a type the outsider's department issues
    client.force_login(lworld.issuer.account)
    bad = client.post(
        API,
        {"type_code": "yyzz", "holder_id": lworld.org.uscc, "face": {"name": "x"}},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"face.legal_rep"}
    bad = client.post(
        f"{API}{licence.public_id}/status",
        {"action": "destroy", "reason": "x"},
        content_type="application/json",
    )
    assert bad.status_code == 422
    bad = client.post(
        f"{API}{licence.public_id}/status",
        {"action": "revoke", "reason": " "},
        content_type="application/json",
    )
    assert bad.status_code == 422 and Licence.objects.get(pk=licence.pk).status == Licence.Status.VALID
    assert client.get(API, {"status": "nonsense"}).status_code == 422


def test_registered_system_issues_for_its_department(lworld):
    from yiwang.licences.services.core import licence_issue

    system = RegisteredSystem.objects.create(
        client_id="ywsys-scj",
        name="市场主体登记系统",
        department=lworld.scj,
        secret_hash="!",
        scopes=["licence.issue"],
    )
    actor = Principal.for_system(system, ["licence.issue"])
    licence = licence_issue(
        actor=actor,
        licence_type=lworld.yyzz,
        holder_organisation=lworld.org,
        face={"name": "x", "legal_rep": "y"},
    )
    assert licence.events.get().actor_label == "市场主体登记系统"
    assert licence_issued_get(actor, licence.public_id) == licence
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        licence_issue(
            actor=actor,
            licence_type=lworld.jhz,
            holder_person=lworld.person,
            face={"spouse": "a", "registered_on": "2026-01-01"},
        )
