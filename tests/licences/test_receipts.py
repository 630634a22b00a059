"""Receipts (存证回执) of licences: which events give one, who may list and download them (holder and issuing
department; anybody else 404), the 409 while pending, the file verifying offline and online, and the pages."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.licences.grants_world import GW, build_gw
from yiwang.core.audit import audit_record
from yiwang.core.evidence.receipts import receipt_verify, receipt_verify_here
from yiwang.core.evidence.sequencer import sequencer_run_once, tree_head_sign
from yiwang.core.keystore import keystore
from yiwang.licences.services import disputes as dispute_services
from yiwang.licences.services.core import licence_set_status
from yiwang.licences.services.grants import grant_create, grant_revoke
from yiwang.licences.services.holder import licence_show

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_and_fast_passwords):
    pass


@pytest.fixture
def gw(clock) -> GW:
    return build_gw()


def seal_heads() -> None:
    """What the sequencer does within a second (integrate) and a minute (sign)."""
    sequencer_run_once()
    tree_head_sign(force=True)


def _list(client, licence):
    return client.get(f"/api/licences/{licence.public_id}/receipts")


def test_holder_downloads_a_receipt_that_verifies_offline_and_online(
    client, gw, django_assert_max_num_queries
):
    client.force_login(gw.world.citizen)
    response = _list(client, gw.licence)
    assert response.status_code == 200, response.content
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    items = response.json()["items"]
    assert [i["action"] for i in items] == ["licence.issue"]
    issue = items[0]
    assert issue["ready"] is False and issue["object_id"] == gw.licence.identifier

    # pending: 409 problem+json with Retry-After
    pending = client.get(issue["download_url"])
    assert pending.status_code == 409
    assert pending["Content-Type"].startswith("application/problem+json")
    assert pending.json()["title"] == "存证尚未上链，请稍后" and int(pending["Retry-After"]) >= 1

    seal_heads()
    with django_assert_max_num_queries(12):
        items = _list(client, gw.licence).json()["items"]
    assert items[0]["ready"] is True
    download = client.get(items[0]["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="receipt-{issue["entry_uuid"]}.json"'
    receipt = json.loads(download.content)
    logged = json.loads(receipt["entry"]["canonical"])
    assert logged["action"] == "licence.issue" and logged["object_id"] == gw.licence.identifier
    assert receipt["entry"]["uuid"] == issue["entry_uuid"] == logged["uuid"]
    assert (
        receipt["log"]["public_key"]
        == keystore().platform_public_keys()[receipt["tree_head"]["key_id"]].hex()
    )
    assert receipt["log"]["heads_url"].endswith("/api/audit/tree-heads")

    offline = receipt_verify(download.content, public_keys=keystore().platform_public_keys())
    assert offline.ok, offline.reason
    online = receipt_verify_here(download.content)
    assert online.ok and online.online, online.reason

    # The log grows and new heads are signed: the old receipt still verifies online (consistency proof).
    for i in range(20):
        audit_record(actor=None, action="test.more", object_id=str(i))
    seal_heads()
    again = receipt_verify_here(download.content)
    assert again.ok and again.online, again.reason


def test_each_receipt_event_is_listed_and_others_are_not(client, gw):
    world = gw.world
    holder, issuer = GW.p(world.citizen), GW.p(world.approver)
    licence_show(actor=holder, licence=gw.licence)  # 亮证: audited, but no receipt
    grant = grant_create(
        actor=holder,
        licence=gw.licence,
        grantee_kind="department",
        department=world.other_dept,
        purpose="办理开户",
        expires_at=timezone.now() + timedelta(days=10),
    )
    grant_revoke(actor=holder, grant=grant, reason="办完了")
    licence_set_status(actor=issuer, licence=gw.licence, action="suspend", reason="核查中")
    licence_set_status(actor=issuer, licence=gw.licence, action="resume", reason="核查完毕")
    licence_set_status(actor=issuer, licence=gw.licence, action="revoke", reason="申请注销")
    seal_heads()
    client.force_login(world.citizen)
    items = _list(client, gw.licence).json()["items"]
    assert [i["action"] for i in items] == [
        "licence.issue",
        "licence.grant",
        "licence.grant_revoke",
        "licence.suspend",
        "licence.resume",
        "licence.revoke",
    ]
    assert {i["object_id"] for i in items if i["object_type"] == "licence_grant"} == {str(grant.public_id)}
    for item in items:
        receipt = client.get(item["download_url"])
        assert receipt.status_code == 200, item
        assert receipt_verify_here(receipt.content).ok
    # another licence of the same holder lists only its own
    assert [i["action"] for i in _list(client, gw.id_licence).json()["items"]] == ["licence.issue"]


def test_a_corrected_licence_has_its_correction_receipt(client, gw):
    world = gw.world
    dispute = dispute_services.dispute_raise(
        actor=GW.p(world.citizen), licence=gw.licence, fields=["shop"], description="店名有误"
    )
    dispute = dispute_services.dispute_resolve(
        actor=GW.p(world.approver),
        dispute=dispute,
        correct=True,
        face={"shop": "张三面馆"},
        resolution="已更正",
    )
    new = dispute.corrected_licence
    seal_heads()
    client.force_login(world.citizen)
    items = _list(client, new).json()["items"]
    assert [i["action"] for i in items] == ["licence.correct"]
    receipt = client.get(items[0]["download_url"])
    logged = json.loads(receipt.json()["entry"]["canonical"])
    assert logged["after"]["face"]["shop"] == "张三面馆"
    assert receipt_verify_here(receipt.content).ok


def test_issuing_department_staff_may_and_strangers_may_not(client, gw):
    seal_heads()
    client.force_login(gw.world.citizen)
    mine = _list(client, gw.licence).json()["items"][0]
    download = mine["download_url"]

    # the issuing department's staff: same list, same file
    client.force_login(gw.world.approver.account)
    assert _list(client, gw.licence).json()["items"][0]["entry_uuid"] == mine["entry_uuid"]
    assert client.get(download).status_code == 200

    # another citizen, staff of another department (even with licence.issue), a department head elsewhere: 404
    for stranger in (gw.world.other_citizen, gw.world.other_approver.account, gw.world.other_head.account):
        client.force_login(stranger)
        assert _list(client, gw.licence).status_code == 404
        response = client.get(download)
        assert response.status_code == 404 and response["Content-Type"].startswith("application/problem+json")

    # the holder: an unknown licence, an entry of another licence under this one, an unknown entry: 404
    client.force_login(gw.world.citizen)
    assert client.get(f"/api/licences/{uuid.uuid4()}/receipts").status_code == 404
    other_entry = _list(client, gw.id_licence).json()["items"][0]["entry_uuid"]
    assert client.get(f"/api/licences/{gw.licence.public_id}/receipts/{other_entry}").status_code == 404
    assert client.get(f"/api/licences/{gw.licence.public_id}/receipts/{uuid.uuid4()}").status_code == 404
    # an entry of this licence that gives no receipt (亮证) is not downloadable either
    licence_show(actor=GW.p(gw.world.citizen), licence=gw.licence)
    seal_heads()
    from yiwang.core.models import AuditEntry

    shown = AuditEntry.objects.get(action="licence.show", object_id=gw.licence.identifier)
    assert client.get(f"/api/licences/{gw.licence.public_id}/receipts/{shown.uuid}").status_code == 404

    # nobody logged in: 401
    client.logout()
    assert _list(client, gw.licence).status_code == 401
    assert client.get(download).status_code == 401


def test_pages_link_the_receipts(client, gw):
    seal_heads()
    client.force_login(gw.world.citizen)
    url = f"/licences/receipts/{gw.licence.public_id}/"
    detail = client.get(f"/licences/mine/{gw.licence.public_id}/").content.decode()
    assert f'hx-get="{url}"' in detail and 'id="receipts"' in detail
    fragment = client.get(url, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html
    assert f'href="/api/licences/{gw.licence.public_id}/receipts/' in html and "下载回执" in html
    full = client.get(url)
    assert full.status_code == 200 and "<html" in full.content.decode()
    assert "no-store" in full["Cache-Control"]

    # pending events show as such, without a link
    licence_set_status(actor=GW.p(gw.world.approver), licence=gw.licence, action="suspend", reason="核查")
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert html.count("data-pending") == 1 and html.count('data-download="receipt"') == 1

    # the issuer's page carries the same section; strangers get 404 for the receipts page
    client.force_login(gw.world.approver.account)
    issuer_page = client.get(f"/licences/issued/{gw.licence.public_id}/").content.decode()
    assert f'hx-get="{url}"' in issuer_page
    assert client.get(url).status_code == 200
    for stranger in (gw.world.other_citizen, gw.world.other_approver.account):
        client.force_login(stranger)
        assert client.get(url).status_code == 404


def test_grant_rows_link_to_their_receipts(client, gw):
    grant = grant_create(
        actor=GW.p(gw.world.citizen),
        licence=gw.licence,
        grantee_kind="department",
        department=gw.world.other_dept,
        purpose="办理开户",
        expires_at=timezone.now() + timedelta(days=10),
    )
    seal_heads()
    client.force_login(gw.world.citizen)
    grants_page = client.get("/licences/grants/").content.decode()
    assert f'/licences/receipts/{gw.licence.public_id}/#grant-{grant.public_id}"' in grants_page
    fragment = client.get(f"/licences/receipts/{gw.licence.public_id}/", HTTP_HX_REQUEST="true")
    assert f'id="grant-{grant.public_id}"' in fragment.content.decode()
