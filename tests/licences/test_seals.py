# ruff: noqa: F811  (the lworld fixture is imported from test_core_world and requested by name)
"""Seal pictures (SVG and reportlab), the seal and licence-type admin (through the services, audited), and no private
key material in the admin or the API."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from yiwang.core.keystore import keystore
from yiwang.core.models import AuditEntry
from yiwang.licences.models import LicenceType, Seal
from yiwang.licences.seal_image import draw_seal, seal_drawing_spec, seal_svg

from .test_core_world import ORG_FIELDS, LWorld, lworld  # noqa: F401


def _private_markers(seal) -> list[str]:
    """Strings that would reveal the seal's private key (PEM header and body lines)."""
    pem = keystore().data["seals"][seal.key_id]["private_pem"]
    body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    assert body  # the markers are real
    return ["PRIVATE KEY", *body]


def test_seal_svg_and_spec(lworld):
    spec = seal_drawing_spec(lworld.scj_seal)
    assert spec.arc_text == "示范区市场监督管理局" and spec.bottom_text == "行政审批专用章"
    svg = seal_svg(lworld.scj_seal)
    assert svg.startswith("<svg") and svg.count("<text") == len(spec.arc_text) + 1 and "<polygon" in svg
    odd = Seal(name='<script>"x"</script>', department=lworld.scj)
    assert "<script>" not in seal_svg(odd)


def test_draw_seal_with_reportlab(lworld):
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    draw_seal(pdf, lworld.scj_seal, 300, 400, 60)
    pdf.showPage()
    pdf.save()
    assert buffer.getvalue().startswith(b"%PDF") and b"STSong-Light" in buffer.getvalue()


@pytest.fixture
def admin_client(client, lworld):
    account = lworld.head.account
    account.is_staff = True
    account.save(update_fields=["is_staff"])
    client.force_login(account)
    session = client.session
    session["mfa_ok"] = True
    session.save()
    return client


def test_seal_admin_never_shows_the_private_key(admin_client, lworld):
    seal = lworld.scj_seal
    html = admin_client.get(reverse("admin:licences_seal_change", args=[seal.pk])).content.decode()
    assert seal.public_key_hex in html and "<svg" in html
    for marker in _private_markers(seal):
        assert marker not in html
    api = admin_client.get("/api/licences/verify/seals").content.decode()
    for marker in _private_markers(seal):
        assert marker not in api


def test_seal_admin_add_and_suspend_through_services(admin_client, lworld):
    response = admin_client.post(
        reverse("admin:licences_seal_add"),
        {"department": lworld.scj.pk, "name": "示范区市场监督管理局合同专用章", "valid_from": "2026-01-01"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    seal = Seal.objects.get(name="示范区市场监督管理局合同专用章")
    assert len(seal.public_key_hex) == 130 and seal.key_id.startswith("seal-")
    url = reverse("admin:licences_seal_change", args=[seal.pk])
    response = admin_client.post(url, {"status_action": "suspend", "reason": ""})
    assert response.status_code == 200 and Seal.objects.get(pk=seal.pk).status == Seal.Status.ACTIVE
    response = admin_client.post(url, {"status_action": "suspend", "reason": "停用"})
    assert response.status_code == 302 and Seal.objects.get(pk=seal.pk).status == Seal.Status.SUSPENDED
    assert AuditEntry.objects.filter(action="seal.suspend", object_id=str(seal.public_id)).exists()


def test_type_admin_field_errors_and_save(admin_client, lworld):
    import json

    data = {
        "code": "spjy",
        "name": "食品经营许可证",
        "department": lworld.scj.pk,
        "holder_kind": "organisation",
        "face_fields": json.dumps([{"name": "A", "label": "x"}]),
        "validity": "years",
        "validity_years": "",
        "layout": "{}",
        "is_active": "on",
    }
    response = admin_client.post(reverse("admin:licences_licencetype_add"), data)
    html = response.content.decode()
    assert response.status_code == 200 and "名称须为小写字母开头" in html and "固定年限须填写" in html
    data.update(face_fields=json.dumps(ORG_FIELDS), validity_years="5")
    response = admin_client.post(reverse("admin:licences_licencetype_add"), data)
    assert response.status_code == 302
    assert LicenceType.objects.get(code="spjy").validity_years == 5
    assert AuditEntry.objects.filter(action="licence_type.save", object_id="spjy").exists()


def test_admin_closed_to_issuers(client, lworld):
    account = lworld.issuer.account
    account.is_staff = True
    account.save(update_fields=["is_staff"])
    client.force_login(account)
    assert client.get(reverse("admin:licences_seal_changelist")).status_code == 403
