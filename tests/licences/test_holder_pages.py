# ruff: noqa: F811  (the shared `hw` fixture is imported, then requested by name)
"""我的证照 pages and API: scoping (holder only, 404 for everybody else), downloads, 亮证 with its 5-minute token."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse

from yiwang.core.models import AuditEntry
from yiwang.core.principal import Principal
from yiwang.licences import selectors_holder as sel
from yiwang.licences.models import Licence, LicenceShowToken
from yiwang.licences.services.core import licence_issue, licence_set_status
from yiwang.licences.signing import verify_file

from .test_holder_support import hw  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def login(client, account):
    client.force_login(account)
    return client


# --- list ---------------------------------------------------------------------------------------------------
def test_mine_lists_only_own_licences(client, hw, django_assert_max_num_queries):
    login(client, hw.citizen)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("licences:mine"))
    body = response.content.decode()
    assert response.status_code == 200
    assert hw.licence.identifier in body and hw.org_licence.identifier not in body
    assert "有效" in body

    login(client, hw.enterprise)
    body = client.get(reverse("licences:mine")).content.decode()
    assert hw.org_licence.identifier in body and hw.licence.identifier not in body

    login(client, hw.other_citizen)
    body = client.get(reverse("licences:mine")).content.decode()
    assert hw.licence.identifier not in body and "暂无电子证照" in body


def test_mine_keyset_and_status_filter(client, hw, django_assert_max_num_queries):
    more = [
        licence_issue(
            actor=None,
            licence_type=hw.person_type,
            holder_person=hw.citizen.person,
            face={"spouse": f"配偶{i}", "registered_on": f"2026-01-{i + 1:02d}"},
        )
        for i in range(30)
    ]
    principal = Principal.for_account(hw.citizen)
    first = sel.licences_mine(principal, limit=20)
    assert len(first.items) == 20 and first.items[0].pk == more[-1].pk and first.next_cursor
    second = sel.licences_mine(principal, cursor=first.next_cursor, limit=20)
    assert len(second.items) == 11 and second.next_cursor is None
    assert {x.pk for x in first.items} & {x.pk for x in second.items} == set()

    login(client, hw.citizen)
    with django_assert_max_num_queries(12):  # 20 rows, no N+1
        assert client.get(reverse("licences:mine")).status_code == 200
    licence_set_status(
        actor=Principal.for_account(hw.issuer.account), licence=hw.licence, action="revoke", reason="登记错误"
    )
    body = client.get(reverse("licences:mine") + "?status=revoked").content.decode()
    assert hw.licence.identifier in body and more[0].identifier not in body
    # a tampered cursor starts again at page one
    assert client.get(reverse("licences:mine") + "?cursor=@@@").status_code == 302


def test_anonymous_is_sent_to_login(client, hw):
    response = client.get(reverse("licences:mine"))
    assert response.status_code == 302 and "/login" in response["Location"]


# --- detail -------------------------------------------------------------------------------------------------
def test_detail_shows_face_dates_history_only_to_the_holder(client, hw):
    url = reverse("licences:detail", args=[hw.licence.public_id])
    login(client, hw.citizen)
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    for text in (
        "配偶姓名",
        "李四",
        "2026-03-02",
        hw.licence.identifier,
        "签发",
        "示范区民政局婚姻登记专用章",
    ):
        assert text in body, text
    # layout order: 登记日期 before 配偶姓名
    assert body.index("登记日期") < body.index("配偶姓名")
    assert f"/licences/verify/{hw.licence.verify_token}/" in body

    for account in (hw.other_citizen, hw.enterprise, hw.issuer.account, hw.outsider.account):
        login(client, account)
        assert client.get(url).status_code == 404
        assert client.get(reverse("licences:pdf", args=[hw.licence.public_id])).status_code == 404
        assert client.get(reverse("licences:file", args=[hw.licence.public_id])).status_code == 404
        assert client.post(reverse("licences:show", args=[hw.licence.public_id])).status_code == 404


def test_pdf_download_is_audited(client, hw):
    login(client, hw.citizen)
    response = client.get(reverse("licences:pdf", args=[hw.licence.public_id]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert hw.licence.identifier in response["Content-Disposition"]
    assert AuditEntry.objects.filter(action="licence.download_pdf", object_id=hw.licence.identifier).exists()


def test_offline_file_download_verifies(client, hw):
    login(client, hw.citizen)
    response = client.get(reverse("licences:file", args=[hw.licence.public_id]))
    document = json.loads(response.content)
    assert response.status_code == 200
    assert verify_file(document, public_key_hex=hw.licence.seal.public_key_hex)
    assert document["payload"]["identifier"] == hw.licence.identifier
    assert "PRIVATE" not in response.content.decode()
    assert AuditEntry.objects.filter(action="licence.download_file").count() == 1


# --- 亮证 -----------------------------------------------------------------------------------------------------
def test_show_creates_a_five_minute_token_with_a_qr(client, hw, clock):
    clock.set(2026, 3, 2, 10, 30)
    login(client, hw.citizen)
    url = reverse("licences:show", args=[hw.licence.public_id])
    assert client.get(url).status_code == 405
    response = client.post(url)
    body = response.content.decode()
    token = LicenceShowToken.objects.get(licence=hw.licence)
    assert response.status_code == 200
    assert "<svg" in body and f"/licences/verify/{token.token}/" in body
    assert token.expires_at == clock.moment + timedelta(minutes=5)
    assert hw.licence.events.filter(action="shown").exists()
    licence, expired = sel.licence_by_show_token(token.token)
    assert licence.pk == hw.licence.pk and not expired
    clock.moment += timedelta(minutes=4, seconds=59)
    assert sel.licence_by_show_token(token.token) == (hw.licence, False)
    clock.moment += timedelta(seconds=1)  # five minutes on: expired from that instant
    licence, expired = sel.licence_by_show_token(token.token)
    assert licence.pk == hw.licence.pk and expired
    assert sel.licence_by_show_token("nope") == (None, False)


def test_show_refused_for_a_suspended_licence(client, hw):
    licence_set_status(
        actor=Principal.for_account(hw.issuer.account), licence=hw.licence, action="suspend", reason="核查"
    )
    login(client, hw.citizen)
    response = client.post(reverse("licences:show", args=[hw.licence.public_id]), follow=True)
    assert "不能亮证" in response.content.decode()
    assert not LicenceShowToken.objects.exists()


# --- API ------------------------------------------------------------------------------------------------------
API = "/api/licences/mine"


def test_api_list_get_and_scoping(client, hw, django_assert_max_num_queries):
    assert client.get(f"{API}/").status_code == 401
    login(client, hw.citizen)
    with django_assert_max_num_queries(10):
        response = client.get(f"{API}/")
    data = response.json()
    assert response.status_code == 200
    assert [x["identifier"] for x in data["items"]] == [hw.licence.identifier]
    assert data["items"][0]["status"] == "valid" and data["items"][0]["type_code"] == "jhz"

    detail = client.get(f"{API}/{hw.licence.public_id}").json()
    assert detail["face"]["spouse"] == "李四"
    assert [f["label"] for f in detail["face_fields"]][:2] == ["登记日期", "配偶姓名"]
    assert detail["verify_url"].endswith(f"/licences/verify/{hw.licence.verify_token}/")
    assert detail["history"][0]["action"] == "issue"

    assert client.get(f"{API}/{hw.org_licence.public_id}").status_code == 404
    assert client.get(f"{API}/not-a-uuid").status_code in (404, 422)
    assert client.get(f"{API}/?cursor=@@@").status_code == 422

    login(client, hw.issuer.account)
    assert client.get(f"{API}/{hw.licence.public_id}").status_code == 404
    assert client.get(f"{API}/").json()["items"] == []


def test_api_downloads_and_show(client, hw):
    login(client, hw.enterprise)
    lid = hw.org_licence.public_id
    pdf = client.get(f"{API}/{lid}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    document = json.loads(client.get(f"{API}/{lid}/file").content)
    assert verify_file(document, public_key_hex=hw.org_licence.seal.public_key_hex)
    shown = client.post(f"{API}/{lid}/show", content_type="application/json")
    assert shown.status_code == 201
    assert shown.json()["url"].endswith(f"/licences/verify/{shown.json()['token']}/")
    assert client.post(f"{API}/{hw.licence.public_id}/show").status_code == 404

    Licence.objects.filter(pk=hw.org_licence.pk).update(status=Licence.Status.REVOKED)
    refused = client.post(f"{API}/{lid}/show")
    assert refused.status_code == 422
