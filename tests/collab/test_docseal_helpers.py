"""Test helpers of the docseal part (no tests here): an outgoing 公文, numbered and signed off, built directly (not
through the documents workflow), the department's seal, and a module-scoped sealed world for read-only tests."""

from __future__ import annotations

import io
import zipfile
from datetime import date

from django.core.files.base import ContentFile
from django.utils import timezone

from yiwang.collab.models.documents import Document, DocumentFile, DocumentStep, DocumentVersion
from yiwang.core import crypto
from yiwang.licences.services.core import seal_create

BODY = (
    "为进一步做好全区政务服务“一网协同”工作，经区政府同意，现就有关事项通知如下。\n"
    "一、各单位要高度重视，明确专人负责，按时完成公文流转系统的上线工作。\n"
    "二、请于本月底前将落实情况报区政府办公室。"
)
TITLE = "关于做好一网协同公文流转上线工作的通知"
NUMBER = "示政办〔2026〕7号"


def office_seal(department, name: str | None = None):
    return seal_create(
        actor=None,
        department=department,
        name=name or f"{department.name}公文专用章",
        valid_from=date(2015, 1, 1),
    )


def add_attachment(doc, name: str, data: bytes) -> DocumentFile:
    f = DocumentFile(
        document=doc,
        kind=DocumentFile.Kind.ATTACHMENT,
        original_name=name,
        content_type="application/pdf",
        size=len(data),
        sm3=crypto.sm3_hex(data),
    )
    f.store(ContentFile(data), "application/pdf")
    f.save()
    return f


def outgoing_document(w, *, department=None, number=NUMBER, body=BODY, attachments=(), **extra) -> Document:
    """An outgoing document at step 用印: version 1, signed off by the leader, numbered."""
    department = department or w.d_office
    now = timezone.now()
    values = {
        "direction": Document.Direction.OUTGOING,
        "kind": Document.Kind.NOTICE,
        "title": TITLE,
        "number": number,
        "department": department,
        "step": Document.Step.SEAL,
        "main_to": "各镇人民政府、街道办事处，区直各单位",
        "copy_to": "区委办公室，区人大常委会办公室",
        "signer": w.leader,
        "signed_at": now,
        "current_version": 1,
        "created_by": w.office,
        "holder": w.office,
        "holder_department": department,
    }
    values.update(extra)
    doc = Document.objects.create(**values)
    DocumentVersion.objects.create(
        document=doc,
        number=1,
        title=doc.title,
        body=body,
        body_sm3=crypto.sm3_hex(body.encode("utf-8")),
        created_by=w.office,
        created_at=now,
    )
    DocumentStep.objects.create(
        document=doc, step=Document.Step.DRAFT, actor=w.office, department=department, at=now
    )
    for name, data in attachments:
        add_attachment(doc, name, data)
    return doc


def sealed_pdf_bytes(doc) -> bytes:
    from yiwang.collab.services.document_seal import document_sealed_file

    with document_sealed_file(doc).file.open("rb") as handle:
        return handle.read()


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def sealed_world():
    """The collab world with the office's seal and one sealed 发文 (w.doc, w.pdf), at whatever the time is."""
    from tests.collab.world import build_collab_world, principal
    from yiwang.collab.services.document_seal import document_seal_apply

    w = build_collab_world()
    w.seal = office_seal(w.d_office)
    w.doc = document_seal_apply(actor=principal(w.office), document=outgoing_document(w))
    w.pdf = sealed_pdf_bytes(w.doc)
    return w
