"""The evaluation model and the credit check's read: records grade a file, a black-list entry caps the grade and
brings its measures' effects, the verdict reads them back in one query."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import DepartmentFactory, OrganisationFactory, PersonFactory
from yiwang.cases.hooks import CreditEffect
from yiwang.credit.models import CreditRecord, ListEntry, ListType, Measure
from yiwang.credit.services.check import credit_verdict
from yiwang.credit.services.evaluation import credit_file_refresh
from yiwang.credit.services.records import credit_record_add

pytestmark = pytest.mark.django_db


def test_records_lower_the_grade_and_the_verdict_reads_it(clock, django_assert_num_queries):
    org = OrganisationFactory()
    dept = DepartmentFactory()
    first = credit_record_add(
        actor=None,
        kind=CreditRecord.Kind.PENALTY,
        department=dept,
        title="未按规定公示年度报告",
        legal_basis="《企业信息公示暂行条例》第八条",
        occurred_on=date(2026, 3, 1),
        organisation=org,
        ref_type="penalty",
        ref_id="P1",
    )
    file = first.file
    file.refresh_from_db()
    assert (file.score, file.grade, file.records_active) == (85, "B", 1)
    assert file.reasons[0]["points"] == -15 and first.is_public
    again = credit_record_add(
        actor=None,
        kind=CreditRecord.Kind.PENALTY,
        department=dept,
        title="x",
        legal_basis="y",
        occurred_on=date(2026, 3, 1),
        organisation=org,
        ref_type="penalty",
        ref_id="P1",
    )
    assert again is None and CreditRecord.objects.count() == 1
    with django_assert_num_queries(1):
        verdict = credit_verdict(organisation_id=org.pk)
    assert verdict.checked and verdict.grade == "B" and not verdict.effects


def test_a_black_list_entry_caps_the_grade_and_brings_its_measures(clock):
    org = OrganisationFactory()
    dept = DepartmentFactory()
    Measure.objects.create(
        code="B01",
        name="不适用告知承诺",
        list_type=ListType.BLACK,
        effect=CreditEffect.NO_PLEDGE,
        legal_basis="依据",
    )
    Measure.objects.create(
        code="R01", name="信易批", list_type=ListType.RED, effect=CreditEffect.FAST_TRACK, legal_basis="依据"
    )
    record = credit_record_add(
        actor=None,
        kind=CreditRecord.Kind.COMMENDATION,
        department=dept,
        title="守合同重信用企业",
        legal_basis="表彰决定",
        occurred_on=date(2026, 1, 5),
        organisation=org,
    )
    file = record.file
    ListEntry.objects.create(
        file=file,
        list_type=ListType.BLACK,
        reason="拒不履行法院判决",
        legal_basis="《关于加快推进失信被执行人信用监督、警示和惩戒机制建设的意见》",
        department=dept,
        starts_on=date(2026, 2, 1),
    )
    credit_file_refresh(file)
    assert file.grade == "D" and file.is_black and not file.is_red
    verdict = credit_verdict(organisation_id=org.pk)
    assert verdict.effects == {CreditEffect.NO_PLEDGE}
    assert "拒不履行法院判决" in verdict.reason(CreditEffect.NO_PLEDGE)


def test_a_person_without_a_file_is_checked_and_nothing_applies(clock):
    verdict = credit_verdict(person_id=PersonFactory().pk)
    assert verdict.checked and verdict.file_id is None and not verdict.effects
