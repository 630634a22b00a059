"""Upload checks: type by magic bytes (not name or client content type), size limit, SM3 digest."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile

from tests.samples import pdf_bytes
from yiwang.core import crypto
from yiwang.core.uploads import JPEG, MAX_UPLOAD_BYTES, OFD, PDF, PNG, validate_upload

from .factories import EXE_BYTES, JPEG_BYTES, PDF_BYTES, PNG_BYTES, ofd_bytes, upload


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.pdf", PDF_BYTES, PDF),
        ("a.jpg", JPEG_BYTES, JPEG),
        ("a.png", PNG_BYTES, PNG),
        ("a.ofd", None, OFD),
        ("renamed.pdf", PNG_BYTES, PNG),  # a PNG renamed .pdf is a PNG
        ("noext", JPEG_BYTES, JPEG),
    ],
)
def test_allowed_types_by_content(name, content, expected):
    content = ofd_bytes() if content is None else content
    content_type, digest = validate_upload(upload(name, content, content_type="application/octet-stream"))
    assert content_type == expected
    assert digest == crypto.sm3_hex(content)


def test_png_renamed_pdf_only_if_png_is_allowed():
    assert validate_upload(upload("x.pdf", PNG_BYTES), allowed={PNG, PDF})[0] == PNG
    with pytest.raises(ValidationError) as exc:
        validate_upload(upload("x.pdf", PNG_BYTES), allowed={PDF})
    assert "仅接受 PDF 文件" in exc.value.messages[0]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.pdf", EXE_BYTES),  # an .exe renamed .pdf
        ("script.pdf", b"#!/bin/sh\nrm -rf /\n"),
        ("page.png", b"<html><script>alert(1)</script></html>"),
        ("archive.ofd", b"PK\x03\x04not really a zip"),
        ("other.zip", None),  # a real ZIP without OFD.xml
        ("fake.pdf", b" %PDF-1.7"),  # the signature must be at the very start
    ],
)
def test_refused_types(name, content):
    if content is None:
        buffer = io.BytesIO()
        import zipfile

        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("readme.txt", "hello")
        content = buffer.getvalue()
    with pytest.raises(ValidationError) as exc:
        validate_upload(upload(name, content, content_type="application/pdf"))
    assert exc.value.code == "type"
    assert "格式不受支持" in exc.value.messages[0] and name in exc.value.messages[0]


def test_too_large_is_refused_by_declared_size_and_by_content():
    big = PDF_BYTES + b"0" * (MAX_UPLOAD_BYTES + 1 - len(PDF_BYTES))
    with pytest.raises(ValidationError) as exc:
        validate_upload(upload("big.pdf", big))
    assert exc.value.code == "too_large" and "10 MB" in exc.value.messages[0]
    # A file object whose declared size lies is still measured.
    lying = InMemoryUploadedFile(io.BytesIO(big), "file", "small.pdf", "application/pdf", 10, None)
    with pytest.raises(ValidationError) as exc:
        validate_upload(lying)
    assert exc.value.code == "too_large"


def test_exactly_the_limit_passes():
    content = PDF_BYTES + b"0" * (MAX_UPLOAD_BYTES - len(PDF_BYTES))
    assert validate_upload(upload("max.pdf", content))[0] == PDF


def test_empty_file_is_refused():
    with pytest.raises(ValidationError) as exc:
        validate_upload(SimpleUploadedFile("empty.pdf", b""))
    assert exc.value.code == "empty"


def test_upload_is_rewound_for_storage():
    f = upload("a.pdf", PDF_BYTES)
    f.read(3)
    validate_upload(f)
    assert f.read() == PDF_BYTES


# --- content must be what it claims (Pillow decodes images, pypdf parses PDFs) --------------------------------
def _big_png(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("magic-only.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 60, "corrupt"),
        ("magic-only.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 60, "corrupt"),
        ("truncated.png", PNG_BYTES[: len(PNG_BYTES) // 2], "corrupt"),
        ("truncated.jpg", JPEG_BYTES[: len(JPEG_BYTES) // 2], "corrupt"),
        ("html-polyglot.png", PNG_BYTES[:8] + b"<script>alert(1)</script>", "corrupt"),
        ("magic-only.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "corrupt"),
        ("bomb.png", None, "too_large"),
    ],
)
def test_images_and_pdfs_that_are_not_what_they_claim_are_refused(name, content, code):
    content = _big_png(8000, 6000) if content is None else content
    with pytest.raises(ValidationError) as exc:
        validate_upload(upload(name, content))
    assert exc.value.code == code and name in exc.value.messages[0]


@pytest.mark.parametrize(
    ("catalog_extra", "objects", "marker"),
    [
        (b"/OpenAction 4 0 R", [b"<</S/JavaScript/JS(app.alert(1))>>"], "/JS"),
        (b"/OpenAction 4 0 R", [b"<</S/Launch/F(cmd.exe)>>"], "/Launch"),
        (
            b"/Names<</JavaScript 4 0 R>>",
            [b"<</Names[(a) 5 0 R]>>", b"<</S/JavaScript/JS(x)>>"],
            "/JavaScript",
        ),
        (b"/Names<</EmbeddedFiles 4 0 R>>", [b"<</Names[]>>"], "/EmbeddedFiles"),
        (b"/AcroForm<</Fields[]/XFA 4 0 R>>", [b"<<>>"], "/XFA"),
        (b"/AA<</O 4 0 R>>", [b"<</S/SubmitForm/F(http://x)>>"], "/SubmitForm"),
        # the same name written with a PDF hex escape (#61 = a) is still JavaScript
        (b"/OpenAction 4 0 R", [b"<</S/J#61vaScript>>"], "/JavaScript"),
    ],
)
def test_pdfs_with_active_content_are_refused(catalog_extra, objects, marker):
    content = pdf_bytes(*objects, catalog_extra=catalog_extra)
    with pytest.raises(ValidationError) as exc:
        validate_upload(upload("active.pdf", content))
    assert exc.value.code == "active_content" and marker in exc.value.messages[0]


def test_a_pdf_with_an_ordinary_link_and_a_go_to_open_action_is_accepted():
    content = pdf_bytes(
        b"<</S/URI/URI(https://zwfw.example.gov.cn/)>>", catalog_extra=b"/OpenAction[3 0 R/Fit]/URI 4 0 R"
    )
    assert validate_upload(upload("plain.pdf", content))[0] == PDF
