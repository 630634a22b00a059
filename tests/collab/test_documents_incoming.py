"""收文: 登记 (external) or 签收 → 登记 (distributed), 拟办 → 批办 → 承办 (lead + co) → 催办 → 办结 → 归档, and the
reminder sweep."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from tests.collab.documents_world import documents_world, draft, received, to_step
from tests.collab.world import principal
from yiwang.collab.document_workflow import DocumentConflict
from yiwang.collab.models.documents import Document, DocumentParty
from yiwang.collab.selectors.documents import document_get_visible
from yiwang.collab.services import document_flow as flow
from yiwang.collab.services import documents as svc
from yiwang.core.models import Notification

S = Document.Step
pytestmark = pytest.mark.django_db


@pytest.fixture
def w(clock):
    w = documents_world()
    w.clock = clock
    return w


def test_external_document_through_to_archive(w):
    doc = received(w)
    assert doc.direction == Document.Direction.INCOMING and doc.step == S.PROPOSE
    assert doc.department == w.d_office and doc.origin == "市人民政府办公室" and doc.current_version == 1
    flow.document_propose(actor=principal(w.office), document=doc, lead=w.d_scj, co=[w.d_mzj], due_days=5)
    assert doc.step == S.INSTRUCT and doc.due_on == date(2026, 3, 9)  # five working days from Monday 2 March
    assert Notification.objects.filter(recipient=w.leader.account).exists()
    flow.document_instruct(actor=principal(w.leader), document=doc, opinion="请市场监管局牵头落实")
    assert doc.step == S.HANDLE and doc.holder_department == w.d_scj
    assert Notification.objects.filter(recipient=w.scj_head.account, title__contains="待承办").exists()
    # the lead cannot close while a co-handler is pending
    with pytest.raises(ValidationError) as err:
        flow.document_handle(actor=principal(w.scj_head), document=doc, opinion="已部署检查")
    assert "民政局" in str(err.value)
    assert flow.document_urge(actor=principal(w.office), document=doc, opinion="本周内报送") >= 2
    flow.document_handle(actor=principal(w.mzj_head), document=doc, opinion="已配合检查养老机构")
    assert doc.step == S.HANDLE
    with pytest.raises(DocumentConflict):
        flow.document_handle(actor=principal(w.mzj_head), document=doc, opinion="again")
    flow.document_handle(actor=principal(w.scj_approver), document=doc, opinion="检查完成，报告附后")
    assert doc.step == S.DONE and doc.done_at is not None
    statuses = set(doc.parties.values_list("status", flat=True))
    assert statuses == {DocumentParty.Status.DONE}
    svc.document_archive(actor=principal(w.office), document=doc)
    doc.refresh_from_db()
    assert doc.step == S.ARCHIVED and doc.archived_at is not None
    trace = list(doc.trace.values_list("step", flat=True))
    assert trace[0] == S.REGISTER and S.PROPOSE in trace and S.INSTRUCT in trace and trace[-1] == S.ARCHIVED


def test_instruct_may_change_the_handlers_or_send_back(w):
    doc = received(w)
    flow.document_propose(actor=principal(w.office), document=doc, lead=w.d_scj, co=[w.d_mzj], due_days=3)
    with pytest.raises(ValidationError):
        flow.document_instruct(actor=principal(w.leader), document=doc, send_back=True)
    flow.document_instruct(actor=principal(w.leader), document=doc, send_back=True, opinion="请民政局牵头")
    assert doc.step == S.PROPOSE
    flow.document_propose(actor=principal(w.office), document=doc, lead=w.d_scj, due_days=3)
    flow.document_instruct(actor=principal(w.leader), document=doc, lead=w.d_mzj, co=[w.d_zsj], due_days=10)
    lead = doc.parties.get(role="lead")
    assert lead.department == w.d_mzj and doc.holder_department == w.d_mzj
    assert list(doc.parties.filter(role="co").values_list("department__code", flat=True)) == ["ZSJ"]
    assert doc.due_on == date(2026, 3, 16)


def test_only_the_office_proposes_and_only_heads_or_leaders_instruct(w):
    doc = received(w)
    with pytest.raises(PermissionDenied):
        flow.document_propose(actor=principal(w.scj_head), document=doc, lead=w.d_scj, due_days=3)
    flow.document_propose(actor=principal(w.office), document=doc, lead=w.d_scj, due_days=3)
    with pytest.raises(PermissionDenied):
        flow.document_instruct(actor=principal(w.office), document=doc)
    with pytest.raises(PermissionDenied):
        flow.document_receive(actor=principal(w.scj_head), title="来文", origin="市局")
    with pytest.raises(ValidationError):
        flow.document_propose(actor=principal(w.office), document=received(w), lead=None, due_days=3)
    with pytest.raises(ValidationError):
        flow.document_propose(actor=principal(w.office), document=received(w), lead=w.d_scj, due_days=500)


def test_distributed_document_is_signed_in_and_registered(w):
    out = to_step(w, draft(w), S.DONE)
    incoming = Document.objects.get(source=out, department=w.d_mzj)
    with pytest.raises(PermissionDenied):
        flow.document_sign_in(actor=principal(w.centre), document=incoming)
    with pytest.raises(Http404):
        document_get_visible(principal(w.town_heads[1]), incoming.public_id)
    flow.document_sign_in(actor=principal(w.mzj_head), document=incoming)
    assert incoming.step == S.REGISTER
    party = out.parties.get(department=w.d_mzj, role=DocumentParty.Role.RECIPIENT)
    assert party.status == DocumentParty.Status.RECEIVED
    flow.document_register(actor=principal(w.mzj_head), document=incoming, due_on=date(2026, 3, 20))
    assert incoming.step == S.PROPOSE and incoming.due_on == date(2026, 3, 20)
    # the district office registers for the district's units
    flow.document_propose(actor=principal(w.office), document=incoming, lead=w.d_mzj, due_days=2)
    flow.document_instruct(actor=principal(w.mzj_head), document=incoming)
    assert incoming.step == S.HANDLE
    # the town office (another recipient) signs in its own copy
    town_copy = Document.objects.get(source=out, department=w.town_offices[0])
    flow.document_sign_in(actor=principal(w.town_heads[0]), document=town_copy)
    assert town_copy.step == S.REGISTER


def test_handlers_not_parties_cannot_report(w):
    doc = received(w)
    flow.document_propose(actor=principal(w.office), document=doc, lead=w.d_scj, due_days=3)
    flow.document_instruct(actor=principal(w.leader), document=doc)
    with pytest.raises(PermissionDenied):
        flow.document_handle(actor=principal(w.mzj_head), document=doc, opinion="不是我们的")
    with pytest.raises(ValidationError):
        flow.document_handle(actor=principal(w.scj_head), document=doc, opinion="")


def test_reminder_sweep_once_a_day(w):
    doc = received(w)
    flow.document_propose(actor=principal(w.office), document=doc, lead=w.d_scj, co=[w.d_mzj], due_days=1)
    flow.document_instruct(actor=principal(w.leader), document=doc)
    assert doc.due_on == date(2026, 3, 3)
    assert flow.documents_remind_sweep() == 0  # not late yet
    w.clock.set(2026, 3, 5, 9)
    sent = flow.documents_remind_sweep()
    assert sent >= 2
    reminded = Notification.objects.filter(object_type=flow.REMIND_TYPE, recipient=w.scj_head.account)
    assert reminded.count() == 1 and "逾期" in reminded.get().title
    assert flow.documents_remind_sweep() == 0  # at most once a day each
    flow.document_handle(actor=principal(w.mzj_head), document=doc, opinion="已办")
    w.clock.set(2026, 3, 6, 9)
    flow.documents_remind_sweep()
    assert reminded.count() == 2
    assert not Notification.objects.filter(
        object_type=flow.REMIND_TYPE, recipient=w.mzj_head.account, object_id__endswith="2026-03-06"
    ).exists()


def test_sweep_reminds_the_holder_of_a_late_draft(w):
    doc = draft(w, due_on=date(2026, 3, 3))
    w.clock.set(2026, 3, 4, 9)
    assert flow.documents_remind_sweep() == 1
    assert (
        Notification.objects.filter(object_type=flow.REMIND_TYPE, recipient=w.scj_approver.account).count()
        == 1
    )
    svc.document_withdraw(actor=principal(w.scj_approver), document=doc)
    w.clock.set(2026, 3, 5, 9)
    assert flow.documents_remind_sweep() == 0


def test_the_periodic_task_runs_the_sweep(w):
    from yiwang.collab.tasks_documents import documents_remind_periodic

    assert documents_remind_periodic.call_local() == 0


def test_workbench_lists_by_deadline_and_pages(w, django_assert_max_num_queries):
    from yiwang.collab.workbench_documents import DocumentsSource
    from yiwang.core.workbench import Cursor, TodoQuery, day_end

    docs = []
    for days in (9, 3, 6):
        doc = received(w, title=f"来文{days}")
        flow.document_propose(actor=principal(w.office), document=doc, lead=w.d_scj, due_days=days)
        flow.document_instruct(actor=principal(w.leader), document=doc)
        docs.append(doc)
    no_deadline = received(w, title="无时限来文")
    source = DocumentsSource()
    head = principal(w.scj_head)
    with django_assert_max_num_queries(3):
        first = source.items(head, TodoQuery(limit=2))
    assert [i.title for i in first] == ["来文3", "来文6"] and first[0].action == "承办"
    assert first[0].deadline == day_end(date(2026, 3, 5))
    rest = source.items(head, TodoQuery(after=Cursor.of(first[-1]), limit=5))
    assert [i.title for i in rest] == ["来文9"]
    assert source.count(head) == 3
    assert source.count(head, due_before=day_end(date(2026, 3, 6))) == 1
    office = source.items(principal(w.office), TodoQuery(limit=10))
    assert [i.key for i in office] == [str(no_deadline.public_id)] and office[0].action == "拟办"
    assert source.items(principal(w.mzj_head), TodoQuery()) == []
