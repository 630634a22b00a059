"""发文: 拟稿 → 核稿 → 会签 → 签发 → 编号 → 用印 → 分发 → 办结 → 归档, through the services."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.collab.documents_world import documents_world, draft, to_step
from tests.collab.world import principal
from yiwang.collab.document_workflow import DocumentConflict
from yiwang.collab.models.documents import Document, DocumentFile, DocumentParty, DocumentStep
from yiwang.collab.services import documents as svc
from yiwang.core.models import AuditEntry, Notification

S = Document.Step
pytestmark = pytest.mark.django_db


@pytest.fixture
def w(clock):
    return documents_world()


def test_draft_is_version_one_held_by_the_drafter(w):
    doc = draft(w)
    assert doc.direction == Document.Direction.OUTGOING
    assert doc.step == S.DRAFT and doc.holder == w.scj_approver and doc.department == w.d_scj
    assert doc.current_version == 1
    version = doc.versions.get()
    assert len(version.body_sm3) == 64 and version.title == doc.title
    roles = sorted(doc.parties.values_list("department__code", "role"))
    assert ("MZJ", "countersign") in roles and ("ZSJ", "recipient") in roles
    assert doc.trace.get().step == S.DRAFT
    assert AuditEntry.objects.filter(object_id=str(doc.public_id), action="collab.document.draft").exists()


def test_the_whole_outgoing_flow(w):
    doc = draft(w)
    svc.document_send_check(actor=principal(w.scj_approver), document=doc)
    assert doc.step == S.CHECK and doc.holder is None and doc.holder_department == w.d_scj
    assert Notification.objects.filter(recipient=w.scj_head.account).exists()
    svc.document_check(actor=principal(w.scj_head), document=doc, approve=True, opinion="同意")
    assert doc.step == S.COUNTERSIGN and doc.holder_department == w.d_mzj
    svc.document_countersign(actor=principal(w.mzj_head), document=doc, agree=True, opinion="无意见")
    assert doc.step == S.SIGN_OFF
    svc.document_sign_off(actor=principal(w.scj_head), document=doc, opinion="同意印发")
    assert doc.step == S.NUMBER and doc.signer == w.scj_head and doc.signed_at is not None
    svc.document_number(actor=principal(w.office), document=doc)
    assert doc.step == S.SEAL and doc.number == "示市监〔2026〕1号"
    svc.document_seal(actor=principal(w.office), document=doc)
    doc.refresh_from_db()
    assert doc.step == S.DISTRIBUTE and doc.seal == w.scj_seal and len(doc.verify_code) >= 16
    assert doc.files.filter(kind=DocumentFile.Kind.SEALED).count() == 1
    svc.document_distribute(actor=principal(w.office), document=doc)
    doc.refresh_from_db()
    assert doc.step == S.DONE and doc.done_at is not None
    incoming = list(Document.objects.filter(source=doc).order_by("department__code"))
    assert [d.department.code for d in incoming] == ["MZJ", "SFJD", "ZSJ"]
    first = incoming[0]
    assert first.direction == Document.Direction.INCOMING and first.step == S.SIGN_IN
    assert first.number == doc.number and first.origin == w.d_scj.name and first.holder_department == w.d_mzj
    assert first.versions.get().body == doc.versions.get().body
    party = doc.parties.get(department=w.d_mzj, role=DocumentParty.Role.RECIPIENT)
    assert party.status == DocumentParty.Status.DELIVERED and party.received == first
    package = svc.document_archive(actor=principal(w.office), document=doc)
    doc.refresh_from_db()
    assert (
        doc.step == S.ARCHIVED and doc.archived_at is not None and package.kind == DocumentFile.Kind.ARCHIVE
    )
    steps = list(DocumentStep.objects.filter(document=doc).values_list("step", flat=True))
    assert steps == [
        S.DRAFT,
        S.DRAFT,
        S.CHECK,
        S.COUNTERSIGN,
        S.SIGN_OFF,
        S.NUMBER,
        S.SEAL,
        S.DISTRIBUTE,
        S.ARCHIVED,
    ]


def test_numbers_count_per_department_and_year(w):
    a = to_step(w, draft(w, countersign=[]), S.SEAL)
    b = to_step(w, draft(w, countersign=[]), S.SEAL)
    assert (a.number, b.number) == ("示市监〔2026〕1号", "示市监〔2026〕2号")


def test_check_without_countersign_goes_to_sign_off(w):
    doc = to_step(w, draft(w, countersign=[]), S.CHECK)
    svc.document_check(actor=principal(w.scj_head), document=doc, approve=True)
    assert doc.step == S.SIGN_OFF


def test_check_return_goes_back_to_the_drafter_and_needs_an_opinion(w):
    doc = to_step(w, draft(w), S.CHECK)
    with pytest.raises(ValidationError):
        svc.document_check(actor=principal(w.scj_head), document=doc, approve=False, opinion="")
    svc.document_check(actor=principal(w.scj_head), document=doc, approve=False, opinion="请补充时间要求")
    assert doc.step == S.DRAFT and doc.holder == w.scj_approver


def test_a_disagreement_returns_the_draft_with_the_opinion(w):
    doc = to_step(w, draft(w, countersign=[w.d_mzj, w.d_zsj]), S.COUNTERSIGN)
    assert doc.holder_department is None
    zsj_head = _head(w, w.d_zsj)
    svc.document_countersign(actor=principal(zsj_head), document=doc, agree=True)
    assert doc.step == S.COUNTERSIGN
    svc.document_countersign(
        actor=principal(w.mzj_head), document=doc, agree=False, opinion="涉及民政数据，请删去第二条"
    )
    assert doc.step == S.DRAFT and doc.holder == w.scj_approver
    last = doc.trace.order_by("-at", "-pk").first()
    assert "请删去第二条" in last.opinion and last.department == w.d_mzj
    # sent again: every countersigner answers afresh
    to_step(w, doc, S.CHECK)
    svc.document_check(actor=principal(w.scj_head), document=doc, approve=True)
    assert set(doc.parties.filter(role="countersign").values_list("status", flat=True)) == {"pending"}


def test_a_countersigner_cannot_sign_off_nor_countersign_twice(w):
    doc = to_step(w, draft(w, countersign=[w.d_mzj, w.d_zsj]), S.COUNTERSIGN)
    svc.document_countersign(actor=principal(w.mzj_head), document=doc, agree=True)
    with pytest.raises(DocumentConflict):
        svc.document_countersign(actor=principal(w.mzj_head), document=doc, agree=True)
    svc.document_countersign(actor=principal(_head(w, w.d_zsj)), document=doc, agree=True)
    assert doc.step == S.SIGN_OFF
    with pytest.raises(PermissionDenied):
        svc.document_sign_off(actor=principal(w.mzj_head), document=doc)
    # a 区领导 may sign off any department's document
    svc.document_sign_off(actor=principal(w.leader), document=doc)
    assert doc.signer == w.leader


def test_only_heads_of_parties_countersign_and_only_registrars_number(w):
    doc = to_step(w, draft(w), S.COUNTERSIGN)
    with pytest.raises(PermissionDenied):
        svc.document_countersign(actor=principal(w.centre), document=doc, agree=True)
    with pytest.raises(PermissionDenied):
        svc.document_countersign(actor=principal(w.scj_head), document=doc, agree=True)
    to_step(w, doc, S.NUMBER)
    with pytest.raises(PermissionDenied):
        svc.document_number(actor=principal(w.scj_head), document=doc)
    with pytest.raises(PermissionDenied):
        svc.document_check(actor=principal(w.mzj_head), document=doc, approve=True)


def test_steps_out_of_order_are_conflicts(w):
    doc = draft(w)
    with pytest.raises(DocumentConflict):
        svc.document_sign_off(actor=principal(w.scj_head), document=doc)
    with pytest.raises(DocumentConflict):
        svc.document_number(actor=principal(w.office), document=doc)
    with pytest.raises(DocumentConflict):
        svc.document_archive(actor=principal(w.office), document=doc)


def test_no_seal_is_refused_and_nothing_moves(w):
    doc = svc.document_draft(
        actor=principal(w.mzj_head), title="关于低保复核的通知", body="正文", recipients=[w.d_scj]
    )
    to_step_mzj = [
        lambda: svc.document_send_check(actor=principal(w.mzj_head), document=doc),
        lambda: svc.document_check(actor=principal(w.mzj_head), document=doc, approve=True),
        lambda: svc.document_sign_off(actor=principal(w.mzj_head), document=doc),
        lambda: svc.document_number(actor=principal(w.office), document=doc),
    ]
    for move in to_step_mzj:
        move()
    assert doc.step == S.SEAL
    with pytest.raises(ValidationError):
        svc.document_seal(actor=principal(w.office), document=doc)
    doc.refresh_from_db()
    assert doc.step == S.SEAL and doc.seal_id is None


def test_withdraw_a_draft(w):
    doc = draft(w)
    svc.document_withdraw(actor=principal(w.scj_approver), document=doc)
    assert doc.step == S.WITHDRAWN
    with pytest.raises(PermissionDenied):
        svc.document_withdraw(actor=principal(w.mzj_head), document=draft(w))


def test_draft_validation(w):
    with pytest.raises(ValidationError) as err:
        svc.document_draft(actor=principal(w.scj_approver), title="  ")
    assert "title" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        svc.document_draft(actor=principal(w.scj_approver), title="通知", kind="poem")
    assert "kind" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        svc.document_draft(actor=principal(w.scj_approver), title="通知", recipients=[w.d_scj])
    assert "recipients" in err.value.message_dict


def _head(w, department):
    from tests.factories import staff_with_roles
    from yiwang.core.permissions import Role

    return staff_with_roles(Role.DEPARTMENT_HEAD, department=department)
