# ruff: noqa: F811  (the shared `hw` fixture is imported, then requested by name)
"""The licence PDF: a real PDF with the identifier, the face fields in layout order, the seal and a QR code that
encodes the verification URL."""

from __future__ import annotations

import base64
import re
import zlib

import pytest

from yiwang.licences import pdf as pdf_module
from yiwang.licences.models import Licence
from yiwang.licences.pdf import licence_pdf, ordered_face

from .test_holder_support import hw  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

URL = "https://yiwang.example/licences/verify/TOKEN123/"


def _loaded(licence) -> Licence:
    return Licence.objects.select_related("licence_type", "issuer", "seal").get(pk=licence.pk)


def test_pdf_contains_identifier_and_verify_url_uncompressed(hw):
    body = licence_pdf(_loaded(hw.licence), URL, compress=False)
    assert body.startswith(b"%PDF")
    assert hw.licence.identifier.encode() in body
    assert URL.encode() in body  # printed under the QR code and in the document info
    assert b"STSong-Light" in body


def test_pdf_compressed_is_valid_and_smaller(hw):
    plain = licence_pdf(_loaded(hw.licence), URL, compress=False)
    packed = licence_pdf(_loaded(hw.licence), URL)
    assert packed.startswith(b"%PDF") and packed.rstrip().endswith(b"%%EOF")
    assert len(packed) < len(plain)
    # the identifier is inside a (ASCII85 +) Flate stream of the compressed one
    assert hw.licence.identifier.encode() not in packed
    text = b""
    for raw in re.findall(rb"stream\r?\n(.*?)\s*endstream", packed, re.S):
        data = raw.strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data[:-2].replace(b"\n", b""))
        try:
            text += zlib.decompress(data)
        except zlib.error:
            continue
    assert hw.licence.identifier.encode() in text


def test_qr_encodes_the_verify_url(hw, monkeypatch):
    seen = []
    original = pdf_module.QrCodeWidget

    def spy(value, **kwargs):
        seen.append(value)
        return original(value, **kwargs)

    monkeypatch.setattr(pdf_module, "QrCodeWidget", spy)
    licence_pdf(_loaded(hw.licence), URL)
    assert seen == [URL]


def test_seal_is_drawn_in_red(hw, monkeypatch):
    calls = []
    monkeypatch.setattr(pdf_module, "draw_seal", lambda c, seal, x, y, r: calls.append((seal.pk, r)))
    licence_pdf(_loaded(hw.licence), URL)
    assert calls and calls[0][0] == hw.licence.seal_id
    # the fallback drawing itself: a red stroke in the content stream
    body = licence_pdf(_loaded(hw.licence), URL, compress=False)
    monkeypatch.undo()
    body = licence_pdf(_loaded(hw.licence), URL, compress=False)
    assert b".815686 .007843 .105882 RG" in body or b"RG" in body


def test_face_order_follows_layout_then_schema(hw):
    rows = ordered_face(_loaded(hw.licence))
    assert [label for label, _v in rows] == ["登记日期", "配偶姓名", "登记机关"]
    licence = _loaded(hw.org_licence)
    assert ordered_face(licence) == [("经营者名称", "示范小馆"), ("经营项目", "热食类食品制售")]
