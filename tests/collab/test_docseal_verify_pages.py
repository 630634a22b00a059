"""The public 公文 verification pages (/collab/verify/, /collab/verify/<code>/): no login, the result and the
public facts only, an unknown code like an invalid one, PDF comparison, upload checks, the rate limit."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from tests.collab.test_docseal_helpers import sealed_world
from yiwang.collab.models.documents import Document

URL = "/collab/verify/"


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


def test_urls_are_named():
    assert reverse("collab:document_verify") == URL
    assert reverse("collab:document_verify_code", args=["ABCD"]) == "/collab/verify/ABCD/"


def test_form_page_is_public(client, db):
    response = client.get(URL)
    assert response.status_code == 200 and 'name="code"' in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_qr_link_shows_the_public_facts(client, db_sw, django_assert_max_num_queries):
    w = db_sw
    with django_assert_max_num_queries(8):
        response = client.get(reverse("collab:document_verify_code", args=[w.doc.verify_code]))
    html = response.content.decode()
    assert response.status_code == 200 and 'data-result="valid"' in html
    for fact in (w.doc.number, w.doc.title, w.d_office.name, w.seal.name):
        assert fact in html
    # nothing else: no body text, no signer, no public id
    assert "一网协同”工作" not in html and w.leader.name not in html and str(w.doc.public_id) not in html


def test_lookup_by_typed_code(client, db_sw):
    w = db_sw
    typed = "-".join(w.doc.verify_code[i : i + 4] for i in range(0, 24, 4)).lower()
    html = client.get(URL, {"code": typed}).content.decode()
    assert 'data-result="valid"' in html


def test_unknown_code_looks_like_an_invalid_one(client, db_sw):
    w = db_sw
    unknown = client.get(reverse("collab:document_verify_code", args=["A" * 24]))
    Document.objects.filter(pk=w.doc.pk).update(title="篡改")
    broken = client.get(reverse("collab:document_verify_code", args=[w.doc.verify_code]))
    assert unknown.status_code == broken.status_code == 200
    for response in (unknown, broken):
        html = response.content.decode()
        assert 'data-result="invalid"' in html and 'data-field="number"' not in html


def test_pdf_upload_match_and_mismatch(client, db_sw):
    w = db_sw
    same = client.post(
        URL, {"code": w.doc.verify_code, "pdf": SimpleUploadedFile("a.pdf", w.pdf, "application/pdf")}
    )
    assert same.status_code == 200 and 'data-pdf="match"' in same.content.decode()
    changed = w.pdf.replace(b"/Author", b"/Authos", 1)
    other = client.post(
        URL, {"code": w.doc.verify_code, "pdf": SimpleUploadedFile("a.pdf", changed, "application/pdf")}
    )
    assert 'data-pdf="mismatch"' in other.content.decode()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"code": ""}, "code"),
        (
            {"code": "ABCD", "pdf": SimpleUploadedFile("x.pdf", b"\x89PNG\r\n\x1a\n....", "application/pdf")},
            "pdf",
        ),
        ({"code": "ABCD", "pdf": SimpleUploadedFile("x.pdf", b"", "application/pdf")}, "pdf"),
    ],
    ids=["no-code", "png-as-pdf", "empty"],
)
def test_upload_checks(client, db, data, error):
    response = client.post(URL, data)
    assert response.status_code == 400 and f'data-error="{error}"' in response.content.decode()


def test_too_large_upload_is_refused(client, db, settings):
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "application/pdf")
    response = client.post(URL, {"code": "ABCD", "pdf": big})
    assert response.status_code == 400 and 'data-error="pdf"' in response.content.decode()


def test_rate_limited_per_client(client, db, settings):
    settings.YIWANG_RATE_LIMITS = {"document_verify": "3/minute"}
    for _n in range(3):
        assert client.get(reverse("collab:document_verify_code", args=["A" * 24])).status_code == 200
    over = client.get(URL, {"code": "A" * 24})
    assert over.status_code == 429 and int(over["Retry-After"]) > 0
    assert client.get(URL, {"code": "A" * 24}, REMOTE_ADDR="10.9.9.9").status_code == 200
