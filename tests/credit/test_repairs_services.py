"""信用修复 services: who may ask (the file's own subject), when (REPAIR_RULES: 3 months for 一般失信, 12 when the
record backs a black-list entry or is 严重; court records only by the court; nothing to repair on 守信 records or
red lists), review by CREDIT_MANAGE (approved: record REPAIRED, its list entries removed and unpublished, file
re-graded, applicant notified with the receipt entry; rejected with reasons)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.credit.test_objections_services import add, build_world, png_upload, principal, text_upload
from yiwang.core.models import AuditEntry, Notification
from yiwang.credit.models import CreditRecord, CreditRepair, ListEntry, ListType
from yiwang.credit.services.repairs import repair_apply, repair_decide, repair_eligibility

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_and_fast_passwords):
    return None


@pytest.fixture
def w(db, clock):
    return build_world()


def test_eligibility_rules(w, clock):
    org = w.company.organisation
    recent = add(CreditRecord.Kind.PENALTY, w.scj, "一般处罚", date(2026, 1, 15), organisation=org)
    older = add(CreditRecord.Kind.PENALTY, w.scj, "一般处罚", date(2025, 11, 30), organisation=org)
    pledge = add(CreditRecord.Kind.PLEDGE_FALSE, w.scj, "虚假承诺", date(2025, 9, 1), organisation=org)
    praise = add(CreditRecord.Kind.COMMENDATION, w.scj, "表彰", date(2025, 1, 1), organisation=org)
    verdict = repair_eligibility(record=recent)
    assert not verdict.allowed and verdict.earliest == date(2026, 4, 15) and "2026-04-15" in verdict.reason
    assert repair_eligibility(record=older).allowed  # 3 months: 2026-02-28 (end of February)
    assert not repair_eligibility(record=pledge).allowed  # 严重: 12 months
    assert not repair_eligibility(record=praise).allowed
    court = repair_eligibility(record=w.court)
    assert not court.allowed and "人民法院" in court.reason
    assert repair_eligibility(record=w.penalty).allowed  # backs the black entry: 12 months from 2025-01-10
    clock.set(2025, 6, 1)
    assert not repair_eligibility(
        record=w.penalty
    ).allowed  # 12 months, not 3, while it backs the black entry
    clock.set(2026, 3, 2)
    assert repair_eligibility(entry=w.black).allowed
    red = ListEntry.objects.create(
        file=w.penalty.file,
        list_type=ListType.RED,
        reason="守信",
        legal_basis="x",
        department=w.scj,
        starts_on=date(2024, 1, 1),
    )
    assert not repair_eligibility(entry=red).allowed


def test_apply_and_approve(w):
    file = w.penalty.file
    repair = repair_apply(
        actor=principal(w.company),
        file=file,
        record=w.penalty,
        statement="已整改并公示年报，承诺守法经营。",
        evidence=png_upload(),
    )
    assert repair.number.startswith("XF20260302") and repair.due_date == date(2026, 3, 9)
    with pytest.raises(ValidationError) as exc:
        repair_apply(actor=principal(w.company), file=file, record=w.penalty, statement="再申请")
    assert "record" in exc.value.message_dict
    with pytest.raises(PermissionDenied):  # a department head verifies objections, 信用办 reviews repairs
        repair_decide(actor=principal(w.handler), repair=repair, approved=True, decision="同意")
    with pytest.raises(ValidationError) as exc:
        repair_decide(actor=principal(w.officer), repair=repair, approved=True, decision="")
    assert "decision" in exc.value.message_dict
    repair_decide(
        actor=principal(w.officer), repair=repair, approved=True, decision="符合修复条件，准予修复。"
    )
    repair.refresh_from_db()
    w.penalty.refresh_from_db()
    w.black.refresh_from_db()
    file.refresh_from_db()
    assert repair.status == CreditRepair.Status.APPROVED and repair.decided_by == w.officer
    assert w.penalty.status == CreditRecord.Status.REPAIRED
    assert w.black.status == ListEntry.Status.REMOVED and not w.black.is_published
    assert repair.number in w.black.removal_reason
    assert not file.is_black and file.score == 60
    assert AuditEntry.objects.get(pk=repair.receipt_entry).action == "credit.repair_decide"
    assert Notification.objects.filter(recipient=w.company, object_id=str(repair.public_id)).exists()
    with pytest.raises(ValidationError):
        repair_decide(actor=principal(w.officer), repair=repair, approved=False, decision="再审")


def test_repair_of_an_entry_and_rejection(w):
    file = w.penalty.file
    repair = repair_apply(actor=principal(w.company), file=file, entry=w.black, statement="已整改满一年")
    repair_decide(actor=principal(w.officer), repair=repair, approved=False, decision="尚未履行全部义务。")
    w.black.refresh_from_db()
    assert w.black.status == ListEntry.Status.ACTIVE
    again = repair_apply(actor=principal(w.company), file=file, entry=w.black, statement="已全部履行")
    repair_decide(actor=principal(w.officer), repair=again, approved=True, decision="准予移出")
    w.black.refresh_from_db()
    w.penalty.refresh_from_db()
    assert w.black.status == ListEntry.Status.REMOVED and w.penalty.status == CreditRecord.Status.ACTIVE


def test_refusals_write_nothing(w):
    file = w.penalty.file
    cases = [
        (
            dict(actor=principal(w.stranger), file=file, record=w.penalty, statement="x"),
            PermissionDenied,
            None,
        ),
        (
            dict(actor=principal(w.company), file=file, record=w.court, statement="x"),
            ValidationError,
            "record",
        ),
        (
            dict(actor=principal(w.company), file=file, record=w.penalty, statement=" "),
            ValidationError,
            "statement",
        ),
        (
            dict(
                actor=principal(w.company), file=file, record=w.penalty, statement="x", evidence=text_upload()
            ),
            ValidationError,
            "evidence",
        ),
        (dict(actor=principal(w.company), file=file, statement="x"), ValidationError, "record"),
        (
            dict(actor=principal(w.company), file=file, record=w.person_record, statement="x"),
            ValidationError,
            "record",
        ),
        (
            dict(
                actor=principal(w.citizen), file=w.person_record.file, record=w.person_record, statement="x"
            ),
            ValidationError,
            "record",
        ),
    ]
    for kwargs, error, field in cases:
        with pytest.raises(error) as exc:
            repair_apply(**kwargs)
        if field:
            assert field in exc.value.message_dict
    assert CreditRepair.objects.count() == 0
