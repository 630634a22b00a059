"""POST /api/collab/verify: public, the same answer for unknown and broken codes, PDF comparison, 422 for bad
input, 429 problem+json with Retry-After over the limit."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from tests.collab.test_docseal_helpers import sealed_world
from yiwang.collab.models.documents import Document

API = "/api/collab/verify"


@pytest.fixture(scope="module")
def sw(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.conf import settings

    media, settings.MEDIA_ROOT = settings.MEDIA_ROOT, str(tmp_path_factory.mktemp("media"))
    with django_db_blocker.unblock():
        with transaction.atomic():
            yield sealed_world()
            transaction.set_rollback(True)
    settings.MEDIA_ROOT = media


@pytest.fixture
def db_sw(sw, db):
    return sw


def test_valid_document(client, db_sw, django_assert_max_num_queries):
    w = db_sw
    with django_assert_max_num_queries(6):
        response = client.post(API, {"code": w.doc.verify_code})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["result"] == "valid" and body["valid"] is True
    assert body["number"] == w.doc.number and body["title"] == w.doc.title
    assert body["department"] == w.d_office.name
    assert body["seal"] == {"name": w.seal.name, "status": "active", "status_label": "有效"}
    assert body["pdf_checked"] is False and body["pdf_matches"] is None
    assert set(body) == {
        "result",
        "result_label",
        "valid",
        "seal",
        "number",
        "title",
        "department",
        "signed_on",
        "sealed_on",
        "pdf_checked",
        "pdf_matches",
    }


def test_unknown_code_same_answer_as_broken(client, db_sw):
    w = db_sw
    unknown = client.post(API, {"code": "B" * 24})
    Document.objects.filter(pk=w.doc.pk).update(main_to="别处")
    broken = client.post(API, {"code": w.doc.verify_code})
    assert unknown.status_code == broken.status_code == 200
    assert unknown.json() == broken.json()
    assert unknown.json()["result"] == "invalid" and unknown.json()["number"] == ""


def test_pdf_comparison(client, db_sw):
    w = db_sw
    ok = client.post(
        API, {"code": w.doc.verify_code, "pdf": SimpleUploadedFile("d.pdf", w.pdf, "application/pdf")}
    )
    assert ok.json()["pdf_matches"] is True
    tampered = w.pdf[:-20] + b"%% appended %%\n%%EOF\n"
    bad = client.post(
        API, {"code": w.doc.verify_code, "pdf": SimpleUploadedFile("d.pdf", tampered, "application/pdf")}
    )
    assert bad.json()["pdf_checked"] is True and bad.json()["pdf_matches"] is False


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "code"),
        ({"code": "  -- "}, "code"),
        ({"code": "ABCD", "pdf": SimpleUploadedFile("x.pdf", b"GIF89a...", "application/pdf")}, "pdf"),
    ],
    ids=["missing", "blank", "not-pdf"],
)
def test_invalid_input_is_422(client, db, data, field):
    response = client.post(API, data)
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in str(response.json())


def test_rate_limit_429(client, db, settings):
    settings.YIWANG_RATE_LIMITS = {"document_verify": "2/minute"}
    for _n in range(2):
        assert client.post(API, {"code": "C" * 24}).status_code == 200
    over = client.post(API, {"code": "C" * 24})
    assert over.status_code == 429 and int(over["Retry-After"]) > 0
    assert over["Content-Type"].startswith("application/problem+json")


def test_english_field_message(client, db):
    response = client.post(API, {}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422 and "Enter the verification code" in str(response.json())
