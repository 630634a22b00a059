"""Upload checks: type by magic bytes (not name or client content type), size limit, SM3 digest."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile

from yiwang.cases.uploads import JPEG, MAX_UPLOAD_BYTES, OFD, PDF, PNG, validate_upload
from yiwang.core import crypto

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
