"""Upload checks for application materials and opinion attachments.

The type is decided by the file's first bytes (magic numbers), never by the client's content type or the
file name: a PNG renamed .pdf is a PNG, an .exe renamed .pdf is refused. OFD (GB/T 33190, the national
electronic document format) is a ZIP container whose root holds OFD.xml.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from yiwang.core import crypto

__all__ = [
    "MAX_UPLOAD_BYTES",
    "PDF",
    "JPEG",
    "PNG",
    "OFD",
    "ALLOWED_TYPES",
    "EXTENSIONS",
    "TYPE_LABELS",
    "sniff_content_type",
    "validate_upload",
]

MAX_UPLOAD_BYTES = 10 * 1024 * 1024

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
OFD = "application/ofd"
ALLOWED_TYPES = frozenset({PDF, JPEG, PNG, OFD})
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png", OFD: "ofd"}
TYPE_LABELS = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG", OFD: "OFD"}

_CHUNK = 64 * 1024


def sniff_content_type(head: bytes, data: bytes | None = None) -> str | None:
    """The content type from the leading bytes (and, for a ZIP, the whole data to look for OFD.xml)."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"PK\x03\x04") and data is not None:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = {name.lstrip("/").lower() for name in archive.namelist()}
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "ofd.xml" in names:
            return OFD
    return None


def _read_bounded(upload, limit: int) -> bytes:
    """At most limit + 1 bytes of the upload (enough to tell that it is too big), from its start."""
    if hasattr(upload, "seek"):
        upload.seek(0)
    buffer = bytearray()
    chunks = upload.chunks(_CHUNK) if hasattr(upload, "chunks") else iter(lambda: upload.read(_CHUNK), b"")
    for chunk in chunks:
        buffer += chunk
        if len(buffer) > limit:
            break
    if hasattr(upload, "seek"):
        upload.seek(0)
    return bytes(buffer)


def validate_upload(upload, *, allowed: Iterable[str] | None = None) -> tuple[str, str]:
    """(content_type, sm3 hex) of an acceptable upload; ValidationError with a Chinese message otherwise.

    Refused: empty files, files over 10 MiB, and anything that is not PDF, JPEG, PNG or OFD by content (or
    not among `allowed`, when a material accepts fewer types)."""
    allowed_types = ALLOWED_TYPES if allowed is None else frozenset(allowed) & ALLOWED_TYPES
    name = getattr(upload, "name", "") or _("文件")
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("文件“%(name)s”超过 10 MB，请压缩或拆分后上传。") % {"name": name}, code="too_large"
        )
    data = _read_bounded(upload, MAX_UPLOAD_BYTES)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("文件“%(name)s”超过 10 MB，请压缩或拆分后上传。") % {"name": name}, code="too_large"
        )
    if not data:
        raise ValidationError(_("文件“%(name)s”是空文件。") % {"name": name}, code="empty")
    content_type = sniff_content_type(data[:16], data)
    if content_type is None or content_type not in allowed_types:
        labels = "、".join(TYPE_LABELS[t] for t in sorted(allowed_types, key=lambda t: TYPE_LABELS[t]))
        raise ValidationError(
            _("文件“%(name)s”的格式不受支持，仅接受 %(types)s 文件（按文件内容识别，与扩展名无关）。")
            % {"name": name, "types": labels},
            code="type",
        )
    return content_type, crypto.sm3_hex(data)
