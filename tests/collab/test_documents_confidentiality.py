"""Confidentiality: a document above every one of the caller's roles' maxima is invisible on every channel (list,
detail page, API, workbench); secret marks are refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from tests.collab.documents_world import documents_world, received
from tests.collab.world import principal
from yiwang.collab.models.documents import Confidentiality, Document, RoleClearance
from yiwang.collab.selectors.documents import document_clearance, document_get_visible, document_list
from yiwang.collab.services import document_flow as flow
from yiwang.collab.services import documents as svc
from yiwang.collab.workbench_documents import DocumentsSource
from yiwang.core.permissions import Role
from yiwang.core.workbench import TodoQuery

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(clock):
    return documents_world()


def test_default_clearances(w):
    assert document_clearance(principal(w.scj_approver)) == Confidentiality.INTERNAL
    assert document_clearance(principal(w.scj_head)) == Confidentiality.RESTRICTED
    assert document_clearance(principal(w.office)) == Confidentiality.RESTRICTED
    assert document_clearance(principal(w.leader)) == Confidentiality.RESTRICTED
    RoleClearance.objects.create(role=Role.APPROVER, max_level=Confidentiality.PUBLIC)
    assert document_clearance(principal(w.scj_approver)) == Confidentiality.PUBLIC


def test_above_the_role_maximum_is_invisible_everywhere(w, client):
    doc = svc.document_draft(
        actor=principal(w.scj_head),
        title="关于人事调整的请示",
        body="正文",
        confidentiality=Confidentiality.RESTRICTED,
    )
    svc.document_send_check(actor=principal(w.scj_head), document=doc)  # held by SCJ at 核稿
    head, approver = principal(w.scj_head), principal(w.scj_approver)
    assert document_get_visible(head, doc.public_id) == doc
    with pytest.raises(Http404):
        document_get_visible(approver, doc.public_id)
    assert [d.pk for d in document_list(head, direction="outgoing").items] == [doc.pk]
    assert document_list(approver, direction="outgoing").items == []
    # the workbench: the head has it to check, nobody below the level sees it
    assert [i.key for i in DocumentsSource().items(head, TodoQuery())] == [str(doc.public_id)]
    RoleClearance.objects.create(role=Role.DEPARTMENT_HEAD, max_level=Confidentiality.INTERNAL)
    head = principal(w.scj_head)
    assert DocumentsSource().items(head, TodoQuery()) == []
    assert DocumentsSource().count(head) == 0
    with pytest.raises(Http404):
        document_get_visible(head, doc.public_id)
    # pages and API answer 404, as for an unknown id
    client.force_login(w.scj_approver.account)
    assert client.get(f"/collab/documents/{doc.public_id}/").status_code == 404
    assert client.get(f"/api/collab/documents/{doc.public_id}").status_code == 404
    listing = client.get("/api/collab/documents?direction=outgoing").json()
    assert listing["items"] == []
    page = client.get("/collab/documents/?direction=outgoing")
    assert doc.title not in page.content.decode()


def test_raising_the_clearance_makes_it_visible(w):
    doc = svc.document_draft(
        actor=principal(w.scj_head),
        title="敏感事项的报告",
        body="正文",
        confidentiality=Confidentiality.RESTRICTED,
    )
    RoleClearance.objects.create(role=Role.APPROVER, max_level=Confidentiality.RESTRICTED)
    assert document_get_visible(principal(w.scj_approver), doc.public_id) == doc


@pytest.mark.parametrize(
    "title",
    [
        "【秘密】关于某事项的通知",
        "机密★1年 关于某事项的通知",
        "关于某事项的通知★",
        "绝密 某事项",
        "[机密]某事项",
        "（秘密）某事项",
    ],
)
def test_secret_titles_are_refused(w, title):
    with pytest.raises(ValidationError) as err:
        svc.document_draft(actor=principal(w.scj_approver), title=title, body="正文")
    assert "非涉密" in str(err.value)
    with pytest.raises(ValidationError):
        received(w, title=title)
    assert not Document.objects.exists()


@pytest.mark.parametrize("value", ["秘密", "机密", "绝密", "secret", "top_secret", 3, 9, "3"])
def test_secret_values_are_refused(w, value):
    with pytest.raises(ValidationError) as err:
        svc.document_draft(
            actor=principal(w.scj_approver), title="普通通知", body="正文", confidentiality=value
        )
    assert "confidentiality" in err.value.message_dict and "非涉密" in str(err.value)


def test_secret_mark_in_the_body_head_is_refused_and_plain_words_are_not(w):
    with pytest.raises(ValidationError):
        svc.document_draft(actor=principal(w.scj_approver), title="通知", body="秘密★6个月\n各单位：")
    ok = svc.document_draft(
        actor=principal(w.scj_approver), title="关于保守工作秘密的通知", body="要求各单位保守工作秘密。"
    )
    assert ok.pk
    with pytest.raises(ValidationError):
        svc.document_draft(actor=principal(w.scj_approver), title="通知", confidentiality=-1)
    with pytest.raises(ValidationError):
        svc.document_draft(actor=principal(w.scj_approver), title="通知", confidentiality="whatever")
    assert svc.confidentiality_parse("public") == 0 and svc.confidentiality_parse("敏感") == 2


def test_incoming_above_clearance_hidden_from_handlers(w):
    doc = received(w, confidentiality=Confidentiality.RESTRICTED)
    flow.document_propose(actor=principal(w.office), document=doc, lead=w.d_scj, due_days=3)
    flow.document_instruct(actor=principal(w.leader), document=doc)
    assert DocumentsSource().items(principal(w.scj_approver), TodoQuery()) == []
    assert [i.action for i in DocumentsSource().items(principal(w.scj_head), TodoQuery())] == ["承办"]
