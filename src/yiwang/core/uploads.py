"""Upload checks for every stored file the platform accepts: application materials, opinion attachments and
incident photos (the models keep them through `core.models.attachments.Attachment`).

The type is decided by the file's first bytes (magic numbers), never by the client's content type or the
file name: a PNG renamed .pdf is a PNG, an .exe renamed .pdf is refused. OFD (GB/T 33190, the national
electronic document format) is a ZIP container whose root holds OFD.xml.

Then the content must be what it claims, decoded by maintained parsers: images are decoded in full by Pillow
(truncated files, polyglots and decompression bombs are refused) and PDFs are parsed by pypdf and refused when
they carry active content — scripts, launch/submit/import actions, embedded files, rich media or XFA forms —
anywhere reachable from the document catalogue.
"""

from __future__ import annotations

import io
import uuid
import warnings
import zipfile
from collections.abc import Iterable

import pypdf
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image

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
    "stored_name",
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
MAX_IMAGE_PIXELS = 40_000_000  # a 40-megapixel photo; larger images are refused before decoding
MAX_PDF_OBJECTS = 200_000  # a walk bound: nothing legitimate of 10 MiB reaches it

# PDF names and action types that make a document do something when opened or clicked, other than
# showing itself or following an ordinary link.
_PDF_ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia", "/XFA"})
_PDF_ACTIVE_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/GoToR",
        "/GoToE",
        "/RichMediaExecute",
        "/Rendition",
        "/Sound",
        "/Movie",
    }
)


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


def stored_name(content_type: str) -> str:
    """A random file name with the extension of the detected type: the client's name is only ever shown, never
    used as a path, and no two uploads share a name."""
    return f"{uuid.uuid4().hex}.{EXTENSIONS[content_type]}"


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
    if content_type in (JPEG, PNG):
        _check_image(data, content_type, name)
    elif content_type == PDF:
        _check_pdf(data, name)
    return content_type, crypto.sm3_hex(data)


def _not_what_it_claims(name: str, label: str) -> ValidationError:
    return ValidationError(
        _("文件“%(name)s”不是有效的 %(type)s 文件（内容损坏或与格式不符），请重新导出后上传。")
        % {"name": name, "type": label},
        code="corrupt",
    )


def _check_image(data: bytes, content_type: str, name: str) -> None:
    """Decodes every pixel; the decoded format must be the sniffed one."""
    expected = "JPEG" if content_type == JPEG else "PNG"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != expected:
                    raise _not_what_it_claims(name, expected)
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ValidationError(
                        _("图片“%(name)s”的像素过多（%(w)s×%(h)s），请缩小后上传。")
                        % {"name": name, "w": width, "h": height},
                        code="too_large",
                    )
                image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            _("图片“%(name)s”的像素过多，请缩小后上传。") % {"name": name}, code="too_large"
        ) from None
    except Exception:  # Pillow raises many kinds for broken data: each means "not a real image"
        raise _not_what_it_claims(name, expected) from None


def _check_pdf(data: bytes, name: str) -> None:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ValidationError(
                _("文件“%(name)s”设有打开口令，请去除口令后上传。") % {"name": name}, code="encrypted"
            )
        active = _pdf_active_content(reader.trailer)
    except ValidationError:
        raise
    except Exception:  # pypdf's errors for a broken document, recursion in a malicious one
        raise _not_what_it_claims(name, "PDF") from None
    if active:
        raise ValidationError(
            _("文件“%(name)s”含有脚本、自动动作或嵌入文件等活动内容（%(what)s），请另存为普通 PDF 后上传。")
            % {"name": name, "what": active},
            code="active_content",
        )


def _pdf_active_content(trailer) -> str:
    """The first active-content marker reachable from the trailer, or "" — an iterative walk, bounded."""
    seen: set[tuple[int, int]] = set()
    stack = [trailer]
    visited = 0
    while stack:
        node = stack.pop()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise ValueError("PDF object graph too large")
        if isinstance(node, pypdf.generic.IndirectObject):
            ref = (node.idnum, node.generation)
            if ref in seen:
                continue
            seen.add(ref)
            node = node.get_object()
        if isinstance(node, pypdf.generic.DictionaryObject):
            for key in node:
                if key in _PDF_ACTIVE_KEYS:
                    return str(key)
            action = node.get("/S")
            if action in _PDF_ACTIVE_ACTIONS:
                return str(action)
            stack.extend(value for key, value in node.items() if key != "/Parent")
        elif isinstance(node, pypdf.generic.ArrayObject):
            stack.extend(node)
    return ""
