"""The core of issue 5: a sealed licence verifies; any edited signed column breaks it; the offline file verifies
with the published key and with gmssl (an independent SM2 implementation)."""

from __future__ import annotations

import pytest
from Cryptodome.Util.asn1 import DerSequence

from tests.factories import DepartmentFactory, PersonFactory
from yiwang.licences.models import Licence, LicenceType
from yiwang.licences.services.core import identifier_valid, licence_issue, seal_create
from yiwang.licences.signing import canonical_bytes, licence_file, licence_verify_signature, verify_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed():
    department = DepartmentFactory(code="MZJ", name="示范区民政局")
    seal_create(actor=None, department=department, name="示范区民政局婚姻登记专用章")
    kind = LicenceType.objects.create(
        code="jhz",
        name="结婚证",
        department=department,
        holder_kind=LicenceType.HolderKind.PERSON,
        face_fields=[
            {"name": "spouse", "label": "配偶", "type": "string", "required": True, "public": False},
            {
                "name": "registered_on",
                "label": "登记日期",
                "type": "string",
                "required": True,
                "public": True,
            },
        ],
        validity=LicenceType.Validity.PERMANENT,
    )
    person = PersonFactory()
    return licence_issue(
        actor=None,
        licence_type=kind,
        holder_person=person,
        face={"spouse": "李四", "registered_on": "2026-03-02"},
    )


def test_issued_licence_verifies_and_tampering_breaks_it(sealed):
    licence = Licence.objects.select_related("licence_type", "issuer", "seal").get(pk=sealed.pk)
    assert identifier_valid(licence.identifier) and licence.expires_on is None
    assert licence_verify_signature(licence)
    for column, value in (
        ("holder_name", "王五"),
        ("face", {**licence.face, "spouse": "赵六"}),
        ("issued_on", licence.issued_on.replace(year=2020)),
        ("signature", licence.signature[:-2] + ("00" if licence.signature[-2:] != "00" else "11")),
    ):
        tampered = Licence.objects.select_related("licence_type", "issuer", "seal").get(pk=sealed.pk)
        setattr(tampered, column, value)
        assert not licence_verify_signature(tampered), column


def test_offline_file_verifies_with_the_published_key_and_gmssl(sealed):
    from gmssl import sm2

    licence = Licence.objects.select_related("licence_type", "issuer", "seal").get(pk=sealed.pk)
    document = licence_file(licence)
    assert verify_file(document, public_key_hex=licence.seal.public_key_hex)
    forged = {
        **document,
        "payload": {**document["payload"], "holder": {**document["payload"]["holder"], "name": "X"}},
    }
    assert not verify_file(forged, public_key_hex=licence.seal.public_key_hex)
    # gmssl: the same signature over the same canonical bytes, with the seal's public key (x || y, no 04)
    r, s = DerSequence().decode(bytes.fromhex(licence.signature))
    verifier = sm2.CryptSM2(private_key=None, public_key=licence.seal.public_key_hex[2:], asn1=False)
    verifier.public_key = licence.seal.public_key_hex[2:]  # gmssl's lstrip("04") would eat a leading 0 or 4
    assert verifier.verify_with_sm3(f"{r:064x}{s:064x}", canonical_bytes(document["payload"]))
    assert not verifier.verify_with_sm3(f"{r:064x}{s:064x}", canonical_bytes(forged["payload"]))
