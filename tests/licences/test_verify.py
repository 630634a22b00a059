# ruff: noqa: F811  (the lworld fixture is imported from test_core_world and requested by name)
"""Public verification: pages and API by token, show token and identifier; tampering with each signed column is
reported invalid; revoked / suspended / expired / superseded; nothing private leaks; offline verification."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from yiwang.licences.models import Licence, LicenceShowToken
from yiwang.licences.services.core import licence_set_status
from yiwang.licences.signing import licence_file

from .test_core_world import LWorld, lworld  # noqa: F401

p = LWorld.p
API = "/api/licences/verify/"


def _api(client, **params):
    return client.get(API, params)


def test_valid_licence_by_token_page_and_api(client, lworld, django_assert_max_num_queries):
    licence = lworld.issue_org(actor=p(lworld.issuer))
    with django_assert_max_num_queries(4):
        response = client.get(reverse("licences:verify", args=[licence.verify_token]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-result="valid"' in html
    assert licence.identifier in html and "示范区市场监督管理局" in html and "食品销售" in html
    # nothing private: no holder ID, no private face field, no holder name beyond the public "name" field
    assert lworld.org.uscc not in html and "张三" not in html and "法定代表人" not in html
    with django_assert_max_num_queries(4):
        body = _api(client, token=licence.verify_token).json()
    assert body["result"] == "valid" and body["identifier"] == licence.identifier
    assert {f["name"] for f in body["face"]} == {"name", "scope"}
    text = json.dumps(body, ensure_ascii=False)
    assert lworld.org.uscc not in text and "张三" not in text and "holder" not in text


def test_person_licence_public_view_hides_holder(client, lworld):
    licence = lworld.issue_person()
    html = client.get(reverse("licences:verify", args=[licence.verify_token])).content.decode()
    assert 'data-result="valid"' in html and "2026-03-02" in html
    assert lworld.person.name not in html and lworld.person.id_number not in html and "李四" not in html
    # by identifier alone: nothing of the face (test_verify_disclosure.py); with the printed code: the public face
    body = _api(client, identifier=licence.identifier).json()
    assert body["face"] == [] and body["face_withheld"] is True
    body = _api(client, identifier=licence.identifier, code=licence.verify_code).json()
    assert body["face"] == [{"name": "registered_on", "label": "登记日期", "value": "2026-03-02"}]
    assert lworld.person.id_number not in json.dumps(body)


@pytest.mark.parametrize(
    "column",
    ["face", "holder_name", "holder_id", "issued_on", "expires_on", "signature", "identifier", "digest"],
)
def test_tampering_any_signed_column_is_invalid(client, lworld, column):
    licence = lworld.issue_org(actor=p(lworld.issuer))
    value = {
        "face": {**licence.face, "scope": "危险化学品"},
        "holder_name": "冒名公司",
        "holder_id": "91440199MA0000000X",
        "issued_on": licence.issued_on - timedelta(days=1),
        "expires_on": licence.expires_on + timedelta(days=365),
        "signature": licence.signature[:-4] + ("0000" if licence.signature[-4:] != "0000" else "1111"),
        "identifier": licence.identifier[:-1] + ("A" if licence.identifier[-1] != "A" else "B"),
        "digest": "0" * 64,
    }[column]
    stored = Licence.objects.get(pk=licence.pk)
    setattr(stored, column, value)
    stored.save()
    page = client.get(reverse("licences:verify", args=[licence.verify_token]))
    assert page.status_code == 200 and 'data-result="invalid"' in page.content.decode()
    body = _api(client, token=licence.verify_token).json()
    assert body["result"] == "invalid" and body["face"] == []


def test_revoked_suspended_superseded_and_expired(client, lworld):
    issuer = p(lworld.issuer)
    licence = lworld.issue_org(actor=issuer)
    licence_set_status(actor=issuer, licence=licence, action="suspend", reason="涉嫌违法经营")
    body = _api(client, token=licence.verify_token).json()
    assert (body["result"], body["status_reason"]) == ("suspended", "涉嫌违法经营")
    licence_set_status(actor=issuer, licence=licence, action="revoke", reason="吊销营业执照")
    html = client.get(reverse("licences:verify", args=[licence.verify_token])).content.decode()
    assert 'data-result="revoked"' in html and "吊销营业执照" in html
    Licence.objects.filter(pk=licence.pk).update(status=Licence.Status.SUPERSEDED)
    assert _api(client, token=licence.verify_token).json()["result"] == "superseded"
    # expired: past its date before the daily job ran, and after it
    other = lworld.issue_org(actor=issuer)
    from yiwang.licences.services.core import licences_expire_sweep

    today = other.expires_on + timedelta(days=1)
    from unittest import mock

    with mock.patch("django.utils.timezone.localdate", return_value=today):
        assert _api(client, token=other.verify_token).json()["result"] == "expired"
    licences_expire_sweep(today=today)
    assert _api(client, identifier=other.identifier).json()["result"] == "expired"


def test_show_token_works_until_it_expires(client, lworld):
    licence = lworld.issue_org(actor=p(lworld.issuer))
    live = LicenceShowToken.objects.create(
        token=secrets.token_urlsafe(32), licence=licence, expires_at=timezone.now() + timedelta(minutes=5)
    )
    dead = LicenceShowToken.objects.create(
        token=secrets.token_urlsafe(32), licence=licence, expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert _api(client, token=live.token).json()["identifier"] == licence.identifier
    assert _api(client, token=dead.token).status_code == 404
    assert client.get(reverse("licences:verify", args=[dead.token])).status_code == 404


def test_lookup_form_and_api_errors(client, lworld):
    licence = lworld.issue_org(actor=p(lworld.issuer))
    form = client.get(reverse("licences:verify_lookup"))
    assert form.status_code == 200 and 'name="identifier"' in form.content.decode()
    found = client.get(reverse("licences:verify_lookup"), {"identifier": licence.identifier.lower()})
    assert 'data-result="valid"' in found.content.decode()
    missing = client.get(reverse("licences:verify_lookup"), {"identifier": "YYZZ-NOPE"})
    assert missing.status_code == 404 and 'data-result="not_found"' in missing.content.decode()
    response = _api(client)
    assert response.status_code == 422 and response["Content-Type"].startswith("application/problem+json")
    assert _api(client, token="nope").status_code == 404
    assert _api(client, token="x" * 65).status_code == 422


def test_published_seals_page_and_api_have_public_keys_only(client, lworld):
    html = client.get(reverse("licences:seals")).content.decode()
    assert lworld.scj_seal.public_key_hex in html and "<svg" in html and "PRIVATE" not in html
    body = client.get(API + "seals").json()
    assert {s["key_id"]: s["public_key_hex"] for s in body} == {
        lworld.scj_seal.key_id: lworld.scj_seal.public_key_hex,
        lworld.mzj_seal.key_id: lworld.mzj_seal.public_key_hex,
    }
    assert "PRIVATE" not in json.dumps(body) and "pem" not in json.dumps(body).lower()


def test_offline_file_command(tmp_path, lworld):
    licence = Licence.objects.select_related("licence_type", "issuer", "seal").get(
        pk=lworld.issue_org(actor=p(lworld.issuer)).pk
    )
    good = tmp_path / "good.json"
    good.write_text(json.dumps(licence_file(licence), ensure_ascii=False), encoding="utf-8")
    call_command("licence_verify_file", str(good), "--key", lworld.scj_seal.public_key_hex)
    call_command("licence_verify_file", str(good))
    with pytest.raises(SystemExit) as exc:  # another department's key: not its seal
        call_command("licence_verify_file", str(good), "--key", lworld.mzj_seal.public_key_hex)
    assert exc.value.code == 1
    doc = licence_file(licence)
    doc["payload"]["face"]["scope"] = "改过的范围"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        call_command("licence_verify_file", str(bad), "--key", lworld.scj_seal.public_key_hex)
    assert exc.value.code == 1
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(SystemExit):
        call_command("licence_verify_file", str(broken))
