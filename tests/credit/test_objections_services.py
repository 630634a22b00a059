"""信用异议 services: filing (own records only, reason required, evidence checked by content, one pending per
record, a deadline of 5 working days), verification by the record's department or a department above it
(withdraw the record as corrected — its list entries removed — or change its values, or reject), the file
re-graded, the objector notified, the decision's audit entry kept as the receipt; overdue reminders to the head;
readable numbers. The world built here is shared by the other test_objections_*/test_repairs_*/test_public_* files."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.factories import AccountFactory, DepartmentFactory, PersonFactory, staff_with_roles
from yiwang.core.models import AuditEntry, Notification
from yiwang.core.permissions import Role
from yiwang.credit.models import CreditObjection, CreditRecord, ListEntry, ListType
from yiwang.credit.services.evaluation import credit_file_refresh
from yiwang.credit.services.numbers import credit_number
from yiwang.credit.services.objections import objection_decide, objection_file, objections_remind_overdue
from yiwang.credit.services.records import credit_record_add

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_and_fast_passwords):
    return None


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format="PNG")
    return out.getvalue()


def png_upload(name: str = "证明.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def text_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("证明.pdf", b"just some text, not a pdf", content_type="application/pdf")


def big_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "大文件.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024), content_type="application/pdf"
    )


@dataclass
class World:
    scj: object  # 市场监管局: provides the org's records
    scj_unit: object  # a 市场监管所 below it
    other: object  # another department
    handler: object  # department head of 市场监管局 (CREDIT_HANDLE)
    unit_handler: object  # department head of the unit below
    other_handler: object
    officer: object  # 信用办 (CREDIT_MANAGE)
    company: object  # enterprise account
    citizen: object  # citizen account
    stranger: object  # another citizen
    penalty: CreditRecord  # the org's penalty, 2025-01-10, backing a published black-list entry
    court: CreditRecord  # the org's court record
    black: ListEntry
    person_record: CreditRecord  # the citizen's social-security record, 2026-01-05


def add(kind, department, title, occurred_on, **subject) -> CreditRecord:
    return credit_record_add(
        actor=None,
        kind=kind,
        department=department,
        title=title,
        legal_basis="《测试条例》第一条",
        occurred_on=occurred_on,
        **subject,
    )


def build_world() -> World:
    scj = DepartmentFactory(name="示范区市场监督管理局", code="SCJ")
    scj_unit = DepartmentFactory(name="示范区市场监管所", code="SCJS", parent=scj)
    other = DepartmentFactory(name="示范区人力资源和社会保障局", code="RSJ")
    credit_office = DepartmentFactory(name="示范区发展和改革局", code="FGJ")
    company = AccountFactory(enterprise=True)
    org = company.organisation
    citizen = AccountFactory(citizen=True, person=PersonFactory(name="张小明"))
    stranger = AccountFactory(citizen=True)
    penalty = add(CreditRecord.Kind.PENALTY, scj, "未按规定公示年度报告", date(2025, 1, 10), organisation=org)
    court = add(CreditRecord.Kind.COURT, scj, "失信被执行人", date(2024, 6, 1), organisation=org)
    black = ListEntry.objects.create(
        file=penalty.file,
        list_type=ListType.BLACK,
        reason="严重违法失信",
        legal_basis="《市场监督管理严重违法失信名单管理办法》",
        department=scj,
        starts_on=date(2025, 1, 20),
        is_published=True,
        record=penalty,
    )
    credit_file_refresh(penalty.file)
    person_record = add(
        CreditRecord.Kind.SOCIAL_SECURITY, other, "欠缴社会保险费", date(2026, 1, 5), person=citizen.person
    )
    return World(
        scj=scj,
        scj_unit=scj_unit,
        other=other,
        handler=staff_with_roles(Role.DEPARTMENT_HEAD, department=scj),
        unit_handler=staff_with_roles(Role.DEPARTMENT_HEAD, department=scj_unit),
        other_handler=staff_with_roles(Role.DEPARTMENT_HEAD, department=other),
        officer=staff_with_roles(Role.CREDIT_OFFICER, department=credit_office),
        company=company,
        citizen=citizen,
        stranger=stranger,
        penalty=penalty,
        court=court,
        black=black,
        person_record=person_record,
    )


def principal(account_or_staff):
    from yiwang.core.principal import Principal

    account = getattr(account_or_staff, "account", account_or_staff)
    account.refresh_from_db()
    return Principal.for_account(account)


@pytest.fixture
def w(db, clock):
    return build_world()


def test_numbers_are_readable_and_daily(clock):
    assert credit_number("YY") == "YY2026030200001"
    assert credit_number("YY") == "YY2026030200002"
    assert credit_number("XF") == "XF2026030200001"
    assert credit_number("CC", day=date(2026, 3, 3)) == "CC2026030300001"
    with pytest.raises(ValueError):
        credit_number("ZZ")


def test_file_an_objection(w):
    objection = objection_file(
        actor=principal(w.company), record=w.penalty, reason="该处罚已被复议撤销", evidence=png_upload()
    )
    assert objection.number.startswith("YY20260302")
    assert objection.status == CreditObjection.Status.PENDING
    assert objection.department == w.scj
    assert objection.due_date == date(2026, 3, 9)  # Monday + 5 working days
    assert objection.evidence.name.endswith(".png") and "证明" not in objection.evidence.name
    assert AuditEntry.objects.filter(
        action="credit.objection_file", object_id=str(objection.public_id)
    ).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 2001}, "reason"),
        ({"evidence": "text"}, "evidence"),
        ({"evidence": "big"}, "evidence"),
    ],
)
def test_invalid_objections_write_nothing(w, changes, field):
    uploads = {"text": text_upload, "big": big_upload}
    kwargs = {"reason": "有误", **changes}
    if "evidence" in kwargs:
        kwargs["evidence"] = uploads[kwargs["evidence"]]()
    entries = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        objection_file(actor=principal(w.company), record=w.penalty, **kwargs)
    assert field in exc.value.message_dict
    assert CreditObjection.objects.count() == 0 and AuditEntry.objects.count() == entries


def test_only_the_subject_objects_and_once_at_a_time(w):
    with pytest.raises(PermissionDenied):
        objection_file(actor=principal(w.stranger), record=w.penalty, reason="不是我的")
    with pytest.raises(PermissionDenied):
        objection_file(actor=principal(w.citizen), record=w.penalty, reason="不是我的")
    with pytest.raises(PermissionDenied):
        objection_file(actor=principal(w.handler), record=w.penalty, reason="工作人员")
    objection_file(actor=principal(w.citizen), record=w.person_record, reason="已补缴")
    with pytest.raises(ValidationError) as exc:
        objection_file(actor=principal(w.citizen), record=w.person_record, reason="再提一次")
    assert "record" in exc.value.message_dict
    assert CreditObjection.objects.count() == 1


def test_corrected_withdraws_the_record_and_its_list_entries(w):
    file = w.penalty.file
    file.refresh_from_db()
    assert file.is_black and file.grade == "D"
    objection = objection_file(actor=principal(w.company), record=w.penalty, reason="已被复议撤销")
    decided = objection_decide(
        actor=principal(w.handler), objection=objection, corrected=True, decision="经核实，处罚已撤销。"
    )
    assert decided.status == CreditObjection.Status.CORRECTED and decided.decided_by == w.handler
    w.penalty.refresh_from_db()
    w.black.refresh_from_db()
    file.refresh_from_db()
    assert w.penalty.status == CreditRecord.Status.CORRECTED
    assert w.black.status == ListEntry.Status.REMOVED and not w.black.is_published
    assert decided.number in w.black.removal_reason
    assert not file.is_black and file.score == 60  # only the court record (-40) is left
    entry = AuditEntry.objects.get(pk=decided.receipt_entry)
    assert entry.action == "credit.objection_decide" and entry.object_id == str(decided.public_id)
    note = Notification.objects.get(recipient=w.company, object_id=str(decided.public_id))
    assert decided.number in note.title and "已更正" in note.title


def test_corrected_values(w):
    objection = objection_file(actor=principal(w.company), record=w.penalty, reason="日期有误")
    with pytest.raises(ValidationError) as exc:
        objection_decide(
            actor=principal(w.handler),
            objection=objection,
            corrected=True,
            decision="更正",
            correction={"status": "removed"},
        )
    assert "correction" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        objection_decide(
            actor=principal(w.handler),
            objection=objection,
            corrected=True,
            decision="更正",
            correction={"occurred_on": "2025-13-01"},
        )
    assert "correction.occurred_on" in exc.value.message_dict
    objection_decide(
        actor=principal(w.handler),
        objection=objection,
        corrected=True,
        decision="发生日期更正",
        correction={"occurred_on": "2025-02-10", "title": "未按期公示年度报告"},
    )
    w.penalty.refresh_from_db()
    objection.refresh_from_db()
    assert w.penalty.status == CreditRecord.Status.ACTIVE
    assert (w.penalty.occurred_on, w.penalty.title) == (date(2025, 2, 10), "未按期公示年度报告")
    assert objection.correction == {"title": "未按期公示年度报告", "occurred_on": "2025-02-10"}


def test_who_may_verify_and_rejection(w):
    objection = objection_file(actor=principal(w.company), record=w.penalty, reason="有误")
    for staff in (w.other_handler, w.unit_handler, w.officer):  # another department, a unit below, 信用办
        with pytest.raises(PermissionDenied):
            objection_decide(actor=principal(staff), objection=objection, corrected=False, decision="驳回")
    with pytest.raises(ValidationError) as exc:
        objection_decide(actor=principal(w.handler), objection=objection, corrected=False, decision=" ")
    assert "decision" in exc.value.message_dict
    objection_decide(
        actor=principal(w.handler), objection=objection, corrected=False, decision="记录无误，予以驳回。"
    )
    objection.refresh_from_db()
    w.penalty.refresh_from_db()
    assert objection.status == CreditObjection.Status.REJECTED
    assert w.penalty.status == CreditRecord.Status.ACTIVE
    with pytest.raises(ValidationError):
        objection_decide(actor=principal(w.handler), objection=objection, corrected=True, decision="再办")


def test_a_head_above_verifies_a_unit_record(w):
    record = add(
        CreditRecord.Kind.INSPECTION,
        w.scj_unit,
        "抽查发现问题",
        date(2026, 2, 1),
        organisation=w.company.organisation,
    )
    objection = objection_file(actor=principal(w.company), record=record, reason="已整改")
    objection_decide(actor=principal(w.handler), objection=objection, corrected=False, decision="驳回")
    assert CreditObjection.objects.get(pk=objection.pk).status == CreditObjection.Status.REJECTED


def test_overdue_reminders_go_to_the_head_once_a_day(w, clock):
    objection_file(actor=principal(w.company), record=w.penalty, reason="有误")
    assert objections_remind_overdue() == 0
    clock.set(2026, 3, 10)
    assert objections_remind_overdue() == 1
    assert objections_remind_overdue() == 0
    note = Notification.objects.get(object_type="credit_objection.overdue")
    assert note.recipient == w.handler.account
    clock.set(2026, 3, 11)
    assert objections_remind_overdue() == 1


def test_workbench_sources(w):
    from yiwang.core.workbench import TodoQuery
    from yiwang.credit.services.repairs import repair_apply
    from yiwang.credit.workbench_objections import ObjectionSource, RepairSource

    objection = objection_file(actor=principal(w.company), record=w.penalty, reason="有误")
    repair = repair_apply(actor=principal(w.company), file=w.penalty.file, entry=w.black, statement="已整改")
    objections, repairs = ObjectionSource(), RepairSource()
    handler, other, officer = principal(w.handler), principal(w.other_handler), principal(w.officer)
    items = objections.items(handler, TodoQuery())
    assert [(i.key, i.reference) for i in items] == [(str(objection.public_id), objection.number)]
    assert items[0].url == f"/credit/objections/{objection.public_id}/"
    assert objections.count(handler) == 1 and objections.items(other, TodoQuery()) == []
    assert not repairs.applies(handler) and repairs.applies(officer)
    assert [i.key for i in repairs.items(officer, TodoQuery())] == [str(repair.public_id)]
    assert repairs.count(handler) == 0 and repairs.count(officer) == 1
    objection_decide(actor=handler, objection=objection, corrected=False, decision="驳回")
    assert objections.count(handler) == 0
