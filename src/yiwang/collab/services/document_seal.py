"""公文用印, public verification and the archive package (公文流转 II).

用印: the issuing department's active e-seal (licences.Seal, its SM2 key inside the keystore) signs the canonical
payload of a numbered, signed-off 发文 (`document_payload`: number, title, kind, department, 主送/抄送, signing date and
signer, the SM3 of the current body and of every attachment, the seal's key id) with
`licences.signing.sign_payload`. The document keeps the payload's SM3, the signature and a random 核验码; the
GB/T 9704-2012 PDF (`collab.document_pdf`) is rendered once and stored as `DocumentFile(kind=sealed)`.

核验 (`document_verify`): by the 核验码 printed on the PDF (and in its QR code) anybody recomputes the payload from the
stored document, checks the SM3 and the SM2 signature against the seal's published key, reads the seal's status
live and, given the PDF bytes, compares their SM3 with the sealed file's. An unknown code answers exactly like a
broken signature: `invalid`, no facts.

归档 (`document_archive`): one zip with metadata.json, every version's body, the attachments, the sealed PDF, the
signature with the seal's public key, the trace, the evidence-log excerpt of the document and a manifest with the
SM3 of every member, stored as `DocumentFile(kind=archive)`.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import secrets
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.collab.models.documents import (
    Document,
    DocumentFile,
    DocumentParty,
    DocumentStep,
    DocumentVersion,
)
from yiwang.core import crypto
from yiwang.core.audit import audit_record
from yiwang.core.keystore import keystore
from yiwang.core.models import AuditEntry
from yiwang.core.uploads import PDF
from yiwang.licences.models import Seal
from yiwang.licences.signing import canonical_bytes, sign_payload, verify_payload

FORMAT = "yiwang-document/1"
ARCHIVE_FORMAT = "yiwang-document-archive/1"
VERIFY_CODE_BYTES = 15  # 120 bits → 24 base32 characters
MAX_AUDIT_ROWS = 5000
_CODE_CLEAN = re.compile(r"[\s\-]")
_CODE_SHAPE = re.compile(r"^[A-Z2-7]{16,32}$")


# --- the payload ------------------------------------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _current_version(document) -> DocumentVersion | None:
    if not document.current_version:
        return None
    return DocumentVersion.objects.filter(document=document, number=document.current_version).first()


def _attachment_digests(document) -> list[dict]:
    rows = DocumentFile.objects.filter(document=document, kind=DocumentFile.Kind.ATTACHMENT).values_list(
        "original_name", "sm3"
    )
    return sorted(({"name": name, "sm3": sm3} for name, sm3 in rows), key=lambda r: (r["sm3"], r["name"]))


def document_payload(document) -> dict:
    """Everything the seal vouches for, from the stored document (the body's SM3 is recomputed from the text of
    the current version, so an edited body breaks the signature even if its digest column was left alone).
    Status and steps are not signed: they change; verification reads them live."""
    department = document.department
    version = _current_version(document)
    body_sm3 = crypto.sm3_hex(version.body.encode("utf-8")) if version is not None else ""
    return {
        "format": FORMAT,
        "number": document.number,
        "title": document.title,
        "kind": document.kind,
        "department": {"name": department.name, "code": department.code, "uscc": department.uscc},
        "main_to": document.main_to,
        "copy_to": document.copy_to,
        "signed_at": _iso(document.signed_at),
        "signer": document.signer.name if document.signer_id else "",
        "version": int(document.current_version or 0),
        "body_sm3": body_sm3,
        "attachments": _attachment_digests(document),
        "seal": document.seal.key_id if document.seal_id else "",
    }


# --- who may seal and archive -------------------------------------------------------------------------------------
def document_register_may(actor, document) -> bool:
    """The documents part's one rule for registrars (selectors.documents.may_register): DOCUMENT_REGISTER in the
    document's department, or in the district government office, which registers, seals and archives for the
    district's departments (they have no 文秘 of their own)."""
    from yiwang.collab.selectors.documents import may_register

    return may_register(actor, document.department_id)


def _require_register(actor, document, message: str) -> None:
    if not document_register_may(actor, document):
        raise PermissionDenied(message)


# --- 用印 ---------------------------------------------------------------------------------------------------------
def _usable(seal: Seal, on: date) -> bool:
    return (
        seal.status == Seal.Status.ACTIVE
        and seal.valid_from <= on
        and (seal.valid_until is None or on <= seal.valid_until)
    )


def document_seal_for(department, on: date | None = None) -> Seal:
    """The department's usable e-seal today (the newest active one), or a field-level refusal."""
    on = on or timezone.localdate()
    for seal in Seal.objects.filter(department=department, status=Seal.Status.ACTIVE).order_by("-id"):
        if _usable(seal, on):
            return seal
    raise ValidationError(
        {
            "seal": _("“%(dept)s”没有可用的电子印章，不能用印。请先由印章管理人员启用印章。")
            % {"dept": department.name}
        }
    )


def _new_verify_code() -> str:
    while True:
        code = base64.b32encode(secrets.token_bytes(VERIFY_CODE_BYTES)).decode("ascii").rstrip("=")
        if not Document.objects.filter(verify_code=code).exists():
            return code


def verify_code_display(code: str) -> str:
    """The 核验码 in groups of four (how it is printed; the spaces and dashes are ignored when typed back)."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def verify_code_clean(raw: str | None) -> str:
    return _CODE_CLEAN.sub("", (raw or "").strip()).upper()[:64]


def public_base_url() -> str:
    """The site's public address for URLs printed in stored PDFs (no request at hand when sealing):
    settings.YIWANG_PUBLIC_URL, else the environment variable of that name, else the development address."""
    base = getattr(settings, "YIWANG_PUBLIC_URL", "") or os.environ.get("YIWANG_PUBLIC_URL", "")
    return (base or "http://127.0.0.1:8000").rstrip("/")


def verify_path(code: str) -> str:
    try:
        return reverse("collab:document_verify_code", args=[code])
    except NoReverseMatch:  # the page not wired: its documented path
        return f"/collab/verify/{code}/"


def document_verify_url(code: str) -> str:
    return public_base_url() + verify_path(code)


def _refuse_unsealable(document) -> None:
    if document.direction != Document.Direction.OUTGOING:
        raise ValidationError({"direction": _("只有发文可以用印。")})
    if document.step in (Document.Step.WITHDRAWN, Document.Step.ARCHIVED):
        raise ValidationError({"step": _("公文已撤回或已归档，不能用印。")})
    if document.sealed_at is not None or document.verify_code:
        raise ValidationError({"seal": _("该公文已用印，不能重复用印。")})
    if not document.number:
        raise ValidationError({"number": _("公文尚未编号（发文字号），不能用印。")})
    if document.signed_at is None:
        raise ValidationError({"signed_at": _("公文尚未签发，不能用印。")})
    if not document.current_version:
        raise ValidationError({"body": _("公文没有正文，不能用印。")})


def document_seal_apply(*, actor, document) -> Document:
    """用印: seals a numbered, signed-off 发文 with its department's e-seal, stores the sealed PDF, adds the 用印
    trace row and the audit entry (`collab.document.seal`, the entry a 存证回执 is built from). Step and holder are left to
    the workflow that calls this."""
    from yiwang.collab.document_pdf import document_pdf

    _require_register(actor, document, _("只有本单位或上级办公室的公文管理人员可以用印。"))
    now = timezone.now()
    with transaction.atomic():
        doc = (
            Document.objects.select_for_update(of=("self",))
            .select_related("department", "department__division", "signer")
            .get(pk=document.pk)
        )
        _refuse_unsealable(doc)
        seal = document_seal_for(doc.department, timezone.localdate())
        doc.seal = seal
        doc.sealed_at = now
        payload = document_payload(doc)
        doc.payload_sm3, doc.signature = sign_payload(keystore(), seal.key_id, payload)
        doc.verify_code = _new_verify_code()
        doc.save(update_fields=["seal", "sealed_at", "payload_sm3", "signature", "verify_code"])

        pdf = document_pdf(doc, document_verify_url(doc.verify_code))
        sealed = DocumentFile(
            document=doc,
            kind=DocumentFile.Kind.SEALED,
            original_name=f"{doc.number}.pdf"[:200],
            content_type=PDF,
            size=len(pdf),
            sm3=crypto.sm3_hex(pdf),
            uploaded_by=getattr(actor, "account", None),
        )
        sealed.store(ContentFile(pdf), PDF)
        sealed.save()
        staff = getattr(actor, "staff", None)
        DocumentStep.objects.create(
            document=doc,
            step=Document.Step.SEAL,
            actor=staff,
            department=staff.department if staff is not None else None,
            opinion=f"加盖“{seal.name}”电子印章",  # stored text: the trace is Chinese
            at=now,
        )
        audit_record(
            actor=actor,
            action="collab.document.seal",
            object_type="collab_document",
            object_id=str(doc.public_id),
            after={
                "number": doc.number,
                "title": doc.title,
                "department": doc.department.code,
                "seal": seal.key_id,
                "payload_sm3": doc.payload_sm3,
                "signature": doc.signature,
                "pdf_sm3": sealed.sm3,
            },
        )
    for name in ("seal", "sealed_at", "payload_sm3", "signature", "verify_code"):
        setattr(document, name, getattr(doc, name))
    return doc


def document_sealed_file(document) -> DocumentFile | None:
    return (
        DocumentFile.objects.filter(document=document, kind=DocumentFile.Kind.SEALED).order_by("-id").first()
    )


def document_seal_entry(document) -> AuditEntry | None:
    """The evidence entry of the 用印 (give it to `core.apiutils.receipt_download` for the 存证回执)."""
    return (
        AuditEntry.objects.filter(
            object_type="collab_document", object_id=str(document.public_id), action="collab.document.seal"
        )
        .select_related("leaf")
        .order_by("-seq")
        .first()
    )


# --- 核验 -----------------------------------------------------------------------------------------------------------
@dataclass
class VerifyResult:
    """The public answer. `found` is internal (never shown): an unknown code answers like an invalid signature."""

    result: str = "invalid"  # valid / invalid / revoked
    valid: bool = False  # the signature over the stored document verifies
    seal_name: str = ""
    seal_status: str = ""
    seal_status_label: str = ""
    number: str = ""
    title: str = ""
    department: str = ""
    signed_on: date | None = None
    sealed_on: date | None = None
    pdf_checked: bool = False
    pdf_matches: bool | None = None
    found: bool = field(default=False, repr=False)

    @property
    def result_label(self) -> str:
        return {
            "valid": _("有效：签章核验通过"),
            "revoked": _("印章已注销：签章本身有效，但该印章已被注销"),
        }.get(self.result, _("无效：核验码不存在，或公文内容与签章不符"))

    def as_dict(self) -> dict:
        return {
            "result": self.result,
            "result_label": self.result_label,
            "valid": self.valid,
            "seal": {
                "name": self.seal_name,
                "status": self.seal_status,
                "status_label": self.seal_status_label,
            },
            "number": self.number,
            "title": self.title,
            "department": self.department,
            "signed_on": self.signed_on,
            "sealed_on": self.sealed_on,
            "pdf_checked": self.pdf_checked,
            "pdf_matches": self.pdf_matches,
        }


def _local_date(value: datetime | None) -> date | None:
    return timezone.localtime(value).date() if value is not None else None


def document_verify(verify_code: str, *, pdf_bytes: bytes | None = None) -> VerifyResult:
    """Checks a sealed 发文 by its 核验码 (and, given the PDF's bytes, that they are the sealed file's). Reads no
    personal data; shows only the public facts, and only when the signature verifies."""
    out = VerifyResult(pdf_checked=pdf_bytes is not None)
    if pdf_bytes is not None:
        out.pdf_matches = False
    code = verify_code_clean(verify_code)
    if not _CODE_SHAPE.match(code):
        return out
    doc = (
        Document.objects.filter(verify_code=code, direction=Document.Direction.OUTGOING, seal__isnull=False)
        .select_related("department", "signer", "seal")
        .first()
    )
    if doc is None:
        return out
    out.found = True
    payload = document_payload(doc)
    ok = crypto.sm3_hex(canonical_bytes(payload)) == doc.payload_sm3 and verify_payload(
        doc.seal.public_key_hex, payload, doc.signature
    )
    if not ok:
        return out
    out.valid = True
    seal = doc.seal
    out.result = "revoked" if seal.status == Seal.Status.REVOKED else "valid"
    out.seal_name, out.seal_status, out.seal_status_label = seal.name, seal.status, seal.get_status_display()
    out.number, out.title, out.department = doc.number, doc.title, doc.department.name
    out.signed_on, out.sealed_on = _local_date(doc.signed_at), _local_date(doc.sealed_at)
    if pdf_bytes is not None:
        sealed = document_sealed_file(doc)
        out.pdf_matches = sealed is not None and crypto.sm3_hex(pdf_bytes) == sealed.sm3
    return out


# --- 归档 -----------------------------------------------------------------------------------------------------------
def _safe_name(name: str) -> str:
    name = os.path.basename((name or "").replace("\\", "/")).strip() or "file"
    return re.sub(r"[\x00-\x1f/:*?\"<>|]", "_", name)[:120]


def _read(file_row: DocumentFile) -> bytes:
    try:
        with file_row.file.open("rb") as handle:
            data = handle.read()
    except (FileNotFoundError, OSError, ValueError):
        data = None
    if data is None or crypto.sm3_hex(data) != file_row.sm3:
        raise ValidationError(
            {
                "files": _("文件“%(name)s”已丢失或与登记的摘要不符，不能归档。")
                % {"name": file_row.original_name}
            }
        )
    return data


def _json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True, default=str).encode("utf-8")


def _staff_name(staff) -> str:
    return staff.name if staff is not None else ""


def _metadata(doc: Document, versions, files, parties) -> dict:
    dept = doc.department
    return {
        "format": ARCHIVE_FORMAT,
        "public_id": str(doc.public_id),
        "direction": doc.direction,
        "kind": doc.kind,
        "title": doc.title,
        "number": doc.number,
        "department": {"code": dept.code, "name": dept.name, "uscc": dept.uscc},
        "origin": doc.origin,
        "confidentiality": doc.confidentiality,
        "confidentiality_label": str(doc.get_confidentiality_display()),
        "urgency": doc.urgency,
        "main_to": doc.main_to,
        "copy_to": doc.copy_to,
        "signer": _staff_name(doc.signer),
        "signed_at": _iso(doc.signed_at),
        "sealed_at": _iso(doc.sealed_at),
        "seal": {"key_id": doc.seal.key_id, "name": doc.seal.name} if doc.seal_id else None,
        "payload_sm3": doc.payload_sm3,
        "verify_code": doc.verify_code,
        "source": {"public_id": str(doc.source.public_id), "number": doc.source.number}
        if doc.source_id
        else None,
        "created_by": _staff_name(doc.created_by),
        "created_at": _iso(doc.created_at),
        "done_at": _iso(doc.done_at),
        "current_version": doc.current_version,
        "versions": [
            {
                "number": v.number,
                "title": v.title,
                "note": v.note,
                "body_sm3": v.body_sm3,
                "created_by": _staff_name(v.created_by),
                "created_at": _iso(v.created_at),
            }
            for v in versions
        ],
        "files": [
            {
                "kind": f.kind,
                "name": f.original_name,
                "content_type": f.content_type,
                "size": f.size,
                "sm3": f.sm3,
            }
            for f in files
        ],
        "parties": [
            {
                "department": {"code": p.department.code, "name": p.department.name},
                "role": p.role,
                "status": p.status,
                "staff": _staff_name(p.staff),
                "opinion": p.opinion,
                "due_on": p.due_on.isoformat() if p.due_on else None,
                "answered_at": _iso(p.answered_at),
            }
            for p in parties
        ],
    }


def _trace(doc: Document) -> list[dict]:
    rows = DocumentStep.objects.filter(document=doc).select_related("actor", "department", "handed_to")
    return [
        {
            "step": s.step,
            "step_label": str(s.get_step_display()),
            "actor": _staff_name(s.actor),
            "department": s.department.name if s.department_id else "",
            "opinion": s.opinion,
            "handed_to": _staff_name(s.handed_to),
            "at": _iso(s.at),
        }
        for s in rows.order_by("at", "pk")
    ]


def _audit_excerpt(doc: Document) -> list[dict]:
    ids = [str(doc.public_id)]
    if doc.source_id:
        ids.append(str(doc.source.public_id))
    entries = AuditEntry.objects.filter(object_id__in=ids).order_by("seq")[:MAX_AUDIT_ROWS]
    return [
        {
            "uuid": str(e.uuid),
            "seq": e.seq,
            "occurred_at": _iso(e.occurred_at),
            "actor_account": e.actor_account,
            "actor_department": e.actor_department,
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "before": e.before,
            "after": e.after,
            "leaf_hash": e.leaf_hash,
            "canonical": e.canonical,
        }
        for e in entries
    ]


def _signature_file(doc: Document) -> dict | None:
    if not doc.seal_id or not doc.signature:
        return None
    return {
        "payload": document_payload(doc),
        "payload_sm3": doc.payload_sm3,
        "signature_sm2": doc.signature,
        "seal": {
            "key_id": doc.seal.key_id,
            "name": doc.seal.name,
            "department": doc.seal.department.name,
            "public_key_hex": doc.seal.public_key_hex,
        },
    }


def document_archive_members(doc: Document) -> list[tuple[str, bytes]]:
    """(name, bytes) of every member but the manifest, in a fixed order."""
    versions = list(
        DocumentVersion.objects.filter(document=doc).select_related("created_by").order_by("number")
    )
    files = list(
        DocumentFile.objects.filter(document=doc).exclude(kind=DocumentFile.Kind.ARCHIVE).order_by("pk")
    )
    parties = list(
        DocumentParty.objects.filter(document=doc).select_related("department", "staff").order_by("pk")
    )
    members: list[tuple[str, bytes]] = [("metadata.json", _json(_metadata(doc, versions, files, parties)))]
    for v in versions:
        members.append((f"versions/v{v.number:03d}.txt", v.body.encode("utf-8")))
    used: set[str] = set()
    for i, f in enumerate(files, start=1):
        if f.kind == DocumentFile.Kind.SEALED:
            name = "sealed.pdf" if "sealed.pdf" not in used else f"sealed-{i}.pdf"
        else:
            name = f"files/{i:02d}-{_safe_name(f.original_name)}"
        used.add(name)
        members.append((name, _read(f)))
    signature = _signature_file(doc)
    if signature is not None:
        members.append(("signature.json", _json(signature)))
        members.append(("seal_public_key.hex", (doc.seal.public_key_hex + "\n").encode("ascii")))
    if doc.source_id and doc.source.seal_id:
        source_sealed = document_sealed_file(doc.source)
        if source_sealed is not None:
            members.append(("source/sealed.pdf", _read(source_sealed)))
        members.append(("source/signature.json", _json(_signature_file(doc.source))))
    members.append(("trace.json", _json(_trace(doc))))
    members.append(("audit.json", _json(_audit_excerpt(doc))))
    return members


def document_archive_zip(doc: Document, *, at: datetime) -> bytes:
    members = document_archive_members(doc)
    manifest = {
        "format": ARCHIVE_FORMAT,
        "document": str(doc.public_id),
        "number": doc.number,
        "created_at": _iso(at),
        "hash": "SM3",
        "members": [{"name": name, "size": len(data), "sm3": crypto.sm3_hex(data)} for name, data in members],
    }
    buffer = io.BytesIO()
    stamp = timezone.localtime(at).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in [*members, ("manifest.json", _json(manifest))]:
            info = zipfile.ZipInfo(name, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def document_archive(*, actor, document) -> DocumentFile:
    """归档: builds the archive package of a finished document (收文 or 发文), stores it as
    `DocumentFile(kind=archive)`, sets `archived_at` and records `document.archive`. Step and holder are left to
    the workflow that calls this."""
    _require_register(actor, document, _("只有本单位或上级办公室的公文管理人员可以归档。"))
    now = timezone.now()
    with transaction.atomic():
        doc = (
            Document.objects.select_for_update(of=("self",))
            .select_related(
                "department",
                "department__division",
                "signer",
                "seal",
                "seal__department",
                "source",
                "created_by",
            )
            .get(pk=document.pk)
        )
        if doc.archived_at is not None:
            raise ValidationError({"archived_at": _("该公文已归档。")})
        if doc.step == Document.Step.WITHDRAWN:
            raise ValidationError({"step": _("公文已撤回，不能归档。")})
        if doc.step not in (Document.Step.DONE, Document.Step.ARCHIVED) and doc.done_at is None:
            raise ValidationError({"step": _("公文尚未办结，不能归档。")})
        if doc.direction == Document.Direction.OUTGOING and not doc.seal_id:
            raise ValidationError({"seal": _("发文尚未用印，不能归档。")})
        data = document_archive_zip(doc, at=now)
        stem = doc.number or doc.title
        package = DocumentFile(
            document=doc,
            kind=DocumentFile.Kind.ARCHIVE,
            original_name=_safe_name(f"{stem}-归档.zip")[:200],
            content_type="application/zip",
            size=len(data),
            sm3=crypto.sm3_hex(data),
            uploaded_by=getattr(actor, "account", None),
        )
        package.file.save(f"{secrets.token_hex(16)}.zip", ContentFile(data), save=False)
        package.save()
        doc.archived_at = now
        doc.save(update_fields=["archived_at"])
        audit_record(
            actor=actor,
            action="collab.document.archive_package",
            object_type="collab_document",
            object_id=str(doc.public_id),
            after={"number": doc.number, "archive_sm3": package.sm3, "size": package.size},
        )
    document.archived_at = now
    return package
