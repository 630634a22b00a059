"""用印, verification and the archive package (services/document_seal.py), on documents built directly."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.collab.test_docseal_helpers import (
    add_attachment,
    office_seal,
    outgoing_document,
    sealed_pdf_bytes,
    zip_members,
)
from tests.collab.world import build_collab_world, principal
from yiwang.collab.models.documents import Document, DocumentFile, DocumentStep, DocumentVersion
from yiwang.collab.services.document_seal import (
    document_archive,
    document_payload,
    document_seal_apply,
    document_seal_entry,
    document_verify,
    verify_code_display,
)
from yiwang.core import crypto
from yiwang.core.models import AuditEntry
from yiwang.licences.services.core import seal_revoke, seal_suspend
from yiwang.licences.signing import verify_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(clock):
    world = build_collab_world()
    world.seal = office_seal(world.d_office)
    return world


def _seal(w, **kwargs):
    return document_seal_apply(actor=principal(w.office), document=outgoing_document(w, **kwargs))


def test_sealed_document_verifies(w, django_assert_max_num_queries):
    doc = _seal(w, attachments=[("附件1 名单.pdf", b"%PDF-1.4 demo")])
    doc.refresh_from_db()
    assert doc.seal == w.seal and doc.sealed_at is not None
    assert len(doc.verify_code) >= 16 and set(doc.verify_code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    payload = document_payload(doc)
    assert payload["number"] == doc.number and payload["seal"] == w.seal.key_id
    assert payload["department"] == {"name": w.d_office.name, "code": "ZFB", "uscc": w.d_office.uscc}
    assert payload["attachments"][0]["sm3"] == crypto.sm3_hex(b"%PDF-1.4 demo")
    assert verify_payload(w.seal.public_key_hex, payload, doc.signature)
    sealed = DocumentFile.objects.get(document=doc, kind=DocumentFile.Kind.SEALED)
    assert sealed.content_type == "application/pdf" and sealed.sm3 == crypto.sm3_hex(sealed_pdf_bytes(doc))
    assert DocumentStep.objects.filter(document=doc, step=Document.Step.SEAL, actor=w.office).exists()
    assert document_seal_entry(doc).after["payload_sm3"] == doc.payload_sm3
    with django_assert_max_num_queries(5):
        result = document_verify(doc.verify_code)
    assert result.result == "valid" and result.valid and result.number == doc.number
    assert result.seal_name == w.seal.name and result.department == w.d_office.name
    assert result.pdf_checked is False and result.pdf_matches is None
    # typed back as printed, in groups, in lower case
    assert document_verify(verify_code_display(doc.verify_code).lower()).result == "valid"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda doc: DocumentVersion.objects.filter(document=doc).update(body="篡改后的正文"),
        lambda doc: Document.objects.filter(pk=doc.pk).update(title="另一个标题"),
        lambda doc: Document.objects.filter(pk=doc.pk).update(number="示政办〔2026〕8号"),
        lambda doc: Document.objects.filter(pk=doc.pk).update(main_to="某单位"),
        lambda doc: add_attachment(doc, "后加的附件.pdf", b"%PDF-1.4 later"),
        lambda doc: Document.objects.filter(pk=doc.pk).update(signature="00" + doc.signature[2:]),
    ],
    ids=["body", "title", "number", "main_to", "attachment", "signature"],
)
def test_changed_document_does_not_verify(w, tamper):
    doc = _seal(w)
    tamper(doc)
    result = document_verify(doc.verify_code)
    assert result.result == "invalid" and not result.valid
    assert result.number == "" and result.title == "" and result.seal_name == ""


def test_unknown_code_answers_like_a_broken_signature(w):
    doc = _seal(w)
    Document.objects.filter(pk=doc.pk).update(title="另一个标题")
    broken = document_verify(doc.verify_code).as_dict()
    for code in ("A" * 24, "not a code", "", "2" * 40):
        assert document_verify(code).as_dict() == broken


def test_revoked_and_suspended_seal(w):
    doc = _seal(w)
    admin = principal(w.scj_head)  # LICENCE_MANAGE
    seal_suspend(actor=admin, seal=w.seal, reason="印章保管人变更")
    suspended = document_verify(doc.verify_code)
    assert suspended.result == "valid" and suspended.seal_status == "suspended"
    seal_revoke(actor=admin, seal=w.seal, reason="机构撤并")
    revoked = document_verify(doc.verify_code)
    assert revoked.result == "revoked" and revoked.valid and revoked.seal_status == "revoked"
    # and a revoked seal seals nothing new
    with pytest.raises(ValidationError) as err:
        _seal(w, number="示政办〔2026〕9号")
    assert "seal" in err.value.message_dict


def test_pdf_digest_match_and_tamper(w):
    doc = _seal(w)
    pdf = sealed_pdf_bytes(doc)
    assert document_verify(doc.verify_code, pdf_bytes=pdf).pdf_matches is True
    tampered = pdf.replace(b"/Author", b"/Authos", 1)
    assert tampered != pdf
    result = document_verify(doc.verify_code, pdf_bytes=tampered)
    assert result.result == "valid" and result.pdf_checked and result.pdf_matches is False
    assert document_verify("A" * 24, pdf_bytes=pdf).pdf_matches is False


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"number": ""}, "number"),
        ({"signed_at": None}, "signed_at"),
        ({"direction": Document.Direction.INCOMING}, "direction"),
        ({"current_version": 0}, "body"),
        ({"step": Document.Step.WITHDRAWN}, "step"),
    ],
)
def test_refusals_name_the_field(w, changes, field):
    doc = outgoing_document(w)
    Document.objects.filter(pk=doc.pk).update(**changes)
    with pytest.raises(ValidationError) as err:
        document_seal_apply(actor=principal(w.office), document=doc)
    assert field in err.value.message_dict
    assert not DocumentFile.objects.filter(document=doc).exists()


def test_no_seal_and_sealing_twice(w):
    doc = outgoing_document(w, department=w.d_mzj, number="示民〔2026〕1号")
    with pytest.raises(ValidationError) as err:
        document_seal_apply(actor=principal(w.office), document=doc)
    assert "电子印章" in err.value.message_dict["seal"][0]
    sealed = _seal(w)
    with pytest.raises(ValidationError) as err:
        document_seal_apply(actor=principal(w.office), document=sealed)
    assert "seal" in err.value.message_dict
    assert DocumentFile.objects.filter(document=sealed, kind=DocumentFile.Kind.SEALED).count() == 1


def test_who_may_seal(w):
    office_seal(w.d_scj)
    scj_doc = outgoing_document(w, department=w.d_scj, number="示市监〔2026〕3号")
    for staff in (w.scj_head, w.leader, w.dataofficer, w.village_clerks[0]):
        with pytest.raises(PermissionDenied):
            document_seal_apply(actor=principal(staff), document=scj_doc)
    # the district office registers and seals for the district's departments, with the department's own seal
    sealed = document_seal_apply(actor=principal(w.office), document=scj_doc)
    assert sealed.seal.department == w.d_scj
    assert document_verify(sealed.verify_code).department == w.d_scj.name


def test_archive_package(w, clock):
    doc = _seal(w, attachments=[("附件 名单.pdf", b"%PDF-1.4 list")])
    with pytest.raises(ValidationError) as err:
        document_archive(actor=principal(w.office), document=doc)
    assert "step" in err.value.message_dict
    Document.objects.filter(pk=doc.pk).update(step=Document.Step.DONE)
    doc.refresh_from_db()
    with pytest.raises(PermissionDenied):
        document_archive(actor=principal(w.scj_head), document=doc)
    clock.set(2026, 3, 3, 15)
    package = document_archive(actor=principal(w.office), document=doc)
    doc.refresh_from_db()
    assert doc.archived_at is not None and package.kind == DocumentFile.Kind.ARCHIVE
    with package.file.open("rb") as handle:
        data = handle.read()
    assert crypto.sm3_hex(data) == package.sm3 and len(data) == package.size
    members = zip_members(data)
    manifest = json.loads(members.pop("manifest.json"))
    assert {m["name"] for m in manifest["members"]} == set(members)
    for m in manifest["members"]:
        assert crypto.sm3_hex(members[m["name"]]) == m["sm3"] and len(members[m["name"]]) == m["size"]
    assert {
        "metadata.json",
        "versions/v001.txt",
        "sealed.pdf",
        "signature.json",
        "trace.json",
        "audit.json",
    } <= set(members)
    assert members["sealed.pdf"] == sealed_pdf_bytes(doc)
    assert [n for n in members if n.startswith("files/")] == ["files/01-附件 名单.pdf"]
    metadata = json.loads(members["metadata.json"])
    assert metadata["number"] == doc.number and metadata["versions"][0]["body_sm3"]
    signature = json.loads(members["signature.json"])
    assert verify_payload(
        signature["seal"]["public_key_hex"], signature["payload"], signature["signature_sm2"]
    )
    assert members["seal_public_key.hex"].decode().strip() == w.seal.public_key_hex
    trace = json.loads(members["trace.json"])
    assert [t["step"] for t in trace] == ["draft", "seal"]
    audit = json.loads(members["audit.json"])
    assert "collab.document.seal" in [a["action"] for a in audit]
    assert (
        AuditEntry.objects.filter(
            action="collab.document.archive_package", object_id=str(doc.public_id)
        ).count()
        == 1
    )
    with pytest.raises(ValidationError) as err:
        document_archive(actor=principal(w.office), document=doc)
    assert "archived_at" in err.value.message_dict


def test_archive_of_a_received_copy_carries_the_source(w):
    source = _seal(w)
    copy = Document.objects.create(
        direction=Document.Direction.INCOMING,
        title=source.title,
        number=source.number,
        department=w.d_office,
        origin=w.d_office.name,
        step=Document.Step.DONE,
        source=source,
        current_version=0,
        created_by=w.office,
    )
    package = document_archive(actor=principal(w.office), document=copy)
    with package.file.open("rb") as handle:
        members = zip_members(handle.read())
    assert members["source/sealed.pdf"] == sealed_pdf_bytes(source)
    assert "signature.json" not in members and "sealed.pdf" not in members


def test_archive_refuses_a_lost_or_altered_file(w):
    doc = _seal(w, attachments=[("名单.pdf", b"%PDF-1.4 list")])
    Document.objects.filter(pk=doc.pk).update(step=Document.Step.DONE)
    attachment = DocumentFile.objects.get(document=doc, kind=DocumentFile.Kind.ATTACHMENT)
    with open(attachment.file.path, "wb") as handle:
        handle.write(b"%PDF-1.4 changed")
    with pytest.raises(ValidationError) as err:
        document_archive(actor=principal(w.office), document=doc)
    assert "名单.pdf" in err.value.message_dict["files"][0]
    doc.refresh_from_db()
    assert doc.archived_at is None
