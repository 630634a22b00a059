"""Versions under the 30-minute edit lock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from tests.collab.documents_world import documents_world, draft, to_step
from tests.collab.world import principal
from tests.factories import staff_with_roles
from yiwang.collab.document_workflow import DocumentConflict
from yiwang.collab.models.documents import Document
from yiwang.collab.services import documents as svc
from yiwang.core.crypto import sm3_hex
from yiwang.core.permissions import Role

S = Document.Step
pytestmark = pytest.mark.django_db


@pytest.fixture
def w(clock):
    w = documents_world()
    w.clock = clock
    w.scj_colleague = staff_with_roles(Role.APPROVER, department=w.d_scj, username="scjcolleague")
    return w


def test_edit_needs_the_lock_and_makes_a_version(w):
    doc = draft(w)
    with pytest.raises(svc.DocumentLocked):
        svc.document_edit(actor=principal(w.scj_approver), document=doc, body="新正文")
    svc.document_lock(actor=principal(w.scj_approver), document=doc)
    svc.document_edit(actor=principal(w.scj_approver), document=doc, body="新正文\n第二段", note="补充")
    doc.refresh_from_db()
    assert doc.current_version == 2
    v2 = doc.versions.get(number=2)
    assert v2.body_sm3 == sm3_hex("新正文\n第二段".encode()) and v2.note == "补充"
    # saving the same text again makes no new version
    svc.document_edit(actor=principal(w.scj_approver), document=doc, body="新正文\n第二段")
    doc.refresh_from_db()
    assert doc.current_version == 2


def test_a_second_editor_is_refused_with_who_holds_it(w):
    doc = draft(w)
    svc.document_lock(actor=principal(w.scj_approver), document=doc)
    with pytest.raises(svc.DocumentLocked) as err:
        svc.document_lock(actor=principal(w.scj_colleague), document=doc)
    assert w.scj_approver.name in str(err.value)
    with pytest.raises(svc.DocumentLocked):
        svc.document_edit(actor=principal(w.scj_colleague), document=doc, body="抢改")
    with pytest.raises(svc.DocumentLocked):
        svc.document_unlock(actor=principal(w.scj_colleague), document=doc)
    svc.document_unlock(actor=principal(w.scj_approver), document=doc)
    svc.document_lock(actor=principal(w.scj_colleague), document=doc)
    doc.refresh_from_db()
    assert doc.locked_by == w.scj_colleague


def test_the_lock_expires_after_30_minutes(w):
    doc = draft(w)
    svc.document_lock(actor=principal(w.scj_approver), document=doc)
    w.clock.moment += timedelta(minutes=29)
    with pytest.raises(svc.DocumentLocked):
        svc.document_lock(actor=principal(w.scj_colleague), document=doc)
    w.clock.moment += timedelta(minutes=2)
    svc.document_lock(actor=principal(w.scj_colleague), document=doc)
    with pytest.raises(svc.DocumentLocked):  # the first editor's lock is gone
        svc.document_edit(actor=principal(w.scj_approver), document=doc, body="过期后保存")


def test_other_departments_and_later_steps_cannot_edit(w):
    doc = draft(w)
    with pytest.raises(PermissionDenied):
        svc.document_lock(actor=principal(w.mzj_head), document=doc)
    to_step(w, doc, S.CHECK)
    with pytest.raises(PermissionDenied):  # at 核稿 only the head edits
        svc.document_lock(actor=principal(w.scj_approver), document=doc)
    svc.document_lock(actor=principal(w.scj_head), document=doc)
    svc.document_edit(actor=principal(w.scj_head), document=doc, title="关于做好年报工作的通知（修改）")
    svc.document_check(actor=principal(w.scj_head), document=doc, approve=True)
    doc.refresh_from_db()
    assert doc.locked_by is None and doc.title.endswith("（修改）")
    with pytest.raises(DocumentConflict):
        svc.document_lock(actor=principal(w.scj_head), document=doc)


def test_an_edit_cannot_bring_in_a_secret_mark(w):
    from django.core.exceptions import ValidationError

    doc = draft(w)
    svc.document_lock(actor=principal(w.scj_approver), document=doc)
    with pytest.raises(ValidationError):
        svc.document_edit(actor=principal(w.scj_approver), document=doc, title="【秘密】年报工作")
    with pytest.raises(ValidationError):
        svc.document_edit(actor=principal(w.scj_approver), document=doc, confidentiality="机密")
    doc.refresh_from_db()
    assert doc.current_version == 1
