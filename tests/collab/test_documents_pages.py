"""Pages /collab/documents/: the lists, 拟稿 and 收文登记 forms, the detail page with its action forms, the lock
indicator (HTMX), the version diff, downloads; forbidden paths answer 404/403."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.collab.documents_world import documents_world, draft, received, to_step
from yiwang.collab.models.documents import Document

S = Document.Step
pytestmark = pytest.mark.django_db


def _pdf() -> bytes:
    import io

    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer)
    sheet.drawString(72, 720, "attachment")
    sheet.save()
    return buffer.getvalue()


@pytest.fixture
def w(clock):
    return documents_world()


def _login(client, staff):
    client.logout()
    client.force_login(staff.account)
    return client


def _url(doc, suffix=""):
    return f"/collab/documents/{doc.public_id}/{suffix}"


def test_draft_form_creates_and_refuses_secret(client, w):
    _login(client, w.scj_approver)
    page = client.get("/collab/documents/new/")
    assert page.status_code == 200 and "非涉密" in page.content.decode()
    bad = client.post(
        "/collab/documents/new/",
        {
            "title": "【秘密】某事项",
            "kind": "notice",
            "urgency": "normal",
            "confidentiality": "1",
            "body": "x",
        },
    )
    assert bad.status_code == 422 and "非涉密" in bad.content.decode()
    ok = client.post(
        "/collab/documents/new/",
        {
            "title": "关于年报工作的通知",
            "kind": "notice",
            "urgency": "urgent",
            "confidentiality": "1",
            "recipients": ["MZJ"],
            "countersign": ["ZSJ"],
            "body": "各单位：请按时年报。",
        },
    )
    doc = Document.objects.get()
    assert ok.status_code == 302 and ok["Location"] == _url(doc)
    detail = client.get(_url(doc)).content.decode()
    assert "请按时年报" in detail and 'data-action="send_check"' in detail and 'data-action="lock"' in detail
    listing = client.get("/collab/documents/?direction=outgoing").content.decode()
    assert "关于年报工作的通知" in listing


def test_lock_edit_and_diff(client, w):
    doc = draft(w)
    _login(client, w.scj_approver)
    response = client.post(_url(doc, "lock/"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-locked="me"' in response.content.decode()
    page = client.get(_url(doc)).content.decode()
    assert 'data-testid="edit-form"' in page
    saved = client.post(_url(doc, "edit/"), {"title": doc.title, "body": "新的正文\n第二行", "note": "改写"})
    assert saved.status_code == 302
    doc.refresh_from_db()
    assert doc.current_version == 2
    diff = client.get(_url(doc) + "?a=1&b=2", HTTP_HX_REQUEST="true").content.decode()
    assert "<ins>+新的正文</ins>" in diff
    # a colleague sees who holds the lock and cannot take it
    from tests.factories import staff_with_roles
    from yiwang.core.permissions import Role

    _login(client, staff_with_roles(Role.APPROVER, department=w.d_scj))
    other = client.post(_url(doc, "lock/"), HTTP_HX_REQUEST="true")
    assert other.status_code == 409 and w.scj_approver.name in other.content.decode()
    assert 'data-locked="other"' in client.get(_url(doc)).content.decode()


def test_step_forms_walk_the_document(client, w):
    doc = to_step(w, draft(w), S.CHECK)
    _login(client, w.scj_head)
    page = client.get(_url(doc)).content.decode()
    assert 'data-action="check-pass"' in page
    refused = client.post(_url(doc, "act/"), {"action": "check", "agree": "0", "opinion": ""})
    assert refused.status_code == 422 and "退回修改时请填写意见" in refused.content.decode()
    assert client.post(_url(doc, "act/"), {"action": "check", "agree": "1"}).status_code == 302
    doc.refresh_from_db()
    assert doc.step == S.COUNTERSIGN
    # a step not offered: a message, nothing moves
    response = client.post(_url(doc, "act/"), {"action": "sign_off"}, follow=True)
    assert "公文当前环节" in response.content.decode()
    _login(client, w.mzj_head)
    assert 'data-action="countersign-agree"' in client.get(_url(doc)).content.decode()
    client.post(_url(doc, "act/"), {"action": "countersign", "agree": "1", "opinion": "同意"})
    doc.refresh_from_db()
    assert doc.step == S.SIGN_OFF
    forbidden = client.post(_url(doc, "act/"), {"action": "sign_off"}, follow=True)
    assert "签发须由发文单位负责人或区领导办理" in forbidden.content.decode()
    doc.refresh_from_db()
    assert doc.step == S.SIGN_OFF


def test_incoming_forms(client, w):
    _login(client, w.office)
    page = client.post(
        "/collab/documents/receive/",
        {
            "title": "关于防汛的通知",
            "origin": "市应急管理局",
            "kind": "notice",
            "urgency": "normal",
            "confidentiality": "1",
        },
    )
    doc = Document.objects.get(direction="incoming")
    assert page.status_code == 302
    detail = client.get(_url(doc)).content.decode()
    assert 'data-action="propose"' in detail and "示范区市场监督管理局" in detail
    client.post(
        _url(doc, "act/"),
        {"action": "propose", "lead": "SCJ", "co": ["MZJ"], "co_sent": "1", "due_days": "3"},
    )
    doc.refresh_from_db()
    assert doc.step == S.INSTRUCT
    _login(client, w.leader)
    client.post(_url(doc, "act/"), {"action": "instruct", "co_sent": "1", "opinion": "同意"})
    doc.refresh_from_db()
    assert (
        doc.step == S.HANDLE
        and list(doc.parties.filter(role="co").values_list("department__code", flat=True)) == []
    )
    _login(client, w.scj_head)
    client.post(_url(doc, "act/"), {"action": "handle", "opinion": "已办"})
    doc.refresh_from_db()
    assert doc.step == S.DONE
    # only registrars open 收文登记
    assert client.get("/collab/documents/receive/").status_code == 403


def test_forbidden_and_unknown(client, w):
    doc = draft(w, countersign=[], recipients=[])
    _login(client, w.mzj_head)
    assert client.get(_url(doc)).status_code == 404
    assert client.post(_url(doc, "act/"), {"action": "send_check"}).status_code == 404
    assert client.get(f"/collab/documents/{uuid.uuid4()}/").status_code == 404
    client.logout()
    assert client.get("/collab/documents/").status_code == 302


def test_attachment_upload_and_downloads(client, w):
    doc = draft(w)
    _login(client, w.scj_approver)
    client.post(
        _url(doc, "attach/"),
        {"file": SimpleUploadedFile("附件一.pdf", _pdf(), content_type="application/pdf")},
    )
    item = doc.files.get()
    assert item.original_name == "附件一.pdf"
    download = client.get(_url(doc, f"files/{item.public_id}/"))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    bad = client.post(
        _url(doc, "attach/"),
        {"file": SimpleUploadedFile("x.pdf", b"not a pdf", content_type="application/pdf")},
        follow=True,
    )
    assert "格式不受支持" in bad.content.decode() and doc.files.count() == 1
    to_step(w, doc, S.DISTRIBUTE)
    sealed = doc.files.get(kind="sealed")
    _login(client, w.office)
    response = client.get(_url(doc, f"files/{sealed.public_id}/"))
    assert response.status_code == 200
    _login(client, w.town_heads[1])
    assert client.get(_url(doc, f"files/{sealed.public_id}/")).status_code == 404


def test_list_bounded_queries(client, w, django_assert_max_num_queries):
    for n in range(6):
        received(w, title=f"来文{n}")
    _login(client, w.office)
    with django_assert_max_num_queries(14):
        page = client.get("/collab/documents/?direction=incoming")
    assert page.status_code == 200 and page.content.decode().count("data-document=") == 6
    doc = Document.objects.first()
    with django_assert_max_num_queries(20):
        assert client.get(_url(doc)).status_code == 200
